"""``fangkong tracing``: the co-presence engine, check-in ingest, chains, clusters, indicators
and the review of proposals (thin)."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import typer

from fangkong.case.enums import LABELS as CASE_LABELS
from fangkong.cliutil import (
    JsonOpt,
    busy,
    cli_actor,
    console,
    db_session,
    emit,
    handle_errors,
    say,
)
from fangkong.core.errors import Invalid
from fangkong.core.messages import CORE, joined, value_term
from fangkong.tracing.messages import T, state

app = typer.Typer(help="Tracing (流调溯源): co-presence, check-ins, contacts.",
                  no_args_is_help=True)


@app.command("colocate")
@handle_errors
def colocate(
    checkins: Path = typer.Option(..., "--checkins", help="Directory of check-in Parquet files "
                                  "(person_id, venue_id, t_in, t_out; UTC)."),
    cases: Path = typer.Option(..., "--cases", help="CSV: person_id,window_start,window_end."),
    out: Path = typer.Option(..., "--out", help="Parquet file to write."),
    min_overlap_minutes: int | None = typer.Option(
        None, "--min-overlap-minutes", min=0, max=1440,
        help="M: shortest overlap that counts (default: the active policy pack's)."),
    linger_minutes: int | None = typer.Option(
        None, "--linger-minutes", min=0, max=1440,
        help="L: the case's stay extends this long after leaving (default: the pack's)."),
    engine: str = typer.Option("duckdb", "--engine", help="duckdb or spark."),
    as_json: bool = JsonOpt,
) -> None:
    """People whose stay at a venue overlapped a case's stay (时空伴随), one row per pair of
    stays: case_person_id, contact_person_id, venue_id, overlap_start, overlap_end."""
    from fangkong.tracing import engine as eng

    if engine not in ("duckdb", "spark"):
        raise Invalid(T("unknown_engine", engine=repr(engine)))
    if min_overlap_minutes is None or linger_minutes is None:
        from fangkong.policy import service as policy

        rules = policy.tracing_rules(None).co_presence
        min_overlap_minutes = (rules.min_overlap_minutes if min_overlap_minutes is None
                               else min_overlap_minutes)
        linger_minutes = rules.linger_minutes if linger_minutes is None else linger_minutes
    params = eng.Params(min_overlap_minutes=min_overlap_minutes, linger_minutes=linger_minutes)
    table = eng.read_cases(cases)
    started = time.perf_counter()
    kind: eng.Engine = "spark" if engine == "spark" else "duckdb"
    result = eng.colocate(checkins, table, params, engine=kind)
    seconds = time.perf_counter() - started
    eng.write_result(result, out)
    report = {"cases": table.num_rows, "rows": result.num_rows, "out": str(out),
              "engine": engine, "min_overlap_minutes": min_overlap_minutes,
              "linger_minutes": linger_minutes, "seconds": round(seconds, 3)}
    emit(report, as_json, lambda: _say(T(
        "cli.colocated", rows=result.num_rows, cases=table.num_rows, overlap=min_overlap_minutes,
        linger=linger_minutes, engine=engine, seconds=f"{seconds:.2f}", out=out)))


@app.command("venues")
@handle_errors
def import_venues(file: Path = typer.Argument(..., help="CSV or XLSX: code,name,venue_type,"
                                              "division_code[,latitude,longitude,capacity]"),
                  as_json: bool = JsonOpt) -> None:
    """Register venues (场所码) in bulk (atomic; idempotent)."""
    from fangkong.core.config import get_settings
    from fangkong.tracing import venues

    settings = get_settings()
    with db_session() as session:
        report = venues.import_venues(session, actor=cli_actor(), source=file, filename=None,
                                      max_bytes=settings.import_max_bytes,
                                      max_errors=settings.import_max_errors)
    emit(report, as_json, lambda: _say(T(
        "cli.venues", created=report["created"], unchanged=report["unchanged"])))


@app.command("ingest")
@handle_errors
def ingest(file: Path = typer.Argument(..., help="CSV or Parquet: person_id,venue_code,t_in,"
                                       "t_out"),
           store_dir: Path | None = typer.Option(None, "--store", help="Check-in store "
                                                 "(default: <data dir>/checkins)."),
           as_json: bool = JsonOpt) -> None:
    """Add check-ins to the day-partitioned store (atomic per file; re-ingesting is a no-op)."""
    from fangkong.tracing import importer

    with db_session() as session, busy(CORE("importing", file=file.name), quiet=as_json):
        report = importer.ingest(session, actor=cli_actor(), source=file, directory=store_dir)
    emit(report, as_json, lambda: _say(
        T("cli.ingested_before") if report.unchanged else
        T("cli.ingested", stored=report.stored, days=len(report.days),
          already=report.already_stored)))


@app.command("reindex")
@handle_errors
def reindex(store_dir: Path | None = typer.Option(None, "--store", help="Check-in store "
                                                  "(default: <data dir>/checkins)."),
            as_json: bool = JsonOpt) -> None:
    """Rewrite the sidecar indexes of every file in the check-in store (for a store written
    by an older version; without current sidecars the engine reads Parquet, more slowly)."""
    from fangkong.tracing import store

    directory = store_dir or store.checkin_dir()
    if not directory.is_dir():
        from fangkong.core.errors import Invalid

        raise Invalid(T("no_directory", path=directory))
    with store.locked(directory):
        files = store.reindex(directory)
    report = {"files": files, "store": str(directory)}
    emit(report, as_json, lambda: _say(T("cli.reindexed", files=files, directory=directory)))


# --- chains, clusters, indicators, proposals -------------------------------------------------

def _say(text: object) -> None:
    """A line in the command line's language, as it is (no markup, no highlighting)."""
    console.print(say(text), markup=False, highlight=False, soft_wrap=True)


