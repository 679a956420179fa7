"""testing on PostgreSQL: samples' references checked under one advisory lock instead of row
locks; more free space in the tubes' pages

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01

Migration 0013's statement-level check of a samples statement share-locked (``FOR KEY
SHARE``) every person and tube it named, as a foreign key does, so that none could be deleted
before the statement's transaction ended. Locking a row writes it: a city's samples file
locked millions of person rows, dirtying (and WAL-logging) every page of the person table,
measured as 2.6 s of the 3.3 s of that check per million samples on PostgreSQL.

The same guarantee now comes from one transaction-level advisory lock (PostgreSQL only; SQLite
serialises writers anyway): a statement writing samples holds it shared until its transaction
ends, and deleting (or renumbering, or truncating) a person, tube or collection point takes it
exclusively before looking for samples that refer to it. So a deletion waits for the sample
writers in progress and then sees their samples (READ COMMITTED: each check is a new
snapshot), and a sample writer waits for a deletion in progress and then sees the row gone.
Deleting persons, tubes and points is rare (nothing in the application does it), so they
queue behind imports instead of millions of row locks being taken for them.

Tubes are written three times: issued, then their members (samples import), then their result
(results import), each update a new version of the row. With fillfactor 50 (migration 0010) a
third of a city's results did not fit in their tube's page any more (measured: 21,800 of
67,678 results updates not HOT, each then inserting into the tube's four indexes); with 30 the
page holds a tube's row as sampled and as resulted (up to about 140 bytes with every result
column set), so both updates stay in the page (HOT) once the first's old versions are pruned.
Only pages written from now on get the new free space.
"""

from __future__ import annotations

import importlib

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

LOCK = "4004016, 13"
"""The advisory lock (two-key form) of the samples' references."""

_PARENTS = [
    ("person", ["id"], ["person_id"]),
    ("testing_tube", ["id", "round_id"], ["tube_id", "round_id"]),
    ("testing_point", ["id"], ["point_id"]),
]

_SAMPLES = f"""CREATE OR REPLACE FUNCTION testing_sample_refs_known() RETURNS trigger
    LANGUAGE plpgsql AS $$
    DECLARE
        wanted bigint;
        found bigint;
        bad record;
    BEGIN
        -- held until the transaction ends: the persons, tubes and points found below cannot
        -- be deleted before then (their guards take this lock exclusively)
        PERFORM pg_advisory_xact_lock_shared({LOCK});
        SELECT count(*), count(*) FILTER (WHERE p.id IS NOT NULL AND t.id IS NOT NULL)
            INTO wanted, found
            FROM new_rows n
                LEFT JOIN person p ON p.id = n.person_id
                LEFT JOIN testing_tube t ON t.id = n.tube_id AND t.round_id = n.round_id;
        IF found < wanted THEN
            SELECT n.tube_id, n.round_id, n.person_id INTO bad FROM new_rows n
                WHERE NOT EXISTS (SELECT 1 FROM person p WHERE p.id = n.person_id)
                   OR NOT EXISTS (SELECT 1 FROM testing_tube t
                                  WHERE t.id = n.tube_id AND t.round_id = n.round_id)
                LIMIT 1;
            RAISE EXCEPTION 'testing_sample: no tube % in round % or no person %',
                    bad.tube_id, bad.round_id, bad.person_id
                USING ERRCODE = 'foreign_key_violation', TABLE = 'testing_sample';
        END IF;
        SELECT count(DISTINCT n.point_id) INTO wanted FROM new_rows n
            WHERE n.point_id IS NOT NULL;
        IF wanted > 0 THEN
            SELECT count(*) INTO found FROM testing_point pt
                WHERE pt.id IN (SELECT n.point_id FROM new_rows n);
            IF found < wanted THEN
                RAISE EXCEPTION 'testing_sample: unknown collection point'
                    USING ERRCODE = 'foreign_key_violation', TABLE = 'testing_sample',
                          COLUMN = 'point_id';
            END IF;
        END IF;
        RETURN NULL;
    END $$"""


def _parent(table: str, keys: list[str], refs: list[str]) -> list[str]:
    used = " AND ".join(f"s.{r} = OLD.{k}" for k, r in zip(keys, refs, strict=True))
    return [
        f"""CREATE OR REPLACE FUNCTION {table}_not_sampled() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            -- waits for the sample writers in progress; the check below then sees them
            PERFORM pg_advisory_xact_lock({LOCK});
            IF EXISTS (SELECT 1 FROM testing_sample s WHERE {used}) THEN
                RAISE EXCEPTION '{table} % is referred to by testing samples', OLD.id
                    USING ERRCODE = 'foreign_key_violation', TABLE = '{table}';
            END IF;
            RETURN NULL;
        END $$""",
        f"""CREATE OR REPLACE FUNCTION {table}_truncate_not_sampled() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_advisory_xact_lock({LOCK});
            IF EXISTS (SELECT 1 FROM testing_sample) THEN
                RAISE EXCEPTION '{table} is referred to by testing samples'
                    USING ERRCODE = 'foreign_key_violation', TABLE = '{table}';
            END IF;
            RETURN NULL;
        END $$""",
    ]


def _previous() -> list[str]:
    """Migration 0013's functions (row locks), as CREATE OR REPLACE."""
    old = importlib.import_module("fangkong.migrations.versions.0013_testing_pg_sample_refs")
    functions = [old._PG_SAMPLES[0]]
    for parent in _PARENTS:
        made = old._pg_parent(*parent)
        functions += [made[0], made[3]]
    return [f.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1) for f in functions]


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in [_SAMPLES] + [f for parent in _PARENTS for f in _parent(*parent)]:
        op.execute(statement)
    op.execute("ALTER TABLE testing_tube SET (fillfactor = 30)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in _previous():
        op.execute(statement)
    op.execute("ALTER TABLE testing_tube SET (fillfactor = 50)")
