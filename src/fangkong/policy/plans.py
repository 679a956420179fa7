"""Management plans and look-back windows.

Day counting, the same everywhere: the anchor date is day 0; day N is the anchor plus N calendar
days; a phase of D days starting on day S covers days S..S+D-1; a plan's release date is the day
after its last phase ends.
"""

from __future__ import annotations

from datetime import date, timedelta

from fangkong.core.errors import Invalid, Problem
from fangkong.core.messages import CORE, Text
from fangkong.policy.messages import P
from fangkong.policy.pack import (
    Condition,
    Lookback,
    Pack,
    PhaseDef,
    RoleDef,
    WindowEnd,
    WindowStart,
)
from fangkong.policy.schemas import ConditionRead, PhaseRead, Plan, Window


def day(anchor: date, n: int) -> date:
    return anchor + timedelta(days=n)


def role_def(pack: Pack, role: str) -> RoleDef:
    if role not in pack.roles:
        raise Invalid(P("no_role", pack=pack.id, role=role), problems=[Problem(
            CORE("expected_one_of", values=", ".join(pack.roles)), field="role")])
    return pack.roles[role]


def _phase(phase: PhaseDef, anchor: date, start_day: int) -> PhaseRead:
    test_days = [start_day + d - 1 for d in phase.test_days]
    return PhaseRead(kind=phase.kind, start=day(anchor, start_day),
                     end=day(anchor, start_day + phase.days - 1),
                     test_dates=[day(anchor, d) for d in test_days], start_day=start_day,
                     end_day=start_day + phase.days - 1, test_days=test_days, where=phase.where,
                     rules=phase.rules)


def _condition(c: Condition) -> ConditionRead:
    return ConditionRead(id=c.id, when=c.when, then=c.then, becomes_role=c.becomes_role,
                         ends_plan=c.ends_plan, source=c.source)


def phases(role: RoleDef, anchor: date) -> list[PhaseRead]:
    out, start = [], role.start_day
    for phase in role.phases:
        out.append(_phase(phase, anchor, start))
        start += phase.days
    return out


def build_plan(pack: Pack, role: str, anchor: date) -> Plan:
    """The pack's plan for ``role`` from ``anchor`` (day 0). A role the pack declares but does
    not manage gets a plan with no phases, ``managed`` false and the pack's explanation."""
    spec = role_def(pack, role)
    laid = phases(spec, anchor)
    conditions = [*spec.conditions, *(pack.common_conditions if spec.managed else [])]
    return Plan.of(pack=pack.id, pack_version=pack.version, role=role, anchor=anchor,
                anchor_meaning=P(f"anchor.{spec.anchor}"), managed=spec.managed,
                explanation=spec.explanation, phases=laid,
                release_date=day(laid[-1].end, 1) if laid else None,
                conditions=[_condition(c) for c in conditions], source=spec.source)


# --- look-back windows -----------------------------------------------------------------------

def _lookback(pack: Pack) -> Lookback:
    if pack.lookback is None:
        raise Invalid(P("no_lookback", pack=pack.id))
    return pack.lookback


def _start(rule: WindowStart, anchor: date) -> date:
    return day(anchor, -rule.days_before)


def _window_start(rules: Lookback, *, anchor: date, symptomatic: bool,
                  last_negative_sample: date | None) -> tuple[date, Text]:
    if last_negative_sample is not None and rules.frequently_tested is not None:
        if last_negative_sample > anchor:
            raise Invalid(P("negative_after_anchor"),
                          problems=[Problem(P("not_after_anchor"),
                                            field="last_negative_sample")])
        return (_start(rules.frequently_tested.start, last_negative_sample),
                P("basis.last_negative"))
    rule = rules.symptomatic if symptomatic else rules.asymptomatic
    return _start(rule, anchor), P("basis.before_onset" if symptomatic
                                   else "basis.before_sample", days=rule.days_before)


def _end(rule: WindowEnd, *, anchor: date, symptomatic: bool, isolated_on: date | None,
         symptoms_resolved: date | None) -> tuple[date | None, Text]:
    if rule.rule == "isolation":
        return isolated_on, P("basis.until_isolated" if isolated_on
                              else "basis.until_isolated_yet")
    if not symptomatic:
        return day(anchor, rule.days_after), P("basis.after_sample", days=rule.days_after)
    end = day(anchor, max(rule.days_after, rule.min_days_after_onset))
    if symptoms_resolved is not None:
        end = max(end, day(symptoms_resolved, rule.symptom_free_days))
    return end, P("basis.after_onset", days=rule.days_after, free=rule.symptom_free_days,
                  least=rule.min_days_after_onset)


def lookback_window(pack: Pack, *, onset: date | None = None,
                    first_positive_sample: date | None = None, isolated_on: date | None = None,
                    last_negative_sample: date | None = None,
                    symptoms_resolved: date | None = None) -> Window:
    """The days in which an exposure to a case makes a contact: from ``days_before`` the
    symptom onset (or, for an asymptomatic infection, the first positive sample) until the
    case was isolated (cn_*) or the end of the infectious period (who_*). For an infection found
    by routine repeated testing, a pack may start the window at the last negative sample."""
    rules = _lookback(pack)
    anchor = onset or first_positive_sample
    if anchor is None:
        raise Invalid(P("anchor_needed"),
                      problems=[Problem(P("one_of_two"), field="onset")])
    start, basis = _window_start(rules, anchor=anchor, symptomatic=onset is not None,
                                 last_negative_sample=last_negative_sample)
    end, until = _end(rules.end, anchor=anchor, symptomatic=onset is not None,
                      isolated_on=isolated_on, symptoms_resolved=symptoms_resolved)
    if end is not None and end < start:
        raise Invalid(P("window_ends_early"), problems=[Problem(
            P("end_before_start", end=end, start=start), field="isolated_on")])
    return Window.of(pack=pack.id, pack_version=pack.version, start=start, end=end,
                     basis=P("basis.joined", start=basis, end=until))


def secondary_window(pack: Pack, *, close_contact_first_exposure: date,
                     close_contact_isolated_on: date | None) -> Window:
    """The days in which contact with a close contact makes a secondary contact (次密接): from
    the close contact's first exposure to the case until the close contact was isolated."""
    if _lookback(pack).secondary is None:
        raise Invalid(P("no_secondary", pack=pack.id))
    end = close_contact_isolated_on
    if end is not None and end < close_contact_first_exposure:
        raise Invalid(P("isolated_before_exposure"), problems=[
            Problem(P("not_before_exposure"),
                    field="close_contact_isolated_on")])
    return Window.of(pack=pack.id, pack_version=pack.version,
                     start=close_contact_first_exposure, end=end, basis=P("basis.secondary"))
