"""The drill's command-line messages in zh-Hans, zh-Hant and en (the names a drill gives its
records are in :mod:`fangkong.drill.names`)."""

from __future__ import annotations

from fangkong.core.messages import Catalogue, Joined, Text, joined, m, mt

# The report's labels: the charts' titles and the comparison table's columns, by metric.
LABELS = {
    "new_infections": mt("新增感染（模拟真实值）", "New infections (true, simulated)"),
    "new_detected": mt("新增发现病例", "New cases found"),
    "detected_in_community": mt("社会面发现", "Found in the community"),
    "detected_in_quarantine": mt("隔离管控中发现", "Found in quarantine"),
    "detected_fever_clinic": mt("发热门诊发现", "Found at fever clinics"),
    "detected_key_groups": mt("重点人群检测发现", "Found by routine testing of key groups"),
    "detected_area_rounds": mt("区域核酸发现", "Found by area rounds"),
    "contacts_identified": mt("新增判定密接", "Contacts identified"),
    "contacts_waiting_room": mt("等待隔离房间的密接", "Contacts waiting for a room"),
    "cases_waiting_tracing": mt("等待流调的病例", "Cases waiting for tracing"),
    "hours_identified_to_quarantine": mt("密接判定至入住隔离（小时）",
                                        "Hours from identification to quarantine"),
    "hours_positive_to_transfer": mt("阳性至转运（小时）", "Hours from positive to transfer"),
    "in_quarantine": mt("集中隔离人数", "In centralized quarantine"),
    "in_home_quarantine": mt("居家隔离人数", "In home quarantine"),
    "in_isolation": mt("定点医院或方舱隔离治疗", "In hospital or 方舱 (isolation)"),
    "zones_active": mt("风险区（镇街）", "Risk zones (towns)"),
    "zones_high": mt("高风险区", "High-risk zones"),
    "tests_used": mt("核酸检测管数", "PCR tubes used"),
    "lab_backlog": mt("实验室积压样本", "Samples waiting at the lab"),
    "tasks_on_time_share": mt("任务按时办结率", "Tasks done on time (share of those due)"),
    "rt": mt("实时再生数 Rt", "Reproduction number Rt"),
    "cumulative_infections": mt("累计感染", "Cumulative infections"),
    "strategy": mt("策略", "Strategy"),
    "pack": mt("政策包", "Policy pack"),
    "agents": mt("模拟人数", "Agents"),
    "days": mt("天数", "Days"),
    "infections": mt("感染总数", "Infections"),
    "cases_found": mt("发现病例", "Cases found"),
    "found_in_quarantine_share": mt("隔离中发现占比", "Share found in quarantine"),
    "peak_in_quarantine": mt("集中隔离峰值", "Peak in centralized quarantine"),
    "peak_zones": mt("风险区峰值", "Peak risk zones"),
    "tubes_used": mt("检测管数", "PCR tubes used"),
    "mean_hours_positive_to_transfer": mt("阳性至转运平均小时", "Mean hours positive to transfer"),
    "mean_hours_identified_to_quarantine": mt("密接至隔离平均小时",
                                             "Mean hours identification to quarantine"),
    "persons_written": mt("写入人员", "Persons written"),
    "cases_written": mt("写入病例", "Cases written"),
    "tasks_written": mt("创建任务", "Tasks created"),
    "tasks_done": mt("办结任务", "Tasks done"),
    "reclassified": mt("订正分类", "Reclassified"),
}

