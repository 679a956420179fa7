"""Group commit of what read requests must still write: the audit entries of the personal data
they read.

A read (:func:`fangkong.core.db.read_scope`) ends its read-only transaction, then hands the
writes it queued to the engine's :class:`GroupWriter` and waits until they are committed: it
still answers only once its entries are stored (a kill -9 cannot leave data shown with no
audit row), but the entries of every read that ended meanwhile share one write transaction,
one lock of the audit chain and one commit, instead of one each. Under load the batches grow
by themselves (classic group commit: while one batch commits, the next gathers); with one
reader at a time a batch is that reader's entries, as before.

Bounded, with back-pressure: at most ``max_pending`` entries wait to be written; a reader that
would pass that waits for room up to ``wait_s`` and is then answered 503 with ``Retry-After``
(:class:`~fangkong.core.errors.Busy`), its entries not written and its data not shown. A batch
that fails is written again one reader at a time, so one reader's bad entry fails that reader
only. The writer's thread starts on demand and ends when idle; :func:`close_all` (the server's
shutdown, and at exit) writes what is pending, then later readers write their own.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from fangkong.core.errors import Busy

log = logging.getLogger("fangkong.writebehind")

Write = Callable[[Session], None]

GROUP_WRITE = "fangkong.group_write"
"""Key of ``Session.info`` set in the writer's own transactions: no savepoint is ever rolled
back in them, so what a write learns (the audit chain's head) holds until the commit."""


@dataclass
class _Job:
    writes: Sequence[Write]
    done: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None


class GroupWriter:
    """Writes readers' queued writes in shared transactions (one thread per engine)."""

    def __init__(self, engine: Engine, *, max_pending: int, wait_s: float,
                 idle_s: float = 5.0) -> None:
        self.engine, self.max_pending, self.wait_s, self.idle_s = (
            engine, max_pending, wait_s, idle_s)
        self._lock = threading.Lock()
        self._work = threading.Condition(self._lock)  # a job arrived, or closing
        self._room = threading.Condition(self._lock)  # entries were written
        self._pending: list[_Job] = []
        self._queued = 0  # entries pending or being written
        self._thread: threading.Thread | None = None
        self._closed = False
        self.batches = 0  # transactions committed (for tests and the benchmark)

    @property
    def queued(self) -> int:
        return self._queued

    def submit(self, writes: Sequence[Write]) -> None:
        """Write ``writes`` (each called with the writer's session); return once committed.
        Raises :class:`Busy` when the queue has had no room for ``wait_s``, and whatever the
        writes raised when they could not be committed."""
        if not writes:
            return
        job = _Job(list(writes))
        with self._lock:
            closed = self._closed
            if not closed:
                self._await_room(len(job.writes))
                self._pending.append(job)
                self._queued += len(job.writes)
                self._start()
                self._work.notify()
        if closed:  # after shutdown: written here, alone
            self._write_alone(job)
        else:
            job.done.wait()
        if job.error is not None:
            raise job.error

    def _await_room(self, n: int) -> None:
        deadline = time.monotonic() + self.wait_s
        # A job larger than the whole queue waits for an empty one, then goes alone.
        while self._queued and self._queued + n > self.max_pending:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Busy(retry_after=max(1, round(self.wait_s)))
            self._room.wait(left)

    def _start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, daemon=True,
                                            name="fangkong-group-writer")
            self._thread.start()

    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._pending:
                    idle = self._closed or not self._work.wait(self.idle_s)
                    if idle and not self._pending:
                        self._thread = None
                        return
                batch, self._pending = self._pending, []
            try:
                self._write(batch)
            finally:
                with self._lock:
                    self._queued -= sum(len(job.writes) for job in batch)
                    self._room.notify_all()
                for job in batch:
                    job.done.set()

    def _transaction(self, writes: Sequence[Write]) -> None:
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            session.info[GROUP_WRITE] = True
            for write in writes:
                write(session)

    def _write(self, batch: list[_Job]) -> None:
        try:
            self._transaction([write for job in batch for write in job.writes])
            self.batches += 1
        except Exception as exc:
            if len(batch) == 1:
                log.exception("a reader's audit entries could not be written")
                batch[0].error = exc
                return
            for job in batch:  # one at a time: a bad job fails alone
                self._write_alone(job)

    def _write_alone(self, job: _Job) -> None:
        try:
            self._transaction(job.writes)
        except Exception as exc:
            log.exception("a reader's audit entries could not be written")
            job.error = exc

    def close(self, timeout: float = 30.0) -> None:
        """Write what is pending and stop the thread; later submissions write alone."""
        with self._lock:
            self._closed = True
            self._work.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)


_writers: dict[Engine, GroupWriter] = {}
_writers_lock = threading.Lock()


def writer_for(engine: Engine) -> GroupWriter:
    """The engine's writer (made on first use, with the configured queue bound and wait)."""
    writer = _writers.get(engine)
    if writer is None or writer._closed:
        from fangkong.core.config import get_settings

        settings = get_settings()
        with _writers_lock:
            writer = _writers.get(engine)
            if writer is None or writer._closed:
                writer = GroupWriter(engine, max_pending=settings.read_audit_queue,
                                     wait_s=settings.request_queue_seconds)
                _writers[engine] = writer
    return writer


def close(engine: Engine, timeout: float = 30.0) -> None:
    """Write the engine's pending entries and stop its writer (the server's shutdown)."""
    with _writers_lock:
        writer = _writers.pop(engine, None)
    if writer is not None:
        writer.close(timeout)


def close_all(timeout: float = 30.0) -> None:
    """Write every writer's pending entries (the server's shutdown; at exit)."""
    with _writers_lock:
        writers = list(_writers.values())
        _writers.clear()
    for writer in writers:
        writer.close(timeout)


atexit.register(close_all)
