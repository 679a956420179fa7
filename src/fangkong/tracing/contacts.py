"""Exposures, automatic proposals and contact episodes (services; they never commit).

An exposure is an edge from a case (through a close contact for a secondary contact, and/or at
a venue) to an exposed person. Automatic finds (household members, people co-present at a venue
during the look-back window, secondary contacts) are proposals that say why; confirming one
creates or extends the person's contact episode for that case, with the role, look-back window
and management plan of the policy pack, and the tasks to notify and transfer the person.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from statistics import median
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fangkong.case import service as cases
from fangkong.case.enums import Classification
from fangkong.case.models import Case
from fangkong.config import get_settings
from fangkong.core import audit, events
from fangkong.core.auth import Actor, Perm, acting_for, scope, within
from fangkong.core.clock import as_utc, utc_now
from fangkong.core.errors import Conflict, Invalid, NotFound, Problem
from fangkong.person import service as persons
from fangkong.person.models import Person
from fangkong.policy import service as policy
from fangkong.policy.schemas import Window
from fangkong.task import service as tasks
from fangkong.task.schemas import TaskCreate
from fangkong.tracing import graph as _graph  # noqa: F401  (keeps the graph up to date)
from fangkong.tracing.enums import (
    TRANSITIONS,
    Certainty,
    ContactStatus,
    Origin,
    Proximity,
    Review,
    Setting,
)
from fangkong.tracing.models import ContactEpisode, ContactStatusChange, Exposure, Venue
from fangkong.tracing.schemas import ExposureCreate, StatusUpdate

CONTACT_FIELDS = ["person_id", "role", "status", "plan", "window_start", "window_end"]


# --- windows and reads ------------------------------------------------------------------------

def case_window(case: Case, pack: policy.PackRef = None,
                isolated_on: date | None = None) -> Window:
    """The case's look-back window under the pack. Without a known isolation date the case is
    taken as isolated on the day it was reported (in the deployment's time zone)."""
    zone = ZoneInfo(get_settings().timezone)
    return policy.lookback_window(pack, onset=case.onset_date,
                                  first_positive_sample=case.first_positive_sample_date,
                                  isolated_on=isolated_on or case.reported_at.astimezone(
                                      zone).date())


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), ZoneInfo(get_settings().timezone)).astimezone(UTC)


def _case(session: Session, actor: Actor, case_id: int) -> Case:
    case = cases.get(session, actor=actor, case_id=case_id, audit_read=False)
    if case.classification == Classification.discarded:
        raise Invalid(f"case {case_id} was discarded: its exposures no longer count")
    return case


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


def get_contact(session: Session, *, actor: Actor, contact_id: int) -> ContactEpisode:
    actor.require(Perm.case_read)
    contact = session.get(ContactEpisode, contact_id)
    if contact is None:
        raise NotFound(f"contact {contact_id} not found")
    case = session.get(Case, contact.index_case_id)
    if not (actor.covers(contact.division_code)
            or (case is not None and actor.covers(case.owning_division_code))):
        raise NotFound(f"contact {contact_id} not found")
    audit.record(session, actor, action="read", record_type="contact", record_ids=[contact.id],
                 fields=CONTACT_FIELDS)
    return contact


def hours_between(start: datetime, end: datetime | None) -> float | None:
    return None if end is None else round((end - start).total_seconds() / 3600, 2)


# --- proposals --------------------------------------------------------------------------------

def _propose(session: Session, case: Case, person: Person, pack: policy.Pack, *,
             origin: Origin, role: str, first: date, last: date, setting: Setting,
             proximity: Proximity,
             certainty: Certainty, reason: str, estimated: bool,
             source_contact_id: int | None = None,
             venue_id: int | None = None) -> Exposure | None:
    """A proposal, unless this source already has one for the person with this origin."""
    exists = session.scalar(select(Exposure.id).where(
        Exposure.source_case_id == case.id, Exposure.exposed_person_id == person.id,
        Exposure.origin == origin,
        Exposure.source_contact_id.is_(None) if source_contact_id is None
        else Exposure.source_contact_id == source_contact_id))
    if exists is not None or person.id == case.person_id:
        return None
    exposure = Exposure(source_case_id=case.id, source_contact_id=source_contact_id,
                        source_venue_id=venue_id, exposed_person_id=person.id,
                        division_code=person.division_code, first_exposure=first,
                        last_exposure=last, estimated=estimated, setting=setting,
                        proximity=proximity, certainty=certainty, active=True, origin=origin,
                        proposed_role=role, reason=reason, review=Review.proposed,
                        pack_id=pack.id, pack_version=pack.version, created_at=utc_now())
    session.add(exposure)
    return exposure


