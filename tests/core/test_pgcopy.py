"""Arrow columns as PostgreSQL's binary COPY rows: the bytes of a small row by hand, and on
PostgreSQL every kind read back as written (nulls, empty and non-ASCII text, times before
PostgreSQL's and Unix's epochs, sliced batches)."""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from fangkong.core import pgcopy

KINDS = ["int4", "text", "timestamptz", "float8", "bool", "int8"]
ROWS = [
    (1, "x", datetime(2022, 8, 10, 1, 0, 1, 5, tzinfo=UTC), 1.5, True, 2**40),
    (None, None, None, None, None, None),
    (-5, "", datetime(1969, 12, 31, 23, 59, 59, tzinfo=UTC), -0.25, False, 0),
    (2**31 - 1, "湛江 é", datetime(2000, 1, 1, tzinfo=UTC), 60.0, True, -1),
    (0, "B00012345", datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), 0.0, False, 7),
]


def _table() -> pa.Table:
    types = [pa.int64(), pa.string(), pa.timestamp("us", tz="UTC"), pa.float64(), pa.bool_(),
             pa.int64()]
    return pa.table({f"c{i}": pa.array([row[i] for row in ROWS], kind)
                     for i, kind in enumerate(types)})


def test_the_bytes_of_one_row() -> None:
    table = pa.table({"n": pa.array([258, None], pa.int64()), "s": pa.array(["ab", None]),
                      "t": pa.array([datetime(2000, 1, 1, 0, 0, 1, tzinfo=UTC)] * 2,
                                    pa.timestamp("us", tz="UTC"))})
    got = b"".join(pgcopy.chunks(table, ["int4", "text", "timestamptz"]))
    first = (b"\x00\x03" + b"\x00\x00\x00\x04" + b"\x00\x00\x01\x02"
             + b"\x00\x00\x00\x02" + b"ab" + b"\x00\x00\x00\x08" + (10**6).to_bytes(8, "big"))
    second = (b"\x00\x03" + b"\xff\xff\xff\xff" * 2 + b"\x00\x00\x00\x08"
              + (10**6).to_bytes(8, "big"))
    assert got == pgcopy.HEADER + first + second + pgcopy.TRAILER


def test_an_integer_too_large_for_int4_is_refused() -> None:
    with pytest.raises(OverflowError):
        pgcopy.encode(pa.table({"n": pa.array([2**31], pa.int64())}), ["int4"])


def test_read_back_by_postgresql(session: Session) -> None:
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("PostgreSQL's COPY")
    session.execute(text("CREATE TEMPORARY TABLE pgcopy_check (a integer, b varchar(64), "
                         "c timestamptz, d double precision, e boolean, f bigint)"))
    raw = session.connection().connection.driver_connection
    assert raw is not None
    with raw.cursor() as cur, cur.copy("COPY pgcopy_check FROM STDIN (FORMAT binary)") as cp:
        for chunk in pgcopy.chunks(_table(), KINDS, rows=2):  # batches are slices
            cp.write(chunk)
    got = session.execute(text("SELECT a, b, c, d, e, f FROM pgcopy_check")).all()
    assert sorted(map(tuple, got), key=repr) == sorted(ROWS, key=repr)
