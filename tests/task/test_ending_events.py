"""A task knows its subject and the events that end it: each event of the platform closes (or
cancels) the open tasks of its subject that wait for it, in the same transaction, with the
reason in the task's history; an unrelated task stays open; a rollback leaves it open."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.case import importer as case_importer
from fangkong.case.models import Case
from fangkong.core import events
from fangkong.core.audit import AuditEntry
from fangkong.core.auth import Actor
from fangkong.core.clock import set_clock
from fangkong.core.errors import Invalid
from fangkong.isolation import service as isolation
from fangkong.isolation import transfers
from fangkong.isolation.enums import SampleResult, StayKind, StayStatus
from fangkong.isolation.schemas import (
    RoomSpec,
    SiteCreate,
    StayCreate,
    TransferCreate,
    VehicleCreate,
)
from fangkong.person import importer as person_importer
from fangkong.person.models import Person
from fangkong.task import service as tasks
from fangkong.task.enums import TaskStatus
from fangkong.task.models import Task
from fangkong.task.schemas import TaskCreate
from fangkong.tracing import service
from fangkong.tracing.enums import ContactStatus, Setting
from fangkong.tracing.models import Exposure
from fangkong.tracing.schemas import ExposureCreate, StatusUpdate
from fangkong.zone import service as zones
from fangkong.zone.schemas import Lift, MemberIn, ZoneCreate
from tests.conftest import make_actor
from tests.helpers import csv_bytes, person_rows
from tests.tracing.helpers import confirmed_case
from tests.tracing.test_contacts import NOW, clock  # noqa: F401  (the platform's clock, autouse)


@pytest.fixture
def people(session: Session) -> list[Person]:
    """Six persons in 440802; 0-2 share household EV1."""
    rows = person_rows(6, places=[("440802001001", 1.0)], seed=9, prefix="EV")
    for i, row in enumerate(rows):
        row["household_ref"] = "EV1" if i < 3 else f"EV{i}"
    person_importer.import_file(session, actor=make_actor(), source=csv_bytes(rows),
                                filename="p.csv")
    found = {p.ref: p for p in session.scalars(select(Person).where(
        Person.ref.in_([r["ref"] for r in rows])))}
    return [found[r["ref"]] for r in rows]


def _contact(session: Session, actor: Actor, case_id: int, person: Person) -> int:
    exposure = service.add_exposure(session, actor=actor, data=ExposureCreate(
        source_case_id=case_id, exposed_person_id=person.id, first_exposure=date(2022, 5, 4),
        last_exposure=date(2022, 5, 6), setting=Setting.workplace))
    assert exposure.contact_id is not None
    return exposure.contact_id


def _tasks(session: Session, subject_type: str, subject_id: int) -> dict[str, Task]:
    session.expire_all()
    return {t.type: t for t in session.scalars(select(Task).where(
        Task.subject_type == subject_type, Task.subject_id == subject_id))}


def _ended(task: Task, status: TaskStatus, event: str) -> None:
    assert task.status is status and task.completed_at is not None
    last = task.events[-1]
    assert last.kind == "status" and last.detail is not None
    assert last.detail.startswith(f"{status.value}: {event} (")


def _status(session: Session, actor: Actor, contact_id: int, status: ContactStatus,
            **kw: object) -> None:
    service.set_status(session, actor=actor, contact_id=contact_id,
                       data=StatusUpdate.model_validate({"status": status, **kw}))


def test_a_contact_notified_ends_its_notify_task_only(
        session: Session, admin: Actor, people: list[Person]) -> None:
    case_id = confirmed_case(session, admin, people[0], ref="EVC1")
    mine, other = (_contact(session, admin, case_id, p) for p in people[3:5])
    assert set(_tasks(session, "contact", mine)) == {"notify_contact",
                                                     "transfer_to_quarantine"}
    _status(session, admin, mine, ContactStatus.notified)
    found = _tasks(session, "contact", mine)
    _ended(found["notify_contact"], TaskStatus.done, "contact.notified")
    assert "contact notified" in (found["notify_contact"].events[-1].detail or "")
    assert found["transfer_to_quarantine"].status is TaskStatus.open  # waits for the transfer
    assert {t.status for t in _tasks(session, "contact", other).values()} == {TaskStatus.open}


def test_a_contact_released_or_a_case_cancels_what_is_left(
        session: Session, admin: Actor, people: list[Person]) -> None:
    case_id = confirmed_case(session, admin, people[0], ref="EVC1")
    released, converted = (_contact(session, admin, case_id, p) for p in people[3:5])
    # recorded at 09:00 that the contact was under management since 07:00: the task ended then
    set_clock(lambda: NOW + timedelta(hours=3))
    _status(session, admin, released, ContactStatus.under_management,
            at=NOW + timedelta(hours=1))
    found = _tasks(session, "contact", released)
    _ended(found["notify_contact"], TaskStatus.done, "contact.under_management")
    assert found["notify_contact"].completed_at == NOW + timedelta(hours=1)
    assert found["notify_contact"].events[-1].at == NOW + timedelta(hours=1)
    _status(session, admin, released, ContactStatus.released)
    _ended(_tasks(session, "contact", released)["transfer_to_quarantine"],
           TaskStatus.cancelled, "contact.released")
    own = confirmed_case(session, admin, people[4], ref="EVC2")
    _status(session, admin, converted, ContactStatus.became_case, converted_case_id=own)
    for task in _tasks(session, "contact", converted).values():
        _ended(task, TaskStatus.cancelled, "contact.became_case")


def test_a_transfer_arrived_ends_the_contacts_transfer_task(
        session: Session, admin: Actor, people: list[Person]) -> None:
    case_id = confirmed_case(session, admin, people[0], ref="EVC1")
    moved, waiting = (_contact(session, admin, case_id, p) for p in people[3:5])
    site = isolation.create_site(session, actor=admin, data=SiteCreate(
        code="EVQ", name="Q", type="quarantine_hotel", division_code="440802",
        rooms=[RoomSpec(label="1")]))
    bus = transfers.create_vehicle(session, actor=admin, data=VehicleCreate(
        code="EVB", kind="bus", capacity=4, division_code="440802")).id
    [transfer] = transfers.request_many(session, actor=admin, data=[TransferCreate(
        person_ref=people[3].ref, to_site_id=site.id, passenger_class="contact",
        clock_start=NOW)])
    transfers.dispatch(session, actor=admin, vehicle_id=bus, transfer_ids=[transfer.id],
                       at=NOW)
    transfers.arrive(session, actor=admin, transfer_id=transfer.id,
                     at=NOW + timedelta(hours=2))
    found = _tasks(session, "contact", moved)
    _ended(found["transfer_to_quarantine"], TaskStatus.done, "transfer.arrived")
    assert f"transfer {transfer.id} arrived" in (
        found["transfer_to_quarantine"].events[-1].detail or "")
    assert found["notify_contact"].status is TaskStatus.open
    assert {t.status for t in _tasks(session, "contact", waiting).values()} == {TaskStatus.open}


def test_a_stay_test_recorded_or_moved_ends_its_sampling_tasks(
        session: Session, admin: Actor, people: list[Person]) -> None:
    site = isolation.create_site(session, actor=admin, data=SiteCreate(
        code="EVH", name="H", type="quarantine_hotel", division_code="440802",
        rooms=[RoomSpec(label="1"), RoomSpec(label="2")]))
    room = isolation.rooms_of(session, site.id)[0]
    stay = isolation.create_stay(session, actor=admin, data=StayCreate(
        person_ref=people[3].ref, kind=StayKind.quarantine, site_id=site.id, room_id=room.id,
        role="close_contact", anchor=date(2022, 7, 1), pack="cn_v9"))
    tests = isolation.tests_of(session, stay.id)
    by_test = {t.id: _tasks(session, "iso_stay_test", t.id)["isolation_sampling"]
               for t in tests}
    assert {t.task_id for t in tests} == {task.id for task in by_test.values()}
    isolation.record_test(session, actor=admin, stay_id=stay.id, test_date=tests[0].test_date,
                          result=SampleResult.negative)
    _ended(_tasks(session, "iso_stay_test", tests[0].id)["isolation_sampling"],
           TaskStatus.done, "stay.tested")
    assert _tasks(session, "iso_stay_test", tests[1].id)[
        "isolation_sampling"].status is TaskStatus.open
    # a sample taken ends its task at once; its result, later, changes nothing more
    taken = datetime(2022, 7, 3, 9, 0, tzinfo=UTC)
    isolation.record_samples(session, actor=admin, taken=[(stay.id, tests[1].test_date)],
                             at=taken)
    sampled = _tasks(session, "iso_stay_test", tests[1].id)["isolation_sampling"]
    _ended(sampled, TaskStatus.done, "stay.sampled")
    isolation.record_test(session, actor=admin, stay_id=stay.id, test_date=tests[1].test_date,
                          result=SampleResult.negative)
    assert len(_tasks(session, "iso_stay_test", tests[1].id)["isolation_sampling"].events) == 2
    assert isolation.tests_of(session, stay.id)[1].sampled_at == taken
    with pytest.raises(Invalid, match=f"stay {stay.id} has no test on 2022-07-05"):
        isolation.record_samples(session, actor=admin, taken=[(stay.id, date(2022, 7, 5))])
    hospital = isolation.create_site(session, actor=admin, data=SiteCreate(
        code="EVF", name="F", type="shelter_hospital", division_code="440802",
        rooms=[RoomSpec(label="1")]))
    isolation.move_stay(session, actor=admin, stay_id=stay.id, to_site_id=hospital.id,
                        to_room_id=isolation.rooms_of(session, hospital.id)[0].id,
                        on=tests[2].test_date)
    for test in tests[2:]:
        _ended(_tasks(session, "iso_stay_test", test.id)["isolation_sampling"],
               TaskStatus.cancelled, "stay.moved")
    assert all(_tasks(session, "iso_stay_test", t.id)["isolation_sampling"].status
               is TaskStatus.done for t in tests[:2])  # ended once


def test_a_stay_ended_early_frees_its_nights_and_ends_its_tasks(
        session: Session, admin: Actor, people: list[Person]) -> None:
    """``end_stays`` (an earlier drill's stays when another starts): the room's nights from
    the end day are freed and those before kept, the tasks waiting for the stay's release are
    done, the sampling tasks of tests still to take cancelled (``stay.ended``), a test already
    recorded keeps its done task; one audit entry; another person's stay is left alone."""
    site = isolation.create_site(session, actor=admin, data=SiteCreate(
        code="EVE", name="E", type="quarantine_hotel", division_code="440802",
        rooms=[RoomSpec(label="1"), RoomSpec(label="2")]))
    room, other_room = isolation.rooms_of(session, site.id)
    stay, other = (isolation.create_stay(session, actor=admin, data=StayCreate(
        person_ref=p.ref, kind=StayKind.quarantine, site_id=site.id, room_id=r.id,
        role="close_contact", anchor=date(2022, 7, 1), pack="cn_v9"))
        for p, r in ((people[3], room), (people[4], other_room)))
    tests = isolation.tests_of(session, stay.id)
    isolation.record_test(session, actor=admin, stay_id=stay.id, test_date=tests[0].test_date,
                          result=SampleResult.negative)
    waiting = _task(session, admin, ("iso_stay", stay.id), completes_on=["stay.released"])
    end = date(2022, 7, 5)
    assert isolation.end_stays(session, actor=admin, person_ids=[people[3].id], on=end,
                               note="drill 2 starts") == [stay.id]
    session.expire_all()
    assert (stay.status, stay.actual_end) == (StayStatus.released, end)
    nights = isolation.occupancy(session, actor=admin, site_id=site.id,
                                 start=date(2022, 7, 2), end=date(2022, 7, 8))
    assert {d.day.day: d.people for d in nights} == {2: 2, 3: 2, 4: 2, 5: 1, 6: 1, 7: 1, 8: 1}
    _ended(waiting, TaskStatus.done, "stay.released")
    _ended(_tasks(session, "iso_stay_test", tests[0].id)["isolation_sampling"],
           TaskStatus.done, "stay.tested")
    for test in tests[1:]:
        _ended(_tasks(session, "iso_stay_test", test.id)["isolation_sampling"],
               TaskStatus.cancelled, "stay.ended")
    assert {t.status for t in (_tasks(session, "iso_stay_test", x.id)["isolation_sampling"]
                               for x in isolation.tests_of(session, other.id))} == {
        TaskStatus.open}
    assert other.status is StayStatus.active
    entry = session.scalars(select(AuditEntry).where(AuditEntry.record_type == "iso_stay")
                            .order_by(AuditEntry.seq.desc())).first()
    assert entry is not None and entry.note == "drill 2 starts"
    assert isolation.end_stays(session, actor=admin, person_ids=[people[3].id], on=end,
                               note="again") == []


def _task(session: Session, actor: Actor, subject: tuple[str, int], **kw: object) -> Task:
    return tasks.create(session, actor=actor, data=TaskCreate.model_validate({
        "type": "deliver_supplies", "title": "物资配送", "subject_type": subject[0],
        "subject_id": subject[1], "owning_division_code": "440802",
        "due_at": NOW + timedelta(hours=4), **kw}))


def test_a_zone_lifted_cancels_its_tasks_and_not_another_zones(
        session: Session, admin: Actor) -> None:
    made = [zones.designate(session, actor=admin, data=ZoneCreate(
        name=f"小区 {k}", level="high", owning_division_code="440802", pack_id="cn_v9",
        members=[MemberIn(division_code="440802001001")],
        last_infection_date=date(2022, 5, 6), population=100, reason="确诊居住地")).id
        for k in range(2)]
    supplies = [_task(session, admin, ("zone", z), cancels_on=["zone.lifted"]) for z in made]
    zones.lift(session, actor=admin, zone_id=made[0], data=Lift(reason="14 days clear"))
    session.expire_all()
    _ended(supplies[0], TaskStatus.cancelled, "zone.lifted")
    assert "14 days clear" in (supplies[0].events[-1].detail or "")
    assert supplies[1].status is TaskStatus.open


def test_a_stay_released_ends_the_tasks_waiting_for_it(
        session: Session, admin: Actor, people: list[Person]) -> None:
    stay = isolation.create_stay(session, actor=admin, data=StayCreate(
        person_ref=people[3].ref, kind=StayKind.quarantine, start_date=date(2022, 5, 1),
        planned_end=date(2022, 5, 5)))
    done = _task(session, admin, ("iso_stay", stay.id), completes_on=["stay.released"])
    other = _task(session, admin, ("iso_stay", stay.id), completes_on=["zone.lifted"])
    isolation.release(session, actor=admin, stay_id=stay.id, on=date(2022, 5, 5))
    session.expire_all()
    _ended(done, TaskStatus.done, "stay.released")
    assert other.status is TaskStatus.open


def test_a_rollback_leaves_the_task_open(session: Session, admin: Actor,
                                         people: list[Person]) -> None:
    case_id = confirmed_case(session, admin, people[0], ref="EVC1")
    contact_id = _contact(session, admin, case_id, people[3])
    session.commit()
    with pytest.raises(RuntimeError), session.begin_nested():
        _status(session, admin, contact_id, ContactStatus.notified)
        assert _tasks(session, "contact", contact_id)[
            "notify_contact"].status is TaskStatus.done  # ended with the event ...
        raise RuntimeError("the unit of work fails")
    found = _tasks(session, "contact", contact_id)  # ... and open again without it
    assert found["notify_contact"].status is TaskStatus.open
    assert [e.kind for e in found["notify_contact"].events] == ["created"]


def test_the_events_that_end_a_task_are_checked(session: Session, admin: Actor) -> None:
    with pytest.raises(Invalid) as err:
        _task(session, admin, ("zone", 1), cancels_on=["zone.lifed"])
    assert err.value.problems[0].field == "cancels_on"
    assert "unknown event zone.lifed" in err.value.problems[0].message
    with pytest.raises(Invalid, match="the events that end the task"):
        tasks.create(session, actor=admin, data=TaskCreate(
            type="other", title="x", owning_division_code="440802",
            due_at=NOW, completes_on=["zone.lifted"]))  # no subject
    with pytest.raises(ValueError, match="unknown event"):
        events.publish(session, events.Event("zone.lifed", actor=admin, subject_type="zone",
                                             subject_ids=[1], reason="typo"))


def test_imported_cases_are_reported_as_api_cases_are(
        session: Session, admin: Actor, people: list[Person],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """``fangkong import cases``: each new infection goes through ``case.reported`` (one
    event for the file), so tracing proposes its household as for a case made by the API."""
    header = ("ref,person_ref,disease,classification,severity,onset_date,"
              "first_positive_sample_date,reported_at,detection_mode,owning_division_code,"
              "current_division_code\n")
    lines = [f"EVI1,{people[0].ref},covid19,confirmed,mild,2022-05-05,,"
             "2022-05-07T02:00:00+00:00,fever_clinic,440802,440802001001",
             f"EVI2,{people[5].ref},covid19,suspected,,2022-05-05,,"
             "2022-05-07T02:00:00+00:00,fever_clinic,440802,440802001001"]
    heard: list[events.Event] = []
    monkeypatch.setitem(events._handlers, "case.reported",
                        [*events._handlers["case.reported"],
                         lambda _s, e: heard.append(e)])
    case_importer.import_file(session, actor=admin, source=(header + "\n".join(lines)
                                                            + "\n").encode(),
                              filename="cases.csv")
    ids = dict(session.execute(select(Case.ref, Case.id).where(
        Case.ref.in_(["EVI1", "EVI2"]))).all())
    assert [(e.subject_type, list(e.subject_ids)) for e in heard] == [
        ("case", [ids["EVI1"]])]  # the suspected case is no infection yet
    proposed = set(session.scalars(select(Exposure.exposed_person_id).where(
        Exposure.source_case_id == ids["EVI1"])))
    assert proposed == {people[1].id, people[2].id}  # the household, as on the API path
