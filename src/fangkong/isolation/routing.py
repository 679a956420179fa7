"""Transfer routes (转运): batches of people picked up and taken to their sites by vehicles with
capacities and time windows, solved with OR-Tools' vehicle routing (pickup and delivery).

Rules kept as constraints of the model:

- a batch is the people of one pickup point going to one site, of one passenger class;
- contacts (close and secondary contacts, inbound travellers) ride only buses; cases ride only
  ambulances, and severe or critical cases only negative-pressure ambulances, so that cases and
  contacts never share a vehicle;
- a vehicle never carries more than its capacity; each batch is picked up inside its window and
  delivered by the same vehicle afterwards;
- a batch nobody can serve is left out, with the reason.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fangkong.core.config import get_settings
from fangkong.core.errors import Invalid, Problem
from fangkong.core.messages import joined
from fangkong.core.tabular import Collector, open_table
from fangkong.isolation.enums import AssignRole
from fangkong.isolation.messages import ISO
from fangkong.isolation.planning import PlanSite
from fangkong.isolation.schemas import NotPlaced, Route, RoutePlan, RouteStop
from fangkong.isolation.solver import haversine_km

REQUEST_COLUMNS = ["person_ref", "role", "lon", "lat", "site_id", "earliest", "latest"]
VEHICLE_COLUMNS = ["vehicle_id", "kind", "capacity", "lon", "lat"]
VEHICLE_KINDS = ("bus", "ambulance", "negative_pressure_ambulance")
RIDES: dict[str, tuple[str, ...]] = {
    "close_contact": ("bus",), "secondary_contact": ("bus",), "inbound_traveller": ("bus",),
    "case_asymptomatic": ("ambulance", "negative_pressure_ambulance"),
    "case_mild": ("ambulance", "negative_pressure_ambulance"),
    "case_moderate": ("ambulance", "negative_pressure_ambulance"),
    "case_severe": ("negative_pressure_ambulance",),
    "case_critical": ("negative_pressure_ambulance",),
}
SPEED_KMH = 30.0
BOARDING_MIN = 2
HORIZON_MIN = 24 * 60


@dataclass(frozen=True)
class Request:
    ref: str
    role: AssignRole
    lon: float
    lat: float
    site_id: str
    earliest: int
    latest: int


@dataclass(frozen=True)
class Vehicle:
    vehicle_id: str
    kind: str
    capacity: int
    lon: float
    lat: float


def _minute(raw: dict[str, Any], field: str, default: int, problems: list[Problem]) -> int:
    text = str(raw.get(field) or "").strip()
    if not text:
        return default
    try:
        if ":" in text:
            hours, minutes = text.split(":")
            value = int(hours) * 60 + int(minutes)
        else:
            value = int(text)
    except ValueError:
        problems.append(Problem(ISO("expected_minutes", raw=repr(text)), field=field))
        return default
    if not 0 <= value <= HORIZON_MIN:
        problems.append(Problem(ISO("outside_day", text=text), field=field))
    return value


def _float(raw: dict[str, Any], field: str, limit: float, problems: list[Problem]) -> float:
    text = str(raw.get(field) or "").strip()
    try:
        value = float(text)
    except ValueError:
        problems.append(Problem(ISO("expected_number", raw=repr(text)) if text else ISO("required"),
                                field=field))
        return 0.0
    if not math.isfinite(value) or abs(value) > limit:
        problems.append(Problem(ISO("outside_limit", text=text, limit=f"{limit:g}"), field=field))
    return value


def read_requests(source: Path | bytes, sites: list[PlanSite],
                  filename: str | None = None) -> list[Request]:
    settings = get_settings()
    table = open_table(source, expected=REQUEST_COLUMNS, required=REQUEST_COLUMNS[:5],
                       max_bytes=settings.import_max_bytes, filename=filename)
    known = {s.site_id for s in sites}
    collector = Collector(table.filename, settings.import_max_errors)
    out, seen = [], set()
    for line, raw in collector.rows(table):
        problems: list[Problem] = []
        ref = str(raw.get("person_ref") or "").strip()
        if not ref or ref in seen:
            problems.append(Problem(ISO("required") if not ref else ISO("twice", value=ref),
                                    field="person_ref"))
        seen.add(ref)
        role_text = str(raw.get("role") or "").strip()
        role = AssignRole(role_text) if role_text in AssignRole.__members__ else None
        if role is None:
            problems.append(Problem(ISO("unknown_role", raw=repr(role_text)), field="role"))
        site_id = str(raw.get("site_id") or "").strip()
        if site_id not in known:
            problems.append(Problem(ISO("unknown_site", raw=repr(site_id)),
                                    field="site_id"))
        lon, lat = _float(raw, "lon", 180, problems), _float(raw, "lat", 90, problems)
        earliest = _minute(raw, "earliest", 0, problems)
        latest = _minute(raw, "latest", HORIZON_MIN, problems)
        if latest < earliest:
            problems.append(Problem(ISO("latest_first"), field="latest"))
        if problems:
            collector.add(line, problems)
            continue
        assert role is not None
        out.append(Request(ref, role, lon, lat, site_id, earliest, latest))
    collector.check()
    return out


def read_vehicles(source: Path | bytes, filename: str | None = None) -> list[Vehicle]:
    settings = get_settings()
    table = open_table(source, expected=VEHICLE_COLUMNS, required=VEHICLE_COLUMNS,
                       max_bytes=settings.import_max_bytes, filename=filename)
    collector = Collector(table.filename, settings.import_max_errors)
    out, seen = [], set()
    for line, raw in collector.rows(table):
        problems: list[Problem] = []
        vid = str(raw.get("vehicle_id") or "").strip()
        if not vid or vid in seen:
            problems.append(Problem(ISO("required") if not vid else ISO("twice", value=vid),
                                    field="vehicle_id"))
        seen.add(vid)
        kind = str(raw.get("kind") or "").strip()
        if kind not in VEHICLE_KINDS:
            problems.append(Problem(ISO("unknown_kind", raw=repr(kind),
                                        values=joined(VEHICLE_KINDS)),
                                    field="kind"))
        try:
            capacity = int(str(raw.get("capacity") or ""))
            if not 1 <= capacity <= 100:
                raise ValueError
        except ValueError:
            problems.append(Problem(ISO("capacity"), field="capacity"))
            capacity = 1
        lon, lat = _float(raw, "lon", 180, problems), _float(raw, "lat", 90, problems)
        if problems:
            collector.add(line, problems)
            continue
        out.append(Vehicle(vid, kind, capacity, lon, lat))
    collector.check()
    return out


@dataclass
class Batch:
    people: list[Request]
    site: PlanSite
    kinds: tuple[str, ...]

    @property
    def size(self) -> int:
        return len(self.people)


def batches(requests: list[Request], sites: list[PlanSite], vehicles: list[Vehicle]
            ) -> tuple[list[Batch], list[NotPlaced]]:
    """Group by pickup point, site, vehicle kinds and window; split to fit the largest vehicle
    that may carry them."""
    by_site = {s.site_id: s for s in sites}
    groups: dict[tuple[Any, ...], list[Request]] = defaultdict(list)
    for r in requests:
        groups[(round(r.lon, 4), round(r.lat, 4), r.site_id, RIDES[r.role.value], r.earliest,
                r.latest)].append(r)
    out: list[Batch] = []
    unserved: list[NotPlaced] = []
    for (_, _, site_id, kinds, _, _), people in groups.items():
        largest = max((v.capacity for v in vehicles if v.kind in kinds), default=0)
        if largest == 0:
            unserved += [NotPlaced(person_ref=p.ref, reason=f"no vehicle of kind "
                                   f"{' or '.join(kinds)} in the vehicles file")
                         for p in people]
            continue
        for start in range(0, len(people), largest):
            out.append(Batch(people[start : start + largest], by_site[site_id], kinds))
    return out, unserved


def plan_routes(requests: list[Request], sites: list[PlanSite], vehicles: list[Vehicle],
                seconds: float = 5.0) -> RoutePlan:
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2  # imported when used

    if not vehicles:
        raise Invalid(ISO("no_vehicle"))
    jobs, unserved = batches(requests, sites, vehicles)
    # nodes: 0..V-1 vehicle bases, then a pickup and a dropoff per batch
    points = [(v.lon, v.lat) for v in vehicles]
    for b in jobs:
        points += [(b.people[0].lon, b.people[0].lat), (b.site.lon, b.site.lat)]
    n = len(points)
    lon = [p[0] for p in points]
    lat = [p[1] for p in points]
    km = [[float(haversine_km(lon[i], lat[i], lon[j], lat[j])) for j in range(n)]
          for i in range(n)]
    metres = [[round(d * 1000) for d in row] for row in km]
    minutes = [[math.ceil(d / SPEED_KMH * 60) for d in row] for row in km]
    v_count = len(vehicles)
    manager = pywrapcp.RoutingIndexManager(n, v_count, list(range(v_count)),
                                           list(range(v_count)))
    routing = pywrapcp.RoutingModel(manager)

    def node(index: int) -> int:
        return int(manager.IndexToNode(index))

    def distance(i: int, j: int) -> int:
        return int(metres[node(i)][node(j)])

    cost = routing.RegisterTransitCallback(distance)
    routing.SetArcCostEvaluatorOfAllVehicles(cost)
    load = [0] * n
    for k, b in enumerate(jobs):
        load[v_count + 2 * k], load[v_count + 2 * k + 1] = b.size, -b.size

    def demand(i: int) -> int:
        return int(load[node(i)])

    routing.AddDimensionWithVehicleCapacity(
        routing.RegisterUnaryTransitCallback(demand), 0, [v.capacity for v in vehicles], True,
        "load")
    board = [0] * n
    for k, b in enumerate(jobs):
        board[v_count + 2 * k] = board[v_count + 2 * k + 1] = BOARDING_MIN * b.size

    def travel(i: int, j: int) -> int:
        return int(minutes[node(i)][node(j)] + board[node(i)])

    routing.AddDimension(routing.RegisterTransitCallback(travel), HORIZON_MIN, 2 * HORIZON_MIN,
                         True, "time")
    clock = routing.GetDimensionOrDie("time")
    penalty = 10 * (max(max(r) for r in metres) + 1) * max(2, n)
    for k, b in enumerate(jobs):
        pick = manager.NodeToIndex(v_count + 2 * k)
        drop = manager.NodeToIndex(v_count + 2 * k + 1)
        routing.AddPickupAndDelivery(pick, drop)
        routing.solver().Add(routing.VehicleVar(pick) == routing.VehicleVar(drop))
        routing.solver().Add(clock.CumulVar(pick) <= clock.CumulVar(drop))
        clock.CumulVar(pick).SetRange(b.people[0].earliest, b.people[0].latest)
        allowed = [i for i, v in enumerate(vehicles) if v.kind in b.kinds]
        routing.VehicleVar(pick).SetValues([-1, *allowed])  # -1: left out
        routing.AddDisjunction([pick, drop], penalty * b.size, 2)
    params = pywrapcp.DefaultRoutingSearchParameters()
    strategies = routing_enums_pb2.FirstSolutionStrategy
    params.first_solution_strategy = strategies.PARALLEL_CHEAPEST_INSERTION
    params.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GREEDY_DESCENT)
    params.time_limit.FromMilliseconds(int(seconds * 1000))
    solution = routing.SolveWithParameters(params)
    if solution is None:
        raise Invalid(ISO("no_route"))
    routes, total, served = [], 0.0, set()
    for v, vehicle in enumerate(vehicles):
        index, stops, dist = routing.Start(v), [], 0
        while not routing.IsEnd(index):
            nxt = solution.Value(routing.NextVar(index))
            i = node(index)
            if i >= v_count:
                k, is_drop = divmod(i - v_count, 2)
                b = jobs[k]
                served.add(k)
                stops.append(RouteStop(type="dropoff" if is_drop else "pickup",
                                       site_id=b.site.site_id if is_drop else None,
                                       people=[p.ref for p in b.people], lon=lon[i],
                                       lat=lat[i], minute=solution.Min(clock.CumulVar(index))))
            dist += metres[i][node(nxt)]
            index = nxt
        if stops:
            routes.append(Route(vehicle_id=vehicle.vehicle_id, kind=vehicle.kind, stops=stops,
                                distance_km=round(dist / 1000, 3)))
            total += dist / 1000
    for k, b in enumerate(jobs):
        if k not in served:
            unserved += [NotPlaced(person_ref=p.ref, reason="no vehicle of kind "
                                   f"{' or '.join(b.kinds)} can pick this batch up inside its "
                                   "window with room to spare") for p in b.people]
    return RoutePlan(routes=routes, unserved=unserved, total_distance_km=round(total, 3))
