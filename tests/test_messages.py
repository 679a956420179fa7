"""Every text a user reads in the three languages: the message catalogues are complete, the
nine-prohibition reasons carry no English in Chinese (and read as before in English), API
errors follow Accept-Language, CLI errors follow FANGKONG_LANG and --lang."""

from __future__ import annotations

import importlib
import json
import pkgutil
import re
import string
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from typer.testing import CliRunner

import fangkong
from fangkong.cli import app as cli_app
from fangkong.core import messages
from fangkong.core.auth import Role
from fangkong.core.errors import NotFound, Problem
from fangkong.policy import service as policy
from tests.conftest import login
from tests.policy.test_prohibitions import CASES

runner = CliRunner()
LANGS = set(messages.LANGS)


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def _every_catalogue() -> list[messages.Catalogue]:
    importlib.import_module("fangkong.core.validation")  # pydantic's messages
    for info in pkgutil.walk_packages(fangkong.__path__, "fangkong."):
        if info.name.rsplit(".", 1)[-1] == "messages":
            importlib.import_module(info.name)
    return messages.CATALOGUES


def test_every_catalogue_has_every_key_in_every_language() -> None:
    from fangkong.task.titles import TITLES
    from fangkong.web.i18n import MESSAGES

    catalogues = _every_catalogue()
    names = {c.name for c in catalogues}
    assert {"core", "policy", "zone", "case", "geo", "user", "person", "task",
            "surveillance", "testing", "tracing", "isolation", "validation",
            "task_history"} <= names
    tables: list[tuple[str, dict[str, dict[str, str]]]] = [
        (c.name, c.entries) for c in catalogues]
    tables += [("web", MESSAGES), ("task titles", TITLES)]
    for name, entries in tables:
        for key, texts in entries.items():
            assert set(texts) == LANGS and all(texts.values()), (name, key)
            assert len({frozenset(_fields(t)) for t in texts.values()}) == 1, (name, key)


def test_an_incomplete_catalogue_is_refused() -> None:
    with pytest.raises(ValueError, match="lacks a language"):
        messages.Catalogue("test", {"x": {"zh-Hans": "甲", "en": "a"}})
    with pytest.raises(ValueError, match="different parameters"):
        messages.Catalogue("test", {"x": messages.m("{a}", "{a}", "{b}")})


# --- the nine prohibitions -----------------------------------------------------------------

ENGLISH = re.compile(r"[A-Za-z]{2,}")
ALLOWED = re.compile(r"cn_v9|cn_20_measures")  # pack ids are names, not words


def _english_words(text: str) -> list[str]:
    return ENGLISH.findall(ALLOWED.sub("", text))


@pytest.mark.parametrize("pack", ["cn_v9", "cn_20_measures"])
@pytest.mark.parametrize("number", range(1, 10))
def test_breach_reasons_in_chinese_have_no_english(pack: str, number: int) -> None:
    report = policy.check_measures(pack, [CASES[number][0]])
    for violation in report.violations:
        for lang in ("zh-Hans", "zh-Hant"):
            why = violation.why_in(lang)
            assert why and not _english_words(why), (lang, why)
        assert violation.why_in("en") == violation.why


def test_breach_reasons_in_each_language() -> None:
    """Prohibition 3 (a zone held too long): its dates, levels and conditions in each
    language; English as the engine always wrote it."""
    [violation] = policy.check_measures("cn_v9", [CASES[3][0]]).violations
    assert violation.why == (
        "a 'high' zone whose last infection was reported on 2022-05-10 should become 'medium' "
        "on 2022-05-18 (no new infection on days 1-7 (2022-05-11..2022-05-17); a negative "
        "area-wide round on day 7 (2022-05-17)), but is held until 2022-05-20 (3 days too "
        "long)")
    assert violation.why_in("zh-Hans") == (
        "末例感染者于2022年5月10日报告的高风险区应于2022年5月18日调整为中风险区（第1至7天"
        "（2022年5月11日至2022年5月17日）无新增感染；第7天（2022年5月17日）区域核酸筛查全部阴性），"
        "却维持至2022年5月20日（多3天）")
    assert violation.why_in("zh-Hant").startswith("末例感染者於2022年5月10日報告的高風險區")
    assert violation.text_in("zh-Hant") == "不準隨意延長中、高風險地區及封控區、管控區的管控時間"


