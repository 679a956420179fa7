"""The web pages: sign-in, overview, cases, a case, the task board, and plain "not available
yet" pages for the capabilities other domains will bring (the daily brief's pages are the
brief's own: :mod:`fangkong.brief.pages`)."""

from __future__ import annotations

import contextlib
import math
from datetime import date
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Form, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from fangkong.case import service as cases
from fangkong.case.enums import Classification, DetectionMode
from fangkong.core.auth import Perm
from fangkong.core.clock import utc_now
from fangkong.core.errors import AppError, Forbidden, Invalid, TooManyAttempts, Unauthenticated
from fangkong.core.http import error_response
from fangkong.deps import AppSettings, DbSession, Transactions, client_address
from fangkong.user import service as users
from fangkong.user.passwords import PasswordRejected
from fangkong.web import casepage, csrf, i18n, sections
from fangkong.web import service as queries
from fangkong.web.auth import (
    COOKIE,
    LANG_COOKIE,
    CurrentViewer,
    LoginRequired,
    Viewer,
    ViewerOutside,
    web_source,
)
from fangkong.web.auth import save_preference as store_preference
from fangkong.web.helpers import helpers
from fangkong.web.messages import WEB

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.globals.update(csrf_field=csrf.csrf_field, csrf_token=csrf.csrf_token)
router = APIRouter(include_in_schema=False)

UNAVAILABLE_PAGES: dict[str, str] = {}
# Pages that show a domain's sections of the registry in full (tables included).
SECTION_PAGES = {"isolation": ("nav.isolation", ("isolation", "clocks")),
                 "surveillance": ("nav.surveillance", ("alerts", "rt", "trend")),
                 "testing": ("nav.testing", ("testing",))}


# The navigation: each page with the permission its reading needs; a user is shown only the
# pages their role can open (a community worker has no case:read: no overview, no cases).
NAV: tuple[tuple[str, str, Perm], ...] = (
    ("overview", "/", Perm.case_read), ("cases", "/cases", Perm.case_read),
    ("tasks", "/tasks", Perm.task_read), ("zones", "/zones", Perm.case_read),
    ("testing", "/testing", Perm.person_read), ("isolation", "/isolation", Perm.isolation_read),
    ("surveillance", "/surveillance", Perm.case_read), ("brief", "/brief", Perm.case_read),
    ("report", "/report", Perm.case_write), ("community", "/community", Perm.task_write),
    ("search", "/search", Perm.person_read),
    ("testing_desk", "/testing/desk", Perm.testing_write),
    ("isolation_desk", "/isolation/desk", Perm.isolation_write), ("users", "/users", Perm.user_add))


def nav_for(viewer: Viewer | None) -> list[tuple[str, str]]:
    """The (key, path) of the pages this viewer's role may open, in the navigation's order."""
    if viewer is None:
        return []
    return [(key, path) for key, path, perm in NAV if viewer.actor.can(perm)]


def render(request: Request, viewer: Viewer | None, name: str, *, lang: str, zone: str,
           status: int = 200, **context: Any) -> HTMLResponse:
    ctx = {**helpers(lang, zone), "viewer": viewer, "request": request,
           "nav_items": nav_for(viewer), **context}
    return templates.TemplateResponse(request, name, ctx, status_code=status)


def _safe_next(target: str | None) -> str:
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


def _context(request: Request, viewer: Viewer, session: Any, settings: Any, j: str | None,
             day: date | None = None, **extra: Any) -> sections.Context:
    root = queries.jurisdiction_of(session, viewer.actor, j)
    return sections.Context(session=session, actor=viewer.actor, root=root,
                            day=day or queries.local_today(settings.timezone),
                            zone=settings.timezone, lang=viewer.lang, now=utc_now(), **extra)


# ---------------------------------------------------------------------------- sign-in


@router.get("/login")
def login_page(request: Request, settings: AppSettings, next: str | None = None,
               lang: str | None = None) -> HTMLResponse:
    chosen = i18n.lang_or_default(lang or request.cookies.get(LANG_COOKIE))
    resp = render(request, None, "login.html", lang=chosen, zone=settings.timezone,
                  next=_safe_next(next), error=None)
    if lang:
        resp.set_cookie(LANG_COOKIE, chosen, samesite="lax", httponly=True)
    return resp


@router.post("/login")
def login(request: Request, transaction: Transactions, settings: AppSettings,
          username: Annotated[str, Form()], password: Annotated[str, Form()],
          next: Annotated[str, Form()] = "/") -> Response:
    lang = i18n.lang_or_default(request.cookies.get(LANG_COOKIE))
    try:
        token = users.sign_in(transaction, settings, username, password, kind="web",
                              address=client_address(request), source=web_source(request))
    except TooManyAttempts as exc:
        message = password_error(exc, lang, settings.password_min_length)
        resp: Response = render(request, None, "login.html", lang=lang, zone=settings.timezone,
                                next=_safe_next(next), error=message, status=429)
        resp.headers["Retry-After"] = str(exc.retry_after)
        return resp
    except AppError:
        return render(request, None, "login.html", lang=lang, zone=settings.timezone,
                      next=_safe_next(next), error=i18n.translate("login.failed", lang),
                      status=401)
    resp = RedirectResponse(_safe_next(next), status_code=303)
    resp.set_cookie(COOKIE, token, httponly=True, samesite="lax",
                    max_age=settings.token_ttl_minutes * 60)
    return resp


