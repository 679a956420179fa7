"""Tasks and supervision (督查督办): create, assign, progress, and escalate when overdue."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, func, insert, not_, select
from sqlalchemy import update as sql_update
from sqlalchemy.orm import Session, lazyload

from fangkong.core import audit, events
from fangkong.core.auth import Actor, Perm, scope, within
from fangkong.core.clock import as_utc, utc_now
from fangkong.core.config import get_settings
from fangkong.core.db import insert_many, insert_many_ids
from fangkong.core.errors import Conflict, Invalid, NotFound, Problem
from fangkong.core.messages import CORE
from fangkong.core.pagination import cut_page, decode_cursor
from fangkong.geo import service as geo
from fangkong.geo.service import ancestor_codes
from fangkong.policy import service as policy
from fangkong.task import titles
from fangkong.task.enums import ACTIVE, TaskStatus
from fangkong.task.messages import T
from fangkong.task.models import Task, TaskEvent
from fangkong.task.schemas import EscalationReport, OverdueRow, TaskCreate, TaskUpdate
from fangkong.user import service as users


def _event(task: Task, by: str, kind: str, detail: str | None = None) -> None:
    task.events.append(TaskEvent(at=utc_now(), by=by, kind=kind, detail=detail))


def _check_refs(session: Session, actor: Actor, unit_id: int | None,
                assignee_id: int | None) -> None:
    if unit_id is not None:
        unit = geo.get_unit(session, unit_id)
        if not actor.covers(unit.division_code):
            raise NotFound(CORE("unit_not_found", id=unit_id))
    if assignee_id is not None:
        users.get_user(session, actor=actor, user_id=assignee_id)


def _ending(data: Sequence[TaskCreate]) -> None:
    """The events that end a task are the platform's and need its subject."""
    at = (lambda k: "") if len(data) == 1 else (lambda k: f"[{k}]")
    problems = []
    for k, d in enumerate(data):
        for name in ("completes_on", "cancels_on"):
            problems += [Problem(T("unknown_event", event=e,
                                   known=", ".join(sorted(events.CATALOGUE))),
                                 field=f"{name}{at(k)}")
                         for e in getattr(d, name) if e not in events.CATALOGUE]
            if getattr(d, name) and (d.subject_type is None or d.subject_id is None):
                problems.append(Problem(T("needs_subject"), field=f"{name}{at(k)}"))
        both = set(d.completes_on) & set(d.cancels_on)
        if both:
            problems.append(Problem(T("both", events=", ".join(sorted(both))),
                                    field=f"cancels_on{at(k)}"))
    if problems:
        raise Invalid(T("ending_invalid"), problems=problems[:50])


def _packs(data: Sequence[TaskCreate]) -> None:
    """A task made by a pack's rule names that pack and its version, as on disk now."""
    at = (lambda k: "") if len(data) == 1 else (lambda k: f"[{k}]")
    known = {p.id: p.version for p in policy.packs()}
    problems = []
    for k, d in enumerate(data):
        if d.pack_id is None and d.pack_version is None:
            continue
        if d.pack_id not in known:
            problems.append(Problem(T("unknown_pack", pack=d.pack_id,
                                      known=", ".join(sorted(known))), field=f"pack_id{at(k)}"))
        elif d.pack_version != known[d.pack_id]:
            problems.append(Problem(T("pack_version", pack=d.pack_id, version=known[d.pack_id]),
                                    field=f"pack_version{at(k)}"))
    if problems:
        raise Invalid(T("pack_invalid"), problems=problems[:50])


titled = titles.titled
"""A generated task's title, message key and parameters (:mod:`fangkong.task.titles`), for
the domains that make tasks: ``TaskCreate(type=..., **tasks.titled("resample", ref=...))``."""


def _row(data: TaskCreate) -> dict[str, Any]:
    return {**data.model_dump(), "completes_on": " ".join(data.completes_on) or None,
            "cancels_on": " ".join(data.cancels_on) or None}


