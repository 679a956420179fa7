"""isolation: sites, rooms, stays, room nights, stay tests, vehicles, transfers

Revision ID: 0005
Revises: 0004

``iso_room_night`` has one row per bed (slot) of a room per night, unique on (room, night,
slot): the database itself refuses a double booking.
Create Date: 2026-12-01 03:29:19.081419
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import fangkong.core.db

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "iso_site",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "type",
            sa.Enum(
                "quarantine_hotel",
                "health_station",
                "shelter_hospital",
                "designated_hospital",
                "sub_designated_hospital",
                "home",
                name="sitetype",
                native_enum=False,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "active", "standby", "closed", name="sitestatus", native_enum=False, length=30
            ),
            nullable=False,
        ),
        sa.Column("division_code", sa.String(length=12), nullable=False),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column(
            "medical_level",
            sa.Enum(
                "none",
                "basic",
                "general",
                "icu",
                name="medicallevel",
                native_enum=False,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column("staff", sa.Integer(), nullable=False),
        sa.Column("created_at", fangkong.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["division_code"], ["division.code"], name=op.f("fk_iso_site_division_code_division")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_iso_site")),
        sa.UniqueConstraint("code", name=op.f("uq_iso_site_code")),
    )
    with op.batch_alter_table("iso_site", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_iso_site_division_code"), ["division_code"], unique=False
        )

    op.create_table(
        "iso_vehicle",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "bus",
                "ambulance",
                "negative_pressure_ambulance",
                name="vehiclekind",
                native_enum=False,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("division_code", sa.String(length=12), nullable=False),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("in_service", sa.Boolean(), nullable=False),
        sa.Column("created_at", fangkong.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["division_code"],
            ["division.code"],
            name=op.f("fk_iso_vehicle_division_code_division"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_iso_vehicle")),
        sa.UniqueConstraint("code", name=op.f("uq_iso_vehicle_code")),
    )
    with op.batch_alter_table("iso_vehicle", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_iso_vehicle_division_code"), ["division_code"], unique=False
        )

    op.create_table(
        "iso_room",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("site_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("label", sa.String(length=30), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("family", sa.Boolean(), nullable=False),
        sa.Column("accessible", sa.Boolean(), nullable=False),
        sa.Column("negative_pressure", sa.Boolean(), nullable=False),
        sa.Column(
            "bed_level",
            sa.Enum(
                "none",
                "basic",
                "general",
                "icu",
                name="medicallevel",
                native_enum=False,
                length=30,
            ),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["iso_site.id"], name=op.f("fk_iso_room_site_id_iso_site")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_iso_room")),
        sa.UniqueConstraint("site_id", "label", name=op.f("uq_iso_room_site_id")),
    )
    with op.batch_alter_table("iso_room", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_iso_room_site_id"), ["site_id"], unique=False)

    op.create_table(
        "iso_stay",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "person_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("site_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("room_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column(
            "kind",
            sa.Enum(
                "quarantine",
                "isolation",
                "treatment",
                "home_health_monitoring",
                name="staykind",
                native_enum=False,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "active", "released", "moved", name="staystatus", native_enum=False, length=30
            ),
            nullable=False,
        ),
        sa.Column("role", sa.String(length=40), nullable=True),
        sa.Column("household_ref", sa.String(length=64), nullable=True),
        sa.Column("division_code", sa.String(length=12), nullable=False),
        sa.Column("anchor", sa.Date(), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("planned_end", sa.Date(), nullable=False),
        sa.Column("actual_end", sa.Date(), nullable=True),
        sa.Column("order_ref", sa.String(length=100), nullable=True),
        sa.Column("pack", sa.String(length=40), nullable=True),
        sa.Column("pack_version", sa.String(length=20), nullable=True),
        sa.Column(
            "previous_stay_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", fangkong.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("released_at", fangkong.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["division_code"], ["division.code"], name=op.f("fk_iso_stay_division_code_division")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_iso_stay_person_id_person")
        ),
        sa.ForeignKeyConstraint(
            ["previous_stay_id"],
            ["iso_stay.id"],
            name=op.f("fk_iso_stay_previous_stay_id_iso_stay"),
        ),
        sa.ForeignKeyConstraint(
            ["room_id"], ["iso_room.id"], name=op.f("fk_iso_stay_room_id_iso_room")
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["iso_site.id"], name=op.f("fk_iso_stay_site_id_iso_site")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_iso_stay")),
    )
    with op.batch_alter_table("iso_stay", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_iso_stay_division_code"), ["division_code"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_iso_stay_person_id"), ["person_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_iso_stay_room_id"), ["room_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_iso_stay_site_id"), ["site_id"], unique=False)

    op.create_table(
        "iso_room_night",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("room_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("night", sa.Date(), nullable=False),
        sa.Column("slot", sa.Integer(), nullable=False),
        sa.Column("stay_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("household_ref", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["room_id"], ["iso_room.id"], name=op.f("fk_iso_room_night_room_id_iso_room")
        ),
        sa.ForeignKeyConstraint(
            ["stay_id"], ["iso_stay.id"], name=op.f("fk_iso_room_night_stay_id_iso_stay")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_iso_room_night")),
        sa.UniqueConstraint("room_id", "night", "slot", name=op.f("uq_iso_room_night_room_id")),
    )
    with op.batch_alter_table("iso_room_night", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_iso_room_night_stay_id"), ["stay_id"], unique=False)

    op.create_table(
        "iso_stay_test",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("stay_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("test_date", sa.Date(), nullable=False),
        sa.Column("task_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column(
            "result",
            sa.Enum(
                "pending",
                "negative",
                "positive",
                name="sampleresult",
                native_enum=False,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column("recorded_at", fangkong.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["stay_id"], ["iso_stay.id"], name=op.f("fk_iso_stay_test_stay_id_iso_stay")
        ),
        sa.ForeignKeyConstraint(
            ["task_id"], ["task.id"], name=op.f("fk_iso_stay_test_task_id_task")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_iso_stay_test")),
        sa.UniqueConstraint("stay_id", "test_date", name=op.f("uq_iso_stay_test_stay_id")),
    )
    op.create_table(
        "iso_transfer",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "person_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("stay_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column(
            "kind",
            sa.Enum(
                "admission",
                "return_home",
                "inter_facility",
                name="transferkind",
                native_enum=False,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "planned",
                "dispatched",
                "arrived",
                "cancelled",
                name="transferstatus",
                native_enum=False,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column(
            "from_site_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "to_site_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("division_code", sa.String(length=12), nullable=False),
        sa.Column(
            "passenger_class",
            sa.Enum("case", "contact", name="passengerclass", native_enum=False, length=30),
            nullable=False,
        ),
        sa.Column("clock_start", fangkong.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "vehicle_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("batch_ref", sa.String(length=64), nullable=True),
        sa.Column("planned_on", sa.Date(), nullable=False),
        sa.Column("dispatched_at", fangkong.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("arrived_at", fangkong.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", fangkong.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["division_code"],
            ["division.code"],
            name=op.f("fk_iso_transfer_division_code_division"),
        ),
        sa.ForeignKeyConstraint(
            ["from_site_id"], ["iso_site.id"], name=op.f("fk_iso_transfer_from_site_id_iso_site")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_iso_transfer_person_id_person")
        ),
        sa.ForeignKeyConstraint(
            ["stay_id"], ["iso_stay.id"], name=op.f("fk_iso_transfer_stay_id_iso_stay")
        ),
        sa.ForeignKeyConstraint(
            ["to_site_id"], ["iso_site.id"], name=op.f("fk_iso_transfer_to_site_id_iso_site")
        ),
        sa.ForeignKeyConstraint(
            ["vehicle_id"], ["iso_vehicle.id"], name=op.f("fk_iso_transfer_vehicle_id_iso_vehicle")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_iso_transfer")),
    )
    with op.batch_alter_table("iso_transfer", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_iso_transfer_division_code"), ["division_code"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_iso_transfer_person_id"), ["person_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_iso_transfer_stay_id"), ["stay_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_iso_transfer_vehicle_id"), ["vehicle_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("iso_transfer", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_iso_transfer_vehicle_id"))
        batch_op.drop_index(batch_op.f("ix_iso_transfer_stay_id"))
        batch_op.drop_index(batch_op.f("ix_iso_transfer_person_id"))
        batch_op.drop_index(batch_op.f("ix_iso_transfer_division_code"))

    op.drop_table("iso_transfer")
    op.drop_table("iso_stay_test")
    with op.batch_alter_table("iso_room_night", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_iso_room_night_stay_id"))

    op.drop_table("iso_room_night")
    with op.batch_alter_table("iso_stay", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_iso_stay_site_id"))
        batch_op.drop_index(batch_op.f("ix_iso_stay_room_id"))
        batch_op.drop_index(batch_op.f("ix_iso_stay_person_id"))
        batch_op.drop_index(batch_op.f("ix_iso_stay_division_code"))

    op.drop_table("iso_stay")
    with op.batch_alter_table("iso_room", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_iso_room_site_id"))

    op.drop_table("iso_room")
    with op.batch_alter_table("iso_vehicle", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_iso_vehicle_division_code"))

    op.drop_table("iso_vehicle")
    with op.batch_alter_table("iso_site", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_iso_site_division_code"))

    op.drop_table("iso_site")
