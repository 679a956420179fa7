"""Where a person is registered as staying (暂住 / 在地登记), besides where they live.

A stay is a division the person stays in from ``since`` until ``until`` (open-ended when
unknown). A mass-testing round's target population is the residents of its area plus the
people staying there during the round (:func:`staying_in`).

Stays come one by one (:func:`add`) or in bulk (:func:`import_file`, CSV or XLSX
``person_ref,division_code,since[,until]``): every line checked, the file written whole or not
at all, and importing it again changes nothing (a stay is known by person, division and
``since``; a new ``until`` for it is an update).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import ForeignKey, Index, Select, String, UniqueConstraint, and_, func, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from fangkong.config import get_settings
from fangkong.core import audit
from fangkong.core.auth import Actor, Perm, within
from fangkong.core.clock import parse_datetime, utc_now
from fangkong.core.db import Base, BigId, UTCDateTime
from fangkong.core.division import DivisionCode
from fangkong.core.errors import NotFound, Problem
from fangkong.core.tabular import Collector, open_table
from fangkong.geo import service as geo
from fangkong.person.models import Person

COLUMNS = ["person_ref", "division_code", "since", "until"]
REQUIRED = ["person_ref", "division_code", "since"]


class PersonStay(Base):
    """A person registered as staying in a division from ``since`` (until ``until``)."""

    __tablename__ = "person_stay"
    __table_args__ = (
        UniqueConstraint("person_id", "division_code", "since",
                         name="uq_person_stay_person_id"),
        # who stays in an area (a code range) at a time
        Index("ix_person_stay_division_code_since", "division_code", "since"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    division_code: Mapped[str] = mapped_column(ForeignKey("division.code"))
    since: Mapped[datetime] = mapped_column(UTCDateTime)
    until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class StayIn(BaseModel):
    person_ref: str = Field(min_length=1, max_length=64)
    division_code: DivisionCode
    since: datetime
    until: datetime | None = None


class StayRead(BaseModel):
    person_ref: str
    division_code: str
    since: datetime
    until: datetime | None


class StayImportReport(BaseModel):
    file: str
    rows: int
    inserted: int
    updated: int
    unchanged: int


def staying_in(area: list[str], start: datetime, end: datetime) -> Select[Any]:
    """``(person_id, division_code)``: one row per person staying inside the area codes at
    some time between ``start`` and ``end`` (their latest stay there when several)."""
    s = PersonStay.__table__
    during = and_(or_(*[within(s.c.division_code, c) for c in area]), s.c.since <= end,
                  or_(s.c.until.is_(None), s.c.until >= start))
    latest = (select(s.c.person_id, func.max(s.c.since).label("since")).where(during)
              .group_by(s.c.person_id).subquery())
    return (select(s.c.person_id, func.min(s.c.division_code).label("division_code"))
            .join(latest, and_(latest.c.person_id == s.c.person_id,
                               latest.c.since == s.c.since))
            .where(during).group_by(s.c.person_id))


def add(session: Session, *, actor: Actor, data: StayIn) -> StayImportReport:
    """One stay (the same checks as a line of a file)."""
    return _write(session, actor, "api", [(1, data.person_ref, data.division_code,
                                           data.since, data.until)], Collector("api", 50))


def list_for(session: Session, *, actor: Actor, person_ref: str) -> list[StayRead]:
    """A person's stays inside the actor's jurisdiction, latest first."""
    actor.require(Perm.person_read)
    person_id = session.scalar(select(Person.id).where(Person.ref == person_ref))
    if person_id is None:
        raise NotFound(f"person {person_ref} not found")
    rows = session.execute(select(PersonStay).where(PersonStay.person_id == person_id)
                           .order_by(PersonStay.since.desc())).scalars()
    return [StayRead(person_ref=person_ref, division_code=s.division_code, since=s.since,
                     until=s.until) for s in rows if actor.covers(s.division_code)]


def import_file(session: Session, *, actor: Actor, source: Path | bytes,
                filename: str | None = None, encoding: str | None = None) -> StayImportReport:
    """Stays ``person_ref,division_code,since[,until]`` (CSV or XLSX)."""
    actor.require(Perm.person_write)
    settings = get_settings()
    table = open_table(source, expected=COLUMNS, required=REQUIRED,
                       max_bytes=settings.import_max_bytes, filename=filename,
                       encoding=encoding)
    collector = Collector(table.filename, settings.import_max_errors)
    lines: list[tuple[int, str, str, datetime, datetime | None]] = []
    for line, raw in collector.rows(table):
        problems: list[Problem] = []
        ref = str(raw.get("person_ref") or "").strip()
        code = str(raw.get("division_code") or "").strip()
        if not ref:
            problems.append(Problem("is required", field="person_ref"))
        if not code:
            problems.append(Problem("is required", field="division_code"))
        stamps: dict[str, datetime | None] = {"since": None, "until": None}
        for key in ("since", "until"):
            if raw.get(key):
                try:
                    stamps[key] = parse_datetime(raw[key], settings.timezone)
                except ValueError as exc:
                    problems.append(Problem(str(exc), field=key))
            elif key == "since":
                problems.append(Problem("is required", field=key))
        if problems:
            collector.add(line, problems)
            continue
        since = stamps["since"]
        assert since is not None
        lines.append((line, ref, code, since, stamps["until"]))
    collector.check()
    return _write(session, actor, table.filename, lines, collector,
                  sha256=table.sha256)


def _write(session: Session, actor: Actor, name: str,
           lines: list[tuple[int, str, str, datetime, datetime | None]],
           collector: Collector, sha256: str = "") -> StayImportReport:
    actor.require(Perm.person_write)
    refs = sorted({ref for _, ref, _, _, _ in lines})
    ids: dict[str, int] = {}
    for start in range(0, len(refs), 900):
        ids.update({ref: i for ref, i in session.execute(select(Person.ref, Person.id).where(
            Person.ref.in_(refs[start:start + 900])))})
    known = geo.exists(session, {code for _, _, code, _, _ in lines})
    first: dict[tuple[str, str, datetime], int] = {}
    for line, ref, code, since, until in lines:
        problems = []
        if ref not in ids:
            problems.append(Problem(f"no person with ref {ref}", field="person_ref"))
        if code not in known:
            problems.append(Problem(f"unknown division code {code}", field="division_code"))
        elif not actor.covers(code):
            problems.append(Problem(f"division {code} is outside your jurisdiction",
                                    field="division_code"))
        if until is not None and until < since:
            problems.append(Problem("is before since", field="until"))
        seen = first.setdefault((ref, code, since), line)
        if seen != line:
            problems.append(Problem(f"same person, division and since as line {seen}",
                                    field="since"))
        if problems:
            collector.add(line, problems)
    collector.check()
    now = utc_now()
    inserted = updated = 0
    with session.begin_nested():
        for start in range(0, len(lines), 900):
            chunk = lines[start:start + 900]
            existing = {(s.person_id, s.division_code, s.since): s for s in session.scalars(
                select(PersonStay).where(PersonStay.person_id.in_(
                    {ids[ref] for _, ref, _, _, _ in chunk})))}
            for _, ref, code, since, until in chunk:
                stay = existing.get((ids[ref], code, since))
                if stay is None:
                    session.add(PersonStay(person_id=ids[ref], division_code=code, since=since,
                                           until=until, created_by=actor.username,
                                           updated_at=now))
                    inserted += 1
                elif stay.until != until:
                    stay.until, stay.updated_at = until, now
                    updated += 1
        session.flush()
    audit.record(session, actor, action="import", record_type="person_stay",
                 fields=COLUMNS, detail={"file": name, "sha256": sha256, "rows": len(lines),
                                         "inserted": inserted, "updated": updated})
    return StayImportReport(file=name, rows=len(lines), inserted=inserted, updated=updated,
                            unchanged=len(lines) - inserted - updated)

