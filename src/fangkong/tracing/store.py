"""The check-in event store: append-only Parquet files partitioned by day.

Layout of a store directory::

    day=2022-05-01/part-<batch>.parquet   # stays that began that day (UTC), sorted by
    day=2022-05-02/part-<batch>.parquet   # venue_id then t_in, in small row groups
    day=.../part-<batch>.parquet.venues.idx, .persons.idx   # sidecar indexes (see index.py)
    _manifest.json                        # ingested batches (by content hash), longest stay

Columns: ``person_id`` BIGINT, ``venue_id`` BIGINT, ``t_in`` and ``t_out`` (timestamps, UTC; a
stay is the half-open [t_in, t_out)). A file is never rewritten: each ingested batch adds one file
per day it touches. Sorting by venue then time makes each row group's venue and time ranges
narrow, so a query for some venues over some days reads the footers and a few row groups only;
with the sidecar indexes (:mod:`fangkong.tracing.index`) it reads a few small runs per case
stay instead.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from fangkong.core.config import get_settings
from fangkong.tracing.messages import T

MANIFEST = "_manifest.json"
ROW_GROUP_SIZE = 16_384
STAY_SCHEMA = pa.schema([
    ("person_id", pa.int64()),
    ("venue_id", pa.int64()),
    ("t_in", pa.timestamp("us", tz="UTC")),
    ("t_out", pa.timestamp("us", tz="UTC")),
])


def checkin_dir() -> Path:
    """Where the check-in store lives: ``<data dir>/checkins``."""
    return get_settings().data_dir / "checkins"


def parquet_files(directory: Path) -> list[Path]:
    """The store's Parquet files (any ``*.parquet`` below ``directory``), in a stable order."""
    if not directory.is_dir():
        from fangkong.core.errors import Invalid

        raise Invalid(T("no_directory", path=directory))
    return sorted(p for p in directory.rglob("*.parquet") if not p.name.startswith("."))



def read_manifest(directory: Path) -> dict[str, Any]:
    path = directory / MANIFEST
    if not path.exists():
        return {"batches": {}, "max_dwell_seconds": None}
    data: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return data


def write_manifest(directory: Path, manifest: dict[str, Any]) -> None:
    tmp = directory / f".{MANIFEST}.tmp"
    tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True), "utf-8")
    os.replace(tmp, directory / MANIFEST)


def reindex(directory: Path) -> int:
    """(Re)write the sidecar indexes of every Parquet file in the store (and remove those of
    an older layout); the engine reads a file without current sidecars through Parquet
    statistics, more slowly. Call under :func:`locked`. Returns the number of files."""
    from fangkong.tracing import index

    files = parquet_files(directory)
    for path in files:
        for old in (path.name + ".arrow", path.name + ".persons.arrow"):
            path.with_name(old).unlink(missing_ok=True)
        index.write_sidecars(path)
    return len(files)


def max_dwell_seconds(directory: Path) -> int | None:
    """The longest stay in the store (an upper bound, from the manifest), or None when the
    directory was not written by :func:`append` (the engine then computes it)."""
    value = read_manifest(directory).get("max_dwell_seconds")
    return None if value is None else int(value) + 1


@contextmanager
def locked(directory: Path) -> Iterator[None]:
    """One writer at a time per store."""
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# --- row-group statistics -------------------------------------------------------------------

_STATS_CACHE: dict[tuple[str, int, int], list[tuple[int, int, int, int, int, int]]] = {}


def _micros(value: Any) -> int:
    if isinstance(value, datetime):
        if value.tzinfo is None:  # naive timestamps in the store are UTC
            value = value.replace(tzinfo=UTC)
        return int(value.timestamp()) * 1_000_000 + value.microsecond
    return int(value)


def _file_stats(path: Path) -> list[tuple[int, int, int, int, int, int]]:
    """(row group, rows, venue min, venue max, t_in min, t_out max) of one file, in µs."""
    st = path.stat()
    key = (str(path), st.st_mtime_ns, st.st_size)
    cached = _STATS_CACHE.get(key)
    if cached is not None:
        return cached
    meta = pq.ParquetFile(path).metadata
    names = [meta.schema.column(i).name for i in range(meta.num_columns)]
    iv, ii, io = names.index("venue_id"), names.index("t_in"), names.index("t_out")
    out = []
    for g in range(meta.num_row_groups):
        rg = meta.row_group(g)
        sv, si, so = (rg.column(iv).statistics, rg.column(ii).statistics,
                      rg.column(io).statistics)
        if not all(s is not None and s.has_min_max for s in (sv, si, so)):
            # No statistics: the row group must always be read.
            out.append((g, rg.num_rows, -(2**63), 2**63 - 1, -(2**63), 2**63 - 1))
            continue
        out.append((g, rg.num_rows, int(sv.min), int(sv.max), _micros(si.min), _micros(so.max)))
    _STATS_CACHE[key] = out
    return out


