"""A request's transaction as a client meets it, on the real engine (no rolled-back test
session): committed and audited before the response starts, a failed commit an error, reads
that take no write lock, admission control, and concurrent creates answered 409."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from fangkong.core.audit import AuditEntry
from fangkong.core.auth import NATIONAL, Role
from fangkong.core.config import Settings, get_settings
from fangkong.core.db import make_engine, read_scope, session_scope
from fangkong.person.models import Person

PASSWORD = "correct horse battery"


@pytest.fixture
def live(fresh_db: str) -> Iterator[tuple[Engine, Settings]]:
    """A migrated database with Zhanjiang's divisions and an administrator; its engine waits
    at most 0.3 s for SQLite's write lock, so a lock held by a reader fails fast."""
    from fangkong.core.migrate import upgrade
    from fangkong.geo import service as geo
    from fangkong.user import service as users
    from fangkong.user.schemas import UserCreate
    from tests.conftest import make_actor

    engine = make_engine(fresh_db)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect",
                     lambda dbapi, _: dbapi.execute("PRAGMA busy_timeout=300"))
    upgrade(engine)
    with session_scope(engine) as session:
        geo.load(session, province="44")
        users.create_user(session, actor=make_actor(), data=UserCreate(
            username="boss", role=Role.administrator, jurisdictions=[NATIONAL],
            password=PASSWORD))
    yield engine, get_settings()
    engine.dispose()


def _token(client: Any) -> dict[str, str]:
    resp = client.post("/api/v1/auth/token", data={"username": "boss", "password": PASSWORD})
    assert resp.status_code == 200, resp.text
    return {"Authorization": f"Bearer {resp.json()['access_token']}"}


def _person(ref: str) -> dict[str, str]:
    return {"ref": ref, "name": "张三", "division_code": "440802", "sex": "female"}


def _create(session: Session, ref: str) -> Person:
    from fangkong.person import service as persons
    from fangkong.person.schemas import PersonCreate
    from tests.conftest import make_actor

    return persons.create(session, actor=make_actor(), data=PersonCreate(**_person(ref)))


class Probe:
    """ASGI wrapper that, the moment a response starts, runs ``check`` from its own
    connection: what a client could see when the status line arrives."""

    def __init__(self, app: Any, check: Any) -> None:
        self.app, self.check, self.seen = app, check, []  # type: ignore[var-annotated]

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        async def probe(message: Any) -> None:
            if message["type"] == "http.response.start" and scope["type"] == "http":
                self.seen.append((scope["method"], scope["path"], message["status"],
                                  await asyncio.to_thread(self.check)))
            await send(message)

        await self.app(scope, receive, probe)


def _held_list(monkeypatch: Any) -> tuple[threading.Event, threading.Event]:
    """The persons list, held inside its endpoint (after its query) until released: events
    (inside, release)."""
    from fangkong.person import service as persons

    inside, release = threading.Event(), threading.Event()
    real = persons.list_

    def held(session: Session, **kw: Any) -> Any:
        result = real(session, **kw)
        inside.set()
        release.wait(10)
        return result

    monkeypatch.setattr(persons, "list_", held)
    return inside, release


def _sync_asgi(app: Any) -> Any:
    from fastapi.testclient import TestClient

    return TestClient(app, raise_server_exceptions=False)


def test_created_person_is_committed_before_the_response_starts(live: Any) -> None:
    from fangkong.app import create_app

    engine, settings = live

    def stored() -> int:
        with read_scope(engine) as s:
            return s.scalar(select(func.count()).select_from(Person).where(
                Person.ref.in_(["P1", "P2"]))) or 0

    probe = Probe(create_app(settings, engine=engine), stored)
    with _sync_asgi(probe) as client:
        auth = _token(client)
        for ref in ("P1", "P2"):
            assert client.post("/api/v1/persons", json=_person(ref), headers=auth).status_code \
                == 201
    created = [n for method, path, status, n in probe.seen
               if method == "POST" and path == "/api/v1/persons"]
    assert created == [1, 2]  # each one stored when its 201 started, not after


def test_read_audit_is_written_before_the_response_starts(live: Any) -> None:
    from fangkong.app import create_app

    engine, settings = live
    with session_scope(engine) as s:
        _create(s, "P9")
    with read_scope(engine) as s:
        person_id = s.scalar(select(Person.id).where(Person.ref == "P9"))

    def audited() -> int:
        with read_scope(engine) as s:
            return s.scalar(select(func.count()).select_from(AuditEntry).where(
                AuditEntry.record_type == "person", AuditEntry.action == "read")) or 0

    probe = Probe(create_app(settings, engine=engine), audited)
    with _sync_asgi(probe) as client:
        auth = _token(client)
        resp = client.get(f"/api/v1/persons/{person_id}/identifiers", headers=auth)
    assert resp.status_code == 200
    seen = [n for method, path, _, n in probe.seen if path.endswith("/identifiers")]
    assert seen == [1]
    with read_scope(engine) as s:
        from fangkong.core import audit

        assert audit.verify(s).ok


