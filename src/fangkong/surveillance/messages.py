"""The surveillance domain's messages in zh-Hans, zh-Hant and en."""

from __future__ import annotations

from fangkong.core.messages import Catalogue, m

S = Catalogue("surveillance", {
    "unknown_division": m("未知的行政区划代码 {code}", "未知的行政區劃代碼 {code}",
                          "unknown division code {code}"),
    "sentinel_invalid": m("哨点信息无效", "哨點資訊無效", "the sentinel is not valid"),
    "sentinel_exists": m("代码为 {code} 的哨点已存在", "代碼為 {code} 的哨點已存在",
                         "a sentinel with code {code} already exists"),
    "monday": m("周报的 period_start 必须是星期一", "週報的 period_start 必須是星期一",
                "a weekly report's period_start must be a Monday"),
    "start_future": m("period_start 晚于今天", "period_start 晚於今天", "period_start is in the future"),
    "no_sentinel": m("您的辖区内没有在用的哨点 {code}", "您的轄區內沒有在用的哨點 {code}",
                     "no active sentinel {code} in your jurisdiction"),
    "report_invalid": m("报告无效", "報告無效", "the report is not valid"),
    "report_not_found": m("报告 {id} 不存在", "報告 {id} 不存在", "report {id} not found"),
    "needs_indicator": m("哨点预警规则需要指标", "哨點預警規則需要指標",
                         "a sentinel rule needs an indicator"),
    "rule_invalid": m("预警规则无效", "預警規則無效", "the alert rule is not valid"),
    "rule_exists": m("名为 {name} 的规则已存在", "名為 {name} 的規則已存在",
                     "a rule named {name} already exists"),
    "rule_not_found": m("预警规则 {id} 不存在", "預警規則 {id} 不存在", "alert rule {id} not found"),
    "end_before_start": m("评估的结束早于开始", "評估的結束早於開始",
                          "the evaluation's end is before its start"),
    "no_period": m("该范围内没有规则的统计周期", "該範圍內沒有規則的統計週期",
                   "no period of the rule falls in the range"),
    "alert_not_found": m("预警 {id} 不存在", "預警 {id} 不存在", "alert {id} not found"),
    "alert_cannot": m("预警 {id} 状态为 {status}，不能变为 {to}", "預警 {id} 狀態為 {status}，不能變為 {to}",
                      "alert {id} is {status}; it cannot become {to}"),
    "alert_no_investigation": m("预警 {id} 状态为 {status}，不能开展调查",
                                "預警 {id} 狀態為 {status}，不能展開調查",
                                "alert {id} is {status}; it cannot be investigated"),
    # the CLI
    "cli.no_file": m("{file}：文件不存在", "{file}：檔案不存在", "{file}: no such file"),
    "cli.dates": m("--from 和 --to 必须是日期（YYYY-MM-DD）", "--from 和 --to 必須是日期（YYYY-MM-DD）",
                   "--from and --to must be dates (YYYY-MM-DD)"),
    "cli.params": m("--params 不是 JSON：{error}", "--params 不是 JSON：{error}",
                    "--params is not JSON: {error}"),
    "cli.sentinel": m("哨点 {code}（{id}）已登记", "哨點 {code}（{id}）已登記",
                      "sentinel {code} ({id}) registered"),
    "cli.rule": m("规则 {id} 已创建", "規則 {id} 已建立", "rule {id} created"),
})
