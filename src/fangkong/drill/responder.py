"""The response steps behind one protocol, and the abstract responder.

The drill loop (loop.py) talks only to :class:`Responder`. :class:`CapacityResponder` is the
abstract mode (no database): it traces, tests, and moves people to rooms itself from the
simulation's data, honouring the drill's capacities and delays (cases traced per day, PCR tubes
per day and turnaround, quarantine rooms, isolation beds, vehicle seats per day); strategy
comparisons over many seeds use it. Its lab and vehicles are the world's and serve
:class:`fangkong.drill.services.ServiceResponder` too, which does the rest through the
platform's services (the default with a database).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from fangkong.drill.strategy import Strategy
from fangkong.sim.city import City
from fangkong.sim.engine import Checkins, Engine

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


class Responder(Protocol):
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

    @property
    def tubes_used(self) -> int: ...


@dataclass
class _Batch:
    priority: int
    sample_day: int
    people: np.ndarray
    route: int
    pool: int
    tube: np.ndarray | None = None  # each person's tube (non-decreasing); None: by ``pool``
    meta: object = None             # what the responder needs to report the tubes

    def tubes(self) -> int:
        if self.tube is None:
            return -(-self.people.size // self.pool)
        return int(np.count_nonzero(np.diff(self.tube))) + 1 if self.tube.size else 0

    def split(self, tubes: int) -> tuple[_Batch, _Batch]:
        """The first ``tubes`` tubes, and the rest."""
        if self.tube is None:
            cut = tubes * self.pool
            head = tail = None
        else:
            starts = np.flatnonzero(np.r_[True, self.tube[1:] != self.tube[:-1]])
            cut = int(starts[tubes])
            head, tail = self.tube[:cut], self.tube[cut:]
        return (_Batch(self.priority, self.sample_day, self.people[:cut], self.route, self.pool,
                       head, self.meta),
                _Batch(self.priority, self.sample_day, self.people[cut:], self.route, self.pool,
                       tail, self.meta))


@dataclass
class _Lab:
    queue: list[_Batch] = field(default_factory=list)
    pending: list[tuple[int, Results]] = field(default_factory=list)
    retests: list[tuple[int, _Batch]] = field(default_factory=list)
    credit: float = 0.0


class CapacityResponder:
    """The interim responder: the drill's own tracing, lab, rooms and vehicles."""

    def __init__(self, city: City, engine: Engine, strategy: Strategy,
                 window: Callable[[np.ndarray, int], tuple[np.ndarray, np.ndarray]], *,
                 venue_managed: bool = True) -> None:
        self.city, self.engine, self.strategy = city, engine, strategy
        # Whether the pack manages the people found by venue co-presence (its co-presence
        # role has a plan): under cn_v9 they are 涉疫场所暴露人员 without one, so they are
        # identified and counted but not quarantined, as the platform's tracing does.
        self.venue_managed = venue_managed
        self.window = window  # (cases, today) -> (first, last) exposure day of each case
        scale = city.n / 100_000
        cap = strategy.capacity
        self.lab_per_day = cap.lab_tubes * scale
        self.turnaround = cap.lab_turnaround_days
        self.trace_per_day = cap.tracers * scale
        self.rooms = round(cap.rooms * scale)
        self.beds = round(cap.isolation_beds * scale)
        self.seats_per_day = cap.vehicles * scale * cap.vehicle_trips * cap.vehicle_seats
        self.rng = np.random.default_rng([strategy.seed, 8])
        self.lab = _Lab()
        self.history: deque[tuple[int, Checkins]] = deque(maxlen=16)
        self.trace_queue: deque[int] = deque()
        self.trace_credit = 0.0
        self.seat_credit = 0.0
        self.seats_left = 0
        self.seats_day = -1
        self._tubes = 0
        self._work_members = _members(city.workplace)
        self._school_members = _members(city.school)
        self._household_start = np.r_[0, np.cumsum(city.household_size)]

    # --- lab -------------------------------------------------------------------------------

    @property
    def tubes_used(self) -> int:
        return self._tubes

    def sample(self, people: np.ndarray, day: int, route: str, pool: int) -> None:
        if people.size:
            self.lab.queue.append(_Batch(PRIORITY[route], day, people.astype(np.int64),
                                         ROUTES.index(route), max(1, pool)))

    def run_round(self, people: np.ndarray, day: int, pool: int) -> int:
        self.sample(people, day, "community_screening", pool)
        return int(people.size)

    def results(self, day: int) -> Results:
        lab = self.lab
        for _, batch in [r for r in lab.retests if r[0] <= day]:
            batch.sample_day = day
            lab.queue.append(batch)
        lab.retests = [r for r in lab.retests if r[0] > day]
        lab.credit += self.lab_per_day
        self._tubes = 0
        lab.queue.sort(key=lambda b: (b.priority, b.sample_day))
        kept: list[_Batch] = []
        for batch in lab.queue:
            tubes = batch.tubes()
            can = int(lab.credit)
            if can <= 0:
                kept.append(batch)
                continue
            if tubes > can:
                batch, rest = batch.split(can)
                kept.append(rest)
                tubes = can
            lab.credit -= tubes
            self._tubes += tubes
            self._process(batch.people, batch, day + self.turnaround)
        lab.queue = kept
        lab.credit = min(lab.credit, self.lab_per_day)  # unused capacity does not pile up
        out = [r for d, r in lab.pending if d <= day]
        lab.pending = [(d, r) for d, r in lab.pending if d > day]
        if not out:
            return Results(EMPTY, EMPTY, EMPTY)
        return Results(np.concatenate([r.agent for r in out]),
                       np.concatenate([r.sample_day for r in out]),
                       np.concatenate([r.route for r in out]))

    def _process(self, people: np.ndarray, batch: _Batch, release: int) -> np.ndarray:
        """Test ``people`` of ``batch``; returns the members of positive tubes."""
        d = self.engine.disease
        truth = self.engine.pcr_positive(people, batch.sample_day)
        if batch.pool == 1:
            found = people[truth & (self.rng.random(people.size) < d.pcr_sensitivity)]
            if found.size:
                self.lab.pending.append((release, Results(
                    found, np.full(found.size, batch.sample_day),
                    np.full(found.size, batch.route))))
            return found
        pools = np.arange(people.size) // batch.pool
        hot = np.bincount(pools, weights=truth) > 0
        hot &= self.rng.random(hot.size) < d.pcr_sensitivity - d.pool_sensitivity_loss
        members = people[hot[pools]]
        if members.size:  # positive pools: each member re-tested in a single tube
            self.lab.retests.append((release, _Batch(PRIORITY["retest"], release, members,
                                                     batch.route, 1)))
        return members

    # --- tracing ---------------------------------------------------------------------------

    def record_checkins(self, day: int, checkins: Checkins) -> None:
        self.history.append((day, checkins))

    def trace(self, cases: np.ndarray, day: int) -> Traced:
        self.trace_queue.extend(int(c) for c in cases)
        self.trace_credit = min(self.trace_credit + self.trace_per_day,
                                self.trace_per_day + 1)
        take = min(len(self.trace_queue), int(self.trace_credit))
        self.trace_credit -= take
        todo = np.array([self.trace_queue.popleft() for _ in range(take)], dtype=np.int64)
        if todo.size == 0:
            return Traced(EMPTY, EMPTY, EMPTY)
        first, last = self.window(todo, day)
        home, home_day = self._household(todo, last)
        agents, days = [home], [home_day]
        resp = self.strategy.response
        if resp.trace_work and resp.work_contacts:
            for members in (self._work_members, self._school_members):
                a, d = self._colleagues(members, todo, last, resp.work_contacts)
                agents.append(a)
                days.append(d)
        unmanaged = EMPTY
        if resp.trace_venues:
            a, d = self._venues(todo, first, last)
            if self.venue_managed:
                agents.append(a)
                days.append(d)
            else:
                unmanaged = a
        agent, exposure = _latest(np.concatenate(agents), np.concatenate(days))
        keep = ~np.isin(agent, todo)
        agent, exposure = agent[keep], exposure[keep]
        # Identified: everyone found, the unmanaged venue-exposed too (once each).
        identified = int(np.union1d(agent, unmanaged[~np.isin(unmanaged, todo)]).size)
        role = np.full(agent.size, CLOSE)
        if resp.secondary_contacts and agent.size:
            sec, sec_day = self._household(agent, np.full(agent.size, day))
            sec, sec_day = _latest(sec, sec_day)
            new = ~np.isin(sec, agent) & ~np.isin(sec, todo)
            agent = np.r_[agent, sec[new]]
            exposure = np.r_[exposure, sec_day[new]]
            role = np.r_[role, np.full(int(new.sum()), SECONDARY)]
            identified += int(new.sum())
        return Traced(agent, exposure, role, cases=todo, identified=identified)

    def _household(self, cases: np.ndarray, last: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        h = self.city.household[cases]
        lo, hi = self._household_start[h], self._household_start[h + 1]
        sizes = hi - lo
        idx = np.repeat(lo - np.r_[0, np.cumsum(sizes)[:-1]], sizes) + np.arange(sizes.sum())
        return idx.astype(np.int64), np.repeat(last, sizes)

    def _colleagues(self, members: tuple[np.ndarray, np.ndarray], cases: np.ndarray,
                    last: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        order, start = members
        groups = (self.city.workplace if members is self._work_members else self.city.school)
        g = groups[cases]
        ok = g >= 0
        g, last = g[ok], last[ok]
        if g.size == 0:
            return EMPTY, EMPTY
        lo, size = start[g], start[g + 1] - start[g]
        take = np.minimum(size, k)
        pick = (self.rng.random(int(take.sum())) * np.repeat(size, take)).astype(np.int64)
        return order[np.repeat(lo, take) + pick], np.repeat(last, take)

    def _venues(self, cases: np.ndarray, first: np.ndarray,
                last: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        agents, days = [EMPTY], [EMPTY]
        slots = self.engine.life.slots
        for d, chk in self.history:
            active = cases[(first <= d) & (d <= last)]
            if active.size == 0:
                continue
            key = chk.venue.astype(np.int64) * slots + chk.slot
            mine = np.isin(chk.person, active)
            co = np.isin(key, np.unique(key[mine])) & ~mine
            agents.append(chk.person[co].astype(np.int64))
            days.append(np.full(int(co.sum()), d))
        return np.concatenate(agents), np.concatenate(days)

    # --- rooms and vehicles ----------------------------------------------------------------

    def _seats(self, day: int) -> int:
        if self.seats_day != day:
            self.seat_credit = min(self.seat_credit + self.seats_per_day,
                                   self.seats_per_day + 1)
            self.seats_left = int(self.seat_credit)
            self.seat_credit -= self.seats_left
            self.seats_day = day
        return self.seats_left

    def transfer_cases(self, cases: np.ndarray, day: int, *, in_use: int) -> np.ndarray:
        n = min(cases.size, self._seats(day), max(0, self.beds - in_use))
        self.seats_left -= n
        return cases[:n]

    def assign_rooms(self, people: np.ndarray, day: int, *, in_use: int) -> np.ndarray:
        n = min(people.size, self._seats(day), max(0, self.rooms - in_use))
        self.seats_left -= n
        return people[:n]


def _members(groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Agents ordered by group, and each group's start in that order."""
    has = np.flatnonzero(groups >= 0)
    order = has[np.argsort(groups[has], kind="stable")]
    counts = np.bincount(groups[has], minlength=int(groups.max()) + 1 if has.size else 1)
    return order, np.r_[0, np.cumsum(counts)]


def _latest(agent: np.ndarray, day: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One row per agent, with the latest day."""
    if agent.size == 0:
        return EMPTY, EMPTY
    order = np.lexsort((-day, agent))
    agent, day = agent[order], day[order]
    first = np.r_[True, agent[1:] != agent[:-1]]
    return agent[first], day[first]
