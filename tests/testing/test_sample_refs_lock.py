"""On PostgreSQL a sample's references hold under concurrent writers (migration 0017: one
advisory lock instead of a row lock per person and tube): a deletion of a person waits for
the sample writers in progress and then sees their samples; a sample writer waits for a
deletion in progress and then sees the person gone. The waits are shown with a lock timeout
(the blocked statement fails instead of waiting), not with timings. Both before the
migration (row locks) and after it. The migration also leaves more room in the tubes' pages."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic import command
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

from fangkong.core.db import get_engine
from fangkong.core.migrate import alembic_config, upgrade

_T0 = "'2026-12-01 00:00:00+00'"
_ROWS = [
    "INSERT INTO division (code, name, level) VALUES ('440802', 'd', 'county')",
    "INSERT INTO testing_round (id, name, area_codes, start_at, deadline_at, status, pack_id, "
    "pack_version, result_due_hours, target_count, created_by, created_at) VALUES (1, 'r', "
    f"'[\"440802\"]', {_T0}, {_T0}, 'open', 'cn_v9', '1', 24, 0, 't', {_T0})",
    "INSERT INTO testing_tube (id, barcode, round_id, capacity, members) "
    "VALUES (1, 'T1', 1, 10, 0)",
    "INSERT INTO person (id, ref, name, sex, division_code, synthetic, row_hash, created_at, "
    f"updated_at) SELECT i, 'P' || i, 'p', 'female', '440802', true, '0', {_T0}, {_T0} "
    "FROM generate_series(1, 2) AS i",
]


def _sample(person: int) -> str:
    return ("INSERT INTO testing_sample (tube_id, person_id, round_id, sampled_at, repeat) "
            f"VALUES (1, {person}, 1, {_T0}, false)")


def _impatient(conn: Connection) -> None:
    conn.execute(text("SET LOCAL lock_timeout = '50ms'"))


@pytest.fixture(params=["head", "0016"])
def engine(fresh_db: str, request: pytest.FixtureRequest) -> Iterator[Engine]:
    eng = get_engine()
    if eng.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time")
    upgrade(eng, request.param)
    with eng.begin() as conn:
        for statement in _ROWS:
            conn.execute(text(statement))
    yield eng


def test_a_deletion_waits_for_sample_writers_then_sees_their_samples(engine: Engine) -> None:
    with engine.connect() as writer, engine.connect() as deleter:
        with writer.begin():
            writer.execute(text(_sample(1)))
            with deleter.begin():
                _impatient(deleter)
                with pytest.raises(DBAPIError, match="lock timeout"):
                    deleter.execute(text("DELETE FROM person WHERE id = 1"))
        with pytest.raises(DBAPIError, match="referred to by testing samples"), \
                deleter.begin():
            deleter.execute(text("DELETE FROM person WHERE id = 1"))
    with engine.begin() as conn:  # another person, not sampled, can go
        conn.execute(text("DELETE FROM person WHERE id = 2"))


def test_a_sample_writer_waits_for_a_deletion_then_sees_the_person_gone(
        engine: Engine) -> None:
    with engine.connect() as writer, engine.connect() as deleter:
        with deleter.begin():
            deleter.execute(text("DELETE FROM person WHERE id = 2"))
            with writer.begin():
                _impatient(writer)
                with pytest.raises(DBAPIError, match="lock timeout"):
                    writer.execute(text(_sample(2)))
        with pytest.raises(DBAPIError, match="no person 2"), writer.begin():
            writer.execute(text(_sample(2)))
        with writer.begin():  # a known person is fine
            writer.execute(text(_sample(1)))


def _fillfactor(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.scalar(text(
            "SELECT reloptions FROM pg_class WHERE relname = 'testing_tube'")) or [])


def test_the_migration_goes_both_ways_with_samples(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text(_sample(1)))
    with engine.begin() as conn:
        head = conn.scalar(text("SELECT version_num FROM alembic_version"))
        command.downgrade(alembic_config(conn), "0016")
    # the tubes' pages keep room for two updates of a tube (members, then result)
    assert _fillfactor(engine) == ["fillfactor=50"]
    upgrade(engine, head)
    assert _fillfactor(engine) == ["fillfactor=30" if head != "0016" else "fillfactor=50"]
    for person, message in ((1, "referred to by testing samples"), (9, "no person 9")):
        with pytest.raises(DBAPIError, match=message), engine.begin() as conn:
            conn.execute(text(f"DELETE FROM person WHERE id = {person}") if person == 1
                         else text(_sample(person)))
