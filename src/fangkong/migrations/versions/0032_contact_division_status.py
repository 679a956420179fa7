"""tracing: contacts indexed by (division, status), for the dashboard's counts per status

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-07

The contacts section of the overview and the brief counts a jurisdiction's contact episodes per
status (``fangkong.tracing.service.summary``). With only (division_code, id) indexed, that read
each contact row of the city or province for its status; with (division_code, status) the count
is answered from the index alone.
"""

from __future__ import annotations

from alembic import op

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_tracing_contact_division_code_status", "tracing_contact",
                    ["division_code", "status"])


def downgrade() -> None:
    op.drop_index("ix_tracing_contact_division_code_status", table_name="tracing_contact")
