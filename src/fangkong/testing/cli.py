"""``fangkong testing``: rounds, tubes, points, labs, bulk samples and results, status,
coverage, the not-yet-sampled list, the positive-pool queue, advice, key groups."""

from __future__ import annotations

import sys
from datetime import datetime, time
from pathlib import Path

import typer
from rich.table import Table

from fangkong.cliutil import JsonOpt, busy, cli_actor, console, db_session, emit, handle_errors
from fangkong.core.clock import parse_datetime
from fangkong.core.config import get_settings
from fangkong.core.division import cli_list_option, cli_option
from fangkong.core.errors import Invalid, Problem
from fangkong.core.messages import CORE
from fangkong.core.tabular import csv_writer
from fangkong.core.validation import reason
from fangkong.testing import importer, service
from fangkong.testing.messages import T
from fangkong.testing.schemas import (
    KeyGroupCreate,
    LabCreate,
    PointCreate,
    RoundCreate,
    RoundRead,
    TubeIssue,
)

app = typer.Typer(help="Mass testing (筛查检测): rounds, pooled tubes, labs, positive pools, "
                       "coverage.", no_args_is_help=True)
round_app = typer.Typer(help="Testing rounds.", no_args_is_help=True)
tubes_app = typer.Typer(help="Barcoded tubes.", no_args_is_help=True)
group_app = typer.Typer(help="Key groups (重点人群) and their routine testing.",
                        no_args_is_help=True)
app.add_typer(round_app, name="round")
app.add_typer(tubes_app, name="tubes")
app.add_typer(group_app, name="keygroup")

EncodingOpt = typer.Option(None, help="Text encoding of a CSV file (default UTF-8).")


def _when(value: str, field: str) -> datetime:
    try:
        return parse_datetime(value, get_settings().timezone)
    except ValueError as exc:
        raise Invalid(reason(exc), problems=[Problem(reason(exc), field=field)]) from None


def _codes(value: str) -> list[str]:
    return [c.strip() for c in value.split(",") if c.strip()]


def _lines(path: Path) -> list[str]:
    if not path.is_file():
        raise Invalid(T("no_file", path=path))
    return [x.strip() for x in path.read_text(encoding="utf-8-sig").splitlines() if x.strip()]


@round_app.command("create")
@handle_errors
def round_create(
    name: str = typer.Option(..., help="Name of the round."),
    area: str = typer.Option(..., help="Division codes, comma-separated."),
    start: str = typer.Option(..., help="Start, e.g. 2022-08-10T06:00 (local time)."),
    deadline: str = typer.Option(..., help="Deadline."),
    series: str | None = typer.Option(None, help="Series of daily rounds (stop rule)."),
    zone: list[str] = typer.Option([], help="CODE=LEVEL: a division's zone level, e.g. "
                                            "440802001=high (repeatable)."),
    site_persons: Path | None = typer.Option(None, help="File of person refs in quarantine "
                                                        "sites, one per line."),
    pack: str | None = typer.Option(None, help="Policy pack (default: the active one)."),
    as_json: bool = JsonOpt,
) -> None:
    """Create a round; its target population and tube sizes are fixed now."""
    zones: dict[str, str] = {}
    for item in zone:
        code, sep, level = item.partition("=")
        if not sep:
            raise Invalid(T("zone_option", item=repr(item)))
        zones[code.strip()] = level.strip()
    data = RoundCreate(name=name, area=_codes(area), start_at=_when(start, "start"),
                       deadline_at=_when(deadline, "deadline"), series=series, zones=zones,
                       site_person_refs=_lines(site_persons) if site_persons else [],
                       pack=pack)
    with db_session() as session:
        created = service.create_round(session, actor=cli_actor(), data=data)
    emit(created, as_json, lambda: console.print(
        f"[green]round {created.round_id}[/]: {created.target:,} persons to sample "
        f"({', '.join(f'{k}: {v:,}' for k, v in sorted(created.by_ratio.items()))})"))


@round_app.command("close")
@handle_errors
def round_close(round_id: int = typer.Argument(..., help="The round's id."),
                as_json: bool = JsonOpt) -> None:
    """Close a round: it leaves the open rounds; its results still land."""
    with db_session() as session:
        closed = RoundRead.model_validate(service.close_round(session, actor=cli_actor(),
                                                              round_id=round_id))
    emit(closed, as_json, lambda: console.print(f"round {closed.id} closed"))


