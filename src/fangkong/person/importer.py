"""Bulk import of persons from CSV or XLSX: all lines checked, then one atomic upsert.

A plain UTF-8 CSV file is read into Arrow columns (``core.frames``, the reader the testing
imports use too) and its lines are checked per column, a chunk at a time, with
``records.normalise_columns``; any other file (XLSX, another encoding, irregular lines) is read
row by row (``core.tabular``) and checked line by line with ``records.normalise``. Both are the
API's own checks, with the same messages by line and field. Valid rows become
columns with ``records.bulk_columns`` (encryption, keyed hashes, masks: ``to_columns`` for many
rows), a chunk of rows at a time; on PostgreSQL, an Arrow table that is sent with a binary COPY
(``staging``). There, while no chunk has met a record already in the
database, a chunk is COPYed straight into the person table (in a savepoint: its unique indexes
find any conflict, and then the chunk is rolled back and goes the next way). Otherwise a chunk
goes into a temporary staging table (COPY on PostgreSQL, executemany on SQLite); there SQL joins
find its conflicts with the records already in the database, and it is merged with ``INSERT ...
SELECT ... ON CONFLICT (ref) DO UPDATE ... WHERE row_hash changed`` (a plain INSERT when none of
its refs is recorded yet). A worker thread does a chunk's work in the database while the next
chunk's lines are checked here; where the settings ask for it (``import_second_process``, for
machines with more than two cores), a large chunk's columns (encryption, hashes) are made
meanwhile in a second process (``staging``). The file is never held in memory as Python
objects.

It is all one batch: everything runs in a savepoint of the caller's transaction, and unless every
line of the file is valid and no row conflicts, the savepoint is rolled back and the problems
(file, line, field) are raised; what is reported is what checking the whole file against the
database as it was before the import finds (see ``_Batch``). Importing the same file again
changes nothing.
"""

from __future__ import annotations

import gc
import hashlib
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from datetime import date
from itertools import repeat
from pathlib import Path
from types import TracebackType
from typing import Any, cast

import pyarrow as pa
from sqlalchemy import Column, MetaData, Table, func, not_, select, text, true, union
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fangkong.config import get_settings
from fangkong.core import audit, frames
from fangkong.core.auth import Actor, Perm, scope_clause
from fangkong.core.clock import utc_now
from fangkong.core.db import is_postgres
from fangkong.core.errors import Conflict, Problem
from fangkong.core.tabular import Collector, open_table, read_source
from fangkong.geo import service as geo
from fangkong.person import records, staging
from fangkong.person.enums import IdType, Sex
from fangkong.person.models import Person
from fangkong.person.schemas import ImportReport
from fangkong.person.service import cipher, digest_key

COLUMNS = [c for c in records.FIELDS]
CHUNK = 50_000
"""Valid rows staged and merged at a time."""
FIRST_CHUNK = 10_000
"""Rows of the first chunk: fewer, so that the database starts on them sooner (it then works
on a chunk while the next one is checked here)."""
_SLICE = 10_000
"""Rows encrypted and formatted at a time (SQLite)."""
STAGE_ELSEWHERE_FROM = CHUNK
"""Chunks of this many rows or more are staged in a second process (PostgreSQL), where the
settings' ``import_second_process`` asks for one."""
_PERSON = cast(Table, Person.__table__)
_WRITE_COLS = staging.WRITE_COLS
_UPDATE_COLS = [c for c in _WRITE_COLS if c not in ("ref", "created_at")]
_STAGE_COLS = ["line", *_WRITE_COLS]
_SQLITE_CACHE_KIB = 256 * 1024
_UNIQUE_VIOLATION = "23505"


class _Clock:
    """Seconds spent per phase, for ``timings`` (the benchmark prints them). Phases run in two
    threads at once, so their sum can exceed the time the import took."""

    def __init__(self, timings: dict[str, float] | None) -> None:
        self.timings = timings

    def add(self, phase: str, since: float) -> float:
        now = time.perf_counter()
        if self.timings is not None:
            self.timings[phase] = self.timings.get(phase, 0.0) + now - since
        return now


