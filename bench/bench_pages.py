"""Benchmark: every dashboard page as a province, a city and a county user, on the database a
drill left (``fangkong demo --no-serve``), in process (FastAPI app, TestClient, the real
session, read transactions and audit machinery).

It signs in as the demo's city commander (4408) and county epidemiologist (440802), whose
passwords ``fangkong demo`` wrote to ``<data dir>/demo-users.txt``, and as a province commander
(44) it creates; renders each page ``--runs`` times after ``--warmup`` runs; prints p50, p95 and
max in ms per page and user, and each p50 as a ratio of the baseline measured in the same
process: the sign-in page (the same templates and middleware, no query). A page whose p95 is
over ``--goal-ms`` (300) is flagged, and the exit code is then 1.

With ``--persons N`` it builds a database of its own instead (a temporary directory; SQLite,
or PostgreSQL with ``--db postgresql``, whose ``--pg-url`` database is dropped and created
afresh): N synthetic persons over Zhanjiang's villages, ``--cases`` cases and ``--tasks`` tasks
(``bench_dashboard.load``), and a city-wide testing round (every person a target) of which a
share ``--sampled`` of the persons is sampled, ten to a tube by village, over the last 20
hours, and a share ``--answered`` of the tubes has its result (the rest wait, many past due).
It signs in as that database's province and city commanders and its county epidemiologist
(``--district``, default 440802).

Besides the sign-in page, ``/healthz`` (routing and middleware, no template, no query) is
measured in the same process as a second baseline.

Usage::

    FANGKONG_DATA_DIR=/tmp/demo fangkong demo --no-serve          # once
    FANGKONG_DATA_DIR=/tmp/demo .venv/bin/python bench/bench_pages.py [--runs 20]
    .venv/bin/python bench/bench_pages.py --persons 1000000 [--db postgresql]
"""

from __future__ import annotations

import argparse
import csv
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

PAGES = ["/", "/cases", "/tasks", "/testing", "/zones", "/brief"]
PROVINCE_USER, PROVINCE_PASSWORD = "bench-province", "Zhanjiang-drill-review-2026"


def demo_users(data_dir: Path) -> dict[str, str]:
    path = data_dir / "demo-users.txt"
    if not path.exists():
        raise SystemExit(f"{path}: run `fangkong demo --no-serve` with this data dir first")
    users = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) == 4:
            users[parts[0]] = parts[3]
    return users


def ensure_province_user() -> None:
    from sqlalchemy import select

    from fangkong.core.auth import Role, system_actor
    from fangkong.core.db import session_scope
    from fangkong.user import service as users
    from fangkong.user.models import User
    from fangkong.user.schemas import UserCreate

    with session_scope() as session:
        if session.scalar(select(User.id).where(User.username == PROVINCE_USER)) is None:
            users.create_user(session, actor=system_actor("bench"), data=UserCreate(
                username=PROVINCE_USER, role=Role.commander, jurisdictions=["44"],
                password=PROVINCE_PASSWORD))


def sign_in(app: Any, username: str, password: str) -> Any:
    from fastapi.testclient import TestClient

    client = TestClient(app)
    client.get("/login")
    resp = client.post("/login", data={"username": username, "password": password,
                                       "csrftoken": client.cookies["fangkong_csrf"]},
                       follow_redirects=False)
    if resp.status_code != 303:
        raise SystemExit(f"sign-in of {username} failed: {resp.status_code} {resp.text[:200]}")
    return client


CPU: list[float] = []
"""The process's CPU time of each request timed last (all its threads: on SQLite that is the
page's whole work, the database's included), a figure less swayed than the wall time by the
other work of a shared machine."""


