from __future__ import annotations

from datetime import date
from pathlib import Path

import typer

from fangkong.cliutil import JsonOpt, cli_actor, console, db_session, emit, handle_errors
from fangkong.core.errors import Invalid
from fangkong.surveillance import alerting, importer

app = typer.Typer(help="Surveillance and early warning (监测预警).", no_args_is_help=True)


@app.command("import-reports")
@handle_errors
def import_reports(file: Path, encoding: str | None = typer.Option(None, "--encoding"),
                   as_json: bool = JsonOpt) -> None:
    """Import sentinel reports (unit_code,indicator,period,period_start,value[,reason])."""
    if not file.exists():
        raise Invalid(f"{file}: no such file")
    with db_session() as session:
        report = importer.import_file(session, actor=cli_actor(), source=file,
                                      encoding=encoding)
    emit(report, as_json, lambda: console.print(
        f"[green]{report.file}[/]: {report.rows:,} rows, {report.inserted:,} inserted, "
        f"{report.corrected:,} corrected, {report.unchanged:,} unchanged"))


@app.command("evaluate")
@handle_errors
def evaluate(rule_id: int, date_from: str = typer.Option(..., "--from"),
             date_to: str = typer.Option(..., "--to"), as_json: bool = JsonOpt) -> None:
    """Run an alert rule over a date range (what a daily scheduler runs)."""
    try:
        start, end = date.fromisoformat(date_from), date.fromisoformat(date_to)
    except ValueError:
        raise Invalid("--from and --to must be dates (YYYY-MM-DD)") from None
    with db_session() as session:
        report = alerting.evaluate_rule(session, actor=cli_actor(), rule_id=rule_id,
                                        start=start, end=end)
    emit(report, as_json, lambda: console.print(
        f"rule {report.rule_id}: {report.divisions} division(s) x {report.periods} period(s), "
        f"{report.alarms} alarm(s), {report.new_alerts} new alert(s)"))
