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
})
