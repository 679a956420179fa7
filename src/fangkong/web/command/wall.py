"""The command screen (指挥大屏): the handful of figures that decide the day, each with its
change since yesterday and the link to its records; the overdue work grouped by unit and task
type, worst first; and, below a county (where no town boundaries ship), its towns as a labelled
schematic grid of cases and risk zones. The overview's other sections come from the registry
(:mod:`fangkong.web.sections`); this module only adds what the wall needs beside them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fangkong.core.auth import Perm
from fangkong.task import figures as task_figures
from fangkong.tracing import service as tracing
from fangkong.web import service as q
from fangkong.web.command.messages import C
from fangkong.web.sections import Context, Section
from fangkong.zone import rules
from fangkong.zone import service as zones

# The levels of the packs, worst first (a town's border shows its worst zone).
LEVEL_RANK = {"high": 3, "sealed": 3, "medium": 2, "controlled": 2, "low": 1, "precaution": 1}


@dataclass
class Headline:
    """One figure of the wall: today's value, yesterday's, and where its records are."""

    key: str
    label: str
    value: float | int | None
    previous: float | int | None
    href: str | None = None
    kind: str = "number"  # number | ratio
    note: str | None = None

    @property
    def delta(self) -> float | int | None:
        if self.value is None or self.previous is None:
            return None
        d = self.value - self.previous
        return round(d, 2) if isinstance(d, float) else d


def _cases(ctx: Context, first: Any, last: Any, **kw: str) -> tuple[int, str]:
    flt = q.CaseFilter(division=ctx.root.code, classification="infection",
                       reported_from=first, reported_to=last, **kw)
    return q.count_cases(ctx.session, ctx.actor, flt, ctx.zone), flt.href()


def headlines(ctx: Context, shown: dict[str, Section]) -> list[Headline]:
    """The wall's figures for the viewer's jurisdiction, today against yesterday (the last
    seven days against the seven ending yesterday; Rt's latest window against the one before;
    overdue tasks now against 24 hours ago)."""
    t = lambda key: C(key).render(ctx.lang)  # noqa: E731
    day, yday = ctx.day, ctx.day - timedelta(days=1)
    out: list[Headline] = []
    if ctx.actor.can(Perm.case_read):
        n, href = _cases(ctx, day, day)
        n0, _ = _cases(ctx, yday, yday)
        out.append(Headline("new", t("kpi.new"), n, n0, href))
        n, href = _cases(ctx, day, day, found="community")
        n0, _ = _cases(ctx, yday, yday, found="community")
        out.append(Headline("community", t("kpi.community"), n, n0, href))
        n, href = _cases(ctx, day - timedelta(days=6), day)
        n0, _ = _cases(ctx, day - timedelta(days=7), yday)
        out.append(Headline("kpi_last7", t("kpi.last7"), n, n0, href))
        rt = shown.get("rt")
        latest = next((f for f in rt.figures if f.key == "rt_median"), None) if rt else None
        if rt is not None and rt.available and rt.chart and latest is not None:
            # the section's latest window says what Rt is today: "—" when that window has too
            # few cases, never the last window that had enough (which may be weeks old)
            x, y = rt.chart["x"], rt.chart["y"]
            prev = y[-2] if (latest.value is not None and len(y) > 1
                             and x[-2] == (day - timedelta(days=1)).isoformat()) else None
            out.append(Headline("kpi_rt", t("kpi.rt"), latest.value, prev and round(prev, 2),
                                latest.href, kind="ratio"))
    if ctx.actor.can(Perm.task_read):
        now, before = ctx.now, ctx.now - timedelta(days=1)
        out.append(Headline(
            "overdue", t("kpi.overdue"),
            task_figures.overdue_at(ctx.session, ctx.actor, ctx.root.code, now),
            task_figures.overdue_at(ctx.session, ctx.actor, ctx.root.code, before),
            q.TaskFilter(division=ctx.root.code, overdue=True).href()))
    if ctx.actor.can(Perm.case_read):
        start = datetime.combine(day, time(0), tzinfo=ZoneInfo(ctx.zone))
        today = tracing.summary(ctx.session, actor=ctx.actor, division=ctx.root.code,
                                since=start, until=start + timedelta(days=1))
        before_ = tracing.summary(ctx.session, actor=ctx.actor, division=ctx.root.code,
                                  since=start - timedelta(days=1), until=start)
        out.append(Headline("kpi_contacts", t("kpi.contacts"), today["identified"],
                            before_["identified"]))
        every = zones.list_(ctx.session, actor=ctx.actor, division=ctx.root.code, status=None)
        out.append(Headline("kpi_zones", t("kpi.zones"),
                            sum(1 for z in every if rules.existed_on(z, day)),
                            sum(1 for z in every if rules.existed_on(z, yday)),
                            f"/zones?j={ctx.root.code}"))
    return out


@dataclass
class OverdueSummary:
    groups: list[task_figures.OverdueKind]
    hidden: int
    total: int


def overdue_summary(ctx: Context, limit: int = 5) -> OverdueSummary | None:
    """The worst ``limit`` groups of overdue tasks (unit and type), and how many are not shown."""
    if not ctx.actor.can(Perm.task_read):
        return None
    groups = task_figures.overdue_by_unit_and_type(ctx.session, ctx.actor, ctx.now,
                                                   ctx.root.code)
    return OverdueSummary(groups[:limit], max(0, len(groups) - limit),
                          sum(g.overdue for g in groups))


@dataclass
class Tile:
    code: str
    name: str
    cases: int
    href: str
    zones: int
    level: str | None  # the worst level in force there


def town_tiles(ctx: Context) -> list[Tile] | None:
    """A county's (or a town's) children as tiles, when the map has no polygons for them: the
    infections of the last 14 days owned there and the risk zones in force there. None when
    the map draws real boundaries."""
    if not ctx.actor.can(Perm.case_read):
        return None
    regions = q.child_regions(ctx.session, ctx.root.code)
    if regions and not (len(regions) == 1 and regions[0][0] == ctx.root.code):
        return None  # the map has the children's boundaries
    towns = q.children(ctx.session, ctx.root.code)
    if not towns:
        return None
    length = len(towns[0][0])
    window = q.CaseFilter(division=ctx.root.code, classification="infection",
                          reported_from=ctx.day - timedelta(days=q.ACTIVE_WINDOW_DAYS - 1),
                          reported_to=ctx.day)
    counts = q.counts_by_division(ctx.session, ctx.actor, window, ctx.zone, length)
    in_force = [z for z in zones.list_(ctx.session, actor=ctx.actor, division=ctx.root.code)
                if rules.existed_on(z, ctx.day)]
    by_town: dict[str, list[str]] = {}
    for z in in_force:
        for code in {m.division_code[:length] for m in z.members}:
            by_town.setdefault(code, []).append(z.level)
    tiles = []
    for code, name in towns:
        levels = by_town.get(code, [])
        worst = max(levels, key=lambda lv: LEVEL_RANK.get(lv, 0)) if levels else None
        tiles.append(Tile(code, name, counts.get(code, 0),
                          q.CaseFilter(**{**window.__dict__, "division": code}).href(),
                          len(levels), worst))
    return tiles


def zones_by_region(ctx: Context, codes: list[str]) -> dict[str, int]:
    """Risk zones in force per region of the map (a zone counted in each region it touches)."""
    if not codes or not ctx.actor.can(Perm.case_read):
        return {}
    length = len(codes[0])
    out: dict[str, int] = {}
    for z in zones.list_(ctx.session, actor=ctx.actor, division=ctx.root.code):
        if rules.existed_on(z, ctx.day):
            for code in {m.division_code[:length] for m in z.members}:
                out[code] = out.get(code, 0) + 1
    return out
