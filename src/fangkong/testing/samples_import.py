"""The samples import: a round's sample registrations (``tube_id,person_ref,sampled_at
[,point_id]``), checked line by line, resolved in one join with tubes, persons and the round's
target, and merged whole or not at all (:mod:`fangkong.testing.importer` describes the path).

A single-tube sample of a person waiting for a re-collection (a member of a positive pool, or
of an invalid tube) is what the re-collection task asked for: the import announces it
(``testing.resampled``), which ends the person's re-collection task when the swab is taken,
not when its result comes back."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any, cast

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import (
    Column,
    Integer,
    String,
    Table,
    and_,
    case,
    exists,
    func,
    literal,
    or_,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy.orm import Session

from fangkong.core import audit, events
from fangkong.core.auth import Actor, Perm, scope_clause
from fangkong.core.db import UTCDateTime, is_postgres
from fangkong.core.errors import Problem
from fangkong.core.tabular import Collector
from fangkong.person import service as persons
from fangkong.testing import bulk, figures, service, staging
from fangkong.testing.enums import Result
from fangkong.testing.messages import T
from fangkong.testing.models import Point, Round, Sample, Target, Tube
from fangkong.testing.schemas import ImportReport

SAMPLE_COLUMNS = ["tube_id", "person_ref", "sampled_at", "point_id"]
SAMPLE_REQUIRED = ["tube_id", "person_ref", "sampled_at"]
SAMPLE_REFS_LOCK = "4004016, 13"
"""PostgreSQL's advisory lock (two-key form) of the testing references (migration 0017; a
round's targets too, migration 0020): held shared by sample and target writers until they
commit, taken exclusively by a deletion of a person, tube, collection point or round."""
IMPORT_ROLE = "fangkong_sample_import"
"""PostgreSQL's role whose statements the samples' trigger does not join with the persons and
tubes again (migration 0028): the import runs its INSERT as it, when the session may become
it; only members of the role may."""


def import_samples(session: Session, *, actor: Actor, round_id: int, source: Path | bytes,
                   filename: str | None = None, encoding: str | None = None,
                   timings: dict[str, float] | None = None) -> ImportReport:
    """Sample registrations ``tube_id,person_ref,sampled_at[,point_id]`` for a round (CSV,
    Parquet or XLSX): the tubes must have been issued to the round; a tube holds no more people
    than its kind and its members' places allow; a person sampled twice in the round is
    flagged, not refused."""
    actor.require(Perm.testing_write)
    clock = staging.Clock(timings)
    round_ = service.get_round(session, actor=actor, round_id=round_id)
    rules = service.rules_of(round_)
    frame = staging.read(source, SAMPLE_COLUMNS, SAMPLE_REQUIRED, filename, encoding)
    collector = frame.collector
    clock.lap("read")
    checks = bulk.Checks(frame)
    barcode = checks.text("tube_id", 64)
    ref = checks.text("person_ref", 64)
    at = checks.distinct("sampled_at", staging.TIMESTAMP_UTC, staging.Times().judge,
                         blank=T("line.required"))
    checks.add(pc.less(at, pa.scalar(round_.start_at, staging.TIMESTAMP_UTC)), "sampled_at",
               lambda _row: T("line.before_start"))
    points = staging.by_code_or_id(session, Point)
    point = checks.distinct("point_id", pa.int64(), staging.lookup(points, "collection point"))
    checks.report()
    clock.lap("check lines")
    rows = len(frame)
    shared = staging.may_share(session)
    stage = staging.Stage(session, "testing_sample_stage", [
        Column("line", Integer), Column("barcode", String(64)), Column("person_ref", String(64)),
        Column("sampled_at", UTCDateTime), Column("point_id", Integer)], unlogged=shared)
    res = staging.Stage(session, "testing_sample_resolved", [
        Column("line", Integer), Column("tube_id", Integer), Column("tube_round", Integer),
        Column("person_id", Integer), Column("sampled_at", UTCDateTime),
        Column("point_id", Integer), Column("household_ref", String(64)),
        Column("most", Integer), Column("household", Integer), Column("result", String(20)),
        Column("members", Integer), Column("known", Integer)], unlogged=shared, by_query=True)
    agg = staging.Stage(session, "testing_sample_tubes", [
        Column("tube_id", Integer), Column("n", Integer), Column("first", UTCDateTime),
        Column("lim", Integer), Column("hh", Integer), Column("hmin", String(64)),
        Column("hmax", String(64)), Column("nhr", Integer)], by_query=True)
    collector.check()
    several = _same_lines(frame.table.column("line"), barcode, ref, collector)
    clock.lap("check lines")
    with staging.batch(session, stage, res, agg, parallel=True):
        stage.write(pa.table({"line": frame.table.column("line"), "barcode": barcode,
                              "person_ref": ref, "sampled_at": at, "point_id": point}))
        clock.lap("stage")
        stage.analyze()
        sampled_before = session.scalar(select(Tube.id).where(
            Tube.round_id == round_.id, Tube.members > 0).limit(1)) is not None
        _resolve_samples(session, actor, round_, stage.table, res,
                         rules.pooling.elsewhere, sampled_before)
        res.analyze()
        clock.lap("resolve")
        repeated = _check_samples(session, round_, stage.table, res.table, agg,
                                  collector, rules.pooling.elsewhere, several, sampled_before)
        clock.lap("check")
        collector.check()
        inserted = _merge_samples(session, round_, res.table, agg.table, repeated, clock,
                                  sampled_before)
        swabbed = _resampled(session, res.table) if inserted else {}
    if swabbed:
        # the swab a re-collection task asked for is taken: the task is done (its result,
        # later, is the follow-up's business)
        events.publish(session, events.Event(
            "testing.resampled", actor=actor, subject_type="person",
            subject_ids=sorted(swabbed), at=swabbed,
            reason=f"single tube sampled in testing round {round_.id}"))
    audit.record(session, actor, action="import", record_type="testing_sample",
                 record_ids=[round_.id], fields=SAMPLE_COLUMNS,
                 detail={"file": frame.filename, "sha256": frame.sha256, "rows": rows,
                         "inserted": inserted})
    return ImportReport(file=frame.filename, rows=rows, inserted=inserted,
                        unchanged=rows - inserted, repeats=len(repeated) if inserted else 0)


def _same_lines(lines: Any, barcode: pa.Array, ref: pa.Array, collector: Collector) -> bool:
    """Lines naming a tube and person of an earlier line are refused (hash aggregates in
    Arrow); returns whether any person is on more than one line (in two tubes: a repeat)."""
    keys = pa.table({"barcode": barcode, "ref": ref, "line": lines})
    per_ref = keys.group_by("ref").aggregate([("line", "count")])
    several = per_ref.filter(pc.greater(per_ref.column("line_count"), 1)).column("ref")
    if not len(several):
        return False
    seen: dict[tuple[str, str], int] = {}
    picked = keys.filter(pc.is_in(keys.column("ref"), value_set=several.combine_chunks()))
    for row in sorted(picked.to_pylist(), key=lambda row: row["line"]):
        first = seen.setdefault((row["barcode"], row["ref"]), row["line"])
        if first != row["line"]:
            collector.add(row["line"], [Problem(T("same_tube_person", line=first),
                                                field="tube_id")])
    return True


def _resolve_samples(session: Session, actor: Actor, round_: Round, s: Table, res: staging.Stage,
                     elsewhere: int, sampled_before: bool) -> None:
    """One join pass: each staged line -> its tube (any round), its person (in the actor's
    jurisdiction), what limits the tube, and whether the pair is recorded already
    (``sampled_before``: whether the round has samples; if not, no pair can be).

    On PostgreSQL the pass may run in parallel workers
    (:data:`fangkong.testing.staging._PARALLEL`)."""
    t, p, sm = Tube.__table__, persons.table(), Sample.__table__
    tg = Target.__table__
    # the pair recorded already: a join (hash or merge on a re-import of millions of lines,
    # index lookups for a few), not a lookup per line; none in a round without samples (the
    # usual first file of a round), where the join would read every sample of every round
    known = sm.c.tube_id.is_not(None) if sampled_before else literal(False)
    # a person the actor may sample: living in their jurisdiction, or counted there by the
    # round (staying there)
    visible = or_(persons.readable_clause(actor),
                  scope_clause(actor, tg.c.division_code))
    person_id = p.c.id if actor.national else case((visible, p.c.id))
    joined = (s.outerjoin(t, t.c.barcode == s.c.barcode)
              .outerjoin(p, p.c.ref == s.c.person_ref)
              .outerjoin(tg, and_(tg.c.round_id == round_.id, tg.c.person_id == p.c.id)))
    if sampled_before:
        joined = joined.outerjoin(sm, and_(sm.c.person_id == p.c.id,  # the whole key
                                           sm.c.round_id == t.c.round_id,
                                           sm.c.tube_id == t.c.id))
    place = func.coalesce(tg.c.pool_max, elsewhere)
    values = [s.c.line, t.c.id, t.c.round_id, person_id, s.c.sampled_at, s.c.point_id,
              p.c.household_ref, case((t.c.capacity < place, t.c.capacity), else_=place),
              case((tg.c.household.is_(True), 1), else_=0), t.c.result, t.c.members,
              case((known, 1), else_=0)]
    if res.postgres:
        # the persons and tubes found here cannot be deleted from now on (migration 0017's
        # lock, otherwise first taken by the trigger when the samples are written): the
        # trigger trusts this pass (migration 0018)
        session.execute(text(f"SELECT pg_advisory_xact_lock_shared({SAMPLE_REFS_LOCK})"))
    res.create_as(select(*values).select_from(joined))


def _check_samples(session: Session, round_: Round, s: Table, r: Table, agg: staging.Stage,
                   collector: Collector, elsewhere: int, several: bool,
                   sampled_before: bool) -> list[int]:
    """Report what is wrong, from the resolved lines; return the persons sampled more than
    once in the round (in this file, or before). ``several``: some person is on more than
    one line of the file."""
    limit = collector.limit
    bad_tube = or_(r.c.tube_id.is_(None), r.c.tube_round != round_.id)
    late = and_(r.c.known == 0, r.c.result.is_not(None))
    counts = session.execute(select(
        func.coalesce(func.sum(case((bad_tube, 1), else_=0)), 0),
        func.coalesce(func.sum(case((r.c.person_id.is_(None), 1), else_=0)), 0),
        func.coalesce(func.sum(case((and_(late, r.c.tube_round == round_.id), 1),
                                    else_=0)), 0))).one()
    by_line = s.join(r, r.c.line == s.c.line)
    if counts[0]:
        staging.report_lines(collector, session.execute(
            select(r.c.line, s.c.barcode, r.c.tube_round).select_from(by_line)
            .where(bad_tube).order_by(r.c.line).limit(limit)).all(), lambda row: (
            T("line.unknown_tube_issued", barcode=row[1]) if row[2] is None
            else T("line.other_round", barcode=row[1], other=row[2], round=round_.id)),
            "tube_id")
    if counts[1]:
        staging.report_lines(collector, session.execute(
            select(r.c.line, s.c.person_ref).select_from(by_line)
            .where(r.c.person_id.is_(None)).order_by(r.c.line).limit(limit)).all(),
            lambda row: T("line.no_person", ref=row[1]), "person_ref")
    # Persons on more than one line (few): lines naming the same tube and person again are
    # refused; a person in two tubes is a repeat, flagged.
    repeated: set[int] = set()
    if several:  # persons on more than one line of the file: those in two new samples
        repeated.update(pid for pid, fresh in session.execute(
            select(r.c.person_id, func.sum(1 - r.c.known)).where(r.c.person_id.is_not(None))
            .group_by(r.c.person_id).having(func.count() > 1)) if fresh > 1)
    if counts[2]:
        staging.report_lines(collector, session.execute(
            select(r.c.line, s.c.barcode, r.c.result).select_from(by_line)
            .where(late, r.c.tube_round == round_.id).order_by(r.c.line).limit(limit)).all(),
            lambda row: T("line.has_result", barcode=row[1], result=_word(row[2])),
            "tube_id")
    if collector.total:
        return []
    sm = Sample.__table__
    if sampled_before:
        repeated.update(session.scalars(select(r.c.person_id).where(
            r.c.known == 0, exists().where(sm.c.person_id == r.c.person_id,
                                           sm.c.round_id == round_.id)).distinct()))
    _tube_totals(session, round_, r, agg, elsewhere, sampled_before)
    _check_full(session, r, agg.table, collector)
    return sorted(repeated)


def _word(result: Any) -> str:
    value = getattr(result, "value", result)
    return Result[value].value if value in Result.__members__ else str(value)


def _tube_totals(session: Session, round_: Round, r: Table, agg: staging.Stage,
                 elsewhere: int, sampled_before: bool) -> None:
    """Per tube with new members: its members (recorded + new), first sample, the most it
    may hold (its kind's capacity, its members' places), and their households (min/max/count:
    one household or not, in a hash aggregate)."""
    sm, p, tg = Sample.__table__, persons.table(), Target.__table__
    fresh = r.c.known == 0
    new = select(r.c.tube_id, r.c.sampled_at, r.c.most, r.c.household,
                 r.c.household_ref).where(fresh)
    # the tubes' recorded members (few: most tubes are new)
    recorded = (select(sm.c.tube_id, sm.c.sampled_at,
                       func.coalesce(tg.c.pool_max, elsewhere),
                       case((tg.c.household.is_(True), 1), else_=0), p.c.household_ref)
                .select_from(sm.join(p, p.c.id == sm.c.person_id)
                             .outerjoin(tg, and_(tg.c.round_id == round_.id,
                                                 tg.c.person_id == sm.c.person_id)))
                .where(sm.c.tube_id.in_(select(r.c.tube_id).where(fresh, r.c.members > 0))))
    # none in a round without samples (the usual first file): then the aggregate reads one
    # table, in parallel on PostgreSQL
    pairs = (union_all(new, recorded) if sampled_before else new).subquery()
    agg.create_as(select(
        pairs.c.tube_id, func.count(), func.min(pairs.c.sampled_at), func.min(pairs.c.most),
        func.max(pairs.c.household), func.min(pairs.c.household_ref),
        func.max(pairs.c.household_ref), func.count(pairs.c.household_ref))
        .group_by(pairs.c.tube_id))
    agg.analyze()


def _check_full(session: Session, r: Table, agg: Table, collector: Collector) -> None:
    """Tubes holding more people (recorded + new) than the tube kind or the members' places
    allow, or a household tube (1户1管) mixing households."""
    t = Tube.__table__
    # the conditions on the totals alone: the planner scans them, then looks up the few bad
    # tubes (with the tube's capacity in the condition, it took a lookup per tube: 2 s for a
    # city's 467,973 tubes)
    bad = session.execute(
        select(agg.c.tube_id, t.c.barcode, agg.c.n, agg.c.lim)
        .join(t, t.c.id == agg.c.tube_id)
        .where(or_(agg.c.n > agg.c.lim,
                   and_(agg.c.hh == 1, agg.c.n > 1,
                        or_(agg.c.hmin != agg.c.hmax, agg.c.nhr < agg.c.n))))
        .limit(collector.limit)).all()
    if not bad:
        return
    why = {}
    for tube_id, barcode, n, most in bad:
        why[tube_id] = (T("line.too_many", barcode=barcode, n=n, most=most) if n > most
                        else T("line.household_tube", barcode=barcode))
    lines = session.execute(select(r.c.line, r.c.tube_id).where(
        r.c.tube_id.in_(list(why)), r.c.known == 0).order_by(r.c.line)
        .limit(collector.limit)).all()
    staging.report_lines(collector, lines, lambda row: why[row[1]], "tube_id")


def _merge_samples(session: Session, round_: Round, r: Table, agg: Table,
                   repeated: list[int], clock: staging.Clock, sampled_before: bool) -> int:
    sm = cast(Table, Sample.__table__)
    fresh = r.c.known == 0
    # the round's kept figures: the target persons sampled for the first time now
    figures.add_sampled(session, round_.id, select(r.c.person_id).where(fresh), sampled_before)
    src = select(literal(round_.id), r.c.tube_id, r.c.person_id, r.c.sampled_at, r.c.point_id,
                 literal(False)).where(fresh)
    if is_postgres(session):
        # In person order: the key (person, round, tube) is then written in turn, not at
        # random across the whole index (migration 0019).
        src = src.order_by(r.c.person_id)
    # New pairs: not recorded (``known``) and not repeated in the file (checked), so every
    # one of them is inserted with a plain INSERT (ON CONFLICT's speculative insertion costs
    # more per row); the same pair from a concurrent import makes this one fail whole on the
    # unique constraint, which is what atomic means.
    # Every person and tube here was found by _resolve_samples' join, under the references'
    # lock: the INSERT runs as the import's role, whose statements PostgreSQL's trigger does
    # not join again (migration 0028), if this session may become it.
    resolved = _import_role(session, r)
    with staging.settings(session, resolved):
        done = session.execute(sm.insert().from_select(
            ["round_id", "tube_id", "person_id", "sampled_at", "point_id", "repeat"], src),
            execution_options={"preserve_rowcount": True})  # an INSERT's is not kept otherwise
    inserted = int(done.rowcount)  # type: ignore[attr-defined]
    clock.lap("merge: insert")
    if not inserted:
        return 0
    # Flagging the repeats changes no reference: the trigger need not join them again either
    # (it did, with every tube of every round, for each chunk of a file of repeats).
    with staging.settings(session, resolved):
        for start in range(0, len(repeated), 5000):
            session.execute(update(Sample).where(
                Sample.round_id == round_.id,
                Sample.person_id.in_(repeated[start:start + 5000])).values(repeat=True))
    t = cast(Table, Tube.__table__)
    session.execute(update(t).where(t.c.id == agg.c.tube_id)
                    .values(members=agg.c.n, first_sampled_at=agg.c.first))
    figures.place_tubes(session, round_.id, select(agg.c.tube_id))
    staging.expire_tubes(session)
    clock.lap("merge: tubes")
    if is_postgres(session) and inserted > staging.ANALYZE_AFTER:
        # Fresh statistics, or the planner takes the tables for as small as they were and
        # scans a million samples for each positive pool's members.
        session.execute(text("ANALYZE testing_sample"))
        session.execute(text("ANALYZE testing_tube"))
        clock.lap("merge: analyze")
    return inserted


def _import_role(session: Session, staged: Table) -> dict[str, str]:
    """The settings that make the session the import's role (:data:`IMPORT_ROLE`) and let it
    read ``staged``; none if it may not become it (or on SQLite): the INSERT is then checked
    in full."""
    if not is_postgres(session) or not session.scalar(text(
            "SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :r) "
            "THEN pg_has_role(:r, 'MEMBER') ELSE false END"), {"r": IMPORT_ROLE}):
        return {}
    session.execute(text(f"GRANT SELECT ON {staged.name} TO {IMPORT_ROLE}"))
    return {"role": IMPORT_ROLE}


def _resampled(session: Session, r: Table) -> dict[int, datetime]:
    """The persons of the file's new single-tube samples of whom a re-collection was asked
    (they were in a positive or an invalid tube before), with when their swab was taken."""
    t, sm = cast(Table, Tube.__table__), cast(Table, Sample.__table__)
    earlier = t.alias("earlier")
    asked = (select(sm.c.person_id).select_from(sm.join(earlier, earlier.c.id == sm.c.tube_id))
             .where(earlier.c.result.in_([Result.positive, Result.invalid])))
    rows = session.execute(
        select(r.c.person_id, func.min(r.c.sampled_at)).select_from(
            r.join(t, t.c.id == r.c.tube_id))
        .where(r.c.known == 0, t.c.capacity == 1, r.c.person_id.in_(asked))
        .group_by(r.c.person_id)).all()
    return {person_id: at for person_id, at in rows}