def _household(session: Session, person_id: int) -> list[Person]:
    me = session.get(Person, person_id)
    if me is None or not me.household_ref:
        return []
    return list(session.scalars(select(Person).where(
        Person.household_ref == me.household_ref, Person.id != person_id).order_by(Person.id)))


def _co_present(session: Session, checkins: Path | None, people: list[tuple[int, date,
                date | None]], *, min_overlap: int | None,
                linger: int | None, pack: policy.PackRef) -> list[dict[str, Any]]:
    """Overlapping stays (the co-presence engine) of these people in their windows of days."""
    from fangkong.tracing import engine, importer

    directory = checkins or importer.checkin_dir()
    if not people or not directory.is_dir():
        return []
    rules = policy.tracing_rules(pack).co_presence
    params = engine.Params(
        min_overlap_minutes=rules.min_overlap_minutes if min_overlap is None else min_overlap,
        linger_minutes=rules.linger_minutes if linger is None else linger)
    today = utc_now().date()
    table = engine.cases_table([(pid, _day_start(start), _day_start((end or today)
                                                                      + timedelta(days=1)))
                                for pid, start, end in people])
    rows: list[dict[str, Any]] = engine.colocate(directory, table, params).to_pylist()
    return rows


def _venue_proposals(session: Session, case: Case, rows: list[dict[str, Any]],
                     pack: policy.Pack, *, origin: Origin, role: str,
                     source_contact_id: int | None,
                     source_person_id: int, min_overlap: int) -> list[Exposure]:
    zone = ZoneInfo(get_settings().timezone)
    by_person: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        if row["case_person_id"] == source_person_id:
            by_person.setdefault(row["contact_person_id"], []).append(row)
    people = {p.id: p for p in session.scalars(select(Person).where(
        Person.id.in_(list(by_person))))} if by_person else {}
    venues = {v.id: v for v in session.scalars(select(Venue).where(
        Venue.id.in_({r["venue_id"] for r in rows})))} if rows else {}
    out = []
    for pid, stays in sorted(by_person.items()):
        person = people.get(pid)
        if person is None:
            continue
        stays.sort(key=lambda r: r["overlap_start"])
        first, last = stays[0], stays[-1]
        venue = venues.get(first["venue_id"])
        minutes = sum((r["overlap_end"] - r["overlap_start"]).total_seconds() for r in stays) / 60
        label = venue.code if venue else f"venue {first['venue_id']}"
        reason = (f"at {label} with the {'case' if origin == Origin.co_presence else 'contact'}"
                  f" from {first['overlap_start'].astimezone(zone):%Y-%m-%d %H:%M}; "
                  f"{len(stays)} overlap(s), {minutes:.0f} min in all (at least {min_overlap} "
                  f"min each)")
        exposure = _propose(
            session, case, person, pack, origin=origin, role=role,
            first=first["overlap_start"].astimezone(zone).date(),
            last=last["overlap_end"].astimezone(zone).date(), setting=Setting.venue,
            proximity=Proximity.same_venue, certainty=Certainty.possible, reason=reason,
            estimated=False, source_contact_id=source_contact_id, venue_id=first["venue_id"])
        if exposure is not None:
            out.append(exposure)
    return out


def propose(session: Session, *, actor: Actor, case_id: int, pack: policy.PackRef = None,
            checkins: Path | None = None, isolated_on: date | None = None,
            min_overlap_minutes: int | None = None,
            linger_minutes: int | None = None) -> dict[str, Any]:
    """Proposals for a case: its household members; people co-present at a venue during its
    look-back window; and, where the pack identifies secondary contacts, the household members
    and co-present people of its confirmed close contacts in their secondary windows.
    Running it again proposes only what is new."""
    return propose_many(session, actor=actor, case_ids=[case_id], pack=pack, checkins=checkins,
                        isolated_on={case_id: isolated_on} if isolated_on else None,
                        min_overlap_minutes=min_overlap_minutes,
                        linger_minutes=linger_minutes)[0]


