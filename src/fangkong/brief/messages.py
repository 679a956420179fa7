"""The brief's errors (its command, its page, the measures file it checks) in zh-Hans, zh-Hant
and en; the traditional texts are converted from the simplified ones."""

from __future__ import annotations

from fangkong.core.messages import Catalogue, mt

B = Catalogue("brief", {
    "formats": mt("未知的格式 {bad}；可选：{formats}",
                  "unknown format(s) {bad}; choose from {formats}"),
    "none": mt("（无）", "(none)"),
    "lang": mt("未知的语言 {lang}；可选：{langs}", "unknown language {lang}; choose from {langs}"),
    "date": mt("--date：不是日期（YYYY-MM-DD）：{day}", "--date: not a date (YYYY-MM-DD): {day}"),
    "format": mt("未知的格式 {format}；应为以下之一：{formats}",
                 "unknown format {format}; one of {formats}"),
    "no_file": mt("{path}：文件不存在", "{path}: no such file"),
    "not_yaml": mt("{where}：不是有效的 YAML 或 JSON", "{where}: not valid YAML or JSON"),
    "not_measures": mt("{path}：应为措施列表（或含“measures”的映射）",
                       "{path}: expected a list of measures (or a mapping with 'measures')"),
})
