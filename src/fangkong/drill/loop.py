"""The drill: an outbreak in a synthetic city, day by day, with the platform responding.

Each day: the engine runs a day of life and transmission; samples are taken (fever clinics,
quarantine test days of the pack's plan, routine testing of key groups, area rounds in zones);
the lab releases results within its capacity; positives become cases in the platform; cases are
traced (the pack's look-back window), contacts are quarantined under the pack's plan as rooms and
vehicles allow; towns with community cases become risk zones on the pack's clocks. People in a
facility do not transmit; people at home transmit only to their household.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from fangkong.core.auth import Actor
from fangkong.core.errors import Invalid
from fangkong.drill.capacity import CapacityResponder
from fangkong.drill.contacts import Contacts
from fangkong.drill.detection import Detection
from fangkong.drill.epi import epi
from fangkong.drill.messages import D
from fangkong.drill.plan import RolePlan, role_plan, venue_managed
from fangkong.drill.platform import Platform
from fangkong.drill.quarantine import Quarantine
from fangkong.drill.responder import CLOSE, Responder
from fangkong.drill.state import (
    BOOKS,
    FACILITY_Q,
    FREE,
    HOME_Q,
    ISOLATED,
    POSITIVE,
    POSITIVE_IN_FACILITY,
    WAITING,
    State,
)
from fangkong.drill.strategy import Strategy
from fangkong.drill.zoning import Zoning
from fangkong.policy import service as policy
from fangkong.sim.city import City, build_city
from fangkong.sim.engine import NEVER, Engine

__all__ = ["BOOKS", "COLUMNS", "FACILITY_Q", "FREE", "HOME_Q", "ISOLATED", "POSITIVE",
           "POSITIVE_IN_FACILITY", "WAITING", "Drill", "RolePlan", "Run", "State", "role_plan",
           "venue_managed"]

COLUMNS = [
    "day", "date", "new_infections", "cumulative_infections", "new_detected",
    "detected_in_quarantine", "detected_in_community", "detected_fever_clinic",
    "detected_key_groups", "detected_area_rounds", "cumulative_detected", "contacts_identified",
    "contacts_managed", "in_quarantine", "in_home_quarantine", "in_isolation",
    "cases_waiting_transfer", "contacts_waiting_room", "rooms_occupied", "zones_high",
    "zones_medium", "zones_active", "samples_taken", "tests_used", "lab_capacity", "lab_backlog",
    "cases_waiting_tracing",
    "hours_positive_to_transfer", "hours_identified_to_quarantine", "quarantined_within_24h",
    "rt",
    "infections_household", "infections_work", "infections_school", "infections_venue",
    "tasks_due", "tasks_on_time", "tasks_on_time_share",
    # The contact books (people, cumulative): everyone ever identified as a contact is in
    # exactly one of these on each day (see :meth:`Drill.books`).
    "contacts_total", "contacts_untold", "contacts_waiting", "contacts_in_facility",
    "contacts_at_home", "contacts_released", "contacts_became_case", "contacts_unmanaged",
]


@dataclass
class Run:
    strategy: Strategy
    rows: list[dict[str, Any]] = field(default_factory=list)
    city_summary: dict[str, Any] = field(default_factory=dict)
    platform: dict[str, int] = field(default_factory=dict)
    pack: str = ""
    epi: dict[str, list[int]] = field(default_factory=dict)  # see :mod:`fangkong.drill.epi`


class Drill(Detection, Contacts, Quarantine, Zoning):
    """The day's parts over the drill's state (:class:`~fangkong.drill.state.State`): samples
    and results (:mod:`~fangkong.drill.detection`), tracing
    (:mod:`~fangkong.drill.contacts`), rooms and release (:mod:`~fangkong.drill.quarantine`),
    zones (:mod:`~fangkong.drill.zoning`); the responder (:mod:`fangkong.drill.responder`)
    does the work through its capabilities, each with its lifecycle (init, step, finalize)."""

    def __init__(self, strategy: Strategy, *, session: Session | None = None,
                 actor: Actor | None = None, city: City | None = None,
                 responder: Responder | None = None) -> None:
        self.s = strategy
        self.pack = policy.resolve(strategy.pack)
        self.city = city or build_city(strategy.agents, seed=strategy.seed, city=strategy.city)
        self.engine = Engine(self.city, seed=strategy.seed)
        self.platform = (Platform(session, actor, self.city, run_key=self._run_key(),
                                  investigation_hours=strategy.response.investigation_hours,
                                  pack=policy.pin(self.pack), strategy=strategy.name,
                                  days=strategy.days)
                         if session is not None and actor is not None else None)
        n = self.city.n
        self.status = np.zeros(n, dtype=np.int8)
        self.known = np.zeros(n, dtype=bool)
        self.anchor = np.zeros(n, dtype=np.int32)
        if responder is not None:
            self.responder: Responder = responder
        elif self.platform is not None:
            # With a database the platform responds through its own services.
            from fangkong.drill.respond import PlatformResponder

            assert session is not None and actor is not None
            self.responder = PlatformResponder(
                self.city, self.engine, strategy, self._window, session=session, actor=actor,
                platform=self.platform, pack_id=self.pack.id, date_of=self.date,
                anchor=self.anchor)
        else:  # the abstract mode: the drill's own tracing, zones and rooms (fast comparisons)
            self.responder = CapacityResponder(self.city, self.engine, strategy, self._window,
                                               venue_managed=venue_managed(self.pack.id))
        self.service = self.responder.through_platform
        self.role = np.zeros(n, dtype=np.int8)
        self.since = np.zeros(n, dtype=np.int32)      # day the current wait started
        self.release = np.zeros(n, dtype=np.int32)    # isolation end
        self.positive_day = np.full(n, NEVER, dtype=np.int32)
        self.sample_day = np.full(n, NEVER, dtype=np.int32)
        self.isolated_day = np.full(n, NEVER, dtype=np.int32)
        # Time of day (hours) of each person's positive result and identification: events get
        # an hour inside the simulated day (seeded), so waits are real hours.
        self.positive_hour = np.zeros(n, dtype=np.float32)
        self.since_hour = np.zeros(n, dtype=np.float32)
        self.hour_rng = np.random.default_rng([strategy.seed, 53])
        self.new_zone_towns = np.zeros(0, dtype=np.int64)
        self.plans = {CLOSE: role_plan(self.pack.id, "close_contact"),
                      2: role_plan(self.pack.id, "secondary_contact")}
        towns = self.city.town_codes.size
        self.zone_level = np.full(towns, -1, dtype=np.int8)  # index into pack levels
        self.zone_day0 = np.zeros(towns, dtype=np.int32)
        self.levels = self.pack.levels() if self.pack.zones is not None else []
        self.zone_steps = self._zone_steps()
        self.round_days = self._round_days()
        self.leak_rng = np.random.default_rng([strategy.seed, 31])
        # The contact books: identified as a contact the pack manages; identified only in a
        # role it leaves unmanaged; released from the plan (not managed again since); found
        # positive while under the plan.
        self.contact = np.zeros(n, dtype=bool)
        self.unmanaged = np.zeros(n, dtype=bool)
        self.released = np.zeros(n, dtype=bool)
        self.became = np.zeros(n, dtype=bool)
        self.run = Run(strategy=strategy, city_summary=self.city.summary(), pack=self.pack.id)

    def _run_key(self) -> str:
        """Identifies the drill: the same strategy (every knob) gives the same case refs, so a
        re-run changes nothing; any other strategy gets cases of its own."""
        return f"{self.s.model_dump_json(exclude={'description'})}|{self.pack.id}"

    def step(self, t: int) -> dict[str, Any]:
        s, city, eng, resp = self.s, self.city, self.engine, self.responder
        st = self.status
        today = self.date(t)
        locked = np.zeros(city.town_codes.size, dtype=bool)
        if s.response.lockdown_high_risk and self.levels:
            locked = self.zone_level == 0
        home = ~np.isin(st, (FACILITY_Q, POSITIVE_IN_FACILITY, ISOLATED))
        told_home = np.isin(st, (WAITING, HOME_Q, POSITIVE))
        leak = told_home & (self.leak_rng.random(city.n) >= s.response.home_compliance)
        out = ((st == FREE) & ~locked[city.town]) | leak
        day = eng.step(t, home=home, out=out, weekday=today.weekday() < 5)
        resp.record_checkins(t, day.checkins)
        samples = self._sample(t)
        found = self._results(t, today)
        contacts = managed = 0
        if s.response.tracing and found["agents"].size:
            contacts = self._trace(found["agents"], t)
        elif s.response.tracing:
            contacts = self._trace(np.zeros(0, dtype=np.int64), t)
        h_transfer, h_quarantine = self._transfer(t)
        managed = int(h_quarantine.size)
        self._release(t)
        self._zones(t)
        if self.platform is not None:
            onset = np.flatnonzero(self.known & (eng.t_onset == t) & (self.positive_day < t))
            self.platform.symptoms(onset)
        st = self.status
        mean_course = eng.mean_course_weight()
        row = {
            "day": t, "date": today.isoformat(), "new_infections": int(day.new.size),
            "cumulative_infections": int(eng.infected.sum()),
            "new_detected": int(found["agents"].size),
            **found["routes"],
            "cumulative_detected": int(self.known.sum()),
            "contacts_identified": contacts, "contacts_managed": managed,
            "in_quarantine": int((st == FACILITY_Q).sum()),
            "in_home_quarantine": int(((st == HOME_Q) | (st == WAITING)).sum()),
            "in_isolation": int((st == ISOLATED).sum()),
            "cases_waiting_transfer": int(((st == POSITIVE) | (st == POSITIVE_IN_FACILITY))
                                          .sum()),
            "contacts_waiting_room": int((st == WAITING).sum()),
            "rooms_occupied": int((st == FACILITY_Q).sum()),
            "zones_high": int((self.zone_level == 0).sum()),
            "zones_medium": int((self.zone_level == 1).sum()),
            "zones_active": int((self.zone_level >= 0).sum()),
            "samples_taken": samples, "tests_used": resp.tubes_used,
            "lab_capacity": resp.lab_capacity,
            "lab_backlog": resp.lab_backlog, "cases_waiting_tracing": resp.trace_backlog,
            "hours_positive_to_transfer": _mean_hours(h_transfer),
            "hours_identified_to_quarantine": _mean_hours(h_quarantine),
            "quarantined_within_24h": int((h_quarantine <= 24).sum()),
            "rt": round(day.new.size / day.infectious_weight * mean_course, 3)
            if day.infectious_weight > 0 else "",
            "infections_household": day.by_setting["household"],
            "infections_work": day.by_setting["work"],
            "infections_school": day.by_setting["school"],
            "infections_venue": day.by_setting["venue"],
            **self._tasks_due(today),
            **self.books(),
        }
        self.run.rows.append(row)
        return row

    def run_all(self, progress: Callable[[int], None] | None = None) -> Run:
        seed = self._seed_agents()
        self.engine.infect(seed, 0)
        self.responder.init()
        for t in range(self.s.days):
            self.step(t)
            self.responder.step(t)
            if progress:
                progress(t)
        self.responder.finalize()
        self.run.epi = epi(self.engine.t_onset, self.positive_day, self.isolated_day,
                           self.s.days)
        if self.platform is not None:
            self.run.platform = {"persons_written": self.platform.persons_written,
                                 "cases_written": self.platform.cases_written,
                                 "tasks_written": self.platform.tasks_written,
                                 "tasks_done": self.platform.tasks_done,
                                 "reclassified": self.platform.reclassified}
        return self.run

    def _seed_agents(self) -> np.ndarray:
        o, city = self.s.outbreak, self.city
        if o.district not in city.district_codes:
            raise Invalid(D("not_district", district=o.district, city=city.name))
        d = city.district_codes.index(o.district)
        pool = np.flatnonzero((city.district == d) & (city.key_group if o.key_group else True))
        if pool.size == 0:
            pool = np.flatnonzero(city.district == d)
        rng = np.random.default_rng([self.s.seed, 99])
        return rng.choice(pool, size=min(o.infections, pool.size), replace=False)


def _mean_hours(hours: np.ndarray) -> float | str:
    return round(float(hours.mean()), 1) if hours.size else ""
