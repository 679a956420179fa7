from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from fangkong.core.division import DivisionCode
from fangkong.core.params import Int64
from fangkong.geo.enums import Level, UnitKind


class DivisionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    level: Level
    parent_code: str | None


class DivisionDetail(DivisionRead):
    ancestors: list[DivisionRead]


class UnitCreate(BaseModel):
    code: str = Field(min_length=1, max_length=50)
    name: str = Field(min_length=1, max_length=200)
    kind: UnitKind
    division_code: DivisionCode
    parent_unit_id: Int64 | None = None


class UnitRead(UnitCreate):
    model_config = ConfigDict(from_attributes=True)

    id: int


class LoadReport(BaseModel):
    divisions: int
    boundaries: int
