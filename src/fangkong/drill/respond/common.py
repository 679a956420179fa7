"""What the capabilities of the platform responder share: the session and actor, the drill's
platform writer (its run, persons and cases), the simulated calendar and its clock."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy.orm import Session

from fangkong.core.auth import Actor
from fangkong.drill import runs as drill_runs
from fangkong.drill.platform import Platform
from fangkong.drill.strategy import Strategy
from fangkong.sim.city import City
from fangkong.sim.engine import Engine

BATCH = 5000  # the isolation service's batch limit


@dataclass
class Context:
    city: City
    engine: Engine
    strategy: Strategy
    session: Session
    actor: Actor
    platform: Platform
    pack_id: str
    date_of: Callable[[int], date]
    anchor: np.ndarray  # the drill's plan anchor (last exposure day) of each agent
    tz: ZoneInfo
    rng_time: np.random.Generator  # times of day of check-ins and samples (one stream)


class Serviced:
    """A capability that works through the platform's services (bound to the context)."""

    ctx: Context
    session: Session
    actor: Actor
    platform: Platform
    pack_id: str
    date_of: Callable[[int], date]
    tz: ZoneInfo
    rng_time: np.random.Generator

    def _bind(self, ctx: Context) -> None:
        self.ctx = ctx
        self.session, self.actor, self.platform = ctx.session, ctx.actor, ctx.platform
        self.pack_id, self.date_of, self.tz = ctx.pack_id, ctx.date_of, ctx.tz
        self.rng_time = ctx.rng_time

    def at(self, day: int, hour: float = 12.0) -> datetime:
        return datetime.combine(self.date_of(day), time(0), tzinfo=self.tz) + timedelta(
            hours=hour)

    def _tag(self, record_type: str, ids: Iterable[int]) -> None:
        drill_runs.tag(self.session, self.platform.run_id, record_type, ids)
