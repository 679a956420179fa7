"""Bulk samples and results: every line checked, then one atomic, set-based merge.

A file (CSV, Parquet or XLSX) is read into Arrow columns and each line's own fields are
checked column by column (:mod:`fangkong.testing.bulk`); the checked rows go to a temporary
staging table (binary COPY on PostgreSQL, executemany on SQLite). One join of the staging table with
tubes, persons and the round's target then resolves every line (``LEFT JOIN``: a line whose
tube or person is unknown keeps a null), and everything that needs the database (unknown tubes
and persons, tubes of another round, results for tubes never sampled, lines repeated in the
file, tubes over the size their members' places allow, results that contradict a recorded
one) is found from that one resolved table, and reported by line and field. Only a file
without a single problem is merged (INSERT ... SELECT of the new pairs only; UPDATE ... FROM),
all inside a savepoint of the caller's transaction: the file is written whole or not at all,
and importing it again changes nothing.

Results then set off, in the same transaction, what followup.py describes.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, cast

import pyarrow as pa
import pyarrow.compute as pc
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
    or_,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select
from sqlalchemy.sql.ddl import CreateTableAs

from fangkong.config import get_settings
from fangkong.core import audit, pgcopy
from fangkong.core.auth import Actor, Perm, scope_clause
from fangkong.core.clock import parse_datetime, utc_now
from fangkong.core.db import UTCDateTime, is_postgres
from fangkong.core.errors import Problem
from fangkong.core.tabular import Collector
from fangkong.person import service as persons
from fangkong.person.models import Person
from fangkong.testing import bulk, figures, followup, service
from fangkong.testing.enums import RESULT_ALIASES, MemberStatus, Result
from fangkong.testing.models import FollowupMember, Lab, Point, Round, Sample, Target, Tube
from fangkong.testing.schemas import ImportReport

SAMPLE_COLUMNS = ["tube_id", "person_ref", "sampled_at", "point_id"]
SAMPLE_REQUIRED = ["tube_id", "person_ref", "sampled_at"]
RESULT_COLUMNS = ["tube_id", "result", "reported_at", "lab_id", "ct", "received_at",
                  "tested_at"]
RESULT_REQUIRED = ["tube_id", "result", "reported_at", "lab_id"]
CHUNK = 200_000
"""Rows per COPY / executemany call."""
_ANALYZE_AFTER = 10_000
"""Rows written after which PostgreSQL's statistics of the table are refreshed at once."""
SAMPLE_REFS_LOCK = "4004016, 13"
"""PostgreSQL's advisory lock (two-key form) of the testing references (migration 0017; a
round's targets too, migration 0020): held shared by sample and target writers until they
commit, taken exclusively by a deletion of a person, tube, collection point or round."""
IMPORT_ROLE = "fangkong_sample_import"
"""PostgreSQL's role whose statements the samples' trigger does not join with the persons and
tubes again (migration 0028): the import runs its INSERT as it, when the session may become
it; only members of the role may."""
_UTC = pa.timestamp("us", tz="UTC")
_SQLITE_CACHE_KIB = 262_144
"""SQLite's page cache during a bulk import (256 MiB; the default is 2 MiB): a city's
persons and samples indexes are then read from memory, not again and again from disk."""


class _Clock:
    def __init__(self, timings: dict[str, float] | None) -> None:
        self.timings = timings
        self.t = time.perf_counter()

    def lap(self, phase: str) -> None:
        now = time.perf_counter()
        if self.timings is not None:
            self.timings[phase] = self.timings.get(phase, 0.0) + now - self.t
        self.t = now


class _CreateUnloggedAs(CreateTableAs):
    """PostgreSQL's ``CREATE UNLOGGED TABLE ... AS`` (SQLAlchemy's construct knows
    ``TEMPORARY`` only)."""

    inherit_cache = False


@compiles(_CreateUnloggedAs, "postgresql")
def _create_unlogged_as(element: _CreateUnloggedAs, compiler: Any, **kw: Any) -> str:
    made = compiler.visit_create_table_as(element, **kw)
    assert made.startswith("CREATE TABLE ")
    return "CREATE UNLOGGED " + made.removeprefix("CREATE ")


_PG_KINDS = {Integer: "int4", Float: "float8", String: "text", UTCDateTime: "timestamptz"}
"""The staging columns' types as :mod:`fangkong.core.pgcopy` writes them."""


