from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Enum, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fangkong.case.enums import Basis, Classification, DetectionMode, Severity
from fangkong.core.db import Base, BigId, UTCDateTime


def _enum(cls: type) -> Enum:
    return Enum(cls, native_enum=False, length=30)


class Case(Base):
    """A case episode: one person, one disease, with its classification history."""

    __tablename__ = "case_episode"
    __table_args__ = (
        Index("ix_case_episode_owning_division_code_id", "owning_division_code", "id"),
        Index("ix_case_episode_current_division_code_id", "current_division_code", "id"),
        # The dashboard's, the brief's and the tracing indicators' day and window counts
        # (migration 0008; 0012 added the classification and the person, so that counting
        # reads the index alone).
        Index("ix_case_episode_reported_at_classification_person_id", "reported_at",
              "classification", "person_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ref: Mapped[str] = mapped_column(String(64), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    disease: Mapped[str] = mapped_column(String(30))
    classification: Mapped[Classification] = mapped_column(_enum(Classification))
    severity: Mapped[Severity | None] = mapped_column(_enum(Severity))
    onset_date: Mapped[date | None] = mapped_column(Date)
    first_positive_sample_date: Mapped[date | None] = mapped_column(Date)
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime)
    detection_mode: Mapped[DetectionMode] = mapped_column(_enum(DetectionMode))
    owning_division_code: Mapped[str] = mapped_column(ForeignKey("division.code"))
    current_division_code: Mapped[str] = mapped_column(ForeignKey("division.code"))
    row_hash: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    history: Mapped[list[ClassificationChange]] = relationship(
        order_by="ClassificationChange.id", lazy="selectin", cascade="all, delete-orphan"
    )


class ClassificationChange(Base):
    """One step of a case's classification history: from, to, when, who, on what basis."""

    __tablename__ = "case_classification_change"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_episode.id"), index=True)
    from_classification: Mapped[Classification | None] = mapped_column(_enum(Classification))
    from_severity: Mapped[Severity | None] = mapped_column(_enum(Severity))
    to_classification: Mapped[Classification] = mapped_column(_enum(Classification))
    to_severity: Mapped[Severity | None] = mapped_column(_enum(Severity))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    by: Mapped[str] = mapped_column(String(100))
    basis: Mapped[Basis] = mapped_column(_enum(Basis))
    note: Mapped[str | None] = mapped_column(Text)
