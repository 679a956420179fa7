"""Monitoring periods, daily reports and their triage (issue 24, step 1).

A contact whose plan includes home quarantine or home health monitoring gets a period when
their management begins (``contact.under_management``: the one event that starts a plan),
covering the days of those phases, with the questions and thresholds of the contact's pack as
they were then. It ends with the plan (the scheduled check ends it after its last day) or when
the contact is released, becomes a case or is lost to follow-up.

A report is entered once a day, by the person through their personal link (a signed token
that names the period and expires with it) or by a community worker after a visit or a call;
it is never changed. A report with fever (the pack's threshold) or a symptom the pack names
raises a testing task and alerts (a task for the community and one for the county's
epidemiologist). A day without a report by its deadline makes a follow-up task; the last of
``escalate_after_missed`` days missed in a row escalates to the county."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fangkong.core import audit, events, security
from fangkong.core.auth import NATIONAL, Actor, Perm, Role, acting_for, handover, scope, within
from fangkong.core.clock import utc_now
from fangkong.core.config import get_settings
from fangkong.core.errors import (
    AppError,
    Conflict,
    Invalid,
    NotFound,
    Problem,
    Unauthenticated,
)
from fangkong.monitoring.enums import HOME_PHASES, WORKER_CHANNELS, Channel, PeriodStatus
from fangkong.monitoring.messages import SYMPTOMS, M
from fangkong.monitoring.models import MonitoringMiss, MonitoringPeriod, MonitoringReport
from fangkong.monitoring.schemas import (
    CheckReport,
    DueRow,
    LinkForm,
    LinkRead,
    ReportIn,
    WorkerReportIn,
)
from fangkong.policy import service as policy
from fangkong.policy.pack import MonitoringRules
from fangkong.task import service as tasks
from fangkong.task.schemas import TaskCreate

TEMPERATURE_RANGE = (34.0, 43.0)
"""Temperatures (°C) a report may give: outside, the value is a typing error."""
TOKEN_SCOPE = "monitoring"
PERIOD_FIELDS = ["person_id", "division_code", "start", "end", "status"]
REPORT_FIELDS = ["day", "temperature", "symptoms", "tested", "channel"]


# --- days and deadlines ------------------------------------------------------------------------

def _zone() -> ZoneInfo:
    return ZoneInfo(get_settings().timezone)


def local_today(now: datetime | None = None) -> date:
    return (now or utc_now()).astimezone(_zone()).date()


def deadline(day: date, hour: int) -> datetime:
    """The moment (UTC) by which ``day``'s report is due: ``hour`` o'clock local time."""
    return (datetime.combine(day, time(0), tzinfo=_zone()) + timedelta(hours=hour)
            ).astimezone(ZoneInfo("UTC"))


def county_of(code: str) -> str:
    """The county (区县) of a division: its epidemiologists get the alerts and escalations."""
    return code[:6] if len(code) > 6 else code


# --- periods -------------------------------------------------------------------------------------

def _phases(plan: dict[str, Any]) -> list[dict[str, Any]]:
    if not plan.get("managed", True):
        return []
    return [p for p in plan.get("phases") or [] if p.get("kind") in HOME_PHASES]


def start_periods(session: Session, *, actor: Actor, contact_ids: Sequence[int]
                  ) -> list[MonitoringPeriod]:
    """A period for each contact whose plan has home phases and has none yet."""
    from fangkong.tracing import service as tracing

    reader = handover(actor)  # the contact may live outside the writer's jurisdiction
    have = set(session.scalars(select(MonitoringPeriod.contact_id).where(
        MonitoringPeriod.contact_id.in_(list(contact_ids)))).all()) if contact_ids else set()
    now, out = utc_now(), []
    wanted = [cid for cid in contact_ids if cid not in have]
    for contact in tracing.contacts_by_id(session, actor=reader, ids=wanted) if wanted else []:
        home = _phases(contact.plan or {})
        if not home:
            continue
        try:
            rules = policy.pinned(contact.pack, contact.pack_version,
                                  record=f"contact {contact.id}").monitoring
        except AppError:  # the pack changed on disk since: its version as it is now
            rules = MonitoringRules()
        period = MonitoringPeriod(
            person_id=contact.person_id, contact_id=contact.id,
            division_code=contact.division_code, pack_id=contact.pack,
            pack_version=contact.pack_version, rules_version=rules.version,
            phases=" ".join(p["kind"] for p in home),
            start=min(date.fromisoformat(str(p["start"])) for p in home),
            end=max(date.fromisoformat(str(p["end"])) for p in home),
            questions=list(rules.questions), symptoms=list(rules.symptoms),
            alert_symptoms=list(rules.alert_symptoms), fever_c=rules.fever_c,
            deadline_hour=rules.deadline_hour,
            escalate_after_missed=rules.escalate_after_missed,
            rules=rules.model_dump(mode="json"), status=PeriodStatus.active, created_at=now)
        session.add(period)
        out.append(period)
    if out:
        session.flush()
        audit.record(session, reader, action="create", record_type="monitoring_period",
                     record_ids=[p.id for p in out], fields=PERIOD_FIELDS)
    return out


def end_periods(session: Session, *, actor: Actor, contact_ids: Sequence[int],
                reason: str) -> int:
    found = list(session.scalars(select(MonitoringPeriod).where(
        MonitoringPeriod.contact_id.in_(list(contact_ids)),
        MonitoringPeriod.status == PeriodStatus.active))) if contact_ids else []
    now = utc_now()
    for period in found:
        period.status, period.ended_at, period.end_reason = PeriodStatus.ended, now, reason[:100]
    if found:
        session.flush()
        audit.record(session, handover(actor), action="update", record_type="monitoring_period",
                     record_ids=[p.id for p in found], fields=["status"])
    return len(found)


def on_managed(session: Session, event: events.Event) -> None:
    """``contact.under_management``: the contacts' periods begin (those with home phases)."""
    start_periods(session, actor=event.actor, contact_ids=list(event.subject_ids))


