"""Booking stays: a person at a site and room (or at home), of a kind, from the policy pack's
plan, each night of the stay one bed of its room (no double booking, on both databases), the
plan's tests with their sampling tasks (:mod:`fangkong.isolation.sampling`), one stay or a
batch at once; finding and reading a stay."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fangkong.core import audit
from fangkong.core.auth import Actor, Perm, scope
from fangkong.core.clock import utc_now
from fangkong.core.db import is_postgres
from fangkong.core.errors import Conflict, Invalid, NotFound, Problem
from fangkong.core.messages import Day, joined
from fangkong.isolation import sampling
from fangkong.isolation.enums import (
    SampleResult,
    SiteStatus,
    SiteType,
    StayKind,
    StayStatus,
)
from fangkong.isolation.messages import ISO, label
from fangkong.isolation.models import Room, RoomNight, Site, Stay, StayTest
from fangkong.isolation.schemas import (
    StayCreate,
    StayRead,
    StayTestRead,
)
from fangkong.isolation.sites import get_site
from fangkong.person import service as persons
from fangkong.policy import service as policy

STAY_FIELDS = ["person_id", "site_id", "room_id", "kind", "start_date", "planned_end",
               "actual_end", "order_ref"]


def _nights(start: date, end: date) -> list[date]:
    return [start + timedelta(days=k) for k in range((end - start).days)]


def lock_rooms(session: Session, room_ids: Iterable[int]) -> None:
    """On PostgreSQL, lock the room rows before anything refers to them (a stay's foreign key
    takes a share lock on it), in id order, so that two officers booking one room wait for
    each other and the second sees the first's booking instead of a deadlock."""
    if is_postgres(session):
        for chunk in chunks(sorted(set(room_ids))):
            session.execute(select(Room.id).where(Room.id.in_(chunk)).order_by(Room.id)
                            .with_for_update())


def chunks(items: Sequence[Any], size: int = 900) -> Iterator[list[Any]]:
    for k in range(0, len(items), size):
        yield list(items[k:k + size])


def book(session: Session, bookings: Sequence[tuple[Stay, Room]]) -> None:
    """Take one bed of each room for every night of its stay, in order (a family room takes
    the household's stays of the batch up to its capacity), or raise Conflict.

    The caller has locked the rooms (:func:`lock_rooms`); on both databases the unique
    (room, night, slot) constraint refuses a double booking whatever happens."""
    if not bookings:
        return
    first = min(stay.start_date for stay, _ in bookings)
    last = max(stay.planned_end for stay, _ in bookings)
    taken: dict[int, dict[date, list[tuple[int, str | None, int]]]] = defaultdict(dict)
    for chunk in chunks(sorted({room.id for _, room in bookings})):
        for room_id, night, slot, other_household, other_stay in session.execute(
                select(RoomNight.room_id, RoomNight.night, RoomNight.slot,
                       RoomNight.household_ref, RoomNight.stay_id)
                .where(RoomNight.room_id.in_(chunk), RoomNight.night >= first,
                       RoomNight.night < last)):
            taken[room_id].setdefault(night, []).append((slot, other_household, other_stay))
    rows = []
    for stay, room in bookings:
        household = stay.household_ref
        mine = taken[room.id]
        nights = _nights(stay.start_date, stay.planned_end)
        for night in nights:
            for _, other_household, other_stay in mine.get(night, []):
                if not room.family or other_household is None or other_household != household:
                    raise Conflict(ISO("booked" if room.family else "booked_single",
                                       room=room.label, night=Day(night), stay=other_stay),
                                   problems=[Problem(ISO("already_booked"), field="room_id")])
        for night in nights:
            used = {slot for slot, _, _ in mine.get(night, [])}
            free = [s for s in range(room.capacity) if s not in used]
            if not free:
                raise Conflict(ISO("family_full", room=room.label, night=Day(night)),
                               problems=[Problem(ISO("full"), field="room_id")])
            mine.setdefault(night, []).append((free[0], household, stay.id))
            rows.append({"room_id": room.id, "night": night, "slot": free[0],
                         "stay_id": stay.id, "household_ref": household})
    try:
        with session.begin_nested():
            session.execute(insert(RoomNight), rows)
    except IntegrityError:
        labels = sorted({room.label for _, room in bookings})
        raise Conflict(ISO("booked_meanwhile", rooms=joined(labels[:10])), problems=[Problem(
                           ISO("already_booked"), field="room_id")]) from None