def is_data_file(path: Path) -> bool:
    return path.suffix == ".parquet" and not path.name.startswith(".")


@dataclass
class RowGroupStats:
    files: list[Path]
    rows: list[tuple[int, int, int, int, int, int, int]] = field(default_factory=list)

    def table(self) -> pa.Table:
        cols = list(zip(*self.rows, strict=True)) if self.rows else [()] * 7
        return pa.table({
            "file": pa.array(cols[0], pa.int64()), "rg": pa.array(cols[1], pa.int64()),
            "n": pa.array(cols[2], pa.int64()),
            "venue_min": pa.array(cols[3], pa.int64()), "venue_max": pa.array(cols[4], pa.int64()),
            "t_in_min": pa.array(cols[5], pa.int64()).cast(pa.timestamp("us")),
            "t_out_max": pa.array(cols[6], pa.int64()).cast(pa.timestamp("us")),
        })


def row_group_stats(files: list[Path]) -> RowGroupStats:
    """Per row group of each file: its rows, venue range, earliest t_in and latest t_out (µs
    since the epoch, UTC). Footers are cached while a file is unchanged."""
    stats = RowGroupStats(files=files)
    for i, path in enumerate(files):
        stats.rows.extend((i, *row) for row in _file_stats(path))
    return stats


def read_row_groups(files: list[Path], picked: list[tuple[int, int]]) -> pa.Table:
    """The stays of the given (file index, row group) pairs."""
    by_file: dict[int, list[int]] = {}
    for f, g in picked:
        by_file.setdefault(int(f), []).append(int(g))
    parts = [pq.ParquetFile(files[f]).read_row_groups(groups, columns=list(STAY_SCHEMA.names))
             for f, groups in sorted(by_file.items())]
    return pa.concat_tables([p.select(list(STAY_SCHEMA.names)) for p in parts],
                            promote_options="permissive")


# --- writing --------------------------------------------------------------------------------

def append(directory: Path, stays: Any, *, batch: str, meta: dict[str, Any] | None = None,
           con: Any | None = None) -> dict[str, int]:
    """Add a batch of stays (a DuckDB relation name or an Arrow table with the columns of
    :data:`STAY_SCHEMA`): one new file per day, sorted by venue then entry time; then record the
    batch in the manifest. Call under :func:`locked`. Returns rows written per day."""
    import duckdb

    own = con is None
    con = con or duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        if isinstance(stays, pa.Table):
            con.register("batch_in", stays)
            stays = "batch_in"
        days = [r[0] for r in con.execute(
            f"SELECT DISTINCT CAST(CAST(t_in AS TIMESTAMP) AS DATE) AS d FROM {stays} ORDER BY d"
        ).fetchall()]
        written: dict[str, int] = {}
        longest = 0
        for day in days:
            folder = directory / f"day={day.isoformat()}"
            folder.mkdir(parents=True, exist_ok=True)
            target = folder / f"part-{batch}.parquet"
            tmp = folder / f".part-{batch}.parquet.tmp"
            con.execute(
                f"COPY (SELECT CAST(person_id AS BIGINT) AS person_id, "
                f"CAST(venue_id AS BIGINT) AS venue_id, CAST(t_in AS TIMESTAMPTZ) AS t_in, "
                f"CAST(t_out AS TIMESTAMPTZ) AS t_out FROM {stays} "
                f"WHERE CAST(CAST(t_in AS TIMESTAMP) AS DATE) = DATE '{day.isoformat()}' "
                f"ORDER BY venue_id, t_in, person_id) TO '{tmp}' "
                f"(FORMAT parquet, ROW_GROUP_SIZE {ROW_GROUP_SIZE}, COMPRESSION zstd)")
            os.replace(tmp, target)
            from fangkong.tracing import index

            index.write_sidecars(target)
            n, dwell = con.execute(
                f"SELECT count(*), coalesce(max(ceil(epoch(t_out) - epoch(t_in))), 0) "
                f"FROM read_parquet('{target}')").fetchall()[0]
            written[day.isoformat()] = int(n)
            longest = max(longest, int(dwell))
        manifest = read_manifest(directory)
        manifest["batches"][batch] = {**(meta or {}), "rows": sum(written.values()),
                                      "days": written}
        previous = manifest.get("max_dwell_seconds")
        manifest["max_dwell_seconds"] = max(longest, int(previous or 0))
        write_manifest(directory, manifest)
        return written
    finally:
        if own:
            con.close()
