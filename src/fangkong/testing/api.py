"""Mass testing over HTTP: rounds, tubes, points, labs, bulk samples and results, status,
coverage, the not-yet-sampled list (JSON or CSV), the positive-pool queue, advice, key groups."""

from __future__ import annotations

import io
from typing import Annotated, Any

from fastapi import APIRouter, File, Query, UploadFile
from fastapi.responses import Response

from fangkong.core.auth import Perm
from fangkong.core.division import DivisionCode, DivisionCodes
from fangkong.core.params import INT64_MAX, Int64
from fangkong.core.tabular import csv_writer
from fangkong.deps import AppSettings, CurrentActor, DbSession, needs
from fangkong.testing import importer, service
from fangkong.testing.schemas import (
    Advice,
    ComplianceRow,
    Coverage,
    Created,
    FollowupRead,
    ImportReport,
    KeyGroupCreate,
    KeyGroupRead,
    LabCreate,
    Plan,
    PointCreate,
    RoundCreate,
    RoundCreated,
    RoundRead,
    SeriesAdvice,
    Status,
    TubeIssue,
    TubeIssueReport,
    TurnaroundRow,
    UnsampledRow,
)
from fangkong.upload import read_upload

router = APIRouter(prefix="/testing", tags=["testing"])


@router.post("/rounds", response_model=RoundCreated, status_code=201,
             dependencies=[needs(Perm.testing_write)])
def create_round(session: DbSession, actor: CurrentActor, data: RoundCreate) -> Any:
    """A round over an area; ``zones`` gives division zone levels, ``site_person_refs`` the
    persons in quarantine sites (both decide the tube size per person under the pack)."""
    return service.create_round(session, actor=actor, data=data)


@router.get("/rounds/{round_id}", response_model=RoundRead)
def get_round(session: DbSession, actor: CurrentActor, round_id: Int64) -> Any:
    return service.get_round(session, actor=actor, round_id=round_id)


@router.post("/rounds/{round_id}/close", response_model=RoundRead,
             dependencies=[needs(Perm.testing_write)])
def close_round(session: DbSession, actor: CurrentActor, round_id: Int64) -> Any:
    """Close a round: it leaves the open rounds; its results still land."""
    return service.close_round(session, actor=actor, round_id=round_id)


@router.post("/rounds/{round_id}/tubes", response_model=TubeIssueReport,
             dependencies=[needs(Perm.testing_write)])
def issue_tubes(session: DbSession, actor: CurrentActor, round_id: Int64, data: TubeIssue) -> Any:
    return service.issue_tubes(session, actor=actor, round_id=round_id, data=data)


@router.post("/rounds/{round_id}/samples", response_model=ImportReport,
             dependencies=[needs(Perm.testing_write)])
def import_samples(session: DbSession, actor: CurrentActor, settings: AppSettings,
                   round_id: Int64, file: Annotated[UploadFile, File()],
                   encoding: str | None = None) -> Any:
    """CSV/XLSX ``tube_id,person_ref,sampled_at,point_id``: all or nothing, idempotent."""
    data, name = read_upload(file, settings.import_max_bytes)
    return importer.import_samples(session, actor=actor, round_id=round_id, source=data,
                                   filename=name, encoding=encoding)


@router.post("/results", response_model=ImportReport, dependencies=[needs(Perm.testing_write)])
def import_results(session: DbSession, actor: CurrentActor, settings: AppSettings,
                   file: Annotated[UploadFile, File()], encoding: str | None = None) -> Any:
    """CSV/XLSX ``tube_id,result,reported_at,lab_id[,ct,received_at,tested_at]``."""
    data, name = read_upload(file, settings.import_max_bytes)
    return importer.import_results(session, actor=actor, source=data, filename=name,
                                   encoding=encoding)


@router.get("/rounds/{round_id}/status", response_model=Status)
def status(session: DbSession, actor: CurrentActor, round_id: Int64) -> Any:
    return service.status(session, actor=actor, round_id=round_id)


@router.get("/rounds/{round_id}/coverage", response_model=Coverage)
def coverage(session: DbSession, actor: CurrentActor, round_id: Int64,
             within: DivisionCode | None = None, digits: Int64 = 6) -> Any:
    return service.coverage(session, actor=actor, round_id=round_id, within_code=within,
                            digits=digits)