QUARANTINE_SITES = (SiteType.quarantine_hotel, SiteType.health_station)


def check_kind(kind: StayKind, site: Site) -> None:
    """Infected people (isolation, treatment) never stay in a quarantine site; contacts
    (quarantine) never in a hospital."""
    infected = kind in (StayKind.isolation, StayKind.treatment)
    if infected == (site.type in QUARANTINE_SITES):
        raise Invalid(ISO("wrong_site_kind", kind=label(kind), site=label(site.type)),
                      problems=[Problem(ISO("wrong_kind"), field="site_id")])


def create_stay(session: Session, *, actor: Actor, data: StayCreate) -> Stay:
    return create_stays(session, actor=actor, data=[data])[0]


def create_stays(session: Session, *, actor: Actor, data: Sequence[StayCreate]) -> list[Stay]:
    """Stays for many people at once (a batch assignment, or a site's arrivals of the day):
    the same checks, plans, room nights, sampling tasks and audit as :func:`create_stay` one
    by one, in the order given, read and written in a few statements. All or nothing: a bad
    item refuses the batch (its problems name the item)."""
    actor.require(Perm.isolation_write)
    items = list(data)
    if not items:
        return []
    at = (lambda k: "") if len(items) == 1 else (lambda k: f"[{k}]")
    ids = persons.ids_by_ref(session, actor=actor, refs={d.person_ref for d in items})
    for k, d in enumerate(items):
        if d.person_ref not in ids:
            raise Invalid(ISO("no_person", ref=d.person_ref),
                          problems=[Problem(ISO("unknown"), field=f"person_ref{at(k)}")])
    homes = persons.homes(session, set(ids.values()))
    sites: dict[int, Site] = {}
    rooms: dict[int, Room] = {}
    wanted = sorted({d.room_id for d in items if d.room_id is not None})
    for chunk in chunks(wanted):
        rooms.update((r.id, r) for r in session.scalars(select(Room).where(Room.id.in_(chunk))))
    for k, d in enumerate(items):
        if d.site_id is None:
            continue
        if d.site_id not in sites:
            sites[d.site_id] = get_site(session, actor=actor, site_id=d.site_id)
        site = sites[d.site_id]
        if site.status is not SiteStatus.active:
            raise Conflict(ISO("site_inactive", site=site.code, status=label(site.status)))
        room = rooms.get(d.room_id or 0)
        if room is None or room.site_id != site.id:
            raise Invalid(ISO("room_not_of_site", room=d.room_id, site=site.code),
                          problems=[Problem(ISO("not_in_site"), field=f"room_id{at(k)}")])
        check_kind(d.kind, site)
    lock_rooms(session, wanted)
    plans: dict[tuple[str | None, str, date], Any] = {}
    stays: list[Stay] = []
    tests: list[list[date]] = []
    for k, d in enumerate(items):
        person_id = ids[d.person_ref]
        home = homes[person_id]
        where = sites.get(d.site_id) if d.site_id is not None else None
        pack, pack_version, days = None, None, []
        start, end = d.start_date, d.planned_end
        if d.role:
            assert d.anchor is not None
            key = (d.pack, d.role, d.anchor)
            if key not in plans:
                plans[key] = policy.plan(d.pack, d.role, d.anchor)
            plan = plans[key]
            if not plan.phases:
                raise Invalid(ISO("no_plan", role=d.role),
                              problems=[Problem(plan.explanation or ISO("unmanaged"),
                                                field=f"role{at(k)}")])
            phase = plan.phases[0]
            start, end = phase.start, phase.end + timedelta(days=1)
            days, pack, pack_version = phase.test_dates, plan.pack, plan.pack_version
        assert start is not None and end is not None
        stays.append(Stay(
            person_id=person_id, site_id=where.id if where else None,
            room_id=d.room_id if where else None, kind=d.kind, status=StayStatus.active,
            role=d.role, anchor=d.anchor, household_ref=d.household_ref or home.household_ref,
            division_code=where.division_code if where else home.division_code,
            start_date=start, planned_end=end, order_ref=d.order_ref, pack=pack,
            pack_version=pack_version, created_by=actor.username, created_at=utc_now()))
        tests.append(list(days))
    session.add_all(stays)
    session.flush()
    book(session, [(stay, rooms[stay.room_id]) for stay in stays if stay.room_id is not None])
    sampling.plan_tests(session, actor, [
        (stay, days, sites[stay.site_id].code if stay.site_id else "home")
        for stay, days in zip(stays, tests, strict=True)])
    audit.record(session, actor, action="create", record_type="iso_stay",
                 record_ids=[stay.id for stay in stays], fields=STAY_FIELDS)
    return stays


