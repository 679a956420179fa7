"""API of stays (where persons are registered as staying): /api/v1/stays."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, UploadFile

from fangkong.core.auth import Perm
from fangkong.deps import AppSettings, CurrentActor, DbSession, needs
from fangkong.person import stays
from fangkong.upload import read_upload

router = APIRouter(prefix="/stays", tags=["persons"])


@router.post("", response_model=stays.StayImportReport, status_code=201,
             dependencies=[needs(Perm.person_write)])
def add_stay(session: DbSession, actor: CurrentActor, data: stays.StayIn) -> Any:
    """Register one stay (idempotent: the same person, division and ``since`` again is no
    change; a new ``until`` updates it)."""
    return stays.add(session, actor=actor, data=data)


@router.post("/import", response_model=stays.StayImportReport,
             dependencies=[needs(Perm.person_write)])
def import_stays(session: DbSession, actor: CurrentActor, settings: AppSettings,
                 file: Annotated[UploadFile, File()], encoding: str | None = None) -> Any:
    """CSV or XLSX ``person_ref,division_code,since[,until]``: every line checked, all or
    nothing, idempotent."""
    data, name = read_upload(file, settings.import_max_bytes)
    return stays.import_file(session, actor=actor, source=data, filename=name,
                             encoding=encoding)


@router.post("/requests", response_model=stays.StayRequestReceipt, status_code=202,
             dependencies=[needs(Perm.person_write)])
def request_stay(session: DbSession, actor: CurrentActor, data: stays.StayRequestIn) -> Any:
    """A visitor staying in your jurisdiction, by ref or ID number (暂住协查): the person's home
    jurisdiction is asked to confirm the stay; the answer is the same whether or not the ref or
    number names anyone. One of your own residents is registered at once."""
    return stays.request(session, actor=actor, data=data)


@router.get("/requests", response_model=list[stays.StayRequestRead])
def list_stay_requests(session: DbSession, actor: CurrentActor,
                       status: Literal["requested", "accepted", "declined", ""] = "requested"
                       ) -> Any:
    """Stays other districts registered for your residents, waiting for you (or all, with an
    empty ``status``)."""
    return stays.list_requests(session, actor=actor, status=status or None)


@router.post("/requests/{stay_id}/accept", response_model=stays.StayRequestRead,
             dependencies=[needs(Perm.person_write)])
def accept_stay(session: DbSession, actor: CurrentActor, stay_id: int) -> Any:
    """Confirm the stay of your resident: they count where they stay from now on."""
    return stays.decide(session, actor=actor, stay_id=stay_id, accept=True)


@router.post("/requests/{stay_id}/decline", response_model=stays.StayRequestRead,
             dependencies=[needs(Perm.person_write)])
def decline_stay(session: DbSession, actor: CurrentActor, stay_id: int) -> Any:
    return stays.decide(session, actor=actor, stay_id=stay_id, accept=False)


@router.get("", response_model=list[stays.StayRead])
def list_stays(session: DbSession, actor: CurrentActor, person_ref: str) -> Any:
    """A person's stays inside your jurisdiction, latest first."""
    return stays.list_for(session, actor=actor, person_ref=person_ref)
