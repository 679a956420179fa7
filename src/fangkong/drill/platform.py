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
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.case import importer as case_importer
from fangkong.case.models import Case
from fangkong.case.records import FIELDS as CASE_FIELDS
from fangkong.config import get_settings
from fangkong.core.auth import Actor
from fangkong.demo.synthetic import GIVEN, SURNAMES
from fangkong.person import importer as person_importer
from fangkong.person.records import FIELDS as PERSON_FIELDS
from fangkong.person.validation import check_digit
from fangkong.sim.city import City
from fangkong.task import service as tasks
from fangkong.task.models import Task
from fangkong.task.schemas import TaskCreate


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
                 investigation_hours: int) -> None:
        self.session, self.actor, self.city = session, actor, city
        self.prefix = f"DR{city.code}N{city.n}S{city.seed}A"
        self.case_prefix = "DC" + hashlib.sha256(run_key.encode()).hexdigest()[:8]
        self.registered = np.zeros(city.n, dtype=bool)
        self.investigation = timedelta(hours=investigation_hours)
        self.persons_written = self.cases_written = self.tasks_written = 0
        self.zone = ZoneInfo(get_settings().timezone)

    def person_ref(self, agent: int) -> str:
        return f"{self.prefix}{agent:07d}"

    def register(self, agents: np.ndarray, reference: date) -> None:
        """Import the persons not yet registered (one atomic, idempotent batch)."""
        agents = np.unique(agents)
        agents = agents[~self.registered[agents]]
        if agents.size == 0:
            return
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=list(PERSON_FIELDS))
        writer.writeheader()
        writer.writerows(self._person(int(a), reference) for a in agents)
        report = person_importer.import_file(self.session, actor=self.actor,
                                             source=buf.getvalue().encode(),
                                             filename="drill-persons.csv")
        self.registered[agents] = True
        self.persons_written += report.inserted

    def _person(self, a: int, reference: date) -> dict[str, str]:
        c = self.city
        rng = np.random.default_rng([c.seed, a, 11])
        female = bool(c.female[a])
        age = int(c.age[a])
        rank = int(c.id_rank[a])
        born = date(reference.year - age, 1, 1) + timedelta(days=rank % 365)
        if born > reference:
            born = date(reference.year - age - 1, 12, 31) - timedelta(days=rank % 300)
        seq = (rank // 365) % 500 * 2 + (0 if female else 1)
        first17 = f"{c.district_codes[int(c.district[a])]}{born:%Y%m%d}{seq:03d}"
        given = "".join(GIVEN[int(i)] for i in rng.integers(0, len(GIVEN),
                                                            size=int(rng.integers(1, 3))))
        return {
            "ref": self.person_ref(a),
            "name": SURNAMES[int(c.household[a]) % len(SURNAMES)] + given,
            "sex": "female" if female else "male",
            "birth_date": born.isoformat(),
            "id_type": "resident_id",
            "id_number": first17 + check_digit(first17),
            "phone": f"199{(a * 7919 + c.seed) % 10**8:08d}",
            "address": f"{int(c.household[a]) % 300 + 1}号",
            "division_code": str(c.village_codes[int(c.village[a])]),
            "household_ref": f"{self.prefix}H{int(c.household[a]):07d}",
            "synthetic": "true",
        }

    def report_cases(self, cases: Sequence[NewCase], reference: date) -> None:
        """Cases through the case importer (the case service's checks), then one 流调 task
        per case through the task service."""
        if not cases:
            return
        self.register(np.array([c.agent for c in cases]), reference)
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=list(CASE_FIELDS))
        writer.writeheader()
        for c in cases:
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
        report = case_importer.import_file(self.session, actor=self.actor,
                                           source=buf.getvalue().encode(),
                                           filename="drill-cases.csv")
        self.cases_written += report.inserted
        refs = {f"{self.case_prefix}{c.agent:07d}": c for c in cases}
        rows = self.session.execute(select(Case.id, Case.ref, Case.owning_division_code).where(
            Case.ref.in_(list(refs)))).all()
        have = set(self.session.scalars(select(Task.subject_id).where(
            Task.subject_type == "case", Task.type == "investigate_case",
            Task.subject_id.in_([r.id for r in rows]))))
        for row in rows:
            if row.id in have:
                continue
            tasks.create(self.session, actor=self.actor, data=TaskCreate(
                type="investigate_case", title=f"流调：{row.ref}", subject_type="case",
                subject_id=row.id, owning_division_code=row.owning_division_code,
                due_at=refs[row.ref].reported_at + self.investigation))
            self.tasks_written += 1

    def at(self, day: date, hour: int) -> datetime:
        return datetime.combine(day, time(hour), tzinfo=self.zone)
