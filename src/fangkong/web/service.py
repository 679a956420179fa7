"""Scoped queries behind the pages and the brief.

Every figure is the count of a :class:`CaseFilter` (or a task filter), and its link opens the list
with the same filter, so the number on the overview and the rows behind it always agree. Every
statement goes through :func:`fangkong.core.auth.scope`; reads of personal data are audited.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from fangkong.case import service as cases
from fangkong.case.enums import Classification, DetectionMode
from fangkong.case.models import Case
from fangkong.core import audit
from fangkong.core.auth import Actor, Perm, scope, within
from fangkong.core.clock import utc_now
from fangkong.core.errors import Invalid, NotFound, Problem
from fangkong.geo.models import Division, DivisionBoundary, Unit
from fangkong.person.models import Person
from fangkong.task.enums import ACTIVE
from fangkong.task.models import Task

INFECTIONS = (Classification.confirmed, Classification.asymptomatic)
UNDER_CONTROL = tuple(m for m in DetectionMode if not m.community)
ACTIVE_WINDOW_DAYS = 14
SHORT_WINDOW_DAYS = 15
"""A case filter reported within fewer days than this is counted from the report-time index."""
PAGE = 50


def day_bounds(day: date, zone: str) -> tuple[datetime, datetime]:
    """The UTC instants at which the local calendar day ``day`` starts and ends."""
    tz = ZoneInfo(zone)
    start = datetime.combine(day, time.min, tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)
    return start, end


def local_today(zone: str) -> date:
    return utc_now().astimezone(ZoneInfo(zone)).date()


@dataclass(frozen=True)
class CaseFilter:
    """The filters of the cases list; also the definition of every case figure."""

    division: str | None = None  # owning division inside this code
    classification: str | None = None  # a Classification value, or "infection"
    found: str | None = None  # "quarantine" | "community"
    mode: str | None = None  # a DetectionMode value
    reported_from: date | None = None  # local dates, inclusive
    reported_to: date | None = None

    @classmethod
    def parse(cls, params: dict[str, str]) -> CaseFilter:
        problems: list[Problem] = []
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = (params.get(f.name) or "").strip()
            if not raw:
                continue
            if f.name in ("reported_from", "reported_to"):
                try:
                    values[f.name] = date.fromisoformat(raw)
                except ValueError:
                    problems.append(Problem(f"not a date (YYYY-MM-DD): {raw}", field=f.name))
            elif f.name == "classification" and raw not in ({*Classification} | {"infection"}):
                problems.append(Problem(f"unknown classification {raw}", field=f.name))
            elif f.name == "found" and raw not in ("quarantine", "community"):
                problems.append(Problem(f"unknown value {raw}", field=f.name))
            elif f.name == "mode" and raw not in set(DetectionMode):
                problems.append(Problem(f"unknown detection mode {raw}", field=f.name))
            elif f.name == "division" and not raw.isdigit():
                problems.append(Problem(f"not a division code: {raw}", field=f.name))
            else:
                values[f.name] = raw
        if problems:
            raise Invalid("the filter is not valid", problems=problems)
        return cls(**values)

    def short_window(self) -> bool:
        """Reported within at most :data:`SHORT_WINDOW_DAYS` days (today, the map's 14)."""
        return (self.reported_from is not None and self.reported_to is not None
                and (self.reported_to - self.reported_from).days < SHORT_WINDOW_DAYS)

    def query(self, **extra: str) -> str:
        items = {f.name: getattr(self, f.name) for f in fields(self)}
        items = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in items.items()
                 if v is not None}
        return urlencode({**items, **extra})

    def href(self) -> str:
        return "/cases?" + self.query()

    def apply(self, stmt: Any, zone: str) -> Any:
        if self.division:
            code: Any = Case.owning_division_code
            if self.short_window():
                # the report-time index serves a few days of cases; SQLite, which has no
                # statistics, otherwise took the division's range (a province's or city's
                # every case, read row by row: 50-80 ms for today's count of 20,000 cases)
                code = code.concat("")
            stmt = stmt.where(within(code, self.division))
        if self.classification == "infection":
            stmt = stmt.where(Case.classification.in_(INFECTIONS))
        elif self.classification:
            stmt = stmt.where(Case.classification == Classification(self.classification))
        if self.found == "quarantine":
            stmt = stmt.where(Case.detection_mode.in_(UNDER_CONTROL))
        elif self.found == "community":
            stmt = stmt.where(Case.detection_mode.not_in(UNDER_CONTROL))
        if self.mode:
            stmt = stmt.where(Case.detection_mode == DetectionMode(self.mode))
        if self.reported_from:
            stmt = stmt.where(Case.reported_at >= day_bounds(self.reported_from, zone)[0])
        if self.reported_to:
            stmt = stmt.where(Case.reported_at < day_bounds(self.reported_to, zone)[1])
        return stmt