def on_ended(session: Session, event: events.Event) -> None:
    """A contact released, become a case or lost: its period ends."""
    end_periods(session, actor=event.actor, contact_ids=list(event.subject_ids),
                reason=event.name)


def _period(session: Session, actor: Actor, period_id: int) -> MonitoringPeriod:
    period = session.get(MonitoringPeriod, period_id)
    if period is None or not actor.covers(period.division_code):
        raise NotFound(M("period_not_found", id=period_id))
    return period


def get_period(session: Session, *, actor: Actor, period_id: int) -> MonitoringPeriod:
    actor.require(Perm.person_read)
    period = _period(session, actor, period_id)
    audit.record(session, actor, action="read", record_type="monitoring_period",
                 record_ids=[period.id], fields=PERIOD_FIELDS)
    return period


def list_periods(session: Session, *, actor: Actor, division: str | None = None,
                 status: PeriodStatus | None = PeriodStatus.active, on: date | None = None,
                 limit: int = 500) -> list[MonitoringPeriod]:
    """The periods in the actor's jurisdiction (and ``division``), newest first."""
    actor.require(Perm.person_read)
    stmt = scope(select(MonitoringPeriod), actor, MonitoringPeriod.division_code)
    if division:
        stmt = stmt.where(within(MonitoringPeriod.division_code, division))
    if status is not None:
        stmt = stmt.where(MonitoringPeriod.status == status)
    if on is not None:
        stmt = stmt.where(MonitoringPeriod.start <= on, MonitoringPeriod.end >= on)
    rows = list(session.scalars(stmt.order_by(MonitoringPeriod.id.desc()).limit(limit)))
    if rows:
        audit.record(session, actor, action="read", record_type="monitoring_period",
                     record_ids=[p.id for p in rows], fields=PERIOD_FIELDS)
    return rows


def reports_of(session: Session, period_id: int) -> list[MonitoringReport]:
    return list(session.scalars(select(MonitoringReport).where(
        MonitoringReport.period_id == period_id).order_by(MonitoringReport.day)))


def missed_of(session: Session, period_id: int) -> list[date]:
    return list(session.scalars(select(MonitoringMiss.day).where(
        MonitoringMiss.period_id == period_id).order_by(MonitoringMiss.day)))


