"""What the CLI prints: under --json, errors as the API's error object on standard output;
without, one red line on standard error; progress lines on standard error when the output is
not a terminal (where a spinner shows nothing)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from fangkong.cli import app
from fangkong.core.auth import Role
from tests.conftest import login
from tests.helpers import csv_bytes, person_rows

runner = CliRunner()
API_ERROR_KEYS = {"code", "message", "problems"}


def _api_shape(body: dict[str, object]) -> dict[str, object]:
    assert list(body) == ["error"]
    error = body["error"]
    assert isinstance(error, dict) and {"code", "message"} <= set(error) <= API_ERROR_KEYS
    return error


@pytest.fixture
def migrated(fresh_db: str) -> str:
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    assert runner.invoke(app, ["geo", "load", "--province", "44", "--json"]).exit_code == 0
    return fresh_db


def test_json_errors_are_the_apis_error_object(migrated: str, tmp_path: Path) -> None:
    args = ["user", "add", "li", "--role", "epidemiologist", "--jurisdiction", "999999",
            "--password-stdin"]
    result = runner.invoke(app, [*args, "--json"], input="a-long-password\n")
    assert result.exit_code == 3 and result.stderr == ""
    error = _api_shape(json.loads(result.stdout))
    assert error["code"] == "not_found" and "999999" in str(error["message"])
    human = runner.invoke(app, args, input="a-long-password\n")
    assert human.exit_code == 3 and human.stdout == ""
    assert human.stderr.startswith("error: ") and "999999" in human.stderr

    bad = tmp_path / "bad.csv"
    bad.write_text("ref,name,division_code\nP1,张三,440802001001\nP2,王五,999999\n")
    result = runner.invoke(app, ["import", "persons", str(bad), "--json"])
    assert result.exit_code == 2 and result.stderr == ""
    error = _api_shape(json.loads(result.stdout))
    assert error["code"] == "invalid"
    assert {"file": str(bad.name), "line": 3, "field": "division_code"}.items() <= {
        k: v for k, v in error["problems"][0].items()}.items()  # type: ignore[index]


def test_json_usage_errors_too() -> None:
    result = runner.invoke(app, ["user", "add", "li", "--role", "boss", "--jurisdiction", "44",
                                 "--json"])
    assert result.exit_code == 2 and result.stderr == ""
    error = _api_shape(json.loads(result.stdout))
    assert error["code"] == "invalid" and "boss" in str(error["message"])
    human = runner.invoke(app, ["user", "add", "li", "--role", "boss", "--jurisdiction", "44"])
    assert human.exit_code == 2 and "boss" in human.output and not human.stdout.startswith("{")


def test_the_same_object_as_the_api(migrated: str, client: TestClient,
                                    session: Session) -> None:
    """The CLI (on a database of its own) and the API refuse the same request alike."""
    headers = login(client, session, "admin2", Role.administrator, "CN")
    api = client.post("/api/v1/users", headers=headers, json={
        "username": "li", "role": "epidemiologist", "jurisdictions": ["999999"],
        "password": "a-long-password"})
    assert api.status_code == 404
    result = runner.invoke(app, ["user", "add", "li", "--role", "epidemiologist",
                                 "--jurisdiction", "999999", "--password-stdin", "--json"],
                           input="a-long-password\n")
    assert result.exit_code == 3
    assert json.loads(result.stdout) == api.json()


def test_progress_lines_when_not_a_terminal(migrated: str, tmp_path: Path) -> None:
    people = tmp_path / "people.csv"
    people.write_bytes(csv_bytes(person_rows(20)))
    result = runner.invoke(app, ["import", "persons", str(people)])
    assert result.exit_code == 0, result.output
    assert re.fullmatch(r"importing people\.csv…\nimporting people\.csv… done \(\d+\.\d s\)\n",
                        result.stderr), result.stderr
    assert "20 rows" in result.stdout

    out = tmp_path / "drill"
    result = runner.invoke(app, ["drill", "run", "--agents", "500", "--days", "10",
                                 "--no-platform", "--out", str(out)])
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    assert lines[0].startswith("baseline: 1/10 days (") and len(lines) == 10
    assert lines[-1].startswith("baseline: 10/10 days (")
    quiet = runner.invoke(app, ["drill", "run", "--agents", "500", "--days", "3",
                                "--no-platform", "--out", str(out), "--json"])
    assert quiet.exit_code == 0 and quiet.stderr == ""


def test_progress_lines_in_the_chosen_language(migrated: str, tmp_path: Path) -> None:
    people = tmp_path / "people.csv"
    people.write_bytes(csv_bytes(person_rows(20)))
    result = runner.invoke(app, ["--lang", "zh-Hans", "import", "persons", str(people)])
    assert result.exit_code == 0, result.output
    assert re.fullmatch(r"正在导入 people\.csv…\n正在导入 people\.csv… 完成（\d+\.\d 秒）\n",
                        result.stderr), result.stderr
    assert result.stdout.startswith("people.csv：20 行，新增 20，")
    result = runner.invoke(app, ["--lang", "zh-Hant", "drill", "run", "--agents", "500",
                                 "--days", "3", "--no-platform", "--out", str(tmp_path / "d")])
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    assert lines[0].startswith("baseline：1/3 天（") and lines[-1].endswith(" 秒）"), lines
