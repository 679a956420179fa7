"""The policy engine's messages in zh-Hans, zh-Hant and en: why a measure breaks one of the
nine prohibitions (九不准), what could not be checked, the missing conditions of a zone's
next step, and the engine's errors. The English texts are those the engine always gave."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from fangkong.core.messages import (
    LANGS,
    SEMICOLON,
    Catalogue,
    Day,
    Term,
    Text,
    joined,
    m,
    mt,
    term,
    traditional,
)
from fangkong.policy.enums import NO_ZONE, PHASE_LABELS, HealthCode, PatientKind, PhaseKind
from fangkong.policy.pack import Pack
from fangkong.policy.schemas import Condition

P = Catalogue("policy", {
    # --- why a measure breaks a prohibition ---------------------------------------------------
    "p2.forced_return": m("对来自低风险地区的人员强制劝返", "對來自低風險地區的人員強制勸返",
                          "arrivals from low-risk areas are turned back (劝返)"),
    "p2.restricted": m("对来自低风险地区的人员采取{measure}；政策包 {pack} 的规定为：{allowed}",
                       "對來自低風險地區的人員採取{measure}；政策包 {pack} 的規定為：{allowed}",
                       "people from low-risk areas are put under {measure}; pack {pack} gives "
                       "them {allowed}"),
    "p4.unknown_role": m("“{role}”不是政策包 {pack} 的人员类别，却被采取{measure}",
                         "「{role}」不是政策包 {pack} 的人員類別，卻被採取{measure}",
                         "'{role}' is not a role of pack {pack}, yet they are put under "
                         "{measure}"),
    "p4.not_risk": m("政策包 {pack} 不将{role}列为风险人员，却对其采取{measure}",
                     "政策包 {pack} 不將{role}列為風險人員，卻對其採取{measure}",
                     "pack {pack} does not class '{role}' as risk persons, yet they are put "
                     "under {measure}"),
    "p4.not_risk_why": m("政策包 {pack} 不将{role}列为风险人员（{explanation}），却对其采取{measure}",
                         "政策包 {pack} 不將{role}列為風險人員（{explanation}），卻對其採取{measure}",
                         "pack {pack} does not class '{role}' as risk persons ({explanation}), "
                         "yet they are put under {measure}"),
    "p5.longer_or_stricter": m("{role}：该措施（{measure}）{excess}；政策包 {pack} 规定为：{plan}",
                               "{role}：該措施（{measure}）{excess}；政策包 {pack} 規定為：{plan}",
                               "'{role}': the measure ({measure}) {excess}; pack {pack} plans "
                               "{plan}"),
    "p5.longer": m("限制至第{last}天，而政策包的方案只限制至第{plan_last}天（多{longer}天）",
                   "限制至第{last}天，而政策包的方案只限制至第{plan_last}天（多{longer}天）",
                   "restricts until day {last} where the pack's plan restricts until day "
                   "{plan_last} ({longer} days longer)"),
    "p5.stricter": m("第{days}天更严格（{kinds}）", "第{days}天更嚴格（{kinds}）",
                     "stricter on days {days} ({kinds})"),
    "p5.instead": m("{kind}而非{plan_kind}", "{kind}而非{plan_kind}",
                    "{kind} instead of {plan_kind}"),
    "p3.held": m("末例感染者于{last}报告的{level}应于{effective}调整为{to}（{requires}），"
                 "却维持至{held}（多{late}天）",
                 "末例感染者於{last}報告的{level}應於{effective}調整為{to}（{requires}），"
                 "卻維持至{held}（多{late}天）",
                 "a '{level}' zone whose last infection was reported on {last} should become "
                 "'{to}' on {effective} ({requires}), but is held until {held} ({late} days too "
                 "long)"),
    "p1.beyond": m("限制来自{beyond}的人员出行；政策包 {pack} 只限制来自{allowed}的人员",
                   "限制來自{beyond}的人員出行；政策包 {pack} 只限制來自{allowed}的人員",
                   "restricts travel from {beyond} areas; pack {pack} restricts only {allowed}"),
    "p8.blocks": m("拦截符合政策包 {pack} 通行条件（{conditions}）的司乘人员：拦截第{entries}项",
                   "攔截符合政策包 {pack} 通行條件（{conditions}）的司乘人員：攔截第{entries}項",
                   "turns back drivers who meet pack {pack}'s conditions ({conditions}): blocks "
                   "entries {entries}"),
    "p8.nat": m("{hours}小时内核酸阴性", "{hours}小時內核酸陰性",
                "negative test within {hours} h"),
    "p8.no_nat": m("不查验核酸", "不查驗核酸", "no test required"),
    "p8.codes": m("健康码为{codes}", "健康碼為{codes}", "health code {codes}"),
    "p8.no_codes": m("不查验健康码", "不查驗健康碼", "no health code check"),
    "p8.from": m("来自{levels}", "來自{levels}", "from {levels} areas"),
    "p9.closes": m("在{level}关闭场所（{venue}）；政策包 {pack} 只允许在{allowed}关闭",
                   "在{level}關閉場所（{venue}）；政策包 {pack} 只允許在{allowed}關閉",
                   "closes venues ({venue}) in a '{level}' area; pack {pack} allows closures "
                   "only in {allowed} areas"),
    "p9.closes_essential": m("在{level}关闭保障生产生活的场所（{venue}）；政策包 {pack} 只允许在"
                             "{allowed}关闭",
                             "在{level}關閉保障生產生活的場所（{venue}）；政策包 {pack} 只允許在"
                             "{allowed}關閉",
                             "closes essential venues ({venue}) in a '{level}' area; pack "
                             "{pack} allows closures only in {allowed} areas"),
    "p6.refuses": m("以疫情防控为由拒绝为{patient}患者提供医疗服务，且未安排转诊",
                    "以疫情防控為由拒絕為{patient}患者提供醫療服務，且未安排轉診",
                    "refuses care to a {patient} patient on epidemic-control grounds with no "
                    "transfer arranged"),
    "p7.students": m("对从{level}离校返乡且符合条件（{conditions}）的高校学生采取{measure}",
                     "對從{level}離校返鄉且符合條件（{conditions}）的高校學生採取{measure}",
                     "students returning home from a '{level}' area who meet the conditions "
                     "({conditions}) are put under {measure}"),
    # --- a measure's phases ---------------------------------------------------------------------
    "phase": m("{days}天{kind}", "{days}天{kind}", "{days} days {kind}"),
    "nothing": m("无措施", "無措施", "nothing"),
    "no_phases": m("无管理阶段", "無管理階段", "no phases"),
    # --- what could not be checked --------------------------------------------------------------
    "note.measure": m("措施 {index}：{note}", "措施 {index}：{note}", "measure {index}: {note}"),
    "note.no_plan": m("政策包 {pack} 未给{role}规定可比较的方案（{explanation}）",
                      "政策包 {pack} 未給{role}規定可比較的方案（{explanation}）",
                      "pack {pack} gives '{role}' no plan to compare with ({explanation})"),
    "note.unknown_level": m("“{level}”不是政策包 {pack} 的风险区等级；未核查",
                            "「{level}」不是政策包 {pack} 的風險區等級；未核查",
                            "'{level}' is not a level of pack {pack}; not checked"),
    "note.base_level": m("{level}是基础等级，不是管控区域；未核查",
                         "{level}是基礎等級，不是管控區域；未核查",
                         "'{level}' is the base level, not a controlled zone; not checked"),
    "note.no_clock": m("政策包未给{level}规定解封时限，由指挥部决定",
                       "政策包未給{level}規定解封時限，由指揮部決定",
                       "the pack gives level '{level}' no lifting clock; the command decides"),
    "note.students": m("从{level}离校的学生按所在地区的规定管理：请作为人员管理措施核查",
                       "從{level}離校的學生按所在地區的規定管理：請作為人員管理措施核查",
                       "students leaving a '{level}' area are managed by their area's rules: "
                       "check it as a management measure"),
    # --- a zone's conditions ----------------------------------------------------------------
    "cond.clean": m("第{a}至{b}天（{first}至{last}）无新增感染",
                    "第{a}至{b}天（{first}至{last}）無新增感染",
                    "no new infection on days {a}-{b} ({first}..{last})"),
    "cond.clean_one": m("第{a}天（{first}）无新增感染", "第{a}天（{first}）無新增感染",
                        "no new infection on day {a} ({first})"),
    "cond.round": m("第{a}至{b}天（{first}至{last}）中一天区域核酸筛查全部阴性",
                    "第{a}至{b}天（{first}至{last}）中一天區域核酸篩查全部陰性",
                    "a negative area-wide round on one of days {a}-{b} ({first}..{last})"),
    "cond.round_one": m("第{a}天（{first}）区域核酸筛查全部阴性",
                        "第{a}天（{first}）區域核酸篩查全部陰性",
                        "a negative area-wide round on day {a} ({first})"),
    "cond.confirm": m("{text}（待确认：{id}）", "{text}（待確認：{id}）",
                      "{text} [confirm: {id}]"),
    # --- errors -------------------------------------------------------------------------------
    "no_prohibitions": m("政策包 {pack} 未规定“九不准”（九不准随第九版发布；请按 cn_v9 或更新的政策包"
                         "核查）",
                         "政策包 {pack} 未規定「九不准」（九不准隨第九版發布；請按 cn_v9 或更新的政策包"
                         "核查）",
                         "pack {pack} defines no prohibitions (九不准 were issued with the 9th "
                         "edition; check against cn_v9 or a later pack)"),
    "no_isolation": m("政策包 {pack} 未规定隔离规则（“isolation:”一节）；请用 --pack 选择其他政策包",
                      "政策包 {pack} 未規定隔離規則（「isolation:」一節）；請用 --pack 選擇其他政策包",
                      "pack {pack} defines no isolation rules (section 'isolation:'); choose "
                      "another pack with --pack"),
    "no_tracing": m("政策包 {pack} 没有流调规则（“tracing:”一节）",
                    "政策包 {pack} 沒有流調規則（「tracing:」一節）",
                    "pack {pack} has no tracing rules (a 'tracing:' section)"),
    "no_testing": m("政策包 {pack} 没有核酸检测规则（“testing”一节）",
                    "政策包 {pack} 沒有核酸檢測規則（「testing」一節）",
                    "policy pack {pack} has no testing rules (section 'testing')"),
    "testing_levels": m("政策包 {pack}：testing.pooling.by_level 含有未知等级 {levels}",
                        "政策包 {pack}：testing.pooling.by_level 含有未知等級 {levels}",
                        "policy pack {pack}: testing.pooling.by_level names unknown level(s) "
                        "{levels}"),
    "no_role": m("政策包 {pack} 没有人员类别“{role}”", "政策包 {pack} 沒有人員類別「{role}」",
                 "pack {pack} has no role '{role}'"),
    "no_lookback": m("政策包 {pack} 未规定追溯时段", "政策包 {pack} 未規定追溯時段",
                     "pack {pack} defines no look-back window"),
    "negative_after_anchor": m("末次阴性采样晚于发病或首次阳性采样",
                               "末次陰性採樣晚於發病或首次陽性採樣",
                               "the last negative sample is after the onset or first positive "
                               "sample"),
    "not_after_anchor": m("不得晚于起算日", "不得晚於起算日", "must not be after the anchor"),
    "anchor_needed": m("请给出发病日期或首次阳性采样日期", "請給出發病日期或首次陽性採樣日期",
                       "give the symptom onset date or the first positive sample date"),
    "one_of_two": m("两者必须给出其一", "兩者必須給出其一", "one of the two is required"),
    "window_ends_early": m("追溯时段的结束早于开始", "追溯時段的結束早於開始",
                           "the window would end before it starts"),
    "end_before_start": m("{end} 早于时段的开始 {start}", "{end} 早於時段的開始 {start}",
                          "{end} is before the window's start {start}"),
    "no_secondary": m("政策包 {pack} 没有密接的密接（次密接）的追溯时段",
                      "政策包 {pack} 沒有密接的密接（次密接）的追溯時段",
                      "pack {pack} has no look-back window for secondary contacts (次密接)"),
    "isolated_before_exposure": m("密接在首次暴露之前已被隔离", "密接在首次暴露之前已被隔離",
                                  "the close contact was isolated before the first exposure"),
    "not_before_exposure": m("不得早于 close_contact_first_exposure",
                             "不得早於 close_contact_first_exposure",
                             "must not be before close_contact_first_exposure"),
    "no_levels": m("政策包 {pack} 未规定风险区等级", "政策包 {pack} 未規定風險區等級",
                   "pack {pack} defines no risk-area levels"),
    "no_level": m("政策包 {pack} 没有等级“{level}”", "政策包 {pack} 沒有等級「{level}」",
                  "pack {pack} has no level '{level}'"),
    "not_on_path": m("在政策包 {pack} 中，等级“{level}”不在“{path}”的解封路径上",
                     "在政策包 {pack} 中，等級「{level}」不在「{path}」的解封路徑上",
                     "level '{level}' is not on the lifting path of '{path}' in pack {pack}"),
    "not_on_path_short": m("不在解封路径上", "不在解封路徑上", "not on the path"),
    "before_last_infection": m("评估日期早于末例感染者报告日", "評估日期早於末例感染者報告日",
                               "the evaluation date is before the last infection"),
    "date_before": m("{on} 早于 {last}", "{on} 早於 {last}", "{on} is before {last}"),
    "no_pack": m("没有政策包“{pack}”；现有：{available}", "沒有政策包「{pack}」；現有：{available}",
                 "no policy pack '{pack}'; available: {available}"),
    "packs_invalid": m("{count} 个政策包文件无效；请修正后重新加载",
                       "{count} 個政策包檔案無效；請修正後重新載入",
                       "{count} policy pack file(s) are not valid; fix them and load again"),
    "measures_invalid": m("措施无效", "措施無效", "the measures are not valid"),
    "no_file": m("{file}：文件不存在", "{file}：檔案不存在", "{file}: no such file"),
    "measures_not_json": m("措施文件不是有效的 JSON", "措施檔案不是有效的 JSON",
                           "the measures file is not valid JSON"),
    # --- the CLI ----------------------------------------------------------------------------
    "cli.not_managed": m("不作管理：{why}", "不作管理：{why}", "not managed: {why}"),
    "cli.tests": m("检测：{days}", "檢測：{days}", "tests: {days}"),
    "cli.no_tests": m("无", "無", "none"),
    "cli.released": m("解除日期", "解除日期", "released on"),
    "cli.if": m("若{when}：{then}", "若{when}：{then}", "if {when}: {then}"),
    "cli.step": m("{when}起", "{when}起", "on {when}"),
    "cli.lifted": m("（解除）", "（解除）", " (lifted)"),
    "cli.missing": m("尚缺：{what}", "尚缺：{what}", "missing: {what}"),
    "cli.measure": m("措施 {measure}", "措施 {measure}", "measure {measure}"),
    "cli.breaks": m("违反第{prohibition}条（{text}）：{why}", "違反第{prohibition}條（{text}）：{why}",
                    "breaks {prohibition} ({text}): {why}"),
    "cli.note": m("注", "註", "note"),
    "cli.none_broken": m("未违反“九不准”", "未違反「九不准」", "no prohibition broken"),
    "cli.measures": m("（{count} 项措施）", "（{count} 項措施）", "({count} measures)"),
    "cli.day0": mt("第 0 天 = {day}（{meaning}）", "day 0 = {day} ({meaning})"),
    "cli.window": mt("{start} 至 {end} 的暴露：{basis}", "exposures from {start} to {end}: {basis}"),
    "cli.open": mt("（未结束）", "(open)"),
    # --- a zone's verdict and schedule ------------------------------------------------------
    "verdict.escalates": mt("{day}报告新增感染：{level}升级为{to}，重新计时",
                            "new infection reported on {day}: '{level}' becomes '{to}' and the "
                            "clock restarts"),
    "verdict.not_due": mt("{level} → {to} 尚未到期：尚缺 {count} 项条件",
                          "'{level}' → '{to}' not yet due: {count} condition(s) missing"),
    "verdict.not_due_restarted": mt("{level} → {to} 尚未到期（已重新计时）：尚缺 {count} 项条件",
                                    "'{level}' → '{to}' not yet due (clock restarted): {count} "
                                    "condition(s) missing"),
    "verdict.due": mt("{level} → {to} 已到期：{met}", "'{level}' → '{to}' due: {met}"),
    "verdict.due_restarted": mt("{level} → {to} 已到期（已重新计时）：{met}",
                                "'{level}' → '{to}' due (clock restarted): {met}"),
    "zone_note.base": mt("{level}为基础等级：受影响县区的其余地区，县区内没有更高等级的风险区时恢复常态；"
                    "本身不计时",
                    "'{level}' is the base level: the rest of an affected county, returned to "
                    "normal when no zone above it remains in the county; no clock of its own"),
    "zone_note.no_clock": mt("政策包未给{level}规定解除计时；由指挥部决定",
                        "the pack gives level '{level}' no lifting clock; the command decides"),
    # --- the pack loader's diagnostics ------------------------------------------------------
    "load.id_mismatch": mt("应为“{expected}”（文件名），实际为 {got}",
                           "expected '{expected}' (the file's name), got {got}"),
    "load.no_file": mt("政策包文件不存在", "no such pack file"),
    "load.not_yaml": mt("不是有效的 YAML：{problem}", "not valid YAML: {problem}"),
    "load.not_mapping": mt("顶层应为键值映射，实际为 {got}",
                           "expected a mapping of keys at the top, got {got}"),
    "load.not_id": mt("应为政策包编号，实际为 {got}", "expected a pack id, got {got}"),
    "load.cycle": mt("extends 形成循环：{chain}", "extends cycle: {chain}"),
    "load.no_parent": mt("上级政策包“{parent}”不存在：{directory} 中没有文件 {parent}.yaml",
                         "parent pack '{parent}' not found: no file {parent}.yaml in "
                         "{directory}"),
    "load.bad_parent": mt("无法从 {directory} 加载上级政策包“{parent}”",
                          "parent pack '{parent}' cannot be loaded from {directory}"),
    # --- the bases of plans and look-back windows --------------------------------------------
    "basis.joined": mt("{start}，{end}", "{start}, {end}"),
    "basis.last_negative": mt("自末次阴性采样起（通过重复检测发现的感染）",
                              "from the last negative sample (infection found by repeated "
                              "testing)"),
    "basis.before_onset": mt("自发病前 {days} 天起", "from {days} days before symptom onset"),
    "basis.before_sample": mt("自首次阳性采样前 {days} 天起",
                              "from {days} days before the first positive sample"),
    "basis.until_isolated": mt("至病例被隔离时止", "until the case was isolated"),
    "basis.until_isolated_yet": mt("至病例被隔离时止（尚未隔离）",
                                   "until the case was isolated (not yet)"),
    "basis.after_sample": mt("至采样后 {days} 天止", "until {days} days after the sample"),
    "basis.after_onset": mt("至发病后 {days} 天且症状消失 {free} 天止（至少 {least} 天）",
                            "until {days} days after onset plus {free} days without symptoms "
                            "(at least {least} days)"),
    "basis.secondary": mt("自密接首次暴露于病例起，至该密接被隔离时止",
                          "from the close contact's first exposure to the case until the close "
                          "contact was isolated"),
    "anchor.last_exposure": mt("末次暴露", "last exposure (末次暴露)"),
    "anchor.arrival": mt("入境/抵达", "arrival (入境/抵达)"),
    "anchor.left_area": mt("离开风险区之日", "the day the person left the risk area (离开风险区)"),
    "anchor.shift_end": mt("闭环作业结束", "the end of the closed-loop shift (闭环作业结束)"),
    "anchor.diagnosis": mt("确诊/检测阳性之日", "the day the infection was confirmed (确诊/检测阳性)"),
})

_NONE = term("未划定风险区的地区", "none")
_PATIENTS = {
    PatientKind.emergency: term("急症", "emergency"),
    PatientKind.critical: term("危重症", "critical"),
    PatientKind.regular_treatment: term("需要规律性诊疗的", "regular_treatment"),
    PatientKind.pregnant: term("孕产妇", "pregnant"),
    PatientKind.other: term("其他", "other"),
}
_CODES = {HealthCode.green: term("绿码", "green"), HealthCode.yellow: term("黄码", "yellow"),
          HealthCode.red: term("红码", "red")}


def phase_kind(kind: PhaseKind | None) -> Term:
    """A phase's kind: its label in Chinese, its value (as the engine always wrote) in English."""
    if kind is None:
        return term("无", "none")
    label = PHASE_LABELS[kind]
    return Term({"zh-Hans": label["zh-Hans"], "zh-Hant": label["zh-Hant"], "en": kind.value})


