"""The drill's results: metrics.csv (one row per day and strategy) and report.html, which
inlines the ECharts the dashboard vendors (fangkong/web/static/vendor/echarts.min.js,
Apache-2.0, see the README there) so that the report opens offline."""

from __future__ import annotations

import html
import json
from importlib import resources
from pathlib import Path
from typing import Any

from fangkong.core.messages import DEFAULT_LANG, render
from fangkong.core.tabular import csv_writer
from fangkong.drill.loop import COLUMNS, Run
from fangkong.drill.messages import D, strategy_name
from fangkong.drill.verdicts import CONTROL_DAYS, LIMITS, Verdict, verdict

SETTINGS = ("household", "work", "school", "venue")
DELAYS = ("onset_to_report", "report_to_isolation")
CHARTS = ["new_infections", "new_detected", "detected_in_community", "detected_in_quarantine",
          "detected_fever_clinic", "detected_key_groups", "detected_area_rounds",
          "contacts_identified", "contacts_waiting_room", "cases_waiting_tracing",
          "hours_identified_to_quarantine", "hours_positive_to_transfer", "in_quarantine",
          "in_home_quarantine", "in_isolation", "zones_active", "zones_high", "tests_used",
          "lab_backlog", "tasks_on_time_share", "rt", "cumulative_infections"]


def totals(run: Run) -> dict[str, Any]:
    rows = run.rows
    found = sum(r["new_detected"] for r in rows)
    q = sum(r["detected_in_quarantine"] for r in rows)

    def mean_of(key: str) -> float | str:
        vals = [r[key] for r in rows if r[key] != ""]
        return round(sum(vals) / len(vals), 1) if vals else ""

    return {
        "strategy": run.strategy.name, "pack": run.pack, "agents": run.strategy.agents,
        "days": len(rows), "infections": rows[-1]["cumulative_infections"] if rows else 0,
        "cases_found": found, "found_in_quarantine_share": round(q / found, 3) if found else "",
        "contacts_identified": sum(r["contacts_identified"] for r in rows),
        "peak_in_quarantine": max((r["in_quarantine"] for r in rows), default=0),
        "peak_zones": max((r["zones_active"] for r in rows), default=0),
        "tubes_used": sum(r["tests_used"] for r in rows),
        "mean_hours_positive_to_transfer": mean_of("hours_positive_to_transfer"),
        "mean_hours_identified_to_quarantine": mean_of("hours_identified_to_quarantine"),
        "tasks_on_time_share": on_time_share(rows),
        **run.platform,
    }


def on_time_share(rows: list[dict[str, Any]]) -> float | str:
    """The platform's tasks done by their due time, of all those due during the drill."""
    due = sum(r["tasks_due"] for r in rows if r["tasks_due"] != "")
    done = sum(r["tasks_on_time"] for r in rows if r["tasks_on_time"] != "")
    return round(done / due, 3) if due else ""


