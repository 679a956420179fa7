"""Languages of the web pages and the brief: labels in zh-Hans (default), zh-Hant and en, and
dates and numbers formatted for each (Babel's CLDR data)."""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from babel.core import Locale
from babel.dates import format_date, format_datetime
from babel.numbers import NumberPattern, format_percent, parse_pattern

LANGS = ("zh-Hans", "zh-Hant", "en")
DEFAULT_LANG = "zh-Hans"
LANG_NAMES = {"zh-Hans": "简体中文", "zh-Hant": "繁體中文", "en": "English"}
_LOCALES = {"zh-Hans": "zh_Hans_CN", "zh-Hant": "zh_Hant_TW", "en": "en_GB"}


def lang_or_default(value: str | None) -> str:
    return value if value in LANGS else DEFAULT_LANG


def _m(hans: str, hant: str, en: str) -> dict[str, str]:
    return {"zh-Hans": hans, "zh-Hant": hant, "en": en}


MESSAGES: dict[str, dict[str, str]] = {
    "app": _m("防控指挥平台", "防控指揮平台", "Fangkong command"),
    "skip": _m("跳到正文", "跳到正文", "Skip to content"),
    "nav.overview": _m("总览", "總覽", "Overview"),
    "nav.cases": _m("病例", "病例", "Cases"),
    "nav.tasks": _m("督办任务", "督辦任務", "Tasks"),
    "nav.zones": _m("风险区", "風險區", "Risk zones"),
    "nav.testing": _m("核酸检测", "核酸檢測", "Testing"),
    "nav.isolation": _m("隔离管控", "隔離管控", "Isolation"),
    "nav.surveillance": _m("监测预警", "監測預警", "Surveillance"),
    "nav.brief": _m("每日研判", "每日研判", "Daily brief"),
    "nav.report": _m("报告病例", "報告病例", "Report a case"),
    "nav.community": _m("社区管控", "社區管控", "Community"),
    "nav.search": _m("查询", "查詢", "Search"),
    "nav.testing_desk": _m("检测工作台", "檢測工作台", "Testing desk"),
    "nav.isolation_desk": _m("隔离工作台", "隔離工作台", "Isolation desk"),
    "login.title": _m("登录", "登入", "Sign in"),
    "login.username": _m("用户名", "使用者名稱", "Username"),
    "login.password": _m("密码", "密碼", "Password"),
    "login.submit": _m("登录", "登入", "Sign in"),
    "login.failed": _m("用户名或密码错误", "使用者名稱或密碼錯誤", "Wrong username or password"),
    "login.locked": _m(
        "登录失败次数过多，已暂时锁定，请 {minutes} 分钟后再试。",
        "登入失敗次數過多，已暫時鎖定，請 {minutes} 分鐘後再試。",
        "Too many failed sign-ins: signing in is locked for now. Try again in {minutes} min."),
    "logout": _m("退出", "登出", "Sign out"),
    "password.title": _m("修改密码", "變更密碼", "Change password"),
    "password.old": _m("当前密码", "目前密碼", "Current password"),
    "password.new": _m("新密码", "新密碼", "New password"),
    "password.hint": _m(
        "至少 {min} 个字符；不能是常见密码，不能包含用户名，不能是同一字符重复。"
        "修改后其他设备上的登录将全部失效。",
        "至少 {min} 個字元；不能是常見密碼，不能包含使用者名稱，不能是同一字元重複。"
        "變更後其他裝置上的登入將全部失效。",
        "At least {min} characters; not a common password, not containing your username, not "
        "one character repeated. Every other session of yours ends when it changes."),
    "password.submit": _m("修改密码", "變更密碼", "Change password"),
    "password.done": _m("密码已修改，其他会话已全部退出。", "密碼已變更，其他工作階段已全部登出。",
                        "Password changed; every other session of yours has ended."),
    "password.wrong_old": _m("当前密码错误", "目前密碼錯誤", "The current password is wrong"),
    "password.rule.too_short": _m("新密码太短：至少需要 {min} 个字符。",
                                  "新密碼太短：至少需要 {min} 個字元。",
                                  "The new password is too short: it needs at least {min} "
                                  "characters."),
    "password.rule.one_character": _m("新密码不能是同一字符重复。", "新密碼不能是同一字元重複。",
                                      "The new password is one character repeated."),
    "password.rule.contains_username": _m("新密码不能包含用户名。", "新密碼不能包含使用者名稱。",
                                          "The new password contains your username."),
    "password.rule.common": _m("新密码是常见密码，容易被猜中，请换一个。",
                               "新密碼是常見密碼，容易被猜中，請換一個。",
                               "The new password is a common password, easily guessed: "
                               "choose another."),
    "prefs.lang": _m("语言", "語言", "Language"),
    "prefs.large": _m("大字模式", "大字模式", "Large text"),
    "prefs.save": _m("应用", "套用", "Apply"),
    "jurisdiction": _m("辖区", "轄區", "Jurisdiction"),
    "signed_in_as": _m("当前用户", "目前使用者", "Signed in as"),
    "as_of": _m("数据截至", "資料截至", "Data as of"),
    "not_available": _m("尚未接入", "尚未接入", "Not available yet"),
    "not_available.text": _m(
        "该功能模块尚未上线，此处不显示任何数字。",
        "該功能模組尚未上線，此處不顯示任何數字。",
        "This capability is not available on this deployment yet; no figures are shown."),
    "open_records": _m("查看明细", "查看明細", "Open the records"),
    "none": _m("无", "無", "none"),
    "total": _m("合计", "合計", "Total"),
    "unattributed": _m("未细分到下级", "未細分到下級", "Not attributed to a sub-division"),
    # overview
    "ov.title": _m("疫情防控总览", "疫情防控總覽", "Overview"),
    "ov.map": _m("近14天感染者分布", "近14天感染者分佈", "Infections reported in the last 14 days"),
    "ov.map.note": _m(
        "感染者 = 确诊病例 + 无症状感染者，按属地（责任辖区）统计；点击区域查看病例。",
        "感染者 = 確診病例 + 無症狀感染者，按屬地（責任轄區）統計；點擊區域檢視病例。",
        "Infections = confirmed cases + asymptomatic infections, by owning jurisdiction; "
        "click a division to see its cases."),
    "ov.today": _m("今日新增感染者", "今日新增感染者", "New infections today"),
    "ov.today.quarantine": _m("隔离管控中发现", "隔離管控中發現", "Found in quarantine"),
    "ov.today.community": _m("社会面发现", "社會面發現", "Found in the community (社会面)"),
    "ov.today.total": _m("新增合计", "新增合計", "New, all"),
    "ov.tasks": _m("督办任务", "督辦任務", "Task supervision"),
    "ov.tasks.overdue": _m("超时未办结", "逾時未辦結", "Overdue"),
    "ov.tasks.escalated": _m("已逐级上报", "已逐級上報", "Escalated"),
    "ov.tasks.active": _m("在办任务", "在辦任務", "Active"),
    "ov.trend": _m("每日新增感染者（近28天）", "每日新增感染者（近28天）",
                   "New infections per day (last 28 days)"),
    "sec.contacts": _m("密接者识别与管控", "密接者識別與管控", "Contacts identified and managed"),
    "sec.testing": _m("区域核酸检测进度", "區域核酸檢測進度", "Testing rounds in progress"),
    "sec.isolation": _m("隔离房间与床位", "隔離房間與床位", "Rooms and beds against capacity"),
    "sec.clocks": _m("24小时时限（阳性转运、密接隔离）", "24小時時限（陽性轉運、密接隔離）",
                     "24-hour clocks (positive to transfer, contact to quarantine)"),
    "sec.alerts": _m("监测预警", "監測預警", "Alerts"),
    "sec.zones": _m("风险区划定、调整、解封", "風險區劃定、調整、解封",
                    "Zones designated, changed, lifted"),
    # isolation
    "iso.no_access": _m("当前角色无权查看隔离数据。", "目前角色無權檢視隔離資料。",
                        "Your role may not see isolation data."),
    "iso.active_rooms": _m("启用房间", "啟用房間", "Active rooms"),
    "iso.standby_rooms": _m("备用房间", "備用房間", "Standby rooms"),
    "iso.occupied_rooms": _m("今晚占用房间", "今晚佔用房間", "Rooms occupied tonight"),
    "iso.people": _m("今晚在住人员", "今晚在住人員", "People staying tonight"),
    "iso.rooms_needed": _m("按储备系数应备房间", "按儲備係數應備房間",
                           "Rooms needed (reserve ratio)"),
    "iso.free_active_rooms": _m("空余启用房间", "空餘啟用房間", "Free active rooms"),
    "iso.shortfall": _m("房间缺口", "房間缺口", "Shortfall"),
    "iso.beds_general": _m("普通床位", "普通床位", "General beds"),
    "iso.beds_general_used": _m("普通床位占用", "普通床位佔用", "General beds occupied"),
    "iso.beds_icu": _m("ICU床位", "ICU床位", "ICU beds"),
    "iso.beds_icu_used": _m("ICU床位占用", "ICU床位佔用", "ICU beds occupied"),
    "iso.beds": _m("医院床位", "醫院床位", "Hospital beds"),
    "iso.bed_level": _m("床位类型", "床位類型", "Bed level"),
    "iso.beds_total": _m("床位数", "床位數", "Beds"),
    "iso.beds_used": _m("今晚占用", "今晚佔用", "Occupied tonight"),
    "iso.reserve": _m("隔离房间储备（按县区）", "隔離房間儲備（按縣區）",
                      "Isolation room reserve per county"),
    "iso.note": _m("不含居家隔离；占用按今晚计。", "不含居家隔離；佔用按今晚計。",
                   "Home quarantine excluded; occupancy is tonight's."),
    "iso.class": _m("类别", "類別", "Class"),
    "iso.transfers": _m("转运人次", "轉運人次", "Transfers"),
    "iso.median_h": _m("中位用时（小时）", "中位用時（小時）", "Median hours"),
    "iso.p90_h": _m("90%用时（小时）", "90%用時（小時）", "90th percentile hours"),
    "iso.clock_case_arrived": _m("阳性已转运", "陽性已轉運", "Cases transferred"),
    "iso.clock_case_waiting": _m("阳性待转运", "陽性待轉運", "Cases waiting"),
    "iso.clock_case_24h": _m("阳性24小时内转运率", "陽性24小時內轉運率",
                             "Cases transferred within 24 h"),
    "iso.clock_contact_arrived": _m("密接已集中隔离", "密接已集中隔離", "Contacts in quarantine"),
    "iso.clock_contact_waiting": _m("密接待转运", "密接待轉運", "Contacts waiting"),
    "iso.clock_contact_24h": _m("密接24小时内隔离率", "密接24小時內隔離率",
                                "Contacts in quarantine within 24 h"),
    "iso.clock_note": _m("近14天的转运；从阳性结果或密接判定时起算。",
                         "近14天的轉運；從陽性結果或密接判定時起算。",
                         "Transfers of the last 14 days, from the positive result or the "
                         "contact's identification."),
    # testing
    "testing.no_access": _m("当前角色无权查看检测数据。", "目前角色無權檢視檢測資料。",
                            "Your role may not see testing data."),
    "testing.rounds_open": _m("进行中的检测轮次", "進行中的檢測輪次", "Rounds in progress"),
    "testing.round": _m("轮次", "輪次", "Round"),
    "testing.deadline": _m("截止", "截止", "Deadline"),
    "testing.target": _m("应检人数", "應檢人數", "To be tested"),
    "testing.sampled": _m("已采样", "已採樣", "Sampled"),
    "testing.coverage": _m("覆盖率", "覆蓋率", "Coverage"),
    "testing.past_due": _m("超时未出结果的管", "逾時未出結果的管", "Tubes past due"),
    "testing.pools": _m("待处置阳性混管", "待處置陽性混管", "Positive pools open"),
    "testing.queue": _m("阳性混管处置队列（最早的在前）", "陽性混管處置佇列（最早的在前）",
                        "Positive pools being resolved (oldest first)"),
    "testing.tube": _m("管", "管", "Tube"),
    "testing.place": _m("地区", "地區", "Area"),
    "testing.opened": _m("开始处置", "開始處置", "Opened"),
    "testing.hours_open": _m("已处置小时", "已處置小時", "Hours open"),
    "testing.pending": _m("待复检 / 成员", "待複檢 / 成員", "Pending / members"),
    "testing.note": _m("应检尽检：按本辖区的目标人群统计。", "應檢盡檢：按本轄區的目標人群統計。",
                       "Coverage of this jurisdiction's target population."),
    # contacts
    "contacts.identified_today": _m("今日判定密接/次密接", "今日判定密接/次密接",
                                    "Contacts identified today"),
    "contacts.under_management": _m("管控中", "管控中", "Under management"),
    "contacts.identified_only": _m("已判定未通知", "已判定未通知", "Identified, not notified"),
    "contacts.released": _m("已解除", "已解除", "Released"),
    "contacts.became_case": _m("转为病例", "轉為病例", "Became cases"),
    "contacts.lost": _m("失访", "失訪", "Lost to follow-up"),
    "contacts.hours_to_id": _m("报告到判定（中位小时）", "報告到判定（中位小時）",
                               "Report to identification (median hours)"),
    "contacts.hours_to_mgmt": _m("报告到管控（中位小时）", "報告到管控（中位小時）",
                                 "Report to management (median hours)"),
    "contacts.note": _m("用时为今日判定者的中位数。", "用時為今日判定者的中位數。",
                        "Hours: median over the contacts identified today."),
    # surveillance
    "alerts.recent": _m("未排除的预警（最近20条）", "未排除的預警（最近20條）",
                        "Alerts not dismissed (latest 20)"),
    "alerts.period": _m("时段起", "時段起", "Period from"),
    "alerts.observed": _m("观测值", "觀測值", "Observed"),
    "alerts.bound": _m("预警阈值", "預警閾值", "Upper bound"),
    "alerts.note": _m("由预警规则（EARS、Farrington等）对哨点和病例序列检测产生。",
                      "由預警規則（EARS、Farrington等）對哨點和病例序列檢測產生。",
                      "Raised by the alert rules (EARS, Farrington...) on sentinel and case "
                      "series."),
    # zones
    "zones.title": _m("风险区", "風險區", "Risk zones"),
    "zones.active": _m("现有风险区", "現有風險區", "Active risk zones"),
    "zones.changes": _m("昨日以来调整", "昨日以來調整", "Changes since yesterday"),
    "zones.pending": _m("待审批的调整建议", "待審批的調整建議", "Proposals awaiting approval"),
    "zones.breaches": _m("违反“九不准”", "違反「九不准」", "Breaches of the nine prohibitions"),
    "zones.name": _m("名称", "名稱", "Name"),
    "zones.level": _m("等级", "等級", "Level"),
    "zones.places": _m("范围", "範圍", "Places"),
    "zones.day0": _m("末例感染者报告日", "末例感染者報告日", "Last infection reported"),
    "zones.next": _m("下一步", "下一步", "Next step"),
    "zones.next_date": _m("最早调整日期", "最早調整日期", "Earliest next change"),
    "zones.requires": _m("尚需满足", "尚需滿足", "Still required"),
    "zones.due": _m("今日可调整为", "今日可調整為", "Due today: becomes"),
    "zones.lift": _m("解除", "解除", "lifted"),
    "zones.empty": _m("辖区内没有风险区。", "轄區內沒有風險區。",
                      "There is no risk zone in this jurisdiction."),
    "zones.notice": _m("风险区域公告（公开页面）", "風險區域公告（公開頁面）",
                       "Public notice of risk areas"),
    "zones.note": _m("按当前启用的防控方案（政策包）的解封规则逐日评估。",
                     "按目前啟用的防控方案（政策包）的解封規則逐日評估。",
                     "Evaluated daily under the lifting rules of each zone's policy pack."),
    "zones.kind.designated": _m("划定", "劃定", "designated"),
    "zones.kind.level_changed": _m("调整", "調整", "level changed"),
    "zones.kind.lifted": _m("解除", "解除", "lifted"),
    "zones.proposal": _m("建议", "建議", "Proposal"),
    "zones.all_levels": _m("全部等级", "全部等級", "all levels"),
    "sec.rt": _m("有效再生数 Rt", "有效再生數 Rt", "Effective reproduction number Rt"),
    "rt.median": _m("最近窗口 Rt（中位数）", "最近窗口 Rt（中位數）", "Rt, latest window (median)"),
    "rt.lower": _m("95%可信区间下限", "95%可信區間下限", "95% credible interval, lower"),
    "rt.upper": _m("95%可信区间上限", "95%可信區間上限", "95% credible interval, upper"),
    "rt.cases": _m("窗口内感染者", "窗口內感染者", "Infections in the window"),
    "rt.window": _m("窗口", "窗口", "Window"),
    "rt.table": _m("各滑动窗口的 Rt", "各滑動窗口的 Rt", "Rt per sliding window"),
    "rt.local": _m("本土", "本土", "local"),
    "rt.imported": _m("输入", "輸入", "imported"),
    "rt.too_few": _m("病例数不足（后验变异系数大于0.3），不估计 Rt。",
                     "病例數不足（後驗變異係數大於0.3），不估計 Rt。",
                     "Too few cases for a posterior coefficient of variation of 0.3 or less: "
                     "no Rt shown."),
    "rt.no_si": _m("当前防控方案（政策包）未给出序列间隔，无法估计 Rt：",
                   "目前防控方案（政策包）未給出序列間隔，無法估計 Rt：",
                   "The active policy pack gives no serial interval, so Rt cannot be "
                   "estimated: "),
    "rt.method": _m(
        "Cori 等（2013）方法（与 EpiEstim 相同），按报告日期的感染者（确诊与无症状），"
        "入境检测发现者计为输入病例；先验 Gamma（均值5，标准差5）。",
        "Cori 等（2013）方法（與 EpiEstim 相同），按報告日期的感染者（確診與無症狀），"
        "入境檢測發現者計為輸入病例；先驗 Gamma（均值5，標準差5）。",
        "Cori et al. (2013), as EpiEstim: infections (confirmed and asymptomatic) by report "
        "date, those found by entry screening counted as imported; prior Gamma (mean 5, sd 5)."),
    "rt.si": _m("序列间隔", "序列間隔", "Serial interval"),
    "rt.days": _m("天", "天", "days"),
    # cases
    "cases.title": _m("病例列表", "病例列表", "Cases"),
    "cases.filter": _m("筛选", "篩選", "Filter"),
    "cases.reset": _m("清除筛选", "清除篩選", "Clear filters"),
    "cases.count": _m("符合条件的病例", "符合條件的病例", "Matching cases"),
    "cases.more": _m("下一页", "下一頁", "Next page"),
    "cases.empty": _m("没有符合条件的病例。", "沒有符合條件的病例。", "No case matches."),
    "f.division": _m("属地", "屬地", "Owning division"),
    "f.classification": _m("分类", "分類", "Classification"),
    "f.found": _m("发现途径", "發現途徑", "How found"),
    "f.mode": _m("发现方式", "發現方式", "Detection mode"),
    "f.from": _m("报告日期自", "報告日期自", "Reported from"),
    "f.to": _m("报告日期至", "報告日期至", "Reported to"),
    "f.any": _m("全部", "全部", "any"),
    "f.infection": _m("感染者（确诊+无症状）", "感染者（確診+無症狀）",
                      "infections (confirmed + asymptomatic)"),
    "f.quarantine": _m("隔离管控中发现", "隔離管控中發現", "found in quarantine"),
    "f.community": _m("社会面发现", "社會面發現", "found in the community"),
    "col.ref": _m("编号", "編號", "Ref"),
    "table.first": _m("显示前 {shown} 条，共 {total} 条。", "顯示前 {shown} 條，共 {total} 條。",
                      "The first {shown} of {total}."),
    "table.all": _m("查看全部", "查看全部", "See all"),
    "col.name": _m("姓名", "姓名", "Name"),
    "col.classification": _m("分类", "分類", "Classification"),
    "col.severity": _m("临床分型", "臨床分型", "Severity"),
    "col.mode": _m("发现方式", "發現方式", "How found"),
    "col.onset": _m("发病日期", "發病日期", "Onset"),
    "col.reported": _m("报告时间", "報告時間", "Reported"),
    "col.division": _m("属地", "屬地", "Owning division"),
    "col.current": _m("现所在地", "現所在地", "Current division"),
    "col.count": _m("数量", "數量", "Count"),
    # case page
    "case.title": _m("病例", "病例", "Case"),
    "case.person": _m("人员", "人員", "Person"),
    "case.timeline": _m("时间线", "時間線", "Timeline"),
    "case.onset": _m("发病", "發病", "Symptom onset"),
    "case.sampling": _m("首次阳性采样", "首次陽性採樣", "First positive sample"),
    "case.report": _m("报告", "報告", "Reported"),
    "case.change": _m("分类变更", "分類變更", "Classification change"),
    "case.by": _m("操作人", "操作人", "by"),
    "case.chain": _m("传播链与暴露", "傳播鏈與暴露", "Exposures and transmission chain"),
    "case.transfer": _m("转运", "轉運", "Transfer"),
    "zones.cond.clean": _m("第{a}至{b}天（{first}至{last}）无新增感染",
                           "第{a}至{b}天（{first}至{last}）無新增感染",
                           "no new infection on days {a}-{b} ({first} to {last})"),
    "zones.cond.clean_one": _m("第{a}天（{first}）无新增感染", "第{a}天（{first}）無新增感染",
                               "no new infection on day {a} ({first})"),
    "zones.cond.round": _m("第{a}至{b}天（{first}至{last}）中一天区域核酸筛查全部阴性",
                           "第{a}至{b}天（{first}至{last}）中一天區域核酸篩查全部陰性",
                           "a negative area-wide round on one of days {a}-{b} ({first} to "
                           "{last})"),
    "zones.cond.round_one": _m("第{a}天（{first}）区域核酸筛查全部阴性",
                               "第{a}天（{first}）區域核酸篩查全部陰性",
                               "a negative area-wide round on day {a} ({first})"),
    "zones.cond.confirm": _m("{text}（待确认：{id}）", "{text}（待確認：{id}）",
                             "{text} (to confirm: {id})"),
    "case.chain_none": _m("未与其他病例关联。", "未與其他病例關聯。",
                          "Not linked to any other case."),
    "case.chain_masked": _m("其他辖区病例", "其他轄區病例", "Another jurisdiction's case"),
    "case.chain_case": _m("病例", "病例", "Case"),
    "case.chain_generation": _m("代", "代", "Generation"),
    "case.chain_links": _m("传播关系", "傳播關係", "Links"),
    "case.chain_from": _m("传染源", "傳染源", "From"),
    "case.chain_to": _m("被传染者", "被傳染者", "To"),
    "case.chain_date": _m("日期", "日期", "Date"),
    "case.chain_setting": _m("场景", "場景", "Setting"),
    "case.transfer_none": _m("本辖区内没有此人的转运记录。", "本轄區內沒有此人的轉運記錄。",
                             "No transfer of this person in your jurisdiction."),
    "case.transfer_requested": _m("申请转运", "申請轉運", "Requested"),
    "case.transfer_dispatched": _m("派车出发", "派車出發", "Dispatched"),
    "case.transfer_arrived": _m("到达", "到達", "Arrived"),
    "case.transfer_home": _m("住所", "住所", "home"),
    # tasks
    "tasks.title": _m("督办任务看板", "督辦任務看板", "Task supervision board"),
    "tasks.by_unit": _m("按单位统计超时任务", "按單位統計逾時任務", "Overdue tasks per unit"),
    "tasks.list": _m("在办任务（超时优先）", "在辦任務（逾時優先）",
                     "Active tasks (overdue first)"),
    "tasks.empty": _m("没有在办任务。", "沒有在辦任務。", "No active task."),
    "tasks.unit": _m("单位", "單位", "Unit"),
    "tasks.no_unit": _m("（未指定单位）", "（未指定單位）", "(no unit)"),
    "tasks.type": _m("类型", "類型", "Type"),
    "tasks.title_col": _m("事项", "事項", "Task"),
    "tasks.due": _m("时限", "時限", "Due"),
    "tasks.status": _m("状态", "狀態", "Status"),
    "tasks.escalation": _m("上报层级", "上報層級", "Escalated to"),
    "tasks.overdue_by": _m("已超时", "已逾時", "overdue by"),
    "tasks.only_overdue": _m("只看超时", "只看逾時", "Overdue only"),
    "tasks.only_escalated": _m("只看已上报", "只看已上報", "Escalated only"),
    "hours": _m("小时", "小時", "h"),
    # brief
    "brief.title": _m("每日一研判", "每日一研判", "Daily brief"),
    "brief.date": _m("日期", "日期", "Date"),
    "brief.generate": _m("生成", "產生", "Generate"),
    "brief.download": _m("下载", "下載", "Download"),
    "brief.no_cjk_font": _m(
        "未找到中文字体（fc-list :lang=zh 无结果）：PDF 中的每个汉字都将显示为空白方框。"
        "请安装 fonts-noto-cjk（Debian：apt-get install fonts-noto-cjk）。",
        "未找到中文字型（fc-list :lang=zh 無結果）：PDF 中的每個漢字都將顯示為空白方框。"
        "請安裝 fonts-noto-cjk（Debian：apt-get install fonts-noto-cjk）。",
        "No Chinese font found (fc-list :lang=zh lists none): every Chinese character of the "
        "PDF will be an empty box. Install fonts-noto-cjk (Debian: apt-get install "
        "fonts-noto-cjk)."),
    "brief.cases_div": _m("感染者（按辖区）", "感染者（按轄區）", "Infections by division"),
    "brief.cases_mode": _m("感染者（按发现途径）", "感染者（按發現途徑）",
                           "Infections by how found"),
    "brief.new": _m("当日新增", "當日新增", "New on the day"),
    "brief.new_confirmed": _m("新增确诊", "新增確診", "New confirmed"),
    "brief.new_asymptomatic": _m("新增无症状", "新增無症狀", "New asymptomatic"),
    "brief.cumulative": _m("累计感染者", "累計感染者", "Cumulative infections"),
    "brief.tasks": _m("超时任务与逐级上报", "逾時任務與逐級上報", "Overdue tasks and escalations"),
    "brief.trend": _m("趋势", "趨勢", "Trend"),
    "brief.last7": _m("近7天新增", "近7天新增", "New, last 7 days"),
    "brief.prev7": _m("前7天新增", "前7天新增", "New, the 7 days before"),
    "brief.growth": _m("日增长率", "日增長率", "Daily growth rate"),
    "brief.doubling": _m("倍增时间（天）", "倍增時間（天）", "Doubling time (days)"),
    "brief.halving": _m("减半时间（天）", "減半時間（天）", "Halving time (days)"),
    "brief.trend.none": _m("病例数不足，无法计算增长率。", "病例數不足，無法計算增長率。",
                           "Too few cases to compute a growth rate."),
    "brief.trend.method": _m(
        "按报告日期统计；增长率 r = ln(近7天/前7天)/7，倍增时间 = ln2/r。",
        "按報告日期統計；增長率 r = ln(近7天/前7天)/7，倍增時間 = ln2/r。",
        "By report date; growth rate r = ln(last 7 days / the 7 before) / 7, "
        "doubling time = ln 2 / r."),
    "brief.prohibitions": _m("“九不准”核查", "「九不准」核查", "Nine-prohibition checks"),
    "brief.prohibitions.none": _m(
        "未提交本地措施，未作核查。可用 fangkong brief --measures 文件 提交。",
        "未提交本地措施，未作核查。可用 fangkong brief --measures 檔案 提交。",
        "No local measures were submitted, so none were checked "
        "(fangkong brief --measures FILE)."),
    "brief.prohibitions.ok": _m("所提交措施均未违反“九不准”。", "所提交措施均未違反「九不准」。",
                                "No submitted measure breaks a prohibition."),
    "brief.measures": _m("核查措施数", "核查措施數", "Measures checked"),
    "brief.violations": _m("违反项", "違反項", "Violations"),
    "brief.pack": _m("政策版本", "政策版本", "Policy pack"),
    "col.measure": _m("措施序号", "措施序號", "Measure"),
    "col.prohibition": _m("条款", "條款", "Prohibition"),
    "col.why": _m("原因", "原因", "Why"),
    "col.day": _m("日期", "日期", "Day"),
    "summary": _m("摘要", "摘要", "Summary"),
    "error.title": _m("出错了", "出錯了", "Something is wrong"),
    "back": _m("返回", "返回", "Back"),
    "csrf.refused": _m(
        "请求未执行：页面已过期，或并非来自本站。请返回、刷新页面后重试。",
        "請求未執行：頁面已過期，或並非來自本站。請返回、重新整理頁面後再試。",
        "The request was not carried out: the page had expired or did not come from this "
        "site. Go back, reload the page and try again."),
    "nav.users": _m("用户管理", "用戶管理", "Users"),  # the commander's user page
    "list.export": _m("导出", "匯出", "Export"),
    "brief.annex_pdf": _m("附件（完整表格，PDF）", "附件（完整表格，PDF）",
                          "Annex (the full tables, PDF)"),
}


