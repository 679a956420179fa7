"""Migration 0015 swaps the tube's lab foreign key for triggers on a database that holds
tubes, labs and follow-ups referring to the tubes: every row is kept, both ways. (On SQLite the
table is not rebuilt: dropping a table that follow-ups refer to is refused inside the
migration's transaction, which a 100,000-agent demo database showed.)"""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from fangkong.core.db import get_engine
from fangkong.core.migrate import alembic_config, upgrade

_T0 = "'2026-12-01 00:00:00'"
_ROWS = [
    "INSERT INTO division (code, name, level) VALUES ('440802', 'd', 'county')",
    "INSERT INTO testing_round (id, name, area_codes, start_at, deadline_at, status, pack_id, "
    "pack_version, result_due_hours, target_count, created_by, created_at) VALUES (1, 'r', "
    f"'[\"440802\"]', {_T0}, {_T0}, 'open', 'cn_v9', '1', 24, 0, 't', {_T0})",
    "INSERT INTO testing_lab (id, code, name, division_code, daily_capacity) "
    "VALUES (1, 'L1', 'lab', '440802', 1000)",
    "INSERT INTO testing_tube (id, barcode, round_id, capacity, members, lab_id) "
    "VALUES (1, 'T1', 1, 10, 0, 1)",
    "INSERT INTO testing_followup (id, round_id, tube_id, division_code, status, opened_at, "
    f"opened_by) VALUES (1, 1, 1, '440802', 'open', {_T0}, 't')",
]


def _counts(engine: Engine) -> tuple[int, int, int]:
    with engine.connect() as conn:
        return tuple(conn.scalar(text(f"SELECT count(*) FROM {t}"))  # type: ignore[return-value]
                     for t in ("testing_tube", "testing_lab", "testing_followup"))


def _tube_of_unknown_lab(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO testing_tube (id, barcode, round_id, capacity, members, "
                          "lab_id) VALUES (2, 'T2', 1, 10, 0, 99)"))


def test_rows_kept_both_ways(fresh_db: str) -> None:
    engine = get_engine()
    upgrade(engine, "0014")
    with engine.begin() as conn:
        for statement in _ROWS:
            conn.execute(text(statement))
    upgrade(engine)
    assert _counts(engine) == (1, 1, 1)
    with pytest.raises(DBAPIError, match="unknown lab"):
        _tube_of_unknown_lab(engine)
    with pytest.raises(DBAPIError, match="referred to by testing tubes"), engine.begin() as conn:
        conn.execute(text("DELETE FROM testing_lab WHERE id = 1"))
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), "0014")
    assert _counts(engine) == (1, 1, 1)
    with pytest.raises(DBAPIError, match=r"(?i)foreign key"):
        _tube_of_unknown_lab(engine)
    upgrade(engine)
    assert _counts(engine) == (1, 1, 1)
