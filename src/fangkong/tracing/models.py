"""Venues, exposures (edges from a source to an exposed person) and contact episodes."""

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
from fangkong.tracing.enums import (
    AssistOutcome,
    AssistStatus,
    Certainty,
    ContactStatus,
    InterviewStatus,
    Origin,
    Proximity,
    Review,
    Setting,
    VenueType,
)


def _enum(cls: type) -> Enum:
    return Enum(cls, native_enum=False, length=30)


class Venue(Base):
    """A venue with a place code (场所码). Check-ins refer to it by ``code``; the check-in
    store keeps its ``id``."""

    __tablename__ = "tracing_venue"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    venue_type: Mapped[VenueType] = mapped_column(_enum(VenueType))
    division_code: Mapped[str] = mapped_column(ForeignKey("division.code"), index=True)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    capacity: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ContactEpisode(Base):
    """One exposed person's episode as a contact of one case, under one pack's rules."""

    __tablename__ = "tracing_contact"
    __table_args__ = (
        UniqueConstraint("person_id", "index_case_id", name="uq_tracing_contact_person_case"),
        Index("ix_tracing_contact_division_code_id", "division_code", "id"),
        # the dashboard's counts per status of a jurisdiction, from the index alone
        Index("ix_tracing_contact_division_code_status", "division_code", "status"),
        Index("ix_tracing_contact_status_status_changed_at", "status", "status_changed_at"),
        # "was a known contact before the report" (the indicators) without reading the rows
        Index("ix_tracing_contact_person_id_identified_at", "person_id", "identified_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    index_case_id: Mapped[int] = mapped_column(ForeignKey("case_episode.id"), index=True)
    division_code: Mapped[str] = mapped_column(ForeignKey("division.code"))
    role: Mapped[str] = mapped_column(String(50))
    pack: Mapped[str] = mapped_column(String(50))
    pack_version: Mapped[str] = mapped_column(String(20))
    window_start: Mapped[date] = mapped_column(Date)
    window_end: Mapped[date | None] = mapped_column(Date)
    window_basis: Mapped[str] = mapped_column(Text)
    first_exposure: Mapped[date] = mapped_column(Date)
    last_exposure: Mapped[date] = mapped_column(Date)
    plan: Mapped[dict[str, Any]] = mapped_column(JSON)
    release_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[ContactStatus] = mapped_column(_enum(ContactStatus))
    case_reported_at: Mapped[datetime] = mapped_column(UTCDateTime)
    identified_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    # When the status last changed (the last step of ``history``), for "not seen for N days".
    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    management_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    converted_case_id: Mapped[int | None] = mapped_column(ForeignKey("case_episode.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    history: Mapped[list[ContactStatusChange]] = relationship(
        order_by="ContactStatusChange.id", lazy="selectin", cascade="all, delete-orphan")


class ContactStatusChange(Base):
    __tablename__ = "tracing_contact_status"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("tracing_contact.id"), index=True)
    from_status: Mapped[ContactStatus | None] = mapped_column(_enum(ContactStatus))
    to_status: Mapped[ContactStatus] = mapped_column(_enum(ContactStatus))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    by: Mapped[str] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(Text)


class Exposure(Base):
    """An edge: a source (a case, a close contact for a secondary contact, and/or a venue)
    exposed a person from ``first_exposure`` to ``last_exposure``. Automatic finds start as
    proposals that say why (``reason``); an epidemiologist confirms or rejects them. Only
    active, confirmed exposures count for the graph and the contacts' windows."""

    __tablename__ = "tracing_exposure"
    __table_args__ = (
        UniqueConstraint("source_case_id", "source_contact_id", "exposed_person_id", "origin",
                         name="uq_tracing_exposure_source_person_origin"),
        Index("ix_tracing_exposure_division_code_id", "division_code", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    source_case_id: Mapped[int] = mapped_column(ForeignKey("case_episode.id"), index=True)
    source_contact_id: Mapped[int | None] = mapped_column(ForeignKey("tracing_contact.id"))
    source_venue_id: Mapped[int | None] = mapped_column(ForeignKey("tracing_venue.id"))
    exposed_person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    division_code: Mapped[str] = mapped_column(ForeignKey("division.code"))
    first_exposure: Mapped[date] = mapped_column(Date)
    last_exposure: Mapped[date] = mapped_column(Date)
    estimated: Mapped[bool] = mapped_column(Boolean, default=False)
    setting: Mapped[Setting] = mapped_column(_enum(Setting))
    proximity: Mapped[Proximity] = mapped_column(_enum(Proximity))
    certainty: Mapped[Certainty] = mapped_column(_enum(Certainty))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    origin: Mapped[Origin] = mapped_column(_enum(Origin))
    proposed_role: Mapped[str] = mapped_column(String(50))
    reason: Mapped[str] = mapped_column(Text)
    review: Mapped[Review] = mapped_column(_enum(Review))
    # The pack the exposure was found under (the reporting work's), whose rules its contact
    # episode follows.
    pack_id: Mapped[str] = mapped_column(String(50))
    pack_version: Mapped[str] = mapped_column(String(20))
    reviewed_by: Mapped[str | None] = mapped_column(String(100))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("tracing_contact.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AssistRequest(Base):
    """A cross-region assistance request (区域协查): some contacts of a case who live in
    another jurisdiction, sent to it; it accepts, works and answers per person. A task owned by
    the receiving jurisdiction carries the due time, so overdue requests escalate like any
    task."""

    __tablename__ = "tracing_assist_request"
    __table_args__ = (
        Index("ix_tracing_assist_request_to_division_code_id", "to_division_code", "id"),
        Index("ix_tracing_assist_request_from_division_code_id", "from_division_code", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_episode.id"), index=True)
    from_division_code: Mapped[str] = mapped_column(ForeignKey("division.code"))
    to_division_code: Mapped[str] = mapped_column(ForeignKey("division.code"))
    status: Mapped[AssistStatus] = mapped_column(_enum(AssistStatus))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    task_id: Mapped[int | None] = mapped_column(ForeignKey("task.id"))
    message: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    accepted_by: Mapped[str | None] = mapped_column(String(100))
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    items: Mapped[list[AssistItem]] = relationship(
        order_by="AssistItem.id", lazy="selectin", cascade="all, delete-orphan")


class AssistItem(Base):
    """One person of a request and the receiving side's outcome for them."""

    __tablename__ = "tracing_assist_item"
    __table_args__ = (UniqueConstraint("request_id", "person_id",
                                       name="uq_tracing_assist_item_request_person"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("tracing_assist_request.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("tracing_contact.id"))
    role: Mapped[str] = mapped_column(String(50))
    last_exposure: Mapped[date] = mapped_column(Date)
    outcome: Mapped[AssistOutcome] = mapped_column(_enum(AssistOutcome))
    note: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# --- the maintained transmission graph (derived data; see fangkong.tracing.graph) -------------

class Link(Base):
    """A case-to-case link as the graph sees it (derived from exposures and converted contact
    episodes, kept up to date by :mod:`fangkong.tracing.graph`)."""

    __tablename__ = "tracing_link"

    source_case_id: Mapped[int] = mapped_column(ForeignKey("case_episode.id"), primary_key=True)
    target_case_id: Mapped[int] = mapped_column(ForeignKey("case_episode.id"), primary_key=True,
                                                index=True)
    link_date: Mapped[date] = mapped_column(Date)
    setting: Mapped[str] = mapped_column(String(30))


class ClusterMember(Base):
    """The cluster of each case that has at least one link (a case without links is a cluster
    of one and has no row)."""

    __tablename__ = "tracing_cluster_member"

    case_id: Mapped[int] = mapped_column(ForeignKey("case_episode.id"), primary_key=True)
    cluster_id: Mapped[int] = mapped_column(BigId, index=True)


class Cluster(Base):
    """A cluster (a weakly connected component of the links, named by its smallest case id)
    and its aggregates."""

    __tablename__ = "tracing_cluster"

    cluster_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    size: Mapped[int] = mapped_column(Integer)
    first_date: Mapped[date] = mapped_column(Date)
    last_date: Mapped[date] = mapped_column(Date)
    span_days: Mapped[int] = mapped_column(Integer)
    generations: Mapped[int] = mapped_column(Integer)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class GraphState(Base):
    """One row once the maintained graph has been built from scratch; until then the first
    use builds it."""

    __tablename__ = "tracing_graph_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    built_at: Mapped[datetime] = mapped_column(UTCDateTime)


# --- the epidemiologist's interview (流调) and the infectors they decide ----------------------

class Interview(Base):
    """A case's 流调 interview under the case's policy pack: symptoms and onset, places day by
    day over the pack's look-back window, people met, venues by their 场所码, travel
    (``answers``). Saved as a draft and completed later; completing it feeds the tracing
    service (its venue visits as check-ins, its people as proposals). ``version`` grows with
    each save: a form shown at another version is refused, not applied."""

    __tablename__ = "tracing_interview"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_episode.id"), unique=True)
    status: Mapped[InterviewStatus] = mapped_column(_enum(InterviewStatus))
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    pack_id: Mapped[str] = mapped_column(String(50))
    pack_version: Mapped[str] = mapped_column(String(20))
    version: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    completed_by: Mapped[str | None] = mapped_column(String(100))
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Infector(Base):
    """Who infected a case, as an epidemiologist decided it (with the reason): the one link
    into the case that the transmission graph keeps (``infector_case_id``), or none at all
    (None: the source is unknown). A case without a row keeps the links its exposures and
    contact episodes give. ``version`` grows with each change (stale forms are refused)."""

    __tablename__ = "tracing_infector"

    case_id: Mapped[int] = mapped_column(ForeignKey("case_episode.id"), primary_key=True)
    infector_case_id: Mapped[int | None] = mapped_column(ForeignKey("case_episode.id"),
                                                         index=True)
    reason: Mapped[str] = mapped_column(Text)
    set_by: Mapped[str] = mapped_column(String(100))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer)
