"""A round's figures: status, coverage per division, the dashboard's totals (from the kept
figures, ``fangkong.testing.figures``), the not-yet-sampled list, turnaround, and the queue of
positive pools being resolved."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    and_,
    case,
    exists,
    func,
    or_,
    select,
    text,
)
from sqlalchemy.orm import Session

from fangkong.core import audit
from fangkong.core.auth import Actor, Perm, scope_clause, within
from fangkong.core.clock import utc_now
from fangkong.core.db import is_postgres
from fangkong.core.errors import Invalid
from fangkong.person import service as persons
from fangkong.testing import figures
from fangkong.testing.enums import FollowupStatus, MemberStatus, Result
from fangkong.testing.messages import T
from fangkong.testing.models import (
    Followup,
    FollowupMember,
    Lab,
    Round,
    Sample,
    Target,
    Tube,
)
from fangkong.testing.rounds import get_round
from fangkong.testing.schemas import (
    Coverage,
    CoverageRow,
    FollowupMemberRead,
    FollowupRead,
    OpenPool,
    Status,
    TurnaroundRow,
    UnsampledRow,
)

_LIST_LIMIT = 10_000
"""Most refs ``status`` lists in each of its lists."""

# -- status, coverage, not yet sampled ------------------------------------------------------

def _in_target(round_id: int) -> Any:
    return and_(Target.round_id == round_id, Target.person_id == Sample.person_id)


def _was_sampled(round_id: int) -> Any:
    """The target person has a sample in the round (a semi-join: no DISTINCT to sort)."""
    return exists().where(Sample.round_id == round_id, Sample.person_id == Target.person_id)


WORK_MEM = "256MB"
"""PostgreSQL's memory per hash join or aggregate for a city's figures (set for the
transaction only): a city's target and samples are joined in memory, not in batches on disk."""


def _city_scale(session: Session) -> None:
    if is_postgres(session):
        session.execute(text(f"SET LOCAL work_mem = '{WORK_MEM}'"))


def _past_due(round_: Round, now: datetime) -> Any:
    return and_(Tube.round_id == round_.id, Tube.members > 0, Tube.result.is_(None),
                Tube.first_sampled_at < now - timedelta(hours=round_.result_due_hours))


def status(session: Session, *, actor: Actor, round_id: int) -> Status:
    """The round's figures, for the actor's jurisdiction (the whole round if national).
    ``sampled`` counts the target persons sampled at least once."""
    round_ = get_round(session, actor=actor, round_id=round_id)
    now = utc_now()
    scoped = scope_clause(actor, Target.division_code)
    target = session.scalar(select(func.count()).select_from(Target).where(
        Target.round_id == round_.id, scoped)) or 0
    _city_scale(session)
    sampled = session.scalar(select(func.count()).select_from(Target).where(
        Target.round_id == round_.id, scoped, _was_sampled(round_.id))) or 0
    mine = [Tube.round_id == round_.id, Tube.members > 0]
    if not actor.national:
        mine.append(Tube.id.in_(select(Sample.tube_id).join(Target, _in_target(round_.id))
                                .where(Sample.round_id == round_.id, scoped)))
    tubes, without, past = session.execute(select(
        func.count(), func.count().filter(Tube.result.is_(None)),
        func.count().filter(_past_due(round_, now))).where(*mine)).one()
    positives = list(session.scalars(
        select(Tube.barcode).where(*mine, Tube.result == Result.positive)
        .order_by(Tube.barcode).limit(_LIST_LIMIT)))
    member_scope = scope_clause(actor, FollowupMember.division_code)
    person = persons.table()
    pending = list(session.scalars(
        select(person.c.ref).join(FollowupMember, FollowupMember.person_id == person.c.id)
        .join(Followup, Followup.id == FollowupMember.followup_id)
        .where(Followup.round_id == round_.id, FollowupMember.status == MemberStatus.pending,
               member_scope).order_by(person.c.ref).distinct().limit(_LIST_LIMIT)))
    cases = list(session.scalars(
        select(person.c.ref).join(FollowupMember, FollowupMember.person_id == person.c.id)
        .join(Followup, Followup.id == FollowupMember.followup_id)
        .where(Followup.round_id == round_.id, FollowupMember.case_id.is_not(None),
               member_scope).order_by(person.c.ref).distinct().limit(_LIST_LIMIT)))
    if pending or cases:
        audit.record(session, actor, action="read", record_type="testing_status",
                     record_ids=[round_.id], fields=["pending_persons", "cases"])
    return Status(round_id=round_.id, target=target, sampled=sampled,
                  coverage=round(sampled / target, 6) if target else 0.0, tubes=tubes,
                  tubes_without_result=without, tubes_past_due=past,
                  positive_tubes=positives, pending_persons=pending, cases=cases)


