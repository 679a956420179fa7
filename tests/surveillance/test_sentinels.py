"""Sentinel units and reports: registration, scoping, corrections (audited), bulk import."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.core.audit import AuditEntry
from fangkong.core.auth import Actor, Role
from fangkong.core.errors import Conflict, Invalid
from fangkong.surveillance import importer, service
from fangkong.surveillance.enums import Indicator, Period, SentinelKind
from fangkong.surveillance.schemas import ReportIn, SentinelCreate
from tests.conftest import make_actor
from tests.helpers import csv_bytes

DAY = date(2022, 11, 1)


def add_sentinel(session: Session, actor: Actor, code: str = "S1",
                 division: str = "440802001001", kind: SentinelKind = SentinelKind.pharmacy):
    return service.create_sentinel(session, actor=actor, data=SentinelCreate(
        code=code, name=f"sentinel {code}", kind=kind, division_code=division))


def test_sentinel_registration_and_scoping(session: Session, admin: Actor) -> None:
    add_sentinel(session, admin, "S1", "440802001001")
    add_sentinel(session, admin, "S2", "440803001001", SentinelKind.fever_clinic)
    with pytest.raises(Conflict):
        add_sentinel(session, admin, "S1")
    local = make_actor(Role.epidemiologist, "440803")
    assert [u.code for u in service.list_sentinels(session, actor=local)] == ["S2"]
    with pytest.raises(Invalid, match="not valid") as exc:
        add_sentinel(session, local, "S3", "440802001001")
    assert exc.value.problems[0].field == "division_code"
    with pytest.raises(Invalid):
        add_sentinel(session, admin, "S4", "449999")


def test_a_correction_replaces_the_value_and_is_audited(session: Session, admin: Actor) -> None:
    add_sentinel(session, admin)
    report, status = service.submit_report(session, actor=admin, data=ReportIn(
        unit_code="S1", indicator=Indicator.sales_antipyretic, period_start=DAY, value=12))
    assert status == "inserted" and report.version == 1
    again, status = service.submit_report(session, actor=admin, data=ReportIn(
        unit_code="S1", indicator=Indicator.sales_antipyretic, period_start=DAY, value=12))
    assert status == "unchanged" and again.id == report.id
    fixed, status = service.submit_report(session, actor=admin, data=ReportIn(
        unit_code="S1", indicator=Indicator.sales_antipyretic, period_start=DAY, value=21,
        reason="late till receipts"))
    assert status == "corrected" and fixed.id == report.id
    assert (fixed.value, fixed.version) == (21, 2)
    assert [(r.old_value, r.new_value, r.reason) for r in fixed.revisions] == [
        (12, 21, "late till receipts")]
    entry = session.scalars(select(AuditEntry).where(
        AuditEntry.record_type == "sentinel_report", AuditEntry.action == "update")).one()
    assert entry.record_ids == [str(report.id)]
    assert entry.detail["old"] == 12 and entry.detail["new"] == 21
    assert entry.note == "late till receipts"


def test_report_validation(session: Session, admin: Actor) -> None:
    add_sentinel(session, admin)
    with pytest.raises(Invalid) as exc:
        service.submit_report(session, actor=admin, data=ReportIn(
            unit_code="S1", indicator=Indicator.visits, period=Period.weekly,
            period_start=date(2022, 11, 2), value=3))  # a Wednesday
    assert exc.value.problems[0].field == "period_start"
    with pytest.raises(Invalid) as exc:
        service.submit_report(session, actor=admin, data=ReportIn(
            unit_code="NOPE", indicator=Indicator.visits, period_start=DAY, value=3))
    assert exc.value.problems[0].field == "unit_code"
    outsider = make_actor(Role.epidemiologist, "440803")
    with pytest.raises(Invalid):
        service.submit_report(session, actor=outsider, data=ReportIn(
            unit_code="S1", indicator=Indicator.visits, period_start=DAY, value=3))


def _rows(values: list[int], unit: str = "S1") -> list[dict[str, object]]:
    return [{"unit_code": unit, "indicator": "visits", "period": "daily",
             "period_start": (DAY + timedelta(days=i)).isoformat(), "value": v}
            for i, v in enumerate(values)]


def test_bulk_import_is_atomic_idempotent_and_corrects(session: Session, admin: Actor) -> None:
    add_sentinel(session, admin)
    rows = _rows([5, 6, 7, 8])
    report = importer.import_file(session, actor=admin, source=csv_bytes(rows),
                                  filename="r.csv")
    assert (report.rows, report.inserted, report.corrected, report.unchanged) == (4, 4, 0, 0)
    report = importer.import_file(session, actor=admin, source=csv_bytes(rows),
                                  filename="r.csv")
    assert (report.inserted, report.corrected, report.unchanged) == (0, 0, 4)
    rows[2]["value"] = 70
    rows[2]["reason"] = "typo"
    report = importer.import_file(session, actor=admin, source=csv_bytes(
        rows, columns=importer.FIELDS), filename="r.csv")
    assert (report.inserted, report.corrected, report.unchanged) == (0, 1, 3)
    stored = service.list_reports(session, actor=admin, indicator=Indicator.visits)
    assert [r.value for r in stored] == [5, 6, 70, 8]
    assert stored[2].revisions[0].reason == "typo"


def test_bulk_import_reports_every_bad_line(session: Session, admin: Actor) -> None:
    add_sentinel(session, admin)
    rows = _rows([1, 2, 3, 4, 5])
    rows[1]["value"] = "-3"
    rows[2]["indicator"] = "sneezes"
    rows[3]["unit_code"] = "S9"
    rows[4]["period_start"] = rows[0]["period_start"]
    with pytest.raises(Invalid, match="nothing was imported") as exc:
        importer.import_file(session, actor=admin, source=csv_bytes(rows), filename="bad.csv")
    where = {(p.line, p.field) for p in exc.value.problems}
    assert {(3, "value"), (4, "indicator"), (6, "period_start")} <= where
    assert service.list_reports(session, actor=admin) == []
    rows = _rows([1])
    rows[0]["unit_code"] = "S9"
    with pytest.raises(Invalid) as exc:
        importer.import_file(session, actor=admin, source=csv_bytes(rows), filename="b2.csv")
    assert [(p.file, p.line, p.field) for p in exc.value.problems] == [
        ("b2.csv", 2, "unit_code")]
