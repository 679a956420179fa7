"""The bulk paths of isolation (create_stays, request_many, arrive_many) leave the same records
as the one-by-one calls: stays, room nights, tests and their sampling tasks, transfers and the
audit entries naming them. Each path runs in a savepoint that is rolled back; the snapshots
are compared with the ids replaced by what the rows stand for."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fangkong.core.audit import AuditEntry
from fangkong.core.auth import Actor
from fangkong.core.errors import Conflict, Invalid
from fangkong.isolation import service, transfers
from fangkong.isolation.enums import PassengerClass, StayKind
from fangkong.isolation.models import Room, RoomNight, Site, Stay, StayTest, Transfer
from fangkong.isolation.schemas import (
    RoomSpec,
    SiteCreate,
    StayCreate,
    TransferCreate,
    VehicleCreate,
)
from fangkong.task.models import Task
from tests.isolation.test_stays import people  # noqa: F401  (fixture)

ANCHOR = date(2022, 7, 1)
T0 = datetime(2022, 7, 1, 8, 0, tzinfo=UTC)


def _site(session: Session, actor: Actor) -> tuple[Site, dict[str, Room]]:
    site = service.create_site(session, actor=actor, data=SiteCreate(
        code="BQ", name="bulk hotel", type="quarantine_hotel", division_code="440802",
        lon=110.36, lat=21.27, rooms=[RoomSpec(label="101"), RoomSpec(label="102"),
                                      RoomSpec(label="201", capacity=3, family=True)]))
    return site, {r.label: r for r in service.rooms_of(session, site.id)}


def _snapshot(session: Session, seq: int) -> dict[str, Any]:
    session.flush()
    stays = session.scalars(select(Stay)).all()
    skey = {s.id: ("stay", s.person_id, s.start_date) for s in stays}
    tests = session.scalars(select(StayTest)).all()
    sampling = {t.id: t for t in tests}  # a sampling task is about its test
    found_tasks = session.scalars(select(Task).where(Task.subject_type == "iso_stay_test")).all()
    tkey = {t.id: ("task", skey[sampling[t.subject_id].stay_id], sampling[t.subject_id].test_date)
            for t in found_tasks}
    moved = session.scalars(select(Transfer)).all()
    xkey = {t.id: ("transfer", t.person_id) for t in moved}
    keys: dict[str, dict[int, Any]] = {"iso_stay": skey, "task": tkey, "iso_transfer": xkey}
    audited = set()
    for entry in session.scalars(select(AuditEntry).where(AuditEntry.seq > seq)):
        known = keys.get(entry.record_type)
        if known is not None:
            audited |= {(entry.action, entry.record_type, known[int(r)], tuple(entry.fields))
                        for r in entry.record_ids}
    return {
        "stays": sorted((skey[s.id], s.site_id, s.room_id, s.kind.value, s.status.value,
                         s.role, s.anchor, s.household_ref, s.division_code, s.planned_end,
                         s.pack, s.pack_version, s.created_by) for s in stays),
        "nights": sorted((n.room_id, n.night, n.slot, skey[n.stay_id], n.household_ref)
                         for n in session.scalars(select(RoomNight))),
        "tests": sorted((skey[t.stay_id], t.test_date, t.result.value, tkey[t.task_id])
                        for t in tests),
        "tasks": sorted((tkey[t.id], t.type, t.title.split(" (")[1], t.owning_division_code,
                         t.due_at, t.status.value, tuple(e.kind for e in t.events))
                        for t in found_tasks),
        "transfers": sorted((xkey[t.id], t.kind.value, t.status.value, t.to_site_id,
                             t.passenger_class.value, t.clock_start, t.arrived_at)
                            for t in moved),
        "audit": sorted(audited, key=repr),
    }


def _both(session: Session, one: Callable[[], None], many: Callable[[], None]
          ) -> tuple[dict[str, Any], dict[str, Any]]:
    seq = session.scalar(select(func.max(AuditEntry.seq))) or 0
    out = []
    for path in (one, many):
        savepoint = session.begin_nested()
        path()
        out.append(_snapshot(session, seq))
        savepoint.rollback()
        session.expire_all()
    return out[0], out[1]


def test_bulk_stays_and_transfers_leave_the_records_of_one_by_one(
        session: Session, admin: Actor, people: list[dict[str, str]]) -> None:  # noqa: F811
    site, rooms = _site(session, admin)
    refs = [p["ref"] for p in people]
    wanted = [
        StayCreate(person_ref=refs[0], kind=StayKind.quarantine, site_id=site.id,
                   room_id=rooms["101"].id, role="close_contact", anchor=ANCHOR, pack="cn_v9"),
        # a household of two in the family room, in one batch
        StayCreate(person_ref=refs[1], kind=StayKind.quarantine, site_id=site.id,
                   room_id=rooms["201"].id, role="close_contact", anchor=ANCHOR,
                   household_ref="HH", pack="cn_v9"),
        StayCreate(person_ref=refs[2], kind=StayKind.quarantine, site_id=site.id,
                   room_id=rooms["201"].id, role="close_contact", anchor=ANCHOR,
                   household_ref="HH", pack="cn_v9"),
        StayCreate(person_ref=refs[3], kind=StayKind.quarantine, role="close_contact",
                   anchor=ANCHOR, pack="cn_v9"),  # at home
    ]
    moves = [TransferCreate(person_ref=r, to_site_id=site.id,
                            passenger_class=PassengerClass.contact,
                            clock_start=T0 + timedelta(hours=k)) for k, r in enumerate(refs[:3])]

    def vehicle() -> int:
        return transfers.create_vehicle(session, actor=admin, data=VehicleCreate(
            code="BUS1", kind="bus", capacity=10, division_code="440802")).id

    def one() -> None:
        for d in wanted:
            service.create_stay(session, actor=admin, data=d)
        ids = [transfers.request(session, actor=admin, data=d).id for d in moves]
        transfers.dispatch(session, actor=admin, vehicle_id=vehicle(), transfer_ids=ids,
                           at=T0 + timedelta(hours=5))
        for k, i in enumerate(ids):
            transfers.arrive(session, actor=admin, transfer_id=i,
                             at=T0 + timedelta(hours=6 + k))

    def many() -> None:
        service.create_stays(session, actor=admin, data=wanted)
        ids = [t.id for t in transfers.request_many(session, actor=admin, data=moves)]
        transfers.dispatch(session, actor=admin, vehicle_id=vehicle(), transfer_ids=ids,
                           at=T0 + timedelta(hours=5))
        transfers.arrive_many(session, actor=admin, arrivals=[
            (i, T0 + timedelta(hours=6 + k)) for k, i in enumerate(ids)])

    a, b = _both(session, one, many)
    assert a == b
    assert len(b["stays"]) == 4 and len(b["tests"]) == 4 * 5  # cn_v9: days 1, 2, 3, 5, 7
    assert {n[2] for n in b["nights"] if n[0] == rooms["201"].id} == {0, 1}  # two beds
    assert all(t[6] is not None for t in b["transfers"])


def test_a_bad_batch_is_refused(session: Session, admin: Actor,
                                people: list[dict[str, str]]) -> None:  # noqa: F811
    site, rooms = _site(session, admin)
    refs = [p["ref"] for p in people]

    def stay(ref: str, room: str, household: str | None = None) -> StayCreate:
        return StayCreate(person_ref=ref, kind=StayKind.quarantine, site_id=site.id,
                          room_id=rooms[room].id, role="close_contact", anchor=ANCHOR,
                          household_ref=household, pack="cn_v9")

    with pytest.raises(Conflict, match="room 102 is already booked on 2022-07-02"):
        service.create_stays(session, actor=admin, data=[stay(refs[0], "102"),
                                                         stay(refs[1], "102")])
    with pytest.raises(Invalid) as err:
        service.create_stays(session, actor=admin, data=[stay(refs[0], "101"),
                                                         stay("NOBODY", "102")])
    assert err.value.problems[0].field == "person_ref[1]"
    with pytest.raises(Conflict, match="family room 201 is full"):
        service.create_stays(session, actor=admin, data=[
            stay(refs[k], "201", "HH") for k in range(4)])
