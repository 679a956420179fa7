"""The workspace in a real browser (Debian's Chromium driven by Playwright): an
epidemiologist reports a case, reviews its proposed contacts and adds one by hand; a community
worker records a contact notified and a sampling task done. Each screen is measured at 1920 and
390 px wide (nothing wider than the window, no two cards over each other) and written to
artefacts/screens/ (git-ignored) in zh-Hans and en for a person to look at."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.web.browser import chromium, csp_checked_page, require_chromium, serving
from tests.web.seed import CHIKAN, PASSWORD, XIASHAN, Seeded

SCREENS = Path(__file__).resolve().parents[2] / "artefacts" / "screens"

require_chromium()

from playwright.sync_api import Browser, Page, expect  # noqa: E402

expect.set_options(timeout=15_000)  # a busy two-core machine
WIDTHS = (1920, 390)
ONSET = time.strftime("%Y-%m-%d", time.gmtime(time.time() - 2 * 86400))


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from fangkong.case.models import Case
    from fangkong.core.db import session_scope
    from tests.conftest import seeded_engine
    from tests.web.test_community import community_day

    engine = seeded_engine("wsb", tmp_path_factory.mktemp("wsb"), prefix="K")
    with session_scope(engine) as session:
        ids = {code: list(session.scalars(select(Case.id).where(
            Case.owning_division_code == code).order_by(Case.id))) for code in (CHIKAN, XIASHAN)}
        community_day(session, Seeded(ids[CHIKAN], ids[XIASHAN], 0))
    with serving(engine) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium(SCREENS) as b:
        yield b


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    with csp_checked_page(browser, viewport={"width": 1920, "height": 1080},
                          locale="zh-CN") as pg:
        yield pg


WIDER = """(width) => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > width + 1).slice(0, 8)
  .map(e => e.tagName + '.' + e.className + '#' + e.id + ' '
       + Math.round(e.getBoundingClientRect().right))"""
OVERLAPS = """() => {
  const boxes = [...document.querySelectorAll('main .card, main .form-errors, main .done')]
    .map(e => e.getBoundingClientRect()).filter(r => r.width > 0 && r.height > 0);
  const out = [];
  for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
    const a = boxes[i], b = boxes[j];
    const inside = (a.left <= b.left && a.right >= b.right && a.top <= b.top
                    && a.bottom >= b.bottom)
      || (b.left <= a.left && b.right >= a.right && b.top <= a.top && b.bottom >= a.bottom);
    if (!inside && a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1
        && b.top < a.bottom - 1) out.push([i, j]);
  }
  for (const card of document.querySelectorAll('main .card')) {  // nothing spills out of a card
    const c = card.getBoundingClientRect();
    for (const e of card.querySelectorAll('*')) {
      const r = e.getBoundingClientRect();
      if (r.width > 1 && (r.right > c.right + 1 || r.left < c.left - 1))
        out.push(card.id + ' ' + e.tagName + '.' + e.className);
    }
  }
  return out.slice(0, 8);
}"""


def screens(page: Page, name: str, lang: str) -> None:
    """The page at each width: nothing wider than the window, no card over another; a
    screenshot of each."""
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 1080 if width > 1000 else 844})
        page.wait_for_timeout(50)
        assert page.evaluate("document.documentElement.scrollWidth") <= width, (
            name, width, page.evaluate(WIDER, width))
        assert page.evaluate(OVERLAPS) == [], (name, width)
        page.screenshot(path=str(SCREENS / f"{name}-{lang}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1920, "height": 1080})


def sign_in(page: Page, base_url: str, username: str, lang: str, path: str = "/report") -> None:
    page.goto(base_url + "/login?next=" + path)
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.locator("#pref-lang")).to_be_visible()
    page.locator("#pref-lang").select_option(lang)
    page.locator("form.prefs button").click()
    expect(page.locator("html")).to_have_attribute("lang", lang)


WORDS = {
    "zh-Hans": {"find": "查找", "report": "报告病例", "confirm": "确认所选", "add": "添加",
                "required": "必填", "reviewed": "已处理", "added": "已添加密接",
                "notified": "已通知本人", "done": "已完成", "recorded": "已记录"},
    "en": {"find": "Find", "report": "Report the case", "confirm": "Confirm the ones ticked",
           "add": "Add", "required": "required", "reviewed": "reviewed", "added": "added",
           "notified": "Notified", "done": "Done", "recorded": "Recorded"},
}


@pytest.mark.parametrize("lang", ["zh-Hans", "en"])
def test_an_epidemiologist_reports_a_case_and_reviews_its_contacts(
        page: Page, base_url: str, lang: str) -> None:
    words = WORDS[lang]
    sign_in(page, base_url, "kchikan", lang)
    page.goto(base_url + "/report")
    # a person of the county with housemates and no case yet: the seed's persons 10 and 11
    who = "KA00000012" if lang == "en" else "KA00000011"
    page.locator("#q").fill(who)
    page.get_by_role("button", name=words["find"], exact=True).click()
    expect(page.locator("#found-count")).to_be_visible()
    screens(page, "report-find", lang)
    page.locator("table.people a.button").first.click()
    expect(page.locator("#f-ref")).to_be_visible()
    # first without how the case was found: refused next to the field, the rest kept
    page.locator("#f-onset_date").fill("2020-01-01")
    page.get_by_role("button", name=words["report"]).click()
    expect(page.locator("#f-detection_mode-err")).to_have_text(words["required"])
    expect(page.locator("#f-onset_date")).to_have_value("2020-01-01")
    screens(page, "report-case-error", lang)
    page.locator("#f-detection_mode").select_option("fever_clinic")
    page.locator("#f-severity").select_option("mild")
    page.locator("#f-onset_date").fill(ONSET)
    page.get_by_role("button", name=words["report"]).click()
    expect(page.locator("#done")).to_be_visible()
    assert "/contacts" in page.url
    screens(page, "case-contacts", lang)
    page.locator("#a-who").fill("KA00000005")
    page.locator("#a-first_exposure").fill(ONSET)
    page.locator("#a-last_exposure").fill(ONSET)
    page.locator("#a-setting").select_option("workplace")
    page.get_by_role("button", name=words["add"], exact=True).click()
    expect(page.locator("#done")).to_contain_text(words["added"])
    expect(page.locator("#contacts tbody tr")).to_have_count(1)
    screens(page, "case-contact-added", lang)


def test_proposals_are_confirmed_in_bulk(page: Page, base_url: str) -> None:
    """A case with an onset date: its household is proposed, all ticked and confirmed."""
    sign_in(page, base_url, "kchikan", "zh-Hans")
    page.goto(base_url + "/report?q=KA00000010")
    page.locator("table.people a.button").first.click()
    page.locator("#f-onset_date").fill(ONSET)
    page.locator("#f-detection_mode").select_option("community_screening")
    page.locator("#f-severity").select_option("moderate")
    page.get_by_role("button", name="报告病例").click()
    picks = page.locator("#proposed input[name=exposure]")
    expect(picks.first).to_be_visible()
    n = picks.count()
    for k in range(n):
        picks.nth(k).check()
    screens(page, "case-proposals", "zh-Hans")
    page.get_by_role("button", name="确认所选").click()
    expect(page.locator("#done")).to_contain_text(f"已处理 {n} 条线索")
    expect(page.locator("#contacts tbody tr")).to_have_count(n)
    screens(page, "case-proposals-confirmed", "zh-Hans")


@pytest.mark.parametrize("lang", ["zh-Hans", "en"])
def test_a_community_worker_records_the_days_work(page: Page, base_url: str,
                                                  lang: str) -> None:
    words = WORDS[lang]
    sign_in(page, base_url, "wgrid", lang, "/community")
    page.goto(base_url + "/community")
    cards = page.locator("li.card.person")
    expect(cards.first).to_be_visible()
    screens(page, "community", lang)
    if lang == "zh-Hans":
        page.get_by_role("button", name=words["notified"]).first.click()
        expect(page.locator("#done")).to_contain_text(words["recorded"])
        done = page.locator(".tasks form button").first
        done.click()
        expect(page.locator("#done")).to_contain_text(words["recorded"])
        screens(page, "community-recorded", lang)


@pytest.mark.parametrize("lang", ["zh-Hans", "en"])
def test_the_search_box_finds_a_person_and_a_case(page: Page, base_url: str, lang: str) -> None:
    sign_in(page, base_url, "kchikan", lang, "/search")
    page.locator("#q").fill("KC001")
    page.locator("#q").press("Enter")
    expect(page.locator("#cases a")).to_have_text("KC001")
    screens(page, "search-case", lang)
    page.locator("#q").fill("KA00000003")
    page.locator("#q").press("Enter")
    expect(page.locator("#people tbody tr")).to_have_count(1)
    screens(page, "search-person", lang)
