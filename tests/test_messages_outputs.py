"""What a user reads, in Chinese, carries no English of the message it renders (issue 18,
item 6): the analytics' errors, the settings' refusals, the sign-in error, role names,
the drill's strategy names and comparison lines, a zone proposal's reason on the zones page,
a task's title naming its person.

The check is :func:`leaked`: a message (or one it carries) whose Chinese text is English, or
English prose handed to a message as a finished string, is English a Chinese reader gets."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from fangkong.cli import app as cli_app
from fangkong.core.auth import Role
from fangkong.core.config import get_settings, load
from fangkong.core.errors import AppError, Invalid
from fangkong.core.messages import CATALOGUES, Text, fields_of
from tests.conftest import login, make_actor

runner = CliRunner()
WORD = re.compile(r"[A-Za-z]{3,}")
PROSE = re.compile(r"[A-Za-z]{2,} [A-Za-z]{2,} [A-Za-z]{2,}")  # three English words in a row
CJK = re.compile(r"[\u4e00-\u9fff]")


def _words(text: str) -> set[str]:
    return set(WORD.findall(text))


def _template_words(template: str) -> set[str]:
    return _words(re.sub(r"\{\w+\}", " ", template))


def leaked(text: Text, lang: str = "zh-Hans") -> set[str]:
    """English in ``text`` as shown in ``lang``: an entry (of the message or of a message it
    carries) whose text in ``lang`` is left in English, or English prose passed to it as a
    plain string (a message already rendered in English) instead of as a message."""
    out: set[str] = set()
    if _template_words(text.texts["en"]) and not CJK.search(text.texts[lang]):
        out |= _template_words(text.texts[lang])
    for value in text.params.values():
        if isinstance(value, Text):
            out |= leaked(value, lang)
        elif isinstance(value, str) and PROSE.search(value):
            out |= _words(value)
    return out


def _error_texts(error: AppError) -> list[Text]:
    texts = [error.text, *(p.text for p in error.problems)]
    return [t for t in texts if isinstance(t, Text)]


def _assert_translated(error: AppError) -> None:
    texts = _error_texts(error)
    assert texts and len(texts) == 1 + len(error.problems), "a message is not a catalogue's"
    for text in texts:
        for lang in ("zh-Hans", "zh-Hant"):
            assert CJK.search(text.render(lang)), (lang, text.render(lang))
            assert not leaked(text, lang), (lang, text.render(lang), leaked(text, lang))


def test_the_check_finds_english_left_in_chinese() -> None:
    from fangkong.core.messages import m

    probe = {"x": m("{what} 不是数字", "{what} 不是數字", "{what} is not a number")}
    from fangkong.core.messages import Catalogue

    cat = Catalogue("probe_leak", probe)
    CATALOGUES.remove(cat)
    inner = Text("y", {}, m("value missing", "value missing", "value missing"))
    assert leaked(cat("x", what=inner)) == {"value", "missing"}
    assert leaked(cat("x", what="the value is missing")) == {"the", "value", "missing"}
    assert leaked(cat("x", what="'abc'")) == set()
    assert leaked(cat("x", what="ears-c1, ears-c2")) == set()


@pytest.mark.parametrize("name", ["analytics", "settings", "drill"])
def test_each_chinese_text_of_the_new_catalogues_is_chinese(name: str) -> None:
    """A copied English text in a Chinese slot fails here (a pure-placeholder entry, such as
    ``{field}: {what}``, has nothing to translate)."""
    import importlib

    importlib.import_module(f"fangkong.{'core.config' if name == 'settings' else name}"
                            f"{'' if name == 'settings' else '.messages'}")
    [catalogue] = [c for c in CATALOGUES if c.name == name]
    for key, texts in catalogue.entries.items():
        if not _template_words(texts["en"]) or set(fields_of(texts["en"])) == {"name"}:
            continue  # nothing but parameters (or a strategy's name, shown as is)
        for lang in ("zh-Hans", "zh-Hant"):
            assert CJK.search(texts[lang]), (name, key, lang)


# --- the analytics' errors -----------------------------------------------------------------

def _raises(call: Callable[[], Any]) -> AppError:
    with pytest.raises(Invalid) as caught:
        call()
    return caught.value


def _analytics_calls() -> list[Callable[[], Any]]:
    from fangkong.analytics.detect import check_params
    from fangkong.analytics.ears import ears
    from fangkong.analytics.farrington import farrington, farrington_flexible
    from fangkong.analytics.growth import growth_rate
    from fangkong.analytics.rrandom import seed_state
    from fangkong.analytics.rt import estimate_rt, estimate_rt_si_from_sample

    series = [float(i % 7) for i in range(60)]
    return [
        lambda: ears(series, method="C4"),
        lambda: ears(series, min_sigma=-1),
        lambda: ears([1.0, 2.0, 3.0], method="C3"),
        lambda: ears(series, range_=[70]),
        lambda: farrington(series, alpha=2),
        lambda: farrington(series, freq=52, b=5),
        lambda: farrington_flexible(series, threshold_method="x"),
        lambda: growth_rate([0, 0, 0]),
        lambda: growth_rate([1, 2, 3], level=2),
        lambda: seed_state(2**40),
        lambda: estimate_rt([1, 2, 3, 4], si_mean=0.5, si_sd=1),
        lambda: estimate_rt([1, 2, 3], si_mean=2.6, si_sd=1.5, window=7),
        lambda: estimate_rt([1, 2, 3, 4, 5, 6, 7, 8, 9], si_distr=[0.5, 0.5]),
        lambda: estimate_rt_si_from_sample([1, 2, 3, 4, 5, 6, 7, 8, 9],
                                           si_sample=[[0, 0.5, 0.5], [0.2, 0.3, 0.5]]),
        lambda: check_params("ears-c1", {"b": 3}),
        lambda: check_params("nope", {}),
    ]


@pytest.mark.parametrize("k", range(16))
def test_analytics_errors_read_in_chinese(k: int) -> None:
    _assert_translated(_raises(_analytics_calls()[k]))


def test_an_rt_file_with_problems_in_chinese_and_english(tmp_path: Path) -> None:
    from fangkong.analytics.files import read_incidence

    bad = tmp_path / "incidence.csv"
    bad.write_text("t,local\n1,3\n3,x\n4,-1\n5,2.5\n")  # t skips 2: every later line too
    error = _raises(lambda: read_incidence(bad))
    _assert_translated(error)
    assert error.message == "incidence.csv: 6 problem(s) in the file"
    assert error.render("zh-Hans") == "incidence.csv：文件中有 6 个问题"
    assert [p.message for p in error.problems][:4] == [
        "t must run 1, 2, 3, … without gaps (expected 2)", "'x' is not a number",
        "t must run 1, 2, 3, … without gaps (expected 3)", "must be a number >= 0"]
    result = runner.invoke(cli_app, ["--lang", "zh-Hant", "analytics", "rt", "--incidence",
                                     str(bad), "--si-mean", "2.6", "--si-sd", "1.5"])
    assert result.exit_code == 2
    assert result.stderr.splitlines()[:2] == [
        "錯誤：incidence.csv：文件中有 6 個問題",
        "  incidence.csv:3 t: t 須依次為 1、2、3、… 不能間斷（應為 2）"]
    assert "not a number" not in result.stderr and "'x' 不是數字" in result.stderr


def test_the_rt_warning_and_the_growth_line_in_chinese(tmp_path: Path) -> None:
    short = tmp_path / "short.csv"
    short.write_text("t,I\n" + "".join(f"{i},{n}\n" for i, n in enumerate(
        [1, 1, 0, 2, 1, 1, 2, 1, 3, 2, 4], start=1)))
    result = runner.invoke(cli_app, ["--lang", "zh-Hans", "analytics", "rt", "--incidence",
                                     str(short), "--si-mean", "2.6", "--si-sd", "1.5"])
    assert result.exit_code == 0, result.output
    assert "警告：在疫情早期估计 R" in result.stderr and "too early" not in result.stderr
    result = runner.invoke(cli_app, ["--lang", "zh-Hans", "analytics", "growth",
                                     "--incidence", str(short)])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("增长率 r = ") and "倍增时间" in result.stdout
    assert "doubling" not in result.stdout


# --- settings, the sign-in error, roles ----------------------------------------------------

@pytest.mark.parametrize(("variables", "hans", "hant"), [
    ({"TIMEZONE": "Asia/Shanghi"}, "FANGKONG_TIMEZONE: 'Asia/Shanghi' 无效：没有这个时区",
     "FANGKONG_TIMEZONE: 'Asia/Shanghi' 無效：沒有這個時區"),
    ({"PORT": "eighty"}, "FANGKONG_PORT: 'eighty' 无效：应为整数",
     "FANGKONG_PORT: 'eighty' 無效：應為整數"),
    ({"ALERT_NOTIFIERS": "email"}, "FANGKONG_SMTP_HOST: 未设置：电子邮件通知",
     "FANGKONG_SMTP_HOST: 未設定：電子郵件通知"),
    ({"ACTIV_POLICY_PACK": "cn_v9"},
     "FANGKONG_ACTIV_POLICY_PACK: 不是设置项；您是否指 FANGKONG_ACTIVE_POLICY_PACK？",
     "FANGKONG_ACTIV_POLICY_PACK: 不是設定項；您是否指 FANGKONG_ACTIVE_POLICY_PACK？"),
    ({"ENCRYPTION_KEY": "c2hvcnQ="}, "FANGKONG_ENCRYPTION_KEY: （已隐藏） 无效：不是 base64",
     "FANGKONG_ENCRYPTION_KEY: （已隱藏） 無效：不是 base64"),
])
def test_a_refused_setting_reads_in_chinese(monkeypatch: pytest.MonkeyPatch,
                                             variables: dict[str, str], hans: str,
                                             hant: str) -> None:
    for name, value in variables.items():
        monkeypatch.setenv(f"FANGKONG_{name}", value)
    get_settings.cache_clear()
    try:
        with pytest.raises(AppError) as caught:
            load()
        error = caught.value
        assert error.render("zh-Hans").startswith(hans), error.render("zh-Hans")
        assert error.render("zh-Hant").startswith(hant), error.render("zh-Hant")
        for text in _error_texts(error):
            assert not leaked(text, "zh-Hans") and not leaked(text, "zh-Hant")
        monkeypatch.setenv("FANGKONG_LANG", "zh-Hant")
        result = runner.invoke(cli_app, ["policy", "list"])
        assert result.exit_code == 78
        assert result.stderr.splitlines() == ["錯誤：" + error.render("zh-Hant")]
    finally:
        get_settings.cache_clear()


def test_several_refused_settings_in_chinese(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FANGKONG_PORT", "eighty")
    monkeypatch.setenv("FANGKONG_TIMEZONE", "Mars/Base")
    with pytest.raises(AppError) as caught:
        load()
    assert caught.value.render("zh-Hans") == "2 项设置无效；Fangkong 不会启动"
    assert caught.value.message == "2 settings are not valid; Fangkong does not start"


def test_the_sign_in_error_in_chinese(client: TestClient) -> None:
    resp = client.get("/api/v1/cases", headers={"Accept-Language": "zh-CN"})
    assert resp.status_code == 401
    assert resp.json()["error"]["message"].startswith("请先登录：POST /api/v1/auth/token")
    resp = client.get("/api/v1/cases")
    assert resp.json()["error"]["message"].startswith("sign in first")


def test_a_refused_role_is_named_not_given_as_its_value(client: TestClient,
                                                         session: Session) -> None:
    auth = login(client, session, "lang_role", Role.analyst, "4408")
    resp = client.post("/api/v1/zones", headers={**auth, "Accept-Language": "zh-CN"}, json={
        "name": "x", "level": "high", "owning_division_code": "440802",
        "members": [{"division_code": "440802001"}], "last_infection_date": "2022-05-01"})
    assert resp.status_code == 403, resp.text
    message = resp.json()["error"]["message"]
    assert message.startswith("数据分析人员无权") and "analyst" not in message
    resp = client.post("/api/v1/zones", headers=auth, json={})
    assert resp.json()["error"]["message"] == (
        "the analyst role may not report and change cases (case:write)")


def test_user_add_names_the_role(fresh_db: str) -> None:
    from fangkong.core.db import get_engine
    from fangkong.core.migrate import upgrade

    upgrade(get_engine())
    result = runner.invoke(cli_app, ["--lang", "zh-Hans", "user", "add", "li", "--role",
                                     "community_worker", "--jurisdiction", "CN",
                                     "--password-stdin"], input="a long pass phrase\n")
    assert result.exit_code == 0, result.output
    assert "（社区工作人员）" in result.stdout and "community_worker" not in result.stdout
    result = runner.invoke(cli_app, ["--lang", "en", "user", "add", "wu", "--role",
                                     "testing_officer", "--jurisdiction", "CN",
                                     "--password-stdin"], input="a long pass phrase\n")
    assert "created wu (testing officer) in CN" in result.stdout


# --- the drill ------------------------------------------------------------------------------

def _rows() -> list[Any]:
    from fangkong.drill.compare import Row

    return [Row("baseline", "time_to_control_days", 30, 25, 35),
            Row("who", "time_to_control_days", 40, 30, 50, 2, 15),
            Row("mine", "time_to_control_days", 31, 26, 36, -3, 4)]


def test_the_comparison_names_strategies_and_measures(monkeypatch: pytest.MonkeyPatch,
                                                       tmp_path: Path) -> None:
    from fangkong.drill import cli as drill_cli
    from fangkong.drill import compare, report, service

    monkeypatch.setattr(drill_cli, "comparison", lambda *a, **k: (_rows(), ""))
    monkeypatch.setattr(service, "run", lambda *a, **k: [])
    monkeypatch.setattr(report, "write", lambda *a, **k: None)
    monkeypatch.setattr(compare, "write_csv", lambda *a, **k: None)
    result = runner.invoke(cli_app, ["--lang", "zh-Hans", "drill", "compare", "--strategy",
                                     "baseline", "--strategy", "who", "--seeds", "2",
                                     "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == ("2022 年常规应对（baseline）：控制所需天数（未控制者记为演练天数加一） "
                        "中位数 30，90% 区间 [25, 35]")
    assert lines[1].startswith("世卫组织式应对（who）：") and lines[1].endswith("，超出种子间波动")
    assert lines[2].startswith("mine：") and lines[2].endswith("，在种子间波动之内")
    for word in ("time_to_control_days", "beyond", "within", "baseline "):
        assert word not in result.stdout
    result = runner.invoke(cli_app, ["--lang", "en", "drill", "compare", "--strategy",
                                     "baseline", "--seeds", "2", "--out", str(tmp_path)])
    assert result.stdout.splitlines()[1] == (
        "who Days to control (not controlled: the drill's days plus one) 40 [30, 50] beyond")


def test_the_comparison_section_names_strategies() -> None:
    from fangkong.drill.compare import to_html

    page = to_html(_rows(), seeds=3, agents=1000, days=30, lang="zh-Hant")
    assert "2022 年常規應對（baseline）" in page and "世衛組織式應對（who）" in page
    assert ">baseline<" not in page and ">who<" not in page and ">mine<" in page


def test_a_drills_record_kinds_are_named() -> None:
    from fangkong.drill.messages import counts

    found = counts({"person": 120, "task_event": 3400, "login_throttle": 1})
    assert found.render("zh-Hans") == "人员 120、任务记录 3,400、login_throttle 1"
    assert found.render("en") == "person 120, task_event 3,400, login_throttle 1"


# --- the pages ------------------------------------------------------------------------------

def test_a_zone_proposals_reason_on_the_zones_page(client: TestClient,
                                                    session: Session) -> None:
    from fangkong.zone import service as zones
    from fangkong.zone.schemas import MemberIn, RoundIn, ZoneCreate
    from tests.web.seed import seed
    from tests.web.test_pages import form, sign_in

    seed(session)
    day0 = zones.today() - timedelta(days=8)
    zone = zones.designate(session, actor=make_actor(), data=ZoneCreate(
        name="海滨花园小区", level="high", owning_division_code="440802", pack_id="cn_v9",
        members=[MemberIn(division_code="440802001001")], last_infection_date=day0,
        population=100, reason="测试"))
    zones.record_round(session, actor=make_actor(), zone_id=zone.id,
                       data=RoundIn(round_date=day0 + timedelta(days=7), all_negative=True))
    [row] = [r for r in zones.evaluate(session, actor=make_actor(), zone_ids=[zone.id])]
    assert row.proposal_id and "due:" in row.reason  # stored as the evaluation wrote it
    sign_in(client, "wchikan")
    page = client.get("/zones").text
    assert "高风险区 → 中风险区 已到期：第1至7天" in page
    assert row.reason not in page.replace("&#39;", "'") and " due: " not in page
    client.post("/prefs", data=form(client, lang="zh-Hant", next="/zones"))
    assert "高風險區 → 中風險區 已到期" in client.get("/zones").text
    client.post("/prefs", data=form(client, lang="en", next="/zones"))
    assert "due: no new infection on days 1-7" in client.get("/zones").text


def test_a_tasks_title_names_its_person_for_who_may_read_persons(
        client: TestClient, session: Session) -> None:
    from fangkong.person import service as persons
    from fangkong.person.models import Person
    from fangkong.task import service as tasks
    from fangkong.task.schemas import TaskCreate
    from fangkong.task.titles import titled
    from fangkong.user import service as users
    from fangkong.user.schemas import UserCreate
    from tests.web.seed import PASSWORD, seed
    from tests.web.test_pages import form, sign_in

    seed(session)
    admin = make_actor()
    person_id = min(session.scalars(select(Person.id).where(
        Person.division_code.like("440802%"))))
    name = persons.get(session, actor=admin, person_id=person_id).name
    from fangkong.core.clock import utc_now

    for key, params in (("notify_contact", {"person": person_id, "case": 7,
                                            "role": "venue_exposed"}),
                        ("sample_stay", {"stay": 3, "where": "H1", "day": "2022-05-03"})):
        tasks.create(session, actor=admin, data=TaskCreate(
            type=key, **titled(key, **params), owning_division_code="440802",
            due_at=utc_now() + timedelta(hours=5)))
    users.create_user(session, actor=admin, data=UserCreate(
        username="wanalyst", role=Role.analyst, jurisdictions=["4408"], password=PASSWORD))
    sign_in(client, "wchikan")
    page = client.get("/tasks").text
    assert f"通知场所暴露人员（人员 {name}，病例 7）" in page
    assert f"人员 {person_id}，" not in page
    assert "隔离人员采样：H1，第 3 号，2022年5月3日" in page
    client.post("/prefs", data=form(client, lang="en", next="/tasks"))
    assert f"Notify contact (person {name}) of case 7" in client.get("/tasks").text
    client.cookies.clear()
    client.post("/login", data=form(client, username="wanalyst", password=PASSWORD, next="/"))
    page = client.get("/tasks").text
    assert f"通知场所暴露人员（人员 {person_id}，病例 7）" in page and name not in page



# --- the platform's own commands and the zones' -------------------------------------------

def test_audit_verify_and_db_in_chinese(fresh_db: str) -> None:
    from sqlalchemy import text

    from fangkong.core.db import get_engine

    def zh(*args: str, stdin: str | None = None) -> tuple[int, str]:
        result = runner.invoke(cli_app, ["--lang", "zh-Hans", *args], input=stdin)
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            result.exception)
        return result.exit_code, " ".join(result.output.split())

    assert zh("db", "current") == (0, "数据库：空；最新：" + zh("db", "upgrade")[1].split(
        "：")[1].split("（")[0])
    for name in ("li", "wang"):
        assert zh("user", "add", name, "--role", "analyst", "--jurisdiction", "CN",
                  "--password-stdin", stdin="a-long-password\n")[0] == 0
    code, out = zh("audit", "verify")
    assert code == 0 and out.startswith("审计链完整：") and "entries" not in out
    assert zh("audit", "anchor")[0] == 0
    with get_engine().begin() as conn:  # an administrator with DDL rights removes the tail
        if conn.dialect.name == "postgresql":
            conn.execute(text("DROP TRIGGER audit_log_no_change ON audit_log"))
        else:
            conn.execute(text("DROP TRIGGER audit_log_no_delete"))
        conn.execute(text("DELETE FROM audit_log WHERE seq = 2"))
    code, out = zh("audit", "verify")
    assert code == 8, out
    assert out.startswith(
        "审计链在第 2 条记录处断开：第 2 至 2 条记录缺失（末尾被截断）：")
    assert "missing" not in out and "anchor" not in out
    code, out = zh("audit", "verify", "--json")
    assert '"reason": "entries 2 to 2 are missing (the tail was cut)' in out  # the data: English


def test_the_zone_commands_name_levels_and_statuses(fresh_db: str, tmp_path: Path) -> None:
    import json

    from fangkong.core.db import get_engine
    from fangkong.core.migrate import upgrade

    upgrade(get_engine())
    assert runner.invoke(cli_app, ["geo", "load", "--province", "44"]).exit_code == 0
    day0 = (date_today() - timedelta(days=8)).isoformat()
    spec = tmp_path / "zone.json"
    spec.write_text(json.dumps({
        "name": "海滨花园小区", "level": "high", "owning_division_code": "440802",
        "pack_id": "cn_v9", "members": [{"division_code": "440802001"}],
        "last_infection_date": day0}), encoding="utf-8")
    result = runner.invoke(cli_app, ["--lang", "zh-Hans", "zone", "designate", str(spec)])
    assert result.exit_code == 0, result.output
    assert "高风险区" in result.stdout and "high" not in result.stdout
    for args in (["zone", "list"], ["zone", "notice"], ["zone", "evaluate"]):
        result = runner.invoke(cli_app, ["--lang", "zh-Hant", *args])
        assert result.exit_code == 0, result.output
        assert "高風險區" in result.stdout and " high " not in result.stdout, args
    assert "區域核酸篩" in result.stdout and "negative" not in result.stdout
    result = runner.invoke(cli_app, ["--lang", "en", "zone", "list"])
    assert "high-risk" in result.stdout


def date_today() -> Any:
    from fangkong.zone.service import today

    return today()


# --- the checks of inputs (schemas' validators, identifiers) -------------------------------

def test_a_validators_reason_reaches_the_reader_in_chinese(client: TestClient,
                                                           session: Session) -> None:
    auth = login(client, session, "lang_site", Role.isolation_officer, "440802")
    site = {"code": "H1", "name": "酒店", "type": "quarantine_hotel", "division_code": "440802",
            "rooms": [{"label": "101", "capacity": 1, "family": True},
                      {"label": "101", "capacity": 1}]}
    resp = client.post("/api/v1/isolation/sites", headers={**auth, "Accept-Language": "zh-CN"},
                       json=site)
    assert resp.status_code == 422, resp.text
    messages = [p["message"] for p in resp.json()["error"]["problems"]]
    assert "家庭房至少住 2 人" in messages, messages
    assert not any(WORD.search(m) for m in messages), messages
    resp = client.post("/api/v1/isolation/sites", headers=auth, json=site)
    assert "a family room holds at least 2 people" in [
        p["message"] for p in resp.json()["error"]["problems"]]


def test_an_import_files_identifier_problems_in_chinese(client: TestClient,
                                                        session: Session) -> None:
    auth = login(client, session, "lang_people", Role.epidemiologist, "4408")
    data = ("ref,name,division_code,id_number,phone,sex,birth_date,synthetic\n"
            "A1,张三,440802001001,11010519491231002X,12345,男,1949-12-30,maybe\n"
            "A2,李四,440802001001,123,13812345678,x,2999-01-01,\n").encode()
    answers = {}
    for lang in ("en", "zh-Hans"):
        resp = client.post("/api/v1/persons/import", headers={**auth, "Accept-Language": lang},
                           files={"file": ("people.csv", data, "text/csv")})
        assert resp.status_code == 422, resp.text
        answers[lang] = {(p["line"], p["field"]): p["message"]
                         for p in resp.json()["error"]["problems"]}
    assert answers["en"][(2, "phone")].startswith("phone must be an 11-digit mobile number")
    assert answers["en"][(3, "id_number")] == (
        "resident ID number must be 17 digits followed by a digit or X")
    zh = answers["zh-Hans"]
    assert zh[(2, "phone")].startswith("电话应为 11 位手机号")
    assert zh[(2, "synthetic")] == "应为是或否（true/false）"
    assert zh[(3, "id_number")] == "居民身份证号码应为 17 位数字加 1 位数字或 X"
    assert zh[(3, "birth_date")] == "2999年1月1日 晚于今天"
    assert zh[(3, "sex")].startswith("性别应为男、女或未知")
    for message in zh.values():
        assert CJK.search(message), message
        assert not {"must", "the", "not", "number", "future"} & _words(message), message


def test_the_tracing_commands_in_chinese(fresh_db: str) -> None:
    from fangkong.core.db import get_engine
    from fangkong.core.migrate import upgrade
    from fangkong.tracing.cli import _fmt_settings

    upgrade(get_engine())
    result = runner.invoke(cli_app, ["--lang", "zh-Hans", "tracing", "clusters"])
    assert result.exit_code == 0, result.output
    assert result.stdout == "0 起 2 例及以上的聚集性疫情\n"
    result = runner.invoke(cli_app, ["--lang", "zh-Hant", "tracing", "indicators", "--start",
                                     "2022-05-01", "--end", "2022-05-14"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == "2022-05-01 至 2022-05-14 報告病例：0"
    assert not _words(result.stdout) - {"start", "end"}, result.stdout
    settings = _fmt_settings({"household": 3, "workplace": 1})
    assert settings.render("zh-Hans") == "共同居住 3、工作场所 1"  # type: ignore[attr-defined]
    assert settings.render("en") == "household 3, workplace 1"  # type: ignore[attr-defined]


def test_the_isolation_commands_in_chinese(fresh_db: str) -> None:
    from fangkong.core.db import get_engine
    from fangkong.core.migrate import upgrade

    upgrade(get_engine())
    assert runner.invoke(cli_app, ["geo", "load", "--province", "44"]).exit_code == 0
    result = runner.invoke(cli_app, [
        "--lang", "zh-Hans", "isolation", "site-add", "--code", "H9", "--name", "酒店",
        "--type", "quarantine_hotel", "--division", "440802", "--rooms", "2",
        "--family-rooms", "1"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "已创建隔离点 H9：序号 1，3 间房，5 张床"
    result = runner.invoke(cli_app, ["--lang", "zh-Hant", "isolation", "sites"])
    assert result.exit_code == 0, result.output
    assert "類型" in result.stdout and "quarantine_hotel" not in result.stdout
    assert not _words(result.stdout), result.stdout
