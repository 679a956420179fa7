"""Mass testing: rounds and their target population, tubes, points, labs, status, coverage,
the not-yet-sampled list, and the positive-pool queue. Bulk samples and results: importer.py;
what a positive result sets off: followup.py."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    Integer,
    Table,
    and_,
    case,
    exists,
    false,
    func,
    literal,
    or_,
    select,
    text,
    true,
    update,
)
from sqlalchemy.orm import Session, aliased

from fangkong.core import audit
from fangkong.core.auth import Actor, Perm, scope_clause, within
from fangkong.core.clock import utc_now
from fangkong.core.db import is_postgres
from fangkong.core.errors import Forbidden, Invalid, NotFound, Problem
from fangkong.geo import service as geo
from fangkong.person import stays
from fangkong.person.models import Person
from fangkong.policy import service as policy
from fangkong.policy.testing_rules import HOUSEHOLD, Testing
from fangkong.testing import figures, planning
from fangkong.testing.enums import FollowupStatus, MemberStatus, Result, RoundStatus
from fangkong.testing.models import (
    Followup,
    FollowupMember,
    KeyGroup,
    KeyGroupMember,
    Lab,
    Point,
    Round,
    RoundZone,
    Sample,
    Target,
    Tube,
)
from fangkong.testing.schemas import (
    Advice,
    ComplianceRow,
    Coverage,
    CoverageRow,
    FollowupMemberRead,
    FollowupRead,
    KeyGroupCreate,
    LabCreate,
    OpenPool,
    Plan,
    PointCreate,
    RoundCreate,
    RoundCreated,
    SeriesAdvice,
    Status,
    TubeIssue,
    TubeIssueReport,
    TurnaroundRow,
    UnsampledRow,
)

_TARGET = cast(Table, Target.__table__)
_LIST_LIMIT = 10_000
"""Most refs ``status`` lists in each of its lists."""


def rules_of(round_: Round) -> Testing:
    """The round's testing rules, from the pack (and version) it was created under."""
    return policy.testing_rules(policy.pinned(round_.pack_id, round_.pack_version,
                                              record=f"testing round {round_.id}"))


# -- rounds ---------------------------------------------------------------------------------

def create_round(session: Session, *, actor: Actor, data: RoundCreate) -> RoundCreated:
    """Create a round and materialise its target population: the residents of its area (and
    the persons given as being in quarantine sites), each with the tube size their place
    allows under the pack (``testing.pooling``)."""
    actor.require(Perm.testing_write)
    pack = policy.resolve(data.pack)
    rules = policy.testing_rules(pack)
    problems: list[Problem] = []
    area = sorted({c.strip() for c in data.area if c.strip()})
    codes = set(area) | set(data.zones)
    known = geo.exists(session, codes)
    problems += [Problem(f"unknown division code {c}", field="area") for c in area
                 if c not in known]
    problems += [Problem(f"division {c} is outside your jurisdiction", field="area")
                 for c in area if c in known and not actor.covers(c)]
    levels = pack.levels()
    for code, level in sorted(data.zones.items()):
        if code not in known:
            problems.append(Problem(f"unknown division code {code}", field=f"zones.{code}"))
        if level not in levels:
            problems.append(Problem(f"unknown level {level!r}; the pack {pack.id} has "
                                    f"{', '.join(levels)}", field=f"zones.{code}"))
    site_ids: dict[str, int] = {}
    if data.site_person_refs:
        from fangkong.person import service as persons

        site_ids = persons.ids_by_ref(session, actor=actor, refs=set(data.site_person_refs))
        problems += [Problem(f"no person with ref {r} in your jurisdiction",
                             field="site_person_refs") for r in data.site_person_refs
                     if r not in site_ids]
    if problems:
        raise Invalid("the round is not valid", problems=problems)
    zone_levels = dict(data.zones) or _registry_levels(session, actor, area, pack)
    now = utc_now()
    round_ = Round(name=data.name, series=data.series, area_codes=area,
                   start_at=data.start_at, deadline_at=data.deadline_at,
                   status=RoundStatus.open, pack_id=pack.id, pack_version=pack.version,
                   result_due_hours=rules.turnaround.result_due_hours, target_count=0,
                   created_by=actor.username, created_at=now)
    session.add(round_)
    session.flush()
    if zone_levels:
        session.execute(RoundZone.__table__.insert(),  # type: ignore[attr-defined]
                        [{"round_id": round_.id, "division_code": c, "level": lv}
                         for c, lv in zone_levels.items()])
    _fill_target(session, round_, rules, area, {len(c) for c in zone_levels})
    if site_ids:
        _add_site_persons(session, round_, rules, sorted(site_ids.values()))
    figures.add_targets(session, round_.id)
    by_ratio = {("household" if hh else str(k)): n for k, hh, n in session.execute(
        select(Target.pool_max, Target.household, func.count())
        .where(Target.round_id == round_.id).group_by(Target.pool_max, Target.household))}
    round_.target_count = sum(by_ratio.values())
    if is_postgres(session):
        session.execute(text("ANALYZE testing_target"))  # imports join it at once
    session.flush()
    audit.record(session, actor, action="create", record_type="testing_round",
                 record_ids=[round_.id], fields=["area_codes", "zones", "site_person_refs"],
                 detail={"target": round_.target_count})
    return RoundCreated(round_id=round_.id, target=round_.target_count, by_ratio=by_ratio)


