"""Chains, clusters and indicators from case-to-case links."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from fangkong.case import service as cases
from fangkong.case.enums import Classification, DetectionMode, Severity
from fangkong.case.schemas import CaseCreate, Reclassify
from fangkong.core.auth import Actor, Role
from fangkong.core.clock import set_clock
from fangkong.person.models import Person
from fangkong.tracing import chains, service
from fangkong.tracing.enums import ContactStatus, Setting
from fangkong.tracing.schemas import ExposureCreate, StatusUpdate
from tests.conftest import login


@pytest.fixture(autouse=True)
def clock() -> Iterator[None]:
    yield
    set_clock(None)


def _case(session: Session, actor: Actor, person: Person, ref: str, onset: str,
          reported: datetime) -> int:
    set_clock(lambda: reported + timedelta(hours=1))
    return cases.create(session, actor=actor, data=CaseCreate(
        ref=ref, person_ref=person.ref, classification=Classification.confirmed,
        severity=Severity.mild, onset_date=onset,  # type: ignore[arg-type]
        reported_at=reported, detection_mode=DetectionMode.fever_clinic,
        owning_division_code="440802")).id


def _link(session: Session, actor: Actor, source: int, person: Person, day: str,
          setting: Setting = Setting.household) -> int:
    e = service.add_exposure(session, actor=actor, data=ExposureCreate(
        source_case_id=source, exposed_person_id=person.id, first_exposure=day,  # type: ignore[arg-type]
        last_exposure=day, setting=setting))  # type: ignore[arg-type]
    assert e.contact_id is not None
    return e.contact_id


def test_chain_generations_clusters_and_indicators(client: TestClient, session: Session,
                                                   admin: Actor, people: list[Person]) -> None:
    r = datetime(2022, 5, 1, 2, tzinfo=UTC)
    a = _case(session, admin, people[0], "A", "2022-04-29", r)
    # b was a known contact of a before b's report; c of b; d stands alone.
    contact_b = _link(session, admin, a, people[1], "2022-04-30")
    b = _case(session, admin, people[1], "B", "2022-05-03", datetime(2022, 5, 4, tzinfo=UTC))
    service.set_status(session, actor=admin, contact_id=contact_b, data=StatusUpdate(
        status=ContactStatus.became_case, converted_case_id=b))
    _link(session, admin, b, people[2], "2022-05-03", Setting.workplace)
    c = _case(session, admin, people[2], "C", "2022-05-25", datetime(2022, 5, 26, tzinfo=UTC))
    d = _case(session, admin, people[5], "D", "2022-05-02", datetime(2022, 5, 3, tzinfo=UTC))
    _link(session, admin, d, people[6], "2022-05-02")  # a contact who never became a case

    info = chains.chain(session, actor=admin, case_id=c, layout="timeline")
    assert info["cluster_id"] == a and info["size"] == 3 and info["generations"] == 3
    assert {n["case_id"]: n["generation"] for n in info["nodes"]} == {a: 0, b: 1, c: 2}
    assert [n["case_id"] for n in info["nodes"]] == [a, b, c]  # by onset date
    assert [(e["source"], e["target"], e["setting"]) for e in info["edges"]] == [
        (a, b, "household"), (b, c, "workplace")]
    assert info["span_days"] == 26 and info["settings"] == {"household": 1, "workplace": 1}
    assert chains.chain(session, actor=admin, case_id=d)["size"] == 1
    listed = chains.clusters(session, actor=admin)
    assert [(x["cluster_id"], x["size"]) for x in listed] == [(a, 3)]

    set_clock(lambda: datetime(2022, 6, 1, tzinfo=UTC))
    ind = chains.indicators(session, actor=admin, start=date(2022, 5, 1),
                            end=date(2022, 5, 31), not_seen_days=2, max_onset_gap_days=14)
    assert ind["new_cases"] == 4 and ind["new_cases_known_contacts"] == 2  # b and c
    assert ind["new_cases_in_chains"] == 3 and ind["share_in_chains"] == 0.75
    assert ind["suspicious_links"] == [{"source": b, "target": c, "onset_gap_days": 22}]
    assert ind["contacts_not_seen"] == 2  # c's and d's contacts, unchanged since early May

    # A discarded case leaves the chain.
    cases.reclassify(session, actor=admin, case_id=b,
                     data=Reclassify(classification=Classification.discarded))
    assert chains.chain(session, actor=admin, case_id=a)["size"] == 1

    set_clock(None)  # bearer tokens are checked against the real time
    headers = login(client, session, "epi", Role.epidemiologist, "440802")
    resp = client.get(f"/api/v1/tracing/cases/{c}/chain", headers=headers,
                      params={"layout": "timeline"})
    assert resp.status_code == 200 and resp.json()["nodes"][0]["case_id"] == c
    far = login(client, session, "far", Role.epidemiologist, "440803")
    assert client.get(f"/api/v1/tracing/cases/{c}/chain", headers=far).status_code == 404
    resp = client.get("/api/v1/tracing/indicators", headers=headers,
                      params={"start": "2022-05-01", "end": "2022-05-31"})
    assert resp.status_code == 200 and resp.json()["new_cases"] == 3  # b was discarded


def test_a_chain_across_a_border_masks_the_other_districts_cases(
        client: TestClient, session: Session, admin: Actor, people: list[Person]) -> None:
    """Issue 19, item 9: a chain of one's own case showed another district's cases. A tracer
    sees them as masked nodes: generation, date and county, not the record."""
    from fangkong.case.models import Case

    r = datetime(2022, 5, 1, 2, tzinfo=UTC)
    a = _case(session, admin, people[0], "XA", "2022-04-29", r)
    contact_b = _link(session, admin, a, people[1], "2022-04-30")
    b = _case(session, admin, people[1], "XB", "2022-05-03", datetime(2022, 5, 4, tzinfo=UTC))
    service.set_status(session, actor=admin, contact_id=contact_b, data=StatusUpdate(
        status=ContactStatus.became_case, converted_case_id=b))
    _link(session, admin, b, people[2], "2022-05-03", Setting.workplace)
    c = _case(session, admin, people[2], "XC", "2022-05-25", datetime(2022, 5, 26, tzinfo=UTC))
    moved = session.get(Case, b)
    assert moved is not None
    moved.owning_division_code = moved.current_division_code = "440803001001"
    session.flush()
    set_clock(None)
    headers = login(client, session, "epi", Role.epidemiologist, "440802")
    info = client.get(f"/api/v1/tracing/cases/{c}/chain", headers=headers).json()
    nodes = {n["case_id"]: n for n in info["nodes"]}
    assert set(nodes) == {a, c, -1} and b not in nodes
    hidden = nodes[-1]
    assert hidden["masked"] is True and hidden["district"] == "440803"
    assert (hidden["generation"], hidden["date"]) == (1, "2022-05-03")
    assert hidden["ref"] is hidden["classification"] is hidden["reported_at"] is None
    assert [(e["source"], e["target"]) for e in info["edges"]] == [(a, -1), (-1, c)]
    assert "XB" not in str(info) and info["size"] == 3
    # the other district sees its own case and masks ours
    far = login(client, session, "far", Role.epidemiologist, "440803")
    theirs = client.get(f"/api/v1/tracing/cases/{b}/chain", headers=far).json()
    assert sorted(n["case_id"] for n in theirs["nodes"]) == [-2, -1, b]
    assert theirs["cluster_id"] is None  # the cluster is named by our case's id
    listed = client.get("/api/v1/tracing/clusters", headers=far).json()
    assert [(x["cluster_id"], x["size"]) for x in listed] == [(None, 3)]
