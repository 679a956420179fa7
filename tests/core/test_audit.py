from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from fangkong.core import audit
from fangkong.core.auth import Actor


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