def write_csv(runs: list[Run], path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv_writer(fh)
        writer.writerow(["strategy", *COLUMNS])
        for run in runs:
            for row in run.rows:
                writer.writerow([run.strategy.name, *(row.get(c, "") for c in COLUMNS)])


def _describe(city: dict[str, object], lang: str = DEFAULT_LANG) -> str:
    """The city's make-up as one readable line in ``lang``: 'agents: 20,000 · households:
    7,706 · venues: market 9, ...'."""
    def label(k: str) -> str:
        key = f"city.{k}"
        return D(key).render(lang) if key in D else k.replace("_", " ")

    def value(v: object) -> str:
        if isinstance(v, dict):
            return ", ".join(f"{label(k)} {value(x)}" for k, x in v.items())
        return f"{v:,}" if isinstance(v, int) else str(v)
    return " · ".join(f"{label(k)}: {value(v)}" for k, v in city.items())


def _pct(v: float | None) -> str:
    return "–" if v is None else f"{v:.0%}"


def verdict_lines(v: Verdict, lang: str) -> list[tuple[str, str]]:
    """The one-page summary of a run: (label, value) in ``lang``."""
    def say(key: str, **params: object) -> str:
        return D(key, **params).render(lang)

    if v.first_case_day is None:
        control = say("verdict.no_case")
    elif v.time_to_control is None:
        control = say("verdict.not_controlled", day=v.days, clean=CONTROL_DAYS)
    else:
        control = say("verdict.controlled", days=v.time_to_control, clean=CONTROL_DAYS)

    def against(peak: int, capacity: int) -> str:
        return say("verdict.against", peak=f"{peak:,}", capacity=f"{capacity:,}",
                   share=_pct(peak / capacity if capacity else None))

    days = v.bottleneck_days()
    limits = "; ".join(f"{say('limit.' + k)} {days[k]}" for k in (*LIMITS, "none"))
    return [
        (say("verdict.control"), control),
        (say("verdict.infections"), say("verdict.infections_value",
                                        infections=f"{v.infections:,}",
                                        found=f"{v.cases_found:,}")),
        (say("verdict.rooms"), against(v.peak_rooms, v.rooms)),
        (say("verdict.beds"), against(v.peak_beds, v.beds)),
        (say("verdict.among_contacts"), _pct(v.found_among_contacts)),
        (say("verdict.in_24h"), _pct(v.quarantined_in_24h)),
        (say("verdict.tasks"), _pct(v.tasks_on_time)),
        (say("verdict.bottleneck"), limits),
        (say("verdict.still"), say("verdict.still_value",
                                   quarantine=f"{v.still_in_quarantine:,}",
                                   isolated=f"{v.still_isolated:,}")),
    ]


def write_verdicts(runs: list[Run], path: Path) -> None:
    """verdicts.csv: one row per strategy, the verdicts' figures."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv_writer(fh)
        figures = [verdict(r.rows, r.strategy).figures() for r in runs]
        keys = list(figures[0]) if figures else []
        writer.writerow(["strategy", *keys])
        for run, f in zip(runs, figures, strict=True):
            writer.writerow([run.strategy.name, *("" if f[k] is None else f[k] for k in keys)])


STYLE = """body{font-family:"Noto Sans CJK SC","Noto Sans",sans-serif;margin:1.5em;color:#222}
h1{font-size:1.5em}table{border-collapse:collapse}
td,th{border:1px solid #ccc;padding:3px 6px;font-size:13px;text-align:left}
.wide{overflow-x:auto;max-width:100%}.wide th{white-space:nowrap}
.verdicts{display:grid;grid-template-columns:repeat(auto-fill,minmax(440px,1fr));gap:12px}
.verdict{border:1px solid #bbb;border-radius:6px;padding:8px 12px;background:#fafafa}
.verdict h3{margin:0 0 6px}.verdict th{width:40%;font-weight:600;background:#f0f0f0}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(520px,1fr));gap:12px}
.chart{height:300px;border:1px solid #eee}
@media (max-width:600px){body{margin:.6em}.verdicts,.grid{grid-template-columns:1fr}
.verdict th{width:45%}}"""


def write_html(runs: list[Run], path: Path, *, lang: str = DEFAULT_LANG,
               extra: str = "") -> None:
    """report.html in ``lang``: the verdicts first, then the strategies compared (and
    ``extra``, an HTML section such as the seeds' comparison), then the charts."""
    js = (resources.files("fangkong.web") / "static" / "vendor" / "echarts.min.js"
          ).read_text("utf-8")

    def say(key: str, **params: object) -> str:
        return D(key, **params).render(lang)

    def named(run: Run) -> str:
        return str(render(strategy_name(run.strategy.name), lang))

    esc = html.escape
    series = {k: [[row[k] if row[k] != "" else None for row in r.rows] for r in runs]
              for k in CHARTS}
    # a chart with nothing to show (the platform's tasks in the fast mode) is left out
    shown = [k for k in CHARTS if any(v is not None for run in series[k] for v in run)]
    data = {"names": [named(r) for r in runs],
            "days": [[row["date"] for row in r.rows] for r in runs],
            "series": {k: series[k] for k in shown}}
    titles = {k: say(f"label.{k}") for k in shown}
    table = [totals(r) for r in runs]
    keys = list(table[0]) if table else []
    head = "".join(f"<th>{esc(say('label.' + k) if 'label.' + k in D else k)}</th>"
                   for k in keys)
    body = "".join("<tr>" + "".join(
        f"<td>{esc(named(r) if k == 'strategy' else str(t.get(k, '')))}</td>" for k in keys)
                   + "</tr>" for r, t in zip(runs, table, strict=True))
    verdicts = "".join(
        f'<div class="verdict"><h3>{esc(named(r))}</h3><table>' + "".join(
            f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>"
            for k, v in verdict_lines(verdict(r.rows, r.strategy), lang)) + "</table></div>"
        for r in runs)
    city = runs[0].city_summary if runs else {}
    strategies = "".join(
        f"<details><summary>{esc(say('report.strategy_knobs'))}: {esc(named(r))}"
        f"</summary><pre>{esc(json.dumps(r.strategy.model_dump(mode='json'), indent=1))}"
        "</pre></details>" for r in runs)
    charts = ('<div class="chart" id="c_by_setting"></div><div class="chart" id="c_delays">'
              '</div><div class="chart" id="c_curve"></div>') + "".join(
        f'<div class="chart" id="c_{k}"></div>' for k in shown)
    first = runs[0] if runs else None
    by_setting = {"title": say("chart.by_setting", strategy=named(first))
                  if first else "",
                  "series": [{"name": say(f"setting.{k}"), "data": [
                      row[f"infections_{k}"] for row in first.rows] if first else []}
                      for k in SETTINGS]}
    ep = first.epi if first and first.epi else {}
    reach = max((i + 1 for k in DELAYS for i, v in enumerate(ep.get(k, [])) if v), default=1)
    epi_data = {
        "delays": {"title": say("chart.delays", strategy=named(first)) if first else "",
                   "x": list(range(reach)), "name": say("chart.delay_days"),
                   "series": [{"name": say(f"delay.{k}"), "data": ep.get(k, [])[:reach]}
                              for k in DELAYS]},
        "curve": {"title": say("chart.curve", strategy=named(first)) if first else "",
                  "series": [{"name": say(f"curve.{k}"), "data": ep.get(k, [])}
                             for k in ("by_onset", "by_report")]}}
    title = say("report.title", city=str(city.get("city", "")))
    page = f"""<!doctype html>
<html lang="{esc(lang)}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>{esc(title)}</title>
<style>{STYLE}</style>
<script>{js}</script></head><body>
<h1>{esc(title)}</h1>
<p>{esc(say("report.intro"))}</p><p>{esc(_describe(city, lang))}</p>
<h2>{esc(say("report.verdicts"))}</h2><div class="verdicts">{verdicts}</div>
{extra}
<h2>{esc(say("report.compared"))}</h2><div class="wide"><table><tr>{head}</tr>{body}</table>
</div>{strategies}
<h2>{esc(say("report.day_by_day"))}</h2><div class="grid">{charts}</div>
<script>
const D = {json.dumps(data, ensure_ascii=False)};
const titles = {json.dumps(titles, ensure_ascii=False)};
const axis = {json.dumps({"x": say("axis.date")}, ensure_ascii=False)};
const bySetting = {json.dumps(by_setting, ensure_ascii=False)};
const E = {json.dumps(epi_data, ensure_ascii=False)};
const base = (title) => ({{animation: false, title: {{text: title, left: 'left', top: 0,
                                                     textStyle: {{fontSize: 13}}}},
  tooltip: {{trigger: 'axis'}}, legend: {{top: 26, left: 'center'}},
  grid: {{top: 60, left: 55, right: 20, bottom: 40}}, yAxis: {{type: 'value'}}}});
echarts.init(document.getElementById('c_delays')).setOption({{...base(E.delays.title),
  xAxis: {{type: 'category', data: E.delays.x, name: E.delays.name, nameLocation: 'middle',
           nameGap: 26}},
  series: E.delays.series.map(s => ({{name: s.name, type: 'bar', data: s.data}}))}});
echarts.init(document.getElementById('c_curve')).setOption({{...base(E.curve.title),
  xAxis: {{type: 'category', data: D.days[0], name: axis.x, nameLocation: 'middle',
           nameGap: 26}},
  series: E.curve.series.map(s => ({{name: s.name, type: 'bar', data: s.data}}))}});
echarts.init(document.getElementById('c_by_setting')).setOption({{
  animation: false, title: {{text: bySetting.title, left: 'left', top: 0,
                             textStyle: {{fontSize: 13}}}},
  tooltip: {{trigger: 'axis'}}, legend: {{top: 26, left: 'center'}},
  grid: {{top: 60, left: 55, right: 20, bottom: 40}},
  xAxis: {{type: 'category', data: D.days[0], name: axis.x, nameLocation: 'middle',
           nameGap: 26}}, yAxis: {{type: 'value'}},
  series: bySetting.series.map(s => ({{name: s.name, type: 'bar', stack: 'all',
                                       data: s.data}}))}});
for (const key of Object.keys(titles)) {{
  const chart = echarts.init(document.getElementById('c_' + key));
  chart.setOption({{
    animation: false, title: {{text: titles[key], left: 'left', top: 0,
                                textStyle: {{fontSize: 13}}}},
    tooltip: {{trigger: 'axis'}}, legend: {{top: 26, left: 'center', data: D.names}},
    grid: {{top: 60, left: 55, right: 20, bottom: 40}},
    xAxis: {{type: 'category', data: D.days[0], name: axis.x, nameLocation: 'middle',
             nameGap: 26}},
    yAxis: {{type: 'value'}},
    series: D.names.map((n, i) => ({{name: n, type: 'line', showSymbol: false,
                                     data: D.series[key][i]}}))}});
  window.addEventListener('resize', () => chart.resize());
}}
</script></body></html>"""
    path.write_text(page, encoding="utf-8")


def write(runs: list[Run], out: Path, *, lang: str = DEFAULT_LANG,
          extra: str = "") -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    write_csv(runs, out / "metrics.csv")
    write_verdicts(runs, out / "verdicts.csv")
    write_html(runs, out / "report.html", lang=lang, extra=extra)
    return out / "metrics.csv", out / "report.html"