def _registry_levels(session: Session, actor: Actor, area: list[str],
                     pack: policy.Pack) -> dict[str, str]:
    """The levels of the active risk zones inside the area, from the zone registry (used when
    the round is created without explicit zone levels), most severe level first."""
    from fangkong.zone import service as zones

    if pack.zones is None:
        return {}
    defs = pack.zones.levels
    levels = sorted(defs, key=lambda lv: -defs[lv].rank)
    return zones.levels_by_division(session, actor=actor, area=area, levels=levels)


def _fill_target(session: Session, round_: Round, rules: Testing, area: list[str],
                 lengths: set[int]) -> None:
    """INSERT ... SELECT of the area's residents, then of the people registered as staying in
    the area during the round (person.stays; counted where they stay), each with their tube
    size: the zone level of the most specific zone code that contains their division (one
    equality join per code length, which hash joins answer in one pass over the persons)."""
    p = Person.__table__
    residents = select(p.c.id.label("person_id"), p.c.division_code).where(
        or_(*[within(p.c.division_code, c) for c in area]))
    _insert_target(session, round_, rules, residents.subquery(), lengths)
    staying = stays.staying_in(area, round_.start_at, round_.deadline_at).subquery()
    visitors = select(staying.c.person_id, staying.c.division_code).where(~exists().where(
        _TARGET.c.round_id == round_.id, _TARGET.c.person_id == staying.c.person_id))
    _insert_target(session, round_, rules, visitors.subquery(), lengths)


def _insert_target(session: Session, round_: Round, rules: Testing, who: Any,
                   lengths: set[int]) -> None:
    """``who`` (person_id, division_code) into the round's target with their tube size."""
    joins = who
    level_cols = []
    for n in sorted(lengths, reverse=True):
        z = aliased(RoundZone, name=f"z{n}")
        joins = joins.outerjoin(z, and_(
            z.round_id == round_.id, z.division_code == func.substr(who.c.division_code, 1, n)))
        level_cols.append(z.level)
    level: Any = func.coalesce(*level_cols) if len(level_cols) > 1 else (
        level_cols[0] if level_cols else literal(None))
    pool = rules.pooling
    whens_max = []
    whens_hh = []
    for name, ratio in pool.by_level.items():
        if ratio == HOUSEHOLD:
            whens_max.append((level == name, pool.household_max))
            whens_hh.append((level == name, true()))
        else:
            whens_max.append((level == name, int(ratio)))
    pool_max = case(*whens_max, else_=pool.elsewhere) if whens_max else literal(pool.elsewhere)
    household = case(*whens_hh, else_=false()) if whens_hh else false()
    source = select(literal(round_.id), who.c.person_id, who.c.division_code,
                    pool_max.cast(Integer), household, false()).select_from(joins)
    session.execute(_TARGET.insert().from_select(
        ["round_id", "person_id", "division_code", "pool_max", "household", "at_site"], source))


