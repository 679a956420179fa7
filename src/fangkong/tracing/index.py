"""Sidecar indexes of the check-in store, so that a query for some venues over some days, or
for some persons, touches little of the data.

Next to each day file ``part-X.parquet`` the store writes (derived, rebuildable data):

- ``part-X.parquet.arrow``: the same rows in the same order (by venue, then entry time), as an
  uncompressed Arrow IPC file that is memory-mapped: ``key`` = venue_id << 37 | (t_in - the
  day's start, in µs), ``person_id`` and ``t_out``. ``key`` is sorted, so the stays of one
  venue entering in a time range are one contiguous run of rows, found by binary search; the
  venue and the entry time are not stored again, they are read back from ``key``;
- ``part-X.parquet.persons.arrow``: ``person_id`` sorted, with each row's position in the file.

Person ids and row positions are stored in 32 bits when they fit (64 otherwise), so the
sidecars take 28 bytes a stay (20 + 8) instead of 56 in the first layout (which stored every
column again and everything in 64 bits, and is still read).

Only the pages holding the runs found are read from disk. The co-presence SQL then runs on
those rows only (see :mod:`fangkong.tracing.engine`); a file without sidecars is read through
Parquet row-group statistics instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

SHIFT = 37  # 2**37 µs is about 1.59 days: room for one day of entry times
MAX_VENUE = 1 << (63 - SHIFT)
COLUMNS = ("person_id", "venue_id", "t_in", "t_out")


def sidecars(parquet: Path) -> tuple[Path, Path]:
    return (parquet.with_name(parquet.name + ".arrow"),
            parquet.with_name(parquet.name + ".persons.arrow"))


def _micros(column: pa.ChunkedArray) -> np.ndarray:
    return column.cast(pa.timestamp("us", tz="UTC")).cast(pa.int64()).to_numpy()


def write_sidecars(parquet: Path, day_start: datetime) -> bool:
    """Write both sidecars of a day file sorted by (venue_id, t_in); False (and none written)
    when the file does not fit the key (a venue id outside 0..2**26, or an entry time outside
    the day)."""
    table = pq.read_table(parquet, columns=list(COLUMNS))
    base = int(day_start.timestamp()) * 1_000_000
    venue = table.column("venue_id").to_numpy()
    offset = _micros(table.column("t_in")) - base
    if len(venue) and (venue.min() < 0 or venue.max() >= MAX_VENUE or offset.min() < 0
                       or offset.max() >= (1 << SHIFT)):
        return False
    key = (venue.astype(np.int64) << SHIFT) | offset
    if len(key) > 1 and bool(np.any(key[1:] < key[:-1])):
        return False  # not sorted by venue then entry time
    rows, persons = sidecars(parquet)
    person = table.column("person_id").to_numpy().astype(np.int64)
    person_type = (pa.int32() if not len(person) or (person.min() >= -(1 << 31)
                                                     and person.max() < (1 << 31))
                   else pa.int64())
    data = pa.table({"key": pa.array(key, pa.int64()),
                     "person_id": pa.array(person, pa.int64()).cast(person_type),
                     "t_out": table.column("t_out").cast(pa.timestamp("us", tz="UTC"))}
                    ).replace_schema_metadata({b"base_us": str(base).encode()})
    _write_ipc(rows, data)
    order = np.argsort(person, kind="stable")
    row_type = pa.int32() if len(person) < (1 << 31) else pa.int64()
    _write_ipc(persons, pa.table({"person_id": pa.array(person[order], pa.int64()).cast(
                                      person_type),
                                  "row": pa.array(order.astype(np.int64)).cast(row_type)}))
    return True


def _write_ipc(path: Path, table: pa.Table) -> None:
    tmp = path.with_name("." + path.name + ".tmp")
    with pa.OSFile(str(tmp), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table, max_chunksize=max(table.num_rows, 1))
    tmp.replace(path)


def _single(column: pa.ChunkedArray) -> pa.Array:
    """The column as one array, without copying when it has one chunk (the sidecars are
    written as one record batch). ChunkedArray.take and combine_chunks copy every row."""
    return column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()


@dataclass
class DayIndex:
    arrays: dict[str, pa.Array]
    key: np.ndarray
    person_sorted: np.ndarray
    person_row: np.ndarray
    base: int

    def for_persons(self, ids: np.ndarray) -> np.ndarray:
        """Row positions of every stay of the given (sorted, unique) persons."""
        if self.person_sorted.dtype == np.int32:  # ids beyond 32 bits cannot be in the file
            ids = ids[(ids >= -(1 << 31)) & (ids < (1 << 31))].astype(np.int32)
        lo = np.searchsorted(self.person_sorted, ids, "left")
        hi = np.searchsorted(self.person_sorted, ids, "right")
        return np.sort(self.person_row[_expand(lo, hi)].astype(np.int64))

    def for_venues(self, venues: np.ndarray, t_from: np.ndarray, t_to: np.ndarray
                   ) -> np.ndarray:
        """Row positions of the stays at ``venues[i]`` entering in [t_from[i], t_to[i]) (µs),
        each row once."""
        start = np.clip(t_from - self.base, 0, (1 << SHIFT) - 1)
        end = np.clip(t_to - self.base, 0, (1 << SHIFT) - 1)
        keep = (t_to > self.base) & (t_from < self.base + (1 << SHIFT)) & (end > start)
        v = venues[keep].astype(np.int64) << SHIFT
        lo = np.searchsorted(self.key, v | start[keep], "left")
        hi = np.searchsorted(self.key, v | end[keep], "left")
        return _expand(*_union(lo, hi))

    def take(self, positions: np.ndarray) -> pa.Table:
        """The stays at these row positions (reads only the pages that hold them)."""
        idx = pa.array(positions, pa.int64())
        if "venue_id" in self.arrays:  # the first layout stored every column
            return pa.table({name: self.arrays[name].take(idx) for name in COLUMNS})
        key = self.key[positions]
        t_in = pa.array(self.base + (key & ((1 << SHIFT) - 1)), pa.int64())
        return pa.table({"person_id": self.arrays["person_id"].take(idx).cast(pa.int64()),
                         "venue_id": pa.array(key >> SHIFT, pa.int64()),
                         "t_in": t_in.cast(pa.timestamp("us", tz="UTC")),
                         "t_out": self.arrays["t_out"].take(idx)})


def _union(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Merge overlapping [lo, hi) ranges."""
    keep = hi > lo
    lo, hi = lo[keep], hi[keep]
    if len(lo) == 0:
        return lo, hi
    order = np.argsort(lo, kind="stable")
    lo, hi = lo[order], np.maximum.accumulate(hi[order])
    new = np.r_[True, lo[1:] > hi[:-1]]
    last = np.r_[new[1:], True]
    return lo[new], hi[last]