def coverage(session: Session, *, actor: Actor, round_id: int, within_code: str | None = None,
             digits: int = 6) -> Coverage:
    """Target, sampled, coverage and tubes past due per division (codes cut to ``digits``:
    6 county, 9 town, 12 village), in the actor's jurisdiction. Three grouped scans: the
    target by division, the target persons with a sample, the late tubes' samples."""
    if digits not in (2, 4, 6, 9, 12):
        raise Invalid(T("digits"))
    round_ = get_round(session, actor=actor, round_id=round_id)
    code = Target.division_code
    where = [Target.round_id == round_.id, scope_clause(actor, code)]
    if within_code:
        where.append(within(code, within_code))
    # Persons (a target row each) counted per division code as stored, in the order of the
    # (round, division) index, and summed up to the level asked for here: grouping by the cut
    # code instead made SQLite sort the whole round (half the time of a city's coverage).
    targets = _up_to(session.execute(select(code, func.count()).where(*where)
                                     .group_by(code)).tuples(), digits)
    _city_scale(session)
    sampled = _up_to(session.execute(select(code, func.count()).where(
        *where, _was_sampled(round_.id)).group_by(code)).tuples(), digits)
    # Tubes are counted once per division at the level asked (a tube may hold persons of
    # several villages), from the late tubes to their samples to the target persons.
    div = func.substr(code, 1, digits).label("division")
    late_tubes = select(Tube.id).where(_past_due(round_, utc_now()))
    late: dict[str, int] = dict(session.execute(
        select(div, func.count(func.distinct(Sample.tube_id)))
        .select_from(Sample).join(Target, _target_of(Sample.round_id))
        .where(Sample.round_id == round_.id, Sample.tube_id.in_(late_tubes),
               *_late_scope(actor, within_code))
        .group_by(div)).tuples().all())
    return Coverage(round_id=round_.id, level_digits=digits, rows=[
        CoverageRow(division_code=d, target=n, sampled=sampled.get(d, 0),
                    coverage=round(sampled.get(d, 0) / n, 6) if n else 0.0,
                    tubes_past_due=late.get(d, 0))
        for d, n in sorted(targets.items())])


def _up_to(rows: Iterable[tuple[str, int]], digits: int) -> dict[str, int]:
    """Counts per division code summed per code cut to ``digits`` (SQL's substr)."""
    out: dict[str, int] = {}
    for code, n in rows:
        out[code[:digits]] = out.get(code[:digits], 0) + n
    return out


def _late_scope(actor: Actor, within_code: str | None) -> list[Any]:
    """The jurisdiction (and ``within_code``) of the target persons of late tubes' samples,
    on the code as an expression (``division_code || ''``) that no index serves, and with no
    condition on the target's round but the join's (the late tubes are the round's). With the
    plain column SQLite started from the (round, division) index, all the target persons of a
    county, and for each of them went through every sample of every late tube: 372 s for a
    county user's dashboard after the demo, against 0.24 s starting from the late tubes."""
    code = Target.division_code.concat("")
    where = [scope_clause(actor, code)]
    if within_code:
        where.append(within(code, within_code))
    return where


def _target_of(round_id: Any) -> Any:
    """A sample's target person, to be joined from the sample side (from the samples of late
    tubes, few or none). The ``+ 0`` keeps SQLite, which has no statistics, from starting at
    the target instead (it takes ``round_id = ?`` for selective) and looking up the samples of
    every target person of the round: 0.9 s instead of 0.01 s for a round of 1,000,000."""
    return and_(Target.round_id == round_id, Target.person_id == Sample.person_id + 0)


def round_totals(session: Session, *, actor: Actor, rounds: list[Round], within_code: str | None
                 ) -> dict[int, tuple[int, int, int]]:
    """(target, sampled, tubes past due) of each of several rounds, within a division, in the
    actor's jurisdiction: the figures ``coverage`` gives per division, summed per round, in
    three queries grouped by round for all of them (the dashboard's open rounds)."""
    if not rounds:
        return {}
    if within_code and figures.is_kept(within_code) and actor.covers(within_code):
        # the whole division is the actor's: its kept figures, a few rows
        return figures.totals(session, rounds, within_code, utc_now())
    return computed_round_totals(session, actor=actor, rounds=rounds, within_code=within_code)


