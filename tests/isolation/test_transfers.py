"""Transfers in operation: dispatch rules, arrival, the clocks, beds by level, moves."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from fangkong.core.auth import Actor, Role
from fangkong.core.errors import Conflict, Invalid
from fangkong.isolation import service, transfers
from fangkong.isolation.enums import PassengerClass, StayKind, StayStatus, TransferStatus
from fangkong.isolation.models import Site
from fangkong.isolation.schemas import (
    RoomSpec,
    SiteCreate,
    StayCreate,
    TransferCreate,
    VehicleCreate,
)
from tests.conftest import login
from tests.isolation.test_stays import people  # noqa: F401  (fixture)

T0 = datetime(2022, 7, 1, 8, 0, tzinfo=UTC)


def _sites(session: Session, actor: Actor) -> dict[str, Site]:
    made = {}
    for code, kind, rooms in [
        ("Q", "quarantine_hotel", [RoomSpec(label="1"), RoomSpec(label="2")]),
        ("F", "shelter_hospital", [RoomSpec(label="1")]),
        ("D", "designated_hospital", [RoomSpec(label="G1", bed_level="general"),
                                      RoomSpec(label="G2", bed_level="general"),
                                      RoomSpec(label="ICU1", bed_level="icu")]),
    ]:
        made[code] = service.create_site(session, actor=actor, data=SiteCreate(
            code=f"T{code}", name=code, type=kind, division_code="440802", rooms=rooms))
    return made


def _vehicle(session: Session, actor: Actor, code: str, kind: str, capacity: int) -> int:
    return transfers.create_vehicle(session, actor=actor, data=VehicleCreate(
        code=code, kind=kind, capacity=capacity, division_code="440802")).id


def _request(session: Session, actor: Actor, ref: str, site: Site, klass: str,
             start: datetime = T0) -> int:
    return transfers.request(session, actor=actor, data=TransferCreate(
        person_ref=ref, to_site_id=site.id, passenger_class=klass, clock_start=start)).id


def test_destinations_suit_the_passenger(session: Session, admin: Actor,
                                         people: list[dict[str, str]]) -> None:  # noqa: F811
    sites = _sites(session, admin)
    with pytest.raises(Invalid, match="a case is not taken to a quarantine_hotel"):
        _request(session, admin, people[0]["ref"], sites["Q"], "case")
    with pytest.raises(Invalid, match="a contact is not taken to a shelter_hospital"):
        _request(session, admin, people[0]["ref"], sites["F"], "contact")


def test_cases_and_contacts_never_share_a_vehicle(session: Session, admin: Actor,
                                                  people: list[dict[str, str]]  # noqa: F811
                                                  ) -> None:
    sites = _sites(session, admin)
    bus = _vehicle(session, admin, "BUS1", "bus", 2)
    amb = _vehicle(session, admin, "AMB1", "ambulance", 2)
    c1 = _request(session, admin, people[0]["ref"], sites["Q"], "contact")
    c2 = _request(session, admin, people[1]["ref"], sites["Q"], "contact")
    c3 = _request(session, admin, people[2]["ref"], sites["Q"], "contact")
    case = _request(session, admin, people[3]["ref"], sites["F"], "case")
    with pytest.raises(Conflict) as err:
        transfers.dispatch(session, actor=admin, vehicle_id=bus, transfer_ids=[c1, case], at=T0)
    messages = [p.message for p in err.value.problems]
    assert "cases and contacts never share a vehicle" in messages
    assert any("a bus carries contacts only" in m for m in messages)
    with pytest.raises(Conflict, match="cannot take this batch"):
        transfers.dispatch(session, actor=admin, vehicle_id=amb, transfer_ids=[c1], at=T0)
    done = transfers.dispatch(session, actor=admin, vehicle_id=bus, transfer_ids=[c1, c2],
                              at=T0)
    assert {t.status for t in done} == {TransferStatus.dispatched}
    assert len({t.batch_ref for t in done}) == 1
    with pytest.raises(Conflict) as err:  # capacity: two aboard already
        transfers.dispatch(session, actor=admin, vehicle_id=bus, transfer_ids=[c3], at=T0)
    assert "over the capacity of 2" in err.value.problems[0].message
    with pytest.raises(Conflict) as err:
        transfers.dispatch(session, actor=admin, vehicle_id=amb, transfer_ids=[c1], at=T0)
    assert f"transfer {c1} is dispatched" in [p.message for p in err.value.problems]
    transfers.arrive(session, actor=admin, transfer_id=c1, at=T0 + timedelta(hours=3))
    with pytest.raises(Conflict, match="not dispatched"):
        transfers.arrive(session, actor=admin, transfer_id=c1, at=T0 + timedelta(hours=4))
    assert transfers.dispatch(session, actor=admin, vehicle_id=bus, transfer_ids=[c3],
                              at=T0)[0].vehicle_id == bus


def test_the_clocks(session: Session, admin: Actor,
                    people: list[dict[str, str]]) -> None:  # noqa: F811
    sites = _sites(session, admin)
    bus = _vehicle(session, admin, "BUS2", "bus", 10)
    amb = _vehicle(session, admin, "AMB2", "negative_pressure_ambulance", 5)
    fast = _request(session, admin, people[0]["ref"], sites["Q"], "contact")
    slow = _request(session, admin, people[1]["ref"], sites["Q"], "contact")
    waiting = _request(session, admin, people[2]["ref"], sites["Q"], "contact")
    case = _request(session, admin, people[3]["ref"], sites["F"], "case")
    transfers.dispatch(session, actor=admin, vehicle_id=bus, transfer_ids=[fast, slow], at=T0)
    transfers.dispatch(session, actor=admin, vehicle_id=amb, transfer_ids=[case], at=T0)
    transfers.arrive(session, actor=admin, transfer_id=fast, at=T0 + timedelta(hours=6))
    transfers.arrive(session, actor=admin, transfer_id=slow, at=T0 + timedelta(hours=30))
    transfers.arrive(session, actor=admin, transfer_id=case, at=T0 + timedelta(hours=2))
    now = T0 + timedelta(hours=48)
    rows = {r.passenger_class: r for r in transfers.clocks(session, actor=admin, now=now)}
    contact = rows[PassengerClass.contact]
    assert (contact.county, contact.transfers, contact.arrived, contact.waiting) == (
        "440802", 3, 2, 1)
    assert contact.median_hours == 18.0 and contact.p90_hours == 30.0
    assert contact.within_24h_share == round(1 / 3, 4)  # the waiting one is over 24 h too
    assert rows[PassengerClass.case].within_24h_share == 1.0
    assert rows[PassengerClass.case].median_hours == 2.0
    per_person = {r.transfer_id: r for r in transfers.person_clocks(session, actor=admin,
                                                                     now=now)}
    assert per_person[waiting].hours == 48.0 and per_person[waiting].over_24h
    assert not per_person[fast].over_24h


def test_beds_by_level_and_a_move_to_intensive_care(session: Session, admin: Actor,
                                                    people: list[dict[str, str]]  # noqa: F811
                                                    ) -> None:
    sites = _sites(session, admin)
    rooms = {r.label: r for r in service.rooms_of(session, sites["D"].id)}
    stay = service.create_stay(session, actor=admin, data=StayCreate(
        person_ref=people[0]["ref"], kind=StayKind.treatment, site_id=sites["D"].id,
        room_id=rooms["G1"].id, start_date=date(2022, 7, 1), planned_end=date(2022, 7, 15)))
    on = date(2022, 7, 3)
    beds = {r.level.value: r for r in transfers.beds(session, actor=admin, on=on)}
    assert (beds["general"].beds, beds["general"].occupied) == (2, 1)
    assert (beds["icu"].beds, beds["icu"].occupied) == (1, 0)
    ended, new, transfer = service.move_stay(session, actor=admin, stay_id=stay.id,
                                             to_site_id=sites["D"].id,
                                             to_room_id=rooms["ICU1"].id, on=on)
    assert ended.status is StayStatus.moved and ended.actual_end == on
    assert (new.start_date, new.planned_end, new.previous_stay_id) == (on, date(2022, 7, 15),
                                                                       stay.id)
    assert transfer.kind.value == "inter_facility"
    beds = {r.level.value: r for r in transfers.beds(session, actor=admin, on=on)}
    assert (beds["general"].occupied, beds["icu"].occupied) == (0, 1)
    before = {r.level.value: r for r in transfers.beds(session, actor=admin,
                                                      on=on - timedelta(days=1))}
    assert (before["general"].occupied, before["icu"].occupied) == (1, 0)
    with pytest.raises(Conflict):
        service.move_stay(session, actor=admin, stay_id=stay.id, to_site_id=sites["D"].id,
                          to_room_id=rooms["G2"].id, on=on)


def test_api_transfer_flow(client: TestClient, session: Session,
                           people: list[dict[str, str]]) -> None:  # noqa: F811
    headers = login(client, session, "iso2", Role.isolation_officer, "440802")
    site = client.post("/api/v1/isolation/sites", headers=headers, json={
        "code": "APIQ", "name": "酒店", "type": "quarantine_hotel", "division_code": "440802",
        "rooms": [{"label": "1"}]}).json()
    bus = client.post("/api/v1/isolation/vehicles", headers=headers, json={
        "code": "APIBUS", "kind": "bus", "capacity": 10, "division_code": "440802"})
    assert bus.status_code == 201
    t = client.post("/api/v1/isolation/transfers", headers=headers, json={
        "person_ref": people[0]["ref"], "to_site_id": site["id"], "passenger_class": "contact",
        "clock_start": "2022-07-01T08:00:00+08:00"})
    assert t.status_code == 201
    resp = client.post("/api/v1/isolation/transfers/dispatch", headers=headers, json={
        "vehicle_id": bus.json()["id"], "transfer_ids": [t.json()["id"]],
        "at": "2022-07-01T09:00:00+08:00"})
    assert resp.status_code == 200 and resp.json()[0]["status"] == "dispatched"
    resp = client.post(f"/api/v1/isolation/transfers/{t.json()['id']}/arrival",
                       headers=headers, json={"at": "2022-07-01T10:30:00+08:00"})
    assert resp.json()["status"] == "arrived"
    clocks = client.get("/api/v1/isolation/clocks", headers=headers).json()
    assert clocks[0]["median_hours"] == 2.5 and clocks[0]["within_24h_share"] == 1.0
    rows = client.get("/api/v1/isolation/clocks/transfers", headers=headers).json()
    assert rows == [{"transfer_id": t.json()["id"], "person_id": t.json()["person_id"],
                     "passenger_class": "contact", "status": "arrived", "hours": 2.5,
                     "over_24h": False}]


def test_api_planning_assign(client: TestClient, session: Session) -> None:
    from fangkong.isolation import planning
    from tests.helpers import csv_bytes
    from tests.isolation.test_assign import person, site

    headers = login(client, session, "iso3", Role.isolation_officer, "440802")
    files = {"people": ("people.csv", csv_bytes([person("a"), person("b")],
                                                planning.PEOPLE_COLUMNS)),
             "sites": ("sites.csv", csv_bytes([site("A", rooms=1)], planning.SITE_COLUMNS))}
    resp = client.post("/api/v1/isolation/assign", headers=headers, files=files)
    assert resp.status_code == 200
    assert resp.json()["assignments"] == [{"person_ref": "a", "site_id": "A", "room": 1}]
    assert resp.json()["unassigned"][0]["person_ref"] == "b"
    files["sites"] = ("sites.csv", b"site_id,type,lon,lat,rooms,room_capacity\nA,barn,1,1,1,1\n")
    resp = client.post("/api/v1/isolation/assign", headers=headers, files=files)
    assert resp.status_code == 422
    assert resp.json()["error"]["problems"][0] == {"message": resp.json()["error"]["problems"][0][
        "message"], "field": "type", "line": 2, "file": "sites.csv"}


def test_a_transfer_given_twice_is_a_bad_request_not_a_clash(
        session: Session, admin: Actor, people: list[dict[str, str]]) -> None:  # noqa: F811
    """The same transfer twice in one list of arrivals is wrong input (Invalid, 422, naming
    it); arriving again once it arrived clashes with what is stored (Conflict, 409)."""
    sites = _sites(session, admin)
    bus = _vehicle(session, admin, "BUS3", "bus", 10)
    one = _request(session, admin, people[0]["ref"], sites["Q"], "contact")
    transfers.dispatch(session, actor=admin, vehicle_id=bus, transfer_ids=[one], at=T0)
    with pytest.raises(Invalid, match="given twice") as refused:
        transfers.arrive_many(session, actor=admin, arrivals=[
            (one, T0 + timedelta(hours=1)), (one, T0 + timedelta(hours=2))])
    assert [(p.field, p.message) for p in refused.value.problems] == [
        ("arrivals", f"transfer {one} is given more than once")]
    transfers.arrive(session, actor=admin, transfer_id=one, at=T0 + timedelta(hours=1))
    with pytest.raises(Conflict, match="not dispatched"):
        transfers.arrive(session, actor=admin, transfer_id=one, at=T0 + timedelta(hours=2))