def timed(client: Any, path: str, runs: int, warmup: int) -> list[float]:
    out = []
    CPU.clear()
    for i in range(warmup + runs):
        t0, c0 = time.perf_counter(), time.process_time()
        resp = client.get(path)
        took, cpu = time.perf_counter() - t0, time.process_time() - c0
        if resp.status_code != 200:
            raise SystemExit(f"{path}: {resp.status_code} {resp.text[:200]}")
        if i >= warmup:
            out.append(took)
            CPU.append(cpu)
    return out


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def add_round(engine: Any, args: argparse.Namespace, tmp: Path) -> None:
    """A city-wide round: every person a target; ``--sampled`` of them sampled (ten to a tube,
    by village, over the last 20 hours, through the samples import), ``--answered`` of the
    tubes answered negative (the results import)."""
    from sqlalchemy import select

    from fangkong.core.auth import system_actor
    from fangkong.core.clock import utc_now
    from fangkong.core.db import session_scope
    from fangkong.person.models import Person
    from fangkong.testing import importer, service
    from fangkong.testing.schemas import LabCreate, RoundCreate, TubeIssue

    actor = system_actor("bench")
    now = utc_now()
    rng = random.Random(args.seed + 7)
    t0 = time.perf_counter()
    with session_scope(engine) as session:
        service.create_lab(session, actor=actor, data=LabCreate(
            code="LAB1", name="bench lab", division_code="440802", daily_capacity=2_000_000))
        created = service.create_round(session, actor=actor, data=RoundCreate(
            name="bench city round", area=["4408"], start_at=now - timedelta(hours=21),
            deadline_at=now + timedelta(hours=3)))
        people = session.execute(select(Person.ref, Person.division_code)
                                 .order_by(Person.division_code, Person.id)).all()
    print(f"round: target {created.target:,} in {time.perf_counter() - t0:.1f} s", flush=True)
    picked = [p for p in people if rng.random() < args.sampled]
    tubes: list[str] = []
    samples = tmp / "samples.csv"
    with samples.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["tube_id", "person_ref", "sampled_at", "point_id"])
        village, size = None, 0
        for ref, code in picked:
            if code != village or size == 10:
                tubes.append(f"B{len(tubes):09d}")
                village, size = code, 0
                at = now - timedelta(seconds=rng.randrange(600, 20 * 3600))
            w.writerow([tubes[-1], ref, at.isoformat(timespec="seconds"), ""])
            size += 1
    results = tmp / "results.csv"
    answered = [b for b in tubes if rng.random() < args.answered]
    with results.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["tube_id", "result", "reported_at", "lab_id", "ct"])
        for b in answered:
            w.writerow([b, "negative", now.isoformat(timespec="seconds"), "LAB1", ""])
    t0 = time.perf_counter()
    with session_scope(engine) as session:
        service.issue_tubes(session, actor=actor, round_id=created.round_id,
                            data=TubeIssue(barcodes=tubes, capacity=10))
    with session_scope(engine) as session:
        importer.import_samples(session, actor=actor, round_id=created.round_id,
                                source=samples, filename="samples.csv")
    with session_scope(engine) as session:
        importer.import_results(session, actor=actor, source=results, filename="results.csv")
    print(f"{len(picked):,} samples in {len(tubes):,} tubes, {len(answered):,} answered: "
          f"{time.perf_counter() - t0:.1f} s", flush=True)


CONTACT_STATUSES = {"identified": 0.05, "notified": 0.05, "under_management": 0.40,
                    "released": 0.45, "became_case": 0.03, "lost_to_follow_up": 0.02}
"""The share of each status among the generated contacts (a contact identified in the last day
is still "identified" or "notified")."""


def add_contacts(engine: Any, args: argparse.Namespace) -> None:
    """About ``--contacts-per-case`` close contacts per case (Poisson), each a person of the
    case's county, identified a few hours after the case's report (exponential, mean
    ``--hours-to-identify``), managed a few hours after that (for those not merely identified),
    with the statuses of :data:`CONTACT_STATUSES`. Written straight into the table (the
    dashboard reads the table; the tracing engine's proposals are not what is measured)."""
    import numpy as np
    from sqlalchemy import insert, select

    from fangkong.case.models import Case
    from fangkong.core.db import session_scope
    from fangkong.person.models import Person
    from fangkong.tracing.models import ContactEpisode

    if not args.contacts_per_case:
        return
    t0 = time.perf_counter()
    rng = np.random.default_rng(args.seed + 11)
    with session_scope(engine) as session:
        cases = session.execute(select(Case.id, Case.reported_at, Case.owning_division_code)
                                .order_by(Case.id)).all()
        people = session.execute(select(Person.id, Person.division_code)
                                 .order_by(Person.division_code)).all()
    by_county: dict[str, list[tuple[int, str]]] = {}
    for pid, code in people:
        by_county.setdefault(code[:6], []).append((pid, code))
    statuses, weights = list(CONTACT_STATUSES), list(CONTACT_STATUSES.values())
    rows: list[dict[str, Any]] = []
    now = max((c.reported_at for c in cases), default=None)
    written = 0

    def flush() -> None:
        nonlocal written
        if rows:
            with session_scope(engine) as session:
                session.execute(insert(ContactEpisode), rows)
            written += len(rows)
            rows.clear()

    for case_id, reported, code in cases:
        pool = by_county.get((code or "")[:6])
        if not pool:
            continue
        k = min(len(pool), int(rng.poisson(args.contacts_per_case)))
        for at in rng.choice(len(pool), size=k, replace=False):  # distinct persons
            pid, where = pool[int(at)]
            status = str(rng.choice(statuses, p=weights))
            identified = reported + timedelta(hours=float(
                rng.exponential(args.hours_to_identify)))
            if now is not None and identified > now:
                identified = now
            managed = (None if status == "identified" else
                       identified + timedelta(hours=float(rng.exponential(4.0))))
            exposed = (reported - timedelta(days=2)).date()
            rows.append({
                "person_id": pid, "index_case_id": case_id, "division_code": where,
                "role": "close_contact", "pack": "bench", "pack_version": "1",
                "window_start": exposed - timedelta(days=2), "window_end": exposed,
                "window_basis": "bench", "first_exposure": exposed, "last_exposure": exposed,
                "plan": {}, "release_date": exposed + timedelta(days=7), "status": status,
                "case_reported_at": reported, "identified_at": identified,
                "status_changed_at": managed or identified, "management_started_at": managed,
                "created_at": identified, "updated_at": managed or identified})
            if len(rows) >= 20_000:
                flush()
    flush()
    print(f"{written:,} contacts: {time.perf_counter() - t0:.1f} s", flush=True)


