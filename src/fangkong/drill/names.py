"""The names a drill gives the records it makes (sites, rounds, its lab, zones, venues) and the
notes it writes, in the three languages.

They are data: stored in the database and shown as they are on the pages, so a drill stores
them in the deployment's language (the drill plays a Chinese city's command: simplified
Chinese, :data:`fangkong.web.i18n.DEFAULT_LANG`, unless told otherwise). Which records are a
drill's is never read from these names (``drill_record`` says it, :mod:`fangkong.drill.runs`).
"""

from __future__ import annotations

from fangkong.isolation.enums import LABELS as SITE_LABELS
from fangkong.web.i18n import DEFAULT_LANG, LANGS, place


def _m(hans: str, hant: str, en: str) -> dict[str, str]:
    return {"zh-Hans": hans, "zh-Hant": hant, "en": en}


NAMES: dict[str, dict[str, str]] = {
    "lab": _m("演练核酸检测实验室", "演練核酸檢測實驗室", "drill PCR lab"),
    "mobile_lab": _m("演练移动核酸检测实验室（外援）", "演練移動核酸檢測實驗室（外援）",
                     "drill mobile PCR labs (sent in)"),
    "site": _m("演练{kind}（{district}{number}号）", "演練{kind}（{district}{number}號）",
               "drill {kind} {district} {number}"),
    "round": _m("演练区域核酸 第{day}天", "演練區域核酸 第{day}天", "drill area round day {day}"),
    "zone": _m("{district}{town}（演练 {run}）", "{district}{town}（演練 {run}）",
               "{district} {town} (drill {run})"),
    "venue": _m("{kind}{number}号", "{kind}{number}號", "{kind} {number}"),
    "zone_reason": _m("社会面感染（演练）", "社會面感染（演練）", "community infections (drill)"),
    "traced": _m("演练流调已完成", "演練流調已完成", "traced by the drill's responder"),
    "symptoms": _m("出现症状（演练）", "出現症狀（演練）", "symptom onset (drill)"),
    "named": _m("{setting}：流调中提及", "{setting}：流調中提及",
                "{setting}: named in the interview"),
    "ended": _m("演练 {run} 开始：此前的演练已结束", "演練 {run} 開始：此前的演練已結束",
                "drill {run} starts: an earlier drill ended"),
    "stays_ended": _m("演练 {run} 开始：此前演练的隔离与居家管理结束",
                      "演練 {run} 開始：此前演練的隔離與居家管理結束",
                      "drill {run} starts: an earlier drill's stays end"),
    "stood_down": _m("演练 {run} 开始：此前演练的隔离点转入备用",
                     "演練 {run} 開始：此前演練的隔離點轉入備用",
                     "drill {run} starts: an earlier drill's site stands down"),
}
VENUE_KINDS = {"market": _m("农贸市场", "農貿市場", "market"),
               "supermarket": _m("超市", "超市", "supermarket"),
               "restaurant": _m("餐馆", "餐館", "restaurant"),
               "clinic": _m("诊所", "診所", "clinic"),
               "station": _m("车站", "車站", "station")}
SETTINGS = {"workplace": _m("工作场所", "工作場所", "workplace"),
            "school": _m("学校", "學校", "school")}


def name(key: str, lang: str = DEFAULT_LANG, **params: object) -> str:
    """The message ``key`` in ``lang`` with its parameters; place names (district, town)
    in traditional characters for zh-Hant, vocabulary values (a site's or venue's kind, a
    setting) in the language too."""
    lang = lang if lang in LANGS else DEFAULT_LANG
    values = dict(params)
    for k in ("district", "town"):
        if k in values:
            values[k] = place(str(values[k]), lang)
    if "kind" in values:
        kind = str(values["kind"])
        labels = SITE_LABELS.get(kind) or VENUE_KINDS.get(kind)
        values["kind"] = labels.get(lang, kind) if labels else kind
    if "setting" in values:
        setting = str(values["setting"])
        values["setting"] = SETTINGS.get(setting, {}).get(lang, setting)
    return NAMES[key][lang].format(**values)
