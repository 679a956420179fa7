"""Settings: every value checked at start-up, one line naming the variable, the value and what
is allowed; core/config.py the only reader of the environment; the README's table generated."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fangkong.cli import app
from fangkong.core import config
from fangkong.core.config import SettingError, get_settings, load, settings_table

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Set variables for one test; the cached settings are dropped before and after."""
    get_settings.cache_clear()
    yield monkeypatch
    monkeypatch.undo()
    get_settings.cache_clear()


def refused(env: pytest.MonkeyPatch, **variables: str) -> SettingError:
    for name, value in variables.items():
        env.setenv(f"FANGKONG_{name}", value)
    with pytest.raises(SettingError) as caught:
        load()
    return caught.value


@pytest.mark.parametrize(("variables", "expected"), [
    ({"ACTIVE_POLICY_PACK": "cn_v99"},
     ["FANGKONG_ACTIVE_POLICY_PACK", "'cn_v99'", "no such policy pack", "cn_v9, who_2021"]),
    ({"TIMEZONE": "Asia/Shanghi"}, ["FANGKONG_TIMEZONE", "'Asia/Shanghi'", "Asia/Shanghai"]),
    ({"ALERT_NOTIFIERS": "log,emial"},
     ["FANGKONG_ALERT_NOTIFIERS", "no notifier named emial", "allowed: log, email"]),
    ({"ALERT_NOTIFIERS": "email"}, ["FANGKONG_SMTP_HOST", "unset", "email notifier"]),
    ({"ALERT_NOTIFIERS": "email", "SMTP_HOST": "mail.example.org"},
     ["FANGKONG_ALERT_EMAIL_TO", "unset"]),
    ({"ZONE_AUTO_APPLY": '["lifted"]'},
     ["FANGKONG_ZONE_AUTO_APPLY", "'lifted'", "'downgrade', 'lift' or 'escalate'"]),
    ({"ZONE_AUTO_APPLY": "lift"}, ["FANGKONG_ZONE_AUTO_APPLY", "'lift'", "JSON list"]),
    ({"BRIEF_JURISDICTIONS": '["44x"]'}, ["FANGKONG_BRIEF_JURISDICTIONS", "44x", "12 digits"]),
    ({"BRIEF_JURISDICTIONS": "4408"}, ["FANGKONG_BRIEF_JURISDICTIONS", '["4408"]']),
    ({"PORT": "eighty"}, ["FANGKONG_PORT", "'eighty'", "valid integer"]),
    ({"PORT": "70000"}, ["FANGKONG_PORT", "70000", "less than or equal to 65535"]),
    ({"BRIEF_HOUR": "24"}, ["FANGKONG_BRIEF_HOUR", "less than or equal to 23"]),
    ({"TOKEN_TTL_MINUTES": "0"}, ["FANGKONG_TOKEN_TTL_MINUTES", "greater than 0"]),
    ({"ISOLATION_RESERVE_RATIO": "-1"}, ["FANGKONG_ISOLATION_RESERVE_RATIO", "greater than 0"]),
    ({"TRACING_AUTO_PROPOSE": "perhaps"}, ["FANGKONG_TRACING_AUTO_PROPOSE", "valid boolean"]),
    ({"DUCKDB_THREADS": "-2"}, ["FANGKONG_DUCKDB_THREADS", "greater than or equal to 0"]),
    ({"DATABASE_URL": "mysql://fk@db/fangkong"},
     ["FANGKONG_DATABASE_URL", "mysql is not supported", "postgresql+psycopg://"]),
    ({"DATABASE_URL": "not a url"}, ["FANGKONG_DATABASE_URL", "not a database URL"]),
    ({"ACTIV_POLICY_PACK": "cn_v9"},
     ["FANGKONG_ACTIV_POLICY_PACK: not a setting", "did you mean FANGKONG_ACTIVE_POLICY_PACK"]),
])
def test_a_bad_setting_is_one_line_naming_it(env: pytest.MonkeyPatch, variables: dict[str, str],
                                             expected: list[str]) -> None:
    error = refused(env, **variables)
    assert len(error.problems) == 1 and error.message == str(error.problems[0])
    assert "\n" not in error.message
    for fragment in expected:
        assert fragment in error.message, error.message
    assert error.exit_code == 78 and error.as_dict()["error"]["code"] == "invalid_setting"


