"""Surveillance on the dashboard: alerts of the aberration-detection rules in the viewer's
jurisdiction, by status, with their evidence (observed count against the upper bound); and the
reproduction number Rt of the jurisdiction's infections, with the serial interval of the active
policy pack."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from fangkong.analytics.rt import estimate_rt
from fangkong.case.enums import DetectionMode
from fangkong.policy import service as policy
from fangkong.surveillance import alerting
from fangkong.surveillance.enums import LABELS, AlertStatus
from fangkong.web import service as q
from fangkong.web.i18n import fmt_number
from fangkong.web.sections import Cell, Context, Figure, Section, Table, provider

RECENT = 20
RT_DAYS = 63  # the case curve Rt is estimated on (days, ending on the dashboard's day)
RT_SHOWN = 21  # the latest windows shown
IMPORTED = "entry_screening"  # found by entry screening: imported cases


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


def _ratio(value: float, lang: str) -> str:
    return fmt_number(round(value, 2), lang, 2)


@provider("rt", title="sec.rt", where={"overview", "brief"}, order=45)
def rt(ctx: Context) -> Section:
    """Rt over weekly (the pack's) sliding windows of the last :data:`RT_DAYS` days, from the
    infections reported in the jurisdiction, local and imported; windows whose cases are too
    few for EpiEstim's posterior-CV rule are listed without an estimate."""
    title = ctx.t("sec.rt")
    pack, si = policy.serial_interval(ctx.pack)
    if si is None or pack.surveillance is None:
        return Section(key="rt", title=title, available=False,
                       notes=[ctx.t("rt.no_si") + f"{pack.id} {pack.version}"])
    first = ctx.day - timedelta(days=RT_DAYS - 1)
    infections = q.CaseFilter(division=ctx.root.code, classification="infection")
    # the infections per day and, in the same query, those of them imported (IMPORTED)
    days = q.daily_counts_with_mode(ctx.session, ctx.actor, infections, ctx.zone, first,
                                    ctx.day, DetectionMode(IMPORTED))
    total = np.array([n for _, n, _ in days], dtype=float)
    imported = np.array([m for _, _, m in days], dtype=float)
    res = estimate_rt(total - imported, imported, si_mean=si.mean, si_sd=si.sd,
                      window=pack.surveillance.rt_window_days)

    def day(i: int) -> date:  # EpiEstim's 1-based day index
        return first + timedelta(days=i - 1)

    rows, x, median, lower, upper, hrefs = [], [], [], [], [], []
    for r in res.rows()[-RT_SHOWN:]:
        start, end = day(int(r["t_start"])), day(int(r["t_end"]))
        flt = q.CaseFilter(**{**infections.__dict__, "reported_from": start,
                              "reported_to": end})
        label = f"{start.isoformat()} – {end.isoformat()}"
        cases = Cell(int(r["cases"]), flt.href())
        if not r["enough_cases"]:
            rows.append([Cell(label), cases, Cell(None), Cell(None), Cell(None)])
            continue
        rows.append([Cell(label), cases, Cell(_ratio(float(r["median"]), ctx.lang)),
                     Cell(_ratio(float(r["q025"]), ctx.lang)),
                     Cell(_ratio(float(r["q975"]), ctx.lang))])
        x.append(end.isoformat())
        median.append(round(float(r["median"]), 3))
        lower.append(round(float(r["q025"]), 3))
        upper.append(round(float(r["q975"]), 3))
        hrefs.append(flt.href())
    notes = [ctx.t("rt.method"),
             f"{ctx.t('rt.si')}: {si.mean:g} ± {si.sd:g} {ctx.t('rt.days')} ({si.disease}; "
             f"{', '.join(pack.sources[k].title or k for k in si.source)}); "
             f"{ctx.t('brief.pack')}: {pack.id} {pack.version}"]
    figures: list[Figure] = []
    if x:
        last = res.rows()[-1]
        figures = [Figure("rt_median", ctx.t("rt.median"), round(float(last["median"]), 2),
                          hrefs[-1], kind="ratio") if last["enough_cases"] else
                   Figure("rt_median", ctx.t("rt.median"), None)]
        if last["enough_cases"]:
            figures += [Figure("rt_lower", ctx.t("rt.lower"), round(float(last["q025"]), 2),
                               kind="ratio"),
                        Figure("rt_upper", ctx.t("rt.upper"), round(float(last["q975"]), 2),
                               kind="ratio")]
    else:
        notes.insert(0, ctx.t("rt.too_few"))
    if rows:
        figures.append(Figure("rt_cases", ctx.t("rt.cases"), rows[-1][1].value,
                              rows[-1][1].href))
    table = Table(ctx.t("rt.table"), [ctx.t("rt.window"), ctx.t("rt.cases"), "Rt",
                                      ctx.t("rt.lower"), ctx.t("rt.upper")], rows, tail=True)
    return Section(key="rt", title=title, figures=figures, tables=[table] if rows else [],
                   chart={"type": "interval", "x": x, "y": median, "lower": lower,
                          "upper": upper, "hrefs": hrefs} if x else None,
                   notes=notes)
