"""The platform's own commands, not of one domain: ``db``, ``import``, ``audit``, ``serve`` and
``demo`` (:data:`fangkong.registry.PLATFORM` names them beside the domains' groups)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

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
from fangkong.core.messages import CORE

db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
import_app = typer.Typer(help="Bulk imports from CSV or XLSX (atomic, idempotent).",
                         no_args_is_help=True)
audit_app = typer.Typer(help="The audit log of personal-data access.", no_args_is_help=True)


@db_app.command("upgrade")
@handle_errors
def db_upgrade(revision: str = typer.Argument("head")) -> None:
    """Create or migrate the database schema (SQLite file by default)."""
    from fangkong.core.db import get_engine
    from fangkong.core.migrate import current, upgrade

    engine = get_engine()
    upgrade(engine, revision)
    console.print(escape(say(CORE("db.upgraded", revision=current(engine),
                                  url=engine.url.render_as_string(hide_password=True)))),
                  style="green", highlight=False)


@db_app.command("current")
@handle_errors
def db_current() -> None:
    """Show the schema revision of the database and the newest one available."""
    from fangkong.core.db import get_engine
    from fangkong.core.migrate import current, head

    console.print(escape(say(CORE("db.current", revision=current(get_engine()) or CORE(
        "db.empty"), head=head()))), highlight=False)


@db_app.command("check-packs")
@handle_errors
def db_check_packs(as_json: bool = JsonOpt) -> None:
    """Check that every record made under a policy pack (exposures, contact episodes, stays,
    zones, testing rounds, the tasks a rule made) names a pack and version still on disk; exit
    4 (conflict) naming each group of records whose stored version is no longer there."""
    from sqlalchemy import func, select

    from fangkong import registry
    from fangkong.core.errors import AppError, Conflict, Problem
    from fangkong.policy import service as policy

    stored = []  # each domain's records that carry their pack (the registry's declarations)
    for packed in registry.packed():
        model = registry.resolve(packed.model)
        stored.append((packed.kind, model.id, getattr(model, packed.pack),
                       getattr(model, packed.version)))
    rows: list[dict[str, object]] = []
    problems: list[Problem] = []
    total = 0
    with db_session() as session:
        for kind, id_, pack, version in stored:
            for pack_id, pack_version, n, first in session.execute(
                    select(pack, version, func.count(), func.min(id_)).where(pack.is_not(None))
                    .group_by(pack, version).order_by(pack, version)):
                record = str(CORE("db.pack_records", kind=kind, first=first, more=n - 1)
                             if n > 1 else CORE("db.pack_record", kind=kind, first=first))
                try:
                    policy.pinned(str(pack_id), str(pack_version), record=record)
                    ok = True
                except AppError as exc:  # PackChanged, or NotFound: no such pack any more
                    problems.append(Problem(exc.text, field=kind))
                    ok = False
                total += int(n)
                rows.append({"records": kind, "pack_id": pack_id, "pack_version": pack_version,
                             "count": int(n), "ok": ok})
    if problems:
        raise Conflict(CORE("packs_missing", count=len(problems)), problems=problems)
    emit(rows, as_json, lambda: console.print(escape(say(CORE(
        "db.packs_ok", total=f"{total:,}", groups=len(rows)))), style="green", highlight=False))


def _import(kind: str, file: Path, encoding: str | None, as_json: bool) -> None:
    from fangkong.case import importer as case_importer
    from fangkong.person import importer as person_importer
    from fangkong.person import stays

    if not file.exists():
        raise Invalid(CORE("no_file", file=file))
    with db_session() as session, busy(CORE("importing", file=file.name), quiet=as_json):
        if kind == "persons":
            report = person_importer.import_file(session, actor=cli_actor(), source=file,
                                                 encoding=encoding)
        elif kind == "stays":
            report = stays.import_file(  # type: ignore[assignment]
                session, actor=cli_actor(), source=file, encoding=encoding)
        else:
            report = case_importer.import_file(session, actor=cli_actor(), source=file,
                                               encoding=encoding)  # type: ignore[assignment]
    emit(report, as_json, lambda: console.print(escape(say(CORE(
        "imported", file=report.file, rows=f"{report.rows:,}", inserted=f"{report.inserted:,}",
        updated=f"{report.updated:,}", unchanged=f"{report.unchanged:,}")))))


EncodingOpt = typer.Option(None, help="Text encoding of a CSV file (default UTF-8), e.g. gb18030.")


@import_app.command("persons")
@handle_errors
def import_persons(file: Path, encoding: str | None = EncodingOpt, as_json: bool = JsonOpt) -> None:
    """Import persons. Columns: ref, name, sex, birth_date, id_type, id_number, phone, address,
    division_code, household_ref, synthetic."""
    _import("persons", file, encoding, as_json)


@import_app.command("stays")
@handle_errors
def import_stays(file: Path, encoding: str | None = EncodingOpt, as_json: bool = JsonOpt) -> None:
    """Import where persons are registered as staying (暂住). Columns: person_ref,
    division_code, since, until."""
    _import("stays", file, encoding, as_json)


@import_app.command("cases")
@handle_errors
def import_cases(file: Path, encoding: str | None = EncodingOpt, as_json: bool = JsonOpt) -> None:
    """Import cases. Columns: ref, person_ref, disease, classification, severity, onset_date,
    first_positive_sample_date, reported_at, detection_mode, owning_division_code,
    current_division_code."""
    _import("cases", file, encoding, as_json)


AnchorsOpt = typer.Option(None, "--anchors", help="Anchor file (default: "
                          "FANGKONG_AUDIT_ANCHOR_FILE or <data dir>/audit-anchors.log).")


@audit_app.command("verify")
@handle_errors
def audit_verify(anchors: Path | None = AnchorsOpt, as_json: bool = JsonOpt) -> None:
    """Check the audit log's keyed hash chain from the first entry to the last, and against
    the anchors written outside the database (a cut tail is found there)."""
    from fangkong.core import audit

    path = anchors or audit.anchor_file()
    if anchors and not anchors.exists():
        raise Invalid(CORE("no_file", file=anchors))
    with db_session() as session:
        result = audit.verify(session, anchors=path)
    def text() -> None:
        if result.ok:
            console.print(escape(say(CORE(
                "audit.intact", checked=f"{result.checked:,}", plain=f"{result.plain:,}",
                anchors=f"{result.anchors:,}"))), style="green", highlight=False)
            return
        # the reason is kept in English (the JSON's); read back as its message to show it
        reason = CORE.parse(result.reason or "", "audit.") or result.reason
        line = (CORE("audit.broken", seq=result.first_bad_seq, reason=reason)
                if result.first_bad_seq is not None else
                CORE("audit.broken_anchors", reason=reason))
        console.print(escape(say(line)), style="bold red", highlight=False, soft_wrap=True)

    emit(result.__dict__, as_json, text)
    if not result.ok:
        raise typer.Exit(8)


@audit_app.command("anchor")
@handle_errors
def audit_anchor(anchors: Path | None = AnchorsOpt, as_json: bool = JsonOpt) -> None:
    """Append the chain's head (seq, hash, time, MAC) to the anchor file and print the line
    (keep a copy where database administrators cannot write)."""
    from fangkong.core import audit

    path = anchors or audit.anchor_file()
    with db_session() as session:
        mark, written = audit.write_anchor(session, path)
    line = mark.line(audit.audit_key())
    emit({"seq": mark.seq, "hash": mark.hash, "at": mark.at.isoformat(), "line": line,
          "written": written, "file": str(path)}, as_json,
         lambda: typer.echo(line))


@handle_errors
def serve(host: str | None = typer.Option(None, help="Default: FANGKONG_HOST or 127.0.0.1."),
          port: int | None = typer.Option(None, help="Default: FANGKONG_PORT or 8000."),
          workers: int | None = typer.Option(None, min=1, max=64,
                                             help="Server processes. Default: FANGKONG_WORKERS "
                                             "or 1.")) -> None:
    """Serve the API (docs at /docs) with the scheduled overdue-task check."""
    import uvicorn

    from fangkong.app import create_app
    from fangkong.core.config import get_settings

    settings = get_settings()
    with db_session():
        pass  # fails early, with a clear message, if the schema is not up to date
    count = workers or settings.workers
    # X-Forwarded-* are believed only from FANGKONG_TRUSTED_PROXIES (in create_app), not from
    # uvicorn's default of 127.0.0.1.
    where = {"host": host or settings.host, "port": port or settings.port,
             "proxy_headers": False}
    if count == 1:
        uvicorn.run(create_app(settings, scheduler=True, settle_gc=True), **where)  # type: ignore[arg-type]
        return
    from fangkong.app import scheduler_thread

    # Several processes share the socket; the scheduled jobs run once, here in the parent.
    with scheduler_thread(settings):
        uvicorn.run("fangkong.app:worker_app", factory=True, workers=count,
                    **where)  # type: ignore[arg-type]


DEMO_SEEDS, DEMO_COMPARE_AGENTS = 3, 10_000  # the demo's comparison: about a minute


@handle_errors
def demo(
    agents: int = typer.Option(100_000, help="Synthetic residents of Zhanjiang (湛江)."),
    days: int = typer.Option(60, help="Days of the drill."),
    seed: int = typer.Option(7, help="Random seed: the same seed gives the same drill."),
    out: Path | None = typer.Option(None, help="Where metrics.csv and report.html go "
                                    "(default: the data directory's drill/)."),
    serve_after: bool = typer.Option(True, "--serve/--no-serve", help="Serve the API after."),
) -> None:
    """The main job: a drill of Zhanjiang (湛江) with the platform in the loop, the report,
    then the API (the database is left filled with the drill's persons, cases and tasks)."""
    from fangkong.core.config import get_settings
    from fangkong.core.db import get_engine
    from fangkong.core.migrate import upgrade
    from fangkong.demo.city import ensure_demo_users
    from fangkong.drill import service, strategy
    from fangkong.drill.cli import run_and_report
    from fangkong.geo import service as geo

    with busy(CORE("migrating")):
        upgrade(get_engine())
    target = out or get_settings().data_dir / "drill"
    with db_session() as session:
        if geo.count(session) == 0:
            with busy(CORE("loading_guangdong")):
                geo.load(session, province="44")
        users = ensure_demo_users(session)
    from fangkong.zone.service import today

    # Dated to end in the last week, so that the dashboard shows the drill as current.
    base = strategy.load(service.shipped("baseline")).model_copy(
        update={"agents": agents, "days": days, "seed": seed,
                "start_date": strategy.recent_start(days, today())})
    # The shipped strategies compared over a few seeds (the fast mode, in parallel processes),
    # small enough for the demo's time: shown in the report after the verdicts.
    from fangkong.cliutil import cli_lang
    from fangkong.drill.cli import comparison, print_summary
    from fangkong.drill.compare import SHIPPED
    from fangkong.drill.messages import D

    with busy(D("cli.comparing")):
        _, section = comparison(list(SHIPPED), seeds=DEMO_SEEDS, agents=DEMO_COMPARE_AGENTS,
                                days=days, jobs=None, lang=cli_lang())
    table = run_and_report([base], target, platform=True, extra=section)
    print_summary(table, target)
    console.print(users, highlight=False)
    if serve_after:
        serve(None, None)
