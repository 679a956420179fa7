"""sign-in sessions kept on the server, and failed sign-ins counted for lockout

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07

Every token issued (API bearer or page cookie) now names a row of ``user_session`` by its
``jti``; logging out, disabling the user or changing the password revokes it. Tokens issued
before this revision carry no ``jti`` and are refused: everyone signs in again once.
``login_throttle`` counts failed sign-ins per username and per client address.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from fangkong.core.db import UTCDateTime

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "user_session",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.Column("revoked_why", sa.String(20), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"],
                                name="fk_user_session_user_id_app_user"),
        sa.PrimaryKeyConstraint("id", name="pk_user_session"),
    )
    op.create_index("ix_user_session_user_id", "user_session", ["user_id"])
    op.create_table(
        "login_throttle",
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", UTCDateTime(), nullable=False),
        sa.Column("locked_until", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("kind", "key", name="pk_login_throttle"),
    )


def downgrade() -> None:
    op.drop_table("login_throttle")
    op.drop_index("ix_user_session_user_id", table_name="user_session")
    op.drop_table("user_session")
