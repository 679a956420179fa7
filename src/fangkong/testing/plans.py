"""Planning mass testing: Dorfman pooling advice, points and samplers for an area, the stop rule
over a series of rounds, key groups (重点人群) and their routine testing compliance."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import (
    and_,
    false,
    func,
    or_,
    select,
)
from sqlalchemy.orm import Session

from fangkong.core import audit
from fangkong.core.auth import Actor, Perm, within
from fangkong.core.clock import utc_now
from fangkong.core.errors import Conflict, Invalid, NotFound, Problem
from fangkong.core.messages import CORE
from fangkong.policy import service as policy
from fangkong.testing import planning
from fangkong.testing.messages import T
from fangkong.testing.models import (
    Followup,
    FollowupMember,
    KeyGroup,
    KeyGroupMember,
    Lab,
    Point,
    Round,
    Sample,
    Target,
)
from fangkong.testing.rounds import _check_division, get_round
from fangkong.testing.schemas import (
    Advice,
    ComplianceRow,
    KeyGroupCreate,
    Plan,
    SeriesAdvice,
)

# -- advice, planning, stop rule ------------------------------------------------------------

def advise(session: Session | None, *, prevalence: float, population: int | None = None,
           round_id: int | None = None, actor: Actor | None = None,
           lab_capacity: int | None = None, pack: str | None = None) -> Advice:
    """Dorfman advice for a population (given, or a round's target); lab hours from the given
    capacity or, with a session, the registered labs' daily capacity."""
    if round_id is not None and session is not None and actor is not None:
        round_ = get_round(session, actor=actor, round_id=round_id)
        population, pack = round_.target_count, round_.pack_id
    resolved = policy.resolve(pack)
    if lab_capacity is None and session is not None:
        lab_capacity = session.scalar(select(func.sum(Lab.daily_capacity))) or None
    return planning.advise(policy.testing_rules(resolved), resolved.id, prevalence=prevalence,
                           population=population or 0, lab_capacity_per_day=lab_capacity)


def plan(session: Session, *, actor: Actor, area: list[str], pack: str | None = None) -> Plan:
    """Points and samplers the guide asks for an area's population; what is registered there;
    how long sampling takes with the registered samplers. The area is inside the actor's
    jurisdiction (another district's population is not theirs to read)."""
    from fangkong.person import service as persons

    actor.require(Perm.person_read)
    outside = [c for c in area if not actor.covers(c)]
    if outside:
        raise Invalid(T("area_outside"), problems=[
            Problem(T("division_outside", code=c), field="area")
            for c in outside[:50]])
    resolved = policy.resolve(pack)
    rules = policy.testing_rules(resolved)
    person = persons.table()
    population = session.scalar(select(func.count()).select_from(person).where(
        or_(*[within(person.c.division_code, c) for c in area]),
        persons.readable_clause(actor))) or 0
    points, samplers = session.execute(select(func.count(), func.coalesce(
        func.sum(Point.samplers), 0)).where(or_(*[within(Point.division_code, c)
                                                  for c in area]))).one()
    needed_points, needed_samplers = planning.points_and_samplers(rules, population)
    return Plan(pack=resolved.id, population=population, points_needed=needed_points,
                samplers_needed=needed_samplers, points_available=points,
                samplers_available=samplers,
                hours_needed=planning.hours_needed(rules, population, samplers),
                campaign_hours=rules.planning.campaign_hours)


def series_advice(session: Session, *, actor: Actor, series: str) -> SeriesAdvice:
    """The pack's stop rule over a series: a round's community infections are those set on
    the round, or else the cases its positive tubes found outside quarantine sites."""
    actor.require(Perm.person_read)
    rounds = session.scalars(select(Round).where(Round.series == series)
                             .order_by(Round.start_at)).all()
    if not rounds:
        raise NotFound(T("no_rounds", series=repr(series)))
    found = dict(session.execute(
        select(Followup.round_id, func.count(FollowupMember.case_id))
        .join(FollowupMember, FollowupMember.followup_id == Followup.id)
        .join(Target, and_(Target.round_id == Followup.round_id,
                           Target.person_id == FollowupMember.person_id), isouter=True)
        .where(Followup.round_id.in_([r.id for r in rounds]),
               FollowupMember.case_id.is_not(None),
               func.coalesce(Target.at_site, false()) == false())
        .group_by(Followup.round_id)).all())
    days = [(r.start_at.astimezone(UTC).date(), r.community_infections
             if r.community_infections is not None else found.get(r.id, 0)) for r in rounds]
    pack = rounds[-1].pack_id
    return planning.series_advice(policy.testing_rules(pack), pack, series, days)


# -- key groups -----------------------------------------------------------------------------

def create_key_group(session: Session, *, actor: Actor, data: KeyGroupCreate,
                     pack: str | None = None) -> KeyGroup:
    actor.require(Perm.testing_write)
    _check_division(session, actor, data.division_code)
    resolved = policy.resolve(pack)
    known = policy.testing_rules(resolved).key_groups.get(data.code)
    if data.every_days is None and known is None:
        raise Invalid(T("not_key_group", code=data.code, pack=resolved.id),
                      problems=[Problem(T("local_group_days"), field="every_days")])
    every = data.every_days or (known.every_days if known else 1)
    source = "local" if data.every_days else f"pack {resolved.id} {resolved.version}"
    name = data.name or (known.label.get("zh-Hans", data.code) if known else data.code)
    if session.scalar(select(KeyGroup.id).where(KeyGroup.code == data.code)) is not None:
        raise Conflict(T("key_group_exists", code=data.code),
                       problems=[Problem(CORE("already_exists"), field="code")])
    group = KeyGroup(code=data.code, name=name, division_code=data.division_code,
                     every_days=every, schedule_source=source)
    session.add(group)
    session.flush()
    return group


def add_key_group_members(session: Session, *, actor: Actor, group_id: int,
                          refs: list[str]) -> int:
    from fangkong.person import service as persons

    actor.require(Perm.testing_write)
    group = session.get(KeyGroup, group_id)
    if group is None or not actor.covers(group.division_code):
        raise NotFound(T("key_group_not_found", id=group_id))
    ids = persons.ids_by_ref(session, actor=actor, refs=set(refs))
    missing = [r for r in refs if r not in ids]
    if missing:
        raise Invalid(T("unknown_persons"), problems=[
            Problem(T("no_person", ref=r), field="refs")
            for r in missing[:50]])
    present = set(session.scalars(select(KeyGroupMember.person_id).where(
        KeyGroupMember.group_id == group.id)))
    new = [i for i in dict.fromkeys(ids.values()) if i not in present]
    now = utc_now()
    if new:
        session.execute(KeyGroupMember.__table__.insert(),  # type: ignore[attr-defined]
                        [{"group_id": group.id, "person_id": i, "since": now} for i in new])
        audit.record(session, actor, action="update", record_type="testing_key_group",
                     record_ids=[group.id], fields=["members"], detail={"added": len(new)})
    return len(new)


def compliance(session: Session, *, actor: Actor, group_id: int, overdue_only: bool = False,
               now: datetime | None = None) -> list[ComplianceRow]:
    """Each member's last sample (any round) and when the next is due; overdue ones first.
    A member never sampled is due from the day they joined the group."""
    from fangkong.person import service as persons

    actor.require(Perm.person_read)
    group = session.get(KeyGroup, group_id)
    if group is None or not actor.covers(group.division_code):
        raise NotFound(T("key_group_not_found", id=group_id))
    now = now or utc_now()
    person = persons.table()
    last = (select(func.max(Sample.sampled_at)).where(Sample.person_id == person.c.id)
            .correlate(person).scalar_subquery())
    rows = session.execute(
        select(person.c.id, person.c.ref, person.c.division_code, last, KeyGroupMember.since)
        .join(KeyGroupMember, KeyGroupMember.person_id == person.c.id)
        .where(KeyGroupMember.group_id == group.id,
               persons.readable_clause(actor))).all()
    step = timedelta(days=group.every_days)
    out = []
    for _, ref, code, last_at, since in rows:
        from fangkong.core.clock import as_utc

        last_at = as_utc(last_at) if last_at is not None else None
        due = (last_at + step) if last_at else as_utc(since)
        row = ComplianceRow(person_ref=ref, division_code=code, last_sampled_at=last_at,
                            due_at=due, overdue=due < now)
        if row.overdue or not overdue_only:
            out.append(row)
    if rows:
        audit.record(session, actor, action="read", record_type="person",
                     record_ids=[r[0] for r in rows], fields=["ref", "last_sampled_at"],
                     note=f"key group {group.code} compliance")
    out.sort(key=lambda r: (not r.overdue, r.due_at or now, r.person_ref))
    return out
