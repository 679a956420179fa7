"""The drill's command-line messages in zh-Hans, zh-Hant and en (the names a drill gives its
records are in :mod:`fangkong.drill.names`)."""

from __future__ import annotations

from fangkong.core.messages import Catalogue, m, traditional


def t(hans: str, en: str) -> dict[str, str]:
    """An entry whose traditional text is the simplified one's characters (OpenCC)."""
    return m(hans, traditional(hans), en)


# The report's labels: the charts' titles and the comparison table's columns, by metric.
LABELS = {
    "new_infections": t("新增感染（模拟真实值）", "New infections (true, simulated)"),
    "new_detected": t("新增发现病例", "New cases found"),
    "detected_in_community": t("社会面发现", "Found in the community"),
    "detected_in_quarantine": t("隔离管控中发现", "Found in quarantine"),
    "detected_fever_clinic": t("发热门诊发现", "Found at fever clinics"),
    "detected_key_groups": t("重点人群检测发现", "Found by routine testing of key groups"),
    "detected_area_rounds": t("区域核酸发现", "Found by area rounds"),
    "contacts_identified": t("新增判定密接", "Contacts identified"),
    "contacts_waiting_room": t("等待隔离房间的密接", "Contacts waiting for a room"),
    "cases_waiting_tracing": t("等待流调的病例", "Cases waiting for tracing"),
    "hours_identified_to_quarantine": t("密接判定至入住隔离（小时）",
                                        "Hours from identification to quarantine"),
    "hours_positive_to_transfer": t("阳性至转运（小时）", "Hours from positive to transfer"),
    "in_quarantine": t("集中隔离人数", "In centralized quarantine"),
    "in_home_quarantine": t("居家隔离人数", "In home quarantine"),
    "in_isolation": t("定点医院或方舱隔离治疗", "In hospital or 方舱 (isolation)"),
    "zones_active": t("风险区（镇街）", "Risk zones (towns)"),
    "zones_high": t("高风险区", "High-risk zones"),
    "tests_used": t("核酸检测管数", "PCR tubes used"),
    "lab_backlog": t("实验室积压样本", "Samples waiting at the lab"),
    "tasks_on_time_share": t("任务按时办结率", "Tasks done on time (share of those due)"),
    "rt": t("实时再生数 Rt", "Reproduction number Rt"),
    "cumulative_infections": t("累计感染", "Cumulative infections"),
    "strategy": t("策略", "Strategy"),
    "pack": t("政策包", "Policy pack"),
    "agents": t("模拟人数", "Agents"),
    "days": t("天数", "Days"),
    "infections": t("感染总数", "Infections"),
    "cases_found": t("发现病例", "Cases found"),
    "found_in_quarantine_share": t("隔离中发现占比", "Share found in quarantine"),
    "peak_in_quarantine": t("集中隔离峰值", "Peak in centralized quarantine"),
    "peak_zones": t("风险区峰值", "Peak risk zones"),
    "tubes_used": t("检测管数", "PCR tubes used"),
    "mean_hours_positive_to_transfer": t("阳性至转运平均小时", "Mean hours positive to transfer"),
    "mean_hours_identified_to_quarantine": t("密接至隔离平均小时",
                                             "Mean hours identification to quarantine"),
    "persons_written": t("写入人员", "Persons written"),
    "cases_written": t("写入病例", "Cases written"),
    "tasks_written": t("创建任务", "Tasks created"),
    "tasks_done": t("办结任务", "Tasks done"),
    "reclassified": t("订正分类", "Reclassified"),
}

