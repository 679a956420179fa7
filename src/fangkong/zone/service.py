"""Risk areas (风险区 / 三区): designate, change, lift, record infections and rounds, evaluate
the pack's lifting rules daily, and publish the notice. Scoped and audited like personal data:
a zone is visible to users whose jurisdiction contains its owning division."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.case import service as cases
from fangkong.core import audit, events
from fangkong.core.auth import Actor, Perm, scope, within
from fangkong.core.clock import utc_now
from fangkong.core.config import get_settings
from fangkong.core.errors import Conflict, Invalid, NotFound, Problem
from fangkong.core.messages import CORE
from fangkong.geo import service as geo
from fangkong.policy import service as policy
from fangkong.zone import rules
from fangkong.zone.enums import LEVEL_LABELS, EventKind, ProposalStatus, ZoneStatus
from fangkong.zone.messages import Z
from fangkong.zone.models import Zone, ZoneEvent, ZoneMember, ZoneProposal, ZoneRound
from fangkong.zone.schemas import (
    ConditionIn,
    EvaluationRow,
    InfectionIn,
    LevelChange,
    Lift,
    PublicChange,
    PublicNotice,
    PublicZone,
    RoundIn,
    ZoneBreach,
    ZoneCreate,
)


def today() -> date:
    from zoneinfo import ZoneInfo

    return utc_now().astimezone(ZoneInfo(get_settings().timezone)).date()


def _event(zone: Zone, actor: Actor, kind: EventKind, *, on: date | None = None,
           basis: str = "manual", **fields: Any) -> None:
    zone.events.append(ZoneEvent(at=utc_now(), on_date=on or today(), by=actor.username,
                                 kind=kind, basis=basis, **fields))
    zone.updated_at = utc_now()


def _audit(session: Session, actor: Actor, action: str, zone: Zone, fields: list[str]) -> None:
    audit.record(session, actor, action=action, record_type="zone", record_ids=[zone.id],
                 fields=fields)


def designate(session: Session, *, actor: Actor, data: ZoneCreate) -> Zone:
    actor.require(Perm.case_write)
    pack_id = data.pack_id or get_settings().active_policy_pack
    version = rules.check_level(pack_id, data.level)
    codes = {data.owning_division_code} | {m.division_code for m in data.members}
    unknown = codes - geo.exists(session, codes)
    problems = [Problem(Z("unknown_division", code=c), field="members") for c in sorted(unknown)]
    problems += [Problem(Z("outside", code=c), field="members")
                 for c in sorted(codes - unknown) if not actor.covers(c)]
    problems += [Problem(Z("not_inside", member=m.division_code, owner=data.owning_division_code),
                         field="members") for m in data.members
                 if not geo.is_within(m.division_code, data.owning_division_code)]
    if data.last_infection_date > today():
        problems.append(Problem(Z("in_future"), field="last_infection_date"))
    problems += _unknown_cases(session, actor, data.case_ids, "case_ids")
    if problems:
        raise Invalid(Z("invalid"), problems=problems)
    now = utc_now()
    zone = Zone(code="pending", name=data.name, level=data.level, status=ZoneStatus.active,
                pack_id=pack_id, pack_version=version,
                owning_division_code=data.owning_division_code, polygon=data.polygon,
                population=data.population, last_infection_date=data.last_infection_date,
                designated_on=today(), created_at=now, updated_at=now,
                members=[ZoneMember(division_code=m.division_code, detail=m.detail)
                         for m in data.members])
    _event(zone, actor, EventKind.designated, to_level=data.level, reason=data.reason)
    # day 0 kept as an infection even without a case: a past day's evaluation finds it there
    # after later infections have moved the clock (rules.day0_on)
    designating: list[int | None] = [*data.case_ids] or [None]
    for case_id in designating:
        _event(zone, actor, EventKind.infection, case_id=case_id,
               on=data.last_infection_date, reason="designating infection")
    session.add(zone)
    session.flush()
    zone.code = f"{data.owning_division_code}-Z{zone.id:05d}"
    _audit(session, actor, "create", zone, ["level", "members", "last_infection_date"])
    return zone


def get(session: Session, *, actor: Actor, zone_id: int) -> Zone:
    actor.require(Perm.case_read)
    zone = session.scalar(scope(select(Zone).where(Zone.id == zone_id), actor,
                                Zone.owning_division_code))
    if zone is None:
        raise NotFound(Z("not_found", id=zone_id))
    return zone


def _active(session: Session, actor: Actor, zone_id: int) -> Zone:
    actor.require(Perm.case_write)
    zone = get(session, actor=actor, zone_id=zone_id)
    if zone.status is not ZoneStatus.active:
        raise Conflict(Z("lifted", code=zone.code, on=zone.lifted_on))
    return zone


def _supersede(session: Session, zone: Zone) -> None:
    for proposal in session.scalars(select(ZoneProposal).where(
            ZoneProposal.zone_id == zone.id, ZoneProposal.status == ProposalStatus.pending)):
        proposal.status = ProposalStatus.superseded


def _may_decide(actor: Actor, basis: str) -> None:
    if basis != "rule":
        actor.require(Perm.zone_approve)


def change_level(session: Session, *, actor: Actor, zone_id: int, data: LevelChange,
                 basis: str = "manual") -> Zone:
    """A zone's new level: a commander's decision (``zone:approve``), or the pack's rule
    applied by the daily evaluation (``basis`` "rule", where the deployment lets it)."""
    _may_decide(actor, basis)
    zone = _active(session, actor, zone_id)
    rules.check_level(rules.zone_pack(zone), data.to_level)
    if data.to_level == zone.level:
        raise Conflict(Z("already_level", code=zone.code, level=zone.level))
    _event(zone, actor, EventKind.level_changed, from_level=zone.level, to_level=data.to_level,
           reason=data.reason, basis=basis)
    zone.level = data.to_level
    _supersede(session, zone)
    session.flush()
    _audit(session, actor, "update", zone, ["level"])
    return zone


def lift(session: Session, *, actor: Actor, zone_id: int, data: Lift,
         basis: str = "manual") -> Zone:
    """Lift a zone: a commander's decision, or the pack's rule (as :func:`change_level`)."""
    _may_decide(actor, basis)
    zone = _active(session, actor, zone_id)
    _event(zone, actor, EventKind.lifted, from_level=zone.level, reason=data.reason, basis=basis)
    zone.status, zone.lifted_on = ZoneStatus.lifted, today()
    _supersede(session, zone)
    session.flush()
    _audit(session, actor, "update", zone, ["status"])
    events.publish(session, events.Event("zone.lifted", actor=actor, subject_type="zone",
                                         subject_ids=[zone.id],
                                         reason=f"zone {zone.id} lifted: {data.reason}"))
    return zone


def _unknown_cases(session: Session, actor: Actor, ids: list[int], field: str) -> list[Problem]:
    known = cases.readable_ids(session, actor=actor, ids=ids)
    return [Problem(Z("case_not_found", id=i), field=field) for i in ids if i not in known]


def add_infection(session: Session, *, actor: Actor, zone_id: int, data: InfectionIn) -> Zone:
    """A new infection in the zone: its report date becomes day 0 of the lifting clock."""
    zone = _active(session, actor, zone_id)
    if data.reported_date > today():
        raise Invalid(Z("report_in_future"),
                      problems=[Problem(Z("in_future"), field="reported_date")])
    missing = _unknown_cases(session, actor, [data.case_id] if data.case_id else [], "case_id")
    if missing:
        raise Invalid(missing[0].message, problems=missing)
    restarted = data.reported_date > zone.last_infection_date
    _event(zone, actor, EventKind.infection, on=data.reported_date, case_id=data.case_id,
           reason="; ".join(filter(None, [data.note, "clock restarted" if restarted else None]))
           or None)
    zone.last_infection_date = max(zone.last_infection_date, data.reported_date)
    _supersede(session, zone)
    session.flush()
    _audit(session, actor, "update", zone, ["last_infection_date"])
    return zone


def record_round(session: Session, *, actor: Actor, zone_id: int, data: RoundIn) -> Zone:
    zone = _active(session, actor, zone_id)
    zone.rounds.append(ZoneRound(round_date=data.round_date, all_negative=data.all_negative))
    _event(zone, actor, EventKind.round, on=data.round_date,
           reason="all negative" if data.all_negative else "positives found")
    session.flush()
    _audit(session, actor, "update", zone, ["rounds"])
    return zone


def list_(session: Session, *, actor: Actor, division: str | None = None,
          status: ZoneStatus | None = ZoneStatus.active, level: str | None = None) -> list[Zone]:
    actor.require(Perm.case_read)
    stmt = scope(select(Zone), actor, Zone.owning_division_code)
    if division:
        stmt = stmt.where(within(Zone.owning_division_code, division))
    if status:
        stmt = stmt.where(Zone.status == status)
    if level:
        stmt = stmt.where(Zone.level == level)
    return list(session.scalars(stmt.order_by(Zone.owning_division_code, Zone.id)))


def evaluate(session: Session, *, actor: Actor, on: date | None = None,
             zone_ids: Collection[int] | None = None) -> list[EvaluationRow]:
    """The daily evaluation: for every active zone in scope (or only those of ``zone_ids``: a
    command's own zones, a drill's), the change the pack makes due on ``on`` (proposed, or
    applied at once for the kinds the deployment lets apply by themselves), or the conditions
    still to be met. Zones outside ``zone_ids`` get no proposal."""
    on = on or today()
    auto = set(get_settings().zone_auto_apply)
    rows = []
    wanted = None if zone_ids is None else set(zone_ids)
    for zone in list_(session, actor=actor):
        if wanted is not None and zone.id not in wanted:
            continue
        verdict = rules.evaluate(zone, on)
        row = EvaluationRow(zone_id=zone.id, code=zone.code, level=zone.level,
                            due=verdict.due, requires=verdict.requires, reason=verdict.reason,
                            effective=verdict.effective)
        if verdict.due:
            proposal = _propose(session, actor, zone, on, verdict)
            row.proposal_id = proposal.id
            if _kind(verdict) in auto and proposal.status is ProposalStatus.pending:
                decide(session, actor=actor, proposal_id=proposal.id, approve=True,
                       basis="rule")
                row.applied = True
        rows.append(row)
    return rows


def next_step(zone: Zone, on: date) -> rules.Verdict:
    """What the pack's clock says of a zone (already read within the caller's scope) on ``on``:
    the change due, or the conditions still missing and the earliest date of the next change."""
    return _remembered(("next", on, *clock_inputs(zone)), lambda: rules.evaluate(zone, on))


def clock_inputs(zone: Zone) -> tuple[Any, ...]:
    """Everything of a zone that the pack's clock and the prohibition checks read
    (:mod:`fangkong.zone.rules`), with the exact pack (its content digest; the pinned check
    runs, so a pack changed on disk is still refused): equal inputs, equal answers."""
    pack = rules.zone_pack(zone)
    return (pack.id, pack.version, pack.digest, id(pack), zone.id, zone.code, zone.name,
            zone.level, zone.last_infection_date, zone.designated_on, zone.lifted_on,
            tuple((e.kind, e.on_date, e.from_level, e.to_level, e.condition)
                  for e in zone.events),
            tuple((r.round_date, r.all_negative) for r in zone.rounds))


_MEMO: dict[tuple[Any, ...], Any] = {}
MEMO_SIZE = 8192
"""Answers of the pack's clock and of the prohibition checks kept per process, keyed by the
whole of their input (:func:`clock_inputs` and the day): a pure function's results, so never
stale. The dashboard asks them for every zone of a city on every overview and brief (about
half of the zones section's processor time on the demo's database); the answers change only
when a zone or the day does."""


def _remembered(key: tuple[Any, ...], compute: Any) -> Any:
    try:
        return _MEMO[key]
    except KeyError:
        pass
    value = compute()
    if len(_MEMO) >= MEMO_SIZE:
        _MEMO.clear()  # simple and bounded; refilled by the next pages
    _MEMO[key] = value
    return value


def _kind(verdict: rules.Verdict) -> str:
    if verdict.escalation:
        return "escalate"
    return "lift" if verdict.due == "lift" else "downgrade"


def _propose(session: Session, actor: Actor, zone: Zone, on: date,
             verdict: rules.Verdict) -> ZoneProposal:
    existing = session.scalar(select(ZoneProposal).where(
        ZoneProposal.zone_id == zone.id, ZoneProposal.status == ProposalStatus.pending))
    if existing is not None:
        return existing
    proposal = ZoneProposal(zone_id=zone.id, proposed_on=on, from_level=zone.level,
                            to_level=None if verdict.due == "lift" else verdict.due,
                            lift=verdict.due == "lift", status=ProposalStatus.pending,
                            reason=verdict.reason)
    session.add(proposal)
    session.flush()
    _event(zone, actor, EventKind.proposal, on=on, basis="rule",
           to_level=proposal.to_level, reason=verdict.reason)
    _audit(session, actor, "update", zone, ["proposals"])
    return proposal


def proposals(session: Session, *, actor: Actor,
              status: ProposalStatus | None = ProposalStatus.pending) -> list[ZoneProposal]:
    actor.require(Perm.case_read)
    stmt = scope(select(ZoneProposal).join(Zone, Zone.id == ZoneProposal.zone_id), actor,
                 Zone.owning_division_code)
    if status:
        stmt = stmt.where(ZoneProposal.status == status)
    return list(session.scalars(stmt.order_by(ZoneProposal.id)))


def decide(session: Session, *, actor: Actor, proposal_id: int, approve: bool,
           basis: str = "manual") -> ZoneProposal:
    """A commander approves (the change applies) or rejects a proposal; the daily evaluation
    applies one by the pack's rule (``basis`` "rule") where the deployment lets it."""
    _may_decide(actor, basis)
    proposal = session.get(ZoneProposal, proposal_id)
    if proposal is None:
        raise NotFound(Z("proposal_not_found", id=proposal_id))
    zone = _active(session, actor, proposal.zone_id)
    if proposal.status is not ProposalStatus.pending:
        raise Conflict(Z("proposal_decided", id=proposal_id, status=proposal.status.value))
    reason = f"{'rule' if basis == 'rule' else 'approved'}: {proposal.reason}"
    if approve and proposal.lift:
        lift(session, actor=actor, zone_id=zone.id, data=Lift(reason=reason), basis=basis)
    elif approve:
        assert proposal.to_level is not None
        change_level(session, actor=actor, zone_id=zone.id, basis=basis,
                     data=LevelChange(to_level=proposal.to_level, reason=reason))
    else:
        _event(zone, actor, EventKind.proposal_rejected, reason=proposal.reason)
    proposal.status = ProposalStatus.applied if approve else ProposalStatus.rejected
    proposal.decided_by, proposal.decided_at = actor.username, utc_now()
    session.flush()
    return proposal