def _add_site_persons(session: Session, round_: Round, rules: Testing,
                      person_ids: list[int]) -> None:
    """Persons in quarantine sites: single tubes (added to the target if they live elsewhere)."""
    ratio = rules.pooling.quarantine_site
    for start in range(0, len(person_ids), 5000):
        chunk = person_ids[start:start + 5000]
        session.execute(update(Target).where(Target.round_id == round_.id,
                                             Target.person_id.in_(chunk))
                        .values(pool_max=ratio, household=False, at_site=True))
        present = set(session.scalars(select(Target.person_id).where(
            Target.round_id == round_.id, Target.person_id.in_(chunk))))
        missing = [i for i in chunk if i not in present]
        if missing:
            rows = session.execute(select(Person.id, Person.division_code)
                                   .where(Person.id.in_(missing))).all()
            session.execute(_TARGET.insert(), [
                {"round_id": round_.id, "person_id": i, "division_code": d,
                 "pool_max": ratio, "household": False, "at_site": True} for i, d in rows])


def get_round(session: Session, *, actor: Actor, round_id: int) -> Round:
    actor.require(Perm.person_read)
    round_ = session.get(Round, round_id)
    if round_ is None or not (actor.national or any(
            actor.covers(c) or any(g.startswith(c) for g in actor.grants)
            for c in round_.area_codes)):
        raise NotFound(f"round {round_id} not found")
    return round_


def close_round(session: Session, *, actor: Actor, round_id: int) -> Round:
    """Close a round: its sampling is over, so it leaves the open rounds (the command's list
    and the dashboard). Results of its tubes still land and positive pools are still
    followed up. Closing a closed round changes nothing."""
    actor.require(Perm.testing_write)
    round_ = get_round(session, actor=actor, round_id=round_id)
    outside = [c for c in round_.area_codes if not actor.covers(c)]
    if outside:  # a county sees the city's round (it samples its part) but ends it for no one
        raise Forbidden(f"round {round_id} covers {', '.join(outside)}, outside your "
                        "jurisdiction: only a user over its whole area closes it")
    if round_.status != RoundStatus.closed:
        round_.status = RoundStatus.closed
        session.flush()
        audit.record(session, actor, action="update", record_type="testing_round",
                     record_ids=[round_.id], fields=["status"], note="closed")
    return round_


def open_rounds(session: Session, *, actor: Actor, division: str) -> list[Round]:
    """Open rounds whose area meets ``division`` (one inside the other) and that the actor may
    see, newest first."""
    actor.require(Perm.person_read)
    found = session.scalars(select(Round).where(Round.status == RoundStatus.open)
                            .order_by(Round.start_at.desc(), Round.id.desc()))
    return [r for r in found
            if any(c.startswith(division) or division.startswith(c) for c in r.area_codes)
            and (actor.national or any(actor.covers(c) or any(g.startswith(c)
                                                            for g in actor.grants)
                                       for c in r.area_codes))]


# -- tubes, points, labs --------------------------------------------------------------------

def issue_tubes(session: Session, *, actor: Actor, round_id: int,
                data: TubeIssue) -> TubeIssueReport:
    """Register barcoded tubes for a round (a tube kind holds at most ``capacity`` people).
    Re-issuing the same barcodes to the same round is a no-op; to another round, an error."""
    actor.require(Perm.testing_write)
    round_ = get_round(session, actor=actor, round_id=round_id)
    barcodes = list(dict.fromkeys(b.strip() for b in data.barcodes if b.strip()))
    bad = [b for b in barcodes if len(b) > 64]
    if bad:
        raise Invalid("barcodes are at most 64 characters", problems=[
            Problem(f"too long: {b[:70]}", field="barcodes") for b in bad[:50]])
    existing: dict[str, int] = {}
    for start in range(0, len(barcodes), 5000):
        existing.update(session.execute(select(Tube.barcode, Tube.round_id).where(
            Tube.barcode.in_(barcodes[start:start + 5000]))).all())
    elsewhere = [b for b, r in existing.items() if r != round_.id]
    if elsewhere:
        raise Invalid("some barcodes were issued to another round", problems=[
            Problem(f"barcode {b} belongs to round {existing[b]}", field="barcodes")
            for b in elsewhere[:50]])
    new = [b for b in barcodes if b not in existing]
    for start in range(0, len(new), 10_000):
        session.execute(Tube.__table__.insert(), [  # type: ignore[attr-defined]
            {"barcode": b, "round_id": round_.id, "capacity": data.capacity, "members": 0}
            for b in new[start:start + 10_000]])
    return TubeIssueReport(issued=len(new), already=len(barcodes) - len(new))


