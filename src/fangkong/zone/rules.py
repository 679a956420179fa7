"""The bridge between a stored zone and the policy engine: what the pack's clock says of it.

The policy engine (:mod:`fangkong.policy.zones`) is pure and works on dates; this module reads a
zone's own record (its level, day 0, the history of its levels, its rounds and its confirmed
conditions) into the engine's :class:`ZoneFacts` and turns the engine's verdict into what the
zone service acts on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from fangkong.core.errors import Invalid, Problem
from fangkong.policy import service as policy
from fangkong.policy.measures import AreaControl
from fangkong.policy.pack import LiftStep
from fangkong.policy.schemas import Condition, ZoneFacts, ZoneVerdict
from fangkong.zone.enums import EventKind
from fangkong.zone.messages import Z
from fangkong.zone.models import Zone

_LEVEL_EVENTS = (EventKind.designated, EventKind.level_changed)


def check_level(pack: policy.PackRef, level: str) -> str:
    """The pack's version when ``level`` belongs to its vocabulary; Invalid otherwise."""
    return policy.check_level(pack, level)


def zone_pack(zone: Zone) -> policy.Pack:
    """The pack the zone was designated under (its levels, clocks and lifting path);
    PackChanged, naming the zone, if that pack's version on disk is no longer the zone's."""
    return policy.pinned(zone.pack_id, zone.pack_version, record=f"zone {zone.code}")


def _level_on(zone: Zone, day: date) -> str:
    """The level the zone had on ``day``: its level set last on or before that day, else the
    level it was designated at (a zone drawn after its day 0 starts on its first level)."""
    changes = [e for e in zone.events if e.kind in _LEVEL_EVENTS and e.to_level]
    level = changes[0].to_level if changes else zone.level
    for event in changes:
        if event.on_date <= day:
            level = event.to_level
    return level or zone.level


def facts(zone: Zone) -> ZoneFacts:
    """What the zone's record tells the pack's clock."""
    changes = [e for e in zone.events if e.kind in _LEVEL_EVENTS]
    since = changes[-1].on_date if changes else zone.designated_on
    path = _level_on(zone, zone.last_infection_date)
    return ZoneFacts(
        negative_rounds=sorted(r.round_date for r in zone.rounds if r.all_negative),
        confirmed=sorted({e.condition for e in zone.events
                          if e.kind is EventKind.condition_confirmed and e.condition}),
        level_since=since,
        path_level=path if path != zone.level else None,
    )


@dataclass(frozen=True)
class Verdict:
    """What is due for a zone on a day: ``due`` is a level, ``"lift"``, or None."""

    due: str | None
    reason: str
    escalation: bool = False
    requires: list[str] = field(default_factory=list)
    effective: date | None = None
    conditions: list[Condition] = field(default_factory=list)
    """``requires`` as data (what a page renders in its reader's language)."""


def day0_on(zone: Zone, on: date) -> date | None:
    """Day 0 of the zone's clock as it stood on ``on``: its last infection reported on or
    before that day (infections reported later had not restarted it yet); None if none was
    known by then (the zone was drawn, or its infections reported, later)."""
    if zone.last_infection_date <= on:
        return zone.last_infection_date
    return max((e.on_date for e in zone.events
                if e.kind is EventKind.infection and e.on_date <= on), default=None)


def existed_on(zone: Zone, on: date) -> bool:
    """Whether the zone was in force on ``on``: designated by then, not lifted yet, and with a
    known infection behind it."""
    return (zone.designated_on <= on and (zone.lifted_on is None or zone.lifted_on > on)
            and day0_on(zone, on) is not None)


def _as_of(zone: Zone, on: date) -> tuple[str, date]:
    """The zone's level and day 0 as they stood on ``on`` (a past day's brief); its current
    ones when no later infection has moved its clock since."""
    day0 = day0_on(zone, on)
    if day0 is None:
        raise Invalid(Z("no_infection", code=zone.code, on=on),
                      problems=[Problem(Z("before_infections", on=on), field="on")])
    if day0 == zone.last_infection_date:
        return zone.level, day0
    return _level_on(zone, on), day0


def verdict(zone: Zone, on: date) -> ZoneVerdict:
    level, day0 = _as_of(zone, on)
    return policy.evaluate_zone(zone_pack(zone), level=level, last_infection=day0, on=on,
                                facts=facts(zone))


def evaluate(zone: Zone, on: date) -> Verdict:
    v = verdict(zone, on)
    due = "lift" if v.due and v.lifts else v.due
    return Verdict(due=due, reason=v.reason, escalation=v.escalation, requires=v.requires,
                   effective=v.effective, conditions=v.conditions)


def lifting_steps(zone: Zone) -> list[LiftStep]:
    """The steps of the lifting path the zone is on (from the level it had on day 0)."""
    pack = zone_pack(zone)
    path = _level_on(zone, zone.last_infection_date)
    if pack.zones is None or path not in pack.zones.levels:
        return []
    return list(pack.zones.levels[path].lifting)


def as_measure(zone: Zone, on: date) -> AreaControl:
    """The zone as the nine-prohibition checks see it: held at its level through ``on``."""
    f = facts(zone)
    level, day0 = _as_of(zone, on)
    return AreaControl(kind="area_control", label=f"{zone.code} {zone.name}", level=level,
                       last_infection=day0, held_until=on,
                       negative_rounds=f.negative_rounds, path_level=f.path_level,
                       level_since=f.level_since)
