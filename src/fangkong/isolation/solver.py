"""Assigning people to isolation rooms: every hard rule kept, then least total travel distance.

Hard rules (never broken; a person who cannot be placed gets the reason):

- a room holds one person, unless it is a family room holding part of one household, up to the
  room's capacity;
- a household (same ``household_ref`` and the same destination) stays at one site, in one room
  if a family room fits it, in several rooms of that site otherwise;
- close contacts of different cases (``case_ref``) never share a room;
- each role goes only to the site types the policy pack gives it (cases never to quarantine
  sites), with the pack's lowest medical level;
- each need only where the pack's requirement for it is met (medical level, accessible room,
  a child shares a family room with an adult of its household).

Rooms of a site: rooms 1..``accessible_rooms`` are accessible and the last ``family_rooms``
rooms are family rooms (a room may be both when they overlap).

Method (a decomposition; each part is solved exactly by OR-Tools):

1. People become *units*: the members of one household with the same destination, in *groups*
   by ``case_ref`` (a group may share a room, two groups may not).
2. Units that need more than one room (several groups, or larger than every family room) are
   placed first with CP-SAT, one boolean per unit, candidate site and room plan.
3. The rest need exactly one room each and are placed by a min-cost flow (unit → site entry by
   room kind → room class → sink, with an "unassigned" arc priced above any distance so that the
   most people are placed, then the least distance), on the nearest eligible sites first and
   then on all eligible sites for those still without a room.
4. Households still unplaced (no family room left, or none near) are tried again on more
   sites, split over single rooms of one site if need be, with CP-SAT.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from fangkong.isolation.enums import MedicalLevel, Need, SiteType
from fangkong.isolation.planning import PlanPerson, PlanSite
from fangkong.isolation.schemas import AssignmentPlan, NotPlaced, Placement
from fangkong.policy.isolation_rules import IsolationRules

EARTH_KM = 6371.0088
ANY, ACC, FAM, ACCFAM = 0, 1, 2, 3
"""Room classes (standard, accessible, family, accessible family) and the room kinds a demand
may use: ANY any class, ACC an accessible one, FAM a family one, ACCFAM an accessible family."""
USES = {ANY: (ANY, ACC, FAM, ACCFAM), ACC: (ACC, ACCFAM), FAM: (FAM, ACCFAM),
        ACCFAM: (ACCFAM,)}
ROUNDS = (12, 48, None)
"""Candidate sites per unit in the successive flow rounds (None: every eligible site)."""
CP_CANDIDATES = 12
CP_WIDER = 48
CP_METRES = 100
"""CP-SAT works in units of 100 m (smaller coefficients, faster proofs)."""
CP_SECONDS = 4.0


@dataclass
class Unit:
    members: list[int]
    groups: list[list[int]]
    types: frozenset[str]
    level: int
    household: str
    reason: str | None = None
    site: int | None = None
    plan: list[tuple[list[int], int]] = field(default_factory=list)
    """(members sharing a room, room kind) for each room, once placed."""


def haversine_km(lon1: Any, lat1: Any, lon2: Any, lat2: Any) -> Any:
    lon1, lat1, lon2, lat2 = map(np.radians, (lon1, lat1, lon2, lat2))
    a = (np.sin((lat2 - lat1) / 2) ** 2
         + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2)
    return 2 * EARTH_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def room_counts(site: PlanSite) -> list[int]:
    both = max(0, site.accessible_rooms + site.family_rooms - site.rooms)
    return [site.rooms - site.accessible_rooms - site.family_rooms + both,
            site.accessible_rooms - both, site.family_rooms - both, both]


def room_numbers(site: PlanSite) -> list[list[int]]:
    """Free room numbers by class, highest first (rooms are taken from the end: lowest first)."""
    out: list[list[int]] = [[], [], [], []]
    for n in range(site.rooms, 0, -1):
        acc, fam = n <= site.accessible_rooms, n > site.rooms - site.family_rooms
        out[ACCFAM if acc and fam else ACC if acc else FAM if fam else ANY].append(n)
    return out


class Solver:
    def __init__(self, people: list[PlanPerson], sites: list[PlanSite],
                 rules: IsolationRules, rooms: list[list[list[Any]]] | None = None) -> None:
        """``rooms``: per site, the free rooms of each class (standard, accessible, family,
        accessible family), taken from the end; by default numbered as the module says."""
        self.people, self.sites, self.rules = people, sites, rules
        self.rooms = rooms if rooms is not None else [room_numbers(s) for s in sites]
        self.residual = np.array([[len(c) for c in r] for r in self.rooms],
                                 dtype=np.int64).reshape(-1, 4)
        self.initial = self.residual.copy()
        self.capacity = np.array([s.room_capacity for s in sites], dtype=np.int64)
        self.fam_rooms = self.residual[:, FAM] + self.residual[:, ACCFAM] if sites else \
            np.zeros(0, dtype=np.int64)
        self.site_level = np.array([s.medical_level.rank for s in sites], dtype=np.int64)
        self.site_type = np.array([s.type.value for s in sites], dtype=object)
        self.accessible = {Need(n) for n, r in rules.needs.items() if r.accessible_room}
        self.guarded = {Need(n) for n, r in rules.needs.items() if r.with_guardian}
        if people and sites:
            plon = np.array([p.lon for p in people])
            plat = np.array([p.lat for p in people])
            self.dist = haversine_km(plon[:, None], plat[:, None],
                                     np.array([s.lon for s in sites])[None, :],
                                     np.array([s.lat for s in sites])[None, :])
        else:
            self.dist = np.zeros((len(people), len(sites)))
        self._masks: dict[tuple[frozenset[str], int], np.ndarray] = {}
        self.units = self._units()

    # --- units and eligibility ---------------------------------------------------------------

    def _units(self) -> list[Unit]:
        by_key: dict[tuple[str, frozenset[str], int], list[int]] = defaultdict(list)
        reasons: dict[int, str] = {}
        for i, person in enumerate(self.people):
            dest = self.rules.destinations.get(person.role.value)
            if dest is None:
                reasons[i] = f"the policy pack gives no destination for role {person.role}"
                continue
            level = MedicalLevel(dest.min_medical_level).rank
            for need in person.needs:
                rule = self.rules.needs.get(need.value)
                if rule is not None:
                    level = max(level, MedicalLevel(rule.min_medical_level).rank)
            by_key[(person.household, frozenset(dest.site_types), level)].append(i)
        # one unit per household and destination: the strictest medical level of its members
        merged: dict[tuple[str, frozenset[str]], list[int]] = defaultdict(list)
        levels: dict[tuple[str, frozenset[str]], int] = defaultdict(int)
        for (household, types, level), members in by_key.items():
            merged[(household, types)] += members
            levels[(household, types)] = max(levels[(household, types)], level)
        units = [Unit(members=[i], groups=[[i]], types=frozenset(), level=0,
                      household=self.people[i].household, reason=reason)
                 for i, reason in reasons.items()]
        for (household, types), members in merged.items():
            members.sort()
            groups: dict[str, list[int]] = defaultdict(list)
            for i in members:
                groups[self.people[i].case_ref].append(i)
            units.append(Unit(members=members, groups=list(groups.values()), types=types,
                              level=levels[(household, types)], household=household))
        for unit in units:
            if unit.reason is None:
                unit.reason = self._guardian_problem(unit)
        return units

    def _guardian_problem(self, unit: Unit) -> str | None:
        for group in unit.groups:
            children = [i for i in group if self.people[i].needs & self.guarded]
            if children and len(children) == len(group):
                need = ", ".join(sorted(n.value for n in self.guarded))
                return (f"{need}: no adult of the same household (and the same case_ref) "
                        "with the same destination to share a family room")
        return None

    def _wheel(self, i: int) -> bool:
        return bool(self.people[i].needs & self.accessible)

    def _plan(self, unit: Unit, capacity: int, split: bool) -> list[tuple[list[int], int]] | None:
        """The rooms a unit needs at a site whose rooms hold ``capacity``: None if impossible."""
        rooms: list[tuple[list[int], int]] = []
        for group in unit.groups:
            if len(group) == 1 or split:
                singles = self._split(group, capacity)
                if singles is None:
                    return None
                rooms += singles
                continue
            if capacity < 2:
                return None
            children = [i for i in group if self.people[i].needs & self.guarded]
            adults = [i for i in group if i not in children]
            chunks = -(-len(group) // capacity)
            if children and len(adults) < chunks:
                return None
            parts: list[list[int]] = [[] for _ in range(chunks)]
            for k, i in enumerate(adults[:chunks]):
                parts[k].append(i)
            rest = children + adults[chunks:]
            for i in rest:
                min(parts, key=len).append(i)
            if any(len(p) > capacity for p in parts):
                return None
            rooms += [(p, ACCFAM if any(self._wheel(i) for i in p) else FAM) if len(p) > 1
                      else (p, ACC if self._wheel(p[0]) else ANY) for p in parts]
        return rooms

    def _split(self, group: list[int], capacity: int) -> list[tuple[list[int], int]] | None:
        """One room each, except that each child who needs a guardian shares a family room
        with one adult of the group; None if that cannot be done."""
        children = [i for i in group if self.people[i].needs & self.guarded]
        # guardians who need no accessible room first: a family room that must be accessible
        # too is the scarcest kind
        adults = sorted((i for i in group if i not in children), key=self._wheel)
        rooms = []
        for k, child in enumerate(children):
            if k < len(adults) and capacity >= 2:
                pair = [adults[k], child]
                rooms.append((pair, ACCFAM if any(self._wheel(i) for i in pair) else FAM))
            else:
                return None
        rooms += [([i], ACC if self._wheel(i) else ANY) for i in adults[len(children):]]
        return rooms

    def _eligible(self, unit: Unit) -> np.ndarray:
        key = (unit.types, unit.level)
        if key not in self._masks:
            mask = np.isin(self.site_type, list(unit.types)) & (self.site_level >= unit.level)
            self._masks[key] = np.asarray(mask, dtype=bool)
        return self._masks[key].copy()

    def _no_site_reason(self, unit: Unit) -> str:
        typed = np.isin(self.site_type, list(unit.types))
        types = ", ".join(sorted(unit.types))
        if not typed.any():
            return f"no site of an allowed type ({types}) in the sites file"
        if not (typed & (self.site_level >= unit.level)).any():
            needs = sorted({n.value for i in unit.members for n in self.people[i].needs})
            return (f"no site of type {types} has medical level {list(MedicalLevel)[unit.level]}"
                    f" or above" + (f" (needs: {', '.join(needs)})" if needs else ""))
        return (f"no site of type {types} has the rooms this household needs "
                f"({len(unit.members)} people)")

    # --- solving ------------------------------------------------------------------------------

    def solve(self) -> AssignmentPlan:
        multi, single = [], []
        for unit in self.units:
            if unit.reason is not None:
                continue
            if unit.types == {SiteType.home.value}:
                unit.site = -1
                continue
            eligible = self._eligible(unit)
            size = len(unit.members)
            if not eligible.any():
                unit.reason = self._no_site_reason(unit)
            elif size == 1 or (len(unit.groups) == 1 and (eligible & (self.capacity >= size)
                                            & (self.fam_rooms > 0)).any()):
                single.append(unit)
            else:
                multi.append(unit)
        self._cp_place(multi)
        for limit in ROUNDS:
            waiting = [u for u in single if u.site is None]
            if waiting:
                self._flow_place(waiting, limit)
        # last: households still without rooms (split over single rooms if need be), on more
        # candidate sites
        self._cp_place([u for u in (*multi, *single) if u.site is None and len(u.members) > 1],
                       CP_WIDER)
        for unit in self.units:
            if unit.site is None and unit.reason is None:
                unit.reason = self._full_reason(unit)
        return self._result()

    def _full_reason(self, unit: Unit) -> str:
        types = ", ".join(sorted(unit.types))
        counts = self.initial
        for s in np.flatnonzero(self._eligible(unit)):
            for split in (False, True):
                plan = self._plan(unit, int(self.capacity[s]), split)
                if plan is not None and hall_ok(_demand(plan), counts[s]):
                    what = "this household" if len(unit.members) > 1 else "this person"
                    return f"no room left for {what} at the eligible sites ({types})"
        wheel = any(self._wheel(i) for i in unit.members)
        if any(self.people[i].needs & self.guarded for i in unit.members):
            return (f"no eligible site ({types}) has {'an accessible' if wheel else 'a'} "
                    "family room for the child with its guardian")
        return (f"no eligible site ({types}) has the rooms this household needs "
                f"({len(unit.members)} people" + (", accessible" if wheel else "") + ")")

    def _fits(self, s: int, plan: list[tuple[list[int], int]] | None) -> bool:
        return plan is not None and hall_ok(_demand(plan), self.residual[s])

    def _cost(self, unit: Unit, sites: np.ndarray, metres: int = 1) -> np.ndarray:
        """Travel of the unit's members to each of ``sites``, in whole units of ``metres``."""
        km = self.dist[unit.members][:, sites].sum(axis=0)
        return np.rint(km * 1000 / metres).astype(np.int64)

    def _flow_place(self, units: list[Unit], limit: int | None) -> None:
        """One room per unit: min-cost flow over the ``limit`` nearest eligible sites."""
        n_sites = len(self.sites)
        entry0, class0 = len(units), len(units) + 4 * n_sites
        sink = class0 + 4 * n_sites
        tails, heads, costs, caps = [], [], [], []
        worst = 1
        for k, unit in enumerate(units):
            size = len(unit.members)
            eligible = self._eligible(unit)
            if size > 1:
                eligible &= (self.capacity >= size) & (self.fam_rooms > 0)
            sites = np.flatnonzero(eligible)
            kind = (ACCFAM if any(self._wheel(i) for i in unit.members) else FAM) if size > 1 \
                else (ACC if self._wheel(unit.members[0]) else ANY)
            cost = self._cost(unit, sites)
            if limit is not None and len(sites) > limit:
                keep = np.argpartition(cost, limit)[:limit]
                sites, cost = sites[keep], cost[keep]
            if len(cost):
                worst = max(worst, int(cost.max()))
            tails.append(np.full(len(sites), k))
            heads.append(entry0 + sites * 4 + kind)
            costs.append(cost)
            caps.append(np.ones(len(sites), dtype=np.int64))
        big = worst * sum(len(u.members) for u in units) + 1
        tails.append(np.arange(len(units)))
        heads.append(np.full(len(units), sink))
        costs.append(np.array([big * len(u.members) for u in units], dtype=np.int64))
        caps.append(np.ones(len(units), dtype=np.int64))
        pairs = [(kind, c) for kind, classes in USES.items() for c in classes]
        site_ids = np.repeat(np.arange(n_sites), len(pairs))
        kinds = np.tile([k for k, _ in pairs], n_sites)
        classes = np.tile([c for _, c in pairs], n_sites)
        tails.append(entry0 + site_ids * 4 + kinds)
        heads.append(class0 + site_ids * 4 + classes)
        costs.append(np.zeros(len(site_ids), dtype=np.int64))
        caps.append(np.full(len(site_ids), len(units), dtype=np.int64))
        tails.append(class0 + np.arange(4 * n_sites))
        heads.append(np.full(4 * n_sites, sink))
        costs.append(np.zeros(4 * n_sites, dtype=np.int64))
        caps.append(self.residual.reshape(-1).copy())
        tail = np.concatenate(tails).astype(np.int32)
        head = np.concatenate(heads).astype(np.int32)
        from ortools.graph.python import min_cost_flow  # OR-Tools: imported when solving

        graph = min_cost_flow.SimpleMinCostFlow()
        arcs = graph.add_arcs_with_capacity_and_unit_cost(
            tail, head, np.concatenate(caps).astype(np.int64),
            np.concatenate(costs).astype(np.int64))
        supplies = np.zeros(sink + 1, dtype=np.int64)
        supplies[: len(units)] = 1
        supplies[sink] = -len(units)
        graph.set_nodes_supplies(np.arange(sink + 1, dtype=np.int32), supplies)
        status = graph.solve()
        if status != graph.OPTIMAL:
            raise RuntimeError(f"min-cost flow failed with status {status}")
        flows = graph.flows(arcs)
        used = np.flatnonzero((flows > 0) & (tail < len(units)) & (head < class0))
        placed = []
        for a in used:
            s, kind = divmod(int(head[a]) - entry0, 4)
            unit = units[int(tail[a])]
            unit.site, unit.plan = s, [(list(unit.members), kind)]
            placed.append(unit)
        self._take_rooms(placed)

    def _cp_place(self, units: list[Unit], candidates: int = 0) -> None:
        """Units that need several rooms at one site: CP-SAT over (unit, site, room plan).

        Lexicographic objective: most people placed, then fewest households split over
        single rooms although a family-room plan exists, then least distance."""
        if not units:
            return
        from ortools.sat.python import cp_model

        model = cp_model.CpModel()
        options: list[tuple[int, int, list[tuple[list[int], int]], Any, int, bool]] = []
        by_site: dict[int, list[tuple[list[int], Any]]] = defaultdict(list)
        placed_vars: dict[int, list[tuple[Any, bool]]] = defaultdict(list)
        for k, unit in enumerate(units):
            sites = np.flatnonzero(self._eligible(unit))
            cost = self._cost(unit, sites, CP_METRES)
            limit = candidates or CP_CANDIDATES
            if len(sites) > limit:
                keep = np.argpartition(cost, limit)[:limit]
                sites, cost = sites[keep], cost[keep]
            for s, c in zip(sites, cost, strict=True):
                for split in (False, True):
                    plan = self._plan(unit, int(self.capacity[s]), split)
                    if plan is None or not self._fits(int(s), plan):
                        continue
                    if split and _demand(plan) == _demand(
                            self._plan(unit, int(self.capacity[s]), False) or []):
                        continue  # the same rooms as the grouped plan
                    var = model.new_bool_var(f"u{k}s{s}{'s' if split else 'g'}")
                    options.append((k, int(s), plan, var, int(c), split))
                    by_site[int(s)].append((_demand(plan), var))
                    placed_vars[k].append((var, split))
        for vars_ in placed_vars.values():
            model.add_at_most_one(v for v, _ in vars_)
        for site_ix, entries in by_site.items():
            r = self.residual[site_ix]
            for kinds, limit in hall_constraints(r):
                model.add(sum(sum(d[k] for k in kinds) * v for d, v in entries) <= limit)
        # Weights per unit (not global lexicographic ones: those make CP-SAT's proofs slow):
        # not splitting a household costs more than its farthest candidate, and placing
        # a person is worth more than its farthest candidate plus a split.
        worst = {k: max(o[4] for o in options if o[0] == k) + 1 for k in placed_vars}
        grouped = {k for k, vs in placed_vars.items() if any(not sp for _, sp in vs)}
        model.minimize(sum(
            var * (cost - 3 * worst[k] * len(units[k].members)
                   + (worst[k] if split and k in grouped else 0))
            for k, _s, _plan, var, cost, split in options))
        solver = cp_model.CpSolver()
        solver.parameters.max_time_in_seconds = CP_SECONDS
        solver.parameters.num_workers = 2
        status = solver.solve(model)
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return
        for k, chosen, plan, var, _cost, _split in options:
            if solver.boolean_value(var):
                units[k].site, units[k].plan = chosen, [(list(m), kind) for m, kind in plan]
        self._take_rooms([u for u in units if u.site is not None])

    def _take_rooms(self, units: list[Unit]) -> None:
        """Turn the room kinds of placed units into room classes, site by site, the scarcest
        kinds first and each kind taking its plainest class first (always possible: the flow and
        the CP model keep Hall's condition for these nested classes)."""
        by_site: dict[int, list[tuple[Unit, int]]] = defaultdict(list)
        for unit in units:
            assert unit.site is not None
            for r in range(len(unit.plan)):
                by_site[unit.site].append((unit, r))
        for s, rooms in by_site.items():
            for kind in (ACCFAM, FAM, ACC, ANY):
                for unit, r in rooms:
                    members, want = unit.plan[r]
                    if want != kind:
                        continue
                    c = next(c for c in USES[kind] if self.residual[s, c] > 0)
                    self.residual[s, c] -= 1
                    unit.plan[r] = (members, c)

    # --- output -------------------------------------------------------------------------------

    def _result(self) -> AssignmentPlan:
        numbers = self.rooms
        where: dict[int, tuple[str, Any, float]] = {}
        reasons: dict[int, str] = {}
        for unit in self.units:
            if unit.site is None:
                for i in unit.members:
                    reasons[i] = unit.reason or "not placed"
            elif unit.site == -1:
                for i in unit.members:
                    where[i] = ("home", None, 0.0)
            else:
                site = self.sites[unit.site]
                for members, c in unit.plan:
                    room = numbers[unit.site][c].pop()
                    for i in members:
                        where[i] = (site.site_id, room, float(self.dist[i, unit.site]))
        assignments, unassigned, total = [], [], 0.0
        for i, person in enumerate(self.people):
            if i in where:
                site_id, room, km = where[i]
                assignments.append(Placement(person_ref=person.ref, site_id=site_id,
                                             room=room))
                total += km
            else:
                unassigned.append(NotPlaced(person_ref=person.ref, reason=reasons[i]))
        return AssignmentPlan(assignments=assignments, unassigned=unassigned,
                              total_distance_km=round(total, 3))


def hall_constraints(r: Any) -> list[tuple[tuple[int, ...], int]]:
    """Demands by kind fit the free rooms by class (with the substitutions of ``USES``) if and
    only if these hold (Hall's condition for this nested structure)."""
    return [((ACCFAM,), int(r[ACCFAM])),
            ((FAM, ACCFAM), int(r[FAM] + r[ACCFAM])),
            ((ACC, ACCFAM), int(r[ACC] + r[ACCFAM])),
            ((ACC, FAM, ACCFAM), int(r[ACC] + r[FAM] + r[ACCFAM])),
            ((ANY, ACC, FAM, ACCFAM), int(r.sum()))]


def _demand(plan: list[tuple[list[int], int]]) -> list[int]:
    demand = [0, 0, 0, 0]
    for _, kind in plan:
        demand[kind] += 1
    return demand


def hall_ok(demand: list[int], r: Any) -> bool:
    return all(sum(demand[k] for k in kinds) <= limit for kinds, limit in hall_constraints(r))


def assign(people: list[PlanPerson], sites: list[PlanSite], rules: IsolationRules,
           rooms: list[list[list[Any]]] | None = None) -> AssignmentPlan:
    return Solver(people, sites, rules, rooms).solve()
