"""Messages a person reads (errors, reasons, CLI lines) as a key and its parameters, rendered in
the reader's language (zh-Hans, zh-Hant, en) when shown.

A domain keeps its messages in a :class:`Catalogue` (its ``messages`` module); calling the
catalogue with a key and parameters gives a :class:`Text`, which an error, a problem or a
result carries instead of a finished sentence. ``str(text)`` is the English text (what logs,
tests and clients that send no ``Accept-Language`` read); :meth:`Text.render` gives it in
another language. A parameter that is itself a :class:`Text` (a role, a level, a list of
them) is rendered in the same language. A catalogue refuses, when it is built (at import), an
entry that lacks a language or whose languages do not take the same parameters: a message
cannot be complete in one language and missing in another."""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any

LANGS = ("zh-Hans", "zh-Hant", "en")
DEFAULT_LANG = "zh-Hans"
CATALOGUES: list[Catalogue] = []
"""Every catalogue built so far (the completeness test imports every ``messages`` module)."""


def lang_of(value: str | None) -> str | None:
    """The platform language a tag names (``zh-Hans``, ``zh_CN``, ``zh-TW``, ``en-GB``...),
    or None."""
    tag = (value or "").strip().replace("_", "-").lower()
    if tag.startswith(("zh-hant", "zh-tw", "zh-hk", "zh-mo")):
        return "zh-Hant"
    if tag.startswith("zh"):
        return "zh-Hans"
    if tag.startswith("en"):
        return "en"
    return None


def m(hans: str, hant: str, en: str) -> dict[str, str]:
    """One catalogue entry: its text in zh-Hans, zh-Hant and en."""
    return {"zh-Hans": hans, "zh-Hant": hant, "en": en}


def mt(hans: str, en: str) -> dict[str, str]:
    """One catalogue entry whose traditional text is converted from the simplified one
    (:func:`traditional`, OpenCC s2tw: characters only), its quotes “” ‘’ as 「」 『』."""
    return m(hans, traditional(hans).translate(_QUOTES), en)


_QUOTES = str.maketrans({"“": "「", "”": "」", "‘": "『", "’": "』"})


def fields_of(template: str) -> set[str]:
    """The parameters a template takes."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


_fields = fields_of


@dataclass(frozen=True)
class Text:
    """A message: its key, its parameters and its texts in each language."""

    key: str
    params: Mapping[str, Any] = field(default_factory=dict)
    texts: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)

    def render(self, lang: str) -> str:
        template = self.texts.get(lang) or self.texts["en"]
        return template.format(**{k: render(v, lang) for k, v in self.params.items()})

    def __str__(self) -> str:
        return self.render("en")


@dataclass(frozen=True)
class Joined:
    """Several parameters shown as one, joined by the separator of each language."""

    parts: tuple[Any, ...]
    separators: Mapping[str, str]

    def render(self, lang: str) -> str:
        sep = self.separators.get(lang) or self.separators["en"]
        return sep.join(str(render(p, lang)) for p in self.parts)

    def __str__(self) -> str:
        return self.render("en")


COMMA = m("、", "、", ", ")
SEMICOLON = m("；", "；", "; ")
AND = m("，并且", "，並且", " and ")
PLUS = m(" + ", " + ", " + ")


def joined(parts: Iterable[Any], separators: Mapping[str, str] = COMMA) -> Joined:
    return Joined(tuple(parts), separators)


def render(value: Any, lang: str) -> Any:
    """``value`` in ``lang`` when it is a message (or a joined list of them), as is otherwise."""
    if isinstance(value, (Text, Joined, Term, Day)):
        return value.render(lang)
    return value


class Catalogue:
    """A domain's messages: key -> texts in the three languages (checked when built)."""

    def __init__(self, name: str, entries: Mapping[str, Mapping[str, str]]) -> None:
        for key, texts in entries.items():
            if set(texts) != set(LANGS) or not all(texts.values()):
                raise ValueError(f"message {name}:{key} lacks a language: {sorted(texts)}")
            wanted = {lang: _fields(t) for lang, t in texts.items()}
            if len({frozenset(f) for f in wanted.values()}) != 1:
                raise ValueError(f"message {name}:{key}: its languages take different "
                                 f"parameters: {wanted}")
        self.name = name
        self.entries = dict(entries)
        CATALOGUES.append(self)

    def __call__(self, key: str, /, **params: Any) -> Text:
        texts = self.entries[key]
        missing = _fields(texts["en"]) - set(params)
        if missing:
            raise KeyError(f"message {self.name}:{key} needs {sorted(missing)}")
        return Text(key, params, texts)

    def __contains__(self, key: str) -> bool:
        return key in self.entries

    def parse(self, text: str, prefix: str = "") -> Text | None:
        """The message (of the keys starting with ``prefix``) whose English text ``text`` is,
        its parameters read back as strings; None if none fits. What was stored as English
        (a history note, a reason) is shown in another language this way."""
        for key, pattern in _patterns(self, prefix):
            found = pattern.fullmatch(text)
            if found:
                return Text(key, found.groupdict(), self.entries[key])
        return None


