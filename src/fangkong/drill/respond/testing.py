"""The drill's testing through the testing service, on the world's lab."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from typing import Any, cast

import numpy as np

from fangkong.case import service as cases
from fangkong.drill.lab import Batch, Lab
from fangkong.drill.names import name
from fangkong.drill.platform import sim_clock
from fangkong.drill.respond.common import Context, Serviced
from fangkong.drill.respond.zoning import Zoning
from fangkong.drill.responder import (
    PRIORITY,
    ROUTES,
    Results,
)
from fangkong.isolation import service as isolation
from fangkong.isolation.enums import SampleResult
from fangkong.testing import importer as samples
from fangkong.testing import service as testing
from fangkong.testing.schemas import LabCreate, RoundCreate, TubeIssue


class Testing(Serviced, Lab):
    """Area rounds through the testing service (the round over the zone towns, its target and
    tube sizes from the pack's pooling and the zone registry, tubes issued, samples and
    results imported, positive pools followed up), quarantine tests on the stays; the tubes
    are tested by the world's lab (the drill's), within its capacity."""

    def __init__(self, ctx: Context, rng: np.random.Generator, zoning: Zoning) -> None:
        Lab.__init__(self, ctx.city, ctx.engine, ctx.strategy, rng)
        self._bind(ctx)
        self.zoning = zoning  # the zones capability (a round is recorded on its zones)
        self.rounds: dict[int, list[Any]] = {}  # round day -> [towns, positive towns, left]
        self.barcodes: dict[tuple[int, int, float], np.ndarray] = {}
        self.round_results: list[tuple[int, np.ndarray, np.ndarray]] = []
        # quarantine tests in the lab: (release day, people, sample day, positives)
        self.stay_results: list[tuple[int, np.ndarray, int, np.ndarray]] = []
        self.lab_id = 0
        self.last_case = 0

    def init(self) -> None:
        p, city = self.platform, self.city
        code = f"{p.case_prefix}LAB"
        lab = testing.lab_id(self.session, code)
        self.lab_id = lab if lab is not None else testing.create_lab(
            self.session, actor=self.actor, data=LabCreate(
                code=code, name=name("lab"), division_code=city.district_codes[0],
                daily_capacity=max(1, round(self.lab_per_day)))).id
        self._tag("testing_lab", [self.lab_id])

    def mobile_labs_arrive(self, day: int) -> None:
        """The mobile labs sent for when the city's lab fell behind: recorded in the testing
        service with their tubes a day, from their first day of testing."""
        code = f"{self.platform.case_prefix}MLAB"
        if testing.lab_id(self.session, code) is not None:
            return
        with sim_clock(self.at(day, 6)):
            made = testing.create_lab(self.session, actor=self.actor, data=LabCreate(
                code=code, name=name("mobile_lab"), division_code=self.city.district_codes[0],
                daily_capacity=max(1, round(self.mobile_per_day))))
        self._tag("testing_lab", [made.id])

    def run_round(self, people: np.ndarray, day: int, pool: int) -> int:
        """An area round through the testing service: the round over the towns (its target
        and each person's tube size come from the pack's pooling and the zone registry),
        tubes issued and samples imported; the tubes go to the lab (the drill's)."""
        if people.size == 0:
            return 0
        p, city = self.platform, self.city
        towns = np.unique(city.town[people])
        with sim_clock(self.at(day, 7)):
            created = testing.create_round(self.session, actor=self.actor, data=RoundCreate(
                name=name("round", day=day), series=f"drill-{p.case_prefix}",
                area=[str(city.town_codes[t]) for t in towns.tolist()],
                start_at=self.at(day, 7), deadline_at=self.at(day, 19), pack=self.pack_id))
            self._tag("testing_round", [created.round_id])
            limits = testing.target_limits(self.session, created.round_id)
            pids = p.person_id[people]
            size = np.array([limits.get(int(i), (1, False))[0] for i in pids], dtype=np.int64)
            household = np.array([limits.get(int(i), (1, False))[1] for i in pids], dtype=bool)
            # Tubes: a household tube per household (1户1管) where the level says so, else
            # neighbours (village, household) in tubes of the size their place allows.
            key = np.where(household, city.household[people], -1)
            order = np.lexsort((people, city.household[people], city.village[people], key,
                                size))
            people, size, key = people[order], size[order], key[order]
            tube = np.zeros(people.size, dtype=np.int64)
            n = 0
            i = 0
            while i < people.size:  # runs of one tube size (and one household, for 1户1管)
                j = i + 1
                while j < people.size and size[j] == size[i] and key[j] == key[i]:
                    j += 1
                k = np.arange(j - i) // max(1, int(size[i]))
                tube[i:j] = n + k
                n += int(k[-1]) + 1
                i = j
            self._samples(created.round_id, day, people, tube, size, hour=7)
        self.rounds[day] = [towns, set(), int(people.size)]
        self.lab.queue.append(Batch(PRIORITY["community_screening"], day, people,
                                     ROUTES.index("community_screening"), int(size.max()),
                                     tube, (created.round_id, day, 7)))
        return int(people.size)

    def _samples(self, round_id: int, day: int, people: np.ndarray, tube: np.ndarray,
                 size: np.ndarray, *, hour: float) -> None:
        """Issue the tubes (per size) and import the samples, through the testing service."""
        p = self.platform
        barcodes = np.array([f"{p.case_prefix}-{round_id}-{day:03d}-{hour:04.1f}-{t:06d}"
                             for t in range(int(tube.max()) + 1)], dtype=object)
        self.barcodes[(round_id, day, hour)] = barcodes
        first = np.r_[True, tube[1:] != tube[:-1]]
        for cap in np.unique(size[first]).tolist():
            testing.issue_tubes(self.session, actor=self.actor, round_id=round_id,
                                data=TubeIssue(barcodes=barcodes[tube[first][size[first] == cap]]
                                               .tolist(), capacity=int(cap)))
        spread = 600 if hour < 12 else 60 * (23.5 - hour)  # the sampling hours
        minutes = self.rng_time.random(people.size) * spread
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(["tube_id", "person_ref", "sampled_at"])
        base = self.at(day, hour)
        for a, t, m in zip(people.tolist(), tube.tolist(), minutes.tolist(), strict=True):
            w.writerow([barcodes[t], p.person_ref(a),
                        (base + timedelta(minutes=m)).isoformat(timespec="seconds")])
        with sim_clock(base + timedelta(minutes=spread + 1)):
            samples.import_samples(self.session, actor=self.actor, round_id=round_id,
                                   source=buf.getvalue().encode(), filename="drill-samples.csv")

    def process(self, people: np.ndarray, batch: Batch, release: int) -> np.ndarray:
        if batch.meta is None or batch.tube is None:
            found = super().process(people, batch, release)
            if batch.route == ROUTES.index("in_quarantine") and batch.pool == 1:
                self.stay_results.append((release, people.copy(), batch.sample_day, found))
            return found
        round_id, day, hour = cast(tuple[int, int, float], batch.meta)
        d = self.engine.disease
        truth = self.engine.pcr_positive(people, batch.sample_day)
        tubes, local = np.unique(batch.tube, return_inverse=True)
        members = np.bincount(local)
        hot = np.bincount(local, weights=truth) > 0
        sens = np.where(members > 1, d.pcr_sensitivity - d.pool_sensitivity_loss,
                        d.pcr_sensitivity)
        hot &= self.rng.random(hot.size) < sens
        barcodes = self.barcodes[(round_id, day, hour)][tubes]
        self.round_results.append((release, barcodes, hot))
        positive = people[hot[local]]
        pending = self.rounds.get(batch.sample_day)
        if pending is not None and batch.priority == PRIORITY["community_screening"]:
            pending[1].update(np.unique(self.city.town[positive]).tolist())
            pending[2] -= people.size
            if pending[2] <= 0:  # the whole round is tested: recorded on its zones, closed
                del self.rounds[batch.sample_day]
                self.zoning.record_round(batch.sample_day, pending[0], pending[1])
                with sim_clock(self.at(batch.sample_day, 21)):
                    testing.close_round(self.session, actor=self.actor, round_id=round_id)
        return positive

    def results(self, day: int) -> Results:
        """Round results due today imported through the testing service (positive pools are
        followed up: their members swabbed again in single tubes today; positive single
        tubes become cases there), then the drill's other tests."""
        due = [r for r in self.round_results if r[0] <= day]
        self.round_results = [r for r in self.round_results if r[0] > day]
        found: list[tuple[int, int]] = []
        if due:
            buf = io.StringIO()
            w = csv.writer(buf)
            w.writerow(["tube_id", "result", "reported_at", "lab_id"])
            reported = self.at(day, 18).isoformat(timespec="seconds")
            for _, barcodes, hot in due:
                for b, h in zip(barcodes.tolist(), hot.tolist(), strict=True):
                    w.writerow([b, "positive" if h else "negative", reported, self.lab_id])
            with sim_clock(self.at(day, 18)):
                samples.import_results(self.session, actor=self.actor,
                                       source=buf.getvalue().encode(),
                                       filename="drill-results.csv")
                found = self._cases()
                positive = [b for _, barcodes, hot in due for b in barcodes[hot].tolist()]
                self._retest(positive, day)
        out = super().results(day)
        self._stay_tests(day)
        if not found:
            return out
        agents = np.array([a for a, _ in found], dtype=np.int64)
        sampled = np.array([d for _, d in found], dtype=np.int64)
        return Results(np.r_[out.agent, agents], np.r_[out.sample_day, sampled],
                       np.r_[out.route, np.full(agents.size, ROUTES.index(
                           "community_screening"))])

    def sample(self, people: np.ndarray, day: int, route: str, pool: int) -> None:
        """Samples to the lab; those of quarantine test days are recorded on the stays' tests
        as taken (each ends its sampling task)."""
        super().sample(people, day, route, pool)
        if route == "in_quarantine" and pool == 1 and people.size:
            on = self.date_of(day)
            taken = [(stay_id, on) for stay_id, _ in self._stay_tests_of(people, on)]
            if taken:
                with sim_clock(self.at(day, 9)):
                    isolation.record_samples(self.session, actor=self.actor, taken=taken)

    def _stay_tests_of(self, people: np.ndarray, on: date) -> list[tuple[int, int]]:
        """(stay id, agent) of the active stays of ``people`` with a test on ``on`` still
        without its result (a sample on another day, a fever-clinic visit, is no stay's)."""
        agent_of = dict(zip(self.platform.person_id[people].tolist(), people.tolist(),
                            strict=True))
        return [(stay_id, agent_of[person_id]) for stay_id, person_id
                in isolation.pending_tests(self.session, sorted(agent_of), on)]

    def _stay_tests(self, day: int) -> None:
        """The results of quarantine tests released today, on the stays' tests (through the
        isolation service)."""
        due = [r for r in self.stay_results if r[0] <= day]
        self.stay_results = [r for r in self.stay_results if r[0] > day]
        results: list[tuple[int, date, SampleResult]] = []
        for _, people, sampled, positive in due:
            hot, on = set(positive.tolist()), self.date_of(sampled)
            results += [(stay_id, on, SampleResult.positive if agent in hot
                         else SampleResult.negative)
                        for stay_id, agent in self._stay_tests_of(people, on)]
        if results:
            with sim_clock(self.at(day, 17)):
                isolation.record_tests(self.session, actor=self.actor, results=results)

    def _cases(self) -> list[tuple[int, int]]:
        """Cases the testing service reported from this drill's tubes since the last look
        (their refs name the tube): the agents, with their sample day."""
        out, made = [], []
        start = self.date_of(0)
        for case_id, person_id, sampled in cases.with_ref_prefix(
                self.session, f"NAT-{self.platform.case_prefix}-", after=self.last_case):
            self.last_case = max(self.last_case, case_id)
            made.append(case_id)
            agent = self.platform.agent_of(person_id)
            if sampled is None:
                continue
            self.platform.case_of.setdefault(agent, case_id)
            out.append((agent, (sampled - start).days))
        self._tag("case_episode", made)
        return sorted(out)

    def _retest(self, positive_barcodes: list[str], day: int) -> None:
        """The members of positive pools still pending: single tubes, sampled this evening."""
        if not positive_barcodes:
            return
        rows = testing.pending_followup_members(self.session, positive_barcodes)
        by_round: dict[int, list[int]] = {}
        for person_id, round_id in rows:
            by_round.setdefault(round_id, []).append(self.platform.agent_of(person_id))
        for round_id, agents in by_round.items():
            people = np.array(sorted(set(agents)), dtype=np.int64)
            tube = np.arange(people.size)
            self._samples(round_id, day, people, tube, np.ones(people.size, dtype=np.int64),
                          hour=19.5)
            self.lab.queue.append(Batch(PRIORITY["retest"], day, people,
                                         ROUTES.index("community_screening"), 1, tube,
                                         (round_id, day, 19.5)))

