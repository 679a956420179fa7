"""Benchmark: transmission chains, clusters and indicators at 50,000 cases and 500,000 contacts.

Builds a SQLite database in a temporary directory (migrations, Guangdong divisions), inserts
synthetic persons, cases, contact episodes and exposures with plain bulk inserts (the tracing
services would take far longer and are not what is measured), one exposure per contact, a tenth
of them to persons who are cases themselves (links), then times
``fangkong.tracing.chains.chain`` (a case's cluster), ``clusters`` and ``indicators``. Baseline
in the same process: the plain SQL that only reads the case-to-case links (the query the graph is
built from, counted), so the ratio is what building and walking the graph adds.

Usage: ``flock /tmp/fangkong-bench.lock .venv/bin/python bench/bench_tracing_graph.py
[--cases 50000] [--contacts 500000]``.
"""

from __future__ import annotations

import argparse
import os
import random
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
    args = ap.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="fangkong-graph-"))
    os.environ["FANGKONG_DATA_DIR"] = str(tmp)
    os.environ["FANGKONG_DATABASE_URL"] = f"sqlite:///{tmp / 'g.db'}"

    from sqlalchemy import func, insert, select
    from sqlalchemy.orm import aliased

    from fangkong.case.models import Case
    from fangkong.core.auth import system_actor
    from fangkong.core.db import get_engine, session_scope
    from fangkong.core.migrate import upgrade
    from fangkong.geo import service as geo
    from fangkong.person.models import Person
    from fangkong.tracing import chains
    from fangkong.tracing.models import ContactEpisode, Exposure

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
                "created_at": now, "updated_at": now})
            exposures.append({
                "id": k + 1, "source_case_id": source, "exposed_person_id": person,
                "division_code": "440802", "first_exposure": d, "last_exposure": d,
                "estimated": False, "setting": "household", "proximity": "direct",
                "certainty": "confirmed", "active": True, "origin": "manual",
                "proposed_role": "close_contact", "reason": "bench", "review": "confirmed",
                "contact_id": k + 1, "created_at": now})
        conn.execute(insert(ContactEpisode), contacts)
        conn.execute(insert(Exposure), exposures)
    print(f"inserted {n_people:,} persons, {args.cases:,} cases, {args.contacts:,} contacts "
          f"and exposures in {time.perf_counter() - started:.1f} s")

    actor = system_actor("bench")

    def timed(fn, repeat: int = 5) -> tuple[float, object]:  # type: ignore[no-untyped-def]
        times, value = [], None
        for _ in range(repeat):
            with session_scope(engine) as s:
                t = time.perf_counter()
                value = fn(s)
                times.append(time.perf_counter() - t)
        return statistics.median(times), value

    def links_only(s):  # type: ignore[no-untyped-def]
        src, dst = aliased(Case), aliased(Case)
        return s.scalar(select(func.count()).select_from(Exposure)
                        .join(src, src.id == Exposure.source_case_id)
                        .join(dst, dst.person_id == Exposure.exposed_person_id))

    base, nlinks = timed(links_only)
    print(f"baseline (read the {nlinks:,} links): {base * 1000:.0f} ms")
    probe = [rnd.randrange(1, args.cases + 1) for _ in range(5)]
    t_chain, info = timed(lambda s: chains.chain(s, actor=actor, case_id=probe[0]))
    assert isinstance(info, dict)
    print(f"chain of one case (cluster of {info['size']:,} cases, {info['generations']} "
          f"generations): {t_chain * 1000:.0f} ms  ({t_chain / base:.1f}x the baseline)")
    t_tl, _ = timed(lambda s: chains.chain(s, actor=actor, case_id=probe[1], layout="timeline"))
    print(f"timeline layout: {t_tl * 1000:.0f} ms  ({t_tl / base:.1f}x)")
    t_cl, listed = timed(lambda s: chains.clusters(s, actor=actor), repeat=3)
    assert isinstance(listed, list)
    print(f"clusters ({len(listed):,}): {t_cl * 1000:.0f} ms  ({t_cl / base:.1f}x)")
    t_ind, _ = timed(lambda s: chains.indicators(s, actor=actor, start=day0,
                                                 end=day0 + timedelta(days=60),
                                                 not_seen_days=2, max_onset_gap_days=14),
                     repeat=3)
    print(f"indicators: {t_ind * 1000:.0f} ms  ({t_ind / base:.1f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