D = Catalogue("drill", {
    **{f"label.{k}": v for k, v in LABELS.items()},
    "report.title": t("演练报告：{city}", "Drill report: {city}"),
    "report.intro": t("在合成城市中模拟的一次疫情（每个人都是合成的），平台按策略应对。",
                      "A simulated outbreak in a synthetic city (every person synthetic) to "
                      "which the platform responded under the strategy."),
    "report.verdicts": t("结论", "Verdicts"),
    "report.compared": t("策略对比", "Strategies compared"),
    "report.day_by_day": t("逐日情况", "Day by day"),
    "report.strategy_knobs": t("策略参数", "Strategy settings"),
    "verdict.control": t("控制所需时间", "Time to control"),
    "verdict.controlled": t("{days} 天（自首例发现至连续 {clean} 天社会面无新发现）",
                            "{days} days (first case found to {clean} days in a row without "
                            "a case found in the community)"),
    "verdict.not_controlled": t("第 {day} 天仍未控制（未出现连续 {clean} 天社会面零发现）",
                                "not controlled by day {day} (no {clean} days in a row without "
                                "a case found in the community)"),
    "verdict.no_case": t("未发现病例", "no case found"),
    "verdict.infections": t("感染总数", "Total infections"),
    "verdict.infections_value": t("{infections} 人感染，发现 {found} 例",
                                  "{infections} infected, {found} cases found"),
    "verdict.rooms": t("隔离房间需求峰值", "Peak demand for quarantine rooms"),
    "verdict.beds": t("隔离治疗床位需求峰值", "Peak demand for isolation beds"),
    "verdict.against": t("{peak} / 容量 {capacity}（{share}）",
                         "{peak} of a capacity of {capacity} ({share})"),
    "verdict.among_contacts": t("在已知密接中发现的病例占比", "Cases found among known contacts"),
    "verdict.in_24h": t("密接 24 小时内入住隔离的占比",
                        "Contacts in a quarantine room within 24 h of identification"),
    "verdict.tasks": t("任务按时办结率", "Tasks closed on time"),
    "verdict.bottleneck": t("制约应对的环节（天数）", "What limited the response (days)"),
    "verdict.still": t("演练结束时仍在进行", "Still running at the end of the drill"),
    "verdict.still_value": t("{quarantine} 名密接仍在隔离管控期内，{isolated} 名病例仍在隔离治疗"
                             "（隔离期在演练结束后届满，并非积压）",
                             "{quarantine} contacts still under their quarantine plan, "
                             "{isolated} cases still in isolation (stays that end after the "
                             "drill, not work left undone)"),
    "verdict.none": t("无", "none"),
    "limit.tracing": t("流调", "tracing"),
    "limit.lab": t("检测实验室", "lab"),
    "limit.rooms": t("隔离房间、床位与转运", "rooms, beds and transfers"),
    "limit.none": t("无制约", "nothing"),
    "chart.bottleneck": t("每日制约环节", "What limited the response each day"),
    "axis.date": t("日期", "Date"),
    "chart.by_setting": t("按场所的新增感染（{strategy}，模拟真实值）",
                          "New infections by setting ({strategy}, true, simulated)"),
    "chart.delays": t("延迟分布（{strategy}，病例数）", "Delays ({strategy}, cases)"),
    "chart.delay_days": t("天数", "Days"),
    "delay.onset_to_report": t("发病至报告", "Onset to report"),
    "delay.report_to_isolation": t("报告至隔离治疗", "Report to isolation"),
    "chart.curve": t("流行曲线：按发病日期与按报告日期（{strategy}）",
                     "Epidemic curve by onset date and by report date ({strategy})"),
    "curve.by_onset": t("按发病日期", "by onset date"),
    "curve.by_report": t("按报告日期", "by report date"),
    **{f"city.{k}": v for k, v in {
        "city": t("城市", "city"), "agents": t("模拟人数", "agents"), "seed": t("种子", "seed"),
        "households": t("家庭户", "households"),
        "mean_household_size": t("平均户规模", "mean household size"),
        "districts": t("区县", "districts"), "towns": t("镇街", "towns"),
        "villages": t("村居", "villages"), "schools": t("学校", "schools"),
        "workplaces": t("工作场所", "workplaces"), "venues": t("公共场所", "venues"),
        "key_group": t("重点人群", "key groups"), "office": t("办公场所", "office"),
        "factory": t("工厂", "factory"), "shop": t("商店", "shop"), "port": t("港口", "port"),
        "medical": t("医疗机构", "medical"), "nursing_home": t("养老机构", "nursing home"),
        "market": t("农贸市场", "market"), "supermarket": t("商超", "supermarket"),
        "restaurant": t("餐饮场所", "restaurant"), "clinic": t("诊所", "clinic"),
        "station": t("交通场站", "station")}.items()},
    "setting.household": t("家庭", "household"),
    "setting.work": t("工作场所", "workplace"),
    "setting.school": t("学校", "school"),
    "setting.venue": t("公共场所", "venue"),
    "compare.title": t("策略对比（多个随机种子）", "Strategies compared over several seeds"),
    "compare.intro": t("每个策略在相同的 {seeds} 个种子（相同的合成城市与首批感染）下运行，"
                       "{agents} 个模拟人员，{days} 天（快速模式，不写入数据库）。"
                       "中位数与 90% 区间（第 5 至第 95 百分位）；与参照策略的差异按种子配对，"
                       "其 90% 区间不含零时视为超出种子间波动。",
                       "Each strategy ran over the same {seeds} seeds (the same synthetic cities "
                       "and first infections), {agents} agents, {days} days (the fast mode, "
                       "without the database). Medians and 90 % bands (5th to 95th "
                       "percentile); a difference from the reference, paired by seed, is "
                       "larger than the seed-to-seed spread when its 90 % band excludes zero."),
    "compare.median": t("中位数", "Median"),
    "compare.band": t("90% 区间", "90 % band"),
    "compare.vs_reference": t("与 {reference} 的差异", "Difference from {reference}"),
    "compare.beyond": t("超出种子间波动", "larger than the seed-to-seed spread"),
    "compare.within": t("在种子间波动之内", "within the seed-to-seed spread"),
    "compare.metric.infections": t("感染总数", "Total infections"),
    "compare.metric.time_to_control_days": t("控制所需天数（未控制者记为演练天数加一）",
                                             "Days to control (not controlled: the drill's "
                                             "days plus one)"),
    "compare.metric.peak_room_demand": t("隔离房间需求峰值", "Peak demand for quarantine rooms"),
    "compare.metric.peak_bed_demand": t("隔离治疗床位需求峰值", "Peak demand for isolation beds"),
    "compare.metric.found_among_contacts_share": t("在已知密接中发现的病例占比",
                                                   "Cases found among known contacts"),
    "compare.metric.bottleneck_days_tracing": t("流调制约应对的天数",
                                                "Days limited by tracing"),
    "cli.compared": t("已比较 {strategies} 个策略 × {seeds} 个种子，用时 {seconds} 秒",
                      "compared {strategies} strategies × {seeds} seeds in {seconds} s"),
    "axis.people": t("人数", "People"),
    "cli.written": m("已写入 {metrics} 和 {report}", "已寫入 {metrics} 和 {report}",
                     "written {metrics} and {report}"),
    "cli.no_runs": m("没有演练记录", "沒有演練記錄", "no drill runs"),
    "cli.run": m("{key}（编号 {id}）策略 {strategy}，政策包 {pack}，城市 {city}，{agents} 个模拟人员，"
                 "种子 {seed}，{days} 天；{started} 由 {by} 开始，{done}",
                 "{key}（編號 {id}）策略 {strategy}，政策包 {pack}，城市 {city}，{agents} 個模擬人員，"
                 "種子 {seed}，{days} 天；{started} 由 {by} 開始，{done}",
                 "{key} (id {id}) {strategy}, pack {pack}, city {city}, {agents} agents, "
                 "seed {seed}, {days} days; started {started} by {by}, {done}"),
    "cli.finished": m("{at} 结束", "{at} 結束", "finished {at}"),
    "cli.unfinished": m("未结束", "未結束", "unfinished"),
    "cli.removed": m("已删除演练 {run}：{counts}", "已刪除演練 {run}：{counts}",
                     "removed drill run {run}: {counts}"),
    "cli.kept": m("保留（另一次演练仍在使用）：{counts}", "保留（另一次演練仍在使用）：{counts}",
                  "kept (another run lists them): {counts}"),
})
