from __future__ import annotations

from collections import Counter
from datetime import datetime
from pathlib import Path

import typer
from rich.table import Table

from fangkong.cliutil import JsonOpt, cli_actor, console, db_session, emit, handle_errors, say
from fangkong.core.clock import utc_now
from fangkong.core.division import cli_option
from fangkong.core.errors import Invalid
from fangkong.isolation import service, transfers
from fangkong.isolation.enums import MedicalLevel, SampleResult, SiteStatus, SiteType, StayKind
from fangkong.isolation.messages import ISO, label
from fangkong.isolation.schemas import (
    ReleaseResult,
    RoomSpec,
    SiteCreate,
    SiteRead,
    StayCreate,
    StayTestRead,
    TransferRead,
)


def _table(*columns: str) -> Table:
    """A table whose columns are named in the command line's language."""
    return Table(*(say(ISO(f"col.{c}")) for c in columns))


DivisionOpt = typer.Option(None, callback=cli_option, help="Only inside this division.")
app = typer.Typer(help="Transfer and isolation (转运隔离): sites, rooms, assignment.",
                  no_args_is_help=True)


@app.command("assign")
@handle_errors
def assign(
    people: Path = typer.Option(..., "--people", help="CSV/XLSX: person_ref, household_ref, "
                                "role, needs, lon, lat (and optionally case_ref)."),
    sites: Path = typer.Option(..., "--sites", help="CSV/XLSX: site_id, type, lon, lat, rooms, "
                               "room_capacity, family_rooms, accessible_rooms, medical_level."),
    pack: str | None = typer.Option(None, "--pack", help="Policy pack (default: the active "
                                    "pack setting)."),
    as_json: bool = JsonOpt,
) -> None:
    """Plan: assign people to rooms under every hard rule with the least total travel
    distance (from files; nothing is written to the database)."""
    result = service.plan_assignment(people=people, sites=sites, pack=pack)

    def text() -> None:
        table = Table(title=say(ISO("cli.assigned", assigned=len(result.assignments),
                                    unassigned=len(result.unassigned),
                                    km=f"{result.total_distance_km:.1f}")))
        table.add_column(say(ISO("col.site")))
        table.add_column(say(ISO("col.people")), justify="right")
        for site, n in sorted(Counter(a.site_id for a in result.assignments).items()):
            table.add_row(site, str(n))
        console.print(table)
        for row in result.unassigned[:50]:
            console.print(f"  {row.person_ref}: {row.reason}", markup=False)

    emit(result, as_json, text)


@app.command("routes")
@handle_errors
def routes(
    requests: Path = typer.Option(..., "--requests", help="CSV/XLSX: person_ref, role, lon, "
                                  "lat, site_id, earliest, latest (HH:MM)."),
    sites: Path = typer.Option(..., "--sites", help="The sites file of `assign`."),
    vehicles: Path = typer.Option(..., "--vehicles", help="CSV/XLSX: vehicle_id, kind (bus, "
                                  "ambulance, negative_pressure_ambulance), capacity, lon, lat."),
    seconds: float = typer.Option(5.0, min=0.1, max=600, help="Search time limit."),
    as_json: bool = JsonOpt,
) -> None:
    """Plan transfer routes: batches by pickup and site, vehicle capacities and time windows;
    cases and contacts never share a vehicle (nothing is written)."""
    result = service.plan_transfers(requests=requests, sites=sites, vehicles=vehicles,
                                    seconds=seconds)

    def text() -> None:
        for route in result.routes:
            console.print(f"[bold]{route.vehicle_id}[/] ({route.kind}, "
                          f"{route.distance_km} km)")
            for stop in route.stops:
                console.print(f"  {stop.minute // 60:02d}:{stop.minute % 60:02d} "
                              f"{stop.type} {len(stop.people)} "
                              f"{stop.site_id or ''}", markup=False)
        for row in result.unserved[:50]:
            console.print(say(ISO("cli.not_served", ref=row.person_ref, reason=row.reason)),
                          markup=False)

    emit(result, as_json, text)


DATE = ["%Y-%m-%d"]


