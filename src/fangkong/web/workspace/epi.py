"""The epidemiologist's workspace: report a case (the person found in the jurisdiction by ID
number, phone, name or number, or added, with possible duplicates offered first), then review
the case's proposed contacts (confirm or reject in bulk, with a reason) and add contacts by
hand. Every write goes through the service the API calls."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from fangkong.case import service as cases
from fangkong.case.enums import LABELS as CASE_LABELS
from fangkong.case.enums import Classification, DetectionMode, Severity
from fangkong.case.schemas import CaseCreate
from fangkong.core.auth import Perm
from fangkong.core.clock import utc_now
from fangkong.core.errors import AppError, Invalid, Problem
from fangkong.deps import DbSession
from fangkong.person import service as persons
from fangkong.person.schemas import PersonCreate
from fangkong.task import titles
from fangkong.tracing import service as tracing
from fangkong.tracing.enums import LABELS as TRACING_LABELS
from fangkong.tracing.enums import Proximity, Review, Setting
from fangkong.tracing.schemas import ExposureCreate
from fangkong.web import i18n
from fangkong.web.auth import CurrentViewer, Viewer
from fangkong.web.workspace import forms
from fangkong.web.workspace.common import (
    SEXES,
    division_names,
    divisions,
    find_people,
    one_person,
    page,
    person_row,
    place_options,
    router,
)
from fangkong.web.workspace.forms import FormState
from fangkong.web.workspace.messages import W

PERSON_FIELDS = ("name", "sex", "birth_date", "id_number", "phone", "address", "division_code",
                 "household_ref")
CASE_FIELDS = ("ref", "classification", "severity", "onset_date", "first_positive_sample_date",
               "reported_at", "detection_mode", "owning_division_code", "current_division_code")
CONTACT_FIELDS = ("who", "first_exposure", "last_exposure", "setting", "proximity", "reason")


async def _posted(request: Request) -> dict[str, Any]:
    return {k: v for k, v in (await request.form()).items() if isinstance(v, str)}


def _rows(session: DbSession, people: list[Any], lang: str) -> list[dict[str, Any]]:
    names = division_names(session, {p.division_code for p in people})
    return [person_row(p, names, lang) for p in people]


# ------------------------------------------------------------------ find or add the person


def _report_page(request: Request, viewer: Viewer, session: DbSession, *, q: str = "",
                 form: FormState | None = None, duplicates: list[Any] | None = None,
                 status: int = 200) -> HTMLResponse:
    found = find_people(session, viewer.actor, q, partial=True) if q else None
    return page(request, viewer, "ws_report.html", nav="report", q=q, status=status,
                found=None if found is None else _rows(session, found, viewer.lang),
                form=form or FormState(), duplicates=duplicates,
                places=place_options(divisions(session, viewer.actor), viewer.lang),
                sex_options=[(s, W(f"sex.{s}").render(viewer.lang)) for s in SEXES])


@router.get("/report")
def report(request: Request, viewer: CurrentViewer, session: DbSession,
           q: str = "") -> HTMLResponse:
    return _report_page(request, viewer, session, q=q)


def _possible_duplicates(session: DbSession, viewer: Viewer,
                         values: dict[str, Any]) -> list[Any]:
    """Persons of the jurisdiction who may be the one being added: the same ID number or
    phone, or the same name (with the same birth date, when one is given)."""
    seen: dict[int, Any] = {}
    for key in ("id_number", "phone"):
        if values.get(key):
            for p in find_people(session, viewer.actor, values[key]):
                seen[p.id] = p
    if values.get("name"):
        same, _ = persons.list_(session, actor=viewer.actor, name=values["name"], limit=20)
        for p in same:
            if not values.get("birth_date") or str(p.birth_date) == values["birth_date"]:
                seen[p.id] = p
    return list(seen.values())


@router.post("/report/person")
async def add_person(request: Request, viewer: CurrentViewer, session: DbSession) -> Response:
    viewer.actor.require(Perm.person_write)  # the role first: refused (403) before any lookup
    raw = await _posted(request)
    typed = {k: raw.get(k, "") for k in PERSON_FIELDS}
    values = forms.clean(typed)
    if not raw.get("confirm_new"):
        twins = _possible_duplicates(session, viewer, values)
        if twins:
            return _report_page(request, viewer, session, form=FormState(values=typed),
                                duplicates=_rows(session, twins, viewer.lang), status=409)
    try:
        data = PersonCreate(ref="P" + uuid.uuid4().hex[:15].upper(),
                            **{k: v for k, v in values.items() if v is not None})
        with session.begin_nested():
            person = persons.create(session, actor=viewer.actor, data=data)
    except (AppError, ValidationError) as exc:
        return _report_page(request, viewer, session, status=_status(exc),
                            form=forms.refused(exc, viewer.lang, typed))
    return RedirectResponse(f"/report/case?person={person.id}", status_code=303)


def _status(exc: AppError | ValidationError) -> int:
    return 422 if isinstance(exc, ValidationError) else exc.status_code


# -------------------------------------------------------------------------- the case form


def _case_page(request: Request, viewer: Viewer, session: DbSession, person: Any,
               form: FormState, status: int = 200) -> HTMLResponse:
    lang = viewer.lang

    def labelled(values: list[Any]) -> list[tuple[str, str]]:
        return [(v.value, i18n.label(CASE_LABELS, v.value, lang)) for v in values]

    return page(request, viewer, "ws_case_form.html", nav="report", status=status,
                person=_rows(session, [person], lang)[0], form=form,
                owning=place_options(divisions(session, viewer.actor, depth=1), lang),
                classifications=labelled([c for c in Classification
                                          if c != Classification.discarded]),
                severities=labelled(list(Severity)), modes=labelled(list(DetectionMode)))


@router.get("/report/case")
def case_form(request: Request, viewer: CurrentViewer, session: DbSession,
              person: int | None = None) -> HTMLResponse:
    if person is None:  # no person chosen yet: find one first
        return _report_page(request, viewer, session)
    who = persons.get(session, actor=viewer.actor, person_id=person)
    zone = ZoneInfo(request.app.state.settings.timezone)
    now = utc_now().astimezone(zone)
    county = who.division_code[:6]
    form = FormState(values={
        "ref": f"{county}-{now:%Y%m%d}-{uuid.uuid4().hex[:4].upper()}",
        "reported_at": now.strftime("%Y-%m-%dT%H:%M"),
        "owning_division_code": county if viewer.actor.covers(county) else "",
        "classification": "confirmed"})
    return _case_page(request, viewer, session, who, form)


@router.post("/report/case")
async def report_case(request: Request, viewer: CurrentViewer, session: DbSession) -> Response:
    viewer.actor.require(Perm.case_write)  # the role first: refused (403) before any lookup
    raw = await _posted(request)
    who = persons.get(session, actor=viewer.actor, person_id=int(raw.get("person") or 0))
    typed = {k: raw.get(k, "") for k in CASE_FIELDS}
    values = forms.clean(typed)
    zone = ZoneInfo(request.app.state.settings.timezone)
    try:
        if values.get("reported_at"):
            try:
                values["reported_at"] = datetime.fromisoformat(
                    values["reported_at"]).replace(tzinfo=zone)
            except ValueError:
                raise Invalid(W("bad_datetime"), problems=[
                    Problem(W("bad_datetime"), field="reported_at")]) from None
        data = CaseCreate(person_ref=who.ref, **{k: v for k, v in values.items()
                                                 if v is not None})
        with session.begin_nested():
            case = cases.create(session, actor=viewer.actor, data=data)
    except (AppError, ValidationError) as exc:
        return _case_page(request, viewer, session, who,
                          forms.refused(exc, viewer.lang, typed), status=_status(exc))
    return RedirectResponse(f"/cases/{case.id}/contacts?reported=1", status_code=303)


# ------------------------------------------------------------------ the case's contacts


def _label(value: Any, lang: str) -> str:
    return i18n.label(TRACING_LABELS, getattr(value, "value", value), lang)


def _case_version(exposures: list[Any]) -> str:
    """The proposals' state when the page was shown: any proposal added or reviewed since
    makes a bulk review of the page stale."""
    return forms.version(*sorted((e.id, e.review.value) for e in exposures))


def _contacts_page(request: Request, viewer: Viewer, session: DbSession, case_id: int, *,
                   review_form: FormState | None = None, add_form: FormState | None = None,
                   done: str | None = None, status: int = 200) -> HTMLResponse:
    lang = viewer.lang
    case = cases.get(session, actor=viewer.actor, case_id=case_id)
    exposures = tracing.exposures_of(session, actor=viewer.actor, case_id=case_id)
    contacts = tracing.contacts_of(session, actor=viewer.actor, case_id=case_id)
    people = persons.get_many(session, actor=viewer.actor, person_ids={
        *(e.exposed_person_id for e in exposures), *(c.person_id for c in contacts),
        case.person_id})
    outside = W("contacts.outside").render(lang)

    def who(pid: int) -> dict[str, Any]:
        p = people.get(pid)
        return {"name": p.name if p else outside, "ref": p.ref if p else "",
                "id_number": (p.id_number_masked or "—") if p else "—"}

    role = titles.VALUES["role"]
    proposed = [{"id": e.id, "person": who(e.exposed_person_id), "origin": _label(e.origin, lang),
                 "role": i18n.label(role, e.proposed_role, lang),
                 "setting": None if e.setting.value == e.origin.value else _label(e.setting, lang),
                 "first": e.first_exposure,
                 "last": e.last_exposure, "reason": e.reason}
                for e in exposures if e.review == Review.proposed]
    listed = [{"id": c.id, "person": who(c.person_id), "role": i18n.label(role, c.role, lang),
               "status": _label(c.status, lang), "last": c.last_exposure}
              for c in contacts]
    add = add_form or FormState(values={"setting": "household", "proximity": "unknown"})
    return page(request, viewer, "ws_contacts.html", nav="report", case=case, status=status,
                person=who(case.person_id), proposed=proposed, contacts=listed,
                version=_case_version(exposures), review_form=review_form or FormState(),
                form=add, done=done, window=bool(case.onset_date
                                                 or case.first_positive_sample_date),
                settings=[(v.value, _label(v, lang)) for v in Setting],
                proximities=[(v.value, _label(v, lang)) for v in Proximity])


@router.get("/cases/{case_id}/contacts")
def contacts(request: Request, viewer: CurrentViewer, session: DbSession, case_id: int,
             reported: int = 0, interviewed: int = 0) -> HTMLResponse:
    done = None
    if reported:
        case = cases.get(session, actor=viewer.actor, case_id=case_id, audit_read=False)
        done = W("report.saved", ref=case.ref).render(viewer.lang)
    elif interviewed:
        from fangkong.tracing import interviews
        from fangkong.web.workspace.interview_words import IW

        found = interviews.get(session, actor=viewer.actor, case_id=case_id)
        if found is not None and found.outcome is not None:
            o = found.outcome
            done = IW("interviewed", named=o["named"], checkins=o["checkins"],
                      total=len(o["exposure_ids"])).render(viewer.lang)
    return _contacts_page(request, viewer, session, case_id, done=done)


@router.post("/cases/{case_id}/contacts/review")
async def review(request: Request, viewer: CurrentViewer, session: DbSession,
                 case_id: int) -> Response:
    viewer.actor.require(Perm.case_write)  # the role first: refused (403) before any lookup
    form = await request.form()
    picked = [int(v) for v in form.getlist("exposure") if isinstance(v, str) and v.isdigit()]
    confirm = form.get("action") == "confirm"
    note = str(form.get("note") or "").strip()
    typed = {"exposure": picked, "note": note, "action": form.get("action") or ""}
    exposures = tracing.exposures_of(session, actor=viewer.actor, case_id=case_id)
    lang = viewer.lang
    try:
        forms.check_version(str(form.get("version") or ""), *sorted(
            (e.id, e.review.value) for e in exposures))
        problems = []
        if not picked:
            problems.append(Problem(W("choose_some"), field="exposure"))
        if not confirm and not note:
            problems.append(Problem(W("reason_needed"), field="note"))
        if problems:
            raise Invalid(W("form_failed"), problems=problems)
        mine = {e.id for e in exposures}
        if not set(picked) <= mine:  # another case's proposals: as if they did not exist
            raise Invalid(W("form_failed"), problems=[Problem(W("refused"), field="exposure")])
        with session.begin_nested():
            tracing.review_many(session, actor=viewer.actor, exposure_ids=picked,
                                confirm=confirm, note=note or None)
    except AppError as exc:
        return _contacts_page(request, viewer, session, case_id, status=exc.status_code,
                              review_form=forms.refused(exc, lang, typed))
    return _contacts_page(request, viewer, session, case_id,
                          done=W("contacts.reviewed", count=len(picked)).render(lang))


@router.post("/cases/{case_id}/contacts/add")
async def add_contact(request: Request, viewer: CurrentViewer, session: DbSession,
                      case_id: int) -> Response:
    viewer.actor.require(Perm.case_write)  # the role first: refused (403) before any lookup
    raw = await _posted(request)
    typed = {k: raw.get(k, "") for k in CONTACT_FIELDS}
    values = forms.clean(typed)
    cases.get(session, actor=viewer.actor, case_id=case_id, audit_read=False)
    try:
        if not values.get("who"):
            raise Invalid(W("form_failed"), problems=[Problem(W("required"), field="who")])
        person = one_person(session, viewer.actor, values["who"])
        data = ExposureCreate(source_case_id=case_id, exposed_person_id=person.id, **{
            k: v for k, v in values.items() if v is not None and k != "who"})
        with session.begin_nested():
            tracing.add_exposure(session, actor=viewer.actor, data=data)
    except (AppError, ValidationError) as exc:
        return _contacts_page(request, viewer, session, case_id, status=_status(exc),
                              add_form=forms.refused(exc, viewer.lang, typed, {
                                  "exposed_person_id": "who"}))
    return _contacts_page(request, viewer, session, case_id,
                          done=W("contacts.added", name=person.name).render(viewer.lang))


# the interview and the chain editor: their routes join the workspace's router
from fangkong.web.workspace import chain, interview  # noqa: E402, F401