# --- reports -------------------------------------------------------------------------------------

def _check(session: Session, period: MonitoringPeriod, data: ReportIn) -> None:
    if period.status != PeriodStatus.active:
        raise Conflict(M("period_ended"))
    if not period.start <= data.day <= period.end:
        raise Invalid(M("day_outside", day=data.day.isoformat(), start=period.start.isoformat(),
                        end=period.end.isoformat()), problems=[Problem(M(
                            "day_outside", day=data.day.isoformat(),
                            start=period.start.isoformat(), end=period.end.isoformat()),
                            field="day")])
    if data.day > local_today():
        raise Invalid(M("day_future", day=data.day.isoformat()),
                      problems=[Problem(M("day_future", day=data.day.isoformat()), field="day")])
    if data.temperature is None and "temperature" in period.questions:
        raise Invalid(M("temperature_needed"),
                      problems=[Problem(M("temperature_needed"), field="temperature")])
    low, high = TEMPERATURE_RANGE
    if data.temperature is not None and not low <= data.temperature <= high:
        raise Invalid(M("temperature_range"),
                      problems=[Problem(M("temperature_range"), field="temperature")])
    for s in data.symptoms:
        if s not in period.symptoms:
            raise Invalid(M("unknown_symptom", symptom=s, known=", ".join(period.symptoms)),
                          problems=[Problem(M("unknown_symptom", symptom=s,
                                              known=", ".join(period.symptoms)),
                                            field="symptoms")])
    if session.scalar(select(MonitoringReport.id).where(
            MonitoringReport.period_id == period.id, MonitoringReport.day == data.day)):
        raise Conflict(M("already_reported", day=data.day.isoformat()))


def flags(period: MonitoringPeriod, temperature: float | None, symptoms: Sequence[str]
          ) -> tuple[bool, list[str]]:
    """Whether a report has fever (at or above the pack's threshold) and the symptoms it gives
    that the pack names as alerting."""
    fever = temperature is not None and temperature >= period.fever_c
    return fever, [s for s in symptoms if s in period.alert_symptoms]


def _triage(session: Session, actor: Actor, period: MonitoringPeriod,
            report: MonitoringReport) -> list[int]:
    fever, named = flags(period, report.temperature, report.symptoms)
    if not (fever or named):
        return []
    rules = MonitoringRules.model_validate(period.rules)
    why = " ".join(([f"{report.temperature:.1f}°C"] if fever else []) + named)
    now, day = utc_now(), report.day.isoformat()
    pin = {"subject_type": "monitoring_period", "subject_id": period.id}
    specs = [
        TaskCreate(type="monitoring_test", **tasks.titled(
            "monitoring_test", person=period.person_id, day=day),
            owning_division_code=period.division_code,
            due_at=now + timedelta(hours=rules.test_within_hours), **pin),
        TaskCreate(type="monitoring_alert", **tasks.titled(
            "monitoring_alert", person=period.person_id, day=day, why=why),
            owning_division_code=period.division_code,
            due_at=now + timedelta(hours=rules.alert_within_hours), note=why, **pin),
        TaskCreate(type="monitoring_alert", **tasks.titled(
            "monitoring_alert", person=period.person_id, day=day, why=why),
            owning_division_code=county_of(period.division_code),
            due_at=now + timedelta(hours=rules.alert_within_hours), note=why, **pin),
    ]
    writer = acting_for(actor, [period.division_code, county_of(period.division_code)])
    return tasks.create_many(session, actor=writer, data=specs)


def _record(session: Session, actor: Actor, period: MonitoringPeriod, data: ReportIn,
            channel: Channel) -> MonitoringReport:
    _check(session, period, data)
    fever, named = flags(period, data.temperature, data.symptoms)
    report = MonitoringReport(
        period_id=period.id, day=data.day, temperature=data.temperature,
        symptoms=list(dict.fromkeys(data.symptoms)), tested=data.tested, channel=channel,
        entered_by=actor.username, flagged=fever or bool(named), task_ids=[],
        created_at=utc_now())
    try:
        with session.begin_nested():
            session.add(report)
            session.flush()
    except IntegrityError:  # the same day reported at the same moment
        raise Conflict(M("already_reported", day=data.day.isoformat())) from None
    report.task_ids = _triage(session, actor, period, report)
    session.flush()
    audit.record(session, actor, action="create", record_type="monitoring_report",
                 record_ids=[report.id], fields=REPORT_FIELDS)
    events.publish(session, events.Event(
        "monitoring.reported", actor=actor, subject_type="monitoring_period",
        subject_ids=[period.id], reason="monitoring report received"))
    return report


