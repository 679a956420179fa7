"""``fangkong tracing``: the co-presence engine and check-in ingest (thin)."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from fangkong.cliutil import JsonOpt, console, emit, handle_errors
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
