"""Case figures of the pages and the brief: every figure is the count of a :class:`CaseFilter`
(also the filter of the cases list, so a figure and the rows behind its link always agree),
counted here, inside the case domain, through :func:`fangkong.case.service.readable_clause`.
The web layer and the brief reach cases only through these functions and their typed rows."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, fields
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from fangkong.case.enums import Classification, DetectionMode, Severity
from fangkong.case.messages import C
from fangkong.case.models import Case
from fangkong.case.service import readable_clause
from fangkong.core import audit
from fangkong.core.auth import Actor, Perm, within
from fangkong.core.errors import Invalid, Problem

INFECTIONS = (Classification.confirmed, Classification.asymptomatic)
UNDER_CONTROL = tuple(m for m in DetectionMode if not m.community)
SHORT_WINDOW_DAYS = 15
"""A case filter reported within fewer days than this is counted from the report-time index."""


def day_bounds(day: date, zone: str) -> tuple[datetime, datetime]:
    """The UTC instants at which the local calendar day ``day`` starts and ends."""
    tz = ZoneInfo(zone)
    start = datetime.combine(day, time.min, tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)
    return start, end


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
                    problems.append(Problem(C("not_a_date", raw=raw), field=f.name))
            elif f.name == "classification" and raw not in ({*Classification} | {"infection"}):
                problems.append(Problem(C("unknown_classification", raw=raw), field=f.name))
            elif f.name == "found" and raw not in ("quarantine", "community"):
                problems.append(Problem(C("unknown_value", raw=raw), field=f.name))
            elif f.name == "mode" and raw not in set(DetectionMode):
                problems.append(Problem(C("unknown_mode", raw=raw), field=f.name))
            elif f.name == "division" and not raw.isdigit():
                problems.append(Problem(C("not_division", raw=raw), field=f.name))
            else:
                values[f.name] = raw
        if problems:
            raise Invalid(C("filter_invalid"), problems=problems)
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

    def statement(self, actor: Actor, *columns: Any, zone: str) -> Any:
        """``select(*columns)`` of the cases this filter and the actor's reading rule keep
        (``count(*)`` when no column is given)."""
        actor.require(Perm.case_read)
        stmt = select(*(columns or (func.count(),))).select_from(Case)
        return self.apply(stmt.where(readable_clause(actor)), zone)


def count(session: Session, actor: Actor, flt: CaseFilter, zone: str) -> int:
    return int(session.scalar(flt.statement(actor, zone=zone)) or 0)


def _counts_by(session: Session, actor: Actor, flt: CaseFilter, zone: str, column: Any
               ) -> dict[Any, int]:
    stmt = flt.statement(actor, column, func.count(), zone=zone).group_by(column)
    return {k: int(n) for k, n in session.execute(stmt)}


def counts_by_mode(session: Session, actor: Actor, flt: CaseFilter, zone: str
                   ) -> dict[DetectionMode, int]:
    return _counts_by(session, actor, flt, zone, Case.detection_mode)


def counts_by_division(session: Session, actor: Actor, flt: CaseFilter, zone: str,
                       code_length: int) -> dict[str, int]:
    """Counts per owning division truncated to ``code_length`` digits (a shorter code, a case
    owned above that level, is kept as it is)."""
    prefix = func.substr(Case.owning_division_code, 1, code_length)
    return {str(k): n for k, n in _counts_by(session, actor, flt, zone, prefix).items()}


def daily_counts(session: Session, actor: Actor, flt: CaseFilter, zone: str, first: date,
                 last: date) -> list[tuple[date, int]]:
    """Cases per local report day from ``first`` to ``last`` (inclusive), zeros included."""
    return [(d, n) for d, n, _ in _daily(session, actor, flt, zone, first, last, None)]


def daily_counts_with_mode(session: Session, actor: Actor, flt: CaseFilter, zone: str,
                           first: date, last: date, mode: DetectionMode
                           ) -> list[tuple[date, int, int]]:
    """(day, cases, those of them found by ``mode``) per local report day from ``first`` to
    ``last`` (inclusive), zeros included, in one query."""
    return _daily(session, actor, flt, zone, first, last, mode)


def _daily(session: Session, actor: Actor, flt: CaseFilter, zone: str, first: date, last: date,
           mode: DetectionMode | None) -> list[tuple[date, int, int]]:
    """One query on both databases: each row falls in the bucket of the first local midnight
    (converted to UTC, so daylight-saving zones stay exact) after its report time."""
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    ends = [day_bounds(d, zone)[1] for d in days]
    start = day_bounds(first, zone)[0]
    bucket = case(*[(Case.reported_at < end, i) for i, end in enumerate(ends)], else_=-1)
    of_mode = (func.count().filter(Case.detection_mode == mode) if mode is not None
               else func.count())
    stmt = flt.statement(actor, bucket, func.count(), of_mode, zone=zone)
    stmt = stmt.where(Case.reported_at >= start, Case.reported_at < ends[-1]).group_by(bucket)
    per = {int(i): (int(n), int(m)) for i, n, m in session.execute(stmt)}
    return [(d, *per.get(i, (0, 0))) for i, d in enumerate(days)]


@dataclass
class CaseRow:
    id: int
    ref: str
    person_id: int
    classification: Classification
    severity: Severity | None
    detection_mode: DetectionMode
    onset_date: date | None
    reported_at: datetime
    owning_division_code: str


LISTED = ["ref", "classification", "severity", "detection_mode", "onset_date", "reported_at",
          "owning_division_code"]


SORTS: dict[str, Any] = {"reported": Case.reported_at, "ref": Case.ref,
                         "division": Case.owning_division_code,
                         "classification": Case.classification}
"""The orders the cases list offers (``sort=``), each with ``dir=asc|desc``; ties are broken
by the case's id in the same direction, so that every order is total and a page's keyset
(the last row's value and id) continues it exactly."""


@dataclass(frozen=True)
class CaseSort:
    """The cases list's order: ``key`` one of :data:`SORTS`, or None for the newest first
    (by id, descending: the list's order before it could be sorted)."""

    key: str | None = None
    descending: bool = True

    @classmethod
    def parse(cls, params: dict[str, str]) -> CaseSort:
        key = (params.get("sort") or "").strip() or None
        way = (params.get("dir") or "").strip() or None
        problems = []
        if key is not None and key not in SORTS:
            problems.append(Problem(C("unknown_value", raw=key), field="sort"))
        if way is not None and way not in ("asc", "desc"):
            problems.append(Problem(C("unknown_value", raw=way), field="dir"))
        if problems:
            raise Invalid(C("filter_invalid"), problems=problems)
        return cls(key=key, descending=way != "asc")

    def params(self) -> dict[str, str]:
        """The query parameters that give this order (none for the default)."""
        if self.key is None:
            return {} if self.descending else {"dir": "asc"}
        return {"sort": self.key, "dir": "desc" if self.descending else "asc"}

    def value(self, row: CaseRow) -> Any:
        return getattr(row, {"reported": "reported_at", "ref": "ref",
                             "division": "owning_division_code",
                             "classification": "classification"}[self.key or ""])

    def cursor(self, row: CaseRow) -> str:
        """The keyset after ``row`` in this order, as an opaque URL-safe token."""
        value: Any = None
        if self.key is not None:
            v = self.value(row)
            value = v.isoformat() if isinstance(v, datetime) else getattr(v, "value", v)
        raw = json.dumps([value, row.id], ensure_ascii=False).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def after(self, stmt: Any, token: str) -> Any:
        """``stmt`` narrowed to the rows after the keyset ``token`` (:meth:`cursor`)."""
        try:
            value, last_id = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
            last_id = int(last_id)
            if self.key == "reported":
                value = datetime.fromisoformat(value)
            elif self.key == "classification":
                value = Classification(value)
            elif self.key is not None and not isinstance(value, str):
                raise ValueError(value)
        except (ValueError, TypeError, json.JSONDecodeError):
            raise Invalid(C("filter_invalid"), problems=[
                Problem(C("unknown_value", raw=token[:40]), field="after")]) from None
        beyond = (lambda c, v: c < v) if self.descending else (lambda c, v: c > v)
        if self.key is None:
            return stmt.where(beyond(Case.id, last_id))
        col = SORTS[self.key]
        return stmt.where(or_(beyond(col, value), and_(col == value, beyond(Case.id, last_id))))

    def order(self) -> list[Any]:
        cols = [SORTS[self.key]] if self.key else []
        return [c.desc() if self.descending else c.asc() for c in [*cols, Case.id]]


def page(session: Session, actor: Actor, flt: CaseFilter, zone: str, *, limit: int,
         before_id: int | None = None, via: str, sort: CaseSort | None = None,
         after: str | None = None) -> tuple[list[CaseRow], str | None]:
    """One page of the filtered cases in the order ``sort`` (default: newest first, by id),
    keyset-paged: ``after`` is the token the previous page gave (``before_id``, the older
    form, the id of the default order's last row); returns the rows and the token of the
    next page, or None. Audited as a read of the fields listed."""
    sort = sort or CaseSort()
    stmt = flt.statement(actor, Case.id, Case.ref, Case.person_id, Case.classification,
                         Case.severity, Case.detection_mode, Case.onset_date, Case.reported_at,
                         Case.owning_division_code, zone=zone)
    if after:
        stmt = sort.after(stmt, after)
    elif before_id is not None and sort == CaseSort():
        stmt = stmt.where(Case.id < before_id)
    rows = [CaseRow(*r) for r in session.execute(stmt.order_by(*sort.order()).limit(limit + 1))]
    nxt = sort.cursor(rows[limit - 1]) if len(rows) > limit else None
    rows = rows[:limit]
    if rows:
        audit.record(session, actor, action="read", record_type="case",
                     record_ids=[r.id for r in rows], fields=LISTED, detail={"via": via})
    return rows, nxt


def timeline(episode: Case, zone: str) -> list[dict[str, Any]]:
    """A case's events in order: onset and first positive sample (dates), report and each
    classification change (instants). A date sorts before the instants of the same local day."""
    events: list[dict[str, Any]] = []
    if episode.onset_date:
        events.append({"at": episode.onset_date, "what": "case.onset"})
    if episode.first_positive_sample_date:
        events.append({"at": episode.first_positive_sample_date, "what": "case.sampling"})
    events.append({"at": episode.reported_at, "what": "case.report"})
    events += [{"at": ch.at, "what": "case.change", "change": ch}
               for ch in episode.history[1:]]
    tz = ZoneInfo(zone)

    def key(e: dict[str, Any]) -> tuple[date, int, str]:
        at = e["at"]
        if isinstance(at, datetime):
            local = at.astimezone(tz)
            return (local.date(), 1, local.isoformat())
        return (at, 0, "")

    return sorted(events, key=key)