@round_app.command("series")
@handle_errors
def round_series(series: str, as_json: bool = JsonOpt) -> None:
    """The stop rule over a series of rounds: go on daily, one more, or stop."""
    with db_session() as session:
        advice = service.series_advice(session, actor=cli_actor(), series=series)
    emit(advice, as_json, lambda: console.print(advice.reason))


@tubes_app.command("issue")
@handle_errors
def tubes_issue(
    round_id: int = typer.Option(..., "--round", help="Round id."),
    capacity: int = typer.Option(..., help="Persons one tube of this kind holds (1, 10, 20)."),
    prefix: str | None = typer.Option(None, help="Barcodes PREFIX + number."),
    count: int = typer.Option(0, help="How many numbered barcodes."),
    first: int = typer.Option(1, help="First number."),
    width: int = typer.Option(8, help="Digits of the number."),
    file: Path | None = typer.Option(None, help="Or: a file of barcodes, one per line."),
    as_json: bool = JsonOpt,
) -> None:
    """Issue barcoded tubes to a round (re-issuing the same ones is a no-op)."""
    barcodes = _lines(file) if file else [f"{prefix}{n:0{width}d}"
                                          for n in range(first, first + count)]
    if not barcodes or (not file and not prefix):
        raise Invalid(T("give_barcodes"))
    with db_session() as session:
        report = service.issue_tubes(session, actor=cli_actor(), round_id=round_id,
                                     data=TubeIssue(barcodes=barcodes, capacity=capacity))
    span = barcodes[0] if len(barcodes) == 1 else f"{barcodes[0]} … {barcodes[-1]}"
    emit(report, as_json, lambda: console.print(
        f"{report.issued:,} tubes issued, {report.already:,} already issued ({span})"))


@app.command("point")
@handle_errors
def point_add(code: str, name: str, division: str, samplers: int = typer.Option(...),
              opens: str = typer.Option("07:00"), closes: str = typer.Option("22:00"),
              as_json: bool = JsonOpt) -> None:
    """Register a collection point (采样点) with its samplers and opening hours."""
    with db_session() as session:
        point = service.create_point(session, actor=cli_actor(), data=PointCreate(
            code=code, name=name, division_code=division, samplers=samplers,
            opens=time.fromisoformat(opens), closes=time.fromisoformat(closes)))
        pid = point.id
    emit({"id": pid}, as_json, lambda: console.print(f"point {code}: id {pid}"))


@app.command("lab")
@handle_errors
def lab_add(code: str, name: str, division: str, daily_capacity: int = typer.Option(...),
            as_json: bool = JsonOpt) -> None:
    """Register a laboratory with its daily capacity (tubes)."""
    with db_session() as session:
        lab = service.create_lab(session, actor=cli_actor(), data=LabCreate(
            code=code, name=name, division_code=division, daily_capacity=daily_capacity))
        lid = lab.id
    emit({"id": lid}, as_json, lambda: console.print(f"lab {code}: id {lid}"))


@app.command("import-samples")
@handle_errors
def import_samples(file: Path, round_id: int = typer.Option(..., "--round"),
                   encoding: str | None = EncodingOpt, as_json: bool = JsonOpt) -> None:
    """Import sample registrations: tube_id,person_ref,sampled_at,point_id (atomic,
    idempotent)."""
    with db_session() as session, busy(CORE("importing", file=file.name), quiet=as_json):
        report = importer.import_samples(session, actor=cli_actor(), round_id=round_id,
                                         source=file, encoding=encoding)
    emit(report, as_json, lambda: console.print(
        f"[green]{report.file}[/]: {report.rows:,} rows, {report.inserted:,} new, "
        f"{report.unchanged:,} unchanged, {report.repeats:,} persons sampled twice"))


