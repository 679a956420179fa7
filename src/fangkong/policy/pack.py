"""The schema of a policy pack (after ``extends`` is resolved), and the checks across its parts
that a field-by-field schema cannot make (references to sources, roles and levels, test days
inside their phase, lifting paths that go down). See ``PACKS.md`` for the file format."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from itertools import pairwise
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from fangkong.policy.enums import NO_ZONE, Confidence, HealthCode, PatientKind, PhaseKind
from fangkong.policy.isolation_rules import IsolationRules
from fangkong.policy.rulebase import Ruled, Strict
from fangkong.policy.surveillance_rules import SurveillanceRules
from fangkong.policy.testing_rules import Testing
from fangkong.policy.tracing_rules import TracingRules

Path = tuple[str | int, ...]


class Label(Strict):
    zh: str
    en: str


class Source(Strict):
    """A page the rule was read on (a reproduction, not the official original: see §0.1)."""

    url: str
    title: str | None = None
    confidence: Confidence
    note: str | None = None


class Ambiguity(Strict):
    """An open question of the protocol texts and the choice this pack makes."""

    ref: str = Field(description="Where the question is raised, e.g. 'research §8.3'.")
    question: str
    choice: str
    reason: str


class PhaseDef(Strict):
    kind: PhaseKind
    days: int = Field(ge=1, le=366)
    test_days: list[int] = Field(default_factory=list,
                                 description="Days of the phase (1 = its first day) with a test.")
    where: str | None = None
    rules: str | None = None
    confidence: Confidence | None = None
    ambiguity: str | None = None

    @field_validator("test_days")
    @classmethod
    def _increasing(cls, days: list[int]) -> list[int]:
        if any(b <= a for a, b in pairwise(days)):
            raise ValueError("test days must be strictly increasing")
        return days


class Condition(Ruled):
    """Something that changes a plan: an escalation, a release condition, an option."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    when: str
    then: str
    becomes_role: str | None = None
    ends_plan: bool = False


Anchor = Literal["last_exposure", "arrival", "left_area", "shift_end", "diagnosis"]


class RoleDef(Ruled):
    label: Label
    anchor: Anchor
    risk_person: bool = Field(True, description="The pack classes these people as risk persons.")
    managed: bool = True
    explanation: str | None = Field(None, description="Why an unmanaged role has no plan.")
    start_day: int = Field(1, ge=0, le=30, description="Plan day of the first phase's first day.")
    phases: list[PhaseDef] = Field(default_factory=list)
    conditions: list[Condition] = Field(default_factory=list)


class WindowStart(Strict):
    anchor: Literal["symptom_onset", "first_positive_sample", "last_negative_sample"]
    days_before: int = Field(ge=0, le=30)


class WindowEnd(Strict):
    rule: Literal["isolation", "infectious_period"]
    days_after: int = Field(0, ge=0, le=60)
    symptom_free_days: int = Field(0, ge=0, le=30)
    min_days_after_onset: int = Field(0, ge=0, le=60)


class FrequentlyTested(Ruled):
    start: WindowStart


class SecondaryWindow(Ruled):
    start: Literal["close_contact_first_exposure"]
    end: Literal["close_contact_isolation"]


class Lookback(Ruled):
    symptomatic: WindowStart
    asymptomatic: WindowStart
    end: WindowEnd
    frequently_tested: FrequentlyTested | None = None
    secondary: SecondaryWindow | None = None


class RoundReq(Strict):
    """An area-wide round with all results negative, sampled on one of these days of the
    step's window (day 1 = the window's first day)."""

    from_day: int = Field(ge=1)
    to_day: int = Field(ge=1)


