"""The tasks domain's messages (errors, CLI lines) in zh-Hans, zh-Hant and en. The titles of
generated tasks are in :mod:`fangkong.task.titles`."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from fangkong.core.messages import Catalogue, Day, Text, m, mt, value_term
from fangkong.task.enums import LABELS

T = Catalogue("task", {
    "ending_invalid": m("结束任务的事件无效", "結束任務的事件無效",
                        "the events that end the task are not valid"),
    "pack_invalid": m("任务的政策包无效", "任務的政策包無效", "the task's policy pack is not valid"),
    "outside": m("任务的辖区超出您的辖区", "任務的轄區超出您的轄區",
                 "the task's jurisdiction is outside yours"),
    "code_outside": m("{code} 超出您的辖区", "{code} 超出您的轄區", "{code} is outside your jurisdiction"),
    "unknown_event": m("未知事件 {event}；应为以下之一：{known}", "未知事件 {event}；應為以下之一：{known}",
                       "unknown event {event}; expected one of: {known}"),
    "needs_subject": m("事件结束的是某一对象的任务：请给出 subject_type 和 subject_id",
                       "事件結束的是某一對象的任務：請給出 subject_type 和 subject_id",
                       "an event ends the task of a subject: give subject_type and subject_id"),
    "both": m("{events} 不能既办结又取消任务", "{events} 不能既辦結又取消任務",
              "{events} cannot both complete and cancel the task"),
    "unknown_pack": m("未知的政策包 {pack}；应为以下之一：{known}", "未知的政策包 {pack}；應為以下之一：{known}",
                      "unknown policy pack {pack}; expected one of: {known}"),
    "pack_version": m("应为 {pack} 在磁盘上的版本 {version}", "應為 {pack} 在磁碟上的版本 {version}",
                      "expected {pack}'s version on disk, {version}"),
    "not_found": m("任务 {id} 不存在", "任務 {id} 不存在", "task {id} not found"),
    "closed": m("任务 {id} 已{status}，不能再更改", "任務 {id} 已{status}，不能再變更",
                "task {id} is {status}; it cannot change any more"),
    "unknown_title": m("未知的 title_key {key}", "未知的 title_key {key}", "unknown title_key {key}"),
    "title_param": m("title_params：{key} 缺少 {missing}", "title_params：{key} 缺少 {missing}",
                     "title_params: {missing} is missing for {key}"),
    # the CLI
    "cli.escalated": m("已逐级上报 {count} 项任务", "已逐級上報 {count} 項任務", "escalated {count} task(s)"),
    "col.division": m("辖区", "轄區", "division"),
    "col.unit": m("单位", "單位", "unit"),
    "col.overdue": m("超时", "逾時", "overdue"),
    "col.escalated": m("已上报", "已上報", "escalated"),
})


# --- a task's history, stored in English, shown in the reader's language -------------------

H = Catalogue("task_history", {
    "note.ended": mt("{status}：{event}（{reason}）", "{status}: {event} ({reason})"),
    "note.ended_plain": mt("{status}：{reason}", "{status}: {reason}"),
    "note.escalated": mt("上报至 {code}", "to {code}"),
    # the events that end tasks
    "event.contact.notified": mt("密接已通知", "contact.notified"),
    "event.contact.under_management": mt("密接已管控", "contact.under_management"),
    "event.contact.released": mt("密接已解除", "contact.released"),
    "event.contact.became_case": mt("密接转为病例", "contact.became_case"),
    "event.contact.lost_to_follow_up": mt("密接失访", "contact.lost_to_follow_up"),
    "event.transfer.arrived": mt("转运已到达", "transfer.arrived"),
    "event.stay.sampled": mt("隔离人员已采样", "stay.sampled"),
    "event.stay.tested": mt("隔离人员检测结果已录入", "stay.tested"),
    "event.stay.moved": mt("隔离人员已转移", "stay.moved"),
    "event.stay.released": mt("隔离已解除", "stay.released"),
    "event.zone.lifted": mt("风险区已解除", "zone.lifted"),
    "event.case.reported": mt("病例已报告", "case.reported"),
    "event.testing.retested": mt("单管复核已出结果", "testing.retested"),
    "event.testing.sampled": mt("单管已采样", "testing.sampled"),
    # the reasons the services give (their English is what they store)
    "reason.contact": mt("密接{status}", "contact {status}"),
    "reason.stay_sampled": mt("隔离记录 {stay}：{day} 的样本已采集",
                              "stay {stay}: sample of {day} taken"),
    "reason.stays_sampled": mt("已采集 {count} 份隔离人员样本", "{count} stay samples taken"),
    "reason.stay_tested": mt("隔离记录 {stay}：{day} 的检测结果为{result}",
                             "stay {stay}: test of {day} {result}"),
    "reason.stays_tested": mt("{count} 条隔离人员检测结果", "{count} stay test results"),
    "reason.stay_released": mt("隔离记录 {stay} 于 {day} 解除", "stay {stay} released on {day}"),
    "reason.stay_moved": mt("隔离记录 {stay} 于 {day} 转至隔离点 {site}",
                            "stay {stay} moved to site {site} on {day}"),
    "reason.transfer_arrived": mt("转运 {id} 已到达", "transfer {id} arrived"),
    "reason.transfers_arrived": mt("{count} 次转运已到达", "{count} transfers arrived"),
    "reason.zone_lifted": mt("风险区 {id} 已解除：{reason}", "zone {id} lifted: {reason}"),
    "reason.tube_sampled": mt("检测轮次 {round} 中单管已采样",
                              "single tube sampled in testing round {round}"),
    "reason.reported": mt("已报告", "reported"),
    "reason.positive": mt("筛查结果阳性", "positive screening result"),
    # what migrations 0024 and 0031 wrote
    "reason.m24_notified": mt("密接已通知（已通知或已在管控中）",
                              "contact.notified (already notified or under management)"),
    "reason.m24_arrived": mt("转运已到达（该密接的转运已到达）",
                             "transfer.arrived (the contact's transfer had arrived)"),
    "reason.m24_ended": mt("该密接已解除、已转为病例或已失访",
                           "the contact was already released, a case or lost to follow-up"),
    "reason.m24_tested": mt("隔离人员检测结果已录入（此前已录入）",
                            "stay.tested (the result was already recorded)"),
    "reason.m24_moved": mt("隔离人员已转移（检测前已转移）",
                           "stay.moved (the stay had moved before the test)"),
    "reason.m31_unmanaged": mt("该密接的人员类别在其政策包中不作管理（无需通知）",
                               "the contact's role is not managed under its pack (nothing to "
                               "notify)"),
    # words inside reasons
    "word.notified": mt("已通知", "notified"),
    "word.under management": mt("已管控", "under management"),
    "word.released": mt("已解除", "released"),
    "word.became case": mt("转为病例", "became case"),
    "word.lost to follow up": mt("失访", "lost to follow up"),
    "word.identified": mt("已判定", "identified"),
    "word.negative": mt("阴性", "negative"),
    "word.positive": mt("阳性", "positive"),
    "word.pending": mt("待出结果", "pending"),
})
"""The notes of a task's history: how a task ended (its status, the event and the event's
reason), escalations, and what migrations 0024 and 0031 wrote. The English texts are what
the platform stores; :func:`history_note` reads one back as a message."""

_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _value(text: str) -> Any:
    """A parameter read back: a date as a :class:`Day`, a known word as its message."""
    if _ISO_DAY.fullmatch(text):
        return Day(date.fromisoformat(text))
    return H(f"word.{text}") if f"word.{text}" in H else text


def _reason(text: str) -> Text | str:
    found = H.parse(text, "reason.")
    if found is None:
        return text
    return H(found.key, **{k: _value(v) for k, v in found.params.items()})


def history_note(detail: str | None) -> Text | str | None:
    """A stored history note as a message, when it is one the platform writes (else as it
    is: a person's own note)."""
    if not detail:
        return detail
    status, sep, rest = detail.partition(": ")
    if sep and status in LABELS:
        state = value_term(LABELS, status)
        if H.parse(rest, "reason.m") is not None:  # what a migration wrote
            return H("note.ended_plain", status=state, reason=_reason(rest))
        ended = re.fullmatch(r"(?P<event>[a-z_]+\.[a-z_]+) \((?P<reason>.*)\)", rest, re.DOTALL)
        if ended and f"event.{ended['event']}" in H:
            return H("note.ended", status=state, event=H(f"event.{ended['event']}"),
                     reason=_reason(ended["reason"]))
        return H("note.ended_plain", status=state, reason=_reason(rest))
    if detail.startswith("to ") and " " not in detail[3:]:
        return H("note.escalated", code=detail[3:])
    return _reason(detail)
