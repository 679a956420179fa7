"""Isolation on the dashboard: rooms and beds used against capacity, the reserve gap per
county, and the 24-hour clocks (positive to arrival at a hospital or shelter hospital, contact
identification to arrival at a quarantine site). Figures come from the isolation service, so
they are exact and scoped like the rest."""

from __future__ import annotations

from datetime import timedelta

from fangkong.core.auth import Perm
from fangkong.isolation import service as isolation
from fangkong.isolation import transfers
from fangkong.isolation.enums import LABELS
from fangkong.web import service as queries
from fangkong.web.sections import Cell, Context, Figure, Section, Table, provider


def _no_access(ctx: Context, key: str, title: str) -> Section | None:
    if ctx.actor.can(Perm.isolation_read):
        return None
    return Section(key=key, title=ctx.t(title), available=False,
                   notes=[ctx.t("iso.no_access")])


@provider("isolation", title="sec.isolation", where={"overview", "brief"}, order=54)
def rooms(ctx: Context) -> Section:
    denied = _no_access(ctx, "isolation", "sec.isolation")
    if denied:
        return denied
    rows = isolation.reserve(ctx.session, actor=ctx.actor, on=ctx.day, division=ctx.root.code)
    beds = transfers.beds(ctx.session, actor=ctx.actor, on=ctx.day, division=ctx.root.code)
    link = f"/isolation?j={ctx.root.code}"
    total = {k: sum(getattr(r, k) for r in rows) for k in (
        "active_rooms", "standby_rooms", "occupied_rooms", "people", "rooms_needed",
        "free_active_rooms", "shortfall")}
    shown = ("active_rooms", "occupied_rooms", "free_active_rooms", "shortfall")
    figures = [Figure(f"iso_{k}", ctx.t(f"iso.{k}"), total[k], link) for k in shown]
    for level in ("general", "icu"):
        used = sum(b.occupied for b in beds if b.level == level)
        figures.append(Figure(f"beds_{level}_used", ctx.t(f"iso.beds_{level}_used"), used, link))
    bed_rows = [[Cell(ctx.t(f"iso.beds_{level}")),
                 Cell(sum(b.beds for b in beds if b.level == level)),
                 Cell(sum(b.occupied for b in beds if b.level == level))]
                for level in ("general", "icu")]
    beds_table = Table(ctx.t("iso.beds"), [ctx.t("iso.bed_level"), ctx.t("iso.beds_total"),
                                           ctx.t("iso.beds_used")], bed_rows)
    names = queries.division_names(ctx.session, (r.county for r in rows))
    table = Table(ctx.t("iso.reserve"), [ctx.t("col.division"), ctx.t("iso.active_rooms"),
                                         ctx.t("iso.standby_rooms"), ctx.t("iso.occupied_rooms"),
                                         ctx.t("iso.rooms_needed"), ctx.t("iso.shortfall")],
                  [[Cell(ctx.place(names[r.county]), f"/isolation?j={r.county}"),
                    Cell(r.active_rooms), Cell(r.standby_rooms), Cell(r.occupied_rooms),
                    Cell(r.rooms_needed), Cell(r.shortfall)]
                   for r in rows])
    return Section(key="isolation", title=ctx.t("sec.isolation"), figures=figures,
                   tables=([table] if rows else []) + ([beds_table] if beds else []),
                   notes=[ctx.t("iso.note")])


@provider("clocks", title="sec.clocks", where={"overview", "brief"}, order=56)
def clocks(ctx: Context) -> Section:
    denied = _no_access(ctx, "clocks", "sec.clocks")
    if denied:
        return denied
    since = ctx.now - timedelta(days=14)
    summary = transfers.clocks(ctx.session, actor=ctx.actor, now=ctx.now,
                               division=ctx.root.code, since=since)
    figures = []
    for klass in ("case", "contact"):
        items = [s for s in summary if s.passenger_class == klass]
        arrived = sum(s.arrived for s in items)
        waiting = sum(s.waiting for s in items)
        shares = [(s.within_24h_share, s.arrived + s.waiting) for s in items
                  if s.within_24h_share is not None]
        weight = sum(n for _, n in shares)
        share = sum(x * n for x, n in shares) / weight if weight else None
        figures += [Figure(f"clock_{klass}_arrived", ctx.t(f"iso.clock_{klass}_arrived"),
                           arrived),
                    Figure(f"clock_{klass}_waiting", ctx.t(f"iso.clock_{klass}_waiting"),
                           waiting),
                    Figure(f"clock_{klass}_24h", ctx.t(f"iso.clock_{klass}_24h"), share,
                           kind="percent")]
    rows = [[Cell(LABELS.get(s.passenger_class, {}).get(ctx.lang, s.passenger_class)),
             Cell(s.county), Cell(s.transfers), Cell(s.median_hours), Cell(s.p90_hours)]
            for s in summary]
    table = Table(ctx.t("sec.clocks"), [ctx.t("iso.class"), ctx.t("col.division"),
                                        ctx.t("iso.transfers"), ctx.t("iso.median_h"),
                                        ctx.t("iso.p90_h")], rows)
    return Section(key="clocks", title=ctx.t("sec.clocks"), figures=figures,
                   tables=[table] if rows else [], notes=[ctx.t("iso.clock_note")])
