"""Assign and book a batch against the rooms in the database."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from fangkong.core.auth import Actor, Role
from fangkong.core.errors import Invalid
from fangkong.isolation import service
from fangkong.isolation.schemas import BatchAssign, RoomSpec, SiteCreate
from tests.conftest import login
from tests.isolation.test_stays import people  # noqa: F401  (fixture)


def _sites(session: Session, actor: Actor) -> None:
    service.create_site(session, actor=actor, data=SiteCreate(
        code="NEAR", name="近", type="quarantine_hotel", division_code="440802", lon=110.36,
        lat=21.27, rooms=[RoomSpec(label="1"), RoomSpec(label="2", accessible=True),
                          RoomSpec(label="F1", family=True, capacity=2)]))
    service.create_site(session, actor=actor, data=SiteCreate(
        code="FAR", name="远", type="health_station", division_code="440802", lon=110.6,
        lat=21.4, rooms=[RoomSpec(label=str(n)) for n in range(5)]))


def test_a_batch_is_assigned_and_booked(session: Session, admin: Actor,
                                        people: list[dict[str, str]]) -> None:  # noqa: F811
    _sites(session, admin)
    refs = [p["ref"] for p in people]
    batch = BatchAssign.model_validate({"anchor": "2022-07-01", "start_date": "2022-07-02",
                                        "planned_end": "2022-07-09", "people": [
        {"person_ref": refs[0], "household_ref": "H", "role": "close_contact", "lon": 110.36,
         "lat": 21.27, "case_ref": "c1"},
        {"person_ref": refs[1], "household_ref": "H", "role": "close_contact", "lon": 110.36,
         "lat": 21.27, "case_ref": "c1", "needs": ["child_with_guardian"]},
        {"person_ref": refs[2], "role": "close_contact", "lon": 110.37, "lat": 21.27,
         "needs": ["wheelchair"], "case_ref": "c2"},
        {"person_ref": refs[3], "role": "close_contact", "lon": 110.36, "lat": 21.28,
         "case_ref": "c3"},
        {"person_ref": refs[4], "role": "close_contact", "lon": 110.36, "lat": 21.28,
         "case_ref": "c4"},
        {"person_ref": refs[5], "role": "case_mild", "lon": 110.36, "lat": 21.27}]})
    result = service.assign_and_book(session, actor=admin, data=batch)
    rooms = {r.id: r for s, _, _ in service.list_sites(session, actor=admin)
             for r in service.rooms_of(session, s.id)}
    placed = {a.person_ref: rooms[a.room].label for a in result.assignments}
    assert placed[refs[0]] == placed[refs[1]] == "F1"  # the family room, with the child
    assert placed[refs[2]] == "2"  # the accessible room
    assert {placed[refs[3]], placed[refs[4]]} & {"1"}  # one near, one far
    assert [u.person_ref for u in result.unassigned] == [refs[5]]  # no shelter hospital
    assert set(result.stays) == set(refs[:5])
    near = next(s for s, _, _ in service.list_sites(session, actor=admin) if s.code == "NEAR")
    night = service.occupancy(session, actor=admin, site_id=near.id, start=date(2022, 7, 2),
                              end=date(2022, 7, 2))[0]
    assert (night.people, night.rooms_occupied) == (4, 3)
    # the same nights again: the near rooms are taken, only the far site is left
    again = service.assign_and_book(session, actor=admin, data=BatchAssign.model_validate({
        "anchor": "2022-07-01", "people": [{"person_ref": refs[5], "role": "close_contact",
                                            "lon": 110.36, "lat": 21.27}]}))
    assert rooms[again.assignments[0].room].site_id != near.id


def test_cases_need_their_dates(session: Session, admin: Actor,
                                people: list[dict[str, str]]) -> None:  # noqa: F811
    _sites(session, admin)
    with pytest.raises(Invalid, match="cases stay from start_date to planned_end"):
        service.assign_and_book(session, actor=admin, data=BatchAssign.model_validate({
            "people": [{"person_ref": people[0]["ref"], "role": "case_mild", "lon": 110.3,
                        "lat": 21.2}]}))


def test_api_assign_and_book(client: TestClient, session: Session,
                             people: list[dict[str, str]]) -> None:  # noqa: F811
    headers = login(client, session, "iso4", Role.isolation_officer, "440802")
    from tests.conftest import make_actor

    _sites(session, make_actor())
    resp = client.post("/api/v1/isolation/assign/book", headers=headers, json={
        "anchor": "2022-07-01", "people": [{"person_ref": people[0]["ref"],
                                            "role": "close_contact", "lon": 110.36,
                                            "lat": 21.27}]})
    assert resp.status_code == 200, resp.text
    assert list(resp.json()["stays"]) == [people[0]["ref"]]
