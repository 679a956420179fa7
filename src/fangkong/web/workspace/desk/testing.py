"""The testing officer's desk: create a round, issue its tubes, register collection points and
labs, upload sample and result files (a refused file's problems shown by file, line and field;
a file is written whole or not at all), follow the positive pools (pool positive → members
re-tested → done) and export the persons not yet sampled (CSV or XLSX, within the
jurisdiction). Every write goes through the testing service the API and the CLI call."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from fangkong.core.auth import Perm
from fangkong.core.clock import utc_now
from fangkong.core.errors import AppError
from fangkong.core.tabular import csv_writer, xlsx_append
from fangkong.deps import DbSession
from fangkong.testing import importer
from fangkong.testing import service as testing
from fangkong.testing.enums import LABELS as TESTING_LABELS
from fangkong.testing.schemas import LabCreate, PointCreate, RoundCreate, TubeIssue
from fangkong.web import i18n
from fangkong.web import service as queries
from fangkong.web.auth import CurrentViewer, Viewer
from fangkong.web.workspace import forms
from fangkong.web.workspace.common import divisions, place_options, router
from fangkong.web.workspace.desk.common import (
    desk_page,
    file_bytes,
    file_problems,
    local_time,
    posted,
)
from fangkong.web.workspace.desk.messages import D
from fangkong.web.workspace.forms import FormState

ROUND_FIELDS = ("name", "start_at", "deadline_at", "series")
POINT_FIELDS = ("code", "name", "division_code", "samplers", "opens", "closes")
LAB_FIELDS = ("code", "name", "division_code", "daily_capacity")
UNSAMPLED_SHOWN = 50


def _status(exc: AppError | ValidationError) -> int:
    return 422 if isinstance(exc, ValidationError) else exc.status_code


def _label(value: str | None, lang: str) -> str:
    return i18n.label(TESTING_LABELS, value, lang) if value else "—"


def pools(session: DbSession, viewer: Viewer, round_id: int | None = None
          ) -> dict[str, Any]:
    """The positive pools, by stage: the pool positive (every member still to re-test), its
    members being re-tested (some resolved), done (every member resolved), oldest first."""
    lang = viewer.lang
    found = testing.queue(session, actor=viewer.actor, round_id=round_id, open_only=False)
    stages: dict[str, list[dict[str, Any]]] = {"positive": [], "retest": [], "done": []}
    pending = 0
    for f in found:
        waiting = sum(1 for m in f.members if m.status == "pending")
        pending += waiting if f.status == "open" else 0
        stage = ("done" if f.status != "open" else
                 "positive" if waiting == len(f.members) else "retest")
        stages[stage].append({
            "id": f.id, "tube": f.tube, "opened": f.opened_at, "resolved": f.resolved_at,
            "outcome": _label(f.outcome, lang), "waiting": waiting,
            "members": [{"ref": m.person_ref, "status": m.status,
                         "status_label": _label(m.status, lang),
                         "responsible": m.responsible, "case": m.case_ref or ""}
                        for m in f.members]})
    return {"stages": stages, "pending": pending,
            "open": len(stages["positive"]) + len(stages["retest"]),
            "done": len(stages["done"])}


def _desk(request: Request, viewer: Viewer, session: DbSession, *, status: int = 200,
          form: FormState | None = None, failed_for: str | None = None,
          done: str | None = None, problems: list[dict[str, Any]] | None = None
          ) -> HTMLResponse:
    actor = viewer.actor
    root = queries.jurisdiction_of(session, actor, None)
    rounds = [r for code, _ in root.choices
              for r in testing.open_rounds(session, actor=actor, division=code)]
    rounds = list({r.id: r for r in rounds}.values())
    totals = testing.round_totals(session, actor=actor, rounds=rounds, within_code=None)
    rows = [{"id": r.id, "name": r.name, "deadline": r.deadline_at, "target": totals[r.id][0],
             "sampled": totals[r.id][1], "late": totals[r.id][2],
             "coverage": totals[r.id][1] / totals[r.id][0] if totals[r.id][0] else None}
            for r in rounds]
    points, labs = testing.points_and_labs(session, actor=actor)
    places = place_options(divisions(session, actor, depth=2), viewer.lang)
    tz = ZoneInfo(request.app.state.settings.timezone)
    now = utc_now().astimezone(tz).replace(second=0, microsecond=0)
    defaults = FormState(values={"start_at": now.strftime("%Y-%m-%dT%H:%M"),
                                 "deadline_at": (now + timedelta(hours=24)).strftime(
                                     "%Y-%m-%dT%H:%M"), "capacity": "10",
                                 "opens": "08:00", "closes": "20:00"})
    return desk_page(request, viewer, "ws_testing.html", nav="testing_desk", status=status,
                     rounds=rows, points=points, labs=labs, places=places,
                     form=form or FormState(), defaults=defaults, failed_for=failed_for,
                     done=done,
                     problems=problems or [], queue=pools(session, viewer))


@router.get("/testing/desk")
def testing_desk(request: Request, viewer: CurrentViewer, session: DbSession,
                 done: str | None = None) -> HTMLResponse:
    viewer.actor.require(Perm.testing_write)
    return _desk(request, viewer, session, done=done)


@router.post("/testing/desk/rounds")
async def create_round(request: Request, viewer: CurrentViewer, session: DbSession) -> Response:
    viewer.actor.require(Perm.testing_write)  # the role first: refused (403) before any lookup
    raw, lists, _ = await posted(request)
    typed: dict[str, Any] = {k: raw.get(k, "") for k in ROUND_FIELDS}
    typed["area"] = lists.get("area", [])
    zone = request.app.state.settings.timezone
    try:
        values = forms.clean({k: raw.get(k, "") for k in ROUND_FIELDS})
        for key in ("start_at", "deadline_at"):
            values[key] = local_time(values.get(key), zone, key)
        data = RoundCreate(area=typed["area"], **{k: v for k, v in values.items()
                                                  if v is not None})
        with session.begin_nested():
            made = testing.create_round(session, actor=viewer.actor, data=data)
    except (AppError, ValidationError) as exc:
        return _desk(request, viewer, session, status=_status(exc), failed_for="round",
                     form=forms.refused(exc, viewer.lang, typed))
    return RedirectResponse(f"/testing/desk/rounds/{made.round_id}?created={made.target}",
                            status_code=303)


@router.post("/testing/desk/points")
async def create_point(request: Request, viewer: CurrentViewer, session: DbSession) -> Response:
    return await _register(request, viewer, session, "point", POINT_FIELDS, PointCreate,
                           testing.create_point, "t.point_added")


@router.post("/testing/desk/labs")
async def create_lab(request: Request, viewer: CurrentViewer, session: DbSession) -> Response:
    return await _register(request, viewer, session, "lab", LAB_FIELDS, LabCreate,
                           testing.create_lab, "t.lab_added")


async def _register(request: Request, viewer: Viewer, session: DbSession, kind: str,
                    fields: tuple[str, ...], schema: Any, create: Any, done_key: str
                    ) -> Response:
    """A collection point or a lab registered through the testing service: the desk again,
    saying what was registered, or the typed form with its errors."""
    viewer.actor.require(Perm.testing_write)
    raw, _, _ = await posted(request)
    typed = {k: raw.get(k, "") for k in fields}
    try:
        data = schema(**{k: v for k, v in forms.clean(typed).items() if v is not None})
        with session.begin_nested():
            made = create(session, actor=viewer.actor, data=data)
    except (AppError, ValidationError) as exc:
        return _desk(request, viewer, session, status=_status(exc), failed_for=kind,
                     form=forms.refused(exc, viewer.lang, typed))
    return _desk(request, viewer, session, done=D(done_key, code=made.code,
                                                  id=made.id).render(viewer.lang))


@router.post("/testing/desk/results")
async def upload_results(request: Request, viewer: CurrentViewer,
                         session: DbSession) -> Response:
    """A lab's results file: every line checked, then written whole (or nothing of it)."""
    viewer.actor.require(Perm.testing_write)
    _, _, upload = await posted(request)
    settings = request.app.state.settings
    try:
        data, name = await file_bytes(upload, settings.import_max_bytes)
        with session.begin_nested():
            report = importer.import_results(session, actor=viewer.actor, source=data,
                                             filename=name)
    except AppError as exc:
        return _desk(request, viewer, session, status=exc.status_code, failed_for="results",
                     form=forms.refused(exc, viewer.lang, {"file": ""}),
                     problems=file_problems(exc, viewer.lang))
    return _desk(request, viewer, session, done=D(
        "t.results_done", file=report.file, rows=report.rows, inserted=report.inserted,
        positive=report.positive_tubes, opened=report.followups_opened,
        resolved=report.members_resolved, cases=report.cases).render(viewer.lang))


