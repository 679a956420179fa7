"""Test fixtures: a real database (SQLite by default, PostgreSQL when
FANGKONG_TEST_DATABASE_URL is set), migrated once, each test in a rolled-back transaction."""

from __future__ import annotations

import base64
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import pytest

_TMP = Path(tempfile.mkdtemp(prefix="fangkong-test-"))
_PG_URL = os.environ.get("FANGKONG_TEST_DATABASE_URL")
os.environ.update({
    "FANGKONG_DATA_DIR": str(_TMP),
    "FANGKONG_DATABASE_URL": _PG_URL or f"sqlite:///{_TMP / 'test.db'}",
    "FANGKONG_SECRET_KEY": "test-secret-key-not-for-production-0123456789",
    "FANGKONG_ENCRYPTION_KEY": base64.b64encode(b"e" * 32).decode(),
    "FANGKONG_LOOKUP_KEY": base64.b64encode(b"k" * 32).decode(),
    "FANGKONG_IMPORT_MAX_BYTES": str(2 * 1024 * 1024),
    # The suite reads the command line in English (its default is zh-Hans); the languages
    # are tested explicitly (tests/test_messages.py).
    "FANGKONG_LANG": "en",
})

from fastapi import Request  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import Engine, create_engine, event, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from fangkong import registry  # noqa: E402
from fangkong.core.auth import NATIONAL, Actor, Role  # noqa: E402
from fangkong.core.config import get_settings  # noqa: E402
from fangkong.core.db import DEFERRED_WRITES, get_engine, session_scope  # noqa: E402
from fangkong.deps import READ_METHODS  # noqa: E402

get_settings.cache_clear()
registry.install()  # the domains' listeners, as the app and the CLI install them


def recreate_pg_database(url: str) -> None:
    """Drop and create the database named in ``url`` (a test database, never a real one)."""
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()


@pytest.fixture(scope="session")
def engine() -> Iterator[Engine]:
    from fangkong.core.migrate import upgrade
    from fangkong.geo import service as geo

    if _PG_URL:
        recreate_pg_database(_PG_URL)
    eng = get_engine()
    upgrade(eng)
    with session_scope(eng) as session:
        geo.load(session, province="44")
        geo.load(session, province="33")
    yield eng
    eng.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session whose commits are savepoints inside a transaction rolled back at the end."""
    conn = engine.connect()
    outer = conn.begin()
    sess = Session(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False)
    try:
        yield sess
    finally:
        sess.close()
        outer.rollback()
        conn.close()


@pytest.fixture
def dialect(engine: Engine) -> str:
    return engine.dialect.name


def _refuse_writes(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
    if statement.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE", "CREATE", "DROP")):
        raise AssertionError(f"a GET request wrote to the database: {statement[:200]}")


def make_actor(role: Role = Role.administrator, *grants: str, name: str = "tester") -> Actor:
    return Actor(username=name, role=role, grants=grants or (NATIONAL,), source="test")


@pytest.fixture
def admin() -> Actor:
    return make_actor(Role.administrator, NATIONAL, name="admin")


def guarded_session(session: Session, *, savepoint_writes: bool = False
                    ) -> Callable[[Request], Iterator[Session]]:
    """The app's session dependency, on the test's ``session``. As the real one: a GET reads
    only (its audit entries written after it), so a read path that writes fails here, on both
    databases, as it would on PostgreSQL's READ ONLY transaction in production. With
    ``savepoint_writes`` a write request runs in a savepoint, undone when it fails."""

    def _session(request: Request) -> Iterator[Session]:
        if request.method not in READ_METHODS:
            if savepoint_writes:
                with session.begin_nested():
                    yield session
                    session.flush()
            else:
                yield session
                session.flush()
            return
        deferred: list[Any] = []
        session.info[DEFERRED_WRITES] = deferred
        conn = session.connection()
        event.listen(conn, "before_cursor_execute", _refuse_writes)
        try:
            yield session
            session.flush()
        finally:
            event.remove(conn, "before_cursor_execute", _refuse_writes)
            del session.info[DEFERRED_WRITES]
        for write in deferred:
            write(session)

    return _session


def transactions_in(session: Session) -> Callable[[], AbstractContextManager[Session]]:
    """The app's short transactions (``get_transactions``), as savepoints of ``session``."""

    @contextmanager
    def _transaction() -> Iterator[Session]:
        with session.begin_nested():
            yield session

    return _transaction


@pytest.fixture
def app(engine: Engine, session: Session):  # type: ignore[no-untyped-def]
    from fangkong.app import create_app
    from fangkong.deps import get_session, get_transactions

    application = create_app(get_settings(), engine=engine)

    application.dependency_overrides[get_session] = guarded_session(session)
    application.dependency_overrides[get_transactions] = lambda: transactions_in(session)
    return application


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def login(client: TestClient, session: Session, username: str, role: Role,
          *jurisdictions: str) -> dict[str, str]:
    """Create a user with that role and jurisdiction; return its Authorization header."""
    from fangkong.user import service as users
    from fangkong.user.schemas import UserCreate

    users.create_user(session, actor=make_actor(), data=UserCreate(
        username=username, role=role, jurisdictions=list(jurisdictions),
        password="correct horse battery"))
    resp = client.post("/api/v1/auth/token",
                       data={"username": username, "password": "correct horse battery"})
    assert resp.status_code == 200, resp.text
    return {"Authorization": f"Bearer {resp.json()['access_token']}"}


def own_database_url(suffix: str, directory: Path) -> str:
    """A database of the suite's kind for one test or module: on PostgreSQL the suite's
    database name + ``_suffix``, dropped and created afresh; else a SQLite file in
    ``directory``."""
    if _PG_URL:
        url = make_url(_PG_URL)
        url_str = url.set(database=f"{url.database}_{suffix}").render_as_string(
            hide_password=False)
        recreate_pg_database(url_str)
        return url_str
    return f"sqlite:///{directory / f'{suffix}.db'}"


def seeded_engine(suffix: str, directory: Path, prefix: str = "W") -> Engine:
    """An engine on an own database (:func:`own_database_url`), migrated, with Guangdong's
    divisions and the dashboard's small outbreak (tests/web/seed.py) committed."""
    from fangkong.core.db import make_engine
    from fangkong.core.migrate import upgrade
    from fangkong.geo import service as geo
    from tests.web.seed import seed

    engine = make_engine(own_database_url(suffix, directory))
    upgrade(engine)
    with session_scope(engine) as session:
        geo.load(session, province="44")
        seed(session, prefix=prefix)
    return engine


@pytest.fixture
def fresh_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """An empty database of the suite's kind, made the configured one for this test
    (for CLI commands and migrations, which open their own connections and commit)."""
    url_str = own_database_url("fresh", tmp_path)
    monkeypatch.setenv("FANGKONG_DATABASE_URL", url_str)
    monkeypatch.setenv("FANGKONG_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        yield url_str
    finally:
        from fangkong.core import db

        eng = db._engines.pop(url_str, None)
        if eng is not None:
            eng.dispose()
        monkeypatch.undo()
        get_settings.cache_clear()
