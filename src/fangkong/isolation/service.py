"""Isolation services: sites and rooms, stays from the policy pack's plan with their sampling
tasks, release (refused without its negative tests), return transfers, exact occupancy, and the
planning mode that assigns people to rooms from files."""

from __future__ import annotations

import math
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fangkong.config import get_settings
from fangkong.core import audit
from fangkong.core.auth import Actor, Perm, scope, within
from fangkong.core.clock import utc_now
from fangkong.core.db import is_postgres
from fangkong.core.errors import Conflict, Invalid, NotFound, Problem
from fangkong.geo import service as geo
from fangkong.isolation import batch, planning, routing, solver
from fangkong.isolation.enums import (
    PassengerClass,
    SampleResult,
    SiteStatus,
    SiteType,
    StayKind,
    StayStatus,
    TransferKind,
)
from fangkong.isolation.enums import TransferStatus as TStatus
from fangkong.isolation.models import Room, RoomNight, Site, Stay, StayTest, Transfer
from fangkong.isolation.schemas import (
    BatchAssign,
    OccupancyDay,
    ReleaseProposal,
    ReserveRow,
    SiteCreate,
    StayCreate,
    StayRead,
    StayTestRead,
)
from fangkong.person import service as persons
from fangkong.person.models import Person
from fangkong.policy import service as policy
from fangkong.task import service as tasks
from fangkong.task.schemas import TaskCreate, TaskUpdate

STAY_FIELDS = ["person_id", "site_id", "room_id", "kind", "start_date", "planned_end",
               "actual_end", "order_ref"]
SAMPLING_TASK = "isolation_sampling"


# --- planning mode ----------------------------------------------------------------------------

def plan_assignment(*, people: Path | bytes, sites: Path | bytes, pack: str | None = None,
                    people_name: str | None = None, sites_name: str | None = None
                    ) -> dict[str, Any]:
    """Read and check both files (bad rows: Invalid with file, line and field), then solve."""
    _, rules = policy.isolation_rules(pack)
    persons_ = planning.read_people(people, people_name)
    places = planning.read_sites(sites, sites_name)
    return solver.assign(persons_, places, rules).as_dict()


def plan_transfers(*, requests: Path | bytes, sites: Path | bytes, vehicles: Path | bytes,
                   seconds: float = 5.0, names: tuple[str | None, str | None, str | None] = (
                       None, None, None)) -> dict[str, Any]:
    """Routes for a day's transfers from files: requests (who, from where, to which site, in
    which window), the sites file of ``assign`` and the vehicles."""
    places = planning.read_sites(sites, names[1])
    wanted = routing.read_requests(requests, places, names[0])
    fleet = routing.read_vehicles(vehicles, names[2])
    return routing.plan_routes(wanted, places, fleet, seconds=seconds)


# --- sites and rooms --------------------------------------------------------------------------

def create_site(session: Session, *, actor: Actor, data: SiteCreate) -> Site:
    actor.require(Perm.isolation_write)
    geo.get(session, data.division_code)
    if not actor.covers(data.division_code):
        raise Invalid("the site's division is outside your jurisdiction", problems=[
            Problem("outside your jurisdiction", field="division_code")])
    if session.scalar(select(Site.id).where(Site.code == data.code)) is not None:
        raise Conflict(f"a site with code {data.code} already exists",
                       problems=[Problem("already exists", field="code")])
    site = Site(**data.model_dump(exclude={"rooms"}), created_at=utc_now())
    session.add(site)
    session.flush()
    session.add_all(Room(site_id=site.id, **r.model_dump()) for r in data.rooms)
    session.flush()
    audit.record(session, actor, action="create", record_type="iso_site", record_ids=[site.id],
                 fields=["code", "type", "status", "division_code", "rooms"])
    return site


def get_site(session: Session, *, actor: Actor, site_id: int) -> Site:
    actor.require(Perm.isolation_read)
    site = session.scalar(scope(select(Site).where(Site.id == site_id), actor,
                                Site.division_code))
    if site is None:
        raise NotFound(f"site {site_id} not found")
    return site


