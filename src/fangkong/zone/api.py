from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from fangkong.core.auth import Perm
from fangkong.core.division import DivisionCode
from fangkong.core.headers import csp_nonce
from fangkong.core.http import request_lang
from fangkong.core.params import Int64
from fangkong.deps import CurrentActor, DbSession, needs
from fangkong.zone import service
from fangkong.zone.enums import (
    LANGUAGES,
    LEVEL_LABELS,
    NOTICE_TEXT,
    ProposalStatus,
    ZoneStatus,
)
from fangkong.zone.schemas import (
    ConditionIn,
    EvaluationRow,
    InfectionIn,
    LevelChange,
    Lift,
    ProposalRead,
    PublicNotice,
    RoundIn,
    ZoneBreach,
    ZoneCreate,
    ZoneDetail,
    ZoneRead,
)

router = APIRouter(prefix="/zones", tags=["zones"])
public_router = APIRouter(prefix="/public", tags=["public"])
checks_router = APIRouter(prefix="/zone-checks", tags=["zones"])


@router.get("", response_model=list[ZoneRead])
def list_zones(session: DbSession, actor: CurrentActor, division: DivisionCode | None = None,
               status: ZoneStatus | None = ZoneStatus.active, level: str | None = None) -> Any:
    return service.list_(session, actor=actor, division=division, status=status, level=level)


@router.post("", response_model=ZoneDetail, status_code=201, dependencies=[needs(Perm.case_write)])
def designate(session: DbSession, actor: CurrentActor, data: ZoneCreate) -> Any:
    """Designate a zone at a level of the active pack (or the pack named)."""
    return service.designate(session, actor=actor, data=data)


@router.get("/proposals", response_model=list[ProposalRead])
def list_proposals(session: DbSession, actor: CurrentActor,
                   status: ProposalStatus | None = ProposalStatus.pending) -> Any:
    return service.proposals(session, actor=actor, status=status)


@router.post("/proposals/{proposal_id}/approve", response_model=ProposalRead,
             dependencies=[needs(Perm.zone_approve)])
def approve(session: DbSession, actor: CurrentActor, proposal_id: Int64) -> Any:
    return service.decide(session, actor=actor, proposal_id=proposal_id, approve=True)


@router.post("/proposals/{proposal_id}/reject", response_model=ProposalRead,
             dependencies=[needs(Perm.zone_approve)])
def reject(session: DbSession, actor: CurrentActor, proposal_id: Int64) -> Any:
    return service.decide(session, actor=actor, proposal_id=proposal_id, approve=False)


@router.post("/evaluate", response_model=list[EvaluationRow], dependencies=[needs(Perm.case_write)])
def evaluate(session: DbSession, actor: CurrentActor, on: date | None = None,
             zone_id: list[int] | None = Query(None)) -> Any:
    """Apply the pack's lifting rules to every active zone, or to the zones given with
    ``zone_id`` (repeated), the daily evaluation."""
    return service.evaluate(session, actor=actor, on=on, zone_ids=zone_id)


@router.get("/{zone_id}", response_model=ZoneDetail)
def get_zone(session: DbSession, actor: CurrentActor, zone_id: Int64) -> Any:
    return service.get(session, actor=actor, zone_id=zone_id)


@router.post("/{zone_id}/level", response_model=ZoneDetail, dependencies=[needs(Perm.zone_approve)])
def change_level(session: DbSession, actor: CurrentActor, zone_id: Int64,
                 data: LevelChange) -> Any:
    return service.change_level(session, actor=actor, zone_id=zone_id, data=data)


@router.post("/{zone_id}/lift", response_model=ZoneDetail, dependencies=[needs(Perm.zone_approve)])
def lift(session: DbSession, actor: CurrentActor, zone_id: Int64, data: Lift) -> Any:
    return service.lift(session, actor=actor, zone_id=zone_id, data=data)


@router.post("/{zone_id}/infections", response_model=ZoneDetail,
             dependencies=[needs(Perm.case_write)])
def add_infection(session: DbSession, actor: CurrentActor, zone_id: Int64,
                  data: InfectionIn) -> Any:
    """A new infection in the zone restarts its lifting clock."""
    return service.add_infection(session, actor=actor, zone_id=zone_id, data=data)


@router.post("/{zone_id}/rounds", response_model=ZoneDetail, dependencies=[needs(Perm.case_write)])
def record_round(session: DbSession, actor: CurrentActor, zone_id: Int64, data: RoundIn) -> Any:
    return service.record_round(session, actor=actor, zone_id=zone_id, data=data)


@public_router.get("/zones", response_model=PublicNotice)
def public_zones(session: DbSession, division: DivisionCode | None = None,
                 on: date | None = None) -> Any:
    """The public notice of risk areas (风险区域公告), with the changes since yesterday. Needs
    no sign-in: it holds places and levels only."""
    return service.public_notice(session, division=division, on=on)


@router.post("/{zone_id}/conditions", response_model=ZoneDetail,
             dependencies=[needs(Perm.case_write)])
def confirm_condition(session: DbSession, actor: CurrentActor, zone_id: Int64,
                      data: ConditionIn) -> Any:
    """Confirm a manual lifting condition of the pack (named by the evaluation)."""
    return service.confirm_condition(session, actor=actor, zone_id=zone_id, data=data)


@checks_router.get("/prohibitions", response_model=list[ZoneBreach])
def prohibition_breaches(request: Request, session: DbSession, actor: CurrentActor,
                         on: date | None = None) -> Any:
    """Active zones whose handling breaks one of the nine prohibitions (九不准)."""
    lang = request_lang(request)
    return [b.in_lang(lang) for b in service.prohibition_breaches(session, actor=actor, on=on)]


_templates = Environment(loader=PackageLoader("fangkong.zone", "templates"),
                         autoescape=select_autoescape())


@public_router.get("/zones.html", response_class=HTMLResponse)
def public_zones_page(request: Request, session: DbSession, division: DivisionCode | None = None,
                      lang: str = Query("zh-Hans", pattern="^(zh-Hans|zh-Hant|en)$")) -> str:
    """The public notice of risk areas as a page, in simplified or traditional Chinese or
    English."""
    notice = service.public_notice(session, division=division)
    return _templates.get_template("notice.html").render(
        notice=notice, lang=lang, t=NOTICE_TEXT[lang], labels=LEVEL_LABELS,
        languages=LANGUAGES, division=division, nonce=csp_nonce(request))