def confirm_condition(session: Session, *, actor: Actor, zone_id: int,
                      data: ConditionIn) -> Zone:
    """Record that a manual lifting condition of the pack (its id, as the evaluation names it
    in ``[confirm: id]``) is met for the zone."""
    zone = _active(session, actor, zone_id)
    known = {c.id for step in rules.lifting_steps(zone) for c in step.also_requires}
    if data.condition not in known:
        raise Invalid(Z("no_condition", code=zone.code, condition=data.condition),
                      problems=[Problem(CORE("expected_one_of",
                                             values=", ".join(sorted(known)) or "(none)"),
                                        field="condition")])
    _event(zone, actor, EventKind.condition_confirmed, condition=data.condition,
           reason=data.note)
    session.flush()
    _audit(session, actor, "update", zone, ["conditions"])
    return zone


def prohibition_breaches(session: Session, *, actor: Actor, on: date | None = None,
                         zones: list[Zone] | None = None) -> list[ZoneBreach]:
    """The nine-prohibition checks run on the platform's own active zones: a zone held at its
    level past the date the pack lifts or lowers it breaks prohibition 3 (不得随意延长封控时间).
    ``zones``: the zones the caller listed already (``list_`` with no status), else all."""
    on = on or today()
    out = []
    for zone in list_(session, actor=actor, status=None) if zones is None else zones:
        if not rules.existed_on(zone, on):
            continue
        out += _remembered(("breaches", on, *clock_inputs(zone)),
                           lambda z=zone: _breaches(z, on))
    return out


