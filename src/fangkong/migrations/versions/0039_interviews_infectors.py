"""tracing: the 流调 interview of a case and the infectors epidemiologists decide

Revision ID: 0039
Revises: 0037
Create Date: 2026-12-07

``tracing_interview``: a case's interview (one per case) under the case's policy pack, its
answers as JSON, saved as a draft and completed later; ``version`` for refusing stale forms.
``tracing_infector``: who infected a case as an epidemiologist decided it (or that the source is
unknown), with the reason; the transmission graph keeps that one link into the case.
The search box's indexes on ``person``: the name by its beginning (pattern ops on PostgreSQL,
so that LIKE 'prefix%' is answered from the index whatever the collation) and the masked
phone's last four characters (its last four digits).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from fangkong.core.db import BigId, UTCDateTime

revision = "0039"
down_revision = "0037"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tracing_interview",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("case_id", BigId, sa.ForeignKey("case_episode.id"), nullable=False),
        sa.Column("status", sa.Enum("draft", "completed", name="interviewstatus",
                                    native_enum=False, length=30), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("pack_id", sa.String(50), nullable=False),
        sa.Column("pack_version", sa.String(20), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.JSON(), nullable=True),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(100), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("completed_by", sa.String(100), nullable=True),
        sa.Column("completed_at", UTCDateTime(), nullable=True),
        sa.UniqueConstraint("case_id"),
    )
    op.create_table(
        "tracing_infector",
        sa.Column("case_id", BigId, sa.ForeignKey("case_episode.id"), primary_key=True),
        sa.Column("infector_case_id", BigId, sa.ForeignKey("case_episode.id"), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("set_by", sa.String(100), nullable=False),
        sa.Column("set_at", UTCDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    op.create_index("ix_tracing_infector_infector_case_id", "tracing_infector",
                    ["infector_case_id"])
    op.create_index("ix_person_name_prefix", "person", ["name"],
                    postgresql_ops={"name": "varchar_pattern_ops"})
    op.create_index("ix_person_phone_tail", "person",
                    [sa.text("substr(phone_masked, length(phone_masked) - 3)")])


def downgrade() -> None:
    op.drop_index("ix_person_phone_tail", table_name="person")
    op.drop_index("ix_person_name_prefix", table_name="person")
    op.drop_index("ix_tracing_infector_infector_case_id", table_name="tracing_infector")
    op.drop_table("tracing_infector")
    op.drop_table("tracing_interview")
