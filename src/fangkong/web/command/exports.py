"""The lists as files: the cases and the tasks the viewer's page shows (same filters, same
scope: only records of the viewer's jurisdiction), as CSV (UTF-8 with a byte-order mark, for
spreadsheets) or XLSX. User text never becomes a live formula (:mod:`fangkong.core.tabular`).
Reading the persons' names is audited, as on the page."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import Response
from openpyxl import Workbook

from fangkong.case.enums import LABELS as CASE_LABELS
from fangkong.core.auth import Perm
from fangkong.core.clock import utc_now
from fangkong.core.errors import Invalid
from fangkong.core.tabular import csv_writer, xlsx_append
from fangkong.deps import AppSettings, DbSession
from fangkong.task import titles as task_titles
from fangkong.task.enums import KNOWN_TYPES
from fangkong.task.enums import LABELS as TASK_LABELS
from fangkong.web import i18n
from fangkong.web import service as queries
from fangkong.web.auth import CurrentViewer
from fangkong.web.command.common import router
from fangkong.web.command.messages import C
from fangkong.web.messages import WEB

MAX_ROWS = 50_000
FORMATS = {"csv": "text/csv; charset=utf-8",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise Invalid(C("export.format", format=fmt))


def table_file(fmt: str, name: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
               ) -> Response:
    """``rows`` under ``columns`` as a download named ``name``.``fmt``."""
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv_writer(buf, quoting=csv.QUOTE_MINIMAL)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_plain(v) for v in row])
        body = buf.getvalue().encode("utf-8-sig")
    else:
        wb = Workbook()
        ws = wb.active
        assert ws is not None
        xlsx_append(ws, columns)
        for row in rows:
            xlsx_append(ws, [_plain(v, keep_dates=True) for v in row])
        out = io.BytesIO()
        wb.save(out)
        body = out.getvalue()
    return Response(body, media_type=FORMATS[fmt], headers={
        "Content-Disposition": f'attachment; filename="{name}.{fmt}"'})


def _plain(value: Any, keep_dates: bool = False) -> Any:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None) if keep_dates else value.isoformat()
    if isinstance(value, date):
        return value if keep_dates else value.isoformat()
    return value


@router.get("/export/cases")
def export_cases(request: Request, viewer: CurrentViewer, session: DbSession,
                 settings: AppSettings, format: str = "csv") -> Response:
    """The cases list's rows under its filters (every page of it), within the viewer's
    jurisdiction."""
    viewer.actor.require(Perm.case_read)
    check_format(format)
    params = {k: v for k, v in request.query_params.items() if k != "format"}
    flt = queries.CaseFilter.parse(params)
    order = queries.CaseSort.parse(params)  # the list's order, as shown
    if flt.division and not viewer.actor.covers(flt.division):
        raise Invalid(WEB("outside", code=flt.division))
    lang, zone = viewer.lang, settings.timezone
    rows: list[list[Any]] = []
    after: str | None = None
    while True:
        page, after = queries.list_cases(session, viewer.actor, flt, zone, sort=order,
                                         after=after, limit=1000)
        for r in page:
            rows.append([r.ref, r.name, i18n.label(CASE_LABELS, r.classification, lang),
                         i18n.label(CASE_LABELS, r.severity, lang) if r.severity else None,
                         i18n.label(CASE_LABELS, r.detection_mode, lang), r.onset_date,
                         i18n.fmt_datetime(r.reported_at, lang, zone),
                         i18n.place(r.owning_division_name, lang), r.owning_division_code])
        if len(rows) > MAX_ROWS:
            raise Invalid(C("export.too_many", max=MAX_ROWS))
        if after is None:
            break
    t = lambda key: i18n.translate(key, lang)  # noqa: E731
    columns = [t("col.ref"), t("col.name"), t("col.classification"), t("col.severity"),
               t("col.mode"), t("col.onset"), t("col.reported"), t("col.division"),
               C("export.code").render(lang)]
    stamp = utc_now().astimezone(ZoneInfo(zone)).strftime("%Y%m%d-%H%M")
    return table_file(format, f"cases-{stamp}", columns, rows)


@router.get("/export/tasks")
def export_tasks(request: Request, viewer: CurrentViewer, session: DbSession,
                 settings: AppSettings, format: str = "csv", division: str | None = None,
                 unit: int | None = None, overdue: bool = False, escalated: bool = False,
                 type: str | None = None) -> Response:
    """The task board's active tasks under its filters (all of them, not one page), within
    the viewer's jurisdiction."""
    viewer.actor.require(Perm.task_read)
    check_format(format)
    if division and not (division.isdigit() and viewer.actor.covers(division)):
        raise Invalid(WEB("outside", code=division))
    now = utc_now()
    flt = queries.TaskFilter(division=division, overdue=overdue, escalated=escalated,
                             unit=unit, type=type or None)
    found = queries.list_tasks(session, viewer.actor, flt, now, limit=MAX_ROWS + 1)
    if len(found) > MAX_ROWS:
        raise Invalid(C("export.too_many", max=MAX_ROWS))
    lang, zone = viewer.lang, settings.timezone
    rows = []
    for r in found:
        task = r.task
        rows.append([task.id, task_titles.render(task.title, task.title_key, task.title_params,
                                                 lang),
                     i18n.label(KNOWN_TYPES, task.type, lang),
                     i18n.place(r.division_name, lang), task.owning_division_code,
                     r.unit_name, i18n.fmt_datetime(task.due_at, lang, zone),
                     i18n.label(TASK_LABELS, task.status, lang), task.escalation_level])
    t = lambda key: i18n.translate(key, lang)  # noqa: E731
    columns = ["ID", t("tasks.title_col"), t("tasks.type"), t("col.division"),
               C("export.code").render(lang), t("tasks.unit"), t("tasks.due"),
               t("tasks.status"), t("tasks.escalation")]
    stamp = now.astimezone(ZoneInfo(zone)).strftime("%Y%m%d-%H%M")
    return table_file(format, f"tasks-{stamp}", columns, rows)
