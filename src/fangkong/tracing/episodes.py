"""Contact episodes: confirming proposals and adding the exposures an epidemiologist finds
(services; they never commit).

Confirming an exposure creates or extends the person's contact episode for the case, with the
role, look-back window and management plan of the exposure's policy pack, and the tasks the plan
requires: notify the person and, when the plan starts with centralized quarantine, transfer
them. A role the pack declares but does not manage (cn_v9: ``venue_exposed``) is counted, with
no task. Also here: what the other tracing services share (the case's window, the pack a record
is read under).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.case import service as cases
from fangkong.case.enums import Classification
from fangkong.core import audit
from fangkong.core.auth import Actor, Perm, acting_for
from fangkong.core.clock import utc_now
from fangkong.core.config import get_settings
from fangkong.core.errors import Conflict, Invalid, NotFound, Problem
from fangkong.isolation import service as isolation
from fangkong.person import service as persons
from fangkong.policy import service as policy
from fangkong.policy.schemas import Window
from fangkong.task import service as tasks
from fangkong.task.schemas import TaskCreate
from fangkong.tracing import graph_hook as _graph_hook  # noqa: F401  (keeps the graph up to date)
from fangkong.tracing.enums import ContactStatus, Origin, Review
from fangkong.tracing.messages import T, state
from fangkong.tracing.models import ContactEpisode, ContactStatusChange, Exposure
from fangkong.tracing.schemas import ExposureCreate

CONTACT_FIELDS = ["person_id", "role", "status", "plan", "window_start", "window_end"]


# --- what the tracing services share ----------------------------------------------------------

def case_window(case: cases.Case, pack: policy.PackRef = None,
                isolated_on: date | None = None) -> Window:
    """The case's look-back window under the pack. Without a known isolation date the case is
    taken as isolated on the day it was reported (in the deployment's time zone)."""
    zone = ZoneInfo(get_settings().timezone)
    return policy.lookback_window(pack, onset=case.onset_date,
                                  first_positive_sample=case.first_positive_sample_date,
                                  isolated_on=isolated_on or case.reported_at.astimezone(
                                      zone).date())


def traced_case(session: Session, actor: Actor, case_id: int) -> cases.Case:
    case = cases.get(session, actor=actor, case_id=case_id, audit_read=False)
    if case.classification == Classification.discarded:
        raise Invalid(T("case_discarded", id=case_id))
    return case


def chunks(ids: Sequence[int], size: int = 900) -> Iterator[list[int]]:
    for k in range(0, len(ids), size):
        yield list(ids[k:k + size])


def case_values(session: Session, column: str, case_ids: Iterable[int]) -> dict[int, Any]:
    """One column of :func:`fangkong.case.service.columns` (``owning_division_code``,
    ``person_id``, ...) for each of these cases that exists (unscoped: to decide who may read
    or change a record that refers to a case)."""
    found = cases.columns().subquery()
    out: dict[int, Any] = {}
    for chunk in chunks(sorted(set(case_ids))):
        out.update(session.execute(select(found.c.id, found.c[column]).where(
            found.c.id.in_(chunk))).tuples().all())
    return out


def exposure_pack(exposure: Exposure) -> policy.Pack:
    """The pack an exposure was found under; PackChanged if its version on disk changed."""
    return policy.pinned(exposure.pack_id, exposure.pack_version,
                         record=f"exposure {exposure.id}")


def contact_pack(contact: ContactEpisode) -> policy.Pack:
    """The pack a contact episode is managed under; PackChanged if its version changed."""
    return policy.pinned(contact.pack, contact.pack_version, record=f"contact {contact.id}")


# --- review, manual exposures, contact episodes -----------------------------------------------

def review(session: Session, *, actor: Actor, exposure_id: int, confirm: bool,
           note: str | None = None) -> Exposure:
    """Confirm a proposal (the person becomes or stays a contact of the case, under the
    exposure's pack) or reject it (it stops counting)."""
    return review_many(session, actor=actor, exposure_ids=[exposure_id], confirm=confirm,
                       note=note)[0]


def review_many(session: Session, *, actor: Actor, exposure_ids: Sequence[int], confirm: bool,
                note: str | None = None) -> list[Exposure]:
    """Confirm or reject many proposals at once (an epidemiologist going through a case's
    list, or a day's cases): the same rules, contact episodes, history, tasks and audit as
    :func:`review` one by one, in the order given, read and written in a few statements.
    All or nothing: an unknown id, a proposal reviewed already or a discarded case refuses the
    whole batch before anything is written."""
    actor.require(Perm.case_write)
    ids = list(exposure_ids)
    if len(set(ids)) != len(ids):
        twice = sorted({i for i in ids if ids.count(i) > 1})
        raise Invalid(T("exposure_twice"), problems=[Problem(
            T("exposure_given_twice", id=i), field="exposure_ids") for i in twice[:50]])
    found: dict[int, Exposure] = {}
    for chunk in chunks(ids):
        found.update((e.id, e) for e in session.scalars(select(Exposure).where(
            Exposure.id.in_(chunk))))
    missing = [i for i in ids if i not in found]
    if missing:
        raise NotFound(T("exposure_not_found_more", id=missing[0], more=len(missing) - 1)
                       if len(missing) > 1 else T("exposure_not_found", id=missing[0]))
    exposures = [found[i] for i in ids]
    by_case = {cid: traced_case(session, actor, cid)
               for cid in dict.fromkeys(e.source_case_id for e in exposures)}
    done = [e for e in exposures if e.review != Review.proposed]
    if done:
        raise Conflict(T("exposure_done_more", id=done[0].id, review=state(done[0].review),
                         more=len(done) - 1) if len(done) > 1 else
                       T("exposure_done", id=done[0].id, review=state(done[0].review)),
                       problems=[Problem(
                T("exposure_done", id=e.id, review=state(e.review)), field="exposure_ids")
                for e in done[:50]])
    now = utc_now()
    for e in exposures:
        e.review = Review.confirmed if confirm else Review.rejected
        e.active = confirm
        e.reviewed_by, e.reviewed_at = actor.username, now
    if confirm:
        episodes = _contacts_for(session, actor, [(e, by_case[e.source_case_id])
                                                  for e in exposures])
        for e, contact in zip(exposures, episodes, strict=True):
            e.contact_id = contact.id
    session.flush()
    audit.record(session, actor, action="update", record_type="exposure",
                 record_ids=ids, fields=["review"], note=note)
    return exposures


def add_exposure(session: Session, *, actor: Actor, data: ExposureCreate,
                 pack: policy.PackRef = None) -> Exposure:
    """An exposure found by the epidemiologist: confirmed at once."""
    return add_exposures(session, actor=actor, data=[data], pack=pack)[0]


def add_exposures(session: Session, *, actor: Actor, data: Sequence[ExposureCreate],
                  pack: policy.PackRef = None) -> list[Exposure]:
    """Many exposures found by the epidemiologists (the colleagues a day's cases named in
    their interviews): each confirmed at once, with the same checks, contact episodes, tasks
    and audit as :func:`add_exposure` one by one, in the order given. All or nothing: any bad
    item refuses the batch (its problems name the item)."""
    actor.require(Perm.case_write)
    items = list(data)
    if not items:
        return []
    by_case = {cid: traced_case(session, actor, cid)
               for cid in dict.fromkeys(d.source_case_id for d in items)}
    # a person the tracer may read: any other id is "no such person", as for none
    divisions = persons.divisions_of(session, actor=actor, person_ids={
        d.exposed_person_id for d in items})
    resolved = policy.resolve(pack)
    at = (lambda k: "") if len(items) == 1 else (lambda k: f"[{k}]")
    for k, d in enumerate(items):
        if (d.exposed_person_id not in divisions
                or d.exposed_person_id == by_case[d.source_case_id].person_id):
            raise Invalid(T("exposed_unknown"), problems=[Problem(
                T("exposed_no_such"),
                field=f"exposed_person_id{at(k)}")])
        if d.last_exposure < d.first_exposure:
            raise Invalid(T("exposure_order"), problems=[Problem(
                T("not_before_first"), field=f"last_exposure{at(k)}")])
        policy.plan(resolved, d.role or "close_contact", d.last_exposure)  # unknown: refused
    now = utc_now()
    exposures = [Exposure(
        source_case_id=d.source_case_id, source_contact_id=None,
        source_venue_id=d.source_venue_id, exposed_person_id=d.exposed_person_id,
        division_code=divisions[d.exposed_person_id],
        first_exposure=d.first_exposure, last_exposure=d.last_exposure,
        estimated=d.estimated, setting=d.setting, proximity=d.proximity,
        certainty=d.certainty, active=True, origin=Origin.manual,
        proposed_role=d.role or "close_contact", reason=d.reason, review=Review.confirmed,
        reviewed_by=actor.username, reviewed_at=now, pack_id=resolved.id,
        pack_version=resolved.version, created_at=now) for d in items]
    session.add_all(exposures)
    session.flush()
    episodes = _contacts_for(session, actor, [(e, by_case[e.source_case_id])
                                              for e in exposures])
    for e, contact in zip(exposures, episodes, strict=True):
        e.contact_id = contact.id
    audit.record(session, actor, action="create", record_type="exposure",
                 record_ids=[e.id for e in exposures], fields=["exposed_person_id", "setting"])
    return exposures


def _contacts_for(session: Session, actor: Actor,
                  items: Sequence[tuple[Exposure, cases.Case]]) -> list[ContactEpisode]:
    """For each (exposure, case), in order: create the person's contact episode for the case,
    under the exposure's pack, or extend it with this exposure (also one created earlier in
    the same batch; its plan stays that of the episode's pack). One read of the existing
    episodes, one flush, the new episodes' tasks at once, one audit entry for the created
    episodes and one for the extended ones (also those created earlier in the batch, as one
    by one)."""
    zone = ZoneInfo(get_settings().timezone)
    known: dict[tuple[int, int], ContactEpisode] = {}
    case_ids = sorted({case.id for _, case in items})
    for chunk in chunks(case_ids):
        for c in session.scalars(select(ContactEpisode).where(
                ContactEpisode.index_case_id.in_(chunk))):
            known[(c.person_id, c.index_case_id)] = c
    now = utc_now()
    windows: dict[tuple[int, str], Window] = {}
    created: list[ContactEpisode] = []
    changed: dict[int, ContactEpisode] = {}
    out: list[ContactEpisode] = []
    for exposure, case in items:
        key = (exposure.exposed_person_id, case.id)
        contact = known.get(key)
        if contact is None:
            resolved = exposure_pack(exposure)
            if exposure.source_contact_id is not None:
                source = session.get(ContactEpisode, exposure.source_contact_id)
                assert source is not None
                started = source.management_started_at
                window = policy.secondary_window(
                    resolved, close_contact_first_exposure=source.first_exposure,
                    close_contact_isolated_on=started.astimezone(zone).date() if started
                    else None)
            else:
                if (case.id, resolved.id) not in windows:
                    windows[case.id, resolved.id] = case_window(case, resolved)
                window = windows[case.id, resolved.id]
            plan = policy.plan(resolved, exposure.proposed_role, exposure.last_exposure)
            contact = ContactEpisode(
                person_id=exposure.exposed_person_id, index_case_id=case.id,
                division_code=exposure.division_code, role=exposure.proposed_role,
                pack=resolved.id, pack_version=resolved.version, window_start=window.start,
                window_end=window.end, window_basis=window.basis,
                first_exposure=exposure.first_exposure, last_exposure=exposure.last_exposure,
                plan=plan.model_dump(mode="json"), release_date=plan.release_date,
                status=ContactStatus.identified, case_reported_at=case.reported_at,
                identified_at=now, status_changed_at=now, created_at=now, updated_at=now)
            contact.history.append(ContactStatusChange(
                from_status=None, to_status=ContactStatus.identified, at=now,
                by=actor.username, note=exposure.reason))
            session.add(contact)
            known[key] = contact
            created.append(contact)
        else:
            grew = False
            if exposure.first_exposure < contact.first_exposure:
                contact.first_exposure, grew = exposure.first_exposure, True
            if exposure.last_exposure > contact.last_exposure:
                contact.last_exposure, grew = exposure.last_exposure, True
                plan = policy.plan(contact_pack(contact), contact.role, contact.last_exposure)
                contact.plan, contact.release_date = (plan.model_dump(mode="json"),
                                                      plan.release_date)
            if grew:
                contact.updated_at = now
                changed[id(contact)] = contact
        out.append(contact)
    session.flush()
    if created:
        created = _already(session, actor, created, now,
                           {case.id: case.disease for _, case in items})
        _tasks(session, actor, created)
        audit.record(session, actor, action="create", record_type="contact",
                     record_ids=[c.id for c in created], fields=CONTACT_FIELDS)
    if changed:
        audit.record(session, actor, action="update", record_type="contact",
                     record_ids=[c.id for c in changed.values()],
                     fields=["first_exposure", "last_exposure", "plan"])
    return out


def _already(session: Session, actor: Actor, contacts: list[ContactEpisode], now: datetime,
             disease_of: dict[int, str]) -> list[ContactEpisode]:
    """New contacts whose person is already a case of the disease, or already in an isolation
    stay, need no one to tell them or take them anywhere: the first end at once as having
    become a case (their case named), the second start under management (the stay is it).
    Each step is in the history with the reason. Returns the other contacts, who get tasks."""
    people = [c.person_id for c in contacts]
    as_case: dict[tuple[str, int], int] = {}
    for disease in sorted(set(disease_of.values())):
        as_case.update(((disease, p), c) for p, c in cases.open_episodes(
            session, person_ids=people, disease=disease).items())
    staying = isolation.active_stays(session, people)
    rest = []
    for contact in contacts:
        case_id = as_case.get((disease_of[contact.index_case_id], contact.person_id))
        stay_id = staying.get(contact.person_id)
        if case_id is not None and case_id != contact.index_case_id:
            to, note = ContactStatus.became_case, f"already case {case_id}"
            contact.converted_case_id = case_id
        elif stay_id is not None:
            to, note = ContactStatus.under_management, f"already in isolation stay {stay_id}"
            contact.management_started_at = now
        else:
            rest.append(contact)
            continue
        contact.history.append(ContactStatusChange(
            from_status=contact.status, to_status=to, at=now, by=actor.username, note=note))
        contact.status, contact.status_changed_at = to, now
    session.flush()
    return rest


def _tasks(session: Session, actor: Actor, contacts: Sequence[ContactEpisode]) -> None:
    """The work each contact's plan requires: notify the contact; transfer them to quarantine
    when the plan starts with centralized quarantine; within the hours of the contact's pack.
    A contact whose role the pack does not manage (its plan says ``managed`` false, e.g.
    cn_v9's ``venue_exposed``) is counted and gets no task: nothing is required of anyone, and
    no later event of the contact would end such a task. Owned by the contact's place of
    residence; created at once."""
    now = utc_now()
    specs: list[TaskCreate] = []
    managed = [c for c in contacts if c.plan.get("managed", True)]
    for contact in managed:
        due = policy.tracing_rules(contact_pack(contact)).tasks
        pin = {"pack_id": contact.pack, "pack_version": contact.pack_version}
        specs.append(TaskCreate(
            type="notify_contact", **tasks.titled(
                "notify_contact", person=contact.person_id, case=contact.index_case_id,
                role=contact.role), subject_type="contact",
            subject_id=contact.id, completes_on=NOTIFIED, cancels_on=ENDED,
            owning_division_code=contact.division_code,
            due_at=now + timedelta(hours=due.notify_within_hours), **pin))
        phases = contact.plan.get("phases") or []
        if phases and phases[0].get("kind") == "centralized_quarantine":
            specs.append(TaskCreate(
                type="transfer_to_quarantine", **tasks.titled(
                    "transfer_to_quarantine", person=contact.person_id), subject_type="contact",
                subject_id=contact.id, completes_on=["transfer.arrived"], cancels_on=ENDED,
                owning_division_code=contact.division_code,
                due_at=now + timedelta(hours=due.transfer_within_hours), **pin))
    # a contact living in another jurisdiction is followed up there (handed over)
    tasks.create_many(session, actor=acting_for(actor, [c.division_code for c in managed]),
                      data=specs)


# The events of a contact that end its tasks: notified (or under management, which a contact
# reaches only once told); released, became a case or lost, which leave nothing to do.
NOTIFIED = ["contact.notified", "contact.under_management"]
ENDED = ["contact.released", "contact.became_case", "contact.lost_to_follow_up"]


def deactivate_discarded(session: Session, *, actor: Actor, case_id: int) -> int:
    """Exposures to a case that was discarded stop counting."""
    actor.require(Perm.case_write)
    case = cases.get(session, actor=actor, case_id=case_id, audit_read=False)
    if case.classification != Classification.discarded:
        return 0
    found = list(session.scalars(select(Exposure).where(Exposure.source_case_id == case_id,
                                                        Exposure.active.is_(True))))
    for e in found:
        e.active = False
    session.flush()
    audit.record(session, actor, action="update", record_type="exposure",
                 record_ids=[e.id for e in found], fields=["active"])
    return len(found)
