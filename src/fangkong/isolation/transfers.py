"""Transfers in operation: vehicles, admission requests, dispatch in batches (cases and contacts
never in one vehicle), arrival; the clocks that matter; hospital beds by level."""

from __future__ import annotations

import statistics
import uuid
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import date, datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from fangkong.core import audit, events
from fangkong.core.auth import Actor, Perm, scope, within
from fangkong.core.clock import utc_now
from fangkong.core.db import is_postgres
from fangkong.core.errors import Conflict, Invalid, NotFound, Problem
from fangkong.core.messages import CORE, joined
from fangkong.geo import service as geo
from fangkong.isolation.enums import (
    MedicalLevel,
    PassengerClass,
    SiteType,
    TransferKind,
    TransferStatus,
    VehicleKind,
)
from fangkong.isolation.messages import ISO, label
from fangkong.isolation.models import Room, RoomNight, Site, Transfer, Vehicle
from fangkong.isolation.schemas import (
    BedsRow,
    ClockRow,
    ClockSummary,
    TransferCreate,
    VehicleCreate,
)
from fangkong.person import service as persons

CARRIES: dict[VehicleKind, PassengerClass] = {
    VehicleKind.bus: PassengerClass.contact,
    VehicleKind.ambulance: PassengerClass.case,
    VehicleKind.negative_pressure_ambulance: PassengerClass.case,
}
HOSPITALS = (SiteType.shelter_hospital, SiteType.designated_hospital,
             SiteType.sub_designated_hospital)
QUARANTINE = (SiteType.quarantine_hotel, SiteType.health_station)
CLOCK_HOURS = 24
TRANSFER_FIELDS = ["person_id", "kind", "status", "from_site_id", "to_site_id", "vehicle_id",
                   "clock_start", "dispatched_at", "arrived_at"]


def create_vehicle(session: Session, *, actor: Actor, data: VehicleCreate) -> Vehicle:
    actor.require(Perm.isolation_write)
    geo.get(session, data.division_code)
    if not actor.covers(data.division_code):
        raise Invalid(ISO("vehicle_outside"),
                      problems=[Problem(CORE("outside_jurisdiction"), field="division_code")])
    if session.scalar(select(Vehicle.id).where(Vehicle.code == data.code)) is not None:
        raise Conflict(ISO("vehicle_exists", code=data.code),
                       problems=[Problem(CORE("already_exists"), field="code")])
    vehicle = Vehicle(**data.model_dump(), in_service=True, created_at=utc_now())
    session.add(vehicle)
    session.flush()
    audit.record(session, actor, action="create", record_type="iso_vehicle",
                 record_ids=[vehicle.id], fields=["code", "kind", "capacity"])
    return vehicle


def request(session: Session, *, actor: Actor, data: TransferCreate) -> Transfer:
    """An admission transfer to a site: its clock starts at the positive result (a case) or at
    the identification (a contact). The destination must suit the passenger."""
    return request_many(session, actor=actor, data=[data])[0]


def request_many(session: Session, *, actor: Actor, data: Sequence[TransferCreate]
                 ) -> list[Transfer]:
    """Many admission transfers at once (a day's moves to a site): the same checks and records
    as :func:`request` one by one, in the order given, with one audit entry. All or nothing:
    a bad item refuses the batch (its problems name the item)."""
    actor.require(Perm.isolation_write)
    items = list(data)
    if not items:
        return []
    at = (lambda k: "") if len(items) == 1 else (lambda k: f"[{k}]")
    ids = persons.ids_by_ref(session, actor=actor, refs={d.person_ref for d in items})
    sites: dict[int, Site | None] = {}
    for k, d in enumerate(items):
        if d.person_ref not in ids:
            raise Invalid(ISO("no_person", ref=d.person_ref),
                          problems=[Problem(ISO("unknown"), field=f"person_ref{at(k)}")])
        if d.to_site_id not in sites:
            sites[d.to_site_id] = session.scalar(scope(select(Site).where(
                Site.id == d.to_site_id), actor, Site.division_code))
        site = sites[d.to_site_id]
        if site is None:
            raise NotFound(ISO("site_not_found", id=d.to_site_id))
        allowed = HOSPITALS if d.passenger_class is PassengerClass.case else QUARANTINE
        if site.type not in allowed:
            raise Invalid(ISO("not_taken_to", passenger=label(d.passenger_class),
                              site=label(site.type)),
                          problems=[Problem(ISO("expected_one_of", values=joined(allowed)),
                                            field=f"to_site_id{at(k)}")])
    now = utc_now()
    made = []
    for d in items:
        site = sites[d.to_site_id]
        assert site is not None
        made.append(Transfer(person_id=ids[d.person_ref], kind=TransferKind.admission,
                             status=TransferStatus.planned, from_site_id=None,
                             to_site_id=site.id, division_code=site.division_code,
                             passenger_class=d.passenger_class, clock_start=d.clock_start,
                             planned_on=d.clock_start.date(), created_by=actor.username,
                             created_at=now))
    session.add_all(made)
    session.flush()
    audit.record(session, actor, action="create", record_type="iso_transfer",
                 record_ids=[t.id for t in made], fields=TRANSFER_FIELDS)
    return made


