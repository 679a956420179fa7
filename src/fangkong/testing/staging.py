"""What the samples and the results imports share: staging tables filled from Arrow columns
(binary COPY on PostgreSQL, executemany on SQLite) or made by a query, the savepoint that holds
them with the database's settings for a batch, the file's reading and the checks of its
date-times and references, and the phases' timings."""
from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import (
    Column,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    select,
    text,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select
from sqlalchemy.sql.ddl import CreateTableAs

from fangkong.core import pgcopy
from fangkong.core.clock import parse_datetime, utc_now
from fangkong.core.config import get_settings
from fangkong.core.db import UTCDateTime, is_postgres
from fangkong.core.errors import Problem
from fangkong.core.messages import Text
from fangkong.core.tabular import Collector
from fangkong.testing import bulk, service
from fangkong.testing.messages import T
from fangkong.testing.models import Tube

CHUNK = 200_000
"""Rows per COPY / executemany call."""
ANALYZE_AFTER = 10_000
"""Rows written after which PostgreSQL's statistics of the table are refreshed at once."""
TIMESTAMP_UTC = pa.timestamp("us", tz="UTC")
_SQLITE_CACHE_KIB = 262_144
"""SQLite's page cache during a bulk import (256 MiB; the default is 2 MiB): a city's
persons and samples indexes are then read from memory, not again and again from disk."""


class Clock:
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
def settings(session: Session, values: dict[str, str]) -> Iterator[None]:
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


def analyze(session: Session, name: str) -> None:
    """Statistics of a table for PostgreSQL's planner (a fresh staging table has none; the
    tubes' change with their results), from a small sample (3,000 rows: the joins over the
    table need its size and rough value counts, not fine histograms; the default sample of
    30,000 took 0.13 s a table per million rows)."""
    with settings(session, {"default_statistics_target": "10"}):
        session.execute(text(f"ANALYZE {name}"))


class Stage:
    """A staging table filled from an Arrow table (COPY / executemany), or made by a query.

    Temporary, or with ``unlogged`` (see :func:`may_share`) an unlogged table that parallel
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
            analyze(self.session, self.name)

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


def may_share(session: Session) -> bool:
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
def batch(session: Session, *stages: Stage, parallel: bool = False) -> Iterator[None]:
    """A savepoint holding the staging tables: kept if the block ends normally. The
    database gets more memory for the batch (PostgreSQL's work_mem, SQLite's page cache),
    and, with ``parallel``, PostgreSQL's planner is pushed to parallel plans (:data:`_PARALLEL`);
    all put back after."""
    postgres = is_postgres(session)
    cache = None
    values = ({"work_mem": service.WORK_MEM} | (_PARALLEL if parallel else {})
              if postgres else {})
    if not postgres:
        cache = session.execute(text("PRAGMA cache_size")).scalar()
        session.execute(text(f"PRAGMA cache_size = -{_SQLITE_CACHE_KIB}"))
    savepoint = session.begin_nested()
    try:
        with settings(session, values):
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


class Times:
    """Date-times of a file: each distinct text parsed once (files repeat them a lot)."""

    def __init__(self) -> None:
        self.zone = get_settings().timezone
        self.now = utc_now()

    def judge(self, value: str) -> tuple[datetime | None, Text | None]:
        """The UTC date-time, or the problem's message."""
        try:
            parsed = parse_datetime(value, self.zone)
        except ValueError:
            return None, T("line.not_datetime", raw=repr(value.strip()))
        return (parsed, None) if parsed <= self.now else (None, T("line.future"))


def by_code_or_id(session: Session, model: Any) -> dict[str, int]:
    rows = session.execute(select(model.id, model.code)).all()
    found = {str(i): i for i, _ in rows}
    found.update({code: i for i, code in rows})  # a code wins over an id spelled the same
    return found


def lookup(known: dict[str, int], what: str) -> Any:
    named = T("line.what.point") if what == "collection point" else T("line.what.lab")

    def judge(value: str) -> tuple[int | None, Text | None]:
        hit = known.get(value.strip())
        return (hit, None) if hit is not None else (None, T("line.unknown", what=named,
                                                             value=value))
    return judge


def report_lines(collector: Collector, rows: Any, message: Any, field: str) -> None:
    for row in rows:
        collector.add(row[0], [Problem(message(row), field=field)])


def read(source: Path | bytes, columns: list[str], required: list[str],
          filename: str | None, encoding: str | None) -> bulk.Frame:
    settings = get_settings()
    return bulk.read(source, expected=columns, required=required,
                     max_bytes=settings.import_max_bytes,
                     max_errors=settings.import_max_errors, filename=filename,
                     encoding=encoding)


def expire_tubes(session: Session) -> None:
    """After a Core UPDATE of tubes (the ORM's would fetch every updated tube's id back,
    RETURNING, to refresh loaded tubes): the few tubes this session has loaded are expired."""
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Tube):
            session.expire(obj)