def import_file(
    session: Session,
    *,
    actor: Actor,
    source: Path | bytes,
    filename: str | None = None,
    encoding: str | None = None,
    progress: Callable[[int], None] | None = None,
    timings: dict[str, float] | None = None,
) -> ImportReport:
    """Check every line of the file, then write all of it or, if anything is wrong, nothing.

    ``progress`` is called with 50,000 every 50,000 lines read; ``timings``, if given, gets
    the seconds spent per phase.
    """
    actor.require(Perm.person_write)
    settings = get_settings()
    clock = _Clock(timings)
    t0 = time.perf_counter()
    name, data = read_source(source, filename=filename, max_bytes=settings.import_max_bytes)
    sha256 = hashlib.sha256(data).hexdigest()
    today = date.today()
    plain = frames.plain_csv(name, data, expected=COLUMNS, required=records.REQUIRED,
                             encoding=encoding, skip_blank_lines=True)
    collector = Collector(name, settings.import_max_errors)
    lines: Iterable[tuple[int, dict[str, Any], Sequence[Problem]]]
    if plain is not None:
        lines = _checked_columns(*plain, today)
    else:
        table = open_table(data, expected=COLUMNS, required=records.REQUIRED,
                           max_bytes=settings.import_max_bytes, filename=name,
                           encoding=encoding)
        lines = ((line, *records.normalise(raw, today=today))
                 for line, raw in collector.rows(table))
    del data
    clock.add("parse+validate", t0)
    with _Batch(session, actor, collector, clock) as batch, _gc_paused():
        rows = _check_lines(actor, collector, lines, progress, batch, clock)
        report = batch.finish(name, rows)
    _audit(session, actor, report, sha256)
    return report


def _checked_columns(columns: list[str], table: pa.Table, today: date
                     ) -> Iterator[tuple[int, dict[str, Any], Sequence[Problem]]]:
    """A file's lines read by Arrow, checked per column a chunk at a time
    (``records.normalise_columns``): each line's number, values and own problems."""
    start = 0
    while start < table.num_rows:
        size = min(FIRST_CHUNK, CHUNK) if start == 0 else CHUNK
        part = table.slice(start, size)
        start += size
        values, problems = records.normalise_columns(
            {c: part.column(c).combine_chunks() for c in columns}, today)
        lines = part.column("line").to_pylist()
        if not problems:
            yield from zip(lines, values, repeat(()))
            continue
        for i, (line, row) in enumerate(zip(lines, values, strict=True)):
            yield line, row, problems.get(i, ())


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while lines are checked and staged: that makes
    millions of short-lived dicts and lists, none in reference cycles, and the collector's
    passes over them cost a sixth of the time. Reference counting still frees them."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _check_lines(actor: Actor, collector: Collector,
                 lines: Iterable[tuple[int, dict[str, Any], Sequence[Problem]]],
                 progress: Callable[[int], None] | None, batch: _Batch, clock: _Clock) -> int:
    """Check the lines across the file (refs and ID numbers that repeat, jurisdiction); hand
    valid rows to ``batch`` a chunk at a time. Returns their number.

    Each line comes with its values and its own problems (``records.normalise``); all its
    problems go to ``collector`` as the line is read.
    """
    refs: dict[str, int] = {}
    numbers: dict[str, int] = {}
    chunk: list[tuple[int, dict[str, Any]]] = []
    size = min(FIRST_CHUNK, CHUNK)
    everywhere = actor.national
    valid = 0
    t = time.perf_counter()
    for n, (line, values, problems) in enumerate(lines, start=1):
        ref, number = values.get("ref"), values.get("id_number")
        if ref in refs:
            problems = [*problems, Problem(f"ref {ref} is already on line {refs[ref]}",
                                           field="ref")]
        elif ref:
            refs[ref] = line
        if number in numbers:
            problems = [*problems, Problem(f"same ID number as line {numbers[number]}",
                                           field="id_number")]
        elif number:
            numbers[number] = line
        code = values.get("division_code")
        if code and not everywhere and not actor.covers(code):
            problems = [*problems, Problem(f"division {code} is outside your jurisdiction",
                                           field="division_code")]
        if problems:
            collector.add(line, problems)
        else:
            valid += 1
            chunk.append((line, values))
            if len(chunk) == size:
                clock.add("parse+validate", t)
                batch.add(chunk)
                chunk, size = [], CHUNK
                t = time.perf_counter()
        if progress and n % 50_000 == 0:
            progress(50_000)
    clock.add("parse+validate", t)
    batch.add(chunk)
    return valid


