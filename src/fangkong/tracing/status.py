"""Contact status changes (services; they never commit): identified → notified → under
management → released, or became a case / lost to follow-up, with the history. Each move
publishes its event (``contact.<status>``), which ends the contact's tasks that wait for it;
the arrival of a contact's transfer to quarantine ends its transfer task.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, lazyload

from fangkong.core import audit, events
from fangkong.core.auth import Actor, Perm, scope
from fangkong.core.clock import as_utc, utc_now
from fangkong.core.errors import Invalid, NotFound, Problem
from fangkong.core.messages import joined
from fangkong.task import service as tasks
from fangkong.tracing.enums import TRANSITIONS, ContactStatus
from fangkong.tracing.episodes import CONTACT_FIELDS, case_values, chunks
from fangkong.tracing.messages import T, state
from fangkong.tracing.models import ContactEpisode, ContactStatusChange
from fangkong.tracing.schemas import StatusUpdate

WAITING_TRANSFER = (ContactStatus.identified, ContactStatus.notified,
                    ContactStatus.under_management)


def set_status(session: Session, *, actor: Actor, contact_id: int,
               data: StatusUpdate) -> ContactEpisode:
    """Move a contact along identified → notified → under management → released (or became a
    case / lost to follow-up), keeping the history."""
    return set_status_many(session, actor=actor, updates=[(contact_id, data)])[0]


def set_status_many(session: Session, *, actor: Actor,
                    updates: Sequence[tuple[int, StatusUpdate]]) -> list[ContactEpisode]:
    """Move many contacts at once (a day's arrivals under management, a day's releases): the
    same transitions, history and audit as :func:`set_status` one by one, in the order given
    (a contact given twice moves twice). All or nothing: a contact outside the jurisdiction or
    a move its status does not allow refuses the batch."""
    actor.require(Perm.case_write)
    return _move(session, actor, updates)


# What the person who follows a contact up at home records (the community worker, who has no
# say over cases): the contact was told, or could not be reached.
FOLLOW_UP = (ContactStatus.notified, ContactStatus.lost_to_follow_up)
IN_CARE = (ContactStatus.identified, ContactStatus.notified, ContactStatus.under_management,
           ContactStatus.lost_to_follow_up)


def follow_up(session: Session, *, actor: Actor, contact_id: int, data: StatusUpdate,
              check: Callable[[ContactEpisode], None] | None = None) -> ContactEpisode:
    """Record a follow-up of a contact living in the actor's jurisdiction: notified, or lost
    to follow-up (could not be reached). Those who do the follow-up tasks (``task:write``)
    may; the same transitions, history, audit and events as :func:`set_status` (the
    contact's notify task ends on ``contact.notified``). ``check`` sees the contact first and
    may refuse the move (a form shown before the contact changed)."""
    actor.require(Perm.task_write)
    if data.status not in FOLLOW_UP:
        raise Invalid(T("follow_up_only", allowed=joined(state(s) for s in FOLLOW_UP)),
                      problems=[Problem(T("not_status", status=state(data.status)),
                                        field="status")])
    contact = session.get(ContactEpisode, contact_id)
    if contact is None or not actor.covers(contact.division_code):
        raise NotFound(T("contact_not_found", id=contact_id))
    if check is not None:
        check(contact)
    return _move(session, actor, [(contact_id, data)])[0]


def in_care(session: Session, *, actor: Actor, limit: int = 500) -> list[ContactEpisode]:
    """The contact episodes still to follow (identified, notified, under management, lost)
    of the persons living in the actor's jurisdiction, the community's list; a person reader
    may list them (they are the people of the grid). Oldest identified first."""
    actor.require(Perm.person_read)
    found = list(session.scalars(scope(select(ContactEpisode).where(
        ContactEpisode.status.in_(IN_CARE)), actor, ContactEpisode.division_code)
        .order_by(ContactEpisode.identified_at, ContactEpisode.id).limit(limit)
        .options(lazyload(ContactEpisode.history))))  # the list needs no history: on access
    if found:
        audit.record(session, actor, action="read", record_type="contact",
                     record_ids=[c.id for c in found], fields=CONTACT_FIELDS)
    return found


def _move(session: Session, actor: Actor,
          updates: Sequence[tuple[int, StatusUpdate]]) -> list[ContactEpisode]:
    if not updates:
        return []
    ids = list(dict.fromkeys(cid for cid, _ in updates))
    found: dict[int, ContactEpisode] = {}
    for chunk in chunks(ids):
        found.update((c.id, c) for c in session.scalars(select(ContactEpisode).where(
            ContactEpisode.id.in_(chunk))))
    outside = [c for c in found.values() if not actor.covers(c.division_code)]
    owners = case_values(session, "owning_division_code", {c.index_case_id for c in outside})
    for cid in ids:
        contact = found.get(cid)
        if contact is None or not (actor.covers(contact.division_code) or actor.covers(
                owners.get(contact.index_case_id, ""))):
            raise NotFound(T("contact_not_found", id=cid))
    audit.record(session, actor, action="read", record_type="contact", record_ids=ids,
                 fields=CONTACT_FIELDS)
    wanted = sorted({d.converted_case_id for _, d in updates
                     if d.status == ContactStatus.became_case and d.converted_case_id})
    case_person = case_values(session, "person_id", wanted)  # the new cases' persons
    status = {cid: found[cid].status for cid in ids}
    for cid, data in updates:  # every move checked before any is made
        contact = found[cid]
        if data.status not in TRANSITIONS[status[cid]]:
            nexts = sorted(s.value for s in TRANSITIONS[status[cid]])
            allowed = joined(state(s) for s in nexts) if nexts else T("none")
            before, after = state(status[cid]), state(data.status)
            raise Invalid(T("contact_transition", status=before, to=after) if len(updates) == 1
                          else T("contact_transition_of", status=before, to=after, id=cid),
                          problems=[Problem(T("allowed", allowed=allowed), field="status")])
        if (data.status == ContactStatus.became_case
                and case_person.get(data.converted_case_id or 0) != contact.person_id):
            raise Invalid(T("own_case"), problems=[Problem(
                T("same_person_case"), field="converted_case_id")])
        status[cid] = data.status
    out = []
    for cid, data in updates:
        contact = found[cid]
        at = data.at or utc_now()
        if data.status == ContactStatus.became_case:
            contact.converted_case_id = data.converted_case_id
        if (data.status == ContactStatus.under_management
                and contact.management_started_at is None):
            contact.management_started_at = at
        contact.history.append(ContactStatusChange(
            from_status=contact.status, to_status=data.status, at=at, by=actor.username,
            note=data.note))
        contact.status, contact.updated_at = data.status, utc_now()
        # the latest step of the history (a step may be back-dated)
        contact.status_changed_at = max(as_utc(contact.status_changed_at), as_utc(at))
        out.append(contact)
    session.flush()
    audit.record(session, actor, action="update", record_type="contact", record_ids=ids,
                 fields=["status"])
    moved: dict[ContactStatus, dict[int, datetime | None]] = {}
    for cid, data in updates:
        moved.setdefault(data.status, {})[cid] = data.at
    for to, steps in moved.items():  # what the moves end (their tasks), at once
        events.publish(session, events.Event(
            f"contact.{to.value}", actor=actor, subject_type="contact",
            subject_ids=list(steps), reason=f"contact {to.value.replace('_', ' ')}",
            at={cid: at for cid, at in steps.items() if at is not None}))
    return out


def on_transfer_arrived(session: Session, event: events.Event) -> None:
    """``transfer.arrived``: contacts taken to quarantine have arrived; the transfer tasks of
    their contact episodes that are still open end (their subject is the contact: the
    transfer of a person is requested after the contact is found)."""
    people = sorted(set(event.detail.get("contact_person_ids", ())))
    contact_ids: list[int] = []
    for chunk in chunks(people):
        contact_ids += session.scalars(select(ContactEpisode.id).where(
            ContactEpisode.person_id.in_(chunk),
            ContactEpisode.status.in_(WAITING_TRANSFER))).all()
    if contact_ids:
        tasks.on_event(session, events.Event(
            event.name, actor=event.actor, subject_type="contact", subject_ids=contact_ids,
            reason=event.reason))

