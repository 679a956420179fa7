"""Risk-area lifting clocks: the schedule of a zone's steps down to the base level, and the
daily evaluation of what is due.

Counting: the report date of the zone's last new infection is day 0. A lifting step of N clean
days whose window starts on day S needs no new infection on days S..S+N-1 and takes effect on
day S+N. The first step's window starts on day 1; a later step's window starts on the day the
zone entered the level it leaves (nominally the previous step's effective date). A round
requirement asks for an area-wide round, all negative, sampled on one of the given days of the
window; when that is missed, a later negative round (still with no new infection) qualifies and
the change takes effect the day after it. A new infection moves day 0 (the clock restarts) and
the zone then follows its current level's own lifting path. A level with
``escalate_on_infection_to`` (a 管控区 that turns 封控区) escalates instead when an infection is
reported after the zone got that level.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from fangkong.core.errors import Invalid, Problem
from fangkong.core.messages import CORE, SEMICOLON, Day, Text, joined
from fangkong.policy.messages import P
from fangkong.policy.messages import condition as condition_text
from fangkong.policy.messages import level as level_term
from fangkong.policy.pack import LevelDef, LiftStep, Pack
from fangkong.policy.plans import day
from fangkong.policy.schemas import Condition, ZoneFacts, ZoneSchedule, ZoneStep, ZoneVerdict


def level_def(pack: Pack, level: str) -> LevelDef:
    if pack.zones is None:
        raise Invalid(P("no_levels", pack=pack.id))
    if level not in pack.zones.levels:
        raise Invalid(P("no_level", pack=pack.id, level=level), problems=[Problem(
            CORE("expected_one_of", values=", ".join(pack.levels())), field="level")])
    return pack.zones.levels[level]


def check_level(pack: Pack, level: str) -> str:
    """The pack's version when ``level`` is one of its levels; Invalid otherwise."""
    level_def(pack, level)
    return pack.version


def is_base(pack: Pack, level: str) -> bool:
    return pack.zones is not None and pack.zones.base_level == level


@dataclass(frozen=True)
class _Laid:
    from_level: str
    spec: LiftStep
    start: date  # first day of the clean window
    not_before: date | None = None  # the zone got its level then: no round before it counts

    @property
    def effective(self) -> date:
        return day(self.start, self.spec.clean_days)

    def round_window(self) -> tuple[date, date] | None:
        """The days the step's round is asked for: never before the zone got its level (a
        zone drawn late, after the pack's round days had passed, is asked for its round from
        that day on, not on a date it can no longer meet)."""
        rnd = self.spec.round
        if rnd is None:
            return None
        first, last = day(self.start, rnd.from_day - 1), day(self.start, rnd.to_day - 1)
        if self.not_before is not None and first < self.not_before:
            first = self.not_before
            last = max(last, first)
        return first, last


def _laid(pack: Pack, level: str, day0: date, *, path_level: str,
          level_since: date | None, not_before: date | None = None) -> list[_Laid]:
    """The steps still ahead of a zone now at ``level`` on the path of ``path_level``
    (``not_before``: the day it got ``level``, before which no round of its can be)."""
    level_def(pack, level)
    steps = level_def(pack, path_level).lifting
    froms = [path_level, *(s.to_level for s in steps)][:len(steps)]
    if level != path_level and level not in froms:
        raise Invalid(P("not_on_path", level=level, path=path_level, pack=pack.id),
                      problems=[Problem(P("not_on_path_short"), field="path_level")])
    out: list[_Laid] = []
    start = day(day0, 1)
    for from_level, spec in zip(froms, steps, strict=True):
        if from_level == level and out == [] and level != path_level and level_since:
            start = level_since
        laid = _Laid(from_level, spec, start, not_before)
        start = laid.effective
        if from_level == level or out:
            out.append(laid)
    return out


def _requires(day0: date, laid: _Laid) -> list[str]:
    """The step's conditions in English (a verdict's ``requires``)."""
    return [str(condition_text(c)) for c in _conditions(day0, laid)]


def _conditions(day0: date, laid: _Laid) -> list[Condition]:
    """The step's conditions as data (what a reader's language renders)."""
    out = [_condition("clean", day0, laid.start, day(laid.effective, -1))]
    window = laid.round_window()
    if window:
        out.append(_condition("round", day0, *window))
    out += [Condition(kind="confirm", text=e.text, confirm=e.id) for e in laid.spec.also_requires]
    return out


def schedule(pack: Pack, level: str, last_infection: date, *, path_level: str | None = None,
             level_since: date | None = None) -> ZoneSchedule:
    """The nominal steps of a zone at ``level`` whose last infection was reported on
    ``last_infection`` (day 0), assuming every condition is met on time."""
    laid = _laid(pack, level, last_infection, path_level=path_level or level,
                 level_since=level_since)
    steps = [ZoneStep(from_level=s.from_level, to_level=s.spec.to_level,
                      lifts=is_base(pack, s.spec.to_level), effective=s.effective,
                      requires=_requires(last_infection, s),
                      conditions=_conditions(last_infection, s)) for s in laid]
    return ZoneSchedule.of(pack=pack.id, pack_version=pack.version, level=level,
                           day0=last_infection, steps=steps, note=_note(pack, level, bool(steps)))


