"""persons: keyed lookup hashes as 32 bytes; the person → division reference checked by
triggers instead of a foreign key

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01

``person.id_number_hash`` and ``person.phone_hash`` were the HMAC-SHA256 as 64 hex characters;
they become its 32 bytes (existing values are converted: the digest is the same, only its
spelling changes), which halves those two indexes and compares keys byte by byte.

``person.division_code`` loses its foreign key, which checked (and share-locked) the division
row once per person inserted: a third of a bulk import's time in the database. The same rule
is kept by triggers. On PostgreSQL, statement-level ones that check all the rows a statement
wrote at once (one join of its transition table with ``division``, the codes' division rows
share-locked as the foreign key did); on SQLite, row-level ones. The other side of the
reference is guarded too: a division that persons refer to cannot be deleted or have its code
changed.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from fangkong.migrations.sqlite_ddl import redefine_table, replace_once

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_FK = "fk_person_division_code_division"
_HASHES = ("id_number_hash", "phone_hash")

_PG_TRIGGERS = [
    # Persons: every division code a statement wrote must be a division's.
    """CREATE FUNCTION person_division_known() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        missing text;
    BEGIN
        PERFORM 1 FROM division d
            WHERE d.code IN (SELECT DISTINCT n.division_code FROM new_rows n)
            FOR KEY SHARE OF d;
        SELECT n.division_code INTO missing FROM new_rows n
            WHERE NOT EXISTS (SELECT 1 FROM division d WHERE d.code = n.division_code)
            LIMIT 1;
        IF missing IS NOT NULL THEN
            RAISE EXCEPTION 'unknown division code % in person', missing
                USING ERRCODE = 'foreign_key_violation', TABLE = 'person',
                      COLUMN = 'division_code';
        END IF;
        RETURN NULL;
    END $$""",
    "CREATE TRIGGER person_division_on_insert AFTER INSERT ON person "
    "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
    "EXECUTE FUNCTION person_division_known()",
    "CREATE TRIGGER person_division_on_update AFTER UPDATE ON person "
    "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
    "EXECUTE FUNCTION person_division_known()",
    # Divisions: none that a person refers to goes away.
    """CREATE FUNCTION division_not_in_use() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        used text;
    BEGIN
        SELECT o.code INTO used FROM old_rows o
            WHERE NOT EXISTS (SELECT 1 FROM division d WHERE d.code = o.code)
              AND EXISTS (SELECT 1 FROM person p WHERE p.division_code = o.code)
            LIMIT 1;
        IF used IS NOT NULL THEN
            RAISE EXCEPTION 'division % is the division of persons', used
                USING ERRCODE = 'foreign_key_violation', TABLE = 'division';
        END IF;
        RETURN NULL;
    END $$""",
    "CREATE TRIGGER division_in_use_on_delete AFTER DELETE ON division "
    "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION division_not_in_use()",
    "CREATE TRIGGER division_in_use_on_update AFTER UPDATE ON division "
    "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION division_not_in_use()",
    """CREATE FUNCTION division_truncate_not_in_use() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF EXISTS (SELECT 1 FROM person) THEN
            RAISE EXCEPTION 'divisions are the divisions of persons'
                USING ERRCODE = 'foreign_key_violation', TABLE = 'division';
        END IF;
        RETURN NULL;
    END $$""",
    "CREATE TRIGGER division_in_use_on_truncate BEFORE TRUNCATE ON division "
    "FOR EACH STATEMENT EXECUTE FUNCTION division_truncate_not_in_use()",
]
_PG_DROP = [
    "DROP TRIGGER IF EXISTS division_in_use_on_truncate ON division",
    "DROP TRIGGER IF EXISTS division_in_use_on_update ON division",
    "DROP TRIGGER IF EXISTS division_in_use_on_delete ON division",
    "DROP TRIGGER IF EXISTS person_division_on_update ON person",
    "DROP TRIGGER IF EXISTS person_division_on_insert ON person",
    "DROP FUNCTION IF EXISTS division_truncate_not_in_use()",
    "DROP FUNCTION IF EXISTS division_not_in_use()",
    "DROP FUNCTION IF EXISTS person_division_known()",
]

_SQLITE_TRIGGERS = [
    "CREATE TRIGGER person_division_on_insert BEFORE INSERT ON person "
    "WHEN NOT EXISTS (SELECT 1 FROM division WHERE code = NEW.division_code) "
    "BEGIN SELECT RAISE(ABORT, 'unknown division code in person'); END",
    "CREATE TRIGGER person_division_on_update BEFORE UPDATE OF division_code ON person "
    "WHEN NOT EXISTS (SELECT 1 FROM division WHERE code = NEW.division_code) "
    "BEGIN SELECT RAISE(ABORT, 'unknown division code in person'); END",
    "CREATE TRIGGER division_in_use_on_delete BEFORE DELETE ON division "
    "WHEN EXISTS (SELECT 1 FROM person WHERE division_code = OLD.code) "
    "BEGIN SELECT RAISE(ABORT, 'the division is the division of persons'); END",
    "CREATE TRIGGER division_in_use_on_update BEFORE UPDATE OF code ON division "
    "WHEN NEW.code IS NOT OLD.code "
    "AND EXISTS (SELECT 1 FROM person WHERE division_code = OLD.code) "
    "BEGIN SELECT RAISE(ABORT, 'the division is the division of persons'); END",
]
_SQLITE_DROP = [f"DROP TRIGGER IF EXISTS {name}" for name in (
    "person_division_on_insert", "person_division_on_update", "division_in_use_on_delete",
    "division_in_use_on_update")]


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(_FK, "person", type_="foreignkey")
        op.execute("ALTER TABLE person "
                   + ", ".join(f"ALTER COLUMN {c} TYPE bytea USING decode({c}, 'hex')"
                               for c in _HASHES))
        for ddl in _PG_TRIGGERS:
            op.execute(ddl)
        return
    _sqlite_redefine(binary=True)
    for ddl in _SQLITE_TRIGGERS:
        op.execute(ddl)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for ddl in _PG_DROP:
            op.execute(ddl)
        op.execute("ALTER TABLE person "
                   + ", ".join(f"ALTER COLUMN {c} TYPE varchar(64) USING encode({c}, 'hex')"
                               for c in _HASHES))
        op.create_foreign_key(_FK, "person", "division", ["division_code"], ["code"])
        return
    for ddl in _SQLITE_DROP:
        op.execute(ddl)
    _sqlite_redefine(binary=False)


_FK_CLAUSE = (f"CONSTRAINT {_FK} FOREIGN KEY(division_code) REFERENCES division (code), \n\t")
_TEXT_TYPE, _BINARY_TYPE = "VARCHAR(64)", "BLOB"


def _sqlite_redefine(binary: bool) -> None:
    """Change the person table's definition on SQLite: hash columns ``BLOB`` and no foreign
    key (``binary``), or back; then convert the stored hashes.

    The table is not rebuilt (cases, stays and samples refer to it): its CREATE statement is
    edited in place (:mod:`fangkong.migrations.sqlite_ddl`), both changes leaving the stored
    rows' format as it is.
    """
    old_type, new_type = (_TEXT_TYPE, _BINARY_TYPE) if binary else (_BINARY_TYPE, _TEXT_TYPE)

    def edit(sql: str) -> str:
        for column in _HASHES:
            sql = replace_once(sql, f"\t{column} {old_type}, ", f"\t{column} {new_type}, ",
                               f"person.{column} (not {old_type})")
        anchor = "CONSTRAINT uq_person_id_number_hash"
        if binary:
            return replace_once(sql, _FK_CLAUSE, "", "person's foreign key")
        return replace_once(sql, anchor, _FK_CLAUSE + anchor, "person's constraints")

    redefine_table("person", edit)
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT id, id_number_hash, phone_hash FROM person "
        "WHERE id_number_hash IS NOT NULL OR phone_hash IS NOT NULL")).all()
    convert = _unhex if binary else _hex
    for start in range(0, len(rows), 10_000):
        bind.execute(
            sa.text("UPDATE person SET id_number_hash = :i, phone_hash = :p WHERE id = :id"),
            [{"id": pid, "i": convert(i), "p": convert(p)}
             for pid, i, p in rows[start : start + 10_000]])
    if not binary:
        orphans = bind.execute(sa.text("PRAGMA foreign_key_check(person)")).all()
        if orphans:
            raise RuntimeError(f"{len(orphans)} persons name no division; cannot go back")


def _unhex(value: object) -> bytes | None:
    return None if value is None else bytes.fromhex(str(value))


def _hex(value: bytes | None) -> str | None:
    return None if value is None else bytes(value).hex()
