"""Local measures described as data, for the nine-prohibition checks. The fields of each kind
are documented in ``MEASURES.md``."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from fangkong.core.errors import Invalid, Problem
from fangkong.policy.enums import HealthCode, MeasureKind, PatientKind, PhaseKind
from fangkong.policy.loader import describe, dotted
from fangkong.policy.messages import P


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MeasurePhase(_Data):
    kind: PhaseKind
    days: int = Field(ge=1, le=366)


class _Measure(_Data):
    label: str | None = Field(None, description="Free text: who issued it, where, when.")


class Management(_Measure):
    kind: Literal["management"]
    role: str = Field(description="The people it applies to, in the pack's role vocabulary.")
    phases: list[MeasurePhase] = Field(default_factory=list)
    start_day: int = Field(1, ge=0, description="Day of the first phase (the anchor is day 0).")
    forced_return: bool = Field(False, description="Arrivals are turned back (劝返).")


class AreaControl(_Measure):
    kind: Literal["area_control"]
    level: str
    last_infection: date = Field(description="Report date of the zone's last infection (day 0).")
    held_until: date = Field(description="Last day the zone is kept at this level.")
    negative_rounds: list[date] | None = Field(
        None, description="Dates of negative area-wide rounds; null: assume they were on time.")
    path_level: str | None = None
    level_since: date | None = None


class TravelRestriction(_Measure):
    kind: Literal["travel_restriction"]
    from_levels: list[str] = Field(min_length=1, description="Levels of the areas whose people "
                                   "may not travel; 'none' = places in no risk area.")


class Driver(_Data):
    nat_within_hours: int | None = Field(None, ge=0, description="Age of the latest negative "
                                         "test in hours; null = none.")
    health_code: HealthCode | None = None
    from_level: str = "none"


class Checkpoint(_Measure):
    kind: Literal["checkpoint"]
    blocks: list[Driver] = Field(min_length=1, description="Drivers the checkpoint turns back.")


class CloseVenues(_Measure):
    kind: Literal["close_venues"]
    area_level: str
    venue_type: str
    essential: bool = Field(description="Keeps normal life and production going "
                                        "(保障正常生产生活).")


class DenyCare(_Measure):
    kind: Literal["deny_care"]
    patient: PatientKind
    grounds: Literal["epidemic_control", "other"]
    arranged_referral: bool = Field(False, description="A transfer to another facility that "
                                    "treats the patient was arranged.")


class StudentQuarantine(_Measure):
    kind: Literal["student_quarantine"]
    from_level: str = Field(description="Level of the area of the school the students leave.")
    meets_conditions: bool = Field(description="They meet the pack's conditions for leaving.")
    returning_home: bool = True
    phases: list[MeasurePhase] = Field(min_length=1)


Measure = Annotated[Management | AreaControl | TravelRestriction | Checkpoint | CloseVenues
                    | DenyCare | StudentQuarantine, Field(discriminator="kind")]
_MEASURES: TypeAdapter[list[Measure]] = TypeAdapter(list[Measure])
_KINDS = {k.value for k in MeasureKind}


def _loc(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """Drop the union tag pydantic puts after the measure's index."""
    if len(loc) > 1 and isinstance(loc[0], int) and loc[1] in _KINDS:
        return (loc[0], *loc[2:])
    return loc


def _message(error: Any) -> str:
    if error["type"] in ("union_tag_not_found", "union_tag_invalid"):
        return f"expected 'kind' to be one of: {', '.join(sorted(_KINDS))}"
    return describe(error)


def parse_measures(data: Any, *, file: str | None = None) -> list[Measure]:
    """A list of measures, validated; each problem names the measure's index and field."""
    try:
        return _MEASURES.validate_python(data)
    except ValidationError as exc:
        problems = [Problem(_message(e), field=dotted(_loc(tuple(e["loc"]))) or "measures",
                            file=file) for e in exc.errors()]
        raise Invalid(P("measures_invalid"), problems=problems) from None
