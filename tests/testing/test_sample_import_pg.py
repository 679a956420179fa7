"""What the samples import does on PostgreSQL to be fast, and what it must not leave behind:
its staging tables are unlogged ones of their own (parallel workers can read them) or, for a
role that may not create tables, temporary ones; none outlives the import. It holds the
references' advisory lock (migration 0017) from the join that finds the persons and tubes on,
and runs its one INSERT as the import's role (migration 0028; migration 0018 trusted a setting
instead): the trigger then skips its own join with the persons and tubes, and checks every
other statement, whatever the session set, as before. The planner settings and the role it
changes are put back."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Connection, Engine, event, func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from fangkong.core.auth import Actor
from fangkong.core.db import get_engine
from fangkong.core.errors import Invalid
from fangkong.core.migrate import alembic_config, upgrade
from fangkong.testing import importer, samples_import
from fangkong.testing.models import Sample
from tests.testing.helpers import issue, make_persons, make_round, samples_csv


@pytest.fixture(autouse=True)
def _postgres(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's staging, settings and trigger")


@pytest.fixture
def setup(session: Session, admin: Actor) -> tuple[int, list[str]]:
    refs = make_persons(session, admin, 12, prefix="U")
    round_id = make_round(session, admin)
    issue(session, admin, round_id, ["U1", "U2"], capacity=20)
    return round_id, refs


@pytest.fixture
def statements(session: Session) -> Iterator[list[str]]:
    seen: list[str] = []
    bind = session.connection().engine

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(bind, "before_cursor_execute", record)
    yield seen
    event.remove(bind, "before_cursor_execute", record)


def _staging_tables(session: Session) -> list[str]:
    return list(session.scalars(text(
        "SELECT relname FROM pg_class WHERE relname LIKE 'testing\\_sample\\_%' "
        "AND relkind = 'r' AND relname NOT IN ('testing_sample')")))


def _creates(statements: list[str]) -> list[str]:
    return [" ".join(s.split()[:4]) for s in statements if s.lstrip().startswith("CREATE")]


def test_staging_tables_are_unlogged_and_none_is_left(
        session: Session, admin: Actor, setup: tuple[int, list[str]],
        statements: list[str]) -> None:
    round_id, refs = setup
    importer.import_samples(session, actor=admin, round_id=round_id, filename="ok",
                            source=samples_csv([("U1", r, 1) for r in refs[:5]]))
    made = _creates(statements)
    assert [c.split()[3].rsplit("_", 1)[0] for c in made if "UNLOGGED" in c] == [
        "testing_sample_stage", "testing_sample_resolved"]
    assert any(c.startswith("CREATE TEMPORARY TABLE testing_sample_tubes") for c in made)
    assert _staging_tables(session) == []
    with pytest.raises(Invalid):  # a refused file leaves none either
        importer.import_samples(session, actor=admin, round_id=round_id, filename="bad",
                                source=samples_csv([("U2", "nobody", 1)]))
    assert _staging_tables(session) == []
    assert session.scalar(select(func.count()).select_from(Sample)) == 5


def test_a_role_that_may_not_create_tables_stages_in_temporary_ones(
        session: Session, admin: Actor, setup: tuple[int, list[str]],
        statements: list[str]) -> None:
    round_id, refs = setup
    role = f"fangkong_test_{uuid.uuid4().hex[:8]}"
    database = session.scalar(text("SELECT current_database()"))
    for statement in (f"CREATE ROLE {role}",
                      f"GRANT ALL ON ALL TABLES IN SCHEMA public TO {role}",
                      f"GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO {role}",
                      f"GRANT USAGE ON SCHEMA public TO {role}",
                      f"GRANT TEMPORARY ON DATABASE {database} TO {role}",
                      f"REVOKE CREATE ON SCHEMA public FROM {role}",
                      f"SET LOCAL ROLE {role}"):
        session.execute(text(statement))
    assert not session.scalar(text("SELECT has_schema_privilege('public', 'CREATE')"))
    report = importer.import_samples(session, actor=admin, round_id=round_id, filename="t",
                                     source=samples_csv([("U1", r, 1) for r in refs[:3]]))
    assert report.inserted == 3
    assert not [c for c in _creates(statements) if "UNLOGGED" in c]
    session.execute(text("RESET ROLE"))  # the role goes with the test's rolled-back transaction


def test_the_references_lock_is_held_from_the_resolving_join_on(
        session: Session, admin: Actor, setup: tuple[int, list[str]],
        monkeypatch: pytest.MonkeyPatch) -> None:
    round_id, refs = setup
    taken: list[bool] = []
    check = samples_import._check_samples

    def probe(*args: Any, **kwargs: Any) -> Any:
        # between the join and the INSERT: a deletion (exclusive) could not begin now
        with get_engine().connect() as other:
            taken.append(not other.scalar(text(
                f"SELECT pg_try_advisory_xact_lock({importer.SAMPLE_REFS_LOCK})")))
        return check(*args, **kwargs)

    monkeypatch.setattr(samples_import, "_check_samples", probe)
    importer.import_samples(session, actor=admin, round_id=round_id, filename="l",
                            source=samples_csv([("U1", refs[0], 1)]))
    assert taken == [True]


def _settings(session: Session) -> tuple[Any, ...]:
    return tuple(session.scalar(text("SELECT current_setting(:n, true)"), {"n": name}) or ""
                 for name in ("role", "parallel_tuple_cost",
                              "parallel_setup_cost", "work_mem", "default_statistics_target"))


def _bad_sample(session: Session, round_id: int) -> None:
    tube = session.scalar(text("SELECT id FROM testing_tube WHERE barcode = 'U2'"))
    with session.begin_nested():
        session.execute(text(
            "INSERT INTO testing_sample (tube_id, person_id, round_id, sampled_at, repeat) "
            f"VALUES ({tube}, 999999999, {round_id}, now(), false)"))


def test_settings_are_put_back_and_later_statements_checked(
        session: Session, admin: Actor, setup: tuple[int, list[str]]) -> None:
    round_id, refs = setup
    before = _settings(session)
    importer.import_samples(session, actor=admin, round_id=round_id, filename="s",
                            source=samples_csv([("U1", r, 1) for r in refs[:4]]))
    assert _settings(session) == before
    # persons sampled again: their repeat flags are written under the flag too, put back after
    again = importer.import_samples(session, actor=admin, round_id=round_id, filename="s2",
                                    source=samples_csv([("U2", r, 2) for r in refs[:2]]))
    assert again.repeats == 2
    assert _settings(session) == before
    assert before[0] == "none"
    with pytest.raises(DBAPIError, match="no person 999999999"):
        _bad_sample(session, round_id)


def _round_with_tubes(conn: Connection, tubes: int) -> None:
    """Round 1 and its tubes T1, T2, ... (ids 1, 2, ...)."""
    t0 = "'2026-12-01 00:00:00+00'"
    conn.execute(text(
        "INSERT INTO testing_round (id, name, area_codes, start_at, deadline_at, status, "
        "pack_id, pack_version, result_due_hours, target_count, created_by, created_at) "
        f"VALUES (1, 'r', '[]', {t0}, {t0}, 'open', 'cn_v9', '1', 24, 0, 't', {t0})"))
    conn.execute(text("INSERT INTO testing_tube (id, barcode, round_id, capacity, members) "
                      f"SELECT i, 'T' || i, 1, 10, 0 FROM generate_series(1, {tubes}) AS i"))


def _flagged_bad_sample(engine: Engine, round_id: int, role: str | None = None) -> None:
    """A sample of an unknown person, written by a session that set migration 0018's flag
    (and, with ``role``, became that role)."""
    with engine.begin() as conn:
        conn.execute(text("SELECT set_config('fangkong.sample_refs', 'resolved', true)"))
        if role:
            conn.execute(text(f"SET LOCAL ROLE {role}"))
        tube = conn.scalar(text("SELECT id FROM testing_tube WHERE barcode = 'T1'"))
        conn.execute(text(
            "INSERT INTO testing_sample (tube_id, person_id, round_id, sampled_at, repeat) "
            f"VALUES ({tube}, 999999999, {round_id}, now(), false)"))
        conn.execute(text("RESET ROLE"))
        conn.execute(text("SELECT set_config('fangkong.sample_refs', '', true)"))
        conn.execute(text("DELETE FROM testing_sample"))


def test_no_setting_switches_the_check_off_only_the_import_role(fresh_db: str) -> None:
    eng = get_engine()
    upgrade(eng)
    with eng.begin() as conn:
        _round_with_tubes(conn, 1)
    # any session may set the flag: it no longer turns the check off (migration 0028)
    with pytest.raises(DBAPIError, match="no person 999999999"):
        _flagged_bad_sample(eng, 1)
    # tube lookups are granted to the role for this test only (the import never reads them)
    with eng.begin() as conn:
        conn.execute(text(f"GRANT SELECT ON testing_tube TO {importer.IMPORT_ROLE}"))
    try:
        _flagged_bad_sample(eng, 1, importer.IMPORT_ROLE)  # the import's role: not joined
        with eng.begin() as conn:  # the collection points are still checked
            conn.execute(text(f"SET LOCAL ROLE {importer.IMPORT_ROLE}"))
            with pytest.raises(DBAPIError, match="unknown collection point"), \
                    conn.begin_nested():
                conn.execute(text(
                    "INSERT INTO testing_sample (tube_id, person_id, round_id, sampled_at, "
                    "point_id, repeat) VALUES (1, 999999999, 1, now(), 424242, false)"))
    finally:
        with eng.begin() as conn:
            conn.execute(text(f"REVOKE SELECT ON testing_tube FROM {importer.IMPORT_ROLE}"))
    with eng.begin() as conn:
        command.downgrade(alembic_config(conn), "0027")
    _flagged_bad_sample(eng, 1)  # migration 0018 trusted the flag
    with eng.begin() as conn:
        command.downgrade(alembic_config(conn), "0017")
    with pytest.raises(DBAPIError, match="no person 999999999"):
        _flagged_bad_sample(eng, 1)
    upgrade(eng)
    with pytest.raises(DBAPIError, match="no person 999999999"):
        _flagged_bad_sample(eng, 1)


def test_the_import_inserts_and_flags_repeats_as_its_role(
        session: Session, admin: Actor, setup: tuple[int, list[str]]) -> None:
    round_id, refs = setup
    roles: list[str] = []
    bind = session.connection().engine

    def record(conn: Any, _cursor: Any, statement: str, params: Any, *_args: Any) -> None:
        if statement.lstrip().startswith("INSERT INTO testing_sample "):
            roles.append("insert")
        if "set_config" in statement and isinstance(params, dict) and params.get("n") == "role":
            roles.append(params["v"])

    event.listen(bind, "before_cursor_execute", record)
    try:
        importer.import_samples(session, actor=admin, round_id=round_id, filename="r",
                                source=samples_csv([("U1", r, 1) for r in refs[:3]]))
    finally:
        event.remove(bind, "before_cursor_execute", record)
    assert roles == [importer.IMPORT_ROLE, "insert", "none", importer.IMPORT_ROLE, "none"]


@pytest.mark.parametrize("revision", ["head", "0017"])
def test_a_tube_statement_locks_its_labs_and_refuses_unknown_ones(fresh_db: str,
                                                                  revision: str) -> None:
    """Migration 0018's one-pass lab check, and 0015's that its downgrade puts back."""
    eng = get_engine()
    upgrade(eng)
    if revision != "head":
        with eng.begin() as conn:
            command.downgrade(alembic_config(conn), revision)
    with eng.begin() as conn:
        _round_with_tubes(conn, 3)
        conn.execute(text("INSERT INTO division (code, name, level) "
                          "VALUES ('440802', 'd', 'county')"))
        conn.execute(text(
            "INSERT INTO testing_lab (id, code, name, division_code, daily_capacity) "
            "VALUES (7, 'L7', 'l', '440802', 10), (8, 'L8', 'l', '440802', 10)"))
    with eng.connect() as writer, eng.connect() as other:
        with writer.begin():
            writer.execute(text("UPDATE testing_tube SET lab_id = 7"))
            # the lab named is locked until the writer commits
            with other.begin(), pytest.raises(DBAPIError, match="could not obtain lock"):
                other.execute(text("SELECT id FROM testing_lab WHERE id = 7 FOR UPDATE NOWAIT"))
            with other.begin():  # the other is not
                other.execute(text("SELECT id FROM testing_lab WHERE id = 8 FOR UPDATE NOWAIT"))
        with pytest.raises(DBAPIError, match="unknown lab"), writer.begin():
            writer.execute(text("UPDATE testing_tube SET lab_id = CASE id WHEN 2 THEN 99 "
                                "ELSE 8 END"))
    with eng.connect() as conn:
        assert set(conn.scalars(text("SELECT lab_id FROM testing_tube"))) == {7}
