"""Engine, sessions and the declarative base, the same on SQLite and PostgreSQL."""

from __future__ import annotations

import atexit
import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    Engine,
    Integer,
    MetaData,
    create_engine,
    event,
    text,
)
from sqlalchemy import types as sa_types
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from fangkong.core.clock import as_utc
from fangkong.core.config import Settings, get_settings
from fangkong.core.errors import Unavailable

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# 64-bit ids on PostgreSQL; SQLite's INTEGER PRIMARY KEY is already 64-bit and auto-assigned.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both databases (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; Fangkong stores timezone-aware UTC times")
        value = as_utc(value)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else as_utc(value)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the sqlite3 module, open transactions, so that SAVEPOINT works
    # (the SQLAlchemy documentation's recipe for pysqlite).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


READ_OPTION = "fangkong_read"
"""Execution option of the engine a :func:`read_scope` session is bound to."""

DEFERRED_WRITES = "fangkong.deferred_writes"
"""Key of ``Session.info`` under which a read transaction queues what it must still write."""


def _sqlite_begin(conn: Any) -> None:
    # A transaction that may write begins IMMEDIATE: it takes SQLite's write lock when it
    # begins (waiting up to the busy timeout), not at its first write. A deferred transaction
    # that has read and then writes fails at once with "database is locked" if another
    # connection committed meanwhile: its snapshot is stale, and waiting cannot help. Writers
    # thus run one at a time, which is the embedded default's price.
    # A read transaction (read_scope) begins DEFERRED: in WAL mode it takes no lock at all,
    # so a long read (a county's dashboard) never keeps anyone from signing in or saving.
    if conn.get_execution_options().get(READ_OPTION):
        conn.exec_driver_sql("BEGIN")
    else:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str, *, pool_size: int = 5, **kwargs: Any) -> Engine:
    """An engine whose pool holds ``pool_size`` connections (and two more for the scheduler
    and a request's deferred writes); a checkout waits at most 10 s, though the server's
    admission limit (``fangkong.core.admission``) keeps requests from waiting here at all."""
    kwargs.setdefault("pool_size", pool_size)
    kwargs.setdefault("max_overflow", 2)
    kwargs.setdefault("pool_timeout", 10)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


NOT_WRITABLE = {
    "read_only": {
        "zh-Hans": "数据库只读，无法写入（{where}）：请检查文件及其目录的写权限、"
                   "挂载方式或连接参数",
        "zh-Hant": "資料庫唯讀，無法寫入（{where}）：請檢查檔案及其目錄的寫入權限、"
                   "掛載方式或連線參數",
        "en": "the database is read-only ({where}): fangkong writes to it; check the file's and "
              "its directory's permissions, the mount, or the connection's options",
    },
    "full": {
        "zh-Hans": "数据库所在磁盘已满（{where}）：请释放空间后再启动",
        "zh-Hant": "資料庫所在磁碟已滿（{where}）：請釋放空間後再啟動",
        "en": "the disk holding the database is full ({where}): free some space, then start "
              "again",
    },
    "other": {
        "zh-Hans": "无法写入数据库（{where}）：{why}",
        "zh-Hant": "無法寫入資料庫（{where}）：{why}",
        "en": "the database cannot be written ({where}): {why}",
    },
}
"""Why a database cannot be written, in each language of the platform."""


def _disk_full(engine: Engine) -> bool:
    """Is the disk of an SQLite database's file (nearly) full? (SQLite reports a full disk
    as a disk I/O error when the WAL's shared memory cannot grow.)"""
    name = engine.url.database if engine.dialect.name == "sqlite" else None
    if not name or name == ":memory:":
        return False
    folder = Path(name.removeprefix("file:").split("?", 1)[0]).parent
    try:
        return shutil.disk_usage(folder).free < 1 << 20
    except OSError:
        return False


