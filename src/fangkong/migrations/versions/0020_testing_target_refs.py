"""testing targets: the references to the round and the person checked by triggers instead of
foreign keys

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-01

Creating a round writes its target population in one statement: a city's 7,000,000 persons.
Each of ``testing_target``'s two foreign keys ran a lookup of the referenced row per row
written, share-locking it (writing every person row, so every page of the person table, with a
full-page image in the WAL after a checkpoint). Measured in psql on the 7,000,000-person bench
database, the same 7,000,000 target rows into a copy of the table with its indexes: 16.8 s
without the foreign keys, 63.1 s with them; creating the round took 65-105 s.

The same rules are now kept as the samples' are (migrations 0013 and 0017). On PostgreSQL a
statement-level trigger checks all the rows a statement wrote at once (one join of its
transition table with ``person`` and ``testing_round``), holding migration 0017's advisory lock
shared until the transaction ends; deleting, renumbering or truncating a person or a round takes
that lock exclusively, then refuses if targets refer to it. On SQLite, row-level triggers.

Measured: the bench's 7,000,000-person round (``bench/bench_testing.py``) was created in 24.9 s
instead of 65-70 s on the same machine the same hour; the trigger's join of the 7,000,000 rows
is within that run's noise (the same INSERT in psql: 20.6 s with the trigger, 22.8 s with it
disabled), so, unlike the samples' (migration 0018), it is not skipped for trusted writers.
"""

from __future__ import annotations

import importlib

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

LOCK = importlib.import_module("fangkong.migrations.versions.0017_testing_pg_ingest").LOCK
"""Migration 0017's advisory lock (two-key form): the testing references' lock."""

_FKS = {
    "fk_testing_target_person_id_person": ("person", ["person_id"], ["id"]),
    "fk_testing_target_round_id_testing_round": ("testing_round", ["round_id"], ["id"]),
}

# The referenced tables: (table, its key, the targets' column referring to it).
_PARENTS = [("person", "id", "person_id"), ("testing_round", "id", "round_id")]

_PG_TARGETS = [
    f"""CREATE FUNCTION testing_target_refs_known() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        wanted bigint;
        found bigint;
        bad record;
    BEGIN
        -- held until the transaction ends: the persons and rounds found below cannot be
        -- deleted before then (their guards take this lock exclusively)
        PERFORM pg_advisory_xact_lock_shared({LOCK});
        SELECT count(*), count(*) FILTER (WHERE p.id IS NOT NULL AND r.id IS NOT NULL)
            INTO wanted, found
            FROM new_rows n
                LEFT JOIN person p ON p.id = n.person_id
                LEFT JOIN testing_round r ON r.id = n.round_id;
        IF found < wanted THEN
            SELECT n.round_id, n.person_id INTO bad FROM new_rows n
                WHERE NOT EXISTS (SELECT 1 FROM person p WHERE p.id = n.person_id)
                   OR NOT EXISTS (SELECT 1 FROM testing_round r WHERE r.id = n.round_id)
                LIMIT 1;
            RAISE EXCEPTION 'testing_target: no round % or no person %',
                    bad.round_id, bad.person_id
                USING ERRCODE = 'foreign_key_violation', TABLE = 'testing_target';
        END IF;
        RETURN NULL;
    END $$""",
    "CREATE TRIGGER testing_target_refs_on_insert AFTER INSERT ON testing_target "
    "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
    "EXECUTE FUNCTION testing_target_refs_known()",
    "CREATE TRIGGER testing_target_refs_on_update AFTER UPDATE ON testing_target "
    "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
    "EXECUTE FUNCTION testing_target_refs_known()",
]


