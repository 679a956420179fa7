"""Benchmark: the co-presence (时空伴随) engine against the plain DuckDB overlap join.

1. Generates synthetic check-ins with DuckDB (no Python loops): P people x D days, 7 stays per
   person and day (about 100 million stays at 1,000,000 x 14), venues drawn with a skewed
   (power-law) popularity, stays mostly short with some long ones; written through
   ``fangkong.tracing.store.append`` (one file per day, sorted by venue then entry time).
   The files are kept and reused by a later run with the same parameters.
2. Picks N cases (random people) with a look-back window each: from 2 days before a random
   onset until 1 to 3 days after it, clipped to the generated days.
3. Runs, in this process, for the whole batch and for single cases, cold and warm:
   - the engine: ``fangkong.tracing.engine.colocate`` (DuckDB);
   - the baseline: one plain DuckDB query on the same files, the case side filtered (the
     same clipped case stays), joined to every stay on
     ``a.venue_id = b.venue_id AND a.t_in < b.t_out AND b.t_in < a.t_out``.
   It checks that both return identical rows, and prints seconds, ratios and peak memory
   (the process's peak RSS, its mark reset before each measurement).
   "Cold" means dropped from the OS page cache just before (the whole cache, as root:
   ``sync; echo 3 > /proc/sys/vm/drop_caches``; else, or with ``--files-only``, the store's
   files with ``posix_fadvise(DONTNEED)``), with the engine's in-process caches cleared, so
   both sides pay for their disk reads: the baseline cold, then the engine cold, then both
   again warm; then single cases warm, and single cases cold (each after a drop). Cold runs
   also report the MiB read from disk (``/proc/self/io``). Single-case results are checked
   against the batch's rows of that case (and, for some, against the baseline).
   With ``--prepare`` it only generates (or reindexes) the store, to run without the lock.

Usage: ``.venv/bin/python bench/bench_tracing.py --prepare``, then
``flock /tmp/fangkong-bench.lock .venv/bin/python bench/bench_tracing.py
[--people 1000000] [--days 14] [--cases 1000]``; see bench/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from fangkong.tracing import engine, index, store

DAY0 = datetime(2022, 5, 1, tzinfo=UTC)
STAYS_PER_DAY = 7


def _reset_peak() -> None:
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def _peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


DROP_ALL = True


def evict(directory: Path) -> str:
    """Make the next run cold: forget the engine's in-process caches (sidecar headers and
    venue directories, Parquet footers), then drop the OS page cache: all of it when this
    process may (root: ``sync; echo 3 > /proc/sys/vm/drop_caches``, which also drops cached
    directory entries and inodes), else the store's files (``posix_fadvise(DONTNEED)``).
    Returns how it was done."""
    import gc


    index._CACHE.clear()
    store._STATS_CACHE.clear()
    gc.collect()
    for path in directory.rglob("*"):
        if path.is_file():
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)  # dirty pages (a store just generated) cannot be dropped
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)
    if DROP_ALL:
        try:
            os.sync()
            Path("/proc/sys/vm/drop_caches").write_text("3\n")
            return "whole page cache dropped"
        except OSError:
            pass
    return "store's files dropped from the page cache"


def resident_mib(directory: Path) -> float | None:
    """How much of the store is in the page cache (util-linux ``fincore``), if available."""
    import subprocess

    files = [str(f) for f in directory.rglob("*") if f.is_file()]
    if not shutil.which("fincore") or not files:
        return None
    out = subprocess.run(["fincore", "--bytes", "--noheadings", "--output", "RES", *files],
                         capture_output=True, text=True, check=False).stdout
    return sum(int(x) for x in out.split() if x.isdigit()) / 2**20


def cold(directory: Path) -> str:
    how = evict(directory)
    left = resident_mib(directory)
    return f" ({how}" + ("" if left is None else f", {left:.0f} MiB of the store left") + ")"


def _read_bytes() -> int:
    """Bytes this process caused to be read from the storage layer (/proc/self/io)."""
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("read_bytes:"):
            return int(line.split()[1])
    return 0


def measure(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    _reset_peak()
    started = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - started, _peak_mb()


def measure_io(fn: Callable[[], Any]) -> tuple[Any, float, float, float]:
    """As :func:`measure`, with the MiB read from disk meanwhile."""
    before = _read_bytes()
    value, secs, peak = measure(fn)
    return value, secs, peak, (_read_bytes() - before) / 2**20


# --------------------------------------------------------------------------------- data

def generate(directory: Path, people: int, days: int, venues: int, seed: int) -> None:
    """One DuckDB query per day; skewed venues (venue = floor(V * u^2): popularity falls as
    1/sqrt(rank)), entry times between
    06:00 and 22:00, dwell mostly 5-95 minutes, 5 % of stays 4-10 hours."""
    con = duckdb.connect(config={"memory_limit": "6GB"})
    con.execute("SET enable_progress_bar = false")
    con.execute(f"SELECT setseed({(seed % 1000) / 1000})")
    for d in range(days):
        start = DAY0 + timedelta(days=d)
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE day_stays AS
            SELECT person_id, venue_id, t_in,
                   t_in + to_seconds(CAST(dwell AS BIGINT)) AS t_out
            FROM (
              SELECT CAST(i // {STAYS_PER_DAY} AS BIGINT) AS person_id,
                     CAST(floor({venues} * pow(random(), 2)) AS BIGINT) AS venue_id,
                     TIMESTAMP '{start:%Y-%m-%d} 06:00:00'
                       + to_seconds(CAST(floor(random() * 16 * 3600) AS BIGINT)) AS t_in,
                     CASE WHEN random() < 0.05 THEN 4 * 3600 + floor(random() * 6 * 3600)
                          ELSE 300 + floor(pow(random(), 2) * 90 * 60) END AS dwell
              FROM range({people * STAYS_PER_DAY}) AS r(i)
            )""")
        store.append(directory, "day_stays", batch=f"gen{d:02d}", con=con)
        print(f"  day {d + 1}/{days} written", flush=True)
    con.close()


