"""tracing cold: the cases' report-time index also holds the classification and the person, so
counting the cases reported in a window (the tracing indicators, the dashboard) reads the index
alone

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_case_episode_reported_at", table_name="case_episode")
    op.create_index("ix_case_episode_reported_at_classification_person_id", "case_episode",
                    ["reported_at", "classification", "person_id"])


def downgrade() -> None:
    op.drop_index("ix_case_episode_reported_at_classification_person_id",
                  table_name="case_episode")
    op.create_index("ix_case_episode_reported_at", "case_episode", ["reported_at"])
