"""The application factory: the domains' API routers under /api/v1 and their pages (as
:mod:`fangkong.registry` lists them), one error shape, the loop of scheduled jobs."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager, nullcontext
from datetime import date
from zoneinfo import ZoneInfo

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import Engine
from starlette.types import ASGIApp
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from fangkong import __version__, registry
from fangkong.core import writebehind
from fangkong.core.admission import AdmissionLimit, Scope
from fangkong.core.auth import system_actor
from fangkong.core.clock import utc_now
from fangkong.core.config import Settings, get_settings
from fangkong.core.db import get_engine, session_scope
from fangkong.core.gcsettle import SettleCollector
from fangkong.core.headers import SecurityHeaders, with_nonce
from fangkong.core.http import declare_error_responses, install_error_handlers, request_lang
from fangkong.user.service import actor_from_token

log = logging.getLogger("fangkong")


def escalation_loop(engine: Engine, interval_s: float, stop: threading.Event) -> None:
    """The scheduled jobs the domains declare (:func:`fangkong.registry.jobs`: overdue tasks
    escalate, the risk areas are evaluated once a local day, the morning briefs are written
    from ``brief_hour``, the audit chain's head is anchored outside the database when it
    moved), at once and then every ``interval_s`` seconds until ``stop`` is set (a restarted
    server shows the command its overdue tasks escalated straight away, not one interval
    later). Each job runs as the scheduler, in a transaction of its own; one that fails is
    logged and tried again at the next tick, the others run."""
    jobs = [(job, registry.resolve(job.target)) for job in registry.jobs()]
    done_on: dict[str, date] = {}
    actor = system_actor("scheduler")
    while not stop.is_set():
        today = local_today()
        for job, run in jobs:
            if job.daily and done_on.get(job.name) == today:
                continue
            try:
                with session_scope(engine) as session:
                    result = run(session, actor)
            except Exception:  # keep the loop alive; the next tick retries
                log.exception("scheduled job failed: %s", job.name)
                continue
            if job.daily and result is not False:
                done_on[job.name] = today
        stop.wait(interval_s)


@contextmanager
def scheduler_thread(settings: Settings, engine: Engine | None = None) -> Iterator[None]:
    """The scheduled jobs (:func:`escalation_loop`) in a thread for the block's duration."""
    stop = threading.Event()
    if settings.escalation_interval_seconds > 0:
        threading.Thread(target=escalation_loop, daemon=True, name="escalation",
                         args=(engine or get_engine(settings),
                               settings.escalation_interval_seconds, stop)).start()
    try:
        yield
    finally:
        stop.set()


def worker_app() -> FastAPI:
    """The application of one of several server processes (``fangkong serve --workers N``):
    without the scheduled jobs, which the parent process runs once for all."""
    return create_app(get_settings(), scheduler=False, settle_gc=True)


def local_today() -> date:
    """Today in the deployment's time zone (``FANGKONG_TIMEZONE``): a daily job's day."""
    return utc_now().astimezone(ZoneInfo(get_settings().timezone)).date()


def create_app(settings: Settings | None = None, *, engine: Engine | None = None,
               scheduler: bool = False, settle_gc: bool = False) -> FastAPI:
    """The application. ``settle_gc``: a server process's (``fangkong serve``), whose long-lived
    objects are frozen out of the garbage collector's passes after its first requests
    (:mod:`fangkong.core.gcsettle`); off for the many short-lived apps of tests and tools."""
    settings = settings or get_settings()
    engine = engine or get_engine(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        with scheduler_thread(settings, engine) if scheduler else nullcontext():
            yield
        writebehind.close(engine)  # the audit entries of reads still being written

    app = App(title="Fangkong 防控", version=__version__, lifespan=lifespan,
              description="Epidemic prevention-and-control command platform API.",
              docs_url=None, redoc_url=None)  # served below, their scripts with the nonce
    app.state.settings, app.state.engine = settings, engine
    app.state.settle_gc = settle_gc
    app.state.actor_of = actor_from_token  # who a token's actor is (fangkong.deps.get_actor)
    registry.install()  # the domains' event listeners and session listeners
    api = APIRouter(prefix="/api/v1")
    for router in registry.routers():
        api.include_router(registry.resolve(router))
    app.include_router(api)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    install_docs(app)
    install_error_handlers(app)
    declare_error_responses(app)
    for mount in registry.mounts():  # the pages (after the API's handlers: HTML errors off /api/)
        registry.resolve(mount)(app)
    signing_in = (settings.login_concurrency or os.cpu_count() or 1,
                  settings.login_queue_seconds)
    app.add_middleware(AdmissionLimit, limit=settings.db_pool_size,
                       wait_s=settings.request_queue_seconds, message=busy_message,
                       lanes={("POST", path): signing_in for path in SIGN_IN_PATHS})
    return app


SIGN_IN_PATHS = ("/api/v1/auth/token", "/login")
"""The requests that check a password (argon2): admitted in a lane of their own."""

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
        if proxies:
            app = ProxyHeadersMiddleware(app, trusted_hosts=list(proxies))  # type: ignore[arg-type,assignment]
        if self.state.settle_gc:  # the collector's full passes off the requests' clock
            app = SettleCollector(app)
        return app


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
