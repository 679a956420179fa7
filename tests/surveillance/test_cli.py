"""The `fangkong surveillance` commands against a fresh database."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

from typer.testing import CliRunner

from fangkong.cli import app

runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    # Standard output (the JSON) on success: the log notifier's line goes to standard error.
    return result.exit_code, result.stdout if result.exit_code == 0 else result.output


def test_sentinel_reports_rule_and_alerts(fresh_db: str, tmp_path: Path) -> None:
    assert run("db", "upgrade")[0] == 0
    assert run("geo", "load", "--province", "44")[0] == 0
    code, out = run("surveillance", "add-sentinel", "PH1", "--name", "大药房",
                    "--kind", "pharmacy", "--division", "440802001001", "--json")
    assert code == 0, out
    assert json.loads(out)["kind"] == "pharmacy"
    values = [10, 12, 9, 11, 10, 13, 12, 11, 10, 12, 11, 10, 9, 12, 11, 40]
    start = date(2022, 12, 1)
    good = tmp_path / "reports.csv"
    good.write_text("unit_code,indicator,period,period_start,value\n" + "".join(
        f"PH1,sales_antipyretic,daily,{start + timedelta(days=i)},{v}\n"
        for i, v in enumerate(values)))
    code, out = run("surveillance", "import-reports", str(good), "--json")
    assert code == 0, out
    assert json.loads(out)["inserted"] == len(values)
    code, out = run("surveillance", "import-reports", str(good), "--json")
    assert json.loads(out)["unchanged"] == len(values)
    bad = tmp_path / "bad.csv"
    bad.write_text("unit_code,indicator,period,period_start,value\n"
                   "PH1,sales_antipyretic,weekly,2022-12-02,3\nPH1,tea,daily,2022-12-02,3\n")
    code, out = run("surveillance", "import-reports", str(bad))
    assert code == 2
    assert "bad.csv:2 period_start" in out and "bad.csv:3 indicator" in out
    code, out = run("surveillance", "add-rule", "antipyretics", "--series", "sentinel",
                    "--indicator", "sales_antipyretic", "--method", "ears-c1",
                    "--division", "440802", "--params", '{"alpha": 0.05}', "--json")
    assert code == 0, out
    rule_id = json.loads(out)["id"]
    last = start + timedelta(days=len(values) - 1)
    result = runner.invoke(app, ["surveillance", "evaluate", str(rule_id), "--from", str(last),
                                 "--to", str(last), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["new_alerts"] == 1
    # the log notifier's line, shown to whoever runs the command
    assert "warning: alert" in result.stderr and "antipyretics" in result.stderr
    code, out = run("surveillance", "alerts", "--json")
    assert [a["observed"] for a in json.loads(out)] == [40.0]
    code, out = run("surveillance", "add-rule", "bad", "--series", "sentinel", "--indicator",
                    "visits", "--method", "ears-c1", "--division", "440802", "--params",
                    '{"lambda": 1}')
    assert code == 2 and "params.lambda" in out
