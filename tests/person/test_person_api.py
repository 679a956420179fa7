"""The persons API: sign-in, scoping (out of scope looks exactly like missing), lookups,
audited unmasking, keyset pages, bulk upload."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.core.audit import AuditEntry
from fangkong.core.auth import Role
from fangkong.person import importer
from tests.conftest import login, make_actor
from tests.helpers import csv_bytes, person_rows

PLACES = [("440802001001", 1.0), ("440803001001", 1.0)]


def _load(session: Session, n: int = 20) -> list[dict[str, str]]:
    rows = person_rows(n, places=PLACES, seed=5)
    importer.import_file(session, actor=make_actor(), source=csv_bytes(rows), filename="p.csv")
    return rows


def test_sign_in_is_required(client: TestClient) -> None:
    for headers in ({}, {"Authorization": "Bearer not-a-token"}):
        resp = client.get("/api/v1/persons", headers=headers)
        assert resp.status_code == 401
        assert resp.json()["error"]["code"] == "unauthenticated"


def test_county_user_sees_only_the_county(client: TestClient, session: Session) -> None:
    rows = _load(session)
    headers = login(client, session, "ck", Role.epidemiologist, "440802")
    seen, cursor = [], None
    while True:
        params = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        page = client.get("/api/v1/persons", params=params, headers=headers).json()
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    mine = [r["ref"] for r in rows if r["division_code"].startswith("440802")]
    assert sorted(p["ref"] for p in seen) == sorted(mine) and len(seen) == len(set(
        p["id"] for p in seen))
    assert all(p["id_number_masked"][6:14] == "********" for p in seen)
    other_ref = next(r["ref"] for r in rows if r["division_code"].startswith("440803"))
    boss = login(client, session, "boss", Role.commander, "4408")
    other = client.get("/api/v1/persons", params={"division": "440803"}, headers=boss).json()
    other_id = next(p["id"] for p in other["items"] if p["ref"] == other_ref)
    hidden = client.get(f"/api/v1/persons/{other_id}", headers=headers)
    missing = client.get("/api/v1/persons/99999999", headers=headers)
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["error"].keys() == missing.json()["error"].keys()
    assert hidden.json()["error"]["code"] == missing.json()["error"]["code"] == "not_found"


def test_exact_lookup_and_audited_unmasking(client: TestClient, session: Session) -> None:
    rows = _load(session)
    target = next(r for r in rows if r["phone"] and r["division_code"].startswith("440802"))
    headers = login(client, session, "ck2", Role.epidemiologist, "440802")
    by_id = client.get("/api/v1/persons", params={"id_number": target["id_number"]},
                       headers=headers).json()["items"]
    by_phone = client.get("/api/v1/persons", params={"phone": target["phone"]},
                          headers=headers).json()["items"]
    assert [p["ref"] for p in by_id] == [target["ref"]]
    assert target["ref"] in [p["ref"] for p in by_phone]
    person_id = by_id[0]["id"]
    plain = client.get(f"/api/v1/persons/{person_id}/identifiers", headers=headers).json()
    assert plain["id_number"] == target["id_number"]
    last = session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
    assert last is not None and last.fields == ["id_number", "phone"]
    assert last.record_ids == [str(person_id)] and last.actor == "ck2"
    analyst = login(client, session, "an", Role.analyst, "440802")
    assert client.get("/api/v1/persons", headers=analyst).status_code == 403


def test_create_and_bad_input(client: TestClient, session: Session) -> None:
    headers = login(client, session, "cw", Role.community_worker, "440802")
    good = person_rows(1, places=PLACES)[0]
    made = client.post("/api/v1/persons", headers=headers, json=good | {"synthetic": True})
    assert made.status_code == 201, made.text
    assert made.json()["id_number_masked"] == good["id_number"][:6] + "********" + good[
        "id_number"][-4:]
    bad = client.post("/api/v1/persons", headers=headers,
                      json=good | {"ref": "X1", "id_number": good["id_number"][:-1] + "0"
                                   if good["id_number"][-1] != "0" else good["id_number"][:-1]
                                   + "1"})
    assert bad.status_code == 422
    assert [p["field"] for p in bad.json()["error"]["problems"]] == ["id_number"]
    dup = client.post("/api/v1/persons", headers=headers, json=good)
    assert dup.status_code == 409
    assert client.get("/api/v1/persons", params={"cursor": "!!"},
                      headers=headers).status_code == 422


def test_upload(client: TestClient, session: Session) -> None:
    headers = login(client, session, "up", Role.epidemiologist, "4408")
    data = csv_bytes(person_rows(5, places=PLACES))
    ok = client.post("/api/v1/persons/import", headers=headers,
                     files={"file": ("people.csv", data, "text/csv")})
    assert ok.status_code == 200 and ok.json()["inserted"] == 5
    bad = client.post("/api/v1/persons/import", headers=headers,
                      files={"file": ("bad.csv", b"ref,name,division_code\nA,,4408\n", "text/csv")})
    assert bad.status_code == 422
    assert {"file": "bad.csv", "line": 2, "field": "name",
            "message": "is required"} in bad.json()["error"]["problems"]
