"""The drill's results: metrics.csv (one row per day and strategy) and report.html, which
inlines the ECharts the dashboard vendors (fangkong/web/static/vendor/echarts.min.js,
Apache-2.0, see the README there) so that the report opens offline."""

from __future__ import annotations

import html
import json
from importlib import resources
from pathlib import Path
from typing import Any

from fangkong.core.tabular import csv_writer
from fangkong.drill.loop import COLUMNS, Run

CHARTS = [
    ("new_infections", "New infections (true, simulated) 新增感染"),
    ("new_detected", "New cases found 新增发现"),
    ("detected_in_community", "Found in the community 社会面发现"),
    ("detected_in_quarantine", "Found in quarantine 隔离管控中发现"),
    ("detected_fever_clinic", "Found at fever clinics 发热门诊"),
    ("detected_key_groups", "Found by routine testing of key groups 重点人群"),
    ("detected_area_rounds", "Found by area rounds 区域核酸"),
    ("contacts_identified", "Contacts identified 新增密接"),
    ("contacts_waiting_room", "Contacts waiting for a room 待转运密接"),
    ("hours_identified_to_quarantine", "Hours from identification to quarantine 密接转运时长"),
    ("hours_positive_to_transfer", "Hours from positive to transfer 阳性转运时长"),
    ("in_quarantine", "In centralized quarantine 集中隔离"),
    ("in_isolation", "In hospital or 方舱 (isolation) 隔离治疗"),
    ("zones_active", "Risk zones (towns) 风险区"),
    ("zones_high", "High-risk zones 高风险区"),
    ("tests_used", "PCR tubes used 核酸检测管数"),
    ("lab_backlog", "Samples waiting at the lab 实验室积压"),
    ("tasks_on_time_share", "Tasks done on time (share of those due) 任务按时办结率"),
    ("rt", "Reproduction number Rt"),
    ("cumulative_infections", "Cumulative infections 累计感染"),
]


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


def _describe(city: dict[str, object]) -> str:
    """The city's make-up as one readable line: 'agents 20,000 · households 7,706 · venues:
    market 9, ...'."""
    def value(v: object) -> str:
        if isinstance(v, dict):
            return ", ".join(f"{k} {value(x)}" for k, x in v.items())
        return f"{v:,}" if isinstance(v, int) else str(v)
    return " · ".join(f"{k.replace('_', ' ')}: {value(v)}" for k, v in city.items())


def write_html(runs: list[Run], path: Path) -> None:
    js = (resources.files("fangkong.web") / "static" / "vendor" / "echarts.min.js"
          ).read_text("utf-8")
    data = {"names": [r.strategy.name for r in runs],
            "days": [[row["date"] for row in r.rows] for r in runs],
            "series": {k: [[row[k] if row[k] != "" else None for row in r.rows] for r in runs]
                       for k, _ in CHARTS}}
    table = [totals(r) for r in runs]
    keys = list(table[0]) if table else []
    head = "".join(f"<th>{html.escape(k)}</th>" for k in keys)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(t.get(k, '')))}</td>" for k in keys)
                   + "</tr>" for t in table)
    city = runs[0].city_summary if runs else {}
    strategies = "".join(
        f"<details><summary>{html.escape(r.strategy.name)}</summary><pre>"
        f"{html.escape(json.dumps(r.strategy.model_dump(mode='json'), indent=1))}</pre>"
        "</details>" for r in runs)
    charts = "".join(f'<div class="chart" id="c_{k}"></div>' for k, _ in CHARTS)
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Fangkong drill 演练报告</title>
<style>body{{font-family:sans-serif;margin:1.5em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:3px 6px;font-size:13px}}
.grid{{display:grid;grid-template-columns:repeat(auto-fill,minmax(520px,1fr));gap:12px}}
.chart{{height:300px;border:1px solid #eee}}</style>
<script>{js}</script></head><body>
<h1>Drill 演练: {html.escape(str(city.get('city', '')))}</h1>
<p>A simulated outbreak in a synthetic city (every person synthetic) to which the platform
responded.</p><p>{html.escape(_describe(city))}</p>
<h2>Strategies compared</h2><table><tr>{head}</tr>{body}</table>{strategies}
<h2>Day by day</h2><div class="grid">{charts}</div>
<script>
const D = {json.dumps(data, ensure_ascii=False)};
const titles = {json.dumps(dict(CHARTS), ensure_ascii=False)};
for (const key of Object.keys(titles)) {{
  const chart = echarts.init(document.getElementById('c_' + key));
  chart.setOption({{
    animation: false, title: {{text: titles[key], left: 'left', top: 0,
                                textStyle: {{fontSize: 13}}}},
    tooltip: {{trigger: 'axis'}}, legend: {{top: 26, left: 'center', data: D.names}},
    grid: {{top: 60, left: 55, right: 20, bottom: 30}},
    xAxis: {{type: 'category', data: D.days[0]}}, yAxis: {{type: 'value'}},
    series: D.names.map((n, i) => ({{name: n, type: 'line', showSymbol: false,
                                     data: D.series[key][i]}}))}});
}}
</script></body></html>"""
    path.write_text(page, encoding="utf-8")


def write(runs: list[Run], out: Path) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    write_csv(runs, out / "metrics.csv")
    write_html(runs, out / "report.html")
    return out / "metrics.csv", out / "report.html"