def report_by_worker(session: Session, *, actor: Actor, period_id: int,
                     data: WorkerReportIn) -> MonitoringReport:
    """A community worker's report for a person, after a visit or a call."""
    actor.require(Perm.person_write)
    if data.channel not in WORKER_CHANNELS:
        raise Invalid(M("worker_channel"), problems=[Problem(M("worker_channel"),
                                                             field="channel")])
    period = _period(session, actor, period_id)
    return _record(session, actor, period, data, data.channel)


# --- the personal link ---------------------------------------------------------------------------

def link_expiry(period: MonitoringPeriod) -> datetime:
    """A link works until the end of the period's last day (local time)."""
    return deadline(period.end, 24)


def issue_link(session: Session, *, actor: Actor, period_id: int) -> LinkRead:
    """The person's link: a token signed with the platform's key naming the period, expiring
    with it; no account."""
    actor.require(Perm.person_write)
    period = _period(session, actor, period_id)
    if period.status != PeriodStatus.active:
        raise Conflict(M("period_ended"))
    expires = link_expiry(period)
    token = security.issue_token(
        get_settings(), subject=f"monitoring_period:{period.id}",
        session_id=secrets.token_urlsafe(12), expires_at=expires,
        claims={"scope": TOKEN_SCOPE, "period": period.id})
    audit.record(session, actor, action="create", record_type="monitoring_link",
                 record_ids=[period.id], fields=["token"])
    return LinkRead(token=token, path=f"/api/v1/monitoring/link/{token}", expires_at=expires)


def _link_actor(period: MonitoringPeriod) -> Actor:
    """Who writes what a link's report makes: the platform, named by the period."""
    return Actor(username=f"link:{period.id}", role=Role.administrator, grants=(NATIONAL,),
                 source="link")


def period_of_link(session: Session, token: str) -> MonitoringPeriod:
    try:
        claims = security.read_token(get_settings(), token)
    except Unauthenticated:
        raise Unauthenticated(M("link_invalid")) from None
    period_id = claims.get("period")
    if (claims.get("scope") != TOKEN_SCOPE or not isinstance(period_id, int)
            or claims.get("sub") != f"monitoring_period:{period_id}"):
        raise Unauthenticated(M("link_invalid"))
    period = session.get(MonitoringPeriod, period_id)
    if period is None:
        raise Unauthenticated(M("link_invalid"))
    return period


def link_form(session: Session, *, token: str, lang: str = "en") -> LinkForm:
    period = period_of_link(session, token)
    audit.record(session, _link_actor(period), action="read", record_type="monitoring_period",
                 record_ids=[period.id], fields=["start", "end", "questions"])
    names = {s: SYMPTOMS.get(s, {}).get(lang, s) for s in period.symptoms}
    return LinkForm(start=period.start, end=period.end, today=local_today(),
                    deadline_hour=period.deadline_hour, questions=period.questions,
                    symptoms=[{"id": s, "label": names[s]} for s in period.symptoms],
                    reported_days=[r.day for r in reports_of(session, period.id)])


def report_by_link(session: Session, *, token: str, data: ReportIn) -> MonitoringReport:
    period = period_of_link(session, token)
    return _record(session, _link_actor(period), period, data, Channel.self_link)


# --- who is due, missed days ---------------------------------------------------------------------

