"""Surveillance on the dashboard: alerts of the aberration-detection rules in the viewer's
jurisdiction, by status, with their evidence (observed count against the upper bound)."""

from __future__ import annotations

from fangkong.surveillance import alerting
from fangkong.surveillance.enums import LABELS, AlertStatus
from fangkong.web.sections import Cell, Context, Figure, Section, Table, provider

RECENT = 20


@provider("alerts", title="sec.alerts", where={"overview", "brief"}, order=70)
def alerts(ctx: Context) -> Section:
    found = alerting.list_alerts(ctx.session, actor=ctx.actor, division=ctx.root.code)
    link = f"/surveillance?j={ctx.root.code}"
    figures = [Figure(f"alerts_{s.value}", LABELS[s.value][ctx.lang],
                      sum(1 for a in found if a.status is s), link)
               for s in (AlertStatus.open, AlertStatus.acknowledged, AlertStatus.investigating)]
    live = [a for a in found if a.status is not AlertStatus.dismissed][:RECENT]
    rows = [[Cell(a.division_code), Cell(a.period_start), Cell(a.observed),
             Cell(round(a.upperbound, 2)), Cell(LABELS[a.status.value][ctx.lang])]
            for a in live]
    table = Table(ctx.t("alerts.recent"), [ctx.t("col.division"), ctx.t("alerts.period"),
                                           ctx.t("alerts.observed"), ctx.t("alerts.bound"),
                                           ctx.t("tasks.status")], rows)
    return Section(key="alerts", title=ctx.t("sec.alerts"), figures=figures,
                   tables=[table] if rows else [], notes=[ctx.t("alerts.note")])
