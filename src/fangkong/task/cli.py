from __future__ import annotations

import typer
from rich.table import Table

from fangkong.cliutil import JsonOpt, cli_actor, console, db_session, emit, handle_errors, say
from fangkong.task import service
from fangkong.task.messages import T

app = typer.Typer(help="Tasks and supervision (督查督办).", no_args_is_help=True)


@app.command("escalate")
@handle_errors
def escalate(as_json: bool = JsonOpt) -> None:
    """Escalate overdue tasks to the parent jurisdiction (what the scheduler runs)."""
    with db_session() as session:
        report = service.escalate_overdue(session, actor=cli_actor())
    emit(report, as_json, lambda: console.print(
        say(T("cli.escalated", count=report.escalated))))


@app.command("overdue")
@handle_errors
def overdue(as_json: bool = JsonOpt) -> None:
    """Overdue tasks per division and unit."""
    with db_session() as session:
        rows = service.overdue_by_unit(session, actor=cli_actor())
    table = Table(*(say(T(f"col.{c}")) for c in ("division", "unit", "overdue", "escalated")))
    for r in rows:
        table.add_row(r.division_code, str(r.unit_id or "-"), str(r.overdue), str(r.escalated))
    emit([r.model_dump() for r in rows], as_json, lambda: console.print(table))
