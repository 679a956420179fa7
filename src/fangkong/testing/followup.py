"""What a result sets off, at once and in the same transaction as the result itself.

- A positive pool (more than one member): every member is marked pending and placed under
  temporary control where they are, with the community unit responsible recorded; each gets a
  single-tube re-collection task (``resample``) for that unit, due ``resample_due_hours`` later
  (pack ``testing.turnaround``); the pool is in the command's queue until resolved.
- A positive single tube: a case is reported directly (case service).
- A re-test (a single tube of a pending member, sampled after the pool's swab): negative releases
  the member; positive makes them a case; invalid schedules another re-collection. When no member
  is pending any more the pool is resolved (released, or case found).
- An invalid tube that is not a re-test: a re-collection task for its members' community.

A case from a positive single tube is the person's episode if they have one that is not
discarded (no second case for someone sampled again in the next daily round); the batch's new
infections are handed to tracing together (``case.reported``).

A visitor (a person staying in the round's area, living in another jurisdiction) is followed up
by their home jurisdiction: their case and their re-collection tasks are created there (written
on the platform's behalf, :func:`fangkong.core.auth.handover`), and a positive single tube also
gives the home county's command a task (``assist_case``, 病例协查) naming the case. The
testing side stores the result and sees no more of them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from fangkong.case import service as cases
from fangkong.case.enums import Basis, Classification, DetectionMode
from fangkong.case.records import row_hash
from fangkong.core import audit, events
from fangkong.core.auth import Actor, acting_for, handover
from fangkong.core.clock import utc_now
from fangkong.core.db import insert_many, insert_many_ids
from fangkong.geo import service as geo
from fangkong.geo.enums import UnitKind
from fangkong.geo.service import Unit, ancestor_codes
from fangkong.person import service as person_service
from fangkong.policy import service as policy
from fangkong.policy.testing_rules import Testing
from fangkong.task import service as tasks
from fangkong.task.schemas import TaskCreate
from fangkong.testing.enums import FollowupStatus, MemberStatus, Outcome, Result
from fangkong.testing.models import Followup, FollowupMember, Round, Sample, Target, Tube

DISEASE = "covid19"
"""The disease of the cases a positive screening result reports."""
ASSIST_DUE_HOURS = 2
"""When the home jurisdiction's command is to have taken over a visitor's case (协查 within
two hours)."""


@dataclass
class Effects:
    """What one batch of results set off (counts for the import report)."""

    positive_tubes: int = 0
    followups_opened: int = 0
    members_resolved: int = 0
    cases: list[int] = field(default_factory=list)  # new cases
    known_cases: list[int] = field(default_factory=list)  # positives already a case
    infections: list[int] = field(default_factory=list)  # new to case management as such
    # the round whose tube found each infection: it is traced under that round's pack
    infection_rounds: dict[int, int] = field(default_factory=dict)


class _Units:
    """The community unit responsible for a division: the nearest one at or above it (the
    community units are read once, at the first question)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.cache: dict[str, Unit | None] = {}
        self.by_code: dict[str, Unit] | None = None

    def of(self, code: str) -> Unit | None:
        if code not in self.cache:
            if self.by_code is None:
                self.by_code = {}
                for unit in geo.units_of_kind(self.session, UnitKind.community):
                    self.by_code[unit.division_code] = unit  # the lowest id per division
            found = [self.by_code[c] for c in (code, *ancestor_codes(code))
                     if c in self.by_code]
            self.cache[code] = max(found, key=lambda u: len(u.division_code), default=None)
        return self.cache[code]


def _members(session: Session, tube: Tube) -> list[tuple[int, str, str, bool, datetime]]:
    """(person id, ref, division code, at a quarantine site, sampled at) of a tube's members."""
    return _members_of(session, [tube.id]).get(tube.id, [])