def check_writable(engine: Engine, lang: str = "en") -> None:
    """Refuse to start on a database that cannot be written (read-only file, directory, mount
    or server, or a full disk), with one clear error instead of a traceback at the first write.
    SQLite: a table created and dropped in one committed transaction (the commit writes to the
    file, so a full disk shows too). PostgreSQL: the server is asked whether this session is
    read-only (a standby, or ``default_transaction_read_only``)."""
    where = engine.url.render_as_string(hide_password=True)

    def refuse(kind: str, why: str = "") -> Unavailable:
        return Unavailable(NOT_WRITABLE[kind][lang].format(where=where, why=why))

    try:
        with engine.begin() as conn:
            if engine.dialect.name == "sqlite":
                conn.exec_driver_sql("CREATE TABLE fangkong_write_check (x INTEGER)")
                conn.exec_driver_sql("DROP TABLE fangkong_write_check")
            elif conn.execute(text("SELECT pg_is_in_recovery() OR "
                                   "current_setting('transaction_read_only') = 'on'")).scalar():
                raise refuse("read_only")
    except DBAPIError as exc:
        why = str(exc.orig).strip()
        low = why.lower()
        if "readonly" in low or "read-only" in low or "unable to open" in low:
            raise refuse("read_only") from None
        if "full" in low or "no space" in low or _disk_full(engine):
            raise refuse("full") from None
        raise refuse("other", why) from None


_engines: dict[str, Engine] = {}


def get_engine(settings: Settings | None = None) -> Engine:
    """The process's engine of the configured database. Its connections are closed when the
    process ends (SQLite folds its write-ahead log back into the file then), not left to the
    garbage collector: a command freezes its objects out of the collector's reach before it
    exits (:func:`fangkong.cli.main`)."""
    settings = settings or get_settings()
    url = settings.resolved_database_url
    if url not in _engines:
        _engines[url] = engine = make_engine(url, pool_size=settings.db_pool_size)
        atexit.register(engine.dispose)
    return _engines[url]


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """One transaction for a CLI command or a job: commit on success, roll back on error."""
    with _transaction(session_factory(engine or get_engine())()) as session:
        yield session


@contextmanager
def _transaction(session: Session) -> Iterator[Session]:
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


_read_engines: dict[Engine, Engine] = {}


def _read_engine(engine: Engine) -> Engine:
    """``engine`` with the options of a read transaction (made once: making it copies the
    engine's event listeners, a millisecond and more per request)."""
    bound = _read_engines.get(engine)
    if bound is None:
        bound = engine.execution_options(**{READ_OPTION: True}, postgresql_readonly=True)
        _read_engines[engine] = bound
    return bound


@contextmanager
def read_scope(engine: Engine | None = None) -> Iterator[Session]:
    """One transaction that only reads (a GET request, a page, a brief).

    On SQLite it begins deferred and so takes no write lock; on PostgreSQL it is READ ONLY, so
    a write slipped into a read path fails loudly instead of passing unnoticed. What a read
    must still write (the audit entry of personal data read) is queued by the services in
    ``session.info[DEFERRED_WRITES]`` as callables and written after the read has ended,
    before this returns, by the engine's group writer (:mod:`fangkong.core.writebehind`):
    with the entries of other reads that ended meanwhile, in one short write transaction.
    Nothing is lost, and no reader holds the write lock (SQLite) or the audit chain's lock
    (PostgreSQL) while it reads."""
    from fangkong.core.writebehind import writer_for

    engine = engine or get_engine()
    session = session_factory(_read_engine(engine))()
    deferred: list[Any] = []
    session.info[DEFERRED_WRITES] = deferred
    with _transaction(session):
        yield session
    if deferred:
        writer_for(engine).submit(deferred)


