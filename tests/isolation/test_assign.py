"""The assignment solver: every hard rule, least distance, reasons, bad rows (no database)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from fangkong.cli import app
from fangkong.core.errors import Invalid
from fangkong.isolation import checks, planning, service
from fangkong.isolation.schemas import AssignmentPlan
from fangkong.policy import service as policy
from tests.helpers import csv_bytes

PEOPLE = planning.PEOPLE_COLUMNS
SITES = planning.SITE_COLUMNS
ZJ = (110.36, 21.27)  # 湛江 赤坎


def person(ref: str, role: str = "close_contact", household: str = "", needs: str = "",
           dx: float = 0.0, case_ref: str = "c1") -> dict[str, Any]:
    return {"person_ref": ref, "household_ref": household, "role": role, "needs": needs,
            "lon": ZJ[0] + dx, "lat": ZJ[1], "case_ref": case_ref}


def site(site_id: str, kind: str = "quarantine_hotel", *, dx: float = 0.0, rooms: int = 10,
         capacity: int = 1, family: int = 0, accessible: int = 0,
         level: str = "none") -> dict[str, Any]:
    return {"site_id": site_id, "type": kind, "lon": ZJ[0] + dx, "lat": ZJ[1], "rooms": rooms,
            "room_capacity": capacity, "family_rooms": family, "accessible_rooms": accessible,
            "medical_level": level}


def solve(people: list[dict[str, Any]], sites: list[dict[str, Any]],
          pack: str = "cn_v9") -> AssignmentPlan:
    people_b, sites_b = csv_bytes(people, PEOPLE), csv_bytes(sites, SITES)
    result = service.plan_assignment(people=people_b, sites=sites_b, pack=pack,
                                     people_name="people.csv", sites_name="sites.csv")
    _, rules = policy.isolation_rules(pack)
    found = checks.check(result, planning.read_people(people_b), planning.read_sites(sites_b),
                         rules)
    assert found.total == 0, found.counts()  # every assignment keeps every hard rule
    placed = {a.person_ref for a in result.assignments}
    assert placed.isdisjoint(u.person_ref for u in result.unassigned)
    assert len(placed) + len(result.unassigned) == len(people)
    return result


def where(result: AssignmentPlan) -> dict[str, tuple[str, Any]]:
    return {a.person_ref: (a.site_id, a.room) for a in result.assignments}


def reasons(result: AssignmentPlan) -> dict[str, str]:
    return {u.person_ref: u.reason for u in result.unassigned}


def test_room_capacity_and_one_person_per_room() -> None:
    result = solve([person(f"p{i}", case_ref=f"c{i}") for i in range(4)], [site("A", rooms=3)])
    rooms = [room for _, room in where(result).values()]
    assert len(rooms) == 3 == len(set(rooms))
    assert list(reasons(result).values()) == ["no room left for this person at the eligible "
                                              "sites (health_station, quarantine_hotel)"]


def test_strangers_never_share_a_family_room() -> None:
    result = solve([person("a", household="h1"), person("b", household="h2")],
                   [site("A", rooms=2, capacity=4, family=2)])
    assert where(result)["a"][1] != where(result)["b"][1]


def test_a_household_shares_a_family_room_that_fits() -> None:
    family = [person(f"p{i}", household="h") for i in range(3)]
    result = solve(family, [site("near", rooms=10), site("far", dx=0.2, rooms=3, capacity=3,
                                                         family=1)])
    assert set(where(result).values()) == {("far", 3)}  # one room, though farther
    assert result.total_distance_km > 0


def test_a_household_too_large_for_any_room_stays_at_one_site() -> None:
    family = [person(f"p{i}", household="h") for i in range(5)]
    result = solve(family, [site("A", rooms=3), site("B", dx=0.05, rooms=10, capacity=2,
                                                     family=2)])
    placed = where(result)
    assert {s for s, _ in placed.values()} == {"B"} and len(placed) == 5
    rooms = sorted(r for _, r in placed.values())
    assert rooms == [1, 9, 9, 10, 10]  # both family rooms, two by two, and a single room


def test_a_household_is_never_split_over_sites() -> None:
    family = [person(f"p{i}", household="h") for i in range(3)]
    result = solve(family, [site("A", rooms=2), site("B", rooms=2, dx=0.01)])
    assert not result.assignments
    assert all("household of 3" in r or "rooms this household needs" in r
               for r in reasons(result).values())


def test_contacts_of_different_cases_never_share_a_room() -> None:
    family = [person("a", household="h", case_ref="c1"), person("b", household="h",
                                                                case_ref="c2")]
    result = solve(family, [site("A", rooms=3, capacity=2, family=3)])
    placed = where(result)
    assert placed["a"][0] == placed["b"][0] == "A" and placed["a"][1] != placed["b"][1]


@pytest.mark.parametrize(("role", "expected"), [
    ("case_asymptomatic", "F"), ("case_mild", "F"), ("case_moderate", "D"),
    ("case_severe", "D"), ("case_critical", "ICU"), ("close_contact", "Q"),
    ("inbound_traveller", "Q")])
def test_roles_go_to_the_site_types_of_the_pack(role: str, expected: str) -> None:
    sites = [site("Q", rooms=5), site("F", "shelter_hospital", dx=0.1, rooms=5),
             site("D", "designated_hospital", dx=0.2, rooms=5, level="general"),
             site("ICU", "designated_hospital", dx=0.3, rooms=5, level="icu")]
    assert where(solve([person("x", role=role, case_ref="")], sites))["x"][0] == expected


def test_cases_are_never_placed_in_quarantine_sites() -> None:
    result = solve([person("x", role="case_mild", case_ref="")], [site("Q", rooms=50)])
    assert reasons(result) == {"x": "no site of an allowed type (shelter_hospital) in the "
                                    "sites file"}


def test_secondary_contacts_stay_home_under_v9() -> None:
    result = solve([person("x", role="secondary_contact")], [site("Q")])
    assert [a.model_dump() for a in result.assignments] == [
        {"person_ref": "x", "site_id": "home", "room": None}]


def test_the_pack_decides_new_10_sends_mild_cases_home() -> None:
    result = solve([person("x", role="case_mild", case_ref="")],
                   [site("F", "shelter_hospital")], pack="cn_new_10")
    assert where(result) == {"x": ("home", None)}


@pytest.mark.parametrize(("need", "good"), [("wheelchair", "ACC"), ("dialysis", "GEN"),
                                            ("pregnant", "BASIC"), ("elderly_alone", "BASIC")])
def test_needs_only_where_met(need: str, good: str) -> None:
    sites = [site("PLAIN", rooms=5), site("ACC", dx=0.1, rooms=5, accessible=1),
             site("BASIC", "health_station", dx=0.2, rooms=5, level="basic"),
             site("GEN", "health_station", dx=0.3, rooms=5, level="general")]
    if good == "BASIC":
        sites = sites[:1] + sites[2:]
    result = solve([person("x", needs=need)], sites)
    assert where(result)["x"][0] == good


def test_needs_not_met_anywhere_give_the_reason() -> None:
    result = solve([person("x", needs="dialysis")], [site("A", level="basic")])
    assert "medical level general" in reasons(result)["x"] and "dialysis" in reasons(result)["x"]


def test_a_child_shares_a_family_room_with_a_guardian() -> None:
    family = [person("adult", household="h"), person("kid", household="h",
                                                     needs="child_with_guardian"),
              person("other", household="h")]
    result = solve(family, [site("A", rooms=5, capacity=2, family=1)])
    placed = where(result)
    assert placed["kid"] == placed["adult"] or placed["kid"] == placed["other"]
    assert len({r for _, r in placed.values()}) == 2


def test_a_child_alone_is_not_placed() -> None:
    result = solve([person("kid", needs="child_with_guardian")],
                   [site("A", rooms=5, capacity=2, family=5)])
    assert "no adult of the same household" in reasons(result)["kid"]


def test_least_total_distance_across_people() -> None:
    # a greedy first-come choice gives 'a' the only near room and sends 'b' far away; the
    # solver gives the near room to 'b' whose alternative is much farther.
    people = [person("a", dx=0.0, case_ref="c1"), person("b", dx=0.3, case_ref="c2")]
    sites = [site("mid", dx=0.25, rooms=1), site("west", dx=-0.05, rooms=1),
             site("east_far", dx=0.9, rooms=1)]
    result = solve(people, sites)
    assert where(result) == {"a": ("west", 1), "b": ("mid", 1)}


def test_many_people_keep_every_rule() -> None:
    import random

    rng = random.Random(3)
    people = []
    for h in range(120):
        role = rng.choice(["close_contact"] * 6 + ["case_mild", "case_severe"])
        case = "" if role.startswith("case") else rng.choice(["c1", "c2"])
        for m in range(rng.choice([1, 1, 2, 3, 4])):
            needs = rng.choice(["", "", "", "wheelchair", "pregnant",
                                "child_with_guardian" if m else ""])
            mixed = m and not needs and case and rng.random() < 0.2
            people.append(person(f"h{h}m{m}", household=f"h{h}", needs=needs,
                                 dx=rng.uniform(-0.3, 0.3), case_ref="c3" if mixed else case,
                                 role=role))
    sites = [site(f"Q{i}", rooms=rng.randint(5, 40), capacity=rng.choice([1, 2, 3]),
                  family=0, accessible=rng.randint(0, 3), dx=rng.uniform(-0.4, 0.4),
                  level=rng.choice(["none", "basic"])) for i in range(8)]
    sites = [dict(s, family_rooms=(s["rooms"] // 3 if s["room_capacity"] > 1 else 0))
             for s in sites]
    sites += [site("F1", "shelter_hospital", rooms=60, level="basic", accessible=5),
              site("D1", "designated_hospital", rooms=30, level="icu", accessible=5)]
    result = solve(people, sites)
    assert len(result.assignments) > 0.6 * len(people), sorted(reasons(result).values())
    assert all(r.startswith(("no ", "child_with_guardian")) for r in reasons(result).values())


def test_bad_rows_are_reported_by_file_line_and_field() -> None:
    people = [person("a"), person("a", role="boss", needs="wings"), {**person("c"), "lon": "x"}]
    with pytest.raises(Invalid) as err:
        solve(people, [site("A")])
    found = {(p.file, p.line, p.field) for p in err.value.problems}
    assert found == {("people.csv", 3, "person_ref"), ("people.csv", 3, "role"),
                     ("people.csv", 3, "needs"), ("people.csv", 4, "lon")}
    with pytest.raises(Invalid) as err:
        solve([person("a")], [site("A", family=20), {**site("B"), "type": "castle"}])
    assert {(p.file, p.line, p.field) for p in err.value.problems} == {
        ("sites.csv", 2, "family_rooms"), ("sites.csv", 2, "room_capacity"),
        ("sites.csv", 3, "type")}


def test_a_pack_without_isolation_rules_is_refused() -> None:
    with pytest.raises(Invalid, match="no isolation rules"):
        solve([person("a")], [site("A")], pack="who_2021")


def test_cli_assign_json(tmp_path: Path) -> None:
    people, sites = tmp_path / "people.csv", tmp_path / "sites.csv"
    people.write_bytes(csv_bytes([person("a"), person("b", role="case_mild", case_ref="")],
                                 PEOPLE))
    sites.write_bytes(csv_bytes([site("A")], SITES))
    result = CliRunner().invoke(app, ["isolation", "assign", "--people", str(people),
                                      "--sites", str(sites), "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert set(out) == {"assignments", "unassigned", "total_distance_km"}
    assert out["assignments"] == [{"person_ref": "a", "site_id": "A", "room": 1}]
    assert out["unassigned"][0]["person_ref"] == "b"
    sites.write_bytes(csv_bytes([{**site("A"), "rooms": "-1"}], SITES))
    result = CliRunner().invoke(app, ["isolation", "assign", "--people", str(people),
                                      "--sites", str(sites)])
    assert result.exit_code == 2 and "sites.csv:2 rooms" in " ".join(result.output.split())


def test_the_total_distance_is_the_least_possible() -> None:
    """Against an exact CP-SAT model of the same small instance (single people, plain and
    accessible rooms): the solver's total must be the optimum."""
    import random

    from ortools.sat.python import cp_model

    from fangkong.isolation.solver import haversine_km

    rng = random.Random(11)
    people = [person(f"p{i}", case_ref=f"c{i}", dx=rng.uniform(-0.5, 0.5),
                     needs="wheelchair" if i % 5 == 0 else "") for i in range(18)]
    sites = [site(f"S{k}", dx=rng.uniform(-0.5, 0.5), rooms=rng.randint(2, 6),
                  accessible=rng.randint(0, 2)) for k in range(5)]
    result = solve(people, sites)
    model = cp_model.CpModel()
    x = {(i, k): model.new_bool_var(f"x{i}_{k}") for i in range(len(people))
         for k in range(len(sites))}
    placed = []
    for i, p in enumerate(people):
        model.add(sum(x[i, k] for k in range(len(sites))) <= 1)
        placed.append(sum(x[i, k] for k in range(len(sites))))
        if p["needs"]:
            for k, s in enumerate(sites):
                if not s["accessible_rooms"]:
                    model.add(x[i, k] == 0)
    for k, s in enumerate(sites):
        model.add(sum(x[i, k] for i in range(len(people))) <= s["rooms"])
        model.add(sum(x[i, k] for i, p in enumerate(people) if p["needs"])
                  <= s["accessible_rooms"])
    metres = {(i, k): round(float(haversine_km(p["lon"], p["lat"], s["lon"], s["lat"])) * 1000)
              for i, p in enumerate(people) for k, s in enumerate(sites)}
    model.maximize(10**9 * sum(placed) - sum(metres[i, k] * v for (i, k), v in x.items()))
    solver = cp_model.CpSolver()
    assert solver.solve(model) == cp_model.OPTIMAL
    best_placed = sum(solver.value(v) for v in x.values())
    best_km = sum(metres[i, k] * solver.value(v) for (i, k), v in x.items()) / 1000
    assert len(result.assignments) == best_placed
    assert result.total_distance_km == pytest.approx(best_km, abs=0.01)


def test_a_household_finds_a_far_site_when_the_near_ones_are_too_small() -> None:
    family = [person("a", household="h", case_ref="c1"), person("b", household="h",
                                                                case_ref="c2")]
    sites = [site(f"N{k}", dx=0.01 * k, rooms=1) for k in range(15)]
    sites.append(site("FAR", dx=0.8, rooms=2))
    result = solve(family, sites)
    assert {s for s, _ in where(result).values()} == {"FAR"}
