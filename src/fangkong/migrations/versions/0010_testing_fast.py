"""testing-fast: where persons are registered as staying (person_stay)

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import fangkong.core.db

revision = "0010"
down_revision = "0008"
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


def downgrade() -> None:
    op.drop_index("ix_person_stay_division_code_since", table_name="person_stay")
    op.drop_table("person_stay")