@lru_cache(maxsize=64)
def _patterns(catalogue: Catalogue, prefix: str) -> list[tuple[str, re.Pattern[str]]]:
    out = []
    for key, texts in catalogue.entries.items():
        if not key.startswith(prefix):
            continue
        parts = []
        for literal, name, _, _ in string.Formatter().parse(texts["en"]):
            parts.append(re.escape(literal))
            if name:
                parts.append(f"(?P<{name}>.+?)")
        out.append((key, re.compile("".join(parts), re.DOTALL)))
    # the most specific first: more literal text, then fewer parameters
    out.sort(key=lambda kp: (-len(re.sub(r"\(\?P<\w+>\.\+\?\)", "", kp[1].pattern)),
                             kp[1].pattern.count("(?P<")))
    return out


CORE = Catalogue("core", {
    "demo_users": m("演示用户及密码：{path}", "示範用戶及密碼：{path}",
                    "demo users and passwords: {path}"),
    "invalid_request": m("请求无效", "請求無效", "the request is not valid"),
    "invalid_input": m("输入无效", "輸入無效", "invalid input"),
    "exists": m("记录已存在（另一个请求同时创建了它）；请刷新后重试",
                "記錄已存在（另一個請求同時建立了它）；請重新整理後再試",
                "the record already exists (created at the same time by another request); "
                "reload and try again"),
    "internal": m("服务器意外出错，已记录日志", "伺服器意外出錯，已記錄日誌",
                  "unexpected server error; it was logged"),
    "busy": m("数据库繁忙，请稍后再试", "資料庫繁忙，請稍後再試",
              "the database is busy; try again shortly"),
    "unavailable": m("数据库未能完成请求，未保存任何内容", "資料庫未能完成請求，未儲存任何內容",
                     "the database could not complete the request; nothing was saved"),
    "schema_old": m("数据库结构不是最新版本：请运行 `fangkong db upgrade`",
                    "資料庫結構不是最新版本：請執行 `fangkong db upgrade`",
                    "the database schema is not up to date: run `fangkong db upgrade`"),
    "error": m("错误：", "錯誤：", "error: "),
    "bad_lang": m("--lang {value}：没有这种语言；可选：{allowed}",
                  "--lang {value}：沒有這種語言；可選：{allowed}",
                  "--lang {value}: no such language; allowed: {allowed}"),
    "more": m("… 另有 {count} 项", "… 另有 {count} 項", "… and {count} more"),
    "password_stdin": m("请使用 --password-stdin 并在标准输入中提供密码",
                        "請使用 --password-stdin 並在標準輸入中提供密碼",
                        "pass --password-stdin and send the password on standard input"),
    "not_json": m("{file}：无法按 JSON 读取", "{file}：無法按 JSON 讀取",
                  "{file}: cannot be read as JSON"),
    "expected_one_of": m("应为以下之一：{values}", "應為以下之一：{values}",
                         "expected one of: {values}"),
    "missing": m("缺少", "缺少", "missing"),
    "already_exists": m("已存在", "已存在", "already exists"),
    "in_future": m("晚于今天", "晚於今天", "is in the future"),
    "outside_jurisdiction": m("超出您的辖区", "超出您的轄區", "outside your jurisdiction"),
    "division_not_found": m("行政区划 {code} 不存在；请运行 `fangkong geo load` 加载行政区划",
                            "行政區劃 {code} 不存在；請執行 `fangkong geo load` 載入行政區劃",
                            "division {code} not found; run `fangkong geo load` to load "
                            "divisions"),
    "unit_not_found": m("单位 {id} 不存在", "單位 {id} 不存在", "unit {id} not found"),
    # progress of long commands
    "done_in": m("{what} 完成（{seconds} 秒）", "{what} 完成（{seconds} 秒）",
                 "{what} done ({seconds} s)"),
    "progress": m("{name}：{count}（{seconds} 秒）", "{name}：{count}（{seconds} 秒）",
                  "{name}: {count} ({seconds} s)"),
    "progress_unit": m("{name}：{count} {unit}（{seconds} 秒）", "{name}：{count} {unit}（{seconds} 秒）",
                       "{name}: {count} {unit} ({seconds} s)"),
    "importing": m("正在导入 {file}…", "正在匯入 {file}…", "importing {file}…"),
    "migrating": m("正在迁移数据库…", "正在遷移資料庫…", "migrating the database…"),
    "loading_guangdong": m("正在加载广东省行政区划…", "正在載入廣東省行政區劃…",
                           "loading Guangdong divisions…"),
    "loading_divisions": m("加载行政区划", "載入行政區劃", "loading divisions"),
    "days": m("天", "天", "days"),
    # files read by imports (core.tabular), tokens, cursors, permissions
    "no_file": m("{file}：文件不存在", "{file}：檔案不存在", "{file}: no such file"),
    "over_limit": m("{file}：{size} 字节，超过上限 {limit}（FANGKONG_IMPORT_MAX_BYTES）；请分批导入",
                    "{file}：{size} 位元組，超過上限 {limit}（FANGKONG_IMPORT_MAX_BYTES）；請分批匯入",
                    "{file}: {size} bytes is over the limit of {limit} "
                    "(FANGKONG_IMPORT_MAX_BYTES); split the file into batches"),
    "upload_over": m("{file}：超过上限 {limit} 字节（FANGKONG_IMPORT_MAX_BYTES）；请分批导入",
                     "{file}：超過上限 {limit} 位元組（FANGKONG_IMPORT_MAX_BYTES）；請分批匯入",
                     "{file}: over the limit of {limit} bytes (FANGKONG_IMPORT_MAX_BYTES); "
                     "split the file into batches"),
    "packs_missing": m("{count} 组记录所用的政策包版本不在磁盘上", "{count} 組記錄所用的政策包版本不在磁碟上",
                       "{count} group(s) of records name a policy pack version that is not on "
                       "disk"),
    "file_empty": m("{file}：文件为空", "{file}：檔案為空", "{file}: the file is empty"),
    "unknown_encoding": m("{file}：未知的编码 {encoding}", "{file}：未知的編碼 {encoding}",
                          "{file}: unknown encoding {encoding}"),
    "bad_text": m("{file}：第 {line} 行不是有效的 {encoding} 文本（字节 0x{byte}）。",
                  "{file}：第 {line} 行不是有效的 {encoding} 文字（位元組 0x{byte}）。",
                  "{file}: line {line} is not valid {encoding} text (byte 0x{byte})."),
    "bad_text_gbk": m("{file}：第 {line} 行不是有效的 {encoding} 文本（字节 0x{byte}）。看来是 "
                      "GBK/GB18030（中文 Windows 的 Excel 所存）：请另存为 UTF-8，或加 "
                      "--encoding gb18030。",
                      "{file}：第 {line} 行不是有效的 {encoding} 文字（位元組 0x{byte}）。看來是 "
                      "GBK/GB18030（中文 Windows 的 Excel 所存）：請另存為 UTF-8，或加 "
                      "--encoding gb18030。",
                      "{file}: line {line} is not valid {encoding} text (byte 0x{byte}). It "
                      "looks like GBK/GB18030 (as Excel saves it in Chinese Windows): re-save "
                      "it as UTF-8, or pass --encoding gb18030."),
    "not_text": m("不是此编码的有效文本", "不是此編碼的有效文字", "not valid text in this encoding"),
    "no_header": m("{file}：没有表头行", "{file}：沒有表頭行", "{file}: no header line"),
    "bad_csv": m("{file}:{line}：CSV 格式错误（{error}）", "{file}:{line}：CSV 格式錯誤（{error}）",
                 "{file}:{line}: malformed CSV ({error})"),
    "bad_xlsx": m("{file}：无法读取的 XLSX 工作簿（{error}）", "{file}：無法讀取的 XLSX 活頁簿（{error}）",
                  "{file}: not a readable XLSX workbook ({error})"),
    "bad_parquet": m("{file}：无法读取的 Parquet 文件（{error}）", "{file}：無法讀取的 Parquet 檔案（{error}）",
                     "{file}: not a readable Parquet file ({error})"),
    "sheet_empty": m("{file}：第一个工作表为空", "{file}：第一個工作表為空",
                     "{file}: the first sheet is empty"),
    "unknown_column": m("未知的列 {column}；应为以下若干项：{expected}",
                        "未知的欄 {column}；應為以下若干項：{expected}",
                        "unknown column {column}; expected some of: {expected}"),
    "column_missing": m("缺少必需的列", "缺少必需的欄", "required column is missing"),
    "column_twice": m("列重复出现", "欄重複出現", "column appears twice"),
    "bad_header": m("{file}：表头行与本导入的要求不符", "{file}：表頭行與本匯入的要求不符",
                    "{file}: the header line is not what this import expects"),
    "extra_cells": m("{cells} 个单元格，但表头只有 {columns} 列",
                     "{cells} 個儲存格，但表頭只有 {columns} 欄",
                     "{cells} cells, but the header has {columns} columns"),
    "file_problems": m("{file}：{count} 个问题，涉及 {lines} 行；未导入任何内容。请修正后重新导入。",
                       "{file}：{count} 個問題，涉及 {lines} 行；未匯入任何內容。請修正後重新匯入。",
                       "{file}: {count} problem(s) on {lines} line(s); nothing was imported. "
                       "Fix them and import the file again."),
    "file_problems_first": m("{file}：{count} 个问题，涉及 {lines} 行（列出前 {limit} 个）；未导入任何"
                             "内容。请修正后重新导入。",
                             "{file}：{count} 個問題，涉及 {lines} 行（列出前 {limit} 個）；未匯入任何"
                             "內容。請修正後重新匯入。",
                             "{file}: {count} problem(s) on {lines} line(s) (first {limit} listed); "
                             "nothing was imported. Fix them and import the file again."),
    "bad_cursor": m("游标无效", "游標無效", "bad cursor"),
    "foreign_cursor": m("不是本 API 发出的游标", "不是本 API 發出的游標", "not a cursor this API issued"),
    "token_expired": m("登录已过期：请在 /api/v1/auth/token 重新登录",
                       "登入已過期：請在 /api/v1/auth/token 重新登入",
                       "token expired: sign in again at /api/v1/auth/token"),
    "token_invalid": m("令牌无效：请在 /api/v1/auth/token 登录", "權杖無效：請在 /api/v1/auth/token 登入",
                       "invalid token: sign in at /api/v1/auth/token"),
    "imported": m("{file}：{rows} 行，新增 {inserted}，更新 {updated}，未变 {unchanged}",
                  "{file}：{rows} 行，新增 {inserted}，更新 {updated}，未變 {unchanged}",
                  "{file}: {rows} rows, {inserted} inserted, {updated} updated, {unchanged} "
                  "unchanged"),
    "role_may_not_do": m("{role}无权{perm}（权限 {code}）", "{role}無權{perm}（權限 {code}）",
                         "the {role} role may not {perm} ({code})"),
    # the platform's own commands (db, audit)
    "db.upgraded": m("数据库结构版本：{revision}（{url}）", "資料庫結構版本：{revision}（{url}）",
                     "database at revision {revision} ({url})"),
    "db.current": m("数据库：{revision}；最新：{head}", "資料庫：{revision}；最新：{head}",
                    "database: {revision}; newest: {head}"),
    "db.empty": m("空", "空", "empty"),
    "db.packs_ok": m("所有记录的政策包都在磁盘上（{total} 条记录，{groups} 组）",
                     "所有記錄的政策包都在磁碟上（{total} 條記錄，{groups} 組）",
                     "every record's pack is on disk ({total} records in {groups} group(s))"),
    "db.pack_record": m("{kind} {first}", "{kind} {first}", "{kind} {first}"),
    "db.pack_records": m("{kind} {first}（另有 {more} 条 {kind} 记录）",
                         "{kind} {first}（另有 {more} 條 {kind} 記錄）",
                         "{kind} {first} (and {more} more {kind} records)"),
    "audit.intact": m("审计链完整：{checked} 条记录（其中 {plain} 条早于审计密钥、未加密钥），{anchors} 个锚点",
                      "稽核鏈完整：{checked} 條記錄（其中 {plain} 條早於稽核金鑰、未加金鑰），{anchors} 個錨點",
                      "audit chain intact: {checked} entries ({plain} unkeyed from before the "
                      "audit key), {anchors} anchors"),
    "audit.broken": m("审计链在第 {seq} 条记录处断开：{reason}", "稽核鏈在第 {seq} 條記錄處斷開：{reason}",
                      "audit chain broken at entry {seq}: {reason}"),
    "audit.broken_anchors": m("审计链无法核对：{reason}", "稽核鏈無法核對：{reason}",
                              "audit chain cannot be checked: {reason}"),
    "audit.missing": m("第 {seq} 条记录缺失", "第 {seq} 條記錄缺失", "entry {seq} is missing"),
    "audit.link": m("与上一条记录的链接断开", "與上一條記錄的連結斷開",
                    "link to the previous entry broken"),
    "audit.unkeyed_after_keyed": m("加密钥的记录之后出现未加密钥的记录", "加金鑰的記錄之後出現未加金鑰的記錄",
                                   "an unkeyed entry after keyed ones"),
    "audit.unkeyed_after_anchor": m("第一个锚点（第 {seq} 条记录）之后出现未加密钥的记录",
                                    "第一個錨點（第 {seq} 條記錄）之後出現未加金鑰的記錄",
                                    "an unkeyed entry after the first anchor (entry {seq})"),
    "audit.unknown_kind": m("未知的哈希类型 {kind}", "未知的雜湊類型 {kind}", "unknown hash kind {kind}"),
    "audit.content": m("内容与其哈希不符", "內容與其雜湊不符", "content does not match its hash"),
    "audit.rewritten": m("与 {at} 写下的锚点不一致：审计链被改写至此",
                         "與 {at} 寫下的錨點不一致：稽核鏈被改寫至此",
                         "differs from the anchor written at {at}: the chain was rewritten up "
                         "to here"),
    # (each parameter once in the English text: the CLI reads the stored English back)
    "audit.tail_cut": m("第 {first} 至 {last} 条记录缺失（末尾被截断）：{at} 写下的锚点指向第 {anchored} 条记录",
                        "第 {first} 至 {last} 條記錄缺失（末尾被截斷）：{at} 寫下的錨點指向第 {anchored} 條記錄",
                        "entries {first} to {last} are missing (the tail was cut): the anchor "
                        "written at {at} names entry {anchored}"),
    "audit.anchor_format": m("锚点文件第 {line} 行：应为以制表符分隔的序号、哈希、时间和 MAC",
                             "錨點檔案第 {line} 行：應為以定位字元分隔的序號、雜湊、時間和 MAC",
                             "anchor file line {line}: expected seq, hash, time and MAC separated "
                             "by tabs"),
    "audit.anchor_mac": m("锚点文件第 {line} 行：MAC 不符（被修改过，或使用了另一个审计密钥）",
                          "錨點檔案第 {line} 行：MAC 不符（被修改過，或使用了另一個稽核金鑰）",
                          "anchor file line {line}: its MAC does not match (edited, or another "
                          "audit key)"),
    "not_datetime": m("{value} 不是日期时间（应为 YYYY-MM-DD HH:MM）",
                      "{value} 不是日期時間（應為 YYYY-MM-DD HH:MM）",
                      "{value} is not a date-time (expected YYYY-MM-DD HH:MM)"),
    "sign_in_first": m("请先登录：POST /api/v1/auth/token，然后发送“Authorization: Bearer <token>”",
                       "請先登入：POST /api/v1/auth/token，然後傳送「Authorization: Bearer <token>」",
                       "sign in first: POST /api/v1/auth/token, then send 'Authorization: "
                       "Bearer <token>'"),
})
"""Messages of the platform's own machinery (the API's error handlers, the CLI)."""


