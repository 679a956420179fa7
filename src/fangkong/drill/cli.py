"""``fangkong drill``: run drills from strategy files and compare them."""

from __future__ import annotations

from pathlib import Path

import typer

from fangkong.cliutil import JsonOpt, cli_actor, console, db_session, emit, handle_errors, progress
from fangkong.drill import report, service, strategy

app = typer.Typer(help="Drills (平战结合): a simulated outbreak the platform responds to.",
                  no_args_is_help=True)


def run_and_report(strategies: list[strategy.Strategy], out: Path, *, platform: bool,
                   quiet: bool = False) -> list[dict[str, object]]:
    with progress("days", quiet=quiet) as tick:
        if platform:
            with db_session() as session:
                runs = service.run(session, actor=cli_actor(), strategies=strategies, out=out,
                                   progress=tick)
        else:
            runs = service.run(None, actor=None, strategies=strategies, out=out,
                               progress=tick)
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
        for t in table:
            console.print(", ".join(f"{k} {v}" for k, v in t.items()), highlight=False)
        console.print(f"[green]written[/] {out / 'metrics.csv'} and {out / 'report.html'}")

    emit({"out": str(out), "runs": table}, as_json, text)
