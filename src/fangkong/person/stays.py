"""Where a person is registered as staying (暂住 / 在地登记), besides where they live.

A stay is a division the person stays in from ``since`` until ``until`` (open-ended when
unknown). A mass-testing round's target population is the residents of its area plus the
people staying there during the round (:func:`staying_in`).

Stays come one by one (:func:`add`) or in bulk (:func:`import_file`, CSV or XLSX
``person_ref,division_code,since[,until]``): every line checked, the file written whole or not
at all, and importing it again changes nothing (a stay is known by person, division and
``since``; a new ``until`` for it is an update). Both take persons the actor may read
(:func:`fangkong.person.service.readable_clause`, their own residents); any other ref is "no
person with ref", exactly as one that does not exist.

A visitor from another jurisdiction is a request (暂住协查, :func:`request`): the stay is kept
as ``requested``, out of every round's target, and the person's home jurisdiction gets a task
to confirm it (:func:`accept`) or not (:func:`decline`). The requesting side is told the same
whether or not the ref or ID number names anyone, and sees the visitor (in its rounds' targets,
its lists of the not yet sampled) only once the home side has accepted.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import (
    ForeignKey,
    Index,
    Select,
    String,
    UniqueConstraint,
    and_,
    exists,
    func,
    or_,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from fangkong.core import audit
from fangkong.core.auth import Actor, Perm, handover, scope_clause, within
from fangkong.core.clock import parse_datetime, utc_now
from fangkong.core.config import get_settings
from fangkong.core.db import Base, BigId, UTCDateTime
from fangkong.core.division import DivisionCode
from fangkong.core.errors import Conflict, Invalid, NotFound, Problem
from fangkong.core.tabular import Collector, open_table
from fangkong.core.validation import reason
from fangkong.geo import service as geo
from fangkong.person import records
from fangkong.person import service as persons
from fangkong.person.enums import IdType
from fangkong.person.messages import PM
from fangkong.person.models import Person
from fangkong.task import service as tasks
from fangkong.task.enums import TaskStatus
from fangkong.task.schemas import TaskCreate, TaskUpdate

COLUMNS = ["person_ref", "division_code", "since", "until"]
REQUIRED = ["person_ref", "division_code", "since"]
ACCEPTED, REQUESTED, DECLINED = "accepted", "requested", "declined"
"""A stay's status: counted (``accepted``), waiting for the person's home jurisdiction to
confirm it (``requested``), or refused by it (``declined``)."""
REQUEST_DUE_HOURS = 24


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
    status: Mapped[str] = mapped_column(String(16), default=ACCEPTED,
                                        server_default=ACCEPTED)
    task_id: Mapped[int | None] = mapped_column(ForeignKey("task.id"))
    """The home jurisdiction's task to confirm a requested stay."""


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


class StayRequestIn(BaseModel):
    """A visitor registered by a district that is not their home: by ref or ID number."""

    person_ref: str | None = Field(None, min_length=1, max_length=64)
    id_number: str | None = Field(None, min_length=1, max_length=64)
    division_code: DivisionCode
    since: datetime
    until: datetime | None = None


class StayRequestReceipt(BaseModel):
    """The same answer whether or not the ref or ID number names anyone."""

    status: str = REQUESTED
    message: str = ("if this person is registered in another jurisdiction, it is asked to "
                    "confirm the stay; the visitor counts here once it has")


