"""The persons domain's messages in zh-Hans, zh-Hant and en."""

from __future__ import annotations

from fangkong.core.messages import Catalogue, m, mt

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
    # imports of persons and of their stays (where they live or stay)
    "ref_again": mt("编号 {ref} 已在第 {line} 行出现", "ref {ref} is already on line {line}"),
    "same_id": mt("证件号码与第 {line} 行相同", "same ID number as line {line}"),
    "id_recorded": mt("证件号码已登记给另一人员", "ID number already recorded for another person"),
    "ref_hidden": mt("您的辖区不能写入此编号", "this ref cannot be written from your jurisdiction"),
    "written_meanwhile": mt("导入本文件期间，他人写入了编号或证件号码相同的人员；未导入任何内容："
                            "请重新导入",
                            "persons with the same refs or ID numbers were written by someone "
                            "else while this file was imported; nothing was imported: import "
                            "the file again"),
    "required": mt("必填", "is required"),
    "no_person_ref": mt("没有编号为 {ref} 的人员", "no person with ref {ref}"),
    "person_ref_not_found": mt("人员 {ref} 不存在", "person {ref} not found"),
    "before_since": mt("早于 since", "is before since"),
    "same_stay": mt("人员、行政区划和 since 与第 {line} 行相同",
                    "same person, division and since as line {line}"),
    "one_of_two": mt("请给出 person_ref 或 id_number（二者之一）",
                     "give person_ref or id_number (one of them)"),
    "stay_invalid": mt("居住申请无效", "the stay request is not valid"),
    "stay_not_found": mt("居住申请 {id} 不存在", "stay request {id} not found"),
    "stay_already": mt("居住申请 {id} 已是“{status}”状态", "stay request {id} is {status} already"),
    # the checks of identifiers and values (person.validation, person.records)
    "v.resident_id": mt("居民身份证号码应为 17 位数字加 1 位数字或 X",
                        "resident ID number must be 17 digits followed by a digit or X"),
    "v.region": mt("地区码 {code} 不属于已知的省份", "region code {code} is not in a known province"),
    "v.birth_not_date": mt("身份证号码中的出生日期 {digits} 不是有效日期",
                           "birth date {digits} in the ID number is not a date"),
    "v.birth_implausible": mt("身份证号码中的出生日期 {day} 不合理",
                              "birth date {day} in the ID number is not plausible"),
    "v.check_digit": mt("校验码不符（GB 11643）：有数字录入错误",
                        "check digit does not match (GB 11643): a digit is mistyped"),
    "v.document": mt("证件号码应为 5 至 30 位字母或数字", "document number must be 5-30 letters or digits"),
    "v.phone": mt("电话应为 11 位手机号（1xxxxxxxxxx）或带区号的固定电话（0759-1234567）",
                  "phone must be an 11-digit mobile number (1xxxxxxxxxx) or a landline with area "
                  "code (0759-1234567)"),
    "v.sex": mt("性别应为男、女或未知（male/female/unknown）",
                "sex must be male, female or unknown (男/女)"),
    "v.id_type": mt("证件类型应为以下之一：{allowed}", "id_type must be one of: {allowed}"),
    "v.not_date": mt("{value} 不是日期（应为 YYYY-MM-DD）", "{value} is not a date (expected YYYY-MM-DD)"),
    "v.future": mt("{day} 晚于今天", "{day} is in the future"),
    "v.flag": mt("应为是或否（true/false）", "must be true or false"),
    "v.too_long": mt("超过 {limit} 个字符", "is longer than {limit} characters"),
    "v.disagrees": mt("{value} 与身份证号码不符（号码显示为 {derived}）",
                      "{value} disagrees with the ID number, which says {derived}"),
})
