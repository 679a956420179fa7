"""The web pages over a real database: sign-in, scoping, figures equal to their records,
languages, the case page, the task board, audit of personal-data reads."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.core.audit import AuditEntry
from fangkong.web.models import WebPreference
from tests.web.seed import PASSWORD, Seeded, chain_and_transfer, seed


@pytest.fixture
def seeded(session: Session) -> Seeded:
    return seed(session)


def form(client: TestClient, **fields: str) -> dict[str, str]:
    """A form's fields with the CSRF token the sign-in page gives this client."""
    if "fangkong_csrf" not in client.cookies:
        client.get("/login")
    return {**fields, "csrftoken": client.cookies["fangkong_csrf"]}


def sign_in(client: TestClient, username: str) -> None:
    resp = client.post("/login", data=form(client, username=username, password=PASSWORD,
                                           next="/"), follow_redirects=False)
    assert resp.status_code == 303, resp.text
    assert resp.headers["location"] == "/"


def figure(html: str, key: str) -> tuple[int, str]:
    """The number and the link of the figure ``key`` on a page."""
    m = re.search(rf'data-key="{key}">\s*<span class="label">[^<]*</span>\s*'
                  rf'<a class="value" href="([^"]+)"[^>]*>([\d,]+)</a>', html)
    assert m, f"figure {key} not found"
    return int(m.group(2).replace(",", "")), m.group(1).replace("&amp;", "&")


def count_on(html: str) -> int:
    m = re.search(r'id="case-count">[^<]*<strong>([\d,]+)</strong>', html)
    assert m
    return int(m.group(1).replace(",", ""))


def test_pages_need_a_signed_in_user(client: TestClient, seeded: Seeded) -> None:
    resp = client.get("/cases?found=community", follow_redirects=False)
    assert resp.status_code == 303
    assert resp.headers["location"] == "/login?next=/cases%3Ffound%3Dcommunity"
    bad = client.post("/login", data=form(client, username="wchikan", password="wrong"))
    assert bad.status_code == 401 and "用户名或密码错误" in bad.text


def test_login_redirect_never_leaves_the_site(client: TestClient, seeded: Seeded) -> None:
    resp = client.post("/login", data=form(client, username="wchikan", password=PASSWORD,
                                           next="//evil.example/"), follow_redirects=False)
    assert resp.headers["location"] == "/"


def test_county_user_sees_only_the_county(client: TestClient, seeded: Seeded) -> None:
    sign_in(client, "wchikan")
    html = client.get("/").text
    assert "赤坎区" in html and "霞山区" not in html
    assert figure(html, "new")[0] == 5  # the suspected case is not an infection
    assert figure(html, "quarantine")[0] == 2
    assert figure(html, "community")[0] == 3
    assert figure(html, "overdue")[0] == 2
    assert figure(html, "escalated")[0] == 1
    assert figure(html, "active")[0] == 3
    listed = client.get("/cases").text
    assert count_on(listed) == 10 and "WC011" not in listed
    other = client.get(f"/cases/{seeded.xiashan_case_ids[0]}")
    # the error page speaks the viewer's language (zh-Hans by default)
    assert other.status_code == 404 and f"病例 {seeded.xiashan_case_ids[0]} 不存在" in other.text
    assert client.get("/?j=440803").status_code == 404
    assert client.get("/map/4408.geojson").status_code == 404


def test_every_figure_opens_exactly_its_records(client: TestClient, seeded: Seeded) -> None:
    sign_in(client, "wcity")
    html = client.get("/").text
    for key, expected in (("new", 9), ("quarantine", 2), ("community", 7),
                          ("infections_14d", 13)):
        value, href = figure(html, key)
        assert value == expected, key
        page = client.get(href).text
        assert count_on(page) == value, key
        assert page.count('<th scope="row"><a href="/cases/') == value, key
    value, href = figure(html, "overdue")
    assert value == 3 and client.get(href).text.count('class="overdue"') == 3


def test_map_figures_per_district(client: TestClient, seeded: Seeded) -> None:
    sign_in(client, "wcity")
    html = client.get("/").text
    m = re.search(r"data-chart='([^']+)'", html)
    assert m
    import html as htmllib
    import json
    spec = json.loads(htmllib.unescape(m.group(1)))
    values = {d["name"]: d["value"] for d in spec["data"]}
    assert values["440802"] == 9 and values["440803"] == 4 and values["440811"] == 0
    href = next(d["href"] for d in spec["data"] if d["name"] == "440803")
    assert parse_qs(urlparse(href).query)["division"] == ["440803"]
    geo = client.get(spec["geojson"]).json()
    assert {f["properties"]["code"] for f in geo["features"]} >= {"440802", "440803"}


