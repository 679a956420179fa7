"""Isolation services: sites and rooms, stays from the policy pack's plan with their sampling
tasks, release (refused without its negative tests), return transfers, exact occupancy, and the
planning mode that assigns people to rooms from files."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Table, bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fangkong.config import get_settings
from fangkong.core import audit, events
from fangkong.core.auth import Actor, Perm, scope, within
from fangkong.core.clock import utc_now
from fangkong.core.db import insert_many_ids, is_postgres
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
from fangkong.task.schemas import TaskCreate

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


def _lock_rooms(session: Session, room_ids: Iterable[int]) -> None:
    """On PostgreSQL, lock the room rows before anything refers to them (a stay's foreign key
    takes a share lock on it), in id order, so that two officers booking one room wait for
    each other and the second sees the first's booking instead of a deadlock."""
    if is_postgres(session):
        for chunk in _chunks(sorted(set(room_ids))):
            session.execute(select(Room.id).where(Room.id.in_(chunk)).order_by(Room.id)
                            .with_for_update())


def _chunks(items: Sequence[Any], size: int = 900) -> Iterator[list[Any]]:
    for k in range(0, len(items), size):
        yield list(items[k:k + size])


def _book(session: Session, bookings: Sequence[tuple[Stay, Room]]) -> None:
    """Take one bed of each room for every night of its stay, in order (a family room takes
    the household's stays of the batch up to its capacity), or raise Conflict.

    The caller has locked the rooms (:func:`_lock_rooms`); on both databases the unique
    (room, night, slot) constraint refuses a double booking whatever happens."""
    if not bookings:
        return
    first = min(stay.start_date for stay, _ in bookings)
    last = max(stay.planned_end for stay, _ in bookings)
    taken: dict[int, dict[date, list[tuple[int, str | None, int]]]] = defaultdict(dict)
    for chunk in _chunks(sorted({room.id for _, room in bookings})):
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
                    raise Conflict(f"room {room.label} is already booked on {night} (stay "
                                   f"{other_stay})" + ("" if room.family else
                                                       ": a room that is not a family room "
                                                       "holds one person"),
                                   problems=[Problem("already booked", field="room_id")])
        for night in nights:
            used = {slot for slot, _, _ in mine.get(night, [])}
            free = [s for s in range(room.capacity) if s not in used]
            if not free:
                raise Conflict(f"family room {room.label} is full on {night}",
                               problems=[Problem("full", field="room_id")])
            mine.setdefault(night, []).append((free[0], household, stay.id))
            rows.append({"room_id": room.id, "night": night, "slot": free[0],
                         "stay_id": stay.id, "household_ref": household})
    try:
        with session.begin_nested():
            session.execute(insert(RoomNight), rows)
    except IntegrityError:
        labels = sorted({room.label for _, room in bookings})
        raise Conflict(f"room {', '.join(labels[:10])} was booked by someone else at the same "
                       "moment; choose another room", problems=[Problem(
                           "already booked", field="room_id")]) from None


def _due(day: date) -> datetime:
    zone = ZoneInfo(get_settings().timezone)
    return datetime.combine(day, time(23, 59), tzinfo=zone)


def _sampling(session: Session, actor: Actor, plans: Sequence[tuple[Stay, list[date], str]]
              ) -> None:
    """Each stay's sampling days: the test to record and its task (all created at once), the
    task about the test, done when its sample is taken (``stay.sampled``) or its result
    recorded (``stay.tested``), cancelled when the stay moves before it (``stay.moved``)."""
    wanted = [(stay, day, where) for stay, days, where in plans for day in days]
    if not wanted:
        return
    test_ids = insert_many_ids(session, StayTest.__table__, [
        {"stay_id": stay.id, "test_date": day, "task_id": None, "result": SampleResult.pending,
         "recorded_at": None, "sampled_at": None} for stay, day, _ in wanted])
    ids = tasks.create_many(session, actor=actor, data=[TaskCreate(
        type=SAMPLING_TASK, **tasks.titled("sample_stay", stay=stay.id, where=where,
                                           day=day.isoformat()),
        subject_type="iso_stay_test", subject_id=test_id,
        completes_on=["stay.sampled", "stay.tested"],
        cancels_on=["stay.moved"], owning_division_code=stay.division_code, due_at=_due(day),
        pack_id=stay.pack, pack_version=stay.pack_version)
        for (stay, day, where), test_id in zip(wanted, test_ids, strict=True)])
    table = cast(Table, StayTest.__table__)
    session.execute(update(table).where(table.c.id == bindparam("test_id"))
                    .values(task_id=bindparam("task")),
                    [{"test_id": t, "task": k} for t, k in zip(test_ids, ids, strict=True)])


QUARANTINE_SITES = (SiteType.quarantine_hotel, SiteType.health_station)


