from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Query, UploadFile

from fangkong.case import importer, service
from fangkong.case.enums import Classification
from fangkong.case.models import Case
from fangkong.case.schemas import CaseCreate, CaseDetail, CaseImportReport, CaseRead, Reclassify
from fangkong.core.auth import Perm
from fangkong.core.division import DivisionCode
from fangkong.core.pagination import Page
from fangkong.core.params import INT64_MAX, Int64
from fangkong.deps import AppSettings, CurrentActor, DbSession, needs
from fangkong.upload import read_upload

router = APIRouter(prefix="/cases", tags=["cases"])


def _read(case: Case, detail: bool = False) -> CaseRead:
    schema = CaseDetail if detail else CaseRead
    return schema.model_validate(
        {**{k: getattr(case, k) for k in schema.model_fields if hasattr(case, k)},
         "found_in_community": case.detection_mode.community}
    )


@router.get("", response_model=Page[CaseRead])
def list_cases(
    session: DbSession, actor: CurrentActor, settings: AppSettings,
    division: DivisionCode | None = None, classification: Classification | None = None,
    disease: str | None = None, cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=INT64_MAX)] = 100,
) -> Page[Any]:
    """Cases owned by or located in your jurisdiction, newest first."""
    items, nxt = service.list_(session, actor=actor, division=division,
                               classification=classification, disease=disease, cursor=cursor,
                               limit=min(limit, settings.page_size_max))
    return Page(items=[_read(c) for c in items], next_cursor=nxt)


@router.post("", response_model=CaseDetail, status_code=201, dependencies=[needs(Perm.case_write)])
def create_case(session: DbSession, actor: CurrentActor, data: CaseCreate) -> Any:
    return _read(service.create(session, actor=actor, data=data), detail=True)


@router.post("/import", response_model=CaseImportReport, dependencies=[needs(Perm.case_write)])
def import_cases(session: DbSession, actor: CurrentActor, settings: AppSettings,
                 file: Annotated[UploadFile, File()], encoding: str | None = None) -> Any:
    data, name = read_upload(file, settings.import_max_bytes)
    return importer.import_file(session, actor=actor, source=data, filename=name,
                                encoding=encoding)


@router.get("/{case_id}", response_model=CaseDetail)
def get_case(session: DbSession, actor: CurrentActor, case_id: Int64) -> Any:
    return _read(service.get(session, actor=actor, case_id=case_id), detail=True)


@router.post("/{case_id}/classification", response_model=CaseDetail,
             dependencies=[needs(Perm.case_write)])
def reclassify(session: DbSession, actor: CurrentActor, case_id: Int64, data: Reclassify) -> Any:
    """Change the classification (or severity); the step is kept in the case's history."""
    return _read(service.reclassify(session, actor=actor, case_id=case_id, data=data),
                 detail=True)
