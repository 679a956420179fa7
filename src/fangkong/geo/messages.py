"""The divisions domain's messages in zh-Hans, zh-Hant and en."""

from __future__ import annotations

from fangkong.core.messages import Catalogue, m

G = Catalogue("geo", {
    "bad_code": m("行政区划代码 {code} 有 {digits} 位；应为 2、4、6、9 或 12 位",
                  "行政區劃代碼 {code} 有 {digits} 位；應為 2、4、6、9 或 12 位",
                  "division code {code} has {digits} digits; expected 2, 4, 6, 9 or 12"),
    "not_a_code": m("不是行政区划代码", "不是行政區劃代碼", "not a division code"),
    "not_inside": m("{where}：代码 {code} 不在 {parent} 之内", "{where}：代碼 {code} 不在 {parent} 之內",
                    "{where}: code {code} is not inside {parent}"),
    "province": m("--province 应为 2 位代码（如 44），而不是 {value}",
                  "--province 應為 2 位代碼（如 44），而不是 {value}",
                  "--province takes a 2-digit code such as 44, not {value}"),
    "no_province": m("没有省份 {province} 的行政区划数据", "沒有省份 {province} 的行政區劃資料",
                     "no division data for province {province}"),
    "no_boundary": m("行政区划 {code} 没有边界数据", "行政區劃 {code} 沒有邊界資料",
                     "no boundary for division {code}"),
    "unit_exists": m("单位代码 {code} 已存在", "單位代碼 {code} 已存在",
                     "unit code {code} already exists"),
    "division_not_found": m("行政区划 {code} 不存在", "行政區劃 {code} 不存在",
                            "division {code} not found"),
    # the CLI
    "cli.loaded": m("已加载 {divisions} 个行政区划、{boundaries} 个边界",
                    "已載入 {divisions} 個行政區劃、{boundaries} 個邊界",
                    "loaded {divisions} divisions and {boundaries} boundaries"),
    "cli.children": m("{count} 个下级：{shown}", "{count} 個下級：{shown}", "{count} children: {shown}"),
})
