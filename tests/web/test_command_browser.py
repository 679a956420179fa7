"""The command screen in a real browser (Debian's Chromium, Playwright): on a 1920×1080 wall
the overview fits the window (the document scrolls neither way) with no card over another,
as the city's commander and as a county's user, in zh-Hans and in English; at 390 px nothing
scrolls sideways and no card overlaps another. Screenshots go to artefacts/screens/
(git-ignored) for a person to look at."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.web.browser import chromium, csp_checked_page, require_chromium, serving
from tests.web.seed import PASSWORD

SCREENS = Path(__file__).resolve().parents[2] / "artefacts" / "screens"

require_chromium()

from playwright.sync_api import Browser, Page, expect  # noqa: E402

expect.set_options(timeout=15_000)  # a busy two-core machine

CARDS = ".kpis > li, .wall-grid > section, .minis > section"


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from datetime import date

    from sqlalchemy import select

    from fangkong.core.db import session_scope
    from fangkong.zone.enums import ProposalStatus
    from fangkong.zone.models import Zone, ZoneProposal
    from tests.conftest import seeded_engine

    engine = seeded_engine("wall", tmp_path_factory.mktemp("wall"), prefix="K")
    with session_scope(engine) as session:  # a change the daily evaluation proposed
        zone = session.scalars(select(Zone).where(Zone.owning_division_code == "440802")).one()
        session.add(ZoneProposal(zone_id=zone.id, proposed_on=date.today(), from_level="high",
                                 to_level="medium", lift=False, status=ProposalStatus.pending,
                                 reason="7 days without infection"))
    with serving(engine) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium(SCREENS) as b:
        yield b


def open_wall(browser: Browser, base_url: str, username: str, lang: str, width: int,
              height: int) -> Any:
    """A new context of ``width``×``height`` in ``lang`` (chosen on the sign-in page), signed
    in as ``username``, on the overview with every chart drawn."""
    ctx = csp_checked_page(browser, viewport={"width": width, "height": height})
    page: Page = ctx.__enter__()
    page.goto(f"{base_url}/login?lang={lang}&next=/")
    page.locator("#username").fill(username)
    page.locator("#password").fill(PASSWORD)
    page.locator(".login form button[type=submit]").click()
    expect(page.locator(".wall")).to_have_count(1)
    expect(page.locator("[data-chart]:not([data-ready])")).to_have_count(0)
    page.evaluate("document.fonts.ready")
    return ctx, page


def boxes(page: Page) -> list[dict[str, float]]:
    out = []
    for el in page.locator(CARDS).all():
        box = el.bounding_box()
        assert box is not None and box["width"] > 0 and box["height"] > 0
        out.append(box)
    return out


def assert_apart(found: list[dict[str, float]]) -> None:
    for i, a in enumerate(found):
        for b in found[i + 1:]:
            assert (a["x"] + a["width"] <= b["x"] + 1 or b["x"] + b["width"] <= a["x"] + 1
                    or a["y"] + a["height"] <= b["y"] + 1
                    or b["y"] + b["height"] <= a["y"] + 1), (a, b)


@pytest.mark.parametrize("lang", ["zh-Hans", "en"])
@pytest.mark.parametrize("username", ["kcity", "kchikan"])
def test_the_wall_fits_1920_by_1080_without_scrolling(browser: Browser, base_url: str,
                                                      username: str, lang: str) -> None:
    ctx, page = open_wall(browser, base_url, username, lang, 1920, 1080)
    try:
        size = page.evaluate("[document.documentElement.scrollWidth,"
                             " document.documentElement.scrollHeight]")
        assert size[0] <= 1920 and size[1] <= 1080, size
        found = boxes(page)
        # the headline figures, the map, the curve, Rt, the overdue work, the clocks and the
        # other sections: each one on the screen, none over another
        assert len(found) >= 7 + 6
        for box in found:
            assert box["x"] >= 0 and box["x"] + box["width"] <= 1920 + 1
            assert box["y"] >= 0 and box["y"] + box["height"] <= 1080 + 1
        assert_apart(found)
        for key in ("sec-map", "sec-trend", "sec-overdue", "sec-clocks"):
            assert page.locator(f"#{key}").is_visible(), key
        if username == "kchikan":  # a county: its towns as labelled tiles, not one polygon
            assert page.locator("ul.tiles > li").count() >= 5
        page.screenshot(path=str(SCREENS / f"overview-{username}-{lang}-1920.png"))
    finally:
        ctx.__exit__(None, None, None)


@pytest.mark.parametrize("lang", ["zh-Hans", "en"])
@pytest.mark.parametrize("username", ["kcity", "kchikan"])
def test_the_overview_on_a_phone_neither_overlaps_nor_scrolls_sideways(
        browser: Browser, base_url: str, username: str, lang: str) -> None:
    ctx, page = open_wall(browser, base_url, username, lang, 390, 844)
    try:
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        found = boxes(page)
        for box in found:
            assert box["x"] >= 0 and box["x"] + box["width"] <= 390 + 1
        assert_apart(found)
        page.screenshot(path=str(SCREENS / f"overview-{username}-{lang}-390.png"),
                        full_page=True)
    finally:
        ctx.__exit__(None, None, None)


def test_each_headline_figure_opens_its_records(browser: Browser, base_url: str) -> None:
    """The wall's figure of today's infections found in the community opens exactly those
    cases, and its change since yesterday is today's count less yesterday's."""
    ctx, page = open_wall(browser, base_url, "kcity", "zh-Hans", 1920, 1080)
    try:
        tile = page.locator('.kpi[data-key="community"]')
        value = tile.locator(".value").inner_text()
        assert value == "7"
        delta = tile.locator(".delta").inner_text()
        tile.locator("a.value").click()
        expect(page.locator("#case-count strong")).to_have_text(value)
        assert "▲" in delta or "持平" in delta or "▼" in delta
    finally:
        ctx.__exit__(None, None, None)


def test_a_commander_closes_a_task_and_approves_a_zone_change(browser: Browser,
                                                             base_url: str) -> None:
    ctx, page = open_wall(browser, base_url, "kcity", "zh-Hans", 1920, 1080)
    try:
        page.goto(base_url + "/tasks")
        count = page.locator("#tasks tbody tr").count()
        first = page.locator("#tasks tbody tr").first
        title = first.locator("th").inner_text()
        first.get_by_role("button", name="办结").click()
        expect(page.locator("p.done[role=status]")).to_contain_text("已保存")
        expect(page.locator("#tasks tbody tr")).to_have_count(count - 1)
        assert title not in page.locator("#tasks").inner_text()
        page.screenshot(path=str(SCREENS / "tasks-closed-zh-Hans-1920.png"), full_page=True)
        page.goto(base_url + "/zones")
        page.locator("ul.proposals button", has_text="批准").first.click()
        expect(page.locator("p.done[role=status]")).to_contain_text("已批准")
        expect(page.locator("#zones")).to_contain_text("中风险区")
        page.screenshot(path=str(SCREENS / "zones-approved-zh-Hans-1920.png"), full_page=True)
    finally:
        ctx.__exit__(None, None, None)


@pytest.mark.parametrize("width", [1920, 390])
@pytest.mark.parametrize("lang", ["zh-Hans", "en"])
def test_the_commanders_pages_on_a_desk_and_a_phone(browser: Browser, base_url: str,
                                                    lang: str, width: int) -> None:
    """The task board, the zones page and the users page: nothing runs past the page's
    width; screenshots of each."""
    ctx, page = open_wall(browser, base_url, "kcity", lang, width, 1080 if width > 400 else 844)
    try:
        for path in ("/tasks", "/zones", "/users", "/cases"):
            page.goto(base_url + path)
            expect(page.locator("h1")).to_have_count(1)
            assert page.evaluate("document.documentElement.scrollWidth") <= width, path
            page.screenshot(path=str(SCREENS / f"{path.strip('/')}-{lang}-{width}.png"),
                            full_page=True)
    finally:
        ctx.__exit__(None, None, None)
