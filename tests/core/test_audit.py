from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Connection, insert, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from fangkong.core import audit
from fangkong.core.audit import AuditEntry
from fangkong.core.auth import Actor
from fangkong.core.config import Settings, get_settings
from tests.conftest import make_actor


def _entries(session: Session, actor: Actor, n: int) -> None:
    for i in range(n):
        audit.record(session, actor, action="read", record_type="person", record_ids=[i],
                     fields=["name"], detail={"i": i, "名": "张三"})


def test_chain_verifies(session: Session, admin: Actor) -> None:
    _entries(session, admin, 5)
    result = audit.verify(session)
    assert result.ok and result.checked >= 5


def test_update_and_delete_are_refused_by_the_database(session: Session, admin: Actor) -> None:
    _entries(session, admin, 1)
    for sql in ("UPDATE audit_log SET actor = 'mallory'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"), session.begin_nested():
            session.execute(text(sql))


def _drop_triggers(session: Session, dialect: str) -> None:
    """What an attacker with DDL rights could do; the hash chain must still tell."""
    if dialect == "postgresql":
        session.execute(text("DROP TRIGGER audit_log_no_change ON audit_log"))
    else:
        session.execute(text("DROP TRIGGER audit_log_no_update"))
        session.execute(text("DROP TRIGGER audit_log_no_delete"))


def test_tampered_content_is_found(session: Session, admin: Actor, dialect: str) -> None:
    _entries(session, admin, 4)
    _drop_triggers(session, dialect)
    target = session.scalar(text("SELECT max(seq) - 1 FROM audit_log"))
    session.execute(text("UPDATE audit_log SET actor = 'mallory' WHERE seq = :s"), {"s": target})
    session.expire_all()
    result = audit.verify(session)
    assert not result.ok
    assert result.first_bad_seq == target
    assert "hash" in (result.reason or "")


def test_deleted_entry_is_found(session: Session, admin: Actor, dialect: str) -> None:
    _entries(session, admin, 4)
    _drop_triggers(session, dialect)
    target = session.scalar(text("SELECT max(seq) - 2 FROM audit_log"))
    session.execute(text("DELETE FROM audit_log WHERE seq = :s"), {"s": target})
    session.expire_all()
    result = audit.verify(session)
    assert not result.ok and result.first_bad_seq == target


# ------------------------------------------------------------------ keyed chain and anchors


def _plain_sha256(row: dict[str, object]) -> str:
    """The hash of an entry as written before migration 0022 (the code of that time)."""
    body = [row["seq"], row["at"].isoformat(), row["actor"], row["actor_user_id"],  # type: ignore[attr-defined]
            row["source"], row["action"], row["record_type"], row["record_ids"], row["fields"],
            row["detail"], row["note"], row["prev_hash"]]
    canonical = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _insert_plain(conn: Connection | Session, n: int) -> None:
    """Append ``n`` entries as the code before the audit key wrote them (no key needed: what a
    database writer without the key can also do)."""
    last = conn.execute(text("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")).first()
    seq, prev = (last[0], last[1]) if last else (0, audit.GENESIS)
    for _ in range(n):
        seq += 1
        row: dict[str, object] = {
            "seq": seq, "at": datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=seq),
            "actor": "old", "actor_user_id": None, "source": "cli:root", "action": "read",
            "record_type": "person", "record_ids": [str(seq)], "fields": ["name"],
            "detail": {"名": "张三"}, "note": None, "prev_hash": prev}
        row["hash"] = prev = _plain_sha256(row)
        conn.execute(insert(AuditEntry.__table__).values(row))


def test_entries_are_hmac_under_the_audit_key(session: Session, admin: Actor) -> None:
    _entries(session, admin, 2)
    entry = session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
    assert entry is not None and entry.hash_kind == audit.KEYED
    key = get_settings().key("audit_key")
    body = [entry.seq, entry.at.isoformat(), entry.actor, entry.actor_user_id, entry.source,
            entry.action, entry.record_type, entry.record_ids, entry.fields, entry.detail,
            entry.note, entry.prev_hash, audit.KEYED]
    canonical = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    assert entry.hash == hmac.new(key, canonical.encode(), hashlib.sha256).hexdigest()
    assert audit.verify(session, key=b"x" * 32).reason == "content does not match its hash"


def test_a_chain_rebuilt_without_the_key_is_found(session: Session, admin: Actor,
                                                  dialect: str) -> None:
    """A writer without the key edits an entry and rebuilds every hash after it: with another
    key the hashes do not match; as unkeyed entries they are refused after keyed ones."""
    _entries(session, admin, 4)
    _drop_triggers(session, dialect)
    first = session.scalar(text("SELECT max(seq) - 1 FROM audit_log"))
    session.execute(text("DELETE FROM audit_log WHERE seq >= :s"), {"s": first})
    _insert_plain(session, 2)
    session.expire_all()
    result = audit.verify(session)
    assert (result.ok, result.first_bad_seq) == (False, first)
    assert result.reason == "an unkeyed entry after keyed ones"


