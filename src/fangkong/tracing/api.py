"""Tracing API (thin): venues, check-ins, exposures and proposals, contact episodes, chains."""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Query, UploadFile

from fangkong.core.auth import Perm
from fangkong.core.division import DivisionCode
from fangkong.core.params import INT32_MAX, INT64_MAX, Int64
from fangkong.deps import AppSettings, CurrentActor, DbSession, needs
from fangkong.tracing import assist, chains, importer, infectors, interviews, service, venues
from fangkong.tracing.models import AssistRequest, ContactEpisode
from fangkong.tracing.schemas import (
    AssistAnswer,
    AssistCreate,
    AssistRead,
    ContactRead,
    ExposureCreate,
    ExposureRead,
    InfectorRead,
    InfectorSet,
    IngestReport,
    InterviewRead,
    InterviewSave,
    ProposalReport,
    Review_,
    ReviewMany,
    StatusUpdate,
    VenueCreate,
    VenueRead,
)
from fangkong.upload import read_upload

router = APIRouter(prefix="/tracing", tags=["tracing"])


def contact_read(contact: ContactEpisode) -> ContactRead:
    return ContactRead.model_validate({
        **{k: getattr(contact, k) for k in ContactRead.model_fields if hasattr(contact, k)},
        "hours_to_identification": service.hours_between(contact.case_reported_at,
                                                         contact.identified_at),
        "hours_to_management": service.hours_between(contact.case_reported_at,
                                                     contact.management_started_at)})


@router.get("/venue-types")
def venue_types() -> list[dict[str, Any]]:
    return venues.venue_types()


@router.post("/venues", response_model=VenueRead, status_code=201,
             dependencies=[needs(Perm.case_write)])
def create_venue(session: DbSession, actor: CurrentActor, data: VenueCreate) -> Any:
    return venues.create_venue(session, actor=actor, data=data)


@router.get("/venues", response_model=list[VenueRead])
def list_venues(session: DbSession, actor: CurrentActor, settings: AppSettings,
                division: DivisionCode | None = None,
                limit: Annotated[int, Query(ge=1, le=INT64_MAX)] = 100) -> Any:
    return venues.list_venues(session, actor=actor, division=division,
                              limit=min(limit, settings.page_size_max))


@router.post("/checkins/import", response_model=IngestReport,
             dependencies=[needs(Perm.person_write)])
def import_checkins(session: DbSession, actor: CurrentActor, settings: AppSettings,
                    file: Annotated[UploadFile, File()]) -> Any:
    """Check-ins (CSV or Parquet: person_id, venue_code, t_in, t_out) into the store."""
    data, name = read_upload(file, settings.import_max_bytes)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / Path(name).name
        path.write_bytes(data)
        return importer.ingest(session, actor=actor, source=path)


@router.post("/cases/{case_id}/proposals", response_model=ProposalReport,
             dependencies=[needs(Perm.case_write)])
def propose(session: DbSession, actor: CurrentActor, case_id: Int64) -> Any:
    """Household members, people co-present at venues and (where the pack has them) secondary
    contacts, each with the reason; review them with POST /tracing/exposures/{id}/review."""
    report = service.propose(session, actor=actor, case_id=case_id)
    return ProposalReport.model_validate(report, from_attributes=True)


@router.get("/cases/{case_id}/exposures", response_model=list[ExposureRead])
def case_exposures(session: DbSession, actor: CurrentActor, case_id: Int64) -> Any:
    return service.exposures_of(session, actor=actor, case_id=case_id)


@router.get("/cases/{case_id}/contacts", response_model=list[ContactRead])
def case_contacts(session: DbSession, actor: CurrentActor, case_id: Int64) -> Any:
    return [contact_read(c) for c in service.contacts_of(session, actor=actor, case_id=case_id)]


@router.post("/exposures", response_model=ExposureRead, status_code=201,
             dependencies=[needs(Perm.case_write)])
def add_exposure(session: DbSession, actor: CurrentActor, data: ExposureCreate) -> Any:
    return service.add_exposure(session, actor=actor, data=data)


@router.post("/exposures/review", response_model=list[ExposureRead],
             dependencies=[needs(Perm.case_write)])
def review_many(session: DbSession, actor: CurrentActor, data: ReviewMany) -> Any:
    """Confirm or reject many proposals at once (an epidemiologist going through a case's
    list): all or nothing, in the order given."""
    return service.review_many(session, actor=actor, exposure_ids=data.exposure_ids,
                               confirm=data.confirm, note=data.note)


@router.post("/exposures/{exposure_id}/review", response_model=ExposureRead,
             dependencies=[needs(Perm.case_write)])
def review(session: DbSession, actor: CurrentActor, exposure_id: Int64, data: Review_) -> Any:
    return service.review(session, actor=actor, exposure_id=exposure_id, confirm=data.confirm,
                          note=data.note)


@router.get("/contacts/{contact_id}", response_model=ContactRead)
def get_contact(session: DbSession, actor: CurrentActor, contact_id: Int64) -> Any:
    return contact_read(service.get_contact(session, actor=actor, contact_id=contact_id))


@router.post("/contacts/{contact_id}/status", response_model=ContactRead,
             dependencies=[needs(Perm.case_write)])
