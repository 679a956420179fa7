from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, File, UploadFile
from fastapi.responses import JSONResponse

from fangkong.core.auth import Perm
from fangkong.core.division import DivisionCode
from fangkong.core.params import Int64
from fangkong.deps import AppSettings, CurrentActor, DbSession, needs
from fangkong.surveillance import alerting, curves, importer, service
from fangkong.surveillance.enums import AlertStatus, DateBasis, Indicator
from fangkong.surveillance.schemas import (
    AlertAction,
    AlertRead,
    CurvePoint,
    EvaluationReport,
    Investigate,
    ReportImportReport,
    ReportIn,
    ReportRead,
    RuleCreate,
    RuleRead,
    SentinelCreate,
    SentinelRead,
)
from fangkong.upload import read_upload

router = APIRouter(prefix="/surveillance", tags=["surveillance"])


@router.post("/sentinels", response_model=SentinelRead, status_code=201,
             dependencies=[needs(Perm.case_write)])
def create_sentinel(session: DbSession, actor: CurrentActor, data: SentinelCreate) -> Any:
    return service.create_sentinel(session, actor=actor, data=data)


@router.get("/sentinels", response_model=list[SentinelRead])
def list_sentinels(session: DbSession, actor: CurrentActor,
                   division: DivisionCode | None = None) -> Any:
    return service.list_sentinels(session, actor=actor, division=division)


@router.post("/reports", response_model=ReportRead, dependencies=[needs(Perm.case_write)])
def submit_report(session: DbSession, actor: CurrentActor, data: ReportIn) -> Any:
    """Report a count; the same unit/indicator/period again with another value corrects it."""
    report, status = service.submit_report(session, actor=actor, data=data)
    body = ReportRead.model_validate(report).model_dump(mode="json")
    return JSONResponse(body, status_code=201 if status == "inserted" else 200)


@router.post("/reports/import", response_model=ReportImportReport,
             dependencies=[needs(Perm.case_write)])
def import_reports(session: DbSession, actor: CurrentActor, settings: AppSettings,
                   file: Annotated[UploadFile, File()], encoding: str | None = None) -> Any:
    data, name = read_upload(file, settings.import_max_bytes)
    return importer.import_file(session, actor=actor, source=data, filename=name,
                                encoding=encoding)


@router.get("/reports", response_model=list[ReportRead])
def list_reports(session: DbSession, actor: CurrentActor, division: DivisionCode | None = None,
                 indicator: Indicator | None = None, date_from: date | None = None,
                 date_to: date | None = None) -> Any:
    return service.list_reports(session, actor=actor, division=division, indicator=indicator,
                                date_from=date_from, date_to=date_to)


@router.get("/reports/{report_id}", response_model=ReportRead)
def get_report(session: DbSession, actor: CurrentActor, report_id: Int64) -> Any:
    return service.get_report(session, actor=actor, report_id=report_id)


@router.get("/curves/cases", response_model=list[CurvePoint])
def case_curve(session: DbSession, actor: CurrentActor, division: DivisionCode, date_from: date,
               date_to: date, basis: DateBasis = DateBasis.onset, level: str | None = None,
               disease: str | None = None) -> Any:
    """Daily case counts by division, split by found in the community / under control."""
    return curves.curve(session, actor=actor, division=division, start=date_from, end=date_to,
                        basis=basis, level=level, disease=disease)


@router.post("/rules", response_model=RuleRead, status_code=201,
             dependencies=[needs(Perm.case_write)])
def create_rule(session: DbSession, actor: CurrentActor, data: RuleCreate) -> Any:
    return alerting.create_rule(session, actor=actor, data=data)


@router.get("/rules", response_model=list[RuleRead])
def list_rules(session: DbSession, actor: CurrentActor) -> Any:
    return alerting.list_rules(session, actor=actor)


@router.post("/rules/{rule_id}/evaluate", response_model=EvaluationReport,
             dependencies=[needs(Perm.case_write)])
def evaluate_rule(session: DbSession, actor: CurrentActor, rule_id: Int64, date_from: date,
                  date_to: date) -> Any:
    return alerting.evaluate_rule(session, actor=actor, rule_id=rule_id, start=date_from,
                                  end=date_to)


@router.get("/alerts", response_model=list[AlertRead])
def list_alerts(session: DbSession, actor: CurrentActor, status: AlertStatus | None = None,
                division: DivisionCode | None = None, rule_id: Int64 | None = None) -> Any:
    return alerting.list_alerts(session, actor=actor, status=status, division=division,
                                rule_id=rule_id)


@router.get("/alerts/{alert_id}", response_model=AlertRead)
def get_alert(session: DbSession, actor: CurrentActor, alert_id: Int64) -> Any:
    return alerting.get_alert(session, actor=actor, alert_id=alert_id)


@router.post("/alerts/{alert_id}/acknowledge", response_model=AlertRead,
             dependencies=[needs(Perm.case_write)])
def acknowledge(session: DbSession, actor: CurrentActor, alert_id: Int64,
                data: AlertAction) -> Any:
    return alerting.acknowledge(session, actor=actor, alert_id=alert_id, note=data.note)


@router.post("/alerts/{alert_id}/investigate", response_model=AlertRead,
             dependencies=[needs(Perm.case_write)])
def investigate(session: DbSession, actor: CurrentActor, alert_id: Int64,
                data: Investigate) -> Any:
    """Open an investigation task (fangkong.task) for the alert."""
    return alerting.investigate(session, actor=actor, alert_id=alert_id, data=data)


@router.post("/alerts/{alert_id}/dismiss", response_model=AlertRead,
             dependencies=[needs(Perm.case_write)])
def dismiss(session: DbSession, actor: CurrentActor, alert_id: Int64, data: AlertAction) -> Any:
    return alerting.dismiss(session, actor=actor, alert_id=alert_id, note=data.note)
