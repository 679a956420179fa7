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
    # the 流调 interview and the infector of a case
    "interview_stale": mt("该流调记录在您打开表单后已被他人修改，您的提交未保存",
                          "the interview was changed by someone else after the form was "
                          "shown: not saved"),
    "interview_done": mt("该病例的流调已完成，不能再修改", "the case's interview is completed already"),
    "interview_failed": mt("流调记录有误，未保存", "the interview has problems: not saved"),
    "interview_no_window": mt("病例没有发病日期或首次阳性采样日期，无法推算追溯期",
                              "the case has neither an onset date nor a first positive sample "
                              "date: no look-back window"),
    "outside_window": mt("不在追溯期 {start} 至 {end} 之内",
                         "not within the look-back window {start} to {end}"),
    "onset_future": mt("不能晚于今天", "must not be after today"),
    "day_twice": mt("同一天填写了两次", "the same day is given twice"),
    "venue_no_code": mt("辖区内没有场所码为 {code} 的场所",
                        "no venue with the code {code} in your jurisdiction"),
    "out_before_in": mt("离开时间应晚于到达时间", "the time out must be after the time in"),
    "met_self": mt("不能是病例本人", "must not be the case themself"),
    "met_twice": mt("此人已在第 {row} 行填写", "this person is given on row {row} already"),
    "named_in_interview": mt("流调中病例自述的接触者", "named by the case in the interview"),
    "infector_stale": mt("该病例的传染来源在您打开表单后已被他人修改，您的提交未保存",
                         "the case's infector was changed by someone else after the form was "
                         "shown: not saved"),
    "infector_self": mt("病例不能传染自己", "a case cannot infect itself"),
    "infector_cycle": mt("会形成传播环：病例 {ref} 已在本病例的传播链下游",
                         "would make a cycle: case {ref} is downstream of this case"),
    "infector_unknown": mt("辖区内没有此病例", "no such case in your jurisdiction"),
    "infector_discarded": mt("该病例已排除", "that case was discarded"),
    "infector_refused": mt("传染来源未保存", "the infector was not saved"),
    "infector_same": mt("传染来源没有变化", "the infector is already that"),
})
