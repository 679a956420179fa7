"""Migration 0027 gives the exposures and tasks already made the pack they were made under: an
exposure with a contact episode the episode's pack, any other exposure the active pack (its
version on disk at migration time), a contact's task the contact's pack, a task made by hand
none."""

from __future__ import annotations

from alembic import command
from sqlalchemy import select, text

from fangkong.core.db import get_engine, session_scope
from fangkong.core.migrate import alembic_config, upgrade
from fangkong.policy import service as policy
from fangkong.task import service as tasks
from fangkong.task.models import Task
from fangkong.task.schemas import TaskCreate
from fangkong.tracing.models import Exposure
from tests.conftest import make_actor
from tests.tracing.helpers import a_case_with_contacts


def test_existing_exposures_and_tasks_get_their_pack(fresh_db: str) -> None:
    engine = get_engine()
    upgrade(engine)
    actor = make_actor()
    with session_scope(engine) as session:
        managed, proposed = a_case_with_contacts(session, actor, prefix="PK", seed=5,
                                                 pack="cn_20_measures")
        managed_id, proposed_id, contact_id = managed.id, proposed.id, managed.contact_id
        by_hand = tasks.create(session, actor=actor, data=TaskCreate(
            type="call", title="call", owning_division_code="440802",
            due_at=managed.created_at)).id
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), "0025")
        # before 0027: a proposal not reviewed yet has no contact episode
        conn.execute(text("UPDATE tracing_exposure SET contact_id = NULL WHERE id = :e"),
                     {"e": proposed_id})
    upgrade(engine)
    active = policy.active_pack()
    twenty = policy.get_pack("cn_20_measures")
    assert active.id != twenty.id
    with session_scope(engine) as session:
        found = {e.id: (e.pack_id, e.pack_version) for e in session.scalars(select(Exposure))}
        assert found[managed_id] == (twenty.id, twenty.version)
        # also the household proposals the report made (no contact episode yet)
        assert {v for k, v in found.items() if k != managed_id} == {(active.id, active.version)}
        made = {(t.subject_type, t.subject_id): (t.pack_id, t.pack_version)
                for t in session.scalars(select(Task))}
        assert made[("contact", contact_id)] == (twenty.id, twenty.version)
        assert made[(None, None)] == (None, None)
        assert session.get(Task, by_hand) is not None
