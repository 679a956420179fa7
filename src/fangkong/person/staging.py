"""Checked person rows → what a PostgreSQL binary ``COPY`` into the person table takes.

This is where a bulk import spends most of its processor time (encryption, keyed hashes,
masks; ``records.columns_of``), and it needs nothing but the rows and the keys, so a large
import can run it in a second process (``stage_in_process``) while its own process reads and
checks the next lines and the database merges the previous chunk: the three then share the
machine's cores (only worth it with more than two; off by default,
``Settings.import_second_process``). This module imports nothing that needs a database, so
that process starts quickly.

The rows become an Arrow table typed as the person table's columns (``arrow_rows``), sent in
PostgreSQL's binary COPY format (``copy_binary``, ``core.pgcopy``). Binary rather than COPY's
text: the server then parses no hex (four bytea columns), dates or timestamps, about 2 s of its
processor time per million persons, and the text need not be built and escaped here.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any

import pyarrow as pa

from fangkong.core import pgcopy
from fangkong.core.security import FieldCipher
from fangkong.person import records

WRITE_COLS = list(records.COLUMNS)
_SLICE = 10_000
"""Rows encrypted and hashed at a time (a slice's columns stay in the CPU's caches)."""


@dataclass(frozen=True)
class Keys:
    """What turning rows into staged columns needs besides the rows."""

    encryption_key: bytes
    lookup_key: bytes
    digest_key: bytes
    now: datetime
    enums: dict[Any, str]
    """Enum members (and their values) → their text in the database."""


@lru_cache(maxsize=4)
def _cipher(encryption_key: bytes, lookup_key: bytes) -> FieldCipher:
    return FieldCipher(encryption_key, lookup_key)


_TEXT = ("ref", "name", "id_number_masked", "phone_masked", "address", "division_code",
         "household_ref", "row_hash")
_BYTES = ("id_number_enc", "id_number_hash", "phone_enc", "phone_hash")
_STAMP = pa.timestamp("us", tz="UTC")


def arrow_rows(fields: Sequence[Sequence[Any]], keys: Keys,
               cipher: FieldCipher | None = None) -> pa.Table:
    """The rows (one sequence of values per field of ``records.FIELDS``) as an Arrow table of
    the person table's ``WRITE_COLS``, each typed as its column (text, bytea, date, boolean,
    timestamp). A birth date may be a date or its ISO text."""
    cipher = cipher or _cipher(keys.encryption_key, keys.lookup_key)
    return pa.concat_tables([
        _arrow(records.columns_of([column[start : start + _SLICE] for column in fields],
                                  cipher, keys.digest_key, keys.now), keys)
        for start in range(0, max(len(fields[0]), 1), _SLICE)])


def _arrow(columns: dict[str, list[Any]], keys: Keys) -> pa.Table:
    enums = keys.enums
    n = len(columns["ref"])
    out: dict[str, pa.Array] = {}
    for name in _TEXT:
        out[name] = pa.array(columns[name], pa.string())
    for name in _BYTES:
        out[name] = pa.array(columns[name], pa.binary())
    out["sex"] = pa.array([enums[x] for x in columns["sex"]], pa.string())
    out["id_type"] = pa.array([None if x is None else enums[x] for x in columns["id_type"]],
                              pa.string())
    born = columns["birth_date"]
    if any(x.__class__ is str for x in born):  # ISO text (from the second process)
        out["birth_date"] = pa.array([None if x is None else x if x.__class__ is str
                                      else x.isoformat() for x in born],
                                     pa.string()).cast(pa.date32())
    else:
        out["birth_date"] = pa.array(born, pa.date32())
    out["synthetic"] = pa.array(columns["synthetic"], pa.bool_())
    out["created_at"] = out["updated_at"] = pa.repeat(pa.scalar(keys.now, _STAMP), n)
    return pa.table([out[c] for c in WRITE_COLS], names=WRITE_COLS)


def copy_binary(rows: pa.Table, lines: Sequence[int] | None = None) -> bytes:
    """``arrow_rows``' table as a binary COPY stream (``core.pgcopy``), its columns in order;
    with ``lines``, each row's line in the file first (the staging table's ``line`` column,
    a bigint)."""
    if lines is not None:
        rows = rows.add_column(0, "line", pa.array(lines, pa.int64()))
    return pgcopy.encode(rows)


def portable(fields: Sequence[Sequence[Any]]) -> list[list[Any]]:
    """The fields as sent to the second process: birth dates as ISO text (a date is pickled
    as an object of its own; the row hash takes the text anyway)."""
    out = [list(column) for column in fields]
    born = records.FIELDS.index("birth_date")
    out[born] = [x.isoformat() if isinstance(x, date) else x for x in out[born]]
    return out


_pool: ProcessPoolExecutor | None = None
_pool_lock = threading.Lock()


def stage_in_process(fields: Sequence[Sequence[Any]], keys: Keys) -> Future[pa.Table]:
    """``arrow_rows`` in the second process (started on first use and kept for later imports;
    ``spawn``, not ``fork``: the importing process runs threads)."""
    global _pool
    args = (portable(fields), keys)
    with _pool_lock:
        for _ in range(2):
            if _pool is None:
                _pool = ProcessPoolExecutor(max_workers=1,
                                            mp_context=multiprocessing.get_context("spawn"))
            try:
                return _pool.submit(arrow_rows, *args)
            except BrokenProcessPool:  # its process died (say, killed): start another
                _pool = None
        raise BrokenProcessPool("the staging process cannot be started")


def discard_pool() -> None:
    """Forget the second process (after it died), so that the next import starts another."""
    global _pool
    with _pool_lock:
        if _pool is not None:
            _pool.shutdown(wait=False, cancel_futures=True)
            _pool = None
