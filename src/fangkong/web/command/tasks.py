"""The task board, ``/tasks``: the overdue work summarised by unit and type (worst first), the
active tasks a page at a time (filtered, sorted, exportable), and on each task what a commander
does: assign or reassign it to a user of the jurisdiction, close it (done) or cancel it, with a
note. Every change goes through the task service the API's ``PATCH /tasks/{id}`` calls; a form
shown before the task changed is refused (stale), not applied."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from fangkong.core.auth import Perm
from fangkong.core.clock import utc_now
from fangkong.core.errors import AppError, Invalid, Problem
from fangkong.deps import DbSession
from fangkong.task import figures as task_figures
from fangkong.task import service as tasks
from fangkong.task import titles
from fangkong.task.enums import KNOWN_TYPES, TaskStatus
from fangkong.task.schemas import TaskUpdate
from fangkong.user import service as users
from fangkong.web import i18n
from fangkong.web import service as queries
from fangkong.web.auth import CurrentViewer, Viewer
from fangkong.web.command.common import page, router
from fangkong.web.command.messages import C
from fangkong.web.messages import WEB
from fangkong.web.workspace import forms
from fangkong.web.workspace.forms import FormState
from fangkong.web.workspace.messages import W

PAGE_SIZE = 50
GROUPS_SHOWN = 15
ACTIONS = {"assign": None, "done": TaskStatus.done, "cancel": TaskStatus.cancelled}


def task_version(task: Any) -> str:
    """What a task's form depends on: its status, due time, assignee and escalation."""
    return forms.version(task.status.value, task.due_at, task.assignee_id,
                         task.escalation_level)


def _flag(value: str | None) -> bool:
    return value in ("1", "true", "on")


def _filters(params: dict[str, str], viewer: Viewer) -> tuple[queries.TaskFilter, str, int]:
    division = params.get("division") or None
    if division and not (division.isdigit() and viewer.actor.covers(division)):
        raise Invalid(WEB("outside", code=division))
    unit_text = params.get("unit") or ""
    try:
        unit = int(unit_text) if unit_text else None
        page_no = max(1, int(params.get("page") or 1))
    except ValueError:
        raise Invalid(W("bad_number")) from None
    order = params.get("order") or "due"
    if order not in task_figures.BOARD_ORDERS:
        order = "due"
    flt = queries.TaskFilter(division=division, overdue=_flag(params.get("overdue")),
                             escalated=_flag(params.get("escalated")), unit=unit,
                             type=params.get("type") or None)
    return flt, order, page_no


def _query(flt: queries.TaskFilter, order: str, page_no: int | None = None) -> str:
    items: dict[str, Any] = {"division": flt.division, "unit": flt.unit,
                             "overdue": "1" if flt.overdue else None,
                             "escalated": "1" if flt.escalated else None, "type": flt.type,
                             "order": order if order != "due" else None,
                             "page": page_no if page_no and page_no > 1 else None}
    return urlencode({k: v for k, v in items.items() if v is not None})