def create(session: Session, *, actor: Actor, data: TaskCreate) -> Task:
    actor.require(Perm.task_write)
    geo.get(session, data.owning_division_code)
    if not actor.covers(data.owning_division_code):
        raise Invalid(T("outside"), problems=[
            Problem(CORE("outside_jurisdiction"), field="owning_division_code")])
    _check_refs(session, actor, data.unit_id, data.assignee_id)
    _ending([data])
    _packs([data])
    titles.check(data.title_key, data.title_params)
    now = utc_now()
    task = Task(**_row(data), status=TaskStatus.open, escalation_level=0,
                created_by=actor.username, created_at=now)
    _event(task, actor.username, "created")
    session.add(task)
    session.flush()
    audit.record(session, actor, action="create", record_type="task", record_ids=[task.id],
                 fields=list(data.model_dump(exclude_none=True)))
    return task


def create_many(session: Session, *, actor: Actor, data: list[TaskCreate]) -> list[int]:
    """Create many tasks at once (a bulk import's follow-up): the same checks as
    :func:`create`, the divisions and units looked up once each, one multi-row INSERT for the
    tasks and one for their events, and one audit entry naming them all. Returns the new ids
    in the order given."""
    actor.require(Perm.task_write)
    if not data:
        return []
    codes = {d.owning_division_code for d in data}
    missing = codes - geo.exists(session, codes)
    if missing:
        raise NotFound(CORE("division_not_found", code=min(missing)))
    outside = sorted(c for c in codes if not actor.covers(c))
    if outside:
        raise Invalid(T("outside"), problems=[
            Problem(T("code_outside", code=c), field="owning_division_code")
            for c in outside[:50]])
    for unit_id in sorted({d.unit_id for d in data if d.unit_id is not None}):
        _check_refs(session, actor, unit_id, None)
    for assignee_id in sorted({d.assignee_id for d in data if d.assignee_id is not None}):
        _check_refs(session, actor, None, assignee_id)
    _ending(data)
    _packs(data)
    for d in data:
        titles.check(d.title_key, d.title_params)
    now = utc_now()
    rows = [{**_row(d), "status": TaskStatus.open, "escalation_level": 0,
             "created_by": actor.username, "created_at": now} for d in data]
    ids = insert_many_ids(session, Task.__table__, rows)
    insert_many(session, TaskEvent.__table__, [
        {"task_id": i, "at": now, "by": actor.username, "kind": "created", "detail": None}
        for i in ids])
    given = set(TaskCreate.model_fields)
    audit.record(session, actor, action="create", record_type="task", record_ids=ids,
                 fields=sorted({k for row in rows for k, v in row.items()
                                if v is not None and k in given}))
    return ids


def get(session: Session, *, actor: Actor, task_id: int) -> Task:
    actor.require(Perm.task_read)
    task = session.scalar(scope(select(Task).where(Task.id == task_id), actor,
                                Task.owning_division_code))
    if task is None:
        raise NotFound(T("not_found", id=task_id))
    return task


def update(session: Session, *, actor: Actor, task_id: int, data: TaskUpdate) -> Task:
    actor.require(Perm.task_write)
    task = get(session, actor=actor, task_id=task_id)
    changes = data.model_dump(exclude_unset=True)
    if "assignee_id" in changes and changes["assignee_id"] != task.assignee_id:
        _check_refs(session, actor, None, changes["assignee_id"])
        task.assignee_id = changes["assignee_id"]
        _event(task, actor.username, "assigned", str(task.assignee_id))
    if changes.get("status") and changes["status"] != task.status:
        if not task.status.active:
            raise Conflict(T("closed", id=task.id, status=task.status.value))
        task.status = changes["status"]
        if not task.status.active:
            task.completed_at = utc_now()
        _event(task, actor.username, "status", task.status.value)
    if changes.get("due_at") and changes["due_at"] != task.due_at:
        task.due_at = changes["due_at"]
        _event(task, actor.username, "due_changed", task.due_at.isoformat())
    if "note" in changes:
        task.note = changes["note"]
    session.flush()
    audit.record(session, actor, action="update", record_type="task", record_ids=[task.id],
                 fields=sorted(changes))
    return task


def is_overdue(task: Task, now: datetime | None = None) -> bool:
    return task.status.active and as_utc(task.due_at) < (now or utc_now())


