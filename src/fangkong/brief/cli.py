"""``fangkong brief``: write the daily brief of one jurisdiction and day to a directory.

The brief is built from the dashboard's sections (every domain, and the numerical libraries
of the analytics), so they are imported when the command runs, not for ``--help``."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer

from fangkong.brief.messages import B
from fangkong.cliutil import JsonOpt, cli_actor, console, db_session, emit, handle_errors
from fangkong.core.config import get_settings
from fangkong.core.division import cli_option
from fangkong.core.errors import Invalid
from fangkong.core.messages import joined


@handle_errors
def brief(
    day: str | None = typer.Option(None, "--date", help="Day (YYYY-MM-DD); default today."),
    jurisdiction: str = typer.Option(..., "--jurisdiction", callback=cli_option,
                                      help="Division code, e.g. 4408."),
    out: Path = typer.Option(Path("."), "--out", help="Directory to write the files to."),
    formats: str = typer.Option("html,pdf,xlsx", "--format", help="Comma-separated."),
    lang: str = typer.Option("zh-Hans", "--lang", help="zh-Hans, zh-Hant or en."),
    measures: Path | None = typer.Option(
        None, "--measures", help="YAML/JSON list of local measures to check against the nine "
        "prohibitions (see policy/MEASURES.md)."),
    pack: str | None = typer.Option(None, "--pack", help="Policy pack; default: active one."),
    as_json: bool = JsonOpt,
) -> None:
    """Write the daily brief (每日一研判) as HTML, PDF and XLSX."""
    from fangkong.brief import render, service
    from fangkong.web.i18n import LANGS
    from fangkong.web.service import local_today

    wanted = [f.strip() for f in formats.split(",") if f.strip()]
    bad = [f for f in wanted if f not in render.FORMATS]
    if bad or not wanted:
        raise Invalid(B("formats", bad=joined(bad) if bad else B("none"),
                        formats=joined(render.FORMATS)))
    if lang not in LANGS:
        raise Invalid(B("lang", lang=lang, langs=joined(LANGS)))
    settings = get_settings()
    try:
        on = date.fromisoformat(day) if day else local_today(settings.timezone)
    except ValueError:
        raise Invalid(B("date", day=day)) from None
    listed = service.read_measures(measures) if measures else None
    with db_session() as session:
        written = [str(p) for p in service.write(
            session, actor=cli_actor(), jurisdiction=jurisdiction, day=on, out=out,
            formats=wanted, lang=lang, zone=settings.timezone, measures=listed, pack=pack)]
    emit({"files": written}, as_json,
         lambda: console.print("[green]brief written[/]: " + ", ".join(written)))
