"""Sidecar indexes of the check-in store, laid out so that a query for some venues over some
days, or for some persons, reads little from disk: a few small reads per case stay, issued in
parallel, and nothing else.

Next to each day file ``part-X.parquet`` the store writes two sidecars (derived data, rebuilt by
:func:`write_sidecars`):

- ``part-X.parquet.venues.idx``: every stay, grouped by venue bucket, then by dwell class (short
  stays, up to the file's 95th percentile of dwell; long stays), then by the hour the stay
  began. A stay overlapping a case stay [a, b) at venue v began in [a - dwell, b); so its rows
  are one contiguous run per class in v's bucket, found from two offsets, and the short class
  (most stays) is read for a window of hours only as wide as its longest stay;
- ``part-X.parquet.persons.idx``: every stay again, grouped by person bucket, so a person's
  stays of the day are one contiguous run.

Both have the same format: a 4 KiB header (magic, then JSON: the bucket count, slots per
bucket, the time base and unit, the file's time range and longest stay, the record types), the
offsets table (``buckets * slots + 1`` entries: where each (bucket, slot) starts), then the
records (person, venue, t_in, t_out), row-major so that one read returns whole stays. Times are
offsets from the base in seconds when every time in the file is a whole second (µs otherwise),
and each field takes 32 bits when its values fit: 16 bytes a stay for typical check-ins.
Buckets are Fibonacci hashes of the id, so any int64 ids spread evenly.

Reads are ``pread`` calls on exact byte ranges (``posix_fadvise(RANDOM)``: no read-ahead), close
ranges merged, issued from a pool of threads; there is no memory map (Arrow's memory-mapped
reads advise the kernel to load whole buffers, which read every sidecar entirely on a cold
cache). The co-presence SQL then runs on the rows read only (see :mod:`fangkong.tracing.engine`);
a row read that cannot match is filtered there, so runs may include neighbours. A file without
current sidecars is read through Parquet row-group statistics instead.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

COLUMNS = ("person_id", "venue_id", "t_in", "t_out")
MAGIC = b"FKSTAYS2"
HEADER_BYTES = 4096
ALIGN = 4096
MINUTE_US = 60_000_000
SLOT_US = 30 * MINUTE_US  # time slots of the venue side (widened past MAX_SLOTS a class)
MAX_SLOTS = 48
DWELL_QUANTILES = (0.5, 0.95)  # dwell classes of the venue side: up to each, then the rest
STAYS_PER_BUCKET = 64
IO_THREADS = 16
MERGE_GAP = 4096  # bytes: ranges closer than this are read as one
CHUNK = 4 * 2**20  # bytes: longer reads are split across threads
_FIB = np.uint64(0x9E3779B97F4A7C15)


def sidecars(parquet: Path) -> tuple[Path, Path]:
    """(venue side, person side) of a day file."""
    return (parquet.with_name(parquet.name + ".venues.idx"),
            parquet.with_name(parquet.name + ".persons.idx"))


def _bucket(ids: np.ndarray, buckets: int) -> np.ndarray:
    """Fibonacci hash of int64 ids into ``buckets`` (a power of two)."""
    if buckets <= 1:
        return np.zeros(len(ids), np.int64)
    bits = buckets.bit_length() - 1
    hashed = ids.astype(np.int64).view(np.uint64) * _FIB
    return (hashed >> np.uint64(64 - bits)).astype(np.int64)


def _pow2_at_least(n: int) -> int:
    return 1 << (n - 1).bit_length() if n > 1 else 1


def _fit(values: np.ndarray) -> str:
    if not len(values) or (values.min() >= -(2**31) and values.max() < 2**31):
        return "<i4"
    return "<i8"


def _micros(column: pa.ChunkedArray) -> np.ndarray:
    return np.asarray(column.cast(pa.timestamp("us", tz="UTC")).cast(pa.int64()).to_numpy(),
                      np.int64)


def _ceil(value: int, step: int) -> int:
    return -(-value // step) * step


# --- writing --------------------------------------------------------------------------------

def write_sidecars(parquet: Path) -> None:
    """Write both sidecars of a Parquet file of stays (any order, any time span)."""
    table = pq.read_table(parquet, columns=list(COLUMNS))
    person = np.asarray(table.column("person_id").to_numpy(), np.int64)
    venue = np.asarray(table.column("venue_id").to_numpy(), np.int64)
    t_in, t_out = _micros(table.column("t_in")), _micros(table.column("t_out"))
    n = len(person)
    dwell = t_out - t_in
    base = int(t_in.min()) // SLOT_US * SLOT_US if n else 0
    span = int(t_in.max()) - base + 1 if n else 1
    slot_us = _ceil(-(-span // MAX_SLOTS), SLOT_US)
    per_class = max(1, -(-span // slot_us))
    longest = int(dwell.max()) if n else 0
    limits = sorted({min(longest, _ceil(int(np.quantile(dwell, q, method="higher")),
                                        MINUTE_US)) for q in DWELL_QUANTILES} | {longest}
                    ) if n else [0]
    whole = bool(n == 0 or not (np.any(t_in % 1_000_000) or np.any(t_out % 1_000_000)))
    unit = 1_000_000 if whole else 1
    rel_in, rel_out = (t_in - base) // unit, (t_out - base) // unit
    times = _fit(np.concatenate([rel_in, rel_out]))
    records = np.empty(n, np.dtype([("person", _fit(person)), ("venue", _fit(venue)),
                                    ("t_in", times), ("t_out", times)]))
    records["person"], records["venue"] = person, venue
    records["t_in"], records["t_out"] = rel_in, rel_out
    common = {"rows": n, "base_us": base, "unit_us": unit, "max_dwell_us": longest,
              "t_in_min_us": int(t_in.min()) if n else 0,
              "t_in_max_us": int(t_in.max()) if n else -1,
              "t_out_max_us": int(t_out.max()) if n else -1}
    venue_side, person_side = sidecars(parquet)

    # Venue side: per venue (a directory of the file's venues), per dwell class, per slot of
    # entry time; within a slot by entry time.
    venues = np.unique(venue)
    slots = len(limits) * per_class
    cls = np.searchsorted(np.asarray(limits, np.int64), dwell, "left").clip(0, len(limits) - 1)
    slot = (np.searchsorted(venues, venue) * slots + cls * per_class
            + (t_in - base) // slot_us)
    # Stable: a file the store wrote is sorted by venue, time and person already.
    order = np.argsort(slot, kind="stable")
    _write(venue_side, records[order], slot[order], len(venues) * slots,
           {**common, "side": "venue", "groups": len(venues), "slots": slots,
            "slot_us": slot_us, "per_class": per_class, "dwell_us": limits},
           directory=venues.astype(_fit(venues)))

    # Person side: hashed buckets of about STAYS_PER_BUCKET stays (a few persons' days).
    buckets = _pow2_at_least(max(1, n // STAYS_PER_BUCKET))
    slot = _bucket(person, buckets)
    order = np.argsort(slot, kind="stable")
    _write(person_side, records[order], slot[order], buckets,
           {**common, "side": "person", "groups": buckets, "slots": 1})


def _write(path: Path, records: np.ndarray, slot: np.ndarray, n_slots: int,
           header: dict[str, Any], directory: np.ndarray | None = None) -> None:
    counts = np.bincount(slot, minlength=n_slots)
    offsets = np.concatenate([[0], np.cumsum(counts)])
    off_type = "<u4" if len(records) < 2**32 else "<i8"
    at = HEADER_BYTES
    if directory is not None:
        header = {**header, "directory_at": at, "directory_type": directory.dtype.str}
        at += _ceil(directory.nbytes, ALIGN)
    offsets_at = at
    records_at = at + _ceil(len(offsets) * np.dtype(off_type).itemsize, ALIGN)
    meta = json.dumps({**header, "fields": [[name, records.dtype[name].str]
                                            for name in records.dtype.names or ()],
                       "offsets_type": off_type, "offsets_at": offsets_at,
                       "records_at": records_at}).encode()
    if len(MAGIC) + 4 + len(meta) > HEADER_BYTES:
        raise ValueError("sidecar header too long")
    tmp = path.with_name("." + path.name + ".tmp")
    with open(tmp, "wb") as handle:
        handle.write(MAGIC + len(meta).to_bytes(4, "little") + meta)
        if directory is not None:
            handle.seek(HEADER_BYTES)
            handle.write(directory.tobytes())
        handle.seek(offsets_at)
        handle.write(offsets.astype(off_type).tobytes())
        handle.seek(records_at)
        handle.write(records.tobytes())
    tmp.replace(path)


# --- parallel reads ---------------------------------------------------------------------------

_POOL: ThreadPoolExecutor | None = None
_POOL_LOCK = threading.Lock()


def _pool() -> ThreadPoolExecutor:
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = ThreadPoolExecutor(IO_THREADS, thread_name_prefix="fangkong-io")
        return _POOL


def _forget_pool() -> None:
    global _POOL
    _POOL = None  # a forked child has none of its parent's threads


os.register_at_fork(after_in_child=_forget_pool)


def _pread_into(fd: int, view: memoryview, offset: int) -> None:
    got = 0
    while got < len(view):
        n = os.preadv(fd, [view[got:]], offset + got)
        if n == 0:
            raise OSError(f"unexpected end of file reading a sidecar (fd {fd})")
        got += n


def read_runs(runs: Sequence[tuple[int, int, int]]) -> tuple[np.ndarray, np.ndarray]:
    """The bytes of the (fd, offset, length) runs, one after another in one buffer, read in
    parallel (long runs in chunks); and where each run starts in it."""
    lengths = np.fromiter((r[2] for r in runs), np.int64, len(runs))
    starts = np.cumsum(lengths) - lengths
    buf = np.empty(int(lengths.sum()), np.uint8)
    view = memoryview(buf.data)
    jobs: list[tuple[int, memoryview, int]] = []
    for (fd, offset, length), at in zip(runs, starts.tolist(), strict=True):
        for start in range(0, length, CHUNK):
            jobs.append((fd, view[at + start:at + min(length, start + CHUNK)], offset + start))
    if len(jobs) <= 2:
        for job in jobs:
            _pread_into(*job)
        return buf, starts
    lanes = min(IO_THREADS, len(jobs))

    def lane(k: int) -> None:
        for job in jobs[k::lanes]:
            _pread_into(*job)

    for future in [_pool().submit(lane, k) for k in range(lanes)]:
        future.result()
    return buf, starts


def _merge(lo: np.ndarray, hi: np.ndarray, gap: int) -> tuple[np.ndarray, np.ndarray]:
    """Union of the [lo, hi) ranges, merging those less than ``gap`` apart."""
    keep = hi > lo
    lo, hi = lo[keep], hi[keep]
    if len(lo) == 0:
        return lo, hi
    order = np.argsort(lo, kind="stable")
    lo, hi = lo[order], np.maximum.accumulate(hi[order])
    new = np.r_[True, lo[1:] > hi[:-1] + gap]
    last = np.r_[new[1:], True]
    return lo[new], hi[last]


# --- reading ----------------------------------------------------------------------------------

@dataclass
class Sidecar:
    path: Path
    header: dict[str, Any]
    records: np.dtype
    offsets: np.dtype
    directory: np.ndarray | None = None

    def __getitem__(self, name: str) -> int:
        return int(self.header[name])


@dataclass
class Day:
    """One day file's two sidecars."""

    venues: Sidecar
    persons: Sidecar


