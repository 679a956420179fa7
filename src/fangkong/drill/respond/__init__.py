"""The response through the platform's own services (the default with a database).

The world stays in the simulation: who met whom (the check-ins), how many rooms, vehicles and lab
tubes there are, and what a swab contains. What the platform does with it goes through its
services, as a command's staff would use them, one capability each (their lifecycle:
:class:`fangkong.drill.responder.Capability`):

- :class:`~fangkong.drill.respond.registry.Registry`: the city's persons and venues;
- :class:`~fangkong.drill.respond.zoning.Zoning`: towns with community infections designated
  in the risk-zone registry, infections restarting their clocks, the daily evaluation's
  proposals approved; the drill's zone levels are read back from the registry;
- :class:`~fangkong.drill.respond.isolation.Isolation`: quarantine hotels and shelter hospitals
  with the strategy's rooms and beds, contacts and cases placed by the isolation service's
  assignment (nobody gets a room the service does not find free), their transfers;
- :class:`~fangkong.drill.respond.testing.Testing`: area rounds, samples and results through
  the testing service, on the world's lab;
- :class:`~fangkong.drill.respond.tracing.Tracing`: the day's check-ins ingested, each new
  case's proposals confirmed for as many cases a day as there are tracers, contact episodes
  with the pack's plan moved on.

The clock of the platform (:func:`fangkong.core.clock.set_clock`) follows the simulated day.
Every record a capability makes is tagged with the drill's run (:mod:`fangkong.drill.runs`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy.orm import Session

from fangkong.core.auth import Actor
from fangkong.core.config import get_settings
from fangkong.drill.capacity import Composed, Window
from fangkong.drill.platform import Platform, sim_clock
from fangkong.drill.respond.common import Context
from fangkong.drill.respond.isolation import Isolation
from fangkong.drill.respond.registry import Registry
from fangkong.drill.respond.testing import Testing
from fangkong.drill.respond.tracing import Tracing
from fangkong.drill.respond.zoning import Zoning
from fangkong.drill.responder import Capability
from fangkong.drill.strategy import Strategy
from fangkong.sim.city import City
from fangkong.sim.engine import Engine


class PlatformResponder(Composed):
    """Tracing, testing rounds, zones and rooms through the platform's services; the lab and
    the vehicles are the world's (the drill's), as in the abstract mode."""

    through_platform = True
    lab: Testing
    tracing: Tracing
    isolation: Isolation

    def __init__(self, city: City, engine: Engine, strategy: Strategy, window: Window, *,
                 session: Session, actor: Actor, platform: Platform, pack_id: str,
                 date_of: Callable[[int], date], anchor: np.ndarray) -> None:
        rng = np.random.default_rng([strategy.seed, 8])
        self.ctx = ctx = Context(
            city=city, engine=engine, strategy=strategy, session=session, actor=actor,
            platform=platform, pack_id=pack_id, date_of=date_of, anchor=anchor,
            tz=ZoneInfo(get_settings().timezone),
            rng_time=np.random.default_rng([strategy.seed, 41]))
        self.registry = Registry(ctx)
        self.zoning = Zoning(ctx)
        self.isolation = Isolation(ctx)
        self.lab = Testing(ctx, rng, self.zoning)
        self.tracing = Tracing(ctx, window, rng, lambda: self.registry.venue_codes,
                               self.isolation)
        self.isolation.tracer = self.tracing

    @property
    def capabilities(self) -> list[Capability]:
        # set-up in this order: persons before cases, venues before check-ins
        return [self.registry, self.zoning, self.isolation, self.lab, self.tracing]

    def init(self) -> None:
        with sim_clock(self.registry.at(0, 6)):
            super().init()
        self.ctx.session.commit()

    def step(self, day: int) -> None:
        super().step(day)
        self.ctx.session.commit()

    def finalize(self) -> None:
        super().finalize()
        self.ctx.session.commit()

    def contact_status(self, people: np.ndarray, status: str, at: datetime | list[datetime],
                       cases: dict[int, int] | None = None) -> None:
        self.tracing.contact_status(people, status, at, cases)

    def zones(self, day: int, towns: np.ndarray, levels: list[str]) -> np.ndarray:
        return self.zoning.zones(day, towns, levels)