def test_notes_of_unchecked_measures_in_each_language() -> None:
    report = policy.check_measures("cn_v9", [{"kind": "student_quarantine", "from_level": "high",
                                              "meets_conditions": True,
                                              "phases": [{"kind": "testing_only", "days": 3}]}])
    assert report.notes == ["measure 0: students leaving a 'high' area are managed by their "
                            "area's rules: check it as a management measure"]
    assert report.notes_in("zh-Hans") == [
        "措施 0：从高风险区离校的学生按所在地区的规定管理：请作为人员管理措施核查"]
    assert not _english_words(report.notes_in("zh-Hant")[0])


def test_the_api_gives_breaches_in_the_readers_language(client: TestClient,
                                                         session: Session) -> None:
    auth = login(client, session, "lang_check", Role.epidemiologist, "4408")
    body = {"pack": "cn_v9", "measures": [CASES[n][0] for n in range(1, 10)]}
    whys: dict[str, list[str]] = {}
    for lang, header in (("en", None), ("zh-Hans", "zh-CN,zh;q=0.9"), ("zh-Hant", "zh-TW")):
        headers = {**auth, **({"Accept-Language": header} if header else {})}
        resp = client.post("/api/v1/policy/check", headers=headers, json=body)
        assert resp.status_code == 200, resp.text
        whys[lang] = [v["why"] for v in resp.json()["violations"]]
    assert len(whys["en"]) == 9 and "restricts travel from low areas" in whys["en"][0]
    for lang in ("zh-Hans", "zh-Hant"):
        assert all(not _english_words(w) for w in whys[lang]), whys[lang]
    assert "限制来自低风险区的人员出行" in whys["zh-Hans"][0]
    assert "限制來自低風險區的人員出行" in whys["zh-Hant"][0]


# --- API errors ---------------------------------------------------------------------------

def _error(resp: Any) -> dict[str, Any]:
    error: dict[str, Any] = resp.json()["error"]
    return error


@pytest.mark.parametrize(("header", "case", "zone", "future"), [
    (None, "case 987654 not found", "zone 987654 not found", "is in the future"),
    ("en-GB", "case 987654 not found", "zone 987654 not found", "is in the future"),
    ("zh-CN", "病例 987654 不存在", "风险区 987654 不存在", "晚于今天"),
    ("zh-Hant-TW,en;q=0.5", "病例 987654 不存在", "風險區 987654 不存在", "晚於今天"),
])
def test_api_errors_speak_the_requests_language(
        client: TestClient, session: Session, header: str | None, case: str, zone: str,
        future: str) -> None:
    auth = login(client, session, "lang_api", Role.epidemiologist, "4408")
    headers = {**auth, **({"Accept-Language": header} if header else {})}
    resp = client.get("/api/v1/cases/987654", headers=headers)
    assert resp.status_code == 404 and _error(resp) == {"code": "not_found", "message": case}
    resp = client.get("/api/v1/zones/987654", headers=headers)
    assert resp.status_code == 404 and _error(resp)["message"] == zone
    resp = client.post("/api/v1/zones", headers=headers, json={
        "name": "x", "level": "high", "owning_division_code": "440802",
        "members": [{"division_code": "440802001"}], "last_infection_date": "2999-01-01"})
    assert resp.status_code == 422
    error = _error(resp)
    assert {"field": "last_infection_date", "message": future} in error["problems"]
    if header and header.startswith("zh"):
        assert not _english_words(error["message"])


