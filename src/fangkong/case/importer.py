"""Bulk import of cases from CSV or XLSX; every line checked, one atomic batch, idempotent.

Cases link to persons through the person's ``ref``. A re-imported line whose fields are the same
changes nothing; a changed classification is recorded in the case's history.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.case import records
from fangkong.case import service as cases
from fangkong.case.enums import Basis
from fangkong.case.messages import C
from fangkong.case.models import Case
from fangkong.case.schemas import CaseImportReport
from fangkong.core import audit
from fangkong.core.auth import Actor, Perm
from fangkong.core.clock import utc_now
from fangkong.core.config import get_settings
from fangkong.core.errors import Problem
from fangkong.core.tabular import Collector, open_table
from fangkong.person import service as persons
from fangkong.policy import service as policy


def import_file(
    session: Session,
    *,
    actor: Actor,
    source: Path | bytes,
    filename: str | None = None,
    encoding: str | None = None,
    pack: policy.PackPin | None = None,
) -> CaseImportReport:
    """Import a cases file. Its new infections are reported (``case.reported``) under ``pack``,
    the pack of the work the file comes from (a drill's); None: the active pack."""
    actor.require(Perm.case_write)
    settings = get_settings()
    table = open_table(source, expected=records.FIELDS, required=records.REQUIRED,
                       max_bytes=settings.import_max_bytes, filename=filename, encoding=encoding)
    collector = Collector(table.filename, settings.import_max_errors)
    rows: list[tuple[int, dict[str, Any]]] = []
    refs: dict[str, int] = {}
    for line, raw in collector.rows(table):
        values, problems = records.normalise(raw, zone=settings.timezone)
        ref = values["ref"]
        if ref in refs:
            problems.append(Problem(C("ref_repeated", ref=ref, line=refs[ref]), field="ref"))
        elif ref:
            refs[ref] = line
        if not problems:
            problems = cases.check_places(session, actor, values)
        collector.add(line, problems) if problems else rows.append((line, values))
    people = persons.ids_by_ref(session, actor=actor,
                                refs={v["person_ref"] for _, v in rows})
    existing = _existing(session, {v["ref"] for _, v in rows})
    for line, values in rows:
        if values["person_ref"] not in people:
            collector.add(line, [Problem(C("no_person", ref=values["person_ref"]),
                                         field="person_ref")])
        found = existing.get(values["ref"])
        if found is not None and not (actor.covers(found.owning_division_code)
                                      or actor.covers(found.current_division_code)):
            collector.add(line, [Problem(C("ref_not_yours"), field="ref")])
    collector.check()
    report = _write(session, actor, rows, people, existing, table.filename, pack)
    digest = hashlib.sha256(source.read_bytes() if isinstance(source, Path) else source)
    audit.record(session, actor, action="import", record_type="case", fields=cases.FIELDS,
                 detail={**report.model_dump(), "sha256": digest.hexdigest()})
    return report


def _existing(session: Session, refs: set[str]) -> dict[str, Case]:
    found: dict[str, Case] = {}
    ordered = sorted(refs)
    for start in range(0, len(ordered), 900):
        stmt = select(Case).where(Case.ref.in_(ordered[start : start + 900]))
        found.update({c.ref: c for c in session.scalars(stmt)})
    return found


def _write(session: Session, actor: Actor, rows: list[tuple[int, dict[str, Any]]],
           people: dict[str, int], existing: dict[str, Case], filename: str,
           pack: policy.PackPin | None) -> CaseImportReport:
    inserted = updated = unchanged = 0
    note = f"import {filename}"
    infections: list[int] = []  # new to case management as such: traced as on the API path
    for _, values in rows:
        case = existing.get(values["ref"])
        if case is None:
            case = cases.insert(session, actor=actor, values=values,
                                person_id=people[values["person_ref"]], note=note)
            inserted += 1
            if case.classification in cases.INFECTIONS:
                infections.append(case.id)
            continue
        digest = records.row_hash(values)
        if digest == case.row_hash:
            unchanged += 1
            continue
        was = case.classification
        cases.apply_change(case, actor=actor, classification=values["classification"],
                           severity=values["severity"], basis=Basis.manual, note=note)
        for field in cases.FIELDS:
            if field not in ("person_id", "classification", "severity"):
                setattr(case, field, values[field])
        case.person_id = people[values["person_ref"]]
        case.row_hash, case.updated_at = digest, utc_now()
        updated += 1
        if case.classification in cases.INFECTIONS and was not in cases.INFECTIONS:
            infections.append(case.id)
    session.flush()
    cases.reported(session, actor=actor, case_ids=infections, reason=note, pack=pack)
    return CaseImportReport(file=filename, rows=len(rows), inserted=inserted, updated=updated,
                            unchanged=unchanged)
