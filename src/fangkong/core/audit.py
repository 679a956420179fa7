"""The append-only audit log of personal-data access, chained by SHA-256 hashes.

Each entry's hash covers its own content and the previous entry's hash, so editing, deleting or
reordering any entry breaks the chain from that point on; ``fangkong audit verify`` finds where.
Database triggers (created by the migration) refuse UPDATE and DELETE on the table as well.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, String, Text, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from fangkong.core.auth import Actor
from fangkong.core.clock import utc_now
from fangkong.core.db import DEFERRED_WRITES, Base, BigId, UTCDateTime, is_postgres

GENESIS = "0" * 64
_PG_LOCK_KEY = 0x46414E47  # any constant: serialises appends to the chain on PostgreSQL


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


def _digest(entry: AuditEntry) -> str:
    body = [
        entry.seq, entry.at.isoformat(), entry.actor, entry.actor_user_id, entry.source,
        entry.action, entry.record_type, entry.record_ids, entry.fields, entry.detail,
        entry.note, entry.prev_hash,
    ]
    canonical = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


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
    if is_postgres(session):
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
    last = session.execute(
        select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)
    ).first()
    seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
    entry = AuditEntry(
        seq=seq, at=at, actor=actor.username,
        actor_user_id=actor.user_id, source=actor.source, action=action,
        record_type=record_type, record_ids=[str(r) for r in record_ids],
        fields=list(fields), detail=detail or {}, note=note, prev_hash=prev,
    )
    entry.hash = _digest(entry)
    session.add(entry)
    session.flush()
    return entry


@dataclass
class VerifyResult:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    reason: str | None = None


def verify(session: Session, *, batch: int = 5000) -> VerifyResult:
    """Walk the chain in order; report the first entry whose link or content does not match."""
    prev, expected_seq, checked = GENESIS, 1, 0
    stmt = select(AuditEntry).order_by(AuditEntry.seq).execution_options(yield_per=batch)
    for entry in session.scalars(stmt):
        if entry.seq != expected_seq:
            return VerifyResult(False, checked, expected_seq, f"entry {expected_seq} is missing")
        if entry.prev_hash != prev:
            return VerifyResult(False, checked, entry.seq, "link to the previous entry broken")
        if _digest(entry) != entry.hash:
            return VerifyResult(False, checked, entry.seq, "content does not match its hash")
        prev, expected_seq, checked = entry.hash, expected_seq + 1, checked + 1
    return VerifyResult(True, checked)