def test_an_error_keeps_its_english_message_and_renders_the_others() -> None:
    from fangkong.case.messages import C

    error = NotFound(C("not_found", id=5), problems=[Problem(C("not_found", id=6), field="id")])
    assert error.message == str(error) == "case 5 not found"
    assert error.problems[0].message == "case 6 not found"
    assert error.as_dict("zh-Hant") == {"error": {
        "code": "not_found", "message": "病例 5 不存在",
        "problems": [{"message": "病例 6 不存在", "field": "id"}]}}
    assert NotFound("plain").as_dict("zh-Hans")["error"]["message"] == "plain"


# --- the CLI ------------------------------------------------------------------------------

PLAN = ["policy", "plan", "--role", "no_such_role", "--anchor", "2022-05-01"]


@pytest.mark.parametrize(("env", "option", "line"), [
    ("en", None, "error: pack cn_v9 has no role 'no_such_role'"),
    ("zh-Hans", None, "错误：政策包 cn_v9 没有人员类别“no_such_role”"),
    ("zh-Hant", None, "錯誤：政策包 cn_v9 沒有人員類別「no_such_role」"),
    ("en", "zh-Hant", "錯誤：政策包 cn_v9 沒有人員類別「no_such_role」"),
    ("zh-Hans", "en", "error: pack cn_v9 has no role 'no_such_role'"),
])
def test_cli_errors_speak_the_chosen_language(monkeypatch: pytest.MonkeyPatch, env: str,
                                              option: str | None, line: str) -> None:
    from fangkong.core.config import get_settings

    monkeypatch.setenv("FANGKONG_LANG", env)
    get_settings.cache_clear()
    try:
        result = runner.invoke(cli_app, [*(["--lang", option] if option else []), *PLAN])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2, result.output
    first = result.stderr.splitlines()[0]
    assert first == line
    if not line.startswith("error"):
        problems = result.stderr.splitlines()[1]
        assert problems.startswith("  role: ") and "close_contact" in problems


def test_cli_json_errors_follow_the_language(monkeypatch: pytest.MonkeyPatch) -> None:
    result = runner.invoke(cli_app, ["--lang", "zh-Hans", *PLAN, "--json"])
    assert result.exit_code == 2
    error = json.loads(result.stdout)["error"]
    assert error["message"] == "政策包 cn_v9 没有人员类别“no_such_role”"
    assert error["problems"][0]["message"].startswith("应为以下之一：")


def test_the_cli_language_defaults_to_simplified_chinese(monkeypatch: pytest.MonkeyPatch) -> None:
    from fangkong.core.config import Settings, get_settings

    monkeypatch.delenv("FANGKONG_LANG")
    get_settings.cache_clear()
    try:
        assert Settings().lang == "zh-Hans"
        result = runner.invoke(cli_app, PLAN)
        assert result.stderr.startswith("错误：政策包 cn_v9 没有人员类别")
        monkeypatch.setenv("FANGKONG_LANG", "fr")
        get_settings.cache_clear()
        refused = runner.invoke(cli_app, ["policy", "list"])
        assert refused.exit_code == 78
        # refused in the default language, since the one asked for is not there
        assert refused.stderr.startswith("错误：FANGKONG_LANG: 'fr' 无效：没有这种语言")
        assert "zh-Hans, zh-Hant, en" in refused.stderr
    finally:
        get_settings.cache_clear()


def test_an_unknown_lang_option_is_refused() -> None:
    result = runner.invoke(cli_app, ["--lang", "fr", "policy", "list"])
    assert result.exit_code == 2
    assert "--lang fr" in result.stderr and "zh-Hans, zh-Hant, en" in result.stderr


