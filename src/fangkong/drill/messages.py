"""The drill's command-line messages in zh-Hans, zh-Hant and en (the names a drill gives its
records are in :mod:`fangkong.drill.names`)."""

from __future__ import annotations

from fangkong.core.messages import Catalogue, m, mt

D = Catalogue("drill", {
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
})