class Extra(Strict):
    """A lifting condition the clock cannot check; a person confirms it by its id."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    text: str


class LiftStep(Ruled):
    to_level: str
    clean_days: int = Field(ge=1, le=60, description="Consecutive days with no new infection.")
    round: RoundReq | None = None
    also_requires: list[Extra] = Field(default_factory=list)


class LevelDef(Ruled):
    label: Label
    rank: int = Field(ge=0, description="Higher is more severe; the base level has the lowest.")
    criteria: str
    measures: str
    unit: str | None = None
    lifting: list[LiftStep] = Field(default_factory=list)
    escalate_on_infection_to: str | None = None


class Zones(Ruled):
    base_level: str = Field(description="The level of the rest of an affected county: reaching "
                                        "it lifts a zone.")
    levels: dict[str, LevelDef]
    infections_counted: str = Field(description="Which infections restart a zone's clock.")


class CheckpointPass(Strict):
    """Who a checkpoint must let through; ``None`` means the item is not checked at all."""

    nat_within_hours: int | None = Field(None, ge=1)
    health_codes: list[HealthCode] | None = None
    from_levels: list[str]


class VenueClosure(Strict):
    allowed_levels: list[str]
    essential_only: bool = Field(description="Only closing essential venues elsewhere is banned.")


class Students(Strict):
    protected_levels: list[str]
    conditions: list[str]


class Prohibitions(Ruled):
    texts: dict[int, str]
    travel_restricted_levels: list[str]
    venue_closure: VenueClosure
    checkpoint_pass: CheckpointPass
    protected_patients: list[PatientKind]
    students: Students


class InForce(Strict):
    start: date
    end: date | None = None


Question = Literal["temperature", "symptoms", "tested"]
QUESTIONS: tuple[Question, ...] = ("temperature", "symptoms", "tested")


class MonitoringRules(Strict):
    """What a person under home quarantine or home health monitoring reports each day, and
    what a report must raise (fangkong.monitoring). A pack without a ``monitoring:`` section
    gets these defaults (versioned by ``version``: a period keeps the version it was made
    with, and the questions and thresholds as they were)."""

    version: str = Field("1", pattern=r"^\d+$")
    questions: list[Question] = Field(default_factory=lambda: list(QUESTIONS))
    symptoms: list[str] = Field(default_factory=lambda: [
        "fever", "cough", "sore_throat", "shortness_of_breath", "loss_of_smell_or_taste",
        "fatigue", "diarrhoea"])
    alert_symptoms: list[str] = Field(default_factory=lambda: [
        "fever", "cough", "sore_throat", "shortness_of_breath", "loss_of_smell_or_taste"],
        description="Symptoms that make a report raise a testing task and an alert.")
    fever_c: float = Field(37.3, ge=36.5, le=40.0, description="Fever from this temperature.")
    deadline_hour: int = Field(20, ge=1, le=24, description="Local hour by which the day's "
                               "report is due; none by then makes a follow-up task.")
    escalate_after_missed: int = Field(2, ge=1, le=14, description="Consecutive missed days "
                                       "that escalate to the county.")
    test_within_hours: int = Field(12, ge=1, le=72)
    alert_within_hours: int = Field(1, ge=1, le=24)
    follow_up_within_hours: int = Field(4, ge=1, le=48)


class Pack(Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    version: str = Field(pattern=r"^\d+\.\d+\.\d+$")
    title: Label
    document: str
    issuer: str
    published: date
    in_force: InForce
    extends: str | None = None
    summary: str | None = None
    sources: dict[str, Source]
    ambiguities: dict[str, Ambiguity] = Field(default_factory=dict)
    common_conditions: list[Condition] = Field(default_factory=list)
    roles: dict[str, RoleDef]
    lookback: Lookback | None = None
    zones: Zones | None = None
    prohibitions: Prohibitions | None = None
    isolation: IsolationRules | None = None
    tracing: TracingRules | None = None
    testing: Testing | None = None
    surveillance: SurveillanceRules | None = None
    monitoring: MonitoringRules = Field(default_factory=MonitoringRules)
    lineage: list[str] = Field(default_factory=list, description="Set by the loader.")
    digest: str = Field("", description="Set by the loader: hash of the resolved content.")

    def levels(self) -> list[str]:
        """Level names, most severe first."""
        ranks = {k: v.rank for k, v in self.zones.levels.items()} if self.zones else {}
        return sorted(ranks, key=ranks.__getitem__, reverse=True)


# --- checks across parts ---------------------------------------------------------------------

Found = tuple[Path, str]


def _walk(obj: Any, path: Path) -> Iterator[tuple[Path, Any]]:
    yield path, obj
    if isinstance(obj, BaseModel):
        for name in type(obj).model_fields:
            yield from _walk(getattr(obj, name), (*path, name))
    elif isinstance(obj, list):
        for i, item in enumerate(obj):
            yield from _walk(item, (*path, i))
    elif isinstance(obj, dict):
        for key, item in obj.items():
            yield from _walk(item, (*path, key))


def _known(name: str, known: list[str] | dict[str, Any]) -> str:
    return f"unknown {name}; expected one of: {', '.join(sorted(known)) or '(none defined)'}"


def cross_check(pack: Pack) -> list[Found]:
    found: list[Found] = []
    for path, node in _walk(pack, ()):
        if isinstance(node, Ruled):
            found += _check_refs(pack, path, node)
        if isinstance(node, PhaseDef):
            found += _check_phase(pack, path, node)
        if isinstance(node, RoleDef):
            found += _check_role(path, node)
        becomes = node.becomes_role if isinstance(node, Condition) else None
        if becomes and becomes not in pack.roles:
            found.append(((*path, "becomes_role"), _known("role", pack.roles)))
    found += _check_zones(pack)
    found += _check_prohibitions(pack)
    if pack.tracing is not None:
        roles = [(("tracing", "household_role"), pack.tracing.household_role),
                 (("tracing", "co_presence", "role"), pack.tracing.co_presence.role)]
        found += [(path, _known(f"role '{r}'", pack.roles)) for path, r in roles
                  if r not in pack.roles]
    return found


def _check_refs(pack: Pack, path: Path, node: Ruled) -> list[Found]:
    found: list[Found] = [((*path, "source", i), _known(f"source '{key}'", pack.sources))
                          for i, key in enumerate(node.source) if key not in pack.sources]
    if node.ambiguity and node.ambiguity not in pack.ambiguities:
        found.append(((*path, "ambiguity"), _known(f"ambiguity '{node.ambiguity}'",
                                                   pack.ambiguities)))
    return found


def _check_phase(pack: Pack, path: Path, phase: PhaseDef) -> list[Found]:
    found: list[Found] = [((*path, "test_days", i),
                           f"test day {d} is outside the phase's days 1..{phase.days}")
                          for i, d in enumerate(phase.test_days) if not 1 <= d <= phase.days]
    if phase.ambiguity and phase.ambiguity not in pack.ambiguities:
        found.append(((*path, "ambiguity"), _known(f"ambiguity '{phase.ambiguity}'",
                                                   pack.ambiguities)))
    return found


def _check_role(path: Path, role: RoleDef) -> list[Found]:
    if role.managed and not role.phases:
        return [((*path, "phases"), "a managed role needs at least one phase "
                                    "(or set managed: false with an explanation)")]
    if not role.managed and role.phases:
        return [((*path, "phases"), "an unmanaged role has no phases (remove them)")]
    if not role.managed and not role.explanation:
        return [((*path, "explanation"), "an unmanaged role needs an explanation")]
    return []


def _check_zones(pack: Pack) -> list[Found]:
    zones = pack.zones
    if zones is None:
        return []
    found: list[Found] = []
    if zones.base_level not in zones.levels:
        found.append((("zones", "base_level"), _known("level", zones.levels)))
        return found
    base_rank = zones.levels[zones.base_level].rank
    for name, level in zones.levels.items():
        path: Path = ("zones", "levels", name)
        if name != zones.base_level and level.rank <= base_rank:
            found.append(((*path, "rank"), f"must be above the base level's rank {base_rank}"))
        found += _check_lifting(zones, name, level, path)
        target = level.escalate_on_infection_to
        if target is not None and (target not in zones.levels
                                   or zones.levels[target].rank <= level.rank):
            found.append(((*path, "escalate_on_infection_to"),
                          "expected a defined level more severe than this one"))
    return found


def _check_lifting(zones: Zones, name: str, level: LevelDef, path: Path) -> list[Found]:
    found: list[Found] = []
    if name == zones.base_level and level.lifting:
        return [((*path, "lifting"), "the base level has no lifting steps")]
    rank = level.rank
    for i, step in enumerate(level.lifting):
        where = (*path, "lifting", i)
        target = zones.levels.get(step.to_level)
        if target is None:
            found.append(((*where, "to_level"), _known("level", zones.levels)))
            return found
        if target.rank >= rank:
            found.append(((*where, "to_level"), "a lifting step must go to a less severe level"))
        rank = target.rank
        if step.round and not step.round.from_day <= step.round.to_day <= step.clean_days:
            found.append(((*where, "round"), f"expected 1 <= from_day <= to_day <= clean_days "
                                             f"({step.clean_days})"))
    if level.lifting and level.lifting[-1].to_level != zones.base_level:
        found.append(((*path, "lifting"), f"the last step must reach the base level "
                                          f"'{zones.base_level}'"))
    return found


def _check_prohibitions(pack: Pack) -> list[Found]:
    rules = pack.prohibitions
    if rules is None:
        return []
    found: list[Found] = []
    if sorted(rules.texts) != list(range(1, 10)):
        found.append((("prohibitions", "texts"), "expected exactly the keys 1 to 9"))
    if pack.zones is None:
        return [*found, (("prohibitions",), "the prohibitions need the pack's zones")]
    levels = [*pack.zones.levels, NO_ZONE]
    refs: list[tuple[Path, list[str]]] = [
        (("travel_restricted_levels",), rules.travel_restricted_levels),
        (("venue_closure", "allowed_levels"), rules.venue_closure.allowed_levels),
        (("checkpoint_pass", "from_levels"), rules.checkpoint_pass.from_levels),
        (("students", "protected_levels"), rules.students.protected_levels),
    ]
    for path, values in refs:
        found += [(("prohibitions", *path, i), _known(f"level '{v}'", levels))
                  for i, v in enumerate(values) if v not in levels]
    return found

