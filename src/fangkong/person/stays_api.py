"""API of stays (where persons are registered as staying): /api/v1/stays."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, UploadFile

from fangkong.deps import AppSettings, CurrentActor, DbSession
from fangkong.person import stays
from fangkong.upload import read_upload

router = APIRouter(prefix="/stays", tags=["persons"])


@router.post("", response_model=stays.StayImportReport, status_code=201)
def add_stay(session: DbSession, actor: CurrentActor, data: stays.StayIn) -> Any:
    """Register one stay (idempotent: the same person, division and ``since`` again is no
    change; a new ``until`` updates it)."""
    return stays.add(session, actor=actor, data=data)


@router.post("/import", response_model=stays.StayImportReport)
def import_stays(session: DbSession, actor: CurrentActor, settings: AppSettings,
                 file: Annotated[UploadFile, File()], encoding: str | None = None) -> Any:
    """CSV or XLSX ``person_ref,division_code,since[,until]``: every line checked, all or
    nothing, idempotent."""
    data, name = read_upload(file, settings.import_max_bytes)
    return stays.import_file(session, actor=actor, source=data, filename=name,
                             encoding=encoding)


@router.get("", response_model=list[stays.StayRead])
def list_stays(session: DbSession, actor: CurrentActor, person_ref: str) -> Any:
    """A person's stays inside your jurisdiction, latest first."""
    return stays.list_for(session, actor=actor, person_ref=person_ref)
