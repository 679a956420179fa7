"""Pydantic's own validation messages in the reader's language.

Pydantic answers a bad field with an error ``type`` (``missing``, ``int_parsing``,
``greater_than``...), its context (``ctx``: the bound, the allowed values) and an English
``msg``. :func:`problem` turns one such error into a :class:`~fangkong.core.errors.Problem`
whose message is a key of the ``validation`` catalogue with the context as parameters, and
whose field is the error's ``loc``: the answer still says what is wrong and where, in
zh-Hans, zh-Hant or en. An error that carries its own translations (``ctx["messages"]``, as
:func:`fangkong.core.division.check` gives) or a validator that raised a ``ValueError`` with a
catalogue :class:`~fangkong.core.messages.Text` keeps that text; a type the catalogue does not
know keeps pydantic's English message behind a translated lead."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fangkong.core.errors import Problem
from fangkong.core.messages import Catalogue, Text, fields_of, m

V = Catalogue("validation", {
    "missing": m("必填项缺失", "必填項缺失", "field required"),
    "extra_forbidden": m("不允许此字段", "不允許此欄位", "extra inputs are not permitted"),
    "json_invalid": m("JSON 格式无效", "JSON 格式無效", "invalid JSON"),
    "string_type": m("应为文本", "應為文字", "input should be a valid string"),
    "string_too_short": m("至少应有 {min_length} 个字符", "至少應有 {min_length} 個字元",
                          "should have at least {min_length} characters"),
    "string_too_long": m("最多只能有 {max_length} 个字符", "最多只能有 {max_length} 個字元",
                         "should have at most {max_length} characters"),
    "string_pattern_mismatch": m("格式不符（应符合 {pattern}）", "格式不符（應符合 {pattern}）",
                                 "should match pattern {pattern}"),
    "too_short": m("至少应有 {min_length} 项，实际 {actual_length} 项",
                   "至少應有 {min_length} 項，實際 {actual_length} 項",
                   "should have at least {min_length} items, not {actual_length}"),
    "too_long": m("最多只能有 {max_length} 项，实际 {actual_length} 项",
                  "最多只能有 {max_length} 項，實際 {actual_length} 項",
                  "should have at most {max_length} items, not {actual_length}"),
    "int_type": m("应为整数", "應為整數", "input should be a valid integer"),
    "int_parsing": m("应为整数", "應為整數", "input should be a valid integer"),
    "int_from_float": m("应为整数，不能带小数", "應為整數，不能帶小數",
                        "input should be a whole number"),
    "int_parsing_size": m("整数超出范围", "整數超出範圍", "the integer is out of range"),
    "float_type": m("应为数字", "應為數字", "input should be a valid number"),
    "float_parsing": m("应为数字", "應為數字", "input should be a valid number"),
    "decimal_type": m("应为数字", "應為數字", "input should be a valid number"),
    "decimal_parsing": m("应为数字", "應為數字", "input should be a valid number"),
    "finite_number": m("应为有限数字", "應為有限數字", "input should be a finite number"),
    "bool_type": m("应为是或否（true/false）", "應為是或否（true/false）",
                   "input should be a valid boolean"),
    "bool_parsing": m("应为是或否（true/false）", "應為是或否（true/false）",
                      "input should be a valid boolean"),
    "greater_than": m("应大于 {gt}", "應大於 {gt}", "should be greater than {gt}"),
    "greater_than_equal": m("应大于或等于 {ge}", "應大於或等於 {ge}",
                            "should be greater than or equal to {ge}"),
    "less_than": m("应小于 {lt}", "應小於 {lt}", "should be less than {lt}"),
    "less_than_equal": m("应小于或等于 {le}", "應小於或等於 {le}",
                         "should be less than or equal to {le}"),
    "multiple_of": m("应为 {multiple_of} 的倍数", "應為 {multiple_of} 的倍數",
                     "should be a multiple of {multiple_of}"),
    "enum": m("应为以下之一：{expected}", "應為以下之一：{expected}",
              "input should be {expected}"),
    "literal_error": m("应为以下之一：{expected}", "應為以下之一：{expected}",
                       "input should be {expected}"),
    "date_type": m("应为日期（YYYY-MM-DD）", "應為日期（YYYY-MM-DD）",
                   "input should be a valid date (YYYY-MM-DD)"),
    "date_parsing": m("应为日期（YYYY-MM-DD）", "應為日期（YYYY-MM-DD）",
                      "input should be a valid date (YYYY-MM-DD)"),
    "date_from_datetime_parsing": m("应为日期（YYYY-MM-DD）", "應為日期（YYYY-MM-DD）",
                                    "input should be a valid date (YYYY-MM-DD)"),
    "date_from_datetime_inexact": m("应为日期，不含时刻", "應為日期，不含時刻",
                                    "a date should have no time of day"),
    "date_past": m("应为过去的日期", "應為過去的日期", "date should be in the past"),
    "date_future": m("应为将来的日期", "應為將來的日期", "date should be in the future"),
    "time_type": m("应为时刻（HH:MM）", "應為時刻（HH:MM）", "input should be a valid time"),
    "time_parsing": m("应为时刻（HH:MM）", "應為時刻（HH:MM）", "input should be a valid time"),
    "datetime_type": m("应为日期时间（YYYY-MM-DDTHH:MM）", "應為日期時間（YYYY-MM-DDTHH:MM）",
                       "input should be a valid datetime (YYYY-MM-DDTHH:MM)"),
    "datetime_parsing": m("应为日期时间（YYYY-MM-DDTHH:MM）", "應為日期時間（YYYY-MM-DDTHH:MM）",
                          "input should be a valid datetime (YYYY-MM-DDTHH:MM)"),
    "datetime_from_date_parsing": m("应为日期时间（YYYY-MM-DDTHH:MM）",
                                    "應為日期時間（YYYY-MM-DDTHH:MM）",
                                    "input should be a valid datetime (YYYY-MM-DDTHH:MM)"),
    "datetime_past": m("应为过去的时间", "應為過去的時間", "datetime should be in the past"),
    "datetime_future": m("应为将来的时间", "應為將來的時間", "datetime should be in the future"),
    "timezone_naive": m("不应带时区", "不應帶時區", "should have no timezone"),
    "timezone_aware": m("应带时区", "應帶時區", "should have a timezone"),
    "time_delta_type": m("应为时长", "應為時長", "input should be a valid duration"),
    "time_delta_parsing": m("应为时长", "應為時長", "input should be a valid duration"),
    "list_type": m("应为列表", "應為列表", "input should be a valid list"),
    "tuple_type": m("应为列表", "應為列表", "input should be a valid list"),
    "set_type": m("应为列表", "應為列表", "input should be a valid list"),
    "dict_type": m("应为对象（键值对）", "應為物件（鍵值對）",
                   "input should be a valid dictionary"),
    "model_type": m("应为对象（键值对）", "應為物件（鍵值對）",
                    "input should be a valid object"),
    "model_attributes_type": m("应为对象（键值对）", "應為物件（鍵值對）",
                               "input should be a valid object"),
    "none_required": m("应为空", "應為空", "input should be empty (null)"),
    "bytes_type": m("应为文件内容", "應為檔案內容", "input should be valid bytes"),
    "url_parsing": m("应为网址", "應為網址", "input should be a valid URL"),
    "url_type": m("应为网址", "應為網址", "input should be a valid URL"),
    "uuid_parsing": m("应为 UUID", "應為 UUID", "input should be a valid UUID"),
    "uuid_type": m("应为 UUID", "應為 UUID", "input should be a valid UUID"),
    "union_tag_invalid": m("类别“{tag}”无效；应为以下之一：{expected_tags}",
                           "類別「{tag}」無效；應為以下之一：{expected_tags}",
                           "'{tag}' is not a valid kind; expected one of: {expected_tags}"),
    "union_tag_not_found": m("缺少类别字段 {discriminator}", "缺少類別欄位 {discriminator}",
                             "the kind field {discriminator} is missing"),
    "other": m("值无效：{msg}", "值無效：{msg}", "{msg}"),
})
"""Pydantic's error types, keyed as pydantic names them; ``other`` for any type not listed."""


