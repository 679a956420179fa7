"""After-action review (复盘) of a real period: the drill's report made from a deployment's own
records, not a simulation (`fangkong drill review`).

For a jurisdiction (a division code and everything under it, within the actor's scope) and a
period of local days, through the domains' services:

- cases (`case.figures.page`): each person counted once, on the local day of their first
  report in the period, split by how they were found (in quarantine or closed-loop
  management, or in the community: fever clinics, routine testing of key groups, area
  screening, other); onset dates give the curve by onset date and the onset-to-report delays;
- contacts (`tracing.service.summary`): identified each day, and the median hours from the
  case's report to identification and to the start of management;
- rooms and beds (`isolation.service.occupancy` of each site): quarantine rooms occupied each
  night against the rooms of the quarantine sites, hospital and shelter beds occupied against
  their beds;
- the clocks (`isolation.transfers.clocks`): positive to arrival at hospital or shelter
  (cases), identification to arrival at quarantine (contacts), for transfers whose clock
  started in the period: median, 90th percentile, share within 24 hours, still waiting;
- zones (`zone.service.list_`): zones in force each day;
- tasks (`task.service.list_`): tasks due each day and those done by their due time (one
  cancelled by then is not counted), the 流调 tasks (``investigate_case``) open at the end of
  each day and those of them past due.

Verdicts, as for a drill where the records allow: time to control (the drill's definition:
the first case found to the 7th day in a row without a case found in the community), cases
found, the share found among known contacts, peak rooms against the active rooms, the clocks,
tasks on time, and what limited the response each day: tracing when 流调 tasks were past due
at the end of the day, rooms when no active room or no bed was free that night, else
nothing. The lab's
throughput is not judged (the records read here do not say what it could test a day).
"""

from __future__ import annotations

import html
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from fangkong.case import figures as case_figures
from fangkong.case.enums import DetectionMode
from fangkong.core.auth import Actor
from fangkong.core.config import get_settings
from fangkong.core.errors import Invalid
from fangkong.core.messages import DEFAULT_LANG
from fangkong.core.tabular import csv_writer
from fangkong.drill.messages import D
from fangkong.drill.report import STYLE
from fangkong.drill.verdicts import CONTROL_DAYS, controlled_on
from fangkong.isolation import service as isolation
from fangkong.isolation import transfers
from fangkong.isolation.enums import SiteType
from fangkong.isolation.schemas import ClockSummary
from fangkong.task import service as tasks
from fangkong.task.enums import TaskStatus
from fangkong.tracing import service as tracing
from fangkong.zone import service as zones

ROUTES = {DetectionMode.fever_clinic: "detected_fever_clinic",
          DetectionMode.routine_key_groups: "detected_key_groups",
          DetectionMode.community_screening: "detected_area_rounds"}
LIMITS = ("tracing", "rooms")
INVESTIGATE = "investigate_case"
COLUMNS = ["day", "date", "new_detected", "detected_in_quarantine", "detected_in_community",
           "detected_fever_clinic", "detected_key_groups", "detected_area_rounds",
           "cumulative_detected", "contacts_identified", "rooms_occupied", "rooms_active",
           "beds_occupied", "beds", "zones_active", "tasks_due", "tasks_on_time",
           "tasks_on_time_share", "cases_waiting_tracing", "tracing_overdue", "rooms_full",
           "bottleneck"]
CHARTS = ["new_detected", "detected_in_community", "detected_in_quarantine",
          "contacts_identified", "cases_waiting_tracing", "tracing_overdue", "rooms_occupied",
          "rooms_active", "beds_occupied", "beds", "zones_active", "tasks_on_time_share"]


@dataclass
class Clock:
    passenger_class: str  # case | contact
    transfers: int
    arrived: int
    waiting: int
    median_hours: float | None
    p90_hours: float | None
    within_24h_share: float | None