@contextmanager
def _settings(session: Session, values: dict[str, str]) -> Iterator[None]:
    """PostgreSQL settings for the block, put back after it (``SET LOCAL`` would last to the
    end of the caller's transaction). If the block fails, the batch's savepoint is rolled
    back, and with it these settings."""
    old = {name: session.scalar(text("SELECT current_setting(:n, true)"), {"n": name})
           for name in values}
    for name, value in values.items():
        session.execute(text("SELECT set_config(:n, :v, true)"), {"n": name, "v": value})
    yield
    for name, value in old.items():
        session.execute(text("SELECT set_config(:n, :v, true)"), {"n": name, "v": value or ""})


def _analyze(session: Session, name: str) -> None:
    """Statistics of a table for PostgreSQL's planner (a fresh staging table has none; the
    tubes' change with their results), from a small sample (3,000 rows: the joins over the
    table need its size and rough value counts, not fine histograms; the default sample of
    30,000 took 0.13 s a table per million rows)."""
    with _settings(session, {"default_statistics_target": "10"}):
        session.execute(text(f"ANALYZE {name}"))


class _Stage:
    """A staging table filled from an Arrow table (COPY / executemany), or made by a query.

    Temporary, or with ``unlogged`` (see :func:`_may_share`) an unlogged table that parallel
    workers can read (they cannot read a session's temporary tables), of a name of its own,
    created and dropped inside the import's savepoint, so never seen by another session."""

    def __init__(self, session: Session, name: str, columns: list[Column[Any]], *,
                 unlogged: bool = False, by_query: bool = False) -> None:
        self.session = session
        self.postgres = is_postgres(session)
        prefix = "TEMPORARY"
        if unlogged:
            name, prefix = f"{name}_{uuid.uuid4().hex[:12]}", "UNLOGGED"
        self.name = name
        self.table = Table(name, MetaData(), *columns, prefixes=[prefix])
        self.names = [c.name for c in columns]
        self.kinds = [_PG_KINDS[type(c.type)] for c in columns]
        self.unlogged = prefix == "UNLOGGED"
        self.by_query = by_query
        """Made by :meth:`create_as`, not by :meth:`create`."""

    def create(self) -> None:
        if self.by_query:
            return
        conn = self.session.connection()
        self.table.drop(conn, checkfirst=True)
        self.table.create(conn)

    def create_as(self, query: Select[Any]) -> None:
        """The table made from a query's rows, its columns named as the stage's: on
        PostgreSQL, unlike INSERT ... SELECT, the query may have a parallel plan."""
        assert self.by_query
        query = query.with_only_columns(*[column.label(name) for column, name in zip(
            query.selected_columns, self.names, strict=True)])
        conn = self.session.connection()
        self.table.drop(conn, checkfirst=True)
        conn.execute(_CreateUnloggedAs(query, self.name) if self.unlogged
                     else CreateTableAs(query, self.name, temporary=True))

    def analyze(self) -> None:
        if self.postgres:
            _analyze(self.session, self.name)

    def drop(self) -> None:
        self.table.drop(self.session.connection(), checkfirst=True)

    def write(self, data: pa.Table) -> None:
        """The Arrow table's columns, named and ordered as the stage's."""
        if not data.num_rows:
            return
        data = data.select(self.names)
        raw = self.session.connection().connection.driver_connection
        assert raw is not None
        cols = ", ".join(self.names)
        if self.postgres:
            # binary COPY built from the Arrow buffers: no value formatted or parsed as text
            with raw.cursor() as cur, cur.copy(
                    f"COPY {self.name} ({cols}) FROM STDIN (FORMAT binary)") as cp:
                for chunk in pgcopy.chunks(data, self.kinds, CHUNK):
                    cp.write(chunk)
            return
        marks = ", ".join("?" * len(self.names))
        cur = raw.cursor()
        for batch in data.to_batches(max_chunksize=CHUNK):
            columns = [pc.strftime(c, "%Y-%m-%d %H:%M:%S").to_pylist()  # SQLite's UTC text
                       if pa.types.is_timestamp(c.type) else c.to_pylist()
                       for c in batch.columns]
            cur.executemany(f"INSERT INTO {self.name} ({cols}) VALUES ({marks})",
                            zip(*columns, strict=True))
        cur.close()


def _may_share(session: Session) -> bool:
    """Whether staging tables can be unlogged ones, readable by parallel workers: on
    PostgreSQL, if the role may create tables in its schema."""
    return is_postgres(session) and bool(session.scalar(
        text("SELECT has_schema_privilege(current_schema(), 'CREATE')")))


