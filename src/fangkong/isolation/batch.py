"""Assign a batch of people to the free rooms of the sites in the database (the solver of
``assign``), and book every stay in the same transaction: all or nothing."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.core.auth import Actor, Perm, scope, within
from fangkong.core.errors import Invalid, Problem
from fangkong.isolation import planning, solver
from fangkong.isolation.enums import MedicalLevel, SiteStatus, SiteType, StayKind
from fangkong.isolation.messages import ISO
from fangkong.isolation.models import Room, RoomNight, Site
from fangkong.isolation.planning import PlanPerson, PlanSite
from fangkong.isolation.schemas import (
    AssignmentPlan,
    BatchAssign,
    BatchPerson,
    BatchResult,
    Placement,
    StayCreate,
)
from fangkong.policy import service as policy

CASE_KIND = {"case_asymptomatic": StayKind.isolation, "case_mild": StayKind.isolation,
             "case_moderate": StayKind.treatment, "case_severe": StayKind.treatment,
             "case_critical": StayKind.treatment}


def _period(data: BatchAssign) -> tuple[date, date]:
    """The nights any stay of the batch may need (free rooms are free for all of them)."""
    starts, ends = [], []
    contacts = {p.role.value for p in data.people if p.role.value not in CASE_KIND}
    for role in contacts:
        if data.anchor is None:
            raise Invalid(ISO("anchor_needed"),
                          problems=[Problem(ISO("for_contacts"), field="anchor")])
        plan = policy.plan(data.pack, role, data.anchor)
        if plan.phases:
            starts.append(plan.phases[0].start)
            ends.append(plan.phases[0].end + timedelta(days=1))
    if any(p.role.value in CASE_KIND for p in data.people):
        if data.start_date is None or data.planned_end is None:
            raise Invalid(ISO("case_dates"),
                          problems=[Problem(ISO("for_cases"), field="planned_end")])
        if data.planned_end <= data.start_date:
            raise Invalid(ISO("end_after_start"),
                          problems=[Problem(ISO("not_after_start"), field="planned_end")])
        starts.append(data.start_date)
        ends.append(data.planned_end)
    if not starts:
        raise Invalid(ISO("nobody"))
    return min(starts), max(ends)


def _free_rooms(session: Session, actor: Actor, division: str | None, start: date,
                end: date) -> tuple[list[Site], list[list[list[int]]], list[int]]:
    stmt = scope(select(Site).where(Site.status == SiteStatus.active, Site.lon.is_not(None),
                                    Site.lat.is_not(None), Site.type != SiteType.home),
                 actor, Site.division_code)
    if division:
        stmt = stmt.where(within(Site.division_code, division))
    sites = list(session.scalars(stmt.order_by(Site.id)))
    busy = set(session.scalars(select(RoomNight.room_id).where(
        RoomNight.night >= start, RoomNight.night < end).distinct()))
    by_site: dict[int, list[Any]] = defaultdict(list)
    for start_at in range(0, len(sites), 900):  # columns only: many rooms, read every time
        ids = [s.id for s in sites[start_at : start_at + 900]]
        for room in session.execute(select(Room.id, Room.site_id, Room.label, Room.family,
                                           Room.accessible, Room.capacity)
                                    .where(Room.site_id.in_(ids))):
            if room.id not in busy:
                by_site[room.site_id].append(room)
    classes, capacity = [], []
    for site in sites:
        rooms = sorted(by_site[site.id], key=lambda r: r.label, reverse=True)
        split: list[list[int]] = [[], [], [], []]
        for r in rooms:
            split[(solver.ACCFAM if r.accessible else solver.FAM) if r.family
                  else (solver.ACC if r.accessible else solver.ANY)].append(r.id)
        classes.append(split)
        # every family room of a site is taken to hold the smallest of them
        capacity.append(min((r.capacity for r in rooms if r.family), default=1))
    return sites, classes, capacity


@dataclass(frozen=True)
class FreeRoom:
    id: int
    label: str
    family: bool
    accessible: bool


@dataclass(frozen=True)
class BatchPlan:
    """A batch's assignment before anything is booked: the solver's plan, the stays it would
    book, and the free rooms of the batch's nights by site (what a person may change by hand)."""

    plan: AssignmentPlan
    stays: list[StayCreate]
    sites: list[tuple[Site, list[FreeRoom]]]


def batch_people(source: bytes, filename: str | None = None) -> list[BatchPerson]:
    """A batch's people from a planning file (the ``assign`` people file: CSV or XLSX), every
    bad cell reported by file, line and field."""
    return [BatchPerson(person_ref=p.ref, household_ref=None if p.household.startswith("\0")
                        else p.household, role=p.role, needs=sorted(p.needs), lon=p.lon,
                        lat=p.lat, case_ref=p.case_ref or None)
            for p in planning.read_people(source, filename)]