def test_an_import_files_problems_speak_the_requests_language(client: TestClient,
                                                              session: Session) -> None:
    """Problems found line by line (the import's collector) keep their translations."""
    auth = login(client, session, "lang_import", Role.epidemiologist, "4408")
    data = (b"ref,person_ref,classification,severity,reported_at,detection_mode,"
            b"owning_division_code\n"
            b"C1,P1,confirmed,,2022-05-01 10:00,community_screening,440802\n"
            b"C2,P2,martian,,2022-05-01 10:00,community_screening,440802\n")
    answers = {}
    for lang in ("en", "zh-Hans", "zh-Hant"):
        resp = client.post("/api/v1/cases/import", headers={**auth, "Accept-Language": lang},
                           files={"file": ("cases.csv", data, "text/csv")})
        assert resp.status_code == 422, resp.text
        answers[lang] = {(p["line"], p["field"]): p["message"]
                         for p in _error(resp)["problems"]}
    assert answers["en"][(2, "severity")] == ("a confirmed case needs a severity (mild, "
                                              "moderate, severe, critical)")
    assert answers["zh-Hans"][(2, "severity")].startswith("确诊病例需要临床分型")
    assert answers["zh-Hant"][(2, "severity")].startswith("確診病例需要臨床分型")
    assert answers["zh-Hant"][(3, "classification")].startswith("必須是以下之一：")


# --- pydantic's own validation messages ----------------------------------------------------

def test_the_validation_catalogue_names_pydantic_error_types() -> None:
    """A key that is not one of pydantic's error types would never be used (a typo)."""
    from typing import get_args

    from pydantic_core.core_schema import ErrorType

    from fangkong.core.validation import V

    assert set(V.entries) - {"other"} <= set(get_args(ErrorType))


@pytest.mark.parametrize(("lang", "day", "missing", "too_small"), [
    ("en", "input should be a valid date (YYYY-MM-DD)", "field required",
     "should be greater than or equal to 1"),
    ("zh-Hans", "应为日期（YYYY-MM-DD）", "必填项缺失", "应大于或等于 1"),
    ("zh-Hant", "應為日期（YYYY-MM-DD）", "必填項缺失", "應大於或等於 1"),
])
def test_a_422_from_pydantic_says_what_and_where_in_each_language(
        client: TestClient, session: Session, lang: str, day: str, missing: str,
        too_small: str) -> None:
    auth = login(client, session, "lang_422", Role.epidemiologist, "4408")
    resp = client.post("/api/v1/zones", headers={**auth, "Accept-Language": lang}, json={
        "level": "high", "owning_division_code": "440802",
        "members": [{"division_code": "440802001"}], "last_infection_date": "May 1st"})
    assert resp.status_code == 422, resp.text
    problems = {p["field"]: p["message"] for p in _error(resp)["problems"]}
    assert problems["name"] == missing
    assert problems["last_infection_date"] == day
    resp = client.get("/api/v1/cases?limit=0", headers={**auth, "Accept-Language": lang})
    assert resp.status_code == 422, resp.text
    assert {"field": "limit", "message": too_small} in _error(resp)["problems"]


def test_a_validator_error_carrying_a_catalogue_text_keeps_it() -> None:
    from pydantic import BaseModel, ValidationError, field_validator

    from fangkong.case.messages import C
    from fangkong.core.validation import problems

    class Probe(BaseModel):
        id: int

        @field_validator("id")
        @classmethod
        def known(cls, value: int) -> int:
            raise ValueError(C("not_found", id=value))

    with pytest.raises(ValidationError) as caught:
        Probe(id=7)
    [problem] = problems(caught.value.errors())
    assert problem.field == "id" and problem.render("zh-Hans") == "id: 病例 7 不存在"
    assert problem.message == "case 7 not found"


# --- no raw English in the platform's errors ------------------------------------------------

ERROR_CLASSES = {"AppError", "Invalid", "NotFound", "Conflict", "Forbidden", "Unauthenticated",
                 "TooManyAttempts", "TooLarge", "Unavailable", "Problem"}