def list_sites(session: Session, *, actor: Actor, division: str | None = None
               ) -> list[tuple[Site, int, int]]:
    """Sites in the jurisdiction with their rooms and beds."""
    actor.require(Perm.isolation_read)
    stmt = scope(select(Site, func.count(Room.id), func.coalesce(func.sum(Room.capacity), 0))
                 .outerjoin(Room, Room.site_id == Site.id).group_by(Site.id), actor,
                 Site.division_code)
    if division:
        stmt = stmt.where(within(Site.division_code, division))
    return [(s, int(n), int(b)) for s, n, b in session.execute(stmt.order_by(Site.code))]


def reserve(session: Session, *, actor: Actor, on: date, division: str | None = None,
            ratio: float | None = None) -> list[ReserveRow]:
    """Reserve planning per county: rooms needed (rooms occupied tonight × the planning ratio,
    setting ``isolation_reserve_ratio``) against the active and standby rooms."""
    actor.require(Perm.isolation_read)
    ratio = ratio or get_settings().isolation_reserve_ratio
    county = func.substr(Site.division_code, 1, 6)
    base = scope(select(county, Site.status, func.count(Room.id)).join(
        Room, Room.site_id == Site.id).where(Site.type != SiteType.home)
        .group_by(county, Site.status), actor, Site.division_code)
    used = scope(select(county, func.count(RoomNight.room_id.distinct()),
                        func.count(RoomNight.id))
                 .join(Room, Room.site_id == Site.id).join(RoomNight, RoomNight.room_id == Room.id)
                 .where(RoomNight.night == on, Site.status == SiteStatus.active)
                 .group_by(county), actor, Site.division_code)
    if division:
        base = base.where(within(Site.division_code, division))
        used = used.where(within(Site.division_code, division))
    rooms: dict[str, dict[SiteStatus, int]] = {}
    for code, status, n in session.execute(base):
        rooms.setdefault(code, {})[status] = int(n)
    occupied = {code: (int(r), int(p)) for code, r, p in session.execute(used)}
    out = []
    for code in sorted(rooms):
        active = rooms[code].get(SiteStatus.active, 0)
        standby = rooms[code].get(SiteStatus.standby, 0)
        taken, people = occupied.get(code, (0, 0))
        needed = math.ceil(taken * ratio)
        out.append(ReserveRow(county=code, active_rooms=active, standby_rooms=standby,
                              occupied_rooms=taken, people=people, rooms_needed=needed,
                              free_active_rooms=active - taken,
                              shortfall=max(0, needed - active - standby)))
    return out


def rooms_of(session: Session, site_id: int) -> list[Room]:
    return list(session.scalars(select(Room).where(Room.site_id == site_id)
                                .order_by(Room.label)))


def occupancy(session: Session, *, actor: Actor, site_id: int, start: date, end: date
              ) -> list[OccupancyDay]:
    """People and occupied rooms per night from ``start`` to ``end`` (inclusive), exact: read
    from the room-night rows that also forbid double booking."""
    site = get_site(session, actor=actor, site_id=site_id)
    if end < start or (end - start).days > 366:
        raise Invalid("give a range of at most a year, start before end")
    rooms, beds = session.execute(select(func.count(Room.id), func.coalesce(
        func.sum(Room.capacity), 0)).where(Room.site_id == site.id)).one()
    rows = session.execute(
        select(RoomNight.night, func.count(RoomNight.id), func.count(RoomNight.room_id.distinct()))
        .join(Room, Room.id == RoomNight.room_id).where(Room.site_id == site.id,
                                                        RoomNight.night.between(start, end))
        .group_by(RoomNight.night)).all()
    found = {night: (people, used) for night, people, used in rows}
    return [OccupancyDay(day=d, people=found.get(d, (0, 0))[0],
                         rooms_occupied=found.get(d, (0, 0))[1], rooms=int(rooms),
                         beds=int(beds))
            for d in (start + timedelta(days=k) for k in range((end - start).days + 1))]


# --- stays ------------------------------------------------------------------------------------

