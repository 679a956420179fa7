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
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fangkong.core.db import Base, BigId, UTCDateTime
from fangkong.surveillance.enums import (
    AlertStatus,
    CaseSplit,
    DateBasis,
    Indicator,
    Method,
    Period,
    SentinelKind,
    SeriesKind,
)


def _enum(cls: type) -> Enum:
    return Enum(cls, native_enum=False, length=30)


class SentinelUnit(Base):
    """A reporting sentinel (哨点): a fever clinic, primary clinic, pharmacy, school…"""

    __tablename__ = "sentinel_unit"
    __table_args__ = (Index("ix_sentinel_unit_division_code_id", "division_code", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(50), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[SentinelKind] = mapped_column(_enum(SentinelKind))
    division_code: Mapped[str] = mapped_column(ForeignKey("division.code"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SentinelReport(Base):
    """One count of one indicator by one sentinel for one day or week. A correction replaces
    the value; the replaced values are kept in :class:`SentinelRevision`."""

    __tablename__ = "sentinel_report"
    __table_args__ = (
        UniqueConstraint("unit_id", "indicator", "period", "period_start"),
        Index("ix_sentinel_report_indicator_period_start", "indicator", "period_start"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("sentinel_unit.id"))
    division_code: Mapped[str] = mapped_column(ForeignKey("division.code"), index=True)
    indicator: Mapped[Indicator] = mapped_column(_enum(Indicator))
    period: Mapped[Period] = mapped_column(_enum(Period))
    period_start: Mapped[date] = mapped_column(Date)
    value: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer, default=1)
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revisions: Mapped[list[SentinelRevision]] = relationship(
        order_by="SentinelRevision.id", lazy="selectin", cascade="all, delete-orphan")


class SentinelRevision(Base):
    """A correction of a report: the value it replaced, by whom, when and why."""

    __tablename__ = "sentinel_revision"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("sentinel_report.id"), index=True)
    old_value: Mapped[int] = mapped_column(Integer)
    new_value: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    by: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str | None] = mapped_column(Text)


class AlertRule(Base):
    """Which series, which method with which parameters, in which jurisdictions."""

    __tablename__ = "alert_rule"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    series: Mapped[SeriesKind] = mapped_column(_enum(SeriesKind))
    indicator: Mapped[Indicator | None] = mapped_column(_enum(Indicator))
    case_split: Mapped[CaseSplit] = mapped_column(_enum(CaseSplit))
    date_basis: Mapped[DateBasis] = mapped_column(_enum(DateBasis))
    disease: Mapped[str | None] = mapped_column(String(30))
    period: Mapped[Period] = mapped_column(_enum(Period))
    method: Mapped[Method] = mapped_column(_enum(Method))
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    division_codes: Mapped[list[str]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Alert(Base):
    """An alarm of a rule for one division and period, with the evidence that raised it."""

    __tablename__ = "alert"
    __table_args__ = (
        UniqueConstraint("rule_id", "division_code", "period_start"),
        Index("ix_alert_division_code_id", "division_code", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("alert_rule.id"), index=True)
    division_code: Mapped[str] = mapped_column(ForeignKey("division.code"))
    period_start: Mapped[date] = mapped_column(Date)
    observed: Mapped[float] = mapped_column(Float)
    upperbound: Mapped[float] = mapped_column(Float)
    status: Mapped[AlertStatus] = mapped_column(_enum(AlertStatus))
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON)
    task_id: Mapped[int | None] = mapped_column(ForeignKey("task.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    history: Mapped[list[AlertEvent]] = relationship(
        order_by="AlertEvent.id", lazy="selectin", cascade="all, delete-orphan")


class AlertEvent(Base):
    """One step of an alert's history: raised, acknowledged, investigated, dismissed."""

    __tablename__ = "alert_event"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alert.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    by: Mapped[str] = mapped_column(String(100))
    from_status: Mapped[AlertStatus | None] = mapped_column(_enum(AlertStatus))
    to_status: Mapped[AlertStatus] = mapped_column(_enum(AlertStatus))
    note: Mapped[str | None] = mapped_column(Text)