def board_page(request: Request, viewer: Viewer, session: DbSession, params: dict[str, str],
               *, done: str | None = None, form: FormState | None = None,
               failed_for: int | None = None, status: int = 200) -> HTMLResponse:
    flt, order, page_no = _filters(params, viewer)
    now = utc_now()
    total = queries.count_tasks(session, viewer.actor, flt, now)
    pages = max(1, -(-total // PAGE_SIZE))
    page_no = min(page_no, pages)
    rows = queries.list_tasks(session, viewer.actor, flt, now, limit=PAGE_SIZE,
                              offset=(page_no - 1) * PAGE_SIZE, order=order)
    groups = task_figures.overdue_by_unit_and_type(session, viewer.actor, now, flt.division)
    writable = viewer.actor.can(Perm.task_write)
    assignees = [(u.id, u.display_name or u.username) for u in
                 users.list_users(session, actor=viewer.actor) if u.active] if writable else []
    names = dict(assignees)
    lang = viewer.lang
    return page(request, viewer, "tasks.html", nav="tasks", status=status, flt=flt,
                order=order, page_no=page_no, pages=pages, total=total, rows=rows, now=now,
                groups=groups[:GROUPS_SHOWN], groups_hidden=max(0, len(groups) - GROUPS_SHOWN),
                overdue_total=sum(g.overdue for g in groups), writable=writable,
                assignees=assignees, names=names,
                people=queries.task_people(session, viewer.actor, rows),
                versions={r.task.id: task_version(r.task) for r in rows},
                query=_query(flt, order, page_no), page_query=lambda n: _query(flt, order, n),
                filter_query=_query(flt, order), TaskFilter=queries.TaskFilter,
                types=sorted(((k, i18n.label(KNOWN_TYPES, k, lang)) for k in KNOWN_TYPES),
                             key=lambda kv: kv[1]),
                orders=[(o, C(f"sort.{o}").render(lang)) for o in task_figures.BOARD_ORDERS],
                done=done, form=form or FormState(), failed_for=failed_for,
                w=lambda key, **p: W(key, **p).render(lang))


@router.get("/tasks")
def task_board(request: Request, viewer: CurrentViewer, session: DbSession) -> HTMLResponse:
    return board_page(request, viewer, session, dict(request.query_params))


@router.post("/tasks/{task_id}")
async def act_on_task(request: Request, viewer: CurrentViewer, session: DbSession,
                      task_id: int) -> Response:
    """Assign (or reassign) a task, or close it as done or cancelled, with a note."""
    viewer.actor.require(Perm.task_write)  # the role first: refused (403) before any lookup
    raw = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    back = {k: v for k, v in raw.items() if k.startswith("q_")}
    params = {k[2:]: v for k, v in back.items()}
    task = tasks.get(session, actor=viewer.actor, task_id=task_id)  # 404 outside
    action = raw.get("action", "")
    typed = {"assignee_id": raw.get("assignee_id", ""), "note": raw.get("note", "")}
    try:
        if action not in ACTIONS:
            raise Invalid(W("refused"))
        forms.check_version(raw.get("version"), task.status.value, task.due_at,
                            task.assignee_id, task.escalation_level)
        note = typed["note"].strip() or None
        if action == "assign":
            if not typed["assignee_id"]:
                raise Invalid(W("form_failed"),
                              problems=[Problem(W("required"), field="assignee_id")])
            try:
                assignee = int(typed["assignee_id"])
            except ValueError:
                raise Invalid(W("form_failed"), problems=[
                    Problem(W("bad_number"), field="assignee_id")]) from None
            data = TaskUpdate(assignee_id=assignee, note=note) if note else \
                TaskUpdate(assignee_id=assignee)
        elif action == "cancel" and not note:  # a cancelled task says why
            raise Invalid(W("form_failed"), problems=[Problem(W("required"), field="note")])
        else:
            status = ACTIONS[action]
            data = TaskUpdate(status=status, note=note) if note else TaskUpdate(status=status)
        with session.begin_nested():
            try:
                tasks.update(session, actor=viewer.actor, task_id=task_id, data=data)
            except AppError as exc:
                if exc.status_code == 404 and action == "assign":  # the user, not the task
                    raise Invalid(W("form_failed"), problems=[
                        Problem(C("tasks.no_user"), field="assignee_id")]) from None
                raise
    except AppError as exc:
        if exc.status_code == 404:
            raise
        return board_page(request, viewer, session, params, status=exc.status_code,
                          failed_for=task_id, form=forms.refused(exc, viewer.lang, typed))
    title = titles.render(task.title, task.title_key, task.title_params, viewer.lang)
    return board_page(request, viewer, session, params,
                      done=C("tasks.saved", id=f"{task_id} {title}").render(viewer.lang))
