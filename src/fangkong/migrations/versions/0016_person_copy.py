"""persons: the division check reads a statement's new rows once; no deduplication in the
division index

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01

Two changes to what a bulk COPY into ``person`` costs the server (PostgreSQL only; measured
with 20 statements of 50,000 persons each, a million in all):

- ``person_division_known()``, the statement trigger that keeps ``person.division_code`` a
  division's (migration 0009), read the statement's transition table twice: once for the
  distinct codes to lock, once more to find a missing one. It now reads it once, into an array
  of the distinct codes, and locks and checks those: the trigger cost about 2.2 s per million
  persons, now about 1.1 s. Same locks (``FOR KEY SHARE`` of each division used), same error.
- ``ix_person_division_code_id`` holds unique keys (the id is in it), so B-tree deduplication
  never merges anything there; it only tries, each time a leaf page fills. Turned off
  (``deduplicate_items``): about 0.3-0.7 s less per million persons inserted.
"""

from __future__ import annotations

import importlib

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

_ONE_SCAN = """CREATE OR REPLACE FUNCTION person_division_known() RETURNS trigger
LANGUAGE plpgsql AS $$
    DECLARE
        codes text[];
        missing text;
    BEGIN
        codes := ARRAY(SELECT DISTINCT n.division_code FROM new_rows n);
        PERFORM 1 FROM division d WHERE d.code = ANY (codes) FOR KEY SHARE OF d;
        SELECT c INTO missing FROM unnest(codes) AS c
            WHERE NOT EXISTS (SELECT 1 FROM division d WHERE d.code = c)
            LIMIT 1;
        IF missing IS NOT NULL THEN
            RAISE EXCEPTION 'unknown division code % in person', missing
                USING ERRCODE = 'foreign_key_violation', TABLE = 'person',
                      COLUMN = 'division_code';
        END IF;
        RETURN NULL;
    END $$"""


def _previous() -> str:
    """Migration 0009's function (two scans), as CREATE OR REPLACE."""
    old = importlib.import_module("fangkong.migrations.versions.0009_person_fast_import")
    function: str = old._PG_TRIGGERS[0]
    return function.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_ONE_SCAN)
        op.execute("ALTER INDEX ix_person_division_code_id SET (deduplicate_items = off)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER INDEX ix_person_division_code_id RESET (deduplicate_items)")
        op.execute(_previous())