def scoped_cases(actor: Actor, stmt: Any) -> Any:
    """``stmt`` narrowed to the cases the actor may read (the case service's rule)."""
    actor.require(Perm.case_read)
    return stmt.where(cases.readable_clause(actor))


def count_cases(session: Session, actor: Actor, flt: CaseFilter, zone: str) -> int:
    stmt = flt.apply(scoped_cases(actor, select(func.count()).select_from(Case)), zone)
    return int(session.scalar(stmt) or 0)


def counts_by(session: Session, actor: Actor, flt: CaseFilter, zone: str, column: Any
              ) -> dict[Any, int]:
    stmt = flt.apply(scoped_cases(actor, select(column, func.count()).select_from(Case)), zone)
    return {k: int(n) for k, n in session.execute(stmt.group_by(column))}


def counts_by_division(session: Session, actor: Actor, flt: CaseFilter, zone: str,
                       code_length: int) -> dict[str, int]:
    """Counts per owning division truncated to ``code_length`` digits (a shorter code, a case
    owned above that level, is kept as it is)."""
    prefix = func.substr(Case.owning_division_code, 1, code_length)
    return {str(k): n for k, n in counts_by(session, actor, flt, zone, prefix).items()}


def daily_counts(session: Session, actor: Actor, flt: CaseFilter, zone: str, first: date,
                 last: date) -> list[tuple[date, int]]:
    """Cases per local report day from ``first`` to ``last`` (inclusive), zeros included.

    One query on both databases: each row falls in the bucket of the first local midnight
    (converted to UTC, so daylight-saving zones stay exact) after its report time."""
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    ends = [day_bounds(d, zone)[1] for d in days]
    start = day_bounds(first, zone)[0]
    bucket = case(*[(Case.reported_at < end, i) for i, end in enumerate(ends)], else_=-1)
    stmt = flt.apply(scoped_cases(actor, select(bucket, func.count()).select_from(Case)), zone)
    stmt = stmt.where(Case.reported_at >= start, Case.reported_at < ends[-1]).group_by(bucket)
    per = {int(i): int(n) for i, n in session.execute(stmt)}
    return [(d, per.get(i, 0)) for i, d in enumerate(days)]


@dataclass
class CaseRow:
    id: int
    ref: str
    name: str
    classification: Classification
    severity: Any
    detection_mode: DetectionMode
    onset_date: date | None
    reported_at: datetime
    owning_division_code: str
    owning_division_name: str


def list_cases(session: Session, actor: Actor, flt: CaseFilter, zone: str, *,
               before_id: int | None = None, limit: int | None = None
               ) -> tuple[list[CaseRow], int | None]:
    """One page of the filtered cases, newest first (keyset on id); audited as a read of the
    cases and of the persons' names shown."""
    limit = limit or PAGE
    stmt = select(Case.id, Case.ref, Person.id, Person.name, Case.classification, Case.severity,
                  Case.detection_mode, Case.onset_date, Case.reported_at,
                  Case.owning_division_code, Division.name
                  ).join(Person, Person.id == Case.person_id
                  ).join(Division, Division.code == Case.owning_division_code)
    stmt = flt.apply(scoped_cases(actor, stmt), zone)
    if before_id is not None:
        stmt = stmt.where(Case.id < before_id)
    rows = session.execute(stmt.order_by(Case.id.desc()).limit(limit + 1)).all()
    nxt = rows[limit - 1][0] if len(rows) > limit else None
    rows = rows[:limit]
    out = [CaseRow(id=r[0], ref=r[1], name=r[3], classification=r[4], severity=r[5],
                   detection_mode=r[6], onset_date=r[7], reported_at=r[8],
                   owning_division_code=r[9], owning_division_name=r[10]) for r in rows]
    if out:
        audit.record(session, actor, action="read", record_type="case",
                     record_ids=[r.id for r in out], fields=["ref", "classification",
                     "severity", "detection_mode", "onset_date", "reported_at",
                     "owning_division_code"], detail={"via": "web:cases"})
        audit.record(session, actor, action="read", record_type="person",
                     record_ids=sorted({r[2] for r in rows}), fields=["name"],
                     detail={"via": "web:cases"})
    return out, nxt


