"""Isolation sites, rooms, stays, room-night occupancy (the no-double-booking constraint),
the tests of a stay and transfers."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    Enum,
    Float,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from fangkong.core.db import Base, BigId, UTCDateTime
from fangkong.isolation.enums import (
    MedicalLevel,
    PassengerClass,
    SampleResult,
    SiteStatus,
    SiteType,
    StayKind,
    StayStatus,
    TransferKind,
    TransferStatus,
    VehicleKind,
)


def _enum(cls: type) -> Enum:
    return Enum(cls, native_enum=False, length=30)


class Site(Base):
    """An isolation or treatment site: quarantine hotel, health station, shelter hospital,
    designated or sub-designated hospital."""

    __tablename__ = "iso_site"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[SiteType] = mapped_column(_enum(SiteType))
    status: Mapped[SiteStatus] = mapped_column(_enum(SiteStatus))
    division_code: Mapped[str] = mapped_column(ForeignKey("division.code"), index=True)
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    medical_level: Mapped[MedicalLevel] = mapped_column(_enum(MedicalLevel))
    staff: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Room(Base):
    """A room (or a ward's bed group) of a site. ``capacity`` people of one household may share
    a family room; any other room holds one person."""

    __tablename__ = "iso_room"
    __table_args__ = (UniqueConstraint("site_id", "label"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("iso_site.id"), index=True)
    label: Mapped[str] = mapped_column(String(30))
    capacity: Mapped[int] = mapped_column(Integer)
    family: Mapped[bool] = mapped_column(Boolean, default=False)
    accessible: Mapped[bool] = mapped_column(Boolean, default=False)
    negative_pressure: Mapped[bool] = mapped_column(Boolean, default=False)
    bed_level: Mapped[MedicalLevel] = mapped_column(_enum(MedicalLevel))


class Stay(Base):
    """A person at a site and room (or at home), of a kind, from a start to a planned end."""

    __tablename__ = "iso_stay"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("iso_site.id"), index=True)
    room_id: Mapped[int | None] = mapped_column(ForeignKey("iso_room.id"), index=True)
    kind: Mapped[StayKind] = mapped_column(_enum(StayKind))
    status: Mapped[StayStatus] = mapped_column(_enum(StayStatus))
    role: Mapped[str | None] = mapped_column(String(40))
    household_ref: Mapped[str | None] = mapped_column(String(64))
    division_code: Mapped[str] = mapped_column(ForeignKey("division.code"), index=True)
    anchor: Mapped[date | None] = mapped_column(Date)
    """Day 0 of the policy plan the stay follows."""
    start_date: Mapped[date] = mapped_column(Date)
    planned_end: Mapped[date] = mapped_column(Date)
    """The day of release: the person leaves that day (the last night is the day before)."""
    actual_end: Mapped[date | None] = mapped_column(Date)
    order_ref: Mapped[str | None] = mapped_column(String(100))
    pack: Mapped[str | None] = mapped_column(String(40))
    pack_version: Mapped[str | None] = mapped_column(String(20))
    previous_stay_id: Mapped[int | None] = mapped_column(ForeignKey("iso_stay.id"))
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RoomNight(Base):
    """One bed of one room for one night. The unique (room, night, slot) is what makes double
    booking impossible, whatever the application does."""

    __tablename__ = "iso_room_night"
    __table_args__ = (UniqueConstraint("room_id", "night", "slot"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("iso_room.id"))
    night: Mapped[date] = mapped_column(Date)
    slot: Mapped[int] = mapped_column(Integer)
    stay_id: Mapped[int] = mapped_column(ForeignKey("iso_stay.id"), index=True)
    household_ref: Mapped[str | None] = mapped_column(String(64))


class StayTest(Base):
    """A test date of a stay's plan, its sampling task, when the sample was taken and its
    result."""

    __tablename__ = "iso_stay_test"
    __table_args__ = (UniqueConstraint("stay_id", "test_date"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    stay_id: Mapped[int] = mapped_column(ForeignKey("iso_stay.id"))
    test_date: Mapped[date] = mapped_column(Date)
    task_id: Mapped[int | None] = mapped_column(ForeignKey("task.id"))
    result: Mapped[SampleResult] = mapped_column(_enum(SampleResult))
    recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sampled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Vehicle(Base):
    """A transfer vehicle: buses carry contacts, ambulances cases."""

    __tablename__ = "iso_vehicle"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[VehicleKind] = mapped_column(_enum(VehicleKind))
    capacity: Mapped[int] = mapped_column(Integer)
    division_code: Mapped[str] = mapped_column(ForeignKey("division.code"), index=True)
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    in_service: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Transfer(Base):
    """A point-to-point transfer of one person: to a site, home, or between facilities."""

    __tablename__ = "iso_transfer"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    stay_id: Mapped[int | None] = mapped_column(ForeignKey("iso_stay.id"), index=True)
    kind: Mapped[TransferKind] = mapped_column(_enum(TransferKind))
    status: Mapped[TransferStatus] = mapped_column(_enum(TransferStatus))
    from_site_id: Mapped[int | None] = mapped_column(ForeignKey("iso_site.id"))
    to_site_id: Mapped[int | None] = mapped_column(ForeignKey("iso_site.id"))
    division_code: Mapped[str] = mapped_column(ForeignKey("division.code"), index=True)
    passenger_class: Mapped[PassengerClass] = mapped_column(_enum(PassengerClass))
    clock_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """When the clock of this transfer started: the positive result (a case) or the
    identification (a contact)."""
    vehicle_id: Mapped[int | None] = mapped_column(ForeignKey("iso_vehicle.id"), index=True)
    batch_ref: Mapped[str | None] = mapped_column(String(64))
    planned_on: Mapped[date] = mapped_column(Date)
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    arrived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