def _members_of(session: Session, tube_ids: list[int]
                ) -> dict[int, list[tuple[int, str, str, bool, datetime]]]:
    """The members of many tubes, by tube, each tube's ordered by person id."""
    found: dict[int, list[tuple[int, str, str, bool, datetime]]] = {}
    person = person_service.table()
    for start in range(0, len(tube_ids), 5000):
        rows = session.execute(
            select(Sample.tube_id, person.c.id, person.c.ref, person.c.division_code,
                   func.coalesce(Target.at_site, False), Sample.sampled_at)
            .join(Sample, Sample.person_id == person.c.id)
            .outerjoin(Target, (Target.round_id == Sample.round_id)
                       & (Target.person_id == Sample.person_id))
            .where(Sample.tube_id.in_(tube_ids[start:start + 5000]))
            .order_by(Sample.tube_id, person.c.id)).all()
        for tube_id, i, r, d, site, t in rows:
            found.setdefault(tube_id, []).append((i, r, d, bool(site), t))
    return found


def _hand_over_case(session: Session, actor: Actor, case_id: int, ref: str, code: str,
                    tube: Tube, now: datetime, effects: Effects) -> None:
    """A visitor's new case, found by a round outside their home: a task for the home
    county's command (the case is theirs already: owned and located there). A positive result
    of a case they know already (their episode) gives no second task."""
    if actor.covers(code) or case_id not in effects.cases[-1:]:  # new: _report_case's last
        return
    county = code[:6]
    tasks.create_many(session, actor=handover(actor), data=[TaskCreate(
        type="assist_case", **tasks.titled("assist_case", ref=ref, barcode=tube.barcode,
                                           round=tube.round_id), subject_type="case",
        subject_id=case_id, owning_division_code=county,
        due_at=now + timedelta(hours=ASSIST_DUE_HOURS),
        note="a visitor from your jurisdiction tested positive elsewhere: take over the case")])


def _resample_task(session: Session, actor: Actor, units: _Units, rules: Testing, *,
                   person_id: int, ref: str, code: str, barcode: str, now: datetime,
                   why: str) -> tuple[int, Unit | None]:
    return _resample_tasks(session, actor, units, rules, [(person_id, ref, code, barcode)],
                           now=now, why=why)[0]


def _resample_tasks(session: Session, actor: Actor, units: _Units, rules: Testing,
                    persons: list[tuple[int, str, str, str]], *, now: datetime,
                    why: str) -> list[tuple[int, Unit | None]]:
    """A single-tube re-collection task per (person id, ref, division code, tube barcode),
    for the community unit of their division; (task id, unit) in the order given. The task
    is done when the swab is taken (``testing.resampled``, from the samples import), or at
    the latest when a re-test has its result."""
    found = [units.of(code) for _, _, code, _ in persons]
    writer = acting_for(actor, [code for _, _, code, _ in persons])
    ids = tasks.create_many(session, actor=writer, data=[TaskCreate(
        type="resample", **tasks.titled("resample", ref=ref, why=why, barcode=barcode),
        subject_type="person", subject_id=person_id,
        completes_on=["testing.resampled", "testing.retested"],
        owning_division_code=code,
        unit_id=unit.id if unit else None,
        due_at=now + timedelta(hours=rules.turnaround.resample_due_hours),
        note=f"{why} tube {barcode}: swab this person in a single tube")
        for (person_id, ref, code, barcode), unit in zip(persons, found, strict=True)])
    return list(zip(ids, found, strict=True))