def _person(session: Session, actor: Actor, ref: str) -> Person:
    person_id = persons.ids_by_ref(session, actor=actor, refs={ref}).get(ref)
    if person_id is None:
        raise Invalid(f"no person with ref {ref} in your jurisdiction",
                      problems=[Problem("unknown", field="person_ref")])
    person = session.get(Person, person_id)
    assert person is not None
    return person


def _nights(start: date, end: date) -> list[date]:
    return [start + timedelta(days=k) for k in range((end - start).days)]


def _lock_room(session: Session, room: Room) -> None:
    """On PostgreSQL, lock the room row before anything refers to it (a stay's foreign key
    takes a share lock on it), so that two officers booking one room wait for each other and
    the second sees the first's booking instead of a deadlock."""
    if is_postgres(session):
        session.execute(select(Room.id).where(Room.id == room.id).with_for_update())


def _book(session: Session, *, stay: Stay, room: Room, household: str | None) -> None:
    """Take one bed of ``room`` for every night of the stay, or raise Conflict.

    The caller has locked the room (:func:`_lock_room`); on both databases the unique
    (room, night, slot) constraint refuses a double booking whatever happens."""
    nights = _nights(stay.start_date, stay.planned_end)
    taken = session.execute(select(RoomNight.night, RoomNight.slot, RoomNight.household_ref,
                                   RoomNight.stay_id)
                            .where(RoomNight.room_id == room.id,
                                   RoomNight.night.between(nights[0], nights[-1]))).all()
    used: dict[date, set[int]] = {}
    for night, slot, other_household, other_stay in taken:
        if not room.family or other_household is None or other_household != household:
            raise Conflict(f"room {room.label} is already booked on {night} (stay "
                           f"{other_stay})" + ("" if room.family else
                                               ": a room that is not a family room holds "
                                               "one person"),
                           problems=[Problem("already booked", field="room_id")])
        used.setdefault(night, set()).add(slot)
    rows = []
    for night in nights:
        free = [s for s in range(room.capacity) if s not in used.get(night, set())]
        if not free:
            raise Conflict(f"family room {room.label} is full on {night}",
                           problems=[Problem("full", field="room_id")])
        rows.append(RoomNight(room_id=room.id, night=night, slot=free[0], stay_id=stay.id,
                              household_ref=household))
    try:
        with session.begin_nested():
            session.add_all(rows)
            session.flush()
    except IntegrityError:
        raise Conflict(f"room {room.label} was booked by someone else at the same moment; "
                       "choose another room", problems=[Problem("already booked",
                                                                field="room_id")]) from None


def _due(day: date) -> datetime:
    zone = ZoneInfo(get_settings().timezone)
    return datetime.combine(day, time(23, 59), tzinfo=zone)


def _sampling(session: Session, actor: Actor, stay: Stay, test_dates: list[date],
              where: str) -> None:
    for day in test_dates:
        task = tasks.create(session, actor=actor, data=TaskCreate(
            type=SAMPLING_TASK, title=f"sample stay {stay.id} ({where}) on {day}",
            subject_type="iso_stay", subject_id=stay.id,
            owning_division_code=stay.division_code, due_at=_due(day)))
        session.add(StayTest(stay_id=stay.id, test_date=day, task_id=task.id,
                             result=SampleResult.pending))
    session.flush()


QUARANTINE_SITES = (SiteType.quarantine_hotel, SiteType.health_station)


def _check_kind(kind: StayKind, site: Site) -> None:
    """Infected people (isolation, treatment) never stay in a quarantine site; contacts
    (quarantine) never in a hospital."""
    infected = kind in (StayKind.isolation, StayKind.treatment)
    if infected == (site.type in QUARANTINE_SITES):
        raise Invalid(f"a stay of kind {kind.value} does not belong in a {site.type.value}",
                      problems=[Problem("wrong kind of site", field="site_id")])


