"""testing on PostgreSQL: a samples import that resolved its references by a join is not
checked a second time; a tube statement's labs are found in one pass

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01

``testing_sample_refs_known()`` (migrations 0013 and 0017) checks that every person and tube a
statement writing samples names exists, by joining the statement's new rows with ``person``
and ``testing_tube``. For a city's samples file that join is against millions of persons:
8.3-8.9 s of a 7,000,000-line import (EXPLAIN ANALYZE of the INSERT, with auto_explain's
nested statements), a fifth of writing the samples.

The samples import (``fangkong.testing.importer``) already found each line's person and tube by
a join of the same tables, inside the same transaction, and it now takes the references'
advisory lock (migration 0017) before that join, so no person or tube it found can be deleted
until it commits: a row it writes refers to a person and a tube that exist, by construction.
It says so for its one INSERT by the transaction-local setting ``fangkong.sample_refs =
'resolved'``, set just before the statement and put back just after it; this function then
skips the person and tube join. It still takes the lock, and still checks the collection
points, which the import looks up before it holds the lock. Any other statement (the API's
single samples, an UPDATE, SQL by hand) is checked as before. SQLite's per-row triggers are
unchanged.

``testing_tube_lab_known()`` (migration 0015) read a statement's new tube rows twice: once to
count their distinct labs, once more to lock and count the labs found. For a city's results
(467,972 tubes updated) that was 0.2 s of the UPDATE's 1.3-1.5 s (auto_explain, nested
statements). It now reads them once, into an array of the distinct labs, then locks and
counts those; the same locks (``FOR KEY SHARE`` of each lab named) and the same error.
"""

from __future__ import annotations

import importlib

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

_SAMPLES = """CREATE OR REPLACE FUNCTION testing_sample_refs_known() RETURNS trigger
    LANGUAGE plpgsql AS $$
    DECLARE
        wanted bigint;
        found bigint;
        bad record;
    BEGIN
        -- held until the transaction ends: the persons, tubes and points found below cannot
        -- be deleted before then (their guards take this lock exclusively)
        PERFORM pg_advisory_xact_lock_shared(4004016, 13);
        -- the samples import found these persons and tubes by a join, holding the lock
        IF coalesce(current_setting('fangkong.sample_refs', true), '') <> 'resolved' THEN
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

_LABS = """CREATE OR REPLACE FUNCTION testing_tube_lab_known() RETURNS trigger
    LANGUAGE plpgsql AS $$
    DECLARE
        labs bigint[];
        found bigint;
    BEGIN
        SELECT array_agg(DISTINCT n.lab_id) INTO labs FROM new_rows n
            WHERE n.lab_id IS NOT NULL;
        IF labs IS NOT NULL THEN
            SELECT count(*) INTO found FROM (
                SELECT 1 FROM testing_lab l WHERE l.id = ANY (labs)
                    FOR KEY SHARE OF l) AS locked;
            IF found < cardinality(labs) THEN
                RAISE EXCEPTION 'testing_tube: unknown lab'
                    USING ERRCODE = 'foreign_key_violation', TABLE = 'testing_tube',
                          COLUMN = 'lab_id';
            END IF;
        END IF;
        RETURN NULL;
    END $$"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_SAMPLES)
        op.execute(_LABS)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        samples = importlib.import_module("fangkong.migrations.versions.0017_testing_pg_ingest")
        op.execute(samples._SAMPLES)
        labs = importlib.import_module(
            "fangkong.migrations.versions.0015_testing_results_lab_ref")
        op.execute(labs._PG[0].replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1))
