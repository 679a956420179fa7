"""Case vocabularies, with zh-Hans / zh-Hant / en labels and dashboard colours, in one place."""

from __future__ import annotations

from enum import StrEnum


class Classification(StrEnum):
    suspected = "suspected"  # 疑似病例
    asymptomatic = "asymptomatic"  # 无症状感染者
    confirmed = "confirmed"  # 确诊病例
    discarded = "discarded"  # 排除


class Severity(StrEnum):
    mild = "mild"  # 轻型
    moderate = "moderate"  # 普通型
    severe = "severe"  # 重型
    critical = "critical"  # 危重型


class DetectionMode(StrEnum):
    """How a case was found. The first two are found under control; the rest in the community
    (社会面), the figure the daily brief splits on."""

    in_quarantine = "in_quarantine"  # 隔离管控中发现
    closed_loop = "closed_loop"  # 闭环管理中发现
    community_screening = "community_screening"  # 社区筛查
    fever_clinic = "fever_clinic"  # 发热门诊
    routine_key_groups = "routine_key_groups"  # 重点人群常规检测
    entry_screening = "entry_screening"  # 入境/入市检测
    other = "other"

    @property
    def community(self) -> bool:
        return self not in (DetectionMode.in_quarantine, DetectionMode.closed_loop)


class Basis(StrEnum):
    manual = "manual"
    rule = "rule"


LABELS: dict[str, dict[str, str]] = {
    "suspected": {"zh-Hans": "疑似病例", "zh-Hant": "疑似病例", "en": "suspected"},
    "asymptomatic": {"zh-Hans": "无症状感染者", "zh-Hant": "無症狀感染者", "en": "asymptomatic"},
    "confirmed": {"zh-Hans": "确诊病例", "zh-Hant": "確診病例", "en": "confirmed"},
    "discarded": {"zh-Hans": "已排除", "zh-Hant": "已排除", "en": "discarded"},
    "mild": {"zh-Hans": "轻型", "zh-Hant": "輕型", "en": "mild"},
    "moderate": {"zh-Hans": "普通型", "zh-Hant": "普通型", "en": "moderate"},
    "severe": {"zh-Hans": "重型", "zh-Hant": "重型", "en": "severe"},
    "critical": {"zh-Hans": "危重型", "zh-Hant": "危重型", "en": "critical"},
    "in_quarantine": {"zh-Hans": "隔离管控中发现", "zh-Hant": "隔離管控中發現",
                      "en": "found in quarantine"},
    "closed_loop": {"zh-Hans": "闭环管理中发现", "zh-Hant": "閉環管理中發現",
                    "en": "found in closed-loop management"},
    "community_screening": {"zh-Hans": "社区筛查发现", "zh-Hant": "社區篩查發現",
                            "en": "community screening"},
    "fever_clinic": {"zh-Hans": "发热门诊", "zh-Hant": "發熱門診", "en": "fever clinic"},
    "routine_key_groups": {"zh-Hans": "重点人群检测", "zh-Hant": "重點人群檢測",
                           "en": "routine testing of key groups"},
    "entry_screening": {"zh-Hans": "入境筛查", "zh-Hant": "入境篩查", "en": "entry screening"},
    "other": {"zh-Hans": "其他", "zh-Hant": "其他", "en": "other"},
}
COLOURS = {"suspected": "#f0ad4e", "asymptomatic": "#5bc0de", "confirmed": "#d9534f",
           "discarded": "#999999"}
