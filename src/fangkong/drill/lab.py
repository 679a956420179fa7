"""The world's lab: tubes queue by priority, the lab tests as many a day as it can, results
come back after the turnaround; positive pools are re-tested in single tubes."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from fangkong.drill.responder import EMPTY, PRIORITY, ROUTES, Capability, Results
from fangkong.drill.strategy import Strategy
from fangkong.sim.city import City
from fangkong.sim.engine import Engine


@dataclass
class Batch:
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

    def split(self, tubes: int) -> tuple[Batch, Batch]:
        """The first ``tubes`` tubes, and the rest."""
        if self.tube is None:
            cut = tubes * self.pool
            head = tail = None
        else:
            starts = np.flatnonzero(np.r_[True, self.tube[1:] != self.tube[:-1]])
            cut = int(starts[tubes])
            head, tail = self.tube[:cut], self.tube[cut:]
        return (Batch(self.priority, self.sample_day, self.people[:cut], self.route, self.pool,
                      head, self.meta),
                Batch(self.priority, self.sample_day, self.people[cut:], self.route, self.pool,
                      tail, self.meta))


@dataclass
class Queue:
    queue: list[Batch] = field(default_factory=list)
    pending: list[tuple[int, Results]] = field(default_factory=list)
    retests: list[tuple[int, Batch]] = field(default_factory=list)
    credit: float = 0.0


class Lab(Capability):
    """The drill's lab, with the strategy's tubes a day and turnaround, and the mobile labs
    sent for on the first day it falls behind (samples left at the end of the day), which
    test from ``mobile_lab_days`` later on."""

    def __init__(self, city: City, engine: Engine, strategy: Strategy,
                 rng: np.random.Generator) -> None:
        self.city, self.engine, self.strategy = city, engine, strategy
        scale = city.n / 100_000
        self.lab_per_day = strategy.capacity.lab_tubes * scale
        self.mobile_per_day = strategy.capacity.mobile_lab_tubes * scale
        self.mobile_from: int | None = None  # the mobile labs' first day of testing
        self._capacity = 0
        self.turnaround = strategy.capacity.lab_turnaround_days
        self.rng = rng  # shared with the tracing capability (one stream, as drawn before)
        self.lab = Queue()
        self._tubes = 0

    @property
    def tubes_used(self) -> int:
        return self._tubes

    @property
    def capacity(self) -> int:
        """The tubes the lab could test today (its own and the mobile labs')."""
        return self._capacity

    def per_day(self, day: int) -> float:
        """Tubes a day on ``day``: the city's lab, and the mobile labs once they test."""
        mobile = self.mobile_from is not None and day >= self.mobile_from
        return self.lab_per_day + (self.mobile_per_day if mobile else 0.0)

    def mobile_labs_arrive(self, day: int) -> None:
        """The mobile labs' first day of testing (the platform records them)."""

    @property
    def backlog(self) -> int:
        return int(sum(b.people.size for b in self.lab.queue))

    def sample(self, people: np.ndarray, day: int, route: str, pool: int) -> None:
        if people.size:
            self.lab.queue.append(Batch(PRIORITY[route], day, people.astype(np.int64),
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
        if self.mobile_from == day:
            self.mobile_labs_arrive(day)
        per_day = self.per_day(day)
        lab.credit += per_day
        self._capacity = int(lab.credit)
        self._tubes = 0
        lab.queue.sort(key=lambda b: (b.priority, b.sample_day))
        kept: list[Batch] = []
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
            self.process(batch.people, batch, day + self.turnaround)
        lab.queue = kept
        # unused tubes do not pile up: only the fraction of a tube is carried to tomorrow
        lab.credit = min(lab.credit, 1.0)
        if kept and self.mobile_from is None and self.mobile_per_day > 0:
            # fell behind: the mobile labs are sent for today
            self.mobile_from = day + self.strategy.capacity.mobile_lab_days
        out = [r for d, r in lab.pending if d <= day]
        lab.pending = [(d, r) for d, r in lab.pending if d > day]
        if not out:
            return Results(EMPTY, EMPTY, EMPTY)
        return Results(np.concatenate([r.agent for r in out]),
                       np.concatenate([r.sample_day for r in out]),
                       np.concatenate([r.route for r in out]))

    def process(self, people: np.ndarray, batch: Batch, release: int) -> np.ndarray:
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
            self.lab.retests.append((release, Batch(PRIORITY["retest"], release, members,
                                                    batch.route, 1)))
        return members
