from __future__ import annotations

import csv
import json
from pathlib import Path

from typer.testing import CliRunner

from fangkong.cli import app
from fangkong.core.auth import Role

runner = CliRunner()
REQUIRED = ["day", "new_infections", "new_detected", "detected_in_quarantine",
            "detected_in_community", "contacts_identified", "in_quarantine", "in_isolation",
            "zones_active", "tests_used"]


def test_demo_without_serving_writes_the_report(fresh_db: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(app, ["demo", "--no-serve", "--agents", "2000", "--days", "12",
                                 "--seed", "3", "--out", str(out)])
    assert result.exit_code == 0, result.output
    with (out / "metrics.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 12 and set(REQUIRED) <= set(rows[0])
    assert (out / "report.html").stat().st_size > 500_000  # ECharts is inlined
    # one demo user of each role, and the summary's figures named in the output's language
    users = (tmp_path / "demo-users.txt").read_text(encoding="utf-8").splitlines()
    assert {line.split("\t")[1] for line in users} == {r.value for r in Role}
    assert "demo users and passwords: " in result.output
    assert "Infections " in result.output and "Policy pack cn_v9" in result.output


def test_drill_run_compares_strategies(fresh_db: str, tmp_path: Path) -> None:
    out = tmp_path / "cmp"
    result = runner.invoke(app, ["drill", "run", "--strategy", "baseline", "--strategy",
                                 "no-response", "--agents", "2000", "--days", "15",
                                 "--no-platform", "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    runs = json.loads(result.output)["runs"]
    assert [r["strategy"] for r in runs] == ["baseline", "no-response"]
    with (out / "metrics.csv").open(encoding="utf-8") as fh:
        names = {r["strategy"] for r in csv.DictReader(fh)}
    assert names == {"baseline", "no-response"}


def test_a_missing_strategy_file_is_one_red_line(fresh_db: str, tmp_path: Path) -> None:
    result = runner.invoke(app, ["drill", "run", str(tmp_path / "nope.yaml"), "--no-platform"])
    assert result.exit_code != 0 and "no such file" in result.output