def _transfer(session: Session, actor: Actor, transfer_id: int) -> Transfer:
    found = session.scalar(scope(select(Transfer).where(Transfer.id == transfer_id), actor,
                                 Transfer.division_code))
    if found is None:
        raise NotFound(ISO("transfer_not_found", id=transfer_id))
    return found


def dispatch(session: Session, *, actor: Actor, vehicle_id: int, transfer_ids: list[int],
             at: datetime) -> list[Transfer]:
    """Put planned transfers on a vehicle as one batch. Refused (409) if the vehicle's kind does
    not carry that class of passenger, if it already carries the other class, or if it would
    be over capacity."""
    actor.require(Perm.isolation_write)
    if not transfer_ids:
        raise Invalid(ISO("give_transfer"))
    query = select(Vehicle).where(Vehicle.id == vehicle_id)
    if is_postgres(session):
        query = query.with_for_update()  # two dispatchers of one vehicle wait for each other
    vehicle = session.scalar(scope(query, actor, Vehicle.division_code))
    if vehicle is None or not vehicle.in_service:
        raise NotFound(ISO("vehicle_not_found", id=vehicle_id))
    batch = [_transfer(session, actor, t) for t in dict.fromkeys(transfer_ids)]
    aboard = list(session.scalars(select(Transfer).where(
        Transfer.vehicle_id == vehicle.id, Transfer.status == TransferStatus.dispatched)))
    problems = [Problem(ISO("transfer_is", id=t.id, status=label(t.status)), field="transfer_ids")
                for t in batch if t.status is not TransferStatus.planned]
    carries = CARRIES[vehicle.kind]
    problems += [Problem(ISO("carries_only", id=t.id, passenger=label(t.passenger_class),
                             vehicle=label(vehicle.kind), carries=label(carries)),
                         field="transfer_ids")
                 for t in batch if t.passenger_class is not carries]
    classes = {t.passenger_class for t in batch + aboard}
    if len(classes) > 1:
        problems.append(Problem(ISO("never_share"),
                                field="transfer_ids"))
    if len(batch) + len(aboard) > vehicle.capacity:
        problems.append(Problem(ISO("over_capacity", aboard=len(aboard), batch=len(batch),
                                    capacity=vehicle.capacity), field="transfer_ids"))
    if problems:
        raise Conflict(ISO("cannot_take", code=vehicle.code), problems=problems)
    ref = uuid.uuid4().hex[:12]
    for t in batch:
        t.status, t.vehicle_id, t.dispatched_at, t.batch_ref = (TransferStatus.dispatched,
                                                               vehicle.id, at, ref)
    session.flush()
    audit.record(session, actor, action="update", record_type="iso_transfer",
                 record_ids=[t.id for t in batch], fields=["status", "vehicle_id"],
                 detail={"batch": ref})
    return batch


def arrive(session: Session, *, actor: Actor, transfer_id: int, at: datetime) -> Transfer:
    return arrive_many(session, actor=actor, arrivals=[(transfer_id, at)])[0]


