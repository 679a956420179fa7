from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, File, UploadFile

from fangkong.core.auth import Perm
from fangkong.core.clock import utc_now
from fangkong.core.division import DivisionCode
from fangkong.core.params import Int64
from fangkong.deps import AppSettings, CurrentActor, DbSession, needs
from fangkong.isolation import service, transfers
from fangkong.isolation.schemas import (
    ArriveIn,
    AssignmentPlan,
    BatchAssign,
    BatchResult,
    BedsRow,
    ClockRow,
    ClockSummary,
    DispatchIn,
    MoveIn,
    MoveResult,
    OccupancyDay,
    ReleaseIn,
    ReleaseProposal,
    ReleaseResult,
    ReserveRow,
    RoomRead,
    SampleResultIn,
    SiteCreate,
    SiteRead,
    StayCreate,
    StayRead,
    StayTestRead,
    TransferCreate,
    TransferRead,
    VehicleCreate,
    VehicleRead,
)
from fangkong.upload import read_upload

router = APIRouter(prefix="/isolation", tags=["isolation"])


@router.post("/assign", response_model=AssignmentPlan,
             dependencies=[needs(Perm.isolation_read)])
def assign(actor: CurrentActor, settings: AppSettings, people: Annotated[UploadFile, File()],
           sites: Annotated[UploadFile, File()], pack: str | None = None) -> Any:
    """Planning mode: assign the people of one file to the rooms of the other (nothing is
    written). Same files and output as `fangkong isolation assign`."""
    actor.require(Perm.isolation_read)
    people_data, people_name = read_upload(people, settings.import_max_bytes)
    sites_data, sites_name = read_upload(sites, settings.import_max_bytes)
    return service.plan_assignment(people=people_data, sites=sites_data, pack=pack,
                                   people_name=people_name, sites_name=sites_name)


@router.post("/sites", response_model=SiteRead, status_code=201,
             dependencies=[needs(Perm.isolation_write)])
def create_site(session: DbSession, actor: CurrentActor, data: SiteCreate) -> Any:
    site = service.create_site(session, actor=actor, data=data)
    return SiteRead.model_validate(site).model_copy(update={
        "rooms": len(data.rooms), "beds": sum(r.capacity for r in data.rooms)})


@router.get("/sites", response_model=list[SiteRead])
def list_sites(session: DbSession, actor: CurrentActor,
               division: DivisionCode | None = None) -> Any:
    return [SiteRead.model_validate(s).model_copy(update={"rooms": n, "beds": b})
            for s, n, b in service.list_sites(session, actor=actor, division=division)]


@router.get("/sites/{site_id}/rooms", response_model=list[RoomRead])
def list_rooms(session: DbSession, actor: CurrentActor, site_id: Int64) -> Any:
    site = service.get_site(session, actor=actor, site_id=site_id)
    return service.rooms_of(session, site.id)


@router.get("/sites/{site_id}/occupancy", response_model=list[OccupancyDay])
def occupancy(session: DbSession, actor: CurrentActor, site_id: Int64, start: date,
              end: date) -> Any:
    """Exact people and occupied rooms per night."""
    return service.occupancy(session, actor=actor, site_id=site_id, start=start, end=end)


@router.post("/stays", response_model=StayRead, status_code=201,
             dependencies=[needs(Perm.isolation_write)])
def create_stay(session: DbSession, actor: CurrentActor, data: StayCreate) -> Any:
    """Place a person in a room (or at home), following the pack's plan for the role: dates and
    sampling tasks. A room already booked gives 409."""
    return service.stay_read(session, service.create_stay(session, actor=actor, data=data))


@router.get("/stays/{stay_id}", response_model=StayRead)
def get_stay(session: DbSession, actor: CurrentActor, stay_id: Int64) -> Any:
    return service.stay_read(session, service.get_stay(session, actor=actor, stay_id=stay_id))


@router.post("/stays/{stay_id}/tests", response_model=StayTestRead,
             dependencies=[needs(Perm.isolation_write)])
def record_test(session: DbSession, actor: CurrentActor, stay_id: Int64,
                data: SampleResultIn) -> Any:
    return service.record_test(session, actor=actor, stay_id=stay_id,
                               test_date=data.test_date, result=data.result)


@router.get("/release-proposals", response_model=list[ReleaseProposal])
def release_proposals(session: DbSession, actor: CurrentActor, on: date,
                      division: DivisionCode | None = None) -> Any:
    """Stays whose period is over: ready (every required test negative) or the tests missing."""
    return service.release_proposals(session, actor=actor, on=on, division=division)


