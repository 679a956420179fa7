"""Benchmark: bulk import of synthetic persons, and keyset pages of one district.

For each database (SQLite file in a temporary directory, PostgreSQL database ``fangkong_bench``
dropped and created afresh) it

1. runs the migrations and loads the Guangdong divisions;
2. imports N synthetic persons (valid ID numbers, spread over Zhanjiang's villages) from a CSV
   file through ``fangkong.person.importer.import_file``, the path the CLI and the API use,
   and prints rows/s overall and per phase (parse+validate, stage fill, merge);
3. imports the same file again (everything must come back unchanged);
4. runs the baseline of the import in the same process: the same rows, as pre-built tuples of
   strings, written with a plain COPY (PostgreSQL) or executemany (SQLite) into an equivalent
   table without checks, encryption or indexes; the import's throughput is printed as a ratio
   of it;
5. pages through one district with ``fangkong.person.service.list_`` (100 per page, following
   the cursors) from its start and from deep points, and prints p50/p95/max latency in ms,
   against a baseline of primary-key range pages (``WHERE id > :last ORDER BY id LIMIT 100``)
   over the same session machinery.

Usage: ``.venv/bin/python bench/bench_persons.py [--n 1000000] [--db sqlite|postgresql|both]``;
see bench/README.md.
"""

from __future__ import annotations

import argparse
import base64
import csv
import gc
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/fangkong_bench"
CITY = "4408"  # 湛江市
DEEP_POINTS = (0.25, 0.5, 0.75, 0.95)


# --------------------------------------------------------------------------------- set-up


def configure(data_dir: Path) -> None:
    """Settings for the whole run: fixed keys, a large enough import limit."""
    os.environ.update({
        "FANGKONG_DATA_DIR": str(data_dir),
        "FANGKONG_SECRET_KEY": "bench-secret-key-not-for-production-0123456789",
        "FANGKONG_ENCRYPTION_KEY": base64.b64encode(b"b" * 32).decode(),
        "FANGKONG_LOOKUP_KEY": base64.b64encode(b"l" * 32).decode(),
        "FANGKONG_IMPORT_MAX_BYTES": str(16 * 1024**3),
    })


def use_database(url: str) -> Any:
    """Make ``url`` the configured database and return its (cached) engine."""
    from fangkong.core.config import get_settings
    from fangkong.core.db import get_engine

    os.environ["FANGKONG_DATABASE_URL"] = url
    get_settings.cache_clear()
    return get_engine()


def recreate_pg_database(url: str) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()


def prepare(engine: Any) -> float:
    """Migrate and load the Guangdong divisions; return the seconds it took."""
    from fangkong.core.db import session_scope
    from fangkong.core.migrate import upgrade
    from fangkong.geo import service as geo

    t0 = time.perf_counter()
    upgrade(engine)
    with session_scope(engine) as session:
        geo.load(session, province="44")
    return time.perf_counter() - t0


def places(engine: Any) -> list[tuple[str, float]]:
    """Zhanjiang's villages, weighted by their county's population (as ``fangkong demo``)."""
    from fangkong.core.db import session_scope
    from fangkong.demo.city import district_weights
    from fangkong.geo import service as geo
    from fangkong.geo.enums import Level

    weights = district_weights()
    with session_scope(engine) as session:
        villages = [v.code for v in geo.descendants(session, CITY, level=Level.village,
                                                     limit=100_000)]
    per_county: dict[str, int] = {}
    for code in villages:
        per_county[code[:6]] = per_county.get(code[:6], 0) + 1
    return [(c, weights.get(c[:6], 0.0) / per_county[c[:6]]) for c in villages]


def distinct_ids(rows: Iterator[dict[str, str]], moved: list[int]) -> Iterator[dict[str, str]]:
    """The generator draws sequence numbers at random, so at this scale two persons of one
    county, birth date and sex can get the same ID number (which the import rightly rejects):
    give the later one the next free sequence number of the same sex, with its check digit."""
    from fangkong.person.validation import check_digit

    seen: set[str] = set()
    for row in rows:
        number = row["id_number"]
        while number in seen:
            first17 = f"{number[:14]}{(int(number[14:17]) + 2) % 1000:03d}"
            number = first17 + check_digit(first17)
        if number != row["id_number"]:
            moved[0] += 1
            row["id_number"] = number
        seen.add(number)
        yield row