def _fmt_settings(settings: dict[str, int]) -> object:
    """Cases by setting (household 3, school 1), the settings named in the reader's language."""
    if not settings:
        return T("cli.none")
    return joined(T("cli.setting_count", setting=state(k), count=v) for k, v in settings.items())


@app.command("chain")
@handle_errors
def chain(case_id: int = typer.Argument(..., help="A case id."),
          layout: str = typer.Option("network", "--layout", help="network or timeline "
                                     "(by onset date, one lane per case)."),
          as_json: bool = JsonOpt) -> None:
    """A case's transmission chain: its cluster's cases (with generation) and links."""
    from fangkong.tracing import chains

    if layout not in ("network", "timeline"):
        raise Invalid(T("unknown_layout", layout=repr(layout)))
    with db_session() as session:
        info = chains.chain(session, actor=cli_actor(), case_id=case_id, layout=layout)

    def text() -> None:
        _say(T("cli.chain", id=info["cluster_id"], size=info["size"],
               generations=info["generations"], first=info["first_date"],
               last=info["last_date"], days=info["span_days"],
               settings=_fmt_settings(info["settings"])))
        for node in info["nodes"]:
            _say(T("cli.chain_case", id=node["case_id"], ref=node["ref"],
                   generation=node["generation"],
                   classification=value_term(CASE_LABELS, node["classification"]),
                   day=node["date"]))
        for edge in info["edges"]:
            console.print(f"  {edge['source']} → {edge['target']} {edge['date']} "
                          f"{say(state(edge['setting']))}", markup=False, highlight=False)
    emit(info, as_json, text)


@app.command("clusters")
@handle_errors
def clusters(min_size: int = typer.Option(2, "--min-size", min=1, help="Smallest cluster."),
             limit: int = typer.Option(50, "--limit", min=1, help="Print at most this many "
                                       "(the largest first; --json prints all)."),
             as_json: bool = JsonOpt) -> None:
    """Clusters (connected cases), largest first: size, span, generations, settings."""
    from fangkong.tracing import chains

    with db_session() as session:
        listed = chains.clusters(session, actor=cli_actor(), min_size=min_size)

    def text() -> None:
        _say(T("cli.clusters", count=len(listed), min=min_size))
        for c in listed[:limit]:
            _say(T("cli.cluster", id=c["cluster_id"], size=c["size"],
                   generations=c["generations"], first=c["first_date"], last=c["last_date"],
                   days=c["span_days"], settings=_fmt_settings(c["settings"])))
    emit(listed, as_json, text)


@app.command("indicators")
@handle_errors
def indicators(
    start: datetime | None = typer.Option(None, "--start", formats=["%Y-%m-%d"],
                                          help="First report day (default: 13 days before "
                                          "--end)."),
    end: datetime | None = typer.Option(None, "--end", formats=["%Y-%m-%d"],
                                        help="Last report day (default: today, UTC)."),
    not_seen_days: int = typer.Option(2, "--not-seen-days", min=1, max=60),
    max_onset_gap_days: int = typer.Option(14, "--max-onset-gap-days", min=1, max=60),
    as_json: bool = JsonOpt,
) -> None:
    """Go.Data-style indicators: new cases who were known contacts, cases in known chains,
    active contacts not seen for N days, links whose onset gap suggests a missing case."""
    from fangkong.core.clock import utc_now
    from fangkong.tracing import chains

    last = end.date() if end else utc_now().date()
    first = start.date() if start else last - timedelta(days=13)
    if first > last:
        raise Invalid(T("start_after_end"))
    with db_session() as session:
        ind = chains.indicators(session, actor=cli_actor(), start=first, end=last,
                                not_seen_days=not_seen_days,
                                max_onset_gap_days=max_onset_gap_days)

    def pct(share: float | None) -> str:
        return "-" if share is None else f"{share:.1%}"

    def text() -> None:
        _say(T("cli.reported", first=first, last=last, count=ind["new_cases"]))
        _say(T("cli.known_contacts", count=ind["new_cases_known_contacts"],
               share=pct(ind["share_known_contacts"])))
        _say(T("cli.in_chains", count=ind["new_cases_in_chains"],
               share=pct(ind["share_in_chains"])))
        _say(T("cli.not_seen", days=not_seen_days, count=ind["contacts_not_seen"]))
        gaps = ind["suspicious_links"]
        _say(T("cli.gaps", days=max_onset_gap_days, count=len(gaps)))
        for g in gaps[:20]:
            _say(T("cli.gap", source=g["source"], target=g["target"], days=g["onset_gap_days"]))
    emit(ind, as_json, text)


