"""The search box by part of a name or phone at scale: a county epidemiologist's searches by a
name's first one or two characters ("张", "张三") and by a phone's last four digits, over N
synthetic persons of Zhanjiang (``fangkong.person.service.search``, what /search and /report
run), against a baseline in the same process: the exact lookup by ID number (its keyed hash,
a unique index), through the same session machinery.

    .venv/bin/python bench/bench_search.py                         # 1,000,000 persons, PostgreSQL
    .venv/bin/python bench/bench_search.py --n 100000 --db sqlite  # quicker

Each query is one session and transaction, as a request has (each search also appends its
audit entry, as it must). Prints p50/p95/max of each kind and the ratio of its p95 to the
baseline's. The PostgreSQL database (``--pg-url``) is dropped and created afresh.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_persons as bp

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/fangkong_bench_search"


def timed(engine: Any, calls: list[Callable[[Any], int]]) -> tuple[list[float], int]:
    """Each call in a session and transaction of its own; (seconds, rows found)."""
    from fangkong.core.db import session_scope

    out, found = [], 0
    for call in calls:
        t0 = time.perf_counter()
        with session_scope(engine) as session:
            found += call(session)
        out.append(time.perf_counter() - t0)
    return out, found


def samples(engine: Any, county: str, k: int, seed: int) -> dict[str, list[str]]:
    """What a user would type, drawn from the county's persons: names' first characters and
    first two, phones' last four digits, ID numbers (plain, for the baseline)."""
    from sqlalchemy import select

    from fangkong.core.auth import system_actor
    from fangkong.core.db import session_scope
    from fangkong.person import service as persons
    from fangkong.person.models import Person

    rng = random.Random(seed)
    with session_scope(engine) as session:
        rows = session.execute(select(Person.id, Person.name, Person.phone_masked).where(
            Person.division_code >= county, Person.division_code < county + "~")
            .limit(50_000)).all()
        picked = rng.sample(rows, min(k, len(rows)))
        ids = [persons.identifiers(session, actor=system_actor("bench"), person_id=i).id_number
               for i, _, _ in picked]
    return {"name1": [n[:1] for _, n, _ in picked], "name2": [n[:2] for _, n, _ in picked],
            "phone4": [p[-4:] for _, _, p in picked if p],
            "id_number": [i for i in ids if i]}


def run(args: argparse.Namespace, tmp: Path) -> int:
    bp.configure(tmp)
    url = args.pg_url if args.db == "postgresql" else f"sqlite:///{tmp / 'bench.db'}"
    if args.db == "postgresql":
        bp.recreate_pg_database(url)
    engine = bp.use_database(url)
    print(f"set-up: {bp.prepare(engine):.1f} s (migrations, divisions)")
    csv_path = tmp / "persons.csv"
    took, _ = bp.write_csv(csv_path, args.n, args.seed, bp.places(engine))
    print(f"{args.n:,} persons written in {took:.1f} s")
    _, took, _ = bp.run_import(engine, csv_path)
    print(f"imported in {took:.1f} s")
    if args.db == "postgresql":
        from sqlalchemy import text

        with engine.begin() as conn:
            conn.execute(text("ANALYZE person"))

    from fangkong.core.auth import Actor, Role
    from fangkong.person import service as persons

    actor = Actor(username="bench", role=Role.epidemiologist, grants=(args.county,),
                  source="bench")
    typed = samples(engine, args.county, args.queries, args.seed)
    kinds: dict[str, list[Callable[[Any], int]]] = {
        "name, 1st character": [lambda s, q=q: len(persons.search(
            s, actor=actor, name_prefix=q)) for q in typed["name1"]],
        "name, 2 characters": [lambda s, q=q: len(persons.search(
            s, actor=actor, name_prefix=q)) for q in typed["name2"]],
        "phone, last 4 digits": [lambda s, q=q: len(persons.search(
            s, actor=actor, phone_tail=q)) for q in typed["phone4"]],
    }
    baseline = [lambda s, q=q: len(persons.list_(s, actor=actor, id_number=q, limit=20)[0])
                for q in typed["id_number"]]
    timed(engine, baseline[:10])  # warm the caches for every kind alike
    base, _ = timed(engine, baseline)
    base_p95 = bp.pct(base, 0.95)
    print(f"\n{args.db}, {args.n:,} persons, county {args.county}, {len(base)} queries a kind")
    print(f"  {'baseline: ID number':24} {bp.ms(base)}  found {len(base)}")
    worst = 0.0
    for name, calls in kinds.items():
        took_ms, found = timed(engine, calls)
        p95 = bp.pct(took_ms, 0.95)
        worst = max(worst, p95)
        print(f"  {name:24} {bp.ms(took_ms)}  {found / len(calls):.1f} found a search, "
              f"p95 {p95 / base_p95:.1f}x the baseline's")
    print(f"  worst p95 {worst * 1000:.1f} ms")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    ap.add_argument("--n", type=int, default=1_000_000, help="persons to import")
    ap.add_argument("--db", choices=["sqlite", "postgresql"], default="postgresql")
    ap.add_argument("--pg-url", default=PG_URL, help="dropped and created afresh")
    ap.add_argument("--county", default="440803", help="the searching user's county")
    ap.add_argument("--queries", type=int, default=200, help="searches of each kind")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-search-") as tmp:
        return run(args, Path(tmp))


if __name__ == "__main__":
    raise SystemExit(main())
