"""tasks: the notify tasks of contacts whose role the pack does not manage end

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-07

A contact whose role the policy pack declares but does not manage (its plan says ``managed``
false: cn_v9's venue contacts, 涉疫场所暴露人员) was given a ``notify_contact`` task like any
other contact. Nothing is required for it, and the drill, like a tracer, never moves such a
contact on, so no event ever ended the task: after ``fangkong demo`` thousands of them stayed
open and overdue on the supervision board. Such a contact now gets no task
(``fangkong.tracing.episodes``); the open tasks already made for one are cancelled here, the
reason in their history (by ``migration 0031``). Nothing else changes: the downgrade leaves them
cancelled.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from fangkong.core.db import UTCDateTime

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None

BY = "migration 0031"
REASON = "cancelled: the contact's role is not managed under its pack (nothing to notify)"

task = sa.table("task", sa.column("id", sa.BigInteger()), sa.column("type", sa.String()),
                sa.column("status", sa.String()), sa.column("subject_type", sa.String()),
                sa.column("subject_id", sa.BigInteger()),
                sa.column("completed_at", UTCDateTime()))
task_event = sa.table("task_event", sa.column("task_id", sa.BigInteger()),
                      sa.column("at", UTCDateTime()), sa.column("by", sa.String()),
                      sa.column("kind", sa.String()), sa.column("detail", sa.Text()))
contact = sa.table("tracing_contact", sa.column("id", sa.BigInteger()),
                   sa.column("plan", sa.JSON()))


def upgrade() -> None:
    bind = op.get_bind()
    found = bind.execute(
        sa.select(task.c.id, contact.c.plan)
        .join(contact, contact.c.id == task.c.subject_id)
        .where(task.c.type == "notify_contact", task.c.subject_type == "contact",
               task.c.status.in_(("open", "in_progress")))).all()
    ids = sorted(i for i, plan in found if isinstance(plan, dict)
                 and plan.get("managed") is False)
    now = datetime.now(UTC)
    for start in range(0, len(ids), 900):
        chunk = ids[start:start + 900]
        bind.execute(task.update().where(task.c.id.in_(chunk))
                     .values(status="cancelled", completed_at=now))
        bind.execute(task_event.insert(), [
            {"task_id": i, "at": now, "by": BY, "kind": "status", "detail": REASON}
            for i in chunk])


def downgrade() -> None:
    """The tasks stay cancelled: nothing was required of them."""