def computed_round_totals(session: Session, *, actor: Actor, rounds: list[Round],
                          within_code: str | None, now: datetime | None = None
                          ) -> dict[int, tuple[int, int, int]]:
    """:func:`round_totals` computed from the records (what the kept figures must equal), at
    ``now`` (default: now)."""
    if not rounds:
        return {}
    ids = [r.id for r in rounds]
    where = [Target.round_id.in_(ids), scope_clause(actor, Target.division_code)]
    if within_code:
        where.append(within(Target.division_code, within_code))
    targets = dict(session.execute(select(Target.round_id, func.count()).where(*where)
                                   .group_by(Target.round_id)).tuples().all())
    _city_scale(session)
    sampled = dict(session.execute(
        select(Target.round_id, func.count()).where(*where, exists().where(
            Sample.round_id == Target.round_id, Sample.person_id == Target.person_id))
        .group_by(Target.round_id)).tuples().all())
    now = now or utc_now()
    late_tubes = select(Tube.id).where(or_(*(_past_due(r, now) for r in rounds)))
    late = dict(session.execute(
        select(Target.round_id, func.count(func.distinct(Sample.tube_id)))
        .select_from(Sample).join(Target, _target_of(Sample.round_id))
        .where(Sample.tube_id.in_(late_tubes), *_late_scope(actor, within_code))
        .group_by(Target.round_id)).tuples().all())
    return {i: (targets.get(i, 0), sampled.get(i, 0), late.get(i, 0)) for i in ids}


def unsampled(session: Session, *, actor: Actor, round_id: int, within_code: str | None = None,
              after_id: int = 0, limit: int = 1000) -> list[UnsampledRow]:
    """Target persons not yet sampled (for the community workers who must find them), in the
    actor's jurisdiction, by person id after ``after_id``."""
    round_ = get_round(session, actor=actor, round_id=round_id)
    s = select(Sample.tube_id).where(Sample.round_id == round_.id,
                                Sample.person_id == Target.person_id).exists()
    person = persons.table()
    stmt = (select(person.c.id, person.c.ref, person.c.name, Target.division_code,
                   person.c.household_ref)
            .join(person, person.c.id == Target.person_id)
            .where(Target.round_id == round_.id, ~s, Target.person_id > after_id,
                   scope_clause(actor, Target.division_code))
            .order_by(Target.person_id).limit(limit))
    if within_code:
        stmt = stmt.where(within(Target.division_code, within_code))
    rows = [UnsampledRow(person_id=i, ref=r, name=n, division_code=d, household_ref=h)
            for i, r, n, d, h in session.execute(stmt)]
    if rows:
        audit.record(session, actor, action="read", record_type="person",
                     record_ids=[r.person_id for r in rows],
                     fields=["ref", "name", "division_code", "household_ref"],
                     note=f"not yet sampled in testing round {round_.id}")
    return rows


def iter_unsampled(session: Session, *, actor: Actor, round_id: int,
                   within_code: str | None = None, page: int = 5000) -> Iterator[UnsampledRow]:
    after = 0
    while True:
        rows = unsampled(session, actor=actor, round_id=round_id, within_code=within_code,
                         after_id=after, limit=page)
        yield from rows
        if len(rows) < page:
            return
        after = rows[-1].person_id


