"""Formatting helpers given to every template (pages and the brief) for one language."""

from __future__ import annotations

from datetime import date
from typing import Any

from fangkong.case.enums import LABELS as CASE_LABELS
from fangkong.task import titles as task_titles
from fangkong.task.enums import KNOWN_TYPES
from fangkong.task.enums import LABELS as TASK_LABELS
from fangkong.web import i18n, sections


def helpers(lang: str, zone: str) -> dict[str, Any]:
    def cell(value: Any) -> str:
        if isinstance(value, bool) or value is None:
            return "—" if value is None else str(value)
        if isinstance(value, int):
            return i18n.fmt_number(value, lang)
        if isinstance(value, float):
            return i18n.fmt_number(value, lang, 1)
        if isinstance(value, date):
            return i18n.fmt_date(value, lang)
        return str(value)

    def figure(f: sections.Figure) -> str:
        if f.kind == "percent":
            return i18n.fmt_percent(f.value, lang)
        if f.kind == "days":
            return i18n.fmt_number(f.value, lang, 1)
        if f.kind == "ratio":
            return i18n.fmt_number(f.value, lang, 2)
        return cell(f.value)

    return {
        "lang": lang, "zone": zone, "LANGS": i18n.LANGS, "LANG_NAMES": i18n.LANG_NAMES,
        "t": lambda key: i18n.translate(key, lang),
        "case_label": lambda v: i18n.label(CASE_LABELS, v, lang),
        "task_label": lambda v: i18n.label(TASK_LABELS, v, lang),
        "task_title": lambda task, people=None: task_titles.render(
            task.title, task.title_key, task.title_params, lang, people),
        "type_label": lambda v: i18n.label(KNOWN_TYPES, v, lang),
        "num": lambda v, d=0: i18n.fmt_number(v, lang, d),
        "fdate": lambda v: i18n.fmt_date(v, lang),
        "fdt": lambda v: i18n.fmt_datetime(v, lang, zone),
        "cell": cell, "figure": figure, "place": lambda v: i18n.place(v or "", lang),
    }
