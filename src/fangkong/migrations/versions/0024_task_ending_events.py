"""tasks: the events that end them (``completes_on``, ``cancels_on``) and an index on their subject

Revision ID: 0024
Revises: 0020
Create Date: 2026-12-07

A task now knows the record it is about and the events of that record that end it; the event
closes it in the same transaction (``fangkong.task.service.on_event``). Existing tasks whose
subject the platform made get their events, and those whose event has already happened are
ended now, with the reason in their history (by ``migration 0024``), so that the supervision
board counts only work still to do:

- ``notify_contact`` (subject: the contact): done if the contact was ever notified or put under
  management, else cancelled if released, a case or lost to follow-up;
- ``transfer_to_quarantine`` (the contact): done if an admission transfer of the person as a
  contact arrived after the task was made, else cancelled as above;
- ``isolation_sampling``: its subject becomes the stay's test (``iso_stay_test``, the task's
  test), which now records when its sample was taken (``sampled_at``, event ``stay.sampled``);
  done if the result is recorded, cancelled if the stay moved before it;
- ``resample`` (the person): completed by the person's single-tube re-test.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from fangkong.core.db import UTCDateTime

revision = "0024"
down_revision = "0022"
branch_labels = None
depends_on = None

BY = "migration 0024"
CONTACT_ENDED = "contact.released contact.became_case contact.lost_to_follow_up"
ENDINGS = [  # type, subject type, completes_on, cancels_on
    ("notify_contact", "contact", "contact.notified contact.under_management", CONTACT_ENDED),
    ("transfer_to_quarantine", "contact", "transfer.arrived", CONTACT_ENDED),
    ("isolation_sampling", "iso_stay_test", "stay.sampled stay.tested", "stay.moved"),
    ("resample", "person", "testing.retested", None),
]
ACTIVE = "('open', 'in_progress')"

task = sa.table("task", sa.column("id", sa.BigInteger()), sa.column("status", sa.String()),
                sa.column("completed_at", UTCDateTime()))
task_event = sa.table("task_event", sa.column("task_id", sa.BigInteger()),
                      sa.column("at", UTCDateTime()), sa.column("by", sa.String()),
                      sa.column("kind", sa.String()), sa.column("detail", sa.Text()))

# (status, reason, the open tasks whose event has already happened)
ENDED_ALREADY = [
    ("done", "contact.notified (already notified or under management)",
     "SELECT t.id FROM task t WHERE t.type = 'notify_contact' AND t.subject_type = 'contact' "
     f"AND t.status IN {ACTIVE} AND EXISTS (SELECT 1 FROM tracing_contact_status h "
     "WHERE h.contact_id = t.subject_id AND h.to_status IN ('notified', 'under_management'))"),
    ("done", "transfer.arrived (the contact's transfer had arrived)",
     "SELECT t.id FROM task t JOIN tracing_contact c ON c.id = t.subject_id "
     "WHERE t.type = 'transfer_to_quarantine' AND t.subject_type = 'contact' "
     f"AND t.status IN {ACTIVE} AND EXISTS (SELECT 1 FROM iso_transfer x "
     "WHERE x.person_id = c.person_id AND x.kind = 'admission' "
     "AND x.passenger_class = 'contact' AND x.status = 'arrived' "
     "AND x.arrived_at >= t.created_at)"),
    ("cancelled", "the contact was already released, a case or lost to follow-up",
     "SELECT t.id FROM task t JOIN tracing_contact c ON c.id = t.subject_id "
     "WHERE t.type IN ('notify_contact', 'transfer_to_quarantine') "
     f"AND t.subject_type = 'contact' AND t.status IN {ACTIVE} "
     "AND c.status IN ('released', 'became_case', 'lost_to_follow_up')"),
    ("done", "stay.tested (the result was already recorded)",
     "SELECT t.id FROM task t JOIN iso_stay_test s ON s.id = t.subject_id "
     "WHERE t.type = 'isolation_sampling' AND t.subject_type = 'iso_stay_test' "
     f"AND t.status IN {ACTIVE} AND s.result <> 'pending'"),
    ("cancelled", "stay.moved (the stay had moved before the test)",
     "SELECT t.id FROM task t JOIN iso_stay_test s ON s.id = t.subject_id "
     "JOIN iso_stay y ON y.id = s.stay_id "
     "WHERE t.type = 'isolation_sampling' AND t.subject_type = 'iso_stay_test' "
     f"AND t.status IN {ACTIVE} AND s.result = 'pending' AND y.status = 'moved'"),
]


def upgrade() -> None:
    op.add_column("task", sa.Column("completes_on", sa.String(300), nullable=True))
    op.add_column("task", sa.Column("cancels_on", sa.String(300), nullable=True))
    op.create_index("ix_task_subject", "task", ["subject_type", "subject_id"])
    op.add_column("iso_stay_test", sa.Column("sampled_at", UTCDateTime(timezone=True),
                                             nullable=True))
    bind = op.get_bind()
    bind.execute(sa.text(
        "UPDATE task SET subject_type = 'iso_stay_test', subject_id = (SELECT s.id FROM "
        "iso_stay_test s WHERE s.task_id = task.id) WHERE type = 'isolation_sampling' AND "
        "EXISTS (SELECT 1 FROM iso_stay_test s WHERE s.task_id = task.id)"))
    for kind, subject, completes, cancels in ENDINGS:
        bind.execute(sa.text(
            "UPDATE task SET completes_on = :completes, cancels_on = :cancels "
            "WHERE type = :kind AND subject_type = :subject AND subject_id IS NOT NULL"),
            {"completes": completes, "cancels": cancels, "kind": kind, "subject": subject})
    now = datetime.now(UTC)
    for status, reason, query in ENDED_ALREADY:
        ids = sorted(bind.scalars(sa.text(query)).all())
        for start in range(0, len(ids), 900):
            chunk = ids[start:start + 900]
            bind.execute(task.update().where(task.c.id.in_(chunk))
                         .values(status=status, completed_at=now))
            bind.execute(task_event.insert(), [
                {"task_id": i, "at": now, "by": BY, "kind": "status",
                 "detail": f"{status}: {reason}"} for i in chunk])


def downgrade() -> None:
    bind = op.get_bind()
    bind.execute(sa.text(
        "UPDATE task SET subject_type = 'iso_stay', subject_id = (SELECT s.stay_id FROM "
        "iso_stay_test s WHERE s.id = task.subject_id) "
        "WHERE type = 'isolation_sampling' AND subject_type = 'iso_stay_test'"))
    op.drop_index("ix_task_subject", table_name="task")
    # ALTER TABLE ... DROP COLUMN on both (SQLite 3.35+): a batch copy of the table would be
    # refused on SQLite, whose task events refer to it (see sqlite_ddl)
    op.drop_column("iso_stay_test", "sampled_at")
    op.drop_column("task", "cancels_on")
    op.drop_column("task", "completes_on")
