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
from fangkong.core.messages import AND, COMMA, PLUS, SEMICOLON, Day, Text, joined
from fangkong.policy import messages
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
from fangkong.policy.messages import P
from fangkong.policy.pack import CheckpointPass, Pack, Prohibitions, RoleDef
from fangkong.policy.schemas import CheckReport, Violation, ZoneFacts
from fangkong.policy.zones import evaluate, is_base, schedule

LOW_RISK_ROLE = "from_low_risk_area"
Findings = tuple[list[tuple[int, Text]], list[Text]]
Profile = dict[int, PhaseKind]


def rules_of(pack: Pack) -> Prohibitions:
    if pack.prohibitions is None:
        raise Invalid(P("no_prohibitions", pack=pack.id))
    return pack.prohibitions


def check(pack: Pack, measures: list[Measure]) -> CheckReport:
    """The prohibitions each measure breaks; each reason (and each note) is a message shown in
    its reader's language (``Violation.why_in``); ``why`` and ``notes`` hold the English."""
    rules = rules_of(pack)
    violations: list[Violation] = []
    notes: list[Text] = []
    for index, measure in enumerate(measures):
        found, said = CHECKS[measure.kind](pack, rules, measure)
        violations += [Violation.of(measure=index, prohibition=n, text=rules.texts[n], why=why)
                       for n, why in found]
        notes += [P("note.measure", index=index, note=note) for note in said]
    return CheckReport.of(pack=pack.id, pack_version=pack.version, violations=violations,
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


def _phases(phases: list[Any], empty: str) -> Any:
    if not phases:
        return P(empty)
    return joined((P("phase", days=p.days, kind=messages.phase_kind(p.kind)) for p in phases),
                  PLUS)


def _describe(phases: list[MeasurePhase]) -> Any:
    return _phases(phases, "nothing")


def _plan_text(role: RoleDef) -> Any:
    return _phases(role.phases, "no_phases")


def _excess(plan: Profile, measure: Profile) -> list[Text]:
    """How the measure restricts more than the plan: longer, and stricter on some days."""
    plan_last = max(_restricted(plan), default=0)
    mine = _restricted(measure)
    out = []
    if mine and mine[-1] > plan_last:
        out.append(P("p5.longer", last=mine[-1], plan_last=plan_last,
                     longer=mine[-1] - plan_last))
    stricter = [d for d in mine if d <= plan_last
                and measure[d].severity > (plan[d].severity if d in plan else -1)]
    if stricter:
        pairs = sorted({(measure[d].value, plan[d].value if d in plan else "none")
                        for d in stricter})
        kinds = [P("p5.instead", kind=messages.phase_kind(PhaseKind(a)),
                   plan_kind=messages.phase_kind(PhaseKind(b) if b != "none" else None))
                 for a, b in pairs]
        out.append(P("p5.stricter", days=_ranges(stricter), kinds=joined(kinds, SEMICOLON)))
    return out


def _low_risk(pack: Pack, m: Management) -> Findings:
    found = []
    if m.forced_return:
        found.append((2, P("p2.forced_return")))
    restrictive = [p for p in m.phases if p.kind.restrictive]
    if restrictive:
        plan = pack.roles.get(LOW_RISK_ROLE)
        allowed = _plan_text(plan) if plan else P("nothing")
        found.append((2, P("p2.restricted", measure=_describe(restrictive), pack=pack.id,
                           allowed=allowed)))
    return found, []


def _management(pack: Pack, _: Prohibitions, m: Any) -> Findings:
    assert isinstance(m, Management)
    if m.role == LOW_RISK_ROLE:
        return _low_risk(pack, m)
    role = pack.roles.get(m.role)
    restrictive = [p for p in m.phases if p.kind.restrictive]
    who = messages.role(pack, m.role)
    if role is None or not role.risk_person:
        if not restrictive:
            return [], []
        measure = _describe(restrictive)
        if role is None:
            why = P("p4.unknown_role", role=who, pack=pack.id, measure=measure)
        elif role.explanation:
            why = P("p4.not_risk_why", role=who, pack=pack.id,
                    explanation=messages.pack_text(role.explanation), measure=measure)
        else:
            why = P("p4.not_risk", role=who, pack=pack.id, measure=measure)
        return [(4, why)], []
    if not role.managed:
        return [], [P("note.no_plan", pack=pack.id, role=who,
                      explanation=messages.pack_text(role.explanation or ""))]
    plan = _profile([(p.kind, p.days) for p in role.phases], role.start_day)
    measure = _profile([(p.kind, p.days) for p in m.phases], m.start_day)
    excess = _excess(plan, measure)
    if not excess:
        return [], []
    return [(5, P("p5.longer_or_stricter", role=who, measure=_describe(m.phases),
                  excess=joined(excess, AND), pack=pack.id, plan=_plan_text(role)))], []


# --- areas, travel, checkpoints, venues, care, students --------------------------------------

def _area(pack: Pack, _: Prohibitions, m: Any) -> Findings:
    assert isinstance(m, AreaControl)
    if m.level not in (pack.zones.levels if pack.zones else {}):
        return [], [P("note.unknown_level", level=m.level, pack=pack.id)]
    level = messages.level(pack, m.level)
    if is_base(pack, m.level):
        return [], [P("note.base_level", level=level)]
    plan = schedule(pack, m.level, m.last_infection, path_level=m.path_level,
                    level_since=m.level_since)
    if not plan.steps:
        return [], [P("note.no_clock", level=level)]
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
    requires = joined((messages.condition(c) for c in step.conditions), SEMICOLON)
    return [(3, P("p3.held", level=level, last=Day(m.last_infection),
                  to=messages.level(pack, step.to_level), effective=Day(effective),
                  requires=requires, held=Day(m.held_until), late=late))], []


def _extras(pack: Pack, m: AreaControl) -> list[str]:
    """Manual lifting conditions are taken as met: the check is about the clock."""
    assert pack.zones is not None
    level = pack.zones.levels[m.path_level or m.level]
    return [e.id for step in level.lifting for e in step.also_requires]


def _levels(pack: Pack, names: list[str], separators: dict[str, str] = COMMA) -> Any:
    return joined((messages.level(pack, n) for n in names), separators)


def _travel(pack: Pack, rules: Prohibitions, m: Any) -> Findings:
    assert isinstance(m, TravelRestriction)
    beyond = [lvl for lvl in m.from_levels if lvl not in rules.travel_restricted_levels]
    if not beyond:
        return [], []
    return [(1, P("p1.beyond", beyond=_levels(pack, beyond), pack=pack.id,
                  allowed=_levels(pack, rules.travel_restricted_levels)))], []


def meets(rule: CheckpointPass, driver: Driver) -> bool:
    """Whether a driver meets the conditions on which a checkpoint must let them through."""
    nat_ok = rule.nat_within_hours is None or (
        driver.nat_within_hours is not None and driver.nat_within_hours <= rule.nat_within_hours)
    code_ok = rule.health_codes is None or driver.health_code in rule.health_codes
    return nat_ok and code_ok and driver.from_level in rule.from_levels


_SLASH = {"zh-Hans": "/", "zh-Hant": "/", "en": "/"}


def _conditions(pack: Pack, rule: CheckpointPass) -> Any:
    parts = [P("p8.nat", hours=rule.nat_within_hours) if rule.nat_within_hours
             else P("p8.no_nat"),
             P("p8.codes", codes=joined((messages.health_code(c) for c in rule.health_codes),
                                        _SLASH)) if rule.health_codes else P("p8.no_codes"),
             P("p8.from", levels=_levels(pack, rule.from_levels, _SLASH))]
    return joined(parts, COMMA)


def _checkpoint(pack: Pack, rules: Prohibitions, m: Any) -> Findings:
    assert isinstance(m, Checkpoint)
    blocked = [i for i, d in enumerate(m.blocks) if meets(rules.checkpoint_pass, d)]
    if not blocked:
        return [], []
    return [(8, P("p8.blocks", pack=pack.id, conditions=_conditions(pack, rules.checkpoint_pass),
                  entries=", ".join(map(str, blocked))))], []


def _venues(pack: Pack, rules: Prohibitions, m: Any) -> Findings:
    assert isinstance(m, CloseVenues)
    policy = rules.venue_closure
    if m.area_level in policy.allowed_levels or (policy.essential_only and not m.essential):
        return [], []
    key = "p9.closes_essential" if m.essential else "p9.closes"
    return [(9, P(key, venue=messages.pack_text(m.venue_type),
                  level=messages.level(pack, m.area_level), pack=pack.id,
                  allowed=_levels(pack, policy.allowed_levels)))], []


def _care(pack: Pack, rules: Prohibitions, m: Any) -> Findings:
    assert isinstance(m, DenyCare)
    if (m.patient not in rules.protected_patients or m.grounds != "epidemic_control"
            or m.arranged_referral):
        return [], []
    return [(6, P("p6.refuses", patient=messages.patient(m.patient)))], []


def _students(pack: Pack, rules: Prohibitions, m: Any) -> Findings:
    assert isinstance(m, StudentQuarantine)
    level = messages.level(pack, m.from_level)
    if m.from_level not in rules.students.protected_levels:
        return [], [P("note.students", level=level)]
    restrictive = [p for p in m.phases if p.kind.restrictive]
    if not (m.returning_home and m.meets_conditions and restrictive):
        return [], []
    return [(7, P("p7.students", level=level,
                  conditions=joined(map(messages.pack_text, rules.students.conditions),
                                    SEMICOLON),
                  measure=_describe(restrictive)))], []


CHECKS: dict[str, Callable[[Pack, Prohibitions, Any], Findings]] = {
    "management": _management,
    "area_control": _area,
    "travel_restriction": _travel,
    "checkpoint": _checkpoint,
    "close_venues": _venues,
    "deny_care": _care,
    "student_quarantine": _students,
}
