"""Isolation sites and their rooms: registering a site, finding and listing sites in a
jurisdiction, the rooms of a site, the reserve planning per county and the exact occupancy per
night (read from the room nights that also forbid double booking)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fangkong.core import audit
from fangkong.core.auth import Actor, Perm, scope, within
from fangkong.core.clock import utc_now
from fangkong.core.config import get_settings
from fangkong.core.errors import Conflict, Invalid, NotFound, Problem
from fangkong.core.messages import CORE
from fangkong.geo import service as geo
from fangkong.isolation.enums import (
    SiteStatus,
    SiteType,
)
from fangkong.isolation.messages import ISO
from fangkong.isolation.models import Room, RoomNight, Site
from fangkong.isolation.schemas import (
    OccupancyDay,
    ReserveRow,
    SiteCreate,
)


def create_site(session: Session, *, actor: Actor, data: SiteCreate) -> Site:
    actor.require(Perm.isolation_write)
    geo.get(session, data.division_code)
    if not actor.covers(data.division_code):
        raise Invalid(ISO("site_outside"), problems=[
            Problem(CORE("outside_jurisdiction"), field="division_code")])
    if session.scalar(select(Site.id).where(Site.code == data.code)) is not None:
        raise Conflict(ISO("site_exists", code=data.code),
                       problems=[Problem(CORE("already_exists"), field="code")])
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
        raise NotFound(ISO("site_not_found", id=site_id))
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
        raise Invalid(ISO("range"))
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