_PARALLEL = {"parallel_setup_cost": "0", "parallel_tuple_cost": "0"}
"""The planner is told that starting parallel workers and handing rows to the leader cost
nothing, or it would not choose them for the millions of rows of a city's file (measured with
EXPLAIN ANALYZE on 7,000,000 lines: the resolving join took 13 s with two workers, 22 s
without)."""


@contextmanager
def _batch(session: Session, *stages: _Stage, parallel: bool = False) -> Iterator[None]:
    """A savepoint holding the staging tables: kept if the block ends normally. The
    database gets more memory for the batch (PostgreSQL's work_mem, SQLite's page cache),
    and, with ``parallel``, PostgreSQL's planner is pushed to parallel plans (:data:`_PARALLEL`);
    all put back after."""
    postgres = is_postgres(session)
    cache = None
    settings = ({"work_mem": service.WORK_MEM} | (_PARALLEL if parallel else {})
                if postgres else {})
    if not postgres:
        cache = session.execute(text("PRAGMA cache_size")).scalar()
        session.execute(text(f"PRAGMA cache_size = -{_SQLITE_CACHE_KIB}"))
    savepoint = session.begin_nested()
    try:
        with _settings(session, settings):
            for stage in stages:
                stage.create()
            yield
            for stage in stages:
                stage.drop()
    except BaseException:
        savepoint.rollback()
        raise
    finally:
        if cache is not None:
            session.execute(text(f"PRAGMA cache_size = {int(cache)}"))
    savepoint.commit()


class _Times:
    """Date-times of a file: each distinct text parsed once (files repeat them a lot)."""

    def __init__(self) -> None:
        self.zone = get_settings().timezone
        self.now = utc_now()

    def judge(self, value: str) -> tuple[datetime | None, str | None]:
        """The UTC date-time, or the problem's message."""
        try:
            parsed = parse_datetime(value, self.zone)
        except ValueError as exc:
            return None, str(exc)
        return (parsed, None) if parsed <= self.now else (None, "is in the future")


def _by_code_or_id(session: Session, model: Any) -> dict[str, int]:
    rows = session.execute(select(model.id, model.code)).all()
    found = {str(i): i for i, _ in rows}
    found.update({code: i for i, code in rows})  # a code wins over an id spelled the same
    return found


def _lookup(known: dict[str, int], what: str) -> Any:
    def judge(value: str) -> tuple[int | None, str | None]:
        hit = known.get(value.strip())
        return (hit, None) if hit is not None else (None, f"unknown {what} {value}")
    return judge


def _report_lines(collector: Collector, rows: Any, message: Any, field: str) -> None:
    for row in rows:
        collector.add(row[0], [Problem(message(row), field=field)])


def _read(source: Path | bytes, columns: list[str], required: list[str],
          filename: str | None, encoding: str | None) -> bulk.Frame:
    settings = get_settings()
    return bulk.read(source, expected=columns, required=required,
                     max_bytes=settings.import_max_bytes,
                     max_errors=settings.import_max_errors, filename=filename,
                     encoding=encoding)


# -- samples ---------------------------------------------------------------------------------

