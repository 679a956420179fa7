"""The registry of overview and brief sections: each one a small provider function.

A provider takes a :class:`Context` (session, actor, jurisdiction, day, language) and returns a
:class:`Section` of figures (each with the link to its records), tables and an optional chart.
The overview and the daily brief render whatever the registry holds, in order. A domain that
lands later registers its provider under the key of the placeholder it replaces, e.g.::

    @sections.provider("contacts", title="sec.contacts", where={"overview", "brief"}, order=50)
    def contacts(ctx: Context) -> Section: ...

Placeholders for capabilities not built yet return ``available=False`` and no figures at all.
The domains name their provider modules in the registry (``sections`` of their contribution:
data, not imports), loaded before the sections first run.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from fangkong.case.enums import LABELS as CASE_LABELS
from fangkong.case.enums import Classification, DetectionMode
from fangkong.core.auth import Actor
from fangkong.web import service as q
from fangkong.web.i18n import fmt_datetime, place, translate

Where = set[str]


@dataclass
class Context:
    session: Session
    actor: Actor
    root: q.Jurisdiction
    day: date
    zone: str
    lang: str
    now: datetime
    measures: list[dict[str, Any]] | None = None
    pack: str | None = None

    def t(self, key: str) -> str:
        return translate(key, self.lang)

    def place(self, name: str) -> str:
        return place(name, self.lang)


@dataclass
class Cell:
    value: Any
    href: str | None = None


@dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[list[Cell]]
    across: bool = False  # a long series: shown transposed (one column per row) on pages
    # On pages, a long list shows its first ``page_rows`` rows and a link (``more_href``) to
    # all of them; the brief (a document) keeps every row.
    page_rows: int | None = None
    more_href: str | None = None
    tail: bool = False  # a series in time: a document that shortens it keeps its last rows


@dataclass
class Figure:
    key: str
    label: str
    value: int | float | None
    href: str | None = None
    kind: str = "number"  # number | percent | days | ratio (two decimals)


@dataclass
class Section:
    key: str
    title: str
    available: bool = True
    figures: list[Figure] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    chart: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)


Provider = Callable[[Context], Section]


@dataclass
class Registered:
    key: str
    title: str
    where: frozenset[str]
    order: int
    fn: Provider


REGISTRY: dict[str, Registered] = {}

# The provider modules the domains name in the registry are imported (so that they register)
# before the sections first run. They import this module for its types and ``provider``; this
# module never imports them, so there is no import cycle between them.
_loaded: set[str] = set()


def load_contributed() -> None:
    """Import every provider module the domains contribute (``sections`` in each domain's
    contribution to :mod:`fangkong.registry`) not imported yet (they register on import)."""
    from fangkong import registry

    for name in registry.sections():
        if name not in _loaded:
            importlib.import_module(name)
            _loaded.add(name)


def provider(key: str, *, title: str, where: Where, order: int
             ) -> Callable[[Provider], Provider]:
    """Register (or replace) the provider of section ``key``."""
    def deco(fn: Provider) -> Provider:
        REGISTRY[key] = Registered(key, title, frozenset(where), order, fn)
        return fn
    return deco


def run(where: str, ctx: Context) -> list[Section]:
    load_contributed()
    chosen = sorted((r for r in REGISTRY.values() if where in r.where),
                    key=lambda r: (r.order, r.key))
    return [r.fn(ctx) for r in chosen]


def run_keys(keys: tuple[str, ...], ctx: Context) -> list[Section]:
    """The sections named, in that order (a domain's own page)."""
    load_contributed()
    return [REGISTRY[k].fn(ctx) for k in keys if k in REGISTRY]


def unavailable(key: str, *, title: str, where: Where, order: int) -> None:
    """A placeholder: the capability is not on this deployment; no figures at all."""
    def fn(ctx: Context) -> Section:
        return Section(key=key, title=ctx.t(title), available=False,
                       notes=[ctx.t("not_available.text")])
    provider(key, title=title, where=where, order=order)(fn)


def cl(value: object, lang: str) -> str:
    return CASE_LABELS.get(str(getattr(value, "value", value)), {}).get(lang, str(value))


# ------------------------------------------------------------------------------ providers


@provider("map", title="ov.map", where={"overview"}, order=10)
def infection_map(ctx: Context) -> Section:
    regions = q.child_regions(ctx.session, ctx.root.code)
    window = q.CaseFilter(classification="infection",
                          reported_from=ctx.day - timedelta(days=q.ACTIVE_WINDOW_DAYS - 1),
                          reported_to=ctx.day)
    total_flt = q.CaseFilter(**{**window.__dict__, "division": ctx.root.code})
    length = len(regions[0][0]) if regions else len(ctx.root.code)
    counts = q.counts_by_division(ctx.session, ctx.actor, total_flt, ctx.zone, length)
    rows, data = [], []
    for code, name in regions:
        flt = q.CaseFilter(**{**window.__dict__, "division": code})
        n = counts.get(code, 0)
        drill = f"/?j={code}" if code != ctx.root.code else None  # that division's overview
        rows.append([Cell(ctx.place(name), drill), Cell(n, flt.href())])
        data.append({"name": code, "label": ctx.place(name), "value": n, "href": flt.href()})
    total = sum(counts.values())
    rest = total - sum(counts.get(c, 0) for c, _ in regions)
    if rest:
        rows.append([Cell(f"{ctx.place(ctx.root.name)} ({ctx.t('unattributed')})"), Cell(rest)])
    rows.append([Cell(ctx.t("total")), Cell(total, total_flt.href())])
    return Section(
        key="map", title=ctx.t("ov.map"),
        figures=[Figure("infections_14d", ctx.t("total"), total, total_flt.href())],
        tables=[Table(ctx.t("ov.map"), [ctx.t("col.division"), ctx.t("col.count")], rows)],
        chart={"type": "map", "map": ctx.root.code, "geojson": f"/map/{ctx.root.code}.geojson",
               "data": data} if regions else None,
        notes=[ctx.t("ov.map.note")])


def _day_filter(ctx: Context, **kw: str) -> q.CaseFilter:
    return q.CaseFilter(division=ctx.root.code, classification="infection",
                        reported_from=ctx.day, reported_to=ctx.day, **kw)


@provider("today", title="ov.today", where={"overview"}, order=20)
def new_today(ctx: Context) -> Section:
    figures = []
    for key, label, kw in (("new", "ov.today.total", {}),
                           ("quarantine", "ov.today.quarantine", {"found": "quarantine"}),
                           ("community", "ov.today.community", {"found": "community"})):
        flt = _day_filter(ctx, **kw)
        figures.append(Figure(key, ctx.t(label), q.count_cases(ctx.session, ctx.actor, flt,
                                                               ctx.zone), flt.href()))
    return Section(key="today", title=ctx.t("ov.today"), figures=figures)


@provider("tasks", title="ov.tasks", where={"overview"}, order=30)
def tasks_figures(ctx: Context) -> Section:
    counted = q.task_counts(ctx.session, ctx.actor, ctx.root.code, ctx.now)
    figures = []
    for n, (key, label, flt) in zip(counted, (
            ("overdue", "ov.tasks.overdue", q.TaskFilter(division=ctx.root.code, overdue=True)),
            ("escalated", "ov.tasks.escalated",
             q.TaskFilter(division=ctx.root.code, escalated=True)),
            ("active", "ov.tasks.active", q.TaskFilter(division=ctx.root.code))), strict=True):
        figures.append(Figure(key, ctx.t(label), n, flt.href()))
    return Section(key="tasks", title=ctx.t("ov.tasks"), figures=figures)


@dataclass
class Growth:
    last7: int
    prev7: int
    rate: float | None
    doubling: float | None
    halving: float | None


def growth(series: list[tuple[date, int]]) -> Growth:
    """Week-on-week exponential growth: r = ln(sum of the last 7 days / the 7 before) / 7."""
    last7 = sum(n for _, n in series[-7:])
    prev7 = sum(n for _, n in series[-14:-7])
    if last7 == 0 or prev7 == 0:
        return Growth(last7, prev7, None, None, None)
    rate = math.log(last7 / prev7) / 7
    doubling = math.log(2) / rate if rate > 0 else None
    halving = math.log(2) / -rate if rate < 0 else None
    return Growth(last7, prev7, rate, doubling, halving)


@provider("trend", title="brief.trend", where={"overview", "brief"}, order=40)
def trend(ctx: Context) -> Section:
    flt = q.CaseFilter(division=ctx.root.code, classification="infection")
    series = q.daily_counts(ctx.session, ctx.actor, flt, ctx.zone,
                            ctx.day - timedelta(days=27), ctx.day)
    g = growth(series)
    last = q.CaseFilter(**{**flt.__dict__, "reported_from": ctx.day - timedelta(days=6),
                           "reported_to": ctx.day})
    prev = q.CaseFilter(**{**flt.__dict__, "reported_from": ctx.day - timedelta(days=13),
                           "reported_to": ctx.day - timedelta(days=7)})
    figures = [Figure("last7", ctx.t("brief.last7"), g.last7, last.href()),
               Figure("prev7", ctx.t("brief.prev7"), g.prev7, prev.href()),
               Figure("growth", ctx.t("brief.growth"), g.rate, kind="percent")]
    if g.doubling is not None:
        figures.append(Figure("doubling", ctx.t("brief.doubling"), g.doubling, kind="days"))
    if g.halving is not None:
        figures.append(Figure("halving", ctx.t("brief.halving"), g.halving, kind="days"))
    notes = [ctx.t("brief.trend.method")]
    if g.rate is None:
        notes.insert(0, ctx.t("brief.trend.none"))
    rows = []
    for d, n in series:
        day_flt = q.CaseFilter(**{**flt.__dict__, "reported_from": d, "reported_to": d})
        rows.append([Cell(d), Cell(n, day_flt.href())])
    return Section(
        key="trend", title=ctx.t("ov.trend"), figures=figures,
        tables=[Table(ctx.t("ov.trend"), [ctx.t("col.day"), ctx.t("col.count")], rows,
                      across=True)],
        chart={"type": "line", "x": [d.isoformat() for d, _ in series],
               "y": [n for _, n in series],
               "hrefs": [r[1].href for r in rows]},
        notes=notes)


@provider("brief.cases_div", title="brief.cases_div", where={"brief"}, order=10)
def cases_by_division(ctx: Context) -> Section:
    subs = q.children(ctx.session, ctx.root.code) or [(ctx.root.code, ctx.root.name)]
    length = len(subs[0][0])
    day = _day_filter(ctx)
    cum = q.CaseFilter(division=ctx.root.code, classification="infection",
                       reported_to=ctx.day)
    s, a, z = ctx.session, ctx.actor, ctx.zone
    cols = {
        "confirmed": q.CaseFilter(**{**day.__dict__, "classification": "confirmed"}),
        "asymptomatic": q.CaseFilter(**{**day.__dict__, "classification": "asymptomatic"}),
        "quarantine": q.CaseFilter(**{**day.__dict__, "found": "quarantine"}),
        "community": q.CaseFilter(**{**day.__dict__, "found": "community"}),
        "cumulative": cum,
    }
    counts = {k: q.counts_by_division(s, a, f, z, length) for k, f in cols.items()}
    rows = []
    listed = {c for c, _ in subs}
    for code, name in subs:
        if not any(counts[k].get(code) for k in cols):
            continue
        rows.append([Cell(ctx.place(name))] + [
            Cell(counts[k].get(code, 0),
                 q.CaseFilter(**{**f.__dict__, "division": code}).href())
            for k, f in cols.items()])
    rest = {k: sum(n for c, n in counts[k].items() if c not in listed) for k in cols}
    if any(rest.values()):
        rows.append([Cell(f"{ctx.place(ctx.root.name)} ({ctx.t('unattributed')})")]
                    + [Cell(rest[k]) for k in cols])
    rows.append([Cell(ctx.t("total"))] + [
        Cell(sum(counts[k].values()), f.href()) for k, f in cols.items()])
    figures = [
        Figure("new", ctx.t("brief.new"), q.count_cases(s, a, day, z), day.href()),
        Figure("quarantine", ctx.t("ov.today.quarantine"), sum(counts["quarantine"].values()),
               cols["quarantine"].href()),
        Figure("community", ctx.t("ov.today.community"), sum(counts["community"].values()),
               cols["community"].href()),
        Figure("cumulative", ctx.t("brief.cumulative"), sum(counts["cumulative"].values()),
               cum.href()),
    ]
    columns = [ctx.t("col.division"), ctx.t("brief.new_confirmed"),
               ctx.t("brief.new_asymptomatic"), ctx.t("ov.today.quarantine"),
               ctx.t("ov.today.community"), ctx.t("brief.cumulative")]
    return Section(key="brief.cases_div", title=ctx.t("brief.cases_div"), figures=figures,
                   tables=[Table(ctx.t("brief.cases_div"), columns, rows)],
                   notes=[ctx.t("ov.map.note").split("；")[0].split(";")[0]])


@provider("brief.cases_mode", title="brief.cases_mode", where={"brief"}, order=20)
def cases_by_mode(ctx: Context) -> Section:
    day = _day_filter(ctx)
    cum = q.CaseFilter(division=ctx.root.code, classification="infection", reported_to=ctx.day)
    new = q.counts_by_mode(ctx.session, ctx.actor, day, ctx.zone)
    total = q.counts_by_mode(ctx.session, ctx.actor, cum, ctx.zone)
    rows = []
    for mode in DetectionMode:
        if not (new.get(mode) or total.get(mode)):
            continue
        rows.append([Cell(cl(mode, ctx.lang)),
                     Cell(new.get(mode, 0),
                          q.CaseFilter(**{**day.__dict__, "mode": mode.value}).href()),
                     Cell(total.get(mode, 0),
                          q.CaseFilter(**{**cum.__dict__, "mode": mode.value}).href())])
    rows.append([Cell(ctx.t("total")), Cell(sum(new.values()), day.href()),
                 Cell(sum(total.values()), cum.href())])
    return Section(key="brief.cases_mode", title=ctx.t("brief.cases_mode"), tables=[
        Table(ctx.t("brief.cases_mode"),
              [ctx.t("col.mode"), ctx.t("brief.new"), ctx.t("brief.cumulative")], rows)])


@provider("brief.tasks", title="brief.tasks", where={"brief"}, order=60)
def tasks_table(ctx: Context) -> Section:
    section = tasks_figures(ctx)
    rows = []
    for r in q.overdue_by_unit(ctx.session, ctx.actor, ctx.now, ctx.root.code):
        flt = q.TaskFilter(division=r.division, overdue=True, unit=r.unit_id)
        rows.append([Cell(ctx.place(r.division_name)),
                     Cell(r.unit_name or ctx.t("tasks.no_unit")),
                     Cell(r.overdue, flt.href()),
                     Cell(r.escalated, q.TaskFilter(division=r.division, overdue=True,
                                                    escalated=True, unit=r.unit_id).href())])
    section.key, section.title = "brief.tasks", ctx.t("brief.tasks")
    section.tables = [Table(ctx.t("tasks.by_unit"),
                            [ctx.t("col.division"), ctx.t("tasks.unit"),
                             ctx.t("ov.tasks.overdue"), ctx.t("ov.tasks.escalated")], rows)]
    section.notes = [ctx.t("as_of") + " " + fmt_datetime(ctx.now, ctx.lang, ctx.zone)]
    return section


@provider("brief.prohibitions", title="brief.prohibitions", where={"brief"}, order=90)
def prohibitions(ctx: Context) -> Section:
    from fangkong.policy import service as policy

    pack = policy.resolve(ctx.pack)
    title = ctx.t("brief.prohibitions")
    if not ctx.measures:
        return Section(key="brief.prohibitions", title=title,
                       figures=[Figure("measures", ctx.t("brief.measures"), 0)],
                       notes=[ctx.t("brief.prohibitions.none"),
                              f"{ctx.t('brief.pack')}: {pack.id} {pack.version}"])
    report = policy.check_measures(pack, ctx.measures)
    rows = [[Cell(v.measure + 1), Cell(v.prohibition), Cell(v.text_in(ctx.lang)),
             Cell(v.why_in(ctx.lang))]
            for v in report.violations]
    notes = [f"{ctx.t('brief.pack')}: {report.pack} {report.pack_version}"]
    if not rows:
        notes.insert(0, ctx.t("brief.prohibitions.ok"))
    return Section(key="brief.prohibitions", title=title, figures=[
        Figure("measures", ctx.t("brief.measures"), len(ctx.measures)),
        Figure("violations", ctx.t("brief.violations"), len(report.violations))],
        tables=[Table(ctx.t("brief.violations"),
                      [ctx.t("col.measure"), "№", ctx.t("col.prohibition"), ctx.t("col.why")],
                      rows)] if rows else [], notes=notes)



__all__ = ["Cell", "Classification", "Context", "Figure", "Section", "Table", "provider", "run"]