def test_a_misspelt_name_in_the_env_file_too(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("FANGKONG_TIMEZONE=Asia/Hong_Kong\nFANGKONG_TIMEZON=UTC\n")
    env.chdir(tmp_path)
    error = refused(env)
    assert error.message == ("FANGKONG_TIMEZON: not a setting; did you mean FANGKONG_TIMEZONE?")
    (tmp_path / ".env").write_text("FANGKONG_TIMEZONE=Asia/Hong_Kong\n")
    assert load().timezone == "Asia/Hong_Kong"


def test_secrets_are_not_repeated(env: pytest.MonkeyPatch) -> None:
    error = refused(env, ENCRYPTION_KEY="c2hvcnQtc2VjcmV0", LOOKUP_KEY="x" * 10,
                    DATABASE_URL="mysql://fk:hunter2@db/fangkong")
    text = json.dumps(error.as_dict())
    assert "c2hvcnQtc2VjcmV0" not in text and "hunter2" not in text
    assert [p.field for p in error.problems] == [
        "FANGKONG_DATABASE_URL", "FANGKONG_ENCRYPTION_KEY", "FANGKONG_LOOKUP_KEY"]
    assert error.message == "3 settings are not valid; Fangkong does not start"
    assert "(hidden)" in str(error.problems[1]) and "32-byte" in str(error.problems[1])


def test_good_settings_load(env: pytest.MonkeyPatch) -> None:
    for name, value in (("ACTIVE_POLICY_PACK", "who_2021"), ("TIMEZONE", "Asia/Hong_Kong"),
                        ("ALERT_NOTIFIERS", " log , email "), ("SMTP_HOST", "mail.example.org"),
                        ("ALERT_EMAIL_TO", "a@example.org,b@example.org"),
                        ("ZONE_AUTO_APPLY", '["lift"]'), ("BRIEF_JURISDICTIONS", '["4408", "44"]'),
                        ("TEST_SOMETHING", "the test suite's own"), ("DUCKDB_THREADS", "2")):
        env.setenv(f"FANGKONG_{name}", value)
    settings = load()
    assert settings.active_policy_pack == "who_2021"
    assert settings.alert_notifiers == ("log", "email")
    assert settings.alert_email_to == ("a@example.org", "b@example.org")
    assert settings.brief_jurisdictions == ("4408", "44") and settings.duckdb_threads == 2


def test_a_plugin_notifier_is_allowed(env: pytest.MonkeyPatch) -> None:
    import importlib.metadata

    plugin = EntryPoint(name="wecom", value="wecom_notify:factory", group="fangkong.notifiers")
    real = importlib.metadata.entry_points
    env.setattr(importlib.metadata, "entry_points", lambda **kw: (
        [plugin] if kw.get("group") == "fangkong.notifiers" else real(**kw)))
    env.setenv("FANGKONG_ALERT_NOTIFIERS", "log,wecom")
    assert load().alert_notifiers == ("log", "wecom")
    assert "allowed: log, email, wecom" in refused(env, ALERT_NOTIFIERS="sms").message


def test_the_packs_allowed_are_the_packs_listed() -> None:
    from fangkong.policy import service as policy

    assert config.policy_pack_ids() == sorted(p.id for p in policy.packs())


def test_every_command_refuses_to_start(env: pytest.MonkeyPatch) -> None:
    """The issue's case: a misspelt pack made every case report answer 404 while the rest ran.
    Now nothing starts: not a command, not `serve` nor `demo` (before opening a port or the
    database), not the application."""
    env.setenv("FANGKONG_ACTIVE_POLICY_PACK", "cn_v99")
    for args in (["policy", "list"], ["serve"], ["demo", "--no-serve", "--agents", "10"],
                 ["user", "add", "li", "--role", "epidemiologist", "--jurisdiction", "4408",
                  "--password-stdin"]):
        result = runner.invoke(app, args, input="a-long-password\n")
        assert result.exit_code == 78, (args, result.output)
        lines = result.stderr.splitlines()
        assert len(lines) == 1
        assert lines[0].startswith("error: FANGKONG_ACTIVE_POLICY_PACK: 'cn_v99' is not valid")
        assert "'cn_v99'" in lines[0] and "cn_v9" in lines[0] and result.stdout == ""

    result = runner.invoke(app, ["policy", "list", "--json"])
    assert result.exit_code == 78 and result.stderr == ""
    error = json.loads(result.stdout)["error"]
    assert error["code"] == "invalid_setting"
    assert error["problems"][0]["field"] == "FANGKONG_ACTIVE_POLICY_PACK"

    from fangkong.app import create_app

    with pytest.raises(SettingError, match="FANGKONG_ACTIVE_POLICY_PACK: 'cn_v99' is not valid"):
        create_app()


def test_the_readme_table_is_the_settings_class() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    marker = "<!-- settings table: generated by fangkong.core.config.settings_table() -->\n"
    assert marker in readme
    table = readme.split(marker, 1)[1].split("\n\n", 1)[0] + "\n"
    assert table == settings_table(), (
        "README.md's settings table differs from the Settings class: replace it with the "
        "output of python -c 'from fangkong.core.config import settings_table; "
        "print(settings_table())'")
    for name in config.Settings.model_fields:
        assert f"`{config.env_name(name)}`" in table


# Where the environment may be read outside core/config.py, and why (nowhere today).
ENVIRONMENT_READERS: dict[str, str] = {}
_READS = re.compile(r"\bos\.environ\b|\bgetenv\s*\(|\bfrom os import [^\n]*\benviron\b|"
                    r"\bBaseSettings\b|\bdotenv\b")


def test_only_config_reads_the_environment() -> None:
    src = ROOT / "src" / "fangkong"
    found = sorted(str(p.relative_to(src)) for p in src.rglob("*.py")
                   if p != src / "core" / "config.py"
                   if _READS.search(p.read_text("utf-8")))
    assert found == sorted(ENVIRONMENT_READERS), (
        f"{found}: read the setting through fangkong.core.config.Settings (or add the file to "
        "ENVIRONMENT_READERS with the reason)")
