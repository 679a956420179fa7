"""The tracing API: venues, manual exposures, contacts with hours, scoping."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from fangkong.case import service as cases
from fangkong.case.enums import Classification, DetectionMode, Severity
from fangkong.case.schemas import CaseCreate
from fangkong.core.auth import Actor, Role
from fangkong.person.models import Person
from tests.conftest import login


def test_exposure_contact_and_status_over_http(client: TestClient, session: Session,
                                               admin: Actor, people: list[Person]) -> None:
    headers = login(client, session, "epi", Role.epidemiologist, "440802")
    other = login(client, session, "far", Role.epidemiologist, "440803")
    resp = client.post("/api/v1/tracing/venues", headers=headers, json={
        "code": "V-API", "name": "Cafe", "venue_type": "restaurant", "division_code": "440802"})
    assert resp.status_code == 201, resp.text
    resp = client.post("/api/v1/tracing/venues", headers=other, json={
        "code": "V-API2", "name": "Cafe", "venue_type": "restaurant",
        "division_code": "440802"})
    assert resp.status_code == 422
    case = cases.create(session, actor=admin, data=CaseCreate(
        ref="API1", person_ref=people[0].ref, classification=Classification.confirmed,
        severity=Severity.mild, first_positive_sample_date="2022-05-06",  # type: ignore[arg-type]
        reported_at=datetime(2022, 5, 7, 2, 0, tzinfo=UTC),
        detection_mode=DetectionMode.community_screening, owning_division_code="440802"))
    resp = client.post("/api/v1/tracing/exposures", headers=headers, json={
        "source_case_id": case.id, "exposed_person_id": people[3].id,
        "first_exposure": "2022-05-05", "last_exposure": "2022-05-06", "setting": "workplace"})
    assert resp.status_code == 201, resp.text
    contact_id = resp.json()["contact_id"]
    resp = client.post(f"/api/v1/tracing/contacts/{contact_id}/status", headers=headers,
                       json={"status": "under_management", "at": "2022-05-07T12:30:00Z"})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["hours_to_management"] == 10.5 and body["role"] == "close_contact"
    assert [h["to_status"] for h in body["history"]] == ["identified", "under_management"]
    assert client.get(f"/api/v1/tracing/contacts/{contact_id}", headers=other).status_code == 404
    listed = client.get(f"/api/v1/tracing/cases/{case.id}/contacts", headers=headers).json()
    assert [c["id"] for c in listed] == [contact_id]
    resp = client.post(f"/api/v1/tracing/cases/{case.id}/proposals", headers=headers)
    assert resp.status_code == 200, resp.text
    assert resp.json()["household"] == 0  # proposed already, when the case was reported
    from fangkong.tracing import service

    auto = [e for e in service.exposures_of(session, actor=admin, case_id=case.id)
            if e.origin.value == "household"]
    assert sorted(e.exposed_person_id for e in auto) == [people[1].id, people[2].id]


def test_checkins_upload(client: TestClient, session: Session, people: list[Person],
                         venues: list[int], tmp_path: Path,
                         monkeypatch: pytest.MonkeyPatch) -> None:
    from fangkong.tracing import store

    store_dir = tmp_path / "store"
    monkeypatch.setattr(store, "checkin_dir", lambda: store_dir)
    headers = login(client, session, "epi", Role.epidemiologist, "440802")
    body = ("person_id,venue_code,t_in,t_out\n"
            f"{people[0].id},V-MKT,2022-05-01T10:00:00Z,2022-05-01T10:30:00Z\n").encode()
    resp = client.post("/api/v1/tracing/checkins/import", headers=headers,
                       files={"file": ("c.csv", body, "text/csv")})
    assert resp.status_code == 200, resp.text
    assert resp.json()["stored"] == 1 and (store_dir / "day=2022-05-01").is_dir()
    resp = client.post("/api/v1/tracing/checkins/import", headers=headers,
                       files={"file": ("c.csv", body, "text/csv")})
    assert resp.json()["unchanged"] is True
    bad = body.replace(b"V-MKT", b"V-NOPE")
    resp = client.post("/api/v1/tracing/checkins/import", headers=headers,
                       files={"file": ("bad.csv", bad, "text/csv")})
    assert resp.status_code == 422
    assert resp.json()["error"]["problems"][0]["field"] == "venue_code"


def test_a_suspected_case_confirmed_later_gets_its_proposals(
        session: Session, admin: Actor, people: list[Person]) -> None:
    from fangkong.case.schemas import Reclassify
    from fangkong.tracing import service

    case = cases.create(session, actor=admin, data=CaseCreate(
        ref="SUS1", person_ref=people[0].ref, classification=Classification.suspected,
        onset_date="2022-05-05",  # type: ignore[arg-type]
        reported_at=datetime(2022, 5, 7, 2, 0, tzinfo=UTC),
        detection_mode=DetectionMode.fever_clinic, owning_division_code="440802"))
    assert service.exposures_of(session, actor=admin, case_id=case.id) == []
    cases.reclassify(session, actor=admin, case_id=case.id, data=Reclassify(
        classification=Classification.confirmed, severity=Severity.mild, note="PCR"))
    found = service.exposures_of(session, actor=admin, case_id=case.id)
    assert sorted(e.exposed_person_id for e in found) == [people[1].id, people[2].id]
