from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from fangkong.core.division import DivisionCode
from fangkong.core.params import INT32_MAX, Int64
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
    Symptom,
    TravelMode,
    VenueType,
)


class VenueCreate(BaseModel):
    code: str = Field(min_length=1, max_length=64, description="The place code (场所码).")
    name: str = Field(min_length=1, max_length=200)
    venue_type: VenueType
    division_code: DivisionCode
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)
    capacity: int | None = Field(None, ge=0, le=INT32_MAX)


class VenueRead(VenueCreate):
    model_config = ConfigDict(from_attributes=True)

    id: int
    created_at: datetime


class IngestReport(BaseModel):
    file: str
    sha256: str
    rows: int = Field(description="Rows in the file.")
    stored: int = Field(description="Rows added to the store.")
    already_stored: int = Field(description="Rows the store held already (from other files).")
    unchanged: bool = Field(description="The same file was ingested before: nothing done.")
    days: dict[str, int] = Field(description="Rows written per day (UTC).")


class ExposureCreate(BaseModel):
    """An exposure entered by hand (an epidemiologist's finding): confirmed at once."""

    source_case_id: Int64
    exposed_person_id: Int64
    first_exposure: date
    last_exposure: date
    estimated: bool = False
    setting: Setting
    proximity: Proximity = Proximity.unknown
    certainty: Certainty = Certainty.confirmed
    role: str | None = Field(None, description="Default: close_contact.")
    source_venue_id: Int64 | None = None
    reason: str = Field("entered by hand", max_length=2000)


class ExposureRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    source_case_id: int
    source_contact_id: int | None
    source_venue_id: int | None
    exposed_person_id: int
    first_exposure: date
    last_exposure: date
    estimated: bool
    setting: Setting
    proximity: Proximity
    certainty: Certainty
    active: bool
    origin: Origin
    proposed_role: str
    reason: str
    review: Review
    pack_id: str
    pack_version: str
    reviewed_by: str | None
    reviewed_at: datetime | None
    contact_id: int | None


class StatusChangeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    from_status: ContactStatus | None
    to_status: ContactStatus
    at: datetime
    by: str
    note: str | None


class ContactRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    person_id: int
    index_case_id: int
    division_code: str
    role: str
    pack: str
    pack_version: str
    window_start: date
    window_end: date | None
    window_basis: str
    first_exposure: date
    last_exposure: date
    plan: dict[str, Any]
    release_date: date | None
    status: ContactStatus
    case_reported_at: datetime
    identified_at: datetime
    management_started_at: datetime | None
    converted_case_id: int | None
    hours_to_identification: float
    hours_to_management: float | None
    history: list[StatusChangeRead]


class StatusUpdate(BaseModel):
    status: ContactStatus
    at: datetime | None = None
    note: str | None = None
    converted_case_id: Int64 | None = Field(None, description="With became_case: the new case.")


class ProposalReport(BaseModel):
    case_id: int
    pack: str
    window_start: date
    window_end: date | None
    household: int
    co_presence: int
    secondary: int
    proposals: list[ExposureRead]


class Review_(BaseModel):
    confirm: bool
    note: str | None = None


class ReviewMany(BaseModel):
    """Many proposals confirmed or rejected at once (all or nothing)."""

    exposure_ids: list[Int64] = Field(min_length=1, max_length=5000)
    confirm: bool
    note: str | None = None


class AssistCreate(BaseModel):
    case_id: Int64
    to_division_code: DivisionCode = Field(description="The jurisdiction asked to help (区域协查).")
    contact_ids: list[Int64] = Field(min_length=1, max_length=5000)
    due_hours: int = Field(24, ge=1, le=720)
    message: str | None = Field(None, max_length=2000)


class AssistItemRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    person_id: int
    role: str
    last_exposure: date
    outcome: AssistOutcome
    note: str | None
    answered_at: datetime | None


class AssistRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    case_id: int
    from_division_code: str
    to_division_code: str
    status: AssistStatus
    due_at: datetime
    overdue: bool = False
    task_id: int | None
    message: str | None
    created_by: str
    created_at: datetime
    accepted_by: str | None
    accepted_at: datetime | None
    answered_at: datetime | None
    items: list[AssistItemRead]


class AssistAnswerItem(BaseModel):
    person_id: Int64
    outcome: AssistOutcome
    note: str | None = Field(None, max_length=2000)


class AssistAnswer(BaseModel):
    items: list[AssistAnswerItem] = Field(min_length=1)


# --- the 流调 interview and the infector of a case ----------------------------------------------

class DayPlaces(BaseModel):
    """Where the case was, and when, on one day of the look-back window."""

    day: date
    places: str = Field("", max_length=2000)


class PersonMet(BaseModel):
    """Someone the case met: proposed as a contact when the interview is completed."""

    person_id: Int64
    first_exposure: date
    last_exposure: date
    setting: Setting = Setting.other
    proximity: Proximity = Proximity.unknown
    note: str = Field("", max_length=500)


class VenueVisit(BaseModel):
    """A visit to a venue by its place code (场所码), on a day, from a time to a time: a
    check-in of the case when the interview is completed."""

    code: str = Field(min_length=1, max_length=64)
    day: date
    time_in: time
    time_out: time | None = None


class Trip(BaseModel):
    day: date
    mode: TravelMode
    number: str = Field("", max_length=40, description="Train, flight or bus number, plate.")
    origin: str = Field(min_length=1, max_length=200)
    destination: str = Field(min_length=1, max_length=200)
    seat: str = Field("", max_length=40)


class InterviewAnswers(BaseModel):
    """What the case told the epidemiologist (all optional in a draft)."""

    onset_date: date | None = None
    symptoms: list[Symptom] = Field(default_factory=list, max_length=len(Symptom))
    symptom_note: str = Field("", max_length=2000)
    days: list[DayPlaces] = Field(default_factory=list, max_length=60)
    people: list[PersonMet] = Field(default_factory=list, max_length=200)
    venues: list[VenueVisit] = Field(default_factory=list, max_length=200)
    travel: list[Trip] = Field(default_factory=list, max_length=50)


class InfectorSet(BaseModel):
    """Who infected the case (None: the source is unknown), and why the epidemiologist says
    so; ``version`` is the decision's version when the form was shown (0: none yet)."""

    infector_case_id: Int64 | None = None
    reason: str = Field(min_length=1, max_length=2000)
    version: int = Field(0, ge=0)


class InterviewSave(BaseModel):
    """A save of the case's interview: the answers, the interview's version when they were
    read (0: not started), and whether this save completes it."""

    answers: InterviewAnswers
    version: int = Field(ge=0)
    complete: bool = False


class InterviewRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    case_id: int
    status: InterviewStatus
    answers: dict[str, Any]
    pack_id: str
    pack_version: str
    version: int
    outcome: dict[str, Any] | None
    created_by: str
    created_at: datetime
    updated_by: str
    updated_at: datetime
    completed_by: str | None
    completed_at: datetime | None


class InfectorRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    case_id: int
    infector_case_id: int | None
    reason: str
    set_by: str
    set_at: datetime
    version: int
