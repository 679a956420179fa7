"""Capacity as a real city scales it: mobile labs sent for when the city's lab falls behind
clear its backlog once they arrive; the report names a capacity as what limited the response
only on days it truly ran out. And why the slow-tracing strategy can come out with fewer
infections than the baseline at the comparison's scale."""

from __future__ import annotations

from typing import Any

from fangkong.drill.loop import COLUMNS, Drill
from fangkong.drill.service import shipped
from fangkong.drill.strategy import Strategy, load
from fangkong.drill.verdicts import bottleneck, verdict
from fangkong.sim.city import build_city

# A city lab far too small for its outbreak (5 tubes a day at 5,000 agents), mobile labs of
# 3,000 tubes a day per 100,000 residents three days after it first falls behind.
SCARCE_LAB = {"agents": 5000, "days": 20, "seed": 3}
LAB = {"lab_tubes": 100, "mobile_lab_days": 3}


def _run(mobile: float) -> tuple[Drill, list[dict[str, Any]], list[str]]:
    s = Strategy.model_validate({**SCARCE_LAB, "capacity": {**LAB, "mobile_lab_tubes": mobile}})
    drill = Drill(s)
    rows = drill.run_all().rows
    return drill, rows, verdict(rows, s).bottleneck


def test_mobile_labs_arrive_after_the_lab_falls_behind_and_the_backlog_clears() -> None:
    drill, rows, limits = _run(3000)
    behind = next(r["day"] for r in rows if r["lab_backlog"] > 0)  # sent for that day
    arrive = behind + 3
    assert drill.responder.lab.mobile_from == arrive
    # the city's lab alone until they arrive (5 tubes a day), then 155 a day
    assert {r["lab_capacity"] for r in rows[:arrive]} == {5}
    assert {r["lab_capacity"] for r in rows[arrive:]} <= {155, 156}
    assert all(rows[d]["lab_backlog"] > 0 for d in range(behind, arrive))
    # the backlog clears once capacity allows, and stays clear
    assert all(r["lab_backlog"] == 0 for r in rows[arrive:])
    assert all(r["tests_used"] <= r["lab_capacity"] for r in rows)
    # without them the same outbreak's backlog only grows (the same days up to their arrival)
    _, alone, alone_limits = _run(0)
    assert [r["lab_backlog"] for r in alone[:arrive]] == [r["lab_backlog"]
                                                          for r in rows[:arrive]]
    assert all(r["lab_backlog"] > rows[arrive - 1]["lab_backlog"] for r in alone[arrive:])
    assert alone_limits.count("lab") > limits.count("lab") > 0


def test_the_lab_limits_the_response_only_on_days_it_used_every_tube() -> None:
    for mobile in (3000, 0):
        _, rows, limits = _run(mobile)
        for row, limit in zip(rows, limits, strict=True):
            if limit == "lab":
                assert row["lab_backlog"] > 0 and row["tests_used"] >= row["lab_capacity"]
    s = load(shipped("baseline")).model_copy(update={"agents": 100_000})
    row: dict[str, Any] = dict.fromkeys(COLUMNS, 0)
    row.update(tasks_due="", tasks_on_time="", lab_backlog=100_000, lab_capacity=2000)
    assert bottleneck({**row, "tests_used": 2000}, s) == "lab"  # every tube used, work left
    # the same backlog on a day with tubes to spare (samples taken after the lab's day) is
    # not the lab's shortfall
    assert bottleneck({**row, "tests_used": 1200}, s) == "none"
    # the day's capacity counts, the mobile labs' too: 20,000 tubes clear 100,000 samples
    assert bottleneck({**row, "tests_used": 20_000, "lab_capacity": 20_000}, s) == "none"


def test_slow_tracing_loses_to_the_baseline_once_lockdowns_do_not_decide() -> None:
    """Why `slow-tracing` (3 tracers per 100,000) came out with fewer infections than the
    baseline (10) in the demo's comparison (10,000 agents, seeds 1-3): not a bug. At that
    scale both strategies' tracers (1 and 0.3 cases a day) are swamped by the outbreak's ten
    first infections within days (tracing limits the response on most days of both), and with
    high-risk zones locked down the course is decided by which towns are locked when; the
    medians of three seeds fall either way, and the comparison shows the difference as within
    the seed-to-seed spread. Without the lockdown, the same seeds show what a third of the
    tracers costs: more infections on every seed."""
    agents, days = 10_000, 60
    for seed in (1, 2, 3):
        city = build_city(agents, seed=seed)
        infections, traced_limits = {}, {}
        for name in ("baseline", "slow-tracing"):
            s = load(shipped(name))
            s = s.model_copy(update={"seed": seed, "agents": agents, "days": days,
                                     "response": s.response.model_copy(
                                         update={"lockdown_high_risk": False})})
            rows = Drill(s, city=city).run_all().rows
            infections[name] = rows[-1]["cumulative_infections"]
            traced_limits[name] = verdict(rows, s).bottleneck.count("tracing")
        assert infections["slow-tracing"] > infections["baseline"], (seed, infections)
        assert min(traced_limits.values()) > days // 2, (seed, traced_limits)
