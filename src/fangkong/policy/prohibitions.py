"""The nine prohibitions (九不准) as checks over measures described as data.

Each check compares a local measure with what the pack allows and returns the prohibitions it
breaks, with the reason. Which prohibition each kind of measure can break:

- management: 2 (people from low-risk areas), 4 (people the pack does not class as risk
  persons), 5 (longer or stricter than the pack's plan for the role)
- area_control: 3 (a zone held past its lifting date)
- travel_restriction: 1 (beyond the levels the pack restricts)
- checkpoint: 8 (blocks drivers who meet the pack's conditions)
- close_venues: 9 (venues closed outside the levels the pack allows)
- deny_care: 6
- student_quarantine: 7
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fangkong.core.errors import Invalid
from fangkong.policy.enums import PhaseKind
from fangkong.policy.measures import (
    AreaControl,
    Checkpoint,
    CloseVenues,
    DenyCare,
    Driver,
    Management,
    Measure,
    MeasurePhase,
    StudentQuarantine,
    TravelRestriction,
)
from fangkong.policy.pack import CheckpointPass, Pack, Prohibitions, RoleDef
from fangkong.policy.schemas import CheckReport, Violation, ZoneFacts
from fangkong.policy.zones import evaluate, is_base, schedule

LOW_RISK_ROLE = "from_low_risk_area"
Findings = tuple[list[tuple[int, str]], list[str]]
Profile = dict[int, PhaseKind]


def rules_of(pack: Pack) -> Prohibitions:
    if pack.prohibitions is None:
        raise Invalid(f"pack {pack.id} defines no prohibitions (九不准 were issued with the "
                      "9th edition; check against cn_v9 or a later pack)")
    return pack.prohibitions


def check(pack: Pack, measures: list[Measure]) -> CheckReport:
    rules = rules_of(pack)
    violations: list[Violation] = []
    notes: list[str] = []
    for index, measure in enumerate(measures):
        found, said = CHECKS[measure.kind](pack, rules, measure)
        violations += [Violation(measure=index, prohibition=n, text=rules.texts[n], why=why)
                       for n, why in found]
        notes += [f"measure {index}: {note}" for note in said]
    return CheckReport(pack=pack.id, pack_version=pack.version, violations=violations,
                       notes=notes)


# --- management ------------------------------------------------------------------------------

def _profile(phases: list[tuple[PhaseKind, int]], start_day: int) -> Profile:
    out: Profile = {}
    day = start_day
    for kind, days in phases:
        out.update({day + k: kind for k in range(days)})
        day += days
    return out


def _restricted(profile: Profile) -> list[int]:
    return sorted(d for d, kind in profile.items() if kind.restrictive)


def _ranges(days: list[int]) -> str:
    spans: list[list[int]] = []
    for d in days:
        if spans and d == spans[-1][1] + 1:
            spans[-1][1] = d
        else:
            spans.append([d, d])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in spans)


def _describe(phases: list[MeasurePhase]) -> str:
    return " + ".join(f"{p.days} days {p.kind.value}" for p in phases) or "nothing"


def _plan_text(role: RoleDef) -> str:
    return " + ".join(f"{p.days} days {p.kind.value}" for p in role.phases) or "no phases"


def _excess(plan: Profile, measure: Profile) -> list[str]:
    """How the measure restricts more than the plan: longer, and stricter on some days."""
    plan_last = max(_restricted(plan), default=0)
    mine = _restricted(measure)
    out = []
    if mine and mine[-1] > plan_last:
        out.append(f"restricts until day {mine[-1]} where the pack's plan restricts until day "
                   f"{plan_last} ({mine[-1] - plan_last} days longer)")
    stricter = [d for d in mine if d <= plan_last
                and measure[d].severity > (plan[d].severity if d in plan else -1)]
    if stricter:
        kinds = sorted({f"{measure[d].value} instead of {plan[d].value if d in plan else 'none'}"
                        for d in stricter})
        out.append(f"stricter on days {_ranges(stricter)} ({'; '.join(kinds)})")
    return out


def _low_risk(pack: Pack, m: Management) -> Findings:
    found = []
    if m.forced_return:
        found.append((2, "arrivals from low-risk areas are turned back (劝返)"))
    restrictive = [p for p in m.phases if p.kind.restrictive]
    if restrictive:
        plan = pack.roles.get(LOW_RISK_ROLE)
        allowed = _plan_text(plan) if plan else "nothing"
        found.append((2, f"people from low-risk areas are put under {_describe(restrictive)}; "
                         f"pack {pack.id} gives them {allowed}"))
    return found, []


def _management(pack: Pack, _: Prohibitions, m: Any) -> Findings:
    assert isinstance(m, Management)
    if m.role == LOW_RISK_ROLE:
        return _low_risk(pack, m)
    role = pack.roles.get(m.role)
    restrictive = [p for p in m.phases if p.kind.restrictive]
    if role is None or not role.risk_person:
        if not restrictive:
            return [], []
        why = (f"'{m.role}' is not a role of pack {pack.id}" if role is None else
               f"pack {pack.id} does not class '{m.role}' as risk persons"
               + (f" ({role.explanation})" if role.explanation else ""))
        return [(4, f"{why}, yet they are put under {_describe(restrictive)}")], []
    if not role.managed:
        return [], [f"pack {pack.id} gives '{m.role}' no plan to compare with "
                    f"({role.explanation})"]
    plan = _profile([(p.kind, p.days) for p in role.phases], role.start_day)
    measure = _profile([(p.kind, p.days) for p in m.phases], m.start_day)
    excess = _excess(plan, measure)
    if not excess:
        return [], []
    return [(5, f"'{m.role}': the measure ({_describe(m.phases)}) "
                f"{' and '.join(excess)}; pack {pack.id} plans {_plan_text(role)}")], []


# --- areas, travel, checkpoints, venues, care, students --------------------------------------

def _area(pack: Pack, _: Prohibitions, m: Any) -> Findings:
    assert isinstance(m, AreaControl)
    if m.level not in (pack.zones.levels if pack.zones else {}):
        return [], [f"'{m.level}' is not a level of pack {pack.id}; not checked"]
    if is_base(pack, m.level):
        return [], [f"'{m.level}' is the base level, not a controlled zone; not checked"]
    plan = schedule(pack, m.level, m.last_infection, path_level=m.path_level,
                    level_since=m.level_since)
    if not plan.steps:
        return [], [plan.note or "no lifting clock; not checked"]
    step = plan.steps[0]
    effective = step.effective
    if m.negative_rounds is not None:
        verdict = evaluate(pack, level=m.level, last_infection=m.last_infection,
                           on=m.held_until, facts=ZoneFacts(
                               negative_rounds=m.negative_rounds, path_level=m.path_level,
                               level_since=m.level_since, confirmed=_extras(pack, m)))
        if verdict.due is None or verdict.escalation:
            return [], []
        effective = verdict.effective or effective
    elif m.held_until < effective:
        return [], []
    late = (m.held_until - effective).days + 1
    return [(3, f"a '{m.level}' zone whose last infection was reported on {m.last_infection} "
                f"should become '{step.to_level}' on {effective} ({'; '.join(step.requires)}), "
                f"but is held until {m.held_until} ({late} days too long)")], []


def _extras(pack: Pack, m: AreaControl) -> list[str]:
    """Manual lifting conditions are taken as met: the check is about the clock."""
    assert pack.zones is not None
    level = pack.zones.levels[m.path_level or m.level]
    return [e.id for step in level.lifting for e in step.also_requires]


def _travel(pack: Pack, rules: Prohibitions, m: Any) -> Findings:
    assert isinstance(m, TravelRestriction)
    beyond = [lvl for lvl in m.from_levels if lvl not in rules.travel_restricted_levels]
    if not beyond:
        return [], []
    return [(1, f"restricts travel from {', '.join(beyond)} areas; pack {pack.id} restricts "
                f"only {', '.join(rules.travel_restricted_levels)}")], []


def meets(rule: CheckpointPass, driver: Driver) -> bool:
    """Whether a driver meets the conditions on which a checkpoint must let them through."""
    nat_ok = rule.nat_within_hours is None or (
        driver.nat_within_hours is not None and driver.nat_within_hours <= rule.nat_within_hours)
    code_ok = rule.health_codes is None or driver.health_code in rule.health_codes
    return nat_ok and code_ok and driver.from_level in rule.from_levels


def _conditions(rule: CheckpointPass) -> str:
    parts = [f"negative test within {rule.nat_within_hours} h" if rule.nat_within_hours
             else "no test required",
             f"health code {'/'.join(rule.health_codes)}" if rule.health_codes
             else "no health code check", f"from {'/'.join(rule.from_levels)} areas"]
    return ", ".join(parts)


def _checkpoint(pack: Pack, rules: Prohibitions, m: Any) -> Findings:
    assert isinstance(m, Checkpoint)
    blocked = [i for i, d in enumerate(m.blocks) if meets(rules.checkpoint_pass, d)]
    if not blocked:
        return [], []
    return [(8, f"turns back drivers who meet pack {pack.id}'s conditions "
                f"({_conditions(rules.checkpoint_pass)}): blocks entries "
                f"{', '.join(map(str, blocked))}")], []


def _venues(pack: Pack, rules: Prohibitions, m: Any) -> Findings:
    assert isinstance(m, CloseVenues)
    policy = rules.venue_closure
    if m.area_level in policy.allowed_levels or (policy.essential_only and not m.essential):
        return [], []
    what = "essential venues" if m.essential else "venues"
    return [(9, f"closes {what} ({m.venue_type}) in a '{m.area_level}' area; pack {pack.id} "
                f"allows closures only in {', '.join(policy.allowed_levels)} areas")], []


def _care(pack: Pack, rules: Prohibitions, m: Any) -> Findings:
    assert isinstance(m, DenyCare)
    if (m.patient not in rules.protected_patients or m.grounds != "epidemic_control"
            or m.arranged_referral):
        return [], []
    return [(6, f"refuses care to a {m.patient.value} patient on epidemic-control grounds "
                "with no transfer arranged")], []


def _students(pack: Pack, rules: Prohibitions, m: Any) -> Findings:
    assert isinstance(m, StudentQuarantine)
    if m.from_level not in rules.students.protected_levels:
        return [], [f"students leaving a '{m.from_level}' area are managed by their area's "
                    "rules: check it as a management measure"]
    restrictive = [p for p in m.phases if p.kind.restrictive]
    if not (m.returning_home and m.meets_conditions and restrictive):
        return [], []
    return [(7, f"students returning home from a '{m.from_level}' area who meet the "
                f"conditions ({'; '.join(rules.students.conditions)}) are put under "
                f"{_describe(restrictive)}")], []


CHECKS: dict[str, Callable[[Pack, Prohibitions, Any], Findings]] = {
    "management": _management,
    "area_control": _area,
    "travel_restriction": _travel,
    "checkpoint": _checkpoint,
    "close_venues": _venues,
    "deny_care": _care,
    "student_quarantine": _students,
}
