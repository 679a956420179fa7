"""testing: mass-testing rounds, targets, points, labs, tubes, samples, positive-pool follow-up,
key groups

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import fangkong.core.db

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "testing_round",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("series", sa.String(length=100), nullable=True),
        sa.Column("area_codes", sa.JSON(), nullable=False),
        sa.Column("start_at", fangkong.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("deadline_at", fangkong.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "status",
            sa.Enum("open", "closed", name="roundstatus", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("pack_id", sa.String(length=50), nullable=False),
        sa.Column("pack_version", sa.String(length=20), nullable=False),
        sa.Column("result_due_hours", sa.Integer(), nullable=False),
        sa.Column("target_count", sa.Integer(), nullable=False),
        sa.Column("community_infections", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", fangkong.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_testing_round")),
    )
    with op.batch_alter_table("testing_round", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_testing_round_series"), ["series"], unique=False)

    op.create_table(
        "testing_key_group",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("code", sa.String(length=50), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("division_code", sa.String(length=12), nullable=False),
        sa.Column("every_days", sa.Integer(), nullable=False),
        sa.Column("schedule_source", sa.String(length=100), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["division_code"],
            ["division.code"],
            name=op.f("fk_testing_key_group_division_code_division"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_testing_key_group")),
        sa.UniqueConstraint("code", name=op.f("uq_testing_key_group_code")),
    )
    op.create_table(
        "testing_lab",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("code", sa.String(length=50), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("division_code", sa.String(length=12), nullable=False),
        sa.Column("daily_capacity", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["division_code"], ["division.code"], name=op.f("fk_testing_lab_division_code_division")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_testing_lab")),
        sa.UniqueConstraint("code", name=op.f("uq_testing_lab_code")),
    )
    with op.batch_alter_table("testing_lab", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_testing_lab_division_code"), ["division_code"], unique=False
        )

    op.create_table(
        "testing_point",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("code", sa.String(length=50), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("division_code", sa.String(length=12), nullable=False),
        sa.Column("samplers", sa.Integer(), nullable=False),
        sa.Column("opens", sa.Time(), nullable=False),
        sa.Column("closes", sa.Time(), nullable=False),
        sa.ForeignKeyConstraint(
            ["division_code"],
            ["division.code"],
            name=op.f("fk_testing_point_division_code_division"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_testing_point")),
        sa.UniqueConstraint("code", name=op.f("uq_testing_point_code")),
    )
    with op.batch_alter_table("testing_point", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_testing_point_division_code"), ["division_code"], unique=False
        )

    op.create_table(
        "testing_round_zone",
        sa.Column("round_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("division_code", sa.String(length=12), nullable=False),
        sa.Column("level", sa.String(length=30), nullable=False),
        sa.ForeignKeyConstraint(
            ["division_code"],
            ["division.code"],
            name=op.f("fk_testing_round_zone_division_code_division"),
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["testing_round.id"],
            name=op.f("fk_testing_round_zone_round_id_testing_round"),
        ),
        sa.PrimaryKeyConstraint("round_id", "division_code", name=op.f("pk_testing_round_zone")),
    )
    op.create_table(
        "testing_key_group_member",
        sa.Column("group_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "person_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("since", fangkong.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["testing_key_group.id"],
            name=op.f("fk_testing_key_group_member_group_id_testing_key_group"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_testing_key_group_member_person_id_person")
        ),
        sa.PrimaryKeyConstraint("group_id", "person_id", name=op.f("pk_testing_key_group_member")),
    )
    op.create_table(
        "testing_target",
        sa.Column("round_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "person_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("division_code", sa.String(length=12), nullable=False),
        sa.Column("pool_max", sa.Integer(), nullable=False),
        sa.Column("household", sa.Boolean(), nullable=False),
        sa.Column("at_site", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_testing_target_person_id_person")
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["testing_round.id"],
            name=op.f("fk_testing_target_round_id_testing_round"),
        ),
        sa.PrimaryKeyConstraint("round_id", "person_id", name=op.f("pk_testing_target")),
    )
    with op.batch_alter_table("testing_target", schema=None) as batch_op:
        batch_op.create_index(
            "ix_testing_target_round_id_division_code", ["round_id", "division_code"], unique=False
        )

    op.create_table(
        "testing_tube",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("barcode", sa.String(length=64), nullable=False),
        sa.Column("round_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("members", sa.Integer(), nullable=False),
        sa.Column("first_sampled_at", fangkong.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("lab_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("received_at", fangkong.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("tested_at", fangkong.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "result",
            sa.Enum("positive", "negative", "invalid", name="result", native_enum=False, length=20),
            nullable=True,
        ),
        sa.Column("reported_at", fangkong.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ct", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["lab_id"], ["testing_lab.id"], name=op.f("fk_testing_tube_lab_id_testing_lab")
        ),
        sa.ForeignKeyConstraint(
            ["round_id"], ["testing_round.id"], name=op.f("fk_testing_tube_round_id_testing_round")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_testing_tube")),
        sa.UniqueConstraint("barcode", name=op.f("uq_testing_tube_barcode")),
    )
    with op.batch_alter_table("testing_tube", schema=None) as batch_op:
        batch_op.create_index(
            "ix_testing_tube_round_id_result", ["round_id", "result"], unique=False
        )

    op.create_table(
        "testing_followup",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("round_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("tube_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("division_code", sa.String(length=12), nullable=False),
        sa.Column(
            "status",
            sa.Enum("open", "resolved", name="followupstatus", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column(
            "outcome",
            sa.Enum("released", "case_found", name="outcome", native_enum=False, length=20),
            nullable=True,
        ),
        sa.Column("opened_at", fangkong.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", fangkong.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("opened_by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["division_code"],
            ["division.code"],
            name=op.f("fk_testing_followup_division_code_division"),
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["testing_round.id"],
            name=op.f("fk_testing_followup_round_id_testing_round"),
        ),
        sa.ForeignKeyConstraint(
            ["tube_id"], ["testing_tube.id"], name=op.f("fk_testing_followup_tube_id_testing_tube")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_testing_followup")),
        sa.UniqueConstraint("tube_id", name=op.f("uq_testing_followup_tube_id")),
    )
    with op.batch_alter_table("testing_followup", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_testing_followup_round_id"), ["round_id"], unique=False
        )
        batch_op.create_index(
            "ix_testing_followup_status_opened_at", ["status", "opened_at"], unique=False
        )

    op.create_table(
        "testing_sample",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("round_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("tube_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "person_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("sampled_at", fangkong.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("point_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("repeat", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_testing_sample_person_id_person")
        ),
        sa.ForeignKeyConstraint(
            ["point_id"],
            ["testing_point.id"],
            name=op.f("fk_testing_sample_point_id_testing_point"),
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["testing_round.id"],
            name=op.f("fk_testing_sample_round_id_testing_round"),
        ),
        sa.ForeignKeyConstraint(
            ["tube_id"], ["testing_tube.id"], name=op.f("fk_testing_sample_tube_id_testing_tube")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_testing_sample")),
        sa.UniqueConstraint("tube_id", "person_id", name="uq_testing_sample_tube_id"),
    )
    with op.batch_alter_table("testing_sample", schema=None) as batch_op:
        batch_op.create_index(
            "ix_testing_sample_person_id_round_id", ["person_id", "round_id"], unique=False
        )

    op.create_table(
        "testing_followup_member",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "followup_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "person_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("division_code", sa.String(length=12), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending", "released", "positive", name="memberstatus", native_enum=False, length=20
            ),
            nullable=False,
        ),
        sa.Column("control_since", fangkong.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("control_ended_at", fangkong.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "responsible_unit_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("responsible", sa.String(length=200), nullable=False),
        sa.Column("task_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column(
            "retest_tube_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("retests", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["case_episode.id"],
            name=op.f("fk_testing_followup_member_case_id_case_episode"),
        ),
        sa.ForeignKeyConstraint(
            ["division_code"],
            ["division.code"],
            name=op.f("fk_testing_followup_member_division_code_division"),
        ),
        sa.ForeignKeyConstraint(
            ["followup_id"],
            ["testing_followup.id"],
            name=op.f("fk_testing_followup_member_followup_id_testing_followup"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_testing_followup_member_person_id_person")
        ),
        sa.ForeignKeyConstraint(
            ["responsible_unit_id"],
            ["unit.id"],
            name=op.f("fk_testing_followup_member_responsible_unit_id_unit"),
        ),
        sa.ForeignKeyConstraint(
            ["retest_tube_id"],
            ["testing_tube.id"],
            name=op.f("fk_testing_followup_member_retest_tube_id_testing_tube"),
        ),
        sa.ForeignKeyConstraint(
            ["task_id"], ["task.id"], name=op.f("fk_testing_followup_member_task_id_task")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_testing_followup_member")),
    )
    with op.batch_alter_table("testing_followup_member", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_testing_followup_member_followup_id"), ["followup_id"], unique=False
        )
        batch_op.create_index(
            "ix_testing_followup_member_person_id_status", ["person_id", "status"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("testing_followup_member", schema=None) as batch_op:
        batch_op.drop_index("ix_testing_followup_member_person_id_status")
        batch_op.drop_index(batch_op.f("ix_testing_followup_member_followup_id"))

    op.drop_table("testing_followup_member")
    with op.batch_alter_table("testing_sample", schema=None) as batch_op:
        batch_op.drop_index("ix_testing_sample_person_id_round_id")

    op.drop_table("testing_sample")
    with op.batch_alter_table("testing_followup", schema=None) as batch_op:
        batch_op.drop_index("ix_testing_followup_status_opened_at")
        batch_op.drop_index(batch_op.f("ix_testing_followup_round_id"))

    op.drop_table("testing_followup")
    with op.batch_alter_table("testing_tube", schema=None) as batch_op:
        batch_op.drop_index("ix_testing_tube_round_id_result")

    op.drop_table("testing_tube")
    with op.batch_alter_table("testing_target", schema=None) as batch_op:
        batch_op.drop_index("ix_testing_target_round_id_division_code")

    op.drop_table("testing_target")
    op.drop_table("testing_key_group_member")
    op.drop_table("testing_round_zone")
    with op.batch_alter_table("testing_point", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_testing_point_division_code"))

    op.drop_table("testing_point")
    with op.batch_alter_table("testing_lab", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_testing_lab_division_code"))

    op.drop_table("testing_lab")
    op.drop_table("testing_key_group")
    with op.batch_alter_table("testing_round", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_testing_round_series"))

    op.drop_table("testing_round")