# ------------------------------------------------------------------------------ a round


def _round(request: Request, viewer: Viewer, session: DbSession, round_id: int, *,
           status: int = 200, form: FormState | None = None, failed_for: str | None = None,
           done: str | None = None, problems: list[dict[str, Any]] | None = None
           ) -> HTMLResponse:
    actor = viewer.actor
    round_ = testing.get_round(session, actor=actor, round_id=round_id)  # 404 outside
    progress = testing.status(session, actor=actor, round_id=round_id)
    first = testing.unsampled(session, actor=actor, round_id=round_id, limit=UNSAMPLED_SHOWN)
    names = queries.division_names(session, {r.division_code for r in first})
    unsampled = [{"ref": r.ref, "name": r.name, "household": r.household_ref or "",
                  "division": i18n.place(names.get(r.division_code, r.division_code),
                                         viewer.lang)} for r in first]
    return desk_page(request, viewer, "ws_testing_round.html", nav="testing_desk",
                     status=status, round=round_, progress=progress, unsampled=unsampled,
                     shown=UNSAMPLED_SHOWN, form=form or FormState(),
                     defaults=FormState(values={"capacity": "10"}),
                     failed_for=failed_for, done=done, problems=problems or [],
                     queue=pools(session, viewer, round_id))


@router.get("/testing/desk/rounds/{round_id}")
def round_page(request: Request, viewer: CurrentViewer, session: DbSession, round_id: int,
               created: int | None = None) -> HTMLResponse:
    viewer.actor.require(Perm.testing_write)
    done = None
    if created is not None:
        name = testing.get_round(session, actor=viewer.actor, round_id=round_id).name
        done = D("t.created", name=name, target=i18n.fmt_number(created, viewer.lang)
                 ).render(viewer.lang)
    return _round(request, viewer, session, round_id, done=done)


