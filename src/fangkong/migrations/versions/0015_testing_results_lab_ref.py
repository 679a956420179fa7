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

from collections.abc import Iterator
from contextlib import contextmanager

from alembic import op

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
# SQLite rebuilds testing_tube to drop (or add) the foreign key, which drops the triggers on
# it: migration 0013's guards of the samples' (tube, round) reference are made again.
_SQLITE_TUBE_SAMPLED = ("EXISTS (SELECT 1 FROM testing_sample "
                        "WHERE tube_id = OLD.id AND round_id = OLD.round_id)")
_SQLITE_0013 = [
    f"CREATE TRIGGER testing_tube_sampled_on_delete BEFORE DELETE ON testing_tube "
    f"WHEN {_SQLITE_TUBE_SAMPLED} "
    "BEGIN SELECT RAISE(ABORT, 'testing_tube is referred to by testing samples'); END",
    f"CREATE TRIGGER testing_tube_sampled_on_update BEFORE UPDATE OF id, round_id "
    f"ON testing_tube WHEN (NEW.id IS NOT OLD.id OR NEW.round_id IS NOT OLD.round_id) "
    f"AND {_SQLITE_TUBE_SAMPLED} "
    "BEGIN SELECT RAISE(ABORT, 'testing_tube is referred to by testing samples'); END",
]
_SQLITE_DROP = [f"DROP TRIGGER IF EXISTS {name}" for name in (
    "testing_lab_used_on_update", "testing_lab_used_on_delete",
    "testing_tube_lab_on_update", "testing_tube_lab_on_insert")]


@contextmanager
def _rebuilt_tube(postgres: bool) -> Iterator[None]:
    """SQLite rebuilds the table (copy, drop, rename): the renaming must not re-check the
    triggers of testing_sample that name testing_tube (legacy renaming, for the rename only)."""
    if not postgres:
        op.execute("PRAGMA legacy_alter_table = ON")
    try:
        yield
    finally:
        if not postgres:
            op.execute("PRAGMA legacy_alter_table = OFF")


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    with _rebuilt_tube(postgres), op.batch_alter_table("testing_tube") as batch:
        batch.drop_constraint(_FK, type_="foreignkey")
    for statement in _PG if postgres else [*_SQLITE_0013, *_SQLITE]:
        op.execute(statement)


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for statement in _PG_DROP if postgres else _SQLITE_DROP:
        op.execute(statement)
    with _rebuilt_tube(postgres), op.batch_alter_table("testing_tube") as batch:
        batch.create_foreign_key(_FK, "testing_lab", ["lab_id"], ["id"])
    if not postgres:
        for statement in _SQLITE_0013:
            op.execute(statement)