def arrive_many(session: Session, *, actor: Actor, arrivals: Sequence[tuple[int, datetime]]
                ) -> list[Transfer]:
    """Many transfers arrived (a vehicle's load, each at its time): the same checks and
    records as :func:`arrive` one by one, with one audit entry; all or nothing."""
    actor.require(Perm.isolation_write)
    if not arrivals:
        return []
    counts = Counter(t for t, _ in arrivals)
    twice = sorted(t for t, n in counts.items() if n > 1)
    if twice:
        raise Invalid(ISO("arrives_once"), problems=[
            Problem(ISO("given_twice", id=t), field="arrivals")
            for t in twice[:50]])
    wanted = sorted(counts)
    found: dict[int, Transfer] = {}
    for k in range(0, len(wanted), 900):
        found.update((t.id, t) for t in session.scalars(scope(select(Transfer).where(
            Transfer.id.in_(wanted[k:k + 900])), actor, Transfer.division_code)))
    for transfer_id, at in arrivals:
        transfer = found.get(transfer_id)
        if transfer is None:
            raise NotFound(ISO("transfer_not_found", id=transfer_id))
        if transfer.status is not TransferStatus.dispatched:
            raise Conflict(ISO("not_dispatched", id=transfer.id, status=label(transfer.status)))
        if transfer.dispatched_at and at < transfer.dispatched_at:
            raise Invalid(ISO("arrival_before"), problems=[Problem(ISO("before_dispatch"),
                                                                  field="at")])
    for transfer_id, at in arrivals:
        found[transfer_id].status, found[transfer_id].arrived_at = TransferStatus.arrived, at
    session.flush()
    audit.record(session, actor, action="update", record_type="iso_transfer",
                 record_ids=[t for t, _ in arrivals], fields=["status", "arrived_at"])
    came = [found[t] for t, _ in arrivals]
    contacts = [t for t in came if t.kind is TransferKind.admission
                and t.passenger_class is PassengerClass.contact]
    events.publish(session, events.Event(
        "transfer.arrived", actor=actor, subject_type="iso_transfer",
        subject_ids=[t.id for t in came],
        reason=f"transfer {came[0].id} arrived" if len(came) == 1
        else f"{len(came)} transfers arrived",
        detail={"contact_person_ids": [t.person_id for t in contacts]}))
    return came