def _params(key: str, ctx: Mapping[str, Any]) -> dict[str, Any]:
    return {name: ctx.get(name, "?") for name in fields_of(V.entries[key]["en"])}


def text(error: Mapping[str, Any]) -> str | Text:
    """One pydantic error's message as a catalogue text (or the text it carries)."""
    ctx = error.get("ctx") or {}
    messages = ctx.get("messages")
    if isinstance(messages, Mapping):
        return Text(str(error.get("type", "custom")), {}, dict(messages))
    kind = str(error.get("type", ""))
    if kind == "value_error":
        cause = ctx.get("error")
        carried = cause.args[0] if isinstance(cause, ValueError) and cause.args else None
        if isinstance(carried, Text):
            return carried
        return V("other", msg=str(error.get("msg", "")).removeprefix("Value error, "))
    if kind in V and kind != "other":
        return V(kind, **_params(kind, ctx))
    return V("other", msg=str(error.get("msg", "")))


def reason(exc: BaseException) -> str | Text:
    """What a check's ``ValueError`` says: the catalogue message it carries, else its text."""
    carried = exc.args[0] if exc.args else None
    return carried if isinstance(carried, Text) else str(exc)


def where(loc: Sequence[Any], skip: int = 0) -> str | None:
    """A ``loc`` as the dotted field a client names (``members.0.division_code``)."""
    return ".".join(str(p) for p in tuple(loc)[skip:]) or None


def problem(error: Mapping[str, Any], skip: int = 0) -> Problem:
    """One pydantic error as a problem: its message translated, its ``loc`` kept as the field
    (``skip`` drops the leading parts, such as the API's ``body``)."""
    return Problem(text(error), field=where(error.get("loc", ()), skip))


def problems(errors: Sequence[Mapping[str, Any]], skip: int = 0) -> list[Problem]:
    return [problem(e, skip) for e in errors]
