"""``/api/v1/monitoring``: periods, worker reports, links, who is due, the missed-day check;
``/api/v1/monitoring/link/{token}``: the personal link (public, its token the only key)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request

from fangkong.core.auth import Perm
from fangkong.core.division import DivisionCode
from fangkong.core.http import request_lang
from fangkong.core.params import Int64
from fangkong.deps import CurrentActor, DbSession, needs
from fangkong.monitoring import service
from fangkong.monitoring.enums import PeriodStatus
from fangkong.monitoring.schemas import (
    CheckReport,
    DueRow,
    LinkForm,
    LinkRead,
    PeriodDetail,
    PeriodRead,
    ReportIn,
    ReportRead,
    WorkerReportIn,
)

router = APIRouter(prefix="/monitoring", tags=["monitoring"])
link_router = APIRouter(prefix="/monitoring/link", tags=["monitoring"])

Token = Annotated[str, Path(min_length=20, max_length=2000)]


@router.get("/periods", response_model=list[PeriodRead], dependencies=[needs(Perm.person_read)])
def list_periods(session: DbSession, actor: CurrentActor, division: DivisionCode | None = None,
                 status: PeriodStatus | None = PeriodStatus.active, on: date | None = None,
                 limit: Annotated[int, Query(ge=1, le=5000)] = 500) -> Any:
    """Monitoring periods in your jurisdiction, newest first."""
    return service.list_periods(session, actor=actor, division=division, status=status, on=on,
                                limit=limit)


@router.get("/due", response_model=list[DueRow], dependencies=[needs(Perm.person_read)])
def due(session: DbSession, actor: CurrentActor, on: date | None = None,
        division: DivisionCode | None = None) -> Any:
    """The day's reports (today by default): flagged first, then missing, then received."""
    return service.due(session, actor=actor, on=on, division=division)


@router.post("/check", response_model=CheckReport, dependencies=[needs(Perm.task_write)])
def check(session: DbSession, actor: CurrentActor) -> Any:
    """Run the missed-day check now (it also runs on a schedule inside `fangkong serve`)."""
    return service.check_missed(session, actor=actor)


@router.get("/periods/{period_id}", response_model=PeriodDetail,
            dependencies=[needs(Perm.person_read)])
def get_period(session: DbSession, actor: CurrentActor, period_id: Int64) -> Any:
    period = service.get_period(session, actor=actor, period_id=period_id)
    return PeriodDetail.model_validate({
        **PeriodRead.model_validate(period).model_dump(),
        "reports": [ReportRead.model_validate(r) for r in service.reports_of(session, period.id)],
        "missed": service.missed_of(session, period.id)})


@router.post("/periods/{period_id}/reports", response_model=ReportRead, status_code=201,
             dependencies=[needs(Perm.person_write)])
def worker_report(session: DbSession, actor: CurrentActor, period_id: Int64,
                  data: WorkerReportIn) -> Any:
    """A community worker's report for the person, after a visit or a call."""
    return service.report_by_worker(session, actor=actor, period_id=period_id, data=data)


@router.post("/periods/{period_id}/link", response_model=LinkRead, status_code=201,
             dependencies=[needs(Perm.person_write)])
def issue_link(session: DbSession, actor: CurrentActor, period_id: Int64) -> Any:
    """The person's link (a signed token that expires with the period)."""
    return service.issue_link(session, actor=actor, period_id=period_id)


@link_router.get("/{token}", response_model=LinkForm)
def link_form(request: Request, session: DbSession, token: Token) -> Any:
    """What the link asks (days and questions; nothing about the person). Needs no sign-in:
    the token is the key."""
    return service.link_form(session, token=token, lang=request_lang(request))


@link_router.post("/{token}/reports", response_model=ReportRead, status_code=201)
def link_report(session: DbSession, token: Token, data: ReportIn) -> Any:
    """The person's own report of a day, once."""
    return service.report_by_link(session, token=token, data=data)