def _expand(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """All integers of the ranges [lo[i], hi[i]), concatenated."""
    lengths = np.maximum(hi - lo, 0)
    total = int(lengths.sum())
    if total == 0:
        return np.empty(0, np.int64)
    starts = np.repeat(lo - np.concatenate(([0], np.cumsum(lengths)[:-1])), lengths)
    return starts + np.arange(total, dtype=np.int64)


_CACHE: dict[tuple[str, int], DayIndex] = {}


def open_day(parquet: Path) -> DayIndex | None:
    """The memory-mapped sidecars of a day file, or None when missing or older than it."""
    rows_path, persons_path = sidecars(parquet)
    try:
        mtime = parquet.stat().st_mtime_ns
        if min(rows_path.stat().st_mtime_ns, persons_path.stat().st_mtime_ns) < mtime:
            return None
    except FileNotFoundError:
        return None
    cache_key = (str(parquet), mtime)
    if cache_key in _CACHE:
        return _CACHE[cache_key]
    rows = pa.ipc.open_file(pa.memory_map(str(rows_path))).read_all()
    persons = pa.ipc.open_file(pa.memory_map(str(persons_path))).read_all()
    meta = rows.schema.metadata or {}
    day = DayIndex(arrays={name: _single(rows.column(name)) for name in COLUMNS
                           if name in rows.column_names},
                   key=_single(rows.column("key")).to_numpy(zero_copy_only=True),
                   person_sorted=_single(persons.column("person_id")).to_numpy(
                       zero_copy_only=True),
                   person_row=_single(persons.column("row")).to_numpy(zero_copy_only=True),
                   base=int(meta[b"base_us"]))
    _CACHE[cache_key] = day
    return day


def open_days(files: list[Path]) -> list[DayIndex] | None:
    """Every file's index, or None when one of them has none."""
    out = []
    for f in files:
        day = open_day(f)
        if day is None:
            return None
        out.append(day)
    return out
