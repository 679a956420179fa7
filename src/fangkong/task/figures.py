"""Task figures of the pages and the brief: counts, the board's list and the overdue work per
(division, unit), all of active tasks under one :class:`TaskFilter` (whose link opens the
board with the same filter), read here, inside the task domain, with typed rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, noload

from fangkong.core.auth import Actor, Perm, scope, within
from fangkong.geo import service as geo
from fangkong.task.enums import ACTIVE
from fangkong.task.models import Task


@dataclass(frozen=True)
class TaskFilter:
    division: str | None = None
    overdue: bool = False
    escalated: bool = False
    unit: int | None = None
    type: str | None = None

    def href(self) -> str:
        items: dict[str, Any] = {"division": self.division, "unit": self.unit,
                                 "overdue": "1" if self.overdue else None,
                                 "escalated": "1" if self.escalated else None,
                                 "type": self.type}
        return "/tasks?" + urlencode({k: v for k, v in items.items() if v is not None})

    def statement(self, actor: Actor, stmt: Any, now: datetime) -> Any:
        """``stmt`` narrowed to the active tasks of this filter the actor may read."""
        actor.require(Perm.task_read)
        stmt = scope(stmt, actor, Task.owning_division_code).where(Task.status.in_(ACTIVE))
        if self.division:
            stmt = stmt.where(within(Task.owning_division_code, self.division))
        if self.overdue:
            stmt = stmt.where(Task.due_at < now)
        if self.escalated:
            stmt = stmt.where(Task.escalation_level > 0)
        if self.unit is not None:
            stmt = stmt.where(Task.unit_id == self.unit)
        if self.type:
            stmt = stmt.where(Task.type == self.type)
        return stmt


def count(session: Session, actor: Actor, flt: TaskFilter, now: datetime) -> int:
    stmt = flt.statement(actor, select(func.count()).select_from(Task), now)
    return int(session.scalar(stmt) or 0)


def counts(session: Session, actor: Actor, division: str, now: datetime
           ) -> tuple[int, int, int]:
    """(overdue, escalated, active) counts of the active tasks inside ``division``, in one
    pass over the tasks' index: each the :func:`count` of the filter with that flag."""
    stmt = TaskFilter(division=division).statement(actor, select(
        func.count().filter(Task.due_at < now), func.count().filter(Task.escalation_level > 0),
        func.count()).select_from(Task), now)
    overdue, escalated, active = session.execute(stmt).one()
    return int(overdue), int(escalated), int(active)


@dataclass
class BoardRow:
    task: Task
    division_name: str
    unit_name: str | None
    escalated_to_name: str | None


BOARD_ORDERS = ("due", "division", "type")


def board(session: Session, actor: Actor, flt: TaskFilter, now: datetime, limit: int = 200,
          offset: int = 0, order: str = "due") -> list[BoardRow]:
    """Active tasks, overdue first (earliest due first), then the rest by due time, with the
    names of their division, unit and the division they were escalated to (``limit`` of them
    from ``offset``: a page of the board). ``order`` "division" or "type" sorts by that
    first, then as by default."""
    first = {"division": [Task.owning_division_code], "type": [Task.type]}.get(order, [])
    # the board shows no task's history: its events are not loaded (a third of an export)
    stmt = flt.statement(actor, select(Task).options(noload(Task.events)), now).order_by(
        *first, case((Task.due_at < now, 0), else_=1), Task.due_at, Task.id
    ).offset(offset).limit(limit)
    tasks = list(session.scalars(stmt))
    places = geo.names(session, {t.owning_division_code for t in tasks}
                       | {t.escalated_to_code for t in tasks if t.escalated_to_code})
    units = geo.unit_names(session, {t.unit_id for t in tasks if t.unit_id is not None})
    return [BoardRow(t, places.get(t.owning_division_code, t.owning_division_code),
                     units.get(t.unit_id) if t.unit_id is not None else None,
                     places.get(t.escalated_to_code) if t.escalated_to_code else None)
            for t in tasks]


@dataclass
class OverdueGroup:
    division: str
    division_name: str
    unit_id: int | None
    unit_name: str | None
    overdue: int
    escalated: int


def overdue_by_unit(session: Session, actor: Actor, now: datetime,
                    division: str | None = None) -> list[OverdueGroup]:
    """Overdue and escalated counts per (owning division, unit), the most overdue first
    (inside ``division`` if given): counted from the tasks' index, then the groups named."""
    flt = TaskFilter(overdue=True, division=division)
    n = func.count()
    stmt = flt.statement(actor, select(
        Task.owning_division_code, Task.unit_id, n,
        func.count().filter(Task.escalation_level > 0)), now
                         ).group_by(Task.owning_division_code, Task.unit_id
                         ).order_by(n.desc(), Task.owning_division_code)
    groups = session.execute(stmt).all()
    places = geo.names(session, {g[0] for g in groups})
    units = geo.unit_names(session, {g[1] for g in groups if g[1] is not None})
    return [OverdueGroup(d, places.get(d, d), u, units.get(u) if u is not None else None,
                         int(c), int(e)) for d, u, c, e in groups]


def overdue_at(session: Session, actor: Actor, division: str, at: datetime) -> int:
    """How many tasks inside ``division`` were overdue at the moment ``at``: made by then, due
    before then and not ended (done or cancelled) by then. With ``at`` now it is the overdue
    count of :func:`counts`; a day earlier, yesterday's, for the change since."""
    actor.require(Perm.task_read)
    stmt = scope(select(func.count()).select_from(Task), actor, Task.owning_division_code
                 ).where(within(Task.owning_division_code, division), Task.created_at <= at,
                         Task.due_at < at,
                         (Task.completed_at.is_(None)) | (Task.completed_at > at))
    return int(session.scalar(stmt) or 0)


@dataclass
class OverdueKind:
    """Overdue tasks of one unit (or one division's tasks with no unit) and one type."""

    division: str
    division_name: str
    unit_id: int | None
    unit_name: str | None
    type: str
    overdue: int
    escalated: int
    oldest_due: datetime


def overdue_by_unit_and_type(session: Session, actor: Actor, now: datetime,
                             division: str | None = None) -> list[OverdueKind]:
    """Overdue and escalated counts per (owning division, unit, task type), the worst first:
    the most overdue, then the longest overdue (the earliest due)."""
    flt = TaskFilter(overdue=True, division=division)
    n = func.count()
    oldest = func.min(Task.due_at)
    stmt = flt.statement(actor, select(
        Task.owning_division_code, Task.unit_id, Task.type, n,
        func.count().filter(Task.escalation_level > 0), oldest), now
                         ).group_by(Task.owning_division_code, Task.unit_id, Task.type
                         ).order_by(n.desc(), oldest, Task.owning_division_code, Task.type)
    groups = session.execute(stmt).all()
    places = geo.names(session, {g[0] for g in groups})
    units = geo.unit_names(session, {g[1] for g in groups if g[1] is not None})
    return [OverdueKind(d, places.get(d, d), u, units.get(u) if u is not None else None, t,
                        int(c), int(e), o) for d, u, t, c, e, o in groups]
