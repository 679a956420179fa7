"""Case episodes: reporting, classification history, import, scoping."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from fangkong.case import importer, service
from fangkong.case.enums import Basis, Classification, DetectionMode, Severity
from fangkong.case.schemas import CaseCreate, Reclassify
from fangkong.core.auth import Actor, Role
from fangkong.core.errors import Invalid, NotFound
from fangkong.person import importer as person_importer
from tests.conftest import login, make_actor
from tests.helpers import csv_bytes, person_rows

REPORTED = datetime(2022, 5, 9, 2, 0, tzinfo=UTC)


@pytest.fixture
def people(session: Session) -> list[dict[str, str]]:
    rows = person_rows(4, places=[("440802001001", 1.0)], seed=2)
    rows[3]["division_code"] = "440803001001"
    person_importer.import_file(session, actor=make_actor(), source=csv_bytes(rows),
                                filename="p.csv")
    return rows


def _case(ref: str, person_ref: str, **kw: object) -> CaseCreate:
    fields: dict[str, object] = {
        "ref": ref, "person_ref": person_ref, "classification": Classification.confirmed,
        "severity": Severity.mild, "reported_at": REPORTED,
        "detection_mode": DetectionMode.fever_clinic, "owning_division_code": "440802"}
    return CaseCreate.model_validate(fields | kw)


def test_history_records_each_step(session: Session, admin: Actor,
                                   people: list[dict[str, str]]) -> None:
    case = service.create(session, actor=admin, data=_case("C1", people[0]["ref"]))
    assert [(h.from_classification, h.to_classification) for h in case.history] == [
        (None, Classification.confirmed)]
    case = service.reclassify(session, actor=admin, case_id=case.id, data=Reclassify(
        classification=Classification.confirmed, severity=Severity.severe, note="ICU"))
    step = case.history[-1]
    assert (step.from_severity, step.to_severity, step.by, step.basis) == (
        Severity.mild, Severity.severe, "admin", Basis.manual)
    with pytest.raises(Invalid):
        service.reclassify(session, actor=admin, case_id=case.id,
                           data=Reclassify(classification=Classification.confirmed))


@pytest.mark.parametrize(("change", "field"), [
    ({"severity": None}, "severity"),
    ({"classification": Classification.suspected}, "severity"),
    ({"onset_date": "2022-05-10"}, "onset_date"),
    ({"person_ref": "NOBODY"}, "person_ref"),
    ({"owning_division_code": "440899"}, "owning_division_code"),
])
def test_bad_cases_are_refused(session: Session, admin: Actor, people: list[dict[str, str]],
                               change: dict[str, object], field: str) -> None:
    with pytest.raises(Invalid) as caught:
        fields = {"ref": "C2", "person_ref": people[0]["ref"]} | change
        service.create(session, actor=admin, data=_case(**fields))  # type: ignore[arg-type]
    assert field in {p.field for p in caught.value.problems}


CSV_HEAD = ("ref,person_ref,classification,severity,onset_date,reported_at,detection_mode,"
            "owning_division_code\n")


def test_case_import_is_idempotent_and_keeps_history(session: Session, admin: Actor,
                                                     people: list[dict[str, str]]) -> None:
    a, b = people[0]["ref"], people[1]["ref"]
    first = (CSV_HEAD + f"K1,{a},asymptomatic,,,2022-05-09 10:00,in_quarantine,440802\n"
             f"K2,{b},confirmed,mild,2022-05-07,2022-05-09 11:00,fever_clinic,440802\n")
    report = importer.import_file(session, actor=admin, source=first.encode(), filename="c.csv")
    assert (report.inserted, report.updated, report.unchanged) == (2, 0, 0)
    again = importer.import_file(session, actor=admin, source=first.encode(), filename="c.csv")
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2)
    changed = first.replace(f"K1,{a},asymptomatic,,", f"K1,{a},confirmed,mild,")
    report = importer.import_file(session, actor=admin, source=changed.encode(),
                                  filename="c.csv")
    assert (report.updated, report.unchanged) == (1, 1)
    case = service.list_(session, actor=admin, classification=Classification.confirmed)[0]
    k1 = next(c for c in service.list_(session, actor=admin)[0] if c.ref == "K1")
    assert case and [h.to_classification for h in k1.history] == [
        Classification.asymptomatic, Classification.confirmed]
    assert not k1.detection_mode.community
    assert DetectionMode.fever_clinic.community


def test_case_import_errors_name_line_and_field(session: Session,
                                                people: list[dict[str, str]]) -> None:
    county = make_actor(Role.epidemiologist, "440802")
    text = (CSV_HEAD + f"K1,NOBODY,suspected,,,2022-05-09 10:00,fever_clinic,440802\n"
            f"K2,{people[0]['ref']},suspected,,,2022-05-09 10:00,fever_clinic,440803\n"
            f"K3,{people[0]['ref']},sick,,,yesterday,fever_clinic,440802\n")
    with pytest.raises(Invalid) as caught:
        importer.import_file(session, actor=county, source=text.encode(), filename="c.csv")
    where = {(p.line, p.field) for p in caught.value.problems}
    assert {(2, "person_ref"), (3, "owning_division_code"), (4, "classification"),
            (4, "reported_at")} <= where
    assert service.list_(session, actor=county)[0] == []


def test_case_scoping(client: TestClient, session: Session, admin: Actor,
                      people: list[dict[str, str]]) -> None:
    here = service.create(session, actor=admin, data=_case("H1", people[0]["ref"]))
    moved = service.create(session, actor=admin, data=_case(
        "M1", people[3]["ref"], owning_division_code="440803",
        current_division_code="440802"))
    there = service.create(session, actor=admin, data=_case(
        "T1", people[3]["ref"], owning_division_code="440803"))
    county = make_actor(Role.epidemiologist, "440802")
    assert {c.id for c in service.list_(session, actor=county)[0]} == {here.id, moved.id}
    with pytest.raises(NotFound):
        service.get(session, actor=county, case_id=there.id)
    headers = login(client, session, "ckc", Role.epidemiologist, "440802")
    assert client.get(f"/api/v1/cases/{there.id}", headers=headers).status_code == 404
    body = client.get(f"/api/v1/cases/{here.id}", headers=headers).json()
    assert body["found_in_community"] is True and len(body["history"]) == 1