def list_(
    session: Session,
    *,
    actor: Actor,
    division: str | None = None,
    status: TaskStatus | None = None,
    overdue: bool = False,
    assignee_id: int | None = None,
    unit_id: int | None = None,
    cursor: str | None = None,
    limit: int = 100,
) -> tuple[list[Task], str | None]:
    """Due soonest first (overdue tasks therefore lead), keyset paged on (due_at, id)."""
    actor.require(Perm.task_read)
    stmt = scope(select(Task), actor, Task.owning_division_code)
    if division:
        stmt = stmt.where(within(Task.owning_division_code, division))
    if status:
        stmt = stmt.where(Task.status == status)
    if overdue:
        stmt = stmt.where(Task.status.in_(ACTIVE), Task.due_at < utc_now())
    if assignee_id is not None:
        stmt = stmt.where(Task.assignee_id == assignee_id)
    if unit_id is not None:
        stmt = stmt.where(Task.unit_id == unit_id)
    key = decode_cursor(cursor, 2)
    if key:
        due = datetime.fromisoformat(key[0])
        stmt = stmt.where((Task.due_at > due) | ((Task.due_at == due) & (Task.id > key[1])))
    rows = session.scalars(stmt.order_by(Task.due_at, Task.id).limit(limit + 1)).all()
    return cut_page(rows, limit, lambda t: [as_utc(t.due_at).isoformat(), t.id])


def due_by(session: Session, *, actor: Actor, until: datetime,
           limit: int = 1000) -> list[Task]:
    """The active tasks in the actor's jurisdiction due before ``until`` (overdue ones
    included), soonest first."""
    actor.require(Perm.task_read)
    stmt = scope(select(Task).where(Task.status.in_(ACTIVE), Task.due_at < until), actor,
                 Task.owning_division_code)
    return list(session.scalars(stmt.order_by(Task.due_at, Task.id).limit(limit)
                                .options(lazyload(Task.events))))  # events only on access


def overdue_by_unit(session: Session, *, actor: Actor) -> list[OverdueRow]:
    """Overdue tasks per owning division and unit: the supervision board's first column."""
    actor.require(Perm.task_read)
    stmt = scope(
        select(Task.owning_division_code, Task.unit_id, func.count(),
               func.count().filter(Task.escalation_level > 0))
        .where(Task.status.in_(ACTIVE), Task.due_at < utc_now())
        .group_by(Task.owning_division_code, Task.unit_id)
        .order_by(func.count().desc(), Task.owning_division_code),
        actor, Task.owning_division_code)
    return [OverdueRow(division_code=d, unit_id=u, overdue=n, escalated=e)
            for d, u, n, e in session.execute(stmt)]


def escalate_overdue(session: Session, *, actor: Actor, now: datetime | None = None
                     ) -> EscalationReport:
    """The scheduled check: each overdue task whose step has passed moves up one level.

    The first escalation happens as soon as a task is overdue; each further one after another
    ``escalation_step_minutes``. A task escalated to the province goes no higher.
    """
    now = now or utc_now()
    step = timedelta(minutes=get_settings().escalation_step_minutes)
    # Set-based: the due tasks' four columns, one UPDATE per target level and one INSERT of
    # events, so a backlog of tens of thousands (a drill's database at first start) is seconds
    # of work, not minutes of ORM objects.
    stmt = scope(select(Task.id, Task.escalated_to_code, Task.owning_division_code)
                 .where(Task.status.in_(ACTIVE), Task.due_at < now,
                        (Task.escalated_at.is_(None)) | (Task.escalated_at <= now - step)),
                 actor, Task.owning_division_code).order_by(Task.id)
    targets: dict[str, list[int]] = {}
    for task_id, escalated_to, owning in session.execute(stmt):
        parents = ancestor_codes(escalated_to or owning)
        if parents:
            targets.setdefault(parents[-1], []).append(task_id)
    moved = sorted(i for ids in targets.values() for i in ids)
    if not moved:
        return EscalationReport(escalated=0, task_ids=[])
    for code, ids in targets.items():
        for start in range(0, len(ids), 5000):
            session.execute(sql_update(Task).where(Task.id.in_(ids[start:start + 5000]))
                            .values(escalated_to_code=code,
                                    escalation_level=Task.escalation_level + 1,
                                    escalated_at=now)
                            .execution_options(synchronize_session=False))
    at = utc_now()
    session.execute(insert(TaskEvent), [
        {"task_id": i, "at": at, "by": actor.username, "kind": "escalated", "detail": f"to {code}"}
        for code, ids in targets.items() for i in ids])
    _expire(session, moved)  # loaded tasks see the new level and events
    audit.record(session, actor, action="escalate", record_type="task", record_ids=moved,
                 fields=["escalated_to_code", "escalation_level"])
    return EscalationReport(escalated=len(moved), task_ids=moved)


