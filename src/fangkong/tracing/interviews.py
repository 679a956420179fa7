"""The 流调 interview of a case (services; they never commit).

An epidemiologist asks a case, under the case's policy pack, about symptoms and onset, where
they were day by day over the pack's look-back window (the window the tracing service computes
for the case, :func:`~fangkong.tracing.episodes.case_window`), whom they met, which venues they
visited (by 场所码) and when, and their travel. The answers are saved as a draft and completed
later; each save checks them (persons and venues the epidemiologist may read, dates within the
window) and raises the interview's version, and a save made on an older version is refused.

Completing the interview feeds tracing the way the API does: the venue visits are ingested as
the case's check-ins (:func:`fangkong.tracing.importer.ingest`, as ``POST
/tracing/checkins/import``), the people met become proposals that say they were named in the
interview, and the case's proposals are run (:func:`fangkong.tracing.proposals.propose`, as
``POST /tracing/cases/{id}/proposals``): household, venue co-presence over the check-ins just
added, secondary contacts. The epidemiologist then reviews them like any proposals.
"""

from __future__ import annotations

import csv
import tempfile
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.case import service as cases
from fangkong.core import audit
from fangkong.core.auth import Actor, Perm, scope
from fangkong.core.clock import utc_now
from fangkong.core.config import get_settings
from fangkong.core.errors import Conflict, Invalid, Problem
from fangkong.person import service as persons
from fangkong.policy import service as policy
from fangkong.policy.schemas import Window
from fangkong.tracing import importer
from fangkong.tracing.enums import Certainty, InterviewStatus, Origin, Review
from fangkong.tracing.episodes import case_window, traced_case
from fangkong.tracing.messages import T
from fangkong.tracing.models import Exposure, Interview, Venue
from fangkong.tracing.proposals import propose
from fangkong.tracing.schemas import InterviewAnswers

MAX_DAYS = 60  # days shown one by one at most (a window longer than that: its last 60)


def get(session: Session, *, actor: Actor, case_id: int) -> Interview | None:
    """The case's interview (None: not started), for a reader of the case."""
    actor.require(Perm.case_read)
    cases.get(session, actor=actor, case_id=case_id, audit_read=False)
    found = session.scalar(select(Interview).where(Interview.case_id == case_id))
    if found is not None:
        audit.record(session, actor, action="read", record_type="interview",
                     record_ids=[found.id], fields=["answers"])
    return found


def pack_of(interview: Interview | None) -> policy.Pack:
    """The pack the interview follows: the one it was started under, else the active one."""
    if interview is None:
        return policy.resolve(None)
    return policy.pinned(interview.pack_id, interview.pack_version,
                         record=f"interview {interview.id}")


def window(case: cases.Case, pack: policy.Pack) -> Window | None:
    """The case's look-back window under the pack; None while the case has no date to
    reckon it from."""
    if case.onset_date is None and case.first_positive_sample_date is None:
        return None
    return case_window(case, pack)


def days_of(win: Window | None) -> list[date]:
    """The days the interview asks about one by one: the window's (until today when it is
    still open), at most the last :data:`MAX_DAYS`."""
    if win is None:
        return []
    today = utc_now().astimezone(ZoneInfo(get_settings().timezone)).date()
    end = min(win.end or today, today)
    days = [win.start + timedelta(days=k) for k in range((end - win.start).days + 1)]
    return days[-MAX_DAYS:]


def venue_by_code(session: Session, actor: Actor, code: str) -> Venue | None:
    """The venue of the jurisdiction with this place code (场所码), if any."""
    return session.scalar(scope(select(Venue).where(Venue.code == code.strip()), actor,
                                Venue.division_code))


def _check(session: Session, actor: Actor, case: cases.Case, answers: InterviewAnswers,
           win: Window | None) -> tuple[list[Problem], dict[int, Venue]]:
    """Every problem of the answers, each on its field (``people.2.last_exposure``), and
    the venues of the visits by row."""
    problems: list[Problem] = []
    today = utc_now().astimezone(ZoneInfo(get_settings().timezone)).date()
    last = min(win.end or today, today) if win else today

    def dated(day: date, field: str) -> None:
        if win is not None and not (win.start <= day <= last):
            problems.append(Problem(T("outside_window", start=win.start, end=last),
                                    field=field))

    if answers.onset_date is not None and answers.onset_date > today:
        problems.append(Problem(T("onset_future"), field="onset_date"))
    seen_days: set[date] = set()
    for k, d in enumerate(answers.days):
        if d.day in seen_days:
            problems.append(Problem(T("day_twice"), field=f"days.{k}.places"))
        seen_days.add(d.day)
        dated(d.day, f"days.{k}.places")
    readable = persons.divisions_of(session, {p.person_id for p in answers.people},
                                    actor=actor)
    rows: dict[int, int] = {}
    for k, p in enumerate(answers.people):
        if p.person_id not in readable:
            problems.append(Problem(T("exposed_no_such"), field=f"people.{k}.who"))
        elif p.person_id == case.person_id:
            problems.append(Problem(T("met_self"), field=f"people.{k}.who"))
        elif p.person_id in rows:
            problems.append(Problem(T("met_twice", row=rows[p.person_id] + 1),
                                    field=f"people.{k}.who"))
        rows.setdefault(p.person_id, k)
        dated(p.first_exposure, f"people.{k}.first_exposure")
        if p.last_exposure < p.first_exposure:
            problems.append(Problem(T("not_before_first"), field=f"people.{k}.last_exposure"))
        else:
            dated(p.last_exposure, f"people.{k}.last_exposure")
    found: dict[int, Venue] = {}
    for k, v in enumerate(answers.venues):
        venue = venue_by_code(session, actor, v.code)
        if venue is None:
            problems.append(Problem(T("venue_no_code", code=v.code), field=f"venues.{k}.code"))
        else:
            found[k] = venue
        dated(v.day, f"venues.{k}.day")
        if v.time_out is not None and v.time_out <= v.time_in:
            problems.append(Problem(T("out_before_in"), field=f"venues.{k}.time_out"))
    for k, trip in enumerate(answers.travel):
        dated(trip.day, f"travel.{k}.day")
    return problems, found


