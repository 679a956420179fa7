"""The append-only audit log of personal-data access: a keyed hash chain, anchored outside the
database.

Each entry's hash covers its own content and the previous entry's hash, so editing, deleting or
reordering any entry breaks the chain from that point on; ``fangkong audit verify`` finds where.
Database triggers (created by the migration) refuse UPDATE and DELETE on the table as well.

Keyed: the hash is an HMAC-SHA256 under the audit key (``FANGKONG_AUDIT_KEY``, or generated into
the data directory's ``keys.json``), a key that is not in the database: someone who can write to
the database but does not hold the key cannot compute the hash of an entry they edit or insert,
so cannot rebuild a consistent chain after it.

Anchored: the chain's head (its last seq and hash) is appended now and then to an anchor file
outside the database (``<data dir>/audit-anchors.log`` by default, ``FANGKONG_AUDIT_ANCHOR_FILE``;
``fangkong serve`` writes one at each scheduled check when the head moved, and ``fangkong audit
anchor`` at once). One line per anchor, tab-separated: seq, the entry's hash, the UTC time, and an
HMAC of the three under the audit key. A chain whose tail was deleted is still consistent in
itself; the anchors show that entries they name are missing (``verify`` reports the first
missing seq) or were replaced. Deleting entries written after the newest anchor cannot be told:
the anchor interval bounds that window. The file is only appended to; keep a copy of it (or of
the lines ``fangkong audit anchor`` prints) where database administrators cannot write.

Entries written before migration 0022 were hashed with plain SHA-256 (no key). They keep their
hashes and verify as they are: the column ``hash_kind`` says which hash an entry carries (0 plain
SHA-256, 1 HMAC-SHA256; the migration gave existing rows 0). Plain entries are accepted only as
the chain's prefix: none after the first keyed entry, whose hash seals the prefix (it covers the
last plain hash), and none after the first anchor's seq, since every anchor is written by a
version that keys entries. Otherwise a writer without the key could append (or rewrite the tail
as) plain entries.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, BigInteger, SmallInteger, String, Text, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from fangkong.core.auth import Actor
from fangkong.core.clock import as_utc, utc_now
from fangkong.core.config import Settings, get_settings
from fangkong.core.db import DEFERRED_WRITES, Base, BigId, UTCDateTime, is_postgres
from fangkong.core.messages import CORE
from fangkong.core.writebehind import GROUP_WRITE

GENESIS = "0" * 64
_PG_LOCK_KEY = 0x46414E47  # any constant: serialises appends to the chain on PostgreSQL
PLAIN, KEYED = 0, 1  # hash_kind: plain SHA-256 (entries before migration 0022), HMAC-SHA256
_ANCHOR_DOMAIN = b"fangkong audit anchor\n"
_HEAD = "fangkong.audit_head"  # Session.info: the chain's head in a group writer's transaction


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(100))
    actor_user_id: Mapped[int | None] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(20))
    record_type: Mapped[str] = mapped_column(String(50))
    record_ids: Mapped[list[str]] = mapped_column(JSON)
    fields: Mapped[list[str]] = mapped_column(JSON)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
    hash_kind: Mapped[int] = mapped_column(SmallInteger, server_default=text("0"))


@lru_cache(maxsize=8)
def _key_of(settings: Settings) -> bytes:
    return settings.key("audit_key")


def audit_key() -> bytes:
    return _key_of(get_settings())


def anchor_file() -> Path:
    """Where this deployment's anchors go."""
    settings = get_settings()
    return settings.audit_anchor_file or settings.data_dir / "audit-anchors.log"


def _digest(entry: AuditEntry, key: bytes) -> str:
    body = [
        entry.seq, entry.at.isoformat(), entry.actor, entry.actor_user_id, entry.source,
        entry.action, entry.record_type, entry.record_ids, entry.fields, entry.detail,
        entry.note, entry.prev_hash,
    ]
    if entry.hash_kind == PLAIN:
        canonical = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()
    canonical = json.dumps([*body, entry.hash_kind], ensure_ascii=False, sort_keys=True,
                           separators=(",", ":"))
    return hmac.new(key, canonical.encode(), hashlib.sha256).hexdigest()


