from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from fangkong.cliutil import JsonOpt, cli_lang, console, emit, handle_errors, say
from fangkong.core.errors import Invalid, Problem
from fangkong.core.messages import SEMICOLON, Day, joined
from fangkong.policy import messages, service
from fangkong.policy.messages import P
from fangkong.policy.schemas import ZoneFacts

app = typer.Typer(help="Policy packs: plans, look-back windows, zone clocks, the nine "
                       "prohibitions (九不准).", no_args_is_help=True)

PackOpt = typer.Option(None, "--pack", help="Pack id (default: the active pack setting).")
DATE = ["%Y-%m-%d"]


def _day(value: datetime | None) -> date | None:
    return value.date() if value else None


def _days(values: list[datetime] | None) -> list[date]:
    return [v.date() for v in values or []]


@app.command("list")
@handle_errors
def list_packs(as_json: bool = JsonOpt) -> None:
    """The packs shipped with Fangkong."""
    rows = [service.summary(p) for p in service.packs()]

    def text() -> None:
        table = Table()
        for name in ("id", "version", "in force", "extends", "levels", "roles"):
            table.add_column(name, no_wrap=name in ("id", "in force"))
        for s in rows:
            table.add_row(s.id, s.version, f"{s.in_force_start}..{s.in_force_end or ''}",
                          s.extends or "", "/".join(s.levels), str(len(s.roles)))
        console.print(table)

    emit([r.model_dump(mode="json") for r in rows], as_json, text)


@app.command("show")
@handle_errors
def show(pack: str, as_json: bool = JsonOpt) -> None:
    """A pack with extends resolved: every rule, its sources and the ambiguities."""
    found = service.get_pack(pack)
    emit(found, as_json, lambda: console.print(found.model_dump(mode="json")))


@app.command("plan")
@handle_errors
def plan(role: str = typer.Option(..., help="e.g. close_contact, from_high_risk_area."),
         anchor: datetime = typer.Option(..., formats=DATE, help="Day 0: last exposure, "
                                         "arrival, or the day the person left the area."),
         pack: str | None = PackOpt, as_json: bool = JsonOpt) -> None:
    """The management plan of a role: phases, test dates, release date, conditions."""
    result = service.plan(pack, role, anchor.date())

    def text() -> None:
        lang = cli_lang()
        console.print(f"[bold]{result.pack}[/] {result.pack_version} · {role} · "
                      + escape(say(P("cli.day0", day=Day(result.anchor),
                                     meaning=result.in_lang(lang).anchor_meaning))))
        if not result.managed:
            console.print(say(P("cli.not_managed",
                                why=messages.pack_text(result.explanation or ""))))
        for p in result.phases:
            tests = ", ".join(d.strftime("%m-%d") for d in p.test_dates) or say(P("cli.no_tests"))
            console.print(f"  {p.kind.label[lang]} {p.start}..{p.end}  "
                          + say(P("cli.tests", days=tests)))
        if result.release_date:
            console.print(f"  {say(P('cli.released'))} [green]{result.release_date}[/]")
        for c in result.conditions:
            console.print("  " + escape(say(P("cli.if", when=messages.pack_text(c.when),
                                              then=messages.pack_text(c.then)))))

    emit(result, as_json, text)


@app.command("lookback")
@handle_errors
def lookback(onset: datetime | None = typer.Option(None, formats=DATE),
             first_positive: datetime | None = typer.Option(None, formats=DATE),
             isolated: datetime | None = typer.Option(None, formats=DATE),
             last_negative: datetime | None = typer.Option(
                 None, formats=DATE, help="Only for infections found by repeated testing."),
             symptoms_resolved: datetime | None = typer.Option(None, formats=DATE),
             pack: str | None = PackOpt, as_json: bool = JsonOpt) -> None:
    """The window in which exposures to a case make contacts."""
    result = service.lookback_window(
        pack, onset=_day(onset), first_positive_sample=_day(first_positive),
        isolated_on=_day(isolated), last_negative_sample=_day(last_negative),
        symptoms_resolved=_day(symptoms_resolved))
    emit(result, as_json, lambda: console.print(escape(say(P(
        "cli.window", start=Day(result.start), end=Day(result.end) if result.end else P("cli.open"),
        basis=result.in_lang(cli_lang()).basis)))))