def save(session: Session, *, actor: Actor, case_id: int, answers: InterviewAnswers,
         version: int, complete: bool = False,
         checkins: Path | None = None) -> Interview:
    """Save the case's interview as a draft, or complete it (see the module). ``version`` is
    the interview's version when the form was shown (0: not started): any other refuses the
    save (Conflict), as does a completed interview. Invalid, with each problem on its field,
    when an answer is wrong; nothing is written then."""
    actor.require(Perm.case_write)
    case = traced_case(session, actor, case_id)
    interview = session.scalar(select(Interview).where(Interview.case_id == case_id)
                               .with_for_update())
    current = interview.version if interview is not None else 0
    if version != current:
        raise Conflict(T("interview_stale"))
    if interview is not None and interview.status == InterviewStatus.completed:
        raise Conflict(T("interview_done"))
    pack = pack_of(interview)
    win = window(case, pack)
    problems, venues = _check(session, actor, case, answers, win)
    if complete and win is None:
        problems.append(Problem(T("interview_no_window"), field="onset_date"))
    if problems:
        raise Invalid(T("interview_failed"), problems=problems)
    now = utc_now()
    stored = answers.model_dump(mode="json")
    for k, venue in venues.items():  # what the code was found to be, for the reader
        stored["venues"][k] |= {"venue_id": venue.id, "name": venue.name}
    if interview is None:
        interview = Interview(case_id=case_id, status=InterviewStatus.draft, answers=stored,
                              pack_id=pack.id, pack_version=pack.version, version=1,
                              created_by=actor.username, created_at=now,
                              updated_by=actor.username, updated_at=now)
        session.add(interview)
    else:
        interview.answers, interview.version = stored, interview.version + 1
        interview.updated_by, interview.updated_at = actor.username, now
    session.flush()
    audit.record(session, actor, action="create" if current == 0 else "update",
                 record_type="interview", record_ids=[interview.id], fields=["answers"])
    if complete:
        interview.outcome = _feed(session, actor, case, answers, venues, pack, checkins)
        interview.status = InterviewStatus.completed
        interview.completed_by, interview.completed_at = actor.username, now
        session.flush()
        audit.record(session, actor, action="update", record_type="interview",
                     record_ids=[interview.id], fields=["status"],
                     detail={"case_id": case_id, **interview.outcome})
    return interview


def _feed(session: Session, actor: Actor, case: cases.Case, answers: InterviewAnswers,
          venues: dict[int, Venue], pack: policy.Pack,
          checkins: Path | None) -> dict[str, Any]:
    """What completing the interview gives tracing (the module's description); its counts."""
    zone = ZoneInfo(get_settings().timezone)
    stored = 0
    if answers.venues:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"interview-case-{case.id}.csv"
            with path.open("w", newline="", encoding="utf-8") as handle:
                out = csv.writer(handle)
                out.writerow(importer.COLUMNS)
                for k, v in enumerate(answers.venues):
                    t_in = datetime.combine(v.day, v.time_in, zone)
                    t_out = datetime.combine(v.day, v.time_out, zone) if v.time_out else None
                    out.writerow([case.person_id, venues[k].code, t_in.isoformat(),
                                  t_out.isoformat() if t_out else ""])
            stored = importer.ingest(session, actor=actor, source=path,
                                     directory=checkins).stored
    named = _named(session, actor, case, answers, pack)
    report = propose(session, actor=actor, case_id=case.id, pack=pack, checkins=checkins)
    return {"checkins": stored, "named": len(named), "household": report["household"],
            "co_presence": report["co_presence"], "secondary": report["secondary"],
            "exposure_ids": [e.id for e in named] + [e.id for e in report["proposals"]]}


def _named(session: Session, actor: Actor, case: cases.Case, answers: InterviewAnswers,
           pack: policy.Pack) -> list[Exposure]:
    """The people the case named, as proposals (origin ``interview``) with the setting and
    dates given; a person already proposed from the interview is not proposed again."""
    if not answers.people:
        return []
    divisions = persons.divisions_of(session, {p.person_id for p in answers.people},
                                     actor=actor)
    role = "close_contact"
    policy.plan(pack, role, utc_now().date())  # the pack manages close contacts, or refuses
    known = set(session.scalars(select(Exposure.exposed_person_id).where(
        Exposure.source_case_id == case.id, Exposure.origin == Origin.interview)))
    now = utc_now()
    reason = T("named_in_interview").render("en")
    out = []
    for p in answers.people:
        if p.person_id in known:
            continue
        out.append(Exposure(
            source_case_id=case.id, source_contact_id=None, source_venue_id=None,
            exposed_person_id=p.person_id, division_code=divisions[p.person_id],
            first_exposure=p.first_exposure, last_exposure=p.last_exposure, estimated=False,
            setting=p.setting, proximity=p.proximity, certainty=Certainty.probable,
            active=True, origin=Origin.interview, proposed_role=role,
            reason=reason + (f": {p.note}" if p.note else ""), review=Review.proposed,
            pack_id=pack.id, pack_version=pack.version, created_at=now))
    session.add_all(out)
    session.flush()
    audit.record(session, actor, action="create", record_type="exposure",
                 record_ids=[e.id for e in out], detail={"case_id": case.id,
                                                         "interview": len(out)})
    return out

