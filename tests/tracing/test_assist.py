"""Cross-region assistance (区域协查): send, scoping of the receiving side, accept, answer,
escalation through the request's task."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from fangkong.case import service as cases
from fangkong.case.enums import Classification, DetectionMode, Severity
from fangkong.case.schemas import CaseCreate
from fangkong.core.auth import Actor, Role
from fangkong.core.clock import set_clock
from fangkong.core.errors import Forbidden, Invalid, NotFound
from fangkong.person import importer as person_importer
from fangkong.person.models import Person
from fangkong.task import service as tasks
from fangkong.tracing import assist, service
from fangkong.tracing.enums import AssistOutcome, AssistStatus, Setting
from fangkong.tracing.schemas import AssistAnswer, AssistCreate, ExposureCreate
from tests.conftest import login, make_actor
from tests.helpers import csv_bytes, person_rows


def test_a_request_goes_to_the_other_jurisdiction_with_just_those_persons(
        client: TestClient, session: Session, admin: Actor, people: list[Person]) -> None:
    rows = person_rows(2, places=[("440803001001", 1.0)], seed=9, prefix="FAR")
    person_importer.import_file(session, actor=make_actor(), source=csv_bytes(rows),
                                filename="far.csv")
    far = [p for p in session.query(Person).filter(Person.ref.in_([r["ref"] for r in rows]))]
    case = cases.create(session, actor=admin, data=CaseCreate(
        ref="AS1", person_ref=people[0].ref, classification=Classification.confirmed,
        severity=Severity.mild, onset_date="2022-05-05",  # type: ignore[arg-type]
        reported_at=datetime(2022, 5, 7, 2, tzinfo=UTC),
        detection_mode=DetectionMode.fever_clinic, owning_division_code="440802"))

    def contact(person: Person) -> int:
        e = service.add_exposure(session, actor=admin, data=ExposureCreate(
            source_case_id=case.id, exposed_person_id=person.id,
            first_exposure="2022-05-05", last_exposure="2022-05-06",  # type: ignore[arg-type]
            setting=Setting.workplace))
        assert e.contact_id is not None
        return e.contact_id

    local, remote = contact(people[3]), [contact(p) for p in far]
    sender = make_actor(Role.epidemiologist, "440802", name="sender")
    receiver = make_actor(Role.epidemiologist, "440803", name="receiver")
    with pytest.raises(Invalid) as caught:  # a local contact cannot be sent to 440803
        assist.send(session, actor=sender, data=AssistCreate(
            case_id=case.id, to_division_code="440803", contact_ids=[local, *remote]))
    assert [p.field for p in caught.value.problems] == ["contact_ids.0"]
    request = assist.send(session, actor=sender, data=AssistCreate(
        case_id=case.id, to_division_code="440803", contact_ids=remote, due_hours=6))
    assert {i.person_id for i in request.items} == {p.id for p in far}
    task = tasks.get(session, actor=admin, task_id=request.task_id or 0)
    assert (task.owning_division_code, task.type, task.due_at) == (
        "440803", "assist_request", request.due_at)
    # Overdue: the request's task climbs to the city (湛江 4408).
    later = request.due_at + timedelta(minutes=1)
    set_clock(lambda: later)
    try:
        assert assist.is_overdue(request)
        report = tasks.escalate_overdue(session, actor=admin, now=later)
        assert request.task_id in report.task_ids
        assert tasks.get(session, actor=admin, task_id=request.task_id or 0
                         ).escalated_to_code == "4408"
    finally:
        set_clock(None)

    # The receiving side sees the request (only its persons), not the case.
    assert assist.get(session, actor=receiver, request_id=request.id).id == request.id
    with pytest.raises(NotFound):
        cases.get(session, actor=receiver, case_id=case.id)
    with pytest.raises(NotFound):
        assist.get(session, actor=make_actor(Role.epidemiologist, "440811"),
                   request_id=request.id)
    with pytest.raises(Forbidden):
        assist.accept(session, actor=sender, request_id=request.id)
    with pytest.raises(Invalid):
        assist.answer(session, actor=receiver, request_id=request.id, data=AssistAnswer(
            items=[{"person_id": far[0].id, "outcome": "under_management"}]))  # type: ignore[list-item]
    assist.accept(session, actor=receiver, request_id=request.id)
    done = assist.answer(session, actor=receiver, request_id=request.id, data=AssistAnswer(
        items=[{"person_id": far[0].id, "outcome": "under_management"}]))  # type: ignore[list-item]
    assert done.status == AssistStatus.accepted
    done = assist.answer(session, actor=receiver, request_id=request.id, data=AssistAnswer(
        items=[{"person_id": far[1].id, "outcome": "not_found", "note": "wrong address"}]))  # type: ignore[list-item]
    assert done.status == AssistStatus.answered
    assert {i.outcome for i in done.items} == {AssistOutcome.under_management,
                                                AssistOutcome.not_found}
    assert tasks.get(session, actor=admin, task_id=request.task_id or 0).status.value == "done"

    headers = login(client, session, "recv", Role.epidemiologist, "440803")
    listed = client.get("/api/v1/tracing/assist", headers=headers).json()
    assert [r["id"] for r in listed] == [request.id] and listed[0]["overdue"] is False
    assert len(listed[0]["items"]) == 2