def set_status(session: DbSession, actor: CurrentActor, contact_id: Int64,
               data: StatusUpdate) -> Any:
    return contact_read(service.set_status(session, actor=actor, contact_id=contact_id,
                                           data=data))


Layout = Literal["network", "timeline"]


@router.get("/cases/{case_id}/chain")
def case_chain(session: DbSession, actor: CurrentActor, case_id: Int64,
               layout: Layout = "network") -> dict[str, Any]:
    """The case's cluster: nodes (cases, with generation) and edges (links, with dates)."""
    return chains.chain(session, actor=actor, case_id=case_id, layout=layout)


@router.get("/clusters")
def list_clusters(session: DbSession, actor: CurrentActor,
                  min_size: Annotated[int, Query(ge=1, le=INT32_MAX)] = 2) -> list[dict[str, Any]]:
    return chains.clusters(session, actor=actor, min_size=min_size)


@router.get("/clusters/{cluster_id}")
def get_cluster(session: DbSession, actor: CurrentActor, cluster_id: Int64,
                layout: Layout = "network") -> dict[str, Any]:
    return chains.cluster(session, actor=actor, cluster_id=cluster_id, layout=layout)


@router.get("/indicators")
def indicators(session: DbSession, actor: CurrentActor, start: date, end: date,
               not_seen_days: Annotated[int, Query(ge=1, le=60)] = 2,
               max_onset_gap_days: Annotated[int, Query(ge=1, le=60)] = 14) -> dict[str, Any]:
    """Share of new cases who were known contacts, cases in known chains, contacts not seen
    for N days, links whose onset gap suggests a missing case."""
    return chains.indicators(session, actor=actor, start=start, end=end,
                             not_seen_days=not_seen_days, max_onset_gap_days=max_onset_gap_days)


def assist_read(request: AssistRequest) -> AssistRead:
    read = AssistRead.model_validate(request)
    read.overdue = assist.is_overdue(request)
    return read


@router.post("/assist", response_model=AssistRead, status_code=201,
             dependencies=[needs(Perm.case_write)])
def send_assist(session: DbSession, actor: CurrentActor, data: AssistCreate) -> Any:
    """Send contacts who live in another jurisdiction to it (区域协查)."""
    return assist_read(assist.send(session, actor=actor, data=data))


@router.get("/assist", response_model=list[AssistRead])
def list_assist(session: DbSession, actor: CurrentActor, incoming: bool = True) -> Any:
    return [assist_read(r) for r in assist.list_(session, actor=actor, incoming=incoming)]


@router.get("/assist/{request_id}", response_model=AssistRead)
def get_assist(session: DbSession, actor: CurrentActor, request_id: Int64) -> Any:
    return assist_read(assist.get(session, actor=actor, request_id=request_id))


@router.post("/assist/{request_id}/accept", response_model=AssistRead,
             dependencies=[needs(Perm.case_write)])
def accept_assist(session: DbSession, actor: CurrentActor, request_id: Int64) -> Any:
    return assist_read(assist.accept(session, actor=actor, request_id=request_id))


@router.post("/assist/{request_id}/answer", response_model=AssistRead,
             dependencies=[needs(Perm.case_write)])
def answer_assist(session: DbSession, actor: CurrentActor, request_id: Int64,
                  data: AssistAnswer) -> Any:
    return assist_read(assist.answer(session, actor=actor, request_id=request_id, data=data))


@router.get("/cases/{case_id}/interview", response_model=InterviewRead | None)
def get_interview(session: DbSession, actor: CurrentActor, case_id: Int64) -> Any:
    """The case's 流调 interview (a draft or completed); null while none was saved."""
    return interviews.get(session, actor=actor, case_id=case_id)


@router.put("/cases/{case_id}/interview", response_model=InterviewRead,
            dependencies=[needs(Perm.case_write)])
def save_interview(session: DbSession, actor: CurrentActor, case_id: Int64,
                   data: InterviewSave) -> Any:
    """Save the case's interview as a draft, or complete it (its venue visits become the
    case's check-ins, the people named and the case's proposals wait for review). Refused
    (409) when ``version`` is not the interview's now, or it was completed."""
    return interviews.save(session, actor=actor, case_id=case_id, answers=data.answers,
                           version=data.version, complete=data.complete)


@router.get("/cases/{case_id}/infector", response_model=InfectorRead | None)
def get_infector(session: DbSession, actor: CurrentActor, case_id: Int64) -> Any:
    """Who infected the case, as an epidemiologist decided it; null while nobody did (the
    links of the case's exposures stand)."""
    return infectors.decided(session, actor=actor, case_id=case_id)


@router.put("/cases/{case_id}/infector", response_model=InfectorRead,
            dependencies=[needs(Perm.case_write)])
def set_infector(session: DbSession, actor: CurrentActor, case_id: Int64,
                 data: InfectorSet) -> Any:
    """Set (or clear: ``infector_case_id`` null, the source unknown) who infected the case,
    with the reason; refused when it would close a cycle or name a case the user may not
    read."""
    return infectors.set_infector(session, actor=actor, case_id=case_id, data=data)