def _report_case(session: Session, actor: Actor, rules: Testing, *, person_id: int,
                 ref: str, code: str, at_site: bool, tube: Tube,
                 sampled_at: datetime, effects: Effects) -> int:
    """The case of a positive single tube (a tube of one, or a pool member's re-test): a new
    case, or the person's episode already open (:func:`cases.open_episode`: someone sampled
    again in a daily round while a case is the same case), which a suspected episode leaves as
    an infection when the pack's positive classification is one. Either way the case is in
    ``effects`` (new or known), and so is an infection new to case management, which
    :func:`process` announces (``case.reported``: tracing proposes its contacts)."""
    note = f"positive single tube {tube.barcode} (testing round {tube.round_id})"
    to = Classification(rules.positive_classification)
    found = cases.open_episode(session, person_id=person_id, disease=DISEASE)
    if found is not None:
        effects.known_cases.append(found.id)
        if found.classification == Classification.suspected and cases.apply_change(
                found, actor=actor, classification=to, severity=None, basis=Basis.rule,
                note=note):
            fields = ["classification", "severity"]
            if found.first_positive_sample_date is None:
                found.first_positive_sample_date = sampled_at.date()
                fields.append("first_positive_sample_date")
            found.row_hash = ""  # no longer its file line: a re-import counts as a change
            session.flush()
            audit.record(session, actor, action="update", record_type="case",
                         record_ids=[found.id], fields=fields, note=note)
            if found.classification in cases.INFECTIONS:
                effects.infections.append(found.id)
                effects.infection_rounds[found.id] = tube.round_id
        return found.id
    reported = tube.reported_at or utc_now()
    values: dict[str, Any] = {
        "ref": f"NAT-{tube.barcode}-{ref}"[:64], "person_ref": ref, "disease": DISEASE,
        "classification": to, "severity": None,
        "onset_date": None, "first_positive_sample_date": sampled_at.date(),
        "reported_at": reported,
        "detection_mode": DetectionMode.in_quarantine if at_site
        else DetectionMode.community_screening,
        "owning_division_code": code, "current_division_code": code}
    values["row_hash"] = row_hash(values)
    case = cases.insert(session, actor=actor, values=values, person_id=person_id, note=note)
    audit.record(session, actor, action="create", record_type="case", record_ids=[case.id],
                 fields=cases.FIELDS, note="reported by a positive screening result")
    effects.cases.append(case.id)
    if case.classification in cases.INFECTIONS:
        effects.infections.append(case.id)
        effects.infection_rounds[case.id] = tube.round_id
    return case.id


def open_positives(session: Session, actor: Actor, rules: Callable[[int], Testing],
                   units: _Units, tubes: list[Tube], effects: Effects) -> None:
    """Positive tubes' results, at once: a case for a single tube; for a pool, a follow-up
    in the queue and every member under control with a re-collection task, all pools of the
    batch written together (``rules``: the round's rules by round id)."""
    now = utc_now()
    members_of = _members_of(session, [t.id for t in tubes])
    pools: list[tuple[Tube, list[tuple[int, str, str, bool, datetime]]]] = []
    for tube in tubes:
        members = members_of.get(tube.id, [])
        if not members:
            continue
        effects.positive_tubes += 1
        if len(members) == 1:
            _open_single(session, actor, rules(tube.round_id), units, tube, members[0], now,
                         effects)
        else:
            pools.append((tube, members))
    if not pools:
        return
    opened = insert_many_ids(session, Followup.__table__, [
        {"round_id": tube.round_id, "tube_id": tube.id, "division_code": members[0][2],
         "status": FollowupStatus.open, "opened_at": now, "opened_by": actor.username}
        for tube, members in pools])
    effects.followups_opened += len(pools)
    rows: list[dict[str, Any]] = []
    for round_id in sorted({tube.round_id for tube, _ in pools}):
        # the round's pools: one re-collection task per member, all made at once
        mine = [(tube, members, followup_id) for (tube, members), followup_id
                in zip(pools, opened, strict=True) if tube.round_id == round_id]
        made = iter(_resample_tasks(
            session, actor, units, rules(round_id),
            [(pid, ref, code, tube.barcode) for tube, members, _ in mine
             for pid, ref, code, _, _ in members], now=now, why="positive pool"))
        for _, members, followup_id in mine:
            for (pid, _, code, _, _), (task_id, unit) in zip(members, made, strict=False):
                rows.append({"followup_id": followup_id, "person_id": pid,
                             "division_code": code, "status": MemberStatus.pending,
                             "control_since": now, "responsible": _who(units, code),
                             "responsible_unit_id": unit.id if unit else None,
                             "task_id": task_id, "retests": 0})
    insert_many(session, FollowupMember.__table__, rows)
    audit.record(session, actor, action="create", record_type="testing_followup",
                 record_ids=opened, fields=["members", "status", "responsible"],
                 detail={"tubes": {tube.barcode: [m[0] for m in members]
                                   for tube, members in pools}})


