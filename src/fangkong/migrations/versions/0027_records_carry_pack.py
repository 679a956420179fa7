"""tracing, tasks: an exposure and a rule's task carry the policy pack they were made under

Revision ID: 0027
Revises: 0025
Create Date: 2026-12-07

``tracing_exposure.pack_id`` / ``pack_version`` (NOT NULL): the pack of the work that found the
exposure (a testing round's, a drill's, the active pack for a case reported by hand); its
contact episode follows that pack's rules. ``task.pack_id`` / ``pack_version`` (NULL for a task
made by hand): the pack whose rule made the task. Rounds, zones, contact episodes and stays
carried their pack already.

Backfill, at migration time: an exposure that has a contact episode takes the episode's pack;
any other exposure takes the deployment's active pack (setting ``active_policy_pack``) with
that pack's version on disk when the migration runs (the pack it was proposed under was not
stored, and the active one is what the code applied). A task whose subject is a contact takes
the contact's pack; other existing tasks stay NULL (which of them a rule made was not stored).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    from fangkong.policy import service as policy

    active = policy.pin()
    with op.batch_alter_table("tracing_exposure") as batch:
        batch.add_column(sa.Column("pack_id", sa.String(length=50), nullable=True))
        batch.add_column(sa.Column("pack_version", sa.String(length=20), nullable=True))
    # ALTER TABLE ... ADD/DROP COLUMN on both: a batch copy of the task table would be refused
    # on SQLite, whose task events and stays refer to it (see sqlite_ddl); nothing refers to
    # tracing_exposure, which the batch copies to make its columns NOT NULL
    op.add_column("task", sa.Column("pack_id", sa.String(length=50), nullable=True))
    op.add_column("task", sa.Column("pack_version", sa.String(length=20), nullable=True))
    op.execute("""
        UPDATE tracing_exposure SET
          pack_id = (SELECT c.pack FROM tracing_contact c WHERE c.id = tracing_exposure.contact_id),
          pack_version = (SELECT c.pack_version FROM tracing_contact c
                          WHERE c.id = tracing_exposure.contact_id)
        WHERE contact_id IS NOT NULL""")
    op.get_bind().execute(sa.text(
        "UPDATE tracing_exposure SET pack_id = :id, pack_version = :version "
        "WHERE pack_id IS NULL"), {"id": active.id, "version": active.version})
    op.execute("""
        UPDATE task SET
          pack_id = (SELECT c.pack FROM tracing_contact c WHERE c.id = task.subject_id),
          pack_version = (SELECT c.pack_version FROM tracing_contact c
                          WHERE c.id = task.subject_id)
        WHERE subject_type = 'contact'""")
    with op.batch_alter_table("tracing_exposure") as batch:
        batch.alter_column("pack_id", existing_type=sa.String(length=50), nullable=False)
        batch.alter_column("pack_version", existing_type=sa.String(length=20), nullable=False)


def downgrade() -> None:
    op.drop_column("task", "pack_version")
    op.drop_column("task", "pack_id")
    with op.batch_alter_table("tracing_exposure") as batch:
        batch.drop_column("pack_version")
        batch.drop_column("pack_id")