def test_filters_and_bad_filters(client: TestClient, seeded: Seeded) -> None:
    sign_in(client, "wchikan")
    assert count_on(client.get("/cases?classification=suspected").text) == 1
    assert count_on(client.get("/cases?mode=in_quarantine").text) == 2
    bad = client.get("/cases?reported_from=yesterday&found=maybe")
    assert bad.status_code == 422
    assert "reported_from" in bad.text and "found" in bad.text
    assert client.get("/cases?division=440803").status_code == 422


def test_case_page_timeline_and_audit(client: TestClient, session: Session,
                                      seeded: Seeded) -> None:
    sign_in(client, "wchikan")
    html = client.get(f"/cases/{seeded.reclassified_id}").text
    assert "WC004" in html and "分类变更" in html and "CT changes" in html
    assert "无症状感染者" in html and "确诊病例" in html
    assert "传播链与暴露" in html and "尚未接入" not in html
    assert "未与其他病例关联" in html  # a lone case
    reads = session.scalars(select(AuditEntry).where(AuditEntry.actor == "wchikan",
                                                     AuditEntry.action == "read")).all()
    assert {(e.record_type, tuple(e.record_ids)) for e in reads} >= {
        ("case", (str(seeded.reclassified_id),))}
    assert any(e.record_type == "person" and e.fields[0] == "name" for e in reads)


def test_case_page_shows_the_chain_and_the_transfers(client: TestClient, session: Session,
                                                     seeded: Seeded) -> None:
    first = chain_and_transfer(session, "W")
    sign_in(client, "wchikan")
    html = client.get(f"/cases/{first}").text
    assert "尚未接入" not in html
    assert 'class="chart chart-graph"' in html and "&#34;type&#34;: &#34;graph&#34;" in html
    nodes = html[html.index('class="chain-nodes"'):html.index('class="chain-links"')]
    assert "WC001" in nodes and ">WC007</a>" in nodes and "其他辖区病例 (440803)" in nodes
    assert "WC011" not in html  # the other district's case is masked
    assert "共同居住" in html
    timeline = html[html.index('id="h-transfer"'):]
    assert "转运入住" in timeline and "已到达" in timeline and "海湾酒店" in timeline
    assert [s in timeline for s in ("申请转运", "派车出发", "到达")] == [True] * 3
    assert timeline.index("申请转运") < timeline.index("派车出发") < timeline.index(">到达<")