def record(
    session: Session,
    actor: Actor,
    *,
    action: str,
    record_type: str,
    record_ids: Iterable[object] = (),
    fields: Sequence[str] = (),
    detail: dict[str, Any] | None = None,
    note: str | None = None,
) -> AuditEntry | None:
    """Append one entry in the caller's transaction (it lands or rolls back with the data).

    In a read transaction (:func:`fangkong.core.db.read_scope`) the entry, with the time of
    the read, is queued instead and appended once the read has ended, before the reader
    answers (None is returned then)."""
    deferred = session.info.get(DEFERRED_WRITES)
    if deferred is not None:
        at = utc_now()
        ids, names, extra = [str(r) for r in record_ids], list(fields), dict(detail or {})

        def write(writer: Session) -> None:
            _append(writer, actor, at=at, action=action, record_type=record_type,
                    record_ids=ids, fields=names, detail=extra, note=note)

        deferred.append(write)
        return None
    return _append(session, actor, at=utc_now(), action=action, record_type=record_type,
                   record_ids=record_ids, fields=fields, detail=detail, note=note)


def _append(
    session: Session,
    actor: Actor,
    *,
    at: datetime,
    action: str,
    record_type: str,
    record_ids: Iterable[object],
    fields: Sequence[str],
    detail: dict[str, Any] | None,
    note: str | None,
) -> AuditEntry:
    key = audit_key()
    group = session.info.get(GROUP_WRITE)
    known = session.info.get(_HEAD) if group else None
    if known is not None:  # the group writer's transaction already holds the chain's lock
        seq, prev = known
    else:
        if is_postgres(session):
            session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
        seq, prev = head(session)
    entry = AuditEntry(
        seq=seq + 1, at=at, actor=actor.username,
        actor_user_id=actor.user_id, source=actor.source, action=action,
        record_type=record_type, record_ids=[str(r) for r in record_ids],
        fields=list(fields), detail=detail or {}, note=note, prev_hash=prev, hash_kind=KEYED,
    )
    entry.hash = _digest(entry, key)
    session.add(entry)
    if group:  # flushed together at the commit; the head is known from here on
        session.info[_HEAD] = (entry.seq, entry.hash)
    else:
        session.flush()
    return entry


def head(session: Session) -> tuple[int, str]:
    """The chain's last seq and hash; (0, GENESIS) when it is empty."""
    last = session.execute(
        select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)
    ).first()
    return (last[0], last[1]) if last else (0, GENESIS)


# ------------------------------------------------------------------------------- anchors


@dataclass(frozen=True)
class Anchor:
    seq: int
    hash: str
    at: datetime

    def _fields(self) -> str:
        return f"{self.seq}\t{self.hash}\t{self.at.isoformat()}"

    def line(self, key: bytes) -> str:
        mac = hmac.new(key, _ANCHOR_DOMAIN + self._fields().encode(), hashlib.sha256)
        return f"{self._fields()}\t{mac.hexdigest()}"


class AnchorFileError(ValueError):
    """A line of the anchor file that is malformed or whose MAC does not match the key."""

    def __init__(self, line_no: int, key: str) -> None:
        self.text = CORE(key, line=line_no)
        super().__init__(str(self.text))
        self.line_no = line_no


def read_anchors(path: Path, key: bytes | None = None) -> list[Anchor]:
    """The anchors of ``path`` in the order written (none if the file does not exist)."""
    key = key or audit_key()
    if not path.exists():
        return []
    anchors = []
    for no, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not raw.strip():
            continue
        parts = raw.split("\t")
        try:
            seq, digest, at, _mac = parts
            anchor = Anchor(int(seq), digest, as_utc(datetime.fromisoformat(at)))
        except ValueError:
            raise AnchorFileError(no, "audit.anchor_format") \
                from None
        if not hmac.compare_digest(anchor.line(key), raw):
            raise AnchorFileError(no, "audit.anchor_mac")
        anchors.append(anchor)
    return anchors