def write_csv(path: Path, n: int, seed: int, where: list[tuple[str, float]]) -> tuple[float, int]:
    """Write the synthetic persons; (seconds, ID numbers renumbered to keep them distinct)."""
    from fangkong.demo.synthetic import people
    from fangkong.person.records import FIELDS

    t0 = time.perf_counter()
    moved = [0]
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(FIELDS))
        writer.writeheader()
        writer.writerows(distinct_ids(people(n, seed=seed, places=where, ref_prefix="B"), moved))
    return time.perf_counter() - t0, moved[0]


# ----------------------------------------------------------------------------- measuring


def reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS mark for this process (Linux), so that a step's own peak
    can be read; False where that is not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def peak_rss_mib(since_reset: bool) -> float:
    """Peak RSS in MiB: since the last reset (VmHWM) or, failing that, of the whole process."""
    if since_reset:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def process_peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
_SERVER_HELPERS = ("checkpointer", "background writer", "walwriter")


def proc_cpu(pid: int) -> float:
    """Processor seconds (user + system) a process has used so far (Linux); 0 if unknown."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _TICK
    except (OSError, IndexError, ValueError):
        return 0.0


def server_helpers() -> list[int]:
    """The PostgreSQL server's own processes that write for every session (WAL writer,
    background writer, checkpointer), where this machine runs the server."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
            if cmdline.startswith("postgres: ") and any(h in cmdline for h in _SERVER_HELPERS):
                pids.append(int(entry.name))
    return pids


class CpuMeter:
    """Processor seconds used during a step by this process, the import's second process (if
    any), the database backend serving the import and the server's helper processes: the
    machine's two cores are shared by all of them."""

    def __init__(self, backend: int | None) -> None:
        self.backend = backend
        self.helpers = server_helpers() if backend else []
        self.start = self._now()

    def _now(self) -> dict[str, float]:
        from fangkong.person import staging

        times = resource.getrusage(resource.RUSAGE_SELF)
        pool = staging._pool
        second = sum(proc_cpu(pid) for pid in (pool._processes or {})) if pool else 0.0
        return {"this process": times.ru_utime + times.ru_stime, "second process": second,
                "database backend": proc_cpu(self.backend) if self.backend else 0.0,
                "server WAL/checkpoint": sum(proc_cpu(p) for p in self.helpers)}

    def used(self) -> dict[str, float]:
        end = self._now()
        return {k: end[k] - self.start.get(k, 0.0) for k in end}


def print_cpu(used: dict[str, float], took: float) -> None:
    parts = ", ".join(f"{k} {v:.1f} s" for k, v in used.items() if v > 0.05)
    total = sum(used.values())
    print(f"  processor time: {parts}; total {total:.1f} s in {took:.1f} s "
          f"({total / took:.2f} cores busy)")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def ms(values: list[float]) -> str:
    return (f"p50 {statistics.median(values) * 1000:6.2f}  p95 {pct(values, 0.95) * 1000:6.2f}"
            f"  max {max(values) * 1000:6.2f} ms")


def rate(n: int, seconds: float) -> str:
    return f"{n / seconds:>10,.0f} rows/s" if seconds > 0 else "         - rows/s"


# -------------------------------------------------------------------------------- import


MAIN_PHASES = ("parse+validate", "stage fill", "merge")
PHASES = {
    "parse+validate": "read the file, check every line (main thread)",
    "stage fill": "encrypt, hash, encode (PostgreSQL: or hand over to the second process), "
                  "write to the staging table (main thread)",
    "  columns: encrypt, hash, format": "",
    "  write to staging table": "",
    "waiting for the second process": "main thread idle, waiting for a chunk's staged rows",
    "merge": "COPY into person, or staging + conflict checks, counts, upsert; ANALYZE "
             "(worker thread, overlaps the above)",
    "  COPY into person": "PostgreSQL: chunks of new persons, straight into the table",
    "  upsert": "INSERT (... ON CONFLICT) into the person table",
    "waiting for the database": "main thread idle, waiting for the worker's merge",
    "commit": "",
}


def print_phases(phases: dict[str, float], n: int, took: float) -> None:
    for name in [*PHASES, *(p for p in phases if p not in PHASES)]:
        if name in phases:
            seconds = phases[name]
            print(f"  {name:<34} {seconds:7.2f} s {rate(n, seconds)} {seconds / took:6.1%}  "
                  f"{PHASES.get(name, '')}")


