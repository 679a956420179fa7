"""testing samples keyed by (person, round, tube): one index written in turn by an import, the
tubes' index smaller

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-01

``testing_sample`` had two indexes: its primary key (tube, person) and (person, round), for a
person's samples. An import writes its samples in person order, so the second was written in
turn and the first out of order. Now the primary key is (person, round, tube), which serves a
person's samples as the (person, round) index did (a tube is in one round, so the pair
(person, tube) is still unique), and a tube's members are found by a plain index on the tube,
which holds each tube once with its members' row addresses (PostgreSQL's B-tree
deduplication): one index fewer, and the one written out of order is the smaller one.

Measured in psql (7,000,000 rows inserted in person order, CHECKPOINT before each):

- tubes and persons in unrelated orders (a tube's members anywhere in the registry): 27.5 s
  and 2,025 MB of WAL into the old layout, 19.6 s and 1,761 MB into the new one;
- tubes filled village by village from a registry in household order (as the benchmark's):
  15.7-17.8 s and 1,714 MB against 15.3-16.9 s and 1,695 MB, the same within the machine's
  noise: the old key was then written at a few thousand places at once, which stay in memory;
- the indexes: 275 MB (key) + 210 MB (person, round) before, 270 MB (key) + 94 MB (tube) now.

SQLite rebuilds the table (batch mode): migration 0013's triggers, on the table and on the
tables it refers to, are dropped while it is rebuilt and made again.
"""

from __future__ import annotations

import importlib

from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

_REFS = importlib.import_module("fangkong.migrations.versions.0013_testing_pg_sample_refs")


def _rekey(key: list[str], drop: str, index: str, columns: list[str]) -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:  # the table's triggers, and the others' that name it, while it is rebuilt
        for statement in _REFS._sqlite_drop():
            op.execute(statement)
    with op.batch_alter_table("testing_sample") as batch:
        batch.drop_index(drop)
        batch.drop_constraint("pk_testing_sample", type_="primary")
        batch.create_primary_key("pk_testing_sample", key)
        batch.create_index(index, columns)
    if sqlite:
        ddl = list(_REFS._SQLITE_SAMPLES)
        for parent in _REFS._PARENTS:
            ddl += _REFS._sqlite_parent(*parent)
        for statement in ddl:
            op.execute(statement)


def upgrade() -> None:
    _rekey(["person_id", "round_id", "tube_id"], "ix_testing_sample_person_id_round_id",
           "ix_testing_sample_tube_id", ["tube_id"])


def downgrade() -> None:
    _rekey(["tube_id", "person_id"], "ix_testing_sample_tube_id",
           "ix_testing_sample_person_id_round_id", ["person_id", "round_id"])
