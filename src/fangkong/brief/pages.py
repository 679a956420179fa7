"""The brief's pages: ``/brief`` (the brief of a jurisdiction and day, as the dashboard shows
it) and ``/brief/download`` (as a file). The brief is a view over the web layer (its sections,
its templates, its sign-in): it imports the web pages' helpers, and the web pages do not
import the brief; :data:`fangkong.brief.CONTRIBUTES` mounts these on the app."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, Response

from fangkong.brief import render as brief_render
from fangkong.brief import service as brief
from fangkong.brief.messages import B
from fangkong.core.errors import Invalid
from fangkong.core.messages import joined
from fangkong.deps import AppSettings, DbSession
from fangkong.web.auth import CurrentViewer
from fangkong.web.pages import _context, render

router = APIRouter(include_in_schema=False)


@router.get("/brief")
def brief_page(request: Request, viewer: CurrentViewer, session: DbSession,
               settings: AppSettings, j: str | None = None, day: date | None = None
               ) -> HTMLResponse:
    ctx = _context(request, viewer, session, settings, j, day)
    doc = brief.build(ctx)
    query = urlencode({"j": ctx.root.code, "day": ctx.day.isoformat()})
    return render(request, viewer, "brief_page.html", lang=viewer.lang, zone=settings.timezone,
                  nav="brief", doc=doc, root=ctx.root, day=ctx.day, query=query)


@router.get("/brief/download")
def brief_download(request: Request, viewer: CurrentViewer, session: DbSession,
                   settings: AppSettings, format: str = "pdf", j: str | None = None,
                   day: date | None = None) -> Response:
    if format not in brief_render.FORMATS:
        raise Invalid(B("format", format=format, formats=joined(brief_render.FORMATS)))
    ctx = _context(request, viewer, session, settings, j, day)
    doc = brief.build(ctx)
    body, media = brief_render.render(doc, format)
    name = brief.filename(doc, format)
    return Response(body, media_type=media,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def install(app: FastAPI) -> None:
    app.include_router(router)
