"""Mass testing rounds: creation and their target population (the tube size each person's place
allows), closing, the open rounds; the tubes, collection points and labs of a round."""

from __future__ import annotations

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
from fangkong.core.auth import Actor, Perm, scope, within
from fangkong.core.clock import utc_now
from fangkong.core.db import is_postgres
from fangkong.core.errors import Conflict, Forbidden, Invalid, NotFound, Problem
from fangkong.core.messages import CORE, joined
from fangkong.geo import service as geo
from fangkong.person import service as persons
from fangkong.person import stays
from fangkong.policy import service as policy
from fangkong.policy.testing_rules import HOUSEHOLD, Testing
from fangkong.testing import figures
from fangkong.testing.enums import RoundStatus
from fangkong.testing.messages import T
from fangkong.testing.models import (
    Lab,
    Point,
    Round,
    RoundZone,
    Target,
    Tube,
)
from fangkong.testing.schemas import (
    LabCreate,
    PointCreate,
    RoundCreate,
    RoundCreated,
    TubeIssue,
    TubeIssueReport,
)

_TARGET = cast(Table, Target.__table__)


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
    problems += [Problem(T("unknown_division", code=c), field="area") for c in area
                 if c not in known]
    problems += [Problem(T("division_outside", code=c), field="area")
                 for c in area if c in known and not actor.covers(c)]
    levels = pack.levels()
    for code, level in sorted(data.zones.items()):
        if code not in known:
            problems.append(Problem(T("unknown_division", code=code), field=f"zones.{code}"))
        if level not in levels:
            problems.append(Problem(T("unknown_level", level=repr(level), pack=pack.id,
                                      levels=joined(levels)), field=f"zones.{code}"))
    site_ids: dict[str, int] = {}
    if data.site_person_refs:
        from fangkong.person import service as persons

        site_ids = persons.ids_by_ref(session, actor=actor, refs=set(data.site_person_refs))
        problems += [Problem(T("no_person", ref=r),
                             field="site_person_refs") for r in data.site_person_refs
                     if r not in site_ids]
    if problems:
        raise Invalid(T("round_invalid"), problems=problems)
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
    p = persons.table()
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
            rows = sorted(persons.divisions_of(session, set(missing)).items())
            session.execute(_TARGET.insert(), [
                {"round_id": round_.id, "person_id": i, "division_code": d,
                 "pool_max": ratio, "household": False, "at_site": True} for i, d in rows])


def get_round(session: Session, *, actor: Actor, round_id: int) -> Round:
    actor.require(Perm.person_read)
    round_ = session.get(Round, round_id)
    if round_ is None or not (actor.national or any(
            actor.covers(c) or any(g.startswith(c) for g in actor.grants)
            for c in round_.area_codes)):
        raise NotFound(T("round_not_found", id=round_id))
    return round_


def close_round(session: Session, *, actor: Actor, round_id: int) -> Round:
    """Close a round: its sampling is over, so it leaves the open rounds (the command's list
    and the dashboard). Results of its tubes still land and positive pools are still
    followed up. Closing a closed round changes nothing."""
    actor.require(Perm.testing_write)
    round_ = get_round(session, actor=actor, round_id=round_id)
    outside = [c for c in round_.area_codes if not actor.covers(c)]
    if outside:  # a county sees the city's round (it samples its part) but ends it for no one
        raise Forbidden(T("round_outside", id=round_id, codes=joined(outside)))
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
        raise Invalid(T("barcodes_long"), problems=[
            Problem(T("too_long", barcode=b[:70]), field="barcodes") for b in bad[:50]])
    existing: dict[str, int] = {}
    for start in range(0, len(barcodes), 5000):
        existing.update(session.execute(select(Tube.barcode, Tube.round_id).where(
            Tube.barcode.in_(barcodes[start:start + 5000]))).all())
    elsewhere = [b for b, r in existing.items() if r != round_.id]
    if elsewhere:
        raise Conflict(T("barcodes_elsewhere"), problems=[
            Problem(T("barcode_elsewhere", barcode=b, round=existing[b]), field="barcodes")
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
        raise Invalid(CORE("outside_jurisdiction"), problems=[
            Problem(CORE("outside_jurisdiction"), field="division_code")])


def create_point(session: Session, *, actor: Actor, data: PointCreate) -> Point:
    actor.require(Perm.testing_write)
    _check_division(session, actor, data.division_code)
    if session.scalar(select(Point.id).where(Point.code == data.code)) is not None:
        raise Conflict(T("point_exists", code=data.code),
                       problems=[Problem(CORE("already_exists"), field="code")])
    point = Point(**data.model_dump())
    session.add(point)
    session.flush()
    return point


def create_lab(session: Session, *, actor: Actor, data: LabCreate) -> Lab:
    actor.require(Perm.testing_write)
    _check_division(session, actor, data.division_code)
    if session.scalar(select(Lab.id).where(Lab.code == data.code)) is not None:
        raise Conflict(T("lab_exists", code=data.code),
                       problems=[Problem(CORE("already_exists"), field="code")])
    lab = Lab(**data.model_dump())
    session.add(lab)
    session.flush()
    return lab


def points_and_labs(session: Session, *, actor: Actor) -> tuple[list[Point], list[Lab]]:
    """The collection points and labs registered in the actor's jurisdiction, by code (the
    ids a samples or results file names)."""
    actor.require(Perm.person_read)
    points = session.scalars(scope(select(Point), actor, Point.division_code)
                             .order_by(Point.code))
    labs = session.scalars(scope(select(Lab), actor, Lab.division_code).order_by(Lab.code))
    return list(points), list(labs)
