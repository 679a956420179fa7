"""Benchmark: transmission chains, clusters and indicators at 50,000 cases and 500,000 contacts.

Builds a database (SQLite in a temporary directory, or the PostgreSQL database given by
``--pg-url``, dropped and created again), migrated, with Guangdong divisions, and inserts
synthetic persons, cases, contact episodes (one status step each) and exposures with plain bulk
inserts (the tracing services would take far longer and are not what is measured), one exposure
per contact, a tenth of them to persons who are cases themselves (links). The bulk inserts
bypass the graph's listener, so the maintained graph is then built once
(``fangkong.tracing.graph.rebuild``, timed).

Then it times, each repeated and reported as median and 95th percentile:

- the baseline: computing the links, clusters and their aggregates from scratch
  (``graph.from_scratch``), which is what listing the clusters or the indicators did on every
  call before the graph was maintained;
- ``chains.chain`` for random cases (network and timeline layouts), ``chains.clusters`` and
  ``chains.indicators``, reading the maintained graph;
- keeping it up to date: one new case-to-case exposure, then its deactivation (a split), each
  through the ORM and ``graph.sync``.

Usage: ``flock /tmp/fangkong-bench.lock .venv/bin/python bench/bench_tracing_graph.py
[--cases 50000] [--contacts 500000] [--db sqlite|postgresql]
[--pg-url postgresql+psycopg://postgres@127.0.0.1:5432/fk_tracing_bench]``.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cases", type=int, default=50_000)
    ap.add_argument("--contacts", type=int, default=500_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    ap.add_argument("--pg-url",
                    default="postgresql+psycopg://postgres@127.0.0.1:5432/fk_tracing_bench")
    args = ap.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="fangkong-graph-"))
    os.environ["FANGKONG_DATA_DIR"] = str(tmp)
    if args.db == "postgresql":
        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url

        target = make_url(args.pg_url)
        admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{target.database}"'))
        admin.dispose()
        os.environ["FANGKONG_DATABASE_URL"] = args.pg_url
    else:
        os.environ["FANGKONG_DATABASE_URL"] = f"sqlite:///{tmp / 'g.db'}"

    from sqlalchemy import insert, select

    from fangkong.case.models import Case
    from fangkong.core.auth import system_actor
    from fangkong.core.db import get_engine, session_scope
    from fangkong.core.migrate import upgrade
    from fangkong.geo import service as geo
    from fangkong.person.models import Person
    from fangkong.policy import service as policy
    from fangkong.tracing import chains, graph
    from fangkong.tracing.models import ContactEpisode, ContactStatusChange, Exposure

    engine = get_engine()
    upgrade(engine)
    with session_scope(engine) as s:
        geo.load(s, province="44")
    rnd = random.Random(args.seed)
    now = datetime(2022, 6, 1, tzinfo=UTC)
    n_people = args.cases + args.contacts
    day0 = date(2022, 4, 1)
    started = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(insert(Person), [
            {"id": i, "ref": f"G{i}", "name": f"p{i}", "sex": "male", "division_code": "440802",
             "synthetic": True, "row_hash": "x", "created_at": now, "updated_at": now}
            for i in range(1, n_people + 1)])
        onset = {i: day0 + timedelta(days=rnd.randrange(60)) for i in range(1, args.cases + 1)}
        conn.execute(insert(Case), [
            {"id": i, "ref": f"C{i}", "person_id": i, "disease": "covid19",
             "classification": "confirmed", "severity": "mild", "onset_date": onset[i],
             "reported_at": datetime.combine(onset[i] + timedelta(days=1), datetime.min.time(),
                                             UTC),
             "detection_mode": "fever_clinic", "owning_division_code": "440802",
             "current_division_code": "440802", "row_hash": "x", "created_at": now,
             "updated_at": now} for i in range(1, args.cases + 1)])
        contacts, exposures = [], []
        seen: set[tuple[int, int]] = set()
        for k in range(args.contacts):
            source = rnd.randrange(1, args.cases + 1)
            # a tenth of the contacts are persons who are cases with a later onset (links)
            person = rnd.randrange(1, args.cases + 1) if k % 10 == 0 else args.cases + 1 + k
            if person == source or (source, person) in seen or (
                    person <= args.cases and onset[person] <= onset[source]):
                person = args.cases + 1 + k
            seen.add((source, person))
            d = onset[source]
            contacts.append({
                "id": k + 1, "person_id": person, "index_case_id": source,
                "division_code": "440802", "role": "close_contact", "pack": "cn_v9",
                "pack_version": "1.0.0", "window_start": d - timedelta(days=2),
                "window_end": d + timedelta(days=1), "window_basis": "bench",
                "first_exposure": d, "last_exposure": d, "plan": {}, "release_date": None,
                "status": "under_management", "case_reported_at": now, "identified_at": now,
                "status_changed_at": now - timedelta(days=k % 5), "created_at": now,
                "updated_at": now})
            exposures.append({
                "id": k + 1, "source_case_id": source, "exposed_person_id": person,
                "division_code": "440802", "first_exposure": d, "last_exposure": d,
                "estimated": False, "setting": "household", "proximity": "direct",
                "certainty": "confirmed", "active": True, "origin": "manual",
                "proposed_role": "close_contact", "reason": "bench", "review": "confirmed",
                "contact_id": k + 1, "created_at": now})
        conn.execute(insert(ContactEpisode), contacts)
        conn.execute(insert(ContactStatusChange), [
            {"id": c["id"], "contact_id": c["id"], "from_status": None,
             "to_status": "under_management", "at": c["status_changed_at"], "by": "bench"}
            for c in contacts])
        conn.execute(insert(Exposure), exposures)
    del contacts, exposures, seen  # the bench's own objects must not slow the measured calls (GC)
    gc.collect()
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:  # ids were given explicitly: move the sequences on
            for table in ("person", "case_episode", "tracing_contact", "tracing_contact_status",
                          "tracing_exposure"):
                conn.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                     f"(SELECT max(id) FROM {table}))")
        # What autovacuum does after a bulk load (PostgreSQL 13+ vacuums insert-only tables
        # too): statistics, and the visibility map that lets counts read indexes alone.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    print(f"[{args.db}] inserted {n_people:,} persons, {args.cases:,} cases, "
          f"{args.contacts:,} contacts and exposures in {time.perf_counter() - started:.1f} s")
    with session_scope(engine) as s:
        t = time.perf_counter()
        built = graph.rebuild(s)
    print(f"graph built once from scratch ({built['links']:,} links, {built['clusters']:,} "
          f"clusters, {built['cases_in_clusters']:,} cases in them): "
          f"{time.perf_counter() - t:.2f} s")

    actor = system_actor("bench")

    def timed(fn, repeat: int = args.repeat) -> tuple[float, float, object]:  # type: ignore[no-untyped-def]
        times, value = [], None
        for i in range(repeat):
            with session_scope(engine) as s:
                t = time.perf_counter()
                value = fn(s, i)
                times.append(time.perf_counter() - t)
        times.sort()
        p95 = times[min(len(times) - 1, max(0, round(0.95 * len(times)) - 1))]
        return statistics.median(times), p95, value

    def show(what: str, med: float, p95: float, base: float | None = None) -> None:
        ratio = f"  (baseline / this: {base / med:,.0f}x)" if base else ""
        print(f"{what:<52} median {med * 1000:8.1f} ms  p95 {p95 * 1000:8.1f} ms{ratio}")

    base, base95, scratch = timed(lambda s, i: graph.from_scratch(s), repeat=3)
    assert isinstance(scratch, tuple)
    show(f"baseline: from scratch ({len(scratch[2]):,} clusters)", base, base95)
    big = max(scratch[2], key=lambda c: c["size"])
    del scratch
    gc.collect()
    probe = [rnd.randrange(1, args.cases + 1) for _ in range(args.repeat)]
    sizes: list[int] = []

    def one_chain(s, i):  # type: ignore[no-untyped-def]
        info = chains.chain(s, actor=actor, case_id=probe[i])
        sizes.append(info["size"])
        return info

    med, p95, _ = timed(one_chain)
    show(f"chain of a case (clusters of {min(sizes)}-{max(sizes)} cases)", med, p95, base)
    med, p95, _ = timed(lambda s, i: chains.chain(s, actor=actor, case_id=big["cluster_id"],
                                                  layout="timeline"))
    show(f"timeline of the largest cluster ({big['size']:,} cases)", med, p95, base)
    med, p95, listed = timed(lambda s, i: chains.clusters(s, actor=actor))
    assert isinstance(listed, list)
    show(f"clusters ({len(listed):,})", med, p95, base)
    for days, what in ((60, "every case"), (14, "a 14-day window")):
        med, p95, ind = timed(lambda s, i, days=days: chains.indicators(
            s, actor=actor, start=day0 + timedelta(days=60 - days),
            end=day0 + timedelta(days=60), not_seen_days=2, max_onset_gap_days=14))
        assert isinstance(ind, dict)
        show(f"indicators, {what} ({ind['new_cases']:,} new cases)", med, p95, base)

    # Upkeep: a new link between two random cases (later onset as target), then its removal.
    pairs = []
    while len(pairs) < args.repeat:
        a, b = rnd.randrange(1, args.cases + 1), rnd.randrange(1, args.cases + 1)
        if onset[a] < onset[b]:
            pairs.append((a, b))

    def add(s, i):  # type: ignore[no-untyped-def]
        a, b = pairs[i]
        s.add(Exposure(source_case_id=a, exposed_person_id=b, division_code="440802",
                       first_exposure=onset[a], last_exposure=onset[a], estimated=False,
                       setting="workplace", proximity="direct", certainty="confirmed",
                       active=True, origin="manual", proposed_role="close_contact",
                       reason="bench upkeep", review="confirmed",
                       **policy.pin("cn_v9").detail(), created_at=now))
        graph.sync(s)

    def drop(s, i):  # type: ignore[no-untyped-def]
        for e in s.scalars(select(Exposure).where(Exposure.reason == "bench upkeep",
                                                  Exposure.source_case_id == pairs[i][0],
                                                  Exposure.exposed_person_id == pairs[i][1])):
            e.active = False
        graph.sync(s)

    med, p95, _ = timed(add)
    show("upkeep: add a case-to-case exposure, sync", med, p95)
    med, p95, _ = timed(drop)
    show("upkeep: deactivate it again (split), sync", med, p95)
    with session_scope(engine) as s:
        problems = graph.check(s)
    print(f"maintained graph equals the computation from scratch: {not problems} {problems}")
    engine.dispose()
    shutil.rmtree(tmp, ignore_errors=True)
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
