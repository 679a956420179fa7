from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from fangkong.core.auth import Perm
from fangkong.core.division import DivisionCode
from fangkong.core.errors import NotFound
from fangkong.deps import CurrentActor, DbSession, needs
from fangkong.geo import service
from fangkong.geo.enums import Level
from fangkong.geo.messages import G
from fangkong.geo.schemas import DivisionDetail, DivisionRead, UnitCreate, UnitRead

router = APIRouter(tags=["divisions"])


@router.get("/divisions", response_model=list[DivisionRead])
def list_divisions(session: DbSession, _: CurrentActor, parent: DivisionCode | None = None,
                   within: DivisionCode | None = None, level: Level | None = None,
                   q: str | None = None) -> list[Any]:
    """Children of ``parent`` (provinces when omitted), all divisions ``within`` a code at a
    ``level``, or a name search ``q``."""
    if q:
        return service.search(session, q)
    if within:
        return service.descendants(session, within, level=level)
    return service.children(session, parent)


@router.get("/divisions/{code}", response_model=DivisionDetail)
def get_division(session: DbSession, _: CurrentActor, code: DivisionCode) -> DivisionDetail:
    division = service.get(session, code)
    return DivisionDetail(
        **DivisionRead.model_validate(division).model_dump(),
        ancestors=[DivisionRead.model_validate(a) for a in service.ancestors(session, code)],
    )


@router.get("/divisions/{code}/boundary")
def get_boundary(session: DbSession, _: CurrentActor, code: DivisionCode) -> dict[str, Any]:
    """The division's polygon as a GeoJSON Feature (GCJ-02 coordinates)."""
    found = service.boundary(session, code)
    division = service.get(session, code)
    return {"type": "Feature", "id": code, "geometry": found.geometry,
            "properties": {"code": code, "name": division.name,
                           "label_point": [found.label_lon, found.label_lat]}}


@router.get("/divisions/{code}/units", response_model=list[UnitRead])
def list_units(session: DbSession, _: CurrentActor, code: DivisionCode) -> list[Any]:
    return service.units_within(session, code)


@router.post("/units", response_model=UnitRead, status_code=201,
             dependencies=[needs(Perm.task_write)])
def create_unit(session: DbSession, actor: CurrentActor, data: UnitCreate) -> Any:
    actor.require(Perm.task_write)
    if not actor.covers(data.division_code):
        raise NotFound(G("division_not_found", code=data.division_code))
    return service.create_unit(session, data=data)