def test_a_commit_that_fails_is_an_error_to_the_client(live: Any) -> None:
    from fangkong.app import create_app

    engine, settings = live

    def disk_full(session: Session) -> None:  # every commit while it is listening fails
        raise OperationalError("COMMIT", {}, Exception("database or disk is full"))

    with _sync_asgi(create_app(settings, engine=engine)) as client:
        auth = _token(client)
        event.listen(Session, "before_commit", disk_full)
        try:
            # the person is flushed and the failure comes at the commit, where a commit
            # after the response used to hide it behind a 201
            resp = client.post("/api/v1/persons", json=_person("P3"), headers=auth)
        finally:
            event.remove(Session, "before_commit", disk_full)
    with read_scope(engine) as s:
        stored = s.scalar(select(func.count()).select_from(Person).where(Person.ref == "P3"))
    assert stored == 0
    assert resp.status_code >= 500, resp.text


def test_a_long_read_does_not_keep_anyone_from_signing_in(live: Any) -> None:
    """A reader holds its transaction open (as a county user's slow page did); a sign-in,
    which writes, goes through meanwhile (on SQLite the reader used to hold the write lock)."""
    from fangkong.app import create_app

    engine, settings = live
    with read_scope(engine) as reader:
        reader.scalar(select(func.count()).select_from(Person))  # the snapshot is taken
        with _sync_asgi(create_app(settings, engine=engine)) as client:
            resp = client.post("/api/v1/auth/token",
                               data={"username": "boss", "password": PASSWORD})
        assert resp.status_code == 200, resp.text


def test_a_get_request_reads_without_the_write_lock(live: Any, monkeypatch: Any) -> None:
    """While a GET request is inside its endpoint, another connection can write."""
    from fangkong.app import create_app

    engine, settings = live
    inside, release = _held_list(monkeypatch)
    app = create_app(settings, engine=engine)
    with _sync_asgi(app) as client:
        auth = _token(client)
        got: dict[str, Any] = {}
        reader = threading.Thread(target=lambda: got.update(
            r=client.get("/api/v1/persons", headers=auth)))
        reader.start()
        assert inside.wait(10)
        try:
            with session_scope(engine) as writer:
                _create(writer, "W1")
        finally:
            release.set()
            reader.join()
    assert got["r"].status_code == 200


def test_a_read_transaction_refuses_writes_on_postgresql(live: Any) -> None:
    engine, _ = live
    if engine.dialect.name != "postgresql":
        pytest.skip("READ ONLY transactions are PostgreSQL's")
    with pytest.raises(Exception, match="read-only"), read_scope(engine) as s:
        s.execute(text("UPDATE person SET name = name"))


def test_busy_server_answers_503_with_retry_after(live: Any, monkeypatch: Any) -> None:
    """With every place taken, a request waits its turn, then is told to come back."""
    from fangkong.app import create_app

    engine, settings = live
    settings = settings.model_copy(update={"db_pool_size": 1, "request_queue_seconds": 0.2})
    inside, release = _held_list(monkeypatch)
    with _sync_asgi(create_app(settings, engine=engine)) as client:
        auth = _token(client)
        got: dict[str, Any] = {}
        holder = threading.Thread(target=lambda: got.update(
            r=client.get("/api/v1/persons", headers=auth)))
        holder.start()
        assert inside.wait(10)
        try:
            busy = client.get("/api/v1/persons", headers={**auth, "Accept-Language": "en"})
            busy_hant = client.get("/api/v1/persons",
                                   headers={**auth, "Accept-Language": "zh-TW,zh;q=0.8"})
            healthy = client.get("/healthz")
        finally:
            release.set()
            holder.join()
        after = client.get("/api/v1/persons", headers=auth)
    assert busy.status_code == 503
    assert busy.headers["retry-after"] == "1"
    assert busy.json()["error"]["code"] == "busy"
    assert "busy" in busy.json()["error"]["message"]
    assert busy_hant.json()["error"]["message"] == "伺服器繁忙，請稍後再試"
    assert healthy.status_code == 200  # no database, no place needed
    assert got["r"].status_code == 200 and after.status_code == 200


def test_the_same_ref_created_twice_at_once_is_a_conflict(live: Any) -> None:
    """Two creates of one ref: the second is 409 even when it passed the service's check
    before the first committed (the unique key refuses it; on PostgreSQL at its INSERT)."""
    from fangkong.app import create_app

    engine, settings = live
    with _sync_asgi(create_app(settings, engine=engine)) as client:
        auth = _token(client)
        got: dict[str, Any] = {}
        if engine.dialect.name == "sqlite":  # writers take turns: the second sees the first
            with session_scope(engine) as first:
                _create(first, "DUP")
            got["r"] = client.post("/api/v1/persons", json=_person("DUP"), headers=auth)
            assert got["r"].status_code == 409, got["r"].text
            return
        first = Session(bind=engine)
        _create(first, "DUP")
        first.flush()  # inserted, not committed: the request's check cannot see it
        second = threading.Thread(target=lambda: got.update(
            r=client.post("/api/v1/persons", json=_person("DUP"), headers=auth)))
        second.start()
        if engine.dialect.name == "postgresql":
            _wait_until_blocked(engine)
        first.commit()
        first.close()
        second.join()
    assert got["r"].status_code == 409, got["r"].text


def _wait_until_blocked(engine: Engine) -> None:
    """Until another backend waits on a lock (the second INSERT on the first's key)."""
    import time

    for _ in range(200):
        with engine.connect() as c:
            if c.scalar(text("SELECT count(*) FROM pg_stat_activity "
                             "WHERE wait_event_type = 'Lock'")):
                return
        time.sleep(0.05)