@dataclass(frozen=True)
class Term:
    """A word given in each language (a vocabulary's label, a pack's label), shown as is."""

    texts: Mapping[str, str]

    def render(self, lang: str) -> str:
        return self.texts.get(lang) or self.texts["en"]

    def __str__(self) -> str:
        return self.render("en")


def value_term(labels: Mapping[str, Mapping[str, str]], value: object) -> Term:
    """A vocabulary value (an enum's, as the API gives it): its label in Chinese (a domain's
    ``LABELS``), the value itself in English."""
    raw = str(getattr(value, "value", value))
    texts = labels.get(raw, {})
    return Term({"zh-Hans": texts.get("zh-Hans", raw), "zh-Hant": texts.get("zh-Hant", raw),
                 "en": raw})


def term(hans: str, en: str, hant: str | None = None) -> Term:
    """A word in simplified Chinese and English; its traditional form converted (OpenCC)
    unless given."""
    return Term({"zh-Hans": hans, "zh-Hant": hant if hant is not None else traditional(hans),
                 "en": en})


@dataclass(frozen=True)
class Day:
    """A date: ISO in English (as the API gives it), 2022年5月3日 in Chinese."""

    value: date

    def render(self, lang: str) -> str:
        if lang == "en":
            return self.value.isoformat()
        return f"{self.value.year}年{self.value.month}月{self.value.day}日"

    def __str__(self) -> str:
        return self.render("en")