def test_language_choice_is_stored_per_user(client: TestClient, session: Session,
                                            seeded: Seeded) -> None:
    sign_in(client, "wchikan")
    resp = client.post("/prefs", data=form(client, lang="en", large_text="1", next="/tasks"),
                       follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"] == "/tasks"
    pref = session.scalars(select(WebPreference)).one()
    assert (pref.lang, pref.large_text) == ("en", True)
    client.cookies.clear()
    sign_in(client, "wchikan")
    html = client.get("/tasks").text
    assert "Task supervision board" in html and 'class="large"' in html
    assert 'lang="en"' in html
    client.post("/prefs", data=form(client, lang="zh-Hant", next="/"))
    html = client.get("/").text
    assert "隔離管控中發現" in html and 'class="large"' not in html
    assert "赤坎區" in html and "赤坎区" not in html  # place names in traditional characters
    assert client.post("/prefs", data=form(client, lang="fr", next="/")).status_code == 422


def test_unavailable_capabilities_show_no_figures(client: TestClient, seeded: Seeded,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    # Rt needs the pack's serial interval; who_2021 gives none: a labelled placeholder
    from fangkong.core.config import get_settings

    monkeypatch.setenv("FANGKONG_ACTIVE_POLICY_PACK", "who_2021")
    get_settings.cache_clear()
    try:
        sign_in(client, "wchikan")
        html = client.get("/brief").text
    finally:
        monkeypatch.delenv("FANGKONG_ACTIVE_POLICY_PACK")
        get_settings.cache_clear()
    section = html[html.index('id="sec-rt"'):]
    section = section[:section.index("</section>")]
    assert "尚未接入" in section and "who_2021" in section
    assert 'class="figures"' not in section and "<table" not in section


def test_case_list_pages_with_htmx(client: TestClient, seeded: Seeded) -> None:
    from fangkong.web import service

    sign_in(client, "wcity")
    old = service.PAGE
    service.PAGE = 5
    try:
        first = client.get("/cases").text
        more = re.search(r'hx-get="([^"]+)"', first)
        assert more
        part = client.get(more.group(1).replace("&amp;", "&"), headers={"HX-Request": "true"})
    finally:
        service.PAGE = old
    assert "<html" not in part.text and part.text.count("/cases/") >= 5


def test_every_label_used_by_a_template_is_translated() -> None:
    from fangkong.web import i18n
    from fangkong.web.pages import HERE

    used = set()
    for path in (HERE / "templates").glob("*.html"):
        used |= set(re.findall(r"""\bt\(["']([\w.]+)["']\)""", path.read_text("utf-8")))
    assert used and used <= set(i18n.MESSAGES), used - set(i18n.MESSAGES)
    assert all(set(v) == set(i18n.LANGS) and all(v.values()) for v in i18n.MESSAGES.values())


def test_api_errors_keep_the_json_shape(client: TestClient, seeded: Seeded) -> None:
    resp = client.get("/api/v1/cases/1")
    assert resp.status_code == 401 and resp.json()["error"]["code"] == "unauthenticated"
    assert resp.headers["www-authenticate"] == "Bearer"
    sign_in(client, "wchikan")  # a page session is not an API token
    assert client.get("/api/v1/cases/1").status_code == 401


def test_timeline_orders_dates_before_instants_of_the_day(session: Session,
                                                         seeded: Seeded) -> None:
    from fangkong.case.models import Case
    from fangkong.web.service import timeline

    case = session.get(Case, seeded.chikan_case_ids[0])
    assert case is not None
    assert [e["what"] for e in timeline(case, "Asia/Shanghai")] == ["case.onset", "case.report"]
    changed = session.get(Case, seeded.reclassified_id)
    assert changed is not None
    assert [e["what"] for e in timeline(changed, "Asia/Shanghai")] == [
        "case.report", "case.change"]


def test_zones_page_and_section_are_scoped(client: TestClient, seeded: Seeded) -> None:
    sign_in(client, "wchikan")
    html = client.get("/").text
    n, href = figure(html, "zones_active")
    assert n == 1 and href == "/zones?j=440802"
    page = client.get(href).text
    assert "海滨花园" in page and "霞湖小区" not in page
    assert "高风险区" in page and "尚需满足" in page  # its clock: day 7 round still to come
    assert client.get("/zones?j=440803").status_code == 404
    medium = client.get("/zones?j=440802&level=medium").text
    assert 'id="zones"' not in medium and "辖区内没有风险区" in medium


def test_isolation_page_shows_rooms_and_clocks(client: TestClient, seeded: Seeded) -> None:
    sign_in(client, "wchikan")
    n, href = figure(client.get("/").text, "iso_active_rooms")
    assert (n, href) == (10, "/isolation?j=440802")
    page = client.get(href).text
    assert 'id="sec-isolation"' in page and 'id="sec-clocks"' in page
    assert figure(page, "iso_occupied_rooms")[0] == 1
    reserve = page.split('id="sec-isolation"')[1].split("</table>")[0]
    assert ">赤坎区</a>" in reserve and ">440802<" not in reserve  # counties by name


def test_surveillance_page_lists_alerts(client: TestClient, session: Session,
                                        seeded: Seeded) -> None:
    from datetime import date

    from fangkong.core.clock import utc_now
    from fangkong.surveillance.enums import AlertStatus
    from fangkong.surveillance.models import Alert, AlertRule

    rule = AlertRule(name="ears", series="cases", case_split="all", date_basis="report",
                     period="daily", method="ears-c1", params={}, division_codes=["440802"],
                     active=True, created_by="t", created_at=utc_now())
    session.add(rule)
    session.flush()
    for code, day, status in (("440802", 9, AlertStatus.open), ("440803", 9, AlertStatus.open),
                              ("440802", 10, AlertStatus.dismissed)):
        session.add(Alert(rule_id=rule.id, division_code=code, period_start=date(2022, 5, day),
                          observed=7, upperbound=3.28, status=status, evidence={},
                          created_at=utc_now(), updated_at=utc_now()))
    session.flush()
    sign_in(client, "wchikan")
    n, href = figure(client.get("/").text, "alerts_open")
    assert (n, href) == (1, "/surveillance?j=440802")
    page = client.get(href).text
    assert 'id="sec-alerts"' in page and ">3.3<" in page  # the bound, 1 decimal


def test_long_lists_are_capped_on_pages_but_whole_in_the_brief(
        client: TestClient, seeded: Seeded, monkeypatch: pytest.MonkeyPatch) -> None:
    from fangkong.web import sections

    def long_list(ctx: sections.Context) -> sections.Section:
        rows = [[sections.Cell(f"R{i:02d}"), sections.Cell(i)] for i in range(25)]
        return sections.Section(key="longlist", title="long", tables=[sections.Table(
            "long", ["ref", "n"], rows, page_rows=10, more_href="/zones?j=440802")])

    monkeypatch.setitem(sections.REGISTRY, "longlist", sections.Registered(
        "longlist", "long", frozenset({"overview", "brief"}), 999, long_list))
    sign_in(client, "wchikan")

    def section(html: str) -> str:
        part = html[html.index('id="sec-longlist"'):]
        return part[:part.index("</section>")]

    page = section(client.get("/").text)
    assert page.count("<tr>") == 11 and "R09" in page and "R10" not in page  # head + 10
    assert "显示前 10 条，共 25 条" in page and 'href="/zones?j=440802">查看全部' in page
    brief = section(client.get("/brief").text)
    assert brief.count("<tr>") == 26 and "R24" in brief and "查看全部" not in brief


def test_generated_task_titles_are_in_the_readers_language(
        client: TestClient, session: Session, seeded: Seeded) -> None:
    """A contact's notification task: Chinese on the Chinese board, English in English, and
    none of the English message's words in the zh-Hans pages."""
    from fangkong.person.models import Person
    from fangkong.task.models import Task
    from fangkong.tracing import service
    from fangkong.tracing.schemas import ExposureCreate
    from tests.conftest import make_actor

    case_id = seeded.chikan_case_ids[0]
    person = session.scalars(select(Person).where(Person.ref == "WA00000012")).one()
    service.add_exposure(session, actor=make_actor(), data=ExposureCreate(
        source_case_id=case_id, exposed_person_id=person.id, first_exposure=utc_day(),
        last_exposure=utc_day(), setting="household"))  # type: ignore[arg-type]
    task = session.scalars(select(Task).where(Task.type == "notify_contact")).one()
    assert task.title_key == "notify_contact"
    assert task.title == f"Notify contact (person {person.id}) of case {case_id}: close contact"
    sign_in(client, "wchikan")
    html = client.get("/tasks").text
    # the board names the person (a reader who may read persons), never by their row id
    assert f"通知密切接触者（人员 {person.name}，病例 {case_id}）" in html
    zones = client.get("/zones").text
    assert "无新增感染" in zones and "区域核酸筛查全部阴性" in zones  # lifting conditions
    for page in (html, client.get(f"/cases/{case_id}").text, zones, client.get("/brief").text):
        for english in ("Notify contact", "close contact", "no new infection", "area-wide",
                        "not available"):
            assert english not in page
    client.post("/prefs", data=form(client, lang="zh-Hant", next="/tasks"))
    assert f"通知密切接觸者（人員 {person.name}，病例 {case_id}）" in client.get("/tasks").text
    client.post("/prefs", data=form(client, lang="en", next="/tasks"))
    assert task.title.replace(str(person.id), person.name) in client.get("/tasks").text
    from fangkong.task.schemas import TaskRead
    api = TaskRead.model_validate(task).model_dump()  # what the API returns
    assert (api["title"], api["title_key"], api["title_params"]["role"]) == (
        task.title, "notify_contact", "close_contact")


def utc_day() -> str:
    from fangkong.core.clock import utc_now
    return utc_now().date().isoformat()


def test_each_role_is_shown_only_the_pages_it_can_open(client: TestClient, session: Session,
                                                       seeded: Seeded) -> None:
    """Every role signs in and lands on a page it can read (a community worker, who reads no
    cases, on the community page); every page of its navigation answers 200, and no page
    that would refuse it is offered."""
    from fangkong.core.auth import ROLE_PERMS, Role
    from fangkong.user import service as users
    from fangkong.user.schemas import UserCreate
    from fangkong.web.pages import NAV
    from tests.conftest import make_actor
    from tests.web.seed import CHIKAN

    for role in Role:
        users.create_user(session, actor=make_actor(), data=UserCreate(
            username=f"nav{role.value}", role=role, jurisdictions=[CHIKAN], password=PASSWORD))
    session.flush()
    for role in Role:
        client.cookies.clear()
        resp = client.post("/login", data=form(client, username=f"nav{role.value}",
                                               password=PASSWORD, next="/"))
        assert resp.status_code == 200, (role, resp.status_code)
        shown = re.findall(r'<nav aria-label="[^"]*">(.*?)</nav>', resp.text, re.S)[0]
        links = re.findall(r'<a href="([^"]+)"', shown)
        assert links == [path for _, path, perm in NAV if perm in ROLE_PERMS[role]], role
        assert links, role
        if role is Role.community_worker:
            assert str(resp.url).endswith("/community")
        for path in links:
            assert client.get(path).status_code == 200, (role, path)
