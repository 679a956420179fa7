"""Automatic proposals of a case's contacts (services; they never commit).

Automatic finds are proposals that say why: household members, people co-present at a venue
during the case's look-back window (the co-presence engine over the check-in store), and, where
the pack traces them, the secondary contacts of its confirmed close contacts. They wait for an
epidemiologist to confirm or reject them (:mod:`fangkong.tracing.episodes`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.case import service as cases
from fangkong.core import audit, events
from fangkong.core.auth import Actor, Perm
from fangkong.core.clock import utc_now
from fangkong.core.config import get_settings
from fangkong.person import service as persons
from fangkong.policy import service as policy
from fangkong.tracing.enums import Certainty, ContactStatus, Origin, Proximity, Review, Setting
from fangkong.tracing.episodes import case_window, traced_case
from fangkong.tracing.models import ContactEpisode, Exposure, Venue


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), ZoneInfo(get_settings().timezone)).astimezone(UTC)


def _propose(session: Session, case: cases.Case, person_id: int, division_code: str,
             pack: policy.Pack, *,
             origin: Origin, role: str, first: date, last: date, setting: Setting,
             proximity: Proximity,
             certainty: Certainty, reason: str, estimated: bool,
             source_contact_id: int | None = None,
             venue_id: int | None = None) -> Exposure | None:
    """A proposal, unless this source already has one for the person with this origin."""
    exists = session.scalar(select(Exposure.id).where(
        Exposure.source_case_id == case.id, Exposure.exposed_person_id == person_id,
        Exposure.origin == origin,
        Exposure.source_contact_id.is_(None) if source_contact_id is None
        else Exposure.source_contact_id == source_contact_id))
    if exists is not None or person_id == case.person_id:
        return None
    exposure = Exposure(source_case_id=case.id, source_contact_id=source_contact_id,
                        source_venue_id=venue_id, exposed_person_id=person_id,
                        division_code=division_code, first_exposure=first,
                        last_exposure=last, estimated=estimated, setting=setting,
                        proximity=proximity, certainty=certainty, active=True, origin=origin,
                        proposed_role=role, reason=reason, review=Review.proposed,
                        pack_id=pack.id, pack_version=pack.version, created_at=utc_now())
    session.add(exposure)
    return exposure


def _co_present(session: Session, checkins: Path | None, people: list[tuple[int, date,
                date | None]], *, min_overlap: int | None,
                linger: int | None, pack: policy.PackRef) -> list[dict[str, Any]]:
    """Overlapping stays (the co-presence engine) of these people in their windows of days."""
    from fangkong.tracing import engine, store

    directory = checkins or store.checkin_dir()
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


def _venue_proposals(session: Session, case: cases.Case, rows: list[dict[str, Any]],
                     pack: policy.Pack, *, origin: Origin, role: str,
                     source_contact_id: int | None,
                     source_person_id: int, min_overlap: int) -> list[Exposure]:
    zone = ZoneInfo(get_settings().timezone)
    by_person: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        if row["case_person_id"] == source_person_id:
            by_person.setdefault(row["contact_person_id"], []).append(row)
    divisions = persons.divisions_of(session, set(by_person)) if by_person else {}
    venues = {v.id: v for v in session.scalars(select(Venue).where(
        Venue.id.in_({r["venue_id"] for r in rows})))} if rows else {}
    out = []
    for pid, stays in sorted(by_person.items()):
        division = divisions.get(pid)
        if division is None:
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
            session, case, pid, division, pack, origin=origin, role=role,
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
    found_cases = [traced_case(session, actor, cid) for cid in dict.fromkeys(case_ids)]
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
        for person in persons.housemates(session, case.person_id):
            e = _propose(session, case, person.id, person.division_code, resolved,
                         origin=Origin.household,
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


def _secondary(session: Session, case: cases.Case, pack: policy.Pack, checkins: Path | None,
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
        for person in persons.housemates(session, contact.person_id):
            if known(person.id):
                continue
            e = _propose(session, case, person.id, person.division_code, pack,
                         origin=Origin.secondary,
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
    ready = [c.id for c in (traced_case(session, actor, i) for i in event.subject_ids)
             if c.onset_date is not None or c.first_positive_sample_date is not None]
    if ready:
        propose_many(session, actor=actor, case_ids=ready, pack=pack)