@dataclass
class Review:
    division: str
    start: date
    end: date
    rows: list[dict[str, Any]] = field(default_factory=list)
    clocks: list[Clock] = field(default_factory=list)
    contacts: int = 0
    hours_to_identification: float | None = None
    hours_to_management: float | None = None
    by_onset: list[int] = field(default_factory=list)
    onset_to_report: list[int] = field(default_factory=list)

    @property
    def first_case_day(self) -> int | None:
        return next((r["day"] for r in self.rows if r["new_detected"]), None)

    @property
    def controlled_day(self) -> int | None:
        return controlled_on(self.rows, self.first_case_day)

    def figures(self) -> dict[str, Any]:
        found = sum(r["new_detected"] for r in self.rows)
        due = sum(r["tasks_due"] for r in self.rows)
        first, controlled = self.first_case_day, self.controlled_day
        # each limit's days counted on their own (a day can be limited by both)
        limits = {"tracing": sum(1 for r in self.rows if r["tracing_overdue"]),
                  "rooms": sum(1 for r in self.rows if r["rooms_full"]),
                  "none": sum(1 for r in self.rows if r["bottleneck"] == "none")}
        return {
            "time_to_control_days": None if first is None or controlled is None
            else controlled - first,
            "cases_found": found,
            "found_among_contacts_share": round(sum(
                r["detected_in_quarantine"] for r in self.rows) / found, 3) if found else None,
            "peak_rooms_occupied": max((r["rooms_occupied"] for r in self.rows), default=0),
            "rooms_active": max((r["rooms_active"] for r in self.rows), default=0),
            "peak_beds_occupied": max((r["beds_occupied"] for r in self.rows), default=0),
            "beds": max((r["beds"] for r in self.rows), default=0),
            "contacts_identified": self.contacts,
            "tasks_on_time_share": round(sum(r["tasks_on_time"] for r in self.rows) / due, 3)
            if due else None,
            **{f"bottleneck_days_{k}": limits[k] for k in (*LIMITS, "none")},
        }


def review(session: Session, *, actor: Actor, division: str, start: date, end: date,
           zone: str | None = None) -> Review:
    """The after-action review of ``division`` over the local days ``start`` to ``end``."""
    if end < start:
        raise Invalid(D("review.bad_period", start=start, end=end))
    zone = zone or get_settings().timezone
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    bounds = [case_figures.day_bounds(d, zone) for d in days]
    rv = Review(division=division, start=start, end=end)
    rows: list[dict[str, Any]] = [
        {"day": i, "date": d.isoformat(), **dict.fromkeys(COLUMNS[2:-2], 0)}
        for i, d in enumerate(days)]
    _cases(session, actor, rv, rows, days, zone)
    for row, (lo, hi) in zip(rows, bounds, strict=True):
        row["contacts_identified"] = tracing.summary(session, actor=actor, division=division,
                                                     since=lo, until=hi)["identified"]
    _rooms(session, actor, division, rows, days)
    whole = tracing.summary(session, actor=actor, division=division, since=bounds[0][0],
                            until=bounds[-1][1])
    rv.contacts = whole["identified"]
    rv.hours_to_identification = whole["median_hours_to_identification"]
    rv.hours_to_management = whole["median_hours_to_management"]
    for z in zones.list_(session, actor=actor, division=division, status=None):
        for row, d in zip(rows, days, strict=True):
            if z.designated_on <= d and (z.lifted_on is None or z.lifted_on > d):
                row["zones_active"] += 1
    _tasks(session, actor, division, rows, bounds)
    rv.clocks = [Clock(passenger_class=c.passenger_class.value, transfers=c.transfers,
                       arrived=c.arrived, waiting=c.waiting, median_hours=c.median_hours,
                       p90_hours=c.p90_hours, within_24h_share=c.within_24h_share)
                 for c in _clocks(session, actor, division, bounds[0][0], bounds[-1][1])]
    for row in rows:
        row["tasks_on_time_share"] = (round(row["tasks_on_time"] / row["tasks_due"], 3)
                                      if row["tasks_due"] else "")
        full = (0 < row["rooms_active"] <= row["rooms_occupied"]
                or 0 < row["beds"] <= row["beds_occupied"])
        row["rooms_full"] = int(full)
        row["bottleneck"] = ("tracing" if row["tracing_overdue"] else
                             "rooms" if full else "none")
    rv.rows = rows
    return rv