@app.command("import-results")
@handle_errors
def import_results(file: Path, encoding: str | None = EncodingOpt,
                   as_json: bool = JsonOpt) -> None:
    """Import lab results: tube_id,result,reported_at,lab_id[,ct] (atomic, idempotent);
    positive pools are followed up at once."""
    with db_session() as session, busy(CORE("importing", file=file.name), quiet=as_json):
        report = importer.import_results(session, actor=cli_actor(), source=file,
                                         encoding=encoding)
    emit(report, as_json, lambda: console.print(
        f"[green]{report.file}[/]: {report.rows:,} rows, {report.inserted:,} new; "
        f"{report.positive_tubes} positive tube(s), {report.followups_opened} pool(s) under "
        f"follow-up, {report.members_resolved} member(s) resolved, {report.cases} new case(s)"
        + (f", {report.known_cases} already a case" if report.known_cases else "")))


@app.command("status")
@handle_errors
def status(round_id: int = typer.Option(..., "--round"), as_json: bool = JsonOpt) -> None:
    """The round's target, sampled, coverage, tubes, positives, pending persons, cases."""
    with db_session() as session:
        st = service.status(session, actor=cli_actor(), round_id=round_id)
    emit(st, as_json, lambda: console.print(
        f"round {st.round_id}: {st.sampled:,} of {st.target:,} sampled ({st.coverage:.1%}); "
        f"{st.tubes:,} tubes, {st.tubes_without_result:,} without result "
        f"({st.tubes_past_due:,} past due); {len(st.positive_tubes)} positive tube(s), "
        f"{len(st.pending_persons)} pending, {len(st.cases)} case(s)"))


@app.command("coverage")
@handle_errors
def coverage(round_id: int = typer.Option(..., "--round"),
             within: str | None = typer.Option(None, help="Only inside this division.",
                                               callback=cli_option),
             digits: int = typer.Option(6, help="Division level: 6 county, 9 town, 12 village."),
             as_json: bool = JsonOpt) -> None:
    """Coverage (应检尽检) per division."""
    with db_session() as session:
        cov = service.coverage(session, actor=cli_actor(), round_id=round_id,
                               within_code=within, digits=digits)
    table = Table("division", "target", "sampled", "coverage", "tubes past due")
    for r in cov.rows:
        table.add_row(r.division_code, f"{r.target:,}", f"{r.sampled:,}", f"{r.coverage:.1%}",
                      str(r.tubes_past_due))
    emit(cov, as_json, lambda: console.print(table))


@app.command("unsampled")
@handle_errors
def unsampled(round_id: int = typer.Option(..., "--round"),
              within: str | None = typer.Option(None, help="Only inside this division.",
                                               callback=cli_option),
              out: Path | None = typer.Option(None, help="Write CSV here (default: stdout).")
              ) -> None:
    """Export the persons not yet sampled (CSV: ref,name,division_code,household_ref)."""
    with db_session() as session:
        handle = out.open("w", newline="", encoding="utf-8") if out else sys.stdout
        try:
            writer = csv_writer(handle)
            writer.writerow(["ref", "name", "division_code", "household_ref"])
            n = 0
            for row in service.iter_unsampled(session, actor=cli_actor(), round_id=round_id,
                                              within_code=within):
                writer.writerow([row.ref, row.name, row.division_code, row.household_ref or ""])
                n += 1
        finally:
            if out:
                handle.close()
    if out:
        console.print(f"{n:,} persons not yet sampled -> {out}")


@app.command("turnaround")
@handle_errors
def turnaround(round_id: int = typer.Option(..., "--round"), as_json: bool = JsonOpt) -> None:
    """Hours from sample to result, for the round and per lab."""
    with db_session() as session:
        rows = service.turnaround(session, actor=cli_actor(), round_id=round_id)
    table = Table("lab", "tubes", "mean h", "max h", "within due")
    for r in rows:
        table.add_row(r.lab or "(round)", f"{r.tubes:,}", str(r.mean_hours), str(r.max_hours),
                      f"{r.within_due:,}")
    emit([r.model_dump() for r in rows], as_json, lambda: console.print(table))


@app.command("queue")
@handle_errors
def queue(round_id: int | None = typer.Option(None, "--round"),
          all_: bool = typer.Option(False, "--all", help="Resolved ones too."),
          as_json: bool = JsonOpt) -> None:
    """The positive-pool queue: pools being resolved, oldest first."""
    with db_session() as session:
        items = service.queue(session, actor=cli_actor(), round_id=round_id,
                              open_only=not all_)
    table = Table("tube", "opened", "status", "members pending")
    for f in items:
        table.add_row(f.tube, f.opened_at.isoformat(timespec="minutes"), f.status,
                      str(sum(m.status == "pending" for m in f.members)))
    emit([f.model_dump(mode="json") for f in items], as_json, lambda: console.print(table))


