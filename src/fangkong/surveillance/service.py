"""Sentinel units (哨点) and their reports: register, report, correct (audited), list.

Sentinel counts are aggregate (no personal data) but are scoped to the reader's jurisdiction
like everything else. Reading needs ``case:read``; reporting and correcting ``case:write``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.core import audit
from fangkong.core.auth import Actor, Perm, scope, within
from fangkong.core.clock import utc_now
from fangkong.core.errors import Conflict, Invalid, NotFound, Problem
from fangkong.core.messages import CORE
from fangkong.geo import service as geo
from fangkong.surveillance.enums import Indicator, Period
from fangkong.surveillance.messages import S
from fangkong.surveillance.models import SentinelReport, SentinelRevision, SentinelUnit
from fangkong.surveillance.schemas import ReportIn, SentinelCreate


def create_sentinel(session: Session, *, actor: Actor, data: SentinelCreate) -> SentinelUnit:
    actor.require(Perm.case_write)
    problems = []
    if not geo.exists(session, {data.division_code}):
        problems.append(Problem(S("unknown_division", code=data.division_code),
                                field="division_code"))
    elif not actor.covers(data.division_code):
        problems.append(Problem(CORE("outside_jurisdiction"), field="division_code"))
    if problems:
        raise Invalid(S("sentinel_invalid"), problems=problems)
    if session.scalar(select(SentinelUnit.id).where(SentinelUnit.code == data.code)):
        raise Conflict(S("sentinel_exists", code=data.code),
                       problems=[Problem(CORE("already_exists"), field="code")])
    unit = SentinelUnit(**data.model_dump(), active=True, created_at=utc_now())
    session.add(unit)
    session.flush()
    audit.record(session, actor, action="create", record_type="sentinel_unit",
                 record_ids=[unit.id], fields=list(type(data).model_fields))
    return unit


def list_sentinels(session: Session, *, actor: Actor, division: str | None = None
                   ) -> list[SentinelUnit]:
    actor.require(Perm.case_read)
    stmt = scope(select(SentinelUnit), actor, SentinelUnit.division_code)
    if division:
        stmt = stmt.where(within(SentinelUnit.division_code, division))
    return list(session.scalars(stmt.order_by(SentinelUnit.code)))


def units_by_code(session: Session, *, actor: Actor, codes: set[str]) -> dict[str, SentinelUnit]:
    """The active sentinels among ``codes`` that lie in the actor's jurisdiction."""
    found: dict[str, SentinelUnit] = {}
    ordered = sorted(codes)
    for start in range(0, len(ordered), 900):
        stmt = scope(select(SentinelUnit).where(SentinelUnit.code.in_(ordered[start:start + 900])),
                     actor, SentinelUnit.division_code)
        found.update({u.code: u for u in session.scalars(stmt) if u.active})
    return found


def check_report(values: dict[str, Any]) -> list[Problem]:
    """Checks that need no database: a weekly report starts on a Monday, not in the future."""
    problems = []
    start: date = values["period_start"]
    if values["period"] == Period.weekly and start.isoweekday() != 1:
        problems.append(Problem(S("monday"),
                                field="period_start"))
    if start > utc_now().date():
        problems.append(Problem(S("start_future"), field="period_start"))
    return problems


def existing_reports(session: Session, keys: set[tuple[int, Indicator, Period, date]]
                     ) -> dict[tuple[int, Indicator, Period, date], SentinelReport]:
    found: dict[tuple[int, Indicator, Period, date], SentinelReport] = {}
    by_unit: dict[int, list[date]] = {}
    for unit_id, _i, _p, d in keys:
        by_unit.setdefault(unit_id, []).append(d)
    for unit_id, dates in by_unit.items():
        stmt = select(SentinelReport).where(SentinelReport.unit_id == unit_id,
                                            SentinelReport.period_start >= min(dates),
                                            SentinelReport.period_start <= max(dates))
        for r in session.scalars(stmt):
            found[(r.unit_id, r.indicator, r.period, r.period_start)] = r
    return found


def write_report(session: Session, *, actor: Actor, unit: SentinelUnit, values: dict[str, Any],
                 existing: SentinelReport | None) -> tuple[SentinelReport, str]:
    """Insert, correct (replace the value, keep the old one, audit) or leave unchanged."""
    now = utc_now()
    if existing is None:
        report = SentinelReport(unit_id=unit.id, division_code=unit.division_code,
                                indicator=values["indicator"], period=values["period"],
                                period_start=values["period_start"], value=values["value"],
                                version=1, reported_at=now, updated_at=now)
        session.add(report)
        return report, "inserted"
    if existing.value == values["value"]:
        return existing, "unchanged"
    existing.revisions.append(SentinelRevision(
        old_value=existing.value, new_value=values["value"], at=now, by=actor.username,
        reason=values.get("reason")))
    old = existing.value
    existing.value, existing.updated_at = values["value"], now
    existing.version += 1
    session.flush()
    audit.record(session, actor, action="update", record_type="sentinel_report",
                 record_ids=[existing.id], fields=["value"],
                 detail={"old": old, "new": values["value"], "version": existing.version},
                 note=values.get("reason"))
    return existing, "corrected"


def submit_report(session: Session, *, actor: Actor, data: ReportIn
                  ) -> tuple[SentinelReport, str]:
    actor.require(Perm.case_write)
    values = data.model_dump()
    unit = units_by_code(session, actor=actor, codes={data.unit_code}).get(data.unit_code)
    problems = check_report(values)
    if unit is None:
        problems.append(Problem(S("no_sentinel", code=data.unit_code),
                                field="unit_code"))
    if problems:
        raise Invalid(S("report_invalid"), problems=problems)
    assert unit is not None
    key = (unit.id, data.indicator, data.period, data.period_start)
    report, status = write_report(session, actor=actor, unit=unit, values=values,
                                  existing=existing_reports(session, {key}).get(key))
    session.flush()
    if status == "inserted":
        audit.record(session, actor, action="create", record_type="sentinel_report",
                     record_ids=[report.id], fields=["value"])
    return report, status


def get_report(session: Session, *, actor: Actor, report_id: int) -> SentinelReport:
    actor.require(Perm.case_read)
    report = session.scalar(scope(select(SentinelReport).where(SentinelReport.id == report_id),
                                  actor, SentinelReport.division_code))
    if report is None:
        raise NotFound(S("report_not_found", id=report_id))
    return report


def list_reports(session: Session, *, actor: Actor, division: str | None = None,
                 indicator: Indicator | None = None, date_from: date | None = None,
                 date_to: date | None = None, limit: int = 1000) -> list[SentinelReport]:
    actor.require(Perm.case_read)
    stmt = scope(select(SentinelReport), actor, SentinelReport.division_code)
    if division:
        stmt = stmt.where(within(SentinelReport.division_code, division))
    if indicator:
        stmt = stmt.where(SentinelReport.indicator == indicator)
    if date_from:
        stmt = stmt.where(SentinelReport.period_start >= date_from)
    if date_to:
        stmt = stmt.where(SentinelReport.period_start <= date_to)
    stmt = stmt.order_by(SentinelReport.period_start, SentinelReport.id).limit(limit)
    return list(session.scalars(stmt))
