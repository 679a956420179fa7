"""The daily brief as a document: what :mod:`fangkong.brief.service` builds from the sections
the overview also shows and :mod:`fangkong.brief.render` writes as HTML, PDF and XLSX."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from fangkong.web.sections import Section
from fangkong.web.service import Jurisdiction


@dataclass
class BriefDoc:
    title: str
    jurisdiction: Jurisdiction
    day: date
    generated_at: datetime
    lang: str
    zone: str
    sections: list[Section]


def filename(doc: BriefDoc, fmt: str) -> str:
    stem = f"brief-{doc.jurisdiction.code}-{doc.day.isoformat()}-{doc.lang}"
    return f"{stem}-annex.pdf" if fmt == "annex" else f"{stem}.{fmt}"
