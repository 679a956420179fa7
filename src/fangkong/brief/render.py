"""The brief as a standalone HTML page, a PDF (WeasyPrint) and an XLSX of its tables."""

from __future__ import annotations

import io
import logging
import shutil
import subprocess
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from fangkong.brief.doc import BriefDoc
from fangkong.core.tabular import xlsx_append
from fangkong.web import i18n
from fangkong.web.command.messages import C
from fangkong.web.helpers import helpers

FORMATS = {"html": "text/html; charset=utf-8", "pdf": "application/pdf",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
           "annex": "application/pdf"}
# The brief itself is read in minutes (two to four pages): each table shows its first rows
# (a series in time, its last) and points to the annex, a PDF of its own with every row.
BRIEF_ROWS = 4
_TEMPLATES = Path(__file__).resolve().parent.parent / "web" / "templates"
_env = Environment(loader=FileSystemLoader(str(_TEMPLATES)),
                   autoescape=select_autoescape(["html"]))
log = logging.getLogger("fangkong.brief")


def html(doc: BriefDoc) -> str:
    """The brief as a standalone page: its tables cut to :data:`BRIEF_ROWS` rows."""
    note = C("brief.in_annex", shown="{shown}", total="{total}").render(doc.lang)
    return _env.get_template("brief.html").render(**helpers(doc.lang, doc.zone), doc=doc,
                                                  standalone=True, brief_limit=BRIEF_ROWS,
                                                  annex_text=note)


def annex_html(doc: BriefDoc) -> str:
    """The annex: every table of the brief, every row."""
    return _env.get_template("brief_annex.html").render(
        **helpers(doc.lang, doc.zone), doc=doc,
        annex_title=C("brief.annex").render(doc.lang))


@lru_cache(maxsize=1)
def cjk_fonts() -> tuple[str, ...]:
    """The font families with Chinese glyphs that fontconfig finds (``fc-list :lang=zh``),
    where WeasyPrint looks for them; none without fontconfig."""
    exe = shutil.which("fc-list")
    if exe is None:
        return ()
    try:
        found = subprocess.run([exe, ":lang=zh", "family"], capture_output=True, text=True,
                               timeout=30, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return ()
    return tuple(sorted({line.split(",")[0].strip() for line in found.splitlines()
                         if line.strip()}))


def font_warning(lang: str) -> str | None:
    """What to tell when no Chinese font is installed (the PDF would silently show every
    Chinese character as an empty box), in ``lang``; None when one is."""
    return None if cjk_fonts() else i18n.translate("brief.no_cjk_font", lang)


def pdf(doc: BriefDoc) -> bytes:
    from weasyprint import HTML

    warning = font_warning(doc.lang)
    if warning:
        log.warning(warning)

    out: bytes = HTML(string=html(doc)).write_pdf()
    return out


def annex_pdf(doc: BriefDoc) -> bytes:
    from weasyprint import HTML

    out: bytes = HTML(string=annex_html(doc)).write_pdf()
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, date | int | float) or value is None:
        return value
    return str(value)


def xlsx(doc: BriefDoc) -> bytes:
    t = lambda key: i18n.translate(key, doc.lang)  # noqa: E731
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = t("summary")[:31]
    xlsx_append(ws, [doc.title])
    ws["A1"].font = Font(bold=True, size=14)
    xlsx_append(ws, [t("jurisdiction"), f"{doc.jurisdiction.name} ({doc.jurisdiction.code})"])
    xlsx_append(ws, [t("brief.date"), doc.day])
    xlsx_append(ws, [t("as_of"), doc.generated_at.replace(tzinfo=None)])
    xlsx_append(ws, [])
    for section in doc.sections:
        xlsx_append(ws, [section.title])
        ws.cell(ws.max_row, 1).font = Font(bold=True)
        if not section.available:
            xlsx_append(ws, ["", t("not_available")])
        for f in section.figures:
            xlsx_append(ws, ["", f.label, f.value])
        for note in section.notes:
            xlsx_append(ws, ["", note])
    ws.column_dimensions["A"].width = 30
    ws.column_dimensions["B"].width = 40
    used: set[str] = {ws.title}
    for section in doc.sections:
        for n, table in enumerate(section.tables):
            name = (table.title or section.title)[:28]
            while name in used:
                name = f"{name[:26]}{n + 2}"
            used.add(name)
            sheet = wb.create_sheet(name)
            xlsx_append(sheet, table.columns)
            for cell in sheet[1]:
                cell.font = Font(bold=True)
            for row in table.rows:
                xlsx_append(sheet, [_plain(c.value) for c in row])
            for i in range(1, len(table.columns) + 1):
                sheet.column_dimensions[get_column_letter(i)].width = 18
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def render(doc: BriefDoc, fmt: str) -> tuple[bytes, str]:
    if fmt == "html":
        return html(doc).encode("utf-8"), FORMATS[fmt]
    if fmt == "pdf":
        return pdf(doc), FORMATS[fmt]
    if fmt == "annex":
        return annex_pdf(doc), FORMATS[fmt]
    return xlsx(doc), FORMATS[fmt]