@router.post("/logout")
def logout(request: Request, session: DbSession, settings: AppSettings) -> Response:
    """Sign out: the cookie's session ends on the server (a copy of the cookie is refused)."""
    token = request.cookies.get(COOKIE)
    if token:
        with contextlib.suppress(AppError):  # already ended or never valid: nothing to end
            users.sign_out(session, settings, token, kind="web", source=web_source(request))
    resp = RedirectResponse("/login", status_code=303)
    resp.delete_cookie(COOKIE)
    return resp


@router.get("/password")
def password_page(request: Request, viewer: CurrentViewer, settings: AppSettings
                  ) -> HTMLResponse:
    return render(request, viewer, "password.html", lang=viewer.lang, zone=settings.timezone,
                  error=None, done=False, min_length=settings.password_min_length)


def password_error(exc: AppError, lang: str, min_length: int) -> str:
    """What the password page says for an error of a password change, in ``lang``."""
    if isinstance(exc, PasswordRejected):
        return i18n.translate(f"password.rule.{exc.rule}", lang).format(min=min_length)
    if isinstance(exc, TooManyAttempts):
        return i18n.translate("login.locked", lang).format(minutes=math.ceil(exc.retry_after / 60))
    if isinstance(exc, Unauthenticated):
        return i18n.translate("password.wrong_old", lang)
    return exc.render(lang)


@router.post("/password")
def change_password(request: Request, transaction: Transactions, settings: AppSettings,
                    viewer: ViewerOutside, old_password: Annotated[str, Form()],
                    new_password: Annotated[str, Form()]) -> Response:
    """Change one's own password: every session of the user ends, this page's cookie is
    replaced by a new one."""
    try:
        token = users.change_own_password(transaction, settings, actor=viewer.actor,
                                          old=old_password, new=new_password, kind="web",
                                          address=client_address(request))
    except AppError as exc:
        resp: Response = render(
            request, viewer, "password.html", lang=viewer.lang, zone=settings.timezone,
            error=password_error(exc, viewer.lang, settings.password_min_length), done=False,
            min_length=settings.password_min_length, status=exc.status_code)
        if isinstance(exc, TooManyAttempts):
            resp.headers["Retry-After"] = str(exc.retry_after)
        return resp
    resp = render(request, viewer, "password.html", lang=viewer.lang, zone=settings.timezone,
                  error=None, done=True, min_length=settings.password_min_length)
    resp.set_cookie(COOKIE, token, httponly=True, samesite="lax",
                    max_age=settings.token_ttl_minutes * 60)
    return resp


@router.post("/prefs")
def save_preferences(viewer: CurrentViewer, session: DbSession,
                     lang: Annotated[str, Form()], next: Annotated[str, Form()] = "/",
                     large_text: Annotated[str | None, Form()] = None) -> Response:
    if lang not in i18n.LANGS:
        raise Invalid(WEB("unknown_language", lang=lang))
    assert viewer.actor.user_id is not None
    store_preference(session, viewer.actor.user_id, lang=lang, large_text=bool(large_text))
    resp = RedirectResponse(_safe_next(next), status_code=303)
    resp.set_cookie(LANG_COOKIE, lang, samesite="lax", httponly=True)
    return resp


# ------------------------------------------------------------------------------- pages


# The overview ("/", the command screen) is :mod:`fangkong.web.command.overview`'s.


@router.get("/map/{code}.geojson")
def map_geojson(viewer: CurrentViewer, session: DbSession, code: str) -> JSONResponse:
    root = queries.jurisdiction_of(session, viewer.actor, code)
    codes = [c for c, _ in queries.child_regions(session, root.code)]
    return JSONResponse(queries.geojson(session, codes),
                        headers={"Cache-Control": "private, max-age=3600"})


