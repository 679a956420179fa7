from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from fangkong.core.division import DivisionCode
from fangkong.core.messages import render, traditional
from fangkong.core.params import INT32_MAX, Int64
from fangkong.zone.enums import EventKind, ProposalStatus, ZoneStatus


class MemberIn(BaseModel):
    division_code: DivisionCode
    detail: str | None = Field(None, max_length=300, description="Buildings or units, e.g. 3栋")


class ZoneCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    level: str = Field(description="A level of the pack's vocabulary, e.g. high or sealed.")
    owning_division_code: DivisionCode = Field(
        description="The jurisdiction that designates the zone.")
    members: list[MemberIn] = Field(min_length=1)
    polygon: dict[str, Any] | None = Field(None, description="GeoJSON geometry (GCJ-02).")
    population: int | None = Field(None, ge=0, le=INT32_MAX)
    last_infection_date: date = Field(description="Report date of its latest infection (day 0).")
    case_ids: list[Int64] = []
    reason: str | None = None
    pack_id: str | None = Field(None, description="Default: the deployment's active pack.")


class LevelChange(BaseModel):
    to_level: str
    reason: str = Field(min_length=1)


class Lift(BaseModel):
    reason: str = Field(min_length=1)


class InfectionIn(BaseModel):
    reported_date: date
    case_id: Int64 | None = None
    note: str | None = None


class RoundIn(BaseModel):
    round_date: date
    all_negative: bool


class MemberRead(MemberIn):
    model_config = ConfigDict(from_attributes=True)


class EventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    at: datetime
    on_date: date
    by: str
    kind: EventKind
    from_level: str | None
    to_level: str | None
    case_id: int | None
    basis: str
    reason: str | None
    condition: str | None


class RoundRead(RoundIn):
    model_config = ConfigDict(from_attributes=True)


class ZoneRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    level: str
    status: ZoneStatus
    pack_id: str
    pack_version: str
    owning_division_code: str
    population: int | None
    last_infection_date: date
    designated_on: date
    lifted_on: date | None
    members: list[MemberRead]


class ZoneDetail(ZoneRead):
    polygon: dict[str, Any] | None
    events: list[EventRead]
    rounds: list[RoundRead]


class ProposalRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    zone_id: int
    proposed_on: date
    from_level: str
    to_level: str | None
    lift: bool
    status: ProposalStatus
    reason: str
    decided_by: str | None
    decided_at: datetime | None


class EvaluationRow(BaseModel):
    """One active zone after the daily evaluation: what is due, or what is still missing."""

    zone_id: int
    code: str
    level: str
    due: str | None = Field(None, description="to_level, or 'lift', when a change is due today")
    requires: list[str] = []
    reason: str = ""
    effective: date | None = Field(None, description="Earliest date of the next change.")
    proposal_id: int | None = None
    applied: bool = False


class ConditionIn(BaseModel):
    condition: str = Field(description="Id of a manual lifting condition of the pack.")
    note: str | None = None


class ZoneBreach(BaseModel):
    """A zone whose handling breaks one of the nine prohibitions (九不准) under its pack."""

    zone_id: int
    code: str
    level: str
    prohibition: int
    text: str
    why: str = Field(description="Why, in the language asked for (Accept-Language; English "
                     "by default).")
    _why: Any = PrivateAttr(None)

    @classmethod
    def of(cls, *, why: Any, **fields: Any) -> ZoneBreach:
        """A breach whose reason is a message (:class:`fangkong.core.messages.Text`)."""
        out = cls(why=str(why), **fields)
        out._why = why
        return out

    def why_in(self, lang: str) -> str:
        return str(render(self._why if self._why is not None else self.why, lang))

    def in_lang(self, lang: str) -> ZoneBreach:
        out = self.model_copy(update={"why": self.why_in(lang),
                                      "text": traditional(self.text) if lang == "zh-Hant"
                                      else self.text})
        return out


class PublicZone(BaseModel):
    code: str
    name: str
    level: str
    level_label: dict[str, str]
    divisions: list[str]
    since: date


class PublicChange(BaseModel):
    code: str
    name: str
    kind: str
    from_level: str | None
    to_level: str | None
    on_date: date


class PublicNotice(BaseModel):
    """The public notice of risk areas (风险区域公告): no personal data."""

    as_of: date
    zones: list[PublicZone]
    changes_since_yesterday: list[PublicChange]
