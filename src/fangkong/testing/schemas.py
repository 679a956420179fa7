from __future__ import annotations

from datetime import date, datetime, time

from pydantic import BaseModel, ConfigDict, Field, model_validator

from fangkong.core.division import DivisionCode
from fangkong.core.params import INT32_MAX
from fangkong.testing.messages import T


class RoundCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    area: list[DivisionCode] = Field(min_length=1, description="Division codes the round covers.")
    start_at: datetime
    deadline_at: datetime
    series: str | None = Field(None, max_length=100,
                               description="Rounds of one daily series (for the stop rule).")
    zones: dict[DivisionCode, str] = Field(
        default_factory=dict,
        description="Zone level of divisions (division code -> level of the pack), as the risk "
                    "zones stood when the round was set; the most specific code applies.")
    site_person_refs: list[str] = Field(
        default_factory=list, description="Persons in centralized quarantine sites (single tube).")
    pack: str | None = Field(None, description="Policy pack id; default: the active pack.")

    @model_validator(mode="after")
    def _times(self) -> RoundCreate:
        if self.deadline_at <= self.start_at:
            raise ValueError(T("s.deadline"))
        return self


class RoundRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    series: str | None
    area_codes: list[str]
    start_at: datetime
    deadline_at: datetime
    status: str
    pack_id: str
    pack_version: str
    result_due_hours: int
    target_count: int


class RoundCreated(BaseModel):
    round_id: int
    target: int
    by_ratio: dict[str, int]


class TubeIssue(BaseModel):
    barcodes: list[str] = Field(min_length=1)
    capacity: int = Field(ge=1, le=INT32_MAX,
                          description="The most people the tube kind holds (1, 10, 20…).")


class TubeIssueReport(BaseModel):
    issued: int
    already: int


class PointCreate(BaseModel):
    code: str = Field(min_length=1, max_length=50)
    name: str = Field(min_length=1, max_length=200)
    division_code: DivisionCode
    samplers: int = Field(ge=0, le=INT32_MAX)
    opens: time
    closes: time


class LabCreate(BaseModel):
    code: str = Field(min_length=1, max_length=50)
    name: str = Field(min_length=1, max_length=200)
    division_code: DivisionCode
    daily_capacity: int = Field(ge=1, le=INT32_MAX, description="Tubes the lab can test per day.")


class Created(BaseModel):
    id: int


class ImportReport(BaseModel):
    file: str
    rows: int
    inserted: int
    unchanged: int
    repeats: int = 0
    positive_tubes: int = 0
    followups_opened: int = 0
    members_resolved: int = 0
    cases: int = 0
    known_cases: int = 0  # positive persons already a case (their episode, no new case)


class Status(BaseModel):
    round_id: int
    target: int
    sampled: int
    coverage: float
    tubes: int
    tubes_without_result: int
    tubes_past_due: int
    positive_tubes: list[str]
    pending_persons: list[str]
    cases: list[str]


class CoverageRow(BaseModel):
    division_code: str
    target: int
    sampled: int
    coverage: float
    tubes_past_due: int


class Coverage(BaseModel):
    round_id: int
    level_digits: int
    rows: list[CoverageRow]


class UnsampledRow(BaseModel):
    person_id: int
    ref: str
    name: str
    division_code: str
    household_ref: str | None


class FollowupMemberRead(BaseModel):
    person_ref: str
    division_code: str
    status: str
    control_since: datetime
    responsible: str
    task_id: int | None
    case_ref: str | None


class FollowupRead(BaseModel):
    id: int
    round_id: int
    tube: str
    status: str
    outcome: str | None
    opened_at: datetime
    resolved_at: datetime | None
    members: list[FollowupMemberRead]


class OpenPool(BaseModel):
    """A positive pool in the command's queue, in figures only (no member named)."""

    tube: str
    division_code: str
    opened_at: datetime
    members: int
    pending: int


class PoolOption(BaseModel):
    size: int
    tests_per_person: float
    tests: int
    lab_hours: float | None


class Advice(BaseModel):
    pack: str
    prevalence: float
    population: int
    best_size: int
    options: list[PoolOption]


class Plan(BaseModel):
    pack: str
    population: int
    points_needed: list[int] = Field(min_length=2, max_length=2,
                                     description="Collection points needed: [at least, at most].")
    samplers_needed: int
    points_available: int
    samplers_available: int
    hours_needed: float | None
    campaign_hours: int


class SeriesAdvice(BaseModel):
    pack: str
    series: str
    rounds: int
    clean_streak: int
    next_round_on: date | None
    may_stop: bool
    reason: str


class KeyGroupCreate(BaseModel):
    code: str = Field(min_length=1, max_length=50)
    name: str | None = Field(None, max_length=200)
    division_code: DivisionCode
    every_days: int | None = Field(None, ge=1, le=31,
                                   description="Local interval; default: the pack's for code.")


class KeyGroupRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    division_code: str
    every_days: int
    schedule_source: str


class ComplianceRow(BaseModel):
    person_ref: str
    division_code: str
    last_sampled_at: datetime | None
    due_at: datetime | None
    overdue: bool


class TurnaroundRow(BaseModel):
    lab: str | None
    tubes: int
    mean_hours: float | None
    max_hours: float | None
    within_due: int
    daily_capacity: int | None