D = Catalogue("drill", {
    **{f"label.{k}": v for k, v in LABELS.items()},
    "report.title": mt("演练报告：{city}", "Drill report: {city}"),
    "report.intro": mt("在合成城市中模拟的一次疫情（每个人都是合成的），平台按策略应对。",
                      "A simulated outbreak in a synthetic city (every person synthetic) to "
                      "which the platform responded under the strategy."),
    "report.verdicts": mt("结论", "Verdicts"),
    "report.compared": mt("策略对比", "Strategies compared"),
    "report.day_by_day": mt("逐日情况", "Day by day"),
    "report.strategy_knobs": mt("策略参数", "Strategy settings"),
    "verdict.control": mt("控制所需时间", "Time to control"),
    "verdict.controlled": mt("{days} 天（自首例发现至连续 {clean} 天社会面无新发现）",
                            "{days} days (first case found to {clean} days in a row without "
                            "a case found in the community)"),
    "verdict.not_controlled": mt("第 {day} 天仍未控制（未出现连续 {clean} 天社会面零发现）",
                                "not controlled by day {day} (no {clean} days in a row without "
                                "a case found in the community)"),
    "verdict.no_case": mt("未发现病例", "no case found"),
    "verdict.infections": mt("感染总数", "Total infections"),
    "verdict.infections_value": mt("{infections} 人感染，发现 {found} 例",
                                  "{infections} infected, {found} cases found"),
    "verdict.rooms": mt("隔离房间需求峰值", "Peak demand for quarantine rooms"),
    "verdict.beds": mt("隔离治疗床位需求峰值", "Peak demand for isolation beds"),
    "verdict.against": mt("{peak} / 容量 {capacity}（{share}）",
                         "{peak} of a capacity of {capacity} ({share})"),
    "verdict.among_contacts": mt("在已知密接中发现的病例占比", "Cases found among known contacts"),
    "verdict.in_24h": mt("密接 24 小时内入住隔离的占比",
                        "Contacts in a quarantine room within 24 h of identification"),
    "verdict.tasks": mt("任务按时办结率", "Tasks closed on time"),
    "verdict.bottleneck": mt("制约应对的环节（天数）", "What limited the response (days)"),
    "verdict.still": mt("演练结束时仍在进行", "Still running at the end of the drill"),
    "verdict.still_value": mt("{quarantine} 名密接仍在隔离管控期内，{isolated} 名病例仍在隔离治疗"
                             "（隔离期在演练结束后届满，并非积压）",
                             "{quarantine} contacts still under their quarantine plan, "
                             "{isolated} cases still in isolation (stays that end after the "
                             "drill, not work left undone)"),
    "verdict.none": mt("无", "none"),
    "limit.tracing": mt("流调", "tracing"),
    "limit.lab": mt("检测实验室", "lab"),
    "limit.rooms": mt("隔离房间、床位与转运", "rooms, beds and transfers"),
    "limit.none": mt("无制约", "nothing"),
    "chart.bottleneck": mt("每日制约环节", "What limited the response each day"),
    "axis.date": mt("日期", "Date"),
    "chart.by_setting": mt("按场所的新增感染（{strategy}，模拟真实值）",
                          "New infections by setting ({strategy}, true, simulated)"),
    "chart.delays": mt("延迟分布（{strategy}，病例数）", "Delays ({strategy}, cases)"),
    "chart.delay_days": mt("天数", "Days"),
    "delay.onset_to_report": mt("发病至报告", "Onset to report"),
    "delay.report_to_isolation": mt("报告至隔离治疗", "Report to isolation"),
    "chart.curve": mt("流行曲线：按发病日期与按报告日期（{strategy}）",
                     "Epidemic curve by onset date and by report date ({strategy})"),
    "curve.by_onset": mt("按发病日期", "by onset date"),
    "curve.by_report": mt("按报告日期", "by report date"),
    **{f"city.{k}": v for k, v in {
        "city": mt("城市", "city"), "agents": mt("模拟人数", "agents"), "seed": mt("种子", "seed"),
        "households": mt("家庭户", "households"),
        "mean_household_size": mt("平均户规模", "mean household size"),
        "districts": mt("区县", "districts"), "towns": mt("镇街", "towns"),
        "villages": mt("村居", "villages"), "schools": mt("学校", "schools"),
        "workplaces": mt("工作场所", "workplaces"), "venues": mt("公共场所", "venues"),
        "key_group": mt("重点人群", "key groups"), "office": mt("办公场所", "office"),
        "factory": mt("工厂", "factory"), "shop": mt("商店", "shop"), "port": mt("港口", "port"),
        "medical": mt("医疗机构", "medical"), "nursing_home": mt("养老机构", "nursing home"),
        "market": mt("农贸市场", "market"), "supermarket": mt("商超", "supermarket"),
        "restaurant": mt("餐饮场所", "restaurant"), "clinic": mt("诊所", "clinic"),
        "station": mt("交通场站", "station")}.items()},
    "setting.household": mt("家庭", "household"),
    "setting.work": mt("工作场所", "workplace"),
    "setting.school": mt("学校", "school"),
    "setting.venue": mt("公共场所", "venue"),
    "compare.title": mt("策略对比（多个随机种子）", "Strategies compared over several seeds"),
    "compare.intro": mt("每个策略在相同的 {seeds} 个种子（相同的合成城市与首批感染）下运行，"
                       "{agents} 个模拟人员，{days} 天（快速模式，不写入数据库）。"
                       "中位数与 90% 区间（第 5 至第 95 百分位）；与参照策略的差异按种子配对，"
                       "其 90% 区间不含零时视为超出种子间波动。",
                       "Each strategy ran over the same {seeds} seeds (the same synthetic cities "
                       "and first infections), {agents} agents, {days} days (the fast mode, "
                       "without the database). Medians and 90 % bands (5th to 95th "
                       "percentile); a difference from the reference, paired by seed, is "
                       "larger than the seed-to-seed spread when its 90 % band excludes zero."),
    "compare.median": mt("中位数", "Median"),
    "compare.band": mt("90% 区间", "90 % band"),
    "compare.vs_reference": mt("与 {reference} 的差异", "Difference from {reference}"),
    "compare.beyond": mt("超出种子间波动", "larger than the seed-to-seed spread"),
    "compare.within": mt("在种子间波动之内", "within the seed-to-seed spread"),
    "compare.metric.infections": mt("感染总数", "Total infections"),
    "compare.metric.time_to_control_days": mt("控制所需天数（未控制者记为演练天数加一）",
                                             "Days to control (not controlled: the drill's "
                                             "days plus one)"),
    "compare.metric.peak_room_demand": mt("隔离房间需求峰值", "Peak demand for quarantine rooms"),
    "compare.metric.peak_bed_demand": mt("隔离治疗床位需求峰值", "Peak demand for isolation beds"),
    "compare.metric.found_among_contacts_share": mt("在已知密接中发现的病例占比",
                                                   "Cases found among known contacts"),
    "compare.metric.bottleneck_days_tracing": mt("流调制约应对的天数",
                                                "Days limited by tracing"),
    "cli.comparing": mt("正在比较各策略（多个随机种子）…", "comparing strategies over seeds…"),
    "cli.compared": mt("已比较 {strategies} 个策略 × {seeds} 个种子，用时 {seconds} 秒",
                      "compared {strategies} strategies × {seeds} seeds in {seconds} s"),
    "axis.people": mt("人数", "People"),
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
    # errors
    "no_file": mt("{path}：文件不存在", "{path}: no such file"),
    "not_yaml": mt("{path}：不是有效的 YAML", "{path}: not valid YAML"),
    "not_mapping": mt("{path}：应为策略参数的键值映射", "{path}: expected a mapping of strategy knobs"),
    "invalid": mt("{path}：策略无效", "{path}: the strategy is not valid"),
    "not_district": mt("outbreak.district {district} 不是{city}的区县",
                       "outbreak.district {district} is not a district of {city}"),
    "run_not_found": mt("演练记录 {run} 不存在", "drill run {run} not found"),
    # the shipped strategies' names (a strategy file's own name is shown as it is)
    "strategy.baseline": mt("2022 年常规应对（{name}）", "{name}"),
    "strategy.no-area-rounds": mt("不做区域核酸（{name}）", "{name}"),
    "strategy.no-response": mt("只登记病例、不作处置（{name}）", "{name}"),
    "strategy.scarce": mt("资源紧缺（{name}）", "{name}"),
    "strategy.slow-tracing": mt("流调力量不足（{name}）", "{name}"),
    "strategy.who": mt("世卫组织式应对（{name}）", "{name}"),
    "compare.line": mt("{strategy}：{metric} 中位数 {median}，90% 区间 [{low}, {high}]{spread}",
                       "{strategy} {metric} {median} [{low}, {high}]{spread}"),
    "compare.spread": mt("，{what}", " {what}"),
    "compare.beyond_short": mt("超出种子间波动", "beyond"),
    "compare.within_short": mt("在种子间波动之内", "within"),
    "cli.count": mt("{kind} {count}", "{kind} {count}"),
    # the kinds of record a drill run lists or removes (its tables, as the API names them)
    "record.person": mt("人员", "person"),
    "record.person_stay": mt("人员居留记录", "person_stay"),
    "record.case_episode": mt("病例", "case_episode"),
    "record.case_classification_change": mt("病例订正记录", "case_classification_change"),
    "record.task": mt("任务", "task"),
    "record.task_event": mt("任务记录", "task_event"),
    "record.iso_site": mt("隔离点", "iso_site"),
    "record.iso_room": mt("隔离房间", "iso_room"),
    "record.iso_room_night": mt("隔离房间占用夜数", "iso_room_night"),
    "record.iso_stay": mt("隔离记录", "iso_stay"),
    "record.iso_stay_test": mt("隔离期间检测", "iso_stay_test"),
    "record.iso_transfer": mt("转运", "iso_transfer"),
    "record.iso_vehicle": mt("转运车辆", "iso_vehicle"),
    "record.tracing_venue": mt("场所", "tracing_venue"),
    "record.tracing_exposure": mt("暴露记录", "tracing_exposure"),
    "record.tracing_contact": mt("密接", "tracing_contact"),
    "record.tracing_contact_status": mt("密接状态记录", "tracing_contact_status"),
    "record.tracing_cluster": mt("聚集性疫情", "tracing_cluster"),
    "record.tracing_cluster_member": mt("聚集性疫情成员", "tracing_cluster_member"),
    "record.tracing_link": mt("传播链关系", "tracing_link"),
    "record.testing_lab": mt("检测实验室", "testing_lab"),
    "record.testing_round": mt("检测轮次", "testing_round"),
    "record.testing_round_zone": mt("检测轮次范围", "testing_round_zone"),
    "record.testing_round_figures": mt("检测轮次统计", "testing_round_figures"),
    "record.testing_tube": mt("采样管", "testing_tube"),
    "record.testing_tube_place": mt("采样管地点", "testing_tube_place"),
    "record.testing_sample": mt("样本", "testing_sample"),
    "record.testing_target": mt("检测对象", "testing_target"),
    "record.testing_point": mt("采样点", "testing_point"),
    "record.zone": mt("风险区", "zone"),
    "record.zone_event": mt("风险区记录", "zone_event"),
    "record.zone_member": mt("风险区范围", "zone_member"),
    "record.zone_proposal": mt("风险区调整建议", "zone_proposal"),
    "record.zone_round": mt("风险区筛查", "zone_round"),
    "record.audit_log": mt("审计记录", "audit_log"),
})


def strategy_name(name: str) -> Text | str:
    """A strategy as a reader names it: a shipped one by what it does (its name after it, as
    ``--strategy`` takes it), another by the name its file gives."""
    key = f"strategy.{name}"
    return D(key, name=name) if key in D else name


def record_kind(table: str) -> Text | str:
    """A kind of record a drill made (a table's name) as a reader names it."""
    key = f"record.{table}"
    return D(key) if key in D else table


def counts(found: dict[str, int]) -> Joined:
    """Records by kind (``person 120, task 340``) in the reader's language."""
    return joined(D("cli.count", kind=record_kind(k), count=f"{v:,}") for k, v in found.items())
