"""``fangkong tracing``: the co-presence engine and check-in ingest (thin)."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from fangkong.cliutil import JsonOpt, cli_actor, console, db_session, emit, handle_errors
from fangkong.core.errors import Invalid

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
        raise Invalid(f"unknown engine {engine!r}; expected duckdb or spark")
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
    emit(report, as_json, lambda: console.print(
        f"{result.num_rows} overlapping pair(s) of stays for {table.num_rows} case(s) "
        f"(M={min_overlap_minutes} min, L={linger_minutes} min, {engine}, {seconds:.2f} s) "
        f"→ {out}"))


@app.command("venues")
@handle_errors
def import_venues(file: Path = typer.Argument(..., help="CSV or XLSX: code,name,venue_type,"
                                              "division_code[,latitude,longitude,capacity]"),
                  as_json: bool = JsonOpt) -> None:
    """Register venues (场所码) in bulk (atomic; idempotent)."""
    from fangkong.config import get_settings
    from fangkong.tracing import service

    settings = get_settings()
    with db_session() as session:
        report = service.import_venues(session, actor=cli_actor(), source=file, filename=None,
                                       max_bytes=settings.import_max_bytes,
                                       max_errors=settings.import_max_errors)
    emit(report, as_json, lambda: console.print(
        f"{report['created']} venue(s) registered, {report['unchanged']} already known"))


@app.command("ingest")
@handle_errors
def ingest(file: Path = typer.Argument(..., help="CSV or Parquet: person_id,venue_code,t_in,"
                                       "t_out"),
           store_dir: Path | None = typer.Option(None, "--store", help="Check-in store "
                                                 "(default: <data dir>/checkins)."),
           as_json: bool = JsonOpt) -> None:
    """Add check-ins to the day-partitioned store (atomic per file; re-ingesting is a no-op)."""
    from fangkong.tracing import importer

    with db_session() as session:
        report = importer.ingest(session, actor=cli_actor(), source=file, directory=store_dir)
    emit(report, as_json, lambda: console.print(
        "unchanged: this file was ingested before" if report.unchanged else
        f"{report.stored} check-in(s) stored over {len(report.days)} day(s); "
        f"{report.already_stored} already in the store"))
