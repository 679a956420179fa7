"""Surveillance vocabularies, with zh-Hans / zh-Hant / en labels."""

from __future__ import annotations

from enum import StrEnum


class SentinelKind(StrEnum):
    fever_clinic = "fever_clinic"  # 发热门诊
    primary_clinic = "primary_clinic"  # 基层医疗机构
    pharmacy = "pharmacy"  # 零售药店
    school = "school"  # 学校
    other = "other"


class Indicator(StrEnum):
    """What a sentinel counts in a period."""

    visits = "visits"  # 就诊人次
    positives = "positives"  # 阳性数
    sales_antipyretic = "sales_antipyretic"  # 退热药销售
    sales_cough = "sales_cough"  # 止咳药销售
    sales_antiviral = "sales_antiviral"  # 抗病毒药销售
    sales_antibiotic = "sales_antibiotic"  # 抗生素销售
    absences = "absences"  # 缺勤（缺课）人数


class Period(StrEnum):
    daily = "daily"
    weekly = "weekly"


class Method(StrEnum):
    ears_c1 = "ears-c1"
    ears_c2 = "ears-c2"
    ears_c3 = "ears-c3"
    farrington = "farrington"
    farrington_flexible = "farrington-flexible"


class SeriesKind(StrEnum):
    """What an alert rule watches."""

    sentinel = "sentinel"  # a sentinel indicator summed over the division's units
    cases = "cases"  # case counts from the case registry


class CaseSplit(StrEnum):
    """Which cases a case-based series counts (see fangkong.case.enums.DetectionMode)."""

    all = "all"
    community = "community"  # 社会面
    in_quarantine = "in_quarantine"  # 管控中（隔离或闭环）


class DateBasis(StrEnum):
    onset = "onset"  # 发病日期
    report = "report"  # 报告日期


class AlertStatus(StrEnum):
    open = "open"
    acknowledged = "acknowledged"
    investigating = "investigating"
    dismissed = "dismissed"


LABELS: dict[str, dict[str, str]] = {
    "fever_clinic": {"zh-Hans": "发热门诊", "zh-Hant": "發熱門診", "en": "fever clinic"},
    "primary_clinic": {"zh-Hans": "基层医疗机构", "zh-Hant": "基層醫療機構",
                       "en": "primary clinic"},
    "pharmacy": {"zh-Hans": "零售药店", "zh-Hant": "零售藥店", "en": "retail pharmacy"},
    "school": {"zh-Hans": "学校", "zh-Hant": "學校", "en": "school"},
    "other": {"zh-Hans": "其他", "zh-Hant": "其他", "en": "other"},
    "visits": {"zh-Hans": "就诊人次", "zh-Hant": "就診人次", "en": "visits"},
    "positives": {"zh-Hans": "阳性数", "zh-Hant": "陽性數", "en": "positives"},
    "sales_antipyretic": {"zh-Hans": "退热药销售", "zh-Hant": "退熱藥銷售",
                          "en": "sales of antipyretics"},
    "sales_cough": {"zh-Hans": "止咳药销售", "zh-Hant": "止咳藥銷售",
                    "en": "sales of cough medicine"},
    "sales_antiviral": {"zh-Hans": "抗病毒药销售", "zh-Hant": "抗病毒藥銷售",
                        "en": "sales of antivirals"},
    "sales_antibiotic": {"zh-Hans": "抗生素销售", "zh-Hant": "抗生素銷售",
                         "en": "sales of antibiotics"},
    "absences": {"zh-Hans": "缺勤人数", "zh-Hant": "缺勤人數", "en": "absences"},
    "daily": {"zh-Hans": "日报", "zh-Hant": "日報", "en": "daily"},
    "weekly": {"zh-Hans": "周报", "zh-Hant": "週報", "en": "weekly"},
    "community": {"zh-Hans": "社会面", "zh-Hant": "社會面", "en": "community"},
    "in_quarantine": {"zh-Hans": "管控中发现", "zh-Hant": "管控中發現",
                      "en": "found under control"},
    "all": {"zh-Hans": "全部", "zh-Hant": "全部", "en": "all"},
    "onset": {"zh-Hans": "发病日期", "zh-Hant": "發病日期", "en": "onset date"},
    "report": {"zh-Hans": "报告日期", "zh-Hant": "報告日期", "en": "report date"},
    "open": {"zh-Hans": "待处置", "zh-Hant": "待處置", "en": "open"},
    "acknowledged": {"zh-Hans": "已确认", "zh-Hant": "已確認", "en": "acknowledged"},
    "investigating": {"zh-Hans": "调查中", "zh-Hant": "調查中", "en": "investigating"},
    "dismissed": {"zh-Hans": "已排除", "zh-Hant": "已排除", "en": "dismissed"},
}
