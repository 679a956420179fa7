"""The risk zones page, ``/zones``: the zones in force in the viewer's jurisdiction, their next
step under the pack's clock, breaches of the nine prohibitions, the changes since yesterday,
and the proposals the daily evaluation made, which a commander approves (the change applies)
or rejects in the page: the zone service the API's ``POST /zones/proposals/{id}/approve`` and
``/reject`` call. A proposal decided meanwhile (by another commander, or by the evaluation) is
refused with the service's message, not decided twice."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from fangkong.core.auth import Perm
from fangkong.core.errors import AppError
from fangkong.deps import AppSettings, DbSession
from fangkong.web.auth import CurrentViewer, Viewer
from fangkong.web.command.common import page, router
from fangkong.web.command.messages import C
from fangkong.web.pages import _context
from fangkong.web.zones import board, level_label
from fangkong.zone import service as zones

PAGE_SIZE = 50  # zones a page


def zones_view(request: Request, viewer: Viewer, session: DbSession, settings: AppSettings,
               j: str | None, level: str | None, *, done: str | None = None,
               error: str | None = None, status: int = 200, page_no: int = 1
               ) -> HTMLResponse:
    ctx = _context(request, viewer, session, settings, j)
    data = board(ctx, level)
    levels = sorted(set(data["levels"]) | ({level} if level else set()))
    total = len(data["rows"])
    pages = max(1, -(-total // PAGE_SIZE))
    page_no = min(max(1, page_no), pages)
    shown = data["rows"][(page_no - 1) * PAGE_SIZE:page_no * PAGE_SIZE]
    return page(request, viewer, "zones.html", nav="zones", status=status, root=ctx.root,
                data=data, shown=shown, total=total, page_no=page_no, pages=pages,
                level=level, levels=levels,
                level_label=lambda v: level_label(v, viewer.lang),
                can_decide=viewer.actor.can(Perm.zone_approve), done=done, error=error)


@router.get("/zones")
def zones_page(request: Request, viewer: CurrentViewer, session: DbSession,
               settings: AppSettings, j: str | None = None, level: str | None = None,
               page: int = 1) -> HTMLResponse:
    return zones_view(request, viewer, session, settings, j, level, page_no=page)


@router.post("/zones/proposals/{proposal_id}/{decision}")
async def decide(request: Request, viewer: CurrentViewer, session: DbSession,
                 settings: AppSettings, proposal_id: int, decision: str) -> Response:
    """``approve`` or ``reject`` a proposed change of a zone (commanders and administrators)."""
    viewer.actor.require(Perm.zone_approve)  # the role first: 403 before any look-up
    raw = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    j = raw.get("j") or None
    lang = viewer.lang
    if decision not in ("approve", "reject"):
        return zones_view(request, viewer, session, settings, j, None, status=422,
                          error=C("zones.decide").render(lang))
    try:
        with session.begin_nested():
            zones.decide(session, actor=viewer.actor, proposal_id=proposal_id,
                         approve=decision == "approve")
    except AppError as exc:
        if exc.status_code == 404:
            raise
        return zones_view(request, viewer, session, settings, j, None, status=exc.status_code,
                          error=exc.render(lang))
    what = C("zones.approved" if decision == "approve" else "zones.rejected").render(lang)
    return zones_view(request, viewer, session, settings, j, None,
                      done=C("zones.decided", id=proposal_id, what=what).render(lang))
