"""The daily brief reads in minutes: for a demo-sized city (the section shapes and table
lengths of `fangkong demo`'s 湛江市 on its last day: 74 risk zones, 98 groups of overdue
tasks, 18 clock rows, 21 Rt windows, 14 testing rounds...) the PDF has at most four pages,
in each language; every row is in the annex, a PDF of its own, and in the XLSX. The pages are
counted in the PDF itself (its page objects, in its compressed object streams too)."""

from __future__ import annotations

import re
import zlib
from datetime import UTC, date, datetime, timedelta

import pytest

from fangkong.brief import render
from fangkong.brief.doc import BriefDoc, filename
from fangkong.web.sections import Cell, Figure, Section, Table
from fangkong.web.service import Jurisdiction

DAY = date(2026, 12, 8)
NOTE = ("感染者 = 确诊病例 + 无症状感染者，按属地统计；近14天按报告日期（本地时间）计算，"
        "数据来自各辖区上报的病例记录。")


def pdf_pages(pdf: bytes) -> int:
    """The number of page objects of a PDF, in its object streams (FlateDecode) too."""
    parts = [pdf]
    for m in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            parts.append(zlib.decompress(m.group(1)))
        except zlib.error:
            continue
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", b"\n".join(parts)))


def _figures(prefix: str, n: int) -> list[Figure]:
    return [Figure(f"{prefix}{i}", f"指标名称{prefix}{i}", 1000 + 37 * i, "/cases")
            for i in range(n)]


def _table(title: str, columns: int, rows: int, *, tail: bool = False) -> Table:
    return Table(title, [f"列{i}" for i in range(columns)],
                 [[Cell(f"{title}{r:03d}")] + [Cell(r * 10 + c) for c in range(1, columns)]
                  for r in range(rows)], tail=tail)


def demo_sized(lang: str) -> BriefDoc:
    """A brief shaped like the demo city's (sections, figures, table sizes, notes)."""
    days = [DAY - timedelta(days=27 - i) for i in range(28)]
    trend = Table("每日新增", ["日期", "数量"], [[Cell(d), Cell(i % 17)] for i, d in
                                                enumerate(days)], across=True)
    spec = [  # key, figures, tables
        ("brief.cases_div", 4, [_table("感染者（按辖区）", 6, 11)]),
        ("brief.cases_mode", 0, [_table("发现方式", 3, 6)]),
        ("trend", 5, [trend]),
        ("rt", 4, [_table("滑动窗口", 5, 21, tail=True)]),
        ("contacts", 8, []),
        ("testing", 6, [_table("检测轮次", 6, 14), _table("阳性混管", 5, 3)]),
        ("isolation", 6, [_table("隔离房间储备", 6, 9), _table("床位", 3, 2)]),
        ("clocks", 6, [_table("24小时时限", 5, 18)]),
        ("zones", 7, [_table("现有风险区", 5, 74)]),
        ("brief.tasks", 3, [_table("超时任务", 4, 98)]),
        ("alerts", 3, [_table("预警", 5, 20)]),
        ("brief.prohibitions", 1, []),
    ]
    sections = []
    for key, n, tables in spec:
        chart = {"type": "line", "x": [d.isoformat() for d in days],
                 "y": [i % 17 for i in range(28)]} if key == "trend" else None
        sections.append(Section(key=key, title=f"{key} 章节标题", figures=_figures(key, n),
                                tables=tables, chart=chart, notes=[NOTE, NOTE[:40]]))
    return BriefDoc(title="湛江市 每日一研判", jurisdiction=Jurisdiction("4408", "湛江市"),
                    day=DAY, generated_at=datetime(2026, 12, 8, 0, 5, tzinfo=UTC),
                    lang=lang, zone="Asia/Shanghai", sections=sections)


@pytest.mark.parametrize("lang", ["zh-Hans", "en"])
def test_the_demo_sized_brief_is_at_most_four_pages(lang: str) -> None:
    doc = demo_sized(lang)
    body, media = render.render(doc, "pdf")
    assert media == "application/pdf" and body.startswith(b"%PDF")
    assert 2 <= pdf_pages(body) <= 4
    html = render.html(doc)
    # each long table shows its first rows (Rt's windows: its last) and points to the annex
    assert "现有风险区003" in html and "现有风险区004" not in html
    assert "滑动窗口020" in html and "滑动窗口000" not in html
    assert ("4 of 74 rows" if lang == "en" else "此处列出 4 行，共 74 行") in html


def test_the_annex_holds_every_row_in_a_file_of_its_own() -> None:
    doc = demo_sized("zh-Hans")
    annex, media = render.render(doc, "annex")
    assert media == "application/pdf" and pdf_pages(annex) > 4
    html = render.annex_html(doc)
    assert "现有风险区073" in html and "超时任务097" in html and "滑动窗口000" in html
    assert filename(doc, "annex") == "brief-4408-2026-12-08-zh-Hans-annex.pdf"


def test_pages_are_counted_from_the_pdf() -> None:
    """The counter against WeasyPrint's own layout of a document of known length."""
    from weasyprint import HTML

    long = "".join(f"<p style='page-break-after: always'>{i}</p>" for i in range(6))
    assert pdf_pages(HTML(string=f"<html><body>{long}</body></html>").write_pdf()) == 6
