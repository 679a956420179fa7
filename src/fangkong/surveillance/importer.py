"""Bulk import of sentinel reports (CSV or XLSX): every line checked, one atomic batch,
idempotent. A line whose value differs from the stored one is a correction: the value is
replaced, the old one kept with the reason, and the change audited.

Columns: unit_code, indicator, period (daily | weekly, default daily), period_start
(YYYY-MM-DD), value, reason (optional, for corrections).
"""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from fangkong.core import audit
from fangkong.core.auth import Actor, Perm
from fangkong.core.config import get_settings
from fangkong.core.errors import Problem
from fangkong.core.tabular import Collector, open_table
from fangkong.surveillance import service
from fangkong.surveillance.messages import S
from fangkong.surveillance.schemas import ReportImportReport, ReportIn

FIELDS = ["unit_code", "indicator", "period", "period_start", "value", "reason"]
REQUIRED = ["unit_code", "indicator", "period_start", "value"]


def _values(raw: dict[str, Any]) -> tuple[dict[str, Any], list[Problem]]:
    cleaned = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in raw.items()
               if v not in (None, "")}
    try:
        return ReportIn.model_validate(cleaned).model_dump(), []
    except ValidationError as exc:
        return {}, [Problem(str(e["msg"]), field=".".join(str(p) for p in e["loc"]))
                    for e in exc.errors()]


def import_file(session: Session, *, actor: Actor, source: Path | bytes,
                filename: str | None = None, encoding: str | None = None) -> ReportImportReport:
    actor.require(Perm.case_write)
    settings = get_settings()
    table = open_table(source, expected=FIELDS, required=REQUIRED,
                       max_bytes=settings.import_max_bytes, filename=filename, encoding=encoding)
    collector = Collector(table.filename, settings.import_max_errors)
    rows: list[tuple[int, dict[str, Any]]] = []
    seen: dict[tuple[str, str, str, date], int] = {}
    for line, raw in collector.rows(table):
        values, problems = _values(raw)
        if not problems:
            problems = service.check_report(values)
            key = (values["unit_code"], values["indicator"], values["period"],
                   values["period_start"])
            if key in seen:
                problems.append(Problem(S("same_report", line=seen[key]),
                                        field="period_start"))
            seen.setdefault(key, line)
        collector.add(line, problems) if problems else rows.append((line, values))
    units = service.units_by_code(session, actor=actor, codes={v["unit_code"] for _, v in rows})
    for line, values in rows:
        if values["unit_code"] not in units:
            collector.add(line, [Problem(S("no_sentinel", code=values["unit_code"]),
                                         field="unit_code")])
    collector.check()
    keys = {(units[v["unit_code"]].id, v["indicator"], v["period"], v["period_start"])
            for _, v in rows}
    existing = service.existing_reports(session, keys)
    counts = {"inserted": 0, "corrected": 0, "unchanged": 0}
    for _, values in rows:
        unit = units[values["unit_code"]]
        key = (unit.id, values["indicator"], values["period"], values["period_start"])
        _, status = service.write_report(session, actor=actor, unit=unit, values=values,
                                         existing=existing.get(key))
        counts[status] += 1
    session.flush()
    report = ReportImportReport(file=table.filename, rows=len(rows), **counts)
    digest = hashlib.sha256(source.read_bytes() if isinstance(source, Path) else source)
    audit.record(session, actor, action="import", record_type="sentinel_report",
                 fields=["value"], detail={**report.model_dump(), "sha256": digest.hexdigest()})
    return report
