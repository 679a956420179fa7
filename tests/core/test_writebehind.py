"""The group writer of reads' audit entries (fangkong.core.writebehind), on the real engine:
entries of concurrent reads share a transaction and none is lost, the chain still verifies,
a full queue answers Busy (503 with Retry-After), a bad entry fails its own reader only, and
what is pending is written at shutdown."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from fangkong.core import audit, writebehind
from fangkong.core.audit import AuditEntry
from fangkong.core.db import make_engine, read_scope
from fangkong.core.errors import Busy
from fangkong.core.writebehind import GroupWriter
from tests.conftest import make_actor


@pytest.fixture
def engine(fresh_db: str) -> Iterator[Engine]:
    from fangkong.core.migrate import upgrade

    eng = make_engine(fresh_db)
    upgrade(eng)
    yield eng
    writebehind.close(eng)
    eng.dispose()


def _count(engine: Engine, action: str | None = None) -> int:
    with read_scope(engine) as s:  # (a write transaction would wait for SQLite's lock)
        stmt = select(func.count()).select_from(AuditEntry)
        if action:
            stmt = stmt.where(AuditEntry.action == action)
        return s.scalar(stmt) or 0


def _entry(i: int, action: str = "read") -> Callable[[Session], None]:
    def write(session: Session) -> None:
        audit.record(session, make_actor(name=f"reader{i}"), action=action,
                     record_type="person", record_ids=[i], fields=["name"])
    return write


def _blocker(started: threading.Event, release: threading.Event) -> Callable[[Session], None]:
    """A write that holds the writer's transaction open until released."""
    def write(session: Session) -> None:
        _entry(0, "first")(session)
        started.set()
        assert release.wait(20)
    return write


def _in_thread(fn: Callable[[], None], errors: list[BaseException]) -> threading.Thread:
    def run() -> None:
        try:
            fn()
        except BaseException as exc:
            errors.append(exc)
    thread = threading.Thread(target=run)
    thread.start()
    return thread


def _wait_until(check: Callable[[], bool]) -> None:
    for _ in range(2000):
        if check():
            return
        time.sleep(0.005)
    raise AssertionError("condition not reached")


def test_concurrent_reads_share_one_transaction_and_every_entry_is_stored(
        engine: Engine) -> None:
    writer = GroupWriter(engine, max_pending=100, wait_s=10)
    started, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []
    first = _in_thread(lambda: writer.submit([_blocker(started, release)]), errors)
    assert started.wait(10)
    readers = [_in_thread(lambda i=i: writer.submit([_entry(i), _entry(i)]), errors)  # type: ignore[misc]
               for i in range(1, 21)]
    _wait_until(lambda: writer.queued == 41)  # the first batch and 20 readers' 40 entries
    assert _count(engine) == 0  # nothing is committed while the first batch is open
    release.set()
    for t in [first, *readers]:
        t.join(20)
    assert not errors
    assert writer.batches == 2  # the 20 readers that queued meanwhile: one transaction
    assert _count(engine, "read") == 40 and _count(engine, "first") == 1
    with Session(engine) as s:
        result = audit.verify(s)
    assert result.ok and result.checked == 41


def test_a_reader_returns_only_once_its_entries_are_committed(engine: Engine) -> None:
    actor = make_actor()
    with read_scope(engine) as session:
        assert audit.record(session, actor, action="read", record_type="person",
                            record_ids=[7]) is None  # queued, not yet written
        assert _count(engine) == 0
    assert _count(engine, "read") == 1  # written before read_scope returned


def test_a_full_queue_answers_busy_with_retry_after_and_loses_nothing(engine: Engine) -> None:
    writer = GroupWriter(engine, max_pending=3, wait_s=0.3)
    started, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []
    first = _in_thread(lambda: writer.submit([_blocker(started, release)]), errors)
    assert started.wait(10)
    second = _in_thread(lambda: writer.submit([_entry(1), _entry(2)]), errors)
    _wait_until(lambda: writer.queued == 3)
    with pytest.raises(Busy) as refused:
        writer.submit([_entry(3)])
    assert refused.value.status_code == 503
    assert refused.value.headers() == {"Retry-After": "1"}
    # a reader that waits for room gets it once the batch in progress is written
    writer.wait_s = 30
    third = _in_thread(lambda: writer.submit([_entry(4)]), errors)
    release.set()
    for t in (first, second, third):
        t.join(20)
    assert not errors
    assert _count(engine, "read") == 3 and _count(engine, "first") == 1
    with Session(engine) as s:
        ids = {tuple(r) for r in s.scalars(select(AuditEntry.record_ids))}
        assert ids == {("0",), ("1",), ("2",), ("4",)}  # the refused reader's 3 is not there
        assert audit.verify(s).ok