def level(pack: Pack, name: str) -> Term:
    """A risk-area level: the pack's Chinese label, its id in English."""
    if name == NO_ZONE:
        return _NONE
    found = pack.zones.levels.get(name) if pack.zones else None
    return term(found.label.zh, name) if found else Term({lang: name for lang in LANGS})


def role(pack: Pack, name: str) -> Term:
    """A role of persons: the pack's Chinese label, its id in English."""
    found = pack.roles.get(name)
    return term(found.label.zh, name) if found else Term({lang: name for lang in LANGS})


_GLOSS = re.compile(r"^(?P<zh>.*[^\x00-\x7f].*?)\s*\((?P<en>[\x00-\x7f]+)\)$")


def pack_text(text: str) -> Term:
    """A text of a pack (an explanation, a condition), written in Chinese with, often, an
    English gloss in brackets: Chinese readers get the Chinese part (in traditional characters
    for zh-Hant), English readers the whole text, as the pack gives it."""
    found = _GLOSS.match(text)
    hans = found.group("zh") if found else text
    return Term({"zh-Hans": hans, "zh-Hant": traditional(hans), "en": text})


def patient(kind: PatientKind) -> Term:
    return _PATIENTS[kind]


def health_code(code: HealthCode) -> Term:
    return _CODES[code]