def _cases(session: Session, actor: Actor, rv: Review, rows: list[dict[str, Any]],
           days: list[date], zone: str) -> None:
    """Each person once, on the day of their first report in the period."""
    flt = case_figures.CaseFilter(division=rv.division, reported_from=days[0],
                                  reported_to=days[-1])
    first: dict[int, case_figures.CaseRow] = {}
    after: str | None = None
    while True:
        page, after = case_figures.page(session, actor, flt, zone, limit=500,
                                        after=after, via="drill.review")
        for c in page:
            seen = first.get(c.person_id)
            if seen is None or (c.reported_at, c.id) < (seen.reported_at, seen.id):
                first[c.person_id] = c
        if after is None:
            break
    index = {d: i for i, d in enumerate(days)}
    tz = ZoneInfo(zone)
    rv.by_onset = [0] * len(days)
    delays: list[int] = []
    for c in first.values():
        local = c.reported_at.astimezone(tz).date()
        i = index.get(local)
        if i is None:
            continue
        row = rows[i]
        row["new_detected"] += 1
        if c.detection_mode in case_figures.UNDER_CONTROL:
            row["detected_in_quarantine"] += 1
        else:
            row["detected_in_community"] += 1
            key = ROUTES.get(c.detection_mode)
            if key:
                row[key] += 1
        if c.onset_date is not None:
            if c.onset_date in index:
                rv.by_onset[index[c.onset_date]] += 1
            delays.append(max(0, (local - c.onset_date).days))
    total = 0
    for row in rows:
        total += row["new_detected"]
        row["cumulative_detected"] = total
    counts = Counter(delays)
    rv.onset_to_report = [counts[k] for k in range(max(delays, default=-1) + 1)]


def _rooms(session: Session, actor: Actor, division: str, rows: list[dict[str, Any]],
           days: list[date]) -> None:
    """Each night: quarantine rooms occupied and rooms (quarantine hotels, health stations),
    hospital and shelter beds occupied and beds (the other sites but homes), from the sites'
    room nights (a site standing down now counts with its rooms)."""
    for site, _, _ in isolation.list_sites(session, actor=actor, division=division):
        if site.type == SiteType.home:
            continue
        quarantine = site.type in isolation.QUARANTINE_SITES
        nights = isolation.occupancy(session, actor=actor, site_id=site.id, start=days[0],
                                     end=days[-1])
        for row, night in zip(rows, nights, strict=True):
            if quarantine:
                row["rooms_occupied"] += night.rooms_occupied
                row["rooms_active"] += night.rooms
            else:
                row["beds_occupied"] += night.people
                row["beds"] += night.beds


def _tasks(session: Session, actor: Actor, division: str, rows: list[dict[str, Any]],
           bounds: list[tuple[datetime, datetime]]) -> None:
    """Tasks due each day and done by their due time; 流调 tasks open at each day's end."""
    cursor: str | None = None
    start, end = bounds[0][0], bounds[-1][1]
    while True:
        page, cursor = tasks.list_(session, actor=actor, division=division, cursor=cursor,
                                   limit=1000)
        for t in page:
            done_at = t.completed_at
            on_time = done_at is not None and done_at <= t.due_at
            if start <= t.due_at < end and not (t.status == TaskStatus.cancelled and on_time):
                i = next(k for k, (lo, hi) in enumerate(bounds) if lo <= t.due_at < hi)
                rows[i]["tasks_due"] += 1
                rows[i]["tasks_on_time"] += int(t.status == TaskStatus.done and on_time)
            if t.type != INVESTIGATE:
                continue
            for row, (_, hi) in zip(rows, bounds, strict=True):
                # open from its creation (a task created after its due time, as a drill
                # writes them, from its due time)
                if min(t.created_at, t.due_at) < hi and (done_at is None or done_at >= hi):
                    row["cases_waiting_tracing"] += 1
                    row["tracing_overdue"] += int(t.due_at < hi)
        if cursor is None:
            break


