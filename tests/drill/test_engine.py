from __future__ import annotations

import numpy as np

from fangkong.sim.city import build_city
from fangkong.sim.engine import NEVER, Engine
from fangkong.sim.params import Disease


def test_household_attack_rate_matches_the_cited_omicron_figure() -> None:
    """Symptomatic index cases of two-person households, everyone kept home: the partner is
    infected about as often as the household SAR the engine is calibrated on (42.7%)."""
    city = build_city(40_000, seed=1)
    engine = Engine(city, seed=1)
    starts = np.r_[0, np.cumsum(city.household_size)][:-1]
    index = starts[city.household_size == 2]
    engine.infect(index, 0)
    home, out = np.ones(city.n, dtype=bool), np.zeros(city.n, dtype=bool)
    for t in range(25):
        engine.step(t, home=home, out=out, weekday=True)
    symptomatic = index[engine.t_onset[index] != NEVER]
    partner_infected = engine.infected[symptomatic + 1]
    assert symptomatic.size > 2000
    assert abs(partner_infected.mean() - Disease().household_sar) < 0.05
    # Asymptomatic index cases infect fewer.
    asymptomatic = index[engine.t_onset[index] == NEVER]
    assert engine.infected[asymptomatic + 1].mean() < partner_infected.mean() - 0.1


def test_people_in_a_facility_neither_infect_nor_are_infected() -> None:
    city = build_city(5000, seed=2)
    engine = Engine(city, seed=2)
    sick = np.arange(0, city.n, 10)
    engine.infect(sick, 0)
    home = np.zeros(city.n, dtype=bool)  # everyone in a facility
    for t in range(15):
        day = engine.step(t, home=home, out=home, weekday=True)
        assert day.new.size == 0 and day.checkins.person.size == 0


def test_check_ins_come_only_from_people_out() -> None:
    city = build_city(5000, seed=3)
    engine = Engine(city, seed=3)
    home = np.ones(city.n, dtype=bool)
    out = np.zeros(city.n, dtype=bool)
    out[: city.n // 2] = True
    day = engine.step(0, home=home, out=out, weekday=True)
    assert day.checkins.person.size > 0 and (day.checkins.person < city.n // 2).all()
    kinds = city.venue_kind[day.checkins.venue]
    assert set(np.unique(kinds)) == set(range(len(city.venue_kinds)))
    # A visit is to a venue of the visitor's own district.
    assert (city.venue_district[day.checkins.venue] == city.district[day.checkins.person]).all()
