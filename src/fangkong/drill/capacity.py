"""The abstract responder (no database): the drill's own tracing, lab, rooms and vehicles.

It traces, tests, and moves people to rooms itself from the simulation's data, honouring the
drill's capacities and delays (cases traced per day, PCR tubes per day and turnaround,
quarantine rooms, isolation beds, vehicle seats per day); strategy comparisons over many seeds
use it. Its capabilities are the bases of the platform's (:mod:`fangkong.drill.respond`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from datetime import datetime

import numpy as np

from fangkong.drill.lab import Lab
from fangkong.drill.responder import CLOSE, EMPTY, SECONDARY, Capability, Results, Traced
from fangkong.drill.strategy import Strategy
from fangkong.sim.city import City
from fangkong.sim.engine import Checkins, Engine

Window = Callable[[np.ndarray, int], tuple[np.ndarray, np.ndarray]]


class SimTracing(Capability):
    """Tracing from the simulation's truth: households, colleagues and classmates, venue
    co-presence in the check-ins of the last days, as many cases a day as there are tracers."""

    def __init__(self, city: City, engine: Engine, strategy: Strategy, window: Window,
                 rng: np.random.Generator, *, venue_managed: bool = True) -> None:
        self.city, self.engine, self.strategy = city, engine, strategy
        # Whether the pack manages the people found by venue co-presence (its co-presence
        # role has a plan): under cn_v9 they are 涉疫场所暴露人员 without one, so they are
        # identified and counted but not quarantined, as the platform's tracing does.
        self.venue_managed = venue_managed
        self.window = window  # (cases, today) -> (first, last) exposure day of each case
        self.rng = rng
        self.trace_per_day = strategy.capacity.tracers * city.n / 100_000
        self.history: deque[tuple[int, Checkins]] = deque(maxlen=16)
        self.trace_queue: deque[int] = deque()
        self.trace_credit = 0.0
        self._work_members = _members(city.workplace)
        self._school_members = _members(city.school)
        self._household_start = np.r_[0, np.cumsum(city.household_size)]

    def record_checkins(self, day: int, checkins: Checkins) -> None:
        self.history.append((day, checkins))

    @property
    def backlog(self) -> int:
        """Cases waiting for a tracer."""
        return len(self.trace_queue)

    def take(self, queue: deque[int]) -> np.ndarray:
        """Today's cases for the tracers (oldest first), as far as their credit goes."""
        self.trace_credit = min(self.trace_credit + self.trace_per_day,
                                self.trace_per_day + 1)
        take = min(len(queue), int(self.trace_credit))
        self.trace_credit -= take
        return np.array([queue.popleft() for _ in range(take)], dtype=np.int64)

    def trace(self, cases: np.ndarray, day: int) -> Traced:
        self.trace_queue.extend(int(c) for c in cases)
        todo = self.take(self.trace_queue)
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
        return Traced(agent, exposure, role, cases=todo, identified=identified,
                      unmanaged=unmanaged[~np.isin(unmanaged, todo)])

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


class Rooms(Capability):
    """Quarantine rooms, isolation beds and the vehicle seats of the day."""

    def __init__(self, city: City, strategy: Strategy) -> None:
        self.city, self.strategy = city, strategy
        scale = city.n / 100_000
        cap = strategy.capacity
        self.rooms = round(cap.rooms * scale)
        self.beds = round(cap.isolation_beds * scale)
        self.seats_per_day = cap.vehicles * scale * cap.vehicle_trips * cap.vehicle_seats
        self.seat_credit = 0.0
        self.seats_left = 0
        self.seats_day = -1

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

    def record_transfers(self, people: np.ndarray, *, case: bool, clock_start: list[datetime],
                         arrival: list[datetime]) -> None:
        """Nothing to record without the platform."""


class Composed:
    """A responder made of its capabilities: the lifecycle runs over all of them, in order."""

    through_platform = False
    lab: Lab
    tracing: SimTracing
    isolation: Rooms

    @property
    def capabilities(self) -> list[Capability]:
        return [self.lab, self.tracing, self.isolation]

    def init(self) -> None:
        for c in self.capabilities:
            c.init()

    def step(self, day: int) -> None:
        for c in self.capabilities:
            c.step(day)

    def finalize(self) -> None:
        for c in self.capabilities:
            c.finalize()

    @property
    def tubes_used(self) -> int:
        return self.lab.tubes_used

    @property
    def trace_backlog(self) -> int:
        return self.tracing.backlog

    @property
    def lab_backlog(self) -> int:
        return self.lab.backlog

    @property
    def lab_capacity(self) -> int:
        return self.lab.capacity

    def record_checkins(self, day: int, checkins: Checkins) -> None:
        self.tracing.record_checkins(day, checkins)

    def sample(self, people: np.ndarray, day: int, route: str, pool: int) -> None:
        self.lab.sample(people, day, route, pool)

    def run_round(self, people: np.ndarray, day: int, pool: int) -> int:
        return self.lab.run_round(people, day, pool)

    def results(self, day: int) -> Results:
        return self.lab.results(day)

    def trace(self, cases: np.ndarray, day: int) -> Traced:
        return self.tracing.trace(cases, day)

    def assign_rooms(self, people: np.ndarray, day: int, *, in_use: int) -> np.ndarray:
        return self.isolation.assign_rooms(people, day, in_use=in_use)

    def transfer_cases(self, cases: np.ndarray, day: int, *, in_use: int) -> np.ndarray:
        return self.isolation.transfer_cases(cases, day, in_use=in_use)

    def record_transfers(self, people: np.ndarray, *, case: bool, clock_start: list[datetime],
                         arrival: list[datetime]) -> None:
        self.isolation.record_transfers(people, case=case, clock_start=clock_start,
                                        arrival=arrival)

    def contact_status(self, people: np.ndarray, status: str, at: datetime | list[datetime],
                       cases: dict[int, int] | None = None) -> None:
        """Nothing to record without the platform."""

    def zones(self, day: int, towns: np.ndarray, levels: list[str]) -> np.ndarray:
        raise NotImplementedError("without the platform the drill keeps the zones itself")


class CapacityResponder(Composed):
    """The abstract mode: the drill's own lab, tracing, rooms and vehicles."""

    def __init__(self, city: City, engine: Engine, strategy: Strategy, window: Window, *,
                 venue_managed: bool = True) -> None:
        rng = np.random.default_rng([strategy.seed, 8])
        self.lab = Lab(city, engine, strategy, rng)
        self.tracing = SimTracing(city, engine, strategy, window, rng,
                                  venue_managed=venue_managed)
        self.isolation = Rooms(city, strategy)


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
