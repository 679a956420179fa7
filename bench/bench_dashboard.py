"""Benchmark: server render time of the dashboard's overview and list pages.

On PostgreSQL (database ``fangkong_bench_dashboard``, dropped and created afresh) or SQLite it

1. runs the migrations and loads the Guangdong divisions, imports N synthetic persons over
   Zhanjiang's villages (the CSV writer and importer path of ``bench_persons.py``), then M cases
   of those persons through ``fangkong.case.importer.import_file`` (reported over the last
   ``--days`` days, a mix of classifications and detection modes) and T tasks (a third overdue);
2. signs in as the province's and the city's commanders (44, 4408) and as a district's
   epidemiologist, and renders each
   page R times in process (FastAPI app, TestClient, the real session and audit machinery):
   the overview, the cases list, a filtered cases list (today's community infections, the
   overview's link), a case page, the task board; and prints p50/p95/max in ms;
3. as the baseline in the same process, renders the sign-in page (the same templates and
   middleware with no query) and times a bare ``SELECT count(*)`` of the cases, and prints each
   page's p50 as a ratio of them.

Usage: ``flock /tmp/fangkong-bench.lock .venv/bin/python bench/bench_dashboard.py
[--persons 1000000] [--cases 100000] [--db postgresql|sqlite]``; see bench/README.md.
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_persons import (
    configure,
    ms,
    pct,
    places,
    prepare,
    recreate_pg_database,
    use_database,
    write_csv,
)

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/fangkong_bench_dashboard"
PASSWORD = "bench-password-0123"
MODES = ["in_quarantine", "closed_loop", "community_screening", "fever_clinic",
         "routine_key_groups", "entry_screening"]


def load(engine: Any, args: argparse.Namespace, tmp: Path) -> None:
    from sqlalchemy import select

    from fangkong.case import importer as case_importer
    from fangkong.core.auth import Role, system_actor
    from fangkong.core.clock import utc_now
    from fangkong.core.db import session_scope
    from fangkong.person import importer as person_importer
    from fangkong.person.models import Person
    from fangkong.task.enums import TaskStatus
    from fangkong.task.models import Task
    from fangkong.user import service as users
    from fangkong.user.schemas import UserCreate

    actor = system_actor("bench")
    print(f"prepare (migrate, divisions): {prepare(engine):.1f} s", flush=True)
    path = tmp / "persons.csv"
    if kept_csv(path, args.persons):  # a kept directory's file (--keep): the same persons
        print(f"reusing {path} ({args.persons:,} persons)", flush=True)
    else:
        secs, _ = write_csv(path, args.persons, args.seed, places(engine))
        print(f"write {args.persons:,} persons: {secs:.1f} s", flush=True)
    t0 = time.perf_counter()
    with session_scope(engine) as session:
        person_importer.import_file(session, actor=actor, source=path)
    print(f"import persons: {time.perf_counter() - t0:.1f} s", flush=True)

    rng = random.Random(args.seed)
    with session_scope(engine) as session:
        people = session.execute(select(Person.ref, Person.division_code)
                                 .order_by(Person.id)).all()
    picked = pick_cases(people, args, rng)
    now = utc_now()
    t0 = time.perf_counter()
    for start in range(0, len(picked), args.batch):
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(["ref", "person_ref", "classification", "severity", "onset_date",
                    "reported_at", "detection_mode", "owning_division_code"])
        for i, (ref, code) in enumerate(picked[start:start + args.batch], start=start):
            cls = rng.choice(["confirmed", "confirmed", "asymptomatic", "suspected"])
            at = now - timedelta(seconds=rng.randrange(0, args.days * 86400))
            w.writerow([f"K{i:07d}", ref, cls, "mild" if cls == "confirmed" else "",
                        (at - timedelta(days=2)).date().isoformat() if cls != "asymptomatic"
                        else "", at.isoformat(timespec="seconds"), rng.choice(MODES),
                        code[:6]])
        with session_scope(engine) as session:
            case_importer.import_file(session, actor=actor, source=buf.getvalue().encode(),
                                      filename=f"cases-{start}.csv")
    print(f"import {args.cases:,} cases: {time.perf_counter() - t0:.1f} s", flush=True)

    counties = sorted({code[:6] for _, code in people})
    overdue = getattr(args, "overdue", None)
    if overdue is None:  # a third overdue (by up to two days), spread over the counties
        owners, dues = [], []
        for _ in range(args.tasks):  # in this order, as before (the same tasks for a seed)
            owners.append(rng.choice(counties))
            dues.append(now + timedelta(hours=rng.randrange(-48, 96)))
    else:  # where the cases are (the county of a case drawn at random); ``--overdue`` past due
        dues = [now + (timedelta(minutes=-rng.randrange(1, 48 * 60)) if rng.random() < overdue
                       else timedelta(minutes=rng.randrange(1, 96 * 60)))
                for _ in range(args.tasks)]
        owners = [rng.choice(picked)[1][:6] if picked else rng.choice(counties)
                  for _ in range(args.tasks)]
    with session_scope(engine) as session:
        session.add_all(Task(
            type="investigate_case", title=f"bench task {i}", owning_division_code=owners[i],
            due_at=dues[i], status=TaskStatus.open, escalation_level=0, created_by="bench",
            created_at=now)
            for i in range(args.tasks))
        for name, role, code in (("province", Role.commander, "44"),
                                 ("city", Role.commander, "4408"),
                                 ("district", Role.epidemiologist, args.district)):
            users.create_user(session, actor=actor, data=UserCreate(
                username=name, role=role, jurisdictions=[code], password=PASSWORD))
    print(f"{args.tasks:,} tasks, 3 users", flush=True)


def kept_csv(path: Path, n: int) -> bool:
    """Whether ``path`` holds a persons file of ``n`` rows already (a directory kept by an
    earlier run: writing a million persons takes minutes)."""
    if not path.exists():
        return False
    with path.open("rb") as fh:
        return sum(1 for _ in fh) == n + 1


def pick_cases(people: list[Any], args: argparse.Namespace, rng: random.Random) -> list[Any]:
    """The persons who become cases: ``--cases`` of them, uniformly over the persons (so by
    population), except that a share ``--hotspot`` (when given) is drawn from the county
    ``--hotspot-county`` alone (an outbreak concentrated in one district)."""
    share = getattr(args, "hotspot", 0.0)
    if not share:
        return rng.sample(people, args.cases)
    county = args.hotspot_county
    inside = [p for p in people if p[1].startswith(county)]
    outside = [p for p in people if not p[1].startswith(county)]
    hot = min(len(inside), round(args.cases * share))
    return rng.sample(inside, hot) + rng.sample(outside, args.cases - hot)


def open_database(kind: str, pg_url: str, tmp: Path) -> str:
    """Settings for a run in ``tmp`` and the URL of its database: a SQLite file there, or
    ``pg_url`` dropped and created afresh."""
    configure(tmp)
    if kind == "postgresql":
        recreate_pg_database(pg_url)
        return pg_url
    return f"sqlite:///{tmp / 'bench.db'}"


def reuse_database(kind: str, pg_url: str, tmp: Path) -> str:
    """The settings and URL of a database that :func:`open_database` made in ``tmp`` (and a
    run kept), without dropping it."""
    configure(tmp)
    return pg_url if kind == "postgresql" else f"sqlite:///{tmp / 'bench.db'}"


def timed(fn: Any, runs: int, warmup: int = 2) -> list[float]:
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def measure(engine: Any, args: argparse.Namespace) -> int:
    from fastapi.testclient import TestClient
    from sqlalchemy import func, select, text

    from fangkong.app import create_app
    from fangkong.case.models import Case
    from fangkong.core.config import get_settings
    from fangkong.core.db import session_scope
    from fangkong.web.service import local_today

    today = local_today(get_settings().timezone).isoformat()
    app = create_app(get_settings(), engine=engine)
    with session_scope(engine) as session:
        if engine.dialect.name == "postgresql":
            session.execute(text("ANALYZE"))
        case_id = session.scalar(select(func.max(Case.id)).where(
            Case.owning_division_code.like(args.district + "%")))

    def count_cases() -> None:
        with session_scope(engine) as session:
            session.scalar(select(func.count()).select_from(Case))

    base_count = timed(count_cases, args.runs)
    failures = 0
    for user in ("province", "city", "district"):
        client = TestClient(app)
        client.get("/login")  # the sign-in form's CSRF cookie
        resp = client.post("/login", data={"username": user, "password": PASSWORD,
                                           "csrftoken": client.cookies["fangkong_csrf"]},
                           follow_redirects=False)
        assert resp.status_code == 303, resp.text

        def get(path: str, c: TestClient = client) -> None:
            r = c.get(path)
            assert r.status_code == 200, (path, r.status_code, r.text[:300])

        base_login = timed(lambda: get("/login"), args.runs)
        pages = {"overview": "/", "cases list": "/cases",
                 "cases, today's community infections":
                     f"/cases?classification=infection&found=community"
                     f"&reported_from={today}&reported_to={today}",
                 "case page": f"/cases/{case_id}", "task board": "/tasks"}
        where = {"province": "44 广东省", "city": "4408 湛江市"}.get(user, args.district)
        print(f"\n{user} ({where}), "
              f"{args.runs} runs each")
        print(f"  {'baseline: sign-in page':38s} {ms(base_login)}")
        print(f"  {'baseline: SELECT count(*) of cases':38s} {ms(base_count)}")
        for name, path in pages.items():
            got = timed(lambda p=path: get(p), args.runs)  # type: ignore[misc]
            p50 = statistics.median(got)
            flag = "" if pct(got, 0.95) < 0.3 else "  ** p95 over 300 ms"
            failures += bool(flag)
            print(f"  {name:38s} {ms(got)}   x{p50 / statistics.median(base_login):5.1f} "
                  f"sign-in, x{p50 / statistics.median(base_count):5.1f} count{flag}")
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    ap.add_argument("--persons", type=int, default=1_000_000)
    ap.add_argument("--cases", type=int, default=100_000)
    ap.add_argument("--tasks", type=int, default=5_000)
    ap.add_argument("--days", type=int, default=60, help="cases are reported over these days")
    ap.add_argument("--batch", type=int, default=20_000, help="cases per imported file")
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--district", default="440803")
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--db", choices=["postgresql", "sqlite"], default="postgresql")
    ap.add_argument("--pg-url", default=PG_URL,
                    help="PostgreSQL URL; THAT DATABASE IS DROPPED AND CREATED AFRESH")
    args = ap.parse_args(argv)
    if args.cases > args.persons:
        ap.error("--cases cannot exceed --persons (one case per person)")
    with tempfile.TemporaryDirectory(prefix="fangkong-bench-dash-") as name:
        tmp = Path(name)
        url = open_database(args.db, args.pg_url, tmp)
        print(f"bench_dashboard: {args.persons:,} persons, {args.cases:,} cases, "
              f"{args.tasks:,} tasks on {args.db}", flush=True)
        engine = use_database(url)
        load(engine, args, tmp)
        code = measure(engine, args)
        engine.dispose()
        return code


if __name__ == "__main__":
    sys.exit(main())
