"""Alert rules, evaluation with evidence, the alert lifecycle, notifiers, case curves."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from fangkong.analytics.ears import ears
from fangkong.case import service as cases
from fangkong.case.enums import Classification, DetectionMode, Severity
from fangkong.case.schemas import CaseCreate
from fangkong.core.auth import Actor, Role
from fangkong.core.config import get_settings
from fangkong.core.errors import Conflict, Invalid, NotFound
from fangkong.person import importer as person_importer
from fangkong.surveillance import alerting, curves, importer, notify
from fangkong.surveillance.enums import (
    AlertStatus,
    CaseSplit,
    DateBasis,
    Indicator,
    Method,
    SeriesKind,
)
from fangkong.surveillance.schemas import Investigate, RuleCreate
from fangkong.task import service as tasks
from tests.conftest import login, make_actor
from tests.helpers import csv_bytes, free_port, person_rows
from tests.surveillance.test_sentinels import add_sentinel

START = date(2022, 10, 1)
VALUES = [10, 12, 9, 11, 10, 13, 12, 11, 10, 12, 11, 10, 9, 12, 11, 40, 12, 11, 10, 50]


class ListNotifier:
    name = "list"

    def __init__(self) -> None:
        self.sent: list[notify.AlertMessage] = []

    def send(self, message: notify.AlertMessage) -> None:
        self.sent.append(message)


def _load(session: Session, admin: Actor) -> None:
    add_sentinel(session, admin, "S1", "440802001001")
    add_sentinel(session, admin, "S2", "440802001001")
    rows = []
    for i, v in enumerate(VALUES):
        day = (START + timedelta(days=i)).isoformat()
        rows.append({"unit_code": "S1", "indicator": "sales_cough", "period": "daily",
                     "period_start": day, "value": v - 3})
        rows.append({"unit_code": "S2", "indicator": "sales_cough", "period": "daily",
                     "period_start": day, "value": 3})
    importer.import_file(session, actor=admin, source=csv_bytes(rows), filename="s.csv")


def _rule(session: Session, admin: Actor, **kw: object):  # type: ignore[no-untyped-def]
    data = {"name": "cough sales C1", "series": SeriesKind.sentinel,
            "indicator": Indicator.sales_cough, "method": Method.ears_c1,
            "params": {"alpha": 0.05}, "division_codes": ["440802"]} | kw
    return alerting.create_rule(session, actor=admin, data=RuleCreate.model_validate(data))


def test_rule_validation(session: Session, admin: Actor) -> None:
    with pytest.raises(Invalid) as exc:
        _rule(session, admin, params={"alpha": 0.05, "bogus": 1})
    assert exc.value.problems[0].field == "params.bogus"
    with pytest.raises(Invalid) as exc:
        _rule(session, admin, indicator=None)
    assert exc.value.problems[0].field == "indicator"
    with pytest.raises(Invalid):
        _rule(session, admin, division_codes=["449999"])


def test_evaluation_raises_alerts_with_evidence_once(session: Session, admin: Actor) -> None:
    _load(session, admin)
    rule = _rule(session, admin)
    sink = ListNotifier()
    end = START + timedelta(days=len(VALUES) - 1)
    report = alerting.evaluate_rule(session, actor=admin, rule_id=rule.id,
                                    start=START + timedelta(days=10), end=end, notifiers=[sink])
    expected = ears(VALUES, method="C1", alpha=0.05, range_=range(11, len(VALUES) + 1))
    assert report.alarms == int(expected.alarm.sum()) > 0
    alerts = alerting.list_alerts(session, actor=admin, rule_id=rule.id)
    assert len(alerts) == report.new_alerts == report.alarms
    days = sorted(a.period_start for a in alerts)
    assert days == [START + timedelta(days=int(t) - 1)
                    for t, a in zip(expected.t, expected.alarm[0], strict=True) if a]
    spike = next(a for a in alerts if a.period_start == START + timedelta(days=15))
    assert spike.observed == 40
    i = list(expected.t).index(16)
    assert spike.upperbound == pytest.approx(expected.upperbound[0, i])
    assert spike.evidence["method"] == "ears-c1"
    assert spike.evidence["recent"]["values"][-1] == 40
    assert sink.sent == []  # not before the caller commits
    session.commit()
    assert [m.alert_id for m in sink.sent] == [a.id for a in sorted(alerts, key=lambda a: a.id)]
    again = alerting.evaluate_rule(session, actor=admin, rule_id=rule.id,
                                   start=START + timedelta(days=10), end=end, notifiers=[sink])
    session.commit()
    assert again.new_alerts == 0 and len(sink.sent) == len(alerts)


def _evaluate(session: Session, admin: Actor, sink: ListNotifier) -> int:
    rule = alerting.list_rules(session, actor=admin)[0]
    return alerting.evaluate_rule(session, actor=admin, rule_id=rule.id,
                                  start=START + timedelta(days=10),
                                  end=START + timedelta(days=len(VALUES) - 1),
                                  notifiers=[sink]).new_alerts


def test_no_notification_when_the_transaction_rolls_back(session: Session, admin: Actor
                                                         ) -> None:
    _load(session, admin)
    _rule(session, admin)
    session.commit()
    sink = ListNotifier()
    assert _evaluate(session, admin, sink) > 0
    session.rollback()
    assert alerting.list_alerts(session, actor=admin) == []
    session.commit()  # a later commit does not send what was rolled back
    assert sink.sent == []
    new = _evaluate(session, admin, sink)  # evaluated again, now committed: sent once
    session.commit()
    assert len(sink.sent) == new > 0
    session.commit()
    assert len(sink.sent) == new


def test_notifications_wait_for_the_outer_commit_and_drop_with_a_savepoint(
        session: Session, admin: Actor) -> None:
    _load(session, admin)
    _rule(session, admin)
    session.commit()
    sink = ListNotifier()
    savepoint = session.begin_nested()
    _evaluate(session, admin, sink)
    savepoint.rollback()  # the alerts are gone, and so are their messages
    assert alerting.list_alerts(session, actor=admin) == []
    with session.begin_nested():  # released, but the outer transaction is still open
        new = _evaluate(session, admin, sink)
    assert sink.sent == []
    session.commit()
    assert len(sink.sent) == new > 0
    assert {m.alert_id for m in sink.sent} == {a.id for a in alerting.list_alerts(
        session, actor=admin)}


def test_a_closed_session_forgets_its_messages(engine, admin: Actor) -> None:  # type: ignore[no-untyped-def]
    from fangkong.core.db import session_factory

    sink = ListNotifier()
    message = notify.AlertMessage(alert_id=1, rule_name="r", method="ears-c1",
                                  division_code="440802", period_start="2022-10-01",
                                  observed=5, upperbound=3)
    with session_factory(engine)() as s:
        s.connection()  # a transaction is open
        notify.after_commit(s, [message], [sink])
        s.close()  # ends it without a commit
        s.connection()
        s.commit()
    assert sink.sent == []
    with session_factory(engine)() as s:
        s.connection()
        notify.after_commit(s, [message], [sink])
        assert sink.sent == []
        s.commit()
    assert sink.sent == [message]


def test_alert_lifecycle_creates_a_task(session: Session, admin: Actor) -> None:
    _load(session, admin)
    rule = _rule(session, admin)
    alerting.evaluate_rule(session, actor=admin, rule_id=rule.id,
                           start=START + timedelta(days=10),
                           end=START + timedelta(days=len(VALUES) - 1), notifiers=[])
    first, second = alerting.list_alerts(session, actor=admin)[:2]
    alerting.acknowledge(session, actor=admin, alert_id=first.id, note="seen")
    due = datetime(2030, 1, 1, tzinfo=UTC)
    alert = alerting.investigate(session, actor=admin, alert_id=first.id,
                                 data=Investigate(due_at=due, note="call the pharmacies"))
    assert alert.task_id is not None
    task = tasks.get(session, actor=admin, task_id=alert.task_id)
    assert (task.type, task.subject_type, task.subject_id) == ("investigate_alert", "alert",
                                                               alert.id)
    assert task.owning_division_code == "440802"
    alerting.dismiss(session, actor=admin, alert_id=first.id, note="school sports day")
    assert [(h.from_status, h.to_status) for h in alert.history] == [
        (None, AlertStatus.open), (AlertStatus.open, AlertStatus.acknowledged),
        (AlertStatus.acknowledged, AlertStatus.investigating),
        (AlertStatus.investigating, AlertStatus.dismissed)]
    with pytest.raises(Conflict):
        alerting.acknowledge(session, actor=admin, alert_id=first.id)
    alerting.dismiss(session, actor=admin, alert_id=second.id)
    with pytest.raises(Conflict):
        alerting.investigate(session, actor=admin, alert_id=second.id,
                             data=Investigate(due_at=due))
    outsider = make_actor(Role.epidemiologist, "440803")
    with pytest.raises(NotFound):
        alerting.get_alert(session, actor=outsider, alert_id=first.id)
    assert alerting.list_alerts(session, actor=outsider) == []


def test_email_notifier_against_a_local_smtp_server() -> None:
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    received: list = []

    class Keep(Message):
        def handle_message(self, message) -> None:  # type: ignore[no-untyped-def]
            received.append(message)

    port = free_port()
    controller = Controller(Keep(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        mailer = notify.EmailNotifier(host="127.0.0.1", port=port, sender="fk@example.org",
                                      recipients=["cdc@example.org", "duty@example.org"])
        msg = notify.AlertMessage(alert_id=7, rule_name="发热门诊就诊", method="ears-c2",
                                  division_code="440802", period_start="2022-12-01",
                                  observed=30, upperbound=17.5)
        sent = notify.dispatch([msg], [mailer])
    finally:
        controller.stop()
    assert sent == {"email": 1}
    assert len(received) == 1
    mail = received[0]
    assert mail["To"] == "cdc@example.org, duty@example.org"
    assert "440802" in mail["Subject"]
    assert "observed: 30" in mail.get_payload(decode=True).decode()


def test_configured_notifiers(monkeypatch: pytest.MonkeyPatch,
                              caplog: pytest.LogCaptureFixture) -> None:
    found = notify.configured(["log", "email", "nosuch"])
    assert [n.name for n in found] == ["log"]  # email unconfigured, nosuch unknown: logged
    assert "nosuch" in caplog.text and "email" in caplog.text
    notify.register("list", ListNotifier)
    assert [n.name for n in notify.configured(["list"])] == ["list"]
    # Without names, the setting decides; the e-mail notifier takes the smtp_* settings.
    for name, value in (("ALERT_NOTIFIERS", "log,email"), ("SMTP_HOST", "mail.example.org"),
                        ("SMTP_PORT", "2525"), ("SMTP_STARTTLS", "1"),
                        ("ALERT_EMAIL_TO", "cdc@example.org, duty@example.org")):
        monkeypatch.setenv(f"FANGKONG_{name}", value)
    get_settings.cache_clear()
    try:
        log_, mail = notify.configured()
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    assert isinstance(log_, notify.LogNotifier) and isinstance(mail, notify.EmailNotifier)
    assert (mail.host, mail.port, mail.starttls, mail.recipients, mail.sender) == (
        "mail.example.org", 2525, True, ["cdc@example.org", "duty@example.org"],
        "fangkong@localhost")

    class Broken:
        name = "broken"

        def send(self, message: notify.AlertMessage) -> None:
            raise OSError("connection refused")

    msg = notify.AlertMessage(1, "r", "ears-c1", "44", "2022-01-01", 3, 2)
    assert notify.dispatch([msg], [Broken(), notify.LogNotifier()]) == {"broken": 0, "log": 1}


@pytest.fixture
def case_data(session: Session, admin: Actor) -> None:
    rows = person_rows(8, places=[("440802001001", 1.0)], seed=5)
    rows[7]["division_code"] = "440803001001"
    person_importer.import_file(session, actor=make_actor(), source=csv_bytes(rows),
                                filename="p.csv")
    modes = [DetectionMode.in_quarantine, DetectionMode.fever_clinic,
             DetectionMode.community_screening, DetectionMode.closed_loop,
             DetectionMode.fever_clinic, DetectionMode.fever_clinic,
             DetectionMode.in_quarantine, DetectionMode.fever_clinic]
    onsets = [date(2022, 5, 1), date(2022, 5, 1), date(2022, 5, 2), date(2022, 5, 2),
              date(2022, 5, 3), None, date(2022, 5, 1), date(2022, 5, 1)]
    for i, (mode, onset) in enumerate(zip(modes, onsets, strict=True)):
        owner = "440803" if i == 7 else "440802"
        classification = Classification.discarded if i == 6 else Classification.confirmed
        cases.create(session, actor=admin, data=CaseCreate.model_validate({
            "ref": f"K{i}", "person_ref": rows[i]["ref"], "classification": classification,
            "severity": None if i == 6 else Severity.mild, "onset_date": onset,
            # 2022-05-03 20:00 UTC is 2022-05-04 in Asia/Shanghai
            "reported_at": datetime(2022, 5, 3, 20, 0, tzinfo=UTC),
            "detection_mode": mode, "owning_division_code": owner}))


def test_case_curve_by_onset_split_by_how_found(session: Session, admin: Actor,
                                                case_data: None) -> None:
    pts = curves.curve(session, actor=admin, division="4408", start=date(2022, 5, 1),
                       end=date(2022, 5, 3), level="county")
    got = {(p.date.day, p.division_code): (p.community, p.in_quarantine) for p in pts}
    assert got == {(1, "440802"): (1, 1), (1, "440803"): (1, 0),
                   (2, "440802"): (1, 1), (2, "440803"): (0, 0),
                   (3, "440802"): (1, 0), (3, "440803"): (0, 0)}
    by_report = curves.curve(session, actor=admin, division="440802", start=date(2022, 5, 3),
                             end=date(2022, 5, 4), basis=DateBasis.report)
    assert [(p.date.day, p.total, p.community) for p in by_report] == [(3, 0, 0), (4, 6, 4)]
    local = make_actor(Role.epidemiologist, "440803")
    mine = curves.curve(session, actor=local, division="4408", start=date(2022, 5, 1),
                        end=date(2022, 5, 1), level="county")
    assert [(p.division_code, p.total) for p in mine] == [("440803", 1)]
    with pytest.raises(Invalid, match="unknown level"):
        curves.curve(session, actor=admin, division="4408", start=date(2022, 5, 1),
                     end=date(2022, 5, 1), level="street")
    with pytest.raises(Invalid, match="above") as above:
        curves.curve(session, actor=admin, division="440802", start=date(2022, 5, 1),
                     end=date(2022, 5, 1), level="city")
    # the refusal reads in the reader's language
    assert above.value.as_dict("zh-Hans")["error"]["message"] == "层级 city 高于区划 440802"
    with pytest.raises(Invalid) as outside:
        curves.curve(session, actor=local, division="440802", start=date(2022, 5, 1),
                     end=date(2022, 5, 1))
    assert outside.value.as_dict("zh-Hant")["error"] == {
        "code": "invalid", "message": "區劃 440802 不在您的轄區內",
        "problems": [{"message": "不在您的轄區內", "field": "division"}]}


def test_case_rule_community_only(session: Session, admin: Actor, case_data: None) -> None:
    rule = _rule(session, admin, name="community cases", series=SeriesKind.cases,
                 indicator=None, case_split=CaseSplit.community, method=Method.ears_c1,
                 params={"alpha": 0.05, "min_sigma": 0.5})
    report = alerting.evaluate_rule(session, actor=admin, rule_id=rule.id,
                                    start=date(2022, 5, 1), end=date(2022, 5, 3), notifiers=[])
    series = np.zeros(14)
    series[-3:] = [1, 1, 1]  # community cases of 440802 by onset, 1..3 May
    expected = ears(series, method="C1", alpha=0.05, min_sigma=0.5, range_=[12, 13, 14])
    assert report.alarms == int(expected.alarm.sum()) == report.new_alerts
    alert = alerting.list_alerts(session, actor=admin)[-1]
    assert alert.observed == 1 and alert.evidence["series"] == "cases"


def test_api_end_to_end(client: TestClient, session: Session, admin: Actor) -> None:
    headers = login(client, session, "epi", Role.epidemiologist, "440802")
    r = client.post("/api/v1/surveillance/sentinels", headers=headers, json={
        "code": "FC1", "name": "发热门诊", "kind": "fever_clinic",
        "division_code": "440802001001"})
    assert r.status_code == 201, r.text
    for i, v in enumerate(VALUES):
        r = client.post("/api/v1/surveillance/reports", headers=headers, json={
            "unit_code": "FC1", "indicator": "visits",
            "period_start": (START + timedelta(days=i)).isoformat(), "value": v})
        assert r.status_code == 201, r.text
    r = client.post("/api/v1/surveillance/reports", headers=headers, json={
        "unit_code": "FC1", "indicator": "visits", "period_start": START.isoformat(),
        "value": 11, "reason": "recount"})
    assert r.status_code == 200 and r.json()["version"] == 2
    assert r.json()["revisions"][0]["old_value"] == 10
    r = client.post("/api/v1/surveillance/rules", headers=headers, json={
        "name": "fever visits", "series": "sentinel", "indicator": "visits",
        "method": "ears-c2", "params": {"alpha": 0.05}, "division_codes": ["440802"]})
    assert r.status_code == 201, r.text
    rule_id = r.json()["id"]
    r = client.post(f"/api/v1/surveillance/rules/{rule_id}/evaluate", headers=headers,
                    params={"date_from": (START + timedelta(days=12)).isoformat(),
                            "date_to": (START + timedelta(days=len(VALUES) - 1)).isoformat()})
    assert r.status_code == 200, r.text
    assert r.json()["new_alerts"] >= 1
    alerts = client.get("/api/v1/surveillance/alerts", headers=headers).json()
    r = client.post(f"/api/v1/surveillance/alerts/{alerts[0]['id']}/investigate",
                    headers=headers, json={"due_at": "2030-01-01T00:00:00Z"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "investigating" and r.json()["task_id"]
    r = client.post(f"/api/v1/surveillance/alerts/{alerts[0]['id']}/acknowledge",
                    headers=headers, json={})
    assert r.status_code == 409
    r = client.get("/api/v1/surveillance/curves/cases", headers=headers, params={
        "division": "440802", "date_from": "2022-05-01", "date_to": "2022-05-02"})
    assert r.status_code == 200 and len(r.json()) == 2
    other = login(client, session, "far", Role.epidemiologist, "440803")
    assert client.get("/api/v1/surveillance/alerts", headers=other).json() == []
    assert client.get(f"/api/v1/surveillance/alerts/{alerts[0]['id']}",
                      headers=other).status_code == 404
