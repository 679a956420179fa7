"""A synthetic city on the real divisions of a Chinese city, built with numpy (no per-agent loops).

Seeded: the same seed, size and city give the same city. Divisions, boundaries and population
figures are read from the package's reference data (``fangkong/geo/data``, see its SOURCES.md);
nothing here touches a database.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np
import shapely
from shapely.geometry import shape

from fangkong.sim.params import Life

DATA = resources.files("fangkong.geo") / "data"

# Shares of households by size 1..6 (6 = six or more): rounded from China's 7th census (2020),
# whose bulletin No. 2 gives an average of 2.62 persons per family household; the mean of this
# distribution is 2.59.
HOUSEHOLD_SIZES = np.array([1, 2, 3, 4, 5, 6])
HOUSEHOLD_WEIGHTS = np.array([0.25, 0.30, 0.21, 0.13, 0.07, 0.04])
# Age structure, China 7th census bulletin No. 5 (2020): 0-14 17.95%, 15-59 63.35%, 60+ 18.70%
# (65+ 13.50%); 80+ about 2.5% (35.8 million). Bands (from, to inclusive, share).
AGE_BANDS = [(0, 14, 17.95), (15, 59, 63.35), (60, 64, 5.20), (65, 79, 10.96), (80, 99, 2.54)]
# Ports of Zhanjiang (湛江港 in 霞山 and 坡头; 徐闻港/海安港 ferries to Hainan in 徐闻).
PORT_DISTRICTS = {"440803", "440804", "440825"}

WORK_KINDS = ("office", "factory", "shop", "port", "medical", "nursing_home")
KEY_KINDS = ("port", "medical", "nursing_home")  # plus schools: routine testing of key groups


@dataclass
class City:
    seed: int
    code: str
    name: str
    real_population: int
    # divisions
    district_codes: list[str]
    district_names: list[str]
    town_codes: np.ndarray
    town_names: list[str]
    town_district: np.ndarray
    village_codes: np.ndarray
    village_town: np.ndarray
    # people (one row per agent)
    household: np.ndarray
    village: np.ndarray
    town: np.ndarray
    district: np.ndarray
    age: np.ndarray
    female: np.ndarray
    school: np.ndarray      # -1 if none
    workplace: np.ndarray   # -1 if none (teachers: -1 here, school set)
    key_group: np.ndarray   # True: tested routinely (port, medical, nursing home, school staff)
    favourite: np.ndarray   # (agents, venue kinds) usual venue of each kind
    id_rank: np.ndarray     # unique rank within (county, birth year, sex): makes ID numbers
    # places
    household_size: np.ndarray
    school_town: np.ndarray
    workplace_kind: np.ndarray
    workplace_district: np.ndarray
    venue_kinds: list[str]
    venue_kind: np.ndarray
    venue_district: np.ndarray
    venue_lon: np.ndarray
    venue_lat: np.ndarray
    venue_start: np.ndarray  # (kinds, districts + 1) offsets of venues by kind then district

    @property
    def n(self) -> int:
        return int(self.household.size)

    def summary(self) -> dict[str, Any]:
        kinds, counts = np.unique(self.workplace_kind, return_counts=True)
        return {
            "city": f"{self.name} ({self.code})", "agents": self.n, "seed": self.seed,
            "households": int(self.household_size.size),
            "mean_household_size": round(float(self.household_size.mean()), 3),
            "districts": len(self.district_codes), "towns": int(self.town_codes.size),
            "villages": int(self.village_codes.size), "schools": int(self.school_town.size),
            "workplaces": {WORK_KINDS[k]: int(c) for k, c in zip(kinds, counts, strict=True)},
            "venues": {k: int((self.venue_kind == i).sum()) for i, k in
                       enumerate(self.venue_kinds)},
            "key_group": int(self.key_group.sum()),
        }


def _csv(name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO((DATA / name).read_text("utf-8"))))


def _population(city: str) -> tuple[int, dict[str, float]]:
    rows = _csv("population-seed.csv")
    total = next((int(r["population"]) for r in rows if r["adcode"] == f"{city}00"
                  and r["basis"] == "census2020_resident"), 0)
    for basis in ("yearend2021_resident_estimate", "census2020_resident"):
        weights = {r["adcode"]: float(r["population"]) for r in rows
                   if r["basis"] == basis and r["adcode"].startswith(city)
                   and r["adcode"] != f"{city}00"}
        if weights:
            return total, weights
    return total, {}


def census_population(city: str) -> int:
    """The city's resident population at the 2020 census (0 if the data has none)."""
    total = _population(city)[0]
    if not total:
        raise ValueError(f"no census population for city {city} in the reference data")
    return total


