"""Periods from plans, reports, triage, missed days and the personal link's token."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import jwt
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.core.auth import Actor, Role
from fangkong.core.clock import set_clock
from fangkong.core.config import get_settings
from fangkong.core.errors import Conflict, Forbidden, Invalid, NotFound, Unauthenticated
from fangkong.monitoring import service
from fangkong.monitoring.enums import Channel, PeriodStatus
from fangkong.monitoring.models import MonitoringPeriod
from fangkong.monitoring.schemas import ReportIn, WorkerReportIn
from fangkong.person.models import Person
from fangkong.policy import service as policy
from fangkong.task import service as tasks
from fangkong.task.enums import TaskStatus
from fangkong.task.models import Task
from fangkong.tracing import service as tracing
from fangkong.tracing.enums import ContactStatus
from fangkong.tracing.schemas import StatusUpdate
from tests.conftest import make_actor
from tests.monitoring.conftest import managed_contact


def _period(session: Session, contact_id: int) -> MonitoringPeriod:
    return session.scalars(select(MonitoringPeriod).where(
        MonitoringPeriod.contact_id == contact_id)).one()


def _tasks(session: Session, period_id: int) -> list[Task]:
    return list(session.scalars(select(Task).where(
        Task.subject_type == "monitoring_period", Task.subject_id == period_id
    ).order_by(Task.id)))


def test_every_shipped_pack_has_monitoring_questions() -> None:
    for pack in policy.packs():
        rules = pack.monitoring
        assert rules.version == "1"
        assert rules.questions == ["temperature", "symptoms", "tested"]
        assert set(rules.alert_symptoms) <= set(rules.symptoms)
        assert rules.fever_c == 37.3


def test_periods_from_plans_of_every_pack() -> None:
    """Every role of every shipped pack whose plan has home phases is covered by a period of
    exactly those days; a plan without home phases makes none."""
    anchor = date(2022, 5, 6)
    seen = 0
    for pack in policy.packs():
        for role in pack.roles:
            plan = policy.plan(pack, role, anchor).model_dump(mode="json")
            home = service._phases(plan)
            kinds = {p["kind"] for p in plan["phases"]} if plan["managed"] else set()
            assert bool(home) == bool(kinds & {"home_quarantine", "home_health_monitoring"})
            seen += bool(home)
    assert seen >= 5


def test_period_starts_with_management_and_ends_with_release(
        session: Session, admin: Actor, people: list[Person], case_id: int) -> None:
    cid = managed_contact(session, admin, people[3], case_id)
    period = _period(session, cid)
    # cn_v9 close contact: days 1-7 centralized, 8-10 home health monitoring
    assert (period.start, period.end) == (date(2022, 5, 14), date(2022, 5, 16))
    assert period.phases == "home_health_monitoring"
    assert (period.pack_id, period.person_id, period.status) == (
        "cn_v9", people[3].id, PeriodStatus.active)
    assert period.questions == ["temperature", "symptoms", "tested"]
    # the same event again makes no second period
    service.start_periods(session, actor=admin, contact_ids=[cid])
    assert len(session.scalars(select(MonitoringPeriod).where(
        MonitoringPeriod.contact_id == cid)).all()) == 1
    tracing.set_status(session, actor=admin, contact_id=cid,
                       data=StatusUpdate(status=ContactStatus.released))
    assert period.status == PeriodStatus.ended and period.end_reason == "contact.released"
    with pytest.raises(Conflict):
        service.report_by_worker(session, actor=admin, period_id=period.id,
                                 data=WorkerReportIn(day=date(2022, 5, 14), temperature=36.5))


def test_reports_are_checked_and_immutable(
        session: Session, admin: Actor, people: list[Person], case_id: int) -> None:
    period = _period(session, managed_contact(session, admin, people[3], case_id))
    worker = make_actor(Role.community_worker, "440802", name="worker")

    def report(**kw: object) -> object:
        data = {"day": date(2022, 5, 14), "temperature": 36.6, **kw}
        return service.report_by_worker(session, actor=worker, period_id=period.id,
                                        data=WorkerReportIn.model_validate(data))

    for bad in ({"day": date(2022, 5, 13)}, {"day": date(2022, 5, 17)},
                {"temperature": 50.0}, {"temperature": 30.0}, {"temperature": None},
                {"symptoms": ["headache"]}, {"channel": Channel.self_link}):
        with pytest.raises(Invalid):
            report(**bad)
    done = report(channel=Channel.worker_call, tested=True)
    assert (done.channel, done.entered_by, done.flagged, done.task_ids) == (
        Channel.worker_call, "worker", False, [])
    with pytest.raises(Conflict):
        report(temperature=36.7)
    # the day has not come yet: refused
    set_clock(lambda: datetime(2022, 5, 14, 12, tzinfo=UTC))
    try:
        with pytest.raises(Invalid):
            report(day=date(2022, 5, 15))
    finally:
        set_clock(None)
    # other jurisdictions do not find it; a role that may not write persons is refused
    with pytest.raises(NotFound):
        service.report_by_worker(session, actor=make_actor(Role.community_worker, "440803"),
                                 period_id=period.id,
                                 data=WorkerReportIn(day=date(2022, 5, 15), temperature=36.5))
    with pytest.raises(Forbidden):
        service.report_by_worker(session, actor=make_actor(Role.analyst, "440802"),
                                 period_id=period.id,
                                 data=WorkerReportIn(day=date(2022, 5, 15), temperature=36.5))


@pytest.mark.parametrize(("temperature", "symptoms", "flagged"), [
    (37.3, [], True),  # the pack's threshold is fever
    (37.2, [], False),
    (36.5, ["cough"], True),
    (36.5, ["fatigue"], False),  # asked, but not one the pack alerts on
])
def test_triage(session: Session, admin: Actor, people: list[Person], case_id: int,
                temperature: float, symptoms: list[str], flagged: bool) -> None:
    period = _period(session, managed_contact(session, admin, people[3], case_id))
    done = service.report_by_worker(session, actor=admin, period_id=period.id, data=WorkerReportIn(
        day=date(2022, 5, 14), temperature=temperature, symptoms=symptoms))
    made = _tasks(session, period.id)
    assert done.flagged is flagged
    assert [t.id for t in made] == done.task_ids
    if flagged:
        assert [(t.type, t.owning_division_code) for t in made] == [
            ("monitoring_test", period.division_code),
            ("monitoring_alert", period.division_code),
            ("monitoring_alert", "440802")]
        assert made[0].title_key == "monitoring_test"
    else:
        assert made == []


def test_missed_days_follow_up_and_escalate(
        session: Session, admin: Actor, people: list[Person], case_id: int) -> None:
    period = _period(session, managed_contact(session, admin, people[3], case_id))
    # 14 May, 19:00 Beijing time: before the deadline (20:00), nothing is due yet
    before = datetime(2022, 5, 14, 11, tzinfo=UTC)
    assert service.check_missed(session, actor=admin, now=before).missed == 0
    first = service.check_missed(session, actor=admin, now=before + timedelta(hours=2))
    assert (first.missed, first.escalated) == (1, 0)
    assert service.check_missed(session, actor=admin, now=before + timedelta(hours=3)).missed == 0
    (follow,) = _tasks(session, period.id)
    assert (follow.type, follow.status) == ("monitoring_follow_up", TaskStatus.open)
    # the second day in a row escalates to the county
    second = service.check_missed(session, actor=admin, now=before + timedelta(days=1, hours=2))
    assert (second.missed, second.escalated) == (1, 1)
    kinds = [(t.type, t.owning_division_code) for t in _tasks(session, period.id)]
    assert kinds[-1] == ("monitoring_escalation", "440802")
    # a report (late, of the first day) completes the follow-up tasks waiting for it
    service.report_by_worker(session, actor=admin, period_id=period.id,
                             data=WorkerReportIn(day=date(2022, 5, 14), temperature=36.5))
    session.expire_all()
    assert tasks.get(session, actor=admin, task_id=follow.id).status == TaskStatus.done
    # the last day checked, the period ends with its plan
    last = service.check_missed(session, actor=admin, now=before + timedelta(days=2, hours=2))
    assert (last.missed, last.escalated, last.ended) == (1, 1, 1)
    assert period.status == PeriodStatus.ended and period.end_reason == "plan ended"
    assert service.missed_of(session, period.id) == [
        date(2022, 5, 14), date(2022, 5, 15), date(2022, 5, 16)]


def test_link_token_security(session: Session, admin: Actor, people: list[Person],
                             case_id: int) -> None:
    # a period running now (the token's expiry is checked against the real clock)
    today = service.local_today()
    period = _period(session, managed_contact(session, admin, people[3], case_id,
                                              last=today - timedelta(days=9)))
    assert (period.start, period.end) == (today - timedelta(days=1), today + timedelta(days=1))
    link = service.issue_link(session, actor=admin, period_id=period.id)
    assert link.expires_at == service.deadline(period.end, 24)  # the end of its last day
    form = service.link_form(session, token=link.token, lang="zh-Hans")
    assert form.symptoms[1] == {"id": "cough", "label": "咳嗽"}
    assert "person_id" not in form.model_dump() and form.reported_days == []
    done = service.report_by_link(session, token=link.token, data=ReportIn(
        day=period.start, temperature=37.8))
    assert (done.channel, done.entered_by, done.flagged) == (
        Channel.self_link, f"link:{period.id}", True)
    assert service.link_form(session, token=link.token).reported_days == [period.start]
    with pytest.raises(Conflict):  # replayed
        service.report_by_link(session, token=link.token, data=ReportIn(
            day=period.start, temperature=36.5))
    head, body, sig = link.token.split(".")
    secret = get_settings().key("secret_key")
    claims = jwt.decode(link.token, secret, algorithms=["HS256"])
    forged = [
        f"{head}.{body}.{sig[:-4]}AAAA",  # tampered signature
        jwt.encode({**claims, "period": period.id + 1}, "another key", algorithm="HS256"),
        jwt.encode({**claims, "period": period.id + 1}, secret, algorithm="HS256"),  # sub differs
        jwt.encode({**claims, "scope": "session"}, secret, algorithm="HS256"),
    ]
    for token in forged:
        with pytest.raises(Unauthenticated):
            service.link_form(session, token=token)


def test_link_expires_with_the_period(session: Session, admin: Actor, people: list[Person],
                                      case_id: int) -> None:
    period = _period(session, managed_contact(session, admin, people[3], case_id))
    link = service.issue_link(session, actor=admin, period_id=period.id)  # ended 16 May 2022
    with pytest.raises(Unauthenticated):
        service.report_by_link(session, token=link.token, data=ReportIn(
            day=date(2022, 5, 16), temperature=36.5))
