from __future__ import annotations

import json
from importlib import resources

import numpy as np
import shapely
from shapely.geometry import shape

from fangkong.sim.city import build_city


def test_same_seed_same_city_and_another_seed_another() -> None:
    a, b, c = build_city(3000, seed=5), build_city(3000, seed=5), build_city(3000, seed=6)
    for field in ("household", "village", "age", "school", "workplace", "favourite",
                  "venue_lon"):
        assert np.array_equal(getattr(a, field), getattr(b, field), equal_nan=True)
    assert not np.array_equal(a.village, c.village)


def test_people_follow_the_population_figures_and_households() -> None:
    city = build_city(60_000, seed=1)
    assert city.n == 60_000 and city.name == "湛江市" and city.real_population == 6_981_236
    assert 2.5 < city.household_size.mean() < 2.7 and city.household_size.sum() == city.n
    share = np.bincount(city.district) / city.n
    lianjiang = city.district_codes.index("440881")  # 1,366,900 of 7,030,900 (year-end 2021)
    assert abs(share[lianjiang] - 1_366_900 / 7_030_900) < 0.01
    assert all(v.startswith(city.district_codes[d]) for v, d in
               zip(city.village_codes[city.village[:500]], city.district[:500], strict=True))
    # Every household has an adult; pupils go to a school of their own town.
    first = np.r_[True, city.household[1:] != city.household[:-1]]
    assert city.age[first].min() >= 20
    pupils = (city.age >= 6) & (city.age <= 17)
    assert (city.school[pupils] >= 0).all()
    assert (city.school_town[city.school[pupils]] == city.town[pupils]).all()
    summary = city.summary()
    assert summary["workplaces"]["port"] > 0 and summary["key_group"] > 0
    assert set(summary["venues"]) == {"market", "supermarket", "restaurant", "clinic",
                                      "station"}


def test_venues_lie_inside_their_real_district() -> None:
    city = build_city(20_000, seed=2)
    data = json.loads((resources.files("fangkong.geo") / "data" /
                       "zhanjiang-districts.geojson").read_text("utf-8"))
    geoms = {str(f["properties"]["adcode"]): shape(f["geometry"]) for f in data["features"]}
    for d, code in enumerate(city.district_codes):
        mine = city.venue_district == d
        assert shapely.contains_xy(geoms[code], city.venue_lon[mine], city.venue_lat[mine]).all()


def test_id_ranks_are_unique_within_county_birth_year_and_sex() -> None:
    city = build_city(30_000, seed=3)
    key = ((city.district.astype(np.int64) * 200 + city.age) * 2 + city.female) * 10**6 \
        + city.id_rank
    assert np.unique(key).size == city.n
