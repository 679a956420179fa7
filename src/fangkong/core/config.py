"""The one typed Settings object. Nothing else in Fangkong reads the environment (a test checks
``src/`` for other readers).

Every setting is validated when it is read: :func:`get_settings` (called by every CLI command
through the root callback, by ``serve``, ``demo`` and :func:`fangkong.app.create_app`) refuses
a bad value, and an unknown ``FANGKONG_`` variable (a misspelt name), with a
:class:`SettingError` naming the variable, the value and what is allowed. The settings table of
the README is generated from this class (:func:`settings_table`)."""

from __future__ import annotations

import base64
import difflib
import json
import os
import re
import secrets
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from pydantic_settings import SettingsError as SourceError

from fangkong.core.errors import AppError, Problem
from fangkong.core.messages import LANGS, Catalogue, Text, fields_of, m

PREFIX = "FANGKONG_"
BUILTIN_NOTIFIERS = ("log", "email")
NOTIFIER_GROUP = "fangkong.notifiers"
# Values never echoed in an error message.
_SECRET = frozenset({"secret_key", "encryption_key", "lookup_key", "smtp_password"})
# Variables with the prefix that are not settings: the test suite's own knobs.
_NOT_SETTINGS = re.compile(rf"{PREFIX}TEST_\w*")
_DIVISION_CODE = re.compile(r"\d{2}(\d{2}){0,2}(\d{3}){0,2}")

CommaList = Annotated[tuple[str, ...], NoDecode]


def policy_pack_ids() -> list[str]:
    """The ids of the shipped policy packs (what ``fangkong policy list`` lists): a pack's id
    is its file's name. Read from the files, not by loading the policy domain."""
    packs = resources.files("fangkong.policy").joinpath("packs")
    return sorted(p.name.removesuffix(".yaml") for p in packs.iterdir()
                  if p.name.endswith(".yaml"))


def notifier_names() -> list[str]:
    """Built-in notifiers and those that installed packages provide as entry points."""
    from importlib.metadata import entry_points

    return [*BUILTIN_NOTIFIERS,
            *sorted({ep.name for ep in entry_points(group=NOTIFIER_GROUP)} -
                    set(BUILTIN_NOTIFIERS))]


