"""dashboard: per-user web preferences (language, large-text mode); an index on the cases'
report time for the dashboard's day and window counts

Revision ID: 0008
Revises: 0006
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import fangkong.core.db

revision = "0008"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_preference",
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  nullable=False),
        sa.Column("lang", sa.String(length=10), nullable=False),
        sa.Column("large_text", sa.Boolean(), nullable=False),
        sa.Column("updated_at", fangkong.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"],
                                name=op.f("fk_web_preference_user_id_app_user")),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_web_preference")),
    )
    op.create_index("ix_case_episode_reported_at", "case_episode", ["reported_at"])


def downgrade() -> None:
    op.drop_index("ix_case_episode_reported_at", table_name="case_episode")
    op.drop_table("web_preference")
