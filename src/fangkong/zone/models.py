from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Enum, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fangkong.core.db import Base, BigId, UTCDateTime
from fangkong.zone.enums import EventKind, ProposalStatus, ZoneStatus


def _enum(cls: type) -> Enum:
    return Enum(cls, native_enum=False, length=30)


class Zone(Base):
    """A risk area (风险区 / 三区): its level in the pack's vocabulary, what it is made of, the
    infections behind it, and the clock its lifting runs on (``last_infection_date`` = day 0)."""

    __tablename__ = "zone"
    __table_args__ = (Index("ix_zone_owning_division_code_id", "owning_division_code", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(20))
    status: Mapped[ZoneStatus] = mapped_column(_enum(ZoneStatus), index=True)
    pack_id: Mapped[str] = mapped_column(String(50))
    pack_version: Mapped[str] = mapped_column(String(30))
    owning_division_code: Mapped[str] = mapped_column(ForeignKey("division.code"))
    polygon: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    population: Mapped[int | None] = mapped_column(Integer)
    last_infection_date: Mapped[date] = mapped_column(Date)
    designated_on: Mapped[date] = mapped_column(Date)
    lifted_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    members: Mapped[list[ZoneMember]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="ZoneMember.id")
    events: Mapped[list[ZoneEvent]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="ZoneEvent.id")
    rounds: Mapped[list[ZoneRound]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="ZoneRound.round_date")


class ZoneMember(Base):
    """One piece of a zone: a division (down to village/community), optionally narrowed to
    buildings or units within it (``detail``, e.g. "3栋2单元")."""

    __tablename__ = "zone_member"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("zone.id"), index=True)
    division_code: Mapped[str] = mapped_column(ForeignKey("division.code"), index=True)
    detail: Mapped[str | None] = mapped_column(String(300))


class ZoneEvent(Base):
    """The zone's history: designation, level changes, lifting, infections, rounds, proposals,
    each with who, when, why and on what basis (manual or the pack's rule)."""

    __tablename__ = "zone_event"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("zone.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    on_date: Mapped[date] = mapped_column(Date)
    by: Mapped[str] = mapped_column(String(100))
    kind: Mapped[EventKind] = mapped_column(_enum(EventKind))
    from_level: Mapped[str | None] = mapped_column(String(20))
    to_level: Mapped[str | None] = mapped_column(String(20))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case_episode.id"))
    basis: Mapped[str] = mapped_column(String(10), default="manual")
    reason: Mapped[str | None] = mapped_column(Text)
    condition: Mapped[str | None] = mapped_column(String(60))


class ZoneRound(Base):
    """An area-wide testing round over the zone and whether everyone tested negative (until
    the testing module records rounds itself, an officer records the outcome here)."""

    __tablename__ = "zone_round"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("zone.id"), index=True)
    round_date: Mapped[date] = mapped_column(Date)
    all_negative: Mapped[bool] = mapped_column(Boolean)


class ZoneProposal(Base):
    """A change the daily evaluation found due under the pack, waiting for a commander."""

    __tablename__ = "zone_proposal"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("zone.id"), index=True)
    proposed_on: Mapped[date] = mapped_column(Date)
    from_level: Mapped[str] = mapped_column(String(20))
    to_level: Mapped[str | None] = mapped_column(String(20))
    lift: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[ProposalStatus] = mapped_column(_enum(ProposalStatus), index=True)
    reason: Mapped[str] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(String(100))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
