"""Pure arithmetic of mass testing: Dorfman pool-size advice, the sampling planner of the
regional testing guide, and the round stop rule. No database."""

from __future__ import annotations

import math
from datetime import date, timedelta

from fangkong.core.errors import Invalid
from fangkong.policy.testing_rules import Testing
from fangkong.testing.messages import T
from fangkong.testing.schemas import Advice, PoolOption, SeriesAdvice


def tests_per_person(prevalence: float, size: int) -> float:
    """Expected tests per person under Dorfman two-stage pooling with pools of ``size``:
    one pool test shared by ``size`` people, plus ``size`` single re-tests whenever the pool is
    positive (probability ``1 - (1-p)^size``). A single tube (size 1) needs exactly one."""
    if size == 1:
        return 1.0
    return 1.0 / size + 1.0 - (1.0 - prevalence) ** size


def advise(rules: Testing, pack: str, *, prevalence: float, population: int,
           lab_capacity_per_day: int | None) -> Advice:
    """The expected tests per person for each pool size the pack allows, the best one, and the
    tests (reagent) and lab hours a round of ``population`` people needs."""
    if not 0 <= prevalence < 1:
        raise Invalid(T("prevalence"))
    if population < 0:
        raise Invalid(T("population"))
    options = []
    for size in sorted(set(rules.pooling.allowed_sizes)):
        per = tests_per_person(prevalence, size)
        tests = math.ceil(per * population)
        hours = (24.0 * tests / lab_capacity_per_day) if lab_capacity_per_day else None
        options.append(PoolOption(size=size, tests_per_person=round(per, 6), tests=tests,
                                  lab_hours=None if hours is None else round(hours, 2)))
    best = min(options, key=lambda o: (o.tests_per_person, -o.size))
    return Advice(pack=pack, prevalence=prevalence, population=population,
                  best_size=best.size, options=options)


def points_and_samplers(rules: Testing, population: int) -> tuple[tuple[int, int], int]:
    """Collection points (a range: one per 2,000-3,000 people) and samplers (population / 360)
    the guide asks for."""
    low, high = rules.planning.people_per_point
    points = (math.ceil(population / high), math.ceil(population / low))
    return points, math.ceil(population / rules.planning.people_per_sampler)


def hours_needed(rules: Testing, population: int, samplers: int) -> float | None:
    """How long sampling takes with ``samplers`` people at the guide's rate (its persons per
    sampler over its campaign hours); None without samplers."""
    if samplers <= 0:
        return None
    per_hour = rules.planning.people_per_sampler / rules.planning.campaign_hours
    return round(population / (samplers * per_hour), 2)


def series_advice(rules: Testing, pack: str, series: str,
                  rounds: list[tuple[date, int]]) -> SeriesAdvice:
    """The stop rule over a series of rounds, given each round's day and its community
    infections: daily rounds until ``clean_rounds`` in a row find none, then one more after
    ``final_after_days``; if that one is clean too, rounds may stop."""
    rule = rules.stop_rule
    rounds = sorted(rounds)
    if not rounds:
        raise Invalid(T("series_empty", series=repr(series)))
    streak = 0
    for _, infections in reversed(rounds):
        if infections:
            break
        streak += 1
    last = rounds[-1][0]
    if streak < rule.clean_rounds:
        return SeriesAdvice(pack=pack, series=series, rounds=len(rounds), clean_streak=streak,
                            next_round_on=last + timedelta(days=rule.interval_days),
                            may_stop=False,
                            reason=f"{streak} of {rule.clean_rounds} consecutive rounds without "
                                   "community infections: keep testing daily")
    clean = [d for d, _ in rounds[len(rounds) - streak:]]
    third = clean[rule.clean_rounds - 1]
    final_on = third + timedelta(days=rule.final_after_days)
    if any(d >= final_on for d in clean[rule.clean_rounds:]):
        return SeriesAdvice(pack=pack, series=series, rounds=len(rounds), clean_streak=streak,
                            next_round_on=None, may_stop=True,
                            reason=f"{rule.clean_rounds} clean rounds and a clean round "
                                   f"{rule.final_after_days} days later: rounds may stop")
    return SeriesAdvice(pack=pack, series=series, rounds=len(rounds), clean_streak=streak,
                        next_round_on=final_on, may_stop=False,
                        reason=f"{rule.clean_rounds} clean rounds: one more round "
                               f"{rule.final_after_days} days after the last of them")
