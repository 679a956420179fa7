"""stays: a visitor's stay requested by another district waits for the home district

Revision ID: 0025
Revises: 0020
Create Date: 2026-12-07

``person_stay.status``: ``accepted`` (every stay so far; counted in rounds' targets),
``requested`` (registered by a district that is not the person's home: out of every target
until the home district confirms it) or ``declined``; ``person_stay.task_id``: the home
district's task to confirm it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("person_stay") as batch:
        batch.add_column(sa.Column("status", sa.String(16), nullable=False,
                                   server_default="accepted"))
        batch.add_column(sa.Column("task_id", sa.BigInteger().with_variant(
            sa.Integer(), "sqlite"), nullable=True))
        batch.create_foreign_key(op.f("fk_person_stay_task_id_task"), "task", ["task_id"],
                                 ["id"])


def downgrade() -> None:
    with op.batch_alter_table("person_stay") as batch:
        batch.drop_constraint(op.f("fk_person_stay_task_id_task"), type_="foreignkey")
        batch.drop_column("task_id")
        batch.drop_column("status")
