"""The drill's writes into the platform, through its real importers and services.

Persons enter the platform when the response touches them (a case or a contact), the way a
command's registry fills during an outbreak; cases are reported with how they were found
(detection mode); each case gets a 流调 (investigation) task. Every synthetic record is marked
synthetic. Re-running the same drill changes nothing (the importers are idempotent and tasks are
created once per case).
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy.orm import Session

from fangkong.case import importer as case_importer
from fangkong.case import service as case_service
from fangkong.case.enums import Basis, Classification, Severity
from fangkong.case.records import FIELDS as CASE_FIELDS
from fangkong.case.schemas import Reclassify
from fangkong.core import clock
from fangkong.core.auth import Actor
from fangkong.core.config import get_settings
from fangkong.demo.synthetic import GIVEN, SURNAMES
from fangkong.drill import runs as drill_runs
from fangkong.drill.names import name
from fangkong.person import importer as person_importer
from fangkong.person import service as persons
from fangkong.person.records import FIELDS as PERSON_FIELDS
from fangkong.person.records import id_lookup_hash
from fangkong.person.validation import check_digit
from fangkong.policy.service import PackPin
from fangkong.sim.city import City
from fangkong.task import service as tasks
from fangkong.task.enums import TaskStatus
from fangkong.task.schemas import TaskCreate, TaskUpdate
from fangkong.testing import service as testing


@contextmanager
def sim_clock(at: datetime) -> Iterator[None]:
    """The platform's clock at a moment of the simulated day."""
    clock.set_clock(lambda: at.astimezone(UTC))
    try:
        yield
    finally:
        clock.set_clock(None)


ID_CODES = 365 * 500  # (day of the birth year, sequence of one sex) codes per block


@dataclass
class NewCase:
    agent: int
    classification: str
    onset: date | None
    sample: date
    reported_at: datetime
    detection_mode: str