def build(args: argparse.Namespace, tmp: Path) -> list[tuple[str, str, str]]:
    """A database of ``--persons`` persons (see the module's text); the users to sign in as."""
    from sqlalchemy import text

    import bench_dashboard
    from bench_persons import use_database
    from fangkong.core.db import session_scope

    url = bench_dashboard.open_database(args.db, args.pg_url, tmp)
    engine = use_database(url)
    print(f"building: {args.persons:,} persons, {args.cases:,} cases, {args.tasks:,} tasks, "
          f"{args.sampled:.0%} sampled, {args.answered:.0%} of the tubes answered, "
          f"on {args.db}; cases {args.hotspot:.0%} in {args.hotspot_county}, "
          f"{args.contacts_per_case} contacts per case, {args.overdue:.0%} of tasks overdue",
          flush=True)
    bench_dashboard.load(engine, args, tmp)
    add_contacts(engine, args)
    add_round(engine, args, tmp)
    if args.db == "postgresql":
        with session_scope(engine) as session:
            session.execute(text("ANALYZE"))
    pw = bench_dashboard.PASSWORD
    return [("province 44", "province", pw), ("city 4408", "city", pw),
            (f"county {args.district}", "district", pw)]


def demo_who(settings: Any) -> list[tuple[str, str, str]]:
    users = demo_users(settings.data_dir)
    ensure_province_user()
    return [("province 44", PROVINCE_USER, PROVINCE_PASSWORD),
            ("city 4408", "commander", users["commander"]),
            ("county 440802", "chikan_epi", users["chikan_epi"])]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--goal-ms", type=float, default=300)
    ap.add_argument("--pages", default=",".join(PAGES))
    ap.add_argument("--persons", type=int, default=0,
                    help="build a database of this many persons instead of the demo's")
    ap.add_argument("--cases", type=int, default=20_000)
    ap.add_argument("--tasks", type=int, default=5_000)
    ap.add_argument("--days", type=int, default=60, help="cases are reported over these days")
    ap.add_argument("--batch", type=int, default=20_000, help="cases per imported file")
    ap.add_argument("--sampled", type=float, default=0.6, help="share of persons sampled")
    ap.add_argument("--answered", type=float, default=0.5, help="share of tubes answered")
    ap.add_argument("--hotspot", type=float, default=0.5,
                    help="share of the cases in --hotspot-county (the rest by population)")
    ap.add_argument("--hotspot-county", default="440802")
    ap.add_argument("--contacts-per-case", type=float, default=8.0,
                    help="mean close contacts per case (Poisson)")
    ap.add_argument("--hours-to-identify", type=float, default=8.0,
                    help="mean hours from a case's report to a contact's identification")
    ap.add_argument("--overdue", type=float, default=0.3, help="share of the tasks past due")
    ap.add_argument("--district", default="440802")
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--db", choices=["postgresql", "sqlite"], default="sqlite")
    ap.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/"
                    "fangkong_bench_pages",
                    help="PostgreSQL URL; THAT DATABASE IS DROPPED AND CREATED AFRESH")
    ap.add_argument("--sections", action="store_true",
                    help="also time each overview and brief section provider per user "
                    "(best and p95 of --runs, in a read transaction as a page has)")
    ap.add_argument("--profile", type=Path, help="with --sections: a pyinstrument HTML "
                    "profile of each user's overview and brief sections, to PATH.<user>.html")
    ap.add_argument("--keep", type=Path, help="with --persons: build in this directory and "
                    "keep it (its SQLite database bench.db)")
    ap.add_argument("--reuse", type=Path, help="measure the database a run with --keep DIR "
                    "built (DIR; with --db and --pg-url as then), without building it again")
    args = ap.parse_args(argv)
    if args.reuse:
        import bench_dashboard
        from bench_persons import use_database

        use_database(bench_dashboard.reuse_database(args.db, args.pg_url, args.reuse))
        pw = bench_dashboard.PASSWORD
        return measure(args, [("province 44", "province", pw), ("city 4408", "city", pw),
                              (f"county {args.district}", "district", pw)])
    if args.persons:
        if args.cases > args.persons:
            ap.error("--cases cannot exceed --persons (one case per person)")
        if args.keep:  # build there and leave it (to look at it afterwards)
            args.keep.mkdir(parents=True, exist_ok=True)
            return measure(args, build(args, args.keep))
        with tempfile.TemporaryDirectory(prefix="fangkong-bench-pages-") as name:
            who = build(args, Path(name))
            return measure(args, who)
    from fangkong.core.config import get_settings

    return measure(args, demo_who(get_settings()))


