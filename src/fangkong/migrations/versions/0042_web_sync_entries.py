"""web: entries made offline and applied by the sync endpoint, kept by their device-made id

Revision ID: 0042
Revises: 0037
Create Date: 2026-12-07

A community worker's entries made without a network (a contact notified or not reached, a
sampling task done) are sent when the network returns, and may be sent again when an answer was
lost on the way. ``web_sync_entry`` holds the id the device gave each applied entry, so that a
resend is answered "already applied" and never applies the entry twice. The version of the
record an entry was made against is the form's version token (a hash of the record's state),
compared when the entry arrives: no column of the records themselves changes.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from fangkong.core.db import UTCDateTime

revision = "0042"
down_revision = "0039"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "web_sync_entry",
        sa.Column("entry_id", sa.String(36), nullable=False),
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("target_id", _ID, nullable=False),
        sa.Column("made_at", UTCDateTime(), nullable=True),
        sa.Column("applied_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"],
                                name="fk_web_sync_entry_user_id_app_user"),
        sa.PrimaryKeyConstraint("entry_id", name="pk_web_sync_entry"),
    )
    op.create_index("ix_web_sync_entry_user_id", "web_sync_entry", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_web_sync_entry_user_id", table_name="web_sync_entry")
    op.drop_table("web_sync_entry")