def due(session: Session, *, actor: Actor, on: date | None = None,
        division: str | None = None) -> list[DueRow]:
    """The day's reports in the actor's jurisdiction: flagged first, then missing, then
    reported."""
    day = on or local_today()
    periods = list_periods(session, actor=actor, division=division, on=day, limit=100_000)
    ids = [p.id for p in periods]
    got: dict[int, bool] = {}
    for k in range(0, len(ids), 1000):
        for pid, flagged in session.execute(select(
                MonitoringReport.period_id, MonitoringReport.flagged).where(
                MonitoringReport.period_id.in_(ids[k:k + 1000]), MonitoringReport.day == day)):
            got[pid] = flagged
    rows = [DueRow(period_id=p.id, person_id=p.person_id, division_code=p.division_code,
                   day=day, reported=p.id in got, flagged=got.get(p.id, False),
                   deadline=deadline(day, p.deadline_hour)) for p in periods]
    return sorted(rows, key=lambda r: (not r.flagged, r.reported, r.period_id))


def check_missed(session: Session, *, actor: Actor, now: datetime | None = None
                 ) -> CheckReport:
    """Every day of an active period past its deadline with no report gets a follow-up task
    (once); the last of ``escalate_after_missed`` days missed in a row also an escalation to
    the county. A period whose last day is checked ends (its plan has)."""
    actor.require(Perm.task_write)
    now = now or utc_now()
    today = local_today(now)
    periods = list(session.scalars(scope(select(MonitoringPeriod).where(
        MonitoringPeriod.status == PeriodStatus.active, MonitoringPeriod.start <= today),
        actor, MonitoringPeriod.division_code)))
    report = CheckReport(missed=0, escalated=0, ended=0, task_ids=[])
    for period in periods:
        reported = set(session.scalars(select(MonitoringReport.day).where(
            MonitoringReport.period_id == period.id)))
        misses = {m.day: m for m in session.scalars(select(MonitoringMiss).where(
            MonitoringMiss.period_id == period.id))}
        last = today if now >= deadline(today, period.deadline_hour) else today - timedelta(1)
        last = min(last, period.end)
        day = period.start
        while day <= last:
            if day not in reported and day not in misses:
                misses[day] = _miss(session, actor, period, day, reported, misses, report)
            day += timedelta(days=1)
        if last >= period.end:
            period.status, period.ended_at = PeriodStatus.ended, now
            period.end_reason = "plan ended"
            report.ended += 1
    session.flush()
    return report


def _miss(session: Session, actor: Actor, period: MonitoringPeriod, day: date,
          reported: set[date], misses: dict[date, MonitoringMiss],
          report: CheckReport) -> MonitoringMiss:
    rules = MonitoringRules.model_validate(period.rules)
    writer = acting_for(actor, [period.division_code, county_of(period.division_code)])
    pin = {"subject_type": "monitoring_period", "subject_id": period.id}
    task = tasks.create(session, actor=writer, data=TaskCreate(
        type="monitoring_follow_up", **tasks.titled(
            "monitoring_follow_up", person=period.person_id, day=day.isoformat()),
        completes_on=["monitoring.reported"], owning_division_code=period.division_code,
        due_at=utc_now() + timedelta(hours=rules.follow_up_within_hours), **pin))
    miss = MonitoringMiss(period_id=period.id, day=day, task_id=task.id, created_at=utc_now())
    report.missed += 1
    report.task_ids.append(task.id)
    run = 1  # days missed in a row, ending with this one
    back = day - timedelta(days=1)
    while back >= period.start and back in misses and back not in reported:
        run += 1
        back -= timedelta(days=1)
    if run == period.escalate_after_missed:
        up = tasks.create(session, actor=writer, data=TaskCreate(
            type="monitoring_escalation", **tasks.titled(
                "monitoring_escalation", person=period.person_id, days=run,
                day=day.isoformat()),
            owning_division_code=county_of(period.division_code),
            due_at=utc_now() + timedelta(hours=rules.follow_up_within_hours), **pin))
        miss.escalation_task_id = up.id
        report.escalated += 1
        report.task_ids.append(up.id)
    session.add(miss)
    session.flush()
    audit.record(session, actor, action="create", record_type="monitoring_miss",
                 record_ids=[miss.id], fields=["day", "task_id"])
    return miss


def check_job(session: Session, actor: Actor) -> CheckReport:
    """The scheduler's tick: :func:`check_missed` now."""
    return check_missed(session, actor=actor)
