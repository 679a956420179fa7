"""Benchmark: a mass-testing round for a city (default 7,000,000 people, Zhanjiang's size),
10-in-1 and 20-in-1 pools, prevalence 1 in 10,000, on SQLite and PostgreSQL.

Per database (each in a process of its own, so that memory figures are its own):

1. set-up (not the measured path): migrations, the Guangdong divisions, N persons over
   Zhanjiang's (4408) villages in households of three, written straight into the person table
   (COPY / executemany: the person importer has its own benchmark);
2. **round**: ``service.create_round`` over the city, a third of the villages given as medium
   zones (10-in-1), the rest 20-in-1: the target population and each person's tube size;
3. tubes issued (``service.issue_tubes``); on PostgreSQL the tables just written are vacuumed,
   as autovacuum would in the hours before sampling ends (:func:`settle`, not timed); then the
   samples file (one line per person, each
   person in a tube of their village's size) imported with ``importer.import_samples`` (what
   ``fangkong testing import-samples`` runs): rows/s; then again (must be all unchanged);
   then a collection point's late file (the tubes of the last 10,000 persons, held back from
   the city's file) into the round that now holds the rest: the time one upload takes;
4. (PostgreSQL: samples and tubes vacuumed, as in the hours before the labs report) the
   results file (one line per tube; the tubes of N/10,000 random persons positive; one
   positive pool held back) imported with ``importer.import_results``: rows/s, and the time
   its positive pools took (members under control, one re-collection task each);
5. **one positive pool**: the held-back positive result alone, as a one-line file: the time
   from the import call to its members under control with their tasks, committed;
6. **coverage** of the whole city by county and by village, ``status`` and the pool queue;
7. **baseline** in the same process: the same samples and results files written with a plain
   COPY (PostgreSQL) / executemany (SQLite) into tables without checks or indexes.

Usage: ``.venv/bin/python bench/bench_testing.py [--people 7000000] [--db both]``; run it
under ``flock /tmp/fangkong-bench.lock``. See bench/README.md.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_persons import configure, recreate_pg_database, use_database

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/fangkong_bench_testing"
CITY = "4408"
LATE_LINES = 10_000
"""A collection point's file arriving after the city's (at most 1 % of the persons)."""
START = datetime(2022, 8, 10, 0, 0, tzinfo=UTC)


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rate(n: int, seconds: float) -> str:
    return f"{n / seconds:,.0f} rows/s" if seconds > 0 else "-"


def raw_conn(session: Any) -> Any:
    return session.connection().connection.driver_connection


# -------------------------------------------------------------------------------- set-up


def setup(engine: Any, people: int, seed: int) -> tuple[list[str], list[str]]:
    """Migrate, load divisions, write the persons. Returns (villages, refs by person index)."""
    from sqlalchemy import select

    from fangkong.core.db import session_scope
    from fangkong.core.migrate import upgrade
    from fangkong.geo import service as geo
    from fangkong.geo.models import Division

    upgrade(engine)
    with session_scope(engine) as session:
        geo.load(session, province="44")
        villages = sorted(session.scalars(select(Division.code).where(
            Division.code.like(f"{CITY}%"), Division.level == "village")))
    rng = random.Random(seed)
    postgres = engine.dialect.name == "postgresql"
    stamp = "2022-08-01 00:00:00.000000" if not postgres else "2022-08-01T00:00:00+00:00"
    codes = []
    households = (people + 2) // 3
    for _ in range(households):
        codes.append(villages[rng.randrange(len(villages))])
    cols = "ref, name, sex, division_code, household_ref, synthetic, row_hash, created_at, " \
           "updated_at"
    with session_scope(engine) as session:
        raw = raw_conn(session)
        batch: list[tuple[Any, ...]] = []

        def flush() -> None:
            if not batch:
                return
            if postgres:
                text = "".join("\t".join(map(str, r)) + "\n" for r in batch)
                with raw.cursor() as cur, cur.copy(f"COPY person ({cols}) FROM STDIN") as cp:
                    cp.write(text)
            else:
                raw.executemany(f"INSERT INTO person ({cols}) VALUES (?,?,?,?,?,?,?,?,?)",
                                batch)
            batch.clear()

        for i in range(people):
            h = i // 3
            batch.append((f"B{i:08d}", f"居民{i}", "male" if i % 2 else "female", codes[h],
                          f"BH{h:08d}", "t" if postgres else 1, "0" * 32, stamp, stamp))
            if len(batch) == 100_000:
                flush()
        flush()
        if postgres:
            session.connection().exec_driver_sql("ANALYZE person")
    return villages, codes


def write_files(tmp: Path, people: int, codes: list[str], medium: set[str], seed: int
                ) -> dict[str, Any]:
    """The samples file (a person per line, pooled by village and tube size) and the results
    file (a tube per line); positives at 1/10,000 of persons; one positive pool held back."""
    rng = random.Random(seed + 1)
    by_village: dict[str, list[int]] = {}
    for i in range(people):
        by_village.setdefault(codes[i // 3], []).append(i)
    tubes: dict[int, list[str]] = {10: [], 20: []}
    member_of: list[str] = [""] * people
    sampled = START + timedelta(hours=1)
    samples, late = tmp / "samples.csv", tmp / "late.csv"
    # the tubes that start in the file's last LATE_LINES lines come in a file of their own,
    # after the city's file (a collection point uploading late)
    late_from = people - min(LATE_LINES, people // 100)
    with samples.open("w", newline="", encoding="utf-8") as fh, \
            late.open("w", newline="", encoding="utf-8") as fl:
        main_w, late_w = csv.writer(fh), csv.writer(fl)
        w = main_w
        for out in (main_w, late_w):
            out.writerow(["tube_id", "person_ref", "sampled_at", "point_id"])
        n = written = 0
        main_lines = people  # until the late file starts
        for village in sorted(by_village):
            size = 10 if village in medium else 20
            persons = by_village[village]
            for start in range(0, len(persons), size):
                n += 1
                barcode = f"T{size:02d}{n:09d}"
                tubes[size].append(barcode)
                at = (sampled + timedelta(seconds=n % 36000)).strftime("%Y-%m-%dT%H:%M:%S+00:00")
                if w is main_w and written >= late_from:
                    w, main_lines = late_w, written
                for i in persons[start:start + size]:
                    member_of[i] = barcode
                    w.writerow([barcode, f"B{i:08d}", at, ""])
                written += len(persons[start:start + size])
    positives = {member_of[i] for i in rng.sample(range(people), max(1, people // 10_000))}
    pools = sorted(positives)
    held = pools[0]
    results = tmp / "results.csv"
    reported = (START + timedelta(hours=15)).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    with results.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["tube_id", "result", "reported_at", "lab_id", "ct"])
        for size in (10, 20):
            for barcode in tubes[size]:
                if barcode == held:
                    continue
                if barcode in positives:
                    w.writerow([barcode, "positive", reported, "LAB1", "28.5"])
                else:
                    w.writerow([barcode, "negative", reported, "LAB1", ""])
    one = tmp / "one.csv"
    one.write_text(f"tube_id,result,reported_at,lab_id,ct\n{held},positive,{reported},LAB1,"
                   "25.1\n", encoding="utf-8")
    return {"samples": samples, "late": late, "samples_lines": main_lines,
            "late_lines": people - main_lines, "results": results, "one": one, "tubes": tubes,
            "positives": len(positives), "held": held,
            "held_members": sum(1 for b in member_of if b == held)}


# ---------------------------------------------------------------------------- measurements


def timed(fn: Any) -> tuple[Any, float]:
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def baseline(engine: Any, path: Path, cols: list[str]) -> float:
    """A plain COPY / executemany of a file's rows into an unindexed table of text columns."""
    from fangkong.core.db import session_scope

    postgres = engine.dialect.name == "postgresql"
    t0 = time.perf_counter()
    with session_scope(engine) as session:
        raw = raw_conn(session)
        session.connection().exec_driver_sql("DROP TABLE IF EXISTS bench_baseline")
        session.connection().exec_driver_sql(
            f"CREATE TABLE bench_baseline ({', '.join(c + ' text' for c in cols)})")
        if postgres:
            with raw.cursor() as cur, cur.copy(
                    "COPY bench_baseline FROM STDIN WITH (FORMAT csv, HEADER true)") as cp, \
                    path.open("rb") as fh:
                while block := fh.read(1 << 20):
                    cp.write(block)
        else:
            marks = ",".join("?" * len(cols))
            with path.open(newline="", encoding="utf-8") as fh:
                reader = csv.reader(fh)
                next(reader)
                while True:
                    chunk = [tuple(r) for _, r in zip(range(100_000), reader, strict=False)]
                    if not chunk:
                        break
                    raw.executemany(f"INSERT INTO bench_baseline VALUES ({marks})", chunk)
        session.connection().exec_driver_sql("DROP TABLE bench_baseline")
    return time.perf_counter() - t0