UNTRANSLATED: dict[str, int] = {
    # Modules whose errors are still literal English strings, with how many: the number may
    # only go down (a module that is done leaves the list). Translate, never add.
}


def _literal(node: Any) -> bool:
    """A message written as an English string: a literal, an f-string, a concatenation or a
    ``.format``/``.join`` of one."""
    import ast

    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return True
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp):
        return _literal(node.left) or _literal(node.right)
    if isinstance(node, ast.IfExp):
        return _literal(node.body) or _literal(node.orelse)
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("format", "join")):
        return _literal(node.func.value)
    return False


def literal_errors(source: str) -> list[int]:
    """Lines where an error or a problem of the platform is given a literal string."""
    import ast

    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and node.args and _literal(node.args[0]):
            func = node.func
            name = (func.id if isinstance(func, ast.Name)
                    else func.attr if isinstance(func, ast.Attribute) else None)
            if name in ERROR_CLASSES:
                lines.append(node.lineno)
    return lines


def test_the_check_finds_literal_messages() -> None:
    assert literal_errors('raise NotFound(f"case {id} not found")\n') == [1]
    assert literal_errors('raise Invalid("a" + x, problems=[Problem("b")])\n') == [1, 1]
    assert literal_errors('raise errors.Conflict("taken: {}".format(x))\n') == [1]
    assert literal_errors('Problem(T("a") if x else "required")\n') == [1]
    assert literal_errors('raise NotFound(C("not_found", id=id))\n') == []
    assert literal_errors('raise Invalid(P("bad", problems=[Problem(T("x"))]))\n') == []


def test_errors_carry_catalogue_messages_not_english_literals() -> None:
    """A service's error is a catalogue message (key + params), so it reaches a Chinese reader
    in Chinese: a new literal string in a raise fails here."""
    import pathlib

    root = pathlib.Path(fangkong.__file__).parent
    found = {}
    for path in sorted(root.rglob("*.py")):
        lines = literal_errors(path.read_text(encoding="utf-8"))
        if lines:
            found[path.relative_to(root).as_posix()] = lines
    grown = {name: lines for name, lines in found.items()
             if len(lines) > UNTRANSLATED.get(name, 0)}
    assert not grown, f"errors with literal English messages (use a catalogue): {grown}"
    done = {name for name, count in UNTRANSLATED.items() if len(found.get(name, [])) < count}
    assert not done, f"fewer literals than listed: lower UNTRANSLATED for {sorted(done)}"


@pytest.mark.parametrize(("header", "round_", "contact", "stay"), [
    (None, "round 987654 not found", "contact 987654 not found", "stay 987654 not found"),
    ("zh-CN", "检测轮次 987654 不存在", "密接 987654 不存在", "隔离记录 987654 不存在"),
    ("zh-TW", "檢測輪次 987654 不存在", "密接 987654 不存在", "隔離記錄 987654 不存在"),
])
def test_testing_tracing_and_isolation_errors_speak_the_requests_language(
        client: TestClient, session: Session, header: str | None, round_: str, contact: str,
        stay: str) -> None:
    auth = login(client, session, "lang_domains", Role.epidemiologist, "4408")
    headers = {**auth, **({"Accept-Language": header} if header else {})}
    for path, message in (("/api/v1/testing/rounds/987654", round_),
                          ("/api/v1/tracing/contacts/987654", contact),
                          ("/api/v1/isolation/stays/987654", stay)):
        resp = client.get(path, headers=headers)
        assert resp.status_code == 404 and _error(resp)["message"] == message, resp.text


def test_a_status_in_an_error_is_its_label_in_chinese() -> None:
    from fangkong.isolation.enums import StayStatus
    from fangkong.isolation.messages import ISO, label

    text = ISO("stay_is", id=3, status=label(StayStatus.released))
    assert str(text) == "stay 3 is released"
    assert text.render("zh-Hans") == "隔离记录 3 的状态为已解除"
    assert text.render("zh-Hant") == "隔離記錄 3 的狀態為已解除"


