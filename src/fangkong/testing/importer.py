"""Bulk samples and results: every line checked, then one atomic, set-based merge.

Each line's own fields are checked here as the file is read (``open_table``/``Collector`` of
core.tabular, as every bulk import does); the checked rows go to a temporary staging table
(COPY on PostgreSQL, executemany on SQLite) a chunk at a time, the way the person importer
does. Everything that needs the database (unknown tubes and persons, tubes of another round,
results for tubes never sampled, lines repeated in the file, tubes over the size their members'
places allow, results that contradict a recorded one) is then found by a few joins of the
staging table with the database, and reported by line and field. Only a file without a single
problem is merged (INSERT ... SELECT of the new pairs only; UPDATE ... FROM), all inside a
savepoint of the caller's transaction: the file is written whole or not at all, and importing
it again changes nothing.

Results then set off, in the same transaction, what followup.py describes.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, cast

from sqlalchemy import (
    Column,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    case,
    exists,
    func,
    literal,
    not_,
    or_,
    select,
    text,
    union,
    union_all,
    update,
)
from sqlalchemy.orm import Session

from fangkong.config import get_settings
from fangkong.core import audit
from fangkong.core.auth import Actor, Perm, scope_clause
from fangkong.core.clock import parse_datetime, utc_now
from fangkong.core.db import UTCDateTime, is_postgres
from fangkong.core.errors import Problem
from fangkong.core.tabular import Collector, open_table
from fangkong.person.models import Person
from fangkong.testing import followup, service
from fangkong.testing.enums import RESULT_ALIASES, MemberStatus, Result
from fangkong.testing.models import FollowupMember, Lab, Point, Round, Sample, Target, Tube
from fangkong.testing.schemas import ImportReport

SAMPLE_COLUMNS = ["tube_id", "person_ref", "sampled_at", "point_id"]
SAMPLE_REQUIRED = ["tube_id", "person_ref", "sampled_at"]
RESULT_COLUMNS = ["tube_id", "result", "reported_at", "lab_id", "ct", "received_at",
                  "tested_at"]
RESULT_REQUIRED = ["tube_id", "result", "reported_at", "lab_id"]
CHUNK = 50_000
_SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"
_ANALYZE_AFTER = 10_000
"""Rows written after which PostgreSQL's statistics of the table are refreshed at once."""


class _Clock:
    def __init__(self, timings: dict[str, float] | None) -> None:
        self.timings = timings
        self.t = time.perf_counter()

    def lap(self, phase: str) -> None:
        now = time.perf_counter()
        if self.timings is not None:
            self.timings[phase] = self.timings.get(phase, 0.0) + now - self.t
        self.t = now


