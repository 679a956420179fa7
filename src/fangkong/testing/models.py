"""Tables of mass testing. A round's target population is materialised per round
(``testing_target``: who, where, the tube size their place allows), so that coverage, the list
of persons not yet sampled and the ratio check are plain joins."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Text,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from fangkong.core.db import Base, BigId, UTCDateTime
from fangkong.testing.enums import FollowupStatus, MemberStatus, Outcome, Result, RoundStatus


def _enum(cls: type) -> Enum:
    return Enum(cls, native_enum=False, length=20)


class Round(Base):
    """One testing round over an area (division codes), from a start to a deadline."""

    __tablename__ = "testing_round"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    series: Mapped[str | None] = mapped_column(String(100), index=True)
    area_codes: Mapped[list[str]] = mapped_column(JSON)
    start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deadline_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[RoundStatus] = mapped_column(_enum(RoundStatus))
    pack_id: Mapped[str] = mapped_column(String(50))
    pack_version: Mapped[str] = mapped_column(String(20))
    result_due_hours: Mapped[int] = mapped_column(Integer)
    target_count: Mapped[int] = mapped_column(Integer, default=0)
    community_infections: Mapped[int | None] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RoundZone(Base):
    """The zone level of a division when the round was created (an input of the round)."""

    __tablename__ = "testing_round_zone"

    round_id: Mapped[int] = mapped_column(ForeignKey("testing_round.id"), primary_key=True)
    division_code: Mapped[str] = mapped_column(ForeignKey("division.code"), primary_key=True)
    level: Mapped[str] = mapped_column(String(30))


class Target(Base):
    """A person the round must sample, the division they are counted in, and the most people
    one of their tubes may hold (``household``: only their household's members)."""

    __tablename__ = "testing_target"
    __table_args__ = (Index("ix_testing_target_round_id_division_code", "round_id",
                            "division_code"),)

    # References to testing_round and person kept by triggers (migration 0020), not foreign
    # keys: a city's round writes millions of targets in one statement.
    round_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    person_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    division_code: Mapped[str] = mapped_column(String(12))
    pool_max: Mapped[int] = mapped_column(Integer)
    household: Mapped[bool] = mapped_column(Boolean, default=False)
    at_site: Mapped[bool] = mapped_column(Boolean, default=False)


class Point(Base):
    """A collection point (采样点) with its staffing and opening hours."""

    __tablename__ = "testing_point"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(50), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    division_code: Mapped[str] = mapped_column(ForeignKey("division.code"), index=True)
    samplers: Mapped[int] = mapped_column(Integer)
    opens: Mapped[time] = mapped_column(Time)
    closes: Mapped[time] = mapped_column(Time)


class Lab(Base):
    """A testing laboratory with its daily capacity in tubes."""

    __tablename__ = "testing_lab"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(50), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    division_code: Mapped[str] = mapped_column(ForeignKey("division.code"), index=True)
    daily_capacity: Mapped[int] = mapped_column(Integer)


class Tube(Base):
    """A barcoded tube issued to a round; its result (one per tube) once a lab reports it."""

    __tablename__ = "testing_tube"
    __table_args__ = (
        # No index holds a column that imports change (members, first sample, result): the
        # updates of a city's tubes then stay in their pages (PostgreSQL's HOT updates, with
        # the free space the migration leaves in them) instead of touching every index.
        Index("ix_testing_tube_round_id", "round_id"),
        # the target of the samples' (tube, round) reference
        UniqueConstraint("id", "round_id", name="uq_testing_tube_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    barcode: Mapped[str] = mapped_column(String(64), unique=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("testing_round.id"))
    capacity: Mapped[int] = mapped_column(Integer)
    members: Mapped[int] = mapped_column(Integer, default=0)
    first_sampled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # -> testing_lab.id, kept by triggers (migration 0015), not a foreign key: a results
    # import sets the lab of a city's tubes in one UPDATE, checked once per statement
    lab_id: Mapped[int | None] = mapped_column(BigId)
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    tested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    result: Mapped[Result | None] = mapped_column(_enum(Result))
    reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ct: Mapped[float | None] = mapped_column(Float)


class Sample(Base):
    """One sample registration: a person's swab in a tube, when and where. ``repeat`` flags a
    person sampled more than once in the round (kept, not rejected).

    Keyed by (person, round, tube): a person is in a tube once (a tube is in one round); a
    person's samples, in a round or all, are found by the key's first columns, a tube's members
    by its own index (migration 0019: an import in person order writes the key in turn, the
    smaller tube index at random). The round is the tube's round. The
    references (tube, round) -> testing_tube (id, round_id), person -> person and point ->
    testing_point are not foreign keys but triggers (migration 0013): on PostgreSQL one check
    per statement instead of a lookup per row of a bulk import's millions, under one advisory
    lock that deletions of the referenced rows wait for (migration 0017) instead of a share
    lock per row; on SQLite per row. The samples import's own INSERT, whose persons and tubes
    it found by a join while holding that lock, is not joined again: it runs as the role
    ``fangkong_sample_import``, which only members of it can become (migration 0028; before,
    migration 0018 trusted a setting that any session could change). Every other statement is
    checked."""

    __tablename__ = "testing_sample"
    __table_args__ = (
        # The key's first columns serve a person's samples (repeats in a round, key-group
        # compliance, coverage joins).
        PrimaryKeyConstraint("person_id", "round_id", "tube_id", name="pk_testing_sample"),
        # A tube's members (positive pools, the tube's totals).
        Index("ix_testing_sample_tube_id", "tube_id"),
    )

    tube_id: Mapped[int] = mapped_column(BigId)
    person_id: Mapped[int] = mapped_column(BigId)
    round_id: Mapped[int] = mapped_column(BigId)
    sampled_at: Mapped[datetime] = mapped_column(UTCDateTime)
    point_id: Mapped[int | None] = mapped_column(BigId)
    repeat: Mapped[bool] = mapped_column(Boolean, default=False)


class Followup(Base):
    """A positive tube being resolved: in the command's queue until every member is."""

    __tablename__ = "testing_followup"
    __table_args__ = (Index("ix_testing_followup_status_opened_at", "status", "opened_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("testing_round.id"), index=True)
    tube_id: Mapped[int] = mapped_column(ForeignKey("testing_tube.id"), unique=True)
    division_code: Mapped[str] = mapped_column(ForeignKey("division.code"))
    status: Mapped[FollowupStatus] = mapped_column(_enum(FollowupStatus))
    outcome: Mapped[Outcome | None] = mapped_column(_enum(Outcome))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    opened_by: Mapped[str] = mapped_column(String(100))


class FollowupMember(Base):
    """A member of a positive pool: under temporary control where they are (who is responsible
    for it), their single-tube re-collection task, their re-test and what it gave."""

    __tablename__ = "testing_followup_member"
    __table_args__ = (Index("ix_testing_followup_member_person_id_status", "person_id",
                            "status"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    followup_id: Mapped[int] = mapped_column(ForeignKey("testing_followup.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    division_code: Mapped[str] = mapped_column(ForeignKey("division.code"))
    status: Mapped[MemberStatus] = mapped_column(_enum(MemberStatus))
    control_since: Mapped[datetime] = mapped_column(UTCDateTime)
    control_ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    responsible_unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    responsible: Mapped[str] = mapped_column(String(200))
    task_id: Mapped[int | None] = mapped_column(ForeignKey("task.id"))
    retest_tube_id: Mapped[int | None] = mapped_column(ForeignKey("testing_tube.id"))
    retests: Mapped[int] = mapped_column(Integer, default=0)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case_episode.id"))


class RoundFigures(Base):
    """A round's target persons and how many of them are sampled, per division: each target
    person counts in every division that holds theirs (their code cut to 2, 4, 6, 9 and 12
    digits), so a dashboard's figures for any division are one row per round. Kept in the
    transactions that write targets and samples (``fangkong.testing.figures``; migration
    0029 filled it for the rounds before it)."""

    __tablename__ = "testing_round_figures"

    round_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    division_code: Mapped[str] = mapped_column(String(12), primary_key=True)
    target: Mapped[int] = mapped_column(Integer)
    sampled: Mapped[int] = mapped_column(Integer)
    # tubes with members there and no result (its rows of testing_tube_place): those past due
    # are these less the ones sampled within the due hours, a short range of that index
    waiting: Mapped[int] = mapped_column(Integer, default=0)


class TubePlace(Base):
    """A tube with members and no result yet, once for each division (cut to each level, as
    in :class:`RoundFigures`) that counts one of its members in the round's target, with its
    first sample: the tubes past due of a division are a range of the index (round,
    division, first sample). Rows are written with a tube's samples and removed with its
    result (``fangkong.testing.figures``; migration 0029)."""

    __tablename__ = "testing_tube_place"
    __table_args__ = (Index("ix_testing_tube_place_due", "round_id", "division_code",
                            "first_sampled_at"),)

    tube_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    division_code: Mapped[str] = mapped_column(String(12), primary_key=True)
    round_id: Mapped[int] = mapped_column(BigId)
    first_sampled_at: Mapped[datetime] = mapped_column(UTCDateTime)


class KeyGroup(Base):
    """A key group (重点人群) with its routine testing interval (from the pack or set here)."""

    __tablename__ = "testing_key_group"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(50), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    division_code: Mapped[str] = mapped_column(ForeignKey("division.code"))
    every_days: Mapped[int] = mapped_column(Integer)
    schedule_source: Mapped[str] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(Text)


class KeyGroupMember(Base):
    __tablename__ = "testing_key_group_member"

    group_id: Mapped[int] = mapped_column(ForeignKey("testing_key_group.id"), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), primary_key=True)
    since: Mapped[datetime] = mapped_column(UTCDateTime)


ALL: list[Any] = [Round, RoundZone, Target, Point, Lab, Tube, Sample, Followup, FollowupMember,
                  KeyGroup, KeyGroupMember, RoundFigures, TubePlace]
