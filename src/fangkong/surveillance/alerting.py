"""Alert rules → alerts with their evidence → acknowledge / investigate (a task) / dismiss.

A rule names a series (a sentinel indicator, or case counts from the registry split by how
cases were found), a detector with its parameters (those of the R package surveillance, see
:mod:`fangkong.analytics.detect`) and the jurisdictions it watches; each division code in the
rule is one series (everything inside that code summed). Evaluating a rule over a date range runs
the detector for every division at once and records one alert per alarm (once: re-evaluating
the same range adds nothing). New alerts go to the notifiers (:mod:`.notify`) when the caller's
transaction commits, not before, and not at all if it rolls back.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fangkong.analytics.detect import check_params, detect, lookback
from fangkong.core import audit
from fangkong.core.auth import Actor, Perm, scope, within
from fangkong.core.clock import utc_now
from fangkong.core.errors import Conflict, Invalid, NotFound, Problem
from fangkong.core.messages import CORE
from fangkong.geo import service as geo
from fangkong.surveillance import curves, notify
from fangkong.surveillance.enums import AlertStatus, Period, SeriesKind
from fangkong.surveillance.messages import S
from fangkong.surveillance.models import Alert, AlertEvent, AlertRule, SentinelReport
from fangkong.surveillance.schemas import EvaluationReport, Investigate, RuleCreate
from fangkong.task import service as tasks
from fangkong.task.schemas import TaskCreate

NEXT: dict[AlertStatus, set[AlertStatus]] = {
    AlertStatus.open: {AlertStatus.acknowledged, AlertStatus.investigating,
                       AlertStatus.dismissed},
    AlertStatus.acknowledged: {AlertStatus.investigating, AlertStatus.dismissed},
    AlertStatus.investigating: {AlertStatus.dismissed},
    AlertStatus.dismissed: set(),
}


def create_rule(session: Session, *, actor: Actor, data: RuleCreate) -> AlertRule:
    actor.require(Perm.case_write)
    check_params(data.method.value, data.params)
    problems = []
    if data.series == SeriesKind.sentinel and data.indicator is None:
        problems.append(Problem(S("needs_indicator"), field="indicator"))
    known = geo.exists(session, set(data.division_codes))
    for i, code in enumerate(data.division_codes):
        if code not in known:
            problems.append(Problem(S("unknown_division", code=code),
                                    field=f"division_codes.{i}"))
        elif not actor.covers(code):
            problems.append(Problem(CORE("outside_jurisdiction"),
                                    field=f"division_codes.{i}"))
    if problems:
        raise Invalid(S("rule_invalid"), problems=problems)
    if session.scalar(select(AlertRule.id).where(AlertRule.name == data.name)):
        raise Conflict(S("rule_exists", name=repr(data.name)))
    rule = AlertRule(**data.model_dump(), active=True, created_by=actor.username,
                     created_at=utc_now())
    session.add(rule)
    session.flush()
    audit.record(session, actor, action="create", record_type="alert_rule",
                 record_ids=[rule.id], fields=list(type(data).model_fields))
    return rule


def get_rule(session: Session, *, actor: Actor, rule_id: int) -> AlertRule:
    actor.require(Perm.case_read)
    rule = session.get(AlertRule, rule_id)
    if rule is None or not any(actor.covers(c) for c in rule.division_codes):
        raise NotFound(S("rule_not_found", id=rule_id))
    return rule


def list_rules(session: Session, *, actor: Actor) -> list[AlertRule]:
    actor.require(Perm.case_read)
    rules = session.scalars(select(AlertRule).order_by(AlertRule.id))
    return [r for r in rules if any(actor.covers(c) for c in r.division_codes)]


def _monday(d: date) -> date:
    return d - timedelta(days=d.weekday())


def _periods(period: Period, first: date, end: date) -> list[date]:
    step = 7 if period == Period.weekly else 1
    start = _monday(first) if period == Period.weekly else first
    return [start + timedelta(days=i) for i in range(0, (end - start).days + 1, step)]


def _sentinel_series(session: Session, actor: Actor, rule: AlertRule, divisions: list[str],
                     periods: list[date]) -> NDArray[np.float64]:
    out = np.zeros((len(divisions), len(periods)))
    pos = {d: i for i, d in enumerate(periods)}
    last = periods[-1] + timedelta(days=6 if rule.period == Period.weekly else 0)
    for row_i, division in enumerate(divisions):
        stmt = scope(select(SentinelReport.period, SentinelReport.period_start,
                            func.sum(SentinelReport.value)), actor, SentinelReport.division_code)
        stmt = stmt.where(within(SentinelReport.division_code, division),
                          SentinelReport.indicator == rule.indicator,
                          SentinelReport.period_start >= periods[0],
                          SentinelReport.period_start <= last
                          ).group_by(SentinelReport.period, SentinelReport.period_start)
        for period, start, total in session.execute(stmt):
            key = start if rule.period == Period.daily else _monday(start)
            if period == Period.weekly and rule.period == Period.daily:
                continue  # weekly counts cannot be split into days
            if key in pos:
                out[row_i, pos[key]] += float(total)
    return out


def _case_series(session: Session, actor: Actor, rule: AlertRule, divisions: list[str],
                 periods: list[date]) -> NDArray[np.float64]:
    end = periods[-1] + timedelta(days=6 if rule.period == Period.weekly else 0)
    daily = curves.case_series(session, actor=actor, divisions=divisions, start=periods[0],
                               end=end, basis=rule.date_basis, split=rule.case_split,
                               disease=rule.disease)
    out = np.zeros((len(divisions), len(periods)))
    for i, d in enumerate(divisions):
        if rule.period == Period.daily:
            out[i] = daily[d][: len(periods)]
        else:
            out[i] = daily[d][: 7 * len(periods)].reshape(len(periods), 7).sum(axis=1)
    return out


def evaluate_rule(session: Session, *, actor: Actor, rule_id: int, start: date, end: date,
                  notifiers: list[notify.Notifier] | None = None) -> EvaluationReport:
    """Run the rule's detector over [start, end] for each of its divisions in the actor's
    jurisdiction; record an alert (with evidence) per new alarm and notify."""
    actor.require(Perm.case_write)
    rule = get_rule(session, actor=actor, rule_id=rule_id)
    if end < start:
        raise Invalid(S("end_before_start"))
    divisions = [c for c in rule.division_codes if actor.covers(c)]
    freq = 52 if rule.period == Period.weekly else 365
    step = 7 if rule.period == Period.weekly else 1
    back = lookback(rule.method.value, rule.params, freq)
    first = start - timedelta(days=step * back + (366 if freq == 52 else 0))
    periods = _periods(rule.period, first, end)
    in_range = [i + 1 for i, d in enumerate(periods)
                if (_monday(start) if step == 7 else start) <= d <= end]
    if not in_range:
        raise Invalid(S("no_period"))
    series = (_sentinel_series if rule.series == SeriesKind.sentinel else _case_series)(
        session, actor, rule, divisions, periods)
    det = detect(rule.method.value, series, in_range, rule.params, freq=freq,
                 dates=periods if rule.period == Period.weekly else None)
    existing = {(a.division_code, a.period_start) for a in session.scalars(
        select(Alert).where(Alert.rule_id == rule.id, Alert.period_start >= periods[0]))}
    new: list[Alert] = []
    now = utc_now()
    for s, division in enumerate(divisions):
        for j, t in enumerate(det.t):
            if not det.alarm[s, j]:
                continue
            day = periods[t - 1]
            if (division, day) in existing:
                continue
            window = series[s, max(0, t - 1 - 28):t]
            evidence: dict[str, Any] = {
                "method": rule.method.value, "params": rule.params,
                "series": rule.series.value, "indicator": rule.indicator,
                "period": rule.period.value,
                "recent": {"from": periods[max(0, t - 1 - 28)].isoformat(),
                           "values": [float(v) for v in window]},
            }
            for extra in ("expected", "score", "pvalue"):
                arr = getattr(det, extra, None)
                if arr is not None and np.isfinite(arr[s, j]):
                    evidence[extra] = float(arr[s, j])
            alert = Alert(rule_id=rule.id, division_code=division, period_start=day,
                          observed=float(det.observed[s, j]),
                          upperbound=float(det.upperbound[s, j]), status=AlertStatus.open,
                          evidence=evidence, created_at=now, updated_at=now)
            alert.history.append(AlertEvent(at=now, by=actor.username, from_status=None,
                                            to_status=AlertStatus.open, note="raised"))
            session.add(alert)
            new.append(alert)
    session.flush()
    if new:
        audit.record(session, actor, action="create", record_type="alert",
                     record_ids=[a.id for a in new], detail={"rule_id": rule.id})
        notify.after_commit(session, [notify.AlertMessage(
            alert_id=a.id, rule_name=rule.name, method=rule.method.value,
            division_code=a.division_code, period_start=a.period_start.isoformat(),
            observed=a.observed, upperbound=a.upperbound) for a in new], notifiers)
    return EvaluationReport(rule_id=rule.id, divisions=len(divisions), periods=len(in_range),
                            alarms=int(det.alarm.sum()), new_alerts=len(new))


def get_alert(session: Session, *, actor: Actor, alert_id: int) -> Alert:
    actor.require(Perm.case_read)
    alert = session.scalar(scope(select(Alert).where(Alert.id == alert_id), actor,
                                 Alert.division_code))
    if alert is None:
        raise NotFound(S("alert_not_found", id=alert_id))
    return alert


def list_alerts(session: Session, *, actor: Actor, status: AlertStatus | None = None,
                division: str | None = None, rule_id: int | None = None,
                limit: int = 500) -> list[Alert]:
    actor.require(Perm.case_read)
    stmt = scope(select(Alert), actor, Alert.division_code)
    if status:
        stmt = stmt.where(Alert.status == status)
    if division:
        stmt = stmt.where(within(Alert.division_code, division))
    if rule_id:
        stmt = stmt.where(Alert.rule_id == rule_id)
    return list(session.scalars(stmt.order_by(Alert.id.desc()).limit(limit)))


def _move(session: Session, actor: Actor, alert: Alert, to: AlertStatus, note: str | None
          ) -> Alert:
    if to not in NEXT[alert.status]:
        raise Conflict(S("alert_cannot", id=alert.id, status=alert.status.value, to=to.value))
    now = utc_now()
    alert.history.append(AlertEvent(at=now, by=actor.username, from_status=alert.status,
                                    to_status=to, note=note))
    alert.status, alert.updated_at = to, now
    session.flush()
    audit.record(session, actor, action="update", record_type="alert", record_ids=[alert.id],
                 fields=["status"], detail={"to": to.value})
    return alert


def acknowledge(session: Session, *, actor: Actor, alert_id: int, note: str | None = None
                ) -> Alert:
    actor.require(Perm.case_write)
    return _move(session, actor, get_alert(session, actor=actor, alert_id=alert_id),
                 AlertStatus.acknowledged, note)


def dismiss(session: Session, *, actor: Actor, alert_id: int, note: str | None = None) -> Alert:
    actor.require(Perm.case_write)
    return _move(session, actor, get_alert(session, actor=actor, alert_id=alert_id),
                 AlertStatus.dismissed, note)


def investigate(session: Session, *, actor: Actor, alert_id: int, data: Investigate) -> Alert:
    """Open an investigation: a task (fangkong.task) for the alert's division, linked both
    ways (the task's subject is the alert; the alert keeps the task id)."""
    actor.require(Perm.case_write)
    alert = get_alert(session, actor=actor, alert_id=alert_id)
    if AlertStatus.investigating not in NEXT[alert.status]:
        raise Conflict(S("alert_no_investigation", id=alert.id, status=alert.status.value))
    task = tasks.create(session, actor=actor, data=TaskCreate(
        type="investigate_alert",
        title=data.title or f"核查预警 #{alert.id} {alert.division_code} "
                            f"{alert.period_start.isoformat()}",
        subject_type="alert", subject_id=alert.id, owning_division_code=alert.division_code,
        due_at=data.due_at, note=data.note))
    alert.task_id = task.id
    return _move(session, actor, alert, AlertStatus.investigating,
                 data.note or f"task {task.id}")
