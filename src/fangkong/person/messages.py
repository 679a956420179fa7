"""The persons domain's messages in zh-Hans, zh-Hant and en."""

from __future__ import annotations

from fangkong.core.messages import Catalogue, m

PM = Catalogue("person", {
    "unknown_division": m("未知的行政区划代码 {code}", "未知的行政區劃代碼 {code}",
                          "unknown division code {code}"),
    "outside": m("行政区划 {code} 超出您的辖区", "行政區劃 {code} 超出您的轄區",
                 "division {code} is outside your jurisdiction"),
    "invalid": m("人员记录无效", "人員記錄無效", "the person record is not valid"),
    "id_taken": m("另一人员已登记此身份证件号码", "另一人員已登記此身分證件號碼",
                  "another person already has this identity document number"),
    "id_taken_short": m("已登记给另一人员", "已登記給另一人員", "already recorded for another person"),
    "exists": m("编号为 {ref} 的人员已存在", "編號為 {ref} 的人員已存在",
                "a person with ref {ref} already exists"),
    "not_found": m("人员 {id} 不存在", "人員 {id} 不存在", "person {id} not found"),
    "ref_not_found": m("编号为 {ref} 的人员不存在", "編號為 {ref} 的人員不存在",
                       "person with ref {ref} not found"),
    "identifiers": m("只有可编辑人员信息的角色才能查看未脱敏的证件号码和电话",
                     "只有可編輯人員資訊的角色才能檢視未遮罩的證件號碼和電話",
                     "only roles that may edit persons may see unmasked identifiers"),
})