class _Stage:
    """A temporary table filled a chunk of rows at a time (COPY / executemany)."""

    def __init__(self, session: Session, name: str, columns: list[Column[Any]]) -> None:
        self.session, self.name = session, name
        self.table = Table(name, MetaData(), *columns, prefixes=["TEMPORARY"])
        self.names = [c.name for c in columns]
        self.postgres = is_postgres(session)
        self.kinds = [("time" if isinstance(c.type, UTCDateTime) else
                       "text" if isinstance(c.type, String) else "num") for c in columns]

    def create(self) -> None:
        conn = self.session.connection()
        self.table.drop(conn, checkfirst=True)
        self.table.create(conn)

    def analyze(self) -> None:
        """Statistics for PostgreSQL's planner (it has none for a fresh temporary table)."""
        if self.postgres:
            self.session.execute(text(f"ANALYZE {self.name}"))

    def drop(self) -> None:
        self.table.drop(self.session.connection(), checkfirst=True)

    def write(self, rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        raw = self.session.connection().connection.driver_connection
        assert raw is not None
        cols = ", ".join(self.names)
        if self.postgres:
            data = "".join(["\t".join([_copy_cell(v, k) for v, k in zip(row, self.kinds,
                                                                          strict=True)]) + "\n"
                            for row in rows])
            with raw.cursor() as cur, cur.copy(f"COPY {self.name} ({cols}) FROM STDIN") as cp:
                cp.write(data)
        else:
            marks = ", ".join("?" * len(self.names))
            times = [i for i, k in enumerate(self.kinds) if k == "time"]
            if times:
                rows = [tuple(v.strftime(_SQLITE_TIME) if i in times and v is not None else v
                              for i, v in enumerate(row)) for row in rows]
            cur = raw.cursor()
            cur.executemany(f"INSERT INTO {self.name} ({cols}) VALUES ({marks})", rows)
            cur.close()


def _copy_cell(value: Any, kind: str) -> str:
    if value is None:
        return "\\N"
    if kind == "text":
        text_ = str(value)
        if "\\" in text_ or "\t" in text_ or "\n" in text_ or "\r" in text_:
            text_ = (text_.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
                     .replace("\r", "\\r"))
        return text_
    if kind == "time":
        return str(value.isoformat())
    return str(value)


@contextmanager
def _batch(session: Session, *stages: _Stage) -> Iterator[None]:
    """A savepoint holding the staging tables: kept if the block ends normally."""
    savepoint = session.begin_nested()
    try:
        for stage in stages:
            stage.create()
        yield
        for stage in stages:
            stage.drop()
    except BaseException:
        savepoint.rollback()
        raise
    savepoint.commit()


class _Times:
    """Date-times of a file: each distinct text parsed once (files repeat them a lot)."""

    def __init__(self) -> None:
        self.zone = get_settings().timezone
        self.now = utc_now()
        self.cache: dict[Any, datetime | str] = {}

    def parse(self, value: Any) -> datetime | str:
        """The UTC date-time, or the problem's message."""
        hit = self.cache.get(value)
        if hit is None:
            try:
                parsed = parse_datetime(value, self.zone)
                hit = parsed if parsed <= self.now else "is in the future"
            except ValueError as exc:
                hit = str(exc)
            if len(self.cache) < 1_000_000:
                self.cache[value] = hit
        return hit


def _text(raw: dict[str, Any], key: str, limit: int, problems: list[Problem],
          required: bool = True) -> str | None:
    value = raw.get(key)
    value = value.strip() if isinstance(value, str) else (None if value is None else str(value))
    if not value:
        if required:
            problems.append(Problem("is required", field=key))
        return None
    if len(value) > limit:
        problems.append(Problem(f"is longer than {limit} characters", field=key))
        return None
    return value


def _by_code_or_id(session: Session, model: Any) -> dict[str, int]:
    rows = session.execute(select(model.id, model.code)).all()
    found = {str(i): i for i, _ in rows}
    found.update({code: i for i, code in rows})  # a code wins over an id spelled the same
    return found


def _report_lines(collector: Collector, rows: Any, message: Any, field: str) -> None:
    for row in rows:
        collector.add(row[0], [Problem(message(row), field=field)])


# -- samples ---------------------------------------------------------------------------------

def import_samples(session: Session, *, actor: Actor, round_id: int, source: Path | bytes,
                   filename: str | None = None, encoding: str | None = None,
                   timings: dict[str, float] | None = None) -> ImportReport:
    """Sample registrations ``tube_id,person_ref,sampled_at[,point_id]`` for a round: the
    tubes must have been issued to the round; a tube holds no more people than its kind and
    its members' places allow; a person sampled twice in the round is flagged, not refused."""
    actor.require(Perm.person_write)
    clock = _Clock(timings)
    round_ = service.get_round(session, actor=actor, round_id=round_id)
    rules = service.rules_of(round_)
    settings = get_settings()
    table = open_table(source, expected=SAMPLE_COLUMNS, required=SAMPLE_REQUIRED,
                       max_bytes=settings.import_max_bytes, filename=filename,
                       encoding=encoding)
    collector = Collector(table.filename, settings.import_max_errors)
    points = _by_code_or_id(session, Point)
    times = _Times()
    stage = _Stage(session, "testing_sample_stage", [
        Column("line", Integer), Column("barcode", String(64)), Column("person_ref", String(64)),
        Column("sampled_at", UTCDateTime), Column("point_id", Integer)])
    res = _Stage(session, "testing_sample_resolved", [
        Column("line", Integer), Column("tube_id", Integer), Column("person_id", Integer),
        Column("sampled_at", UTCDateTime), Column("point_id", Integer),
        Column("household_ref", String(64)), Column("pool_max", Integer),
        Column("household", Integer), Column("capacity", Integer), Column("result", String(20)),
        Column("known", Integer)])
    rows = 0
    with _batch(session, stage, res):
        chunk: list[tuple[Any, ...]] = []
        start = round_.start_at
        for line, raw in collector.rows(table):
            problems: list[Problem] = []
            barcode = _text(raw, "tube_id", 64, problems)
            ref = _text(raw, "person_ref", 64, problems)
            at: Any = None
            if raw.get("sampled_at"):
                at = times.parse(raw["sampled_at"])
                if isinstance(at, str):
                    problems.append(Problem(at, field="sampled_at"))
                elif at < start:
                    problems.append(Problem("is before the round's start", field="sampled_at"))
            else:
                problems.append(Problem("is required", field="sampled_at"))
            point = None
            if raw.get("point_id"):
                point = points.get(str(raw["point_id"]).strip())
                if point is None:
                    problems.append(Problem(f"unknown collection point {raw['point_id']}",
                                            field="point_id"))
            if problems:
                collector.add(line, problems)
                continue
            rows += 1
            chunk.append((line, barcode, ref, at, point))
            if len(chunk) >= CHUNK:
                clock.lap("read+check lines")
                stage.write(chunk)
                chunk = []
                clock.lap("stage")
        clock.lap("read+check lines")
        stage.write(chunk)
        clock.lap("stage")
        if not collector.total:
            stage.analyze()
            _resolve_samples(session, actor, round_, stage.table, res.table,
                             rules.pooling.elsewhere)
            res.analyze()
            clock.lap("resolve")
            _check_samples(session, actor, round_, stage.table, res.table, collector)
            clock.lap("check")
        collector.check()
        inserted, repeats = _merge_samples(session, round_, res.table, clock)
    audit.record(session, actor, action="import", record_type="testing_sample",
                 record_ids=[round_.id], fields=SAMPLE_COLUMNS,
                 detail={"file": table.filename, "sha256": table.sha256, "rows": rows,
                         "inserted": inserted})
    return ImportReport(file=table.filename, rows=rows, inserted=inserted,
                        unchanged=rows - inserted, repeats=repeats)


def _resolve_samples(session: Session, actor: Actor, round_: Round, s: Table, r: Table,
                     elsewhere: int) -> None:
    """One join pass: staged lines -> tube id, person id, and what limits the tube."""
    t, p = Tube.__table__, Person.__table__
    tg = Target.__table__
    known = exists().where(Sample.tube_id == t.c.id, Sample.person_id == p.c.id)
    src = (select(s.c.line, t.c.id, p.c.id, s.c.sampled_at, s.c.point_id, p.c.household_ref,
                  func.coalesce(tg.c.pool_max, elsewhere),
                  case((tg.c.household.is_(True), 1), else_=0), t.c.capacity, t.c.result,
                  case((known, 1), else_=0))
           .select_from(s.join(t, t.c.barcode == s.c.barcode)
                        .join(p, p.c.ref == s.c.person_ref)
                        .outerjoin(tg, and_(tg.c.round_id == round_.id,
                                            tg.c.person_id == p.c.id)))
           .where(t.c.round_id == round_.id, scope_clause(actor, p.c.division_code)))
    session.execute(r.insert().from_select([c.name for c in r.columns], src))


def _check_samples(session: Session, actor: Actor, round_: Round, s: Table, r: Table,
                   collector: Collector) -> None:
    limit = collector.limit
    t, p = Tube.__table__, Person.__table__
    unknown_tube = session.execute(
        select(s.c.line, s.c.barcode, t.c.round_id).select_from(
            s.outerjoin(t, t.c.barcode == s.c.barcode))
        .where(or_(t.c.id.is_(None), t.c.round_id != round_.id)).order_by(s.c.line)
        .limit(limit)).all()
    _report_lines(collector, unknown_tube, lambda row: (
        f"unknown tube {row[1]} (not issued)" if row[2] is None
        else f"tube {row[1]} was issued to round {row[2]}, not {round_.id}"), "tube_id")
    unknown_person = session.execute(
        select(s.c.line, s.c.person_ref).select_from(
            s.outerjoin(p, p.c.ref == s.c.person_ref))
        .where(or_(p.c.id.is_(None), not_(scope_clause(actor, p.c.division_code))))
        .order_by(s.c.line).limit(limit)).all()
    _report_lines(collector, unknown_person,
                  lambda row: f"no person with ref {row[1]} in your jurisdiction",
                  "person_ref")
    first = (select(s.c.barcode, s.c.person_ref, func.min(s.c.line).label("first"))
             .group_by(s.c.barcode, s.c.person_ref).having(func.count() > 1).subquery())
    dupes = session.execute(
        select(s.c.line, first.c.first).join(first, and_(
            first.c.barcode == s.c.barcode, first.c.person_ref == s.c.person_ref))
        .where(s.c.line > first.c.first).order_by(s.c.line).limit(limit)).all()
    _report_lines(collector, dupes, lambda row: f"same tube and person as line {row[1]}",
                  "tube_id")
    late = session.execute(select(r.c.line, t.c.barcode, t.c.result).join(
        t, t.c.id == r.c.tube_id).where(r.c.known == 0, r.c.result.is_not(None))
        .order_by(r.c.line).limit(limit)).all()
    _report_lines(collector, late, lambda row: f"tube {row[1]} already has its result "
                                               f"({row[2]}): no more samples", "tube_id")
    _check_full(session, round_, s, r, collector)


def _check_full(session: Session, round_: Round, s: Table, r: Table,
                collector: Collector) -> None:
    """Tubes holding more people (recorded + new) than the tube kind or the members' places
    allow, or a household tube (1户1管) mixing households."""
    sm, p, t = Sample.__table__, Person.__table__, Tube.__table__
    tg = Target.__table__
    elsewhere = service.rules_of(round_).pooling.elsewhere
    staged_tubes = select(r.c.tube_id).where(r.c.known == 0).distinct()
    # the tubes' recorded members (few: most tubes are new) and the new ones, as resolved
    recorded = (select(sm.c.tube_id, p.c.household_ref,
                       func.coalesce(tg.c.pool_max, elsewhere).label("pool_max"),
                       case((tg.c.household.is_(True), 1), else_=0).label("household"))
                .select_from(sm.join(p, p.c.id == sm.c.person_id)
                             .outerjoin(tg, and_(tg.c.round_id == round_.id,
                                                 tg.c.person_id == sm.c.person_id)))
                .where(sm.c.tube_id.in_(staged_tubes)))
    new = select(r.c.tube_id, r.c.household_ref, r.c.pool_max, r.c.household).where(
        r.c.known == 0)
    pairs = union_all(recorded, new).subquery()
    per = (select(pairs.c.tube_id, func.count().label("n"),
                  func.min(pairs.c.pool_max).label("lim"),
                  func.max(pairs.c.household).label("hh"),
                  func.count(func.distinct(pairs.c.household_ref)).label("nh"),
                  func.count(pairs.c.household_ref).label("nhr"))
           .group_by(pairs.c.tube_id).subquery())
    allowed = case((t.c.capacity < per.c.lim, t.c.capacity), else_=per.c.lim)
    bad = session.execute(
        select(t.c.id, t.c.barcode, per.c.n, allowed, per.c.hh, per.c.nh, per.c.nhr)
        .join(per, per.c.tube_id == t.c.id)
        .where(or_(per.c.n > allowed,
                   and_(per.c.hh == 1, per.c.n > 1,
                        or_(per.c.nh > 1, per.c.nhr < per.c.n))))
        .limit(collector.limit)).all()
    if not bad:
        return
    why = {}
    for tube_id, barcode, n, most, _hh, _nh, _nhr in bad:
        why[tube_id] = (f"tube {barcode} would hold {n} persons; at most {most} allowed "
                        "(its kind and its members' places)" if n > most else
                        f"tube {barcode} is a household tube (1户1管) but would hold persons "
                        "of different or unknown households")
    lines = session.execute(select(r.c.line, r.c.tube_id).where(
        r.c.tube_id.in_(list(why)), r.c.known == 0).order_by(r.c.line)
        .limit(collector.limit)).all()
    _report_lines(collector, lines, lambda row: why[row[1]], "tube_id")


def _merge_samples(session: Session, round_: Round, r: Table, clock: _Clock
                   ) -> tuple[int, int]:
    sm = cast(Table, Sample.__table__)
    # Persons sampled more than once in the round: twice in the file, or once before.
    fresh = r.c.known == 0
    repeated = list(session.scalars(union(
        select(r.c.person_id).where(fresh).group_by(r.c.person_id).having(func.count() > 1),
        select(r.c.person_id).where(fresh, exists().where(sm.c.person_id == r.c.person_id,
                                                          sm.c.round_id == round_.id)))))
    clock.lap("merge: repeats")
    src = select(literal(round_.id), r.c.tube_id, r.c.person_id, r.c.sampled_at, r.c.point_id,
                 literal(False)).where(fresh)
    stmt = sm.insert().from_select(["round_id", "tube_id", "person_id", "sampled_at",
                                    "point_id", "repeat"], src)
    # New pairs: not recorded (``known``) and not repeated in the file (checked), so every
    # one of them is inserted with a plain INSERT (ON CONFLICT's speculative insertion costs
    # more per row); the same pair from a concurrent import makes this one fail whole on the
    # unique constraint, which is what atomic means.
    inserted = session.scalar(select(func.count()).where(fresh)) or 0
    session.execute(stmt)
    clock.lap("merge: insert")
    if not inserted:
        return 0, 0
    for start in range(0, len(repeated), 5000):
        session.execute(update(Sample).where(
            Sample.round_id == round_.id,
            Sample.person_id.in_(repeated[start:start + 5000])).values(repeat=True))
    agg = (select(sm.c.tube_id, func.count().label("n"), func.min(sm.c.sampled_at).label("first"))
           .where(sm.c.tube_id.in_(select(r.c.tube_id).where(r.c.known == 0)))
           .group_by(sm.c.tube_id).subquery())
    session.execute(update(Tube).where(Tube.id == agg.c.tube_id)
                    .values(members=agg.c.n, first_sampled_at=agg.c.first))
    clock.lap("merge: tubes")
    if is_postgres(session) and inserted > _ANALYZE_AFTER:
        # Fresh statistics, or the planner takes the tables for as small as they were and
        # scans a million samples for each positive pool's members.
        session.execute(text("ANALYZE testing_sample"))
        session.execute(text("ANALYZE testing_tube"))
        clock.lap("merge: analyze")
    return inserted, len(repeated)


# -- results ---------------------------------------------------------------------------------

def import_results(session: Session, *, actor: Actor, source: Path | bytes,
                   filename: str | None = None, encoding: str | None = None,
                   timings: dict[str, float] | None = None) -> ImportReport:
    """Lab results ``tube_id,result,reported_at,lab_id[,ct,received_at,tested_at]``; a tube
    has one result. Positive and invalid tubes and re-tests set off followup.py at once."""
    actor.require(Perm.person_write)
    clock = _Clock(timings)
    settings = get_settings()
    table = open_table(source, expected=RESULT_COLUMNS, required=RESULT_REQUIRED,
                       max_bytes=settings.import_max_bytes, filename=filename,
                       encoding=encoding)
    collector = Collector(table.filename, settings.import_max_errors)
    labs = _by_code_or_id(session, Lab)
    times = _Times()
    stage = _Stage(session, "testing_result_stage", [
        Column("line", Integer), Column("barcode", String(64)), Column("result", String(20)),
        Column("reported_at", UTCDateTime), Column("lab_id", Integer), Column("ct", Float),
        Column("received_at", UTCDateTime), Column("tested_at", UTCDateTime)])
    rows = 0
    with _batch(session, stage):
        chunk: list[tuple[Any, ...]] = []
        for line, raw in collector.rows(table):
            problems: list[Problem] = []
            barcode = _text(raw, "tube_id", 64, problems)
            word = str(raw.get("result") or "").strip().lower()
            result = RESULT_ALIASES.get(word)
            if result is None:
                problems.append(Problem("must be positive, negative or invalid"
                                        if word else "is required", field="result"))
            stamps: dict[str, Any] = {}
            for key in ("reported_at", "received_at", "tested_at"):
                if raw.get(key):
                    value = times.parse(raw[key])
                    if isinstance(value, str):
                        problems.append(Problem(value, field=key))
                    stamps[key] = value
                elif key == "reported_at":
                    problems.append(Problem("is required", field=key))
            reported = stamps.get("reported_at")
            for key in ("received_at", "tested_at"):
                stamp = stamps.get(key)
                if isinstance(stamp, datetime) and isinstance(reported, datetime) \
                        and stamp > reported:
                    problems.append(Problem("is after reported_at", field=key))
            lab = labs.get(str(raw.get("lab_id") or "").strip())
            if lab is None:
                problems.append(Problem(f"unknown lab {raw.get('lab_id')}"
                                        if raw.get("lab_id") else "is required",
                                        field="lab_id"))
            ct = None
            if raw.get("ct") not in (None, ""):
                try:
                    ct = float(str(raw["ct"]).strip())
                    if not 0 <= ct <= 60:
                        raise ValueError
                except ValueError:
                    problems.append(Problem("must be a number between 0 and 60", field="ct"))
            if problems:
                collector.add(line, problems)
                continue
            rows += 1
            assert result is not None
            chunk.append((line, barcode, result.name, reported, lab, ct,
                          stamps.get("received_at"), stamps.get("tested_at")))
            if len(chunk) >= CHUNK:
                clock.lap("read+check lines")
                stage.write(chunk)
                chunk = []
                clock.lap("stage")
        clock.lap("read+check lines")
        stage.write(chunk)
        clock.lap("stage")
        if not collector.total:
            stage.analyze()
            _check_results(session, actor, stage.table, collector)
            clock.lap("check")
        collector.check()
        candidates, fresh = _merge_results(session, stage.table)
        clock.lap("merge")
        effects = followup.process(session, actor, candidates)
        clock.lap("positive pools")
    audit.record(session, actor, action="import", record_type="testing_result",
                 fields=RESULT_COLUMNS, detail={"file": table.filename, "sha256": table.sha256,
                                                "rows": rows, "inserted": fresh})
    return ImportReport(file=table.filename, rows=rows, inserted=fresh, unchanged=rows - fresh,
                        positive_tubes=effects.positive_tubes,
                        followups_opened=effects.followups_opened,
                        members_resolved=effects.members_resolved, cases=len(effects.cases))


def _check_results(session: Session, actor: Actor, s: Table, collector: Collector) -> None:
    limit = collector.limit
    t = Tube.__table__
    joined = s.outerjoin(t, t.c.barcode == s.c.barcode)
    problems = session.execute(
        select(s.c.line, s.c.barcode, t.c.id, t.c.members, t.c.result, t.c.reported_at,
               s.c.result, s.c.reported_at, t.c.first_sampled_at)
        .select_from(joined)
        .where(or_(t.c.id.is_(None), t.c.members == 0,
                   and_(t.c.result.is_not(None), or_(t.c.result != s.c.result,
                                                     t.c.reported_at != s.c.reported_at)),
                   s.c.reported_at < t.c.first_sampled_at))
        .order_by(s.c.line).limit(limit)).all()
    for line, barcode, tube_id, members, old, old_at, new, new_at, first in problems:
        field = "tube_id"
        if tube_id is None:
            msg = f"unknown tube {barcode}"
        elif not members:
            msg = f"tube {barcode} was never sampled"
        elif old is not None and (getattr(old, "name", old) != new or old_at != new_at):
            field = "result"
            msg = (f"tube {barcode} already has the result {getattr(old, 'value', old)} "
                   f"reported at {old_at.isoformat() if old_at else '?'}")
        else:
            field = "reported_at"
            msg = f"is before the tube's first sample ({first.isoformat()})"
        collector.add(line, [Problem(msg, field=field)])
    first = (select(s.c.barcode, func.min(s.c.line).label("first")).group_by(s.c.barcode)
             .having(func.count() > 1).subquery())
    dupes = session.execute(
        select(s.c.line, first.c.first).join(first, first.c.barcode == s.c.barcode)
        .where(s.c.line > first.c.first).order_by(s.c.line).limit(limit)).all()
    _report_lines(collector, dupes, lambda row: f"same tube as line {row[1]}", "tube_id")
    if not actor.national:
        rounds = session.scalars(select(t.c.round_id).join(s, s.c.barcode == t.c.barcode)
                                 .distinct()).all()
        hidden = []
        for round_id in rounds:
            try:
                service.get_round(session, actor=actor, round_id=round_id)
            except Exception:  # NotFound: not the actor's round
                hidden.append(round_id)
        if hidden:
            lines = session.execute(select(s.c.line, s.c.barcode).join(
                t, t.c.barcode == s.c.barcode).where(t.c.round_id.in_(hidden))
                .order_by(s.c.line).limit(limit)).all()
            _report_lines(collector, lines, lambda row: f"tube {row[1]} belongs to a round "
                                                        "outside your jurisdiction", "tube_id")


def _merge_results(session: Session, s: Table) -> tuple[list[int], int]:
    """Write the new results; return the tubes that may set something off, and how many
    tubes got their result now."""
    t, sm, fm = Tube.__table__, Sample.__table__, FollowupMember.__table__
    new = t.c.result.is_(None)
    pending = exists().where(sm.c.tube_id == t.c.id, fm.c.person_id == sm.c.person_id,
                             fm.c.status == MemberStatus.pending.name)
    joined = s.join(t, t.c.barcode == s.c.barcode)
    candidates = list(session.scalars(select(t.c.id).select_from(joined).where(
        new, or_(s.c.result.in_([Result.positive.name, Result.invalid.name]),
                 and_(t.c.members == 1, pending)))))
    fresh = session.scalar(select(func.count()).select_from(joined).where(new)) or 0
    session.execute(
        update(Tube).where(Tube.barcode == s.c.barcode, Tube.result.is_(None))
        .values(result=s.c.result, reported_at=s.c.reported_at, lab_id=s.c.lab_id,
                ct=s.c.ct, received_at=s.c.received_at, tested_at=s.c.tested_at))
    if is_postgres(session) and fresh > _ANALYZE_AFTER:
        session.execute(text("ANALYZE testing_tube"))
    return candidates, fresh
