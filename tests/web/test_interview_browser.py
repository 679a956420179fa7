"""The epidemiologist's day in a real browser (Debian's Chromium driven by Playwright): a case
reported, its 流调 interview filled over two sittings (a draft, then completed), the contacts
it proposes (the person named, the person met at a venue by its 场所码) confirmed, and the
case's infector set on the chain. Also: two tabs on one interview (the second save refused
with a clear message, what it typed kept) and a form sent without its CSRF token (refused).
Each screen is measured at 1920 and 390 px (nothing wider than the window, no card over
another) and written to artefacts/screens/ in zh-Hans and en."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from tests.web.browser import chromium, csp_checked_page, require_chromium, serving
from tests.web.seed import CHIKAN, ZONE

require_chromium()

from playwright.sync_api import Browser, Page, expect  # noqa: E402

from tests.web.test_workspace_browser import SCREENS, screens, sign_in  # noqa: E402

expect.set_options(timeout=20_000)  # a busy two-core machine
ONSET = time.strftime("%Y-%m-%d", time.gmtime(time.time() - 2 * 86400))
VENUE = "IV-HAIBIN-1"


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The seeded app (prefix I: users ichikan, persons IA…, cases IC…), with a venue of
    赤坎区 where IA00000004 checked in at noon on the onset day, in a check-in store of its
    own."""
    from fangkong.core.db import session_scope
    from fangkong.person.models import Person
    from fangkong.tracing import importer, store, venues
    from fangkong.tracing.schemas import VenueCreate
    from tests.conftest import make_actor, seeded_engine

    directory = tmp_path_factory.mktemp("ivb")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(store, "checkin_dir", lambda: directory / "checkins")
        engine = seeded_engine("ivb", directory, prefix="I")
        with session_scope(engine) as session:
            admin = make_actor()
            venues.create_venue(session, actor=admin, data=VenueCreate(
                code=VENUE, name="海滨餐厅", venue_type="restaurant",  # type: ignore[arg-type]
                division_code=CHIKAN + "001"))
            met = session.scalars(select(Person.id).where(Person.ref == "IA00000004")).one()
            noon = datetime.fromisoformat(f"{ONSET}T12:00").replace(
                tzinfo=ZoneInfo(ZONE)).astimezone(UTC)
            path = directory / "checkins.csv"
            path.write_text("person_id,venue_code,t_in,t_out\n"
                            f"{met},{VENUE},{noon.isoformat()},"
                            f"{(noon + timedelta(hours=1)).isoformat()}\n")
            importer.ingest(session, actor=admin, source=path)
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


WORDS = {
    "zh-Hans": {"find": "查找", "report": "报告病例", "draft": "保存草稿",
                "complete": "完成流调并生成密接线索", "saved": "草稿已保存",
                "completed": "流调已完成", "confirm": "确认所选", "reviewed": "已处理",
                "set": "设为传染来源", "chain_saved": "设为本病例的传染来源",
                "no_venue": "辖区内没有场所码为 NO-SUCH 的场所", "named": "流调访谈",
                "co_presence": "时空伴随"},
    "en": {"find": "Find", "report": "Report the case", "draft": "Save the draft",
           "complete": "Complete the interview and propose contacts", "saved": "Draft saved",
           "completed": "Interview completed", "confirm": "Confirm the ones ticked",
           "reviewed": "reviewed", "set": "Set as infector", "chain_saved": "is now this case",
           "no_venue": "no venue with the code NO-SUCH in your jurisdiction",
           "named": "named in the interview", "co_presence": "venue co-presence"},
}
# Each language's run: the person reported as a case, and the person they name.
WHO = {"zh-Hans": ("IA00000011", "IA00000012"), "en": ("IA00000012", "IA00000011")}


def report_a_case(page: Page, base_url: str, ref: str, words: dict[str, str]) -> None:
    page.goto(base_url + "/report")
    page.locator("#q").fill(ref)
    page.get_by_role("button", name=words["find"], exact=True).click()
    page.locator("table.people a.button").first.click()
    page.locator("#f-onset_date").fill(ONSET)
    page.locator("#f-detection_mode").select_option("fever_clinic")
    page.locator("#f-severity").select_option("mild")
    page.get_by_role("button", name=words["report"]).click()
    expect(page.locator("#done")).to_be_visible()
    assert "/contacts" in page.url


