"""The case domain's messages in zh-Hans, zh-Hant and en."""

from __future__ import annotations

from fangkong.core.messages import Catalogue, m

C = Catalogue("case", {
    "unknown_division": m("未知的行政区划代码 {code}", "未知的行政區劃代碼 {code}",
                          "unknown division code {code}"),
    "no_person": m("您的辖区内没有编号为 {ref} 的人员", "您的轄區內沒有編號為 {ref} 的人員",
                   "no person with ref {ref} in your jurisdiction"),
    "invalid": m("病例记录无效", "病例記錄無效", "the case record is not valid"),
    "exists": m("编号为 {ref} 的病例已存在", "編號為 {ref} 的病例已存在",
                "a case with ref {ref} already exists"),
    "invalid_classification": m("新的分类无效", "新的分類無效",
                                "the new classification is not valid"),
    "not_found": m("病例 {id} 不存在", "病例 {id} 不存在", "case {id} not found"),
    "filter_invalid": m("筛选条件无效", "篩選條件無效", "the filter is not valid"),
    "not_a_date": m("不是日期（YYYY-MM-DD）：{raw}", "不是日期（YYYY-MM-DD）：{raw}",
                    "not a date (YYYY-MM-DD): {raw}"),
    "unknown_classification": m("未知的病例分类 {raw}", "未知的病例分類 {raw}",
                                "unknown classification {raw}"),
    "unknown_value": m("未知的取值 {raw}", "未知的取值 {raw}", "unknown value {raw}"),
    "unknown_mode": m("未知的发现方式 {raw}", "未知的發現方式 {raw}", "unknown detection mode {raw}"),
    "not_division": m("不是行政区划代码：{raw}", "不是行政區劃代碼：{raw}",
                      "not a division code: {raw}"),
    "required": m("必填", "必填", "is required"),
    "one_of": m("必须是以下之一：{allowed}", "必須是以下之一：{allowed}", "must be one of: {allowed}"),
    "in_future": m("晚于当前时间", "晚於目前時間", "is in the future"),
    "needs_severity": m("确诊病例需要临床分型（轻型、普通型、重型、危重型）",
                        "確診病例需要臨床分型（輕型、普通型、重型、危重型）",
                        "a confirmed case needs a severity (mild, moderate, severe, critical)"),
    "severity_confirmed_only": m("临床分型只适用于确诊病例，不适用于 {classification}",
                                 "臨床分型只適用於確診病例，不適用於 {classification}",
                                 "severity applies to confirmed cases only, not {classification}"),
    "onset_after_report": m("发病日期晚于报告时间", "發病日期晚於報告時間", "onset is after the report"),
    "sampled_after_report": m("采样日期晚于报告时间", "採樣日期晚於報告時間", "sampled after the report"),
    "ref_repeated": m("编号 {ref} 已在第 {line} 行出现", "編號 {ref} 已在第 {line} 行出現",
                      "ref {ref} is already on line {line}"),
    "ref_not_yours": m("您的辖区不能写入此编号", "您的轄區不能寫入此編號",
                       "this ref cannot be written from your jurisdiction"),
})
