"""The tracing service: a case's exposures and contacts, and the counts of contact episodes
(services; they never commit). Its use cases live in their own modules and are part of this
service:

- :mod:`fangkong.tracing.proposals`: automatic proposals of a case's contacts (household,
  venue co-presence, secondary contacts), on ``case.reported``;
- :mod:`fangkong.tracing.episodes`: confirming proposals and adding exposures, which create or
  extend contact episodes with the pack's plan and the tasks it requires;
- :mod:`fangkong.tracing.status`: contact status changes and the events that end tasks.

Venues are in :mod:`fangkong.tracing.venues`; the check-in store and its engine in
:mod:`fangkong.tracing.store` and :mod:`fangkong.tracing.engine`; chains and clusters in
:mod:`fangkong.tracing.chains`.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, datetime
from statistics import median
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fangkong.case import service as cases
from fangkong.core import audit
from fangkong.core.auth import Actor, Perm, scope, within
from fangkong.core.errors import NotFound
from fangkong.tracing.enums import ContactStatus, Review
from fangkong.tracing.episodes import (
    CONTACT_FIELDS,
    add_exposure,
    add_exposures,
    case_values,
    case_window,
    chunks,
    contact_pack,
    deactivate_discarded,
    exposure_pack,
    review,
    review_many,
)
from fangkong.tracing.messages import T
from fangkong.tracing.models import ContactEpisode, Exposure
from fangkong.tracing.proposals import on_case_reported, propose, propose_many
from fangkong.tracing.status import (
    follow_up,
    in_care,
    on_transfer_arrived,
    set_status,
    set_status_many,
)

__all__ = [
    "CONTACT_FIELDS", "add_exposure", "add_exposures", "case_window", "contact_pack",
    "contacts_of", "deactivate_discarded", "exposure_pack", "exposures_of", "follow_up",
    "get_contact", "hours_between", "in_care", "on_case_reported", "on_transfer_arrived",
    "propose", "propose_many", "review", "review_many", "set_status", "set_status_many",
    "summary",
]

def exposures_of(session: Session, *, actor: Actor, case_id: int) -> list[Exposure]:
    actor.require(Perm.case_read)
    cases.get(session, actor=actor, case_id=case_id, audit_read=False)
    found = list(session.scalars(select(Exposure).where(Exposure.source_case_id == case_id)
                                 .order_by(Exposure.id)))
    audit.record(session, actor, action="read", record_type="exposure",
                 record_ids=[e.id for e in found], fields=["exposed_person_id"])
    return found


def contacts_of(session: Session, *, actor: Actor, case_id: int) -> list[ContactEpisode]:
    actor.require(Perm.case_read)
    cases.get(session, actor=actor, case_id=case_id, audit_read=False)
    found = list(session.scalars(select(ContactEpisode).where(
        ContactEpisode.index_case_id == case_id).order_by(ContactEpisode.id)))
    audit.record(session, actor, action="read", record_type="contact",
                 record_ids=[c.id for c in found], fields=CONTACT_FIELDS)
    return found


def contacts_by_id(session: Session, *, actor: Actor, ids: Sequence[int]
                   ) -> list[ContactEpisode]:
    """The contacts of ``ids`` inside the actor's jurisdiction (by where they live), read in
    chunks and audited once (a listener's bulk read: fangkong.monitoring)."""
    actor.require(Perm.case_read)
    out: list[ContactEpisode] = []
    for chunk in chunks(sorted(set(ids))):
        out += [c for c in session.scalars(select(ContactEpisode).where(
            ContactEpisode.id.in_(chunk))) if actor.covers(c.division_code)]
    if out:
        audit.record(session, actor, action="read", record_type="contact",
                     record_ids=[c.id for c in out], fields=CONTACT_FIELDS)
    return out


def get_contact(session: Session, *, actor: Actor, contact_id: int) -> ContactEpisode:
    actor.require(Perm.case_read)
    contact = session.get(ContactEpisode, contact_id)
    if contact is None:
        raise NotFound(T("contact_not_found", id=contact_id))
    if not (actor.covers(contact.division_code) or actor.covers(case_values(
            session, "owning_division_code", [contact.index_case_id]).get(
            contact.index_case_id, ""))):
        raise NotFound(T("contact_not_found", id=contact_id))
    audit.record(session, actor, action="read", record_type="contact", record_ids=[contact.id],
                 fields=CONTACT_FIELDS)
    return contact


def hours_between(start: datetime, end: datetime | None) -> float | None:
    return None if end is None else round((end - start).total_seconds() / 3600, 2)


def summary(session: Session, *, actor: Actor, division: str, since: datetime,
            until: datetime) -> dict[str, Any]:
    """Counts of contact episodes in ``division`` (scoped): by status now, identified in
    [since, until), and the median hours from the case's report to identification and to the
    start of management of those identified then. Counts only: no personal data is read."""
    actor.require(Perm.case_read)
    where = [within(ContactEpisode.division_code, division)]
    counts = scope(select(ContactEpisode.status, func.count()).where(*where)
                   .group_by(ContactEpisode.status), actor, ContactEpisode.division_code)
    by_status: dict[str, int] = {s.value: 0 for s in ContactStatus}
    for status, n in session.execute(counts):
        by_status[status.value] = int(n)
    today = scope(select(ContactEpisode.case_reported_at, ContactEpisode.identified_at,
                         ContactEpisode.management_started_at)
                  .where(*where, ContactEpisode.identified_at >= since,
                         ContactEpisode.identified_at < until),
                  actor, ContactEpisode.division_code)
    to_id, to_mgmt, new = [], [], 0
    for reported, identified, managed in session.execute(today):
        new += 1
        to_id.append(hours_between(reported, identified) or 0.0)
        if managed is not None:
            to_mgmt.append(hours_between(reported, managed) or 0.0)
    return {"by_status": by_status, "identified": new,
            "median_hours_to_identification": median(to_id) if to_id else None,
            "median_hours_to_management": median(to_mgmt) if to_mgmt else None}


# --- for the drill, which reads its own contacts back ---------------------------------------------

def proposed_of(session: Session, case_ids: Sequence[int]) -> list[tuple[int, int, str]]:
    """(exposure id, source case id, proposed role) of the proposals still to review of these
    cases."""
    return [(i, c, r) for i, c, r in session.execute(
        select(Exposure.id, Exposure.source_case_id, Exposure.proposed_role).where(
            Exposure.source_case_id.in_(list(case_ids)), Exposure.review == Review.proposed))]


def episode_rows(session: Session,
                 ids: Collection[int]) -> list[tuple[int, int, date, str, int]]:
    """(id, person id, last exposure, role, index case id) of these contact episodes."""
    ordered, out = sorted(set(ids)), []
    for k in range(0, len(ordered), 900):
        out += [(i, p, d, r, c) for i, p, d, r, c in session.execute(
            select(ContactEpisode.id, ContactEpisode.person_id, ContactEpisode.last_exposure,
                   ContactEpisode.role, ContactEpisode.index_case_id).where(
                ContactEpisode.id.in_(ordered[k:k + 900])))]
    return out


def episodes_by_id(session: Session, ids: Collection[int]) -> dict[int, ContactEpisode]:
    """These contact episodes, by id."""
    ordered, out = sorted(set(ids)), {}
    for k in range(0, len(ordered), 900):
        out.update({c.id: c for c in session.scalars(select(ContactEpisode).where(
            ContactEpisode.id.in_(ordered[k:k + 900])))})
    return out
