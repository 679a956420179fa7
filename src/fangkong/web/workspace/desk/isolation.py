"""The isolation officer's desk: the sites of the jurisdiction with tonight's occupancy and who
is in each room; a batch assigned (the solver's plan shown, changed by hand, then booked, all
or nothing); a stay's test results recorded and the stay released; transfers requested,
dispatched on a vehicle and closed on arrival. Every write goes through the isolation service
the API and the CLI call."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import TypeAdapter, ValidationError

from fangkong.core.auth import Perm
from fangkong.core.clock import as_utc, utc_now
from fangkong.core.errors import AppError, Invalid, Problem
from fangkong.deps import DbSession
from fangkong.isolation import service as isolation
from fangkong.isolation import transfers
from fangkong.isolation.enums import LABELS as ISO_LABELS
from fangkong.isolation.enums import PassengerClass, SampleResult
from fangkong.isolation.schemas import BatchAssign, BatchPerson, Placement, TransferCreate
from fangkong.person import service as persons
from fangkong.web import i18n
from fangkong.web.auth import CurrentViewer, Viewer
from fangkong.web.workspace import forms
from fangkong.web.workspace.common import one_person, router
from fangkong.web.workspace.desk.common import (
    desk_page,
    file_bytes,
    file_problems,
    local_time,
    posted,
)
from fangkong.web.workspace.desk.messages import D
from fangkong.web.workspace.forms import FormState

PEOPLE = TypeAdapter(list[BatchPerson])
BATCH_FIELDS = ("anchor", "start_date", "planned_end")
DUE_SHOWN = 30  # stays due for release listed on the desk (the demo's county has 500)


def _status(exc: AppError | ValidationError) -> int:
    return 422 if isinstance(exc, ValidationError) else exc.status_code


def _label(value: Any, lang: str) -> str:
    return i18n.label(ISO_LABELS, getattr(value, "value", value), lang)


def _today(request: Request) -> date:
    return utc_now().astimezone(ZoneInfo(request.app.state.settings.timezone)).date()


def _names(session: DbSession, viewer: Viewer, person_ids: set[int]) -> dict[int, Any]:
    return persons.get_many(session, actor=viewer.actor, person_ids=person_ids)


# ------------------------------------------------------------------------- the desk


def _desk(request: Request, viewer: Viewer, session: DbSession, *, status: int = 200,
          form: FormState | None = None, failed_for: str | None = None,
          done: str | None = None, problems: list[dict[str, Any]] | None = None
          ) -> HTMLResponse:
    actor, lang = viewer.actor, viewer.lang
    today = _today(request)
    sites = []
    for site, rooms, beds in isolation.list_sites(session, actor=actor):
        if site.type.value == "home":
            continue
        night = isolation.occupancy(session, actor=actor, site_id=site.id, start=today,
                                    end=today)[0]
        sites.append({"id": site.id, "code": site.code, "name": site.name,
                      "type": _label(site.type, lang), "status": _label(site.status, lang),
                      "rooms": rooms, "beds": beds, "occupied": night.rooms_occupied,
                      "people": night.people, "free": rooms - night.rooms_occupied})
    proposals = sorted(isolation.release_proposals(session, actor=actor, on=today),
                       key=lambda p: (not p.ready, p.planned_end, p.stay_id))
    ready = sum(1 for p in proposals if p.ready)
    shown = proposals[:DUE_SHOWN]  # ready first: the day's releases; the count is of all
    people = _names(session, viewer, {p.person_id for p in shown})
    due = [{"stay": p.stay_id, "name": people[p.person_id].name if p.person_id in people
            else f"#{p.stay_id}", "end": p.planned_end, "ready": p.ready} for p in shown]
    defaults = FormState(values={"anchor": (today - timedelta(days=1)).isoformat(),
                                 "start_date": today.isoformat(),
                                 "planned_end": (today + timedelta(days=10)).isoformat()})
    return desk_page(request, viewer, "ws_isolation.html", nav="isolation_desk",
                     status=status, sites=sites, due=due, today=today,
                     due_total=len(proposals), due_ready=ready,
                     form=form or FormState(), defaults=defaults, failed_for=failed_for,
                     done=done, problems=problems or [])


@router.get("/isolation/desk")
def isolation_desk(request: Request, viewer: CurrentViewer, session: DbSession,
                   booked: int | None = None) -> HTMLResponse:
    viewer.actor.require(Perm.isolation_write)
    done = D("i.booked", count=booked).render(viewer.lang) if booked is not None else None
    return _desk(request, viewer, session, done=done)


@router.get("/isolation/desk/sites/{site_id}")
def site_page(request: Request, viewer: CurrentViewer, session: DbSession,
              site_id: int) -> HTMLResponse:
    viewer.actor.require(Perm.isolation_write)
    lang = viewer.lang
    today = _today(request)
    site = isolation.get_site(session, actor=viewer.actor, site_id=site_id)  # 404 outside
    stays = isolation.site_stays(session, actor=viewer.actor, site_id=site_id, on=today)
    people = _names(session, viewer, {s.person_id for s, _ in stays})
    by_room: dict[int, list[dict[str, Any]]] = {}
    for stay, room in stays:
        if room is None:
            continue
        who = people.get(stay.person_id)
        by_room.setdefault(room.id, []).append({
            "stay": stay.id, "name": who.name if who else f"#{stay.id}",
            "kind": _label(stay.kind, lang),
            "start": stay.start_date, "end": stay.planned_end})
    rooms = [{"label": r.label, "capacity": r.capacity, "who": by_room.get(r.id, [])}
             for r in isolation.rooms_of(session, site.id)]
    return desk_page(request, viewer, "ws_isolation_site.html", nav="isolation_desk",
                     site=site, site_type=_label(site.type, lang), rooms=rooms, today=today,
                     taken=sum(1 for r in rooms if r["who"]))


# ------------------------------------------------------------------- a batch assigned


def _batch_data(values: dict[str, Any], people: list[BatchPerson]) -> BatchAssign:
    return BatchAssign(people=people, **{k: v for k, v in values.items() if v is not None})


def _plan_page(request: Request, viewer: Viewer, session: DbSession, data: BatchAssign,
               typed: dict[str, Any], chosen: dict[str, str] | None = None, *,
               status: int = 200, form: FormState | None = None) -> HTMLResponse:
    """The solver's plan for ``data`` (each person's place a select, preset to the plan or
    to what was chosen), the people the plan could not place and why."""
    lang = viewer.lang
    planned = isolation.plan_batch(session, actor=viewer.actor, data=data)
    placed = {p.person_ref: (f"{p.site_id}:{p.room}" if p.site_id != "home" else "home")
              for p in planned.plan.assignments}
    options = [(f"{site.id}:{room.id}", f"{site.name} · {room.label}")
               for site, rooms in planned.sites for room in rooms]
    known = {value for value, _ in options}
    for value in sorted(set((chosen or {}).values()) - known - {"", "home"}):
        options.append((value, _room_text(session, viewer, value)))  # kept, though taken
    ids = persons.ids_by_ref(session, actor=viewer.actor,
                             refs={p.person_ref for p in data.people})
    names = {i: p.name for i, p in _names(session, viewer, set(ids.values())).items()}
    rows = []
    for k, p in enumerate(data.people):
        value = (chosen or {}).get(p.person_ref, placed.get(p.person_ref, ""))
        rows.append({"k": k, "ref": p.person_ref, "role": _label(p.role, lang),
                     "name": names.get(ids.get(p.person_ref, 0), ""),
                     "household": p.household_ref or "", "value": value,
                     "planned": placed.get(p.person_ref, "")})
    unplaced = [{"ref": n.person_ref, "reason": n.reason} for n in planned.plan.unassigned]
    return desk_page(request, viewer, "ws_isolation_plan.html", nav="isolation_desk",
                     status=status, rows=rows, options=options,
                     unplaced=unplaced, km=planned.plan.total_distance_km,
                     people_json=PEOPLE.dump_json(data.people).decode(), typed=typed,
                     form=form or FormState())


def _room_text(session: DbSession, viewer: Viewer, value: str) -> str:
    """A place chosen that is no longer free (or never was), named as the plan names one."""
    site_id, _, room_id = value.partition(":")
    try:
        site = isolation.get_site(session, actor=viewer.actor, site_id=int(site_id))
    except (AppError, ValueError):
        return value
    labels = {str(r.id): r.label for r in isolation.rooms_of(session, site.id)}
    return f"{site.name} · {labels.get(room_id, room_id)}"


@router.post("/isolation/desk/batch/plan")
async def plan_batch(request: Request, viewer: CurrentViewer, session: DbSession) -> Response:
    """The batch's people (a planning file, or its lines pasted) solved over the free rooms:
    the plan shown, nothing booked."""
    viewer.actor.require(Perm.isolation_write)
    raw, _, upload = await posted(request)
    typed = {k: raw.get(k, "") for k in (*BATCH_FIELDS, "people_text")}
    settings = request.app.state.settings
    try:
        if upload is not None:
            source, name = await file_bytes(upload, settings.import_max_bytes)
        elif typed["people_text"].strip():
            source, name = typed["people_text"].strip().encode(), "people.csv"
        else:
            raise Invalid(D("no_file"), problems=[Problem(D("no_file"), field="file")])
        people = isolation.batch_people(source, name)
        data = _batch_data(forms.clean({k: typed[k] for k in BATCH_FIELDS}), people)
        return _plan_page(request, viewer, session, data, typed)
    except (AppError, ValidationError) as exc:
        typed["file"] = ""
        return _desk(request, viewer, session, status=_status(exc), failed_for="batch",
                     form=forms.refused(exc, viewer.lang, typed),
                     problems=file_problems(exc, viewer.lang)
                     if isinstance(exc, AppError) else [])


@router.post("/isolation/desk/batch/book")
async def book_batch(request: Request, viewer: CurrentViewer, session: DbSession) -> Response:
    """Book the batch as placed on the page (the plan, changed by hand): every stay checked
    by the service as one by one, all or nothing."""
    viewer.actor.require(Perm.isolation_write)
    raw, _, _ = await posted(request)
    typed = {k: raw.get(k, "") for k in BATCH_FIELDS}
    try:
        people = PEOPLE.validate_json(raw.get("people", "[]"))
    except ValidationError:
        raise Invalid(D("i.nobody_chosen")) from None
    data = _batch_data(forms.clean(typed), people)
    chosen = {p.person_ref: raw.get(f"place-{k}", "") for k, p in enumerate(people)}
    try:
        placements = []
        for k, p in enumerate(people):
            value = chosen[p.person_ref]
            if not value:
                continue
            if value == "home":
                placements.append(Placement(person_ref=p.person_ref, site_id="home", room=None))
                continue
            site, _, room = value.partition(":")
            if not (site.isdigit() and room.isdigit()):
                raise Invalid(forms.W("choose"), problems=[
                    Problem(forms.W("choose"), field=f"place-{k}")])
            placements.append(Placement(person_ref=p.person_ref, site_id=site, room=int(room)))
        if not placements:
            raise Invalid(D("i.nobody_chosen"))
        with session.begin_nested():
            made = isolation.book_plan(session, actor=viewer.actor, data=data,
                                       placements=placements)
    except AppError as exc:
        # the service names an item by its index among the people booked: back to the page's
        index = [k for k, p in enumerate(people) if chosen[p.person_ref]]
        fields = {f"room_id[{j}]": f"place-{index[j]}" for j in range(len(index))}
        fields |= {f"person_ref[{j}]": f"place-{index[j]}" for j in range(len(index))}
        state = forms.refused(exc, viewer.lang, {f"place-{k}": chosen[p.person_ref]
                                                 for k, p in enumerate(people)}, fields)
        return _plan_page(request, viewer, session, data, typed, chosen,
                          status=exc.status_code, form=state)
    return RedirectResponse(f"/isolation/desk?booked={len(made)}", status_code=303)


# --------------------------------------------------------------------------- a stay


def _version_parts(session: DbSession, stay: Any) -> tuple[Any, ...]:
    """What a stay's forms depend on: its status and end, and its tests' results."""
    return (stay.status.value, stay.actual_end,
            *sorted((t.test_date, t.result.value) for t in isolation.tests_of(session, stay.id)))


def _stay(request: Request, viewer: Viewer, session: DbSession, stay_id: int, *,
          status: int = 200, form: FormState | None = None, failed_for: str | None = None,
          done: list[str] | None = None) -> HTMLResponse:
    lang = viewer.lang
    stay = isolation.get_stay(session, actor=viewer.actor, stay_id=stay_id)  # 404 outside
    read = isolation.stay_read(session, stay)
    who = _names(session, viewer, {stay.person_id}).get(stay.person_id)
    site = (isolation.get_site(session, actor=viewer.actor, site_id=stay.site_id)
            if stay.site_id else None)
    room = next((r.label for r in isolation.rooms_of(session, stay.site_id)
                 if r.id == stay.room_id), "") if stay.site_id else ""
    tests = [{"date": t.test_date, "result": t.result.value,
              "label": _label(t.result, lang)} for t in read.tests]
    results = [(r.value, _label(r, lang)) for r in SampleResult if r is not SampleResult.pending]
    today = _today(request)
    return desk_page(request, viewer, "ws_isolation_stay.html", nav="isolation_desk",
                     status=status, stay=stay, person_name=who.name if who else "—",
                     kind=_label(stay.kind, lang), stay_status=_label(stay.status, lang),
                     site=site, room=room, tests=tests, results=results,
                     version=forms.version(*_version_parts(session, stay)),
                     form=form or FormState(), defaults=FormState(values={
                         "on": max(today, stay.planned_end).isoformat()}),
                     failed_for=failed_for, done=done or [])


@router.get("/isolation/desk/stays/{stay_id}")
def stay_page(request: Request, viewer: CurrentViewer, session: DbSession,
              stay_id: int) -> HTMLResponse:
    viewer.actor.require(Perm.isolation_write)
    return _stay(request, viewer, session, stay_id)


@router.post("/isolation/desk/stays/{stay_id}/tests")
async def record_test(request: Request, viewer: CurrentViewer, session: DbSession,
                      stay_id: int) -> Response:
    viewer.actor.require(Perm.isolation_write)
    raw, _, _ = await posted(request)
    stay = isolation.get_stay(session, actor=viewer.actor, stay_id=stay_id)  # 404 outside
    typed = {"test_date": raw.get("test_date", ""), "result": raw.get("result", "")}
    where = f"test-{typed['test_date']}"
    try:
        forms.check_version(raw.get("version"), *_version_parts(session, stay))
        result = SampleResult(typed["result"]) if typed["result"] in {
            r.value for r in SampleResult} - {"pending"} else None
        if result is None:
            raise Invalid(forms.W("choose"), problems=[Problem(forms.W("choose"),
                                                               field="result")])
        day = date.fromisoformat(typed["test_date"])
        with session.begin_nested():
            isolation.record_test(session, actor=viewer.actor, stay_id=stay_id, test_date=day,
                                  result=result)
    except (AppError, ValueError) as exc:
        error = exc if isinstance(exc, AppError) else Invalid(forms.W("bad_date"), problems=[
            Problem(forms.W("bad_date"), field="test_date")])
        return _stay(request, viewer, session, stay_id, status=error.status_code,
                     failed_for=where, form=forms.refused(error, viewer.lang, typed))
    return _stay(request, viewer, session, stay_id, done=[D(
        "i.recorded", day=i18n.fmt_date(day, viewer.lang),
        result=_label(result, viewer.lang)).render(viewer.lang)])


@router.post("/isolation/desk/stays/{stay_id}/release")
async def release(request: Request, viewer: CurrentViewer, session: DbSession,
                  stay_id: int) -> Response:
    viewer.actor.require(Perm.isolation_write)
    raw, _, _ = await posted(request)
    stay = isolation.get_stay(session, actor=viewer.actor, stay_id=stay_id)  # 404 outside
    typed = {"on": raw.get("on", "")}
    lang = viewer.lang
    try:
        forms.check_version(raw.get("version"), *_version_parts(session, stay))
        try:
            on = date.fromisoformat(typed["on"])
        except ValueError:
            raise Invalid(forms.W("bad_date"), problems=[
                Problem(forms.W("bad_date"), field="on")]) from None
        with session.begin_nested():
            _, nxt, transfer = isolation.release(session, actor=viewer.actor, stay_id=stay_id,
                                                 on=on)
    except AppError as exc:
        return _stay(request, viewer, session, stay_id, status=exc.status_code,
                     failed_for="release", form=forms.refused(exc, lang, typed))
    done = [D("i.released", day=i18n.fmt_date(on, lang)).render(lang)]
    if nxt is not None:
        done.append(D("i.next_stay", kind=_label(nxt.kind, lang),
                      day=i18n.fmt_date(nxt.planned_end, lang)).render(lang))
    if transfer is not None:
        done.append(D("i.transfer_made", id=transfer.id).render(lang))
    return _stay(request, viewer, session, stay_id, done=done)


# ------------------------------------------------------------------------ transfers


def _transfer_parts(t: Any) -> tuple[Any, ...]:
    """What an arrival depends on: the transfer's status, vehicle and departure (in UTC, as
    read back from the database whatever zone it was written in)."""
    return (t.status.value, t.vehicle_id, t.dispatched_at and as_utc(t.dispatched_at))


def transfer_version(t: Any) -> str:
    return forms.version(*_transfer_parts(t))


def _transfers(request: Request, viewer: Viewer, session: DbSession, *, status: int = 200,
               form: FormState | None = None, failed_for: str | None = None,
               done: str | None = None) -> HTMLResponse:
    lang = viewer.lang
    actor = viewer.actor
    found = transfers.open_transfers(session, actor=actor)
    people = _names(session, viewer, {t.person_id for t in found})
    sites = {s.id: s for s, _, _ in isolation.list_sites(session, actor=actor)}
    fleet = transfers.vehicles(session, actor=actor)
    codes = {v.id: v.code for v in fleet}
    rows = [{"id": t.id, "name": people[t.person_id].name if t.person_id in people else "—",
             "kind": _label(t.kind, lang), "class": _label(t.passenger_class, lang),
             "to": sites[t.to_site_id].name if t.to_site_id in sites else "—",
             "clock": t.clock_start, "status": t.status.value,
             "status_label": _label(t.status, lang), "vehicle": codes.get(t.vehicle_id or 0, ""),
             "dispatched": t.dispatched_at, "version": transfer_version(t)} for t in found]
    now = utc_now().astimezone(ZoneInfo(request.app.state.settings.timezone)).strftime(
        "%Y-%m-%dT%H:%M")
    defaults = FormState(values={"at": now, "clock_start": now})
    destinations = [(str(s.id), f"{s.name} · {_label(s.type, lang)}") for s in sites.values()
                    if s.type.value != "home"]
    return desk_page(request, viewer, "ws_isolation_transfers.html", nav="isolation_desk",
                     status=status, planned=[r for r in rows if r["status"] == "planned"],
                     moving=[r for r in rows if r["status"] == "dispatched"],
                     vehicles=[(str(v.id), f"{v.code} · {_label(v.kind, lang)} · "
                                f"{v.capacity}") for v in fleet],
                     destinations=destinations,
                     classes=[(c.value, _label(c, lang)) for c in PassengerClass],
                     form=form or FormState(), defaults=defaults, failed_for=failed_for,
                     done=done)


@router.get("/isolation/desk/transfers")
def transfers_page(request: Request, viewer: CurrentViewer,
                   session: DbSession) -> HTMLResponse:
    viewer.actor.require(Perm.isolation_write)
    return _transfers(request, viewer, session)


@router.post("/isolation/desk/transfers/request")
async def request_transfer(request: Request, viewer: CurrentViewer,
                           session: DbSession) -> Response:
    viewer.actor.require(Perm.isolation_write)
    raw, _, _ = await posted(request)
    typed = {k: raw.get(k, "") for k in ("who", "to_site_id", "passenger_class", "clock_start")}
    zone = request.app.state.settings.timezone
    try:
        person = one_person(session, viewer.actor, typed["who"])
        values = forms.clean({k: typed[k] for k in ("to_site_id", "passenger_class")})
        values["clock_start"] = local_time(typed["clock_start"] or None, zone, "clock_start")
        data = TransferCreate(person_ref=person.ref, **{k: v for k, v in values.items()
                                                        if v is not None})
        with session.begin_nested():
            made = transfers.request(session, actor=viewer.actor, data=data)
    except (AppError, ValidationError) as exc:
        return _transfers(request, viewer, session, status=_status(exc), failed_for="request",
                          form=forms.refused(exc, viewer.lang, typed))
    return _transfers(request, viewer, session,
                      done=D("i.requested", id=made.id).render(viewer.lang))


@router.post("/isolation/desk/transfers/dispatch")
async def dispatch(request: Request, viewer: CurrentViewer, session: DbSession) -> Response:
    """The transfers ticked put on one vehicle (the service refuses a vehicle that does not
    carry the class, would mix classes or be over capacity)."""
    viewer.actor.require(Perm.isolation_write)
    raw, lists, _ = await posted(request)
    ticked = [int(t) for t in lists.get("transfer", []) if t.isdigit()]
    typed: dict[str, Any] = {"vehicle_id": raw.get("vehicle_id", ""), "at": raw.get("at", ""),
                             "transfer_ids": ticked}
    zone = request.app.state.settings.timezone
    try:
        if not ticked:
            raise Invalid(forms.W("choose_some"), problems=[
                Problem(forms.W("choose_some"), field="transfer_ids")])
        if not typed["vehicle_id"].isdigit():
            raise Invalid(forms.W("choose"), problems=[
                Problem(forms.W("choose"), field="vehicle_id")])
        at = local_time(typed["at"], zone, "at")
        if at is None:
            raise Invalid(forms.W("required"), problems=[
                Problem(forms.W("required"), field="at")])
        with session.begin_nested():
            moved = transfers.dispatch(session, actor=viewer.actor,
                                       vehicle_id=int(typed["vehicle_id"]), transfer_ids=ticked,
                                       at=at)
    except AppError as exc:
        return _transfers(request, viewer, session, status=exc.status_code,
                          failed_for="dispatch", form=forms.refused(exc, viewer.lang, typed))
    return _transfers(request, viewer, session,
                      done=D("i.dispatched", count=len(moved)).render(viewer.lang))


@router.post("/isolation/desk/transfers/{transfer_id}/arrival")
async def arrive(request: Request, viewer: CurrentViewer, session: DbSession,
                 transfer_id: int) -> Response:
    """A transfer arrived: closed (the service refuses one not on the road, or an arrival
    before it left)."""
    viewer.actor.require(Perm.isolation_write)
    raw, _, _ = await posted(request)
    typed = {"at": raw.get("at", "")}
    zone = request.app.state.settings.timezone
    current = transfers.get_transfer(session, actor=viewer.actor,
                                     transfer_id=transfer_id)  # 404 outside
    try:
        forms.check_version(raw.get("version"), *_transfer_parts(current))
        at = local_time(typed["at"], zone, "at")
        if at is None:
            raise Invalid(forms.W("required"), problems=[
                Problem(forms.W("required"), field="at")])
        with session.begin_nested():
            transfers.arrive(session, actor=viewer.actor, transfer_id=transfer_id, at=at)
    except AppError as exc:
        return _transfers(request, viewer, session, status=exc.status_code,
                          failed_for=f"arrive-{transfer_id}",
                          form=forms.refused(exc, viewer.lang, typed))
    return _transfers(request, viewer, session,
                      done=D("i.arrived", id=transfer_id).render(viewer.lang))