S = Catalogue("settings", {
    # the traditional texts written out (no OpenCC here: every command reads the settings)
    "not_url": m("不是数据库网址；允许：{allowed}", "不是資料庫網址；允許：{allowed}",
                 "not a database URL; allowed: {allowed}"),
    "backend": m("不支持数据库 {backend}；允许：{allowed}",
                 "不支援資料庫 {backend}；允許：{allowed}",
                 "database {backend} is not supported; allowed: {allowed}"),
    "key32": m("不是 base64 编码的 32 字节密钥；允许：base64 编码的 32 个随机字节（如 "
               "`openssl rand -base64 32`）",
               "不是 base64 編碼的 32 位元組金鑰；允許：base64 編碼的 32 個隨機位元組（如 "
               "`openssl rand -base64 32`）",
               "not a base64-encoded 32-byte key; allowed: 32 random bytes in base64 (e.g. "
               "`openssl rand -base64 32`)"),
    "timezone": m("没有这个时区；允许：IANA 时区名，如 Asia/Shanghai、Asia/Hong_Kong 或 UTC",
                  "沒有這個時區；允許：IANA 時區名，如 Asia/Shanghai、Asia/Hong_Kong 或 UTC",
                  "no such time zone; allowed: an IANA zone name such as Asia/Shanghai, "
                  "Asia/Hong_Kong or UTC"),
    "lang": m("没有这种语言；允许：{allowed}", "沒有這種語言；允許：{allowed}",
              "no such language; allowed: {allowed}"),
    "pack": m("没有这个政策包；允许：{allowed}", "沒有這個政策包；允許：{allowed}",
              "no such policy pack; allowed: {allowed}"),
    "codes": m("不是行政区划代码：{bad}；允许：2、4、6、9 或 12 位代码（省至村），如 4408",
               "不是行政區劃代碼：{bad}；允許：2、4、6、9 或 12 位代碼（省至村），如 4408",
               "not division codes: {bad}; allowed: codes of 2, 4, 6, 9 or 12 digits (province "
               "to village), e.g. 4408"),
    "notifier": m("没有名为 {unknown} 的通知方式；允许：{allowed}",
                  "沒有名為 {unknown} 的通知方式；允許：{allowed}",
                  "no notifier named {unknown}; allowed: {allowed}"),
    "email_needs": m("电子邮件通知（FANGKONG_ALERT_NOTIFIERS）需要此项；允许：一个值，"
                     "或不用电子邮件通知",
                     "電子郵件通知（FANGKONG_ALERT_NOTIFIERS）需要此項；允許：一個值，"
                     "或不用電子郵件通知",
                     "the email notifier (FANGKONG_ALERT_NOTIFIERS) needs it; allowed: a value, "
                     "or no email notifier"),
    "not_valid": m("{shown} 无效：{what}{hint}", "{shown} 無效：{what}{hint}",
                   "{shown} is not valid: {what}{hint}"),
    "unset": m("未设置：{what}{hint}", "未設定：{what}{hint}", "unset: {what}{hint}"),
    "hidden": m("（已隐藏）", "（已隱藏）", "(hidden)"),
    "json_list_hint": m("；允许：JSON 列表，如 [\"4408\"] 或 []",
                        "；允許：JSON 列表，如 [\"4408\"] 或 []",
                        '; allowed: a JSON list such as ["4408"] or []'),
    "not_json_list": m("{value} 无效：不是 JSON 列表；允许：JSON 列表，如 [\"4408\"] 或 []",
                       "{value} 無效：不是 JSON 列表；允許：JSON 列表，如 [\"4408\"] 或 []",
                       '{value} is not valid: not a JSON list; allowed: a JSON list such as '
                       '["4408"] or []'),
    "not_a_setting_near": m("不是设置项；您是否指 {near}？", "不是設定項；您是否指 {near}？",
                            "not a setting; did you mean {near}?"),
    "not_a_setting": m("不是设置项；请参阅 README.md 中的设置表",
                       "不是設定項；請參閱 README.md 中的設定表",
                       "not a setting; see the settings in README.md"),
    "where": m("{field}: {what}", "{field}: {what}", "{field}: {what}"),
    "many": m("{count} 项设置无效；Fangkong 不会启动", "{count} 項設定無效；Fangkong 不會啟動",
              "{count} settings are not valid; Fangkong does not start"),
})
"""The settings' own messages: a refused value is read by whoever starts Fangkong, in
``FANGKONG_LANG`` (or ``--lang``)."""


def _bad(key: str, **ctx: Any) -> PydanticCustomError:
    """A refused value: the English text (pydantic's message), the catalogue key in ``ctx``."""
    return PydanticCustomError("setting", S.entries[key]["en"], {"key": key, **ctx})