def turnaround(session: Session, *, actor: Actor, round_id: int) -> list[TurnaroundRow]:
    """Hours from a tube's first sample to its reported result, per lab and (``lab`` None)
    for the whole round; how many came within the round's due time."""
    round_ = get_round(session, actor=actor, round_id=round_id)
    if is_postgres(session):
        hours: Any = func.extract("epoch", Tube.reported_at - Tube.first_sampled_at) / 3600.0
    else:
        hours = (func.julianday(Tube.reported_at) - func.julianday(Tube.first_sampled_at)) * 24
    due = round_.result_due_hours
    cols = (func.count(), func.avg(hours), func.max(hours),
            func.count().filter(hours <= due))
    base = select(*cols).where(Tube.round_id == round_.id, Tube.reported_at.is_not(None),
                               Tube.first_sampled_at.is_not(None))
    per_lab = session.execute(
        base.add_columns(Lab.code, Lab.daily_capacity).join(Lab, Lab.id == Tube.lab_id)
        .group_by(Lab.code, Lab.daily_capacity).order_by(Lab.code)).all()
    n, mean, most, ok = session.execute(base).one()

    def num(x: Any) -> float | None:
        return None if x is None else round(float(x), 2)

    out = [TurnaroundRow(lab=None, tubes=n, mean_hours=num(mean), max_hours=num(most),
                         within_due=ok, daily_capacity=None)]
    out += [TurnaroundRow(lab=lab, tubes=k, mean_hours=num(m), max_hours=num(x),
                          within_due=w, daily_capacity=cap)
            for k, m, x, w, lab, cap in per_lab]
    return out


# -- the positive-pool queue ----------------------------------------------------------------

def open_pools(session: Session, *, actor: Actor, division: str) -> int:
    """How many positive pools inside ``division`` (and the actor's scope) are not resolved
    yet: a count, no member is read."""
    actor.require(Perm.person_read)
    return session.scalar(select(func.count()).select_from(Followup).where(
        Followup.status == FollowupStatus.open, within(Followup.division_code, division),
        scope_clause(actor, Followup.division_code))) or 0


def open_pool_list(session: Session, *, actor: Actor, division: str,
                   limit: int = 20) -> list[OpenPool]:
    """The positive pools inside ``division`` (and the actor's scope) not resolved yet, oldest
    first: tube, division, when opened, members and how many are still pending (the
    dashboard's queue: counts, no member named)."""
    actor.require(Perm.person_read)
    m = FollowupMember
    rows = session.execute(
        select(Tube.barcode, Followup.division_code, Followup.opened_at, func.count(m.id),
               func.coalesce(func.sum(case((m.status == MemberStatus.pending, 1), else_=0)), 0))
        .join(Tube, Tube.id == Followup.tube_id)
        .outerjoin(m, m.followup_id == Followup.id)
        .where(Followup.status == FollowupStatus.open, within(Followup.division_code, division),
               scope_clause(actor, Followup.division_code))
        .group_by(Followup.id, Tube.barcode, Followup.division_code, Followup.opened_at)
        .order_by(Followup.opened_at, Followup.id).limit(limit)).all()
    return [OpenPool(tube=b, division_code=d, opened_at=o, members=n, pending=int(p))
            for b, d, o, n, p in rows]


def queue(session: Session, *, actor: Actor, round_id: int | None = None,
          open_only: bool = True, limit: int = 200) -> list[FollowupRead]:
    """Positive tubes being resolved, oldest first, in the actor's jurisdiction."""
    actor.require(Perm.person_read)
    stmt = select(Followup, Tube.barcode).join(Tube, Tube.id == Followup.tube_id).where(
        scope_clause(actor, Followup.division_code))
    if open_only:
        stmt = stmt.where(Followup.status == FollowupStatus.open)
    if round_id is not None:
        stmt = stmt.where(Followup.round_id == round_id)
    found = session.execute(stmt.order_by(Followup.opened_at, Followup.id).limit(limit)).all()
    ids = [f.id for f, _ in found]
    members: dict[int, list[FollowupMemberRead]] = {i: [] for i in ids}
    if ids:
        from fangkong.case import service as case_service

        person, case = persons.table(), case_service.table()
        for m, ref, case_ref in session.execute(
                select(FollowupMember, person.c.ref, case.c.ref)
                .join(person, person.c.id == FollowupMember.person_id)
                .outerjoin(case, case.c.id == FollowupMember.case_id)
                .where(FollowupMember.followup_id.in_(ids)).order_by(FollowupMember.id)):
            members[m.followup_id].append(FollowupMemberRead(
                person_ref=ref, division_code=m.division_code, status=m.status.value,
                control_since=m.control_since, responsible=m.responsible, task_id=m.task_id,
                case_ref=case_ref))
        audit.record(session, actor, action="read", record_type="testing_followup",
                     record_ids=ids, fields=["members"])
    return [FollowupRead(id=f.id, round_id=f.round_id, tube=barcode, status=f.status.value,
                         outcome=f.outcome.value if f.outcome else None, opened_at=f.opened_at,
                         resolved_at=f.resolved_at, members=members[f.id])
            for f, barcode in found]
