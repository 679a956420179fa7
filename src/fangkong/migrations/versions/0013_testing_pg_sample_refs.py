"""testing samples: the references to the tube, the person and the collection point checked by
triggers instead of foreign keys

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01

A bulk import writes a city's samples (millions of rows) in one statement; each of the three
foreign keys of ``testing_sample`` ran a lookup of the referenced row, share-locking it, per
row inserted: together two thirds of the statement's time on PostgreSQL. The same rules are
kept by triggers, as migration 0009 did for the person's division. On PostgreSQL,
statement-level ones check all the rows a statement wrote at once (one join of its transition
table with ``person`` and ``testing_tube``, the referenced rows share-locked as the foreign
keys did; points apart, most samples having none); on SQLite, row-level ones. The other side of
each reference is guarded too: a person, tube or point that samples refer to cannot be deleted
or have its key changed (row-level triggers: such deletions are rare, and the importers'
updates of tubes do not set the key columns, so these cost them nothing).
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_FKS = {
    "fk_testing_sample_tube_id_testing_tube": ("testing_tube", ["tube_id", "round_id"],
                                               ["id", "round_id"]),
    "fk_testing_sample_person_id_person": ("person", ["person_id"], ["id"]),
    "fk_testing_sample_point_id_testing_point": ("testing_point", ["point_id"], ["id"]),
}

# The referenced tables: (table, its key columns, the samples' columns referring to them).
_PARENTS = [
    ("person", ["id"], ["person_id"]),
    ("testing_tube", ["id", "round_id"], ["tube_id", "round_id"]),
    ("testing_point", ["id"], ["point_id"]),
]

_PG_SAMPLES = [
    # Every tube, round, person and point a statement wrote must exist; they are share-locked
    # (FOR KEY SHARE, as a foreign key's check does) so that none goes away before commit.
    """CREATE FUNCTION testing_sample_refs_known() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        wanted bigint;
        found bigint;
        bad record;
    BEGIN
        SELECT count(*) INTO wanted FROM new_rows;
        SELECT count(*) INTO found FROM (
            SELECT 1 FROM new_rows n
                JOIN person p ON p.id = n.person_id
                JOIN testing_tube t ON t.id = n.tube_id AND t.round_id = n.round_id
                FOR KEY SHARE OF p, t) AS locked;
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
            SELECT count(*) INTO found FROM (
                SELECT 1 FROM testing_point pt
                    WHERE pt.id IN (SELECT n.point_id FROM new_rows n)
                    FOR KEY SHARE OF pt) AS locked;
            IF found < wanted THEN
                RAISE EXCEPTION 'testing_sample: unknown collection point'
                    USING ERRCODE = 'foreign_key_violation', TABLE = 'testing_sample',
                          COLUMN = 'point_id';
            END IF;
        END IF;
        RETURN NULL;
    END $$""",
    "CREATE TRIGGER testing_sample_refs_on_insert AFTER INSERT ON testing_sample "
    "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
    "EXECUTE FUNCTION testing_sample_refs_known()",
    "CREATE TRIGGER testing_sample_refs_on_update AFTER UPDATE ON testing_sample "
    "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
    "EXECUTE FUNCTION testing_sample_refs_known()",
]


def _pg_parent(table: str, keys: list[str], refs: list[str]) -> list[str]:
    """Row-level guards of a referenced table: no deletion, key change or truncation while
    samples refer to a row."""
    used = " AND ".join(f"s.{r} = OLD.{k}" for k, r in zip(keys, refs, strict=True))
    changed = " OR ".join(f"NEW.{k} IS DISTINCT FROM OLD.{k}" for k in keys)
    return [
        f"""CREATE FUNCTION {table}_not_sampled() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF EXISTS (SELECT 1 FROM testing_sample s WHERE {used}) THEN
                RAISE EXCEPTION '{table} % is referred to by testing samples', OLD.id
                    USING ERRCODE = 'foreign_key_violation', TABLE = '{table}';
            END IF;
            RETURN NULL;
        END $$""",
        f"CREATE TRIGGER {table}_sampled_on_delete AFTER DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION {table}_not_sampled()",
        f"CREATE TRIGGER {table}_sampled_on_update AFTER UPDATE OF {', '.join(keys)} "
        f"ON {table} FOR EACH ROW WHEN ({changed}) EXECUTE FUNCTION {table}_not_sampled()",
        f"""CREATE FUNCTION {table}_truncate_not_sampled() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF EXISTS (SELECT 1 FROM testing_sample) THEN
                RAISE EXCEPTION '{table} is referred to by testing samples'
                    USING ERRCODE = 'foreign_key_violation', TABLE = '{table}';
            END IF;
            RETURN NULL;
        END $$""",
        f"CREATE TRIGGER {table}_sampled_on_truncate BEFORE TRUNCATE ON {table} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {table}_truncate_not_sampled()",
    ]


def _pg_drop() -> list[str]:
    out = ["DROP TRIGGER IF EXISTS testing_sample_refs_on_update ON testing_sample",
           "DROP TRIGGER IF EXISTS testing_sample_refs_on_insert ON testing_sample",
           "DROP FUNCTION IF EXISTS testing_sample_refs_known()"]
    for table, _, _ in _PARENTS:
        out += [f"DROP TRIGGER IF EXISTS {table}_sampled_on_{event} ON {table}"
                for event in ("truncate", "update", "delete")]
        out += [f"DROP FUNCTION IF EXISTS {table}_truncate_not_sampled()",
                f"DROP FUNCTION IF EXISTS {table}_not_sampled()"]
    return out


_SQLITE_UNKNOWN = (
    "NOT EXISTS (SELECT 1 FROM person WHERE id = NEW.person_id) "
    "OR NOT EXISTS (SELECT 1 FROM testing_tube WHERE id = NEW.tube_id "
    "AND round_id = NEW.round_id) "
    "OR (NEW.point_id IS NOT NULL "
    "AND NOT EXISTS (SELECT 1 FROM testing_point WHERE id = NEW.point_id))")
_SQLITE_SAMPLES = [
    "CREATE TRIGGER testing_sample_refs_on_insert BEFORE INSERT ON testing_sample "
    f"WHEN {_SQLITE_UNKNOWN} "
    "BEGIN SELECT RAISE(ABORT, 'testing_sample: unknown tube, person or point'); END",
    "CREATE TRIGGER testing_sample_refs_on_update "
    "BEFORE UPDATE OF tube_id, round_id, person_id, point_id ON testing_sample "
    f"WHEN {_SQLITE_UNKNOWN} "
    "BEGIN SELECT RAISE(ABORT, 'testing_sample: unknown tube, person or point'); END",
]


def _sqlite_parent(table: str, keys: list[str], refs: list[str]) -> list[str]:
    used = " AND ".join(f"{r} = OLD.{k}" for k, r in zip(keys, refs, strict=True))
    changed = " OR ".join(f"NEW.{k} IS NOT OLD.{k}" for k in keys)
    return [
        f"CREATE TRIGGER {table}_sampled_on_delete BEFORE DELETE ON {table} "
        f"WHEN EXISTS (SELECT 1 FROM testing_sample WHERE {used}) "
        f"BEGIN SELECT RAISE(ABORT, '{table} is referred to by testing samples'); END",
        f"CREATE TRIGGER {table}_sampled_on_update BEFORE UPDATE OF {', '.join(keys)} "
        f"ON {table} WHEN ({changed}) "
        f"AND EXISTS (SELECT 1 FROM testing_sample WHERE {used}) "
        f"BEGIN SELECT RAISE(ABORT, '{table} is referred to by testing samples'); END",
    ]


def _sqlite_drop() -> list[str]:
    names = ["testing_sample_refs_on_insert", "testing_sample_refs_on_update"]
    for table, _, _ in _PARENTS:
        names += [f"{table}_sampled_on_delete", f"{table}_sampled_on_update"]
    return [f"DROP TRIGGER IF EXISTS {name}" for name in names]


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    with op.batch_alter_table("testing_sample") as batch:
        for name in _FKS:
            batch.drop_constraint(name, type_="foreignkey")
    ddl = list(_PG_SAMPLES if postgres else _SQLITE_SAMPLES)
    for parent in _PARENTS:
        ddl += _pg_parent(*parent) if postgres else _sqlite_parent(*parent)
    for statement in ddl:
        op.execute(statement)


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for statement in _pg_drop() if postgres else _sqlite_drop():
        op.execute(statement)
    with op.batch_alter_table("testing_sample") as batch:
        for name, (table, local, remote) in _FKS.items():
            batch.create_foreign_key(name, table, local, remote)