class Settings(BaseSettings):
    """Every setting is read from an environment variable prefixed ``FANGKONG_``."""

    model_config = SettingsConfigDict(env_prefix=PREFIX, env_file=".env", extra="ignore",
                                      frozen=True)

    data_dir: Path = Field(
        Path("fangkong-data"),
        description="Directory of the embedded SQLite database and the generated keys "
        "(`keys.json`).",
    )
    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL. Unset: SQLite file in the data directory. PostgreSQL: "
        "`postgresql+psycopg://user@host:5432/db`.",
    )
    secret_key: str | None = Field(
        None, description="Key that signs API bearer tokens. Unset: generated into "
        "`keys.json`.",
    )
    encryption_key: str | None = Field(
        None,
        description="Base64 32-byte AES-256-GCM key for identity numbers and phones at rest. "
        "Unset: generated into `keys.json`.",
    )
    lookup_key: str | None = Field(
        None,
        description="Base64 32-byte key of the keyed hash (HMAC-SHA256) that finds an "
        "encrypted identity number or phone. Unset: generated into `keys.json`.",
    )
    token_ttl_minutes: int = Field(
        480, gt=0, description="Lifetime of a sign-in session (API bearer token or page cookie).")
    login_user_max_failures: int = Field(
        5, ge=1, description="Failed sign-ins for one username before it is locked out.")
    login_address_max_failures: int = Field(
        20, ge=1, description="Failed sign-ins from one client address (any username) before "
        "the address is locked out.")
    login_lockout_seconds: int = Field(
        30, ge=1, description="First lockout; each further failure after a lockout doubles it.")
    login_lockout_max_seconds: int = Field(
        3600, ge=1, description="Longest lockout: the doubling stops there.")
    login_failure_window_minutes: int = Field(
        15, ge=1, description="Failures are forgotten once this long has passed since the last "
        "failure and the end of the last lockout.")
    password_min_length: int = Field(12, ge=8, description="Shortest password accepted.")
    audit_key: str | None = Field(
        None,
        description="Base64 32-byte key of the audit log's HMAC-SHA256 chain; keep it out of the "
        "database's reach. Unset: generated into data_dir.",
    )
    audit_anchor_file: Path | None = Field(
        None, description="Append-only file the audit chain's head is written to now and then "
        "(`fangkong audit anchor`, and each scheduled check of `serve`). Unset: "
        "data_dir/audit-anchors.log.")
    trusted_proxies: tuple[str, ...] = Field(
        (), description="Addresses (or networks) of reverse proxies in front of `serve` whose "
        "X-Forwarded-Proto and X-Forwarded-For are believed (JSON list; \"*\" for any). Empty: "
        "those headers are ignored, and a request is HTTPS only if it reached the server over "
        "TLS.")
    timezone: str = Field("Asia/Shanghai", description="Zone of times given without an "
                          "offset, and in which times are shown (an IANA name).")
    import_max_bytes: int = Field(
        512 * 1024 * 1024, gt=0, description="Largest bulk import file accepted, in bytes "
        "(512 MiB).",
    )
    import_max_errors: int = Field(
        200, gt=0, description="Problems listed per rejected import file before the list is "
        "cut.",
    )
    import_second_process: bool = Field(
        False,
        description="PostgreSQL: encrypt and format a large person import's rows in a second "
        "process while this one checks the next lines. Worth it with more than two cores: on "
        "two, the database server's work takes one and the second process only competes.",
    )
    page_size_max: int = Field(500, gt=0, description="Largest page a list endpoint returns.")
    escalation_interval_seconds: int = Field(
        300, ge=0, description="How often `fangkong serve` runs the scheduled checks (overdue "
        "tasks, the daily zone evaluation, the morning briefs); 0: never.",
    )
    escalation_step_minutes: int = Field(
        240, gt=0,
        description="An overdue task escalates one more jurisdiction level each time this many "
        "minutes pass after its due time or its last escalation.",
    )
    active_policy_pack: str = Field(
        "cn_v9", description="Id of the policy pack the deployment applies by default "
        "(`fangkong policy list` shows the shipped packs)."
    )
    zone_auto_apply: tuple[Literal["downgrade", "lift", "escalate"], ...] = Field(
        (),
        description="Kinds of risk-area change the daily evaluation applies by itself instead of "
        "proposing them to a commander: JSON list of `downgrade`, `lift`, `escalate`.",
    )
    isolation_reserve_ratio: float = Field(
        1.5, gt=0, description="Isolation rooms to have (active or standby) per room occupied "
        "tonight, per county (`fangkong isolation reserve`); a planning choice of the command."
    )
    tracing_auto_propose: bool = Field(
        True, description="When an infection is reported (or a suspected case confirmed), "
        "tracing proposes its contacts at once (household, venue co-presence, secondary "
        "contacts) for an epidemiologist to confirm.")
    brief_jurisdictions: tuple[str, ...] = Field(
        (), description="Division codes whose daily brief `fangkong serve` writes every "
        "morning (JSON list), as HTML, PDF and XLSX under `<data dir>/briefs/<date>/`.")
    brief_hour: int = Field(7, ge=0, le=23, description="Local hour from which the morning "
                            "briefs are written.")
    db_pool_size: int = Field(
        20, ge=1, le=1000, description="Database connections a server process keeps; also the "
        "number of requests it works on at once (more wait their turn).")
    read_audit_queue: int = Field(
        2000, ge=1, description="Audit entries of reads a server process holds at most while "
        "they wait to be written together (a reader past it waits up to "
        "`request_queue_seconds`, then is answered 503 with Retry-After).")
    login_concurrency: int = Field(
        0, ge=0, le=256, description="Sign-ins a server process works on at once (argon2 is "
        "CPU-bound; more at once only share the cores); 0: the number of cores.")
    login_queue_seconds: float = Field(
        30, ge=0, description="How long a sign-in waits for its turn (a storm of sign-ins is "
        "worked through at the rate the cores hash) before it is answered 503 with "
        "Retry-After.")
    workers: int = Field(
        1, ge=1, le=64, description="Server processes `fangkong serve` starts (each with "
        "`db_pool_size` connections); more than one suits PostgreSQL on a machine of several "
        "cores. The scheduled jobs run once, in the parent process.")
    request_queue_seconds: float = Field(
        10, ge=0, description="How long a request waits for its turn when all of "
        "`db_pool_size` are busy before it is answered 503 with Retry-After.")
    alert_notifiers: CommaList = Field(
        ("log",), description="Comma-separated notifiers that announce surveillance alerts: "
        "`log`, `email`, or a plugin's name (entry-point group `fangkong.notifiers`).")
    smtp_host: str | None = Field(None, description="SMTP server of the `email` notifier.")
    smtp_port: int = Field(25, ge=1, le=65535, description="SMTP port of the `email` "
                           "notifier.")
    smtp_starttls: bool = Field(False, description="Whether the `email` notifier uses "
                                "STARTTLS.")
    smtp_user: str | None = Field(None, description="SMTP user of the `email` notifier "
                                  "(unset: no login).")
    smtp_password: str | None = Field(None, description="SMTP password of the `email` "
                                      "notifier.")
    alert_email_from: str = Field("fangkong@localhost", description="Sender of alert "
                                  "e-mails.")
    alert_email_to: CommaList = Field((), description="Comma-separated recipients of alert "
                                      "e-mails (needed by the `email` notifier).")
    duckdb_threads: int = Field(0, ge=0, description="Threads of the co-presence engine "
                                "(DuckDB); 0: one per core.")
    lang: str = Field(
        "zh-Hans", description="Language of the command line's messages and errors: `zh-Hans`, "
        "`zh-Hant` or `en` (a command's `--lang` overrides it). Chinese by default, as the web "
        "pages, whatever the server's locale: a server's locale is rarely the staff's.")
    host: str = Field("127.0.0.1", description="Address `fangkong serve` binds to.")
    port: int = Field(8000, ge=1, le=65535, description="Port `fangkong serve` binds to.")

    @field_validator("alert_notifiers", "alert_email_to", mode="before")
    @classmethod
    def _comma_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(v.strip() for v in value.split(",") if v.strip())
        return value

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str | None) -> str | None:
        if value is None:
            return value
        allowed = "sqlite:///PATH or postgresql+psycopg://USER@HOST:PORT/DB"
        # SQLAlchemy's URL grammar ("backend[+driver]://" then optional parts), read without
        # importing SQLAlchemy: every command checks the settings, `--help` included.
        scheme = re.match(r"([\w+]+)://", value)
        if scheme is None:
            raise _bad("not_url", allowed=allowed)
        backend = scheme.group(1).split("+")[0]
        if backend not in ("sqlite", "postgresql"):
            raise _bad("backend",
                       backend=backend, allowed=allowed)
        return value

    @field_validator("encryption_key", "lookup_key")
    @classmethod
    def _key32(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                raw = base64.b64decode(value, validate=True)
            except ValueError:
                raw = b""
            if len(raw) != 32:
                raise _bad("key32")
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise _bad("timezone") from None
        return value

    @field_validator("lang")
    @classmethod
    def _lang(cls, value: str) -> str:
        if value not in LANGS:
            raise _bad("lang", allowed=", ".join(LANGS))
        return value

    @field_validator("active_policy_pack")
    @classmethod
    def _pack(cls, value: str) -> str:
        ids = policy_pack_ids()
        if value not in ids:
            raise _bad("pack", allowed=", ".join(ids))
        return value

    @field_validator("brief_jurisdictions")
    @classmethod
    def _codes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = [c for c in value if not _DIVISION_CODE.fullmatch(c)]
        if bad:
            raise _bad("codes", bad=", ".join(bad))
        return value

    @field_validator("alert_notifiers")
    @classmethod
    def _notifiers(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [n for n in value if n not in BUILTIN_NOTIFIERS]
        if unknown:
            names = notifier_names()
            unknown = [n for n in unknown if n not in names]
            if unknown:
                raise _bad("notifier",
                           unknown=", ".join(unknown), allowed=", ".join(names))
        return value

    @model_validator(mode="after")
    def _email_notifier(self) -> Settings:
        if "email" in self.alert_notifiers:
            for name in ("smtp_host", "alert_email_to"):
                if not getattr(self, name):
                    raise _bad("email_needs", setting=name)
        return self

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'fangkong.db').resolve()}"

    def _keys_file(self) -> dict[str, str]:
        """Keys generated once per embedded install, kept in data_dir with mode 0600. A key
        added by a later version (the audit key) is added to an existing file, under a lock,
        keeping the others."""
        path = self.data_dir / "keys.json"
        if path.exists():
            keys: dict[str, str] = json.loads(path.read_text())
            if all(name in keys for name in KEY_NAMES):
                return keys
            return _add_keys(path)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        keys = {name: _new_key() for name in KEY_NAMES}
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(keys, fh)
        return keys

    def key(self, name: str) -> bytes:
        """The named key as bytes, from the environment or the generated key file."""
        value = getattr(self, name) or self._keys_file()[name]
        if name == "secret_key":
            return str(value).encode()
        raw = base64.b64decode(value)
        if len(raw) != 32:
            raise ValueError(f"FANGKONG_{name.upper()} must be 32 bytes, base64-encoded")
        return raw


