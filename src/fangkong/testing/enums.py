"""Vocabularies of mass testing, with zh-Hans / zh-Hant / en labels in one place."""

from __future__ import annotations

from enum import StrEnum


class Result(StrEnum):
    positive = "positive"  # 阳性
    negative = "negative"  # 阴性
    invalid = "invalid"  # 无效 (re-test)


class FollowupStatus(StrEnum):
    open = "open"  # 待复核
    resolved = "resolved"  # 已处置


class Outcome(StrEnum):
    released = "released"  # 复核均阴性, 解除
    case_found = "case_found"  # 复核阳性, 转病例


class MemberStatus(StrEnum):
    pending = "pending"  # 待复核 (临时管控中)
    released = "released"  # 解除临时管控
    positive = "positive"  # 复核阳性 (病例)


class RoundStatus(StrEnum):
    open = "open"
    closed = "closed"


RESULT_ALIASES = {"positive": Result.positive, "pos": Result.positive, "阳性": Result.positive,
                  "+": Result.positive, "negative": Result.negative, "neg": Result.negative,
                  "阴性": Result.negative, "-": Result.negative, "invalid": Result.invalid,
                  "无效": Result.invalid}

LABELS: dict[str, dict[str, str]] = {
    "positive": {"zh-Hans": "阳性", "zh-Hant": "陽性", "en": "positive"},
    "negative": {"zh-Hans": "阴性", "zh-Hant": "陰性", "en": "negative"},
    "invalid": {"zh-Hans": "无效", "zh-Hant": "無效", "en": "invalid"},
    "open": {"zh-Hans": "待处置", "zh-Hant": "待處置", "en": "open"},
    "resolved": {"zh-Hans": "已处置", "zh-Hant": "已處置", "en": "resolved"},
    "released": {"zh-Hans": "已解除", "zh-Hant": "已解除", "en": "released"},
    "case_found": {"zh-Hans": "复核阳性", "zh-Hant": "複核陽性", "en": "case found"},
    "pending": {"zh-Hans": "待复核（临时管控）", "zh-Hant": "待複核（臨時管控）",
                "en": "pending re-test (temporary control)"},
    "closed": {"zh-Hans": "已结束", "zh-Hant": "已結束", "en": "closed"},
}
