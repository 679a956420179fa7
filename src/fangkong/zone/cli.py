from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import typer
from rich.table import Table

from fangkong.cliutil import (
    JsonOpt,
    cli_actor,
    cli_lang,
    console,
    db_session,
    emit,
    handle_errors,
    say,
)
from fangkong.core.division import cli_option
from fangkong.core.errors import Invalid, Problem
from fangkong.core.messages import CORE, SEMICOLON, joined
from fangkong.policy.messages import read_condition
from fangkong.zone import service
from fangkong.zone.messages import Z, level_term
from fangkong.zone.schemas import ZoneCreate, ZoneDetail, ZoneRead

app = typer.Typer(help="Risk areas (风险区 / 三区).", no_args_is_help=True)


@app.command("evaluate")
@handle_errors
def evaluate(
    on: str | None = typer.Option(None, help="Evaluate as of this date (YYYY-MM-DD)."),
    as_json: bool = JsonOpt,
) -> None:
    """Apply the pack's lifting rules to every active zone; propose (or apply) what is due."""
    day = date.fromisoformat(on) if on else None
    with db_session() as session:
        rows = service.evaluate(session, actor=cli_actor(), on=day)
    table = Table(*(say(Z(f"col.{c}")) for c in ("zone", "level", "due", "required")))
    for r in rows:
        due: object = (Z("cli.lift") if r.due == "lift" else level_term(r.due)) if r.due else "-"
        if r.applied:
            due = Z("cli.applied", due=due)
        requires = joined((read_condition(t) for t in r.requires), SEMICOLON)
        table.add_row(r.code, say(level_term(r.level)), say(due), say(requires))
    emit([r.model_dump(mode="json") for r in rows], as_json, lambda: console.print(table))


@app.command("notice")
@handle_errors
def notice(division: str | None = typer.Option(None, help="Only zones inside this division.",
                                             callback=cli_option),
           as_json: bool = JsonOpt) -> None:
    """The public notice of risk areas, with the changes since yesterday."""
    with db_session() as session:
        result = service.public_notice(session, division=division)
    table = Table(*(say(Z(f"col.{c}")) for c in ("code", "level", "name", "places")))
    for z in result.zones:
        table.add_row(z.code, say(level_term(z.level)), z.name, "、".join(z.divisions))
    emit(result, as_json, lambda: console.print(table))


@app.command("designate")
@handle_errors
def designate(file: Path = typer.Argument(..., help="JSON file with the zone: name, level, "
                                          "owning_division_code, members, last_infection_date"),
              as_json: bool = JsonOpt) -> None:
    """Designate a risk area from a JSON description."""
    try:
        data = ZoneCreate.model_validate(json.loads(file.read_text(encoding="utf-8")))
    except (OSError, json.JSONDecodeError) as exc:
        raise Invalid(CORE("not_json", file=file),
                      problems=[Problem(str(exc), file=str(file))]) from None
    with db_session() as session:
        zone = ZoneDetail.model_validate(service.designate(session, actor=cli_actor(), data=data))
    emit(zone, as_json, lambda: console.print(
        f"[green]{say(Z('cli.designated'))}[/] {zone.code} ({say(level_term(zone.level))})"))


@app.command("list")
@handle_errors
def list_zones(division: str | None = typer.Option(None, help="Only zones inside this division.",
                                             callback=cli_option),
               as_json: bool = JsonOpt) -> None:
    """Active risk areas."""
    with db_session() as session:
        zones = [ZoneRead.model_validate(z) for z in service.list_(session, actor=cli_actor(),
                                                                   division=division)]
    table = Table(*(say(Z(f"col.{c}")) for c in ("id", "code", "level", "name", "day0", "since")))
    for z in zones:
        table.add_row(str(z.id), z.code, say(level_term(z.level)), z.name,
                      str(z.last_infection_date),
                      str(z.designated_on))
    emit([z.model_dump(mode="json") for z in zones], as_json, lambda: console.print(table))


def _decide(proposal_id: int, approve: bool, as_json: bool) -> None:
    with db_session() as session:
        p = service.decide(session, actor=cli_actor(), proposal_id=proposal_id, approve=approve)
        out = {"proposal_id": p.id, "status": p.status.value, "zone_id": p.zone_id}
    emit(out, as_json, lambda: console.print(
        say(Z("cli.proposal", id=proposal_id, status=Z(f"status.{out['status']}")))))


@app.command("approve")
@handle_errors
def approve(proposal_id: int, as_json: bool = JsonOpt) -> None:
    """Approve a proposal of the daily evaluation: the change applies."""
    _decide(proposal_id, True, as_json)


@app.command("reject")
@handle_errors
def reject(proposal_id: int, as_json: bool = JsonOpt) -> None:
    """Reject a proposal of the daily evaluation."""
    _decide(proposal_id, False, as_json)


@app.command("check")
@handle_errors
def check(as_json: bool = JsonOpt) -> None:
    """The nine-prohibition checks (九不准) on the active zones."""
    with db_session() as session:
        breaches = service.prohibition_breaches(session, actor=cli_actor())
    lang = cli_lang()
    shown = [b.in_lang(lang) for b in breaches]
    table = Table(*(say(Z(f"col.{c}")) for c in ("zone", "level", "prohibition", "why")))
    for b in shown:
        table.add_row(b.code, say(level_term(b.level)), f"{b.prohibition}: {b.text}", b.why)
    emit([b.model_dump(mode="json") for b in shown], as_json,
         lambda: console.print(table if breaches else f"[green]{say(Z('cli.no_breach'))}[/]"))