@app.command("zone-schedule")
@handle_errors
def zone_schedule(level: str = typer.Option(...),
                  last_infection: datetime = typer.Option(..., formats=DATE,
                                                          help="Day 0 of the clock."),
                  path_level: str | None = typer.Option(None, help="Level on day 0, when the "
                                                        "zone has been lowered since."),
                  level_since: datetime | None = typer.Option(None, formats=DATE),
                  pack: str | None = PackOpt, as_json: bool = JsonOpt) -> None:
    """When a zone steps down, and on what conditions, if every condition is met on time."""
    result = service.zone_schedule(pack, level, last_infection.date(), path_level=path_level,
                                   level_since=_day(level_since))

    def text() -> None:
        for step in result.steps:
            requires = joined(map(messages.condition, step.conditions), SEMICOLON)
            console.print(f"{step.from_level} → [bold]{step.to_level}[/] "
                          + escape(say(P("cli.step", when=Day(step.effective)))
                                   + (say(P("cli.lifted")) if step.lifts else "")
                                   + ": " + say(requires)))
        if result.note:
            console.print(result.note)

    emit(result, as_json, text)


@app.command("zone-evaluate")
@handle_errors
def zone_evaluate(level: str = typer.Option(...),
                  last_infection: datetime = typer.Option(..., formats=DATE),
                  on: datetime = typer.Option(..., formats=DATE, help="The day to evaluate."),
                  negative_round: list[datetime] | None = typer.Option(
                      None, "--round", formats=DATE, help="A negative area-wide round (repeat)."),
                  infection: list[datetime] | None = typer.Option(
                      None, formats=DATE, help="A new infection's report date (repeat)."),
                  confirm: list[str] | None = typer.Option(None, help="A manual condition id."),
                  path_level: str | None = None,
                  level_since: datetime | None = typer.Option(None, formats=DATE),
                  pack: str | None = PackOpt, as_json: bool = JsonOpt) -> None:
    """Which change is due for a zone on a day, or what is still missing."""
    facts = ZoneFacts(infections=_days(infection), negative_rounds=_days(negative_round),
                      confirmed=confirm or [], level_since=_day(level_since),
                      path_level=path_level)
    result = service.evaluate_zone(pack, level=level, last_infection=last_infection.date(),
                                   on=on.date(), facts=facts)

    def text() -> None:
        console.print(result.reason)
        for missing in result.conditions:
            console.print("  " + escape(say(P("cli.missing", what=messages.condition(missing)))))

    emit(result, as_json, text)


def _read_measures(file: Path) -> object:
    try:
        return json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise Invalid(P("no_file", file=file)) from None
    except json.JSONDecodeError as exc:
        raise Invalid(P("measures_not_json"), problems=[
            Problem(exc.msg, file=str(file), line=exc.lineno)]) from None


@app.command("check")
@handle_errors
def check(measures: Path = typer.Option(..., help="JSON file: a list of measures (see "
                                        "fangkong/policy/MEASURES.md)."),
          pack: str | None = PackOpt, as_json: bool = JsonOpt) -> None:
    """Check local measures against the nine prohibitions. Exits 1 when any is broken."""
    parsed = service.parse_measures(_read_measures(measures), file=str(measures))
    report = service.check_measures(pack, parsed)

    lang = cli_lang()

    def text() -> None:
        for v in report.violations:
            console.print(f"[bold red]{escape(say(P('cli.measure', measure=v.measure)))}[/] "
                          + escape(say(P("cli.breaks", prohibition=v.prohibition,
                                         text=v.text_in(lang), why=v.why_in(lang)))))
        for note in report.notes_in(lang):
            console.print(f"[yellow]{say(P('cli.note'))}[/] {escape(note)}")
        if not report.violations:
            console.print(f"[green]{say(P('cli.none_broken'))}[/] "
                          + say(P("cli.measures", count=len(parsed))))

    emit(report.in_lang(lang), as_json, text)
    if report.violations:
        raise typer.Exit(1)
