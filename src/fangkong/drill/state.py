"""What the drill knows of each person during a run (their state under the response, the
clocks of their events, the contact books), and what every part of the day shares: the
calendar, the hours of events, telling the responder of contacts' moves."""

from __future__ import annotations

import datetime as dt
from datetime import date, timedelta
from typing import Any

import numpy as np

from fangkong.drill.plan import RolePlan, lookback
from fangkong.drill.platform import Platform
from fangkong.drill.responder import Responder
from fangkong.drill.strategy import Strategy
from fangkong.policy.pack import Pack
from fangkong.sim.city import City
from fangkong.sim.engine import Engine

FREE, WAITING, FACILITY_Q, HOME_Q, POSITIVE, POSITIVE_IN_FACILITY, ISOLATED = range(7)
# The contact books' categories, in the order a person's state is read (the first that holds).
BOOKS = ("contacts_became_case", "contacts_waiting", "contacts_in_facility", "contacts_at_home",
         "contacts_released", "contacts_untold", "contacts_unmanaged")


class State:
    """The drill's per-person arrays and the helpers each part of the day uses (the parts are
    mixins of :class:`fangkong.drill.loop.Drill`, over this state)."""

    s: Strategy
    pack: Pack
    city: City
    engine: Engine
    platform: Platform | None
    responder: Responder
    service: bool
    status: np.ndarray       # each person's state (FREE, WAITING, ...)
    known: np.ndarray        # found positive
    anchor: np.ndarray       # the plan's anchor (last exposure day)
    role: np.ndarray         # the plan's role (CLOSE, SECONDARY; 0 none)
    since: np.ndarray        # day the current wait started
    release: np.ndarray      # isolation end
    positive_day: np.ndarray
    sample_day: np.ndarray
    isolated_day: np.ndarray
    positive_hour: np.ndarray
    since_hour: np.ndarray
    hour_rng: np.random.Generator
    leak_rng: np.random.Generator
    new_zone_towns: np.ndarray
    plans: dict[int, RolePlan | None]
    zone_level: np.ndarray
    zone_day0: np.ndarray
    levels: list[str]
    zone_steps: list[tuple[int, int]]
    round_days: frozenset[int]
    contact: np.ndarray
    unmanaged: np.ndarray
    released: np.ndarray
    became: np.ndarray

    def date(self, day: int) -> date:
        return self.s.start_date + timedelta(days=day)

    def _window(self, cases: np.ndarray, today: int) -> tuple[np.ndarray, np.ndarray]:
        """The pack's look-back window of each case, as sim days (end: isolation or today)."""
        first = np.empty(cases.size, dtype=np.int64)
        last = np.empty(cases.size, dtype=np.int64)
        for i, a in enumerate(cases):
            onset = int(self.engine.t_onset[a])
            symptomatic = onset <= today
            anchor = onset if symptomatic else int(self.sample_day[a])
            iso = int(self.isolated_day[a])
            first[i], end = lookback(self.pack.id, symptomatic, anchor,
                                      iso if iso <= today else None, self.s.start_date)
            last[i] = min(today if end is None else end, today)
        return first, last

    def _hours(self, people: np.ndarray, since_day: np.ndarray, since_hour: np.ndarray,
               t: int) -> np.ndarray:
        """Hours from an earlier event to now (an hour of day ``t`` drawn after it)."""
        u = self.hour_rng.random(people.size)
        same = since_day == t
        hour = np.where(same, since_hour + u * (24 - since_hour), 6 + u * 16)
        hour = np.maximum(hour, np.where(same, since_hour, 0))
        return (t - since_day) * 24.0 + hour - since_hour

    def books(self) -> dict[str, int]:
        """The contact books at the end of the day, in people: everyone ever identified as a
        contact is counted once, in the first category that holds (:data:`BOOKS`): found
        positive while under the plan (or a case already when identified), told and waiting
        for a room, in a quarantine room, quarantined at home, released, identified but never
        told (none while the strategy quarantines), or identified only in a role the pack
        leaves unmanaged (cn_v9: 涉疫场所暴露人员)."""
        st, contact = self.status, self.contact
        became = contact & (self.became | (self.known & ~self.released
                                           & ~np.isin(st, (WAITING, FACILITY_Q, HOME_Q))))
        left = contact & ~became
        out = {"contacts_became_case": int(became.sum())}
        for key, state in (("contacts_waiting", WAITING), ("contacts_in_facility", FACILITY_Q),
                           ("contacts_at_home", HOME_Q)):
            here = left & (st == state)
            out[key] = int(here.sum())
            left &= ~here
        out["contacts_released"] = int((left & self.released).sum())
        out["contacts_untold"] = int((left & ~self.released).sum())
        out["contacts_unmanaged"] = int((self.unmanaged & ~contact).sum())
        return {"contacts_total": sum(out.values()), **{k: out[k] for k in BOOKS}}

    def _tasks_due(self, today: dt.date) -> dict[str, int | float | str]:
        """The platform's tasks due today and the share of them done on time (empty without
        the platform)."""
        if self.platform is None:
            return {"tasks_due": "", "tasks_on_time": "", "tasks_on_time_share": ""}
        self.platform.session.flush()
        due, done = self.platform.tasks_due(today)
        return {"tasks_due": due, "tasks_on_time": done,
                "tasks_on_time_share": round(done / due, 3) if due else ""}

    def _tell(self, people: np.ndarray, status: str, t: int, hour: int,
              **extra: Any) -> None:
        """Tell the responder that records contacts' status (the platform) of a change."""
        if people.size and self.platform is not None:
            # never before the person was identified, when that was today
            hours = np.where(self.since[people] == t,
                             np.maximum(hour, self.since_hour[people] + 0.25), hour)
            midnight = self.platform.at(self.date(t), 0)
            self.responder.contact_status(people, status, [
                midnight + timedelta(hours=float(h)) for h in hours], **extra)