def _clocks(session: Session, actor: Actor, division: str, since: datetime,
            until: datetime) -> list[ClockSummary]:
    """The transfer clocks of the period, per class (the counties' figures merged: counts
    added, medians and shares weighted by the transfers)."""
    by: dict[str, list[ClockSummary]] = {}
    for c in transfers.clocks(session, actor=actor, now=until, division=division, since=since):
        by.setdefault(c.passenger_class.value, []).append(c)
    out = []
    for parts in by.values():
        if len(parts) == 1:
            out.append(parts[0])
            continue
        n = sum(p.transfers for p in parts)

        def mean(key: str, parts: list[ClockSummary] = parts) -> float | None:
            known = [(getattr(p, key), p.transfers) for p in parts if getattr(p, key)
                     is not None]
            weight = sum(w for _, w in known)
            return round(sum(v * w for v, w in known) / weight, 2) if weight else None

        out.append(parts[0].model_copy(update={
            "county": "", "transfers": n, "arrived": sum(p.arrived for p in parts),
            "waiting": sum(p.waiting for p in parts), "median_hours": mean("median_hours"),
            "p90_hours": mean("p90_hours"), "within_24h_share": mean("within_24h_share")}))
    return out


# --- the page -----------------------------------------------------------------------------------

def _pct(v: float | None) -> str:
    return "–" if v is None else f"{v:.0%}"


def _hours(v: float | None) -> str:
    return "–" if v is None else f"{v:.1f}"


def verdict_lines(rv: Review, name: str, lang: str) -> list[tuple[str, str]]:
    def say(key: str, **params: object) -> str:
        return D(key, **params).render(lang)

    f = rv.figures()
    if rv.first_case_day is None:
        control = say("verdict.no_case")
    elif f["time_to_control_days"] is None:
        control = say("review.not_controlled", end=rv.end.isoformat(), clean=CONTROL_DAYS)
    else:
        control = say("verdict.controlled", days=f["time_to_control_days"], clean=CONTROL_DAYS)
    def against(peak: int, capacity: int) -> str:
        return say("verdict.against", peak=f"{peak:,}", capacity=f"{capacity:,}",
                   share=_pct(peak / capacity if capacity else None))

    clocks = "; ".join(say(
        "review.clock_value", who=say(f"review.class.{c.passenger_class}"),
        transfers=c.transfers, median=_hours(c.median_hours), p90=_hours(c.p90_hours),
        share=_pct(c.within_24h_share), waiting=c.waiting) for c in rv.clocks) or "–"
    limits = "; ".join(f"{say('limit.' + k)} {f[f'bottleneck_days_{k}']}"
                       for k in (*LIMITS, "none"))
    return [
        (say("review.where"), say("review.where_value", name=name, code=rv.division,
                                  start=rv.start.isoformat(), end=rv.end.isoformat())),
        (say("verdict.control"), control),
        (say("review.cases"), f"{f['cases_found']:,}"),
        (say("verdict.among_contacts"), _pct(f["found_among_contacts_share"])),
        (say("review.contacts"), say("review.contacts_value", contacts=f"{rv.contacts:,}",
                                     identified=_hours(rv.hours_to_identification),
                                     managed=_hours(rv.hours_to_management))),
        (say("review.rooms"), against(f["peak_rooms_occupied"], f["rooms_active"])),
        (say("review.beds"), against(f["peak_beds_occupied"], f["beds"])),
        (say("review.clocks"), clocks),
        (say("verdict.tasks"), _pct(f["tasks_on_time_share"])),
        (say("verdict.bottleneck"), limits),
    ]


