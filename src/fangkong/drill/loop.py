"""The drill: an outbreak in a synthetic city, day by day, with the platform responding.

Each day: the engine runs a day of life and transmission; samples are taken (fever clinics,
quarantine test days of the pack's plan, routine testing of key groups, area rounds in zones);
the lab releases results within its capacity; positives become cases in the platform; cases are
traced (the pack's look-back window), contacts are quarantined under the pack's plan as rooms and
vehicles allow; towns with community cases become risk zones on the pack's clocks. People in a
facility do not transmit; people at home transmit only to their household.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from fangkong.core.auth import Actor
from fangkong.core.errors import Invalid
from fangkong.drill.capacity import CapacityResponder
from fangkong.drill.epi import epi
from fangkong.drill.messages import D
from fangkong.drill.platform import NewCase, Platform
from fangkong.drill.responder import CLOSE, ROUTES, Responder
from fangkong.drill.strategy import Strategy
from fangkong.policy import service as policy
from fangkong.sim.city import City, build_city
from fangkong.sim.engine import NEVER, Engine

FREE, WAITING, FACILITY_Q, HOME_Q, POSITIVE, POSITIVE_IN_FACILITY, ISOLATED = range(7)
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
# The books' categories, in the order a person's state is read (the first that holds).
BOOKS = ("contacts_became_case", "contacts_waiting", "contacts_in_facility", "contacts_at_home",
         "contacts_released", "contacts_untold", "contacts_unmanaged")


def venue_managed(pack_id: str) -> bool:
    """Does the pack manage (quarantine or test under a plan) the people its co-presence
    search finds? A pack without tracing rules names no such role: they count as close
    contacts, as before packs had one."""
    try:
        role = policy.tracing_rules(pack_id).co_presence.role
    except Invalid:
        return True
    return role_plan(pack_id, role) is not None


@dataclass
class RolePlan:
    """A role's plan as day offsets from the anchor (the last exposure), from the pack."""

    facility: tuple[int, int] | None  # first and last day in a facility
    tests: frozenset[int]
    release: int  # first day free


@lru_cache(maxsize=64)
def role_plan(pack_id: str, role: str) -> RolePlan | None:
    anchor = date(2022, 1, 1)
    try:
        plan = policy.plan(pack_id, role, anchor)
    except Invalid:
        return None
    if not plan.managed or not plan.phases or plan.release_date is None:
        return None
    facility = [p for p in plan.phases if "centralized" in p.kind]
    tests = frozenset(d for p in plan.phases for d in p.test_days)
    return RolePlan(
        facility=(facility[0].start_day, facility[-1].end_day) if facility else None,
        tests=tests, release=(plan.release_date - anchor).days)


@dataclass
class Run:
    strategy: Strategy
    rows: list[dict[str, Any]] = field(default_factory=list)
    city_summary: dict[str, Any] = field(default_factory=dict)
    platform: dict[str, int] = field(default_factory=dict)
    pack: str = ""
    epi: dict[str, list[int]] = field(default_factory=dict)  # see :mod:`fangkong.drill.epi`