def create_stay(session: Session, *, actor: Actor, data: StayCreate) -> Stay:
    actor.require(Perm.isolation_write)
    person = _person(session, actor, data.person_ref)
    room = site = None
    if data.site_id is not None:
        site = get_site(session, actor=actor, site_id=data.site_id)
        if site.status is not SiteStatus.active:
            raise Conflict(f"site {site.code} is {site.status.value}: activate it first")
        room = session.get(Room, data.room_id)
        if room is None or room.site_id != site.id:
            raise Invalid(f"room {data.room_id} is not a room of site {site.code}",
                          problems=[Problem("not in this site", field="room_id")])
        _check_kind(data.kind, site)
        _lock_room(session, room)
    pack, pack_version, tests = None, None, []
    start, end = data.start_date, data.planned_end
    if data.role:
        assert data.anchor is not None
        plan = policy.plan(data.pack, data.role, data.anchor)
        if not plan.phases:
            raise Invalid(f"the pack manages no plan for role {data.role}",
                          problems=[Problem(plan.explanation or "unmanaged", field="role")])
        phase = plan.phases[0]
        start, end = phase.start, phase.end + timedelta(days=1)
        tests, pack, pack_version = phase.test_dates, plan.pack, plan.pack_version
    assert start is not None and end is not None
    stay = Stay(person_id=person.id, site_id=site.id if site else None,
                room_id=room.id if room else None, kind=data.kind, status=StayStatus.active,
                role=data.role, anchor=data.anchor,
                household_ref=data.household_ref or person.household_ref,
                division_code=site.division_code if site else person.division_code,
                start_date=start, planned_end=end, order_ref=data.order_ref, pack=pack,
                pack_version=pack_version, created_by=actor.username, created_at=utc_now())
    session.add(stay)
    session.flush()
    if room is not None:
        _book(session, stay=stay, room=room, household=stay.household_ref)
    _sampling(session, actor, stay, tests, site.code if site else "home")
    audit.record(session, actor, action="create", record_type="iso_stay", record_ids=[stay.id],
                 fields=STAY_FIELDS)
    return stay


def get_stay(session: Session, *, actor: Actor, stay_id: int, audit_read: bool = True) -> Stay:
    actor.require(Perm.isolation_read)
    stay = session.scalar(scope(select(Stay).where(Stay.id == stay_id), actor,
                                Stay.division_code))
    if stay is None:
        raise NotFound(f"stay {stay_id} not found")
    if audit_read:
        audit.record(session, actor, action="read", record_type="iso_stay",
                     record_ids=[stay.id], fields=STAY_FIELDS)
    return stay


def stay_read(session: Session, stay: Stay) -> StayRead:
    out = StayRead.model_validate(stay)
    out.tests = [StayTestRead.model_validate(t) for t in tests_of(session, stay.id)]
    return out


def tests_of(session: Session, stay_id: int) -> list[StayTest]:
    return list(session.scalars(select(StayTest).where(StayTest.stay_id == stay_id)
                                .order_by(StayTest.test_date)))


def record_test(session: Session, *, actor: Actor, stay_id: int, test_date: date,
                result: SampleResult) -> StayTest:
    actor.require(Perm.isolation_write)
    stay = get_stay(session, actor=actor, stay_id=stay_id, audit_read=False)
    test = session.scalar(select(StayTest).where(StayTest.stay_id == stay.id,
                                                 StayTest.test_date == test_date))
    if test is None:
        raise Invalid(f"stay {stay.id} has no test on {test_date}", problems=[Problem(
            f"expected one of: {', '.join(str(t.test_date) for t in tests_of(session, stay.id))}",
            field="test_date")])
    test.result, test.recorded_at = result, utc_now()
    if test.task_id is not None and result is not SampleResult.pending:
        tasks.update(session, actor=actor, task_id=test.task_id,
                     data=TaskUpdate.model_validate({"status": "done",
                                                     "note": f"result {result.value}"}))
    session.flush()
    audit.record(session, actor, action="update", record_type="iso_stay", record_ids=[stay.id],
                 fields=["tests"], detail={"test_date": str(test_date), "result": result.value})
    return test