@pytest.mark.parametrize("lang", ["zh-Hans", "en"])
def test_an_epidemiologists_interview_over_two_sittings_then_contacts_and_chain(
        page: Page, base_url: str, lang: str) -> None:
    words = WORDS[lang]
    case_person, named = WHO[lang]
    sign_in(page, base_url, "ichikan", lang)
    report_a_case(page, base_url, case_person, words)
    page.locator("#to-interview").click()
    expect(page.locator("#f-days-0-places")).to_be_visible()
    screens(page, "interview-start", lang)
    # first sitting: symptoms, the first day's places, a person met; saved as a draft
    page.locator("#s-fever").check()
    page.locator("#s-cough").check()
    page.locator("#f-onset_date").fill(ONSET)
    page.locator("#f-days-0-places").fill("08:00–18:00 在家；19:00 海滨餐厅")
    page.locator("#f-people-0-who").fill(named)
    page.locator("#f-people-0-first_exposure").fill(ONSET)
    page.locator("#f-people-0-last_exposure").fill(ONSET)
    page.locator("#f-people-0-setting").select_option("workplace")
    page.locator("#f-people-0-proximity").select_option("within_1m")
    page.get_by_role("button", name=words["draft"]).click()
    expect(page.locator("#done")).to_contain_text(words["saved"])
    screens(page, "interview-draft", lang)
    # second sitting, later: the draft comes back as it was; a venue by a wrong code first
    page.goto(page.url.split("?")[0])
    expect(page.locator("#f-people-0-who")).to_have_value(named)
    expect(page.locator("#s-fever")).to_be_checked()
    expect(page.locator("#f-days-0-places")).to_have_value("08:00–18:00 在家；19:00 海滨餐厅")
    page.locator("#f-venues-0-code").fill("NO-SUCH")
    page.locator("#f-venues-0-day").fill(ONSET)
    page.locator("#f-venues-0-time_in").fill("12:15")
    page.locator("#f-venues-0-time_out").fill("12:45")
    page.get_by_role("button", name=words["complete"]).click()
    expect(page.locator("#f-venues-0-code-err")).to_have_text(words["no_venue"])
    expect(page.locator("#f-venues-0-time_in")).to_have_value("12:15")  # nothing typed lost
    expect(page.locator("#f-people-0-who")).to_have_value(named)
    screens(page, "interview-error", lang)
    page.locator("#f-venues-0-code").fill(VENUE)
    page.get_by_role("button", name=words["complete"]).click()
    expect(page.locator("#done")).to_contain_text(words["completed"])
    assert "/contacts" in page.url
    # the proposals: the person named and the person met at the venue among them
    picks = page.locator("#proposed input[name=exposure]")
    expect(picks.first).to_be_visible()
    labels = " ".join(page.locator("#proposed .pick label").all_inner_texts())
    assert words["named"] in labels and words["co_presence"] in labels
    screens(page, "interview-proposals", lang)
    n = picks.count()
    assert n >= 2
    for k in range(n):
        picks.nth(k).check()
    page.get_by_role("button", name=words["confirm"]).click()
    expect(page.locator("#done")).to_contain_text(words["reviewed"])
    # one contact a person, however many proposals named them (household and interview)
    assert 2 <= page.locator("#contacts tbody tr").count() <= n
    screens(page, "interview-contacts-confirmed", lang)
    # the chain: who infected this case
    page.locator("#to-chain").click()
    expect(page.locator("#chain-edit")).to_be_visible()
    page.locator("#f-infector").fill("IC007")
    page.locator("#f-reason").fill("同一单位，IC007 发病早两天")
    page.get_by_role("button", name=words["set"]).click()
    expect(page.locator("#done")).to_contain_text(words["chain_saved"])
    expect(page.locator("#chain-current")).to_contain_text("IC007")
    expect(page.locator(".chart-graph[data-ready='1']")).to_be_visible()  # drawn
    screens(page, "chain-edited", lang)


def test_two_tabs_on_one_interview_the_second_save_is_refused(browser: Browser,
                                                              base_url: str) -> None:
    with csp_checked_page(browser, viewport={"width": 390, "height": 844},
                          locale="zh-CN") as first:
        sign_in(first, base_url, "ichikan", "zh-Hans")
        second = first.context.new_page()
        url = base_url + "/cases/1/interview"  # IC001, 赤坎区's
        first.goto(url)
        second.goto(url)
        first.locator("#f-symptom_note").fill("第一个标签页")
        first.get_by_role("button", name="保存草稿").click()
        expect(first.locator("#done")).to_contain_text("草稿已保存")
        second.locator("#f-symptom_note").fill("第二个标签页")
        second.get_by_role("button", name="保存草稿").click()
        expect(second.locator("#interview-errors")).to_contain_text(
            "该记录在您打开此表单后已被他人修改")
        expect(second.locator("#f-symptom_note")).to_have_value("第二个标签页")
        screens(second, "interview-stale", "zh-Hans")
        first.reload()
        expect(first.locator("#f-symptom_note")).to_have_value("第一个标签页")


def test_an_interview_sent_without_its_csrf_token_is_refused(page: Page,
                                                           base_url: str) -> None:
    sign_in(page, base_url, "ichikan", "en")
    page.goto(base_url + "/cases/2/interview")
    page.locator("#f-symptom_note").fill("no token")
    page.evaluate("document.querySelector('form.iv input[name=csrftoken]').remove()")
    with page.expect_response(lambda r: r.request.method == "POST") as sent:
        page.get_by_role("button", name="Save the draft").click()
    assert sent.value.status == 403
    page.goto(base_url + "/cases/2/interview")
    expect(page.locator("#iv-status")).to_have_text("not started")
    expect(page.locator("#f-symptom_note")).to_have_value("")