def write(rv: Review, out: Path, *, name: str, lang: str = DEFAULT_LANG) -> tuple[Path, Path]:
    """review.csv (the days) and review.html (the verdicts first, then the days) in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    csv_path, page_path = out / "review.csv", out / "review.html"
    with csv_path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv_writer(fh)
        writer.writerow(COLUMNS)
        for row in rv.rows:
            writer.writerow([row[k] for k in COLUMNS])
    page_path.write_text(to_html(rv, name=name, lang=lang), encoding="utf-8")
    return csv_path, page_path


def to_html(rv: Review, *, name: str, lang: str = DEFAULT_LANG) -> str:
    def say(key: str, **params: object) -> str:
        return D(key, **params).render(lang)

    esc = html.escape
    js = (resources.files("fangkong.web") / "static" / "vendor" / "echarts.min.js"
          ).read_text("utf-8")
    title = say("review.title", name=name, start=rv.start.isoformat(), end=rv.end.isoformat())
    lines = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>"
                    for k, v in verdict_lines(rv, name, lang))
    shown = [k for k in CHARTS if any(r[k] not in ("", 0) for r in rv.rows)]
    data = {"days": [r["date"] for r in rv.rows],
            "series": {k: [r[k] if r[k] != "" else None for r in rv.rows] for k in shown},
            "titles": {k: say(f"review.label.{k}") for k in shown},
            "limits": [say(f"limit.{r['bottleneck']}") for r in rv.rows],
            "curve": {"title": say("review.curve"),
                      "series": [{"name": say("curve.by_onset"), "data": rv.by_onset},
                                 {"name": say("curve.by_report"),
                                  "data": [r["new_detected"] for r in rv.rows]}]},
            "delays": {"title": say("review.delays"), "x": list(range(len(rv.onset_to_report))),
                       "name": say("chart.delay_days"), "data": rv.onset_to_report,
                       "series": say("delay.onset_to_report")},
            "axis": say("axis.date")}
    heads = [say("axis.date"), *(say(f"review.label.{k}") for k in COLUMNS[2:])]
    table_head = "".join(f"<th>{esc(h)}</th>" for h in heads)
    table_rows = "".join(
        "<tr>" + "".join(f"<td>{esc(say('limit.' + r[k]) if k == 'bottleneck' else str(r[k]))}"
                         "</td>" for k in COLUMNS[1:]) + "</tr>" for r in rv.rows)
    charts = '<div class="chart" id="c_curve"></div><div class="chart" id="c_delays"></div>' + \
        "".join(f'<div class="chart" id="c_{k}"></div>' for k in shown)
    return f"""<!doctype html>
<html lang="{esc(lang)}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>{esc(title)}</title>
<style>{STYLE}</style><script>{js}</script></head><body>
<h1>{esc(title)}</h1>
<p>{esc(say("review.intro"))}</p>
<h2>{esc(say("report.verdicts"))}</h2>
<div class="verdicts"><div class="verdict"><table>{lines}</table></div></div>
<p>{esc(say("review.limits_note"))}</p>
<h2>{esc(say("report.day_by_day"))}</h2><div class="grid">{charts}</div>
<div class="wide"><table><tr>{table_head}</tr>{table_rows}</table></div>
<script>
const R = {json.dumps(data, ensure_ascii=False)};
const base = (title) => ({{animation: false, title: {{text: title, left: 'left', top: 0,
                                                     textStyle: {{fontSize: 13}}}},
  tooltip: {{trigger: 'axis'}}, legend: {{top: 26, left: 'center'}},
  grid: {{top: 60, left: 55, right: 20, bottom: 40}}, yAxis: {{type: 'value'}},
  xAxis: {{type: 'category', data: R.days, name: R.axis, nameLocation: 'middle',
           nameGap: 26}}}});
echarts.init(document.getElementById('c_curve')).setOption({{...base(R.curve.title),
  series: R.curve.series.map(s => ({{name: s.name, type: 'bar', data: s.data}}))}});
echarts.init(document.getElementById('c_delays')).setOption({{...base(R.delays.title),
  xAxis: {{type: 'category', data: R.delays.x, name: R.delays.name, nameLocation: 'middle',
           nameGap: 26}},
  series: [{{name: R.delays.series, type: 'bar', data: R.delays.data}}]}});
for (const key of Object.keys(R.titles)) {{
  echarts.init(document.getElementById('c_' + key)).setOption({{...base(R.titles[key]),
    series: [{{name: R.titles[key], type: 'line', showSymbol: false, data: R.series[key]}}]}});
}}
</script></body></html>"""