@router.get("/rounds/{round_id}/unsampled", response_model=list[UnsampledRow])
def unsampled(session: DbSession, actor: CurrentActor, settings: AppSettings, round_id: Int64,
              within: DivisionCode | None = None, after_id: Int64 = 0,
              limit: Annotated[int, Query(ge=1, le=INT64_MAX)] = 500, format: str = "json") -> Any:
    """Persons not yet sampled, in your jurisdiction, by person id after ``after_id``;
    ``format=csv`` exports all of them as CSV."""
    if format == "csv":
        buf = io.StringIO()
        writer = csv_writer(buf)
        writer.writerow(["ref", "name", "division_code", "household_ref"])
        for row in service.iter_unsampled(session, actor=actor, round_id=round_id,
                                          within_code=within):
            writer.writerow([row.ref, row.name, row.division_code, row.household_ref or ""])
        return Response(buf.getvalue().encode("utf-8-sig"), media_type="text/csv",
                        headers={"Content-Disposition":
                                 f'attachment; filename="unsampled-round-{round_id}.csv"'})
    return service.unsampled(session, actor=actor, round_id=round_id, within_code=within,
                             after_id=after_id, limit=min(limit, settings.page_size_max))


@router.get("/followups", response_model=list[FollowupRead])
def followups(session: DbSession, actor: CurrentActor, round_id: Int64 | None = None,
              open_only: bool = True) -> Any:
    """The positive-pool queue, oldest first."""
    return service.queue(session, actor=actor, round_id=round_id, open_only=open_only)


@router.get("/advice", response_model=Advice)
def advice(session: DbSession, actor: CurrentActor, prevalence: float,
           population: Int64 | None = None, round_id: Int64 | None = None,
           lab_capacity: Int64 | None = None, pack: str | None = None) -> Any:
    return service.advise(session, prevalence=prevalence, population=population,
                          round_id=round_id, actor=actor, lab_capacity=lab_capacity, pack=pack)


@router.get("/plan", response_model=Plan)
def plan(session: DbSession, actor: CurrentActor, area: DivisionCodes,
         pack: str | None = None) -> Any:
    return service.plan(session, actor=actor, area=[c for c in area.split(",") if c],
                        pack=pack)


@router.get("/series/{series}", response_model=SeriesAdvice)
def series(session: DbSession, actor: CurrentActor, series: str) -> Any:
    return service.series_advice(session, actor=actor, series=series)


@router.post("/points", response_model=Created, status_code=201,
             dependencies=[needs(Perm.testing_write)])
def create_point(session: DbSession, actor: CurrentActor, data: PointCreate) -> Any:
    return Created(id=service.create_point(session, actor=actor, data=data).id)


@router.post("/labs", response_model=Created, status_code=201,
             dependencies=[needs(Perm.testing_write)])
def create_lab(session: DbSession, actor: CurrentActor, data: LabCreate) -> Any:
    return Created(id=service.create_lab(session, actor=actor, data=data).id)


@router.post("/keygroups", response_model=KeyGroupRead, status_code=201,
             dependencies=[needs(Perm.testing_write)])
def create_key_group(session: DbSession, actor: CurrentActor, data: KeyGroupCreate) -> Any:
    return service.create_key_group(session, actor=actor, data=data)


@router.post("/keygroups/{group_id}/members", dependencies=[needs(Perm.testing_write)])
def add_members(session: DbSession, actor: CurrentActor, group_id: Int64,
                refs: list[str]) -> dict[str, int]:
    return {"added": service.add_key_group_members(session, actor=actor, group_id=group_id,
                                                   refs=refs)}


@router.get("/keygroups/{group_id}/compliance", response_model=list[ComplianceRow])
def compliance(session: DbSession, actor: CurrentActor, group_id: Int64,
               overdue_only: bool = False) -> Any:
    return service.compliance(session, actor=actor, group_id=group_id,
                              overdue_only=overdue_only)


@router.get("/rounds/{round_id}/turnaround", response_model=list[TurnaroundRow])
def turnaround(session: DbSession, actor: CurrentActor, round_id: Int64) -> Any:
    """Hours from sample to result, for the round (``lab`` null) and per lab."""
    return service.turnaround(session, actor=actor, round_id=round_id)