def run_import(engine: Any, path: Path, profile: Path | None = None,
               cpu: dict[str, float] | None = None) -> tuple[Any, float, dict[str, float]]:
    """One import of ``path`` through the real path, committed; (report, seconds, phases).
    ``cpu`` gets the processor seconds used (``CpuMeter``)."""
    from fangkong.core.auth import system_actor
    from fangkong.core.db import session_scope
    from fangkong.person.importer import import_file

    phases: dict[str, float] = {}
    cpu = {} if cpu is None else cpu
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
    t0 = time.perf_counter()
    with session_scope(engine) as session:
        backend = None
        if engine.dialect.name == "postgresql":
            from sqlalchemy import text

            backend = session.scalar(text("SELECT pg_backend_pid()"))
        meter = CpuMeter(backend)
        if profiler:
            profiler.enable()
        report = import_file(session, actor=system_actor("bench"), source=path,
                             timings=phases)
        if profiler:
            profiler.disable()
        t_commit = time.perf_counter()
    elapsed = time.perf_counter() - t0
    phases["commit"] = time.perf_counter() - t_commit
    cpu.update(meter.used())
    if profiler and profile:
        profiler.dump_stats(str(profile))
        print(f"  profile written to {profile}")
    return report, elapsed, phases


def baseline_rows(path: Path) -> list[tuple[Any, ...]]:
    """The file's rows as tuples (line, *cells), built before the baseline's clock starts."""
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        next(reader)
        return [(i, *record) for i, record in enumerate(reader, start=2)]


def run_baseline_import(engine: Any, rows: list[tuple[Any, ...]]) -> float:
    """Plain COPY / executemany of pre-built tuples into an equivalent, unindexed table."""
    from sqlalchemy import text

    from fangkong.person.records import FIELDS

    cols = ", ".join(FIELDS)
    postgres = engine.dialect.name == "postgresql"
    ddl = (f"CREATE TABLE bench_baseline (line BIGINT, "
           f"{', '.join(f'{c} TEXT' for c in FIELDS)})")
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS bench_baseline"))
        conn.execute(text(ddl))
    t0 = time.perf_counter()
    with engine.begin() as conn:
        raw = conn.connection.driver_connection
        if postgres:
            with raw.cursor() as cur, cur.copy(
                f"COPY bench_baseline (line, {cols}) FROM STDIN"
            ) as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" * (len(FIELDS) + 1))
            cur = raw.cursor()
            for start in range(0, len(rows), 20_000):
                cur.executemany(f"INSERT INTO bench_baseline (line, {cols}) VALUES ({marks})",
                                rows[start : start + 20_000])
            cur.close()
    elapsed = time.perf_counter() - t0
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE bench_baseline"))
    return elapsed


# --------------------------------------------------------------------------------- pages


def district_keys(engine: Any, district: str) -> tuple[int, list[tuple[float, str, int]]]:
    """Number of persons in the district, and the (code, id) sort keys at the deep points."""
    from sqlalchemy import func, select

    from fangkong.core.auth import within
    from fangkong.person.models import Person

    inside = within(Person.division_code, district)
    with engine.connect() as conn:
        total = conn.scalar(select(func.count()).select_from(Person).where(inside)) or 0
        keys = []
        for point in DEEP_POINTS:
            row = conn.execute(select(Person.division_code, Person.id).where(inside)
                               .order_by(Person.division_code, Person.id)
                               .offset(int(total * point)).limit(1)).first()
            if row:
                keys.append((point, row[0], row[1]))
    return total, keys


def follow(engine: Any, fetch: Callable[[Any, Any], tuple[list[Any], Any]], start: Any,
           pages: int) -> tuple[list[float], list[float], int]:
    """Fetch up to ``pages`` pages from ``start``, one session and transaction per page (as an
    API request has); (latency of the call, latency including commit, rows seen)."""
    from fangkong.core.db import session_factory

    factory = session_factory(engine)
    calls, totals, seen, cursor = [], [], 0, start
    for _ in range(pages):
        session = factory()
        t0 = time.perf_counter()
        items, cursor = fetch(session, cursor)
        t1 = time.perf_counter()
        session.commit()
        t2 = time.perf_counter()
        session.close()
        calls.append(t1 - t0)
        totals.append(t2 - t0)
        seen += len(items)
        if cursor is None:
            break
    return calls, totals, seen


