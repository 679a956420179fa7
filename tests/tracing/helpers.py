"""Small check-in stores and cases for the tracing tests."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
from sqlalchemy.orm import Session

from fangkong.case import service as cases
from fangkong.case.enums import Classification, DetectionMode, Severity
from fangkong.case.schemas import CaseCreate
from fangkong.core.auth import Actor
from fangkong.person.models import Person
from fangkong.tracing import store
from fangkong.tracing.models import Exposure

T0 = datetime(2022, 5, 1, tzinfo=UTC)
Stay = tuple[int, int, datetime, datetime]


def at(minutes: float) -> datetime:
    """T0 plus some minutes."""
    return T0 + timedelta(minutes=minutes)


def stays_table(rows: list[Stay]) -> pa.Table:
    ts = pa.timestamp("us", tz="UTC")
    return pa.table({"person_id": pa.array([r[0] for r in rows], pa.int64()),
                     "venue_id": pa.array([r[1] for r in rows], pa.int64()),
                     "t_in": pa.array([r[2] for r in rows], ts),
                     "t_out": pa.array([r[3] for r in rows], ts)})


def make_store(directory: Path, rows: list[Stay], batch: str = "b1") -> Path:
    with store.locked(directory):
        store.append(directory, stays_table(rows), batch=batch)
    return directory


def random_stays(seed: int, n: int = 3000, people: int = 150, venues: int = 12,
                 days: int = 3) -> list[Stay]:
    rnd = random.Random(seed)
    rows = []
    for _ in range(n):
        t_in = at(rnd.randrange(days * 24 * 60) + rnd.random())
        rows.append((rnd.randrange(people), rnd.randrange(venues), t_in,
                     t_in + timedelta(minutes=rnd.choice([1, 5, 10, 30, 90, 400, 1500]))))
    return rows


def reference(rows: list[Stay], cases: list[tuple[int, datetime, datetime]], m: int,
              linger: int) -> set[tuple[int, int, int, datetime, datetime]]:
    """The issue's definition, by brute force."""
    out = set()
    for person, start, end in cases:
        for p, v, t_in, t_out in rows:
            if p != person:
                continue
            cs, ce = max(t_in, start), min(t_out + timedelta(minutes=linger), end)
            if cs >= ce:
                continue
            for q, w, u_in, u_out in rows:
                if q == person or w != v:
                    continue
                os_, oe = max(cs, u_in), min(ce, u_out)
                if oe > os_ and oe - os_ >= timedelta(minutes=m):
                    out.add((person, q, v, os_, oe))
    return out


def confirmed_case(session: Session, actor: Actor, person: Person, ref: str = "TC1") -> int:
    """A mild confirmed case of ``person`` (onset 5 May 2022, reported 7 May), in 赤坎区."""
    return cases.create(session, actor=actor, data=CaseCreate(
        ref=ref, person_ref=person.ref, classification=Classification.confirmed,
        severity=Severity.mild, onset_date="2022-05-05",  # type: ignore[arg-type]
        reported_at=datetime(2022, 5, 7, 2, 0, tzinfo=UTC),
        detection_mode=DetectionMode.fever_clinic, owning_division_code="440802")).id



def a_case_with_contacts(session: Session, actor: Actor, *, prefix: str, seed: int,
                         pack: str | None = None,
                         roles: tuple[str | None, str | None] = (None, None)) -> list[Exposure]:
    """A fresh database's divisions, three persons of 赤坎区, a confirmed case of the first
    (ref ``<prefix>C``) and the others its contacts by exposures added by hand (under
    ``pack``; ``roles``: theirs, close contacts by default): what the migration tests start
    from."""
    from datetime import date

    from sqlalchemy import select

    from fangkong.geo import service as geo
    from fangkong.person import importer as person_importer
    from fangkong.tracing import service
    from fangkong.tracing.enums import Setting
    from fangkong.tracing.schemas import ExposureCreate
    from tests.helpers import csv_bytes, person_rows

    rows = person_rows(3, places=[("440802001001", 1.0)], seed=seed, prefix=prefix)
    geo.load(session, province="44")
    person_importer.import_file(session, actor=actor, source=csv_bytes(rows), filename="p.csv")
    by_ref = {p.ref: p for p in session.scalars(select(Person))}
    people = [by_ref[r["ref"]] for r in rows]
    case_id = confirmed_case(session, actor, people[0], ref=f"{prefix}C")
    return [service.add_exposure(session, actor=actor, data=ExposureCreate(
        source_case_id=case_id, exposed_person_id=p.id, first_exposure=date(2022, 5, 4),
        last_exposure=date(2022, 5, 6), setting=Setting.workplace, role=role), pack=pack)
        for p, role in zip(people[1:], roles, strict=True)]