def _open_single(session: Session, actor: Actor, rules: Testing, units: _Units, tube: Tube,
                 member: tuple[int, str, str, bool, datetime], now: datetime,
                 effects: Effects) -> None:
    """A positive single tube: a case at once; its follow-up is resolved as it opens."""
    pid, ref, code, at_site, sampled_at = member
    followup = Followup(round_id=tube.round_id, tube_id=tube.id, division_code=code,
                        status=FollowupStatus.resolved, outcome=Outcome.case_found,
                        opened_at=now, resolved_at=now, opened_by=actor.username)
    session.add(followup)
    session.flush()
    case_id = _report_case(session, actor, rules, person_id=pid, ref=ref, code=code,
                           at_site=at_site, tube=tube, sampled_at=sampled_at, effects=effects)
    _hand_over_case(session, actor, case_id, ref, code, tube, now, effects)
    session.add(FollowupMember(
        followup_id=followup.id, person_id=pid, division_code=code,
        status=MemberStatus.positive, control_since=now, responsible=_who(units, code),
        responsible_unit_id=_unit_id(units, code), retests=0, case_id=case_id))
    session.flush()
    audit.record(session, actor, action="create", record_type="testing_followup",
                 record_ids=[followup.id], fields=["members", "status", "responsible"],
                 detail={"tube": tube.barcode, "persons": [pid]})


def _who(units: _Units, code: str) -> str:
    unit = units.of(code)
    return f"{unit.name} ({unit.code})" if unit else f"community of division {code}"


def _unit_id(units: _Units, code: str) -> int | None:
    unit = units.of(code)
    return unit.id if unit else None


def _retested(session: Session, actor: Actor, person_id: int, note: str) -> None:
    """The person's single-tube re-test has its result: their re-collection tasks are done
    (a visitor's too, at home: the event ends the tasks of its subject wherever they are)."""
    events.publish(session, events.Event("testing.retested", actor=actor, subject_type="person",
                                         subject_ids=[person_id], reason=note))


def resolve_member(session: Session, actor: Actor, rules: Testing, units: _Units,
                   member: FollowupMember, tube: Tube, effects: Effects) -> None:
    """A pending member's single-tube re-test result."""
    now = utc_now()
    people = person_service.table()
    ref = session.scalar(select(people.c.ref).where(people.c.id == member.person_id))
    assert ref is not None and tube.result is not None
    member.retest_tube_id = tube.id
    if tube.result == Result.invalid:
        _retested(session, actor, member.person_id, f"re-test tube {tube.barcode} invalid")
        member.retests += 1
        member.task_id, _ = _resample_task(
            session, actor, units, rules, person_id=member.person_id, ref=ref,
            code=member.division_code, barcode=tube.barcode, now=now, why="invalid re-test")
        session.flush()
        return
    effects.members_resolved += 1
    _retested(session, actor, member.person_id, f"re-test tube {tube.barcode}: {tube.result.value}")
    if tube.result == Result.negative:
        member.status, member.control_ended_at = MemberStatus.released, now
    else:
        sampled = session.scalar(select(Sample.sampled_at).where(Sample.tube_id == tube.id))
        member.status = MemberStatus.positive
        member.case_id = _report_case(session, actor, rules, person_id=member.person_id,
                                      ref=ref, code=member.division_code, at_site=False,
                                      tube=tube, sampled_at=sampled or now, effects=effects)
        _hand_over_case(session, actor, member.case_id, ref, member.division_code,
                        tube, now, effects)
    session.flush()
    followup = session.get(Followup, member.followup_id)
    assert followup is not None
    left = session.scalar(select(func.count()).where(
        FollowupMember.followup_id == followup.id,
        FollowupMember.status == MemberStatus.pending))
    if not left and followup.status == FollowupStatus.open:
        found = session.scalar(select(func.count()).where(
            FollowupMember.followup_id == followup.id,
            FollowupMember.status == MemberStatus.positive))
        followup.status, followup.resolved_at = FollowupStatus.resolved, now
        followup.outcome = Outcome.case_found if found else Outcome.released
    audit.record(session, actor, action="update", record_type="testing_followup",
                 record_ids=[followup.id], fields=["status"],
                 detail={"person": member.person_id, "result": tube.result.value})