def release(session: Session, *, actor: Actor, stay_id: int, on: date
            ) -> tuple[Stay, Stay | None, Transfer | None]:
    """Release a stay: only when its period is over and every required test is negative.
    A plan with a next phase gets its next stay (at home) and a point-to-point return
    transfer."""
    actor.require(Perm.isolation_write)
    stay = get_stay(session, actor=actor, stay_id=stay_id, audit_read=False)
    if stay.status is StayStatus.released:
        raise Conflict(f"stay {stay.id} was already released on {stay.actual_end}")
    if on < stay.planned_end:
        raise Conflict(f"stay {stay.id} runs until {stay.planned_end}; it cannot be released "
                       f"on {on}", problems=[Problem("before the end of the period",
                                                     field="on")])
    missing = [t for t in tests_of(session, stay.id) if t.result is not SampleResult.negative]
    if missing:
        raise Conflict(
            f"release refused: {len(missing)} required test(s) not negative: "
            + ", ".join(f"{t.test_date} ({t.result.value})" for t in missing),
            problems=[Problem(f"test of {t.test_date} is {t.result.value}", field="tests")
                      for t in missing])
    stay.status, stay.actual_end, stay.released_at = StayStatus.released, on, utc_now()
    if stay.room_id is not None:
        for row in session.scalars(select(RoomNight).where(RoomNight.stay_id == stay.id,
                                                           RoomNight.night >= on)):
            session.delete(row)
    nxt, transfer = _next_phase(session, actor, stay, on)
    session.flush()
    audit.record(session, actor, action="update", record_type="iso_stay", record_ids=[stay.id],
                 fields=["status", "actual_end"], detail={"next_stay": nxt.id if nxt else None})
    return stay, nxt, transfer


def release_proposals(session: Session, *, actor: Actor, on: date,
                      division: str | None = None) -> list[ReleaseProposal]:
    """Active stays whose period is over on ``on``: ready to release when every required test
    is negative, with the tests still missing otherwise."""
    actor.require(Perm.isolation_read)
    stmt = scope(select(Stay).where(Stay.status == StayStatus.active, Stay.planned_end <= on),
                 actor, Stay.division_code)
    if division:
        stmt = stmt.where(within(Stay.division_code, division))
    stays = list(session.scalars(stmt.order_by(Stay.planned_end, Stay.id)))
    pending: dict[int, list[str]] = {}
    for start in range(0, len(stays), 900):
        ids = [s.id for s in stays[start : start + 900]]
        for t in session.scalars(select(StayTest).where(
                StayTest.stay_id.in_(ids), StayTest.result != SampleResult.negative)
                .order_by(StayTest.test_date)):
            pending.setdefault(t.stay_id, []).append(f"{t.test_date} ({t.result.value})")
    if stays:
        audit.record(session, actor, action="read", record_type="iso_stay",
                     record_ids=[s.id for s in stays], fields=["planned_end", "tests"])
    return [ReleaseProposal(stay_id=s.id, person_id=s.person_id, site_id=s.site_id,
                            planned_end=s.planned_end, ready=s.id not in pending,
                            missing_tests=pending.get(s.id, [])) for s in stays]


def _next_phase(session: Session, actor: Actor, stay: Stay, on: date
                ) -> tuple[Stay | None, Transfer | None]:
    if not stay.role or not stay.pack:
        return None, None
    if stay.anchor is None:
        return None, None
    plan = policy.plan(stay.pack, stay.role, stay.anchor)
    if len(plan.phases) < 2:
        return None, None
    phase = plan.phases[1]
    person = session.get(Person, stay.person_id)
    assert person is not None
    nxt = Stay(person_id=stay.person_id, site_id=None, room_id=None,
               kind=StayKind.home_health_monitoring if "monitoring" in phase.kind.value
               else StayKind.quarantine, status=StayStatus.active, role=stay.role,
               anchor=stay.anchor,
               household_ref=stay.household_ref, division_code=person.division_code,
               start_date=max(on, phase.start), planned_end=phase.end + timedelta(days=1),
               order_ref=stay.order_ref, pack=stay.pack, pack_version=stay.pack_version,
               previous_stay_id=stay.id, created_by=actor.username, created_at=utc_now())
    session.add(nxt)
    session.flush()
    _sampling(session, actor, nxt, [d for d in phase.test_dates if d >= on], "home")
    transfer = Transfer(person_id=stay.person_id, stay_id=nxt.id, kind=TransferKind.return_home,
                        passenger_class=PassengerClass.case if stay.kind in (
                            StayKind.isolation, StayKind.treatment) else PassengerClass.contact,
                        status=TStatus.planned, from_site_id=stay.site_id, to_site_id=None,
                        division_code=stay.division_code, planned_on=on,
                        created_by=actor.username, created_at=utc_now())
    session.add(transfer)
    session.flush()
    return nxt, transfer


