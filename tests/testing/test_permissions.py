"""Testing's own permission (testing:write): a testing officer creates rounds and imports
samples and results inside their jurisdiction; other roles (epidemiologist, community
worker, isolation officer, analyst) may read what they could before but write nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fangkong.core.auth import Actor, Perm, Role
from fangkong.core.errors import Forbidden, Invalid
from fangkong.testing import importer, service
from fangkong.testing.models import Round, Sample, Tube
from fangkong.testing.schemas import LabCreate, RoundCreate, TubeIssue
from tests.conftest import login, make_actor
from tests.testing.helpers import (
    START,
    VILLAGE_A,
    VILLAGE_B,
    issue,
    lab,
    make_persons,
    make_round,
    results_csv,
    samples_csv,
)

WRITERS = {Role.testing_officer, Role.commander, Role.administrator}


def _round_data(area: str) -> RoundCreate:
    return RoundCreate(name="R", area=[area], start_at=START,
                       deadline_at=START + timedelta(days=1))


@pytest.mark.parametrize("role", list(Role))
def test_who_may_write(role: Role) -> None:
    assert make_actor(role, "440802").can(Perm.testing_write) == (role in WRITERS)


@pytest.mark.parametrize("role", [Role.epidemiologist, Role.community_worker,
                                  Role.isolation_officer, Role.analyst])
def test_other_roles_cannot_create_rounds_or_import(session: Session, admin: Actor,
                                                    role: Role) -> None:
    refs = make_persons(session, admin, 2)
    lab(session, admin)
    round_id = make_round(session, admin, area=["440802"])
    issue(session, admin, round_id, ["W1"], capacity=10)
    other = make_actor(role, "440802", name="other")
    with pytest.raises(Forbidden):
        service.create_round(session, actor=other, data=_round_data("440802"))
    with pytest.raises(Forbidden):
        service.issue_tubes(session, actor=other, round_id=round_id,
                            data=TubeIssue(barcodes=["W2"], capacity=10))
    with pytest.raises(Forbidden):
        service.create_lab(session, actor=other, data=LabCreate(
            code="L9", name="lab", division_code="440802", daily_capacity=10))
    with pytest.raises(Forbidden):
        importer.import_samples(session, actor=other, round_id=round_id, filename="s",
                                source=samples_csv([("W1", refs[0], 1)]))
    importer.import_samples(session, actor=admin, round_id=round_id, filename="s",
                            source=samples_csv([("W1", refs[0], 1)]))
    with pytest.raises(Forbidden):
        importer.import_results(session, actor=other, filename="r",
                                source=results_csv([("W1", "negative", 60)]))
    with pytest.raises(Forbidden):
        service.close_round(session, actor=other, round_id=round_id)
    assert session.scalar(select(Tube.result).where(Tube.barcode == "W1")) is None
    assert session.scalar(select(func.count()).select_from(Round)) == 1


def test_an_officer_writes_inside_their_jurisdiction_only(session: Session,
                                                         admin: Actor) -> None:
    inside = make_persons(session, admin, 3, code=VILLAGE_A, prefix="IN")
    outside = make_persons(session, admin, 1, code=VILLAGE_B, prefix="OUT")
    lab(session, admin)
    officer = make_actor(Role.testing_officer, "440802", name="officer")
    with pytest.raises(Invalid) as caught:
        service.create_round(session, actor=officer, data=_round_data("440803"))
    assert "outside your jurisdiction" in caught.value.problems[0].message
    mine = service.create_round(session, actor=officer, data=_round_data("440802"))
    assert mine.target == 3
    issue(session, officer, mine.round_id, ["M1"], capacity=10)
    with pytest.raises(Invalid) as caught:
        importer.import_samples(session, actor=officer, round_id=mine.round_id, filename="s",
                                source=samples_csv([("M1", outside[0], 1)]))
    assert caught.value.problems[0].field == "person_ref"
    report = importer.import_samples(session, actor=officer, round_id=mine.round_id,
                                     filename="s",
                                     source=samples_csv([("M1", r, 1) for r in inside]))
    assert report.inserted == 3
    # a round of another district: not visible, so no samples for it and no results
    theirs = make_round(session, admin, area=["440803"])
    issue(session, admin, theirs, ["F1"], capacity=10)
    importer.import_samples(session, actor=admin, round_id=theirs, filename="s",
                            source=samples_csv([("F1", outside[0], 1)]))
    with pytest.raises(Exception) as missing:
        importer.import_samples(session, actor=officer, round_id=theirs, filename="s",
                                source=samples_csv([("F1", inside[0], 2)]))
    assert "not found" in str(missing.value)
    with pytest.raises(Invalid) as caught:
        importer.import_results(session, actor=officer, filename="r",
                                source=results_csv([("M1", "negative", 60),
                                                    ("F1", "negative", 60)]))
    assert {(p.line, p.field) for p in caught.value.problems} == {(3, "tube_id")}
    assert "outside your jurisdiction" in caught.value.problems[0].message
    done = importer.import_results(session, actor=officer, filename="r",
                                   source=results_csv([("M1", "negative", 60)]))
    assert done.inserted == 1
    assert session.scalar(select(func.count()).select_from(Sample)) == 4


def test_api_refuses_writes_to_other_roles(client: TestClient, session: Session) -> None:
    make_persons(session, make_actor(), 2, prefix="AP")
    body = {"name": "R", "area": ["440802"], "start_at": START.isoformat(),
            "deadline_at": (START + timedelta(days=1)).isoformat()}
    worker = login(client, session, "worker", Role.community_worker, "440802")
    resp = client.post("/api/v1/testing/rounds", json=body, headers=worker)
    assert resp.status_code == 403, resp.text
    officer = login(client, session, "officer", Role.testing_officer, "440802")
    resp = client.post("/api/v1/testing/rounds", json=body, headers=officer)
    assert resp.status_code == 201, resp.text
    round_id = resp.json()["round_id"]
    assert client.post(f"/api/v1/testing/rounds/{round_id}/tubes", headers=officer,
                       json={"barcodes": ["A1"], "capacity": 10}).status_code == 200
    files = {"file": ("s.csv", samples_csv([("A1", "AP0000", 1)]))}
    assert client.post(f"/api/v1/testing/rounds/{round_id}/samples", headers=worker,
                       files=files).status_code == 403
    assert client.post(f"/api/v1/testing/rounds/{round_id}/samples", headers=officer,
                       files=files).json()["inserted"] == 1
    # the worker still reads the round's coverage and who is not yet sampled
    resp = client.get(f"/api/v1/testing/rounds/{round_id}/unsampled?format=csv",
                      headers=worker)
    assert resp.status_code == 200 and resp.text.count("\n") == 2