def propose_many(session: Session, *, actor: Actor, case_ids: Sequence[int],
                 pack: policy.PackRef = None, checkins: Path | None = None,
                 isolated_on: Mapping[int, date] | None = None,
                 min_overlap_minutes: int | None = None,
                 linger_minutes: int | None = None) -> list[dict[str, Any]]:
    """:func:`propose` for many cases (a day's new cases): the co-presence engine runs once
    over all their windows (once per case of the same person), the proposals and audit are
    those of each case one by one, in the order given. ``isolated_on`` maps a case id to the
    day it was isolated."""
    actor.require(Perm.case_write)
    found_cases = [_case(session, actor, cid) for cid in dict.fromkeys(case_ids)]
    resolved = policy.resolve(pack)
    rules = policy.tracing_rules(resolved)
    windows = [case_window(c, resolved, (isolated_on or {}).get(c.id)) for c in found_cases]
    m = rules.co_presence.min_overlap_minutes if min_overlap_minutes is None \
        else min_overlap_minutes
    # One engine run per round of distinct persons (a person's rows name the person only).
    rounds: list[dict[int, int]] = []  # person id -> index of the case
    for k, case in enumerate(found_cases):
        free = next((r for r in rounds if case.person_id not in r), None)
        if free is None:
            free = {}
            rounds.append(free)
        free[case.person_id] = k
    stays: dict[int, list[dict[str, Any]]] = {}
    for r in rounds:
        for row in _co_present(session, checkins, [
                (pid, windows[k].start, windows[k].end) for pid, k in r.items()],
                min_overlap=min_overlap_minutes, linger=linger_minutes, pack=resolved):
            stays.setdefault(r[row["case_person_id"]], []).append(row)
    out = []
    for k, (case, window) in enumerate(zip(found_cases, windows, strict=True)):
        last = window.end or utc_now().date()
        found: dict[str, list[Exposure]] = {"household": [], "co_presence": [],
                                            "secondary": []}
        for person in _household(session, case.person_id):
            e = _propose(session, case, person, resolved, origin=Origin.household,
                         role=rules.household_role, first=window.start, last=last,
                         setting=Setting.household, proximity=Proximity.direct,
                         certainty=Certainty.probable, estimated=True,
                         reason=f"lives in household {person.household_ref} with the case "
                                f"(共同居住) during the look-back window {window.start}..{last}")
            if e is not None:
                found["household"].append(e)
        found["co_presence"] = _venue_proposals(
            session, case, stays.get(k, []), resolved, origin=Origin.co_presence,
            role=rules.co_presence.role, source_contact_id=None,
            source_person_id=case.person_id, min_overlap=m)
        if policy.traces_secondary_contacts(resolved):
            found["secondary"] = _secondary(session, case, resolved, checkins,
                                            min_overlap_minutes, linger_minutes, m)
        session.flush()
        every = [e for group in found.values() for e in group]
        audit.record(session, actor, action="create", record_type="exposure",
                     record_ids=[e.id for e in every], detail={
                         "case_id": case.id, "pack": resolved.id,
                         **{key: len(v) for key, v in found.items()}})
        out.append({"case_id": case.id, "pack": resolved.id, "window_start": window.start,
                    "window_end": window.end, **{key: len(v) for key, v in found.items()},
                    "proposals": every})
    return out


