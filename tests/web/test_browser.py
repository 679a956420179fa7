"""The pages in a real browser: Debian's Chromium driven by Playwright, against uvicorn serving
a database seeded for the purpose. Screenshots of each page go to tests/web/screenshots/
(git-ignored) for a person to look at."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.web.browser import chromium, csp_checked_page, require_chromium, serving
from tests.web.seed import PASSWORD

SHOTS = Path(__file__).parent / "screenshots"

require_chromium()

from playwright.sync_api import Browser, Page, expect  # noqa: E402
from playwright.sync_api import TimeoutError as PlaywrightTimeout  # noqa: E402

expect.set_options(timeout=15_000)  # a busy two-core machine


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from fangkong.core.db import session_scope
    from tests.conftest import seeded_engine
    from tests.web.seed import chain_and_transfer

    engine = seeded_engine("web", tmp_path_factory.mktemp("web"), prefix="B")
    with session_scope(engine) as session:
        chain_and_transfer(session, "B")
    with serving(engine) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium(SHOTS) as b:
        yield b


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A page that fails its test if the browser refuses anything under the pages' Content
    Security Policy."""
    with csp_checked_page(browser, viewport={"width": 1400, "height": 1000}, locale="zh-CN",
                          accept_downloads=True) as pg:
        yield pg


def shot(page: Page, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def sign_in(page: Page, base_url: str, username: str, path: str = "/",
            screenshot: str | None = None) -> None:
    page.goto(base_url + path)
    expect(page).to_have_url(f"{base_url}/login?next={path}")
    if screenshot:
        shot(page, screenshot)
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()


def figure(page: Page, key: str) -> str:
    return page.locator(f'[data-key="{key}"] > .value').inner_text()


def test_county_user_overview_and_drill_down(page: Page, base_url: str) -> None:
    sign_in(page, base_url, "bchikan", screenshot="login")
    expect(page.locator("h1")).to_contain_text("赤坎区")
    # a county: its towns as labelled tiles (no town boundaries ship), not one blank polygon
    expect(page.locator("ul.tiles > li")).to_have_count(8)
    assert "霞山区" not in page.content()
    assert (figure(page, "new"), figure(page, "quarantine"), figure(page, "community")) == (
        "5", "2", "3")
    shot(page, "overview-county")
    page.locator('.kpi[data-key="community"] a.value').click()
    expect(page).to_have_url(re.compile(r"/cases\?division=440802&classification=infection"
                                        r"&found=community&reported_from=[-\d]+&reported_to="))
    expect(page.locator("#case-count strong")).to_have_text("3")
    expect(page.locator("#case-rows tr")).to_have_count(3)
    shot(page, "cases-community")
    page.get_by_role("link", name="BC004").click()
    expect(page.locator("ol.timeline li")).to_have_count(2)  # reported, reclassified (no onset)
    expect(page.locator("ol.timeline")).to_contain_text("CT changes")
    expect(page.locator("#h-chain")).to_be_visible()
    shot(page, "case")
    page.goto(base_url + "/zones")
    expect(page.locator("#zones")).to_contain_text("高风险区")
    shot(page, "zones")
    page.goto(base_url + "/testing")
    expect(page.locator("#sec-testing")).to_be_visible()
    shot(page, "testing")
    page.goto(base_url + "/cases/" + "999999")
    expect(page.locator("h1")).to_have_text("出错了")


@pytest.mark.parametrize("width", [1920, 390])
def test_the_case_page_draws_its_chain_and_transfers(page: Page, base_url: str,
                                                     width: int) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, base_url, "bchikan")
    page.goto(base_url + "/cases")
    page.get_by_role("link", name="BC001").first.click()
    graph = page.locator(".chart-graph")
    expect(graph).to_have_attribute("data-ready", "1")
    expect(page.locator("table.chain-nodes")).to_contain_text("其他辖区病例")
    expect(page.locator("ol.transfer li")).to_have_count(3)
    # nothing wider than the page, no section over another
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    boxes = [page.locator(sel).bounding_box() for sel in
             ("section[aria-labelledby=h-person]", "section[aria-labelledby=h-timeline]",
              "section[aria-labelledby=h-chain]", "section[aria-labelledby=h-transfer]")]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert a and b
            assert (a["x"] + a["width"] <= b["x"] + 1 or b["x"] + b["width"] <= a["x"] + 1
                    or a["y"] + a["height"] <= b["y"] + 1 or b["y"] + b["height"] <= a["y"] + 1)
    shot(page, f"case-chain-{width}")


def test_the_overview_on_a_phone_is_one_column_without_overlap(page: Page,
                                                               base_url: str) -> None:
    """At 390 px every card of the overview is inside the page's width and none is over
    another (the map's two-column span once made a second, empty column: cards overlapped)."""
    page.set_viewport_size({"width": 390, "height": 900})
    failed: list[str] = []  # every resource the page asks for is there (the icon too)
    page.on("console", lambda m: failed.append(m.text) if "Failed to load" in m.text else None)
    sign_in(page, base_url, "bchikan")
    expect(page.locator("[data-chart]:not([data-ready])")).to_have_count(0)
    page.wait_for_load_state("networkidle")
    assert failed == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    boxes = [b for b in (c.bounding_box() for c in page.locator(
        ".kpis > li, .wall-grid > section, .minis > section").all()) if b]
    assert len(boxes) > 3
    for i, a in enumerate(boxes):
        assert a["x"] >= 0 and a["x"] + a["width"] <= 390 + 1
        for b in boxes[i + 1:]:
            assert (a["y"] + a["height"] <= b["y"] + 1 or b["y"] + b["height"] <= a["y"] + 1
                    or a["x"] + a["width"] <= b["x"] + 1 or b["x"] + b["width"] <= a["x"] + 1)
    shot(page, "overview-390")