SETTLE = {"samples": ["person", "testing_target", "testing_tube"],
          "results": ["testing_sample", "testing_tube"]}
"""The tables written just before each step, vacuumed before it is timed (PostgreSQL)."""


def settle(engine: Any, tables: list[str]) -> float | None:
    """What autovacuum does in the hours between a round's creation and its samples, and
    between the samples and the lab results: the rows written just before are vacuumed (hint
    bits and visibility map set, statistics fresh). Without it the import pays for the
    set-up's maintenance: the first reads of millions of freshly written rows write their pages
    again, and autovacuum may start on them in the middle of the timed step. PostgreSQL only
    (SQLite has no such maintenance); returns the seconds it took, or None."""
    if engine.dialect.name != "postgresql":
        return None
    t0 = time.perf_counter()
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        conn.exec_driver_sql(f"VACUUM (ANALYZE) {', '.join(tables)}")
    return time.perf_counter() - t0


def bench_database(kind: str, url: str, args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    from sqlalchemy import func, select

    from fangkong.core.auth import system_actor
    from fangkong.core.db import session_scope
    from fangkong.geo import service as geo
    from fangkong.geo.enums import UnitKind
    from fangkong.geo.schemas import UnitCreate
    from fangkong.task.models import Task
    from fangkong.testing import importer, service
    from fangkong.testing.models import FollowupMember
    from fangkong.testing.schemas import LabCreate, RoundCreate, TubeIssue

    if kind == "postgresql":
        recreate_pg_database(url)
    engine = use_database(url)
    actor = system_actor("bench")
    out: dict[str, Any] = {"db": kind, "people": args.people}
    (villages, codes), took = timed(lambda: setup(engine, args.people, args.seed))
    print(f"[{kind}] set-up: {args.people:,} persons in {len(villages):,} villages, "
          f"{took:.1f} s")
    rng = random.Random(args.seed)
    medium = set(rng.sample(villages, len(villages) // 3))
    files = write_files(tmp, args.people, codes, medium, args.seed)
    n_tubes = len(files["tubes"][10]) + len(files["tubes"][20])
    print(f"[{kind}] files: {args.people:,} samples, {n_tubes:,} tubes "
          f"({len(files['tubes'][10]):,} 10-in-1, {len(files['tubes'][20]):,} 20-in-1), "
          f"{files['positives']} positive pools")
    with session_scope(engine) as session:
        service.create_lab(session, actor=actor, data=LabCreate(
            code="LAB1", name="bench lab", division_code="440802", daily_capacity=2_000_000))
        for i, county in enumerate(sorted({c[:9] for c in villages})[:400]):
            geo.create_unit(session, data=UnitCreate(code=f"BC{i}", name=f"社区 {county}",
                                                     kind=UnitKind.community,
                                                     division_code=county))

    def create() -> Any:
        with session_scope(engine) as session:
            return service.create_round(session, actor=actor, data=RoundCreate(
                name="bench", area=[CITY], start_at=START,
                deadline_at=START + timedelta(hours=24), zones=dict.fromkeys(medium, "medium")))

    created, took = timed(create)
    out["round_s"] = took
    print(f"[{kind}] round: target {created.target:,} {created.by_ratio} in {took:.1f} s "
          f"({rate(created.target, took)})")
    with session_scope(engine) as session:
        for size in (10, 20):
            service.issue_tubes(session, actor=actor, round_id=created.round_id,
                                data=TubeIssue(barcodes=files["tubes"][size], capacity=size))

    def load(fn: Any, **kw: Any) -> tuple[Any, dict[str, float]]:
        phases: dict[str, float] = {}
        with session_scope(engine) as session:
            report = fn(session, actor=actor, timings=phases, **kw)
        return report, phases

    for label, fn, kw, path, rows in (
            ("samples", importer.import_samples, {"round_id": created.round_id},
             files["samples"], files["samples_lines"]),
            ("results", importer.import_results, {}, files["results"], n_tubes - 1)):
        took = settle(engine, SETTLE[label])
        if took is not None:
            print(f"[{kind}] before the {label}: VACUUM (ANALYZE) {', '.join(SETTLE[label])} "
                  f"in {took:.1f} s (not measured)")
        (report, phases), took = timed(lambda fn=fn, kw=kw, path=path: load(
            fn, source=path, **kw))
        out[f"{label}_s"], out[f"{label}_rows"] = took, rows
        print(f"[{kind}] import {label}: {rows:,} rows in {took:.1f} s ({rate(rows, took)}); "
              + ", ".join(f"{k} {v:.1f} s" for k, v in phases.items()))
        if label == "results":
            pools = phases.get("positive pools", 0.0)
            out["pools_s"], out["pools"] = pools, report.followups_opened
            print(f"[{kind}]   {report.followups_opened} positive pools put under follow-up "
                  f"in {pools:.2f} s ({pools / max(1, report.followups_opened) * 1000:.0f} ms "
                  "per pool)")
        (again, _), took2 = timed(lambda fn=fn, kw=kw, path=path: load(fn, source=path, **kw))
        assert again.inserted == 0 and again.unchanged == rows, again
        out[f"{label}_again_s"] = took2
        print(f"[{kind}] re-import {label}: all {rows:,} unchanged in {took2:.1f} s")
        if label == "samples" and files["late_lines"]:
            (late, lphases), took3 = timed(lambda: load(
                importer.import_samples, source=files["late"], round_id=created.round_id))
            assert late.inserted == files["late_lines"], late
            out["late_s"], out["late_rows"] = took3, files["late_lines"]
            print(f"[{kind}] a collection point's late file: {files['late_lines']:,} samples "
                  f"into the round's {rows:,} in {took3:.2f} s ({rate(late.inserted, took3)}); "
                  + ", ".join(f"{k} {v:.2f} s" for k, v in lphases.items()))
        base = baseline(engine, path, ["a", "b", "c", "d"] if label == "samples"
                        else ["a", "b", "c", "d", "e"])
        out[f"{label}_baseline_s"] = base
        print(f"[{kind}] baseline plain {'COPY' if kind == 'postgresql' else 'executemany'} "
              f"of the {label} file: {base:.1f} s ({rate(rows, base)}); import / baseline "
              f"time = {took / base:.1f}x")

    one_phases: dict[str, float] = {}

    def one() -> Any:
        with session_scope(engine) as session:
            return importer.import_results(session, actor=actor, source=files["one"],
                                           timings=one_phases)

    report, took = timed(one)
    out["one_pool_s"] = took
    with session_scope(engine) as session:
        members = session.scalar(select(func.count()).select_from(FollowupMember)
                                 .where(FollowupMember.task_id.is_not(None))) or 0
        tasks = session.scalar(select(func.count()).select_from(Task)) or 0
    print(f"[{kind}] one positive pool ({files['held_members']} members): under control with "
          f"tasks, committed, {took * 1000:.0f} ms after its result file arrived "
          f"({members:,} members and {tasks:,} tasks in all); "
          + ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in one_phases.items()))
    assert report.followups_opened == 1

    for label, call in (
            ("coverage by county", lambda s: service.coverage(
                s, actor=actor, round_id=created.round_id, digits=6)),
            ("coverage by village", lambda s: service.coverage(
                s, actor=actor, round_id=created.round_id, digits=12)),
            ("status", lambda s: service.status(s, actor=actor, round_id=created.round_id)),
            ("pool queue", lambda s: service.queue(s, actor=actor, limit=1000))):
        def run(call: Any = call) -> Any:
            with session_scope(engine) as session:
                return call(session)

        result, took = timed(run)
        out[label.replace(" ", "_") + "_s"] = took
        size = len(result.rows) if hasattr(result, "rows") else (
            len(result) if isinstance(result, list) else result.sampled)
        unit = "sampled" if label == "status" else "rows"
        print(f"[{kind}] {label}: {took:.2f} s ({size:,} {unit})")
    out["peak_mib"] = peak_mib()
    print(f"[{kind}] peak RSS of the process: {out['peak_mib']:,.0f} MiB")
    engine.dispose()
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--people", type=int, default=7_000_000)
    ap.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    ap.add_argument("--pg-url", default=PG_URL,
                    help="PostgreSQL URL; THAT DATABASE IS DROPPED AND CREATED AFRESH")
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--json", type=Path, help="Also write the figures here.")
    ap.add_argument("--tmp", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.db == "both":
        figures = []
        for kind in ("postgresql", "sqlite"):
            with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as fh:
                target = Path(fh.name)
            cmd = [sys.executable, __file__, "--db", kind, "--people", str(args.people),
                   "--pg-url", args.pg_url, "--seed", str(args.seed), "--json", str(target)]
            if subprocess.run(cmd, check=False).returncode:
                return 1
            figures.append(json.loads(target.read_text()))
            target.unlink()
        print("\nsummary")
        for f in figures:
            print(f"  {f['db']:>10}: samples {rate(f['samples_rows'], f['samples_s'])} "
                  f"(baseline x{f['samples_s'] / f['samples_baseline_s']:.1f}), a late file "
                  f"of {f.get('late_rows', 0):,} in {f.get('late_s', 0):.2f} s, results "
                  f"{rate(f['results_rows'], f['results_s'])} "
                  f"(baseline x{f['results_s'] / f['results_baseline_s']:.1f}), one pool "
                  f"{f['one_pool_s'] * 1000:.0f} ms, city coverage "
                  f"{f['coverage_by_village_s']:.1f} s, peak {f['peak_mib']:,.0f} MiB")
        if args.json:
            args.json.write_text(json.dumps(figures, indent=1))
        return 0
    tmp = Path(tempfile.mkdtemp(prefix="fangkong-bench-testing-"))
    try:
        configure(tmp)
        url = args.pg_url if args.db == "postgresql" else f"sqlite:///{tmp / 'bench.db'}"
        out = bench_database(args.db, url, args, tmp)
        if args.json:
            args.json.write_text(json.dumps(out))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
