"""On SQLite, a transaction that reads and then writes (a request that reads personal data,
then writes its audit entry) is not refused because another connection wrote meanwhile: the
other connection waits for it instead."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from sqlalchemy import text

from fangkong.core.db import make_engine


def test_a_read_then_write_transaction_is_not_refused_by_a_concurrent_writer(
        tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
        conn.execute(text("INSERT INTO t VALUES (1)"))
    done: list[float] = []

    def other_writer() -> None:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO t VALUES (2)"))
        done.append(time.monotonic())

    with engine.connect() as conn, conn.begin():
        assert conn.execute(text("SELECT count(*) FROM t")).scalar() == 1
        writer = threading.Thread(target=other_writer)
        writer.start()
        writer.join(timeout=0.5)
        assert writer.is_alive(), "the other writer must wait for this transaction"
        conn.execute(text("INSERT INTO t VALUES (3)"))  # was: database is locked
        committed = time.monotonic()
    writer.join(timeout=10)
    assert done and done[0] >= committed
    with engine.connect() as conn:
        assert conn.execute(text("SELECT x FROM t ORDER BY x")).scalars().all() == [1, 2, 3]
    engine.dispose()
