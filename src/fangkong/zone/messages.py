"""The risk-area domain's messages (errors, CLI lines) in zh-Hans, zh-Hant and en."""

from __future__ import annotations

from fangkong.core.messages import Catalogue, Term, m

Z = Catalogue("zone", {
    "invalid": m("风险区信息无效", "風險區資訊無效", "the zone is not valid"),
    "unknown_division": m("未知的行政区划代码 {code}", "未知的行政區劃代碼 {code}",
                          "unknown division code {code}"),
    "outside": m("行政区划 {code} 超出您的辖区", "行政區劃 {code} 超出您的轄區",
                 "division {code} is outside your jurisdiction"),
    "not_inside": m("范围 {member} 不在 {owner} 之内", "範圍 {member} 不在 {owner} 之內",
                    "member {member} is not inside {owner}"),
    "in_future": m("晚于今天", "晚於今天", "is in the future"),
    "report_in_future": m("报告日期晚于今天", "報告日期晚於今天", "the report date is in the future"),
    "case_not_found": m("病例 {id} 不存在", "病例 {id} 不存在", "case {id} not found"),
    "not_found": m("风险区 {id} 不存在", "風險區 {id} 不存在", "zone {id} not found"),
    "lifted": m("风险区 {code} 已于 {on} 解除；请重新划定", "風險區 {code} 已於 {on} 解除；請重新劃定",
                "zone {code} was lifted on {on}; designate a new one"),
    "already_level": m("风险区 {code} 已是 {level}", "風險區 {code} 已是 {level}",
                       "zone {code} is already {level}"),
    "proposal_not_found": m("调整建议 {id} 不存在", "調整建議 {id} 不存在",
                            "proposal {id} not found"),
    "proposal_decided": m("调整建议 {id} 已处理（{status}）", "調整建議 {id} 已處理（{status}）",
                          "proposal {id} is already {status}"),
    "no_condition": m("风险区 {code} 的解封路径中没有条件“{condition}”",
                      "風險區 {code} 的解封路徑中沒有條件「{condition}」",
                      "the pack's lifting path of zone {code} has no condition '{condition}'"),
    "no_infection": m("风险区 {code} 在 {on} 没有已知的感染者", "風險區 {code} 在 {on} 沒有已知的感染者",
                      "zone {code} had no known infection on {on}"),
    "before_infections": m("{on} 早于其感染者报告日", "{on} 早於其感染者報告日",
                           "{on} is before its infections"),
    # the CLI
    "cli.designated": m("已划定", "已劃定", "designated"),
    "cli.proposal": m("调整建议 {id}：{status}", "調整建議 {id}：{status}", "proposal {id}: {status}"),
    "cli.no_breach": m("没有违反“九不准”的风险区", "沒有違反「九不准」的風險區", "no breach"),
    "col.zone": m("风险区", "風險區", "zone"),
    "col.level": m("等级", "等級", "level"),
    "col.prohibition": m("条款", "條款", "prohibition"),
    "col.why": m("原因", "原因", "why"),
    "col.due": m("今日可调整为", "今日可調整為", "due"),
    "col.required": m("尚需满足", "尚需滿足", "still required"),
    "col.code": m("编号", "編號", "code"),
    "col.name": m("名称", "名稱", "name"),
    "col.places": m("范围", "範圍", "places"),
    "col.id": m("序号", "序號", "id"),
    "col.day0": m("末例感染者报告日", "末例感染者報告日", "day 0"),
    "col.since": m("划定日期", "劃定日期", "since"),
    "cli.lift": m("解除", "解除", "lift"),
    "cli.applied": m("{due}（已自动执行）", "{due}（已自動執行）", "{due} (applied)"),
    "status.pending": m("待审批", "待審批", "pending"),
    "status.applied": m("已执行", "已執行", "applied"),
    "status.rejected": m("已驳回", "已駁回", "rejected"),
    "status.superseded": m("已被取代", "已被取代", "superseded"),
})


def level_term(level: str) -> Term:
    """A risk level as the pack's vocabulary names it: its label in each language (its
    English label, not its value), the value itself when the platform does not know it."""
    from fangkong.zone.enums import LEVEL_LABELS

    return Term(LEVEL_LABELS.get(level) or {"zh-Hans": level, "zh-Hant": level, "en": level})
