"""The tasks domain's messages (errors, CLI lines) in zh-Hans, zh-Hant and en. The titles of
generated tasks are in :mod:`fangkong.task.titles`."""

from __future__ import annotations

from fangkong.core.messages import Catalogue, m

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
