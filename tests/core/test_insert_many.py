"""core.db.insert_many writes rows as the ORM would (enums by name, UTC times, nulls, scalar
defaults for columns not given), a COPY on PostgreSQL, on both databases; and the
database's own checks (a foreign key) still apply. insert_many_ids returns the new rows' ids
in the order given."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from fangkong.core.db import insert_many, insert_many_ids
from fangkong.task.enums import TaskStatus
from fangkong.task.models import Task, TaskEvent

NOW = datetime(2026, 12, 1, 8, 30, 15, 123456, tzinfo=UTC)


def _tasks(n: int) -> list[dict[str, object]]:
    return [{"type": "resample", "title": f"单管复采 {i}", "subject_type": "person" if i else None,
             "subject_id": i or None, "owning_division_code": "440802", "unit_id": None,
             "due_at": NOW + timedelta(hours=i), "status": TaskStatus.open,
             "created_by": "t", "created_at": NOW, "note": None} for i in range(n)]


def test_rows_written_as_the_orm_would(session: Session) -> None:
    insert_many(session, Task.__table__, _tasks(3))
    got = session.scalars(select(Task).where(Task.type == "resample").order_by(Task.subject_id
                                                                                .nulls_first()))
    tasks = list(got)
    assert [t.title for t in tasks] == ["单管复采 0", "单管复采 1", "单管复采 2"]
    assert [t.subject_id for t in tasks] == [None, 1, 2]
    assert {t.status for t in tasks} == {TaskStatus.open}
    assert [t.due_at for t in tasks] == [NOW, NOW + timedelta(hours=1), NOW + timedelta(hours=2)]
    assert {t.escalation_level for t in tasks} == {0}  # the column's default
    insert_many(session, TaskEvent.__table__, [
        {"task_id": t.id, "at": NOW, "by": "t", "kind": "created", "detail": None}
        for t in tasks])
    assert session.scalars(select(TaskEvent.task_id).order_by(TaskEvent.task_id)).all()[-3:] \
        == [t.id for t in tasks]


def test_the_databases_checks_apply(session: Session) -> None:
    with pytest.raises(DBAPIError, match=r"(?i)foreign key"), session.begin_nested():
        insert_many(session, TaskEvent.__table__, [
            {"task_id": 10**9, "at": NOW, "by": "t", "kind": "created", "detail": None}])


def test_rows_with_other_columns_are_refused(session: Session) -> None:
    rows = _tasks(2)
    del rows[1]["note"]
    with pytest.raises(ValueError, match="same columns"):
        insert_many(session, Task.__table__, rows)


def test_insert_many_ids_returns_each_rows_id_in_order(session: Session) -> None:
    rows = _tasks(4)
    first = insert_many_ids(session, Task.__table__, rows[:1])
    ids = insert_many_ids(session, Task.__table__, rows[1:])
    assert len(ids) == 3 and len(set(ids)) == 3 and min(ids) > first[0]
    stored = dict(session.execute(select(Task.id, Task.title).where(Task.id.in_(first + ids))
                                  .order_by(Task.id)).all())
    assert [stored[i] for i in first + ids] == [r["title"] for r in rows]
    assert "id" not in rows[0]  # the rows given are not changed
    assert insert_many_ids(session, Task.__table__, []) == []
