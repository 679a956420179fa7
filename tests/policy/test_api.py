from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from fangkong.core.auth import Role
from tests.conftest import login


def headers(client: TestClient, session: Session) -> dict[str, str]:
    return login(client, session, "analyst1", Role.analyst, "440802")


def test_policy_needs_a_signed_in_user(client: TestClient) -> None:
    assert client.get("/api/v1/policy/packs").status_code == 401


def test_packs(client: TestClient, session: Session) -> None:
    auth = headers(client, session)
    resp = client.get("/api/v1/policy/packs", headers=auth)
    assert resp.status_code == 200
    assert "cn_v9" in {p["id"] for p in resp.json()}
    pack = client.get("/api/v1/policy/packs/cn_20_measures", headers=auth).json()
    assert pack["extends"] == "cn_v9" and pack["roles"]["secondary_contact"]["managed"] is False
    missing = client.get("/api/v1/policy/packs/nope", headers=auth)
    assert missing.status_code == 404 and "cn_v9" in missing.json()["error"]["message"]


def test_plan_and_schedule(client: TestClient, session: Session) -> None:
    auth = headers(client, session)
    plan = client.get("/api/v1/policy/plan", headers=auth, params={
        "role": "close_contact", "anchor": "2022-05-09"})
    assert plan.status_code == 200
    assert plan.json()["pack"] == "cn_v9" and plan.json()["release_date"] == "2022-05-20"
    bad = client.get("/api/v1/policy/plan", headers=auth, params={
        "role": "tourist", "anchor": "2022-05-09", "pack": "cn_v9"})
    assert bad.status_code == 422 and bad.json()["error"]["problems"][0]["field"] == "role"
    schedule = client.get("/api/v1/policy/zone-schedule", headers=auth, params={
        "pack": "cn_v9", "level": "high", "last_infection": "2022-05-10"})
    assert [s["effective"] for s in schedule.json()["steps"]] == ["2022-05-18", "2022-05-21"]
    window = client.get("/api/v1/policy/lookback", headers=auth, params={
        "onset": "2022-05-10", "isolated_on": "2022-05-12"})
    assert window.json()["start"] == "2022-05-08"


def test_check(client: TestClient, session: Session) -> None:
    auth = headers(client, session)
    resp = client.post("/api/v1/policy/check", headers=auth, json={
        "pack": "cn_v9", "measures": [
            {"kind": "deny_care", "patient": "emergency", "grounds": "epidemic_control"}]})
    assert resp.status_code == 200
    assert [v["prohibition"] for v in resp.json()["violations"]] == [6]
    bad = client.post("/api/v1/policy/check", headers=auth, json={
        "measures": [{"kind": "deny_care", "patient": "ghost", "grounds": "other"}]})
    assert bad.status_code == 422
    assert bad.json()["error"]["problems"][0]["field"] == "[0].patient"
