"""Benchmark: Rt with an uncertain serial interval, R's draws against numpy's.

``estimate_rt_uncertain_si`` draws with R's generator by default (the numbers equal
EpiEstim's); ``generator="numpy"`` takes the same steps with numpy's vectorised draws. This
times both, in the same process, on

1. EpiEstim's Example 4 (Flu2009, 32 days, 25 windows, n1 = n2 = 100: 250,000 draws of R);
2. a year of daily cases of one division (365 days, weekly windows, EpiEstim's defaults
   n1 = 500, n2 = 50: about 9 million draws of R), synthesised from a renewal process with a
   fixed seed (serial interval mean 5.2 d, sd 2.8 d).

The ratio is R's generator against numpy's (the baseline). It also prints the cost of R's
generator per gamma draw.

Usage: ``flock /tmp/fangkong-bench.lock .venv/bin/python bench/bench_rt_uncertain.py
[--repeat 3]``
"""

from __future__ import annotations

import argparse
import csv
import time
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from fangkong.analytics.rrandom import RRandom
from fangkong.analytics.rt import discr_si, estimate_rt_uncertain_si

DATA = Path(__file__).resolve().parent.parent / "tests" / "surveillance" / "data"
EX4: dict[str, Any] = {
    "mean_si": 2.6, "std_mean_si": 1, "min_mean_si": 1, "max_mean_si": 4.2, "std_si": 1.5,
    "std_std_si": 0.5, "min_std_si": 0.5, "max_std_si": 2.5, "n1": 100, "n2": 100,
    "t_start": range(2, 27), "t_end": range(8, 33)}
YEAR: dict[str, Any] = {
    "mean_si": 5.2, "std_mean_si": 0.5, "min_mean_si": 4.0, "max_mean_si": 6.5, "std_si": 2.8,
    "std_std_si": 0.4, "min_std_si": 1.8, "max_std_si": 3.8, "n1": 500, "n2": 50}


def flu() -> list[int]:
    with (DATA / "epiestim_flu2009_incidence.csv").open() as fh:
        return [int(r["I"]) for r in csv.DictReader(fh)]


def year_of_cases(seed: int = 7) -> np.ndarray:
    rng = np.random.default_rng(seed)
    w = discr_si(np.arange(365), 5.2, 2.8)
    r = np.interp(np.arange(365), [0, 120, 240, 364], [1.4, 0.8, 1.3, 0.9])
    cases = np.zeros(365)
    cases[:3] = [5, 3, 4]
    for t in range(3, 365):
        lam = float(np.dot(cases[t - 1::-1][: t], w[1 : t + 1]))
        cases[t] = rng.poisson(r[t] * lam)
    return cases


def best(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=3, help="runs per figure (the best is kept)")
    args = ap.parse_args()
    cases = year_of_cases()
    print(f"year series: {int(cases.sum()):,} cases over 365 days, peak {int(cases.max())}/day")
    for name, series, cfg in (("Example 4", flu(), EX4), ("one year", cases, YEAR)):
        runs = {}
        for gen in ("numpy", "r"):
            runs[gen] = best(partial(estimate_rt_uncertain_si, series, seed=1, generator=gen,
                                     **cfg), args.repeat)
        res = estimate_rt_uncertain_si(series, seed=1, **cfg)
        draws = len(res.t_start) * cfg["n1"] * cfg["n2"]
        print(f"{name}: ~{draws:,} draws of R; numpy {runs['numpy']:.3f} s, "
              f"R's generator {runs['r']:.3f} s, ratio {runs['r'] / runs['numpy']:.1f}x")
    stream = RRandom(1)
    n = 2_000_000
    t0 = time.perf_counter()
    stream.rgamma(n, 25.0, 0.05)
    per = (time.perf_counter() - t0) / n
    t0 = time.perf_counter()
    np.random.default_rng(1).standard_gamma(25.0, size=n)
    per_np = (time.perf_counter() - t0) / n
    print(f"rgamma(shape 25): R's generator {per * 1e9:.0f} ns/draw, numpy "
          f"{per_np * 1e9:.0f} ns/draw, ratio {per / per_np:.0f}x")


if __name__ == "__main__":
    main()
