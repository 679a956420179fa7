"""``fangkong drill``: run drills from strategy files and compare them."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import typer
from rich.markup import escape

from fangkong.cliutil import (
    JsonOpt,
    cli_actor,
    cli_lang,
    console,
    db_session,
    emit,
    handle_errors,
    progress,
    say,
)
from fangkong.core.messages import CORE
from fangkong.drill import compare, report, service, strategy
from fangkong.drill.messages import D, counts, strategy_name

app = typer.Typer(help="Drills (平战结合): a simulated outbreak the platform responds to.",
                  no_args_is_help=True)


def print_summary(table: list[dict[str, object]], out: Path) -> None:
    """Each run's figures, named in the command line's language, and where they are written."""
    lang = cli_lang()
    for row in table:
        named = [(D(f"label.{k}").render(lang) if f"label.{k}" in D else k,
                  say(strategy_name(str(v))) if k == "strategy" else v)
                 for k, v in row.items()]
        console.print(("，" if lang != "en" else ", ").join(
            f"{k} {v}" if lang == "en" else f"{k}：{v}" for k, v in named), highlight=False)
    console.print(say(D("cli.written", metrics=out / "metrics.csv",
                        report=out / "report.html")), highlight=False)


def run_and_report(strategies: list[strategy.Strategy], out: Path, *, platform: bool,
                   quiet: bool = False, extra: str = "") -> list[dict[str, object]]:
    """Run the strategies and write the report (``extra``: a section it shows after the
    verdicts, such as a comparison over seeds)."""
    with progress(CORE("days"), quiet=quiet) as tick:
        if platform:
            with db_session() as session:
                runs = service.run(session, actor=cli_actor(), strategies=strategies, out=out,
                                   progress=tick, lang=cli_lang(), extra=extra)
        else:
            runs = service.run(None, actor=None, strategies=strategies, out=out,
                               progress=tick, lang=cli_lang(), extra=extra)
    return [report.totals(r) for r in runs]


@app.command("run")
@handle_errors
def run(
    strategy_file: Path | None = typer.Argument(None, help="A strategy YAML file."),
    strategies: list[Path] = typer.Option([], "--strategy", help="More strategies to compare "
                                          "(repeatable); a shipped name such as no-response "
                                          "or scarce works too."),
    out: Path = typer.Option(Path("drill-out"), help="Where metrics.csv and report.html go."),
    agents: int | None = typer.Option(None, help="Override the agents of every strategy."),
    fraction: float | None = typer.Option(None, help="Override: agents as a fraction of the "
                                          "real population (e.g. 0.01)."),
    days: int | None = typer.Option(None, help="Override the days of every strategy."),
    seed: int | None = typer.Option(None, help="Override the seed of every strategy."),
    platform: bool = typer.Option(True, "--platform/--no-platform",
                                  help="Write cases, persons and tasks into the database."),
    as_json: bool = JsonOpt,
) -> None:
    """Run a drill from STRATEGY.yaml (default: the shipped baseline) and write the report."""
    files = ([strategy_file] if strategy_file else []) + list(strategies)
    loaded = [strategy.load(f if f.suffix else service.shipped(str(f)))
              for f in (files or [service.shipped("baseline")])]
    over = {k: v for k, v in (("agents", agents), ("days", days), ("seed", seed),
                              ("fraction", fraction)) if v}
    loaded = [s.model_copy(update=over) for s in loaded]
    if platform:
        from fangkong.core.db import get_engine
        from fangkong.core.migrate import upgrade

        upgrade(get_engine())
    table = run_and_report(loaded, out, platform=platform, quiet=as_json)

    def text() -> None:
        print_summary(table, out)

    emit({"out": str(out), "runs": table}, as_json, text)


def comparison(names: list[str], *, seeds: int, agents: int, days: int, jobs: int | None,
               lang: str) -> tuple[list[compare.Row], str]:
    """The shipped (or given) strategies over ``seeds`` seeds, as rows and a report section."""
    loaded = [strategy.load(n if n.suffix else service.shipped(str(n))).model_copy(
        update={"agents": agents, "days": days}) for n in map(Path, names)]
    rows = compare.run(loaded, list(range(1, seeds + 1)), jobs=jobs)
    return rows, compare.to_html(rows, seeds=seeds, agents=agents, days=days, lang=lang)


@app.command("compare")
@handle_errors
def compare_cmd(
    strategies: list[str] = typer.Option(list(compare.SHIPPED), "--strategy",
                                         help="Strategies to compare (repeatable; files or "
                                         "shipped names); the first is the reference."),
    seeds: int = typer.Option(5, min=2, help="Seeds per strategy (1..N)."),
    agents: int = typer.Option(10_000, min=100, help="Agents of every run."),
    days: int = typer.Option(60, min=1, help="Days of every run."),
    jobs: int | None = typer.Option(None, min=1, help="Worker processes (default: CPUs)."),
    out: Path = typer.Option(Path("drill-out"), help="Where report.html and compare.csv go."),
    as_json: bool = JsonOpt,
) -> None:
    """Several strategies over several seeds each, in parallel processes (the fast mode):
    medians, 90 % bands, and which differences are larger than the seed-to-seed spread."""
    import time

    began = time.monotonic()
    lang = cli_lang()
    rows, section = comparison(strategies, seeds=seeds, agents=agents, days=days, jobs=jobs,
                               lang=lang)
    first = [strategy.load(n if n.suffix else service.shipped(str(n))).model_copy(
        update={"agents": agents, "days": days, "seed": 1}) for n in map(Path, strategies)]
    runs = service.run(None, actor=None, strategies=first, out=None)
    report.write(runs, out, lang=lang, extra=section)
    compare.write_csv(rows, out / "compare.csv")
    seconds = round(time.monotonic() - began)

    def text() -> None:
        for r in rows:
            spread = ("" if r.beyond_spread is None else D("compare.spread", what=D(
                "compare.beyond_short" if r.beyond_spread else "compare.within_short")))
            console.print(say(D("compare.line", strategy=strategy_name(r.strategy),
                                metric=D(f"compare.metric.{r.metric}"), median=f"{r.median:g}",
                                low=f"{r.low:g}", high=f"{r.high:g}", spread=spread)),
                          highlight=False, soft_wrap=True)
        console.print(say(D("cli.compared", strategies=len(strategies), seeds=seeds,
                            seconds=seconds)), highlight=False)
        console.print(say(D("cli.written", metrics=out / "compare.csv",
                            report=out / "report.html")), highlight=False)

    emit({"out": str(out), "rows": [dataclasses.asdict(r) | {
        "beyond_spread": r.beyond_spread} for r in rows]}, as_json, text)


@app.command("runs")
@handle_errors
def runs(as_json: bool = JsonOpt) -> None:
    """The drill runs recorded in the database, with how many records of each kind each made."""
    from fangkong.drill import runs as drill_runs

    with db_session() as session:
        found = drill_runs.list_runs(session, actor=cli_actor())
    rows = [dataclasses.asdict(r) for r in found]

    def text() -> None:
        if not found:
            console.print(say(D("cli.no_runs")))
        for r in found:
            done = (D("cli.finished", at=f"{r.finished_at:%Y-%m-%d %H:%M}") if r.finished_at
                    else D("cli.unfinished"))
            console.print(escape(say(D(
                "cli.run", key=r.key, id=r.id, strategy=strategy_name(r.strategy), pack=r.pack,
                city=r.city, agents=f"{r.agents:,}", seed=r.seed, days=r.days,
                started=f"{r.started_at:%Y-%m-%d %H:%M}", by=r.started_by, done=say(done)))),
                highlight=False)
            console.print("  " + say(counts(r.records)), highlight=False)

    emit(rows, as_json, text)


@app.command("remove")
@handle_errors
def remove(run: str = typer.Argument(..., help="The run's key (DC…R…) or id, as `fangkong "
                                     "drill runs` lists it."),
           as_json: bool = JsonOpt) -> None:
    """Remove a drill run and everything it made (one transaction, audited); persons and
    venues of its city that another run still lists stay."""
    import shutil

    from fangkong.drill import runs as drill_runs

    with db_session() as session:
        done = drill_runs.remove(session, actor=cli_actor(), run=run)
    shutil.rmtree(done.checkins, ignore_errors=True)  # the run's check-in store, once committed

    def text() -> None:
        console.print(escape(say(D("cli.removed", run=done.run, counts=counts(done.removed)))),
                      highlight=False)
        if done.kept:
            console.print(escape(say(D("cli.kept", counts=counts(done.kept)))), highlight=False)

    emit(dataclasses.asdict(done), as_json, text)
