from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from fangkong.cli import app
from tests.helpers import csv_bytes, person_rows

runner = CliRunner()


def run(*args: str, stdin: str | None = None) -> tuple[int, str]:
    result = runner.invoke(app, list(args), input=stdin)
    return result.exit_code, " ".join(result.output.split()) if result.exit_code else result.output


def test_commands_refuse_an_unmigrated_database(fresh_db: str) -> None:
    code, out = run("geo", "load", "--province", "44")
    assert code == 7 and "fangkong db upgrade" in out


def test_a_newcomers_session(fresh_db: str, tmp_path: Path) -> None:
    assert run("db", "upgrade")[0] == 0
    code, out = run("geo", "load", "--province", "44", "--json")
    assert code == 0 and json.loads(out)["divisions"] > 4000
    assert json.loads(run("geo", "load", "--province", "44", "--json")[1]) == json.loads(out)

    code, out = run("user", "add", "li", "--role", "epidemiologist", "--jurisdiction", "440802",
                    "--password-stdin", "--json", stdin="a-long-password\n")
    assert code == 0 and json.loads(out)["jurisdictions"] == ["440802"]
    code, out = run("user", "add", "wang", "--role", "boss", "--jurisdiction", "440802",
                    "--password-stdin", stdin="a-long-password\n")
    assert code != 0 and "boss" in out
    code, out = run("user", "add", "zhao", "--role", "analyst", "--jurisdiction", "440802",
                    "--password-stdin", stdin="short\n")
    assert code == 2 and "password" in out

    people = tmp_path / "people.csv"
    people.write_bytes(csv_bytes(person_rows(30)))
    code, out = run("import", "persons", str(people), "--json")
    assert code == 0 and json.loads(out)["inserted"] == 30
    assert json.loads(run("import", "persons", str(people), "--json")[1])["unchanged"] == 30

    bad = tmp_path / "bad.csv"
    bad.write_text("ref,name,division_code\nP1,张三,440802001001\nP1,李四,440802001001\n"
                   "P2,王五,999999\n")
    code, out = run("import", "persons", str(bad))
    assert code == 2
    assert "bad.csv:3 ref" in out and "bad.csv:4 division_code" in out
    assert "nothing was imported" in out

    cases = tmp_path / "cases.csv"
    cases.write_text("ref,person_ref,classification,severity,reported_at,detection_mode,"
                     "owning_division_code\nC1,T00000001,confirmed,mild,2022-05-09 10:00,"
                     "fever_clinic,440802\n")
    code, out = run("import", "cases", str(cases), "--json")
    assert code == 0 and json.loads(out)["inserted"] == 1

    code, out = run("task", "escalate", "--json")
    assert code == 0 and json.loads(out)["escalated"] == 0
    code, out = run("audit", "verify", "--json")
    assert code == 0 and json.loads(out)["ok"] and json.loads(out)["checked"] >= 4
    code, out = run("audit", "anchor", "--json")
    mark = json.loads(out)
    assert code == 0 and mark["written"] and mark["seq"] == json.loads(
        run("audit", "verify", "--json")[1])["checked"]
    assert (tmp_path / "audit-anchors.log").read_text() == mark["line"] + "\n"
    code, out = run("audit", "verify")
    assert code == 0 and "1 anchors" in out
    code, out = run("import", "persons", str(tmp_path / "missing.csv"))
    assert code == 2 and "no such file" in out


def test_audit_verify_reports_a_cut_tail_from_the_anchors(fresh_db: str) -> None:
    from sqlalchemy import text

    from fangkong.core.db import get_engine

    assert run("db", "upgrade")[0] == 0
    assert run("geo", "load", "--province", "44")[0] == 0
    for name in ("li", "wang"):
        assert run("user", "add", name, "--role", "analyst", "--jurisdiction", "440802",
                   "--password-stdin", stdin="a-long-password\n")[0] == 0
    code, out = run("audit", "anchor")
    assert code == 0 and out.startswith("2\t")
    with get_engine().begin() as conn:  # an administrator with DDL rights removes the tail
        if conn.dialect.name == "postgresql":
            conn.execute(text("DROP TRIGGER audit_log_no_change ON audit_log"))
        else:
            conn.execute(text("DROP TRIGGER audit_log_no_delete"))
        conn.execute(text("DELETE FROM audit_log WHERE seq = 2"))
    code, out = run("audit", "verify")
    assert code == 8 and "audit chain broken at entry 2: entries 2 to 2 are missing" in out
