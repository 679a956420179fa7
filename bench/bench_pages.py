"""Benchmark: every dashboard page as a province, a city and a county user, on the database a
drill left (``fangkong demo --no-serve``), in process (FastAPI app, TestClient, the real
session, read transactions and audit machinery).

It signs in as the demo's city commander (4408) and county epidemiologist (440802), whose
passwords ``fangkong demo`` wrote to ``<data dir>/demo-users.txt``, and as a province commander
(44) it creates; renders each page ``--runs`` times after ``--warmup`` runs; prints p50, p95 and
max in ms per page and user, and each p50 as a ratio of the baseline measured in the same
process: the sign-in page (the same templates and middleware, no query). A page whose p95 is
over ``--goal-ms`` (300) is flagged, and the exit code is then 1.

Usage::

    FANGKONG_DATA_DIR=/tmp/demo fangkong demo --no-serve          # once
    FANGKONG_DATA_DIR=/tmp/demo .venv/bin/python bench/bench_pages.py [--runs 20]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

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


def timed(client: Any, path: str, runs: int, warmup: int) -> list[float]:
    out = []
    for i in range(warmup + runs):
        t0 = time.perf_counter()
        resp = client.get(path)
        took = time.perf_counter() - t0
        if resp.status_code != 200:
            raise SystemExit(f"{path}: {resp.status_code} {resp.text[:200]}")
        if i >= warmup:
            out.append(took)
    return out


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--goal-ms", type=float, default=300)
    ap.add_argument("--pages", default=",".join(PAGES))
    args = ap.parse_args(argv)

    from fangkong.app import create_app
    from fangkong.config import get_settings

    settings = get_settings()
    users = demo_users(settings.data_dir)
    ensure_province_user()
    app = create_app(settings)
    who = [("province 44", PROVINCE_USER, PROVINCE_PASSWORD),
           ("city 4408", "commander", users["commander"]),
           ("county 440802", "chikan_epi", users["chikan_epi"])]
    flagged = 0
    print(f"bench_pages on {settings.resolved_database_url.split('///')[-1]}, "
          f"{args.runs} runs per page")
    for label, name, password in who:
        client = sign_in(app, name, password)
        base = statistics.median(timed(client, "/login", args.runs, args.warmup))
        print(f"\n{label} ({name}); baseline sign-in page p50 {base * 1000:.1f} ms")
        for path in args.pages.split(","):
            got = timed(client, path, args.runs, args.warmup)
            p95 = pct(got, 0.95)
            flag = f"  ** p95 over {args.goal_ms:.0f} ms" if p95 * 1000 > args.goal_ms else ""
            flagged += bool(flag)
            print(f"  {path:10s} p50 {statistics.median(got) * 1000:8.1f}  p95 "
                  f"{p95 * 1000:8.1f}  max {max(got) * 1000:8.1f} ms   "
                  f"x{statistics.median(got) / base:6.1f} sign-in{flag}", flush=True)
    return 1 if flagged else 0


if __name__ == "__main__":
    sys.exit(main())