@router.get("/cases")
def case_list(request: Request, viewer: CurrentViewer, session: DbSession,
              settings: AppSettings, before: Annotated[int | None, Query()] = None,
              after: Annotated[str | None, Query(max_length=400)] = None) -> HTMLResponse:
    params = dict(request.query_params)
    flt = queries.CaseFilter.parse(params)
    order = queries.CaseSort.parse(params)
    if flt.division and not viewer.actor.covers(flt.division):
        # Narrowing to a division outside the jurisdiction would simply show nothing; say so.
        raise Invalid(WEB("outside", code=flt.division))
    rows, nxt = queries.list_cases(session, viewer.actor, flt, settings.timezone,
                                   before_id=before, sort=order, after=after)
    total = queries.count_cases(session, viewer.actor, flt, settings.timezone)
    more = f"/cases?{flt.query(**order.params(), after=nxt)}" if nxt else None
    root = queries.jurisdiction_of(session, viewer.actor, None)
    places = [(c, n) for c, n in root.choices] + [
        (c, n) for g, _ in root.choices for c, n in queries.children(session, g)]
    if flt.division and flt.division not in {c for c, _ in places}:
        places.append((flt.division, queries.division_name(session, flt.division)))
    tmpl = "cases_rows.html" if request.headers.get("HX-Request") else "cases.html"
    return render(request, viewer, tmpl, lang=viewer.lang, zone=settings.timezone,
                  nav="cases", flt=flt, rows=rows, total=total, more=more, places=places,
                  order=order, sorted_by=_sorted_by(flt, order),
                  classifications=list(Classification), modes=list(DetectionMode))


def _sorted_by(flt: Any, order: Any) -> dict[str, dict[str, str]]:
    """Each sortable column's link (the filters kept; the other direction when it is the
    order now, else descending) and its ``aria-sort`` value."""
    out = {}
    for key in ("ref", "classification", "reported", "division"):
        now = order.key == key
        way = ("asc" if order.descending else "desc") if now else "desc"
        out[key] = {"href": "/cases?" + flt.query(sort=key, dir=way),
                    "aria": ("descending" if order.descending else "ascending") if now
                    else "none"}
    return out


@router.get("/cases/{case_id}")
def case_page(request: Request, viewer: CurrentViewer, session: DbSession,
              settings: AppSettings, case_id: int) -> HTMLResponse:
    case = cases.get(session, actor=viewer.actor, case_id=case_id)
    person = queries.person_summary(session, viewer.actor, case.person_id)
    zone = settings.timezone
    events = queries.timeline(case, zone)
    names = {c: queries.division_name(session, c) for c in
             {case.owning_division_code, case.current_division_code}}
    chain = casepage.chain_view(session, viewer.actor, case.id, viewer.lang)
    moves = casepage.transfer_steps(session, viewer.actor, case.person_id, viewer.lang)
    return render(request, viewer, "case.html", lang=viewer.lang, zone=zone, nav="cases",
                  case=case, person=person, events=events, names=names, chain=chain,
                  transfers=moves)


# The task board ("/tasks") is :mod:`fangkong.web.command.tasks`'s.


# The zones page ("/zones", with the decisions on proposals) is
# :mod:`fangkong.web.command.zones`'s.


def _sections_page(nav: str, title_key: str, keys: tuple[str, ...]) -> Any:
    def page(request: Request, viewer: CurrentViewer, session: DbSession,
             settings: AppSettings, j: str | None = None) -> HTMLResponse:
        ctx = _context(request, viewer, session, settings, j)
        return render(request, viewer, "sections_page.html", lang=viewer.lang,
                      zone=settings.timezone, nav=nav, title_key=title_key, root=ctx.root,
                      now=ctx.now, sections=sections.run_keys(keys, ctx))
    return page


for _nav, (_title, _keys) in SECTION_PAGES.items():
    router.add_api_route(f"/{_nav}", _sections_page(_nav, _title, _keys), methods=["GET"])


def _unavailable(key: str) -> Any:
    def page(request: Request, viewer: CurrentViewer, settings: AppSettings) -> HTMLResponse:
        return render(request, viewer, "unavailable.html", lang=viewer.lang,
                      zone=settings.timezone, nav=key, title_key=UNAVAILABLE_PAGES[key])
    return page


for _key in UNAVAILABLE_PAGES:
    router.add_api_route(f"/{_key}", _unavailable(_key), methods=["GET"])


# ------------------------------------------------------------------------------ wiring


def install(app: FastAPI) -> None:
    """Mount the pages, their static files, HTML answers for errors on page routes, and the
    CSRF check of every state-changing request to them."""
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    settings = app.state.settings

    async def csrf_refused(request: Request) -> Response:
        lang = i18n.lang_or_default(request.cookies.get(LANG_COOKIE))
        return render(request, None, "error.html", lang=lang, zone=settings.timezone,
                      status=403, error=Forbidden(i18n.translate("csrf.refused", lang)))

    csrf.install(app, settings, csrf_refused)

    @app.exception_handler(LoginRequired)
    async def login_required(_: Request, exc: LoginRequired) -> Response:
        return RedirectResponse(exc.location, status_code=303)

    @app.exception_handler(AppError)
    async def app_error(request: Request, exc: AppError) -> Response:
        if request.url.path.startswith("/api/"):
            return error_response(request, exc)
        lang = i18n.lang_or_default(request.cookies.get(LANG_COOKIE))
        return render(request, None, "error.html", lang=lang,
                      zone=request.app.state.settings.timezone, status=exc.status_code,
                      error=exc)
