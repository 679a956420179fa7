"""The monitoring domain's messages in zh-Hans, zh-Hant and en."""

from __future__ import annotations

from fangkong.core.messages import Catalogue, m

M = Catalogue("monitoring", {
    "period_not_found": m("没有监测期 {id}", "沒有監測期 {id}", "no monitoring period {id}"),
    "link_invalid": m("链接无效或已过期", "連結無效或已過期",
                      "the link is not valid or has expired"),
    "period_ended": m("监测期已结束", "監測期已結束", "the monitoring period has ended"),
    "day_outside": m("{day} 不在监测期内（{start} 至 {end}）",
                     "{day} 不在監測期內（{start} 至 {end}）",
                     "{day} is outside the monitoring period ({start} to {end})"),
    "day_future": m("{day} 尚未到来", "{day} 尚未到來", "{day} has not come yet"),
    "already_reported": m("{day} 已报告，报告不可更改", "{day} 已報告，報告不可更改",
                          "{day} has been reported already; reports cannot be changed"),
    "temperature_range": m("体温须在 34.0 至 43.0 °C 之间", "體溫須在 34.0 至 43.0 °C 之間",
                           "the temperature must be between 34.0 and 43.0 °C"),
    "temperature_needed": m("请填写体温", "請填寫體溫", "give the temperature"),
    "unknown_symptom": m("未知症状 {symptom}；应为以下之一：{known}",
                         "未知症狀 {symptom}；應為以下之一：{known}",
                         "unknown symptom {symptom}; expected one of: {known}"),
    "worker_channel": m("工作人员代报须注明上门或电话", "工作人員代報須註明上門或電話",
                        "a worker's report is entered after a visit or a call"),
    "col.period": m("监测期", "監測期", "period"),
    "col.person": m("人员", "人員", "person"),
    "col.division": m("区划", "區劃", "division"),
    "col.days": m("日期", "日期", "days"),
    "col.status": m("状态", "狀態", "status"),
    "col.reported": m("已报告", "已報告", "reported"),
    "col.flagged": m("异常", "異常", "flagged"),
    "col.day": m("日期", "日期", "day"),
    "cli.reported": m("已记录 {day} 的报告（第 {id} 号）", "已記錄 {day} 的報告（第 {id} 號）",
                      "report {id} of {day} recorded"),
    "cli.flagged": m("异常：已建立任务 {tasks}", "異常：已建立任務 {tasks}",
                     "flagged: tasks {tasks} created"),
    "yes": m("是", "是", "yes"),
    "no": m("否", "否", "no"),
})

SYMPTOMS = {
    "fever": m("发热", "發熱", "fever"),
    "cough": m("咳嗽", "咳嗽", "cough"),
    "sore_throat": m("咽痛", "咽痛", "sore throat"),
    "shortness_of_breath": m("气促", "氣促", "shortness of breath"),
    "loss_of_smell_or_taste": m("嗅觉味觉减退", "嗅覺味覺減退", "loss of smell or taste"),
    "fatigue": m("乏力", "乏力", "fatigue"),
    "diarrhoea": m("腹泻", "腹瀉", "diarrhoea"),
}
"""The names of the symptoms the shipped packs ask about (a pack naming another is shown its
id)."""