def stays_for(data: BatchAssign, placements: list[Placement], pack_id: str) -> list[StayCreate]:
    """The stays that book ``placements`` (site ``"home"``: a home stay) for the people of
    ``data``: contacts follow the pack's plan from the anchor, cases stay from the start date
    to the planned end."""
    by_ref = {p.person_ref: p for p in data.people}
    wanted: list[StayCreate] = []
    for k, row in enumerate(placements):
        person = by_ref.get(row.person_ref)
        if person is None:
            raise Invalid(ISO("no_person", ref=row.person_ref),
                          problems=[Problem(ISO("unknown"), field=f"person_ref[{k}]")])
        case = CASE_KIND.get(person.role.value)
        home = row.site_id == "home"
        if not home and not row.site_id.isdigit():
            raise Invalid(ISO("room_not_of_site", room=row.room, site=row.site_id),
                          problems=[Problem(ISO("not_in_site"), field=f"room_id[{k}]")])
        fields: dict[str, Any] = {
            "person_ref": person.person_ref, "kind": case or StayKind.quarantine,
            "site_id": None if home else int(row.site_id),
            "room_id": None if home else row.room,
            "household_ref": person.household_ref, "pack": pack_id}
        if case is None:
            fields |= {"role": person.role.value, "anchor": data.anchor}
        else:
            fields |= {"start_date": data.start_date, "planned_end": data.planned_end}
        wanted.append(StayCreate.model_validate(fields))
    return wanted


def plan_batch(session: Session, *, actor: Actor, data: BatchAssign) -> BatchPlan:
    """Solve a batch over the free rooms of the active sites in the actor's jurisdiction
    (every hard rule, the least total travel); nothing is written."""
    actor.require(Perm.isolation_write)
    pack, rules = policy.isolation_rules(data.pack)
    start, end = _period(data)
    sites, classes, capacity = _free_rooms(session, actor, data.division, start, end)
    plan_sites = [PlanSite(site_id=str(s.id), type=s.type, lon=float(s.lon or 0),
                           lat=float(s.lat or 0), rooms=sum(len(c) for c in cls),
                           room_capacity=cap, family_rooms=len(cls[2]) + len(cls[3]),
                           accessible_rooms=len(cls[1]) + len(cls[3]),
                           medical_level=s.medical_level or MedicalLevel.none, line=0)
                  for s, cls, cap in zip(sites, classes, capacity, strict=True)]
    people = [PlanPerson(ref=p.person_ref, household=p.household_ref or f"\0{p.person_ref}",
                         role=p.role, needs=frozenset(p.needs), lon=p.lon, lat=p.lat,
                         case_ref=p.case_ref or "", line=k + 1)
              for k, p in enumerate(data.people)]
    refs = [p.ref for p in people]
    if len(set(refs)) != len(refs):
        raise Invalid(ISO("person_twice"), problems=[Problem(
            ISO("duplicate"), field="people")])
    free_ids = [[r for c in cls for r in c] for cls in classes]  # the solver takes from them
    plan = solver.assign(people, plan_sites, rules, classes)
    labels = _room_labels(session, [r for ids in free_ids for r in ids])
    free = [(s, sorted((labels[r] for r in ids), key=lambda r: (r.label, r.id)))
            for s, ids in zip(sites, free_ids, strict=True)]
    return BatchPlan(plan=plan, stays=stays_for(data, list(plan.assignments), pack.id),
                     sites=free)


def _room_labels(session: Session, room_ids: list[int]) -> dict[int, FreeRoom]:
    out: dict[int, FreeRoom] = {}
    for k in range(0, len(room_ids), 900):
        out.update((r.id, FreeRoom(r.id, r.label, r.family, r.accessible))
                   for r in session.execute(select(Room.id, Room.label, Room.family,
                                                   Room.accessible)
                                            .where(Room.id.in_(room_ids[k:k + 900]))))
    return out


def book_plan(session: Session, *, actor: Actor, data: BatchAssign, placements: list[Placement],
              create_stays: Any) -> dict[str, int]:
    """Book ``placements`` as a person chose them (the solver's plan, changed by hand): every
    stay with ``create_stays`` (the same checks as one by one: the room free on every night,
    of the site, the site's type fit for the stay); all or nothing."""
    actor.require(Perm.isolation_write)
    pack, _ = policy.isolation_rules(data.pack)
    _period(data)
    wanted = stays_for(data, placements, pack.id)
    if not wanted:
        raise Invalid(ISO("nobody"))
    made = create_stays(session, actor=actor, data=wanted)
    return {d.person_ref: stay.id for d, stay in zip(wanted, made, strict=True)}


def assign_batch(session: Session, *, actor: Actor, data: BatchAssign,
                 create_stays: Any) -> BatchResult:
    """Solve, then book every placed person at once with ``create_stays`` (the service's,
    passed in to keep the layers apart); any refusal rolls the whole batch back with the
    caller's transaction."""
    planned = plan_batch(session, actor=actor, data=data)
    made = create_stays(session, actor=actor, data=planned.stays)
    return BatchResult(**dict(planned.plan), stays={
        d.person_ref: stay.id for d, stay in zip(planned.stays, made, strict=True)})
