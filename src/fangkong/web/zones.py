"""Risk zones on the dashboard: the zones section of the overview and the brief, and the zones
page (active zones in the viewer's jurisdiction, their next step under the pack's clock, the
pending proposals, and breaches of the nine prohibitions)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from fangkong.core.messages import render
from fangkong.policy.messages import pack_text, verdict_reason
from fangkong.policy.schemas import Condition
from fangkong.web import i18n
from fangkong.web.sections import Cell, Context, Figure, Section, Table, provider
from fangkong.zone import rules
from fangkong.zone import service as zones
from fangkong.zone.enums import LEVEL_LABELS, EventKind


def level_label(level: str, lang: str) -> str:
    return LEVEL_LABELS.get(level, {}).get(lang, level)


def condition_text(c: Condition, lang: str) -> str:
    """A zone's missing condition in the reader's language."""
    if c.kind == "confirm":
        # the pack's text (Chinese, often with an English gloss) in the reader's language
        return i18n.translate("zones.cond.confirm", lang).format(
            text=pack_text(c.text or "").render(lang), id=c.confirm)
    assert c.first is not None and c.last is not None
    key = f"zones.cond.{c.kind}" + ("_one" if c.first == c.last else "")
    return i18n.translate(key, lang).format(
        a=c.first_day, b=c.last_day, first=i18n.fmt_date(c.first, lang),
        last=i18n.fmt_date(c.last, lang))


def board(ctx: Context, level: str | None = None, *, texts: bool = True) -> dict[str, Any]:
    """Everything the zones page and section show, for the viewer's chosen jurisdiction (the
    zone rows narrowed to ``level`` when given; ``levels`` lists every active level). Without
    ``texts`` (the section, which shows counts and dates), no row carries its missing
    conditions as text (``requires`` empty) and no place is named (``names`` empty)."""
    every = zones.list_(ctx.session, actor=ctx.actor, division=ctx.root.code, status=None)
    # the zones in force on the day (a past day's brief: as they stood then)
    active = [z for z in every if rules.existed_on(z, ctx.day)]
    shown = [z for z in active if level is None or z.level == level]
    rows = [{"zone": zone, "verdict": (verdict := zones.next_step(zone, ctx.day)),
             "label": level_label(zone.level, ctx.lang),
             "requires": [condition_text(c, ctx.lang) for c in verdict.conditions]
             if texts else []}
            for zone in shown]
    ids = {zone.id for zone in shown}
    pending = [p for p in zones.proposals(ctx.session, actor=ctx.actor) if p.zone_id in ids]
    by_id = {zone.id: zone for zone in shown}
    # a proposal's reason is stored as the evaluation wrote it (English): read back as its
    # message, under the zone's own pack, in the reader's language
    reasons = {p.id: str(render(verdict_reason(rules.zone_pack(by_id[p.zone_id]), p.reason),
                                ctx.lang)) for p in pending} if texts else {}
    breaches = [b for b in zones.prohibition_breaches(ctx.session, actor=ctx.actor, on=ctx.day,
                                                      zones=every) if b.zone_id in ids]
    changes = [(e, z) for z in every for e in z.events
               if e.kind in (EventKind.designated, EventKind.level_changed, EventKind.lifted)
               and ctx.day - timedelta(days=1) <= e.on_date <= ctx.day]
    names = zones.place_names(ctx.session, {m.division_code for z in shown for m in z.members}
                              ) if texts else {}
    return {"rows": rows, "pending": pending, "reasons": reasons, "breaches": breaches,
            "changes": changes,
            "names": names, "levels": sorted({z.level for z in active})}


def _soonest_first(row: dict[str, Any]) -> tuple[date, str]:
    """Zones whose next change comes first lead the overview's (capped) list."""
    return (row["verdict"].effective or date.max, row["zone"].code)


@provider("zones", title="sec.zones", where={"overview", "brief"}, order=58)
def zones_section(ctx: Context) -> Section:
    data = board(ctx, texts=False)
    by_level: dict[str, int] = {}
    for r in data["rows"]:
        by_level[r["zone"].level] = by_level.get(r["zone"].level, 0) + 1
    figures = [Figure(f"zones_{lvl}", level_label(lvl, ctx.lang), n,
                      f"/zones?j={ctx.root.code}&level={lvl}")
               for lvl, n in sorted(by_level.items())]
    figures += [Figure("zones_active", ctx.t("zones.active"), len(data["rows"]),
                       f"/zones?j={ctx.root.code}"),
                Figure("zones_changes", ctx.t("zones.changes"), len(data["changes"]),
                       f"/zones?j={ctx.root.code}#changes"),
                Figure("zones_pending", ctx.t("zones.pending"), len(data["pending"]),
                       f"/zones?j={ctx.root.code}#pending"),
                Figure("zones_breaches", ctx.t("zones.breaches"), len(data["breaches"]),
                       f"/zones?j={ctx.root.code}#breaches")]
    rows = [[Cell(r["zone"].code, f"/zones?j={ctx.root.code}#z{r['zone'].id}"),
             Cell(r["zone"].name), Cell(r["label"]), Cell(r["zone"].last_infection_date),
             Cell(r["verdict"].effective)]
            for r in sorted(data["rows"], key=_soonest_first)]
    tables = [Table(ctx.t("zones.active"),
                    [ctx.t("col.ref"), ctx.t("zones.name"), ctx.t("zones.level"),
                     ctx.t("zones.day0"), ctx.t("zones.next_date")], rows,
                    page_rows=10, more_href=f"/zones?j={ctx.root.code}")] if rows else []
    return Section(key="zones", title=ctx.t("sec.zones"), figures=figures, tables=tables,
                   notes=[ctx.t("zones.note")])