def _check_kind(kind: StayKind, site: Site) -> None:
    """Infected people (isolation, treatment) never stay in a quarantine site; contacts
    (quarantine) never in a hospital."""
    infected = kind in (StayKind.isolation, StayKind.treatment)
    if infected == (site.type in QUARANTINE_SITES):
        raise Invalid(f"a stay of kind {kind.value} does not belong in a {site.type.value}",
                      problems=[Problem("wrong kind of site", field="site_id")])


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
            raise Invalid(f"no person with ref {d.person_ref} in your jurisdiction",
                          problems=[Problem("unknown", field=f"person_ref{at(k)}")])
    people: dict[int, Person] = {}
    for chunk in _chunks(sorted(set(ids.values()))):
        people.update((p.id, p) for p in session.scalars(select(Person).where(
            Person.id.in_(chunk))))
    sites: dict[int, Site] = {}
    rooms: dict[int, Room] = {}
    wanted = sorted({d.room_id for d in items if d.room_id is not None})
    for chunk in _chunks(wanted):
        rooms.update((r.id, r) for r in session.scalars(select(Room).where(Room.id.in_(chunk))))
    for k, d in enumerate(items):
        if d.site_id is None:
            continue
        if d.site_id not in sites:
            sites[d.site_id] = get_site(session, actor=actor, site_id=d.site_id)
        site = sites[d.site_id]
        if site.status is not SiteStatus.active:
            raise Conflict(f"site {site.code} is {site.status.value}: activate it first")
        room = rooms.get(d.room_id or 0)
        if room is None or room.site_id != site.id:
            raise Invalid(f"room {d.room_id} is not a room of site {site.code}",
                          problems=[Problem("not in this site", field=f"room_id{at(k)}")])
        _check_kind(d.kind, site)
    _lock_rooms(session, wanted)
    plans: dict[tuple[str | None, str, date], Any] = {}
    stays: list[Stay] = []
    tests: list[list[date]] = []
    for k, d in enumerate(items):
        person = people[ids[d.person_ref]]
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
                raise Invalid(f"the pack manages no plan for role {d.role}",
                              problems=[Problem(plan.explanation or "unmanaged",
                                                field=f"role{at(k)}")])
            phase = plan.phases[0]
            start, end = phase.start, phase.end + timedelta(days=1)
            days, pack, pack_version = phase.test_dates, plan.pack, plan.pack_version
        assert start is not None and end is not None
        stays.append(Stay(
            person_id=person.id, site_id=where.id if where else None,
            room_id=d.room_id if where else None, kind=d.kind, status=StayStatus.active,
            role=d.role, anchor=d.anchor, household_ref=d.household_ref or person.household_ref,
            division_code=where.division_code if where else person.division_code,
            start_date=start, planned_end=end, order_ref=d.order_ref, pack=pack,
            pack_version=pack_version, created_by=actor.username, created_at=utc_now()))
        tests.append(list(days))
    session.add_all(stays)
    session.flush()
    _book(session, [(stay, rooms[stay.room_id]) for stay in stays if stay.room_id is not None])
    _sampling(session, actor, [(stay, days, sites[stay.site_id].code if stay.site_id else "home")
                               for stay, days in zip(stays, tests, strict=True)])
    audit.record(session, actor, action="create", record_type="iso_stay",
                 record_ids=[stay.id for stay in stays], fields=STAY_FIELDS)
    return stays


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
    return record_tests(session, actor=actor, results=[(stay_id, test_date, result)])[0]


def _stay_tests(session: Session, actor: Actor, wanted: Sequence[tuple[int, date]]
                ) -> list[StayTest]:
    """The tests of (stay id, test date), in the order given, the stays in the actor's
    jurisdiction (404 otherwise), each test one of the stay's plan (else the dates it has)."""
    stays: set[int] = set()
    tests: dict[tuple[int, date], StayTest] = {}
    for chunk in _chunks(sorted({stay_id for stay_id, _ in wanted})):
        stays.update(session.scalars(scope(select(Stay.id).where(Stay.id.in_(chunk)), actor,
                                           Stay.division_code)))
        tests.update(((t.stay_id, t.test_date), t) for t in session.scalars(
            select(StayTest).where(StayTest.stay_id.in_(chunk))))
    out = []
    for stay_id, test_date in wanted:
        if stay_id not in stays:
            raise NotFound(f"stay {stay_id} not found")
        test = tests.get((stay_id, test_date))
        if test is None:
            dates = sorted(d for s, d in tests if s == stay_id)
            raise Invalid(f"stay {stay_id} has no test on {test_date}", problems=[Problem(
                f"expected one of: {', '.join(str(d) for d in dates)}", field="test_date")])
        out.append(test)
    return out


def record_samples(session: Session, *, actor: Actor, taken: Sequence[tuple[int, date]],
                   at: datetime | None = None) -> list[StayTest]:
    """The samples of (stay id, test date) were taken (at ``at``, default now): each test's
    sampling task is done (``stay.sampled``); the result follows (:func:`record_tests`)."""
    actor.require(Perm.isolation_write)
    found = _stay_tests(session, actor, taken)
    when = at or utc_now()
    for test in found:
        test.sampled_at = when
    session.flush()
    if found:
        events.publish(session, events.Event(
            "stay.sampled", actor=actor, subject_type="iso_stay_test",
            subject_ids=[t.id for t in found],
            reason=f"stay {found[0].stay_id}: sample of {found[0].test_date} taken"
            if len(found) == 1 else f"{len(found)} stay samples taken"))
        audit.record(session, actor, action="update", record_type="iso_stay",
                     record_ids=sorted({t.stay_id for t in found}), fields=["tests"],
                     detail={"sampled": len(found)})
    return found