def is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def upsert(
    session: Session,
    table: Any,
    rows: list[dict[str, Any]],
    *,
    key: list[str],
    update: list[str] | None = None,
    only_if_changed: str | None = None,
) -> None:
    """INSERT ... ON CONFLICT (key) DO UPDATE on both SQLite and PostgreSQL.

    ``update`` names the columns to overwrite (all non-key columns by default). With
    ``only_if_changed`` (a column holding a content hash), rows whose hash is unchanged are not
    touched at all, which is what makes re-importing the same file a no-op.
    """
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        stmt: Any = pg_insert(table)
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        stmt = sqlite_insert(table)
    cols = update if update is not None else [c for c in rows[0] if c not in key]
    where = None
    if only_if_changed:
        where = table.c[only_if_changed] != stmt.excluded[only_if_changed]
    if cols:
        stmt = stmt.on_conflict_do_update(
            index_elements=key, set_={c: stmt.excluded[c] for c in cols}, where=where
        )
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=key)
    session.execute(stmt, rows)


def insert_many(session: Session, table: Any, rows: list[dict[str, Any]]) -> None:
    """Plain INSERT of many rows (all with the same keys, column names): ``COPY ... FROM
    STDIN`` on PostgreSQL (psycopg writes the rows in C), instead of a pipeline of one INSERT
    per row whose parameters are built and sent row by row (most of a positive pool's
    follow-up time was that, for its tasks, their events and the pool's members; an INSERT
    from arrays, one per column, still spent a third of its time building the arrays). The
    columns' own bind conversions (enums, UTC times) apply, and scalar Python defaults fill
    columns not given; the table's constraints and triggers apply as to an INSERT.
    executemany on SQLite."""
    if not rows:
        return
    given = list(rows[0])
    if any(list(row) != given for row in rows):
        raise ValueError("insert_many: every row needs the same columns, in the same order")
    defaults = {c.name: getattr(c.default, "arg", None) for c in table.columns
                if c.name not in given and c.default is not None and c.default.is_scalar}
    if not is_postgres(session):
        session.execute(table.insert(), [{**defaults, **row} for row in rows])
        return
    dialect = session.get_bind().dialect
    quote = dialect.identifier_preparer.quote
    names, columns = [], []
    for name in given + list(defaults):
        column = table.columns[name]
        kind = column.type
        if kind._isnull and column.foreign_keys:  # typed by the column it refers to
            kind = next(iter(column.foreign_keys)).column.type
        convert = kind.bind_processor(dialect)
        if isinstance(kind, sa_types.JSON):  # COPY's text needs the document (None: NULL)
            dumps = getattr(dialect, "_json_serializer", None) or json.dumps
            convert = lambda v, dumps=dumps: None if v is None else dumps(v)  # noqa: E731
        values = ([row[name] for row in rows] if name in given
                  else [defaults[name]] * len(rows))
        columns.append([convert(v) for v in values] if convert else values)
        names.append(quote(name))
    raw = session.connection().connection.driver_connection
    assert raw is not None
    statement = (f"COPY {dialect.identifier_preparer.format_table(table)} "
                 f"({', '.join(names)}) FROM STDIN")
    try:
        with raw.cursor() as cur, cur.copy(statement) as cp:
            for row in zip(*columns, strict=True):
                cp.write_row(row)
    except dialect.loaded_dbapi.Error as exc:  # as SQLAlchemy raises a statement's errors
        raise DBAPIError.instance(statement, None, exc, dialect.loaded_dbapi.Error) from exc


def insert_many_ids(session: Session, table: Any, rows: list[dict[str, Any]]) -> list[int]:
    """:func:`insert_many` of rows of a table with a serial ``id``; returns their new ids, in
    the order given. On PostgreSQL the ids are drawn from the table's sequence first, then the
    rows written by one COPY (the multi-row INSERT ... RETURNING that SQLAlchemy writes
    instead has a parameter per value to build and parse: most of a positive pool's follow-up
    time, for its tasks). INSERT ... RETURNING on SQLite. The rows are not changed."""
    if not rows:
        return []
    if not is_postgres(session):
        return list(session.scalars(
            table.insert().returning(table.c.id, sort_by_parameter_order=True), rows))
    ids = sorted(session.scalars(text(
        "SELECT nextval(pg_get_serial_sequence(:t, 'id')) FROM generate_series(1, :n)"),
        {"t": table.name, "n": len(rows)}))
    insert_many(session, table, [{"id": i, **row} for i, row in zip(ids, rows, strict=True)])
    return ids
