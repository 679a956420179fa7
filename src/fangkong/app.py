"""The application factory: API routers under /api/v1, one error shape, the escalation loop."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import Engine
from starlette.types import ASGIApp
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from fangkong import __version__
from fangkong.case.api import router as case_router
from fangkong.config import Settings, get_settings
from fangkong.core import audit
from fangkong.core.admission import AdmissionLimit, Scope
from fangkong.core.auth import system_actor
from fangkong.core.db import get_engine, session_scope
from fangkong.core.headers import SecurityHeaders, with_nonce
from fangkong.core.http import declare_error_responses, install_error_handlers, request_lang
from fangkong.geo.api import router as geo_router
from fangkong.isolation.api import router as isolation_router
from fangkong.person.api import router as person_router
from fangkong.person.stays_api import router as stays_router
from fangkong.policy.api import router as policy_router
from fangkong.surveillance.api import router as surveillance_router
from fangkong.task import service as tasks
from fangkong.task.api import router as task_router
from fangkong.testing.api import router as testing_router
from fangkong.tracing.api import router as tracing_router
from fangkong.user.api import router as user_router
from fangkong.web.pages import install as install_web
from fangkong.zone import service as zones
from fangkong.zone.api import checks_router as zone_checks_router
from fangkong.zone.api import public_router as zone_public_router
from fangkong.zone.api import router as zone_router

log = logging.getLogger("fangkong")


def escalation_loop(engine: Engine, interval_s: float, stop: threading.Event) -> None:
    """The scheduled checks, at once and then every ``interval_s`` seconds until ``stop`` is
    set (a restarted server shows the command its overdue tasks escalated straight away, not
    one interval later): overdue tasks escalate; once a day (on the first tick of each local
    day) the risk areas are evaluated under their packs' lifting rules; every morning (from
    ``brief_hour``) the daily briefs of the jurisdictions in ``brief_jurisdictions`` are
    written; the audit chain's head is anchored outside the database when it moved."""
    evaluated_on = briefed_on = None
    while not stop.is_set():
        try:
            with session_scope(engine) as session:
                report = tasks.escalate_overdue(session, actor=system_actor("scheduler"))
            if report.escalated:
                log.info("escalated %d overdue task(s)", report.escalated)
            if evaluated_on != zones.today():
                with session_scope(engine) as session:
                    rows = zones.evaluate(session, actor=system_actor("scheduler"))
                evaluated_on = zones.today()
                log.info("risk areas evaluated: %d due", sum(1 for r in rows if r.due))
            if briefed_on != zones.today() and morning_briefs(engine):
                briefed_on = zones.today()
            with session_scope(engine) as session:
                audit.write_anchor(session, audit.anchor_file())
        except Exception:  # keep the loop alive; the next run retries
            log.exception("scheduled check failed")
        stop.wait(interval_s)


def morning_briefs(engine: Engine) -> bool:
    """Write today's briefs once the local hour has reached ``brief_hour``; False before."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from fangkong.brief import render
    from fangkong.brief import service as brief
    from fangkong.core.clock import utc_now

    settings = get_settings()
    now = utc_now().astimezone(ZoneInfo(settings.timezone))
    if not settings.brief_jurisdictions or now.hour < settings.brief_hour:
        return False
    day = datetime.date(now)
    with session_scope(engine) as session:
        for code in settings.brief_jurisdictions:
            files = brief.write(session, actor=system_actor("scheduler"), jurisdiction=code,
                                day=day, out=settings.data_dir / "briefs" / day.isoformat(),
                                formats=list(render.FORMATS), lang="zh-Hans",
                                zone=settings.timezone)
            log.info("brief of %s for %s: %s", code, day, ", ".join(f.name for f in files))
    return True


def create_app(settings: Settings | None = None, *, engine: Engine | None = None,
               scheduler: bool = False) -> FastAPI:
    settings = settings or get_settings()
    engine = engine or get_engine(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        stop = threading.Event()
        if scheduler and settings.escalation_interval_seconds > 0:
            threading.Thread(target=escalation_loop, daemon=True, name="escalation",
                             args=(engine, settings.escalation_interval_seconds, stop)).start()
        yield
        stop.set()

    app = App(title="Fangkong 防控", version=__version__, lifespan=lifespan,
              description="Epidemic prevention-and-control command platform API.",
              docs_url=None, redoc_url=None)  # served below, their scripts with the nonce
    app.state.settings, app.state.engine = settings, engine
    api = APIRouter(prefix="/api/v1")
    for router in (user_router, geo_router, person_router, case_router, task_router,
                   policy_router, zone_router, zone_checks_router, zone_public_router,
                   isolation_router, surveillance_router, tracing_router, testing_router,
                   stays_router):
        api.include_router(router)
    app.include_router(api)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    install_docs(app)
    install_error_handlers(app)
    declare_error_responses(app)
    install_web(app)  # the pages (after the API's handlers: HTML errors off /api/)
    app.add_middleware(AdmissionLimit, limit=settings.db_pool_size,
                       wait_s=settings.request_queue_seconds, message=busy_message)
    return app


_BUSY = {"zh-Hans": "服务器繁忙，请稍后再试", "zh-Hant": "伺服器繁忙，請稍後再試",
         "en": "the server is busy; try again shortly"}


def busy_message(scope: Scope) -> str:
    """The 503 of admission control, in the language the client asks for (as every other
    API message: :func:`fangkong.core.http.request_lang`)."""
    return _BUSY[request_lang(Request(scope))]
class App(FastAPI):
    """The application, its security headers outside every other layer (Starlette's error
    middleware included: a 500 carries them too), and outside those the trusted proxy's
    X-Forwarded-Proto and -For (read only when ``trusted_proxies`` names the proxy), so that
    the headers know whether the request came over HTTPS."""

    def build_middleware_stack(self) -> ASGIApp:
        app: ASGIApp = SecurityHeaders(super().build_middleware_stack(), docs_paths=DOCS_PATHS)
        proxies = self.state.settings.trusted_proxies
        if not proxies:
            return app
        return ProxyHeadersMiddleware(app, trusted_hosts=list(proxies))  # type: ignore[arg-type,return-value]


DOCS_PATHS = ("/docs", "/docs/oauth2-redirect", "/redoc")


def install_docs(app: FastAPI) -> None:
    """The API's documentation pages, as FastAPI serves them, under the documentation CSP."""
    from fastapi.openapi.docs import (
        get_redoc_html,
        get_swagger_ui_html,
        get_swagger_ui_oauth2_redirect_html,
    )

    docs, redirect, redoc = DOCS_PATHS
    openapi = app.openapi_url or "/openapi.json"

    @app.get(docs, include_in_schema=False)
    def swagger_ui(request: Request) -> HTMLResponse:
        return with_nonce(request, get_swagger_ui_html(
            openapi_url=openapi, title=f"{app.title} - Swagger UI", oauth2_redirect_url=redirect))

    @app.get(redirect, include_in_schema=False)
    def swagger_ui_redirect(request: Request) -> HTMLResponse:
        return with_nonce(request, get_swagger_ui_oauth2_redirect_html())

    @app.get(redoc, include_in_schema=False)
    def redoc_ui() -> HTMLResponse:
        return get_redoc_html(openapi_url=openapi, title=f"{app.title} - ReDoc")
