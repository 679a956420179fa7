"""``/api/v1/monitoring``: periods, worker reports, links, who is due, the missed-day check;
``/api/v1/monitoring/link/{token}``: the personal link (public, its token the only key)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape

from fangkong.core.auth import Perm
from fangkong.core.division import DivisionCode
from fangkong.core.errors import AppError
from fangkong.core.headers import csp_nonce
from fangkong.core.http import error_responses, request_lang
from fangkong.core.messages import render
from fangkong.core.params import Int64
from fangkong.deps import CurrentActor, DbSession, needs
from fangkong.monitoring import service
from fangkong.monitoring.enums import PeriodStatus
from fangkong.monitoring.messages import M
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


@link_router.get("/{token}", response_model=LinkForm, responses=error_responses(401))
def link_form(request: Request, session: DbSession, token: Token) -> Any:
    """What the link asks (days and questions; nothing about the person). Needs no sign-in:
    the token is the key."""
    return service.link_form(session, token=token, lang=request_lang(request))


@link_router.post("/{token}/reports", response_model=ReportRead, status_code=201,
                  responses=error_responses(401, 409))
def link_report(session: DbSession, token: Token, data: ReportIn) -> Any:
    """The person's own report of a day, once."""
    return service.report_by_link(session, token=token, data=data)


# --- the personal link's page: a phone's browser, large text, no script ----------------------

LANGUAGES = (("zh-Hans", "简体中文"), ("zh-Hant", "繁體中文"), ("en", "English"))
Lang = Annotated[str | None, Query(pattern="^(zh-Hans|zh-Hant|en)$")]
_templates = Environment(loader=PackageLoader("fangkong.monitoring", "templates"),
                         autoescape=select_autoescape(["html"]))


def _page(request: Request, session: DbSession, token: str, lang: str, *,
          error: str | None = None, done: str | None = None, status: int = 200) -> Response:
    form = days = None
    try:
        form = service.link_form(session, token=token, lang=lang)
    except AppError as exc:
        error, status = str(render(exc.text, lang)), exc.status_code
    hour = 20
    if form is not None:
        hour = form.deadline_hour
        days = [d for d in (form.today, form.today - timedelta(days=1))
                if form.start <= d <= form.end and d not in form.reported_days]
    html = _templates.get_template("link.html").render(
        lang=lang, languages=LANGUAGES, nonce=csp_nonce(request), form=form, days=days,
        reported=[d.isoformat() for d in form.reported_days] if form else [], hour=hour,
        error=error, done=done, t=lambda key, **kw: render(M(key, **kw), lang))
    return HTMLResponse(html, status_code=status)


# a page, not an operation of the API: left out of its OpenAPI
@link_router.get("/{token}/page", response_class=HTMLResponse, include_in_schema=False)
def link_page(request: Request, session: DbSession, token: Token, lang: Lang = None,
              done: date | None = None) -> Response:
    """The person's report form (simplified or traditional Chinese or English; the browser's
    language by default). Needs no sign-in: the token is the key."""
    return _page(request, session, token, lang or request_lang(request),
                 done=done.isoformat() if done else None)


@link_router.post("/{token}/page", response_class=HTMLResponse, include_in_schema=False)
def link_page_report(
        request: Request, session: DbSession, token: Token,
        day: Annotated[date, Form()], temperature: Annotated[float | None, Form()] = None,
        symptoms: Annotated[list[str] | None, Form()] = None,
        tested: Annotated[str | None, Form(pattern="^(yes|no)$")] = None,
        lang: Lang = None) -> Response:
    """The form sent: the report recorded, then the page again (its day acknowledged)."""
    chosen = lang or request_lang(request)
    try:
        service.report_by_link(session, token=token, data=ReportIn(
            day=day, temperature=temperature, symptoms=symptoms or [],
            tested=None if tested is None else tested == "yes"))
    except AppError as exc:
        return _page(request, session, token, chosen, error=str(render(exc.text, chosen)),
                     status=exc.status_code)
    return RedirectResponse(f"{request.url.path}?lang={chosen}&done={day.isoformat()}",
                            status_code=303)
