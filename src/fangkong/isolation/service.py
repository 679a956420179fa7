"""Isolation services: sites and rooms, stays from the policy pack's plan with their sampling
tasks, release (refused without its negative tests), return transfers, exact occupancy, and the
planning mode that assigns people to rooms from files.

The domain's public face: the work is written by use case in :mod:`~fangkong.isolation.sites`
(sites, rooms, reserve, occupancy), :mod:`~fangkong.isolation.stays` (booking stays),
:mod:`~fangkong.isolation.sampling` (a stay's tests, their tasks, samples and results) and
:mod:`~fangkong.isolation.release` (release, release proposals, moves); the planning mode and
the batch assignment are here."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from fangkong.core.auth import Actor
from fangkong.isolation import batch, planning, routing, solver
from fangkong.isolation.batch import BatchPlan, batch_people
from fangkong.isolation.release import (
    end_stays,
    move_stay,
    release,
    release_proposals,
    stay_pack,
)
from fangkong.isolation.sampling import (
    SAMPLING_TASK,
    pending_tests,
    record_samples,
    record_test,
    record_tests,
    tests_of,
)
from fangkong.isolation.schemas import (
    AssignmentPlan,
    BatchAssign,
    BatchResult,
    Placement,
    RoutePlan,
)
from fangkong.isolation.sites import (
    create_site,
    get_site,
    list_sites,
    occupancy,
    reserve,
    rooms_of,
    site_id,
    stand_down,
)
from fangkong.isolation.stays import (
    QUARANTINE_SITES,
    STAY_FIELDS,
    active_stays,
    at_home,
    create_stay,
    create_stays,
    get_stay,
    site_stays,
    stay_read,
)
from fangkong.policy import service as policy

__all__ = [
    "QUARANTINE_SITES",
    "SAMPLING_TASK",
    "STAY_FIELDS",
    "BatchPlan",
    "active_stays",
    "assign_and_book",
    "at_home",
    "batch_people",
    "book_plan",
    "create_site",
    "create_stay",
    "create_stays",
    "end_stays",
    "get_site",
    "get_stay",
    "list_sites",
    "move_stay",
    "occupancy",
    "pending_tests",
    "plan_assignment",
    "plan_batch",
    "plan_transfers",
    "record_samples",
    "record_test",
    "record_tests",
    "release",
    "release_proposals",
    "reserve",
    "rooms_of",
    "site_id",
    "site_stays",
    "stand_down",
    "stay_pack",
    "stay_read",
    "tests_of",
]


# --- planning mode ----------------------------------------------------------------------------

def plan_assignment(*, people: Path | bytes, sites: Path | bytes, pack: str | None = None,
                    people_name: str | None = None, sites_name: str | None = None
                    ) -> AssignmentPlan:
    """Read and check both files (bad rows: Invalid with file, line and field), then solve."""
    _, rules = policy.isolation_rules(pack)
    persons_ = planning.read_people(people, people_name)
    places = planning.read_sites(sites, sites_name)
    return solver.assign(persons_, places, rules)


def plan_transfers(*, requests: Path | bytes, sites: Path | bytes, vehicles: Path | bytes,
                   seconds: float = 5.0, names: tuple[str | None, str | None, str | None] = (
                       None, None, None)) -> RoutePlan:
    """Routes for a day's transfers from files: requests (who, from where, to which site, in
    which window), the sites file of ``assign`` and the vehicles."""
    places = planning.read_sites(sites, names[1])
    wanted = routing.read_requests(requests, places, names[0])
    fleet = routing.read_vehicles(vehicles, names[2])
    return routing.plan_routes(wanted, places, fleet, seconds=seconds)


def assign_and_book(session: Session, *, actor: Actor, data: BatchAssign) -> BatchResult:
    """Assign a batch to the free rooms of the sites in the database and book every stay (all
    or nothing: a refusal rolls the batch back with the caller's transaction)."""
    return batch.assign_batch(session, actor=actor, data=data, create_stays=create_stays)



def plan_batch(session: Session, *, actor: Actor, data: BatchAssign) -> BatchPlan:
    """The solver's plan for a batch over the free rooms in the database, nothing written:
    shown to a person who may change it by hand before :func:`book_plan`."""
    return batch.plan_batch(session, actor=actor, data=data)


def book_plan(session: Session, *, actor: Actor, data: BatchAssign,
              placements: list[Placement]) -> dict[str, int]:
    """Book a batch as placed (the plan, changed by hand): all or nothing; person ref →
    stay id."""
    return batch.book_plan(session, actor=actor, data=data, placements=placements,
                           create_stays=create_stays)
