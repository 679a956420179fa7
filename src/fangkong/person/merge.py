"""The database side of a persons import (:mod:`fangkong.person.importer` checks the file's
lines): the batch that takes the checked rows a chunk at a time, makes their columns
(encryption, keyed hashes, masks), COPYs a chunk straight into the person table while no
chunk has met a recorded person, or else stages it and merges it with ``INSERT ... SELECT ...
ON CONFLICT (ref) DO UPDATE`` where its row hash changed; it finds the conflicts with the
records already stored, and writes the whole file inside a savepoint or nothing."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from types import TracebackType
from typing import Any, cast

import pyarrow as pa
from sqlalchemy import Column, MetaData, Table, func, not_, select, text, true, union
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fangkong.core.auth import Actor, scope_clause
from fangkong.core.clock import utc_now
from fangkong.core.config import get_settings
from fangkong.core.db import is_postgres
from fangkong.core.errors import Conflict, Problem
from fangkong.core.tabular import Collector
from fangkong.geo import service as geo
from fangkong.person import records, staging
from fangkong.person.enums import IdType, Sex
from fangkong.person.messages import PM
from fangkong.person.models import Person
from fangkong.person.schemas import ImportReport
from fangkong.person.service import cipher, digest_key

CHUNK = 50_000
"""Valid rows staged and merged at a time."""
_SLICE = 10_000
"""Rows encrypted and formatted at a time (SQLite)."""
STAGE_ELSEWHERE_FROM = CHUNK
"""Chunks of this many rows or more are staged in a second process (PostgreSQL), where the
settings' ``import_second_process`` asks for one."""
_PERSON = cast(Table, Person.__table__)
WRITE_COLS = staging.WRITE_COLS
_UPDATE_COLS = [c for c in WRITE_COLS if c not in ("ref", "created_at")]
STAGE_COLS = ["line", *WRITE_COLS]
_SQLITE_CACHE_KIB = 256 * 1024
_UNIQUE_VIOLATION = "23505"


class Clock:
    """Seconds spent per phase, for ``timings`` (the benchmark prints them). Phases run in two
    threads at once, so their sum can exceed the time the import took."""

    def __init__(self, timings: dict[str, float] | None) -> None:
        self.timings = timings

    def add(self, phase: str, since: float) -> float:
        now = time.perf_counter()
        if self.timings is not None:
            self.timings[phase] = self.timings.get(phase, 0.0) + now - since
        return now



class Batch:
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

    def __init__(self, session: Session, actor: Actor, collector: Collector, clock: Clock,
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
        assert [c.name for c in self.stage.columns] == STAGE_COLS
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

    def __enter__(self) -> Batch:
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
        names, marks = ", ".join(STAGE_COLS), ", ".join("?" * len(STAGE_COLS))
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
                f"COPY person_stage ({', '.join(STAGE_COLS)}) FROM STDIN (FORMAT binary)"
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
                with cur.copy(f"COPY person ({', '.join(WRITE_COLS)}) FROM STDIN "
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
                merge(session, s, new_only=not matched)
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
            self.collector.add(line, [Problem(PM("unknown_division", code=code),
                                              field="division_code")])
        self.collector.check()
        for line in self.taken:
            self.collector.add(line, [Problem(PM("id_recorded"),
                                              field="id_number")])
        for line in self.hidden:
            self.collector.add(line, [Problem(PM("ref_hidden"), field="ref")])
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
    return zip(lines, *(cols[c] for c in WRITE_COLS), strict=True)


def merge(session: Session, stage: Table, *, new_only: bool) -> None:
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
    source = select(*[stage.c[c] for c in WRITE_COLS]).where(true())
    stmt = insert(p).from_select(WRITE_COLS, source)
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
        PM("written_meanwhile"),
        problems=[Problem(str(error).splitlines()[0], field="ref")])
