"""Tracing services: venues; exposures, proposals and contact episodes are in
:mod:`fangkong.tracing.service`. Services never commit."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.core import audit
from fangkong.core.auth import Actor, Perm, scope
from fangkong.core.clock import utc_now
from fangkong.core.errors import Conflict, Invalid, NotFound, Problem
from fangkong.core.messages import CORE
from fangkong.core.tabular import Collector, open_table
from fangkong.geo import service as geo
from fangkong.tracing.enums import VenueType
from fangkong.tracing.messages import T
from fangkong.tracing.models import Venue
from fangkong.tracing.schemas import VenueCreate

VENUE_COLUMNS = ("code", "name", "venue_type", "division_code", "latitude", "longitude",
                 "capacity")


def create_venue(session: Session, *, actor: Actor, data: VenueCreate) -> Venue:
    actor.require(Perm.case_write)
    geo.get(session, data.division_code)
    if not actor.covers(data.division_code):
        raise Invalid(T("venue_outside"), problems=[
            Problem(CORE("outside_jurisdiction"), field="division_code")])
    if session.scalar(select(Venue.id).where(Venue.code == data.code)) is not None:
        raise Conflict(T("venue_exists", code=data.code),
                       problems=[Problem(CORE("already_exists"), field="code")])
    venue = Venue(**data.model_dump(), created_at=utc_now())
    session.add(venue)
    session.flush()
    audit.record(session, actor, action="create", record_type="venue", record_ids=[venue.id])
    return venue


def get_venue(session: Session, *, actor: Actor, venue_id: int) -> Venue:
    actor.require(Perm.case_read)
    venue = session.scalar(scope(select(Venue).where(Venue.id == venue_id), actor,
                                 Venue.division_code))
    if venue is None:
        raise NotFound(T("venue_not_found", id=venue_id))
    return venue


def list_venues(session: Session, *, actor: Actor, division: str | None = None,
                limit: int = 100) -> list[Venue]:
    actor.require(Perm.case_read)
    stmt = scope(select(Venue), actor, Venue.division_code)
    if division:
        stmt = stmt.where(Venue.division_code.startswith(division))
    return list(session.scalars(stmt.order_by(Venue.id).limit(limit)))


def import_venues(session: Session, *, actor: Actor, source: Any, filename: str | None,
                  max_bytes: int, max_errors: int) -> dict[str, int]:
    """Venues from CSV or XLSX (columns :data:`VENUE_COLUMNS`); atomic; a code already
    registered with the same values is skipped, with other values it is a problem."""
    actor.require(Perm.case_write)
    table = open_table(source, filename=filename, expected=VENUE_COLUMNS,
                       required=("code", "name", "venue_type", "division_code"),
                       max_bytes=max_bytes)
    errors = Collector(table.filename, max_errors)
    rows: list[tuple[int, VenueCreate]] = []
    for line, raw in errors.rows(table):
        values = {k: (v if v not in ("", None) else None) for k, v in raw.items()}
        try:
            rows.append((line, VenueCreate.model_validate(values)))
        except ValidationError as exc:
            errors.add(line, [Problem(str(e["msg"]), field=".".join(map(str, e["loc"])))
                              for e in exc.errors()])
    known_div = geo.exists(session, {v.division_code for _, v in rows})
    existing = {v.code: v for v in session.scalars(
        select(Venue).where(Venue.code.in_([v.code for _, v in rows])))}
    seen: dict[str, int] = {}
    new: list[VenueCreate] = []
    for line, v in rows:
        problems = []
        if v.division_code not in known_div:
            problems.append(Problem(T("unknown_division", code=v.division_code),
                                    field="division_code"))
        elif not actor.covers(v.division_code):
            problems.append(Problem(CORE("outside_jurisdiction"), field="division_code"))
        if v.code in seen:
            problems.append(Problem(T("duplicate_line", line=seen[v.code]), field="code"))
        seen.setdefault(v.code, line)
        old = existing.get(v.code)
        if old is not None and any(getattr(old, k) != getattr(v, k) for k in VENUE_COLUMNS):
            problems.append(Problem(T("registered_other"), field="code"))
        errors.add(line, problems)
        if not problems and old is None:
            new.append(v)
    errors.check()
    now = utc_now()
    venues = [Venue(**v.model_dump(), created_at=now) for v in new]
    session.add_all(venues)
    session.flush()
    audit.record(session, actor, action="import", record_type="venue",
                 record_ids=[v.id for v in venues], detail={"file": table.filename})
    return {"rows": len(rows), "created": len(venues), "unchanged": len(rows) - len(venues)}


def venue_types() -> list[dict[str, Any]]:
    from fangkong.tracing.enums import LABELS

    return [{"type": t.value, "default_dwell_minutes": t.default_dwell_minutes,
             "label": LABELS[t.value]} for t in VenueType]


def venue_ids(session: Session, prefix: str) -> dict[str, int]:
    """The id of each venue whose code starts with ``prefix``, by code."""
    return dict(session.execute(select(Venue.code, Venue.id).where(
        Venue.code.like(f"{prefix}%"))).all())
