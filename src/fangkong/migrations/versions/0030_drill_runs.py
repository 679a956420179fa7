"""drill runs are tagged: each run a row, the records it made listed with its id

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-07

A drill's records were recognised by their names (case and site codes, ``drill `` site names,
``(drill ...)`` zone names): renaming them (in the deployment's language) made a second run
leave the first one's sites in service. ``drill_run`` holds each run; ``drill_record`` the
records it made (by table and id), so that a run can be listed and removed whole. Drills run
before this revision are not listed (they can be removed by hand, as before).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from fangkong.core.db import UTCDateTime

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "drill_run",
        sa.Column("id", _ID, nullable=False),
        sa.Column("key", sa.String(40), nullable=False),
        sa.Column("strategy", sa.String(64), nullable=False),
        sa.Column("pack", sa.String(64), nullable=False),
        sa.Column("city", sa.String(12), nullable=False),
        sa.Column("agents", sa.Integer(), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("started_by", sa.String(100), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_drill_run"),
        sa.UniqueConstraint("key", name="uq_drill_run_key"),
    )
    op.create_table(
        "drill_record",
        sa.Column("run_id", _ID, nullable=False),
        sa.Column("record_type", sa.String(50), nullable=False),
        sa.Column("record_id", _ID, nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["drill_run.id"],
                                name="fk_drill_record_run_id_drill_run"),
        sa.PrimaryKeyConstraint("run_id", "record_type", "record_id", name="pk_drill_record"),
    )
    op.create_index("ix_drill_record_record", "drill_record", ["record_type", "record_id"])


def downgrade() -> None:
    op.drop_index("ix_drill_record_record", table_name="drill_record")
    op.drop_table("drill_record")
    op.drop_table("drill_run")