def _secondary(session: Session, case: Case, pack: policy.Pack, checkins: Path | None,
               min_overlap: int | None, linger: int | None, m: int) -> list[Exposure]:
    def known(person_id: int) -> bool:  # already proposed for this case in some way
        return session.scalar(select(Exposure.id).where(
            Exposure.source_case_id == case.id, Exposure.exposed_person_id == person_id,
            Exposure.origin != Origin.secondary).limit(1)) is not None

    close = [c for c in session.scalars(select(ContactEpisode).where(
        ContactEpisode.index_case_id == case.id, ContactEpisode.role == "close_contact",
        ContactEpisode.status != ContactStatus.became_case))]
    out: list[Exposure] = []
    zone = ZoneInfo(get_settings().timezone)
    for contact in close:
        started = contact.management_started_at
        window = policy.secondary_window(
            pack, close_contact_first_exposure=contact.first_exposure,
            close_contact_isolated_on=started.astimezone(zone).date() if started else None)
        last = window.end or utc_now().date()
        for person in _household(session, contact.person_id):
            if known(person.id):
                continue
            e = _propose(session, case, person, pack, origin=Origin.secondary,
                         role="secondary_contact", first=window.start, last=last,
                         setting=Setting.household, proximity=Proximity.direct,
                         certainty=Certainty.probable, estimated=True,
                         source_contact_id=contact.id,
                         reason=f"lives with close contact (person {contact.person_id}) "
                                f"during {window.start}..{last} (密接的密接)")
            if e is not None:
                out.append(e)
        rows = _co_present(session, checkins, [(contact.person_id, window.start, window.end)],
                           min_overlap=min_overlap, linger=linger, pack=pack)
        rows = [r for r in rows if not known(r["contact_person_id"])]
        out += _venue_proposals(session, case, rows, pack, origin=Origin.secondary,
                                role="secondary_contact", source_contact_id=contact.id,
                                source_person_id=contact.person_id, min_overlap=m)
    return out


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
        raise Invalid("an exposure appears twice in the batch", problems=[Problem(
            f"exposure {i} is given more than once", field="exposure_ids") for i in twice[:50]])
    found: dict[int, Exposure] = {}
    for chunk in _chunks(ids):
        found.update((e.id, e) for e in session.scalars(select(Exposure).where(
            Exposure.id.in_(chunk))))
    missing = [i for i in ids if i not in found]
    if missing:
        raise NotFound(f"exposure {missing[0]} not found" + (
            f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""))
    exposures = [found[i] for i in ids]
    by_case = {cid: _case(session, actor, cid)
               for cid in dict.fromkeys(e.source_case_id for e in exposures)}
    done = [e for e in exposures if e.review != Review.proposed]
    if done:
        raise Conflict(f"exposure {done[0].id} was {done[0].review.value} already" + (
            f" (and {len(done) - 1} more)" if len(done) > 1 else ""), problems=[Problem(
                f"exposure {e.id} was {e.review.value} already", field="exposure_ids")
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


def _chunks(ids: Sequence[int], size: int = 900) -> Iterator[list[int]]:
    for k in range(0, len(ids), size):
        yield list(ids[k:k + size])


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
    by_case = {cid: _case(session, actor, cid)
               for cid in dict.fromkeys(d.source_case_id for d in items)}
    people: dict[int, Person] = {}
    for chunk in _chunks(sorted({d.exposed_person_id for d in items})):
        # a person the tracer may read: any other id is "no such person", as for none
        people.update((p.id, p) for p in session.scalars(select(Person).where(
            Person.id.in_(chunk), persons.readable_clause(actor))))
    resolved = policy.resolve(pack)
    at = (lambda k: "") if len(items) == 1 else (lambda k: f"[{k}]")
    for k, d in enumerate(items):
        person = people.get(d.exposed_person_id)
        if person is None or person.id == by_case[d.source_case_id].person_id:
            raise Invalid("unknown exposed person", problems=[Problem(
                "no such person (or the case's own person)",
                field=f"exposed_person_id{at(k)}")])
        if d.last_exposure < d.first_exposure:
            raise Invalid("the exposure ends before it starts", problems=[Problem(
                "must not be before first_exposure", field=f"last_exposure{at(k)}")])
        policy.plan(resolved, d.role or "close_contact", d.last_exposure)  # unknown: refused
    now = utc_now()
    exposures = [Exposure(
        source_case_id=d.source_case_id, source_contact_id=None,
        source_venue_id=d.source_venue_id, exposed_person_id=d.exposed_person_id,
        division_code=people[d.exposed_person_id].division_code,
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


def exposure_pack(exposure: Exposure) -> policy.Pack:
    """The pack an exposure was found under; PackChanged if its version on disk changed."""
    return policy.pinned(exposure.pack_id, exposure.pack_version,
                         record=f"exposure {exposure.id}")


def contact_pack(contact: ContactEpisode) -> policy.Pack:
    """The pack a contact episode is managed under; PackChanged if its version changed."""
    return policy.pinned(contact.pack, contact.pack_version, record=f"contact {contact.id}")


def _contacts_for(session: Session, actor: Actor,
                  items: Sequence[tuple[Exposure, Case]]) -> list[ContactEpisode]:
    """For each (exposure, case), in order: create the person's contact episode for the case,
    under the exposure's pack, or extend it with this exposure (also one created earlier in
    the same batch; its plan stays that of the episode's pack). One read of the existing
    episodes, one flush, the new episodes' tasks at once, one audit entry for the created
    episodes and one for the extended ones (also those created earlier in the batch, as one
    by one)."""
    zone = ZoneInfo(get_settings().timezone)
    known: dict[tuple[int, int], ContactEpisode] = {}
    case_ids = sorted({case.id for _, case in items})
    for chunk in _chunks(case_ids):
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
        _tasks(session, actor, created)
        audit.record(session, actor, action="create", record_type="contact",
                     record_ids=[c.id for c in created], fields=CONTACT_FIELDS)
    if changed:
        audit.record(session, actor, action="update", record_type="contact",
                     record_ids=[c.id for c in changed.values()],
                     fields=["first_exposure", "last_exposure", "plan"])
    return out


def _tasks(session: Session, actor: Actor, contacts: Sequence[ContactEpisode]) -> None:
    """Notify each contact; transfer to quarantine when the plan starts with centralized
    quarantine, within the hours of the contact's pack. Owned by the contact's place of
    residence; created at once."""
    now = utc_now()
    specs: list[TaskCreate] = []
    for contact in contacts:
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
    tasks.create_many(session, actor=acting_for(actor, [c.division_code for c in contacts]),
                      data=specs)


# The events of a contact that end its tasks: notified (or under management, which a contact
# reaches only once told); released, became a case or lost, which leave nothing to do.
NOTIFIED = ["contact.notified", "contact.under_management"]
ENDED = ["contact.released", "contact.became_case", "contact.lost_to_follow_up"]
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
    if not updates:
        return []
    ids = list(dict.fromkeys(cid for cid, _ in updates))
    found: dict[int, ContactEpisode] = {}
    for chunk in _chunks(ids):
        found.update((c.id, c) for c in session.scalars(select(ContactEpisode).where(
            ContactEpisode.id.in_(chunk))))
    outside = [c for c in found.values() if not actor.covers(c.division_code)]
    owners: dict[int, str] = {}
    for chunk in _chunks(sorted({c.index_case_id for c in outside})):
        owners.update(session.execute(select(Case.id, Case.owning_division_code).where(
            Case.id.in_(chunk))).tuples().all())
    for cid in ids:
        contact = found.get(cid)
        if contact is None or not (actor.covers(contact.division_code) or actor.covers(
                owners.get(contact.index_case_id, ""))):
            raise NotFound(f"contact {cid} not found")
    audit.record(session, actor, action="read", record_type="contact", record_ids=ids,
                 fields=CONTACT_FIELDS)
    wanted = sorted({d.converted_case_id for _, d in updates
                     if d.status == ContactStatus.became_case and d.converted_case_id})
    new_cases: dict[int, Case] = {}
    for chunk in _chunks(wanted):
        new_cases.update((c.id, c) for c in session.scalars(select(Case).where(
            Case.id.in_(chunk))))
    status = {cid: found[cid].status for cid in ids}
    for cid, data in updates:  # every move checked before any is made
        contact = found[cid]
        if data.status not in TRANSITIONS[status[cid]]:
            allowed = ", ".join(sorted(s.value for s in TRANSITIONS[status[cid]])) or "none"
            raise Invalid(f"a contact who is {status[cid].value} cannot become "
                          f"{data.status.value}" + ("" if len(updates) == 1 else
                                                    f" (contact {cid})"),
                          problems=[Problem(f"allowed: {allowed}", field="status")])
        if data.status == ContactStatus.became_case:
            new_case = new_cases.get(data.converted_case_id or 0)
            if new_case is None or new_case.person_id != contact.person_id:
                raise Invalid("give the contact's own new case", problems=[Problem(
                    "a case of the same person is required", field="converted_case_id")])
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
    for chunk in _chunks(people):
        contact_ids += session.scalars(select(ContactEpisode.id).where(
            ContactEpisode.person_id.in_(chunk),
            ContactEpisode.status.in_(WAITING_TRANSFER))).all()
    if contact_ids:
        tasks.on_event(session, events.Event(
            event.name, actor=event.actor, subject_type="contact", subject_ids=contact_ids,
            reason=event.reason))


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


def on_case_reported(session: Session, event: events.Event) -> None:
    """``case.reported`` (a case, or a batch: an import, a results file's positives): propose
    the cases' contacts at once (household, venue co-presence from the check-in store,
    secondary contacts where the pack has them; the co-presence engine run once for all of
    them, :func:`propose_many`), when the deployment lets tracing propose by itself (setting
    ``tracing_auto_propose``) and the event's pack (the pack of the work that found the cases,
    e.g. a testing round's; ``detail``: ``pack_id``, ``pack_version``) has tracing rules.
    Proposals wait for an epidemiologist to confirm or reject them, under that pack."""
    pack = policy.pinned_by(event.detail, record=f"case.reported of case(s) "
                                                 f"{', '.join(map(str, event.subject_ids[:5]))}")
    if pack is None:
        raise ValueError("case.reported carries no pack (publish it with cases.reported)")
    if not get_settings().tracing_auto_propose or pack.tracing is None:
        return
    actor = event.actor
    # no look-back window yet: proposals wait for the dates (or a request)
    ready = [c.id for c in (_case(session, actor, i) for i in event.subject_ids)
             if c.onset_date is not None or c.first_positive_sample_date is not None]
    if ready:
        propose_many(session, actor=actor, case_ids=ready, pack=pack)


events.subscribe("case.reported", on_case_reported)
events.subscribe("transfer.arrived", on_transfer_arrived)


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
    ordered, out = sorted(set(ids)), {}
    for k in range(0, len(ordered), 900):
        out.update({c.id: c for c in session.scalars(select(ContactEpisode).where(
            ContactEpisode.id.in_(ordered[k:k + 900])))})
    return out