class Drill:
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

    def date(self, day: int) -> date:
        return self.s.start_date + timedelta(days=day)

    # --- policy --------------------------------------------------------------------------

    def _window(self, cases: np.ndarray, today: int) -> tuple[np.ndarray, np.ndarray]:
        """The pack's look-back window of each case, as sim days (end: isolation or today)."""
        first = np.empty(cases.size, dtype=np.int64)
        last = np.empty(cases.size, dtype=np.int64)
        for i, a in enumerate(cases):
            onset = int(self.engine.t_onset[a])
            symptomatic = onset <= today
            anchor = onset if symptomatic else int(self.sample_day[a])
            iso = int(self.isolated_day[a])
            first[i], end = _lookback(self.pack.id, symptomatic, anchor,
                                      iso if iso <= today else None, self.s.start_date)
            last[i] = min(today if end is None else end, today)
        return first, last

    def _zone_steps(self) -> list[tuple[int, int]]:
        """(offset from the last infection, level index afterwards; -1 lifted) for the top
        level, from the pack's zone clocks."""
        if not self.levels:
            return []
        base = date(2022, 1, 1)
        schedule = policy.zone_schedule(self.pack, self.levels[0], base)
        return [((st.effective - base).days,
                 -1 if st.lifts else self.levels.index(st.to_level)) for st in schedule.steps]

    def _round_days(self) -> frozenset[int]:
        """Days after the last infection on which the pack's lifting steps want a round of
        the whole zone (the registry lifts a zone only with it)."""
        if self.pack.zones is None:
            return frozenset()
        return frozenset(d for lv in self.pack.zones.levels.values() for step in lv.lifting
                         if step.round is not None
                         for d in range(step.round.from_day, step.round.to_day + 1))

    def _hours(self, people: np.ndarray, since_day: np.ndarray, since_hour: np.ndarray,
               t: int) -> np.ndarray:
        """Hours from an earlier event to now (an hour of day ``t`` drawn after it)."""
        u = self.hour_rng.random(people.size)
        same = since_day == t
        hour = np.where(same, since_hour + u * (24 - since_hour), 6 + u * 16)
        hour = np.maximum(hour, np.where(same, since_hour, 0))
        return (t - since_day) * 24.0 + hour - since_hour

    # --- the day ---------------------------------------------------------------------------

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

    def _sample(self, t: int) -> int:
        s, city, eng, st = self.s, self.city, self.engine, self.status
        resp, taken = self.responder, 0
        managed = np.isin(st, (WAITING, FACILITY_Q, HOME_Q))
        if s.detection.fever_clinic:
            visit = (eng.t_clinic == t) & ~self.known
            q = np.flatnonzero(visit & managed)
            c = np.flatnonzero(visit & (st == FREE))
            resp.sample(q, t, "in_quarantine", 1)
            resp.sample(c, t, "fever_clinic", 1)
            taken += q.size + c.size
        if s.response.isolation:
            offset = t - self.anchor
            due = np.zeros(city.n, dtype=bool)
            for role, plan in self.plans.items():
                if plan is not None:
                    due |= (self.role == role) & np.isin(offset, list(plan.tests))
            q = np.flatnonzero(due & managed & ~self.known)
            resp.sample(q, t, "in_quarantine", 1)
            taken += q.size
        kg = s.detection.key_groups
        if kg.enabled:
            ids = np.flatnonzero(city.key_group & (st == FREE) & ~self.known)
            ids = ids[(ids + t) % kg.interval_days == 0]
            resp.sample(ids, t, "routine_key_groups", kg.pool)
            taken += ids.size
        ar = s.detection.area_rounds
        if ar.enabled and self.levels:
            towns = self._round_towns(ar.scope)
            due_towns = towns & ((t - self.zone_day0) % ar.interval_days == 0) if \
                ar.scope == "zones" else towns & (t % ar.interval_days == 0)
            if self.service:  # the round the pack's lifting rule asks for
                due_towns |= (self.zone_level >= 0) & np.isin(t - self.zone_day0,
                                                               list(self.round_days))
            if due_towns.any():
                ids = np.flatnonzero(due_towns[city.town] & ~self.known
                                     & np.isin(st, (FREE, WAITING, HOME_Q)))
                taken += resp.run_round(ids, t, ar.pool)
        return taken

    def _round_towns(self, scope: str) -> np.ndarray:
        active = self.zone_level >= 0
        if scope == "zones" or not active.any():
            return active
        if scope == "city":
            return np.ones_like(active)
        districts = np.unique(self.city.town_district[active])
        return np.isin(self.city.town_district, districts)

    def _results(self, t: int, today: dt.date) -> dict[str, Any]:
        res = self.responder.results(t)
        agents, first = np.unique(res.agent, return_index=True)
        new = ~self.known[agents]
        agents, sample, route = agents[new], res.sample_day[first][new], res.route[first][new]
        st = self.status
        managed = np.isin(st[agents], (WAITING, FACILITY_Q, HOME_Q))
        mode = np.where(managed, ROUTES.index("in_quarantine"), route)
        self.known[agents] = True
        self.positive_day[agents] = t
        self.positive_hour[agents] = 8 + self.hour_rng.random(agents.size) * 12
        self.sample_day[agents] = sample
        was_contact = agents[np.isin(st[agents], (WAITING, FACILITY_Q, HOME_Q))]
        self.became[was_contact] = True
        if self.s.response.isolation:
            st[agents] = np.where(st[agents] == FACILITY_Q, POSITIVE_IN_FACILITY, POSITIVE)
            self.since[agents] = t
        community = agents[mode != ROUTES.index("in_quarantine")]
        if self.levels and self.s.response.zones and community.size:
            towns = np.unique(self.city.town[community])
            self.new_zone_towns = towns
            if not self.service:
                self.zone_level[towns] = 0
            self.zone_day0[towns] = t
        counts = np.bincount(mode, minlength=len(ROUTES))
        routes = {"detected_in_quarantine": int(counts[1]),
                  "detected_in_community": int(counts[0] + counts[2] + counts[3]),
                  "detected_fever_clinic": int(counts[0]),
                  "detected_key_groups": int(counts[2]),
                  "detected_area_rounds": int(counts[3])}
        if self.platform is not None and agents.size:
            onset = self.engine.t_onset[agents]
            self.platform.report_cases([NewCase(
                agent=int(a), classification="confirmed" if onset[i] <= t else "asymptomatic",
                onset=self.date(int(onset[i])) if onset[i] <= t else None,
                sample=self.date(int(sample[i])),
                reported_at=self.platform.at(today, 10 + i % 10),
                detection_mode=ROUTES[int(mode[i])]) for i, a in enumerate(agents)], today)
        if self.platform is not None:
            self._tell(was_contact, "became_case", t, 20, cases=self.platform.case_of)
        return {"agents": agents, "routes": routes}

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

    def _trace(self, cases: np.ndarray, t: int) -> int:
        traced = self.responder.trace(cases, t)
        st = self.status
        self.contact[traced.agent] = True
        self.unmanaged[traced.unmanaged] = True
        ok = ~self.known[traced.agent] & (
            (st[traced.agent] == FREE)
            | ((st[traced.agent] == HOME_Q) & (traced.role == CLOSE) & (self.role[
                traced.agent] != CLOSE)))
        if self.s.response.isolation:
            self._again(traced.agent[~ok], traced.exposure_day[~ok], t)
        agent, exposure, role = traced.agent[ok], traced.exposure_day[ok], traced.role[ok]
        self.released[agent] = False
        if self.s.response.isolation and agent.size:
            plans = [self.plans.get(int(r)) for r in role]
            # a room only while the plan's centralized phase lasts: contacts found after it
            # (tracing fell behind) go on with the plan at home
            facility = np.array([p is not None and p.facility is not None
                                 and t - int(e) <= p.facility[1]
                                 for p, e in zip(plans, exposure, strict=True)], dtype=np.bool_)
            managed = np.array([p is not None for p in plans], dtype=np.bool_)
            st[agent[facility]] = WAITING
            st[agent[managed & ~facility]] = HOME_Q
            self.anchor[agent] = exposure
            self.role[agent] = role
            self.since[agent] = t
            self.since_hour[agent] = 12 + self.hour_rng.random(agent.size) * 8
            record = self.responder.contact_status
            if self.platform is not None:
                start = self.platform.at(self.date(t), 0)
                # told when traced: those for a facility wait for a room, notified; home
                # quarantine starts when told
                for told, status in ((np.unique(agent[facility]), "notified"),
                                     (np.unique(agent[managed & ~facility]),
                                      "under_management")):
                    if told.size:
                        record(told, status, [start + timedelta(hours=float(h))
                                              for h in self.since_hour[told]])
        if self.platform is not None:
            if agent.size:
                self.platform.register(agent, self.date(t))
            self.platform.investigated(traced.cases, self.platform.at(self.date(t), 14))
        return int(agent.size) if traced.identified is None else traced.identified

    def _again(self, people: np.ndarray, exposure: np.ndarray, t: int) -> None:
        """Contacts identified again while already under the plan (by another case): the
        plan runs from the latest exposure (outside a room), and the new episode joins the
        old one's state (told if waiting for a room, under management if quarantined)."""
        keep = ~self.known[people] & np.isin(self.status[people], (WAITING, FACILITY_Q, HOME_Q))
        people, exposure = people[keep], exposure[keep]
        if not people.size:
            return
        # in a room the stay booked for the plan sets the days (no exposure there)
        out = self.status[people] != FACILITY_Q
        np.maximum.at(self.anchor, people[out], exposure[out].astype(self.anchor.dtype))
        waiting = self.status[people] == WAITING
        self._tell(np.unique(people[waiting]), "notified", t, 20)
        self._tell(np.unique(people[~waiting]), "under_management", t, 20)

    def _transfer(self, t: int) -> tuple[np.ndarray, np.ndarray]:
        if not self.s.response.isolation:
            return np.zeros(0), np.zeros(0)
        st, resp = self.status, self.responder
        waiting = np.flatnonzero((st == POSITIVE) | (st == POSITIVE_IN_FACILITY))
        waiting = waiting[np.argsort(self.since[waiting], kind="stable")]
        moved = resp.transfer_cases(waiting, t, in_use=int((st == ISOLATED).sum()))
        st[moved] = ISOLATED
        self.isolated_day[moved] = t
        self.release[moved] = t + self.s.response.isolation_days
        h_transfer = self._hours(moved, self.positive_day[moved], self.positive_hour[moved], t)
        self._record_transfers(moved, self.positive_day[moved], self.positive_hour[moved],
                               h_transfer, case=True)
        waiting = np.flatnonzero(st == WAITING)
        # Contacts found after their plan's centralized phase (tracing fell behind) need no
        # room: the plan goes on at home (:meth:`_release` tells them).
        waiting = waiting[~self._facility_over(waiting, t)]
        waiting = waiting[np.argsort(self.since[waiting], kind="stable")]
        moved = resp.assign_rooms(waiting, t, in_use=int((st == FACILITY_Q).sum()))
        st[moved] = FACILITY_Q
        h_quarantine = self._hours(moved, self.since[moved], self.since_hour[moved], t)
        self._record_transfers(moved, self.since[moved], self.since_hour[moved], h_quarantine,
                               case=False)
        return h_transfer, h_quarantine

    def _facility_over(self, people: np.ndarray, t: int) -> np.ndarray:
        over = np.zeros(people.size, dtype=bool)
        for role, plan in self.plans.items():
            if plan is not None and plan.facility is not None:
                over |= (self.role[people] == role) & (t - self.anchor[people]
                                                       > plan.facility[1])
        return over

    def _record_transfers(self, people: np.ndarray, day: np.ndarray, hour: np.ndarray,
                          hours: np.ndarray, *, case: bool) -> None:
        """Tell a responder that records transfers when each clock started and ended."""
        if self.platform is None or people.size == 0:
            return
        record = self.responder.record_transfers
        start = [self.platform.at(self.date(int(d)), 0) + timedelta(hours=float(h))
                 for d, h in zip(day, hour, strict=True)] if self.platform else []
        record(people, case=case, clock_start=start,
               arrival=[s + timedelta(hours=float(h)) for s, h in zip(start, hours,
                                                                      strict=True)])

    def _release(self, t: int) -> None:
        st = self.status
        offset = t - self.anchor
        for role, plan in self.plans.items():
            if plan is None:
                continue
            mine = self.role == role
            if plan.facility is not None:
                # The centralized phase is over (in a room, or still waiting for one): the
                # plan goes on at home; those who never got a room are under management from
                # now on, at home.
                over = mine & (offset > plan.facility[1])
                st[over & (st == FACILITY_Q)] = HOME_Q
                home = np.flatnonzero(over & (st == WAITING))
                st[home] = HOME_Q
                self._tell(home, "under_management", t, 8)
            done = mine & np.isin(st, (WAITING, FACILITY_Q, HOME_Q)) & (offset >= plan.release)
            st[done] = FREE
            self.released[done] = True
            self._tell(np.flatnonzero(done), "released", t, 9)
            self.role[done] = 0
        st[(st == ISOLATED) & (self.release <= t)] = FREE

    def _zones(self, t: int) -> None:
        if self.service:
            towns, self.new_zone_towns = self.new_zone_towns, np.zeros(0, dtype=np.int64)
            if self.levels and self.s.response.zones:
                self.zone_level = self.responder.zones(t, towns, self.levels)
            return
        active = np.flatnonzero(self.zone_level >= 0)
        if not active.size:
            return
        offset = t - self.zone_day0[active]
        level = np.zeros(active.size, dtype=np.int8)
        for at, to in self.zone_steps:
            level = np.where(offset >= at, to, level)
        self.zone_level[active] = level

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


@lru_cache(maxsize=4096)
def _lookback(pack_id: str, symptomatic: bool, anchor: int, isolated: int | None,
              start: date) -> tuple[int, int | None]:
    d = start + timedelta(days=anchor)
    iso = start + timedelta(days=isolated) if isolated is not None else None
    try:
        w = (policy.lookback_window(pack_id, onset=d, isolated_on=iso) if symptomatic else
             policy.lookback_window(pack_id, first_positive_sample=d, isolated_on=iso))
    except Invalid:
        # Isolated before the window would start (found in quarantine before onset): no
        # exposure outside; the household is still traced up to the isolation day.
        if iso is None:
            raise
        return (iso - start).days + 1, (iso - start).days
    return (w.start - start).days, (w.end - start).days if w.end is not None else None


def _mean_hours(hours: np.ndarray) -> float | str:
    return round(float(hours.mean()), 1) if hours.size else ""

