"""One meaning each: a request that clashes with what is stored (a code taken, a barcode of
another round) is a Conflict (409); a request that is wrong in itself is Invalid (422)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from fangkong.core.auth import Actor, Role
from fangkong.core.errors import Conflict, Invalid
from fangkong.testing import service
from fangkong.testing.schemas import KeyGroupCreate, TubeIssue
from tests.conftest import login
from tests.testing.helpers import issue, lab, make_round, point


def test_a_code_taken_or_a_barcode_of_another_round_is_a_conflict(session: Session,
                                                                   admin: Actor) -> None:
    lab(session, admin, "LABC")
    point(session, admin, "PTC")
    with pytest.raises(Conflict, match="a lab with code LABC exists"):
        lab(session, admin, "LABC")
    with pytest.raises(Conflict, match="a point with code PTC exists"):
        point(session, admin, "PTC")
    group = KeyGroupCreate(code="cold_chain", division_code="440802", every_days=2)
    service.create_key_group(session, actor=admin, data=group)
    with pytest.raises(Conflict, match="key group cold_chain exists"):
        service.create_key_group(session, actor=admin, data=group)
    first, second = make_round(session, admin), make_round(session, admin)
    issue(session, admin, first, ["CB1"], capacity=10)
    with pytest.raises(Conflict, match="issued to another round") as clash:
        issue(session, admin, second, ["CB1", "CB2"], capacity=10)
    assert [p.message for p in clash.value.problems] == [f"barcode CB1 belongs to round {first}"]
    with pytest.raises(Invalid, match="at most 64 characters"):  # wrong in itself
        service.issue_tubes(session, actor=admin, round_id=second,
                            data=TubeIssue(barcodes=["X" * 65], capacity=10))


def test_the_api_answers_409_for_a_code_taken(client: TestClient, session: Session) -> None:
    officer = login(client, session, "officer", Role.testing_officer, "440802")
    body = {"code": "LABAPI", "name": "实验室", "division_code": "440802",
            "daily_capacity": 1000}
    assert client.post("/api/v1/testing/labs", json=body, headers=officer).status_code == 201
    resp = client.post("/api/v1/testing/labs", json=body, headers=officer)
    assert resp.status_code == 409, resp.text
    assert resp.json()["error"]["code"] == "conflict"