def _check_division(session: Session, actor: Actor, code: str) -> None:
    geo.get(session, code)
    if not actor.covers(code):
        raise Invalid("outside your jurisdiction", problems=[
            Problem("outside your jurisdiction", field="division_code")])


def create_point(session: Session, *, actor: Actor, data: PointCreate) -> Point:
    actor.require(Perm.testing_write)
    _check_division(session, actor, data.division_code)
    if session.scalar(select(Point.id).where(Point.code == data.code)) is not None:
        raise Invalid(f"a point with code {data.code} exists",
                      problems=[Problem("already exists", field="code")])
    point = Point(**data.model_dump())
    session.add(point)
    session.flush()
    return point


def create_lab(session: Session, *, actor: Actor, data: LabCreate) -> Lab:
    actor.require(Perm.testing_write)
    _check_division(session, actor, data.division_code)
    if session.scalar(select(Lab.id).where(Lab.code == data.code)) is not None:
        raise Invalid(f"a lab with code {data.code} exists",
                      problems=[Problem("already exists", field="code")])
    lab = Lab(**data.model_dump())
    session.add(lab)
    session.flush()
    return lab


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
    pending = list(session.scalars(
        select(Person.ref).join(FollowupMember, FollowupMember.person_id == Person.id)
        .join(Followup, Followup.id == FollowupMember.followup_id)
        .where(Followup.round_id == round_.id, FollowupMember.status == MemberStatus.pending,
               member_scope).order_by(Person.ref).distinct().limit(_LIST_LIMIT)))
    cases = list(session.scalars(
        select(Person.ref).join(FollowupMember, FollowupMember.person_id == Person.id)
        .join(Followup, Followup.id == FollowupMember.followup_id)
        .where(Followup.round_id == round_.id, FollowupMember.case_id.is_not(None),
               member_scope).order_by(Person.ref).distinct().limit(_LIST_LIMIT)))
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
        raise Invalid("digits is one of 2, 4, 6, 9, 12 (province … village)")
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
    stmt = (select(Person.id, Person.ref, Person.name, Target.division_code,
                   Person.household_ref)
            .join(Person, Person.id == Target.person_id)
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
        from fangkong.case.models import Case

        for m, ref, case_ref in session.execute(
                select(FollowupMember, Person.ref, Case.ref)
                .join(Person, Person.id == FollowupMember.person_id)
                .outerjoin(Case, Case.id == FollowupMember.case_id)
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
        raise Invalid("the area is outside your jurisdiction", problems=[
            Problem(f"division {c} is outside your jurisdiction", field="area")
            for c in outside[:50]])
    resolved = policy.resolve(pack)
    rules = policy.testing_rules(resolved)
    population = session.scalar(select(func.count()).select_from(Person).where(
        or_(*[within(Person.division_code, c) for c in area]),
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
        raise NotFound(f"no rounds in series {series!r}")
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
        raise Invalid(f"{data.code} is not a key group of pack {resolved.id}: give every_days",
                      problems=[Problem("required for a local group", field="every_days")])
    every = data.every_days or (known.every_days if known else 1)
    source = "local" if data.every_days else f"pack {resolved.id} {resolved.version}"
    name = data.name or (known.label.get("zh-Hans", data.code) if known else data.code)
    if session.scalar(select(KeyGroup.id).where(KeyGroup.code == data.code)) is not None:
        raise Invalid(f"key group {data.code} exists",
                      problems=[Problem("already exists", field="code")])
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
        raise NotFound(f"key group {group_id} not found")
    ids = persons.ids_by_ref(session, actor=actor, refs=set(refs))
    missing = [r for r in refs if r not in ids]
    if missing:
        raise Invalid("unknown persons", problems=[
            Problem(f"no person with ref {r} in your jurisdiction", field="refs")
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
        raise NotFound(f"key group {group_id} not found")
    now = now or utc_now()
    last = (select(func.max(Sample.sampled_at)).where(Sample.person_id == Person.id)
            .correlate(Person).scalar_subquery())
    rows = session.execute(
        select(Person.id, Person.ref, Person.division_code, last, KeyGroupMember.since)
        .join(KeyGroupMember, KeyGroupMember.person_id == Person.id)
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