def timeline(case: Case, zone: str) -> list[dict[str, Any]]:
    """A case's events in order: onset and first positive sample (dates), report and each
    classification change (instants). A date sorts before the instants of the same local day."""
    events: list[dict[str, Any]] = []
    if case.onset_date:
        events.append({"at": case.onset_date, "what": "case.onset"})
    if case.first_positive_sample_date:
        events.append({"at": case.first_positive_sample_date, "what": "case.sampling"})
    events.append({"at": case.reported_at, "what": "case.report"})
    events += [{"at": ch.at, "what": "case.change", "change": ch} for ch in case.history[1:]]
    tz = ZoneInfo(zone)

    def key(e: dict[str, Any]) -> tuple[date, int, str]:
        at = e["at"]
        if isinstance(at, datetime):
            local = at.astimezone(tz)
            return (local.date(), 1, local.isoformat())
        return (at, 0, "")

    return sorted(events, key=key)


def person_summary(session: Session, actor: Actor, person_id: int) -> dict[str, Any]:
    """The person behind a case the actor may read: name, sex, birth year (audited)."""
    row = session.execute(select(Person.name, Person.sex, Person.birth_date, Person.ref)
                          .where(Person.id == person_id)).first()
    if row is None:
        raise NotFound(f"person {person_id} not found")
    audit.record(session, actor, action="read", record_type="person", record_ids=[person_id],
                 fields=["name", "sex", "birth_date", "ref"], detail={"via": "web:case"})
    return {"name": row[0], "sex": row[1], "birth_year": row[2].year if row[2] else None,
            "ref": row[3]}


# ------------------------------------------------------------------------------------ map


def child_regions(session: Session, root: str) -> list[tuple[str, str]]:
    """The divisions the map shows for ``root``: its children that have a boundary, or the root
    itself when none has (a county whose towns have no polygons)."""
    stmt = (select(Division.code, Division.name)
            .join(DivisionBoundary, DivisionBoundary.code == Division.code)
            .where(Division.parent_code == root).order_by(Division.code))
    rows = [(c, n) for c, n in session.execute(stmt)]
    if rows:
        return rows
    own = session.execute(select(Division.code, Division.name)
                          .join(DivisionBoundary, DivisionBoundary.code == Division.code)
                          .where(Division.code == root)).first()
    return [(own[0], own[1])] if own else []


def children(session: Session, root: str) -> list[tuple[str, str]]:
    stmt = select(Division.code, Division.name).where(Division.parent_code == root)
    return [(c, n) for c, n in session.execute(stmt.order_by(Division.code))]


def geojson(session: Session, codes: list[str]) -> dict[str, Any]:
    """A FeatureCollection of the divisions' boundaries (name and code as properties)."""
    stmt = (select(Division.code, Division.name, DivisionBoundary.geometry,
                   DivisionBoundary.label_lon, DivisionBoundary.label_lat)
            .join(DivisionBoundary, DivisionBoundary.code == Division.code)
            .where(Division.code.in_(codes)))
    feats = []
    for c, n, g, lon, lat in session.execute(stmt):
        props: dict[str, Any] = {"name": n, "code": c}
        if lon is not None and lat is not None:
            props["cp"] = [lon, lat]  # where ECharts puts the label
        feats.append({"type": "Feature", "id": c, "properties": props, "geometry": g})
    return {"type": "FeatureCollection", "features": feats}


def division_names(session: Session, codes: Iterable[str]) -> dict[str, str]:
    """Names of the given divisions in one query; a code with no division keeps its code."""
    wanted = set(codes)
    if not wanted:
        return {}
    found = {c: n for c, n in session.execute(select(Division.code, Division.name)
                                              .where(Division.code.in_(wanted)))}
    return {c: found.get(c, c) for c in wanted}


def division_name(session: Session, code: str) -> str:
    name = session.scalar(select(Division.name).where(Division.code == code))
    if name is None:
        raise NotFound(f"division {code} not found")
    return name


# ---------------------------------------------------------------------------------- tasks


@dataclass(frozen=True)
class TaskFilter:
    division: str | None = None
    overdue: bool = False
    escalated: bool = False
    unit: int | None = None

    def href(self) -> str:
        items: dict[str, Any] = {"division": self.division, "unit": self.unit,
                                 "overdue": "1" if self.overdue else None,
                                 "escalated": "1" if self.escalated else None}
        return "/tasks?" + urlencode({k: v for k, v in items.items() if v is not None})