_CACHE: dict[tuple[str, int, int], Sidecar] = {}


def _header(path: Path, raw: bytes) -> Sidecar:
    if raw[:len(MAGIC)] != MAGIC:
        raise ValueError(f"{path}: not a sidecar of this layout")
    size = int.from_bytes(raw[len(MAGIC):len(MAGIC) + 4], "little")
    header = json.loads(raw[len(MAGIC) + 4:len(MAGIC) + 4 + size])
    return Sidecar(path, header, np.dtype([(str(n), str(t)) for n, t in header["fields"]]),
                   np.dtype(header["offsets_type"]))


Plan = list[tuple[Sidecar, np.ndarray, np.ndarray]]


class Reader:
    """The sidecars of some day files, open for one query (closed on exit)."""

    def __init__(self) -> None:
        self._fds: dict[Path, int] = {}

    def __enter__(self) -> Reader:
        return self

    def __exit__(self, *exc: object) -> None:
        for fd in self._fds.values():
            os.close(fd)
        self._fds.clear()

    def fd(self, path: Path) -> int:
        fd = self._fds.get(path)
        if fd is None:
            fd = os.open(path, os.O_RDONLY)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_RANDOM)
            self._fds[path] = fd
        return fd

    def open_days(self, files: list[Path]) -> list[Day] | None:
        """Every file's sidecars, or None when one is missing, of another layout or older
        than its file (headers are cached while a sidecar is unchanged)."""
        keys = []
        for f in files:
            try:
                mtime = f.stat().st_mtime_ns
                for side in sidecars(f):
                    st = side.stat()
                    if st.st_mtime_ns < mtime:
                        return None
                    keys.append((side, (str(side), st.st_mtime_ns, st.st_size)))
            except FileNotFoundError:
                return None
        todo = [(side, key) for side, key in keys if key not in _CACHE]
        if todo:
            buf, starts = read_runs([(self.fd(side), 0, HEADER_BYTES) for side, _k in todo])
            for (side, key), at in zip(todo, starts.tolist(), strict=True):
                try:
                    _CACHE[key] = _header(side, buf[at:at + HEADER_BYTES].tobytes())
                except ValueError:
                    return None
        opened = [_CACHE[key] for _side, key in keys]
        return [Day(opened[2 * i], opened[2 * i + 1]) for i in range(len(files))]

    def _directories(self, sides: list[Sidecar]) -> None:
        """Load the venue directories not yet loaded (one parallel read)."""
        todo = [s for s in sides if s.directory is None]
        if not todo:
            return
        kinds = [np.dtype(s.header["directory_type"]) for s in todo]
        buf, starts = read_runs([(self.fd(s.path), s["directory_at"],
                                  s["groups"] * kind.itemsize)
                                 for s, kind in zip(todo, kinds, strict=True)])
        for s, kind, at in zip(todo, kinds, starts.tolist(), strict=True):
            s.directory = buf[at:at + s["groups"] * kind.itemsize].view(kind).astype(np.int64)

    def _slot_rows(self, wanted: list[tuple[Sidecar, np.ndarray]]) -> list[np.ndarray]:
        """offsets[g * slots : g * slots + slots + 1] of each (unique, sorted) group g, per
        sidecar (one parallel read for all)."""
        runs: list[tuple[int, int, int]] = []
        spans = []
        for side, groups in wanted:
            item, width = side.offsets.itemsize, side["slots"] + 1
            lo = side["offsets_at"] + groups * side["slots"] * item
            run_lo, run_hi = _merge(lo, lo + width * item, MERGE_GAP)
            fd = self.fd(side.path)
            spans.append((len(runs), lo, run_lo))
            runs.extend((fd, int(a), int(b - a)) for a, b in zip(run_lo, run_hi, strict=True))
        buf, starts = read_runs(runs)
        out = []
        for (side, _groups), (first_run, lo, run_lo) in zip(wanted, spans, strict=True):
            item, width = side.offsets.itemsize, side["slots"] + 1
            if not len(lo):
                out.append(np.empty((0, width), np.int64))
                continue
            run = np.searchsorted(run_lo, lo, "right") - 1
            seg = int(starts[first_run])
            at = (starts[first_run + run] - seg + lo - run_lo[run]) // item
            flat = buf[seg:seg + (int(at.max()) + width) * item].view(side.offsets)
            out.append(flat[at[:, None] + np.arange(width)].astype(np.int64))
        return out

    def _records(self, plan: Plan) -> pa.Table:
        """The stays of the row ranges [lo, hi) of each sidecar, each row once."""
        runs: list[tuple[int, int, int]] = []
        parts = []
        for side, lo, hi in plan:
            size = side.records.itemsize
            a, b = _merge(lo, hi, max(1, MERGE_GAP // size))
            at, fd = side["records_at"], self.fd(side.path)
            parts.append((side, len(runs), len(runs) + len(a)))
            runs.extend((fd, at + int(x) * size, int(y - x) * size)
                        for x, y in zip(a, b, strict=True))
        buf, starts = read_runs(runs)
        ends = np.r_[starts[1:], len(buf)] if len(runs) else starts
        cols: dict[str, list[np.ndarray]] = {c: [] for c in COLUMNS}
        for side, first, last in parts:
            if first == last:
                continue
            rec = buf[starts[first]:ends[last - 1]].view(side.records)
            base, unit = side["base_us"], side["unit_us"]
            cols["person_id"].append(rec["person"].astype(np.int64))
            cols["venue_id"].append(rec["venue"].astype(np.int64))
            cols["t_in"].append(rec["t_in"].astype(np.int64) * unit + base)
            cols["t_out"].append(rec["t_out"].astype(np.int64) * unit + base)
        ts = pa.timestamp("us", tz="UTC")
        out = {c: pa.array(np.concatenate(v) if v else np.empty(0, np.int64), pa.int64())
               for c, v in cols.items()}
        return pa.table({"person_id": out["person_id"], "venue_id": out["venue_id"],
                         "t_in": out["t_in"].cast(ts), "t_out": out["t_out"].cast(ts)})

    def stays_of_persons(self, days: list[Day], ids: np.ndarray, t_from: int,
                         t_to: int) -> pa.Table:
        """Every stay of these persons in the files whose stays can meet [t_from, t_to) (µs);
        may include other persons' stays (those sharing a bucket)."""
        sides = [d.persons for d in days
                 if d.persons["rows"] and d.persons["t_in_min_us"] < t_to
                 and d.persons["t_out_max_us"] > t_from]
        wanted = [(s, np.unique(_bucket(ids, s["groups"]))) for s in sides]
        rows = self._slot_rows(wanted)
        return self._records([(s, r[:, 0], r[:, 1]) for s, r in zip(sides, rows, strict=True)])

    def stays_near(self, days: list[Day], venues: np.ndarray, starts: np.ndarray,
                   ends: np.ndarray) -> pa.Table:
        """Every stay at ``venues[i]`` that can overlap [starts[i], ends[i]) (µs); may include
        stays at other times (neighbours in the file), each row once."""
        picks = []
        for day in days:
            side = day.venues
            near = (starts < side["t_out_max_us"]) & (ends > side["t_in_min_us"])
            if side["rows"] and near.any():
                picks.append((side, near))
        self._directories([side for side, _near in picks])
        wanted, queries = [], []
        for side, near in picks:
            assert side.directory is not None
            v, a, b = venues[near], starts[near], ends[near]
            pos = np.searchsorted(side.directory, v).clip(0, len(side.directory) - 1)
            found = side.directory[pos] == v
            groups, which = np.unique(pos[found], return_inverse=True)
            wanted.append((side, groups))
            queries.append((which, a[found], b[found]))
        plan = []
        for (side, _groups), rows, (which, a, b) in zip(wanted, self._slot_rows(wanted),
                                                         queries, strict=True):
            rows = rows[which]
            base, slot_us, per_class = side["base_us"], side["slot_us"], side["per_class"]
            last = ((b - 1 - base) // slot_us).clip(-1, per_class - 1)
            los, his = [], []
            for cls, dwell in enumerate(side.header["dwell_us"]):
                first = ((a - int(dwell) - base) // slot_us).clip(0, per_class)
                ok = last >= first
                pick = np.nonzero(ok)[0]
                los.append(rows[pick, cls * per_class + first[ok]])
                his.append(rows[pick, cls * per_class + last[ok] + 1])
            plan.append((side, np.concatenate(los), np.concatenate(his)))
        return self._records(plan)
