"""Benchmark: assigning people to isolation rooms, the solver against a greedy baseline.

Generates a synthetic batch (households, special needs, a mix of roles and cases, spread over
Zhanjiang's districts) and sites (quarantine hotels, health stations, shelter hospitals,
designated hospitals), writes both as the planning CSV files, and runs on the same input in the
same process:

- the solver (``fangkong.isolation.service.plan_assignment``: the path of
  ``fangkong isolation assign``, including reading and checking both files);
- a greedy nearest-room baseline: people in file order, each to the nearest site of a type the
  pack allows for the role with a free room, one person per room, ignoring households, needs
  and cases.

Both results are checked by ``fangkong.isolation.checks.check``; it prints solver time, total
distance, people placed, households split and needs violated (and every other rule broken),
and the ratios of the solver to the baseline.

Usage: ``.venv/bin/python bench/bench_isolation.py [--people 20000] [--sites 300]
[--rooms 30000] [--seed 7]``; see bench/README.md.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from fangkong.isolation import checks, planning, service
from fangkong.isolation.schemas import AssignmentPlan, NotPlaced, Placement
from fangkong.isolation.solver import haversine_km
from fangkong.policy import service as policy

CENTRES = [(110.36, 21.27), (110.40, 21.20), (110.28, 21.19), (109.90, 21.45),
           (110.08, 20.92), (110.80, 21.60), (110.25, 21.62)]
"""Rough centres of Zhanjiang's districts and counties (lon, lat)."""
SITE_MIX = [("quarantine_hotel", 0.5, 0.62), ("health_station", 0.2, 0.14),
            ("shelter_hospital", 0.15, 0.17), ("designated_hospital", 0.15, 0.07)]
"""(type, share of the sites, share of the rooms)."""
ROLE_MIX = [("close_contact", 0.72), ("inbound_traveller", 0.08), ("secondary_contact", 0.04),
            ("case_asymptomatic", 0.07), ("case_mild", 0.05), ("case_moderate", 0.025),
            ("case_severe", 0.01), ("case_critical", 0.005)]


def _point(rng: random.Random) -> tuple[float, float]:
    lon, lat = rng.choice(CENTRES)
    return round(lon + rng.gauss(0, 0.06), 5), round(lat + rng.gauss(0, 0.05), 5)


def generate(n_people: int, n_sites: int, n_rooms: int, seed: int, folder: Path
             ) -> tuple[Path, Path]:
    rng = random.Random(seed)
    sites_path, people_path = folder / "sites.csv", folder / "people.csv"
    with sites_path.open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow(planning.SITE_COLUMNS)
        specs = []
        for kind, share, room_share in SITE_MIX:
            count = max(1, round(n_sites * share))
            specs += [(kind, room_share / count * rng.uniform(0.6, 1.4)) for _ in range(count)]
        scale = n_rooms / sum(w for _, w in specs)
        sizes = [max(1, round(w * scale)) for _, w in specs]
        sizes[-1] = max(1, sizes[-1] + n_rooms - sum(sizes))
        for k, ((kind, _), rooms) in enumerate(zip(specs, sizes, strict=True), start=1):
            hospital = kind in ("designated_hospital", "shelter_hospital")
            capacity = 2 if kind == "designated_hospital" else rng.choice([2, 3, 4])
            family = int(rooms * (rng.uniform(0.02, 0.05) if kind == "designated_hospital"
                                  else rng.uniform(0.15, 0.3)))
            level = ("icu" if rng.random() < 0.5 else "general") if kind == \
                "designated_hospital" else "basic" if hospital or rng.random() < 0.3 \
                else "general" if kind == "health_station" and rng.random() < 0.3 \
                else "none"
            lon, lat = _point(rng)
            out.writerow([f"S{k:04d}", kind, lon, lat, rooms, capacity, family,
                          int(rooms * rng.uniform(0.03, 0.08)), level])
    roles, weights = zip(*ROLE_MIX, strict=True)
    with people_path.open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow(planning.PEOPLE_COLUMNS)
        n = h = 0
        while n < n_people:
            h += 1
            size = min(n_people - n, rng.choices([1, 2, 3, 4, 5], [35, 30, 20, 10, 5])[0])
            lon, lat = _point(rng)
            case = f"C{rng.randrange(n_people // 20 + 1):05d}"
            household_role = rng.choices(roles, weights)[0]
            for m in range(size):
                n += 1
                child = size > 1 and m == size - 1 and rng.random() < 0.25
                role = household_role if child or rng.random() < 0.9 else \
                    rng.choices(roles, weights)[0]
                needs = ["child_with_guardian"] if child else []
                if size == 1 and rng.random() < 0.06:
                    needs.append("elderly_alone")
                if rng.random() < 0.02:
                    needs.append("wheelchair")
                if rng.random() < 0.01:
                    needs.append("pregnant")
                if rng.random() < 0.005:
                    needs.append("dialysis")
                case_ref = "" if role.startswith("case_") else (
                    case if child or rng.random() < 0.97 else f"C{rng.randrange(n_people):05d}")
                out.writerow([f"P{n:06d}", f"H{h:06d}", role, ";".join(needs), lon, lat,
                              case_ref])
    return people_path, sites_path