def test_a_cut_tail_is_found_by_the_anchor(session: Session, admin: Actor, dialect: str,
                                           tmp_path: Path) -> None:
    anchors = tmp_path / "anchors.log"
    _entries(session, admin, 6)
    mark, written = audit.write_anchor(session, anchors)
    assert written and audit.write_anchor(session, anchors) == (mark, False)  # head unchanged
    _drop_triggers(session, dialect)
    cut = mark.seq - 1
    session.execute(text("DELETE FROM audit_log WHERE seq >= :s"), {"s": cut})
    session.expire_all()
    assert audit.verify(session).ok  # the chain alone cannot tell a cut tail
    result = audit.verify(session, anchors=anchors)
    assert (result.ok, result.first_bad_seq, result.anchors) == (False, cut, 1)
    assert f"entries {cut} to {mark.seq} are missing" in (result.reason or "")
    # new entries written after the cut take the same seqs, with other hashes
    _entries(session, admin, 3)
    session.expire_all()
    result = audit.verify(session, anchors=anchors)
    assert (result.ok, result.first_bad_seq) == (False, mark.seq)
    assert "differs from the anchor" in (result.reason or "")


def test_anchor_lines_are_authenticated(session: Session, admin: Actor, tmp_path: Path) -> None:
    anchors = tmp_path / "anchors.log"
    _entries(session, admin, 2)
    audit.write_anchor(session, anchors)
    _entries(session, admin, 1)
    audit.write_anchor(session, anchors)
    assert audit.verify(session, anchors=anchors).ok
    assert audit.verify(session, anchors=anchors).anchors == 2
    lines = anchors.read_text().splitlines()
    seq, digest, at, mac = lines[1].split("\t")
    anchors.write_text(lines[0] + "\n" + "\t".join([str(int(seq) + 5), digest, at, mac]) + "\n")
    result = audit.verify(session, anchors=anchors)
    assert not result.ok and result.reason == (
        "anchor file line 2: its MAC does not match (edited, or another audit key)")


def test_unkeyed_entries_verify_as_the_prefix_only(session: Session, admin: Actor,
                                                   tmp_path: Path) -> None:
    """Entries of before the audit key still verify, followed by keyed ones; an unkeyed entry
    appended after the first anchor (which a writer without the key could make) does not."""
    assert session.scalar(text("SELECT count(*) FROM audit_log")) == 0
    _insert_plain(session, 3)
    result = audit.verify(session)
    assert (result.ok, result.checked, result.plain) == (True, 3, 3)
    anchors = tmp_path / "anchors.log"
    audit.write_anchor(session, anchors)
    _insert_plain(session, 1)
    result = audit.verify(session, anchors=anchors)
    assert (result.ok, result.first_bad_seq) == (False, 4)
    assert result.reason == "an unkeyed entry after the first anchor (entry 3)"


def test_an_old_chain_verifies_after_the_migration(fresh_db: str, tmp_path: Path) -> None:
    from fangkong.core.db import get_engine, session_scope
    from fangkong.core.migrate import upgrade

    engine = get_engine()
    upgrade(engine, "0020")
    with engine.begin() as conn:
        _insert_plain(conn, 5)
    upgrade(engine)
    with session_scope(engine) as session:
        audit.record(session, make_actor(), action="read", record_type="person",
                     record_ids=[1], fields=["name"])
        anchors = tmp_path / "anchors.log"
        audit.write_anchor(session, anchors)
        result = audit.verify(session, anchors=anchors)
        assert (result.ok, result.checked, result.plain, result.anchors) == (True, 6, 5, 1)


def test_the_audit_key_is_added_to_an_older_key_file(tmp_path: Path) -> None:
    old = {"secret_key": "s", "encryption_key": base64.b64encode(b"e" * 32).decode(),
           "lookup_key": base64.b64encode(b"k" * 32).decode()}
    (tmp_path / "keys.json").write_text(json.dumps(old))
    settings = Settings(data_dir=tmp_path, audit_key=None, encryption_key=None)
    key = settings.key("audit_key")
    assert len(key) == 32 and settings.key("encryption_key") == b"e" * 32
    kept = json.loads((tmp_path / "keys.json").read_text())
    assert {k: kept[k] for k in old} == old and base64.b64decode(kept["audit_key"]) == key
    assert Settings(data_dir=tmp_path, audit_key=None).key("audit_key") == key  # stable
    assert (tmp_path / "keys.json").stat().st_mode & 0o777 == 0o600