def condition(c: Condition) -> Text:
    """A zone's lifting condition (of a step, or missing from a verdict) as a message."""
    if c.kind == "confirm":
        return P("cond.confirm", text=pack_text(c.text or ""), id=c.confirm)
    assert c.first is not None and c.last is not None
    key = f"cond.{c.kind}" + ("_one" if c.first == c.last else "")
    return P(key, a=c.first_day, b=c.last_day, first=Day(c.first), last=Day(c.last))


_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _read_condition(text: str) -> Text | str:
    found = P.parse(text, "cond.")
    if found is None:
        return text
    params: dict[str, Any] = {k: Day(date.fromisoformat(v)) if _ISO_DAY.fullmatch(v) else v
                              for k, v in found.params.items()}
    if "text" in found.params:
        params["text"] = pack_text(found.params["text"])
    return P(found.key, **params)


def verdict_reason(pack: Pack, text: str) -> Text | str:
    """A zone verdict's reason as stored (its English text) read back as a message, so that a
    proposal or a history made from it reads in its reader's language; a text that is not one
    (a person's own reason) as it is."""
    found = P.parse(text, "verdict.") or P.parse(text, "zone_note.")
    if found is None:
        return text
    params: dict[str, Any] = dict(found.params)
    for name in ("level", "to"):
        if name in params:
            params[name] = level(pack, params[name])
    if "day" in params and _ISO_DAY.fullmatch(params["day"]):
        params["day"] = Day(date.fromisoformat(params["day"]))
    if "met" in params:
        params["met"] = joined((_read_condition(t) for t in params["met"].split("; ")), SEMICOLON)
    return P(found.key, **params)


def read_condition(text: str) -> Text | str:
    """A lifting condition as stored or listed (its English text) read back as a message."""
    return _read_condition(text)