def pick_cases(people: int, days: int, n: int, seed: int) -> list[tuple[int, datetime, datetime]]:
    rnd = random.Random(seed)
    chosen = rnd.sample(range(people), n)
    end_all = DAY0 + timedelta(days=days)
    out = []
    for person in chosen:
        onset = DAY0 + timedelta(days=rnd.randrange(days))
        start = max(DAY0, onset - timedelta(days=2))
        end = min(end_all, onset + timedelta(days=rnd.randint(1, 3)))
        out.append((person, start, end))
    return out


# --------------------------------------------------------------------------------- runs

BASELINE = """
WITH stays AS (
  SELECT person_id, venue_id, CAST(t_in AS TIMESTAMP) AS t_in, CAST(t_out AS TIMESTAMP) AS t_out
  FROM read_parquet({files})
), a AS (
  SELECT s.person_id, s.venue_id, GREATEST(s.t_in, c.window_start) AS t_in,
         LEAST(s.t_out + INTERVAL {linger} MINUTE, c.window_end) AS t_out
  FROM stays AS s JOIN cases AS c ON s.person_id = c.person_id
  WHERE GREATEST(s.t_in, c.window_start)
        < LEAST(s.t_out + INTERVAL {linger} MINUTE, c.window_end)
)
SELECT a.person_id AS case_person_id, b.person_id AS contact_person_id, b.venue_id,
       GREATEST(a.t_in, b.t_in) AS overlap_start, LEAST(a.t_out, b.t_out) AS overlap_end
FROM a JOIN stays AS b
  ON a.venue_id = b.venue_id AND a.t_in < b.t_out AND b.t_in < a.t_out
WHERE a.person_id <> b.person_id
  AND LEAST(a.t_out, b.t_out) >= GREATEST(a.t_in, b.t_in) + INTERVAL {m} MINUTE
"""