def greedy(people: list[planning.PlanPerson], sites: list[planning.PlanSite],
           rules: Any) -> AssignmentPlan:
    """Nearest site of an allowed type with a free room, in file order; one person per room."""
    free = [list(range(s.rooms, 0, -1)) for s in sites]
    kinds = np.array([s.type.value for s in sites])
    dist = haversine_km(np.array([p.lon for p in people])[:, None],
                        np.array([p.lat for p in people])[:, None],
                        np.array([s.lon for s in sites])[None, :],
                        np.array([s.lat for s in sites])[None, :])
    assignments, unassigned, total = [], [], 0.0
    for i, person in enumerate(people):
        types = rules.destinations[person.role.value].site_types
        if types == ["home"]:
            assignments.append(Placement(person_ref=person.ref, site_id="home", room=None))
            continue
        order = np.argsort(np.where(np.isin(kinds, types), dist[i], np.inf))
        for s in order:
            if not np.isfinite(dist[i, s]) or kinds[s] not in types:
                break
            if free[s]:
                assignments.append(Placement(person_ref=person.ref, site_id=sites[s].site_id,
                                             room=free[s].pop()))
                total += float(dist[i, s])
                break
        else:
            unassigned.append(NotPlaced(person_ref=person.ref, reason="no free room"))
    return AssignmentPlan(assignments=assignments, unassigned=unassigned,
                          total_distance_km=round(total, 3))


def report(name: str, result: AssignmentPlan, seconds: float, violations: Any,
           people: int) -> dict[str, float]:
    counts = violations.counts()
    print(f"{name:>9}: {seconds:7.2f} s, {len(result.assignments):6d}/{people} placed, "
          f"{result.total_distance_km:10.1f} km total, households split "
          f"{counts['households_split']}, needs violated {counts['needs']}, other rules broken "
          f"{violations.total - counts['households_split'] - counts['needs']} {counts}")
    return {"seconds": seconds, "km": result.total_distance_km,
            "placed": len(result.assignments)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--sites", type=int, default=300)
    parser.add_argument("--rooms", type=int, default=30_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--pack", default="cn_v9")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        people_path, sites_path = generate(args.people, args.sites, args.rooms, args.seed,
                                           Path(tmp))
        people = planning.read_people(people_path)
        sites = planning.read_sites(sites_path)
        _, rules = policy.isolation_rules(args.pack)
        print(f"{len(people)} people, {len(sites)} sites, {sum(s.rooms for s in sites)} rooms "
              f"({sum(s.family_rooms for s in sites)} family, "
              f"{sum(s.accessible_rooms for s in sites)} accessible); pack {args.pack}")
        start = time.perf_counter()
        solved = service.plan_assignment(people=people_path, sites=sites_path, pack=args.pack)
        solver_s = time.perf_counter() - start
        start = time.perf_counter()
        base = greedy(people, sites, rules)
        greedy_s = time.perf_counter() - start
    mine = report("solver", solved, solver_s, checks.check(solved, people, sites, rules),
                  len(people))
    theirs = report("greedy", base, greedy_s, checks.check(base, people, sites, rules),
                    len(people))
    reasons: dict[str, int] = {}
    for row in solved.unassigned:
        key = row.reason
        reasons[key] = reasons.get(key, 0) + 1
    print(f"solver unassigned by reason: {reasons}")
    print(f"ratios solver/greedy: time {mine['seconds'] / max(theirs['seconds'], 1e-9):.2f}, "
          f"total distance {mine['km'] / max(theirs['km'], 1e-9):.3f}, "
          f"km per placed person {(mine['km'] / max(mine['placed'], 1)) / max(theirs['km'] / max(theirs['placed'], 1), 1e-9):.3f}, "  # noqa: E501
          f"placed {mine['placed'] / max(theirs['placed'], 1):.3f}")
    print(f"solver time target (< 10 s): {'met' if solver_s < 10 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
