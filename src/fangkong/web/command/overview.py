"""The overview, ``/``: the command screen a commander reads in ten seconds on a wall
(1920×1080 without scrolling) and on a phone (one column)."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from fangkong.core.auth import Perm
from fangkong.deps import AppSettings, DbSession
from fangkong.web import sections
from fangkong.web.auth import CurrentViewer
from fangkong.web.command import wall
from fangkong.web.command.common import page, router
from fangkong.web.pages import _context, nav_for

# Each section's page of details (the wall shows its first figures and links there).
DETAILS = {"map": "/cases?division={j}", "trend": "/surveillance?j={j}",
           "rt": "/surveillance?j={j}", "alerts": "/surveillance?j={j}",
           "testing": "/testing?j={j}", "isolation": "/isolation?j={j}",
           "clocks": "/isolation?j={j}", "zones": "/zones?j={j}",
           "contacts": "/cases?division={j}"}
# Sections the wall's headline figures stand for (their figures are the headlines').
HEADLINED = {"today", "tasks"}


@router.get("/")
def overview(request: Request, viewer: CurrentViewer, session: DbSession,
             settings: AppSettings, j: str | None = None) -> Response:
    if not viewer.actor.can(Perm.case_read):  # the home of a role that reads no cases
        paths = [path for _, path in nav_for(viewer)]
        if paths:
            home = "/community" if "/community" in paths else paths[0]
            return RedirectResponse(home, status_code=303)
    ctx = _context(request, viewer, session, settings, j)
    shown = sections.run("overview", ctx)
    by_key = {s.key: s for s in shown}
    mapped = by_key.get("map")
    if mapped is not None and mapped.chart:  # each region's zones in force, on its label
        data = mapped.chart["data"]
        counts = wall.zones_by_region(ctx, [d["name"] for d in data])
        for d in data:
            d["zones"] = counts.get(d["name"], 0)
    today, tasks = by_key.get("today"), by_key.get("tasks")
    extra = {f.key: f for s in (today, tasks) if s is not None for f in s.figures}
    minis = [s for s in shown if s.key not in HEADLINED | {"map", "trend", "rt"}]
    return page(request, viewer, "overview.html", nav="overview", root=ctx.root, day=ctx.day,
                now=ctx.now, by_key=by_key, minis=minis, details=DETAILS, extra=extra,
                headlines=wall.headlines(ctx, by_key), overdue=wall.overdue_summary(ctx),
                tiles=wall.town_tiles(ctx))
