from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fangkong.core.db import Base, BigId, UTCDateTime
from fangkong.task.enums import TaskStatus


class Task(Base):
    """One unit of work with an owner and a deadline; every domain creates these.

    ``subject_type`` / ``subject_id`` point at the record the task is about (a contact, a
    stay's test, a zone…); ``completes_on`` / ``cancels_on`` name the events (of
    :data:`fangkong.core.events.CATALOGUE`, space-separated) that end it: when one happens to its
    subject the task is done or cancelled in the same transaction, the reason in its history
    (:func:`fangkong.task.service.on_event`). When a task is overdue the scheduled check
    escalates it to the parent jurisdiction, one level per escalation step
    (``escalated_to_code``, ``escalation_level``).
    """

    __tablename__ = "task"
    __table_args__ = (
        Index("ix_task_owning_division_code_id", "owning_division_code", "id"),
        Index("ix_task_status_due_at", "status", "due_at"),
        Index("ix_task_subject", "subject_type", "subject_id"),
        # the dashboard's counts of active, overdue and escalated tasks of a division, and
        # the overdue ones per unit, read from the index alone (migration 0029)
        Index("ix_task_status_division_due", "status", "owning_division_code", "due_at",
              "escalation_level", "unit_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    type: Mapped[str] = mapped_column(String(50))
    title: Mapped[str] = mapped_column(String(300))
    title_key: Mapped[str | None] = mapped_column(String(50))
    """A generated task's message (``fangkong.task.titles``): shown in the reader's language;
    ``title`` holds its English text. None: a title a person typed."""
    title_params: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    subject_type: Mapped[str | None] = mapped_column(String(50))
    subject_id: Mapped[int | None] = mapped_column(BigId)
    completes_on: Mapped[str | None] = mapped_column(String(300))
    cancels_on: Mapped[str | None] = mapped_column(String(300))
    owning_division_code: Mapped[str] = mapped_column(ForeignKey("division.code"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), index=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[TaskStatus] = mapped_column(Enum(TaskStatus, native_enum=False, length=20))
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    escalated_to_code: Mapped[str | None] = mapped_column(ForeignKey("division.code"))
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(Text)
    # The policy pack whose rule made the task (None: made by hand).
    pack_id: Mapped[str | None] = mapped_column(String(50))
    pack_version: Mapped[str | None] = mapped_column(String(20))
    events: Mapped[list[TaskEvent]] = relationship(
        order_by="TaskEvent.id", lazy="selectin", cascade="all, delete-orphan"
    )


class TaskEvent(Base):
    """What happened to a task: created, assigned, status changed (by hand, or by an event of
    its subject: the event and its reason in ``detail``), escalated."""

    __tablename__ = "task_event"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    by: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(30))
    detail: Mapped[str | None] = mapped_column(Text)
