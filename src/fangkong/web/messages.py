"""The web layer's own messages (jurisdiction choice, language) in zh-Hans, zh-Hant and en."""

from __future__ import annotations

from fangkong.core.messages import Catalogue, m

WEB = Catalogue("web", {
    "division_not_found": m("行政区划 {code} 不存在", "行政區劃 {code} 不存在",
                            "division {code} not found"),
    "outside": m("行政区划 {code} 不在您的辖区内", "行政區劃 {code} 不在您的轄區內",
                 "division {code} is not in your jurisdiction"),
    "no_jurisdiction": m("您没有辖区", "您沒有轄區", "you have no jurisdiction"),
    "unknown_language": m("未知的语言 {lang}", "未知的語言 {lang}", "unknown language {lang}"),
})