@lru_cache(maxsize=1)
def _to_traditional() -> Any:
    import opencc

    return opencc.OpenCC("s2tw")  # characters only: no Taiwan phrase substitutions


@lru_cache(maxsize=20_000)
def place(name: str, lang: str) -> str:
    """A place name (stored as published, in simplified characters) for ``lang``: in
    traditional characters for zh-Hant, unchanged otherwise."""
    if lang != "zh-Hant" or not name:
        return name
    out: str = _to_traditional().convert(name)
    return out


def translate(key: str, lang: str) -> str:
    entry = MESSAGES.get(key)
    if entry is None:
        return key
    return entry.get(lang) or entry[DEFAULT_LANG]


def label(labels: dict[str, dict[str, str]], value: object, lang: str) -> str:
    """A vocabulary value's label (the enums' LABELS dicts) in ``lang``."""
    key = getattr(value, "value", value)
    entry = labels.get(str(key))
    return entry.get(lang, str(key)) if entry else str(key)


def fmt_number(value: float | int | None, lang: str, digits: int = 0) -> str:
    if value is None:
        return "—"
    return _number_pattern(digits).apply(value, _locale(lang))


@lru_cache(maxsize=8)
def _number_pattern(digits: int) -> NumberPattern:
    """The pattern of :func:`fmt_number`, parsed once (what ``babel.numbers.format_decimal``
    did on every call, a tenth of a millisecond each: thousands of numbers on a brief)."""
    return parse_pattern("#,##0" + ("." + "0" * digits if digits else ""))


@lru_cache(maxsize=8)
def _locale(lang: str) -> Locale:
    return Locale.parse(_LOCALES[lang])


def fmt_percent(value: float | None, lang: str) -> str:
    if value is None:
        return "—"
    return format_percent(value, format="#,##0.0%", locale=_LOCALES[lang])


def fmt_date(value: date | None, lang: str) -> str:
    if value is None:
        return "—"
    pattern = "d MMM y" if lang == "en" else "yyyy年M月d日"
    return format_date(value, format=pattern, locale=_LOCALES[lang])


def fmt_datetime(value: datetime | None, lang: str, zone: str) -> str:
    if value is None:
        return "—"
    local = value.astimezone(ZoneInfo(zone))
    pattern = "d MMM y HH:mm" if lang == "en" else "yyyy年M月d日 HH:mm"
    return format_datetime(local, format=pattern, locale=_LOCALES[lang])
