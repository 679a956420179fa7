"""Transfer routes: vehicle kinds, capacity, time windows, batches, unserved reasons."""

from __future__ import annotations

import random
from typing import Any

import pytest

from fangkong.core.errors import Invalid
from fangkong.isolation import planning, routing, service
from fangkong.isolation.schemas import RoutePlan
from tests.helpers import csv_bytes
from tests.isolation.test_assign import site

CASES = {"case_asymptomatic", "case_mild", "case_moderate", "case_severe", "case_critical"}


def req(ref: str, role: str, dx: float, site_id: str, earliest: str = "",
        latest: str = "") -> dict[str, Any]:
    return {"person_ref": ref, "role": role, "lon": 110.36 + dx, "lat": 21.27, "site_id": site_id,
            "earliest": earliest, "latest": latest}


def veh(vid: str, kind: str, capacity: int, dx: float = 0.0) -> dict[str, Any]:
    return {"vehicle_id": vid, "kind": kind, "capacity": capacity, "lon": 110.36 + dx,
            "lat": 21.27}


SITES = [site("Q", dx=0.1), site("F", "shelter_hospital", dx=-0.1),
         site("D", "designated_hospital", dx=0.2, level="icu")]


def plan(requests: list[dict[str, Any]], vehicles: list[dict[str, Any]]) -> RoutePlan:
    return service.plan_transfers(
        requests=csv_bytes(requests, routing.REQUEST_COLUMNS),
        sites=csv_bytes(SITES, planning.SITE_COLUMNS),
        vehicles=csv_bytes(vehicles, routing.VEHICLE_COLUMNS), seconds=2,
        names=("requests.csv", "sites.csv", "vehicles.csv"))


def check_routes(result: RoutePlan, requests: list[dict[str, Any]],
                 vehicles: list[dict[str, Any]]) -> None:
    role = {r["person_ref"]: r["role"] for r in requests}
    window = {r["person_ref"]: (r["earliest"], r["latest"]) for r in requests}
    capacity = {v["vehicle_id"]: v["capacity"] for v in vehicles}
    carried: set[str] = set()
    for route in result.routes:
        load, aboard, riders = 0, set(), set()
        for stop in route.stops:
            people = set(stop.people)
            if stop.type == "pickup":
                load += len(people)
                aboard |= people
                riders |= people
                for p in people:
                    lo, hi = window[p]
                    lo_m = int(lo[:2]) * 60 + int(lo[3:]) if lo else 0
                    hi_m = int(hi[:2]) * 60 + int(hi[3:]) if hi else 24 * 60
                    assert lo_m <= stop.minute <= hi_m
            else:
                assert people <= aboard  # picked up before being dropped
                aboard -= people
                load -= len(people)
            assert load <= capacity[route.vehicle_id]
        assert not aboard
        classes = {role[p] in CASES for p in riders}
        assert len(classes) == 1  # cases and contacts never share a vehicle
        kind = route.kind
        assert (kind == "bus") == (classes == {False})
        if any(role[p] in ("case_severe", "case_critical") for p in riders):
            assert kind == "negative_pressure_ambulance"
        carried |= riders
    assert carried | {u.person_ref for u in result.unserved} == set(role)
    assert not carried & {u.person_ref for u in result.unserved}


def test_cases_and_contacts_never_share_and_every_rule_holds() -> None:
    rng = random.Random(4)
    roles = ["close_contact"] * 5 + ["inbound_traveller", "case_mild", "case_severe"]
    requests = []
    for i in range(30):
        r = rng.choice(roles)
        target = "Q" if r in ("close_contact", "inbound_traveller") else \
            "F" if r == "case_mild" else "D"
        hour = rng.randint(8, 12)
        requests.append(req(f"p{i}", r, rng.uniform(-0.2, 0.2), target, f"{hour:02d}:00",
                            f"{hour + 2:02d}:00"))
    vehicles = [veh("B1", "bus", 8), veh("B2", "bus", 8, 0.1), veh("A1", "ambulance", 2),
                veh("N1", "negative_pressure_ambulance", 1), veh("N2",
                                                                 "negative_pressure_ambulance",
                                                                 1, -0.1)]
    result = plan(requests, vehicles)
    check_routes(result, requests, vehicles)
    assert len(result.unserved) < len(requests) / 2


def test_a_batch_rides_together_and_is_split_to_fit() -> None:
    requests = [req(f"p{i}", "close_contact", 0.0, "Q") for i in range(5)]
    vehicles = [veh("B1", "bus", 3), veh("B2", "bus", 3, 0.05)]
    result = plan(requests, vehicles)
    check_routes(result, requests, vehicles)
    pickups = sorted(len(s.people) for r in result.routes for s in r.stops
                     if s.type == "pickup")
    assert pickups == [2, 3] and not result.unserved


def test_no_vehicle_of_the_right_kind_gives_the_reason() -> None:
    result = plan([req("x", "case_critical", 0.0, "D")], [veh("A1", "ambulance", 4)])
    assert [u.model_dump() for u in result.unserved] == [{
        "person_ref": "x",
        "reason": "no vehicle of kind negative_pressure_ambulance in the vehicles file"}]


def test_an_impossible_window_leaves_the_batch_out() -> None:
    # the bus is 100+ km away: it cannot be at the pickup by 00:10
    result = plan([req("x", "close_contact", 0.0, "Q", "00:00", "00:10")],
                  [veh("B1", "bus", 4, 1.5)])
    assert result.routes == [] and "inside its window" in result.unserved[0].reason


def test_bad_rows_are_reported_by_line() -> None:
    with pytest.raises(Invalid) as err:
        plan([req("x", "wizard", 0.0, "NOPE", "7h")], [veh("B1", "boat", 0)])
    assert {(p.file, p.line, p.field) for p in err.value.problems} == {
        ("requests.csv", 2, "role"), ("requests.csv", 2, "site_id"),
        ("requests.csv", 2, "earliest")}
    with pytest.raises(Invalid) as err:
        plan([req("x", "close_contact", 0.0, "Q")], [veh("B1", "bus", 2), veh("B1", "boat", 0)])
    assert {(p.file, p.line, p.field) for p in err.value.problems} == {
        ("vehicles.csv", 3, "vehicle_id"), ("vehicles.csv", 3, "kind"),
        ("vehicles.csv", 3, "capacity")}
