from __future__ import annotations

import typer

from fangkong.cliutil import JsonOpt, console, db_session, emit, handle_errors, progress, say
from fangkong.core.messages import CORE
from fangkong.geo import service
from fangkong.geo.messages import G

app = typer.Typer(help="Administrative divisions and field units (指挥体系).",
                  no_args_is_help=True)


@app.command("load")
@handle_errors
def load(
    province: str | None = typer.Option(None, help="Load one province only, e.g. 44."),
    as_json: bool = JsonOpt,
) -> None:
    """Load the divisions and boundaries shipped with Fangkong. Safe to run again."""
    done = 0

    def advance(_what: str, n: int) -> None:
        nonlocal done
        done += n
        tick(CORE("loading_divisions"), done, None)

    with db_session() as session, progress(quiet=as_json, transient=True) as tick:
        report = service.load(session, province=province, progress=advance)
    emit(report, as_json, lambda: console.print(say(G(
        "cli.loaded", divisions=f"{report.divisions:,}", boundaries=report.boundaries))))


@app.command("show")
@handle_errors
def show(code: str, as_json: bool = JsonOpt) -> None:
    """A division with its ancestors and children."""
    with db_session() as session:
        division = service.get(session, code)
        chain = [*service.ancestors(session, code), division]
        kids = service.children(session, code)
        data = {"code": division.code, "name": division.name, "level": division.level.value,
                "path": [f"{d.code} {d.name}" for d in chain],
                "children": [{"code": k.code, "name": k.name} for k in kids]}

    def text() -> None:
        console.print(" › ".join(f"{d.code} {d.name}" for d in chain))
        shown = ", ".join(f"{k.code} {k.name}" for k in kids[:30])
        console.print(say(G("cli.children", count=len(kids), shown=shown))
                      + (" …" if len(kids) > 30 else ""))

    emit(data, as_json, text)