def import_samples(session: Session, *, actor: Actor, round_id: int, source: Path | bytes,
                   filename: str | None = None, encoding: str | None = None,
                   timings: dict[str, float] | None = None) -> ImportReport:
    """Sample registrations ``tube_id,person_ref,sampled_at[,point_id]`` for a round (CSV,
    Parquet or XLSX): the tubes must have been issued to the round; a tube holds no more people
    than its kind and its members' places allow; a person sampled twice in the round is
    flagged, not refused."""
    actor.require(Perm.testing_write)
    clock = _Clock(timings)
    round_ = service.get_round(session, actor=actor, round_id=round_id)
    rules = service.rules_of(round_)
    frame = _read(source, SAMPLE_COLUMNS, SAMPLE_REQUIRED, filename, encoding)
    collector = frame.collector
    clock.lap("read")
    checks = bulk.Checks(frame)
    barcode = checks.text("tube_id", 64)
    ref = checks.text("person_ref", 64)
    at = checks.distinct("sampled_at", _UTC, _Times().judge, blank="is required")
    checks.add(pc.less(at, pa.scalar(round_.start_at, _UTC)), "sampled_at",
               lambda _row: "is before the round's start")
    point = checks.distinct("point_id", pa.int64(),
                            _lookup(_by_code_or_id(session, Point), "collection point"))
    checks.report()
    clock.lap("check lines")
    rows = len(frame)
    shared = _may_share(session)
    stage = _Stage(session, "testing_sample_stage", [
        Column("line", Integer), Column("barcode", String(64)), Column("person_ref", String(64)),
        Column("sampled_at", UTCDateTime), Column("point_id", Integer)], unlogged=shared)
    res = _Stage(session, "testing_sample_resolved", [
        Column("line", Integer), Column("tube_id", Integer), Column("tube_round", Integer),
        Column("person_id", Integer), Column("sampled_at", UTCDateTime),
        Column("point_id", Integer), Column("household_ref", String(64)),
        Column("most", Integer), Column("household", Integer), Column("result", String(20)),
        Column("members", Integer), Column("known", Integer)], unlogged=shared, by_query=True)
    agg = _Stage(session, "testing_sample_tubes", [
        Column("tube_id", Integer), Column("n", Integer), Column("first", UTCDateTime),
        Column("lim", Integer), Column("hh", Integer), Column("hmin", String(64)),
        Column("hmax", String(64)), Column("nhr", Integer)], by_query=True)
    collector.check()
    several = _same_lines(frame.table.column("line"), barcode, ref, collector)
    clock.lap("check lines")
    with _batch(session, stage, res, agg, parallel=True):
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
            collector.add(row["line"], [Problem(f"same tube and person as line {first}",
                                                field="tube_id")])
    return True


def _resolve_samples(session: Session, actor: Actor, round_: Round, s: Table, res: _Stage,
                     elsewhere: int, sampled_before: bool) -> None:
    """One join pass: each staged line -> its tube (any round), its person (in the actor's
    jurisdiction), what limits the tube, and whether the pair is recorded already
    (``sampled_before``: whether the round has samples; if not, no pair can be).

    On PostgreSQL the pass may run in parallel workers (:data:`_PARALLEL`)."""
    t, p, sm = Tube.__table__, Person.__table__, Sample.__table__
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


def _check_samples(session: Session, round_: Round, s: Table, r: Table, agg: _Stage,
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
        _report_lines(collector, session.execute(
            select(r.c.line, s.c.barcode, r.c.tube_round).select_from(by_line)
            .where(bad_tube).order_by(r.c.line).limit(limit)).all(), lambda row: (
            f"unknown tube {row[1]} (not issued)" if row[2] is None
            else f"tube {row[1]} was issued to round {row[2]}, not {round_.id}"), "tube_id")
    if counts[1]:
        _report_lines(collector, session.execute(
            select(r.c.line, s.c.person_ref).select_from(by_line)
            .where(r.c.person_id.is_(None)).order_by(r.c.line).limit(limit)).all(),
            lambda row: f"no person with ref {row[1]} in your jurisdiction", "person_ref")
    # Persons on more than one line (few): lines naming the same tube and person again are
    # refused; a person in two tubes is a repeat, flagged.
    repeated: set[int] = set()
    if several:  # persons on more than one line of the file: those in two new samples
        repeated.update(pid for pid, fresh in session.execute(
            select(r.c.person_id, func.sum(1 - r.c.known)).where(r.c.person_id.is_not(None))
            .group_by(r.c.person_id).having(func.count() > 1)) if fresh > 1)
    if counts[2]:
        _report_lines(collector, session.execute(
            select(r.c.line, s.c.barcode, r.c.result).select_from(by_line)
            .where(late, r.c.tube_round == round_.id).order_by(r.c.line).limit(limit)).all(),
            lambda row: f"tube {row[1]} already has its result ({_word(row[2])}): "
                        "no more samples", "tube_id")
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


def _tube_totals(session: Session, round_: Round, r: Table, agg: _Stage,
                 elsewhere: int, sampled_before: bool) -> None:
    """Per tube with new members: its members (recorded + new), first sample, the most it
    may hold (its kind's capacity, its members' places), and their households (min/max/count:
    one household or not, in a hash aggregate)."""
    sm, p, tg = Sample.__table__, Person.__table__, Target.__table__
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
        why[tube_id] = (f"tube {barcode} would hold {n} persons; at most {most} allowed "
                        "(its kind and its members' places)" if n > most else
                        f"tube {barcode} is a household tube (1户1管) but would hold persons "
                        "of different or unknown households")
    lines = session.execute(select(r.c.line, r.c.tube_id).where(
        r.c.tube_id.in_(list(why)), r.c.known == 0).order_by(r.c.line)
        .limit(collector.limit)).all()
    _report_lines(collector, lines, lambda row: why[row[1]], "tube_id")


def _merge_samples(session: Session, round_: Round, r: Table, agg: Table,
                   repeated: list[int], clock: _Clock, sampled_before: bool) -> int:
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
    with _settings(session, resolved):
        done = session.execute(sm.insert().from_select(
            ["round_id", "tube_id", "person_id", "sampled_at", "point_id", "repeat"], src),
            execution_options={"preserve_rowcount": True})  # an INSERT's is not kept otherwise
    inserted = int(done.rowcount)  # type: ignore[attr-defined]
    clock.lap("merge: insert")
    if not inserted:
        return 0
    # Flagging the repeats changes no reference: the trigger need not join them again either
    # (it did, with every tube of every round, for each chunk of a file of repeats).
    with _settings(session, resolved):
        for start in range(0, len(repeated), 5000):
            session.execute(update(Sample).where(
                Sample.round_id == round_.id,
                Sample.person_id.in_(repeated[start:start + 5000])).values(repeat=True))
    t = cast(Table, Tube.__table__)
    session.execute(update(t).where(t.c.id == agg.c.tube_id)
                    .values(members=agg.c.n, first_sampled_at=agg.c.first))
    figures.place_tubes(session, round_.id, select(agg.c.tube_id))
    _expire_tubes(session)
    clock.lap("merge: tubes")
    if is_postgres(session) and inserted > _ANALYZE_AFTER:
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


def _expire_tubes(session: Session) -> None:
    """After a Core UPDATE of tubes (the ORM's would fetch every updated tube's id back,
    RETURNING, to refresh loaded tubes): the few tubes this session has loaded are expired."""
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Tube):
            session.expire(obj)