def _pg_parent(table: str, key: str, ref: str) -> list[str]:
    """Guards of a referenced table: no deletion, key change or truncation while targets
    refer to a row."""
    return [
        f"""CREATE FUNCTION {table}_not_targeted() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            -- waits for the target writers in progress; the check below then sees them
            PERFORM pg_advisory_xact_lock({LOCK});
            IF EXISTS (SELECT 1 FROM testing_target t WHERE t.{ref} = OLD.{key}) THEN
                RAISE EXCEPTION '{table} % is referred to by testing targets', OLD.{key}
                    USING ERRCODE = 'foreign_key_violation', TABLE = '{table}';
            END IF;
            RETURN NULL;
        END $$""",
        f"CREATE TRIGGER {table}_targeted_on_delete AFTER DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION {table}_not_targeted()",
        f"CREATE TRIGGER {table}_targeted_on_update AFTER UPDATE OF {key} ON {table} "
        f"FOR EACH ROW WHEN (NEW.{key} IS DISTINCT FROM OLD.{key}) "
        f"EXECUTE FUNCTION {table}_not_targeted()",
        f"""CREATE FUNCTION {table}_truncate_not_targeted() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_advisory_xact_lock({LOCK});
            IF EXISTS (SELECT 1 FROM testing_target) THEN
                RAISE EXCEPTION '{table} is referred to by testing targets'
                    USING ERRCODE = 'foreign_key_violation', TABLE = '{table}';
            END IF;
            RETURN NULL;
        END $$""",
        f"CREATE TRIGGER {table}_targeted_on_truncate BEFORE TRUNCATE ON {table} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {table}_truncate_not_targeted()",
    ]


def _pg_drop() -> list[str]:
    out = ["DROP TRIGGER IF EXISTS testing_target_refs_on_update ON testing_target",
           "DROP TRIGGER IF EXISTS testing_target_refs_on_insert ON testing_target",
           "DROP FUNCTION IF EXISTS testing_target_refs_known()"]
    for table, _, _ in _PARENTS:
        out += [f"DROP TRIGGER IF EXISTS {table}_targeted_on_{event} ON {table}"
                for event in ("truncate", "update", "delete")]
        out += [f"DROP FUNCTION IF EXISTS {table}_truncate_not_targeted()",
                f"DROP FUNCTION IF EXISTS {table}_not_targeted()"]
    return out


_SQLITE_UNKNOWN = ("NOT EXISTS (SELECT 1 FROM person WHERE id = NEW.person_id) "
                   "OR NOT EXISTS (SELECT 1 FROM testing_round WHERE id = NEW.round_id)")
_SQLITE_TARGETS = [
    "CREATE TRIGGER testing_target_refs_on_insert BEFORE INSERT ON testing_target "
    f"WHEN {_SQLITE_UNKNOWN} "
    "BEGIN SELECT RAISE(ABORT, 'testing_target: unknown round or person'); END",
    "CREATE TRIGGER testing_target_refs_on_update "
    "BEFORE UPDATE OF round_id, person_id ON testing_target "
    f"WHEN {_SQLITE_UNKNOWN} "
    "BEGIN SELECT RAISE(ABORT, 'testing_target: unknown round or person'); END",
]


def _sqlite_parent(table: str, key: str, ref: str) -> list[str]:
    used = f"EXISTS (SELECT 1 FROM testing_target WHERE {ref} = OLD.{key})"
    return [
        f"CREATE TRIGGER {table}_targeted_on_delete BEFORE DELETE ON {table} WHEN {used} "
        f"BEGIN SELECT RAISE(ABORT, '{table} is referred to by testing targets'); END",
        f"CREATE TRIGGER {table}_targeted_on_update BEFORE UPDATE OF {key} ON {table} "
        f"WHEN NEW.{key} IS NOT OLD.{key} AND {used} "
        f"BEGIN SELECT RAISE(ABORT, '{table} is referred to by testing targets'); END",
    ]


def _sqlite_drop() -> list[str]:
    names = ["testing_target_refs_on_insert", "testing_target_refs_on_update"]
    for table, _, _ in _PARENTS:
        names += [f"{table}_targeted_on_delete", f"{table}_targeted_on_update"]
    return [f"DROP TRIGGER IF EXISTS {name}" for name in names]


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    with op.batch_alter_table("testing_target") as batch:
        for name in _FKS:
            batch.drop_constraint(name, type_="foreignkey")
    ddl = list(_PG_TARGETS if postgres else _SQLITE_TARGETS)
    for parent in _PARENTS:
        ddl += _pg_parent(*parent) if postgres else _sqlite_parent(*parent)
    for statement in ddl:
        op.execute(statement)


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for statement in _pg_drop() if postgres else _sqlite_drop():
        op.execute(statement)
    with op.batch_alter_table("testing_target") as batch:
        for name, (table, local, remote) in _FKS.items():
            batch.create_foreign_key(name, table, local, remote)