def write_anchor(session: Session, path: Path, *, key: bytes | None = None) -> tuple[Anchor, bool]:
    """Append the chain's head to ``path`` unless the newest anchor there already names it.
    Returns the anchor and whether it was written now."""
    key = key or audit_key()
    seq, digest = head(session)
    anchors = read_anchors(path, key)
    if anchors and (anchors[-1].seq, anchors[-1].hash) == (seq, digest):
        return anchors[-1], False
    anchor = Anchor(seq, digest, utc_now())
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as fh:
        fh.write(anchor.line(key) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    return anchor, True


def anchor_job(session: Session, _actor: Actor) -> None:
    """The scheduled job of ``fangkong serve`` (:data:`fangkong.registry.PLATFORM`): at every
    tick, the chain's head to the deployment's anchor file when it moved."""
    write_anchor(session, anchor_file())


# ------------------------------------------------------------------------------- verify


@dataclass
class VerifyResult:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    reason: str | None = None  # English; ``CORE.parse(reason, "audit.")`` reads it back
    plain: int = 0  # entries of the plain SHA-256 prefix (written before migration 0022)
    anchors: int = 0  # anchors checked


def verify(session: Session, *, anchors: Path | None = None, key: bytes | None = None,
           batch: int = 5000) -> VerifyResult:
    """Walk the chain in order; report the first entry whose link, content or hash kind does not
    match, or that an anchor of ``anchors`` names and the chain no longer has as anchored."""
    key = key or audit_key()
    try:
        marks = read_anchors(anchors, key) if anchors else []
    except AnchorFileError as exc:
        return VerifyResult(False, 0, None, str(exc))
    by_seq: dict[int, list[Anchor]] = {}
    for mark in marks:
        by_seq.setdefault(mark.seq, []).append(mark)
    plain_until = min((m.seq for m in marks), default=None)
    prev, expected_seq, checked, plain, keyed_seen = GENESIS, 1, 0, 0, False

    def bad(first_bad: int, key: str, **params: object) -> VerifyResult:
        return VerifyResult(False, checked, first_bad, str(CORE(f"audit.{key}", **params)),
                            plain, len(marks))

    stmt = select(AuditEntry).order_by(AuditEntry.seq).execution_options(yield_per=batch)
    for entry in session.scalars(stmt):
        if entry.seq != expected_seq:
            return bad(expected_seq, "missing", seq=expected_seq)
        if entry.prev_hash != prev:
            return bad(entry.seq, "link")
        if entry.hash_kind == PLAIN:
            if keyed_seen:
                return bad(entry.seq, "unkeyed_after_keyed")
            if plain_until is not None and entry.seq > plain_until:
                return bad(entry.seq, "unkeyed_after_anchor", seq=plain_until)
            plain += 1
        elif entry.hash_kind == KEYED:
            keyed_seen = True
        else:
            return bad(entry.seq, "unknown_kind", kind=entry.hash_kind)
        if not hmac.compare_digest(_digest(entry, key), entry.hash):
            return bad(entry.seq, "content")
        for mark in by_seq.get(entry.seq, ()):
            if mark.hash != entry.hash:
                return bad(entry.seq, "rewritten", at=mark.at.isoformat(timespec="seconds"))
        prev, expected_seq, checked = entry.hash, expected_seq + 1, checked + 1
    last = max(marks, key=lambda m: m.seq, default=None)
    if last is not None and last.seq >= expected_seq:
        return bad(expected_seq, "tail_cut", first=expected_seq, last=last.seq,
                   anchored=last.seq, at=last.at.isoformat(timespec="seconds"))
    return VerifyResult(True, checked, plain=plain, anchors=len(marks))
