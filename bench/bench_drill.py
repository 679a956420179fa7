"""Drill benchmark: agent-days per second of the epidemic engine alone, of starsim on a
comparable model of the same city, and of the whole drill with the platform in the loop.

Each part runs in a child process of its own (so that its peak memory is its own):

    flock /tmp/fangkong-bench.lock .venv/bin/python bench/bench_drill.py
    flock /tmp/fangkong-bench.lock .venv/bin/python bench/bench_drill.py --agents 100000 --days 30

See bench/README.md for what each part does.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

PARTS = ("engine", "starsim", "platform")


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def part_engine(agents: int, days: int, seed: int) -> dict[str, float]:
    from fangkong.sim.city import build_city
    from fangkong.sim.engine import Engine

    t0 = time.perf_counter()
    city = build_city(agents, seed=seed)
    built = time.perf_counter() - t0
    engine = Engine(city, seed=seed)
    engine.infect(np.flatnonzero(city.district == 1)[:10], 0)
    free = np.ones(city.n, dtype=bool)
    checkins = 0
    t0 = time.perf_counter()
    for t in range(days):
        day = engine.step(t, home=free, out=free, weekday=t % 7 < 5)
        checkins += day.checkins.person.size
    run = time.perf_counter() - t0
    return {"city_seconds": built, "seconds": run, "agent_days_per_s": agents * days / run,
            "infected": int(engine.infected.sum()), "checkins": checkins}


def _static_net(p1: np.ndarray, p2: np.ndarray, beta: float):  # type: ignore[no-untyped-def]
    import starsim as ss

    class Static(ss.Network):
        def step(self) -> None:
            return None

    return Static(edges={"p1": p1, "p2": p2, "beta": np.full(p1.size, beta)})


def _group_edges(groups: np.ndarray, k: int, rng: np.random.Generator) -> tuple[np.ndarray,
                                                                                np.ndarray]:
    """Each member of a group linked to ``k`` random members of the same group."""
    has = np.flatnonzero(groups >= 0)
    order = has[np.argsort(groups[has], kind="stable")]
    counts = np.bincount(groups[has])
    start = np.r_[0, np.cumsum(counts)]
    g = groups[order]
    size = counts[g]
    pick = start[g][:, None] + (rng.random((order.size, k)) * size[:, None]).astype(np.int64)
    p1 = np.repeat(order, k)
    p2 = order[pick.ravel()]
    keep = p1 != p2
    return p1[keep], p2[keep]


def part_starsim(agents: int, days: int, seed: int) -> dict[str, float]:
    """The same city and course (latent ~3 d, infectious ~5 d), SEIR with static household
    cliques, static work and school links (8 per person), and a daily random network standing
    for venue encounters."""
    os.environ.setdefault("STARSIM_INSTALL_FONTS", "0")
    import starsim as ss

    from fangkong.sim.city import build_city
    from fangkong.sim.params import Disease

    city = build_city(agents, seed=seed)
    d = Disease()
    h = d.per_pair_daily_hazard()
    rng = np.random.default_rng(seed)
    # Household cliques.
    hh_start = np.r_[0, np.cumsum(city.household_size)]
    p1s, p2s = [], []
    for size in range(2, int(city.household_size.max()) + 1):
        hs = np.flatnonzero(city.household_size == size)
        for i in range(size):
            for j in range(i + 1, size):
                p1s.append(hh_start[hs] + i)
                p2s.append(hh_start[hs] + j)
    household = _static_net(np.concatenate(p1s), np.concatenate(p2s), h)
    wp1, wp2 = _group_edges(city.workplace, 8, rng)
    sp1, sp2 = _group_edges(city.school, 8, rng)
    work = _static_net(np.r_[wp1, sp1], np.r_[wp2, sp2], d.work_relative)
    seir = ss.SEIR(beta=ss.perday(h), dur_exp=ss.lognorm_ex(ss.days(d.latent_mean)),
                   dur_inf=ss.lognorm_ex(ss.days(d.asymptomatic_infectious_days)),
                   init_prev=ss.bernoulli(10 / agents))
    stop = np.datetime64("2022-05-01") + np.timedelta64(days, "D")
    t0 = time.perf_counter()
    sim = ss.Sim(n_agents=agents, networks=[household, work, ss.RandomNet(n_contacts=4, dur=0)],
                 diseases=seir, start="2022-05-01", stop=str(stop), dt=ss.days(1), verbose=0,
                 rand_seed=seed)
    sim.init()
    init = time.perf_counter() - t0
    t0 = time.perf_counter()
    sim.run()
    run = time.perf_counter() - t0
    return {"init_seconds": init, "seconds": run, "agent_days_per_s": agents * days / run,
            "infected": int(np.nansum(sim.results.seir.new_infections))}


def part_platform(agents: int, days: int, seed: int,
                  strategy_name: str = "baseline") -> dict[str, float]:
    tmp = Path(tempfile.mkdtemp(prefix="fangkong-bench-drill-"))
    os.environ["FANGKONG_DATA_DIR"] = str(tmp)
    os.environ["FANGKONG_DATABASE_URL"] = f"sqlite:///{tmp / 'drill.db'}"
    from fangkong.core.auth import system_actor
    from fangkong.core.db import get_engine, session_scope
    from fangkong.core.migrate import upgrade
    from fangkong.drill import service, strategy
    from fangkong.geo import service as geo

    engine = get_engine()
    upgrade(engine)
    with session_scope(engine) as session:
        geo.load(session, province="44")
    base = strategy.load(service.shipped(strategy_name)).model_copy(
        update={"agents": agents, "days": days, "seed": seed})
    t0 = time.perf_counter()
    with session_scope(engine) as session:
        runs = service.run(session, actor=system_actor(source="bench"), strategies=[base],
                           out=tmp / "out")
    run = time.perf_counter() - t0
    rows = runs[0].rows
    return {"seconds": run, "agent_days_per_s": agents * days / run,
            "infected": rows[-1]["cumulative_infections"],
            "cases": sum(r["new_detected"] for r in rows),
            "contacts": sum(r["contacts_identified"] for r in rows), **runs[0].platform}


def child(part: str, agents: int, days: int, seed: int, strategy_name: str) -> None:
    if part == "platform":
        out = part_platform(agents, days, seed, strategy_name)
    else:
        out = {"engine": part_engine, "starsim": part_starsim}[part](agents, days, seed)
    out["peak_rss_mb"] = _rss_mb()
    # the machine's load when the part ended (1, 5, 15 minutes): a shared machine's figures
    # are slower than a quiet one's
    out["load_1_5_15"] = "/".join(f"{x:.1f}" for x in os.getloadavg())
    print(json.dumps(out))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--agents", default="100000,1000000")
    ap.add_argument("--days", type=int, default=60)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--parts", default=",".join(PARTS))
    ap.add_argument("--strategy", default="baseline",
                    help="shipped strategy of the platform part (baseline, no-response, scarce)")
    ap.add_argument("--child", choices=PARTS)
    args = ap.parse_args()
    sizes = [int(a) for a in args.agents.split(",")]
    if args.child:
        child(args.child, sizes[0], args.days, args.seed, args.strategy)
        return
    for n in sizes:
        figures: dict[str, dict[str, float]] = {}
        for part in args.parts.split(","):
            proc = subprocess.run([sys.executable, __file__, "--child", part, "--agents", str(n),
                                   "--days", str(args.days), "--seed", str(args.seed),
                                   "--strategy", args.strategy],
                                  capture_output=True, text=True, check=False)
            if proc.returncode != 0:
                print(f"{n:>9,} agents  {part:<8} failed: {proc.stderr.strip()[-300:]}")
                continue
            figures[part] = json.loads(proc.stdout.strip().splitlines()[-1])
            f = figures[part]
            print(f"{n:>9,} agents  {part:<8} {f['agent_days_per_s']:>12,.0f} agent-days/s  "
                  f"{f['seconds']:8.1f} s  peak {f['peak_rss_mb']:7,.0f} MB  "
                  + "  ".join(f"{k} {v:,.0f}" if isinstance(v, int | float) else f"{k} {v}"
                              for k, v in f.items()
                              if k not in ("agent_days_per_s", "seconds", "peak_rss_mb")),
                  flush=True)
        if "engine" in figures:
            base = figures["engine"]["agent_days_per_s"]
            for part in ("starsim", "platform"):
                if part in figures:
                    print(f"{n:>9,} agents  ratio {part}/engine: "
                          f"{figures[part]['agent_days_per_s'] / base:.3f}", flush=True)


if __name__ == "__main__":
    main()
