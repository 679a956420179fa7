"""Migration 0037: every stay sampling task also ends on ``stay.ended``, and the open ones of
stays already ended with their test still to take are cancelled, the reason in their history;
the tasks of an active stay are left open."""

from __future__ import annotations

from datetime import date

from alembic import command
from sqlalchemy import select, update

from fangkong.core.db import get_engine, session_scope
from fangkong.core.migrate import alembic_config, upgrade
from fangkong.geo import service as geo
from fangkong.isolation import service as isolation
from fangkong.isolation.enums import StayKind, StayStatus
from fangkong.isolation.models import Stay
from fangkong.isolation.schemas import RoomSpec, SiteCreate, StayCreate
from fangkong.person import importer as person_importer
from fangkong.task.models import Task
from tests.conftest import make_actor
from tests.helpers import csv_bytes, person_rows


def test_sampling_tasks_of_ended_stays_are_cancelled(fresh_db: str) -> None:
    engine = get_engine()
    upgrade(engine)
    actor = make_actor()
    with session_scope(engine) as session:
        rows = person_rows(2, places=[("440802001001", 1.0)], seed=7, prefix="M37")
        geo.load(session, province="44")
        person_importer.import_file(session, actor=actor, source=csv_bytes(rows),
                                    filename="p.csv")
        site = isolation.create_site(session, actor=actor, data=SiteCreate(
            code="M37", name="H", type="quarantine_hotel", division_code="440802",
            rooms=[RoomSpec(label="1"), RoomSpec(label="2")]))
        rooms = isolation.rooms_of(session, site.id)
        ended, running = (isolation.create_stay(session, actor=actor, data=StayCreate(
            person_ref=r["ref"], kind=StayKind.quarantine, site_id=site.id, room_id=room.id,
            role="close_contact", anchor=date(2022, 7, 1), pack="cn_v9")).id
            for r, room in zip(rows, rooms, strict=True))
        # what end_stays did before: the stay released, its sampling tasks left open
        session.execute(update(Stay).where(Stay.id == ended).values(
            status=StayStatus.released, actual_end=date(2022, 7, 4)))
        session.execute(update(Task).where(Task.type == "isolation_sampling")
                        .values(cancels_on="stay.moved"))
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), "0031")
    upgrade(engine)
    with session_scope(engine) as session:
        by_stay: dict[int, list[Task]] = {ended: [], running: []}
        for stay_id in by_stay:
            test_tasks = [t.task_id for t in isolation.tests_of(session, stay_id)]
            by_stay[stay_id] = list(session.scalars(select(Task).where(
                Task.id.in_(test_tasks))))
        assert {t.cancels_on for ts in by_stay.values() for t in ts} == {
            "stay.moved stay.ended"}
        for task in by_stay[ended]:
            assert task.status.value == "cancelled" and task.completed_at is not None
            assert (task.events[-1].by, task.events[-1].kind) == ("migration 0037", "status")
        assert {t.status.value for t in by_stay[running]} == {"open"}
        assert all(len(t.events) == 1 for t in by_stay[running])
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), "0031")
    with session_scope(engine) as session:
        assert set(session.scalars(select(Task.cancels_on).where(
            Task.type == "isolation_sampling"))) == {"stay.moved"}
