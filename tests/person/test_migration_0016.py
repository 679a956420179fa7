"""Migration 0016 (PostgreSQL) swaps the division check for its one-scan form and turns off
deduplication in the division index; going back puts migration 0009's function back, and
either way a person of an unknown division is refused."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from fangkong.core.db import get_engine
from fangkong.core.migrate import alembic_config, upgrade

_PERSON = ("INSERT INTO person (ref, name, sex, division_code, synthetic, row_hash, created_at,"
           " updated_at) VALUES (:ref, 'x', 'unknown', :code, true, :rh, now(), now())")


def _state(engine: Engine) -> tuple[str, list[str]]:
    with engine.connect() as conn:
        body = conn.scalar(text("SELECT prosrc FROM pg_proc "
                                "WHERE proname = 'person_division_known'"))
        options = conn.scalar(text("SELECT reloptions FROM pg_class "
                                   "WHERE relname = 'ix_person_division_code_id'"))
    return body, list(options or [])


def _refuses_unknown_division(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO division (code, name, level) "
                          "VALUES ('440802001001', 'v', 'village') ON CONFLICT DO NOTHING"))
        conn.execute(text(_PERSON), {"ref": "OK", "code": "440802001001", "rh": "0" * 32})
    with pytest.raises(DBAPIError, match="unknown division code 449999999999"), \
            engine.begin() as conn:
        conn.execute(text(_PERSON), {"ref": "BAD", "code": "449999999999", "rh": "1" * 32})
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM person"))


def test_both_ways(fresh_db: str) -> None:
    engine = get_engine()
    if engine.dialect.name != "postgresql":
        pytest.skip("the trigger and the index option are PostgreSQL's")
    upgrade(engine, "0016")
    body, options = _state(engine)
    assert "ARRAY(SELECT DISTINCT" in body and options == ["deduplicate_items=off"]
    _refuses_unknown_division(engine)
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), "0015")
    body, options = _state(engine)
    assert "IN (SELECT DISTINCT" in body and "ARRAY(" not in body and options == []
    _refuses_unknown_division(engine)
