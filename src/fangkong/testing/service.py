"""Mass testing's service: rounds and their target population, tubes, points, labs
(``rounds``); status, coverage, the not-yet-sampled list and the positive-pool queue
(``coverage``, with the figures kept as records are written: ``figures``); advice, planning,
the stop rule and key groups (``plans``). Bulk samples and results: importer.py; what a
positive result sets off: followup.py. Callers use the names here."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.core.auth import Actor
from fangkong.core.errors import NotFound
from fangkong.testing.coverage import (
    WORK_MEM,
    computed_round_totals,
    coverage,
    iter_unsampled,
    open_pool_list,
    open_pools,
    queue,
    round_totals,
    status,
    turnaround,
    unsampled,
)
from fangkong.testing.enums import MemberStatus
from fangkong.testing.models import Followup, FollowupMember, Lab, Target, Tube
from fangkong.testing.plans import (
    add_key_group_members,
    advise,
    compliance,
    create_key_group,
    plan,
    series_advice,
)
from fangkong.testing.rounds import (
    close_round,
    create_lab,
    create_point,
    create_round,
    get_round,
    issue_tubes,
    open_rounds,
    points_and_labs,
    rules_of,
)

__all__ = [
    "WORK_MEM",
    "add_key_group_members",
    "advise",
    "close_round",
    "compliance",
    "computed_round_totals",
    "coverage",
    "create_key_group",
    "create_lab",
    "create_point",
    "create_round",
    "get_round",
    "issue_tubes",
    "iter_unsampled",
    "lab_codes",
    "lab_id",
    "open_pool_list",
    "open_pools",
    "open_rounds",
    "pending_followup_members",
    "plan",
    "points_and_labs",
    "queue",
    "round_totals",
    "rules_of",
    "series_advice",
    "status",
    "target_limits",
    "tube_by_barcode",
    "turnaround",
    "unsampled",
]


def tube_by_barcode(session: Session, *, actor: Actor, barcode: str) -> tuple[Tube, str] | None:
    """The tube with this barcode and its round's name, when the round is one the actor may
    read (:func:`get_round`); None otherwise, as for a barcode never issued."""
    tube = session.scalar(select(Tube).where(Tube.barcode == barcode.strip()))
    if tube is None:
        return None
    try:
        round_ = get_round(session, actor=actor, round_id=tube.round_id)
    except NotFound:
        return None
    return tube, round_.name


# --- lookups for the drill, which reads back what it made ----------------------------------------

def lab_codes(session: Session, prefix: str) -> list[str]:
    """The codes of the labs whose code starts with ``prefix``."""
    return list(session.scalars(select(Lab.code).where(Lab.code.like(f"{prefix}%"))))


def lab_id(session: Session, code: str) -> int | None:
    return session.scalar(select(Lab.id).where(Lab.code == code))


def target_limits(session: Session, round_id: int) -> dict[int, tuple[int, bool]]:
    """Each target person's tube size limit and whether a household tube (1户1管) is due."""
    return {p: (mx, hh) for p, mx, hh in session.execute(
        select(Target.person_id, Target.pool_max, Target.household).where(
            Target.round_id == round_id))}


def pending_followup_members(session: Session, barcodes: list[str]) -> list[tuple[int, int]]:
    """(person id, round id) of the members still pending of the follow-ups of these
    (positive pool) tubes, by round and person."""
    return [(p, r) for p, r in session.execute(
        select(FollowupMember.person_id, Followup.round_id)
        .join(Followup, Followup.id == FollowupMember.followup_id)
        .join(Tube, Tube.id == Followup.tube_id)
        .where(Tube.barcode.in_(barcodes), FollowupMember.status == MemberStatus.pending)
        .order_by(Followup.round_id, FollowupMember.person_id))]
