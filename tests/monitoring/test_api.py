"""The monitoring API over HTTP: periods, a worker's report, the personal link (public by its
token, never a sign-in), who is due, the missed-day check; scoping by jurisdiction."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from fangkong.core.auth import Actor, Role
from fangkong.monitoring import service
from fangkong.person.models import Person
from tests.conftest import login
from tests.monitoring.conftest import managed_contact


def test_periods_reports_link_and_due_over_http(
        client: TestClient, session: Session, admin: Actor, people: list[Person],
        case_id: int) -> None:
    today = service.local_today()
    managed_contact(session, admin, people[3], case_id, last=today - timedelta(days=9))
    worker = login(client, session, "cw", Role.community_worker, "440802")
    far = login(client, session, "far", Role.community_worker, "440803")
    analyst = login(client, session, "an", Role.analyst, "440802")

    (period,) = client.get("/api/v1/monitoring/periods", headers=worker).json()
    assert period["start"] == (today - timedelta(days=1)).isoformat()
    assert client.get("/api/v1/monitoring/periods", headers=far).json() == []
    assert client.get(f"/api/v1/monitoring/periods/{period['id']}",
                      headers=far).status_code == 404
    assert client.get("/api/v1/monitoring/periods", headers=analyst).status_code == 403

    # a worker's report, after a call: yesterday, with a cough
    url = f"/api/v1/monitoring/periods/{period['id']}/reports"
    body = {"day": period["start"], "temperature": 36.8, "symptoms": ["cough"],
            "channel": "worker_call"}
    assert client.post(url, headers=far, json=body).status_code == 404
    resp = client.post(url, headers=worker, json=body)
    assert resp.status_code == 201, resp.text
    made = resp.json()
    assert (made["flagged"], made["entered_by"], len(made["task_ids"])) == (True, "cw", 3)
    assert client.post(url, headers=worker, json=body).status_code == 409
    resp = client.post(url, headers=worker, json={**body, "day": today.isoformat(),
                                                   "temperature": 50})
    assert resp.status_code == 422 and resp.json()["error"]["problems"][0]["field"] == (
        "temperature")

    # the person's link: no sign-in, nothing about the person
    link = client.post(f"/api/v1/monitoring/periods/{period['id']}/link", headers=worker)
    assert link.status_code == 201, link.text
    path = link.json()["path"]
    form = client.get(path, headers={"Accept-Language": "zh-Hant"})
    assert form.status_code == 200, form.text
    assert "person_id" not in form.text and "440802" not in form.text
    assert {"id": "loss_of_smell_or_taste", "label": "嗅覺味覺減退"} in form.json()["symptoms"]
    resp = client.post(f"{path}/reports", json={"day": today.isoformat(), "temperature": 36.4,
                                                "symptoms": [], "tested": True})
    assert resp.status_code == 201, resp.text
    assert (resp.json()["channel"], resp.json()["flagged"]) == ("self_link", False)
    assert client.post(f"{path}/reports", json={"day": today.isoformat(),
                                                "temperature": 36.4}).status_code == 409
    # the link's token is no sign-in
    token = path.rsplit("/", 1)[1]
    assert client.get("/api/v1/monitoring/periods",
                      headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert client.get(path[:-3] + "abc").status_code == 401  # tampered

    detail = client.get(f"/api/v1/monitoring/periods/{period['id']}", headers=worker).json()
    assert [(r["day"], r["channel"]) for r in detail["reports"]] == [
        (period["start"], "worker_call"), (today.isoformat(), "self_link")]
    due = client.get("/api/v1/monitoring/due", headers=worker).json()
    assert [(d["period_id"], d["reported"]) for d in due] == [(period["id"], True)]
    assert client.get("/api/v1/monitoring/due", headers=far).json() == []
    resp = client.post("/api/v1/monitoring/check", headers=worker)
    assert resp.status_code == 200 and resp.json()["missed"] == 0