@app.command("advise")
@handle_errors
def advise(prevalence: float = typer.Option(..., help="Estimated prevalence, e.g. 0.0001."),
           population: int | None = typer.Option(None, help="People to test."),
           round_id: int | None = typer.Option(None, "--round", help="Or: a round's target."),
           lab_capacity: int | None = typer.Option(None, help="Tubes per day (default: the "
                                                              "registered labs')."),
           pack: str | None = typer.Option(None), as_json: bool = JsonOpt) -> None:
    """Pool-size advice (Dorfman): tests per person for each allowed size, the best size,
    reagent and lab hours."""
    if population is None and round_id is None:
        adv = service.advise(None, prevalence=prevalence, population=0,
                             lab_capacity=lab_capacity, pack=pack)
    else:
        with db_session() as session:
            adv = service.advise(session, prevalence=prevalence, population=population,
                                 round_id=round_id, actor=cli_actor(),
                                 lab_capacity=lab_capacity, pack=pack)
    table = Table("pool size", "tests/person", "tests", "lab hours")
    for o in adv.options:
        table.add_row(str(o.size), f"{o.tests_per_person:.4f}", f"{o.tests:,}",
                      "-" if o.lab_hours is None else f"{o.lab_hours:,.1f}")
    table.caption = f"best pool size: {adv.best_size}"
    emit(adv, as_json, lambda: console.print(table))


@app.command("plan")
@handle_errors
def plan(area: str = typer.Option(..., help="Division codes, comma-separated.",
                                  callback=cli_list_option),
         pack: str | None = typer.Option(None), as_json: bool = JsonOpt) -> None:
    """Points and samplers an area needs (guide: 1 point per 2,000-3,000, samplers =
    population / 360) and how long sampling takes with the registered samplers."""
    with db_session() as session:
        p = service.plan(session, actor=cli_actor(), area=_codes(area), pack=pack)
    emit(p, as_json, lambda: console.print(
        f"{p.population:,} people: {p.points_needed[0]:,}-{p.points_needed[1]:,} points, "
        f"{p.samplers_needed:,} samplers; registered {p.points_available} points, "
        f"{p.samplers_available} samplers -> "
        f"{'no samplers' if p.hours_needed is None else f'{p.hours_needed:,.1f} h'}"))


@group_app.command("create")
@handle_errors
def group_create(code: str, division: str = typer.Option(...),
                 every_days: int | None = typer.Option(None, help="Local interval (default: "
                                                                  "the pack's for CODE)."),
                 name: str | None = typer.Option(None), as_json: bool = JsonOpt) -> None:
    """Create a key group; its testing interval comes from the pack unless given."""
    with db_session() as session:
        group = service.create_key_group(session, actor=cli_actor(), data=KeyGroupCreate(
            code=code, name=name, division_code=division, every_days=every_days))
        out = {"id": group.id, "every_days": group.every_days, "source": group.schedule_source}
    emit(out, as_json, lambda: console.print(out))


@group_app.command("add")
@handle_errors
def group_add(group_id: int, file: Path, as_json: bool = JsonOpt) -> None:
    """Add persons (a file of refs, one per line) to a key group."""
    with db_session() as session:
        added = service.add_key_group_members(session, actor=cli_actor(), group_id=group_id,
                                              refs=_lines(file))
    emit({"added": added}, as_json, lambda: console.print(f"{added} added"))


@group_app.command("compliance")
@handle_errors
def group_compliance(group_id: int, overdue: bool = typer.Option(False, "--overdue"),
                     as_json: bool = JsonOpt) -> None:
    """Who in a key group is overdue for their routine test."""
    with db_session() as session:
        rows = service.compliance(session, actor=cli_actor(), group_id=group_id,
                                  overdue_only=overdue)
    table = Table("person", "division", "last sampled", "due", "overdue")
    for r in rows:
        table.add_row(r.person_ref, r.division_code,
                      r.last_sampled_at.isoformat() if r.last_sampled_at else "-",
                      r.due_at.isoformat() if r.due_at else "-", "yes" if r.overdue else "")
    emit([r.model_dump(mode="json") for r in rows], as_json, lambda: console.print(table))