@router.post("/testing/desk/rounds/{round_id}/tubes")
async def issue_tubes(request: Request, viewer: CurrentViewer, session: DbSession,
                      round_id: int) -> Response:
    viewer.actor.require(Perm.testing_write)
    raw, _, _ = await posted(request)
    typed = {"barcodes": raw.get("barcodes", ""), "capacity": raw.get("capacity", "")}
    try:
        barcodes = [b.strip() for b in typed["barcodes"].splitlines() if b.strip()]
        data = TubeIssue(barcodes=barcodes, capacity=typed["capacity"] or None)
        with session.begin_nested():
            report = testing.issue_tubes(session, actor=viewer.actor, round_id=round_id,
                                         data=data)
    except (AppError, ValidationError) as exc:
        if isinstance(exc, AppError) and exc.status_code == 404:
            raise
        return _round(request, viewer, session, round_id, status=_status(exc),
                      failed_for="tubes", form=forms.refused(exc, viewer.lang, typed))
    return _round(request, viewer, session, round_id, done=D(
        "t.issued", issued=report.issued, already=report.already).render(viewer.lang))


@router.post("/testing/desk/rounds/{round_id}/samples")
async def upload_samples(request: Request, viewer: CurrentViewer, session: DbSession,
                         round_id: int) -> Response:
    """A round's samples file: every line checked, then written whole (or nothing of it)."""
    viewer.actor.require(Perm.testing_write)
    _, _, upload = await posted(request)
    testing.get_round(session, actor=viewer.actor, round_id=round_id)  # 404 outside
    settings = request.app.state.settings
    try:
        data, name = await file_bytes(upload, settings.import_max_bytes)
        with session.begin_nested():
            report = importer.import_samples(session, actor=viewer.actor, round_id=round_id,
                                             source=data, filename=name)
    except AppError as exc:
        return _round(request, viewer, session, round_id, status=exc.status_code,
                      failed_for="samples", form=forms.refused(exc, viewer.lang, {"file": ""}),
                      problems=file_problems(exc, viewer.lang))
    return _round(request, viewer, session, round_id, done=D(
        "t.samples_done", file=report.file, rows=report.rows, inserted=report.inserted,
        unchanged=report.unchanged).render(viewer.lang))


@router.get("/testing/desk/rounds/{round_id}/unsampled")
def export_unsampled(viewer: CurrentViewer, session: DbSession, round_id: int,
                     format: str = "csv") -> Response:
    """Every person of the round not yet sampled, in the viewer's jurisdiction, by person
    number: CSV (UTF-8 with a BOM, for Excel) or XLSX, headers in the viewer's language."""
    viewer.actor.require(Perm.testing_write)
    lang = viewer.lang
    rows = list(testing.iter_unsampled(session, actor=viewer.actor, round_id=round_id))
    names = queries.division_names(session, {r.division_code for r in rows})
    header = [D(k).render(lang) for k in ("t.ref", "name", "division", "t.household")]
    body = [[r.ref, r.name, i18n.place(names.get(r.division_code, r.division_code), lang),
             r.household_ref or ""] for r in rows]
    stem = f"unsampled-round-{round_id}"
    if format == "xlsx":
        from openpyxl import Workbook

        book = Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.title = "unsampled"
        for line in [header, *body]:
            xlsx_append(sheet, line)
        out = io.BytesIO()
        book.save(out)
        return Response(out.getvalue(), media_type="application/vnd.openxmlformats-"
                        "officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": f'attachment; filename="{stem}.xlsx"'})
    buf = io.StringIO()
    writer = csv_writer(buf)
    for line in [header, *body]:
        writer.writerow(line)
    return Response(buf.getvalue().encode("utf-8-sig"), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{stem}.csv"'})

