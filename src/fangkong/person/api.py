from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Query, UploadFile

from fangkong.core.auth import Perm
from fangkong.core.division import DivisionCode
from fangkong.core.pagination import Page
from fangkong.core.params import INT64_MAX, Int64
from fangkong.deps import AppSettings, CurrentActor, DbSession, needs
from fangkong.person import importer, service
from fangkong.person.schemas import (
    ImportReport,
    PersonCreate,
    PersonIdentifiers,
    PersonRead,
    PersonUpdate,
)
from fangkong.upload import read_upload

router = APIRouter(prefix="/persons", tags=["persons"])


@router.get("", response_model=Page[PersonRead])
def list_persons(
    session: DbSession, actor: CurrentActor, settings: AppSettings,
    division: DivisionCode | None = None, name: str | None = None, id_number: str | None = None,
    phone: str | None = None, household_ref: str | None = None, cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=INT64_MAX)] = 100,
) -> Page[Any]:
    """Persons in your jurisdiction, by division then id; identifiers masked. ``id_number`` and
    ``phone`` find exact matches (keyed hash) without decrypting anything."""
    items, nxt = service.list_(
        session, actor=actor, division=division, name=name, id_number=id_number, phone=phone,
        household_ref=household_ref, cursor=cursor, limit=min(limit, settings.page_size_max))
    return Page(items=[PersonRead.model_validate(p) for p in items], next_cursor=nxt)


@router.post("", response_model=PersonRead, status_code=201,
             dependencies=[needs(Perm.person_write)])
def create_person(session: DbSession, actor: CurrentActor, data: PersonCreate) -> Any:
    return service.create(session, actor=actor, data=data)


@router.post("/import", response_model=ImportReport, dependencies=[needs(Perm.person_write)])
def import_persons(session: DbSession, actor: CurrentActor, settings: AppSettings,
                   file: Annotated[UploadFile, File()], encoding: str | None = None) -> Any:
    """CSV or XLSX; every line checked; the batch lands whole or not at all; idempotent."""
    data, name = read_upload(file, settings.import_max_bytes)
    return importer.import_file(session, actor=actor, source=data, filename=name,
                                encoding=encoding)


@router.get("/{person_id}", response_model=PersonRead)
def get_person(session: DbSession, actor: CurrentActor, person_id: Int64) -> Any:
    return service.get(session, actor=actor, person_id=person_id)


@router.get("/{person_id}/identifiers", response_model=PersonIdentifiers)
def get_identifiers(session: DbSession, actor: CurrentActor, person_id: Int64) -> Any:
    """Unmasked identity number and phone; the read is audited field by field."""
    return service.identifiers(session, actor=actor, person_id=person_id)


@router.patch("/{person_id}", response_model=PersonRead, dependencies=[needs(Perm.person_write)])
def update_person(session: DbSession, actor: CurrentActor, person_id: Int64,
                  data: PersonUpdate) -> Any:
    return service.update(session, actor=actor, person_id=person_id, data=data)
