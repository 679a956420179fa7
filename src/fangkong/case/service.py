"""Case episodes: report, reclassify (with history), find, list by jurisdiction."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Select, Table, select
from sqlalchemy.orm import Session

from fangkong.case import records
from fangkong.case.enums import Basis, Classification, DetectionMode
from fangkong.case.messages import C
from fangkong.case.models import Case, ClassificationChange
from fangkong.case.schemas import CaseCreate, Reclassify
from fangkong.core import audit, events
from fangkong.core.auth import Actor, Perm, scope, scope_clause, within
from fangkong.core.clock import utc_now
from fangkong.core.config import get_settings
from fangkong.core.errors import Conflict, Invalid, NotFound, Problem
from fangkong.core.messages import CORE
from fangkong.core.pagination import cut_page, decode_cursor
from fangkong.geo import service as geo
from fangkong.person import service as persons
from fangkong.policy import service as policy

FIELDS = ["ref", "person_id", "disease", "classification", "severity", "onset_date",
          "first_positive_sample_date", "reported_at", "detection_mode",
          "owning_division_code", "current_division_code"]


def check_places(session: Session, actor: Actor, values: dict[str, Any]) -> list[Problem]:
    problems = []
    codes = {values["owning_division_code"], values["current_division_code"]} - {None}
    known = geo.exists(session, codes)
    for field in ("owning_division_code", "current_division_code"):
        code = values.get(field)
        if code and code not in known:
            problems.append(Problem(C("unknown_division", code=code), field=field))
        # a case is neither owned nor located outside the jurisdiction of whoever writes it
        # (its location makes it readable there: see readable_clause)
        elif code and not actor.covers(code):
            problems.append(Problem(CORE("outside_jurisdiction"), field=field))
    return problems


# A case of these classifications is an infection: reporting one (or reclassifying a suspected
# case as one), by any path, publishes ``case.reported``, on which tracing proposes its contacts.
INFECTIONS = frozenset({Classification.confirmed, Classification.asymptomatic})


def create(session: Session, *, actor: Actor, data: CaseCreate) -> Case:
    actor.require(Perm.case_write)
    values, problems = records.normalise(data.model_dump(), zone=get_settings().timezone)
    problems += check_places(session, actor, values)
    person_id = persons.ids_by_ref(session, actor=actor, refs={values["person_ref"]}).get(
        values["person_ref"])
    if person_id is None:
        problems.append(Problem(C("no_person", ref=values["person_ref"]), field="person_ref"))
    if problems:
        raise Invalid(C("invalid"), problems=problems)
    if session.scalar(select(Case.id).where(Case.ref == values["ref"])) is not None:
        raise Conflict(C("exists", ref=values["ref"]),
                       problems=[Problem(CORE("already_exists"), field="ref")])
    assert person_id is not None
    case = insert(session, actor=actor, values=values, person_id=person_id, note=None)
    audit.record(session, actor, action="create", record_type="case", record_ids=[case.id],
                 fields=FIELDS)
    if case.classification in INFECTIONS:
        reported(session, actor=actor, case_ids=[case.id], reason="reported")
    return case


def reported(session: Session, *, actor: Actor, case_ids: list[int], reason: str,
             pack: policy.PackPin | None = None) -> None:
    """``case.reported`` for infections new to case management, by whatever path they came
    (the API, an import, a testing result, a reclassification): tracing proposes their
    contacts. Once per batch (per pack). ``pack`` is the pack the work that found them runs
    under (a testing round's); None: the active pack, resolved here, once. The event carries
    it (``detail``: ``pack_id``, ``pack_version``), so its listeners apply that pack."""
    pin = pack or policy.pin()
    events.publish(session, events.Event("case.reported", actor=actor, subject_type="case",
                                         subject_ids=case_ids, reason=reason,
                                         detail=pin.detail()))


def insert(session: Session, *, actor: Actor, values: dict[str, Any], person_id: int,
           note: str | None) -> Case:
    """Insert a checked case with the first step of its history (no audit: callers do)."""
    now = utc_now()
    fields = {k: values[k] for k in FIELDS if k not in ("person_id",)}
    case = Case(**fields, person_id=person_id, row_hash=records.row_hash(values),
                created_at=now, updated_at=now)
    case.history.append(ClassificationChange(
        from_classification=None, from_severity=None,
        to_classification=values["classification"], to_severity=values["severity"],
        at=now, by=actor.username, basis=Basis.manual, note=note or "reported"))
    session.add(case)
    session.flush()
    return case


def open_episode(session: Session, *, person_id: int, disease: str) -> Case | None:
    """The person's latest episode of the disease that is not discarded (排除), if any: a new
    positive result of theirs belongs to it, not to a new case."""
    return session.scalar(select(Case).where(
        Case.person_id == person_id, Case.disease == disease,
        Case.classification != Classification.discarded).order_by(Case.id.desc()).limit(1))


def open_episodes(session: Session, *, person_ids: Collection[int],
                  disease: str) -> dict[int, int]:
    """:func:`open_episode` of many persons: the id of each one's latest episode of the
    disease that is not discarded, by person (persons without one left out)."""
    ordered, found = sorted(set(person_ids)), {}
    for start in range(0, len(ordered), 900):
        for person, case_id in session.execute(select(Case.person_id, Case.id).where(
                Case.person_id.in_(ordered[start:start + 900]), Case.disease == disease,
                Case.classification != Classification.discarded).order_by(Case.id)):
            found[person] = case_id  # the latest wins
    return found


def apply_change(case: Case, *, actor: Actor, classification: Classification,
                 severity: Any, basis: Basis, note: str | None) -> bool:
    """Move a case to a new classification, recording the step. False if nothing changed."""
    if (case.classification, case.severity) == (classification, severity):
        return False
    problems = records.consistency({"classification": classification, "severity": severity},
                                   zone=get_settings().timezone)
    if problems:
        raise Invalid(C("invalid_classification"), problems=problems)
    now = utc_now()
    case.history.append(ClassificationChange(
        from_classification=case.classification, from_severity=case.severity,
        to_classification=classification, to_severity=severity, at=now, by=actor.username,
        basis=basis, note=note))
    case.classification, case.severity, case.updated_at = classification, severity, now
    return True


def reclassify(session: Session, *, actor: Actor, case_id: int, data: Reclassify) -> Case:
    actor.require(Perm.case_write)
    case = get(session, actor=actor, case_id=case_id, audit_read=False)
    was = case.classification
    if apply_change(case, actor=actor, classification=data.classification,
                    severity=data.severity, basis=data.basis, note=data.note):
        case.row_hash = ""  # edited by hand: a re-imported file line counts as a change
        session.flush()
        audit.record(session, actor, action="update", record_type="case",
                     record_ids=[case.id], fields=["classification", "severity"])
        if case.classification in INFECTIONS and was not in INFECTIONS:
            reported(session, actor=actor, case_ids=[case.id],
                     reason=f"reclassified as {case.classification.value}")
    return case


def readable_clause(actor: Actor) -> ColumnElement[bool]:
    """The one rule of which cases an actor may read: those owned by or located in the
    actor's jurisdictions. The case service, the pages, their counts and the brief, and the
    tracing chains go through it; a case outside it is answered as one that does not exist."""
    return scope_clause(actor, Case.owning_division_code, Case.current_division_code)


def readable(actor: Actor) -> Select[Case]:
    """The cases the actor may read (:func:`readable_clause`), as a statement to narrow."""
    actor.require(Perm.case_read)
    return select(Case).where(readable_clause(actor))


def readable_ids(session: Session, *, actor: Actor, ids: Collection[int]) -> set[int]:
    """Those of ``ids`` that are cases the actor's jurisdiction covers (for another domain that
    refers to cases: a missing one and one outside the jurisdiction look the same)."""
    if not ids:
        return set()
    stmt = select(Case.id).where(readable_clause(actor), Case.id.in_(list(ids)))
    return set(session.scalars(stmt))


def get(session: Session, *, actor: Actor, case_id: int, audit_read: bool = True) -> Case:
    case = session.scalar(readable(actor).where(Case.id == case_id))
    if case is None:
        raise NotFound(C("not_found", id=case_id))
    if audit_read:
        audit.record(session, actor, action="read", record_type="case", record_ids=[case.id],
                     fields=FIELDS)
    return case


def find_by_ref(session: Session, *, actor: Actor, ref: str) -> Case | None:
    """The case with this case number, if the actor may read it (:func:`readable_clause`);
    None for one outside the jurisdiction, as for one that does not exist."""
    case = session.scalar(readable(actor).where(Case.ref == ref.strip()))
    if case is not None:
        audit.record(session, actor, action="read", record_type="case", record_ids=[case.id],
                     fields=FIELDS)
    return case


def list_(
    session: Session,
    *,
    actor: Actor,
    division: str | None = None,
    classification: Classification | None = None,
    disease: str | None = None,
    cursor: str | None = None,
    limit: int = 100,
) -> tuple[list[Case], str | None]:
    """Newest first (by id), keyset paged."""
    stmt = readable(actor)
    if division:
        stmt = stmt.where(within(Case.owning_division_code, division)
                          | within(Case.current_division_code, division))
    if classification:
        stmt = stmt.where(Case.classification == classification)
    if disease:
        stmt = stmt.where(Case.disease == disease)
    key = decode_cursor(cursor, 1)
    if key:
        stmt = stmt.where(Case.id < int(key[0]))
    cases, nxt = cut_page(session.scalars(stmt.order_by(Case.id.desc()).limit(limit + 1)).all(),
                          limit, lambda c: [c.id])
    if cases:
        audit.record(session, actor, action="read", record_type="case",
                     record_ids=[c.id for c in cases], fields=FIELDS)
    return cases, nxt


# --- for other domains that join cases with their own records ----------------------------------

def columns() -> Select[int, int, str, Classification, date | None, date | None, datetime,
                         str]:
    """The columns of a case another domain may join with its own records (ids, person,
    classification, dates, owning division; no free text), unscoped: make it a subquery to join
    or narrow it, and scope it with :func:`fangkong.core.auth.scope` on
    ``owning_division_code`` when an actor reads it (or use :func:`readable` for the whole
    rule of reading a case)."""
    return select(Case.id, Case.person_id, Case.ref, Case.classification, Case.onset_date,
                  Case.first_positive_sample_date, Case.reported_at, Case.owning_division_code)


def dated(actor: Actor, *, division: str, disease: str | None = None,
          onset: tuple[date, date] | None = None,
          reported: tuple[datetime, datetime] | None = None
          ) -> Select[date | None, datetime, DetectionMode, str, int]:
    """(onset date, report time, detection mode, owning division, id) of the cases that count
    for a division's figures: owned in ``division`` and in the actor's jurisdiction (a case
    counts where it is owned, once), not discarded, of ``disease`` if given, with the onset
    date in ``onset`` (inclusive) or the report time in ``reported`` ([from, to))."""
    stmt = scope(select(Case.onset_date, Case.reported_at, Case.detection_mode,
                        Case.owning_division_code, Case.id), actor, Case.owning_division_code)
    stmt = stmt.where(within(Case.owning_division_code, division),
                      Case.classification != Classification.discarded)
    if disease:
        stmt = stmt.where(Case.disease == disease)
    if onset is not None:
        stmt = stmt.where(Case.onset_date >= onset[0], Case.onset_date <= onset[1])
    if reported is not None:
        stmt = stmt.where(Case.reported_at >= reported[0], Case.reported_at < reported[1])
    return stmt


def table() -> Table:
    """The cases' table, for another domain's set-based joins with its own records (a
    follow-up member's case ref): read its ``id``, ``ref``, ``person_id`` and the division
    columns, and narrow it with :func:`readable_clause` when an actor reads it. Other domains
    do not import the case model itself.

    Kept on purpose (issue 18): its users are testing's coverage and follow-up statements,
    joined in SQL with their own tables over a round's whole area; the pages and the brief
    count and list cases through :mod:`fangkong.case.figures` instead."""
    return cast(Table, Case.__table__)


def is_case(obj: object) -> bool:
    """Whether ``obj`` is a case record (for a session listener of another domain that follows
    changes to cases)."""
    return isinstance(obj, Case)


def ids_by_ref(session: Session, refs: Collection[str]) -> dict[str, tuple[int, str]]:
    """Each found case's id and owning division, by ref."""
    ordered, found = sorted(refs), {}
    for start in range(0, len(ordered), 900):
        found.update({r: (i, c) for r, i, c in session.execute(
            select(Case.ref, Case.id, Case.owning_division_code).where(
                Case.ref.in_(ordered[start:start + 900])))})
    return found


def owning_divisions(session: Session, ids: Collection[int]) -> dict[int, str]:
    ordered, found = sorted(ids), {}
    for start in range(0, len(ordered), 900):
        found.update({i: c for i, c in session.execute(
            select(Case.id, Case.owning_division_code).where(
                Case.id.in_(ordered[start:start + 900])))})
    return found


def with_ref_prefix(session: Session, prefix: str, *,
                    after: int = 0) -> list[tuple[int, int, date | None]]:
    """(id, person id, first positive sample date) of the cases whose ref starts with
    ``prefix`` and whose id is above ``after``, by id."""
    return [(i, p, d) for i, p, d in session.execute(
        select(Case.id, Case.person_id, Case.first_positive_sample_date).where(
            Case.ref.like(f"{prefix}%"), Case.id > after).order_by(Case.id))]


def set_aside(session: Session, *, actor: Actor, case_ids: Collection[int],
              person_ids: Collection[int], note: str) -> list[int]:
    """Discard (basis ``rule``, ``note`` in their history) the cases of ``case_ids`` that are
    of ``person_ids`` and not discarded yet (an earlier drill's, when another starts); one
    audit entry. Returns their ids."""
    actor.require(Perm.case_write)
    ordered, persons = sorted(case_ids), set(person_ids)
    ended = [c for k in range(0, len(ordered), 900) for c in session.scalars(
        select(Case).where(Case.id.in_(ordered[k:k + 900]),
                           Case.classification != Classification.discarded))
        if c.person_id in persons]
    ended.sort(key=lambda c: c.id)
    for case in ended:
        apply_change(case, actor=actor, classification=Classification.discarded,
                     severity=None, basis=Basis.rule, note=note)
    if ended:
        audit.record(session, actor, action="update", record_type="case",
                     record_ids=[c.id for c in ended], fields=["classification"], note=note)
    session.flush()
    return [c.id for c in ended]
