"""Migration 0031 cancels the open notify tasks of contacts whose role the pack does not manage
(made before such contacts stopped getting tasks), the reason in their history; the tasks of
managed contacts are left alone."""

from __future__ import annotations

from datetime import timedelta

from alembic import command
from sqlalchemy import select

from fangkong.core.auth import acting_for
from fangkong.core.clock import utc_now
from fangkong.core.db import get_engine, session_scope
from fangkong.core.migrate import alembic_config, upgrade
from fangkong.task import service as tasks
from fangkong.task.models import Task
from fangkong.task.schemas import TaskCreate
from fangkong.tracing.models import ContactEpisode
from tests.conftest import make_actor
from tests.tracing.helpers import a_case_with_contacts


def test_open_notify_tasks_of_unmanaged_contacts_are_cancelled(fresh_db: str) -> None:
    engine = get_engine()
    upgrade(engine)
    actor = make_actor()
    with session_scope(engine) as session:
        venue, close = (e.contact_id for e in a_case_with_contacts(
            session, actor, prefix="MU", seed=5, pack="cn_v9",
            roles=("venue_exposed", "close_contact")))
        contact = session.get(ContactEpisode, venue)
        assert contact is not None and contact.plan["managed"] is False
        assert session.scalars(select(Task).where(Task.subject_id == venue)).all() == []
        # the task such a contact was given before (as tracing made it then)
        tasks.create_many(session, actor=acting_for(actor, [contact.division_code]), data=[
            TaskCreate(type="notify_contact", **tasks.titled(
                "notify_contact", person=contact.person_id, case=contact.index_case_id,
                role=contact.role), subject_type="contact", subject_id=contact.id,
                completes_on=["contact.notified", "contact.under_management"],
                cancels_on=["contact.released", "contact.became_case",
                            "contact.lost_to_follow_up"],
                owning_division_code=contact.division_code,
                due_at=utc_now() + timedelta(hours=4), pack_id=contact.pack,
                pack_version=contact.pack_version)])
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), "0028")
    upgrade(engine)
    with session_scope(engine) as session:
        found = {(t.subject_id, t.type): t for t in session.scalars(
            select(Task).where(Task.subject_type == "contact"))}
        assert set(found) == {(venue, "notify_contact"), (close, "notify_contact"),
                              (close, "transfer_to_quarantine")}
        moot = found[(venue, "notify_contact")]
        assert moot.status.value == "cancelled" and moot.completed_at is not None
        assert (moot.events[-1].by, moot.events[-1].kind) == ("migration 0031", "status")
        assert moot.events[-1].detail == ("cancelled: the contact's role is not managed under "
                                          "its pack (nothing to notify)")
        for kind in ("notify_contact", "transfer_to_quarantine"):
            task = found[(close, kind)]
            assert task.status.value == "open" and len(task.events) == 1