def active_stays(session: Session, person_ids: Sequence[int]) -> dict[int, int]:
    """The id of each of these persons' active stay (in quarantine, health monitoring at a
    site or treatment now), by person; persons without one left out."""
    found: dict[int, int] = {}
    for chunk in chunks(sorted(set(person_ids))):
        found.update(session.execute(select(Stay.person_id, Stay.id).where(
            Stay.person_id.in_(chunk), Stay.status == StayStatus.active)).tuples().all())
    return found


def at_home(session: Session, *, actor: Actor, limit: int = 500
            ) -> list[tuple[Stay, list[tuple[date, int | None]]]]:
    """The active stays at home (no site, a site of type ``home``, or home health monitoring) of
    the persons of the actor's jurisdiction, the community's to follow (a person reader may
    list them: they are the people of the grid), by start then id; each with its tests still
    without a sample or a result, as (test date, sampling task id)."""
    actor.require(Perm.person_read)
    homes = select(Site.id).where(Site.type == SiteType.home)
    stmt = scope(select(Stay).where(
        Stay.status == StayStatus.active,
        Stay.site_id.is_(None) | Stay.site_id.in_(homes)
        | (Stay.kind == StayKind.home_health_monitoring)),
        actor, Stay.division_code).order_by(Stay.start_date, Stay.id).limit(limit)
    found = list(session.scalars(stmt))
    tests: dict[int, list[tuple[date, int | None]]] = defaultdict(list)
    for chunk in chunks([s.id for s in found]):
        for t in session.scalars(select(StayTest).where(
                StayTest.stay_id.in_(chunk), StayTest.sampled_at.is_(None),
                StayTest.result == SampleResult.pending).order_by(StayTest.test_date)):
            tests[t.stay_id].append((t.test_date, t.task_id))
    if found:
        audit.record(session, actor, action="read", record_type="iso_stay",
                     record_ids=[s.id for s in found], fields=STAY_FIELDS)
    return [(s, tests[s.id]) for s in found]


def get_stay(session: Session, *, actor: Actor, stay_id: int, audit_read: bool = True) -> Stay:
    actor.require(Perm.isolation_read)
    stay = session.scalar(scope(select(Stay).where(Stay.id == stay_id), actor,
                                Stay.division_code))
    if stay is None:
        raise NotFound(ISO("stay_not_found", id=stay_id))
    if audit_read:
        audit.record(session, actor, action="read", record_type="iso_stay",
                     record_ids=[stay.id], fields=STAY_FIELDS)
    return stay


def stay_read(session: Session, stay: Stay) -> StayRead:
    out = StayRead.model_validate(stay)
    out.tests = [StayTestRead.model_validate(t) for t in sampling.tests_of(session, stay.id)]
    return out


def site_stays(session: Session, *, actor: Actor, site_id: int, on: date
               ) -> list[tuple[Stay, Room | None]]:
    """The stays at a site on the day ``on`` (active, begun by then, ending that day or
    later: who leaves today is still there to release), each with its room, by room label
    then stay; the site must be in the actor's jurisdiction."""
    site = get_site(session, actor=actor, site_id=site_id)
    rows = session.execute(
        select(Stay, Room).outerjoin(Room, Room.id == Stay.room_id)
        .where(Stay.site_id == site.id, Stay.status == StayStatus.active,
               Stay.start_date <= on, Stay.planned_end >= on)
        .order_by(Room.label, Stay.id)).tuples().all()
    if rows:
        audit.record(session, actor, action="read", record_type="iso_stay",
                     record_ids=[s.id for s, _ in rows], fields=STAY_FIELDS)
    return [(s, r) for s, r in rows]
