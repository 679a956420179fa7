"""Migration 0024 gives the tasks already made the events that end them, and ends those whose
event happened before it (the stale tasks of a drill's database), the reason in their history."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from sqlalchemy import select, text

from fangkong.core.db import get_engine, session_scope
from fangkong.core.migrate import alembic_config, upgrade
from fangkong.task.models import Task
from tests.conftest import make_actor
from tests.tracing.helpers import a_case_with_contacts


def test_existing_tasks_get_their_events_and_stale_ones_end(fresh_db: str) -> None:
    engine = get_engine()
    upgrade(engine)
    actor = make_actor()
    with session_scope(engine) as session:
        released, waiting = (e.contact_id for e in a_case_with_contacts(
            session, actor, prefix="MG", seed=3))
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), "0022")
        # before 0024: the contact was put under management, then released; its tasks stayed
        conn.execute(text("UPDATE tracing_contact SET status = 'released' WHERE id = :c"),
                     {"c": released})
        conn.execute(text(
            "INSERT INTO tracing_contact_status (contact_id, from_status, to_status, at, by) "
            "VALUES (:c, 'identified', 'under_management', :at, 'x')"),
            {"c": released, "at": datetime(2022, 5, 8, tzinfo=UTC).replace(tzinfo=None)})
    upgrade(engine)
    with session_scope(engine) as session:
        found = {(t.subject_id, t.type): t for t in session.scalars(
            select(Task).where(Task.subject_type == "contact"))}
        notify, transfer = (found[(released, k)] for k in ("notify_contact",
                                                            "transfer_to_quarantine"))
        assert (notify.status.value, transfer.status.value) == ("done", "cancelled")
        assert notify.events[-1].by == "migration 0024"
        assert notify.events[-1].detail == (
            "done: contact.notified (already notified or under management)")
        assert transfer.events[-1].detail.startswith(  # type: ignore[union-attr]
            "cancelled: the contact was already released")
        for kind in ("notify_contact", "transfer_to_quarantine"):
            task = found[(waiting, kind)]
            assert task.status.value == "open" and len(task.events) == 1
            assert "contact.released" in (task.cancels_on or "").split()
        assert found[(waiting, "notify_contact")].completes_on == (
            "contact.notified contact.under_management")
        assert found[(waiting, "transfer_to_quarantine")].completes_on == "transfer.arrived"