def clocks(session: Session, *, actor: Actor, now: datetime, division: str | None = None,
           since: datetime | None = None) -> list[ClockSummary]:
    """Hours from a positive result to arrival at a hospital or shelter hospital (cases), and
    from identification to arrival at a quarantine site (contacts), per class and county:
    median, 90th percentile, the share done within 24 hours (of those whose 24 hours are over
    or who arrived), and how many still wait."""
    actor.require(Perm.isolation_read)
    # the five columns the clocks need, not whole transfers (the overview's cost was loading
    # every transfer of the last 14 days as an ORM object)
    stmt = scope(select(Transfer.id, Transfer.passenger_class, Transfer.division_code,
                        Transfer.clock_start, Transfer.arrived_at).where(
        Transfer.kind == TransferKind.admission, Transfer.clock_start.is_not(None),
        Transfer.status != TransferStatus.cancelled), actor, Transfer.division_code)
    if division:
        stmt = stmt.where(within(Transfer.division_code, division))
    if since:
        stmt = stmt.where(Transfer.clock_start >= since)
    groups: dict[tuple[PassengerClass, str], list[tuple[datetime, datetime | None]]] = (
        defaultdict(list))
    ids = []
    for transfer_id, klass, code, start, arrived in session.execute(stmt):
        assert start is not None  # selected with a clock start only
        ids.append(transfer_id)
        groups[(klass, code[:6])].append((start, arrived))
    out = []
    limit = timedelta(hours=CLOCK_HOURS)
    for (klass, county), items in sorted(groups.items()):
        took = [arrived - start for start, arrived in items if arrived]
        hours = [t.total_seconds() / 3600 for t in took]
        due = sum(1 for start, arrived in items if arrived or now - start >= limit)
        done = sum(1 for t in took if t <= limit)
        out.append(ClockSummary(
            passenger_class=klass, county=county, transfers=len(items), arrived=len(hours),
            waiting=len(items) - len(hours),
            median_hours=round(statistics.median(hours), 2) if hours else None,
            p90_hours=round(sorted(hours)[max(0, -(-len(hours) * 9 // 10) - 1)], 2)
            if hours else None,
            within_24h_share=round(done / due, 4) if due else None))
    if ids:
        audit.record(session, actor, action="read", record_type="iso_transfer",
                     record_ids=ids, fields=["clock_start", "arrived_at"])
    return out


def of_person(session: Session, *, actor: Actor, person_id: int
              ) -> list[tuple[Transfer, str | None, str | None]]:
    """A person's transfers in the actor's jurisdiction, oldest first, each with the names of
    the sites it leaves and goes to (None: home, or not a site)."""
    actor.require(Perm.isolation_read)
    rows = list(session.scalars(scope(select(Transfer).where(Transfer.person_id == person_id),
                                      actor, Transfer.division_code)
                                .order_by(Transfer.created_at, Transfer.id)))
    ids = {i for t in rows for i in (t.from_site_id, t.to_site_id) if i is not None}
    names = dict(session.execute(select(Site.id, Site.name).where(Site.id.in_(ids))
                                 ).tuples().all()) if ids else {}
    if rows:
        audit.record(session, actor, action="read", record_type="iso_transfer",
                     record_ids=[t.id for t in rows], fields=TRANSFER_FIELDS)
    return [(t, names.get(t.from_site_id) if t.from_site_id else None,
             names.get(t.to_site_id) if t.to_site_id else None) for t in rows]


def person_clocks(session: Session, *, actor: Actor, now: datetime,
                  division: str | None = None) -> list[ClockRow]:
    """The clock of each admission transfer: hours so far (waiting) or to arrival."""
    actor.require(Perm.isolation_read)
    stmt = scope(select(Transfer).where(Transfer.kind == TransferKind.admission,
                                        Transfer.clock_start.is_not(None)),
                 actor, Transfer.division_code)
    if division:
        stmt = stmt.where(within(Transfer.division_code, division))
    rows = list(session.scalars(stmt.order_by(Transfer.clock_start)))
    out = []
    for t in rows:
        assert t.clock_start is not None
        end = t.arrived_at or now
        out.append(ClockRow(transfer_id=t.id, person_id=t.person_id,
                            passenger_class=t.passenger_class, status=t.status,
                            hours=round((end - t.clock_start).total_seconds() / 3600, 2),
                            over_24h=end - t.clock_start > timedelta(hours=CLOCK_HOURS)))
    if rows:
        audit.record(session, actor, action="read", record_type="iso_transfer",
                     record_ids=[t.id for t in rows], fields=["person_id", "clock_start"])
    return out


def beds(session: Session, *, actor: Actor, on: date, division: str | None = None
         ) -> list[BedsRow]:
    """Hospital beds by level (general, ICU) per site: total and occupied on a night."""
    actor.require(Perm.isolation_read)
    stmt = scope(select(Site.id, Site.code, Site.type, Room.bed_level,
                        func.sum(Room.capacity)).join(Room, Room.site_id == Site.id)
                 .where(Site.type.in_(HOSPITALS))
                 .group_by(Site.id, Site.code, Site.type, Room.bed_level),
                 actor, Site.division_code)
    if division:
        stmt = stmt.where(within(Site.division_code, division))
    totals = session.execute(stmt).all()
    used = dict(((site_id, level), n) for site_id, level, n in session.execute(
        select(Room.site_id, Room.bed_level, func.count(RoomNight.id))
        .join(RoomNight, RoomNight.room_id == Room.id).where(RoomNight.night == on)
        .group_by(Room.site_id, Room.bed_level)))
    return [BedsRow(site_id=site_id, site_code=code, site_type=kind, level=level,
                    beds=int(total), occupied=int(used.get((site_id, level), 0)))
            for site_id, code, kind, level, total in totals
            if level in (MedicalLevel.general, MedicalLevel.icu)]


def open_transfers(session: Session, *, actor: Actor, limit: int = 500) -> list[Transfer]:
    """The transfers of the actor's jurisdiction still to close: planned (waiting for a
    vehicle) then dispatched (on the road), each oldest clock first."""
    actor.require(Perm.isolation_read)
    order = case((Transfer.status == TransferStatus.planned, 0), else_=1)
    return list(session.scalars(scope(select(Transfer).where(Transfer.status.in_(
        (TransferStatus.planned, TransferStatus.dispatched))), actor, Transfer.division_code)
        .order_by(order, Transfer.clock_start, Transfer.id).limit(limit)))


def vehicles(session: Session, *, actor: Actor) -> list[Vehicle]:
    """The vehicles in service in the actor's jurisdiction, by code."""
    actor.require(Perm.isolation_read)
    return list(session.scalars(scope(select(Vehicle).where(Vehicle.in_service.is_(True)),
                                      actor, Vehicle.division_code).order_by(Vehicle.code)))


def get_transfer(session: Session, *, actor: Actor, transfer_id: int) -> Transfer:
    """A transfer of the actor's jurisdiction (404 otherwise, as for one that does not
    exist)."""
    actor.require(Perm.isolation_read)
    return _transfer(session, actor, transfer_id)
