"""Sites, stays from the pack's plan, sampling tasks, release, occupancy, no double booking."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fangkong.core.audit import AuditEntry
from fangkong.core.auth import Actor, Role
from fangkong.core.db import session_scope
from fangkong.core.errors import Conflict, Invalid, NotFound
from fangkong.isolation import service
from fangkong.isolation.enums import SampleResult, StayKind, StayStatus, TransferKind
from fangkong.isolation.models import Room, RoomNight, Site, Stay
from fangkong.isolation.schemas import RoomSpec, SiteCreate, StayCreate
from fangkong.person import importer as person_importer
from fangkong.person.models import Person
from fangkong.task.models import Task
from tests.conftest import login, make_actor
from tests.helpers import csv_bytes, person_rows

ANCHOR = date(2022, 7, 1)  # last exposure: day 0


@pytest.fixture
def people(session: Session) -> list[dict[str, str]]:
    rows = person_rows(6, places=[("440802001001", 1.0)], seed=5, prefix="ISO")
    person_importer.import_file(session, actor=make_actor(), source=csv_bytes(rows),
                                filename="p.csv")
    return rows


def _site(session: Session, actor: Actor, code: str = "H1") -> tuple[Site, dict[str, Room]]:
    site = service.create_site(session, actor=actor, data=SiteCreate(
        code=code, name="湛江 隔离酒店", type="quarantine_hotel", division_code="440802",
        lon=110.36, lat=21.27, rooms=[RoomSpec(label="101"), RoomSpec(label="102"),
                                      RoomSpec(label="201", capacity=3, family=True)]))
    return site, {r.label: r for r in service.rooms_of(session, site.id)}


def _stay(ref: str, site: Site, room: Room, **kw: Any) -> StayCreate:
    fields: dict[str, Any] = {"person_ref": ref, "kind": StayKind.quarantine,
                              "site_id": site.id, "room_id": room.id, "role": "close_contact",
                              "anchor": ANCHOR, "pack": "cn_v9"}
    return StayCreate.model_validate(fields | kw)


def test_a_stay_follows_the_pack_plan_with_sampling_tasks(session: Session, admin: Actor,
                                                          people: list[dict[str, str]]) -> None:
    site, rooms = _site(session, admin)
    stay = service.create_stay(session, actor=admin, data=_stay(people[0]["ref"], site,
                                                                rooms["101"]))
    # cn_v9 close contact: 7 days of centralized quarantine from day 1, tests on days 1,2,3,5,7
    assert (stay.start_date, stay.planned_end) == (date(2022, 7, 2), date(2022, 7, 9))
    assert (stay.pack, stay.pack_version) == ("cn_v9", "1.0.0")
    tests = service.tests_of(session, stay.id)
    assert [t.test_date.day for t in tests] == [2, 3, 4, 6, 8]
    tasks = session.scalars(select(Task).where(  # each about its test, done by its result
        Task.subject_type == "iso_stay_test", Task.subject_id.in_([t.id for t in tests]))).all()
    assert len(tasks) == 5 and {t.type for t in tasks} == {"isolation_sampling"}
    assert {(t.id, t.subject_id) for t in tasks} == {(t.task_id, t.id) for t in tests}
    assert {(tuple(t.completes_on.split()), t.cancels_on) for t in tasks if t.completes_on} == {
        (("stay.sampled", "stay.tested"), "stay.moved stay.ended")}
    assert session.scalar(select(AuditEntry).where(AuditEntry.record_type == "iso_stay")
                          .order_by(AuditEntry.seq.desc()).limit(1)).action == "create"



def test_a_late_booking_gets_no_sampling_task_due_before_it(
        session: Session, admin: Actor, people: list[dict[str, str]]) -> None:
    """A contact booked into quarantine on day 4 of their plan (cn_v9: tests on days 1, 2,
    3, 5, 7): the tests of days already gone are due by the end of the booking day, not
    before the booking; the later ones on their own day."""
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from fangkong.core.clock import set_clock

    booked = datetime(2022, 7, 5, 2, 0, tzinfo=UTC)  # 10:00 on 5 July in Zhanjiang
    set_clock(lambda: booked)
    try:
        site, rooms = _site(session, admin)
        stay = service.create_stay(session, actor=admin, data=_stay(people[0]["ref"], site,
                                                                    rooms["101"]))
    finally:
        set_clock(None)
    tests = service.tests_of(session, stay.id)
    due = {t.test_date: session.get(Task, t.task_id).due_at for t in tests}  # type: ignore
    zone = ZoneInfo("Asia/Shanghai")
    assert all(d.astimezone(UTC) > booked for d in due.values())
    assert {day.day: d.astimezone(zone).replace(tzinfo=None).isoformat(timespec="minutes")
            for day, d in due.items()} == {
        2: "2022-07-05T23:59", 3: "2022-07-05T23:59", 4: "2022-07-05T23:59",
        6: "2022-07-06T23:59", 8: "2022-07-08T23:59"}

def test_occupancy_per_night_is_exact(session: Session, admin: Actor,
                                      people: list[dict[str, str]]) -> None:
    site, rooms = _site(session, admin)
    service.create_stay(session, actor=admin, data=_stay(people[0]["ref"], site, rooms["101"]))
    service.create_stay(session, actor=admin, data=_stay(
        people[1]["ref"], site, rooms["102"], role=None, anchor=None, kind=StayKind.quarantine,
        start_date=date(2022, 7, 5), planned_end=date(2022, 7, 12)))
    days = service.occupancy(session, actor=admin, site_id=site.id, start=date(2022, 7, 1),
                             end=date(2022, 7, 12))
    by_day = {d.day.day: d.people for d in days}
    assert by_day == {1: 0, 2: 1, 3: 1, 4: 1, 5: 2, 6: 2, 7: 2, 8: 2, 9: 1, 10: 1, 11: 1, 12: 0}
    assert days[0].rooms == 3 and days[0].beds == 5


def test_no_double_booking_of_a_room(session: Session, admin: Actor,
                                     people: list[dict[str, str]]) -> None:
    site, rooms = _site(session, admin)
    service.create_stay(session, actor=admin, data=_stay(people[0]["ref"], site, rooms["101"]))
    with pytest.raises(Conflict, match="already booked on 2022-07-02"):
        service.create_stay(session, actor=admin, data=_stay(people[1]["ref"], site,
                                                             rooms["101"]))
    # the night it is released the room is free again
    later = service.create_stay(session, actor=admin, data=_stay(
        people[1]["ref"], site, rooms["101"], anchor=ANCHOR + timedelta(days=7)))
    assert later.start_date == date(2022, 7, 9)


def test_a_family_room_holds_one_household_up_to_its_capacity(
        session: Session, admin: Actor, people: list[dict[str, str]]) -> None:
    site, rooms = _site(session, admin)
    family = rooms["201"]
    for row in people[:3]:
        service.create_stay(session, actor=admin, data=_stay(row["ref"], site, family,
                                                             household_ref="HH1"))
    with pytest.raises(Conflict, match="full"):
        service.create_stay(session, actor=admin, data=_stay(people[3]["ref"], site, family,
                                                             household_ref="HH1"))
    with pytest.raises(Conflict, match="already booked"):
        service.create_stay(session, actor=admin, data=_stay(
            people[3]["ref"], site, family, household_ref="HH2",
            anchor=ANCHOR + timedelta(days=3)))


def test_infected_people_never_stay_in_a_quarantine_site(
        session: Session, admin: Actor, people: list[dict[str, str]]) -> None:
    site, rooms = _site(session, admin)
    for kind in (StayKind.isolation, StayKind.treatment):
        with pytest.raises(Invalid, match=f"kind {kind.value} does not belong in a "
                                          "quarantine_hotel"):
            service.create_stay(session, actor=admin, data=_stay(
                people[0]["ref"], site, rooms["101"], kind=kind))


def test_reserve_planning_per_county(session: Session, admin: Actor,
                                     people: list[dict[str, str]]) -> None:
    site, rooms = _site(session, admin)
    service.create_site(session, actor=admin, data=SiteCreate(
        code="STANDBY", name="备用", type="health_station", status="standby",
        division_code="440802", rooms=[RoomSpec(label=str(n)) for n in range(2)]))
    for k, label in enumerate(["101", "102"]):
        service.create_stay(session, actor=admin, data=_stay(people[k]["ref"], site,
                                                             rooms[label]))
    service.create_stay(session, actor=admin, data=_stay(people[2]["ref"], site, rooms["201"],
                                                         household_ref="HHX"))
    service.create_stay(session, actor=admin, data=_stay(people[3]["ref"], site, rooms["201"],
                                                         household_ref="HHX"))
    row = {r.county: r for r in service.reserve(session, actor=admin, on=date(2022, 7, 3),
                                                ratio=2.0)}["440802"]
    assert (row.active_rooms, row.standby_rooms, row.occupied_rooms, row.people) == (3, 2, 3, 4)
    assert (row.rooms_needed, row.free_active_rooms, row.shortfall) == (6, 0, 1)


def test_the_database_refuses_a_double_booking(session: Session, admin: Actor,
                                               people: list[dict[str, str]]) -> None:
    site, rooms = _site(session, admin)
    stay = service.create_stay(session, actor=admin, data=_stay(people[0]["ref"], site,
                                                                rooms["101"]))
    with pytest.raises(IntegrityError), session.begin_nested():
        session.add(RoomNight(room_id=rooms["101"].id, night=date(2022, 7, 3), slot=0,
                              stay_id=stay.id))
        session.flush()


def test_release_needs_the_period_over_and_every_test_negative(
        session: Session, admin: Actor, people: list[dict[str, str]]) -> None:
    site, rooms = _site(session, admin)
    stay = service.create_stay(session, actor=admin, data=_stay(people[0]["ref"], site,
                                                                rooms["101"]))
    with pytest.raises(Conflict, match="runs until 2022-07-09"):
        service.release(session, actor=admin, stay_id=stay.id, on=date(2022, 7, 8))
    tests = service.tests_of(session, stay.id)
    for t in tests[:3]:
        service.record_test(session, actor=admin, stay_id=stay.id, test_date=t.test_date,
                            result=SampleResult.negative)
    assert service.release_proposals(session, actor=admin, on=date(2022, 7, 8)) == []
    [proposal] = service.release_proposals(session, actor=admin, on=date(2022, 7, 9))
    assert not proposal.ready
    assert proposal.missing_tests == ["2022-07-06 (pending)", "2022-07-08 (pending)"]
    with pytest.raises(Conflict) as err:
        service.release(session, actor=admin, stay_id=stay.id, on=date(2022, 7, 9))
    assert "2022-07-06 (pending), 2022-07-08 (pending)" in err.value.message
    assert [p.message for p in err.value.problems] == ["test of 2022-07-06 is pending",
                                                       "test of 2022-07-08 is pending"]
    for t in tests[3:]:
        service.record_test(session, actor=admin, stay_id=stay.id, test_date=t.test_date,
                            result=SampleResult.negative)
    assert service.release_proposals(session, actor=admin, on=date(2022, 7, 9))[0].ready
    done = session.scalars(select(Task.status).where(Task.id.in_([t.task_id for t in tests])))
    assert {s.value for s in done} == {"done"}
    released, nxt, transfer = service.release(session, actor=admin, stay_id=stay.id,
                                              on=date(2022, 7, 9))
    assert released.status is StayStatus.released and released.actual_end == date(2022, 7, 9)
    # the next phase: 3 days of home health monitoring, test on its day 3, a return transfer
    assert nxt is not None and nxt.kind is StayKind.home_health_monitoring
    assert (nxt.site_id, nxt.start_date, nxt.planned_end) == (None, date(2022, 7, 9),
                                                              date(2022, 7, 12))
    assert [t.test_date for t in service.tests_of(session, nxt.id)] == [date(2022, 7, 11)]
    assert transfer is not None and transfer.kind is TransferKind.return_home
    assert (transfer.from_site_id, transfer.to_site_id) == (site.id, None)
    with pytest.raises(Conflict, match="already released"):
        service.release(session, actor=admin, stay_id=stay.id, on=date(2022, 7, 9))


def test_a_positive_test_blocks_release(session: Session, admin: Actor,
                                        people: list[dict[str, str]]) -> None:
    site, rooms = _site(session, admin)
    stay = service.create_stay(session, actor=admin, data=_stay(people[0]["ref"], site,
                                                                rooms["101"]))
    for t in service.tests_of(session, stay.id):
        service.record_test(session, actor=admin, stay_id=stay.id, test_date=t.test_date,
                            result=SampleResult.positive if t.test_date.day == 4
                            else SampleResult.negative)
    with pytest.raises(Conflict, match=r"2022-07-04 \(positive\)"):
        service.release(session, actor=admin, stay_id=stay.id, on=date(2022, 7, 9))


def test_stays_are_scoped(session: Session, admin: Actor, people: list[dict[str, str]]) -> None:
    site, rooms = _site(session, admin)
    stay = service.create_stay(session, actor=admin, data=_stay(people[0]["ref"], site,
                                                                rooms["101"]))
    outsider = make_actor(Role.isolation_officer, "440803")
    with pytest.raises(NotFound):
        service.get_stay(session, actor=outsider, stay_id=stay.id)
    with pytest.raises(NotFound):
        service.get_site(session, actor=outsider, site_id=site.id)
    assert service.list_sites(session, actor=outsider) == []
    insider = make_actor(Role.isolation_officer, "440802")
    assert service.get_stay(session, actor=insider, stay_id=stay.id).id == stay.id


def test_api_books_and_refuses_a_second_booking(client: TestClient, session: Session,
                                                people: list[dict[str, str]]) -> None:
    headers = login(client, session, "iso", Role.isolation_officer, "440802")
    resp = client.post("/api/v1/isolation/sites", headers=headers, json={
        "code": "API1", "name": "驿站", "type": "health_station", "division_code": "440802",
        "rooms": [{"label": "1"}]})
    assert resp.status_code == 201 and resp.json()["rooms"] == 1
    site_id = resp.json()["id"]
    room_id = client.get(f"/api/v1/isolation/sites/{site_id}/rooms",
                         headers=headers).json()[0]["id"]
    body = {"person_ref": people[0]["ref"], "kind": "quarantine", "site_id": site_id,
            "room_id": room_id, "role": "close_contact", "anchor": "2022-07-01"}
    resp = client.post("/api/v1/isolation/stays", headers=headers, json=body)
    assert resp.status_code == 201 and len(resp.json()["tests"]) == 5
    resp = client.post("/api/v1/isolation/stays", headers=headers,
                       json=body | {"person_ref": people[1]["ref"]})
    assert resp.status_code == 409 and resp.json()["error"]["code"] == "conflict"
    resp = client.get(f"/api/v1/isolation/sites/{site_id}/occupancy", headers=headers,
                      params={"start": "2022-07-02", "end": "2022-07-02"})
    assert resp.json()[0]["people"] == 1
    analyst = login(client, session, "ana", Role.analyst, "440802")
    assert client.get("/api/v1/isolation/sites", headers=analyst).status_code == 403


def test_two_officers_booking_one_room_at_once(engine: Any, dialect: str) -> None:
    if dialect != "postgresql":
        pytest.skip("needs real concurrent transactions (PostgreSQL); SQLite serialises "
                    "writers, and the constraint itself is tested on both databases")
    actor = make_actor()
    rows = person_rows(2, places=[("440802001001", 1.0)], seed=9, prefix="CONC")
    with session_scope(engine) as s:
        person_importer.import_file(s, actor=actor, source=csv_bytes(rows), filename="c.csv")
        site, rooms = _site(s, actor, code="CONC")
        site_id, room = site.id, rooms["101"]
        room_id = room.id
    barrier = threading.Barrier(2)

    def book(ref: str, week: int, outcomes: list[str]) -> None:
        start = date(2022, 8, 1) + timedelta(days=7 * week)
        try:
            with session_scope(engine) as s:
                barrier.wait()
                service.create_stay(s, actor=actor, data=StayCreate.model_validate({
                    "person_ref": ref, "kind": "quarantine", "site_id": site_id,
                    "room_id": room_id, "start_date": start,
                    "planned_end": start + timedelta(days=7)}))
            outcomes.append("ok")
        except Conflict as exc:
            outcomes.append(f"conflict: {exc.message}")
        except Exception as exc:  # anything else (a deadlock...) must fail the test clearly
            outcomes.append(f"error: {exc!r}")

    try:
        for week in range(6):  # several rounds: each interleaving must end the same way
            outcomes: list[str] = []
            threads = [threading.Thread(target=book, args=(r["ref"], week, outcomes))
                       for r in rows]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=60)
            first = date(2022, 8, 1) + timedelta(days=7 * week)
            assert len(outcomes) == 2 and sorted(outcomes)[1] == "ok" and sorted(outcomes)[
                0].startswith(f"conflict: room 101 is already booked on {first}"), outcomes
        with session_scope(engine) as s:
            assert len(s.scalars(select(RoomNight).where(RoomNight.room_id == room_id)).all()) \
                == 6 * 7
    finally:
        with session_scope(engine) as s:
            stays = select(Stay.id).where(Stay.site_id == site_id)
            s.execute(delete(RoomNight).where(RoomNight.stay_id.in_(stays)))
            s.execute(delete(Stay).where(Stay.site_id == site_id))
            s.execute(delete(Room).where(Room.site_id == site_id))
            s.execute(delete(Site).where(Site.id == site_id))
            s.execute(delete(Person).where(Person.ref.in_([r["ref"] for r in rows])))
