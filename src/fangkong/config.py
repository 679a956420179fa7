"""The one typed Settings object. Nothing else in Fangkong reads the environment."""

from __future__ import annotations

import base64
import json
import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every setting is read from an environment variable prefixed ``FANGKONG_``."""

    model_config = SettingsConfigDict(env_prefix="FANGKONG_", env_file=".env", extra="ignore",
                                      frozen=True)

    data_dir: Path = Field(
        Path("fangkong-data"),
        description="Directory for the embedded SQLite database and generated keys.",
    )
    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL. Unset: SQLite file in data_dir. PostgreSQL: "
        "postgresql+psycopg://user@host:5432/db",
    )
    secret_key: str | None = Field(
        None, description="Key that signs API bearer tokens. Unset: generated into data_dir."
    )
    encryption_key: str | None = Field(
        None,
        description="Base64 32-byte AES-256-GCM key for identity numbers and phones at rest. "
        "Unset: generated into data_dir.",
    )
    lookup_key: str | None = Field(
        None,
        description="Base64 key for the keyed hash (HMAC-SHA256) that allows exact lookup of "
        "encrypted identifiers. Unset: generated into data_dir.",
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
    timezone: str = Field("Asia/Shanghai", description="Zone in which times are shown.")
    import_max_bytes: int = Field(
        512 * 1024 * 1024, description="Largest bulk import file accepted, in bytes."
    )
    import_max_errors: int = Field(
        200, description="Errors listed per rejected import before the list is cut."
    )
    import_second_process: bool = Field(
        False,
        description="PostgreSQL: encrypt and format a large person import's rows in a second "
        "process while this one checks the next lines. Worth it with more than two cores: on "
        "two, the database server's work takes one and the second process only competes.",
    )
    page_size_max: int = Field(500, description="Largest page a list endpoint returns.")
    escalation_interval_seconds: int = Field(
        300, description="How often `fangkong serve` checks for overdue tasks to escalate."
    )
    escalation_step_minutes: int = Field(
        240,
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
        "proposing them to a commander: any of downgrade, lift, escalate (JSON list).",
    )
    isolation_reserve_ratio: float = Field(
        1.5, gt=0, description="Isolation reserve planning: rooms to have (active or standby) "
        "per room occupied tonight, per county; a planning choice of the command."
    )
    tracing_auto_propose: bool = Field(
        True, description="When an infection is reported, tracing proposes its contacts at once "
        "(household, venue co-presence, secondary contacts) for an epidemiologist to confirm.")
    brief_jurisdictions: tuple[str, ...] = Field(
        (), description="Division codes whose daily brief `fangkong serve` writes every "
        "morning (JSON list), as HTML, PDF and XLSX under data_dir/briefs/<date>/.")
    brief_hour: int = Field(7, ge=0, le=23, description="Local hour from which the morning "
                            "briefs are written.")
    db_pool_size: int = Field(
        20, ge=1, le=1000, description="Database connections a server process keeps; also the "
        "number of requests it works on at once (more wait their turn).")
    request_queue_seconds: float = Field(
        10, ge=0, description="How long a request waits for its turn when all of "
        "`db_pool_size` are busy before it is answered 503 with Retry-After.")
    host: str = Field("127.0.0.1", description="Address `fangkong serve` binds to.")
    port: int = Field(8000, description="Port `fangkong serve` binds to.")

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


@lru_cache
def get_settings() -> Settings:
    return Settings()
