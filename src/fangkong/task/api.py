from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from fangkong.core.auth import Perm
from fangkong.core.division import DivisionCode
from fangkong.core.http import request_lang
from fangkong.core.messages import render
from fangkong.core.pagination import Page
from fangkong.core.params import INT64_MAX, Int64
from fangkong.deps import AppSettings, CurrentActor, DbSession, needs
from fangkong.task import service
from fangkong.task.enums import TaskStatus
from fangkong.task.messages import history_note
from fangkong.task.models import Task
from fangkong.task.schemas import (
    EscalationReport,
    OverdueRow,
    TaskCreate,
    TaskDetail,
    TaskRead,
    TaskUpdate,
)

router = APIRouter(prefix="/tasks", tags=["tasks"])


def _read(task: Task, detail: bool = False, lang: str = "en") -> TaskRead:
    schema = TaskDetail if detail else TaskRead
    data = {k: getattr(task, k) for k in schema.model_fields if hasattr(task, k)}
    if detail:  # the history's notes in the reader's language (Accept-Language)
        data["events"] = [{"at": e.at, "by": e.by, "kind": e.kind,
                           "detail": render(history_note(e.detail), lang)} for e in task.events]
    return schema.model_validate({**data, "overdue": service.is_overdue(task)})


@router.get("", response_model=Page[TaskRead])
def list_tasks(
    session: DbSession, actor: CurrentActor, settings: AppSettings,
    division: DivisionCode | None = None, status: TaskStatus | None = None, overdue: bool = False,
    assignee_id: Int64 | None = None, unit_id: Int64 | None = None, cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=INT64_MAX)] = 100,
) -> Page[Any]:
    """Tasks in your jurisdiction, due soonest first (so overdue ones lead)."""
    items, nxt = service.list_(session, actor=actor, division=division, status=status,
                               overdue=overdue, assignee_id=assignee_id, unit_id=unit_id,
                               cursor=cursor, limit=min(limit, settings.page_size_max))
    return Page(items=[_read(t) for t in items], next_cursor=nxt)


@router.post("", response_model=TaskDetail, status_code=201, dependencies=[needs(Perm.task_write)])
def create_task(request: Request, session: DbSession, actor: CurrentActor,
                data: TaskCreate) -> Any:
    return _read(service.create(session, actor=actor, data=data), detail=True,
                 lang=request_lang(request))


@router.get("/overdue", response_model=list[OverdueRow])
def overdue_by_unit(session: DbSession, actor: CurrentActor) -> Any:
    """Overdue tasks per division and unit: the supervision board."""
    return service.overdue_by_unit(session, actor=actor)


@router.post("/escalate", response_model=EscalationReport, dependencies=[needs(Perm.task_write)])
def escalate(session: DbSession, actor: CurrentActor) -> Any:
    """Run the overdue check now (it also runs on a schedule inside `fangkong serve`)."""
    actor.require(Perm.task_write)
    return service.escalate_overdue(session, actor=actor)


@router.get("/{task_id}", response_model=TaskDetail)
def get_task(request: Request, session: DbSession, actor: CurrentActor, task_id: Int64) -> Any:
    """The task with its history, whose notes follow Accept-Language (English by default)."""
    return _read(service.get(session, actor=actor, task_id=task_id), detail=True,
                 lang=request_lang(request))


@router.patch("/{task_id}", response_model=TaskDetail, dependencies=[needs(Perm.task_write)])
def update_task(request: Request, session: DbSession, actor: CurrentActor, task_id: Int64,
                data: TaskUpdate) -> Any:
    return _read(service.update(session, actor=actor, task_id=task_id, data=data), detail=True,
                 lang=request_lang(request))