class StayRequestRead(BaseModel):
    """A visitor's stay requested by another district, as the person's home sees it."""

    id: int
    person_ref: str
    division_code: str
    since: datetime
    until: datetime | None
    status: str
    requested_by: str
    task_id: int | None


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
                  or_(s.c.until.is_(None), s.c.until >= start), s.c.status == ACCEPTED)
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
    here = and_(PersonStay.status == ACCEPTED, scope_clause(actor, PersonStay.division_code))
    person_id = session.scalar(select(Person.id).where(
        Person.ref == person_ref, or_(persons.readable_clause(actor), exists().where(
            PersonStay.person_id == Person.id, here))))
    if person_id is None:
        raise NotFound(PM("person_ref_not_found", ref=person_ref))
    rows = session.execute(select(PersonStay).where(PersonStay.person_id == person_id, here)
                           .order_by(PersonStay.since.desc())).scalars()
    return [StayRead(person_ref=person_ref, division_code=s.division_code, since=s.since,
                     until=s.until) for s in rows]


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
            problems.append(Problem(PM("required"), field="person_ref"))
        if not code:
            problems.append(Problem(PM("required"), field="division_code"))
        stamps: dict[str, datetime | None] = {"since": None, "until": None}
        for key in ("since", "until"):
            if raw.get(key):
                try:
                    stamps[key] = parse_datetime(raw[key], settings.timezone)
                except ValueError as exc:
                    problems.append(Problem(reason(exc), field=key))
            elif key == "since":
                problems.append(Problem(PM("required"), field=key))
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
    ids = persons.ids_by_ref(session, actor=actor, refs={ref for _, ref, _, _, _ in lines})
    known = geo.exists(session, {code for _, _, code, _, _ in lines})
    first: dict[tuple[str, str, datetime], int] = {}
    for line, ref, code, since, until in lines:
        problems = []
        if ref not in ids:
            problems.append(Problem(PM("no_person_ref", ref=ref), field="person_ref"))
        if code not in known:
            problems.append(Problem(PM("unknown_division", code=code), field="division_code"))
        elif not actor.covers(code):
            problems.append(Problem(PM("outside", code=code),
                                    field="division_code"))
        if until is not None and until < since:
            problems.append(Problem(PM("before_since"), field="until"))
        seen = first.setdefault((ref, code, since), line)
        if seen != line:
            problems.append(Problem(PM("same_stay", line=seen),
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



def _find_anywhere(session: Session, data: StayRequestIn) -> Person | None:
    """The person a request names, in the whole city: never shown to the requester."""
    if data.person_ref:
        return session.scalar(select(Person).where(Person.ref == data.person_ref.strip()))
    assert data.id_number is not None
    c = persons.cipher()
    hashes = [records.id_lookup_hash(c, kind, data.id_number) for kind in IdType]
    return session.scalar(select(Person).where(Person.id_number_hash.in_(hashes)).limit(1))


def request(session: Session, *, actor: Actor, data: StayRequestIn) -> StayRequestReceipt:
    """A visitor staying in the actor's jurisdiction, named by ref or ID number. One of the
    actor's own residents is registered at once (``accepted``); a person of another
    jurisdiction gets a ``requested`` stay and their home jurisdiction a task to confirm it;
    a ref or number that names no one changes nothing. The answer is the same for the last
    two."""
    actor.require(Perm.person_write)
    problems = []
    if (data.person_ref is None) == (data.id_number is None):
        problems.append(Problem(PM("one_of_two"),
                                field="person_ref"))
    code = data.division_code.strip()
    if not geo.exists(session, {code}):
        problems.append(Problem(PM("unknown_division", code=code), field="division_code"))
    elif not actor.covers(code):
        problems.append(Problem(PM("outside", code=code),
                                field="division_code"))
    if data.until is not None and data.until < data.since:
        problems.append(Problem(PM("before_since"), field="until"))
    if problems:
        raise Invalid(PM("stay_invalid"), problems=problems)
    person = _find_anywhere(session, data)
    audit.record(session, actor, action="create", record_type="person_stay_request",
                 fields=["division_code", "since", "until"],
                 detail={"division_code": code, "by": "ref" if data.person_ref else "id_number"})
    if person is None:
        return StayRequestReceipt()
    if actor.covers(person.division_code):
        _write(session, actor, "api", [(1, person.ref, code, data.since, data.until)],
               Collector("api", 50))
        return StayRequestReceipt(status=ACCEPTED, message="registered: the person lives in "
                                                           "your jurisdiction")
    key = (PersonStay.person_id == person.id, PersonStay.division_code == code,
           PersonStay.since == data.since)
    if session.scalar(select(PersonStay.id).where(*key)) is not None:
        return StayRequestReceipt()  # asked (or settled) before: nothing new
    now = utc_now()
    stay = PersonStay(person_id=person.id, division_code=code, since=data.since,
                      until=data.until, created_by=actor.username, updated_at=now,
                      status=REQUESTED)
    session.add(stay)
    session.flush()
    task = tasks.create(session, actor=handover(actor), data=TaskCreate(
        type="stay_request", **tasks.titled("stay_request", ref=person.ref, place=code,
                                            since=data.since.date().isoformat()),
        subject_type="person_stay",
        subject_id=stay.id, owning_division_code=person.division_code,
        due_at=now + timedelta(hours=REQUEST_DUE_HOURS),
        note="confirm (POST /api/v1/stays/requests/{id}/accept) or decline the stay"))
    stay.task_id = task.id
    session.flush()
    return StayRequestReceipt()


def _requests(actor: Actor) -> Select[PersonStay, str]:
    """Stays requested for persons the actor may read (their home side)."""
    return (select(PersonStay, Person.ref).join(Person, Person.id == PersonStay.person_id)
            .where(persons.readable_clause(actor), PersonStay.task_id.is_not(None)))


def list_requests(session: Session, *, actor: Actor,
                  status: str | None = REQUESTED) -> list[StayRequestRead]:
    """Visitor stays other districts asked the actor's jurisdiction to confirm, newest
    first."""
    actor.require(Perm.person_read)
    stmt = _requests(actor)
    if status:
        stmt = stmt.where(PersonStay.status == status)
    rows = session.execute(stmt.order_by(PersonStay.id.desc()).limit(500)).all()
    if rows:
        audit.record(session, actor, action="read", record_type="person_stay",
                     record_ids=[s.id for s, _ in rows], fields=COLUMNS)
    return [StayRequestRead(id=s.id, person_ref=ref, division_code=s.division_code,
                            since=s.since, until=s.until, status=s.status,
                            requested_by=s.created_by, task_id=s.task_id) for s, ref in rows]


def decide(session: Session, *, actor: Actor, stay_id: int, accept: bool) -> StayRequestRead:
    """The home side confirms a requested stay (the visitor then counts where they stay) or
    declines it; either way its task is done."""
    actor.require(Perm.person_write)
    row = session.execute(_requests(actor).where(PersonStay.id == stay_id)).first()
    if row is None:
        raise NotFound(PM("stay_not_found", id=stay_id))
    stay, ref = row
    if stay.status != REQUESTED:
        raise Conflict(PM("stay_already", id=stay_id, status=stay.status))
    stay.status, stay.updated_at = (ACCEPTED if accept else DECLINED), utc_now()
    if stay.task_id is not None:
        tasks.update(session, actor=handover(actor), task_id=stay.task_id,
                     data=TaskUpdate(status=TaskStatus.done, note=f"stay {stay.status}"))
    session.flush()
    audit.record(session, actor, action="update", record_type="person_stay",
                 record_ids=[stay.id], fields=["status"], note=stay.status)
    return StayRequestRead(id=stay.id, person_ref=ref, division_code=stay.division_code,
                           since=stay.since, until=stay.until, status=stay.status,
                           requested_by=stay.created_by, task_id=stay.task_id)