def test_a_bad_entry_fails_its_own_reader_only(engine: Engine) -> None:
    writer = GroupWriter(engine, max_pending=100, wait_s=10)
    started, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def bad(_session: Session) -> None:
        raise ValueError("a reader's entry that cannot be written")

    first = _in_thread(lambda: writer.submit([_blocker(started, release)]), errors)
    assert started.wait(10)
    good = [_in_thread(lambda i=i: writer.submit([_entry(i)]), errors)  # type: ignore[misc]
            for i in (1, 2)]
    failing = _in_thread(lambda: writer.submit([_entry(3), bad]), errors)
    _wait_until(lambda: writer.queued == 5)
    release.set()
    for t in [first, *good, failing]:
        t.join(20)
    assert [type(e) for e in errors] == [ValueError]
    assert _count(engine, "read") == 2  # reader 3's entry rolled back with its bad one
    with Session(engine) as s:
        assert audit.verify(s).ok


def test_shutdown_writes_what_is_pending_then_readers_write_alone(engine: Engine) -> None:
    writer = writebehind.writer_for(engine)
    started, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []
    first = _in_thread(lambda: writer.submit([_blocker(started, release)]), errors)
    assert started.wait(10)
    queued = _in_thread(lambda: writer.submit([_entry(1)]), errors)
    _wait_until(lambda: writer.queued == 2)
    closing = _in_thread(lambda: writebehind.close(engine), errors)
    release.set()
    for t in (first, queued, closing):
        t.join(20)
    assert not errors and _count(engine) == 2
    writer.submit([_entry(2)])  # closed: written by the caller, at once
    assert _count(engine, "read") == 2
    assert writebehind.writer_for(engine) is not writer  # a new one for a restarted app


def test_a_get_through_the_app_is_audited_on_the_real_engine(engine: Engine,
                                                             fresh_db: str) -> None:
    """Reads at once through the server's own session dependency: each audited."""
    from fastapi.testclient import TestClient

    from fangkong.app import create_app
    from fangkong.core.auth import NATIONAL, Role
    from fangkong.core.config import get_settings
    from fangkong.core.db import session_scope
    from fangkong.geo import service as geo
    from fangkong.person import service as persons
    from fangkong.person.schemas import PersonCreate
    from fangkong.user import service as users
    from fangkong.user.schemas import UserCreate

    with session_scope(engine) as s:
        geo.load(s, province="44")
        users.create_user(s, actor=make_actor(), data=UserCreate(
            username="boss", role=Role.administrator, jurisdictions=[NATIONAL],
            password="correct horse battery"))
        pid = persons.create(s, actor=make_actor(), data=PersonCreate(
            ref="R1", name="张三", division_code="440802", sex="female")).id
    before = _count(engine)
    errors: list[BaseException] = []
    with TestClient(create_app(get_settings(), engine=engine)) as client:
        token = client.post("/api/v1/auth/token", data={
            "username": "boss", "password": "correct horse battery"}).json()["access_token"]
        codes: list[Any] = []

        def read() -> None:
            resp = client.get(f"/api/v1/persons/{pid}",
                              headers={"Authorization": f"Bearer {token}"})
            codes.append(resp.status_code)

        threads = [_in_thread(read, errors) for _ in range(12)]
        for t in threads:
            t.join(30)
    assert not errors and codes == [200] * 12
    with Session(engine) as s:
        reads = s.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.seq > before, AuditEntry.record_type == "person",
            AuditEntry.action == "read"))
        assert reads == 12
        assert audit.verify(s).ok
