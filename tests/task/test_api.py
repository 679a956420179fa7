from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from fangkong.core.auth import Role
from fangkong.core.clock import utc_now
from tests.conftest import login


def test_tasks_api(client: TestClient, session: Session) -> None:
    boss = login(client, session, "boss", Role.commander, "4408")
    worker = login(client, session, "worker", Role.community_worker, "440803")
    due = (utc_now() - timedelta(hours=1)).isoformat()
    made = client.post("/api/v1/tasks", headers=boss, json={
        "type": "transfer_to_quarantine", "title": "转运", "owning_division_code": "440802001",
        "due_at": due})
    assert made.status_code == 201, made.text
    task_id = made.json()["id"]
    assert made.json()["overdue"] is True
    assert client.get(f"/api/v1/tasks/{task_id}", headers=worker).status_code == 404
    assert client.get("/api/v1/tasks/999999", headers=worker).json() == client.get(
        f"/api/v1/tasks/{task_id}", headers=worker).json() | {
        "error": {"code": "not_found", "message": "task 999999 not found"}}
    escalated = client.post("/api/v1/tasks/escalate", headers=boss).json()
    assert task_id in escalated["task_ids"]
    board = client.get("/api/v1/tasks/overdue", headers=boss).json()
    assert {"division_code": "440802001", "unit_id": None, "overdue": 1, "escalated": 1} in board
    bad = client.post("/api/v1/tasks", headers=boss, json={
        "type": "Bad Type", "title": "", "owning_division_code": "4408", "due_at": due})
    assert bad.status_code == 422
    assert {p["field"] for p in bad.json()["error"]["problems"]} >= {"type", "title"}
    done = client.patch(f"/api/v1/tasks/{task_id}", headers=boss, json={"status": "done"})
    assert done.json()["status"] == "done" and done.json()["overdue"] is False
