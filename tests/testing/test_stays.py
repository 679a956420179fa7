"""People registered as staying in an area (person.stays) are in a round's target, counted
where they stay, and may be sampled there by the area's officer; stays are imported by line,
atomically and idempotently."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.core.auth import Actor, Role
from fangkong.core.errors import Invalid
from fangkong.person import importer as person_importer
from fangkong.person import stays
from fangkong.testing import importer, service
from fangkong.testing.models import Target
from tests.conftest import login, make_actor
from tests.helpers import csv_bytes, person_rows
from tests.testing.helpers import (
    START,
    VILLAGE_A,
    VILLAGE_B,
    issue,
    make_persons,
    make_round,
    samples_csv,
)

COLUMNS = ["person_ref", "division_code", "since", "until"]


def _stays(rows: list[tuple[str, str, object, object]]) -> bytes:
    return csv_bytes([dict(zip(COLUMNS, (r[0], r[1], _t(r[2]), _t(r[3])), strict=True))
                      for r in rows], columns=COLUMNS)


def _t(value: object) -> str:
    return value.isoformat() if isinstance(value, datetime) else ""


def test_stays_are_imported_by_line_atomically_and_idempotently(session: Session,
                                                                admin: Actor) -> None:
    refs = make_persons(session, admin, 3, code=VILLAGE_B, prefix="V")
    since = START - timedelta(days=3)
    bad = _stays([(refs[0], VILLAGE_A, since, None), ("GHOST", VILLAGE_A, since, None),
                  (refs[1], "440899999999", since, None),
                  (refs[2], VILLAGE_A, since, since - timedelta(days=1)),
                  (refs[0], VILLAGE_A, since, None)])
    with pytest.raises(Invalid) as caught:
        stays.import_file(session, actor=admin, source=bad, filename="stays.csv")
    assert {(p.line, p.field) for p in caught.value.problems} == {
        (3, "person_ref"), (4, "division_code"), (5, "until"), (6, "since")}
    assert stays.list_for(session, actor=admin, person_ref=refs[0]) == []  # atomic
    good = _stays([(refs[0], VILLAGE_A, since, None), (refs[1], VILLAGE_A, since, None)])
    first = stays.import_file(session, actor=admin, source=good, filename="stays.csv")
    again = stays.import_file(session, actor=admin, source=good, filename="stays.csv")
    assert (first.inserted, again.inserted, again.unchanged) == (2, 0, 2)
    left = _stays([(refs[1], VILLAGE_A, since, since + timedelta(days=1))])
    assert stays.import_file(session, actor=admin, source=left, filename="l.csv").updated == 1
    [stay] = stays.list_for(session, actor=admin, person_ref=refs[1])
    assert stay.until == since + timedelta(days=1)
    worker = make_actor(Role.community_worker, "440803", name="w")
    with pytest.raises(Invalid) as caught:
        stays.import_file(session, actor=worker, source=good, filename="stays.csv")
    assert "outside your jurisdiction" in caught.value.problems[0].message


def test_people_staying_in_the_area_are_targeted_where_they_stay(session: Session,
                                                                 admin: Actor) -> None:
    residents = make_persons(session, admin, 2, code=VILLAGE_A, prefix="R")
    visitors = make_persons(session, admin, 3, code=VILLAGE_B, prefix="V")
    since = START - timedelta(days=2)
    stays.import_file(session, actor=admin, filename="s.csv", source=_stays([
        (visitors[0], VILLAGE_A, since, None),                          # staying now
        (visitors[1], VILLAGE_A, since, START - timedelta(days=1)),     # left before the round
        (visitors[2], "440802001", since, START + timedelta(hours=2)),  # leaves during it
        (residents[0], VILLAGE_A, since, None)]))                       # a resident: once
    round_id = make_round(session, admin, area=["440802"], zones={VILLAGE_A: "medium"})
    target = dict(session.execute(select(Target.person_id, Target.division_code)
                                  .where(Target.round_id == round_id)).all())
    from fangkong.person.models import Person

    by_ref = {ref: i for ref, i in session.execute(select(Person.ref, Person.id))}
    assert {ref for ref, i in by_ref.items() if i in target} == {
        residents[0], residents[1], visitors[0], visitors[2]}
    assert target[by_ref[visitors[0]]] == VILLAGE_A
    assert target[by_ref[visitors[2]]] == "440802001"
    pools = dict(session.execute(select(Target.person_id, Target.pool_max)
                                 .where(Target.round_id == round_id)).all())
    assert pools[by_ref[visitors[0]]] == 10 and pools[by_ref[visitors[2]]] == 20
    # the district's officer samples the visitor staying there; the visitor is covered
    officer = make_actor(Role.testing_officer, "440802", name="officer")
    issue(session, admin, round_id, ["VT"], capacity=10)
    report = importer.import_samples(session, actor=officer, round_id=round_id, filename="s",
                                     source=samples_csv([("VT", visitors[0], 1),
                                                         ("VT", residents[0], 1)]))
    assert report.inserted == 2
    status = service.status(session, actor=officer, round_id=round_id)
    assert (status.target, status.sampled) == (4, 2)
    # a visitor who left before the round is no one the officer may sample
    with pytest.raises(Invalid) as caught:
        importer.import_samples(session, actor=officer, round_id=round_id, filename="s2",
                                source=samples_csv([("VT", visitors[1], 2)]))
    assert caught.value.problems[0].field == "person_ref"


def test_stays_api(client: TestClient, session: Session) -> None:
    make_persons(session, make_actor(), 1, code=VILLAGE_A, prefix="AV")
    worker = login(client, session, "worker", Role.community_worker, "440802")
    body = {"person_ref": "AV0000", "division_code": "440802001",
            "since": (START - timedelta(days=1)).isoformat()}
    resp = client.post("/api/v1/stays", json=body, headers=worker)
    assert resp.status_code == 201 and resp.json()["inserted"] == 1, resp.text
    assert client.post("/api/v1/stays", json=body, headers=worker).json()["unchanged"] == 1
    listed = client.get("/api/v1/stays?person_ref=AV0000", headers=worker).json()
    assert [s["division_code"] for s in listed] == ["440802001"]
    analyst = login(client, session, "analyst", Role.analyst, "440802")
    assert client.post("/api/v1/stays", json=body, headers=analyst).status_code == 403
    resp = client.post("/api/v1/stays/import", headers=worker, files={"file": (
        "s.csv", _stays([("AV0000", VILLAGE_B, START, None)]))})
    assert resp.status_code == 422
    assert resp.json()["error"]["problems"][0]["field"] == "division_code"


def test_a_visitor_from_another_district_is_a_request_its_home_accepts(
        client: TestClient, session: Session) -> None:
    """Issue 19, item 3: an officer of 440802 named five 440803 residents in stays, made a
    round, and read their names and households in the not-yet-sampled list."""
    from fangkong.task.models import Task

    admin = make_actor()
    visitors = make_persons(session, admin, 5, code=VILLAGE_B, prefix="XV")
    make_persons(session, admin, 2, code=VILLAGE_A, prefix="XR")
    officer = login(client, session, "officer", Role.testing_officer, "440802")
    since = (START - timedelta(days=1)).isoformat()
    # by ref, like one of the officer's residents: no person with that ref, exactly as for a
    # ref that does not exist
    answers = []
    for ref in (visitors[0], "NOBODY"):
        resp = client.post("/api/v1/stays", headers=officer, json={
            "person_ref": ref, "division_code": VILLAGE_A, "since": since})
        assert resp.status_code == 422, resp.text
        answers.append(resp.json()["error"]["problems"][0]["message"].replace(ref, "REF"))
    assert answers[0] == answers[1]
    assert client.get(f"/api/v1/stays?person_ref={visitors[0]}",
                      headers=officer).status_code == 404
    # as a request: the same answer for the five visitors and for a ref of no one
    receipts = {client.post("/api/v1/stays/requests", headers=officer, json={
        "person_ref": ref, "division_code": VILLAGE_A, "since": since}).text
        for ref in [*visitors, "NOBODY"]}
    assert len(receipts) == 1 and '"requested"' in next(iter(receipts))
    # not in the round's target, nothing of theirs shown
    body = {"name": "R", "area": ["440802"], "start_at": START.isoformat(),
            "deadline_at": (START + timedelta(days=1)).isoformat()}
    first = client.post("/api/v1/testing/rounds", json=body, headers=officer).json()
    assert first["target"] == 2
    text = client.get(f"/api/v1/testing/rounds/{first['round_id']}/unsampled?format=csv",
                      headers=officer).text
    assert not any(ref in text for ref in visitors)
    # nor may they be put in a samples file
    assert client.post(f"/api/v1/testing/rounds/{first['round_id']}/tubes", headers=officer,
                       json={"barcodes": ["XT1"], "capacity": 10}).status_code == 200
    resp = client.post(f"/api/v1/testing/rounds/{first['round_id']}/samples", headers=officer,
                       files={"file": ("s.csv", samples_csv([("XT1", visitors[0], 1)]))})
    assert resp.status_code == 422
    assert resp.json()["error"]["problems"][0]["field"] == "person_ref"
    # the home district sees the requests, each with a task, and accepts two
    home = login(client, session, "home", Role.community_worker, "440803")
    assert client.get("/api/v1/stays/requests", headers=officer).json() == []
    asked = client.get("/api/v1/stays/requests", headers=home).json()
    assert sorted(r["person_ref"] for r in asked) == visitors
    tasks = {t.subject_id: t for t in session.query(Task).filter(Task.type == "stay_request")}
    assert {t.owning_division_code for t in tasks.values()} == {VILLAGE_B}
    by_ref = {r["person_ref"]: r["id"] for r in asked}
    assert client.post(f"/api/v1/stays/requests/{by_ref[visitors[0]]}/accept",
                       headers=officer).status_code == 404  # not the officer's to settle
    for ref in visitors[:2]:
        resp = client.post(f"/api/v1/stays/requests/{by_ref[ref]}/accept", headers=home)
        assert resp.status_code == 200 and resp.json()["status"] == "accepted", resp.text
    resp = client.post(f"/api/v1/stays/requests/{by_ref[visitors[2]]}/decline", headers=home)
    assert resp.json()["status"] == "declined"
    session.expire_all()
    assert tasks[by_ref[visitors[0]]].status.value == "done"
    assert client.post(f"/api/v1/stays/requests/{by_ref[visitors[0]]}/accept",
                       headers=home).status_code == 409
    # accepted visitors count where they stay; the others still not
    second = client.post("/api/v1/testing/rounds", json=body, headers=officer).json()
    assert second["target"] == 4
    text = client.get(f"/api/v1/testing/rounds/{second['round_id']}/unsampled?format=csv",
                      headers=officer).text
    assert [ref for ref in visitors if ref in text] == visitors[:2]
    listed = client.get(f"/api/v1/stays?person_ref={visitors[0]}", headers=officer).json()
    assert [s["division_code"] for s in listed] == [VILLAGE_A]


def test_a_stay_request_by_id_number(session: Session) -> None:
    """By ID number: a person of another district gets a request (the same receipt as a
    number of no one); one's own resident is registered at once."""
    admin = make_actor()
    rows = person_rows(2, places=[(VILLAGE_B, 1.0)], seed=3, prefix="IDV")
    rows[1]["division_code"] = VILLAGE_A
    person_importer.import_file(session, actor=admin, source=csv_bytes(rows), filename="p")
    officer = make_actor(Role.testing_officer, "440802", name="officer")
    since = START - timedelta(days=1)

    def ask(number: str) -> stays.StayRequestReceipt:
        return stays.request(session, actor=officer, data=stays.StayRequestIn(
            id_number=number, division_code=VILLAGE_A, since=since))

    visitor, nobody = ask(rows[0]["id_number"]), ask("110101199003070019")
    assert visitor == nobody and visitor.status == "requested"
    assert ask(rows[1]["id_number"]).status == "accepted"
    home = make_actor(Role.community_worker, "440803", name="home")
    assert [r.person_ref for r in stays.list_requests(session, actor=home)] == [rows[0]["ref"]]
    assert stays.list_requests(session, actor=officer) == []
    with pytest.raises(Invalid):
        stays.request(session, actor=officer, data=stays.StayRequestIn(
            division_code=VILLAGE_A, since=since))
