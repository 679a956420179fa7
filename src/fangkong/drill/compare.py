"""Strategies compared with uncertainty (`fangkong drill compare`).

Each strategy runs over the same seeds (the same synthetic cities, the same first infections)
in the fast mode (:class:`~fangkong.drill.capacity.CapacityResponder`, no database), in
parallel processes. For each verdict the comparison gives the median over the seeds and the
90 % band (5th to 95th percentile), and, against the first strategy (the reference), whether
the difference is larger than the seed-to-seed spread: the 90 % band of the differences paired
by seed (same city, same outbreak) excludes zero.
"""

from __future__ import annotations

import html
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from fangkong.core.messages import DEFAULT_LANG, render
from fangkong.core.tabular import csv_writer
from fangkong.drill.messages import D, strategy_name
from fangkong.drill.strategy import Strategy
from fangkong.drill.verdicts import verdict

# The shipped strategies a comparison runs unless told otherwise.
SHIPPED = ("baseline", "no-area-rounds", "slow-tracing", "scarce", "who")
# The verdicts compared, and whether lower is better.
COMPARED = {"infections": True, "time_to_control_days": True, "peak_room_demand": True,
            "peak_bed_demand": True, "found_among_contacts_share": False,
            "bottleneck_days_tracing": True}


def one(strategy: Strategy) -> dict[str, Any]:
    """One strategy at one seed (in a worker process): its verdicts' figures. A drill never
    controlled counts as controlled the day after its end (a lower bound)."""
    from fangkong.drill.loop import Drill  # in the worker

    run = Drill(strategy).run_all()
    figures = verdict(run.rows, strategy).figures()
    if figures["time_to_control_days"] is None:
        figures["time_to_control_days"] = strategy.days + 1
        figures["not_controlled"] = 1
    return figures


@dataclass
class Row:
    strategy: str
    metric: str
    median: float
    low: float   # 5th percentile over the seeds
    high: float  # 95th percentile
    diff_low: float | None = None   # the 90 % band of the paired differences (vs reference)
    diff_high: float | None = None

    @property
    def beyond_spread(self) -> bool | None:
        if self.diff_low is None or self.diff_high is None:
            return None
        return self.diff_low > 0 or self.diff_high < 0


def run(strategies: list[Strategy], seeds: list[int], *, jobs: int | None = None) -> list[Row]:
    """Every strategy at every seed, in ``jobs`` processes (default: the CPUs)."""
    work = [s.model_copy(update={"seed": seed}) for s in strategies for seed in seeds]
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(work)))
    if jobs == 1:
        results = [one(w) for w in work]
    else:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            results = list(pool.map(one, work))
    n = len(seeds)
    table = {s.name: results[k * n:(k + 1) * n] for k, s in enumerate(strategies)}
    return summarise(table)


def summarise(table: dict[str, list[dict[str, Any]]]) -> list[Row]:
    """Medians and bands of each strategy's figures (a list per seed, in the same seed order
    for every strategy); differences paired by seed against the first strategy."""
    names = list(table)
    rows = []
    for metric in COMPARED:
        values = {name: np.array([np.nan if f.get(metric) is None else float(f[metric])
                                  for f in table[name]]) for name in names}
        ref = values[names[0]]
        for name in names:
            v = values[name]
            if np.isnan(v).all():
                continue
            low, med, high = np.nanpercentile(v, [5, 50, 95])
            row = Row(name, metric, float(med), float(low), float(high))
            if name != names[0]:
                d = v - ref
                if not np.isnan(d).all():
                    dl, dh = np.nanpercentile(d, [5, 95])
                    row.diff_low, row.diff_high = float(dl), float(dh)
            rows.append(row)
    return rows


def write_csv(rows: list[Row], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv_writer(fh)
        writer.writerow(["strategy", "metric", "median", "p5", "p95", "diff_p5", "diff_p95",
                         "beyond_spread"])
        for r in rows:
            writer.writerow([r.strategy, r.metric, r.median, r.low, r.high,
                             "" if r.diff_low is None else r.diff_low,
                             "" if r.diff_high is None else r.diff_high,
                             "" if r.beyond_spread is None else r.beyond_spread])


def _fmt(metric: str, x: float) -> str:
    return f"{x:.0%}" if metric.endswith("_share") else f"{x:,.0f}"


def to_html(rows: list[Row], *, seeds: int, agents: int, days: int,
            lang: str = DEFAULT_LANG) -> str:
    """The comparison as a report section: one table per verdict."""
    def say(key: str, **params: object) -> str:
        return D(key, **params).render(lang)

    def named(strategy: str) -> str:
        return str(render(strategy_name(strategy), lang))

    esc = html.escape
    parts = [f"<h2>{esc(say('compare.title'))}</h2>",
             f"<p>{esc(say('compare.intro', seeds=seeds, agents=f'{agents:,}', days=days))}"
             "</p>"]
    for metric in COMPARED:
        mine = [r for r in rows if r.metric == metric]
        if not mine:
            continue
        body = "".join(
            f"<tr><td>{esc(named(r.strategy))}</td><td>{_fmt(metric, r.median)}</td>"
            f"<td>{_fmt(metric, r.low)} – {_fmt(metric, r.high)}</td><td>"
            + ("" if r.beyond_spread is None else esc(say(
                "compare.beyond" if r.beyond_spread else "compare.within")))
            + "</td></tr>" for r in mine)
        vs = say("compare.vs_reference", reference=named(mine[0].strategy))
        parts.append(
            f"<h3>{esc(say('compare.metric.' + metric))}</h3><div class='wide'><table><tr>"
            f"<th>{esc(say('label.strategy'))}</th><th>{esc(say('compare.median'))}</th>"
            f"<th>{esc(say('compare.band'))}</th><th>{esc(vs)}</th></tr>{body}</table></div>")
    return "\n".join(parts)
