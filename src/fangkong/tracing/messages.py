"""The tracing domain's messages (exposures, contacts, assistance requests, venues, check-in
imports, the co-presence engine) in zh-Hans, zh-Hant and en; the traditional texts are
converted from the simplified ones."""

from __future__ import annotations

from fangkong.core.messages import Catalogue, Term, mt, value_term
from fangkong.tracing.enums import LABELS


def state(value: object) -> Term:
    """A status value: its label in Chinese, the value itself in English."""
    return value_term(LABELS, value)


T = Catalogue("tracing", {
    # assistance requests (区域协查)
    "assist_own_only": mt("只有病例所属辖区才能发出协查请求",
                          "only the case's own jurisdiction sends assistance requests"),
    "assist_other": mt("接收协查的辖区必须是另一个辖区",
                       "the receiving jurisdiction must be another one"),
    "assist_inside": mt("位于病例所属辖区之内或之上",
                        "inside or above the case's own jurisdiction"),
    "assist_not_contact": mt("密接 {contact} 不是病例 {case} 的密接",
                             "contact {contact} is not a contact of case {case}"),
    "assist_not_living": mt("密接 {contact} 不居住在 {code}",
                            "contact {contact} does not live in {code}"),
    "assist_cannot_send": mt("部分密接不能发往该辖区", "some contacts cannot be sent there"),
    "assist_not_found": mt("协查请求 {id} 不存在", "assistance request {id} not found"),
    "assist_accept_receiver": mt("只有接收方辖区才能接收协查请求",
                                 "only the receiving jurisdiction accepts a request"),
    "assist_already": mt("协查请求 {id} 已是“{status}”状态", "request {id} is {status} already"),
    "assist_answer_receiver": mt("只有接收方辖区才能反馈协查请求",
                                 "only the receiving jurisdiction answers a request"),
    "assist_accept_first": mt("请先接收协查请求再反馈", "accept the request before answering it"),
    "assist_not_in": mt("人员 {person} 不在此协查请求中", "person {person} is not in this request"),
    "assist_unknown": mt("反馈中有未知人员", "unknown persons in the answer"),
    # chains, exposures, contacts
    "cluster_not_found": mt("聚集性疫情 {id} 不存在（该病例属于聚集性疫情 {actual}）",
                            "cluster {id} not found (its case is in cluster {actual})"),
    "case_discarded": mt("病例 {id} 已排除：其暴露记录不再计入",
                         "case {id} was discarded: its exposures no longer count"),
    "exposure_twice": mt("同一暴露记录在本批中出现了两次", "an exposure appears twice in the batch"),
    "exposure_given_twice": mt("暴露记录 {id} 给出了不止一次",
                               "exposure {id} is given more than once"),
    "exposure_not_found": mt("暴露记录 {id} 不存在", "exposure {id} not found"),
    "exposure_not_found_more": mt("暴露记录 {id} 不存在（另有 {more} 条）",
                                  "exposure {id} not found (and {more} more)"),
    "exposure_done": mt("暴露记录 {id} 已是“{review}”状态", "exposure {id} was {review} already"),
    "exposure_done_more": mt("暴露记录 {id} 已是“{review}”状态（另有 {more} 条）",
                             "exposure {id} was {review} already (and {more} more)"),
    "exposed_unknown": mt("被暴露人员不存在", "unknown exposed person"),
    "exposed_no_such": mt("没有此人员（或为病例本人）", "no such person (or the case's own person)"),
    "exposure_order": mt("暴露结束时间早于开始时间", "the exposure ends before it starts"),
    "not_before_first": mt("不能早于首次接触日期", "must not be before first_exposure"),
    "contact_not_found": mt("密接 {id} 不存在", "contact {id} not found"),
    "contact_transition": mt("状态为“{status}”的密接不能转为“{to}”",
                             "a contact who is {status} cannot become {to}"),
    "contact_transition_of": mt("状态为“{status}”的密接不能转为“{to}”（密接 {id}）",
                                "a contact who is {status} cannot become {to} (contact {id})"),
    "allowed": mt("允许：{allowed}", "allowed: {allowed}"),
    "none": mt("无", "none"),
    "follow_up_only": mt("随访只能记录：{allowed}", "a follow-up records {allowed}"),
    "not_status": mt("不能是“{status}”", "not {status}"),
    "own_case": mt("请给出该密接本人的新病例", "give the contact's own new case"),
    "same_person_case": mt("需要同一人员的病例", "a case of the same person is required"),
    # files and the engine
    "no_file": mt("{path}：文件不存在", "{path}: no such file"),
    "no_directory": mt("{path}：目录不存在", "{path}: no such directory"),
    "missing_columns": mt("{file}：缺少列 {columns}", "{file}: missing column(s) {columns}"),
    "expected_header": mt("表头应为 person_id,window_start,window_end",
                          "expected the header person_id,window_start,window_end"),
    "expected_columns": mt("列应为 {columns}", "expected the columns {columns}"),
    "expected_whole": mt("应为整数，实际为 {raw}", "expected a whole number, got {raw}"),
    "expected_timestamp": mt("应为 ISO 时间，实际为 {raw}", "expected an ISO timestamp, got {raw}"),
    "after_start": mt("必须晚于 window_start", "must be after window_start"),
    "person_again": mt("人员重复（首次出现在第 {line} 行）",
                       "person listed again (first on line {line})"),
    "bad_rows_run": mt("{file}：{count} 行有误；未运行", "{file}: {count} bad row(s); nothing was run"),
    "csv_or_parquet": mt("{file}：应为 .csv 或 .parquet 文件",
                         "{file}: expected a .csv or .parquet file"),
    "too_big": mt("{file}：{size} 字节，超过上限（{limit}；FANGKONG_IMPORT_MAX_BYTES）",
                  "{file}: {size} bytes is more than the limit ({limit}; "
                  "FANGKONG_IMPORT_MAX_BYTES)"),
    "bad_rows_stored": mt("{file}：有错误行；未保存任何内容", "{file}: bad rows; nothing was stored"),
    "unknown_engine": mt("未知的引擎 {engine}；应为 duckdb 或 spark",
                         "unknown engine {engine}; expected duckdb or spark"),
    "unknown_layout": mt("未知的布局 {layout}；应为 network 或 timeline",
                         "unknown layout {layout}; expected network or timeline"),
    "start_after_end": mt("--start 晚于 --end", "--start is after --end"),
    "give_exposures": mt("请给出暴露记录编号，或用 --case 指定有待审核建议的病例",
                         "give exposure ids, or --case with proposals awaiting review"),
    # venues
    "venue_outside": mt("该场所超出您的辖区", "the venue is outside your jurisdiction"),
    "venue_exists": mt("代码为 {code} 的场所已存在", "a venue with code {code} already exists"),
    "venue_not_found": mt("场所 {id} 不存在", "venue {id} not found"),
    "unknown_division": mt("未知的行政区划代码 {code}", "unknown division code {code}"),
    "duplicate_line": mt("与第 {line} 行重复", "duplicate of line {line}"),
    "registered_other": mt("已登记，但取值不同", "registered already with other values"),
    # the command line's lines
    "cli.colocated": mt("{cases} 个病例的 {rows} 对重叠停留（M={overlap} 分钟，L={linger} 分钟，"
                        "{engine}，{seconds} 秒）→ {out}",
                        "{rows} overlapping pair(s) of stays for {cases} case(s) (M={overlap} min, "
                        "L={linger} min, {engine}, {seconds} s) → {out}"),
    "cli.venues": mt("登记场所 {created} 个，{unchanged} 个已登记",
                     "{created} venue(s) registered, {unchanged} already known"),
    "cli.ingested_before": mt("未变：此文件已导入过", "unchanged: this file was ingested before"),
    "cli.ingested": mt("已存入 {stored} 条扫码记录，涉及 {days} 天；{already} 条已在库中",
                       "{stored} check-in(s) stored over {days} day(s); {already} already in the "
                       "store"),
    "cli.reindexed": mt("已重建 {directory} 中 {files} 个文件的索引",
                        "{files} file(s) reindexed in {directory}"),
    "cli.none": mt("无", "-"),
    "cli.setting_count": mt("{setting} {count}", "{setting} {count}"),
    "cli.chain": mt("聚集性疫情 {id}：{size} 例，{generations} 代，{first} 至 {last}（{days} 天）；"
                    "场景：{settings}",
                    "cluster {id}: {size} case(s), {generations} generation(s), {first} to "
                    "{last} ({days} days); settings: {settings}"),
    "cli.chain_case": mt("  病例 {id} {ref} 第 {generation} 代 {classification} {day}",
                         "  case {id} {ref} generation {generation} {classification} {day}"),
    "cli.clusters": mt("{count} 起 {min} 例及以上的聚集性疫情",
                       "{count} cluster(s) of {min} or more cases"),
    "cli.cluster": mt("  聚集性疫情 {id}：{size} 例，{generations} 代，{first} 至 {last}（{days} 天）；"
                      "{settings}",
                      "  cluster {id}: {size} case(s), {generations} generation(s), {first} to "
                      "{last} ({days} days); {settings}"),
    "cli.reported": mt("{first} 至 {last} 报告病例：{count}", "cases reported {first} to {last}: {count}"),
    "cli.known_contacts": mt("  报告前已是已知密接：{count}（{share}）",
                             "  known contacts before their report: {count} ({share})"),
    "cli.in_chains": mt("  在已知传播链中：{count}（{share}）", "  in known chains: {count} ({share})"),
    "cli.not_seen": mt("{days} 天未随访的在管密接：{count}",
                       "active contacts not seen for {days} day(s): {count}"),
    "cli.gaps": mt("发病间隔小于 0 或大于 {days} 天的传播关系：{count}",
                   "links with an onset gap below 0 or over {days} days: {count}"),
    "cli.gap": mt("  {source} → {target}：{days} 天", "  {source} → {target}: {days} days"),
    "cli.exposures": mt("病例 {case} 的 {count} 条暴露记录", "{count} exposure(s) of case {case}"),
    "cli.exposure": mt("  {id}：人员 {person} {review}（{origin}，{role}，{last}）：{reason}",
                       "  {id}: person {person} {review} ({origin}, {role}, {last}): {reason}"),
    "cli.reviewed": mt("暴露记录 {id} {review}", "exposure {id} {review}"),
    "cli.reviewed_contact": mt("暴露记录 {id} {review}；密接记录 {contact}",
                               "exposure {id} {review}; contact episode {contact}"),
    "cli.graph_rebuilt": mt("已重建：{counts}", "rebuilt: {counts}"),
    "cli.graph_ok": mt("维护中的传播关系图与重新计算的结果一致",
                       "the maintained graph equals a computation from scratch"),
    "cli.graph_differs": mt("维护中的传播关系图与重新计算的结果不一致：",
                            "the maintained graph differs:"),
})