class Platform:
    def __init__(self, session: Session, actor: Actor, city: City, *, run_key: str,
                 investigation_hours: int, pack: PackPin, strategy: str = "",
                 days: int = 0) -> None:
        self.session, self.actor, self.city = session, actor, city
        self.pack = pack  # the drill's: its cases are traced under it, whatever is active
        self.prefix = f"DR{city.code}N{city.n}S{city.seed}A"
        # Each run of a drill is a drill of its own (its cases, rounds, zones, sites): the
        # n-th run of the same strategy in this database is numbered n.
        key = "DC" + hashlib.sha256(run_key.encode()).hexdigest()[:8] + "R"
        # The codes of a run's lab are unique: a number an untagged (older) run used is skipped.
        labs = [c.removesuffix("LAB") for c in testing.lab_codes(session, key)]
        self.run_number = drill_runs.number(session, key, taken=labs)
        self.case_prefix = f"{key}{self.run_number}"
        self.run = drill_runs.start(session, actor, key=self.case_prefix, strategy=strategy,
                                    pack=pack.id, city=city.code, agents=city.n,
                                    seed=city.seed, days=days)
        self.run_id = self.run.id
        self.registered = np.zeros(city.n, dtype=bool)
        self.investigation = timedelta(hours=investigation_hours)
        self.persons_written = self.cases_written = self.tasks_written = 0
        self.tasks_done = self.reclassified = 0
        self.case_of: dict[int, int] = {}  # agent -> case id
        self._given_names: tuple[np.ndarray, np.ndarray] | None = None
        self.task_of: dict[int, int] = {}  # agent -> open 流调 task id
        # This run's tasks are those made after it started (the database may hold others).
        self.first_task_id = tasks.last_id(session)
        self.zone = ZoneInfo(get_settings().timezone)
        # Where this city's ID numbers start in each (county, birth year, sex) block: cities of
        # other drills in the same database use other ranges (clashes are resolved below).
        self.id_offset = int(hashlib.sha256(self.prefix.encode()).hexdigest()[:8], 16) % ID_CODES

    def load_person_ids(self) -> None:
        """Every registered agent's person id (after :meth:`register` of the whole city)."""
        self.person_id = np.zeros(self.city.n, dtype=np.int64)
        cut = len(self.prefix)
        for ref, pid, _ in persons.refs_with_prefix(self.session, self.prefix):
            tail = ref[cut:]
            if tail.isdigit():
                self.person_id[int(tail)] = pid
        order = np.argsort(self.person_id)
        self._by_person = (self.person_id[order], order)

    def agent_of(self, person_id: int) -> int:
        ids, order = self._by_person
        i = int(np.searchsorted(ids, person_id))
        if i >= ids.size or ids[i] != person_id:
            raise KeyError(f"person {person_id} is no agent of this drill")
        return int(order[i])

    def person_ref(self, agent: int) -> str:
        return f"{self.prefix}{agent:07d}"

    def register(self, agents: np.ndarray, reference: date) -> None:
        """Import the persons not yet registered (one atomic, idempotent batch)."""
        agents = np.unique(agents)
        agents = agents[~self.registered[agents]]
        if agents.size == 0:
            return
        rows = [self._person(int(a), reference) for a in agents]
        self._free_ids(rows, reference)
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=list(PERSON_FIELDS))
        writer.writeheader()
        writer.writerows(rows)
        report = person_importer.import_file(self.session, actor=self.actor,
                                             source=buf.getvalue().encode(),
                                             filename="drill-persons.csv")
        self.registered[agents] = True
        self.persons_written += report.inserted
        drill_runs.tag(self.session, self.run_id, "person", persons.ids_by_ref(
            self.session, actor=self.actor, refs={r["ref"] for r in rows}).values())

    def _free_ids(self, rows: list[dict[str, str]], reference: date) -> None:
        """Give each row an ID number no other person holds (another drill's city in the same
        database may have drawn it); deterministic, so a re-run gives the same numbers."""
        for attempt in range(1, 100):
            first: dict[bytes, dict[str, str]] = {}
            clash = []
            for r in rows:
                h = id_lookup_hash(persons.cipher(), "resident_id", r["id_number"])
                if h in first:
                    clash.append(r)
                else:
                    first[h] = r
            for held, ref in persons.refs_by_id_hash(self.session, list(first)):
                if first[held]["ref"] != ref:
                    clash.append(first[held])
            if not clash:
                return
            for r in clash:
                agent = int(r["ref"][len(self.prefix):])
                r["birth_date"], r["id_number"] = self._id(agent, reference, attempt)

    def _id(self, a: int, reference: date, bump: int = 0) -> tuple[str, str]:
        c = self.city
        female = bool(c.female[a])
        age = int(c.age[a])
        code = (int(c.id_rank[a]) + self.id_offset + bump * 7919) % ID_CODES
        # Counted back from the age's last birthday: each age has its own 365 days.
        born = date(reference.year - age, reference.month, min(reference.day, 28)) - timedelta(
            days=code % 365)
        seq = (code // 365) * 2 + (0 if female else 1)
        first17 = f"{c.district_codes[int(c.district[a])]}{born:%Y%m%d}{seq:03d}"
        return born.isoformat(), first17 + check_digit(first17)

    def _given(self, a: int) -> str:
        """The given name of agent ``a`` (one or two characters, drawn once per city)."""
        if self._given_names is None:
            rng = np.random.default_rng([self.city.seed, 11])
            n = self.city.n
            self._given_names = (rng.integers(1, 3, size=n),
                                 rng.integers(0, len(GIVEN), size=(2, n)))
        count, chars = self._given_names
        return "".join(GIVEN[int(chars[k, a])] for k in range(int(count[a])))

    def _person(self, a: int, reference: date) -> dict[str, str]:
        c = self.city
        female = bool(c.female[a])
        born, id_number = self._id(a, reference)
        return {
            "ref": self.person_ref(a),
            "name": SURNAMES[int(c.household[a]) % len(SURNAMES)] + self._given(a),
            "sex": "female" if female else "male",
            "birth_date": born,
            "id_type": "resident_id",
            "id_number": id_number,
            "phone": f"199{(a * 7919 + c.seed) % 10**8:08d}",
            "address": f"{int(c.household[a]) % 300 + 1}号",
            "division_code": str(c.village_codes[int(c.village[a])]),
            "household_ref": f"{self.prefix}H{int(c.household[a]):07d}",
            "synthetic": "true",
        }

    def report_cases(self, cases: Sequence[NewCase], reference: date) -> None:
        """Cases through the case importer (the case service's checks), then one 流调 task
        per case through the task service."""
        refs = {f"{self.case_prefix}{c.agent:07d}": c for c in cases}
        if not refs:
            return
        # Cases of an earlier run of the same drill are left as they are (re-running the drill
        # changes nothing, and a case reclassified since is not set back by its old line).
        known = set(case_service.ids_by_ref(self.session, refs))
        cases = [c for ref, c in refs.items() if ref not in known
                 and c.agent not in self.case_of]
        self.register(np.array([c.agent for c in refs.values()]), reference)
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=list(CASE_FIELDS))
        writer.writeheader()
        for c in cases:  # only the new ones
            code = str(self.city.village_codes[int(self.city.village[c.agent])])
            writer.writerow({
                "ref": f"{self.case_prefix}{c.agent:07d}",
                "person_ref": self.person_ref(c.agent), "disease": "covid19",
                "classification": c.classification,
                "severity": "mild" if c.classification == "confirmed" else "",
                "onset_date": c.onset.isoformat() if c.onset else "",
                "first_positive_sample_date": c.sample.isoformat(),
                "reported_at": c.reported_at.isoformat(timespec="seconds"),
                "detection_mode": c.detection_mode, "owning_division_code": code[:6],
                "current_division_code": code})
        if cases:
            report = case_importer.import_file(self.session, actor=self.actor,
                                               source=buf.getvalue().encode(),
                                               filename="drill-cases.csv", pack=self.pack)
            self.cases_written += report.inserted
        # Cases the testing service reported itself (positive round tubes) have refs of
        # their own: they are found by id.
        other = {self.case_of[c.agent]: f"{self.case_prefix}{c.agent:07d}"
                 for c in refs.values() if c.agent in self.case_of}
        rows = [(i, ref, code) for ref, (i, code) in case_service.ids_by_ref(
            self.session, refs).items()]
        if other:
            rows += [(i, other[i], code) for i, code in case_service.owning_divisions(
                self.session, other).items()]
        rows = [r for r in rows if r[0] == self.case_of.get(refs[r[1]].agent, r[0])]
        have = {subject: (task_id, status) for task_id, subject, status in tasks.about(
            self.session, subject_type="case", type_="investigate_case",
            subject_ids=[r[0] for r in rows])}
        drill_runs.tag(self.session, self.run_id, "case_episode", [r[0] for r in rows])
        made: list[int] = []
        for case_id, ref, owning in rows:
            agent = refs[ref].agent
            self.case_of[agent] = case_id
            if case_id in have:
                if have[case_id][1].active:
                    self.task_of[agent] = have[case_id][0]
                continue
            task = tasks.create(self.session, actor=self.actor, data=TaskCreate(
                type="investigate_case", **tasks.titled("investigate_case", case=case_id),
                subject_type="case",
                subject_id=case_id, owning_division_code=owning,
                due_at=refs[ref].reported_at + self.investigation))
            self.task_of[agent] = task.id
            self.tasks_written += 1
            made.append(task.id)
        drill_runs.tag(self.session, self.run_id, "task", made)

    def investigated(self, agents: np.ndarray, at: datetime) -> None:
        """The cases' 流调 is done (the responder traced them, at ``at`` of the simulated
        day): close their tasks."""
        with sim_clock(at):
            for a in agents:
                task_id = self.task_of.pop(int(a), None)
                if task_id is not None:
                    tasks.update(self.session, actor=self.actor, task_id=task_id,
                                 data=TaskUpdate(status=TaskStatus.done,
                                                 note=name("traced")))
                    self.tasks_done += 1

    def symptoms(self, agents: np.ndarray) -> None:
        """Infections found before symptom onset that now show symptoms: asymptomatic
        infections become confirmed cases (the case service records the step)."""
        for a in agents:
            case_id = self.case_of.get(int(a))
            if case_id is None:
                continue
            case = case_service.get(self.session, actor=self.actor, case_id=case_id,
                                    audit_read=False)
            if case.classification == Classification.asymptomatic:
                case_service.reclassify(self.session, actor=self.actor, case_id=case_id,
                                        data=Reclassify(classification=Classification.confirmed,
                                                        severity=Severity.mild, basis=Basis.rule,
                                                        note=name("symptoms")))
                self.reclassified += 1

    def tasks_due(self, day: date) -> tuple[int, int]:
        """This run's tasks due on ``day`` (every domain's: to investigate, notify, transfer,
        sample), and those of them done by their due time. A task cancelled by its due time
        (its event made it moot: the contact was released, the stay moved) is not counted;
        one still open, or ended after its due time, was late."""
        start = self.at(day, 0)
        return tasks.due_between(self.session, after_id=self.first_task_id, start=start,
                                 end=start + timedelta(days=1))

    def at(self, day: date, hour: int) -> datetime:
        return datetime.combine(day, time(hour), tzinfo=self.zone)
