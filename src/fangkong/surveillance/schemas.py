from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from fangkong.core.division import DivisionCode
from fangkong.core.params import INT32_MAX
from fangkong.surveillance.enums import (
    AlertStatus,
    CaseSplit,
    DateBasis,
    Indicator,
    Method,
    Period,
    SentinelKind,
    SeriesKind,
)


class SentinelCreate(BaseModel):
    code: str = Field(min_length=1, max_length=50)
    name: str = Field(min_length=1, max_length=200)
    kind: SentinelKind
    division_code: DivisionCode


class SentinelRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    kind: SentinelKind
    division_code: str
    active: bool


class ReportIn(BaseModel):
    unit_code: str = Field(min_length=1, max_length=50)
    indicator: Indicator
    period: Period = Period.daily
    period_start: date
    value: int = Field(ge=0, le=INT32_MAX)
    reason: str | None = Field(None, max_length=500, description="Why a value is corrected.")


class RevisionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    old_value: int
    new_value: int
    at: datetime
    by: str
    reason: str | None


class ReportRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    unit_id: int
    division_code: str
    indicator: Indicator
    period: Period
    period_start: date
    value: int
    version: int
    revisions: list[RevisionRead] = []


class ReportImportReport(BaseModel):
    file: str
    rows: int
    inserted: int
    corrected: int
    unchanged: int


class RuleCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    series: SeriesKind
    indicator: Indicator | None = None
    case_split: CaseSplit = CaseSplit.all
    date_basis: DateBasis = DateBasis.onset
    disease: str | None = Field(None, max_length=30)
    period: Period = Period.daily
    method: Method
    params: dict[str, Any] = Field(default_factory=dict)
    division_codes: list[DivisionCode] = Field(min_length=1)


class RuleRead(RuleCreate):
    model_config = ConfigDict(from_attributes=True)

    id: int
    active: bool


class AlertEventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    at: datetime
    by: str
    from_status: AlertStatus | None
    to_status: AlertStatus
    note: str | None


class AlertRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    rule_id: int
    division_code: str
    period_start: date
    observed: float
    upperbound: float
    status: AlertStatus
    evidence: dict[str, Any]
    task_id: int | None
    history: list[AlertEventRead] = []


class AlertAction(BaseModel):
    note: str | None = Field(None, max_length=2000)


class Investigate(AlertAction):
    due_at: datetime
    title: str | None = Field(None, max_length=300)


class EvaluationReport(BaseModel):
    rule_id: int
    divisions: int
    periods: int
    alarms: int
    new_alerts: int


class CurvePoint(BaseModel):
    date: date
    division_code: str
    community: int
    in_quarantine: int
    total: int