@pytest.mark.parametrize(("lang", "basis", "meaning"), [
    ("en", "from 2 days before symptom onset, until the case was isolated",
     "last exposure (末次暴露)"),
    ("zh-Hans", "自发病前 2 天起，至病例被隔离时止", "末次暴露"),
    ("zh-Hant", "自發病前 2 天起，至病例被隔離時止", "末次暴露"),
])
def test_a_windows_basis_and_a_plans_day_0_in_each_language(
        client: TestClient, session: Session, lang: str, basis: str, meaning: str) -> None:
    auth = login(client, session, "lang_basis", Role.epidemiologist, "4408")
    headers = {**auth, "Accept-Language": lang}
    resp = client.get("/api/v1/policy/lookback?onset=2022-05-10&isolated_on=2022-05-12&pack=cn_v9",
                      headers=headers)
    assert resp.status_code == 200 and resp.json()["basis"] == basis, resp.text
    resp = client.get("/api/v1/policy/plan?role=close_contact&anchor=2022-05-10&pack=cn_v9",
                      headers=headers)
    assert resp.status_code == 200 and resp.json()["anchor_meaning"] == meaning, resp.text


def test_pack_loader_diagnostics_in_each_language(tmp_path: Any) -> None:
    from fangkong.policy.loader import _Files

    (tmp_path / "child.yaml").write_text("id: child\nextends: nowhere\n", encoding="utf-8")
    files = _Files(tmp_path)
    assert files.read("missing") is None and files.read("wrong", tmp_path / "child.yaml") is None
    first, second = files.problems
    assert first.message == "no such pack file" and first.render("zh-Hans").endswith(
        "政策包文件不存在")
    assert second.message == "expected 'wrong' (the file's name), got 'child'"
    assert second.render("zh-Hant") == (f"{tmp_path / 'child.yaml'} id: "
                                         "應為「wrong」（文件名），實際為 'child'")


def test_a_zone_verdicts_reason_in_each_language_and_read_back_from_storage() -> None:
    """The reason of a zone's daily verdict: English as the engine always wrote it, Chinese
    with the pack's level labels and Chinese dates; the English text a proposal stores is
    read back as the same message."""
    from datetime import date

    from fangkong.policy.messages import verdict_reason
    from fangkong.policy.schemas import ZoneFacts
    from fangkong.policy.zones import evaluate

    pack = policy.resolve("cn_v9")
    verdict = evaluate(pack, level="high", last_infection=date(2022, 5, 10),
                       on=date(2022, 5, 20), facts=ZoneFacts(negative_rounds=[date(2022, 5, 17)]))
    assert verdict.reason == (
        "'high' → 'medium' due: no new infection on days 1-7 (2022-05-11..2022-05-17); a "
        "negative area-wide round on day 7 (2022-05-17)")
    hans = ("高风险区 → 中风险区 已到期：第1至7天（2022年5月11日至2022年5月17日）无新增感染；"
            "第7天（2022年5月17日）区域核酸筛查全部阴性")
    assert verdict.in_lang("zh-Hans").reason == hans
    assert verdict.in_lang("zh-Hant").reason.startswith("高風險區 → 中風險區 已到期：")
    stored = verdict_reason(pack, verdict.reason)
    assert str(stored) == verdict.reason and messages.render(stored, "zh-Hans") == hans
    assert verdict_reason(pack, "the command decided") == "the command decided"
    restarted = evaluate(pack, level="high", last_infection=date(2022, 5, 10),
                         on=date(2022, 5, 20), facts=ZoneFacts(infections=[date(2022, 5, 15)]))
    assert restarted.in_lang("zh-Hans").reason == (
        "高风险区 → 中风险区 尚未到期（已重新计时）：尚缺 2 项条件")
    assert not _english_words(restarted.in_lang("zh-Hant").reason)