def invalid_tube(session: Session, actor: Actor, rules: Testing, units: _Units,
                 tube: Tube) -> None:
    """An invalid tube that is no re-test: each member is to be swabbed again."""
    _resample_tasks(session, actor, units, rules,
                    [(pid, ref, code, tube.barcode) for pid, ref, code, _, _
                     in _members(session, tube)], now=utc_now(), why="invalid")


def process(session: Session, actor: Actor, fresh_tube_ids: list[int]) -> Effects:
    """Everything the newly resulted tubes set off. Only positive and invalid tubes, and
    single tubes of pending members, do anything; the rest are passed over in SQL."""
    effects = Effects()
    if not fresh_tube_ids:
        return effects
    units = _Units(session)
    rules_by_round: dict[int, Testing] = {}

    def rules(round_id: int) -> Testing:
        if round_id not in rules_by_round:
            rules_by_round[round_id] = policy.testing_rules(round_pack(session, round_id))
        return rules_by_round[round_id]

    retests: dict[int, list[FollowupMember]] = {}
    for start in range(0, len(fresh_tube_ids), 5000):
        chunk = fresh_tube_ids[start:start + 5000]
        pool = aliased(Tube, name="pool")
        for member, tube_id in session.execute(
                select(FollowupMember, Sample.tube_id)
                .join(Followup, Followup.id == FollowupMember.followup_id)
                .join(pool, pool.id == Followup.tube_id)
                .join(Sample, Sample.person_id == FollowupMember.person_id)
                .join(Tube, Tube.id == Sample.tube_id)
                .where(FollowupMember.status == MemberStatus.pending, Tube.members == 1,
                       Sample.tube_id.in_(chunk), Tube.id != pool.id,
                       Sample.sampled_at > pool.first_sampled_at)):
            retests.setdefault(tube_id, []).append(member)
    notable: list[Tube] = []
    for start in range(0, len(fresh_tube_ids), 5000):
        chunk = fresh_tube_ids[start:start + 5000]
        notable += session.scalars(select(Tube).where(
            Tube.id.in_(chunk), Tube.result.in_([Result.positive, Result.invalid]))).all()
    for tube_id, members in sorted(retests.items()):
        tube = session.get(Tube, tube_id)
        assert tube is not None
        for member in members:
            resolve_member(session, actor, rules(tube.round_id), units, member, tube, effects)
    notable = sorted((t for t in notable if t.id not in retests), key=lambda t: t.id)
    open_positives(session, actor, rules, units,
                   [t for t in notable if t.result == Result.positive], effects)
    for tube in notable:
        if tube.result != Result.positive:
            invalid_tube(session, actor, rules(tube.round_id), units, tube)
    # handed to tracing, all of the batch's at once, under the pack of the round that found
    # them (one event per pack)
    by_pack: dict[policy.PackPin, list[int]] = {}
    pins: dict[int, policy.PackPin] = {}
    for case_id in effects.infections:
        round_id = effects.infection_rounds[case_id]
        if round_id not in pins:
            found = round_pack(session, round_id)
            pins[round_id] = policy.PackPin(found.id, found.version)
        by_pack.setdefault(pins[round_id], []).append(case_id)
    for pin, infections in by_pack.items():
        codes = [] if actor.national else [c for start in range(
            0, len(infections), 5000) for c in session.scalars(
            select(cases.table().c.owning_division_code).where(
                cases.table().c.id.in_(infections[start:start + 5000])))]
        cases.reported(session, actor=acting_for(actor, codes), case_ids=infections,
                       reason="positive screening result", pack=pin)
    return effects


def round_pack(session: Session, round_id: int) -> policy.Pack:
    """The pack a round was created under (its pooling, its follow-up, the tracing of what it
    finds); PackChanged if that pack's version on disk is no longer the round's."""
    round_ = session.get(Round, round_id)
    assert round_ is not None
    return policy.pinned(round_.pack_id, round_.pack_version,
                         record=f"testing round {round_id}")
