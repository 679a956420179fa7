"""One readable-rows rule per model (persons, cases): every lookup (by id, ref, ID number,
phone; one or many), list and count goes through it, and a row outside it is answered as
one that does not exist."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from fangkong.case import service as cases
from fangkong.case.enums import Classification, DetectionMode, Severity
from fangkong.case.schemas import CaseCreate
from fangkong.core.auth import Role
from fangkong.core.errors import Invalid, NotFound
from fangkong.person import importer
from fangkong.person import service as persons
from fangkong.web import service as web
from tests.conftest import make_actor
from tests.helpers import csv_bytes, person_rows

HERE, THERE = "440802001001", "440803001001"


@pytest.fixture
def rows(session: Session) -> list[dict[str, str]]:
    found = person_rows(6, places=[(HERE, 1.0), (THERE, 1.0)], seed=9)
    for i, row in enumerate(found):
        row["division_code"] = HERE if i % 2 == 0 else THERE
    importer.import_file(session, actor=make_actor(), source=csv_bytes(found), filename="p")
    return found


def test_persons_outside_are_not_found_by_any_key(session: Session,
                                                  rows: list[dict[str, str]]) -> None:
    county = make_actor(Role.epidemiologist, "440802")
    mine = [r for r in rows if r["division_code"] == HERE]
    theirs = [r for r in rows if r["division_code"] == THERE]
    readable = {p.ref for p in session.scalars(persons.readable(county))}
    assert readable == {r["ref"] for r in mine}
    assert set(persons.ids_by_ref(session, actor=county, refs={r["ref"] for r in rows})) == \
        readable
    other = theirs[0]
    for key in ("id_number", "phone"):
        assert persons.list_(session, actor=county, **{key: other[key]})[0] == []
        assert [p.ref for p in persons.list_(session, actor=county,
                                              **{key: mine[0][key]})[0]] == [mine[0]["ref"]]
    messages = []
    for ref in (other["ref"], "NOBODY"):
        with pytest.raises(NotFound) as caught:
            persons.get_by_ref(session, actor=county, ref=ref)
        messages.append(str(caught.value).replace(ref, "REF"))
    assert messages[0] == messages[1]


def _case(ref: str, person_ref: str, owning: str, current: str | None = None) -> CaseCreate:
    return CaseCreate(ref=ref, person_ref=person_ref, classification=Classification.confirmed,
                      severity=Severity.mild, reported_at=datetime(2022, 5, 9, tzinfo=UTC),
                      detection_mode=DetectionMode.fever_clinic, owning_division_code=owning,
                      current_division_code=current)


def test_cases_one_rule_for_service_and_pages(session: Session,
                                              rows: list[dict[str, str]]) -> None:
    admin = make_actor()
    mine = cases.create(session, actor=admin, data=_case("RC1", rows[0]["ref"], "440802"))
    cases.create(session, actor=admin, data=_case("RC2", rows[1]["ref"], "440803"))
    county = make_actor(Role.epidemiologist, "440802")
    listed = {c.id for c in cases.list_(session, actor=county)[0]}
    assert listed == {c.id for c in session.scalars(cases.readable(county))} == {mine.id}
    counted = web.count_cases(session, county, web.CaseFilter(), "Asia/Shanghai")
    assert counted == len(listed)
    # a case is not "located" in another district by whoever reports it: that would make it
    # readable there
    with pytest.raises(Invalid) as caught:
        cases.create(session, actor=county, data=_case("RC3", rows[0]["ref"], "440802",
                                                       current="440803"))
    assert [p.field for p in caught.value.problems] == ["current_division_code"]
    assert "440803" not in str(caught.value.as_dict())


def test_a_taken_ref_or_id_number_is_told_alike_wherever_it_is(
        client: TestClient, session: Session, rows: list[dict[str, str]]) -> None:
    """Refs and ID numbers are unique in the whole database: creating one that is recorded
    gets one 409, the same for a record of another district as for one's own, naming neither
    place nor record."""
    from tests.conftest import login

    headers = login(client, session, "cw", Role.community_worker, "440802")
    fresh = person_rows(1, places=[(HERE, 1.0)], seed=77, prefix="NEW")[0]
    mine = next(r for r in rows if r["division_code"] == HERE)
    theirs = next(r for r in rows if r["division_code"] == THERE)
    for key in ("ref", "id_number"):
        answers = []
        for taken in (mine, theirs):
            same = [key] + (["birth_date", "sex"] if key == "id_number" else [])
            resp = client.post("/api/v1/persons", headers=headers,
                               json=fresh | {k: taken[k] for k in same})
            assert resp.status_code == 409, resp.text
            answers.append(resp.text.replace(taken[key], "KEY"))
            assert "440803" not in resp.text
        assert answers[0] == answers[1]
