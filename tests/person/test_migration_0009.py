"""Migration 0009 converts the stored lookup hashes (hex text → 32 bytes) and back, keeps every
person and what refers to them, and swaps the division foreign key for triggers."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from alembic import command
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from fangkong.core.db import get_engine
from fangkong.core.migrate import alembic_config, upgrade

_PERSON = ("INSERT INTO person (id, ref, name, sex, id_number_hash, phone_hash, division_code, "
           "synthetic, row_hash, created_at, updated_at) VALUES (:id, :ref, 'x', 'unknown', :h, "
           ":p, :code, true, :rh, '2026-12-01 00:00:00', '2026-12-01 00:00:00')")


def _digest(value: str) -> bytes:
    return hmac.new(b"k" * 32, value.encode(), hashlib.sha256).digest()


def _persons(engine: Engine) -> dict[str, tuple[object, object]]:
    with engine.connect() as conn:
        return {r: (h, p) for r, h, p in conn.execute(text(
            "SELECT ref, id_number_hash, phone_hash FROM person"))}


def _insert_unknown_division(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text(_PERSON), {"id": 9, "ref": "BAD", "h": None, "p": None,
                                     "code": "449999999999", "rh": "0" * 32})


def test_hashes_converted_both_ways_and_rows_kept(fresh_db: str) -> None:
    engine = get_engine()
    upgrade(engine, "0008")
    digest = _digest("resident_id:440802199001011234")
    phone = _digest("13800138000")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO division (code, name, level) "
                          "VALUES ('440802001001', 'v', 'village')"))
        conn.execute(text(_PERSON), [
            {"id": 1, "ref": "A", "h": digest.hex(), "p": phone.hex(), "code": "440802001001",
             "rh": "1" * 32},
            {"id": 2, "ref": "B", "h": None, "p": None, "code": "440802001001", "rh": "2" * 32},
        ])
        # A record that refers to a person: the migration must neither drop nor orphan it.
        conn.execute(text(
            "INSERT INTO case_episode (id, ref, person_id, disease, classification, reported_at,"
            " detection_mode, owning_division_code, current_division_code, row_hash, "
            "created_at, updated_at) VALUES (1, 'C1', 1, 'covid19', 'suspected', "
            "'2026-12-01 00:00:00', 'other', '440802001001', '440802001001', :rh, "
            "'2026-12-01 00:00:00', '2026-12-01 00:00:00')"), {"rh": "3" * 32})

    upgrade(engine)
    stored = _persons(engine)
    assert {k: (v[0] and bytes(v[0]), v[1] and bytes(v[1])) for k, v in stored.items()} == {
        "A": (digest, phone), "B": (None, None)}
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM case_episode WHERE person_id = 1")) == 1
    with pytest.raises(DBAPIError, match="unknown division code"):
        _insert_unknown_division(engine)

    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), "0008")
    assert _persons(engine) == {"A": (digest.hex(), phone.hex()), "B": (None, None)}
    with pytest.raises(DBAPIError, match=r"(?i)foreign key"):
        _insert_unknown_division(engine)
    upgrade(engine)
    assert bytes(_persons(engine)["A"][0]) == digest  # type: ignore[arg-type]