def write(
    session: Session,
    *,
    actor: Actor,
    rows: list[tuple[int, dict[str, Any]]],
    filename: str,
    collector: Collector | None = None,
    file_sha256: str | None = None,
) -> ImportReport:
    """Write checked rows as one batch. Raises (and writes nothing) on any conflict."""
    collector = collector or Collector(filename, get_settings().import_max_errors)
    with _Batch(session, actor, collector, _Clock(None), check_divisions=False) as batch:
        for start in range(0, len(rows), CHUNK):
            batch.add(rows[start : start + CHUNK])
        report = batch.finish(filename, len(rows))
    _audit(session, actor, report, file_sha256)
    return report


def _audit(session: Session, actor: Actor, report: ImportReport, sha256: str | None) -> None:
    audit.record(session, actor, action="import", record_type="person",
                 fields=list(records.FIELDS), detail={**report.model_dump(), "sha256": sha256})


class _Batch:
    """One import's work in the database, a chunk of checked rows at a time.

    For each chunk, in this (the caller's) thread: the division codes are checked, and while
    the file has no problem so far, the rows are encrypted and written to the staging table.
    Then a worker thread, while the next chunk's lines are read and checked here, finds the
    staged rows' conflicts with the database and, while there are none, merges them.

    Checking each chunk against the database as the earlier chunks left it finds exactly what
    checking the whole file against the database as it was before would find: a file's refs
    and ID numbers are all distinct (checked line by line), so an earlier chunk changed no
    record that a later chunk's ref names, and the only ID-number hashes it can have taken
    from the database are recorded in ``person_unhashed`` and checked as well. The session is
    used by one thread at a time: this one waits for the worker before it touches it again.
    """

    def __init__(self, session: Session, actor: Actor, collector: Collector, clock: _Clock,
                 *, check_divisions: bool = True) -> None:
        self.session, self.actor, self.collector, self.clock = session, actor, collector, clock
        self.check_divisions = check_divisions
        self.postgres = is_postgres(session)
        self.known: set[str] = set()
        self.missing: set[str] = set()
        self.unknown: list[tuple[int, str]] = []
        self.taken: list[int] = []
        self.hidden: list[int] = []
        self.matched = self.changed = self.unhashed = 0
        self.direct = self.postgres
        self.elsewhere = self.postgres and get_settings().import_second_process
        self._keys: staging.Keys | None = None
        self._pending: Future[None] | None = None
        self._queued: tuple[list[tuple[int, dict[str, Any]]], Future[str]] | None = None
        self._sqlite_cache: int | None = None
        meta = MetaData()
        cols = [Column("line", _PERSON.c.id.type)]
        cols += [Column(c.name, c.type) for c in _PERSON.columns if c.name != "id"]
        self.stage = Table("person_stage", meta, *cols, prefixes=["TEMPORARY"])
        self.before = Table("person_unhashed", meta, Column("id_number_hash",
                                                             _PERSON.c.id_number_hash.type),
                            prefixes=["TEMPORARY"])
        assert [c.name for c in self.stage.columns] == _STAGE_COLS
        self.now = utc_now()
        dialect = session.get_bind().dialect

        def db_value(column: str, value: Any) -> Any:
            """``value`` as SQLAlchemy binds it for ``column`` on this database."""
            process = self.stage.c[column].type.dialect_impl(dialect).bind_processor(dialect)
            return process(value) if process else value

        enums: list[tuple[str, Any]] = [("sex", Sex), ("id_type", IdType)]
        self._enums = {m: str(db_value(col, m)) for col, kind in enums for m in kind}
        self._stamp = db_value("created_at", self.now)  # SQLite's executemany

    # -- the batch's life: a savepoint, two temporary tables, one worker thread

    def __enter__(self) -> _Batch:
        self._savepoint = self.session.begin_nested()
        conn = self.session.connection()
        for table in (self.stage, self.before):
            table.drop(conn, checkfirst=True)
            table.create(conn)
        if not self.postgres:
            self._grow_sqlite_cache()
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="person-import")
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            if self._queued is not None:
                self._queued[1].cancel()
                self._queued = None
            if self._pending is not None and kind is not None:
                self._pending.exception()  # wait; the error being raised is the one to report
            self._worker.shutdown(wait=True)
        finally:
            if kind is None:
                conn = self.session.connection()
                self.stage.drop(conn)
                self.before.drop(conn)
                self._restore_sqlite_cache()
                self._savepoint.commit()
            else:
                self._savepoint.rollback()
                self._restore_sqlite_cache()

    def _grow_sqlite_cache(self) -> None:
        """Give SQLite a page cache that holds the person table's indexes while rows are
        merged: with its default 2 MiB, a million rows' random hash keys make it re-read and
        spill pages over and over (the merge takes about twice as long)."""
        raw = self._raw()
        current = raw.execute("PRAGMA cache_size").fetchone()[0]
        page = raw.execute("PRAGMA page_size").fetchone()[0]
        if (-current if current < 0 else current * page // 1024) < _SQLITE_CACHE_KIB:
            self._sqlite_cache = current
            raw.execute(f"PRAGMA cache_size = -{_SQLITE_CACHE_KIB}")

    def _restore_sqlite_cache(self) -> None:
        if self._sqlite_cache is not None:
            self._raw().execute(f"PRAGMA cache_size = {self._sqlite_cache}")

    def _raw(self) -> Any:
        raw = self.session.connection().connection.driver_connection
        assert raw is not None
        return raw

    # -- this thread: divisions, encryption, staging

    def add(self, rows: list[tuple[int, dict[str, Any]]]) -> None:
        """Take the next chunk of checked rows (in the file's order).

        On PostgreSQL, a chunk of ``STAGE_ELSEWHERE_FROM`` rows or more has its staged form
        made in the second process (``staging.stage_in_process``) and is written when the
        next chunk comes (or at the end), so that this process meanwhile reads and checks
        the next lines."""
        if not rows:
            return
        if self.elsewhere and len(rows) >= STAGE_ELSEWHERE_FROM and self._staging():
            t = time.perf_counter()
            fields = records.columns_by_field([values for _, values in rows])
            queued = (rows, staging.stage_in_process(fields, self._stage_keys()))
            self.clock.add("stage fill", t)
            self._write_queued()
            self._queued = queued
            return
        self._write_queued()
        data = None
        if self._staging():
            t = time.perf_counter()
            data = self._staged_form(rows)
            self.clock.add("stage fill", t)
        self._write(rows, data)

    def _write_queued(self) -> None:
        """Write the chunk whose staged form the second process is making, if any."""
        if self._queued is None:
            return
        (rows, future), self._queued = self._queued, None
        t = time.perf_counter()
        try:
            data = _Copy(future.result())
        except BrokenProcessPool:  # the process died: the next import starts another one
            staging.discard_pool()
            data = self._staged_form(rows)
        self.clock.add("waiting for the second process", t)
        self._write(rows, data)

    def _write(self, rows: list[tuple[int, dict[str, Any]]], data: Any) -> None:
        """Check the chunk's divisions; write its staged form; have the worker merge it."""
        t = time.perf_counter()
        self._wait()
        t = self.clock.add("waiting for the database", t)
        if self.check_divisions:
            self._check_divisions(rows)
        if data is None or not self._staging():
            self.clock.add("stage fill", t)
            return
        if self.postgres:  # the worker writes it (the database's work, while this reads on)
            self.clock.add("stage fill", t)
            self._pending = self._worker.submit(self._land, [line for line, _ in rows], data)
            return
        names, marks = ", ".join(_STAGE_COLS), ", ".join("?" * len(_STAGE_COLS))
        cur = self._raw().cursor()
        cur.executemany(f"INSERT INTO person_stage ({names}) VALUES ({marks})", data)
        cur.close()
        self.clock.add("  write to staging table", t)
        self.clock.add("stage fill", t)
        self._pending = self._worker.submit(self._merge_chunk, len(rows))

    def _staging(self) -> bool:
        """Rows are staged (and checked against the database) until a line is found to have a
        problem: then the batch will not be written, and it is only the lines' problems that
        get reported."""
        return not (self.collector.total or self.unknown)

    def _clean(self) -> bool:
        """No problem found so far: rows are merged (the batch will be kept if none turns up)."""
        return not (self.collector.total or self.unknown or self.taken or self.hidden)

    def _stage_keys(self) -> staging.Keys:
        if self._keys is None:
            settings = get_settings()
            self._keys = staging.Keys(
                encryption_key=settings.key("encryption_key"),
                lookup_key=settings.key("lookup_key"), digest_key=digest_key(), now=self.now,
                enums=self._enums)
        return self._keys

    def _staged_form(self, rows: list[tuple[int, dict[str, Any]]]) -> Any:
        """The rows' columns (encrypted, hashed, masked), as the staging write takes them."""
        t = time.perf_counter()
        keys = self._stage_keys()
        lines = [line for line, _ in rows]
        if self.postgres:
            data: Any = _Copy(staging.arrow_rows(
                records.columns_by_field([values for _, values in rows]), keys, cipher()))
        else:
            data = []
            for start in range(0, len(rows), _SLICE):  # a slice stays in the CPU's caches
                part = rows[start : start + _SLICE]
                columns = records.bulk_columns([values for _, values in part], cipher(),
                                               keys.digest_key, self.now)
                data.extend(_sqlite_rows(lines[start : start + _SLICE], columns, self._enums,
                                         self._stamp))
        self.clock.add("  columns: encrypt, hash, format", t)
        return data

    def _check_divisions(self, rows: list[tuple[int, dict[str, Any]]]) -> None:
        """Note the rows whose division code is not a known division (each code is asked of
        the database once)."""
        codes = {values["division_code"] for _, values in rows}
        new = codes - self.known - self.missing
        if new:
            found = geo.exists(self.session, new)
            self.known |= found
            self.missing |= new - found
        if codes & self.missing:
            self.unknown += [(line, values["division_code"]) for line, values in rows
                             if values["division_code"] in self.missing]

    def _wait(self) -> None:
        if self._pending is not None:
            pending, self._pending = self._pending, None
            pending.result()

    # -- the worker thread: conflicts, counts, merge

    def _land(self, lines: list[int], data: _Copy) -> None:
        """PostgreSQL: write a chunk's rows (``staging.arrow_rows``) with a binary COPY.
        Straight into the person table while no chunk has met a recorded ref or ID number
        (``_copy_into_person``); otherwise, or if this one does, into the staging table, to be
        checked and merged."""
        t = time.perf_counter()
        if self.direct and not self.unhashed and self._clean():
            if self._copy_into_person(data.body):
                self.clock.add("  COPY into person", t)
                self.clock.add("merge", t)
                return
            self.direct = False
        t = time.perf_counter()
        with self._raw().cursor() as cur, cur.copy(
                f"COPY person_stage ({', '.join(_STAGE_COLS)}) FROM STDIN (FORMAT binary)"
        ) as copy:
            copy.write(staging.copy_binary(data.rows, lines))
        self.clock.add("  write to staging table", t)
        self.clock.add("merge", t)
        self._merge_chunk(len(lines))

    def _copy_into_person(self, data: bytes) -> bool:
        """COPY the chunk into the person table, in a savepoint; False (and nothing written)
        if a unique index finds one of its refs or ID numbers already recorded.

        This is the merge for a chunk of new persons, without the staging table, the join
        that looks for conflicts, and the ``INSERT ... SELECT``: the unique indexes on ``ref``
        and ``id_number_hash`` find any conflict (with committed rows, and with those of a
        concurrent import, whose end they wait for), and the division trigger checks the
        codes. A chunk that has a conflict goes the staging way, which reports it by line
        (or merges a changed record)."""
        with self._raw().cursor() as cur:
            cur.execute("SAVEPOINT person_copy")
            try:
                with cur.copy(f"COPY person ({', '.join(_WRITE_COLS)}) FROM STDIN "
                              "(FORMAT binary)") as copy:
                    copy.write(data)
            except Exception as exc:
                cur.execute("ROLLBACK TO SAVEPOINT person_copy")
                cur.execute("RELEASE SAVEPOINT person_copy")
                state = getattr(exc, "sqlstate", None) or ""
                if state == _UNIQUE_VIOLATION:
                    return False
                if state.startswith("23"):  # integrity: a division deleted meanwhile
                    raise _conflict(exc) from None
                raise
            cur.execute("RELEASE SAVEPOINT person_copy")
        return True

    def _merge_chunk(self, rows: int) -> None:
        """Check the staged chunk against the database; merge it if nothing conflicts so far;
        empty the staging table."""
        t = time.perf_counter()
        session, s, b = self.session, self.stage, self.before
        limit = self.collector.limit
        by_ref, same_ref = self._person_by("ref")
        if len(self.taken) < limit:
            by_number, holder = self._person_by("id_number_hash")
            taken = select(s.c.line).select_from(by_number).where(holder.c.ref != s.c.ref)
            if self.unhashed:
                taken = union(taken, select(s.c.line).join(
                    b, b.c.id_number_hash == s.c.id_number_hash)).subquery().select()
            self.taken += session.scalars(
                taken.order_by(text("line")).limit(limit - len(self.taken))).all()
        if not self.actor.national and len(self.hidden) < limit:
            hidden = select(s.c.line).select_from(by_ref).where(
                not_(scope_clause(self.actor, same_ref.c.division_code))).order_by(s.c.line)
            self.hidden += session.scalars(hidden.limit(limit - len(self.hidden))).all()
        if self._clean():
            matched, changed = session.execute(
                select(func.count(), func.count().filter(same_ref.c.row_hash != s.c.row_hash))
                .select_from(by_ref)).one()
            self.matched, self.changed = self.matched + matched, self.changed + changed
            if changed:
                self.unhashed += _keep_unhashed(session, s, b, by_ref, same_ref)
            if matched < rows or changed:
                upsert = time.perf_counter()
                _merge(session, s, new_only=not matched)
                self.clock.add("  upsert", upsert)
        session.execute(text("TRUNCATE person_stage") if self.postgres
                        else text("DELETE FROM person_stage"))
        self.clock.add("merge", t)

    def _person_by(self, key: str) -> tuple[Any, Any]:
        """The staged rows joined to the person with the same ``key`` (a unique column), and
        that person's columns. On PostgreSQL, a LATERAL lookup: the planner would otherwise
        scan the whole person table for every chunk, where probing its index for the chunk's
        rows takes a fraction of that."""
        p, s = _PERSON, self.stage
        if self.postgres:
            person = select(p).where(p.c[key] == s.c[key]).limit(1).lateral("person")
            return s.join(person, true()), person
        return s.join(p, p.c[key] == s.c[key]), p

    # -- the end

    def finish(self, filename: str, rows: int) -> ImportReport:
        """Report the problems found, if any; otherwise the counts of the merged batch."""
        self._write_queued()
        t = time.perf_counter()
        self._wait()
        t = self.clock.add("waiting for the database", t)
        for line, code in self.unknown:
            self.collector.add(line, [Problem(f"unknown division code {code}",
                                              field="division_code")])
        self.collector.check()
        for line in self.taken:
            self.collector.add(line, [Problem("ID number already recorded for another person",
                                              field="id_number")])
        for line in self.hidden:
            self.collector.add(line, [Problem("this ref cannot be written from your "
                                              "jurisdiction", field="ref")])
        self.collector.check()
        if self.postgres:
            self.session.execute(text("ANALYZE person"))
        self.clock.add("merge", t)
        return ImportReport(file=filename, rows=rows, inserted=rows - self.matched,
                            updated=self.changed, unchanged=self.matched - self.changed)


class _Copy:
    """A chunk's rows as PostgreSQL takes them: the Arrow table, and its binary COPY, encoded
    at once (in the thread that checks the lines, so that the worker's COPY only sends it: the
    database does not wait for the encoding)."""

    __slots__ = ("body", "rows")

    def __init__(self, rows: pa.Table) -> None:
        self.rows, self.body = rows, staging.copy_binary(rows)


def _keep_unhashed(session: Session, stage: Table, before: Table, by_ref: Any,
                   same_ref: Any) -> int:
    """Record the ID-number hashes that merging the staged rows takes away from records (a
    person's document number changes): later chunks must not reuse them either."""
    s, p = stage, same_ref
    moved = select(p.c.id_number_hash).select_from(by_ref).where(
        p.c.id_number_hash.is_not(None), p.c.row_hash != s.c.row_hash,
        (s.c.id_number_hash.is_(None)) | (p.c.id_number_hash != s.c.id_number_hash))
    result = session.connection().execute(before.insert().from_select(["id_number_hash"], moved))
    return int(result.rowcount or 0)


def _sqlite_rows(lines: list[int], columns: dict[str, list[Any]], enums: dict[Any, str],
                 stamp: Any) -> Iterator[tuple[Any, ...]]:
    """Rows for executemany, each value as SQLAlchemy would have bound it for SQLite."""
    cols = dict(columns)
    cols["sex"] = [enums[x] for x in cols["sex"]]
    cols["id_type"] = [None if x is None else enums[x] for x in cols["id_type"]]
    cols["birth_date"] = [None if x is None else x.isoformat() for x in cols["birth_date"]]
    cols["created_at"] = cols["updated_at"] = [stamp] * len(lines)
    return zip(lines, *(cols[c] for c in _WRITE_COLS), strict=True)


def _merge(session: Session, stage: Table, *, new_only: bool) -> None:
    """Staged rows → the person table: new refs inserted, changed ones updated.

    ``new_only``: no staged ref was in the table when the chunk was checked, so a plain
    INSERT does, without the upsert's speculative insertion (a probe of the ref index and a
    second pass over each new index entry per row). Should another transaction have written
    one of these refs or ID numbers since, the unique indexes refuse it either way, and the
    batch is refused as a whole (``Conflict``)."""
    p = _PERSON
    if is_postgres(session):
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    source = select(*[stage.c[c] for c in _WRITE_COLS]).where(true())
    stmt = insert(p).from_select(_WRITE_COLS, source)
    if not new_only:
        stmt = stmt.on_conflict_do_update(
            index_elements=["ref"], set_={c: stmt.excluded[c] for c in _UPDATE_COLS},
            where=p.c.row_hash != stmt.excluded.row_hash,
        )
    try:
        session.execute(stmt)
    except IntegrityError as exc:
        raise _conflict(exc.orig) from None


def _conflict(error: BaseException | None) -> Conflict:
    return Conflict(
        "persons with the same refs or ID numbers were written by someone else while this "
        "file was imported; nothing was imported: import the file again",
        problems=[Problem(str(error).splitlines()[0], field="ref")])
