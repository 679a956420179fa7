"""monitoring: periods of home reporting, their daily reports and missed days

Revision ID: 0047
Revises: 0042
Create Date: 2026-12-08

The tables of ``fangkong.monitoring`` (issue 24, step 1): a period per contact whose plan
includes home quarantine or home health monitoring, with the questions and thresholds of its
pack as they were; the immutable daily reports; the days missed by their deadline.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from fangkong.core.db import BigId, UTCDateTime

revision = "0047"
down_revision = "0042"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "monitoring_period",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("person_id", BigId, sa.ForeignKey("person.id"), nullable=False),
        sa.Column("contact_id", BigId, sa.ForeignKey("tracing_contact.id"), nullable=False),
        sa.Column("division_code", sa.String(12), sa.ForeignKey("division.code"),
                  nullable=False),
        sa.Column("pack_id", sa.String(50), nullable=False),
        sa.Column("pack_version", sa.String(20), nullable=False),
        sa.Column("rules_version", sa.String(10), nullable=False),
        sa.Column("phases", sa.String(100), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("end", sa.Date(), nullable=False),
        sa.Column("questions", sa.JSON(), nullable=False),
        sa.Column("symptoms", sa.JSON(), nullable=False),
        sa.Column("alert_symptoms", sa.JSON(), nullable=False),
        sa.Column("fever_c", sa.Float(), nullable=False),
        sa.Column("deadline_hour", sa.Integer(), nullable=False),
        sa.Column("escalate_after_missed", sa.Integer(), nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(30), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.Column("end_reason", sa.String(100), nullable=True),
        sa.UniqueConstraint("contact_id", name="uq_monitoring_period_contact_id"),
    )
    op.create_index("ix_monitoring_period_person_id", "monitoring_period", ["person_id"])
    op.create_index("ix_monitoring_period_division_code_id", "monitoring_period",
                    ["division_code", "id"])
    op.create_index("ix_monitoring_period_status_end", "monitoring_period", ["status", "end"])
    op.create_table(
        "monitoring_report",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("period_id", BigId, sa.ForeignKey("monitoring_period.id"), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("temperature", sa.Float(), nullable=True),
        sa.Column("symptoms", sa.JSON(), nullable=False),
        sa.Column("tested", sa.Boolean(), nullable=True),
        sa.Column("channel", sa.String(30), nullable=False),
        sa.Column("entered_by", sa.String(100), nullable=False),
        sa.Column("flagged", sa.Boolean(), nullable=False),
        sa.Column("task_ids", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("period_id", "day", name="uq_monitoring_report_day"),
    )
    op.create_table(
        "monitoring_miss",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("period_id", BigId, sa.ForeignKey("monitoring_period.id"), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("task_id", BigId, nullable=True),
        sa.Column("escalation_task_id", BigId, nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("period_id", "day", name="uq_monitoring_miss_day"),
    )


def downgrade() -> None:
    op.drop_table("monitoring_miss")
    op.drop_table("monitoring_report")
    op.drop_index("ix_monitoring_period_status_end", table_name="monitoring_period")
    op.drop_index("ix_monitoring_period_division_code_id", table_name="monitoring_period")
    op.drop_index("ix_monitoring_period_person_id", table_name="monitoring_period")
    op.drop_table("monitoring_period")
