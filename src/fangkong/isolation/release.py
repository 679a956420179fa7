"""How a stay ends: released when its period is over and every required test is negative (the
plan's next phase at home, with a return transfer), proposed for release, or moved to another
facility (an inter-facility transfer, the tests left cancelled)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.core import audit, events
from fangkong.core.auth import Actor, Perm, scope, within
from fangkong.core.clock import utc_now
from fangkong.core.errors import Conflict, Invalid, Problem
from fangkong.core.messages import Day, joined
from fangkong.isolation import sampling, sites, stays
from fangkong.isolation.enums import (
    PassengerClass,
    SampleResult,
    SiteStatus,
    StayKind,
    StayStatus,
    TransferKind,
)
from fangkong.isolation.enums import TransferStatus as TStatus
from fangkong.isolation.messages import ISO, label
from fangkong.isolation.models import Room, RoomNight, Stay, StayTest, Transfer
from fangkong.isolation.schemas import (
    ReleaseProposal,
)
from fangkong.person import service as persons
from fangkong.policy import service as policy


def release(session: Session, *, actor: Actor, stay_id: int, on: date
            ) -> tuple[Stay, Stay | None, Transfer | None]:
    """Release a stay: only when its period is over and every required test is negative.
    A plan with a next phase gets its next stay (at home) and a point-to-point return
    transfer."""
    actor.require(Perm.isolation_write)
    stay = stays.get_stay(session, actor=actor, stay_id=stay_id, audit_read=False)
    if stay.status is StayStatus.released:
        raise Conflict(ISO("already_released", id=stay.id,
                           on=stay.actual_end and Day(stay.actual_end)))
    if on < stay.planned_end:
        raise Conflict(ISO("runs_until", id=stay.id, end=Day(stay.planned_end), on=Day(on)),
                       problems=[Problem(ISO("before_end"), field="on")])
    missing = [t for t in sampling.tests_of(session, stay.id)
               if t.result is not SampleResult.negative]
    if missing:
        raise Conflict(
            ISO("release_refused", count=len(missing), tests=joined(
                ISO("test_result", day=Day(t.test_date), result=label(t.result))
                for t in missing)),
            problems=[Problem(ISO("test_is", day=Day(t.test_date), result=label(t.result)),
                              field="tests") for t in missing])
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


def end_stays(session: Session, *, actor: Actor, person_ids: Sequence[int], on: date,
              note: str) -> list[int]:
    """End the active stays of these persons on ``on`` (or on their first day, when later)
    without the release checks: the stays of an earlier drill, when another starts in the same
    database. Their room nights from that day are freed, ``stay.released`` ends the tasks
    about the stays and ``stay.ended`` the sampling tasks of their tests still to take; one
    audit entry with ``note``. Returns their ids."""
    actor.require(Perm.isolation_write)
    found: list[Stay] = []
    for chunk in stays.chunks(sorted(set(person_ids))):
        found += session.scalars(select(Stay).where(
            Stay.person_id.in_(chunk), Stay.status == StayStatus.active)).all()
    found.sort(key=lambda s: s.id)
    now = utc_now()
    for stay in found:
        end = max(on, stay.start_date)
        stay.status, stay.actual_end, stay.released_at = StayStatus.released, end, now
        if stay.room_id is not None:
            for row in session.scalars(select(RoomNight).where(RoomNight.stay_id == stay.id,
                                                               RoomNight.night >= end)):
                session.delete(row)
    session.flush()
    if found:
        ids = [s.id for s in found]
        audit.record(session, actor, action="update", record_type="iso_stay", record_ids=ids,
                     fields=["status", "actual_end"], note=note)
        events.publish(session, events.Event("stay.released", actor=actor,
                                             subject_type="iso_stay", subject_ids=ids,
                                             reason=note))
        pending = session.scalars(select(StayTest.id).where(
            StayTest.stay_id.in_(ids), StayTest.result == SampleResult.pending)).all()
        events.publish(session, events.Event("stay.ended", actor=actor,
                                             subject_type="iso_stay_test",
                                             subject_ids=list(pending), reason=note))
    return [s.id for s in found]


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
    home = persons.divisions_of(session, {stay.person_id})[stay.person_id]
    nxt = Stay(person_id=stay.person_id, site_id=None, room_id=None,
               kind=StayKind.home_health_monitoring if "monitoring" in phase.kind.value
               else StayKind.quarantine, status=StayStatus.active, role=stay.role,
               anchor=stay.anchor,
               household_ref=stay.household_ref, division_code=home,
               start_date=max(on, phase.start), planned_end=phase.end + timedelta(days=1),
               order_ref=stay.order_ref, pack=stay.pack, pack_version=stay.pack_version,
               previous_stay_id=stay.id, created_by=actor.username, created_at=utc_now())
    session.add(nxt)
    session.flush()
    sampling.plan_tests(session, actor, [(nxt, [d for d in phase.test_dates if d >= on], "home")])
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
    stay = stays.get_stay(session, actor=actor, stay_id=stay_id, audit_read=False)
    if stay.status is not StayStatus.active:
        raise Conflict(ISO("stay_is", id=stay.id, status=label(stay.status)))
    if not stay.start_date <= on:
        raise Invalid(ISO("move_before_start"), problems=[Problem(
            ISO("expected_from", day=Day(stay.start_date)), field="on")])
    site = sites.get_site(session, actor=actor, site_id=to_site_id)
    room = session.get(Room, to_room_id)
    if room is None or room.site_id != site.id:
        raise Invalid(ISO("room_not_of_site", room=to_room_id, site=site.code),
                      problems=[Problem(ISO("not_in_site"), field="to_room_id")])
    if site.status is not SiteStatus.active:
        raise Conflict(ISO("site_inactive", site=site.code, status=label(site.status)))
    stays.check_kind(kind, site)
    stays.lock_rooms(session, [room.id])
    end = planned_end or max(stay.planned_end, on + timedelta(days=1))
    if end <= on:
        raise Invalid(ISO("end_after_move"), problems=[Problem(
            ISO("not_after_on"), field="planned_end")])
    for row in session.scalars(select(RoomNight).where(RoomNight.stay_id == stay.id,
                                                       RoomNight.night >= on)):
        session.delete(row)
    stay.status, stay.actual_end = StayStatus.moved, on
    session.flush()
    new = Stay(person_id=stay.person_id, site_id=site.id, room_id=room.id, kind=kind,
               status=StayStatus.active, role=stay.role, anchor=stay.anchor,
               household_ref=stay.household_ref, division_code=site.division_code,
               start_date=on, planned_end=end, order_ref=stay.order_ref, pack=stay.pack,
               pack_version=stay.pack_version, previous_stay_id=stay.id,
               created_by=actor.username, created_at=utc_now())
    session.add(new)
    session.flush()
    stays.book(session, [(new, room)])
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
                 record_ids=[stay.id, new.id], fields=stays.STAY_FIELDS,
                 detail={"moved_to_site": site.id, "transfer": transfer.id})
    events.publish(session, events.Event(
        "stay.moved", actor=actor, subject_type="iso_stay_test",
        subject_ids=[t.id for t in sampling.tests_of(session, stay.id)
                     if t.result is SampleResult.pending],
        reason=f"stay {stay.id} moved to site {site.code} on {on}"))
    return stay, new, transfer
