from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from fangkong.monitoring.enums import Channel, PeriodStatus


class ReportIn(BaseModel):
    """One day's answers. The temperature in °C (34.0 to 43.0; a value outside is refused),
    the symptoms by the names the period lists, whether a test was taken that day."""

    day: date
    temperature: float | None = None
    symptoms: list[str] = Field(default_factory=list, max_length=20)
    tested: bool | None = None


class WorkerReportIn(ReportIn):
    channel: Channel = Field(Channel.worker_visit, description="worker_visit or worker_call")


class ReportRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    period_id: int
    day: date
    temperature: float | None
    symptoms: list[str]
    tested: bool | None
    channel: Channel
    entered_by: str
    flagged: bool
    task_ids: list[int]
    created_at: datetime


class PeriodRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    person_id: int
    contact_id: int
    division_code: str
    pack_id: str
    pack_version: str
    rules_version: str
    phases: str
    start: date
    end: date
    questions: list[str]
    symptoms: list[str]
    alert_symptoms: list[str]
    fever_c: float
    deadline_hour: int
    status: PeriodStatus
    created_at: datetime
    ended_at: datetime | None
    end_reason: str | None


class PeriodDetail(PeriodRead):
    reports: list[ReportRead]
    missed: list[date]


class DueRow(BaseModel):
    period_id: int
    person_id: int
    division_code: str
    day: date
    reported: bool
    flagged: bool
    deadline: datetime


class LinkRead(BaseModel):
    token: str
    path: str
    expires_at: datetime


class LinkForm(BaseModel):
    """What the personal link shows: the days and the questions, nothing about the person."""

    start: date
    end: date
    today: date
    deadline_hour: int
    questions: list[str]
    symptoms: list[dict[str, str]]
    reported_days: list[date]


class CheckReport(BaseModel):
    missed: int
    escalated: int
    ended: int
    task_ids: list[int]
