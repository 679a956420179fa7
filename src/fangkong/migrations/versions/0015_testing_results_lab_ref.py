"""testing tubes: the reference to the lab checked by a trigger instead of a foreign key

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01

A results import writes a city's results (hundreds of thousands of tubes) in one UPDATE; the
foreign key ``testing_tube.lab_id -> testing_lab.id`` ran a lookup of the lab, share-locking
it, per tube whose lab was set, measured as most of that statement's time on PostgreSQL (all
the tubes of a file name the same few labs). The rule is kept as migration 0013 keeps the
samples' references: on PostgreSQL a statement-level trigger checks the labs a statement wrote
once each (share-locked, FOR KEY SHARE, as the foreign key's check did); on SQLite row-level
triggers. A lab that tubes refer to cannot be deleted or have its id changed (row-level
triggers on the lab, which is rarely written).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from fangkong.migrations.sqlite_ddl import redefine_table, replace_once

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

_FK = "fk_testing_tube_lab_id_testing_lab"

_PG = [
    """CREATE FUNCTION testing_tube_lab_known() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        wanted bigint;
        found bigint;
    BEGIN
        SELECT count(DISTINCT n.lab_id) INTO wanted FROM new_rows n WHERE n.lab_id IS NOT NULL;
        IF wanted > 0 THEN
            SELECT count(*) INTO found FROM (
                SELECT 1 FROM testing_lab l
                    WHERE l.id IN (SELECT n.lab_id FROM new_rows n)
                    FOR KEY SHARE OF l) AS locked;
            IF found < wanted THEN
                RAISE EXCEPTION 'testing_tube: unknown lab'
                    USING ERRCODE = 'foreign_key_violation', TABLE = 'testing_tube',
                          COLUMN = 'lab_id';
            END IF;
        END IF;
        RETURN NULL;
    END $$""",
    "CREATE TRIGGER testing_tube_lab_on_insert AFTER INSERT ON testing_tube "
    "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
    "EXECUTE FUNCTION testing_tube_lab_known()",
    "CREATE TRIGGER testing_tube_lab_on_update AFTER UPDATE ON testing_tube "
    "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
    "EXECUTE FUNCTION testing_tube_lab_known()",
    """CREATE FUNCTION testing_lab_not_used() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF EXISTS (SELECT 1 FROM testing_tube t WHERE t.lab_id = OLD.id) THEN
            RAISE EXCEPTION 'testing_lab % is referred to by testing tubes', OLD.id
                USING ERRCODE = 'foreign_key_violation', TABLE = 'testing_lab';
        END IF;
        RETURN NULL;
    END $$""",
    "CREATE TRIGGER testing_lab_used_on_delete AFTER DELETE ON testing_lab "
    "FOR EACH ROW EXECUTE FUNCTION testing_lab_not_used()",
    "CREATE TRIGGER testing_lab_used_on_update AFTER UPDATE OF id ON testing_lab "
    "FOR EACH ROW WHEN (NEW.id IS DISTINCT FROM OLD.id) EXECUTE FUNCTION testing_lab_not_used()",
    """CREATE FUNCTION testing_lab_truncate_not_used() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF EXISTS (SELECT 1 FROM testing_tube WHERE lab_id IS NOT NULL) THEN
            RAISE EXCEPTION 'testing_lab is referred to by testing tubes'
                USING ERRCODE = 'foreign_key_violation', TABLE = 'testing_lab';
        END IF;
        RETURN NULL;
    END $$""",
    "CREATE TRIGGER testing_lab_used_on_truncate BEFORE TRUNCATE ON testing_lab "
    "FOR EACH STATEMENT EXECUTE FUNCTION testing_lab_truncate_not_used()",
]
_PG_DROP = [
    "DROP TRIGGER IF EXISTS testing_lab_used_on_truncate ON testing_lab",
    "DROP TRIGGER IF EXISTS testing_lab_used_on_update ON testing_lab",
    "DROP TRIGGER IF EXISTS testing_lab_used_on_delete ON testing_lab",
    "DROP TRIGGER IF EXISTS testing_tube_lab_on_update ON testing_tube",
    "DROP TRIGGER IF EXISTS testing_tube_lab_on_insert ON testing_tube",
    "DROP FUNCTION IF EXISTS testing_lab_truncate_not_used()",
    "DROP FUNCTION IF EXISTS testing_lab_not_used()",
    "DROP FUNCTION IF EXISTS testing_tube_lab_known()",
]

_SQLITE_UNKNOWN = ("NEW.lab_id IS NOT NULL "
                   "AND NOT EXISTS (SELECT 1 FROM testing_lab WHERE id = NEW.lab_id)")
_SQLITE_USED = "EXISTS (SELECT 1 FROM testing_tube WHERE lab_id = OLD.id)"
_SQLITE = [
    f"CREATE TRIGGER testing_tube_lab_on_insert BEFORE INSERT ON testing_tube "
    f"WHEN {_SQLITE_UNKNOWN} "
    "BEGIN SELECT RAISE(ABORT, 'testing_tube: unknown lab'); END",
    f"CREATE TRIGGER testing_tube_lab_on_update BEFORE UPDATE OF lab_id ON testing_tube "
    f"WHEN {_SQLITE_UNKNOWN} "
    "BEGIN SELECT RAISE(ABORT, 'testing_tube: unknown lab'); END",
    f"CREATE TRIGGER testing_lab_used_on_delete BEFORE DELETE ON testing_lab "
    f"WHEN {_SQLITE_USED} "
    "BEGIN SELECT RAISE(ABORT, 'testing_lab is referred to by testing tubes'); END",
    f"CREATE TRIGGER testing_lab_used_on_update BEFORE UPDATE OF id ON testing_lab "
    f"WHEN NEW.id IS NOT OLD.id AND {_SQLITE_USED} "
    "BEGIN SELECT RAISE(ABORT, 'testing_lab is referred to by testing tubes'); END",
]
_SQLITE_DROP = [f"DROP TRIGGER IF EXISTS {name}" for name in (
    "testing_lab_used_on_update", "testing_lab_used_on_delete",
    "testing_tube_lab_on_update", "testing_tube_lab_on_insert")]


# On SQLite the table is not rebuilt (results and follow-ups refer to its rows): its CREATE
# statement loses (or regains) the foreign key clause in place.
_SQLITE_FK = (f"CONSTRAINT {_FK} FOREIGN KEY(lab_id) REFERENCES testing_lab (id), \n\t")
_SQLITE_ANCHOR = "CONSTRAINT fk_testing_tube_round_id_testing_round"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        with op.batch_alter_table("testing_tube") as batch:
            batch.drop_constraint(_FK, type_="foreignkey")
        statements = _PG
    else:
        redefine_table("testing_tube", lambda sql: replace_once(
            sql, _SQLITE_FK, "", "testing_tube's lab foreign key"))
        statements = _SQLITE
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for statement in _PG_DROP if postgres else _SQLITE_DROP:
        op.execute(statement)
    if postgres:
        with op.batch_alter_table("testing_tube") as batch:
            batch.create_foreign_key(_FK, "testing_lab", ["lab_id"], ["id"])
        return
    redefine_table("testing_tube", lambda sql: replace_once(
        sql, _SQLITE_ANCHOR, _SQLITE_FK + _SQLITE_ANCHOR, "testing_tube's constraints"))
    orphans = op.get_bind().execute(sa.text("PRAGMA foreign_key_check(testing_tube)")).all()
    if orphans:
        raise RuntimeError(f"{len(orphans)} testing tubes name no lab; cannot go back")