@router.get("/clocks/transfers", response_model=list[ClockRow])
def person_clocks(session: DbSession, actor: CurrentActor,
                  division: DivisionCode | None = None) -> Any:
    """The clock of each admission transfer: hours so far or to arrival, over 24 h or not."""
    return transfers.person_clocks(session, actor=actor, now=utc_now(), division=division)


@router.post("/stays/{stay_id}/release", response_model=ReleaseResult,
             dependencies=[needs(Perm.isolation_write)])
def release(session: DbSession, actor: CurrentActor, stay_id: Int64, data: ReleaseIn) -> Any:
    """Release when the period is over and every required test is negative (409 naming the
    missing tests otherwise); the next phase's stay and the return transfer come back."""
    stay, nxt, transfer = service.release(session, actor=actor, stay_id=stay_id, on=data.on)
    return ReleaseResult(released=service.stay_read(session, stay),
                         next_stay=service.stay_read(session, nxt) if nxt else None,
                         transfer=TransferRead.model_validate(transfer) if transfer else None)


@router.post("/stays/{stay_id}/move", response_model=MoveResult,
             dependencies=[needs(Perm.isolation_write)])
def move_stay(session: DbSession, actor: CurrentActor, stay_id: Int64, data: MoveIn) -> Any:
    """Move a patient to another facility (severity changed): ends the stay, books the new room
    and plans an inter-facility transfer."""
    ended, new, transfer = service.move_stay(
        session, actor=actor, stay_id=stay_id, to_site_id=data.to_site_id,
        to_room_id=data.to_room_id, on=data.on, kind=data.kind, planned_end=data.planned_end)
    return MoveResult(ended=service.stay_read(session, ended),
                      new_stay=service.stay_read(session, new),
                      transfer=TransferRead.model_validate(transfer))


@router.post("/vehicles", response_model=VehicleRead, status_code=201,
             dependencies=[needs(Perm.isolation_write)])
def create_vehicle(session: DbSession, actor: CurrentActor, data: VehicleCreate) -> Any:
    return transfers.create_vehicle(session, actor=actor, data=data)


@router.post("/transfers", response_model=TransferRead, status_code=201,
             dependencies=[needs(Perm.isolation_write)])
def request_transfer(session: DbSession, actor: CurrentActor, data: TransferCreate) -> Any:
    """An admission transfer; its clock starts at the positive result or identification."""
    return transfers.request(session, actor=actor, data=data)


@router.post("/transfers/dispatch", response_model=list[TransferRead],
             dependencies=[needs(Perm.isolation_write)])
def dispatch(session: DbSession, actor: CurrentActor, data: DispatchIn) -> Any:
    """Put a batch on a vehicle (409 if kinds, classes or capacity do not allow it)."""
    return transfers.dispatch(session, actor=actor, vehicle_id=data.vehicle_id,
                              transfer_ids=data.transfer_ids, at=data.at)


@router.post("/transfers/{transfer_id}/arrival", response_model=TransferRead,
             dependencies=[needs(Perm.isolation_write)])
def arrive(session: DbSession, actor: CurrentActor, transfer_id: Int64, data: ArriveIn) -> Any:
    return transfers.arrive(session, actor=actor, transfer_id=transfer_id, at=data.at)


@router.get("/clocks", response_model=list[ClockSummary])
def clocks(session: DbSession, actor: CurrentActor, division: DivisionCode | None = None) -> Any:
    """Positive → arrival at hospital or shelter; identification → arrival at quarantine:
    median and 90th-percentile hours and the share within 24 h, per class and county."""
    return transfers.clocks(session, actor=actor, now=utc_now(), division=division)


@router.get("/beds", response_model=list[BedsRow])
def beds(session: DbSession, actor: CurrentActor, on: date,
         division: DivisionCode | None = None) -> Any:
    """Hospital beds by level (general, ICU): total and occupied on a night."""
    return transfers.beds(session, actor=actor, on=on, division=division)


@router.get("/reserve", response_model=list[ReserveRow])
def reserve(session: DbSession, actor: CurrentActor, on: date, division: DivisionCode | None = None,
            ratio: float | None = None) -> Any:
    """Reserve planning per county: rooms needed (occupied × planning ratio) against active and
    standby rooms."""
    return service.reserve(session, actor=actor, on=on, division=division, ratio=ratio)


@router.post("/assign/book", response_model=BatchResult, dependencies=[needs(Perm.isolation_write)])
def assign_and_book(session: DbSession, actor: CurrentActor, data: BatchAssign) -> Any:
    """Assign a batch (people with coordinates, roles, needs, households, case refs) to the free
    rooms of the active sites in your jurisdiction under every hard rule with the least total
    travel, and book every stay, all or nothing."""
    return service.assign_and_book(session, actor=actor, data=data)
