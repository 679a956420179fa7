"""testing-fast: where persons are registered as staying (person_stay); samples keyed by
(tube, person) with one composite reference (tube, round) to the tube instead of a surrogate
id, a unique key and two references; tubes indexed by round only, with free space in their
pages on PostgreSQL (fillfactor 50) so that imports update them in place

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import fangkong.core.db

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "person_stay",
        sa.Column("id", _ID, nullable=False),
        sa.Column("person_id", _ID, nullable=False),
        sa.Column("division_code", sa.String(length=12), nullable=False),
        sa.Column("since", fangkong.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("until", fangkong.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("updated_at", fangkong.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"],
                                name=op.f("fk_person_stay_person_id_person")),
        sa.ForeignKeyConstraint(["division_code"], ["division.code"],
                                name=op.f("fk_person_stay_division_code_division")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person_stay")),
        sa.UniqueConstraint("person_id", "division_code", "since",
                            name="uq_person_stay_person_id"),
    )
    op.create_index("ix_person_stay_division_code_since", "person_stay",
                    ["division_code", "since"])

    with op.batch_alter_table("testing_tube") as batch:
        batch.create_unique_constraint("uq_testing_tube_id", ["id", "round_id"])
        batch.drop_index("ix_testing_tube_round_id_result")
        batch.create_index("ix_testing_tube_round_id", ["round_id"])
    if op.get_context().dialect.name == "postgresql":
        # room in each page for the two updates of a tube (its members, then its result)
        op.execute("ALTER TABLE testing_tube SET (fillfactor = 50)")
    with op.batch_alter_table("testing_sample") as batch:
        batch.drop_constraint("fk_testing_sample_round_id_testing_round", type_="foreignkey")
        batch.drop_constraint("fk_testing_sample_tube_id_testing_tube", type_="foreignkey")
        batch.drop_constraint("uq_testing_sample_tube_id", type_="unique")
        batch.drop_constraint("pk_testing_sample", type_="primary")
        batch.drop_column("id")
        batch.create_primary_key("pk_testing_sample", ["tube_id", "person_id"])
        batch.create_foreign_key("fk_testing_sample_tube_id_testing_tube", "testing_tube",
                                 ["tube_id", "round_id"], ["id", "round_id"])


def downgrade() -> None:
    with op.batch_alter_table("testing_sample") as batch:
        batch.drop_constraint("fk_testing_sample_tube_id_testing_tube", type_="foreignkey")
        batch.drop_constraint("pk_testing_sample", type_="primary")
        batch.add_column(sa.Column("id", _ID, autoincrement=True, nullable=True))
    # the surrogate ids come back numbered in (tube, person) order
    op.execute("UPDATE testing_sample SET id = (SELECT count(*) FROM testing_sample AS o "
               "WHERE o.tube_id < testing_sample.tube_id OR (o.tube_id = testing_sample.tube_id "
               "AND o.person_id <= testing_sample.person_id))")
    with op.batch_alter_table("testing_sample") as batch:
        batch.alter_column("id", existing_type=_ID, nullable=False)
        batch.create_primary_key("pk_testing_sample", ["id"])
        batch.create_unique_constraint("uq_testing_sample_tube_id", ["tube_id", "person_id"])
        batch.create_foreign_key("fk_testing_sample_tube_id_testing_tube", "testing_tube",
                                 ["tube_id"], ["id"])
        batch.create_foreign_key("fk_testing_sample_round_id_testing_round", "testing_round",
                                 ["round_id"], ["id"])
    if op.get_context().dialect.name == "postgresql":
        op.execute("ALTER TABLE testing_tube RESET (fillfactor)")
    with op.batch_alter_table("testing_tube") as batch:
        batch.drop_index("ix_testing_tube_round_id")
        batch.create_index("ix_testing_tube_round_id_result", ["round_id", "result"])
        batch.drop_constraint("uq_testing_tube_id", type_="unique")
    op.drop_index("ix_person_stay_division_code_since", table_name="person_stay")
    op.drop_table("person_stay")
