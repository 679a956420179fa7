"""The titles of the tasks the platform makes itself (a contact to notify, a stay to sample, a
case handed over, ...): one message per kind in the three languages, with its parameters.

A generated task stores the message's key (``Task.title_key``) and its parameters
(``Task.title_params``) beside ``title``, which holds the English text (stable: what the API
returns as ``title``, searches and exports see). Whoever shows a task to a person renders it in
their language with :func:`render` (the task board; the API gives ``title_key`` and
``title_params`` for clients that translate). A task a person typed keeps their title as is.
Parameters named in :data:`VALUES` (a contact's role, why a tube is re-collected) are
translated too; the others (ids, refs, barcodes, dates) are shown as they are."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from fangkong.core.errors import Invalid, Problem
from fangkong.core.messages import CORE, Day
from fangkong.task.messages import T


def _m(hans: str, hant: str, en: str) -> dict[str, str]:
    return {"zh-Hans": hans, "zh-Hant": hant, "en": en}


TITLES: dict[str, dict[str, str]] = {
    "notify_contact": _m("通知{role}（人员 {person}，病例 {case}）",
                         "通知{role}（人員 {person}，病例 {case}）",
                         "Notify contact (person {person}) of case {case}: {role}"),
    "transfer_to_quarantine": _m("转运密接（人员 {person}）至集中隔离",
                                 "轉運密接（人員 {person}）至集中隔離",
                                 "Transfer contact (person {person}) to centralized "
                                 "quarantine"),
    "sample_stay": _m("隔离人员采样：{where}，第 {stay} 号，{day}",
                      "隔離人員採樣：{where}，第 {stay} 號，{day}",
                      "Sample stay {stay} ({where}) on {day}"),
    "assist_case": _m("病例协查：{ref}，单管阳性 {barcode}（核酸检测轮次 {round}）",
                      "病例協查：{ref}，單管陽性 {barcode}（核酸檢測輪次 {round}）",
                      "Case handed over: {ref}, positive single tube {barcode} (testing round "
                      "{round})"),
    "resample": _m("单管复采：{ref}（{why} {barcode}）", "單管複採：{ref}（{why} {barcode}）",
                   "Single-tube re-collection: {ref} ({why} {barcode})"),
    "assist_request": _m("区域协查 {request}：病例 {case} 的 {count} 名密接",
                         "區域協查 {request}：病例 {case} 的 {count} 名密接",
                         "Cross-region request {request}: {count} contact(s) of case {case}"),
    "stay_request": _m("暂住协查：{ref} 自 {since} 起暂住 {place}",
                       "暫住協查：{ref} 自 {since} 起暫住 {place}",
                       "Visitor stay request: {ref} staying in {place} since {since}"),
    "investigate_case": _m("流调：病例 {case}", "流調：病例 {case}", "Investigate case {case}"),
    "monitoring_test": _m("健康监测异常，安排核酸检测（人员 {person}，{day}）",
                          "健康監測異常，安排核酸檢測（人員 {person}，{day}）",
                          "Test person {person}: abnormal monitoring report of {day}"),
    "monitoring_alert": _m("健康监测异常：人员 {person}，{day}（{why}）",
                           "健康監測異常：人員 {person}，{day}（{why}）",
                           "Abnormal monitoring report: person {person}, {day} ({why})"),
    "monitoring_follow_up": _m("健康监测未报告：人员 {person}，{day}",
                               "健康監測未報告：人員 {person}，{day}",
                               "No monitoring report: person {person}, {day}"),
    "monitoring_escalation": _m("连续 {days} 天未报告健康监测：人员 {person}（至 {day}）",
                                "連續 {days} 天未報告健康監測：人員 {person}（至 {day}）",
                                "No monitoring report for {days} days in a row: person "
                                "{person} (to {day})"),
}

VALUES: dict[str, dict[str, dict[str, str]]] = {
    "role": {
        "close_contact": _m("密切接触者", "密切接觸者", "close contact"),
        "secondary_contact": _m("密接的密接", "密接的密接", "secondary contact"),
        "venue_exposed": _m("场所暴露人员", "場所暴露人員", "person exposed at a venue"),
        "household": _m("共同居住者", "共同居住者", "household member"),
        "inbound_traveller": _m("入境人员", "入境人員", "inbound traveller"),
        "from_high_risk_area": _m("高风险区旅居人员", "高風險區旅居人員",
                                  "person from a high-risk area"),
        "from_medium_risk_area": _m("中风险区旅居人员", "中風險區旅居人員",
                                    "person from a medium-risk area"),
    },
    "where": {
        "home": _m("居家", "居家", "home"),
    },
    "why": {
        "positive pool": _m("混管阳性", "混管陽性", "positive pool"),
        "invalid": _m("无效", "無效", "invalid"),
        "invalid re-test": _m("复检无效", "複檢無效", "invalid re-test"),
    },
}


_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
DAYS = ("day", "since")
"""Parameters that are calendar days (stored ISO): 2022年5月3日 in Chinese."""


def _value(name: str, value: Any, lang: str) -> Any:
    if name in DAYS and isinstance(value, str) and _ISO_DAY.fullmatch(value):
        return Day(date.fromisoformat(value)).render(lang)
    return VALUES.get(name, {}).get(str(value), {}).get(lang, value)


def _text(key: str, params: dict[str, Any], lang: str) -> str:
    values = {name: _value(name, value, lang) for name, value in params.items()}
    return TITLES[key].get(lang, TITLES[key]["en"]).format(**values)


def titled(key: str, **params: Any) -> dict[str, Any]:
    """A generated task's ``title`` (English), ``title_key`` and ``title_params``: the
    keyword arguments of its TaskCreate."""
    kept = {name: value if isinstance(value, int) else str(value)
            for name, value in params.items()}
    return {"title": _text(key, kept, "en")[:300], "title_key": key, "title_params": kept}


def check(key: str | None, params: dict[str, Any] | None) -> None:
    """Invalid unless ``key`` is a known message whose parameters ``params`` give."""
    if key is None:
        return
    if key not in TITLES:
        raise Invalid(T("unknown_title", key=key), problems=[Problem(
            CORE("expected_one_of", values=", ".join(sorted(TITLES))), field="title_key")])
    try:
        _text(key, params or {}, "en")
    except KeyError as missing:
        raise Invalid(T("title_param", missing=missing, key=key),
                      problems=[Problem(CORE("missing"), field=f"title_params.{missing.args[0]}")]
                      ) from None


def render(title: str, key: str | None, params: dict[str, Any] | None, lang: str,
           people: Mapping[int, str] | None = None) -> str:
    """A task's title in ``lang``: its message, or the title a person gave it. ``people``
    (person id -> how the reader knows them: a name, a ref) replaces the person's id, for a
    reader who may read persons."""
    if key is None or key not in TITLES:
        return title
    values = dict(params or {})
    person = _id(values.get("person"))
    if people and person is not None and person in people:
        values["person"] = people[person]
    try:
        return _text(key, values, lang)
    except (KeyError, IndexError, ValueError):
        return title


def _id(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def person_ids(params: Iterable[dict[str, Any] | None]) -> set[int]:
    """The persons the titles of these tasks (their ``title_params``) name by id."""
    return {i for p in params if p and (i := _id(p.get("person"))) is not None}