def record_tests(session: Session, *, actor: Actor,
                 results: Sequence[tuple[int, date, SampleResult]]) -> list[StayTest]:
    """Many (stay id, test date, result) at once (a lab's results for the sites): the same
    checks and records as :func:`record_test` one by one, in the order given, with one audit
    entry; a result ends the test's sampling task (``stay.tested``). All or nothing."""
    actor.require(Perm.isolation_write)
    if not results:
        return []
    out = _stay_tests(session, actor, [(stay_id, day) for stay_id, day, _ in results])
    now = utc_now()
    for test, (_, _, result) in zip(out, results, strict=True):
        test.result, test.recorded_at = result, now
    session.flush()
    done = [(t, r) for t, (_, _, r) in zip(out, results, strict=True)
            if r is not SampleResult.pending]
    if done:
        events.publish(session, events.Event(
            "stay.tested", actor=actor, subject_type="iso_stay_test",
            subject_ids=[t.id for t, _ in done],
            reason=f"stay {done[0][0].stay_id}: test of {done[0][0].test_date} "
            f"{done[0][1].value}" if len(done) == 1 else f"{len(done)} stay test results"))
    audit.record(session, actor, action="update", record_type="iso_stay",
                 record_ids=sorted({stay_id for stay_id, _, _ in results}), fields=["tests"],
                 detail={"test_date": str(results[0][1]), "result": results[0][2].value}
                 if len(results) == 1 else {"results": len(results)})
    return out


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
    events.publish(session, events.Event("stay.released", actor=actor, subject_type="iso_stay",
                                         subject_ids=[stay.id],
                                         reason=f"stay {stay.id} released on {on}"))
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


def stay_pack(stay: Stay) -> policy.Pack:
    """The pack the stay's plan was made under; PackChanged, naming the stay, if that pack's
    version on disk is no longer the stay's."""
    assert stay.pack is not None and stay.pack_version is not None
    return policy.pinned(stay.pack, stay.pack_version, record=f"stay {stay.id}")


def _next_phase(session: Session, actor: Actor, stay: Stay, on: date
                ) -> tuple[Stay | None, Transfer | None]:
    if not stay.role or not stay.pack:
        return None, None
    if stay.anchor is None:
        return None, None
    plan = policy.plan(stay_pack(stay), stay.role, stay.anchor)
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
    _sampling(session, actor, [(nxt, [d for d in phase.test_dates if d >= on], "home")])
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
    _lock_rooms(session, [room.id])
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
    _book(session, [(new, room)])
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
    events.publish(session, events.Event(
        "stay.moved", actor=actor, subject_type="iso_stay_test",
        subject_ids=[t.id for t in tests_of(session, stay.id)
                     if t.result is SampleResult.pending],
        reason=f"stay {stay.id} moved to site {site.code} on {on}"))
    return stay, new, transfer


def assign_and_book(session: Session, *, actor: Actor, data: BatchAssign) -> dict[str, Any]:
    """Assign a batch to the free rooms of the sites in the database and book every stay (all
    or nothing: a refusal rolls the batch back with the caller's transaction)."""
    return batch.assign_batch(session, actor=actor, data=data, create_stays=create_stays)


def pending_tests(session: Session, person_ids: Sequence[int], on: date) -> list[tuple[int, int]]:
    """(stay id, person id) of the active stays of these persons with a test on ``on`` still
    without its result."""
    out: list[tuple[int, int]] = []
    for k in range(0, len(person_ids), 900):
        out += [(s, p) for s, p in session.execute(
            select(Stay.id, Stay.person_id).join(StayTest, StayTest.stay_id == Stay.id)
            .where(Stay.person_id.in_(person_ids[k:k + 900]), Stay.status == StayStatus.active,
                   StayTest.test_date == on, StayTest.result == SampleResult.pending))]
    return out


def site_id(session: Session, code: str) -> int | None:
    return session.scalar(select(Site.id).where(Site.code == code))


def stand_down(session: Session, *, actor: Actor, site_ids: Sequence[int], note: str) -> int:
    """The active sites of ``site_ids`` go to standby (each audited, with ``note``)."""
    actor.require(Perm.isolation_write)
    n = 0
    for site in session.scalars(select(Site).where(
            Site.id.in_(list(site_ids)), Site.status == SiteStatus.active).order_by(Site.id)):
        site.status = SiteStatus.standby
        audit.record(session, actor, action="update", record_type="iso_site",
                     record_ids=[site.id], fields=["status"], note=note)
        n += 1
    session.flush()
    return n