def run_pages(engine: Any, district: str, pages: int, deep_pages: int) -> dict[str, Any]:
    from sqlalchemy import select

    from fangkong.core.auth import system_actor
    from fangkong.core.pagination import encode_cursor
    from fangkong.person.models import Person
    from fangkong.person.service import list_

    actor = system_actor("bench")
    total, keys = district_keys(engine, district)

    def page(session: Any, cursor: str | None) -> tuple[list[Any], str | None]:
        return list_(session, actor=actor, division=district, cursor=cursor, limit=100)

    def by_id(session: Any, last: int) -> tuple[list[Any], int | None]:
        items = session.scalars(select(Person).where(Person.id > last)
                                .order_by(Person.id).limit(100)).all()
        return items, (items[-1].id if items else None)

    # Warm-up (connection pool, statement caches), not counted.
    follow(engine, page, None, 3)
    follow(engine, by_id, 0, 3)
    starts: list[tuple[str, Any, int, int]] = [("start", None, 0, pages)]
    for point, code, pid in keys:
        starts.append((f"{point:.0%}", encode_cursor([code, pid]), pid, deep_pages))
    calls: list[float] = []
    totals: list[float] = []
    base: list[float] = []
    rows = 0
    per_start = []
    for label, cursor, last_id, n in starts:
        c, t, seen = follow(engine, page, cursor, n)
        b, _, _ = follow(engine, by_id, last_id, n)
        calls += c
        totals += t
        base += b
        rows += seen
        per_start.append((label, len(c), statistics.median(c), pct(c, 0.95)))
    return {"district_total": total, "pages": len(calls), "rows": rows, "calls": calls,
            "totals": totals, "baseline": base, "per_start": per_start}


# ---------------------------------------------------------------------------------- main


