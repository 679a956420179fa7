"""The global search: persons by ID number, phone, name or number, a case by its number, a
tube by its barcode; only within the viewer's jurisdiction (another's records are not found)."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.case.models import Case
from fangkong.core.clock import utc_now
from fangkong.person import service as persons
from fangkong.testing import service as testing
from fangkong.testing.schemas import RoundCreate, TubeIssue
from tests.conftest import make_actor
from tests.web.seed import CHIKAN, XIASHAN, seed
from tests.web.test_pages import form, sign_in
from tests.web.test_workspace import people_of


def test_search_finds_within_the_jurisdiction_only(client: TestClient, session: Session) -> None:
    seeded = seed(session)
    admin = make_actor()
    now = utc_now()
    for code, barcode in ((CHIKAN, "TUBE-CK-1"), (XIASHAN, "TUBE-XS-1")):
        made = testing.create_round(session, actor=admin, data=RoundCreate(
            name=f"第1轮 {code}", area=[code], start_at=now, deadline_at=now + timedelta(hours=8)))
        testing.issue_tubes(session, actor=admin, round_id=made.round_id,
                            data=TubeIssue(barcodes=[barcode], capacity=10))
    mine, theirs = people_of(session, CHIKAN)[3], people_of(session, XIASHAN)[2]
    plain = persons.identifiers(session, actor=admin, person_id=mine.id)
    their_case = session.get(Case, seeded.xiashan_case_ids[0])
    my_case = session.get(Case, seeded.chikan_case_ids[0])
    assert their_case is not None and my_case is not None
    sign_in(client, "wchikan")
    for q in (mine.name, mine.ref, plain.id_number, plain.phone):
        page = client.get("/search", params={"q": q}).text
        assert f"/report/case?person={mine.id}" in page, q
    assert f"/cases/{my_case.id}" in client.get("/search", params={"q": my_case.ref}).text
    assert "第1轮 440802" in client.get("/search", params={"q": "TUBE-CK-1"}).text
    for q in (theirs.name, theirs.ref, their_case.ref, "TUBE-XS-1"):
        page = client.get("/search", params={"q": q}).text
        assert "辖区内未找到" in page and f"person={theirs.id}" not in page, q
        assert f"/cases/{their_case.id}\"" not in page and "第1轮 440803" not in page
    client.post("/prefs", data=form(client, lang="en", next="/search"))
    assert "Nothing in your jurisdiction matches" in client.get(
        "/search", params={"q": theirs.name}).text
    assert session.scalar(select(Case.id).where(Case.ref == their_case.ref))
