"""The personal link's page in Debian's Chromium at 390 px (a phone), in the three languages:
nothing wider than the window, nothing refused under the Content Security Policy, the form
sent by a tap and acknowledged. Screenshots go to artefacts/screens/."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.web.browser import chromium, csp_checked_page, require_chromium, serving

require_chromium()

from playwright.sync_api import Browser, expect  # noqa: E402

SCREENS = Path(__file__).resolve().parents[2] / "artefacts" / "screens"
expect.set_options(timeout=20_000)  # a busy two-core machine


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """The app with one period running today; the base URL and the link's page path."""
    from fangkong.core.db import make_engine, session_scope
    from fangkong.core.migrate import upgrade
    from fangkong.geo import service as geo
    from fangkong.monitoring import service
    from fangkong.person import importer as person_importer
    from fangkong.person.models import Person
    from tests.conftest import make_actor, own_database_url
    from tests.helpers import csv_bytes, person_rows
    from tests.monitoring.conftest import managed_contact
    from tests.tracing.helpers import confirmed_case

    engine = make_engine(own_database_url("monb", tmp_path_factory.mktemp("monb")))
    upgrade(engine)
    admin = make_actor()
    with session_scope(engine) as session:
        geo.load(session, province="44")
        rows = person_rows(4, places=[("440802001001", 1.0)], seed=9, prefix="MB")
        person_importer.import_file(session, actor=admin, source=csv_bytes(rows),
                                    filename="p.csv")
        found = {p.ref: p for p in session.scalars(select(Person))}
        case_id = confirmed_case(session, admin, found[rows[0]["ref"]])
        cid = managed_contact(session, admin, found[rows[3]["ref"]], case_id,
                              last=service.local_today() - timedelta(days=9))
        (period,) = [p for p in service.list_periods(session, actor=admin)
                     if p.contact_id == cid]
        path = service.issue_link(session, actor=admin, period_id=period.id).path + "/page"
    with serving(engine) as url:
        yield url, path


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium(SCREENS) as b:
        yield b


@pytest.mark.parametrize(("lang", "send"), [
    ("zh-Hans", "提交报告"), ("zh-Hant", "提交報告"), ("en", "Send the report")])
def test_link_page_on_a_phone(browser: Browser, served: tuple[str, str], lang: str,
                              send: str) -> None:
    base, path = served
    with csp_checked_page(browser, viewport={"width": 390, "height": 844},
                          locale=lang) as page:
        page.goto(f"{base}{path}?lang={lang}")
        button = page.get_by_role("button", name=send)
        expect(button).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        box = button.bounding_box()
        assert box is not None and box["height"] >= 48  # a thumb's target
        page.screenshot(path=str(SCREENS / f"monitoring-link-390-{lang}.png"), full_page=True)
        if lang == "en":  # one report, by taps: yesterday (the second day offered)
            page.locator('input[name="day"]').nth(1).check()
            page.fill("#temperature", "36.6")
            page.get_by_label("cough").check()
            button.click()
            expect(page.get_by_role("status")).to_contain_text("has been received")
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
            page.screenshot(path=str(SCREENS / "monitoring-link-390-sent.png"), full_page=True)
