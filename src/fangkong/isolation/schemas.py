from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from fangkong.core.division import DivisionCode
from fangkong.core.params import INT32_MAX, Int64
from fangkong.isolation.enums import (
    AssignRole,
    MedicalLevel,
    Need,
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
from fangkong.isolation.messages import ISO


class RoomSpec(BaseModel):
    label: str = Field(min_length=1, max_length=30)
    capacity: int = Field(1, ge=1, le=20)
    family: bool = False
    accessible: bool = False
    negative_pressure: bool = False
    bed_level: MedicalLevel = MedicalLevel.none

    @model_validator(mode="after")
    def _family(self) -> RoomSpec:
        if self.family and self.capacity < 2:
            raise ValueError(ISO("s.family_room"))
        if not self.family and self.capacity != 1:
            raise ValueError(ISO("s.single_room"))
        return self


class SiteCreate(BaseModel):
    code: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    type: SiteType
    status: SiteStatus = SiteStatus.active
    division_code: DivisionCode
    lon: float | None = Field(None, ge=-180, le=180)
    lat: float | None = Field(None, ge=-90, le=90)
    medical_level: MedicalLevel = MedicalLevel.none
    staff: int = Field(0, ge=0, le=INT32_MAX)
    rooms: list[RoomSpec] = Field(default_factory=list, max_length=20_000)

    @model_validator(mode="after")
    def _not_home(self) -> SiteCreate:
        if self.type is SiteType.home:
            raise ValueError(ISO("s.home_site"))
        labels = [r.label for r in self.rooms]
        if len(labels) != len(set(labels)):
            raise ValueError(ISO("s.room_labels"))
        return self


class RoomRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    label: str
    capacity: int
    family: bool
    accessible: bool
    negative_pressure: bool
    bed_level: MedicalLevel


class SiteRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    type: SiteType
    status: SiteStatus
    division_code: str
    lon: float | None
    lat: float | None
    medical_level: MedicalLevel
    staff: int
    rooms: int = 0
    beds: int = 0


class OccupancyDay(BaseModel):
    day: date
    people: int
    rooms_occupied: int
    rooms: int
    beds: int


class StayCreate(BaseModel):
    person_ref: str
    kind: StayKind
    site_id: Int64 | None = Field(None, description="None: at home.")
    room_id: Int64 | None = None
    role: str | None = Field(None, description="A role of the policy pack: the stay follows "
                                               "its plan (dates and tests).")
    anchor: date | None = Field(None, description="Day 0 of the plan (last exposure, "
                                                  "arrival...).")
    start_date: date | None = None
    planned_end: date | None = Field(None, description="The day of release, when no role.")
    household_ref: str | None = Field(None, max_length=64)
    order_ref: str | None = Field(None, max_length=100)
    pack: str | None = None

    @model_validator(mode="after")
    def _dates(self) -> StayCreate:
        if self.role and self.anchor is None:
            raise ValueError(ISO("s.anchor"))
        if not self.role and (self.start_date is None or self.planned_end is None):
            raise ValueError(ISO("s.dates"))
        if self.start_date and self.planned_end and self.planned_end <= self.start_date:
            raise ValueError(ISO("s.end_after"))
        if (self.site_id is None) != (self.room_id is None):
            raise ValueError(ISO("s.site_room"))
        return self


class StayTestRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    test_date: date
    task_id: int | None
    sampled_at: datetime | None = None
    result: SampleResult


class StayRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    person_id: int
    site_id: int | None
    room_id: int | None
    kind: StayKind
    status: StayStatus
    role: str | None
    division_code: str
    start_date: date
    planned_end: date
    actual_end: date | None
    order_ref: str | None
    pack: str | None
    pack_version: str | None
    previous_stay_id: int | None
    tests: list[StayTestRead] = Field(default_factory=list)


class SampleResultIn(BaseModel):
    test_date: date
    result: SampleResult


class ReleaseIn(BaseModel):
    on: date


class TransferRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    person_id: int
    stay_id: int | None
    kind: TransferKind
    status: TransferStatus
    from_site_id: int | None
    to_site_id: int | None
    passenger_class: PassengerClass
    clock_start: datetime | None
    vehicle_id: int | None
    batch_ref: str | None
    planned_on: date
    dispatched_at: datetime | None
    arrived_at: datetime | None


class ReleaseResult(BaseModel):
    released: StayRead
    next_stay: StayRead | None
    transfer: TransferRead | None


class VehicleCreate(BaseModel):
    code: str = Field(min_length=1, max_length=64)
    kind: VehicleKind
    capacity: int = Field(ge=1, le=100)
    division_code: DivisionCode
    lon: float | None = Field(None, ge=-180, le=180)
    lat: float | None = Field(None, ge=-90, le=90)


class VehicleRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    kind: VehicleKind
    capacity: int
    division_code: str
    in_service: bool


class TransferCreate(BaseModel):
    person_ref: str
    to_site_id: Int64
    passenger_class: PassengerClass
    clock_start: datetime = Field(description="Positive result (a case) or identification "
                                              "(a contact): when the clock started.")


class DispatchIn(BaseModel):
    vehicle_id: Int64
    transfer_ids: list[Int64] = Field(min_length=1, max_length=100)
    at: datetime


class ArriveIn(BaseModel):
    at: datetime


class MoveIn(BaseModel):
    to_site_id: Int64
    to_room_id: Int64
    on: date
    kind: StayKind = StayKind.treatment
    planned_end: date | None = None


class ClockSummary(BaseModel):
    passenger_class: PassengerClass
    county: str
    transfers: int
    arrived: int
    waiting: int
    median_hours: float | None
    p90_hours: float | None
    within_24h_share: float | None


class ClockRow(BaseModel):
    transfer_id: int
    person_id: int
    passenger_class: PassengerClass
    status: TransferStatus
    hours: float
    over_24h: bool


class BedsRow(BaseModel):
    site_id: int
    site_code: str
    site_type: SiteType
    level: MedicalLevel
    beds: int
    occupied: int


class MoveResult(BaseModel):
    ended: StayRead
    new_stay: StayRead
    transfer: TransferRead


class ReserveRow(BaseModel):
    county: str
    active_rooms: int
    standby_rooms: int
    occupied_rooms: int
    people: int
    rooms_needed: int
    free_active_rooms: int
    shortfall: int
    """Rooms needed beyond the active and standby ones."""


class ReleaseProposal(BaseModel):
    stay_id: int
    person_id: int
    site_id: int | None
    planned_end: date
    ready: bool
    """The period is over and every required test is negative: release can be done."""
    missing_tests: list[str]


class BatchPerson(BaseModel):
    person_ref: str
    household_ref: str | None = Field(None, max_length=64)
    role: AssignRole
    needs: list[Need] = Field(default_factory=list)
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    case_ref: str | None = None


class BatchAssign(BaseModel):
    """Assign and book a batch: contacts follow the pack's plan from ``anchor``; cases stay
    from ``start_date`` to ``planned_end``."""

    people: list[BatchPerson] = Field(min_length=1, max_length=5000)
    anchor: date | None = None
    start_date: date | None = None
    planned_end: date | None = None
    division: DivisionCode | None = Field(None, description="Only sites inside this division.")
    pack: str | None = None


class Placement(BaseModel):
    """A person placed: at a site (``"home"``: home quarantine) and, at a site, a room (its
    number in a planning file, its id when booked from the database)."""

    person_ref: str
    site_id: str
    room: int | None


class NotPlaced(BaseModel):
    """A person the plan leaves out, and why (words the reader acts on)."""

    person_ref: str
    reason: str


class AssignmentPlan(BaseModel):
    """The assignment of people to rooms under every hard rule with the least total travel:
    what the planning mode answers (API, CLI) and what a batch books."""

    assignments: list[Placement]
    unassigned: list[NotPlaced]
    total_distance_km: float


class BatchResult(AssignmentPlan):
    stays: dict[str, int]
    """person_ref → the stay booked."""


class RouteStop(BaseModel):
    type: Literal["pickup", "dropoff"]
    site_id: str | None
    """The site of a dropoff."""
    people: list[str]
    """The refs of the people picked up or dropped off."""
    lon: float
    lat: float
    minute: int
    """Minutes after the day's start."""


class Route(BaseModel):
    vehicle_id: str
    kind: str
    stops: list[RouteStop]
    distance_km: float


class RoutePlan(BaseModel):
    """A day's transfer routes: each vehicle's stops, who could not be served and why."""

    routes: list[Route]
    unserved: list[NotPlaced]
    total_distance_km: float
