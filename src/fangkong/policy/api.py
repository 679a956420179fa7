"""Read-only policy endpoints: the packs and the computations over them. Any signed-in user."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from fangkong.core.http import request_lang
from fangkong.deps import CurrentActor
from fangkong.policy import service
from fangkong.policy.schemas import CheckReport, PackSummary, Plan, Window, ZoneSchedule

router = APIRouter(prefix="/policy", tags=["policy"])
PackQuery = Query(None, description="Pack id; default: the deployment's active pack.")


@router.get("/packs", response_model=list[PackSummary])
def list_packs(_: CurrentActor) -> list[PackSummary]:
    return [service.summary(p) for p in service.packs()]


@router.get("/packs/{pack_id}")
def get_pack(_: CurrentActor, pack_id: str) -> dict[str, Any]:
    """The pack with ``extends`` resolved: every rule with its sources and ambiguities."""
    return service.get_pack(pack_id).model_dump(mode="json")


@router.get("/plan", response_model=Plan)
def plan(request: Request, _: CurrentActor, role: str, anchor: date,
         pack: str | None = PackQuery) -> Plan:
    """What day 0 is, in the language of ``Accept-Language`` (English by default)."""
    return service.plan(pack, role, anchor).in_lang(request_lang(request))


@router.get("/lookback", response_model=Window)
def lookback(request: Request, _: CurrentActor, onset: date | None = None,
             first_positive_sample: date | None = None, isolated_on: date | None = None,
             last_negative_sample: date | None = None, symptoms_resolved: date | None = None,
             pack: str | None = PackQuery) -> Window:
    """The basis in the language of ``Accept-Language`` (English by default)."""
    return service.lookback_window(pack, onset=onset, first_positive_sample=first_positive_sample,
                                   isolated_on=isolated_on,
                                   last_negative_sample=last_negative_sample,
                                   symptoms_resolved=symptoms_resolved).in_lang(
                                       request_lang(request))


@router.get("/zone-schedule", response_model=ZoneSchedule)
def zone_schedule(request: Request, _: CurrentActor, level: str, last_infection: date,
                  path_level: str | None = None, level_since: date | None = None,
                  pack: str | None = PackQuery) -> ZoneSchedule:
    """The note in the language of ``Accept-Language`` (English by default)."""
    return service.zone_schedule(pack, level, last_infection, path_level=path_level,
                                 level_since=level_since).in_lang(request_lang(request))


class CheckIn(BaseModel):
    pack: str | None = Field(None, description="Default: the deployment's active pack.")
    measures: list[dict[str, Any]] = Field(description="See MEASURES.md for each kind.")


@router.post("/check", response_model=CheckReport)
def check(request: Request, _: CurrentActor, data: CheckIn) -> CheckReport:
    """Each reason and note in the language of ``Accept-Language`` (English by default)."""
    report = service.check_measures(data.pack, service.parse_measures(data.measures))
    return report.in_lang(request_lang(request))
