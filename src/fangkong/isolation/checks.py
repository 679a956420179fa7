"""An independent check of an assignment against the hard rules: used by the tests and by the
benchmark (to count what the greedy baseline breaks)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from fangkong.isolation.enums import MedicalLevel
from fangkong.isolation.planning import PlanPerson, PlanSite
from fangkong.isolation.schemas import AssignmentPlan
from fangkong.policy.isolation_rules import IsolationRules


@dataclass
class Violations:
    room_capacity: list[str] = field(default_factory=list)
    shared_room: list[str] = field(default_factory=list)
    """A room holding more than one person that is not a family room of one household."""
    cases_mixed: list[str] = field(default_factory=list)
    """Close contacts of different cases in one room."""
    site_type: list[str] = field(default_factory=list)
    needs: list[str] = field(default_factory=list)
    households_split: list[str] = field(default_factory=list)
    """Households (with the same destination) placed at more than one site."""
    unknown_room: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {k: len(v) for k, v in self.__dict__.items()}

    @property
    def total(self) -> int:
        return sum(self.counts().values())


def check(result: AssignmentPlan, people: list[PlanPerson], sites: list[PlanSite],
          rules: IsolationRules) -> Violations:
    out = Violations()
    by_ref = {p.ref: p for p in people}
    by_site = {s.site_id: s for s in sites}
    rooms: dict[tuple[str, Any], list[PlanPerson]] = defaultdict(list)
    households: dict[tuple[str, tuple[str, ...]], set[str]] = defaultdict(set)
    for row in result.assignments:
        person = by_ref[row.person_ref]
        dest = rules.destinations[person.role.value]
        households[(person.household, tuple(dest.site_types))].add(row.site_id)
        if row.site_id == "home":
            if "home" not in dest.site_types:
                out.site_type.append(f"{person.ref} sent home")
            continue
        site = by_site[row.site_id]
        if site.type.value not in dest.site_types:
            out.site_type.append(f"{person.ref} ({person.role}) at a {site.type}")
        level = MedicalLevel(dest.min_medical_level).rank
        for need in person.needs:
            rule = rules.needs.get(need.value)
            if rule is None:
                continue
            if site.medical_level.rank < MedicalLevel(rule.min_medical_level).rank:
                out.needs.append(f"{person.ref} {need}: medical level {site.medical_level}")
            if rule.accessible_room and not (row.room or 0) <= site.accessible_rooms:
                out.needs.append(f"{person.ref} {need}: room {row.room} not accessible")
        if site.medical_level.rank < level:
            out.site_type.append(f"{person.ref} ({person.role}) at medical level "
                                 f"{site.medical_level}")
        if not isinstance(row.room, int) or not 1 <= row.room <= site.rooms:
            out.unknown_room.append(f"{person.ref}: room {row.room} of {site.site_id}")
            continue
        rooms[(site.site_id, row.room)].append(person)
    guarded = {n for n, r in rules.needs.items() if r.with_guardian}
    for (site_id, room), inside in rooms.items():
        site = by_site[site_id]
        family = room > site.rooms - site.family_rooms
        where = f"{site_id} room {room}"
        if len(inside) > (site.room_capacity if family else 1):
            out.room_capacity.append(f"{where}: {len(inside)} people")
        if len(inside) > 1 and (not family or len({p.household for p in inside}) > 1):
            out.shared_room.append(where)
        if len({p.case_ref for p in inside}) > 1:
            out.cases_mixed.append(where)
        for p in inside:
            if {n.value for n in p.needs} & guarded and not any(
                    q is not p and not {n.value for n in q.needs} & guarded
                    and q.household == p.household for q in inside):
                out.needs.append(f"{p.ref}: child without a guardian in {where}")
    out.households_split = [h for (h, _), placed in households.items() if len(placed) > 1]
    return out
