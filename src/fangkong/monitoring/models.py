"""Monitoring periods, their daily reports (immutable) and the days missed."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from fangkong.core.db import Base, BigId, UTCDateTime
from fangkong.monitoring.enums import Channel, PeriodStatus


def _enum(cls: type) -> Enum:
    return Enum(cls, native_enum=False, length=30)


class MonitoringPeriod(Base):
    """The days a person reports from home, with the questions and thresholds of the pack
    that planned them (kept as they were when the period began)."""

    __tablename__ = "monitoring_period"
    __table_args__ = (
        Index("ix_monitoring_period_division_code_id", "division_code", "id"),
        Index("ix_monitoring_period_status_end", "status", "end"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("tracing_contact.id"), unique=True)
    division_code: Mapped[str] = mapped_column(ForeignKey("division.code"))
    pack_id: Mapped[str] = mapped_column(String(50))
    pack_version: Mapped[str] = mapped_column(String(20))
    rules_version: Mapped[str] = mapped_column(String(10))
    phases: Mapped[str] = mapped_column(String(100))
    start: Mapped[date] = mapped_column(Date)
    end: Mapped[date] = mapped_column(Date)
    questions: Mapped[list[str]] = mapped_column(JSON)
    symptoms: Mapped[list[str]] = mapped_column(JSON)
    alert_symptoms: Mapped[list[str]] = mapped_column(JSON)
    fever_c: Mapped[float] = mapped_column(Float)
    deadline_hour: Mapped[int] = mapped_column(Integer)
    escalate_after_missed: Mapped[int] = mapped_column(Integer)
    rules: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[PeriodStatus] = mapped_column(_enum(PeriodStatus))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_reason: Mapped[str | None] = mapped_column(String(100))


class MonitoringReport(Base):
    """One day's report: never changed (a second report of the day is refused)."""

    __tablename__ = "monitoring_report"
    __table_args__ = (UniqueConstraint("period_id", "day", name="uq_monitoring_report_day"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("monitoring_period.id"))
    day: Mapped[date] = mapped_column(Date)
    temperature: Mapped[float | None] = mapped_column(Float)
    symptoms: Mapped[list[str]] = mapped_column(JSON)
    tested: Mapped[bool | None] = mapped_column(Boolean)
    channel: Mapped[Channel] = mapped_column(_enum(Channel))
    entered_by: Mapped[str] = mapped_column(String(100))
    flagged: Mapped[bool] = mapped_column(Boolean)
    task_ids: Mapped[list[int]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class MonitoringMiss(Base):
    """A day with no report by its deadline: the follow-up task it made, and whether it
    escalated (the last of ``escalate_after_missed`` days missed in a row)."""

    __tablename__ = "monitoring_miss"
    __table_args__ = (UniqueConstraint("period_id", "day", name="uq_monitoring_miss_day"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("monitoring_period.id"))
    day: Mapped[date] = mapped_column(Date)
    task_id: Mapped[int | None] = mapped_column(BigId)
    escalation_task_id: Mapped[int | None] = mapped_column(BigId)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
