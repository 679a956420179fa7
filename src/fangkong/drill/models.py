"""Drill runs and the records each one created.

A drill writes into the platform's own tables through its services (persons, venues, cases,
tasks, labs, rounds, zones, quarantine sites, vehicles), as a command's staff would. Each run is
a row of ``drill_run``; the records it made (the roots: what the services then hang on them,
exposures, contact episodes, stays, transfers, tubes, samples, task events, follows by their
references) are listed in ``drill_record`` with the run's id, so that a drill in a production
database can be found and removed whole (``fangkong drill runs``, ``fangkong drill remove``),
never recognised by names.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from fangkong.core.db import Base, BigId, UTCDateTime


class DrillRun(Base):
    """One run of a drill: its strategy, city and pack, when it ran and who ran it."""

    __tablename__ = "drill_run"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    key: Mapped[str] = mapped_column(String(40), unique=True)  # DC<strategy hash>R<n>
    strategy: Mapped[str] = mapped_column(String(64))
    pack: Mapped[str] = mapped_column(String(64))
    city: Mapped[str] = mapped_column(String(12))
    agents: Mapped[int] = mapped_column(Integer)
    seed: Mapped[int] = mapped_column(Integer)
    days: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_by: Mapped[str] = mapped_column(String(100))


class DrillRecord(Base):
    """A record a drill run made (or registered: the persons and venues of its city, shared by
    the runs of the same city, which keep them until the last of those runs is removed)."""

    __tablename__ = "drill_record"
    __table_args__ = (Index("ix_drill_record_record", "record_type", "record_id"),)

    run_id: Mapped[int] = mapped_column(ForeignKey("drill_run.id"), primary_key=True)
    record_type: Mapped[str] = mapped_column(String(50), primary_key=True)  # the table
    record_id: Mapped[int] = mapped_column(BigId, primary_key=True)