@app.command("site-add")
@handle_errors
def site_add(
    code: str = typer.Option(...), name: str = typer.Option(...),
    kind: SiteType = typer.Option(..., "--type"),
    division: str = typer.Option(..., help="Division code of the site."),
    rooms: int = typer.Option(..., min=0, max=20_000, help="Single rooms, labelled 1..N."),
    family_rooms: int = typer.Option(0, min=0, help="Family rooms, labelled F1..FN."),
    family_capacity: int = typer.Option(3, min=2, max=20),
    accessible: int = typer.Option(0, min=0, help="How many of the single rooms are "
                                   "accessible (the first ones)."),
    medical_level: MedicalLevel = typer.Option(MedicalLevel.none),
    status: SiteStatus = typer.Option(SiteStatus.active),
    lon: float | None = None, lat: float | None = None, as_json: bool = JsonOpt,
) -> None:
    """Register a site and its rooms."""
    data = SiteCreate(
        code=code, name=name, type=kind, status=status, division_code=division, lon=lon,
        lat=lat, medical_level=medical_level,
        rooms=[RoomSpec(label=str(n), accessible=n <= accessible) for n in range(1, rooms + 1)]
        + [RoomSpec(label=f"F{n}", family=True, capacity=family_capacity)
           for n in range(1, family_rooms + 1)])
    with db_session() as session:
        site = service.create_site(session, actor=cli_actor(), data=data)
        out = SiteRead.model_validate(site).model_copy(update={
            "rooms": len(data.rooms), "beds": sum(r.capacity for r in data.rooms)})
    emit(out, as_json, lambda: console.print(say(ISO(
        "cli.site_created", code=out.code, id=out.id, rooms=out.rooms, beds=out.beds)),
        markup=False))


@app.command("sites")
@handle_errors
def sites_(division: str | None = DivisionOpt, as_json: bool = JsonOpt) -> None:
    """Sites with their rooms and beds."""
    with db_session() as session:
        rows = [SiteRead.model_validate(s).model_copy(update={"rooms": n, "beds": b})
                for s, n, b in service.list_sites(session, actor=cli_actor(),
                                                  division=division)]

    def text() -> None:
        table = _table("id", "code", "type", "status", "division", "rooms", "beds")
        for r in rows:
            table.add_row(str(r.id), r.code, say(label(r.type)), say(label(r.status)),
                          r.division_code, str(r.rooms), str(r.beds))
        console.print(table)

    emit([r.model_dump(mode="json") for r in rows], as_json, text)


@app.command("occupancy")
@handle_errors
def occupancy(site_id: int, start: datetime = typer.Option(..., formats=DATE),
              end: datetime = typer.Option(..., formats=DATE), as_json: bool = JsonOpt) -> None:
    """People and occupied rooms per night (exact)."""
    with db_session() as session:
        days = service.occupancy(session, actor=cli_actor(), site_id=site_id,
                                 start=start.date(), end=end.date())

    def text() -> None:
        table = _table("night", "people", "rooms_occupied", "rooms", "beds")
        for d in days:
            table.add_row(str(d.day), str(d.people), str(d.rooms_occupied), str(d.rooms),
                          str(d.beds))
        console.print(table)

    emit([d.model_dump(mode="json") for d in days], as_json, text)


@app.command("stay-add")
@handle_errors
def stay_add(
    person: str = typer.Option(..., help="The person's ref."),
    kind: StayKind = typer.Option(...),
    site_id: int | None = typer.Option(None, help="None: a stay at home."),
    room: str | None = typer.Option(None, help="Room label within the site."),
    role: str | None = typer.Option(None, help="Pack role whose plan the stay follows."),
    anchor: datetime | None = typer.Option(None, formats=DATE, help="Day 0 of the plan."),
    start: datetime | None = typer.Option(None, formats=DATE),
    end: datetime | None = typer.Option(None, formats=DATE, help="Planned day of release."),
    household: str | None = None, order: str | None = None,
    pack: str | None = typer.Option(None, "--pack"), as_json: bool = JsonOpt,
) -> None:
    """Place a person in a room (dates and sampling tasks from the pack's plan)."""
    with db_session() as session:
        room_id = None
        if site_id is not None:
            found = {r.label: r.id for r in service.rooms_of(session, site_id)}
            if room not in found:
                raise Invalid(ISO("no_room", site=site_id, room=repr(room)))
            room_id = found[room]
        stay = service.create_stay(session, actor=cli_actor(), data=StayCreate(
            person_ref=person, kind=kind, site_id=site_id, room_id=room_id, role=role,
            anchor=anchor.date() if anchor else None, start_date=start.date() if start else None,
            planned_end=end.date() if end else None, household_ref=household,
            order_ref=order, pack=pack))
        out = service.stay_read(session, stay)
    emit(out, as_json, lambda: console.print(say(ISO(
        "cli.stay", id=out.id, start=out.start_date, end=out.planned_end,
        tests=", ".join(str(t.test_date) for t in out.tests) or ISO("cli.none"))),
        markup=False))


