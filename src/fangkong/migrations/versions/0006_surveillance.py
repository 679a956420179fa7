"""surveillance: sentinel units and reports, alert rules, alerts and their history

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 03:16:53.654053
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import fangkong.core.db

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alert_rule",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "series",
            sa.Enum("sentinel", "cases", name="serieskind", native_enum=False, length=30),
            nullable=False,
        ),
        sa.Column(
            "indicator",
            sa.Enum(
                "visits",
                "positives",
                "sales_antipyretic",
                "sales_cough",
                "sales_antiviral",
                "sales_antibiotic",
                "absences",
                name="indicator",
                native_enum=False,
                length=30,
            ),
            nullable=True,
        ),
        sa.Column(
            "case_split",
            sa.Enum(
                "all", "community", "in_quarantine", name="casesplit", native_enum=False, length=30
            ),
            nullable=False,
        ),
        sa.Column(
            "date_basis",
            sa.Enum("onset", "report", name="datebasis", native_enum=False, length=30),
            nullable=False,
        ),
        sa.Column("disease", sa.String(length=30), nullable=True),
        sa.Column(
            "period",
            sa.Enum("daily", "weekly", name="period", native_enum=False, length=30),
            nullable=False,
        ),
        sa.Column(
            "method",
            sa.Enum(
                "ears_c1",
                "ears_c2",
                "ears_c3",
                "farrington",
                "farrington_flexible",
                name="method",
                native_enum=False,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("division_codes", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", fangkong.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_rule")),
        sa.UniqueConstraint("name", name=op.f("uq_alert_rule_name")),
    )
    op.create_table(
        "sentinel_unit",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("code", sa.String(length=50), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "fever_clinic",
                "primary_clinic",
                "pharmacy",
                "school",
                "other",
                name="sentinelkind",
                native_enum=False,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column("division_code", sa.String(length=12), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", fangkong.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["division_code"],
            ["division.code"],
            name=op.f("fk_sentinel_unit_division_code_division"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sentinel_unit")),
        sa.UniqueConstraint("code", name=op.f("uq_sentinel_unit_code")),
    )
    with op.batch_alter_table("sentinel_unit", schema=None) as batch_op:
        batch_op.create_index(
            "ix_sentinel_unit_division_code_id", ["division_code", "id"], unique=False
        )

    op.create_table(
        "sentinel_report",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("unit_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("division_code", sa.String(length=12), nullable=False),
        sa.Column(
            "indicator",
            sa.Enum(
                "visits",
                "positives",
                "sales_antipyretic",
                "sales_cough",
                "sales_antiviral",
                "sales_antibiotic",
                "absences",
                name="indicator",
                native_enum=False,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column(
            "period",
            sa.Enum("daily", "weekly", name="period", native_enum=False, length=30),
            nullable=False,
        ),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("reported_at", fangkong.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", fangkong.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["division_code"],
            ["division.code"],
            name=op.f("fk_sentinel_report_division_code_division"),
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["sentinel_unit.id"], name=op.f("fk_sentinel_report_unit_id_sentinel_unit")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sentinel_report")),
        sa.UniqueConstraint(
            "unit_id",
            "indicator",
            "period",
            "period_start",
            name=op.f("uq_sentinel_report_unit_id"),
        ),
    )
    with op.batch_alter_table("sentinel_report", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sentinel_report_division_code"), ["division_code"], unique=False
        )
        batch_op.create_index(
            "ix_sentinel_report_indicator_period_start", ["indicator", "period_start"], unique=False
        )

    op.create_table(
        "alert",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("rule_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("division_code", sa.String(length=12), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("observed", sa.Float(), nullable=False),
        sa.Column("upperbound", sa.Float(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "acknowledged",
                "investigating",
                "dismissed",
                name="alertstatus",
                native_enum=False,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("task_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_at", fangkong.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", fangkong.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["division_code"], ["division.code"], name=op.f("fk_alert_division_code_division")
        ),
        sa.ForeignKeyConstraint(
            ["rule_id"], ["alert_rule.id"], name=op.f("fk_alert_rule_id_alert_rule")
        ),
        sa.ForeignKeyConstraint(["task_id"], ["task.id"], name=op.f("fk_alert_task_id_task")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert")),
        sa.UniqueConstraint(
            "rule_id", "division_code", "period_start", name=op.f("uq_alert_rule_id")
        ),
    )
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.create_index("ix_alert_division_code_id", ["division_code", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_alert_rule_id"), ["rule_id"], unique=False)

    op.create_table(
        "sentinel_revision",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "report_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("old_value", sa.Integer(), nullable=False),
        sa.Column("new_value", sa.Integer(), nullable=False),
        sa.Column("at", fangkong.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("by", sa.String(length=100), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["sentinel_report.id"],
            name=op.f("fk_sentinel_revision_report_id_sentinel_report"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sentinel_revision")),
    )
    with op.batch_alter_table("sentinel_revision", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sentinel_revision_report_id"), ["report_id"], unique=False
        )

    op.create_table(
        "alert_event",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("alert_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", fangkong.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("by", sa.String(length=100), nullable=False),
        sa.Column(
            "from_status",
            sa.Enum(
                "open",
                "acknowledged",
                "investigating",
                "dismissed",
                name="alertstatus",
                native_enum=False,
                length=30,
            ),
            nullable=True,
        ),
        sa.Column(
            "to_status",
            sa.Enum(
                "open",
                "acknowledged",
                "investigating",
                "dismissed",
                name="alertstatus",
                native_enum=False,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["alert_id"], ["alert.id"], name=op.f("fk_alert_event_alert_id_alert")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_event")),
    )
    with op.batch_alter_table("alert_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_event_alert_id"), ["alert_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("alert_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_event_alert_id"))

    op.drop_table("alert_event")
    with op.batch_alter_table("sentinel_revision", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sentinel_revision_report_id"))

    op.drop_table("sentinel_revision")
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_rule_id"))
        batch_op.drop_index("ix_alert_division_code_id")

    op.drop_table("alert")
    with op.batch_alter_table("sentinel_report", schema=None) as batch_op:
        batch_op.drop_index("ix_sentinel_report_indicator_period_start")
        batch_op.drop_index(batch_op.f("ix_sentinel_report_division_code"))

    op.drop_table("sentinel_report")
    with op.batch_alter_table("sentinel_unit", schema=None) as batch_op:
        batch_op.drop_index("ix_sentinel_unit_division_code_id")

    op.drop_table("sentinel_unit")
    op.drop_table("alert_rule")
