from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import typer
from rich.table import Table

from fangkong.cliutil import JsonOpt, busy, cli_actor, console, db_session, emit, handle_errors, say
from fangkong.core.division import cli_option
from fangkong.core.errors import Invalid
from fangkong.surveillance import alerting, importer, service
from fangkong.surveillance.enums import AlertStatus
from fangkong.surveillance.messages import S
from fangkong.surveillance.schemas import (
    AlertRead,
    RuleCreate,
    RuleRead,
    SentinelCreate,
    SentinelRead,
)

app = typer.Typer(help="Surveillance and early warning (监测预警).", no_args_is_help=True)


@app.command("import-reports")
@handle_errors
def import_reports(file: Path, encoding: str | None = typer.Option(None, "--encoding"),
                   as_json: bool = JsonOpt) -> None:
    """Import sentinel reports (unit_code,indicator,period,period_start,value[,reason])."""
    if not file.exists():
        raise Invalid(S("cli.no_file", file=file))
    with db_session() as session, busy(say(S("cli.importing", file=file.name)), quiet=as_json):
        report = importer.import_file(session, actor=cli_actor(), source=file,
                                      encoding=encoding)
    emit(report, as_json, lambda: console.print(say(S(
        "cli.imported", file=report.file, rows=f"{report.rows:,}",
        inserted=f"{report.inserted:,}", corrected=f"{report.corrected:,}",
        unchanged=f"{report.unchanged:,}"))))


@app.command("evaluate")
@handle_errors
def evaluate(rule_id: int, date_from: str = typer.Option(..., "--from"),
             date_to: str = typer.Option(..., "--to"), as_json: bool = JsonOpt) -> None:
    """Run an alert rule over a date range (what a daily scheduler runs)."""
    try:
        start, end = date.fromisoformat(date_from), date.fromisoformat(date_to)
    except ValueError:
        raise Invalid(S("cli.dates")) from None
    with db_session() as session:
        report = alerting.evaluate_rule(session, actor=cli_actor(), rule_id=rule_id,
                                        start=start, end=end)
    emit(report, as_json, lambda: console.print(say(S(
        "cli.evaluated", id=report.rule_id, divisions=report.divisions, periods=report.periods,
        alarms=report.alarms, new=report.new_alerts))))


@app.command("add-sentinel")
@handle_errors
def add_sentinel(code: str, name: str = typer.Option(..., "--name"),
                 kind: str = typer.Option(..., "--kind",
                                          help="fever_clinic|primary_clinic|pharmacy|school|other"),
                 division: str = typer.Option(..., "--division"), as_json: bool = JsonOpt) -> None:
    """Register a sentinel unit in a division."""
    data = SentinelCreate.model_validate({"code": code, "name": name, "kind": kind,
                                          "division_code": division})
    with db_session() as session:
        unit = SentinelRead.model_validate(
            service.create_sentinel(session, actor=cli_actor(), data=data))
    emit(unit, as_json, lambda: console.print(
        say(S("cli.sentinel", code=unit.code, id=unit.id))))


@app.command("add-rule")
@handle_errors
def add_rule(name: str, series: str = typer.Option(..., "--series", help="sentinel|cases"),
             method: str = typer.Option(..., "--method"),
             division: list[str] = typer.Option(..., "--division"),
             indicator: str | None = typer.Option(None, "--indicator"),
             period: str = typer.Option("daily", "--period"),
             case_split: str = typer.Option("all", "--case-split"),
             date_basis: str = typer.Option("onset", "--date-basis"),
             params: str = typer.Option("{}", "--params", help='JSON, e.g. {"alpha": 0.05}'),
             as_json: bool = JsonOpt) -> None:
    """Create an alert rule."""
    try:
        parsed = json.loads(params)
    except json.JSONDecodeError as exc:
        raise Invalid(S("cli.params", error=exc)) from None
    data = RuleCreate.model_validate({
        "name": name, "series": series, "method": method, "division_codes": division,
        "indicator": indicator, "period": period, "case_split": case_split,
        "date_basis": date_basis, "params": parsed})
    with db_session() as session:
        rule = RuleRead.model_validate(alerting.create_rule(session, actor=cli_actor(),
                                                            data=data))
    emit(rule, as_json, lambda: console.print(say(S("cli.rule", id=rule.id))))


@app.command("alerts")
@handle_errors
def alerts(status: AlertStatus | None = typer.Option(None, "--status"),
           division: str | None = typer.Option(None, "--division", callback=cli_option),
           as_json: bool = JsonOpt) -> None:
    """List alerts, newest first."""
    with db_session() as session:
        rows = [AlertRead.model_validate(a) for a in alerting.list_alerts(
            session, actor=cli_actor(), status=status, division=division)]
    table = Table(*(say(S(f"col.{c}")) for c in ("id", "rule", "division", "period",
                                                  "observed", "bound", "status")))
    for a in rows:
        table.add_row(str(a.id), str(a.rule_id), a.division_code, a.period_start.isoformat(),
                      f"{a.observed:g}", f"{a.upperbound:.4g}", a.status.value)
    emit([a.model_dump(mode="json") for a in rows], as_json, lambda: console.print(table))
