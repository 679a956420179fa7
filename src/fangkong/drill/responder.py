"""The response to a drill's outbreak: one protocol the loop talks to, made of capabilities.

The drill loop (loop.py) talks only to :class:`Responder`. A responder is made of capabilities
(the lab and testing, tracing, isolation with its rooms and vehicles, zones, the registry),
each a :class:`Capability` with a lifecycle: :meth:`~Capability.init` before the first day (its
set-up), :meth:`~Capability.step` at the end of each day, :meth:`~Capability.finalize` once the
drill is over. Two responders exist:

- :class:`fangkong.drill.capacity.CapacityResponder` (no database): traces, tests and moves
  people itself from the simulation's data, honouring the drill's capacities and delays; the
  strategy comparisons over many seeds use it;
- :class:`fangkong.drill.respond.PlatformResponder` (the default with a database): the same
  steps through the platform's services, as a command's staff would use them.

Their lab and vehicles are the world's (the drill's) in both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

import numpy as np

from fangkong.sim.engine import Checkins

ROUTES = ("fever_clinic", "in_quarantine", "routine_key_groups", "community_screening")
PRIORITY = {"fever_clinic": 0, "retest": 1, "in_quarantine": 2, "routine_key_groups": 3,
            "community_screening": 4}
CLOSE, SECONDARY = 1, 2
EMPTY = np.zeros(0, dtype=np.int64)


@dataclass
class Results:
    """Positive individual results released by the lab today."""

    agent: np.ndarray
    sample_day: np.ndarray
    route: np.ndarray  # index into ROUTES


@dataclass
class Traced:
    agent: np.ndarray
    exposure_day: np.ndarray
    role: np.ndarray  # CLOSE or SECONDARY
    cases: np.ndarray = field(default_factory=lambda: EMPTY)  # the cases traced today
    identified: int | None = None  # contacts the platform identified today (None: agent.size)
    # people identified today only in a role the pack leaves unmanaged (counted, not told)
    unmanaged: np.ndarray = field(default_factory=lambda: EMPTY)


class Capability:
    """One capability of a responder, with its lifecycle (each a no-op unless it has work)."""

    def init(self) -> None:
        """Set up before the first day (records the capability needs, an earlier drill's
        records of its kind stood down)."""

    def step(self, day: int) -> None:
        """The end of day ``day``."""

    def finalize(self) -> None:
        """The drill is over."""


class Responder(Protocol):
    through_platform: bool
    """Whether the platform's services respond (its zone registry sets the zones' levels)."""

    def init(self) -> None:
        """Every capability's set-up, before the first day."""

    def step(self, day: int) -> None:
        """Every capability's end of day ``day``."""

    def finalize(self) -> None:
        """Every capability's end of the drill."""

    def record_checkins(self, day: int, checkins: Checkins) -> None:
        """The day's venue check-ins (for tracing by co-presence)."""

    def sample(self, people: np.ndarray, day: int, route: str, pool: int) -> None:
        """Take samples (single tubes if ``pool`` is 1) and queue them at the lab."""

    def run_round(self, people: np.ndarray, day: int, pool: int) -> int:
        """An area testing round (全员核酸) of ``people``; returns how many were sampled."""

    def results(self, day: int) -> Results:
        """Process today's lab capacity and return the positives released today."""

    def trace(self, cases: np.ndarray, day: int) -> Traced:
        """Queue ``cases`` for tracing and return the contacts identified today."""

    def assign_rooms(self, people: np.ndarray, day: int, *, in_use: int) -> np.ndarray:
        """Transfer waiting contacts to quarantine rooms; returns those moved today."""

    def transfer_cases(self, cases: np.ndarray, day: int, *, in_use: int) -> np.ndarray:
        """Transfer positive people to hospital or 方舱; returns those moved today."""

    def record_transfers(self, people: np.ndarray, *, case: bool, clock_start: list[datetime],
                         arrival: list[datetime]) -> None:
        """The day's moves, with when each clock started and ended (kept by the platform)."""

    def contact_status(self, people: np.ndarray, status: str, at: datetime | list[datetime],
                       cases: dict[int, int] | None = None) -> None:
        """Contacts moved on (notified, under management, released, became a case)."""

    def zones(self, day: int, towns: np.ndarray, levels: list[str]) -> np.ndarray:
        """The zone registry's day (platform only): each town's level index, -1 none."""

    @property
    def tubes_used(self) -> int: ...

    @property
    def lab_backlog(self) -> int: ...

    @property
    def lab_capacity(self) -> int:
        """The tubes the lab could test today (the city's lab and the mobile labs')."""

    @property
    def trace_backlog(self) -> int:
        """Cases waiting for a tracer at the end of the day."""