@app.command("test-result")
@handle_errors
def test_result(stay_id: int, day: datetime = typer.Option(..., "--date", formats=DATE),
                result: SampleResult = typer.Option(...), as_json: bool = JsonOpt) -> None:
    """Record the result of a stay's test."""
    with db_session() as session:
        test = service.record_test(session, actor=cli_actor(), stay_id=stay_id,
                                   test_date=day.date(), result=result)
        out = StayTestRead.model_validate(test)
    emit(out, as_json, lambda: console.print(say(ISO(
        "cli.test", day=out.test_date, result=label(out.result))), markup=False))


@app.command("release")
@handle_errors
def release(stay_id: int, on: datetime = typer.Option(..., formats=DATE),
            as_json: bool = JsonOpt) -> None:
    """Release a stay (refused, naming them, while a required test is not negative)."""
    with db_session() as session:
        stay, nxt, transfer = service.release(session, actor=cli_actor(), stay_id=stay_id,
                                              on=on.date())
        out = ReleaseResult(released=service.stay_read(session, stay),
                            next_stay=service.stay_read(session, nxt) if nxt else None,
                            transfer=TransferRead.model_validate(transfer) if transfer
                            else None)
    emit(out, as_json, lambda: console.print(say(
        ISO("cli.released_next", id=stay_id, next=out.next_stay.id,
            kind=label(out.next_stay.kind), until=out.next_stay.planned_end,
            transfer=out.transfer.id if out.transfer else "-")
        if out.next_stay else ISO("cli.released", id=stay_id)), markup=False))


@app.command("clocks")
@handle_errors
def clocks(division: str | None = DivisionOpt, as_json: bool = JsonOpt) -> None:
    """Positive → arrival at hospital/shelter; identification → arrival at quarantine."""
    with db_session() as session:
        rows = transfers.clocks(session, actor=cli_actor(), now=utc_now(), division=division)

    def text() -> None:
        table = _table("class", "county", "transfers", "arrived", "waiting", "median_h",
                       "p90_h", "within_24h")
        for r in rows:
            table.add_row(say(label(r.passenger_class)), r.county, str(r.transfers), str(r.arrived),
                          str(r.waiting), str(r.median_hours), str(r.p90_hours),
                          "-" if r.within_24h_share is None else f"{r.within_24h_share:.0%}")
        console.print(table)

    emit([r.model_dump(mode="json") for r in rows], as_json, text)


@app.command("beds")
@handle_errors
def beds(on: datetime = typer.Option(..., formats=DATE), division: str | None = DivisionOpt,
         as_json: bool = JsonOpt) -> None:
    """Hospital beds by level (general, ICU): total and occupied on a night."""
    with db_session() as session:
        rows = transfers.beds(session, actor=cli_actor(), on=on.date(), division=division)

    def text() -> None:
        table = _table("site", "type", "level", "beds", "occupied")
        for r in rows:
            table.add_row(r.site_code, say(label(r.site_type)), say(label(r.level)), str(r.beds),
                          str(r.occupied))
        console.print(table)

    emit([r.model_dump(mode="json") for r in rows], as_json, text)


@app.command("reserve")
@handle_errors
def reserve(on: datetime = typer.Option(..., formats=DATE), division: str | None = DivisionOpt,
            ratio: float | None = typer.Option(None, min=0.01, help="Default: the setting "
                                               "FANGKONG_ISOLATION_RESERVE_RATIO."),
            as_json: bool = JsonOpt) -> None:
    """Reserve planning per county: rooms needed against active and standby rooms."""
    with db_session() as session:
        rows = service.reserve(session, actor=cli_actor(), on=on.date(), division=division,
                               ratio=ratio)

    def text() -> None:
        table = _table("county", "active", "standby", "occupied", "people", "needed", "free",
                       "shortfall")
        for r in rows:
            table.add_row(r.county, str(r.active_rooms), str(r.standby_rooms),
                          str(r.occupied_rooms), str(r.people), str(r.rooms_needed),
                          str(r.free_active_rooms), str(r.shortfall))
        console.print(table)

    emit([r.model_dump(mode="json") for r in rows], as_json, text)


@app.command("due")
@handle_errors
def due(on: datetime = typer.Option(..., formats=DATE), division: str | None = DivisionOpt,
        as_json: bool = JsonOpt) -> None:
    """Stays whose period is over: ready to release, or the tests still missing."""
    with db_session() as session:
        rows = service.release_proposals(session, actor=cli_actor(), on=on.date(),
                                         division=division)

    def text() -> None:
        for r in rows:
            console.print(say(
                ISO("cli.ready", id=r.stay_id, until=r.planned_end) if r.ready else
                ISO("cli.missing", id=r.stay_id, until=r.planned_end,
                    tests=", ".join(r.missing_tests))), markup=False)

    emit([r.model_dump(mode="json") for r in rows], as_json, text)
