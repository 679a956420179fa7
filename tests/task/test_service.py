from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from fangkong.core.auth import Actor, Role
from fangkong.core.clock import utc_now
from fangkong.core.errors import Conflict, Invalid, NotFound
from fangkong.task import service as tasks
from fangkong.task.enums import TaskStatus
from fangkong.task.schemas import TaskCreate, TaskUpdate
from tests.conftest import make_actor


def _task(session: Session, actor: Actor, code: str = "440802001", hours: float = 2,
          title: str = "通知密接") -> int:
    data = TaskCreate(type="notify_contact", title=title, owning_division_code=code,
                      due_at=utc_now() + timedelta(hours=hours))
    return tasks.create(session, actor=actor, data=data).id


def test_lifecycle_is_recorded(session: Session, admin: Actor) -> None:
    task_id = _task(session, admin)
    task = tasks.update(session, actor=admin, task_id=task_id,
                        data=TaskUpdate(status=TaskStatus.in_progress))
    task = tasks.update(session, actor=admin, task_id=task_id,
                        data=TaskUpdate(status=TaskStatus.done))
    assert task.completed_at is not None
    assert [e.kind for e in task.events] == ["created", "status", "status"]
    # a task that has ended clashes with the change (409), the request itself is well formed
    with pytest.raises(Conflict, match="cannot change"):
        tasks.update(session, actor=admin, task_id=task_id,
                     data=TaskUpdate(status=TaskStatus.open))


def test_escalation_climbs_one_level_per_step(session: Session, admin: Actor) -> None:
    task_id = _task(session, admin, code="440802001", hours=-1)
    on_time = _task(session, admin, code="440802001", hours=5)
    now = utc_now()
    first = tasks.escalate_overdue(session, actor=admin, now=now)
    assert task_id in first.task_ids and on_time not in first.task_ids
    task = tasks.get(session, actor=admin, task_id=task_id)
    assert (task.escalated_to_code, task.escalation_level) == ("440802", 1)
    # Within the step nothing moves; after it, one more level.
    assert task_id not in tasks.escalate_overdue(session, actor=admin,
                                                 now=now + timedelta(minutes=10)).task_ids
    tasks.escalate_overdue(session, actor=admin, now=now + timedelta(hours=5))
    tasks.escalate_overdue(session, actor=admin, now=now + timedelta(hours=10))
    tasks.escalate_overdue(session, actor=admin, now=now + timedelta(hours=15))
    task = tasks.get(session, actor=admin, task_id=task_id)
    assert (task.escalated_to_code, task.escalation_level) == ("44", 3)
    assert [e.detail for e in task.events if e.kind == "escalated"] == [
        "to 440802", "to 4408", "to 44"]


def test_done_tasks_never_escalate(session: Session, admin: Actor) -> None:
    task_id = _task(session, admin, hours=-3)
    tasks.update(session, actor=admin, task_id=task_id, data=TaskUpdate(status=TaskStatus.done))
    assert task_id not in tasks.escalate_overdue(session, actor=admin).task_ids


def test_overdue_board_and_scoping(session: Session, admin: Actor) -> None:
    late_here = _task(session, admin, code="440802001", hours=-2)
    _task(session, admin, code="440802002", hours=3)
    late_there = _task(session, admin, code="440803001", hours=-2)
    county = make_actor(Role.community_worker, "440802")
    board = tasks.overdue_by_unit(session, actor=county)
    assert [(r.division_code, r.overdue) for r in board] == [("440802001", 1)]
    listed, _ = tasks.list_(session, actor=county, overdue=True)
    assert [t.id for t in listed] == [late_here]
    with pytest.raises(NotFound):
        tasks.get(session, actor=county, task_id=late_there)
    with pytest.raises(Invalid, match="outside"):
        _task(session, county, code="440803001")


def test_list_pages_by_due_time(session: Session, admin: Actor) -> None:
    ids = [_task(session, admin, code="440823101", hours=h) for h in (5, -4, 1, 3, -1)]
    seen, cursor = [], None
    while True:
        page, cursor = tasks.list_(session, actor=admin, division="440823", cursor=cursor,
                                   limit=2)
        seen += [t.id for t in page]
        if cursor is None:
            break
    assert seen == [ids[1], ids[4], ids[2], ids[3], ids[0]]


def test_create_many_checks_like_create_and_audits_once(session: Session) -> None:
    from sqlalchemy import func, select

    from fangkong.core.audit import AuditEntry

    actor = make_actor(Role.testing_officer, "440802", name="officer")
    due = utc_now() + timedelta(hours=12)

    def item(code: str, n: int) -> TaskCreate:
        return TaskCreate(type="resample", title=f"复采 {n}", subject_type="person",
                          subject_id=n, owning_division_code=code, due_at=due)

    before = session.scalar(select(func.count()).select_from(AuditEntry))
    ids = tasks.create_many(session, actor=actor,
                            data=[item("440802001001", n) for n in range(3)])
    assert len(ids) == 3 and ids == sorted(ids)
    made = [tasks.get(session, actor=actor, task_id=i) for i in ids]
    assert [t.subject_id for t in made] == [0, 1, 2]
    assert all(t.status.active and [e.kind for e in t.events] == ["created"] for t in made)
    assert session.scalar(select(func.count()).select_from(AuditEntry)) == before + 1
    # the ids come from the table's own sequence: tasks made one by one afterwards follow
    assert tasks.create(session, actor=actor, data=item("440802001001", 3)).id > max(ids)
    with pytest.raises(Invalid):
        tasks.create_many(session, actor=actor,
                          data=[item("440802001001", 9), item("440803001001", 10)])
    with pytest.raises(NotFound):
        tasks.create_many(session, actor=actor, data=[item("440802999999", 11)])
    assert tasks.create_many(session, actor=actor, data=[]) == []
