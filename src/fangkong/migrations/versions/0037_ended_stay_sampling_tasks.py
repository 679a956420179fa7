"""tasks: a stay's sampling tasks also end when the stay is ended early

Revision ID: 0037
Revises: 0032
Create Date: 2026-12-07

When a drill starts in a database that holds an earlier drill, the earlier drill's active stays
are ended without the release checks (``fangkong.isolation.release.end_stays``). Their tests
still to take became moot, but their ``isolation_sampling`` tasks waited only for the sample,
the result or a move (``stay.moved``): they stayed open and overdue on the supervision board
for ever. Those tasks now also end on ``stay.ended``; here every sampling task learns that
event, and the open ones whose stay is no longer active and whose test is still pending are
cancelled, the reason in their history (by ``migration 0037``). The downgrade forgets the
event and leaves the cancelled tasks cancelled.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from fangkong.core.db import UTCDateTime

revision = "0037"
down_revision = "0032"
branch_labels = None
depends_on = None

BY = "migration 0037"
REASON = "cancelled: stay.ended (the stay had ended before the test was taken)"

task = sa.table("task", sa.column("id", sa.BigInteger()), sa.column("type", sa.String()),
                sa.column("status", sa.String()), sa.column("subject_type", sa.String()),
                sa.column("subject_id", sa.BigInteger()), sa.column("cancels_on", sa.String()),
                sa.column("completed_at", UTCDateTime()))
task_event = sa.table("task_event", sa.column("task_id", sa.BigInteger()),
                      sa.column("at", UTCDateTime()), sa.column("by", sa.String()),
                      sa.column("kind", sa.String()), sa.column("detail", sa.Text()))
stay = sa.table("iso_stay", sa.column("id", sa.BigInteger()), sa.column("status", sa.String()))
stay_test = sa.table("iso_stay_test", sa.column("id", sa.BigInteger()),
                     sa.column("stay_id", sa.BigInteger()), sa.column("result", sa.String()))


def upgrade() -> None:
    bind = op.get_bind()
    bind.execute(task.update().where(task.c.type == "isolation_sampling",
                                     task.c.cancels_on == "stay.moved")
                 .values(cancels_on="stay.moved stay.ended"))
    ids = sorted(bind.execute(
        sa.select(task.c.id)
        .join(stay_test, stay_test.c.id == task.c.subject_id)
        .join(stay, stay.c.id == stay_test.c.stay_id)
        .where(task.c.type == "isolation_sampling", task.c.subject_type == "iso_stay_test",
               task.c.status.in_(("open", "in_progress")), stay.c.status != "active",
               stay_test.c.result == "pending")).scalars())
    now = datetime.now(UTC)
    for start in range(0, len(ids), 900):
        chunk = ids[start:start + 900]
        bind.execute(task.update().where(task.c.id.in_(chunk))
                     .values(status="cancelled", completed_at=now))
        bind.execute(task_event.insert(), [
            {"task_id": i, "at": now, "by": BY, "kind": "status", "detail": REASON}
            for i in chunk])


def downgrade() -> None:
    """The event is forgotten; the cancelled tasks stay cancelled (their stay is over)."""
    op.get_bind().execute(task.update().where(task.c.type == "isolation_sampling",
                                              task.c.cancels_on == "stay.moved stay.ended")
                          .values(cancels_on="stay.moved"))
