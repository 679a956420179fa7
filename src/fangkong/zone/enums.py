"""Risk-area vocabularies. The levels themselves come from the active policy pack (high /
medium / low, or sealed / controlled / precaution); these are the zone's own states."""

from __future__ import annotations

from enum import StrEnum


class ZoneStatus(StrEnum):
    active = "active"
    lifted = "lifted"


class EventKind(StrEnum):
    designated = "designated"  # 划定
    level_changed = "level_changed"  # 调整
    lifted = "lifted"  # 解除
    infection = "infection"  # 新增感染者, restarts the clock
    round = "round"  # 区域核酸筛查
    proposal = "proposal"  # 评估建议
    proposal_rejected = "proposal_rejected"
    condition_confirmed = "condition_confirmed"  # a manual lifting condition of the pack met


class ProposalStatus(StrEnum):
    pending = "pending"
    applied = "applied"
    rejected = "rejected"
    superseded = "superseded"


LEVEL_LABELS = {
    "high": {"zh-Hans": "高风险区", "zh-Hant": "高風險區", "en": "high-risk area"},
    "medium": {"zh-Hans": "中风险区", "zh-Hant": "中風險區", "en": "medium-risk area"},
    "low": {"zh-Hans": "低风险区", "zh-Hant": "低風險區", "en": "low-risk area"},
    "sealed": {"zh-Hans": "封控区", "zh-Hant": "封控區", "en": "sealed zone"},
    "controlled": {"zh-Hans": "管控区", "zh-Hant": "管控區", "en": "controlled zone"},
    "precaution": {"zh-Hans": "防范区", "zh-Hant": "防範區", "en": "precaution zone"},
}

LANGUAGES = (("zh-Hans", "简体中文"), ("zh-Hant", "繁體中文"), ("en", "English"))

NOTICE_TEXT = {
    "zh-Hans": {"title": "风险区域公告", "as_of": "截至", "count": "风险区数量",
                "level": "等级", "name": "名称", "places": "范围", "since": "划定日期",
                "none": "目前没有风险区域。", "changes": "昨日以来的调整",
                "no_changes": "昨日以来没有调整。", "designated": "划定",
                "level_changed": "调整为", "lifted": "解除", "languages": "语言"},
    "zh-Hant": {"title": "風險區域公告", "as_of": "截至", "count": "風險區數量",
                "level": "等級", "name": "名稱", "places": "範圍", "since": "劃定日期",
                "none": "目前沒有風險區域。", "changes": "昨日以來的調整",
                "no_changes": "昨日以來沒有調整。", "designated": "劃定",
                "level_changed": "調整為", "lifted": "解除", "languages": "語言"},
    "en": {"title": "Public notice of risk areas", "as_of": "As of", "count": "Risk areas:",
           "level": "Level", "name": "Name", "places": "Places", "since": "Designated on",
           "none": "There are no risk areas at present.", "changes": "Changes since yesterday",
           "no_changes": "No changes since yesterday.", "designated": "designated",
           "level_changed": "changed", "lifted": "lifted", "languages": "Languages"},
}