KEY_NAMES = ("secret_key", "encryption_key", "lookup_key", "audit_key")


def _new_key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


def _add_keys(path: Path) -> dict[str, str]:
    """Add the missing keys to ``path``: under an exclusive lock, read again (another process
    may have added them first), then replace the file whole."""
    import fcntl

    with open(path.with_name(path.name + ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        keys: dict[str, str] = json.loads(path.read_text())
        missing = [name for name in KEY_NAMES if name not in keys]
        if missing:
            keys.update({name: _new_key() for name in missing})
            tmp = path.with_name(path.name + ".new")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as fh:
                json.dump(keys, fh)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        return keys


class SettingError(AppError):
    """A setting that cannot be used: Fangkong refuses to start. Exit code 78 (EX_CONFIG of
    sysexits.h); each problem's field is the environment variable."""

    code = "invalid_setting"
    status_code = 500
    exit_code = 78


def env_name(field: str) -> str:
    return f"{PREFIX}{field.upper()}"


def _shown(field: str, value: Any) -> str | Text:
    if field in _SECRET:
        return S("hidden")
    if field == "database_url" and isinstance(value, str):
        try:
            from sqlalchemy.engine import make_url

            return repr(make_url(value).render_as_string(hide_password=True))
        except Exception:
            return S("hidden")
    return repr(value)


_HINTS = {"tuple_type": "json_list_hint"}


def _what(error: Any) -> Text | str:
    """What is wrong with a value, in the catalogues: the settings' own or pydantic's."""
    from fangkong.core import validation

    ctx = error.get("ctx") or {}
    key = ctx.get("key")
    if error["type"] == "setting" and isinstance(key, str) and key in S:
        return S(key, **{name: ctx[name] for name in fields_of(S.entries[key]["en"])})
    return validation.text(error)


def _problems(exc: ValidationError) -> list[Problem]:
    out = []
    for e in exc.errors():
        field = str(e["loc"][0]) if e["loc"] else str((e.get("ctx") or {}).get("setting", ""))
        hint: Text | str = S(_HINTS[e["type"]]) if e["type"] in _HINTS else ""
        if e["loc"]:
            message = S("not_valid", shown=_shown(field, e["input"]), what=_what(e), hint=hint)
        else:
            message = S("unset", what=_what(e), hint=hint)
        out.append(Problem(message, field=env_name(field)))
    return out


def _unknown_variables(environ: dict[str, str]) -> list[Problem]:
    known = [env_name(f) for f in Settings.model_fields]
    out = []
    for name in sorted(environ):
        upper = name.upper()
        if upper.startswith(PREFIX) and upper not in known and not _NOT_SETTINGS.fullmatch(upper):
            near = difflib.get_close_matches(upper, known, n=1)
            out.append(Problem(S("not_a_setting_near", near=near[0]) if near
                               else S("not_a_setting"), field=name))
    return out


def load() -> Settings:
    """The settings from the environment (and ``.env``), or a :class:`SettingError` listing
    every bad or unknown variable, one line each."""
    variables = dict(os.environ)
    env_file = Path(str(Settings.model_config.get("env_file") or ".env"))
    if env_file.is_file():  # pydantic-settings reads it too (python-dotenv, its dependency)
        from dotenv import dotenv_values

        variables.update((k, v or "") for k, v in dotenv_values(env_file).items())
    problems = _unknown_variables(variables)
    try:
        settings = Settings()
    except ValidationError as exc:
        problems += _problems(exc)
    except SourceError as exc:  # a list setting whose value is not JSON
        found = re.search(r'field "(\w+)"', str(exc))
        field = found.group(1) if found else ""
        value = os.environ.get(env_name(field), "")
        problems.append(Problem(S("not_json_list", value=repr(value)), field=env_name(field)))
    if problems:
        if len(problems) == 1:
            raise SettingError(_whole(problems[0]), problems=problems)
        raise SettingError(S("many", count=len(problems)), problems=problems)
    return settings


def _whole(problem: Problem) -> Text:
    """The one problem as the error's line: the variable, then what is wrong with it (as
    :meth:`Problem.render` shows it, so the CLI does not repeat it below)."""
    return S("where", field=problem.field or "", what=problem.text)


def lang_alone() -> str:
    """``FANGKONG_LANG`` when the settings as a whole cannot be read (the language to refuse
    them in), or the default."""
    value = os.environ.get(env_name("lang"))
    default = Settings.model_fields["lang"].default
    return value if value in LANGS else str(default)


@lru_cache
def get_settings() -> Settings:
    return load()


def _default(field: str) -> str:
    info = Settings.model_fields[field]
    value = info.default
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, tuple):
        if field in _COMMA_LISTS:
            return f"`{','.join(value)}`" if value else "none"
        return f"`{json.dumps(list(value))}`"
    if isinstance(value, str | Path):
        return f"`{value}`"
    return str(value)


_COMMA_LISTS = frozenset({"alert_notifiers", "alert_email_to"})


def settings_table() -> str:
    """The README's table of settings, generated from :class:`Settings` (a test compares)."""
    rows = ["| variable | default | meaning |", "| --- | --- | --- |"]
    for field, info in Settings.model_fields.items():
        meaning = (info.description or "").replace("|", "\\|")
        rows.append(f"| `{env_name(field)}` | {_default(field)} | {meaning} |")
    return "\n".join(rows) + "\n"