@app.command("proposals")
@handle_errors
def proposals(case_id: int = typer.Argument(..., help="A case id."),
              pending: bool = typer.Option(False, "--pending", help="Only those awaiting "
                                           "review."),
              as_json: bool = JsonOpt) -> None:
    """A case's exposures: proposals awaiting review, confirmed and rejected, with why."""
    from fangkong.tracing import service

    with db_session() as session:
        rows = [{"exposure_id": e.id, "person_id": e.exposed_person_id,
                 "origin": e.origin.value, "role": e.proposed_role,
                 "review": e.review.value, "active": e.active, "setting": e.setting.value,
                 "first_exposure": e.first_exposure, "last_exposure": e.last_exposure,
                 "reason": e.reason, "contact_id": e.contact_id}
                for e in service.exposures_of(session, actor=cli_actor(), case_id=case_id)
                if not pending or e.review.value == "proposed"]

    def text() -> None:
        _say(T("cli.exposures", count=len(rows), case=case_id))
        for r in rows:
            _say(T("cli.exposure", id=r["exposure_id"], person=r["person_id"],
                   review=state(r["review"]), origin=state(r["origin"]), role=r["role"],
                   last=r["last_exposure"], reason=r["reason"]))
    emit(rows, as_json, text)


def _review(exposure_ids: list[int], case_id: int | None, confirm: bool, note: str | None,
            as_json: bool) -> None:
    from fangkong.tracing import service

    with db_session() as session:
        actor = cli_actor()
        ids = list(exposure_ids)
        if case_id is not None:  # every proposal of the case still awaiting review
            ids += [e.id for e in service.exposures_of(session, actor=actor, case_id=case_id)
                    if e.review.value == "proposed" and e.id not in ids]
        if not ids:
            raise Invalid(T("give_exposures"))
        done = service.review_many(session, actor=actor, exposure_ids=ids, confirm=confirm,
                                   note=note)
        rows = [{"exposure_id": e.id, "review": e.review.value, "contact_id": e.contact_id}
                for e in done]
    out: Any = rows[0] if len(rows) == 1 and case_id is None else rows

    def text() -> None:
        for r in rows:
            _say(T("cli.reviewed_contact", id=r["exposure_id"], review=state(r["review"]),
                   contact=r["contact_id"]) if r["contact_id"] else
                 T("cli.reviewed", id=r["exposure_id"], review=state(r["review"])))
    emit(out, as_json, text)


@app.command("confirm")
@handle_errors
def confirm(exposure_ids: list[int] = typer.Argument(None, help="Proposed exposures' ids."),
            case_id: int | None = typer.Option(None, "--case", help="Also every proposal of "
                                               "this case awaiting review."),
            note: str | None = typer.Option(None, "--note"), as_json: bool = JsonOpt) -> None:
    """Confirm proposals (all or nothing): each person becomes a contact of the case (with the
    pack's plan and tasks)."""
    _review(exposure_ids or [], case_id, True, note, as_json)


@app.command("reject")
@handle_errors
def reject(exposure_ids: list[int] = typer.Argument(None, help="Proposed exposures' ids."),
           case_id: int | None = typer.Option(None, "--case", help="Also every proposal of "
                                              "this case awaiting review."),
           note: str | None = typer.Option(None, "--note"), as_json: bool = JsonOpt) -> None:
    """Reject proposals (all or nothing): they stop counting."""
    _review(exposure_ids or [], case_id, False, note, as_json)


@app.command("graph")
@handle_errors
def graph_upkeep(rebuild: bool = typer.Option(False, "--rebuild", help="Recompute the "
                                              "maintained graph from scratch first (after "
                                              "bulk SQL writes)."),
                 as_json: bool = JsonOpt) -> None:
    """Check that the maintained transmission graph equals a computation from scratch
    (exit code 1 when it does not); --rebuild repairs it."""
    from fangkong.tracing import graph

    with db_session() as session:
        built = graph.rebuild(session) if rebuild else None
        problems = graph.check(session)
    report = {"rebuilt": built, "problems": problems, "ok": not problems}
    def text() -> None:
        if built:
            _say(T("cli.graph_rebuilt", counts=", ".join(f"{v} {k}" for k, v in built.items())))
        _say(T("cli.graph_ok") if not problems else T("cli.graph_differs"))
        for problem in problems:
            console.print(f"  {problem}", markup=False, highlight=False)

    emit(report, as_json, text)
    if problems:
        raise typer.Exit(1)