def test_map_click_opens_the_district(page: Page, base_url: str) -> None:
    sign_in(page, base_url, "bcity")
    expect(page.locator(".chart-map[data-ready]")).to_have_count(1)
    # every chart drawn first: one drawn later may move the map after its point is taken
    expect(page.locator("[data-chart]:not([data-ready])")).to_have_count(0)
    shot(page, "overview-city")
    # The district's centre is taken and clicked in one step, and again if the page has not
    # left: under load a late layout change (fonts, a scrollbar) can resize the map between
    # taking a point and clicking it.
    for _ in range(5):
        point = page.evaluate("""() => {
            const el = document.querySelector('.chart-map');
            const chart = echarts.getInstanceByDom(el);
            const spec = JSON.parse(el.getAttribute('data-chart'));
            return document.fonts.ready.then(() => fetch(spec.geojson)).then(r => r.json())
                .then(geo => {
                    const f = geo.features.find(x => x.properties.code === '440803');
                    return chart.convertToPixel({seriesIndex: 0}, f.properties.cp);
                });
        }""")
        page.locator(".chart-map canvas").first.click(position={"x": point[0], "y": point[1]})
        try:
            page.wait_for_url(re.compile(r"/cases\?division="), timeout=3000)
            break
        except PlaywrightTimeout:
            continue
    expect(page).to_have_url(re.compile(r"/cases\?division=440803&"))
    expect(page.locator("#case-count strong")).to_have_text("4")
    page.goto(base_url + "/")
    page.locator("#sec-map details summary").click()
    page.locator("#sec-map table a", has_text="霞山区").click()  # that district's overview
    expect(page.locator("h1")).to_contain_text("霞山区")
    assert figure(page, "community") == "4"


def test_language_switch_large_text_and_keyboard(page: Page, base_url: str) -> None:
    sign_in(page, base_url, "bchikan", "/tasks")
    expect(page.locator("h1")).to_have_text("督办任务看板")
    shot(page, "tasks")
    page.get_by_label("语言").select_option("en")
    page.get_by_label("大字模式").check()
    page.get_by_role("button", name="应用").click()
    expect(page.locator("h1")).to_have_text("Task supervision board")
    expect(page.locator("body.large")).to_have_count(1)
    shot(page, "tasks-en-large")
    page.get_by_label("Language").select_option("zh-Hant")
    page.get_by_label("Large text").uncheck()
    page.get_by_role("button", name="Apply").click()
    page.goto(base_url + "/")
    expect(page.locator("h1")).to_contain_text("疫情防控總覽")
    expect(page.locator("[data-chart]:not([data-ready])")).to_have_count(0)
    shot(page, "overview-zh-hant")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "跳到正文"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


def test_generate_and_download_the_brief(page: Page, base_url: str, tmp_path: Path) -> None:
    sign_in(page, base_url, "bcity", "/brief")
    page.get_by_role("button", name="生成").click()
    expect(page.locator("article.brief h1")).to_contain_text("每日一研判")
    shot(page, "brief")
    for fmt, magic in (("pdf", b"%PDF"), ("xlsx", b"PK")):
        with page.expect_download() as info:
            page.locator(f"#dl-{fmt}").click()
        target = tmp_path / info.value.suggested_filename
        info.value.save_as(target)
        assert target.read_bytes().startswith(magic)
        assert target.name.startswith("brief-4408-")
        if fmt == "pdf":
            (SHOTS / "brief.pdf").write_bytes(target.read_bytes())


def test_a_page_of_one_section_uses_the_width(page: Page, base_url: str) -> None:
    sign_in(page, base_url, "bcity", path="/testing")
    section = page.locator(".grid > section#sec-testing")
    expect(section).to_have_count(1)
    grid, box = page.locator(".grid").bounding_box(), section.bounding_box()
    assert grid and box and box["width"] > 0.95 * grid["width"]


def test_every_page_works_under_the_content_security_policy(page: Page, base_url: str) -> None:
    """Every page, its charts drawn and their tooltips shown, and the API's documentation page
    (its inline script runs with the nonce; the CDN it loads from is not reached here): the
    page fixture fails the test on any refusal."""
    page.route(re.compile(r"^https?://(?!127\.0\.0\.1)"), lambda route: route.abort())
    sign_in(page, base_url, "bcity")
    page.get_by_role("link", name="病例").first.click()
    case_path = page.locator("#case-rows a").first.get_attribute("href")
    assert case_path and case_path.startswith("/cases/")
    charts = 0
    for path in ("/", "/cases", case_path, "/tasks", "/zones", "/testing", "/isolation",
                 "/surveillance", "/brief", "/api/v1/public/zones.html"):
        page.goto(base_url + path)
        expect(page.locator("[data-chart]:not([data-ready])")).to_have_count(0)
        for canvas in page.locator("[data-chart] canvas").all():
            box = canvas.bounding_box()
            assert box
            page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            page.wait_for_timeout(300)  # the tooltip's markup is written
            charts += 1
    assert charts >= 2
    assert page.locator("h1").inner_text()  # the notice, styled by its own <style>
    assert page.evaluate("getComputedStyle(document.querySelector('th')).backgroundColor") \
        == "rgb(238, 238, 238)"
    page.goto(base_url + "/docs")
    assert page.evaluate("document.scripts.length") == 2
