from __future__ import annotations

from datetime import date

import typer
from rich.table import Table

from fangkong.cliutil import JsonOpt, cli_actor, console, db_session, emit, handle_errors, say
from fangkong.core.division import cli_option
from fangkong.monitoring import service
from fangkong.monitoring.enums import Channel, PeriodStatus
from fangkong.monitoring.messages import M
from fangkong.monitoring.schemas import PeriodRead, ReportRead, WorkerReportIn

app = typer.Typer(help="Home monitoring (居家健康监测): periods, daily reports, who is due.",
                  no_args_is_help=True)


def _yes(value: bool) -> str:
    return say(M("yes" if value else "no"))


@app.command("periods")
@handle_errors
def periods(division: str | None = typer.Option(None, help="Only inside this division.",
                                                callback=cli_option),
            ended: bool = typer.Option(False, help="Ended periods instead of active ones."),
            on: str | None = typer.Option(None, help="Only periods covering this day "
                                          "(YYYY-MM-DD)."),
            as_json: bool = JsonOpt) -> None:
    """Monitoring periods, newest first."""
    with db_session() as session:
        rows = [PeriodRead.model_validate(p) for p in service.list_periods(
            session, actor=cli_actor(), division=division,
            status=PeriodStatus.ended if ended else PeriodStatus.active,
            on=date.fromisoformat(on) if on else None)]
    table = Table(*(say(M(f"col.{c}")) for c in ("period", "person", "division", "days",
                                                   "status")))
    for p in rows:
        table.add_row(str(p.id), str(p.person_id), p.division_code,
                      f"{p.start.isoformat()} – {p.end.isoformat()}", p.status.value)
    emit([r.model_dump(mode="json") for r in rows], as_json, lambda: console.print(table))


@app.command("report")
@handle_errors
def report(period_id: int = typer.Argument(..., help="The monitoring period."),
           day: str = typer.Option(..., help="The day reported (YYYY-MM-DD)."),
           temperature: float | None = typer.Option(None, help="Temperature in °C."),
           symptom: list[str] = typer.Option([], help="A symptom (repeat for more)."),
           tested: bool | None = typer.Option(None, help="A test was taken that day."),
           call: bool = typer.Option(False, help="Entered after a call (default: a visit)."),
           as_json: bool = JsonOpt) -> None:
    """Enter a person's report of a day, after a visit or a call (it cannot be changed)."""
    data = WorkerReportIn(day=date.fromisoformat(day), temperature=temperature,
                          symptoms=symptom, tested=tested,
                          channel=Channel.worker_call if call else Channel.worker_visit)
    with db_session() as session:
        row = ReportRead.model_validate(service.report_by_worker(
            session, actor=cli_actor(), period_id=period_id, data=data))

    def text() -> None:
        console.print(say(M("cli.reported", day=row.day.isoformat(), id=row.id)))
        if row.flagged:
            console.print(say(M("cli.flagged", tasks=", ".join(map(str, row.task_ids)))))

    emit(row.model_dump(mode="json"), as_json, text)


@app.command("due")
@handle_errors
def due(on: str | None = typer.Option(None, help="The day (YYYY-MM-DD); today by default."),
        division: str | None = typer.Option(None, help="Only inside this division.",
                                            callback=cli_option),
        as_json: bool = JsonOpt) -> None:
    """The day's reports: flagged first, then missing, then received."""
    with db_session() as session:
        rows = service.due(session, actor=cli_actor(),
                           on=date.fromisoformat(on) if on else None, division=division)
    table = Table(*(say(M(f"col.{c}")) for c in ("period", "person", "division", "day",
                                                   "reported", "flagged")))
    for r in rows:
        table.add_row(str(r.period_id), str(r.person_id), r.division_code, r.day.isoformat(),
                      _yes(r.reported), _yes(r.flagged))
    emit([r.model_dump(mode="json") for r in rows], as_json, lambda: console.print(table))
