"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-23

The platform core: divisions and units, users, persons, cases, tasks, and the audit log,
which triggers make append-only on both databases.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import fangkong.core.db

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "app_user",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "commander",
                "epidemiologist",
                "testing_officer",
                "isolation_officer",
                "community_worker",
                "analyst",
                "administrator",
                name="role",
                native_enum=False,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", fangkong.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_app_user")),
        sa.UniqueConstraint("username", name=op.f("uq_app_user_username")),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("at", fangkong.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("actor_user_id", sa.BigInteger(), nullable=True),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("record_type", sa.String(length=50), nullable=False),
        sa.Column("record_ids", sa.JSON(), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
        sa.UniqueConstraint("seq", name=op.f("uq_audit_log_seq")),
    )
    op.create_table(
        "division",
        sa.Column("code", sa.String(length=12), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column(
            "level",
            sa.Enum(
                "province",
                "city",
                "county",
                "town",
                "village",
                name="level",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("parent_code", sa.String(length=12), nullable=True),
        sa.ForeignKeyConstraint(
            ["parent_code"], ["division.code"], name=op.f("fk_division_parent_code_division")
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_division")),
    )
    with op.batch_alter_table("division", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_division_parent_code"), ["parent_code"], unique=False)

    op.create_table(
        "division_boundary",
        sa.Column("code", sa.String(length=12), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("geometry", sa.JSON(), nullable=False),
        sa.Column("label_lon", sa.Float(), nullable=True),
        sa.Column("label_lat", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["code"], ["division.code"], name=op.f("fk_division_boundary_code_division")
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_division_boundary")),
    )
    op.create_table(
        "person",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("ref", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column(
            "sex",
            sa.Enum("male", "female", "unknown", name="sex", native_enum=False, length=10),
            nullable=False,
        ),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column(
            "id_type",
            sa.Enum(
                "resident_id",
                "passport",
                "hk_macao_permit",
                "taiwan_permit",
                "foreign_permanent_resident",
                "other",
                name="idtype",
                native_enum=False,
                length=30,
            ),
            nullable=True,
        ),
        sa.Column("id_number_enc", sa.LargeBinary(), nullable=True),
        sa.Column("id_number_hash", sa.String(length=64), nullable=True),
        sa.Column("id_number_masked", sa.String(length=40), nullable=True),
        sa.Column("phone_enc", sa.LargeBinary(), nullable=True),
        sa.Column("phone_hash", sa.String(length=64), nullable=True),
        sa.Column("phone_masked", sa.String(length=20), nullable=True),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("division_code", sa.String(length=12), nullable=False),
        sa.Column("household_ref", sa.String(length=64), nullable=True),
        sa.Column("synthetic", sa.Boolean(), nullable=False),
        sa.Column("row_hash", sa.String(length=32), nullable=False),
        sa.Column("created_at", fangkong.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", fangkong.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["division_code"], ["division.code"], name=op.f("fk_person_division_code_division")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person")),
        sa.UniqueConstraint("id_number_hash", name=op.f("uq_person_id_number_hash")),
        sa.UniqueConstraint("ref", name=op.f("uq_person_ref")),
    )
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.create_index("ix_person_division_code_id", ["division_code", "id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_person_household_ref"), ["household_ref"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_person_phone_hash"), ["phone_hash"], unique=False)

    op.create_table(
        "unit",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("code", sa.String(length=50), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "command_post",
                "working_group",
                "lab",
                "quarantine_site",
                "hospital",
                "community",
                "other",
                name="unitkind",
                native_enum=False,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column("division_code", sa.String(length=12), nullable=False),
        sa.Column(
            "parent_unit_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.ForeignKeyConstraint(
            ["division_code"], ["division.code"], name=op.f("fk_unit_division_code_division")
        ),
        sa.ForeignKeyConstraint(
            ["parent_unit_id"], ["unit.id"], name=op.f("fk_unit_parent_unit_id_unit")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unit")),
        sa.UniqueConstraint("code", name=op.f("uq_unit_code")),
    )
    with op.batch_alter_table("unit", schema=None) as batch_op:
        batch_op.create_index("ix_unit_division_code_kind", ["division_code", "kind"], unique=False)

    op.create_table(
        "user_grant",
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("division_code", sa.String(length=12), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_user_grant_user_id_app_user")
        ),
        sa.PrimaryKeyConstraint("user_id", "division_code", name=op.f("pk_user_grant")),
    )
    with op.batch_alter_table("user_grant", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_user_grant_division_code"), ["division_code"], unique=False
        )

    op.create_table(
        "case_episode",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("ref", sa.String(length=64), nullable=False),
        sa.Column(
            "person_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("disease", sa.String(length=30), nullable=False),
        sa.Column(
            "classification",
            sa.Enum(
                "suspected",
                "asymptomatic",
                "confirmed",
                "discarded",
                name="classification",
                native_enum=False,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column(
            "severity",
            sa.Enum(
                "mild",
                "moderate",
                "severe",
                "critical",
                name="severity",
                native_enum=False,
                length=30,
            ),
            nullable=True,
        ),
        sa.Column("onset_date", sa.Date(), nullable=True),
        sa.Column("first_positive_sample_date", sa.Date(), nullable=True),
        sa.Column("reported_at", fangkong.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "detection_mode",
            sa.Enum(
                "in_quarantine",
                "closed_loop",
                "community_screening",
                "fever_clinic",
                "routine_key_groups",
                "entry_screening",
                "other",
                name="detectionmode",
                native_enum=False,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column("owning_division_code", sa.String(length=12), nullable=False),
        sa.Column("current_division_code", sa.String(length=12), nullable=False),
        sa.Column("row_hash", sa.String(length=32), nullable=False),
        sa.Column("created_at", fangkong.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", fangkong.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["current_division_code"],
            ["division.code"],
            name=op.f("fk_case_episode_current_division_code_division"),
        ),
        sa.ForeignKeyConstraint(
            ["owning_division_code"],
            ["division.code"],
            name=op.f("fk_case_episode_owning_division_code_division"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_case_episode_person_id_person")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_episode")),
        sa.UniqueConstraint("ref", name=op.f("uq_case_episode_ref")),
    )
    with op.batch_alter_table("case_episode", schema=None) as batch_op:
        batch_op.create_index(
            "ix_case_episode_current_division_code_id",
            ["current_division_code", "id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_case_episode_owning_division_code_id", ["owning_division_code", "id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_case_episode_person_id"), ["person_id"], unique=False)

    op.create_table(
        "task",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("type", sa.String(length=50), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("subject_type", sa.String(length=50), nullable=True),
        sa.Column(
            "subject_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("owning_division_code", sa.String(length=12), nullable=False),
        sa.Column("unit_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column(
            "assignee_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("due_at", fangkong.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "in_progress",
                "done",
                "cancelled",
                name="taskstatus",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("escalation_level", sa.Integer(), nullable=False),
        sa.Column("escalated_to_code", sa.String(length=12), nullable=True),
        sa.Column("escalated_at", fangkong.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", fangkong.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("completed_at", fangkong.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["assignee_id"], ["app_user.id"], name=op.f("fk_task_assignee_id_app_user")
        ),
        sa.ForeignKeyConstraint(
            ["escalated_to_code"],
            ["division.code"],
            name=op.f("fk_task_escalated_to_code_division"),
        ),
        sa.ForeignKeyConstraint(
            ["owning_division_code"],
            ["division.code"],
            name=op.f("fk_task_owning_division_code_division"),
        ),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f("fk_task_unit_id_unit")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task")),
    )
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_task_assignee_id"), ["assignee_id"], unique=False)
        batch_op.create_index(
            "ix_task_owning_division_code_id", ["owning_division_code", "id"], unique=False
        )
        batch_op.create_index("ix_task_status_due_at", ["status", "due_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_task_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "case_classification_change",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("case_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "from_classification",
            sa.Enum(
                "suspected",
                "asymptomatic",
                "confirmed",
                "discarded",
                name="classification",
                native_enum=False,
                length=30,
            ),
            nullable=True,
        ),
        sa.Column(
            "from_severity",
            sa.Enum(
                "mild",
                "moderate",
                "severe",
                "critical",
                name="severity",
                native_enum=False,
                length=30,
            ),
            nullable=True,
        ),
        sa.Column(
            "to_classification",
            sa.Enum(
                "suspected",
                "asymptomatic",
                "confirmed",
                "discarded",
                name="classification",
                native_enum=False,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column(
            "to_severity",
            sa.Enum(
                "mild",
                "moderate",
                "severe",
                "critical",
                name="severity",
                native_enum=False,
                length=30,
            ),
            nullable=True,
        ),
        sa.Column("at", fangkong.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("by", sa.String(length=100), nullable=False),
        sa.Column(
            "basis",
            sa.Enum("manual", "rule", name="basis", native_enum=False, length=30),
            nullable=False,
        ),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["case_episode.id"],
            name=op.f("fk_case_classification_change_case_id_case_episode"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_classification_change")),
    )
    with op.batch_alter_table("case_classification_change", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_case_classification_change_case_id"), ["case_id"], unique=False
        )

    op.create_table(
        "task_event",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("task_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", fangkong.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("by", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["task_id"], ["task.id"], name=op.f("fk_task_event_task_id_task")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_event")),
    )
    with op.batch_alter_table("task_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_task_event_task_id"), ["task_id"], unique=False)

    _append_only_audit()


def downgrade() -> None:
    _drop_append_only_audit()
    with op.batch_alter_table("task_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_task_event_task_id"))

    op.drop_table("task_event")
    with op.batch_alter_table("case_classification_change", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_classification_change_case_id"))

    op.drop_table("case_classification_change")
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_task_unit_id"))
        batch_op.drop_index("ix_task_status_due_at")
        batch_op.drop_index("ix_task_owning_division_code_id")
        batch_op.drop_index(batch_op.f("ix_task_assignee_id"))

    op.drop_table("task")
    with op.batch_alter_table("case_episode", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_episode_person_id"))
        batch_op.drop_index("ix_case_episode_owning_division_code_id")
        batch_op.drop_index("ix_case_episode_current_division_code_id")

    op.drop_table("case_episode")
    with op.batch_alter_table("user_grant", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_grant_division_code"))

    op.drop_table("user_grant")
    with op.batch_alter_table("unit", schema=None) as batch_op:
        batch_op.drop_index("ix_unit_division_code_kind")

    op.drop_table("unit")
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_person_phone_hash"))
        batch_op.drop_index(batch_op.f("ix_person_household_ref"))
        batch_op.drop_index("ix_person_division_code_id")

    op.drop_table("person")
    op.drop_table("division_boundary")
    with op.batch_alter_table("division", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_division_parent_code"))

    op.drop_table("division")
    op.drop_table("audit_log")
    op.drop_table("app_user")


def _append_only_audit() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$"
        )
        op.execute(
            "CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log "
            "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()"
        )
        op.execute(
            "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()"
        )
        return
    for event in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER audit_log_no_{event.lower()} BEFORE {event} ON audit_log "
            "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
        )


def _drop_append_only_audit() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_change ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
        return
    op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
    op.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