# -- results ---------------------------------------------------------------------------------

def import_results(session: Session, *, actor: Actor, source: Path | bytes,
                   filename: str | None = None, encoding: str | None = None,
                   timings: dict[str, float] | None = None) -> ImportReport:
    """Lab results ``tube_id,result,reported_at,lab_id[,ct,received_at,tested_at]`` (CSV,
    Parquet or XLSX); a tube has one result. Positive and invalid tubes and re-tests set off
    followup.py at once."""
    actor.require(Perm.testing_write)
    clock = _Clock(timings)
    frame = _read(source, RESULT_COLUMNS, RESULT_REQUIRED, filename, encoding)
    collector = frame.collector
    clock.lap("read")
    checks = bulk.Checks(frame)
    barcode = checks.text("tube_id", 64)
    result = checks.distinct("result", pa.string(), _result_word, blank="is required")
    times = _Times()
    stamps = {key: checks.distinct(key, _UTC, times.judge,
                                   blank="is required" if key == "reported_at" else None)
              for key in ("reported_at", "received_at", "tested_at")}
    for key in ("received_at", "tested_at"):
        checks.add(pc.greater(stamps[key], stamps["reported_at"]), key,
                   lambda _row: "is after reported_at")
    lab = checks.distinct("lab_id", pa.int64(), _lookup(_by_code_or_id(session, Lab), "lab"),
                          blank="is required")
    ct = checks.distinct("ct", pa.float64(), _ct)
    checks.report()
    clock.lap("check lines")
    rows = len(frame)
    collector.check()
    _same_tube(frame.table.column("line"), barcode, collector)
    stage = _Stage(session, "testing_result_stage", [
        Column("line", Integer), Column("barcode", String(64)), Column("result", String(20)),
        Column("reported_at", UTCDateTime), Column("lab_id", Integer), Column("ct", Float),
        Column("received_at", UTCDateTime), Column("tested_at", UTCDateTime)])
    with _batch(session, stage):
        stage.write(pa.table({"line": frame.table.column("line"), "barcode": barcode,
                              "result": result, "reported_at": stamps["reported_at"],
                              "lab_id": lab, "ct": ct, "received_at": stamps["received_at"],
                              "tested_at": stamps["tested_at"]}))
        clock.lap("stage")
        stage.analyze()
        candidates = _check_results(session, actor, stage.table, collector)
        clock.lap("check")
        collector.check()
        fresh = _merge_results(session, stage.table, clock)
        effects = followup.process(session, actor, candidates)
        clock.lap("positive pools")
    audit.record(session, actor, action="import", record_type="testing_result",
                 fields=RESULT_COLUMNS, detail={"file": frame.filename, "sha256": frame.sha256,
                                                "rows": rows, "inserted": fresh})
    return ImportReport(file=frame.filename, rows=rows, inserted=fresh, unchanged=rows - fresh,
                        positive_tubes=effects.positive_tubes,
                        followups_opened=effects.followups_opened,
                        members_resolved=effects.members_resolved, cases=len(effects.cases),
                        known_cases=len(effects.known_cases))


