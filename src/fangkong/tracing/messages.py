"""The tracing domain's messages in zh-Hans, zh-Hant and en (those a person reads in a form)."""

from __future__ import annotations

from fangkong.core.messages import Catalogue, m

TR = Catalogue("tracing", {
    "unknown_person": m("接触者不明", "接觸者不明", "unknown exposed person"),
    "no_person": m("辖区内无此人（或为病例本人）", "轄區內無此人（或為病例本人）",
                   "no such person (or the case's own person)"),
    "ends_before": m("结束早于开始", "結束早於開始", "the exposure ends before it starts"),
    "not_before_first": m("不能早于首次接触日期", "不能早於首次接觸日期",
                          "must not be before first_exposure"),
})