def _task_stmt(actor: Actor, flt: TaskFilter, stmt: Any, now: datetime) -> Any:
    actor.require(Perm.task_read)
    stmt = scope(stmt, actor, Task.owning_division_code).where(Task.status.in_(ACTIVE))
    if flt.division:
        stmt = stmt.where(within(Task.owning_division_code, flt.division))
    if flt.overdue:
        stmt = stmt.where(Task.due_at < now)
    if flt.escalated:
        stmt = stmt.where(Task.escalation_level > 0)
    if flt.unit is not None:
        stmt = stmt.where(Task.unit_id == flt.unit)
    return stmt


def count_tasks(session: Session, actor: Actor, flt: TaskFilter, now: datetime) -> int:
    stmt = _task_stmt(actor, flt, select(func.count()).select_from(Task), now)
    return int(session.scalar(stmt) or 0)


def list_tasks(session: Session, actor: Actor, flt: TaskFilter, now: datetime,
               limit: int = 200) -> list[dict[str, Any]]:
    """Active tasks, overdue first (earliest due first), then the rest by due time."""
    stmt = _task_stmt(actor, flt, select(Task, Unit.name, Division.name), now)
    stmt = (stmt.outerjoin(Unit, Unit.id == Task.unit_id)
            .join(Division, Division.code == Task.owning_division_code)
            .order_by(case((Task.due_at < now, 0), else_=1), Task.due_at, Task.id).limit(limit))
    rows = [{"task": t, "unit_name": u, "division_name": d} for t, u, d in session.execute(stmt)]
    up = {r["task"].escalated_to_code for r in rows} - {None}
    names = dict(session.execute(select(Division.code, Division.name)
                                 .where(Division.code.in_(up))).all()) if up else {}
    for r in rows:
        r["escalated_to_name"] = names.get(r["task"].escalated_to_code)
    return rows


def overdue_by_unit(session: Session, actor: Actor, now: datetime,
                    division: str | None = None) -> list[dict[str, Any]]:
    """Overdue and escalated counts per (owning division, unit), the most overdue first
    (inside ``division`` if given)."""
    flt = TaskFilter(overdue=True, division=division)
    # counted per (division, unit) from the tasks' index first, then the few groups named
    n = func.count().label("n")
    per = _task_stmt(actor, flt, select(
        Task.owning_division_code.label("code"), Task.unit_id.label("unit"), n,
        func.count().filter(Task.escalation_level > 0).label("e")), now
                     ).group_by(Task.owning_division_code, Task.unit_id).subquery()
    stmt = (select(per.c.code, Division.name, per.c.unit, Unit.name, per.c.n, per.c.e)
            .join(Division, Division.code == per.c.code)
            .outerjoin(Unit, Unit.id == per.c.unit)
            .order_by(per.c.n.desc(), per.c.code))
    return [{"division": d, "division_name": dn, "unit_id": u, "unit_name": un, "overdue": n,
             "escalated": e} for d, dn, u, un, n, e in session.execute(stmt)]


@dataclass
class Jurisdiction:
    code: str
    name: str
    choices: list[tuple[str, str]] = field(default_factory=list)


def jurisdiction_of(session: Session, actor: Actor, wanted: str | None) -> Jurisdiction:
    """The division the pages are about: ``wanted`` if the actor covers it, else the actor's
    first grant (the whole country's actors start at their first province with data)."""
    grants = [g for g in actor.grants if g != "CN"]
    if actor.national:
        grants += [c for c, _ in children_of_country(session)]
    if wanted:
        if not wanted.isdigit() or not actor.covers(wanted):
            raise NotFound(f"division {wanted} is not in your jurisdiction")
        code = wanted
    elif grants:
        code = grants[0]
    else:
        raise NotFound("you have no jurisdiction")
    names = dict(session.execute(select(Division.code, Division.name)
                                 .where(Division.code.in_([*grants, code]))).all())
    if code not in names:
        raise NotFound(f"division {code} not found")
    return Jurisdiction(code=code, name=names[code],
                        choices=[(g, names.get(g, g)) for g in grants])


def children_of_country(session: Session) -> list[tuple[str, str]]:
    stmt = select(Division.code, Division.name).where(Division.parent_code.is_(None))
    return [(c, n) for c, n in session.execute(stmt.order_by(Division.code))]