def bench_database(kind: str, url: str, csv_path: Path, args: argparse.Namespace
                   ) -> dict[str, Any]:
    from sqlalchemy import func, select

    from fangkong.person.models import Person

    print(f"\n=== {kind}: {url}")
    if kind == "postgresql":
        recreate_pg_database(url)
    engine = use_database(url)
    print(f"migrations + divisions of province 44: {prepare(engine):.1f} s")
    if not csv_path.exists():
        where = places(engine)
        took, moved = write_csv(csv_path, args.n, args.seed, where)
        print(f"wrote {args.n:,} synthetic persons over {len(where):,} villages to {csv_path.name}"
              f" ({csv_path.stat().st_size / 1e6:,.1f} MB) in {took:.1f} s; {moved:,} duplicate"
              f" ID numbers renumbered")
    n = args.n
    if args.second_process:
        os.environ["FANGKONG_IMPORT_SECOND_PROCESS"] = "true"
        from fangkong.core.config import get_settings

        get_settings.cache_clear()
        print("PostgreSQL chunks staged in a second process (--second-process)")
    gc.collect()
    tracked = reset_peak_rss()
    profile = Path(args.profile).with_suffix(f".{kind}.prof") if args.profile else None
    cpu: dict[str, float] = {}
    report, took, phases = run_import(engine, csv_path, profile, cpu)
    peak = peak_rss_mib(tracked)
    assert report.inserted == n, report
    print(f"import: {report.rows:,} rows ({report.inserted:,} inserted) in {took:.2f} s = "
          f"{rate(n, took).strip()}; peak RSS during import {peak:,.0f} MiB")
    print_phases(phases, n, took)
    print_cpu(cpu, took)
    with engine.connect() as conn:
        stored = conn.scalar(select(func.count()).select_from(Person))
    assert stored == n, f"{stored} persons stored, expected {n}"

    gc.collect()
    reset_peak_rss()
    cpu2: dict[str, float] = {}
    again, took2, phases2 = run_import(engine, csv_path, cpu=cpu2)
    assert (again.unchanged, again.inserted, again.updated) == (n, 0, 0), again
    print(f"re-import: {again.unchanged:,} unchanged, {again.inserted} inserted, "
          f"{again.updated} updated in {took2:.2f} s = {rate(n, took2).strip()}; "
          f"peak RSS {peak_rss_mib(tracked):,.0f} MiB")
    print_phases(phases2, n, took2)
    print_cpu(cpu2, took2)

    rows = baseline_rows(csv_path)
    base = run_baseline_import(engine, rows)
    del rows
    gc.collect()
    method = "COPY" if kind == "postgresql" else "executemany"
    ratio = (n / took) / (n / base)
    print(f"baseline: plain {method} of the same rows as pre-built tuples: {base:.2f} s = "
          f"{rate(n, base).strip()}; import/baseline throughput ratio {ratio:.3f} "
          f"(re-import {(n / took2) / (n / base):.3f})")

    pages = run_pages(engine, args.district, args.pages, args.deep_pages)
    print(f"pages of district {args.district} ({pages['district_total']:,} persons): "
          f"{pages['pages']} pages, {pages['rows']:,} rows")
    for label, count, p50, p95 in pages["per_start"]:
        print(f"  from {label:<6} {count:4d} pages  p50 {p50 * 1000:6.2f}  "
              f"p95 {p95 * 1000:6.2f} ms")
    p_ratio = statistics.median(pages["calls"]) / statistics.median(pages["baseline"])
    print(f"  list_ (incl. audit entry)  {ms(pages['calls'])}")
    print(f"  list_ + commit             {ms(pages['totals'])}")
    print(f"  baseline: primary-key range pages  {ms(pages['baseline'])}; "
          f"list_/baseline p50 ratio {p_ratio:.2f}")
    engine.dispose()
    return {"kind": kind, "rate": n / took, "phases": {k: n / v for k, v in phases.items() if v},
            "reimport": n / took2, "baseline": n / base, "ratio": ratio, "peak": peak,
            "p50": statistics.median(pages["calls"]) * 1000,
            "p95": pct(pages["calls"], 0.95) * 1000, "max": max(pages["calls"]) * 1000,
            "base_p50": statistics.median(pages["baseline"]) * 1000}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    ap.add_argument("--n", type=int, default=1_000_000, help="persons to import")
    ap.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    ap.add_argument("--pg-url", default=PG_URL,
                    help="PostgreSQL URL; its database is DROPPED and created afresh")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--district", default="440803", help="county code to page through")
    ap.add_argument("--pages", type=int, default=200, help="pages from the district's start")
    ap.add_argument("--deep-pages", type=int, default=50,
                    help=f"pages from each deep point {DEEP_POINTS} of the district")
    ap.add_argument("--profile", metavar="PATH",
                    help="cProfile the first import of each database into PATH.<db>.prof")
    ap.add_argument("--second-process", action="store_true",
                    help="PostgreSQL: encrypt and format the chunks in a second process "
                         "(settings.import_second_process, off by default)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    ap.add_argument("--tmp", help=argparse.SUPPRESS)  # a child's working directory
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    tmp = Path(args.tmp) if args.tmp else Path(tempfile.mkdtemp(prefix="fangkong-bench-"))
    configure(tmp)
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    if len(kinds) > 1:
        return run_children(args, tmp, kinds)
    kind = kinds[0]
    urls = {"sqlite": f"sqlite:///{tmp / 'bench.db'}", "postgresql": args.pg_url}
    if not args.tmp:
        print(header(args, kinds, tmp))
    try:
        result = bench_database(kind, urls[kind], tmp / "persons.csv", args)
        (tmp / f"summary-{kind}.json").write_text(json.dumps(result))
        if not args.tmp:
            print_summary([result])
    finally:
        if not (args.keep or args.tmp):
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


def header(args: argparse.Namespace, kinds: list[str], tmp: Path) -> str:
    return (f"fangkong bench_persons: n={args.n:,} db={','.join(kinds)} python "
            f"{sys.version.split()[0]} cpus={os.cpu_count()} tmp={tmp}")


def run_children(args: argparse.Namespace, tmp: Path, kinds: list[str]) -> int:
    """One process per database, so that each one's memory figures are its own; the CSV file
    is written by the first and read by the next."""
    print(header(args, kinds, tmp), flush=True)
    results = []
    try:
        for kind in kinds:
            argv = [sys.executable, __file__, "--db", kind, "--tmp", str(tmp)]
            for name in ("n", "pg_url", "seed", "district", "pages", "deep_pages", "profile"):
                value = getattr(args, name)
                if value is not None:
                    argv += [f"--{name.replace('_', '-')}", str(value)]
            if args.second_process:
                argv.append("--second-process")
            done = subprocess.run(argv, check=False)
            if done.returncode:
                print(f"{kind}: the benchmark failed (exit code {done.returncode})")
                return done.returncode
            results.append(json.loads((tmp / f"summary-{kind}.json").read_text()))
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    print_summary(results)
    return 0


def print_summary(results: list[dict[str, Any]]) -> None:
    print("\n=== summary")
    for r in results:
        phases = ", ".join(f"{k.strip()} {v:,.0f}/s" for k, v in r["phases"].items()
                           if k in MAIN_PHASES)
        print(f"{r['kind']:<10} import {r['rate']:>9,.0f} rows/s ({r['ratio']:.3f} of baseline "
              f"{r['baseline']:,.0f}/s); re-import {r['reimport']:,.0f}/s; {phases}; "
              f"peak RSS {r['peak']:,.0f} MiB; pages p50 {r['p50']:.2f} p95 {r['p95']:.2f} "
              f"max {r['max']:.2f} ms (baseline p50 {r['base_p50']:.2f} ms)")


if __name__ == "__main__":
    sys.exit(main())
