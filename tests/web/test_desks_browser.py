"""The testing officer's and the isolation officer's desks in a real browser (Debian's
Chromium driven by Playwright), in zh-Hans and en: a round created, its tubes issued, a samples
file with one bad line refused (the line shown) then taken, the positive pool followed from
positive to done, the unsampled list downloaded; a batch planned, one place changed by hand,
booked, a person's tests recorded, released, the way home dispatched and closed. Each screen is
measured at 1920 and 390 px wide (nothing wider than the window, no card over another) and
written to artefacts/screens/ (git-ignored)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from fangkong.core.clock import utc_now
from tests.web.browser import chromium, csp_checked_page, require_chromium, serving
from tests.web.desk_seed import TOWN, Desk, desk_day, people, results, samples

require_chromium()

from playwright.sync_api import Browser, Page, expect  # noqa: E402

from tests.web.test_workspace_browser import SCREENS, screens, sign_in  # noqa: E402

expect.set_options(timeout=15_000)  # a busy two-core machine
LOCAL = timedelta(hours=8)  # the deployment's zone (Asia/Shanghai) in the seeded settings


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Desk]]:
    from fangkong.core.db import session_scope
    from tests.conftest import seeded_engine

    engine = seeded_engine("deskb", tmp_path_factory.mktemp("deskb"), prefix="Q")
    with session_scope(engine) as session:
        desk = desk_day(session)
    with serving(engine) as url:
        yield url, desk


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium(SCREENS) as b:
        yield b


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    with csp_checked_page(browser, viewport={"width": 1920, "height": 1080},
                          locale="zh-CN", accept_downloads=True) as pg:
        yield pg


def csv_file(name: str, data: bytes) -> dict[str, Any]:
    return {"name": name, "mimeType": "text/csv", "buffer": data}


@pytest.mark.parametrize("lang", ["zh-Hans", "en"])
def test_a_round_its_files_and_its_positive_pool(page: Page, world: tuple[str, Desk],
                                                 lang: str) -> None:
    base, desk = world
    tag = "Z" if lang == "zh-Hans" else "E"
    refs = desk.refs[:3] if lang == "zh-Hans" else desk.refs[3:]
    sign_in(page, base, "wtest", lang, "/testing/desk")
    page.goto(base + "/testing/desk")
    screens(page, "desk-testing", lang)
    # the round
    start = utc_now() + LOCAL - timedelta(hours=6)
    page.locator("#r-name").fill(f"寸金第{tag}轮")
    page.locator("#r-area").select_option(TOWN)
    page.locator("#r-start_at").fill(start.strftime("%Y-%m-%dT%H:%M"))
    page.locator("#r-deadline_at").fill((start + timedelta(hours=24)).strftime("%Y-%m-%dT%H:%M"))
    page.locator("#round-form button[type=submit]").click()
    expect(page.locator("#done")).to_be_visible()
    expect(page.locator("#fig-target")).to_have_text("6")
    # tubes: one pool of ten, three singles
    page.locator("#t-barcodes").fill("\n".join(f"{tag}{k}" for k in ("P", "S1", "S2", "S3")))
    page.locator("#tubes-form button[type=submit]").click()
    expect(page.locator("#done")).to_be_visible()
    round_url = page.url.split("?")[0]
    if "/tubes" in round_url:
        round_url = round_url.rsplit("/", 1)[0]
    # a samples file with one bad line: refused whole, the line shown
    t0 = utc_now() - timedelta(hours=3)
    page.locator("#samples-file").set_input_files(csv_file("samples-1.csv", samples(
        [(f"{tag}P", refs[0], t0), (f"{tag}P", "NOBODY", t0), (f"{tag}P", refs[2], t0)])))
    page.locator("#samples-form button[type=submit]").click()
    problems = page.locator("#samples-problems tbody tr")
    expect(problems).to_have_count(1)
    expect(problems.first.locator("th")).to_have_text("3")
    expect(problems.first.locator("code")).to_have_text("person_ref")
    expect(problems.first.locator("td").last).to_have_text(
        "辖区内没有编号为 NOBODY 的人员" if lang == "zh-Hans"
        else "no person with ref NOBODY in your jurisdiction")
    screens(page, "desk-samples-refused", lang)
    page.locator("#samples-file").set_input_files(csv_file("samples-2.csv", samples(
        [(f"{tag}P", r, t0) for r in refs])))
    page.locator("#samples-form button[type=submit]").click()
    expect(page.locator("#done")).to_contain_text("samples-2.csv")
    # the pool positive
    lab = str(desk.lab_id)
    page.goto(base + "/testing/desk")
    page.locator("#results-file").set_input_files(csv_file("results-1.csv", results(
        [(f"{tag}P", "positive", t0 + timedelta(minutes=30))], lab)))
    page.locator("#results-form button[type=submit]").click()
    expect(page.locator("#done")).to_contain_text("results-1.csv")
    page.goto(round_url)
    expect(page.locator(f"#stage-positive #pool-{tag}P")).to_be_visible()
    screens(page, "desk-pool-positive", lang)
    # one member re-tested: being re-tested; the two others: done
    t1 = t0 + timedelta(minutes=40)
    for k, (tube, ref) in enumerate(zip((f"{tag}S1", f"{tag}S2", f"{tag}S3"), refs,
                                        strict=True)):
        page.goto(round_url)
        page.locator("#samples-file").set_input_files(csv_file(
            f"retest-{k}.csv", samples([(tube, ref, t1)])))
        page.locator("#samples-form button[type=submit]").click()
        expect(page.locator("#done")).to_be_visible()
        page.goto(base + "/testing/desk")
        page.locator("#results-file").set_input_files(csv_file(f"retest-results-{k}.csv", results(
            [(tube, "negative", t1 + timedelta(minutes=20))], lab)))
        page.locator("#results-form button[type=submit]").click()
        expect(page.locator("#done")).to_be_visible()
        if k == 0:
            page.goto(round_url)
            expect(page.locator(f"#stage-retest #pool-{tag}P")).to_be_visible()
            screens(page, "desk-pool-retest", lang)
    page.goto(round_url)
    expect(page.locator(f"#stage-done #pool-{tag}P")).to_be_visible()
    screens(page, "desk-pool-done", lang)
    # the unsampled list: the three others of the village
    with page.expect_download() as got:
        page.locator("#export-csv").click()
    lines = open(got.value.path(), encoding="utf-8-sig").read().splitlines()  # noqa: SIM115
    others = sorted(set(desk.refs) - set(refs))
    assert sorted(line.split(",")[0] for line in lines[1:]) == others


@pytest.mark.parametrize("lang", ["zh-Hans", "en"])
def test_a_person_isolated_tested_released_and_brought_home(
        page: Page, world: tuple[str, Desk], lang: str) -> None:
    base, desk = world
    refs = desk.refs[:2] if lang == "zh-Hans" else desk.refs[2:4]
    sign_in(page, base, "wiso", lang, "/isolation/desk")
    page.goto(base + "/isolation/desk")
    expect(page.locator(f"#site-{desk.site_id}")).to_be_visible()
    screens(page, "desk-isolation", lang)
    anchor = (utc_now() + LOCAL).date() - timedelta(days=8)
    page.locator("#b-people_text").fill(people([(r, "close_contact") for r in refs]))
    page.locator("#b-anchor").fill(anchor.isoformat())
    page.locator("#batch-form button[type=submit]").click()
    expect(page.locator("#plan")).to_be_visible()
    screens(page, "desk-plan", lang)
    # changed by hand: the second person to the hotel's last free room
    second = page.locator("#place-1")
    last = second.locator("option").last
    second.select_option(last.get_attribute("value"))
    page.locator("#book-form button[type=submit]").click()
    expect(page.locator("#done")).to_be_visible()
    page.locator(f"#site-{desk.site_id} a").click()
    expect(page.locator("#rooms tr.taken").first).to_be_visible()
    screens(page, "desk-site", lang)
    page.locator("#rooms tr.taken a").first.click()
    # each test negative (the page comes back after each)
    forms = page.locator("#tests form")
    expect(forms.first).to_be_visible()
    for k in range(forms.count()):
        forms.nth(k).locator("select").select_option("negative")
        forms.nth(k).locator("button").click()
        expect(page.locator("p.done")).to_be_visible()
    expect(page.locator("#tests .result-pending")).to_have_count(0)
    screens(page, "desk-stay-tested", lang)
    page.locator("#release-form button[type=submit]").click()
    expect(page.locator("p.done").first).to_be_visible()
    expect(page.locator("#release-form")).to_have_count(0)
    screens(page, "desk-stay-released", lang)
    # the way home: dispatched on the bus, closed on arrival
    page.goto(base + "/isolation/desk/transfers")
    pick = page.locator("#planned input[name=transfer]").first
    expect(pick).to_be_visible()
    screens(page, "desk-transfers", lang)
    pick.check()
    page.locator("#dv-vehicle_id").select_option(str(desk.bus_id))
    page.locator("#dispatch-form button[type=submit]").click()
    expect(page.locator("#done")).to_be_visible()
    arriving = page.locator("#moving li").first
    expect(arriving).to_be_visible()
    arriving.locator("button").click()
    expect(page.locator("#done")).to_be_visible()
    screens(page, "desk-transfers-closed", lang)
