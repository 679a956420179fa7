"""The testing domain's messages (rounds, tubes, points, labs, key groups, pooling plans) in
zh-Hans, zh-Hant and en; the traditional texts are converted from the simplified ones."""

from __future__ import annotations

from fangkong.core.messages import Catalogue, mt

T = Catalogue("testing", {
    "no_file": mt("{path}：文件不存在", "{path}: no such file"),
    "zone_option": mt("--zone {item}：应为 代码=等级", "--zone {item}: expected CODE=LEVEL"),
    "give_barcodes": mt("请给出 --file，或 --prefix 与 --count",
                        "give --file, or --prefix and --count"),
    "digits": mt("位数为 2、4、6、9、12 之一（省 … 村）",
                 "digits is one of 2, 4, 6, 9, 12 (province … village)"),
    "prevalence": mt("感染率应为 0 到 1 之间的小数（如 0.0001）",
                     "the prevalence is a fraction between 0 and 1 (e.g. 0.0001)"),
    "population": mt("人口数不能为负", "the population cannot be negative"),
    "series_empty": mt("系列 {series} 没有检测轮次", "series {series} has no rounds"),
    "no_rounds": mt("系列 {series} 中没有检测轮次", "no rounds in series {series}"),
    "area_outside": mt("该区域超出您的辖区", "the area is outside your jurisdiction"),
    "division_outside": mt("行政区划 {code} 超出您的辖区",
                           "division {code} is outside your jurisdiction"),
    "not_key_group": mt("{code} 不是政策包 {pack} 的重点人群：请给出 every_days",
                        "{code} is not a key group of pack {pack}: give every_days"),
    "local_group_days": mt("本地自定的人群必填", "required for a local group"),
    "key_group_exists": mt("重点人群 {code} 已存在", "key group {code} exists"),
    "key_group_not_found": mt("重点人群 {id} 不存在", "key group {id} not found"),
    "unknown_persons": mt("人员不存在", "unknown persons"),
    "no_person": mt("您的辖区内没有编号为 {ref} 的人员",
                    "no person with ref {ref} in your jurisdiction"),
    "same_tube": mt("与第 {line} 行为同一试管", "same tube as line {line}"),
    "same_tube_person": mt("与第 {line} 行为同一试管、同一人员",
                           "same tube and person as line {line}"),
    "unknown_division": mt("未知的行政区划代码 {code}", "unknown division code {code}"),
    "unknown_level": mt("未知的等级 {level}；政策包 {pack} 的等级为：{levels}",
                        "unknown level {level}; the pack {pack} has {levels}"),
    "round_invalid": mt("检测轮次无效", "the round is not valid"),
    "round_not_found": mt("检测轮次 {id} 不存在", "round {id} not found"),
    "round_outside": mt("检测轮次 {id} 覆盖 {codes}，超出您的辖区：只有辖区覆盖其全部区域的用户"
                        "才能结束它",
                        "round {id} covers {codes}, outside your jurisdiction: only a user "
                        "over its whole area closes it"),
    "barcodes_long": mt("条码最多 64 个字符", "barcodes are at most 64 characters"),
    "too_long": mt("过长：{barcode}", "too long: {barcode}"),
    "barcodes_elsewhere": mt("部分条码已发放给另一检测轮次",
                             "some barcodes were issued to another round"),
    "barcode_elsewhere": mt("条码 {barcode} 属于检测轮次 {round}",
                            "barcode {barcode} belongs to round {round}"),
    "point_exists": mt("代码为 {code} 的采样点已存在", "a point with code {code} exists"),
    "lab_exists": mt("代码为 {code} 的实验室已存在", "a lab with code {code} exists"),
    "s.deadline": mt("截止时间必须晚于开始时间", "the deadline must be after the start"),
})