def _note(pack: Pack, level: str, has_steps: bool) -> Text | None:
    if has_steps:
        return None
    return P("zone_note.base" if is_base(pack, level) else "zone_note.no_clock",
             level=level_term(pack, level))


# --- the daily evaluation --------------------------------------------------------------------

def _round_done(day0: date, laid: _Laid, facts: ZoneFacts, on: date) -> date | None:
    """The first qualifying negative round sampled before ``on``."""
    rnd = laid.spec.round
    if rnd is None:
        return None
    # a round recorded before the zone was drawn counts too (the window asked for is only
    # moved when none was)
    first = max(day(laid.start, rnd.from_day - 1), day(day0, 1))
    done = sorted(r for r in facts.negative_rounds if first <= r < on)
    return done[0] if done else None


def _effective(laid: _Laid, round_on: date | None, on: date) -> date:
    window = laid.round_window()
    if window is None:
        return laid.effective
    if round_on is not None:
        return max(laid.effective, day(round_on, 1))
    latest = window[1]
    return max(laid.effective, day(latest, 1) if on <= latest else day(on, 1))


def _condition(kind: str, day0: date, first: date, last: date) -> Condition:
    return Condition(kind=kind, first=first, last=last, first_day=(first - day0).days,
                     last_day=(last - day0).days)


def _check(day0: date, laid: _Laid, facts: ZoneFacts, on: date
           ) -> tuple[list[Condition], list[Condition]]:
    """The (met, missing) conditions of the step on ``on``, as :class:`Condition` (given as
    English text by the verdict's ``met`` and ``requires``, and as messages by its reason)."""
    met: list[Condition] = []
    missing: list[Condition] = []
    clean = _condition("clean", day0, laid.start, day(laid.effective, -1))
    (met if on >= laid.effective else missing).append(clean)
    window = laid.round_window()
    if window:
        rnd = _condition("round", day0, *window)
        (met if _round_done(day0, laid, facts, on) else missing).append(rnd)
    for extra in laid.spec.also_requires:
        (met if extra.id in facts.confirmed else missing).append(
            Condition(kind="confirm", text=extra.text, confirm=extra.id))
    return met, missing


@dataclass(frozen=True)
class _Clock:
    level: str
    day0: date
    on: date
    restarted: bool


def _verdict(pack: Pack, clock: _Clock, **fields: Any) -> ZoneVerdict:
    return ZoneVerdict.of(pack=pack.id, pack_version=pack.version, level=clock.level,
                          day0=clock.day0, on=clock.on, restarted=clock.restarted, **fields)


def evaluate(pack: Pack, *, level: str, last_infection: date, on: date,
             facts: ZoneFacts | None = None) -> ZoneVerdict:
    """What change is due on ``on`` for a zone at ``level`` whose last known infection was
    reported on ``last_infection``, or what is still missing. Infections in ``facts`` after
    ``last_infection`` (and not after ``on``) restart the clock. A level that escalates on
    infection escalates when day 0 is after ``facts.level_since`` or the clock restarted."""
    facts = facts or ZoneFacts()
    if on < last_infection:
        raise Invalid(P("before_last_infection"),
                      problems=[Problem(P("date_before", on=on, last=last_infection),
                                        field="on")])
    day0 = max([last_infection, *(d for d in facts.infections if d <= on)])
    clock = _Clock(level, day0, on, restarted=day0 > last_infection)
    target = level_def(pack, level).escalate_on_infection_to
    since = facts.level_since
    if target and (clock.restarted or (since is not None and day0 > since)):
        return _verdict(pack, clock, due=target, escalation=True, effective=on,
                        reason=P("verdict.escalates", day=Day(day0), level=level_term(pack, level),
                                 to=level_term(pack, target)))
    laid = _laid(pack, level, day0,
                 path_level=level if clock.restarted else facts.path_level or level,
                 level_since=None if clock.restarted else facts.level_since,
                 not_before=facts.level_since)
    if not laid:
        return _verdict(pack, clock, reason=_note(pack, level, False))
    return _step_verdict(pack, clock, laid[0], facts)


def _step_verdict(pack: Pack, clock: _Clock, laid: _Laid, facts: ZoneFacts) -> ZoneVerdict:
    met, missing = _check(clock.day0, laid, facts, clock.on)
    to = laid.spec.to_level
    effective = _effective(laid, _round_done(clock.day0, laid, facts, clock.on), clock.on)
    step = {"level": level_term(pack, laid.from_level), "to": level_term(pack, to)}
    restarted = "_restarted" if clock.restarted else ""
    met_texts = [str(condition_text(c)) for c in met]
    if missing:
        return _verdict(pack, clock, effective=effective, met=met_texts, conditions=missing,
                        requires=[str(condition_text(c)) for c in missing],
                        reason=P(f"verdict.not_due{restarted}", **step, count=len(missing)))
    return _verdict(pack, clock, due=to, lifts=is_base(pack, to), effective=effective,
                    met=met_texts, reason=P(f"verdict.due{restarted}", **step, met=joined(
                        (condition_text(c) for c in met), SEMICOLON)))
