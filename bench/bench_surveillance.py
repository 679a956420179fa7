"""Benchmark: Rt and every aberration detector over every division of a 7-million city.

Zhanjiang (湛江, 4408): 6,981,236 residents (7th census), 1,992 villages and communities
(``src/fangkong/geo/data/villages-zhanjiang.csv``) in 120-odd towns. For every division the
benchmark synthesises, with a fixed seed,

- a year of daily case counts from a renewal process (serial interval mean 5.2 d, sd 2.8 d;
  R falling from 1.4 to 0.7 and rising again), seeded by a few imported cases;
- a year of daily sentinel counts (pharmacy sales of cough medicine: weekday pattern,
  population-proportional level, outbreak bumps), plus 14 days of history;
- six years of weekly sentinel counts with a yearly season (five years of history for
  Farrington, the last 52 weeks evaluated);

and times, all series of a kind at once (``fangkong.analytics``):

1. Rt (EpiEstim's method, weekly sliding windows, mean, sd and the 7 quantiles);
2. growth rate and doubling time over the last 14 days of each division;
3. EARS C1, C2, C3 (alpha 0.05) on the 365 daily points;
4. Farrington (``algo.farrington``, b=5, w=3) and farringtonFlexible with the package
   vignette's "original" and "Noufaily" configurations (b=4, w=3) on the last 52 weeks.

Baseline, in the same process: the same functions called one division at a time (the way a
caller without batching would use them) on ``--baseline-sample`` divisions, scaled to all
divisions; the ratio says how much faster the batched run is. Results of the two are checked
to be equal.

Usage: ``flock /tmp/fangkong-bench.lock .venv/bin/python bench/bench_surveillance.py
[--level village|town] [--threads 1]``; see bench/README.md.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
POPULATION = 6_981_236  # 湛江市, census 2020 (src/fangkong/geo/data/population-seed.csv)
SI_MEAN, SI_SD = 5.2, 2.8


def divisions(level: str) -> list[str]:
    path = ROOT / "src/fangkong/geo/data/villages-zhanjiang.csv"
    with path.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    codes = [r["code"] if level == "village" else r["streetCode"] for r in rows]
    return sorted(set(codes))


def synthesise(n: int, days: int, weeks: int, seed: int) -> dict[str, Any]:
    import numpy as np

    from fangkong.analytics.rt import discr_si

    rng = np.random.default_rng(seed)
    share = rng.lognormal(0.0, 0.6, n)
    pop = POPULATION * share / share.sum()
    si = discr_si(np.arange(days), SI_MEAN, SI_SD)
    t = np.arange(days)
    r_t = np.where(t < 90, 1.4, np.where(t < 200, 0.7, 1.15))
    local = np.zeros((n, days))
    imported = np.zeros((n, days))
    imported[:, :10] = rng.poisson(0.3 * pop[:, None] / pop.mean(), (n, 10))
    total = imported.copy()
    for d in range(1, days):
        lam = total[:, :d][:, ::-1] @ si[1:d + 1]
        local[:, d] = rng.poisson(np.minimum(r_t[d] * lam, 1e6))
        total[:, d] = local[:, d] + imported[:, d]
    weekday = np.array([1.0, 0.95, 0.95, 1.0, 1.1, 1.3, 1.2])
    start = date(2022, 1, 3)
    dow = np.array([(start + timedelta(days=int(i))).weekday() for i in range(-14, days)])
    base = pop[:, None] / 400.0 * weekday[dow][None, :]
    bumps = (rng.random((n, days + 14)) < 0.01) * rng.uniform(1.5, 3.0, (n, days + 14))
    sales = rng.poisson(base * np.maximum(bumps, 1.0)).astype(float)
    wk = np.arange(weeks)
    season = 1.0 + 0.5 * np.cos(2 * np.pi * (wk % 52) / 52.0)
    weekly = rng.poisson(pop[:, None] / 2000.0 * season[None, :]).astype(float)
    week_dates = [date(2017, 1, 2) + timedelta(weeks=int(i)) for i in wk]
    return {"local": local, "imported": imported, "sales": sales, "weekly": weekly,
            "week_dates": week_dates}


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--level", choices=["village", "town"], default="village")
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--baseline-sample", type=int, default=40)
    ap.add_argument("--seed", type=int, default=2022)
    ap.add_argument("--threads", type=int, default=1,
                    help="BLAS threads (tiny matrices: 1 is fastest; set before numpy loads)")
    args = ap.parse_args()
    os.environ["OPENBLAS_NUM_THREADS"] = os.environ["OMP_NUM_THREADS"] = str(args.threads)
    sys.path.insert(0, str(ROOT / "src"))
    import numpy as np

    from fangkong.analytics.ears import ears
    from fangkong.analytics.farrington import farrington, farrington_flexible
    from fangkong.analytics.growth import growth_rate
    from fangkong.analytics.rt import estimate_rt, estimate_rt_batch

    codes = divisions(args.level)
    n, days, weeks = len(codes), args.days, 6 * 52
    t_syn, data = timed(lambda: synthesise(n, days, weeks, args.seed))
    print(f"Zhanjiang, {n:,} {args.level}s, {POPULATION:,} residents; {days} days daily, "
          f"{weeks} weeks weekly; synthetic data made in {t_syn:.1f} s")
    sample = np.linspace(0, n - 1, min(args.baseline_sample, n)).astype(int)
    scale = n / sample.size
    local, imported, sales, weekly = (data["local"], data["imported"], data["sales"],
                                      data["weekly"])
    wdates = data["week_dates"]
    ev_days = list(range(15, days + 15))
    ev_weeks = list(range(weeks - 51, weeks + 1))
    orig = {"no_periods": 1, "b": 4, "w": 3, "weights_threshold": 1.0,
            "past_weeks_not_included": 3, "p_threshold_trend": 0.05,
            "threshold_method": "delta"}
    nouf = {"no_periods": 10, "b": 4, "w": 3, "weights_threshold": 2.58,
            "past_weeks_not_included": 26, "p_threshold_trend": 1.0,
            "threshold_method": "nbPlugin"}

    def rt_all() -> Any:
        b = estimate_rt_batch(local, imported, si_mean=SI_MEAN, si_sd=SI_SD)
        return b.mean, [b.quantile(q) for q in (0.025, 0.05, 0.25, 0.5, 0.75, 0.95, 0.975)]

    def rt_one(i: int) -> Any:
        return estimate_rt(local[i], imported[i], si_mean=SI_MEAN, si_sd=SI_SD).mean

    def growth_one(i: int) -> Any:
        counts = local[i, -14:] + imported[i, -14:]
        return growth_rate(counts).r if counts.sum() > 0 else np.nan

    steps: list[tuple[str, int, Callable[[], Any], Callable[[int], Any]]] = [
        ("Rt (EpiEstim, weekly windows)", days - 7, rt_all, rt_one),
        ("growth rate, last 14 days", 1,
         lambda: [growth_one(i) for i in range(n)], growth_one),
    ]
    for m in ("C1", "C2", "C3"):
        steps.append((f"EARS {m}", days,
                      lambda m=m: ears(sales, method=m, alpha=0.05, range_=ev_days),
                      lambda i, m=m: ears(sales[i], method=m, alpha=0.05, range_=ev_days)))
    steps += [
        ("Farrington (b=5, w=3)", 52,
         lambda: farrington(weekly, range_=ev_weeks),
         lambda i: farrington(weekly[i], range_=ev_weeks)),
        ("farringtonFlexible original", 52,
         lambda: farrington_flexible(weekly, dates=wdates, range_=ev_weeks, **orig),
         lambda i: farrington_flexible(weekly[i], dates=wdates, range_=ev_weeks, **orig)),
        ("farringtonFlexible Noufaily", 52,
         lambda: farrington_flexible(weekly, dates=wdates, range_=ev_weeks, **nouf),
         lambda i: farrington_flexible(weekly[i], dates=wdates, range_=ev_weeks, **nouf)),
    ]
    print(f"\n{'step':34s} {'batched s':>10s} {'points/s':>12s} {'one-by-one s':>13s} "
          f"{'ratio':>7s}")
    total_b = total_1 = 0.0
    for name, points, batched, one in steps:
        tb, out = timed(batched)
        t1, singles = timed(lambda one=one: [one(int(i)) for i in sample])
        t1 *= scale
        _check(name, out, singles, sample)
        total_b += tb
        total_1 += t1
        print(f"{name:34s} {tb:10.2f} {n * points / tb:12,.0f} {t1:13.1f} {t1 / tb:6.1f}x")
    print(f"{'total':34s} {total_b:10.2f} {'':12s} {total_1:13.1f} {total_1 / total_b:6.1f}x")
    print(f"(one-by-one: {sample.size} divisions timed, scaled by {scale:.1f} to all {n})")


def _check(name: str, out: Any, singles: list[Any], sample: Any) -> None:
    """The batched and the one-by-one results must agree on the sampled divisions."""
    import numpy as np

    for k, i in enumerate(sample):
        if name.startswith("Rt"):
            a, b = out[0][i], singles[k]
            a = a[~np.isnan(a)]
        elif name.startswith("growth"):
            a, b = np.array(out[i]), np.array(singles[k])
        else:
            a, b = out.upperbound[i], singles[k].upperbound[0]
        if not np.allclose(a, b, rtol=1e-9, atol=1e-9, equal_nan=True):
            raise SystemExit(f"{name}: batched and one-by-one results differ at {i}")


if __name__ == "__main__":
    main()
