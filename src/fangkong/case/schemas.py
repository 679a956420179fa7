from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from fangkong.case.enums import Basis, Classification, DetectionMode, Severity
from fangkong.core.division import DivisionCode


class CaseCreate(BaseModel):
    ref: str = Field(min_length=1, max_length=64)
    person_ref: str = Field(min_length=1, max_length=64)
    disease: str = Field("covid19", min_length=1, max_length=30)
    classification: Classification
    severity: Severity | None = None
    onset_date: date | None = None
    first_positive_sample_date: date | None = None
    reported_at: datetime
    detection_mode: DetectionMode
    owning_division_code: DivisionCode
    current_division_code: DivisionCode | None = None


class Reclassify(BaseModel):
    classification: Classification
    severity: Severity | None = None
    basis: Basis = Basis.manual
    note: str | None = None


class ChangeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    from_classification: Classification | None
    from_severity: Severity | None
    to_classification: Classification
    to_severity: Severity | None
    at: datetime
    by: str
    basis: Basis
    note: str | None


class CaseRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    ref: str
    person_id: int
    disease: str
    classification: Classification
    severity: Severity | None
    onset_date: date | None
    first_positive_sample_date: date | None
    reported_at: datetime
    detection_mode: DetectionMode
    found_in_community: bool
    owning_division_code: str
    current_division_code: str
    created_at: datetime
    updated_at: datetime


class CaseDetail(CaseRead):
    history: list[ChangeRead]


class CaseImportReport(BaseModel):
    file: str
    rows: int
    inserted: int
    updated: int
    unchanged: int
