"""Inputs that answered 500 under schemathesis (issue 19, item 10): integers beyond 64 bits
(SQLite's driver overflows) or, for counts kept in INTEGER columns, beyond 32 bits
(PostgreSQL), case ids that do not exist (unchecked foreign keys), and a model
built inside ``/isolation/assign/book`` refusing the request's data. Each is a 4xx now."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from fangkong.core.auth import Role
from tests.conftest import login
from tests.web.seed import CHIKAN, Seeded, seed

HUGE = 2**63  # one past BIGINT
MISSING = 2**62


@pytest.fixture
def seeded(session: Session) -> Seeded:
    return seed(session)


@pytest.fixture
def chief(client: TestClient, session: Session, seeded: Seeded) -> dict[str, str]:
    return login(client, session, "chief", Role.commander, "CN")


def _zone(client: TestClient, headers: dict[str, str], **extra: Any) -> Any:
    return client.post("/api/v1/zones", headers=headers, json={
        "name": "Z", "level": "high", "owning_division_code": CHIKAN,
        "members": [{"division_code": CHIKAN + "001001"}], "pack_id": "cn_v9",
        "last_infection_date": (date.today() - timedelta(days=1)).isoformat(), **extra})


@pytest.mark.parametrize(("method", "url", "body"), [
    ("GET", f"/api/v1/cases/{HUGE}", None),
    ("GET", f"/api/v1/persons/{HUGE}", None),
    ("GET", f"/api/v1/zones/{-HUGE - 1}", None),
    ("GET", f"/api/v1/tracing/clusters?min_size={HUGE}", None),
    ("GET", f"/api/v1/tracing/clusters?min_size={2**31}", None),  # an INTEGER column
    ("POST", "/api/v1/testing/rounds/1/tubes", {"barcodes": ["X"], "capacity": 2**31}),
    ("GET", f"/api/v1/testing/rounds/1/unsampled?after_id={HUGE}", None),
    ("POST", "/api/v1/tracing/exposures/review", {"exposure_ids": [HUGE], "confirm": True}),
    ("POST", "/api/v1/tasks", {"type": "check", "title": "t", "owning_division_code": CHIKAN,
                               "due_at": "2026-01-01T00:00:00Z", "unit_id": HUGE}),
])
def test_integers_beyond_64_bits_are_422(client: TestClient, chief: dict[str, str],
                                         method: str, url: str, body: Any) -> None:
    resp = client.request(method, url, headers=chief, json=body)
    assert resp.status_code == 422, resp.text
    assert resp.json()["error"]["problems"][0]["field"]


def test_case_ids_that_do_not_exist(client: TestClient, chief: dict[str, str],
                                    seeded: Seeded) -> None:
    resp = _zone(client, chief, case_ids=[MISSING])
    assert resp.status_code in (404, 422), resp.text
    assert str(MISSING) in resp.text
    zone = _zone(client, chief, case_ids=[seeded.chikan_case_ids[0]])
    assert zone.status_code == 201, zone.text
    resp = client.post(f"/api/v1/zones/{zone.json()['id']}/infections", headers=chief,
                       json={"reported_date": date.today().isoformat(), "case_id": MISSING})
    assert resp.status_code in (404, 422), resp.text
    resp = client.post("/api/v1/tracing/assist", headers=chief, json={
        "case_id": MISSING, "to_division_code": "440803", "contact_ids": [1]})
    assert resp.status_code in (404, 422), resp.text
    resp = client.post("/api/v1/tracing/exposures", headers=chief, json={
        "source_case_id": MISSING, "exposed_person_id": 1, "first_exposure": "2026-01-01",
        "last_exposure": "2026-01-02", "setting": "household"})
    assert resp.status_code in (404, 422), resp.text


def test_assign_and_book_refuses_bad_dates_as_422(client: TestClient,
                                                  chief: dict[str, str]) -> None:
    person = {"person_ref": "WA0000", "role": "case_mild", "lon": 110.3, "lat": 21.2}
    for body in ({"people": [person], "start_date": "2026-01-05", "planned_end": "2026-01-01"},
                 {"people": [person], "division": "4408k"}):
        resp = client.post("/api/v1/isolation/assign/book", headers=chief, json=body)
        assert resp.status_code == 422, resp.text
