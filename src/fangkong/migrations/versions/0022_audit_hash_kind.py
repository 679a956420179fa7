"""audit_log: which hash an entry carries (plain SHA-256 before this revision, HMAC-SHA256
under the audit key after it)

Revision ID: 0022
Revises: 0020
Create Date: 2026-12-07

Existing entries keep their plain SHA-256 hashes and get ``hash_kind`` 0; ``fangkong.core.audit``
writes 1 (keyed) from now on and accepts plain entries only as the chain's prefix (see its
docstring). A plain ADD COLUMN with a constant default: no table copy on SQLite (so the
append-only triggers stay) and no rewrite on PostgreSQL.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("audit_log", sa.Column("hash_kind", sa.SmallInteger(), nullable=False,
                                         server_default=sa.text("0")))


def downgrade() -> None:
    # Native DROP COLUMN on both (SQLite 3.35+): a batch copy would lose the triggers. Keyed
    # entries no longer verify under the older code after this.
    op.execute("ALTER TABLE audit_log DROP COLUMN hash_kind")