def _breaches(zone: Zone, on: date) -> tuple[ZoneBreach, ...]:
    measures: list[policy.Measure] = [rules.as_measure(zone, on)]
    report = policy.check_measures(rules.zone_pack(zone), measures)
    return tuple(ZoneBreach.of(zone_id=zone.id, code=zone.code, level=zone.level,
                               prohibition=v.prohibition, text=v.text, why=v.reason)
                 for v in report.violations)


def levels_by_division(session: Session, *, actor: Actor, area: list[str],
                       levels: list[str]) -> dict[str, str]:
    """The level of every division (zone member) inside ``area`` that an active zone in the
    actor's scope covers, for the levels in ``levels`` (most severe first: a division in two
    zones takes the first of their levels in that order). What a testing round reads to give
    each resident the tube size of their zone."""
    order = {level: i for i, level in enumerate(levels)}
    out: dict[str, str] = {}
    for zone in list_(session, actor=actor):
        if zone.level not in order:
            continue
        for member in zone.members:
            code = member.division_code
            if not any(code.startswith(a) for a in area):
                continue
            if code not in out or order[zone.level] < order[out[code]]:
                out[code] = zone.level
    return out


def public_notice(session: Session, *, division: str | None = None,
                  on: date | None = None) -> PublicNotice:
    """The public list of active zones, with the changes made since yesterday. Public by
    design: zone names, levels and places only, never persons."""
    on = on or today()
    stmt = select(Zone).where(Zone.status == ZoneStatus.active)
    if division:
        stmt = stmt.where(within(Zone.owning_division_code, division))
    zones = list(session.scalars(stmt.order_by(Zone.owning_division_code, Zone.id)))
    names = place_names(session, {m.division_code for z in zones for m in z.members})
    listed = [PublicZone(code=z.code, name=z.name, level=z.level,
                         level_label=LEVEL_LABELS.get(z.level, {"en": z.level}),
                         divisions=[names.get(m.division_code, m.division_code)
                                    + (f" {m.detail}" if m.detail else "") for m in z.members],
                         since=z.designated_on) for z in zones]
    kinds = (EventKind.designated, EventKind.level_changed, EventKind.lifted)
    changed = select(ZoneEvent, Zone).join(Zone, Zone.id == ZoneEvent.zone_id).where(
        ZoneEvent.kind.in_(kinds), ZoneEvent.on_date >= on - timedelta(days=1),
        ZoneEvent.on_date <= on)
    if division:
        changed = changed.where(within(Zone.owning_division_code, division))
    changes = [PublicChange(code=z.code, name=z.name, kind=e.kind.value, from_level=e.from_level,
                            to_level=e.to_level, on_date=e.on_date)
               for e, z in session.execute(changed.order_by(ZoneEvent.id))]
    return PublicNotice(as_of=on, zones=listed, changes_since_yesterday=changes)


def place_names(session: Session, codes: set[str]) -> dict[str, str]:
    """Full names of divisions below city level (e.g. 赤坎区中华街道…), by code."""
    wanted = {c for code in codes for c in geo.ancestor_codes(code) if len(c) > 4}
    names = geo.names(session, wanted | codes)
    for code in codes:  # an unknown division is an error, as it was with one query per code
        if code not in names:
            geo.get(session, code)
    return {code: "".join(names[c] for c in [*geo.ancestor_codes(code), code]
                          if len(c) > 4 and c in names) for code in codes}