@lru_cache(maxsize=4096)
def traditional(text: str) -> str:
    """``text`` (simplified characters) in traditional characters (OpenCC s2tw: characters
    only, no Taiwan phrase substitutions)."""
    if not text:
        return text
    out: str = _converter().convert(text)
    return out


@lru_cache(maxsize=1)
def _converter() -> Any:
    import opencc

    return opencc.OpenCC("s2tw")


ROLE_LABELS: dict[str, dict[str, str]] = {
    "commander": m("指挥人员", "指揮人員", "commander"),
    "epidemiologist": m("流调人员", "流調人員", "epidemiologist"),
    "testing_officer": m("核酸检测专员", "核酸檢測專員", "testing officer"),
    "isolation_officer": m("隔离管控专员", "隔離管控專員", "isolation officer"),
    "community_worker": m("社区工作人员", "社區工作人員", "community worker"),
    "analyst": m("数据分析人员", "數據分析人員", "analyst"),
    "administrator": m("系统管理员", "系統管理員", "administrator"),
}
"""A user's role (``fangkong.core.auth.Role``) as a reader names it: never the raw value
(``community_worker``) in a sentence."""

PERM_LABELS: dict[str, dict[str, str]] = {
    "person:read": m("查看人员信息", "查看人員資訊", "read persons"),
    "person:write": m("登记和修改人员信息", "登記和修改人員資訊", "record and change persons"),
    "case:read": m("查看病例", "查看病例", "read cases"),
    "case:write": m("报告和修改病例", "報告和修改病例", "report and change cases"),
    "task:read": m("查看任务", "查看任務", "read tasks"),
    "task:write": m("处理任务", "處理任務", "work on tasks"),
    "isolation:read": m("查看隔离信息", "查看隔離資訊", "read isolation"),
    "isolation:write": m("安排和管理隔离", "安排和管理隔離", "arrange and manage isolation"),
    "testing:write": m("组织核酸检测", "組織核酸檢測", "organise testing"),
    "zone:approve": m("调整和解除风险区", "調整和解除風險區", "change and lift risk zones"),
    "user:admin": m("管理用户", "管理使用者", "manage users"),
    "audit:read": m("查看审计记录", "查看稽核記錄", "read the audit log"),
}
"""A permission (``fangkong.core.auth.Perm``) as what it lets a user do."""


def role_term(role: object) -> Term:
    """A role's name in each language (its value when unknown)."""
    raw = str(getattr(role, "value", role))
    return Term(ROLE_LABELS.get(raw) or {lang: raw for lang in LANGS})


def perm_term(perm: object) -> Term:
    """A permission as what it lets a user do, in each language (its value when unknown)."""
    raw = str(getattr(perm, "value", perm))
    return Term(PERM_LABELS.get(raw) or {lang: raw for lang in LANGS})
