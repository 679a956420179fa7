"""The pack's plans and clocks as the drill reads them: each role's plan as day offsets from
the last exposure, whether the pack manages the people its co-presence search finds, and each
case's look-back window."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from fangkong.core.errors import Invalid
from fangkong.policy import service as policy


def venue_managed(pack_id: str) -> bool:
    """Does the pack manage (quarantine or test under a plan) the people its co-presence
    search finds? A pack without tracing rules names no such role: they count as close
    contacts, as before packs had one."""
    try:
        role = policy.tracing_rules(pack_id).co_presence.role
    except Invalid:
        return True
    return role_plan(pack_id, role) is not None


@dataclass
class RolePlan:
    """A role's plan as day offsets from the anchor (the last exposure), from the pack."""

    facility: tuple[int, int] | None  # first and last day in a facility
    tests: frozenset[int]
    release: int  # first day free


@lru_cache(maxsize=64)
def role_plan(pack_id: str, role: str) -> RolePlan | None:
    anchor = date(2022, 1, 1)
    try:
        plan = policy.plan(pack_id, role, anchor)
    except Invalid:
        return None
    if not plan.managed or not plan.phases or plan.release_date is None:
        return None
    facility = [p for p in plan.phases if "centralized" in p.kind]
    tests = frozenset(d for p in plan.phases for d in p.test_days)
    return RolePlan(
        facility=(facility[0].start_day, facility[-1].end_day) if facility else None,
        tests=tests, release=(plan.release_date - anchor).days)


@lru_cache(maxsize=4096)
def lookback(pack_id: str, symptomatic: bool, anchor: int, isolated: int | None,
              start: date) -> tuple[int, int | None]:
    d = start + timedelta(days=anchor)
    iso = start + timedelta(days=isolated) if isolated is not None else None
    try:
        w = (policy.lookback_window(pack_id, onset=d, isolated_on=iso) if symptomatic else
             policy.lookback_window(pack_id, first_positive_sample=d, isolated_on=iso))
    except Invalid:
        # Isolated before the window would start (found in quarantine before onset): no
        # exposure outside; the household is still traced up to the isolation day.
        if iso is None:
            raise
        return (iso - start).days + 1, (iso - start).days
    return (w.start - start).days, (w.end - start).days if w.end is not None else None