def _same_tube(lines: Any, barcode: pa.Array, collector: Collector) -> None:
    """Lines naming the tube of an earlier line (a hash aggregate in Arrow)."""
    keys = pa.table({"barcode": barcode, "line": lines})
    per = keys.group_by("barcode").aggregate([("line", "count"), ("line", "min")])
    again = per.filter(pc.greater(per.column("line_count"), 1))
    if not len(again):
        return
    first = dict(zip(again.column("barcode").to_pylist(), again.column("line_min").to_pylist(),
                     strict=True))
    picked = keys.filter(pc.is_in(keys.column("barcode"),
                                  value_set=again.column("barcode").combine_chunks()))
    for row in sorted(picked.to_pylist(), key=lambda row: row["line"]):
        if row["line"] != first[row["barcode"]]:
            collector.add(row["line"], [Problem(f"same tube as line {first[row['barcode']]}",
                                                field="tube_id")])


def _result_word(value: str) -> tuple[str | None, str | None]:
    word = value.strip().lower()
    found = RESULT_ALIASES.get(word)
    if found is None:
        return None, ("must be positive, negative or invalid" if word else "is required")
    return found.name, None


def _ct(value: str) -> tuple[float | None, str | None]:
    try:
        ct = float(value.strip())
    except ValueError:
        ct = -1.0
    if not 0 <= ct <= 60:
        return None, "must be a number between 0 and 60"
    return ct, None


def _check_results(session: Session, actor: Actor, s: Table,
                   collector: Collector) -> list[int]:
    """Report what is wrong; return the tubes that may set something off (a positive or
    invalid result, or a single tube of a pending member), found in the same join of the
    file with the tubes (a second join took 0.4 s for a city's results)."""
    limit = collector.limit
    t, sm, fm = Tube.__table__, Sample.__table__, FollowupMember.__table__
    joined = s.outerjoin(t, t.c.barcode == s.c.barcode)
    problem = or_(t.c.id.is_(None), t.c.members == 0,
                  and_(t.c.result.is_not(None), or_(t.c.result != s.c.result,
                                                    t.c.reported_at != s.c.reported_at)),
                  s.c.reported_at < t.c.first_sampled_at)
    pending = exists().where(sm.c.tube_id == t.c.id, fm.c.person_id == sm.c.person_id,
                             fm.c.status == MemberStatus.pending.name)
    candidate = and_(t.c.result.is_(None),
                     or_(s.c.result.in_([Result.positive.name, Result.invalid.name]),
                         and_(t.c.members == 1, pending)))
    rows = session.execute(
        select(s.c.line, s.c.barcode, t.c.id, t.c.members, t.c.result, t.c.reported_at,
               s.c.result, s.c.reported_at, t.c.first_sampled_at,
               case((problem, 1), else_=0))
        .select_from(joined).where(or_(problem, candidate))).all()
    problems = sorted(row[:9] for row in rows if row[9])
    for line, barcode, tube_id, members, old, old_at, new, new_at, first in problems[:limit]:
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
    return [row[2] for row in rows if not row[9]]


def _merge_results(session: Session, s: Table, clock: _Clock) -> int:
    """Write the new results; return how many tubes got their result now."""
    t = cast(Table, Tube.__table__)
    # A Core UPDATE (the ORM's RETURNING was a third of the statement's time for a city's
    # results), loaded tubes expired.
    done = session.execute(
        update(t).where(t.c.barcode == s.c.barcode, t.c.result.is_(None))
        .values(result=s.c.result, reported_at=s.c.reported_at, lab_id=s.c.lab_id,
                ct=s.c.ct, received_at=s.c.received_at, tested_at=s.c.tested_at))
    fresh = int(done.rowcount)  # type: ignore[attr-defined]
    if fresh:  # answered tubes wait no more (the round's kept figures)
        figures.answer_tubes(session, select(t.c.id).where(t.c.barcode.in_(select(s.c.barcode))))
    _expire_tubes(session)
    clock.lap("merge: update")
    if is_postgres(session) and fresh > _ANALYZE_AFTER:
        _analyze(session, "testing_tube")  # the share of tubes with a result, mostly
        clock.lap("merge: analyze")
    return fresh