def baseline(directory: Path, cases: pa.Table, params: engine.Params) -> pa.Table:
    files = "[" + ", ".join(f"'{f}'" for f in store.parquet_files(directory)) + "]"
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.register("cases_in", cases)
    con.execute("CREATE TEMP VIEW cases AS SELECT person_id, "
                "CAST(window_start AS TIMESTAMP) AS window_start, "
                "CAST(window_end AS TIMESTAMP) AS window_end FROM cases_in")
    result = con.sql(BASELINE.format(files=files, linger=params.linger_minutes,
                                     m=params.min_overlap_minutes)).to_arrow_table()
    con.close()
    return engine.normalize(result)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--people", type=int, default=1_000_000)
    ap.add_argument("--days", type=int, default=14)
    ap.add_argument("--venues", type=int, default=0,
                    help="default: one venue per 20 people")
    ap.add_argument("--cases", type=int, default=1000)
    ap.add_argument("--single", type=int, default=10, help="single-case runs (median)")
    ap.add_argument("--single-baseline", type=int, default=3,
                    help="of those, how many also run the baseline (it scans every stay)")
    ap.add_argument("--min-overlap-minutes", type=int, default=10)
    ap.add_argument("--linger-minutes", type=int, default=0)
    ap.add_argument("--data", type=Path, default=Path("bench/out/tracing"))
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--single-cold", type=int, default=5,
                    help="single-case runs of the engine on a cold cache (median)")
    ap.add_argument("--files-only", action="store_true",
                    help="cold runs drop only the store's files from the page cache, not all "
                         "of it (for runs outside the bench lock: others may be measuring)")
    ap.add_argument("--prepare", action="store_true",
                    help="only generate (or reindex) the store, then exit: run it without the "
                         "bench lock, then measure under it")
    ap.add_argument("--skip-baseline-batch", action="store_true",
                    help="do not run the baseline on the whole batch (it is the slow part)")
    args = ap.parse_args(argv)
    venues = args.venues or max(10, args.people // 20)
    global DROP_ALL
    DROP_ALL = not args.files_only
    tag = f"p{args.people}-d{args.days}-v{venues}-s{args.seed}"
    directory = args.data / tag
    params = engine.Params(min_overlap_minutes=args.min_overlap_minutes,
                           linger_minutes=args.linger_minutes)

    if not (directory / store.MANIFEST).exists():
        shutil.rmtree(directory, ignore_errors=True)
        print(f"generating {args.people:,} people x {args.days} days "
              f"({args.people * args.days * STAYS_PER_DAY:,} stays, {venues:,} venues) "
              f"in {directory}", flush=True)
        _, secs, peak = measure(lambda: generate(directory, args.people, args.days, venues,
                                                 args.seed))
        print(f"  generated in {secs:.1f} s (peak RSS {peak:.0f} MB)")
    files = store.parquet_files(directory)
    with index.Reader() as reader:
        current = reader.open_days(files) is not None
    if not current:
        print("writing the sidecar indexes of this layout (store.reindex)", flush=True)
        with store.locked(directory):
            _, secs, peak = measure(lambda: store.reindex(directory))
        print(f"  reindexed in {secs:.1f} s (peak RSS {peak:.0f} MB)")
    if args.prepare:
        return 0
    manifest = store.read_manifest(directory)
    total = sum(b["rows"] for b in manifest["batches"].values())
    size = sum(f.stat().st_size for f in files)
    print(f"store: {total:,} stays, {len(files)} files, {size / 2**20:.0f} MiB")

    batch = engine.cases_table(pick_cases(args.people, args.days, args.cases, args.seed))
    results: dict[str, Any] = {"people": args.people, "days": args.days, "venues": venues,
                               "stays": total, "cases": args.cases}

    size_idx = sum(side.stat().st_size for f in files for side in index.sidecars(f))
    print(f"sidecar indexes: {size_idx / 2**20:.0f} MiB ({size_idx / size:.1f}x the Parquet)")
    results["parquet_mib"], results["sidecar_mib"] = size / 2**20, size_idx / 2**20
    ref = None
    if not args.skip_baseline_batch:
        note = cold(directory)
        ref, bcold, bpeak, bmib = measure_io(lambda: baseline(directory, batch, params))
        print(f"batch of {args.cases} cases, baseline, cold: {bcold:8.2f} s  peak {bpeak:6.0f} MB"
              f"  read {bmib:7.1f} MiB  {ref.num_rows:,} rows{note}")
        results.update(baseline_batch_cold_s=bcold, baseline_batch_peak_mb=bpeak,
                       baseline_batch_cold_read_mib=bmib)
    note = cold(directory)
    got, first, peak, mib = measure_io(lambda: engine.colocate(directory, batch, params))
    print(f"batch of {args.cases} cases, engine, cold:   {first:8.2f} s  peak {peak:6.0f} MB"
          f"  read {mib:7.1f} MiB  {got.num_rows:,} rows{note}")
    results.update(engine_batch_cold_read_mib=mib)
    got, secs, peak2 = measure(lambda: engine.colocate(directory, batch, params))
    peak = max(peak, peak2)
    print(f"batch of {args.cases} cases, engine, warm:   {secs:8.2f} s  peak {peak2:6.0f} MB")
    results.update(engine_batch_cold_s=first, engine_batch_s=secs, engine_batch_peak_mb=peak,
                   rows=got.num_rows)
    identical = True
    if ref is not None:
        ref2, bsecs, bpeak2 = measure(lambda: baseline(directory, batch, params))
        same = ref.equals(got) and ref2.equals(got)
        identical &= same
        print(f"batch of {args.cases} cases, baseline, warm: {bsecs:8.2f} s  peak {bpeak2:6.0f} MB"
              f"  identical: {same}")
        print(f"  engine vs baseline: cold {bcold / first:.1f}x faster, "
              f"warm {bsecs / secs:.1f}x faster")
        results.update(baseline_batch_s=bsecs, identical=same, batch_speedup=bsecs / secs,
                       batch_speedup_cold=bcold / first)
        if not same:
            print("ERROR: the engine and the baseline differ", file=sys.stderr)

    def of_case(i: int) -> pa.Table:
        """The batch's rows of case i (cases are independent: a single run must equal them)."""
        person = batch.column("person_id")[i].as_py()
        return got.filter(pc.equal(got.column("case_person_id"), person))

    singles, base_singles = [], []
    peak_single = 0.0
    for i in range(args.single):
        one = batch.slice(i, 1)
        got1, s1, p1 = measure(lambda one=one: engine.colocate(directory, one, params))
        singles.append(s1)
        identical &= got1.equals(of_case(i))
        if i < args.single_baseline:
            ref1, b1, _ = measure(lambda one=one: baseline(directory, one, params))
            identical &= got1.equals(ref1)
            base_singles.append(b1)
        peak_single = max(peak_single, p1)
    if singles and base_singles:
        med, bmed = statistics.median(singles), statistics.median(base_singles)
        print(f"one case, warm (median of {len(singles)}), engine: {med * 1000:8.1f} ms "
              f"(max {max(singles) * 1000:.1f} ms)  baseline (median of {len(base_singles)}): "
              f"{bmed * 1000:8.1f} ms  ratio {bmed / med:.1f}x  identical: {identical}")
        results.update(single_engine_median_ms=med * 1000, single_engine_max_ms=max(singles)
                       * 1000, single_baseline_median_ms=bmed * 1000,
                       single_identical=identical, single_peak_mb=peak_single)
    colds, mibs = [], []
    for i in range(args.single, args.single + args.single_cold):
        note = cold(directory)
        one = batch.slice(i, 1)
        got1, cold1, _, mib1 = measure_io(lambda one=one: engine.colocate(directory, one, params))
        identical &= got1.equals(of_case(i))
        colds.append(cold1)
        mibs.append(mib1)
    if colds:
        print(f"one case, engine, cold (median of {len(colds)}): "
              f"{statistics.median(colds) * 1000:8.1f} ms (max {max(colds) * 1000:.1f} ms)  "
              f"read {statistics.median(mibs):.2f} MiB (max {max(mibs):.2f})  "
              f"identical: {identical}{note}")
        results.update(single_engine_cold_ms=statistics.median(colds) * 1000,
                       single_engine_cold_max_ms=max(colds) * 1000,
                       single_engine_cold_read_mib=statistics.median(mibs))
    results["identical_all"] = identical
    print(json.dumps(results, default=str))
    return 0 if identical else 1


if __name__ == "__main__":
    raise SystemExit(main())