def _divisions(city: str) -> tuple[str, list[dict[str, str]], list[dict[str, str]],
                                    dict[str, str]]:
    names = {r["code"]: r["name"] for r in _csv("cities.csv")}
    if city not in names:
        raise ValueError(f"no city {city} in the divisions data")
    districts = [r for r in _csv("areas.csv") if r["code"].startswith(city)]
    province = city[:2]
    towns_file = next((p.name for p in DATA.iterdir() if p.name.startswith("towns-")
                       and any(r["code"].startswith(province) for r in _csv(p.name)[:1])), None)
    towns = [r for r in _csv(towns_file) if r["code"].startswith(city)] if towns_file else []
    villages: list[dict[str, str]] = []
    for p in DATA.iterdir():
        if p.name.startswith("villages-"):
            rows = _csv(p.name)
            if rows and rows[0]["code"].startswith(city):
                villages = rows
    return names[city], districts, towns, {r["code"]: r["name"] for r in districts} | {
        "__villages__": json.dumps([[v["code"], v["streetCode"]] for v in villages])}


def _boundaries(codes: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for p in DATA.iterdir():
        if p.name.endswith(".geojson"):
            for f in json.loads(p.read_text("utf-8"))["features"]:
                code = str(f["properties"]["adcode"])
                if code in codes:
                    out[code] = shape(f["geometry"])  # a later, finer file wins
    return out


def _rank_within(groups: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Each element's rank within its group, in a random order."""
    order = np.lexsort((rng.random(groups.size), groups))
    sorted_groups = groups[order]
    starts = np.flatnonzero(np.r_[True, sorted_groups[1:] != sorted_groups[:-1]])
    counts = np.diff(np.r_[starts, groups.size])
    ranks = np.empty(groups.size, dtype=np.int64)
    ranks[order] = np.arange(groups.size) - np.repeat(starts, counts)
    return ranks


def _ages(rng: np.random.Generator, n: int, adults_only: bool) -> np.ndarray:
    bands = [b for b in AGE_BANDS if not adults_only or b[0] >= 15]
    lo = np.array([max(b[0], 20 if adults_only else 0) for b in bands])
    hi = np.array([b[1] for b in bands])
    p = np.array([b[2] for b in bands])
    pick = rng.choice(len(bands), size=n, p=p / p.sum())
    return (lo[pick] + rng.integers(0, 1 << 30, size=n) % (hi[pick] - lo[pick] + 1)).astype(
        np.int16)


def _points_in(geom: Any, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    minx, miny, maxx, maxy = geom.bounds
    xs: list[np.ndarray] = []
    ys: list[np.ndarray] = []
    got = 0
    while got < n:
        x = rng.uniform(minx, maxx, size=max(64, 3 * (n - got)))
        y = rng.uniform(miny, maxy, size=x.size)
        inside = shapely.contains_xy(geom, x, y)
        xs.append(x[inside])
        ys.append(y[inside])
        got += int(inside.sum())
    return np.concatenate(xs)[:n], np.concatenate(ys)[:n]


def build_city(agents: int, *, seed: int, city: str = "4408", life: Life | None = None) -> City:
    """``agents`` people of ``city`` (a 4-digit division code) placed by the population figures."""
    if agents < 10:
        raise ValueError("a city needs at least 10 agents")
    life = life or Life()
    rng = np.random.default_rng(seed)
    name, districts, towns, extra = _divisions(city)
    total, weights = _population(city)
    district_codes = [d["code"] for d in districts if weights.get(d["code"], 1.0) > 0
                      and (not weights or d["code"] in weights)]
    d_index = {c: i for i, c in enumerate(district_codes)}
    towns = [t for t in towns if t["areaCode"] in d_index]
    town_codes = np.array([t["code"] for t in towns])
    t_index = {c: i for i, c in enumerate(town_codes)}
    town_district = np.array([d_index[t["areaCode"]] for t in towns], dtype=np.int16)
    villages = [v for v in json.loads(extra["__villages__"]) if v[1] in t_index]
    if villages:
        village_codes = np.array([v[0] for v in villages])
        village_town = np.array([t_index[v[1]] for v in villages], dtype=np.int32)
    else:  # no village data for this city: towns stand in for villages
        village_codes, village_town = town_codes.copy(), np.arange(town_codes.size,
                                                                    dtype=np.int32)
    # Village weights: the district's population shared equally among its villages (no
    # village-level figures are published).
    v_district = town_district[village_town]
    per_district = np.bincount(v_district, minlength=len(district_codes))
    d_weight = np.array([weights.get(c, 1.0) for c in district_codes])
    v_weight = d_weight[v_district] / per_district[v_district]

    # Households and people.
    sizes = rng.choice(HOUSEHOLD_SIZES, size=agents // 2 + 10,
                       p=HOUSEHOLD_WEIGHTS / HOUSEHOLD_WEIGHTS.sum())
    ends = np.cumsum(sizes)
    h_count = int(np.searchsorted(ends, agents) + 1)
    sizes = sizes[:h_count].copy()
    sizes[-1] -= int(ends[h_count - 1] - agents)
    household = np.repeat(np.arange(h_count, dtype=np.int32), sizes)
    h_village = rng.choice(village_codes.size, size=h_count, p=v_weight / v_weight.sum())
    village = h_village[household].astype(np.int32)
    town = village_town[village]
    district = town_district[town]
    first = np.r_[True, household[1:] != household[:-1]]
    age = np.where(first, _ages(rng, agents, True), _ages(rng, agents, False))
    female = rng.random(agents) < 0.4876  # 2020 census: 51.24% male

    # Schools: one per ``school_size`` pupils of a town (at least one where there are pupils).
    pupil = (age >= life.school_age[0]) & (age <= life.school_age[1])
    pupils_by_town = np.bincount(town[pupil], minlength=town_codes.size)
    n_schools = np.where(pupils_by_town > 0,
                         np.maximum(1, np.rint(pupils_by_town / life.school_size)), 0).astype(int)
    school_offset = np.r_[0, np.cumsum(n_schools)]
    school = np.full(agents, -1, dtype=np.int32)
    pt = town[pupil]
    school[pupil] = school_offset[pt] + (rng.random(pt.size) * n_schools[pt]).astype(np.int32)
    school_town = np.repeat(np.arange(town_codes.size), n_schools)

    # Teachers: adults of the town, one per ``pupils_per_teacher`` pupils of each school.
    adult = (age >= 18) & (age <= 59)
    employed = adult & (rng.random(agents) < life.employment_rate)
    pupils_by_school = np.bincount(school[pupil], minlength=school_town.size)
    teachers_by_town = np.bincount(school_town, weights=np.ceil(
        pupils_by_school / life.pupils_per_teacher), minlength=town_codes.size)
    cand = np.flatnonzero(employed)
    rank = _rank_within(town[cand], rng)
    teacher = cand[rank < teachers_by_town[town[cand]]]
    t_rank = _rank_within(town[teacher], rng)
    school[teacher] = school_offset[town[teacher]] + t_rank % np.maximum(
        n_schools[town[teacher]], 1)
    employed[teacher] = False

    # Workplaces within each district, log-normal sizes; a share are key places. A share of
    # workers commute to another district, picked by population.
    people_by_d = np.bincount(district, minlength=len(district_codes))
    work_district = district.copy()
    commuter = employed & (rng.random(agents) < life.commuters)
    work_district[commuter] = rng.choice(len(district_codes), size=int(commuter.sum()),
                                         p=people_by_d / people_by_d.sum())
    workplace = np.full(agents, -1, dtype=np.int32)
    kinds_list: list[np.ndarray] = []
    wp_district: list[np.ndarray] = []
    offset = 0
    for d, code in enumerate(district_codes):
        workers = np.flatnonzero(employed & (work_district == d))
        if workers.size == 0:
            continue
        s = np.maximum(1, rng.lognormal(np.log(life.workplace_size_median),
                                        life.workplace_size_sigma,
                                        size=workers.size // 2 + 5).astype(int))
        count = int(np.searchsorted(np.cumsum(s), workers.size) + 1)
        ids = np.repeat(np.arange(count), s[:count])[:workers.size]
        workplace[rng.permutation(workers)] = offset + ids
        port = life.port_share if code in PORT_DISTRICTS else 0.0
        p = np.array([0.35, 0.30, 0.30 - port, port, life.medical_share,
                      life.nursing_home_share])
        kinds_list.append(rng.choice(len(WORK_KINDS), size=count, p=p / p.sum()))
        wp_district.append(np.full(count, d, dtype=np.int16))
        offset += count
    workplace_kind = np.concatenate(kinds_list).astype(np.int8)
    workplace_district = np.concatenate(wp_district)
    # Nursing-home residents: a share of people aged 80+ live in one of their district's homes.
    homes = np.flatnonzero(workplace_kind == WORK_KINDS.index("nursing_home"))
    old = np.flatnonzero((age >= 80) & (rng.random(agents) < life.nursing_home_residents))
    if homes.size:
        by_d = [homes[workplace_district[homes] == d] for d in range(len(district_codes))]
        for d, hs in enumerate(by_d):
            mine = old[district[old] == d]
            if hs.size and mine.size:
                workplace[mine] = hs[rng.integers(0, hs.size, size=mine.size)]
    key_group = np.isin(workplace, np.flatnonzero(np.isin(
        workplace_kind, [WORK_KINDS.index(k) for k in KEY_KINDS]))) & (age < 80)
    key_group[teacher] = True

    # Venues of each kind in each district, placed inside the district's real boundary.
    venue_kinds = list(life.venues)
    geoms = _boundaries(district_codes)
    v_kind, v_dist, v_lon, v_lat = [], [], [], []
    venue_start = np.zeros((len(venue_kinds), len(district_codes) + 1), dtype=np.int64)
    count = 0
    for k, kind in enumerate(venue_kinds):
        rate = life.venues[kind][0]
        for d, code in enumerate(district_codes):
            venue_start[k, d] = count
            m = max(1, round(people_by_d[d] / 10_000 * rate))
            if code in geoms:
                x, y = _points_in(geoms[code], m, rng)
            else:
                x, y = np.full(m, np.nan), np.full(m, np.nan)
            v_kind.append(np.full(m, k, dtype=np.int8))
            v_dist.append(np.full(m, d, dtype=np.int16))
            v_lon.append(x)
            v_lat.append(y)
            count += m
        venue_start[k, -1] = count
    favourite = np.empty((agents, len(venue_kinds)), dtype=np.int32)
    for k in range(len(venue_kinds)):
        lo = venue_start[k, district]
        hi = venue_start[k, district + 1]
        favourite[:, k] = lo + (rng.random(agents) * (hi - lo)).astype(np.int64)

    # Unique ID-number rank within (county, birth year, sex).
    id_rank = _rank_within((district.astype(np.int64) * 200 + age) * 2 + female, rng)

    return City(
        seed=seed, code=city, name=name, real_population=total,
        district_codes=district_codes,
        district_names=[extra[c] for c in district_codes],
        town_codes=town_codes, town_names=[t["name"] for t in towns],
        town_district=town_district, village_codes=village_codes, village_town=village_town,
        household=household, village=village, town=town.astype(np.int32),
        district=district.astype(np.int16), age=age, female=female, school=school,
        workplace=workplace, key_group=key_group, favourite=favourite,
        id_rank=id_rank.astype(np.int32), household_size=sizes,
        school_town=school_town.astype(np.int32), workplace_kind=workplace_kind,
        workplace_district=workplace_district, venue_kinds=venue_kinds,
        venue_kind=np.concatenate(v_kind), venue_district=np.concatenate(v_dist),
        venue_lon=np.concatenate(v_lon), venue_lat=np.concatenate(v_lat),
        venue_start=venue_start)