def measure(args: argparse.Namespace, who: list[tuple[str, str, str]]) -> int:
    from fangkong.app import create_app
    from fangkong.core.config import get_settings

    settings = get_settings()
    try:
        app = create_app(settings, settle_gc=True)  # as `fangkong serve` makes it
    except TypeError:  # a version before fangkong.core.gcsettle (to compare with)
        app = create_app(settings)
    flagged = 0
    print(f"bench_pages on {settings.resolved_database_url.split('///')[-1]}, "
          f"{args.runs} runs per page")
    for label, name, password in who:
        client = sign_in(app, name, password)
        base = statistics.median(timed(client, "/login", args.runs, args.warmup))
        health = statistics.median(timed(client, "/healthz", args.runs, args.warmup))
        print(f"\n{label} ({name}); baselines p50: sign-in page {base * 1000:.1f} ms, "
              f"/healthz {health * 1000:.1f} ms")
        for path in args.pages.split(","):
            got = timed(client, path, args.runs, args.warmup)
            p95 = pct(got, 0.95)
            flag = f"  ** p95 over {args.goal_ms:.0f} ms" if p95 * 1000 > args.goal_ms else ""
            flagged += bool(flag)
            print(f"  {path:10s} p50 {statistics.median(got) * 1000:8.1f}  p95 "
                  f"{p95 * 1000:8.1f}  max {max(got) * 1000:8.1f} ms   "
                  f"x{statistics.median(got) / base:6.1f} sign-in "
                  f"x{statistics.median(got) / health:6.1f} healthz  cpu p50 "
                  f"{statistics.median(CPU) * 1000:6.1f} p95 {pct(CPU, 0.95) * 1000:6.1f}{flag}",
                  flush=True)
        if args.sections:
            time_sections(args, name, label)
    return 1 if flagged else 0


def time_sections(args: argparse.Namespace, username: str, label: str) -> None:
    """Each overview and brief section provider of ``username``, timed alone: p50 and p95 of
    ``--runs`` calls (after ``--warmup``), each in a read transaction of its own."""
    from sqlalchemy import select

    from fangkong.core.config import get_settings
    from fangkong.core.db import read_scope
    from fangkong.user import service as users
    from fangkong.user.models import User
    from fangkong.web import sections
    from fangkong.web import service as queries

    settings = get_settings()
    with read_scope() as session:
        user = session.scalar(select(User).where(User.username == username))
        assert user is not None
        actor = users.actor_for(user, source="bench")
    sections.load_contributed()
    chosen = sorted((r for r in sections.REGISTRY.values()
                     if r.where & {"overview", "brief"}), key=lambda r: (r.order, r.key))

    def once(fn: Any) -> None:
        with read_scope() as session:
            ctx = sections.Context(
                session=session, actor=actor,
                root=queries.jurisdiction_of(session, actor, None),
                day=queries.local_today(settings.timezone), zone=settings.timezone,
                lang="zh-Hans", now=utc_now())
            fn(ctx)

    from fangkong.core.clock import utc_now

    print(f"  sections of {label}, ms (p50 / p95 of {args.runs}):")
    profiler = None
    if args.profile:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0005)
    for r in chosen:
        got = []
        for i in range(args.warmup + args.runs):
            if profiler is not None and i == args.warmup:
                profiler.start()
            t0 = time.perf_counter()
            once(r.fn)
            if i >= args.warmup:
                got.append(time.perf_counter() - t0)
            if profiler is not None and i == args.warmup:
                profiler.stop()
        print(f"    {r.key:24s} {statistics.median(got) * 1000:8.1f} / "
              f"{pct(got, 0.95) * 1000:8.1f}   ({','.join(sorted(r.where))})", flush=True)
    if profiler is not None:
        out = Path(f"{args.profile}.{username}.html")
        out.write_text(profiler.output_html(), encoding="utf-8")
        print(f"  profile: {out}")


if __name__ == "__main__":
    sys.exit(main())
