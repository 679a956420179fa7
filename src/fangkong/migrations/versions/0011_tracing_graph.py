"""tracing graph: the maintained transmission graph (links, cluster membership, cluster
aggregates, a built marker); when each contact's status last changed; indexes for the
indicators

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01

The graph tables start empty and without the built marker: the first use builds them from the
exposures and contact episodes (``fangkong.tracing.graph.rebuild``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import fangkong.core.db

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "tracing_link",
        sa.Column("source_case_id", BIG, nullable=False),
        sa.Column("target_case_id", BIG, nullable=False),
        sa.Column("link_date", sa.Date(), nullable=False),
        sa.Column("setting", sa.String(length=30), nullable=False),
        sa.ForeignKeyConstraint(["source_case_id"], ["case_episode.id"],
                                name=op.f("fk_tracing_link_source_case_id_case_episode")),
        sa.ForeignKeyConstraint(["target_case_id"], ["case_episode.id"],
                                name=op.f("fk_tracing_link_target_case_id_case_episode")),
        sa.PrimaryKeyConstraint("source_case_id", "target_case_id", name=op.f("pk_tracing_link")),
    )
    op.create_index(op.f("ix_tracing_link_target_case_id"), "tracing_link", ["target_case_id"])
    op.create_table(
        "tracing_cluster_member",
        sa.Column("case_id", BIG, nullable=False),
        sa.Column("cluster_id", BIG, nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case_episode.id"],
                                name=op.f("fk_tracing_cluster_member_case_id_case_episode")),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_tracing_cluster_member")),
    )
    op.create_index(op.f("ix_tracing_cluster_member_cluster_id"), "tracing_cluster_member",
                    ["cluster_id"])
    op.create_table(
        "tracing_cluster",
        sa.Column("cluster_id", BIG, autoincrement=False, nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("first_date", sa.Date(), nullable=False),
        sa.Column("last_date", sa.Date(), nullable=False),
        sa.Column("span_days", sa.Integer(), nullable=False),
        sa.Column("generations", sa.Integer(), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("updated_at", fangkong.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("cluster_id", name=op.f("pk_tracing_cluster")),
    )
    op.create_table(
        "tracing_graph_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("built_at", fangkong.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracing_graph_state")),
    )
    with op.batch_alter_table("tracing_contact") as batch:
        batch.add_column(sa.Column("status_changed_at",
                                   fangkong.core.db.UTCDateTime(timezone=True), nullable=True))
    op.execute("UPDATE tracing_contact SET status_changed_at = COALESCE("
               "(SELECT MAX(s.at) FROM tracing_contact_status AS s "
               "WHERE s.contact_id = tracing_contact.id), identified_at)")
    with op.batch_alter_table("tracing_contact") as batch:
        batch.alter_column("status_changed_at", nullable=False,
                           existing_type=fangkong.core.db.UTCDateTime(timezone=True))
    op.create_index("ix_tracing_contact_status_status_changed_at", "tracing_contact",
                    ["status", "status_changed_at"])
    op.create_index("ix_tracing_contact_person_id_identified_at", "tracing_contact",
                    ["person_id", "identified_at"])


def downgrade() -> None:
    op.drop_index("ix_tracing_contact_person_id_identified_at", table_name="tracing_contact")
    op.drop_index("ix_tracing_contact_status_status_changed_at", table_name="tracing_contact")
    with op.batch_alter_table("tracing_contact") as batch:
        batch.drop_column("status_changed_at")
    op.drop_table("tracing_graph_state")
    op.drop_table("tracing_cluster")
    op.drop_index(op.f("ix_tracing_cluster_member_cluster_id"),
                  table_name="tracing_cluster_member")
    op.drop_table("tracing_cluster_member")
    op.drop_index(op.f("ix_tracing_link_target_case_id"), table_name="tracing_link")
    op.drop_table("tracing_link")