def move_stay(session: Session, *, actor: Actor, stay_id: int, to_site_id: int,
              to_room_id: int, on: date, kind: StayKind = StayKind.treatment,
              planned_end: date | None = None) -> tuple[Stay, Stay, Transfer]:
    """A patient moves to another facility (severity changed): the stay ends on ``on``, its
    room is freed from that night, a new stay starts in the new room and an inter-facility
    transfer is planned."""
    actor.require(Perm.isolation_write)
    stay = get_stay(session, actor=actor, stay_id=stay_id, audit_read=False)
    if stay.status is not StayStatus.active:
        raise Conflict(f"stay {stay.id} is {stay.status.value}")
    if not stay.start_date <= on:
        raise Invalid("the move is before the stay starts", problems=[Problem(
            f"expected {stay.start_date} or later", field="on")])
    site = get_site(session, actor=actor, site_id=to_site_id)
    room = session.get(Room, to_room_id)
    if room is None or room.site_id != site.id:
        raise Invalid(f"room {to_room_id} is not a room of site {site.code}",
                      problems=[Problem("not in this site", field="to_room_id")])
    if site.status is not SiteStatus.active:
        raise Conflict(f"site {site.code} is {site.status.value}: activate it first")
    _check_kind(kind, site)
    _lock_room(session, room)
    end = planned_end or max(stay.planned_end, on + timedelta(days=1))
    if end <= on:
        raise Invalid("planned_end must be after the move", problems=[Problem(
            "not after on", field="planned_end")])
    for row in session.scalars(select(RoomNight).where(RoomNight.stay_id == stay.id,
                                                       RoomNight.night >= on)):
        session.delete(row)
    stay.status, stay.actual_end = StayStatus.moved, on
    session.flush()
    person = session.get(Person, stay.person_id)
    assert person is not None
    new = Stay(person_id=stay.person_id, site_id=site.id, room_id=room.id, kind=kind,
               status=StayStatus.active, role=stay.role, anchor=stay.anchor,
               household_ref=stay.household_ref, division_code=site.division_code,
               start_date=on, planned_end=end, order_ref=stay.order_ref, pack=stay.pack,
               pack_version=stay.pack_version, previous_stay_id=stay.id,
               created_by=actor.username, created_at=utc_now())
    session.add(new)
    session.flush()
    _book(session, stay=new, room=room, household=new.household_ref)
    transfer = Transfer(person_id=stay.person_id, stay_id=new.id,
                        kind=TransferKind.inter_facility, status=TStatus.planned,
                        from_site_id=stay.site_id, to_site_id=site.id,
                        passenger_class=PassengerClass.case if kind in (
                            StayKind.isolation, StayKind.treatment) else PassengerClass.contact,
                        division_code=site.division_code, planned_on=on,
                        created_by=actor.username, created_at=utc_now())
    session.add(transfer)
    session.flush()
    audit.record(session, actor, action="update", record_type="iso_stay",
                 record_ids=[stay.id, new.id], fields=STAY_FIELDS,
                 detail={"moved_to_site": site.id, "transfer": transfer.id})
    return stay, new, transfer


def assign_and_book(session: Session, *, actor: Actor, data: BatchAssign) -> dict[str, Any]:
    """Assign a batch to the free rooms of the sites in the database and book every stay (all
    or nothing: a refusal rolls the batch back with the caller's transaction)."""
    return batch.assign_batch(session, actor=actor, data=data, create_stay=create_stay)
