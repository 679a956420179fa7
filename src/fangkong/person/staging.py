"""Checked person rows → the text of a PostgreSQL ``COPY`` into the import's staging table.

This is where a bulk import spends most of its processor time (encryption, keyed hashes,
masks, formatting; ``records.columns_of`` and ``copy_text``), and it needs nothing but the
rows and the keys, so a large import runs it in a second process (``stage_in_process``)
while its own process reads and checks the next lines and the database merges the previous
chunk: the three then share the machine's cores (only worth it with more than two; off by
default, ``Settings.import_second_process``). This module imports nothing that needs a
database, so that process starts quickly.
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

from fangkong.core.security import FieldCipher
from fangkong.person import records

WRITE_COLS = list(records.COLUMNS)
_SLICE = 10_000
"""Rows encrypted and formatted at a time (a slice's columns stay in the CPU's caches)."""


@dataclass(frozen=True)
class Keys:
    """What turning rows into staged columns needs besides the rows."""

    encryption_key: bytes
    lookup_key: bytes
    digest_key: bytes
    now: datetime
    stamp: str
    """``now`` as the staging table's timestamp columns take it."""
    enums: dict[Any, str]
    """Enum members (and their values) → their text in the database."""


@lru_cache(maxsize=4)
def _cipher(encryption_key: bytes, lookup_key: bytes) -> FieldCipher:
    return FieldCipher(encryption_key, lookup_key)


def copy_text(fields: Sequence[Sequence[Any]], keys: Keys,
              cipher: FieldCipher | None = None) -> str:
    """The rows (one sequence of values per field of ``records.FIELDS``) in COPY's text format,
    one line per row with the person table's ``WRITE_COLS``. A birth date may be a date or its
    ISO text."""
    cipher = cipher or _cipher(keys.encryption_key, keys.lookup_key)
    parts = []
    for start in range(0, len(fields[0]), _SLICE):
        part = [column[start : start + _SLICE] for column in fields]
        parts.append(_format(records.columns_of(part, cipher, keys.digest_key, keys.now), keys))
    return "".join(parts)


def with_lines(lines: Sequence[int], text: str) -> str:
    """``copy_text``'s rows with each one's line in the file first (the staging table's
    ``line`` column)."""
    rows = text.split("\n")
    if rows[-1] == "":
        rows.pop()
    assert len(rows) == len(lines), (len(rows), len(lines))
    return "".join(map("{}\t{}\n".format, lines, rows))


# COPY's text format: tab-separated, \N for NULL, backslash escapes in text.
_NULL = "\\N"
_SPECIAL = ("\\", "\t", "\n", "\r")
_FREE_TEXT = ("ref", "name", "address", "division_code", "household_ref")
_PLAIN_TEXT = ("id_number_masked", "phone_masked", "row_hash")
_BYTES = ("id_number_enc", "id_number_hash", "phone_enc", "phone_hash")


def _format(columns: dict[str, list[Any]], keys: Keys) -> str:
    """Rows in COPY's text format, built a column at a time."""
    enums = keys.enums
    out = {name: _escaped(columns[name]) for name in _FREE_TEXT}
    for name in _PLAIN_TEXT:
        out[name] = [_NULL if x is None else x for x in columns[name]]
    for name in _BYTES:
        out[name] = [_NULL if x is None else "\\\\x" + x.hex() for x in columns[name]]
    out["sex"] = [enums[x] for x in columns["sex"]]
    out["id_type"] = [_NULL if x is None else enums[x] for x in columns["id_type"]]
    out["birth_date"] = [_NULL if x is None else x if x.__class__ is str else x.isoformat()
                         for x in columns["birth_date"]]
    out["synthetic"] = ["t" if x else "f" for x in columns["synthetic"]]
    out["created_at"] = out["updated_at"] = [keys.stamp] * len(columns["ref"])
    return "".join([f"{row}\n" for row in map("\t".join, zip(*(out[c] for c in WRITE_COLS),
                                                               strict=True))])


def _escaped(values: list[str | None]) -> list[str]:
    """Text values escaped for COPY; one scan of the whole column finds none to escape."""
    present = "\0".join([x for x in values if x is not None])
    if not any(c in present for c in _SPECIAL):
        return [_NULL if x is None else x for x in values]
    return [_NULL if x is None else x.replace("\\", "\\\\").replace("\t", "\\t")
            .replace("\n", "\\n").replace("\r", "\\r") for x in values]


def portable(fields: Sequence[Sequence[Any]]) -> list[list[Any]]:
    """The fields as sent to the second process: birth dates as ISO text (a date is pickled
    as an object of its own; the text is what the staged row and its hash take anyway)."""
    out = [list(column) for column in fields]
    born = records.FIELDS.index("birth_date")
    out[born] = [x.isoformat() if isinstance(x, date) else x for x in out[born]]
    return out


_pool: ProcessPoolExecutor | None = None
_pool_lock = threading.Lock()


def stage_in_process(fields: Sequence[Sequence[Any]], keys: Keys) -> Future[str]:
    """``copy_text`` in the second process (started on first use and kept for later imports;
    ``spawn``, not ``fork``: the importing process runs threads)."""
    global _pool
    args = (portable(fields), keys)
    with _pool_lock:
        for _ in range(2):
            if _pool is None:
                _pool = ProcessPoolExecutor(max_workers=1,
                                            mp_context=multiprocessing.get_context("spawn"))
            try:
                return _pool.submit(copy_text, *args)
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