def on_event(session: Session, event: events.Event) -> list[int]:
    """The event ends the open tasks of its subject that wait for it: done if it is one of a
    task's ``completes_on``, cancelled if one of its ``cancels_on``; each with a history step
    naming the event and its reason, in the caller's transaction (the same unit of work as
    what happened). A task ends when the event happened to its subject (``event.at``, else
    now; never before the task was made). Returns the ids of the tasks ended. One read of the
    subject's open tasks per chunk of 900 records, one UPDATE and one INSERT of the steps."""
    now = utc_now()
    ended: list[dict[str, Any]] = []
    ids = sorted(set(event.subject_ids))
    for start in range(0, len(ids), 900):
        for task_id, subject_id, created, completes, cancels in session.execute(
                select(Task.id, Task.subject_id, Task.created_at, Task.completes_on,
                       Task.cancels_on).where(
                    Task.subject_type == event.subject_type,
                    Task.subject_id.in_(ids[start:start + 900]),
                    Task.status.in_(ACTIVE))):
            if event.name in (completes or "").split():
                status = TaskStatus.done
            elif event.name in (cancels or "").split():
                status = TaskStatus.cancelled
            else:
                continue
            at = max(as_utc(event.at.get(subject_id or 0, now)), as_utc(created))
            ended.append({"task": task_id, "to": status, "at": at})
    if not ended:
        return []
    table = cast(Table, Task.__table__)
    session.execute(sql_update(table).where(table.c.id == bindparam("task"))
                    .values(status=bindparam("to"), completed_at=bindparam("at")), ended)
    by = event.actor.username
    insert_many(session, TaskEvent.__table__, [
        {"task_id": e["task"], "at": e["at"], "by": by, "kind": "status",
         "detail": f"{e['to'].value}: {event.name} ({event.reason})"} for e in ended])
    moved = sorted(e["task"] for e in ended)
    _expire(session, moved)  # loaded tasks see their new status and history
    audit.record(session, event.actor, action="update", record_type="task", record_ids=moved,
                 fields=["status"], detail={"event": event.name, "reason": event.reason})
    return moved


def _expire(session: Session, task_ids: list[int]) -> None:
    """Tasks changed by a set-based statement are read afresh where the session holds them."""
    wanted = set(task_ids)
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Task) and obj.id in wanted:
            session.expire(obj)


def end_tasks(session: Session, event: events.Event) -> None:
    on_event(session, event)




def last_id(session: Session) -> int:
    """The highest task id so far (0 without tasks): tasks made later have higher ids."""
    return int(session.scalar(select(func.max(Task.id))) or 0)


def about(session: Session, *, subject_type: str, type_: str,
          subject_ids: Sequence[int]) -> list[tuple[int, int | None, TaskStatus]]:
    """(id, subject id, status) of the tasks of ``type_`` about these subjects."""
    ordered, out = sorted(set(subject_ids)), []
    for start in range(0, len(ordered), 900):
        out += [(i, s, st) for i, s, st in session.execute(
            select(Task.id, Task.subject_id, Task.status).where(
                Task.subject_type == subject_type, Task.type == type_,
                Task.subject_id.in_(ordered[start:start + 900])))]
    return out


def due_between(session: Session, *, after_id: int, start: datetime,
                end: datetime) -> tuple[int, int]:
    """Tasks made after task ``after_id`` and due in [start, end), and those of them done by
    their due time. One cancelled by its due time (its event made it moot) is not counted;
    one still open, or ended after its due time, was late."""
    on_time = Task.completed_at <= Task.due_at
    due, done = session.execute(select(
        func.count(), func.count().filter(and_(Task.status == TaskStatus.done, on_time)))
        .where(Task.id > after_id, Task.due_at >= start, Task.due_at < end,
               not_(and_(Task.status == TaskStatus.cancelled, on_time)))).one()
    return int(due), int(done)


def any_task(session: Session) -> bool:
    return session.scalar(select(Task.id).limit(1)) is not None
