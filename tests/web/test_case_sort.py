"""The cases list sorted by report time, case number, division and classification, each
ascending and descending: keyset pages that continue the order exactly across their
boundaries (ties broken by id), the filters kept, the exports in the same order, and another
county's cases never shown."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.case.models import Case
from tests.web.seed import CHIKAN, CITY, Seeded, seed
from tests.web.test_pages import sign_in

COLUMNS = {"reported": "reported_at", "ref": "ref", "division": "owning_division_code",
           "classification": "classification"}


@pytest.fixture
def seeded(session: Session) -> Seeded:
    return seed(session)


def expected(session: Session, code: str, key: str, descending: bool,
             where: Any = None) -> list[int]:
    """The ids of the cases owned inside ``code`` in the order (key, id), as the list must
    give them, computed here in Python from the records."""
    stmt = select(Case).where(Case.owning_division_code.startswith(code))
    if where is not None:
        stmt = stmt.where(where)
    cases = session.scalars(stmt).all()

    def value(c: Case) -> Any:
        v = getattr(c, COLUMNS[key])
        return getattr(v, "value", v)

    # the stored value of an enum is its name; Classification's names are its values
    return [c.id for c in sorted(cases, key=lambda c: (value(c), c.id), reverse=descending)]


def listed(client: TestClient, url: str) -> tuple[list[int], int]:
    """Every case id the list shows, following its "more" links page by page; the pages."""
    ids: list[int] = []
    pages = 0
    page = client.get(url)
    while True:
        assert page.status_code == 200, page.text
        pages += 1
        ids += [int(i) for i in re.findall(r'<th scope="row"><a href="/cases/(\d+)">', page.text)]
        more = re.search(r'hx-get="([^"]+)"', page.text)
        if not more:
            return ids, pages
        assert pages < 50, "the pages do not end"
        page = client.get(more.group(1).replace("&amp;", "&"), headers={"HX-Request": "true"})


@pytest.mark.parametrize("key", list(COLUMNS))
@pytest.mark.parametrize("way", ["asc", "desc"])
def test_each_order_is_kept_across_page_boundaries(
        client: TestClient, session: Session, seeded: Seeded, key: str, way: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from fangkong.web import service

    monkeypatch.setattr(service, "PAGE", 3)  # several boundaries, ties across some
    sign_in(client, "wcity")
    ids, pages = listed(client, f"/cases?sort={key}&dir={way}")
    want = expected(session, CITY, key, way == "desc")
    assert len(want) > 6 and pages == -(-len(want) // 3)
    assert ids == want  # every case once, in the order, across every boundary
    first = client.get(f"/cases?sort={key}&dir={way}").text
    assert re.search(rf'aria-sort="{"descending" if way == "desc" else "ascending"}">'
                     rf'<a id="sort-{key}" href="/cases\?sort={key}&amp;dir='
                     rf'{"asc" if way == "desc" else "desc"}"', first)


def test_a_county_user_sees_only_their_county_in_any_order(
        client: TestClient, session: Session, seeded: Seeded,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from fangkong.web import service

    monkeypatch.setattr(service, "PAGE", 4)
    sign_in(client, "wchikan")
    theirs = set(expected(session, CITY, "ref", False)) - set(expected(
        session, CHIKAN, "ref", False))
    assert theirs  # another county's cases exist
    for key in COLUMNS:
        for way in ("asc", "desc"):
            ids, _ = listed(client, f"/cases?sort={key}&dir={way}")
            assert ids == expected(session, CHIKAN, key, way == "desc")
            assert not theirs & set(ids)


def test_filters_and_exports_follow_the_order(client: TestClient, session: Session,
                                              seeded: Seeded,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from fangkong.case.enums import Classification
    from fangkong.web import service

    monkeypatch.setattr(service, "PAGE", 2)
    sign_in(client, "wcity")
    # a filter and an order together: the filter's rows, in the order, over the pages
    ids, _ = listed(client, f"/cases?division={CHIKAN}&classification=infection"
                            "&sort=reported&dir=asc")
    assert ids == expected(session, CHIKAN, "reported", False, Case.classification.in_(
        [Classification.confirmed, Classification.asymptomatic]))
    page = client.get(f"/cases?division={CHIKAN}&sort=division&dir=asc").text
    # the filter form keeps the order; the export links carry the filters and the order
    assert '<input type="hidden" name="sort" value="division">' in page
    assert re.search(r'id="export-csv" href="/export/cases\?format=csv&amp;division=440802'
                     r'&amp;sort=division&amp;dir=asc"', page)
    refs = {c.id: c.ref for c in session.scalars(select(Case))}
    for key in COLUMNS:
        for way in ("asc", "desc"):
            resp = client.get(f"/export/cases?format=csv&sort={key}&dir={way}")
            assert resp.status_code == 200
            rows = list(csv.reader(io.StringIO(resp.content.decode("utf-8-sig"))))[1:]
            assert [r[0] for r in rows] == [refs[i] for i in expected(
                session, CITY, key, way == "desc")]


def test_an_unknown_order_or_cursor_is_refused(client: TestClient, seeded: Seeded) -> None:
    sign_in(client, "wcity")
    assert client.get("/cases?sort=name").status_code == 422
    assert client.get("/cases?sort=ref&dir=up").status_code == 422
    assert client.get("/cases?sort=ref&after=not-a-cursor").status_code == 422
    assert client.get("/export/cases?format=csv&sort=phone").status_code == 422
