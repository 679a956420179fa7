from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from fangkong.core.division import DivisionCode
from fangkong.person.enums import IdType, Sex


class PersonCreate(BaseModel):
    """Fields are checked by ``person.records.normalise``, the same code the importer uses."""

    ref: str = Field(description="Identifier an external system uses; unique.")
    name: str
    sex: Sex | None = None
    birth_date: date | None = None
    id_type: IdType | None = None
    id_number: str | None = None
    phone: str | None = None
    address: str | None = None
    division_code: DivisionCode = Field(
        description="Division of the address (village, town or county).")
    household_ref: str | None = None
    synthetic: bool = False


class PersonUpdate(BaseModel):
    name: str | None = None
    sex: Sex | None = None
    birth_date: date | None = None
    id_type: IdType | None = None
    id_number: str | None = None
    phone: str | None = None
    address: str | None = None
    division_code: DivisionCode | None = None
    household_ref: str | None = None


class PersonRead(BaseModel):
    """What lists and detail pages show: identifiers masked."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    ref: str
    name: str
    sex: Sex
    birth_date: date | None
    id_type: IdType | None
    id_number_masked: str | None
    phone_masked: str | None
    address: str | None
    division_code: str
    household_ref: str | None
    synthetic: bool
    created_at: datetime
    updated_at: datetime


class PersonIdentifiers(BaseModel):
    """Unmasked identifiers: returned only on an explicit, audited request."""

    id: int
    id_type: IdType | None
    id_number: str | None
    phone: str | None


class ImportReport(BaseModel):
    file: str
    rows: int
    inserted: int
    updated: int
    unchanged: int
