from __future__ import annotations

from enum import StrEnum


class TaskStatus(StrEnum):
    open = "open"
    in_progress = "in_progress"
    done = "done"
    cancelled = "cancelled"

    @property
    def active(self) -> bool:
        return self in (TaskStatus.open, TaskStatus.in_progress)


ACTIVE = (TaskStatus.open, TaskStatus.in_progress)

LABELS = {
    "open": {"zh-Hans": "待办", "zh-Hant": "待辦", "en": "open"},
    "in_progress": {"zh-Hans": "办理中", "zh-Hant": "辦理中", "en": "in progress"},
    "done": {"zh-Hans": "已办结", "zh-Hant": "已辦結", "en": "done"},
    "cancelled": {"zh-Hans": "已取消", "zh-Hant": "已取消", "en": "cancelled"},
}

# Task types other domains create; the model accepts any lower_snake type, these have labels.
KNOWN_TYPES = {
    "notify_contact": {"zh-Hans": "通知密接", "zh-Hant": "通知密接", "en": "notify contact"},
    "transfer_to_quarantine": {"zh-Hans": "转运隔离", "zh-Hant": "轉運隔離",
                               "en": "transfer to quarantine"},
    "investigate_case": {"zh-Hans": "流调", "zh-Hant": "流調", "en": "investigate case"},
    "resample": {"zh-Hans": "单管复采", "zh-Hant": "單管複採", "en": "single-tube resample"},
    "deliver_supplies": {"zh-Hans": "物资配送", "zh-Hant": "物資配送", "en": "deliver supplies"},
    "stay_request": {"zh-Hans": "暂住协查", "zh-Hant": "暫住協查",
                     "en": "visitor stay request"},
    "assist_case": {"zh-Hans": "病例协查", "zh-Hant": "病例協查",
                    "en": "case handed over"},
    "isolation_sampling": {"zh-Hans": "隔离采样", "zh-Hant": "隔離採樣",
                           "en": "sampling in isolation"},
    "monitoring_test": {"zh-Hans": "监测异常检测", "zh-Hant": "監測異常檢測",
                        "en": "test after a monitoring report"},
    "monitoring_alert": {"zh-Hans": "监测异常", "zh-Hant": "監測異常",
                         "en": "abnormal monitoring report"},
    "monitoring_follow_up": {"zh-Hans": "监测未报告", "zh-Hant": "監測未報告",
                             "en": "monitoring report missing"},
    "monitoring_escalation": {"zh-Hans": "监测连续未报告", "zh-Hant": "監測連續未報告",
                              "en": "monitoring reports missing"},
    "other": {"zh-Hans": "其他", "zh-Hant": "其他", "en": "other"},
}
