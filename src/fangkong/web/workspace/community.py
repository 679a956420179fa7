"""The community worker's workspace: the people of the jurisdiction under management
(contacts to follow, stays at home) with the tasks due today, and what is recorded at the
door: the contact told, the contact not reached, a sampling task done. Every write goes
through the tracing and task services the API calls."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from fangkong.core.auth import Perm
from fangkong.core.clock import as_utc, utc_now
from fangkong.core.errors import AppError, Invalid, Problem
from fangkong.deps import DbSession
from fangkong.isolation import service as isolation
from fangkong.isolation.enums import LABELS as ISO_LABELS
from fangkong.person import service as persons
from fangkong.task import service as tasks
from fangkong.task import titles
from fangkong.task.enums import TaskStatus
from fangkong.task.schemas import TaskUpdate
from fangkong.tracing import service as tracing
from fangkong.tracing.enums import LABELS as TRACING_LABELS
from fangkong.tracing.enums import ContactStatus
from fangkong.tracing.schemas import StatusUpdate
from fangkong.web import i18n
from fangkong.web.auth import CurrentViewer, Viewer
from fangkong.web.workspace import forms
from fangkong.web.workspace.common import division_names, page, person_row, router
from fangkong.web.workspace.forms import FormState
from fangkong.web.workspace.messages import W

# Tasks a person at the door closes by hand; the others end with the event that completes
# them (a contact notified, a transfer arrived).
CLOSABLE = {"isolation_sampling"}
REACHABLE = (ContactStatus.identified, ContactStatus.notified, ContactStatus.under_management)


def contact_version(contact: Any) -> str:
    return forms.version(contact.updated_at, contact.status.value)


def task_version(task: Any) -> str:
    return forms.version(task.status.value, task.due_at, task.assignee_id,
                         task.escalation_level)


def _end_of_today(zone: str) -> datetime:
    tz = ZoneInfo(zone)
    today = utc_now().astimezone(tz).date()
    return datetime.combine(today + timedelta(days=1), time(0), tzinfo=tz)


def worklist(session: DbSession, viewer: Viewer, zone: str) -> list[dict[str, Any]]:
    """One entry per person to follow: who, why (a contact of a case, a stay at home), and
    the tasks about them due by the end of today, soonest first; people with something due
    first."""
    lang = viewer.lang
    actor = viewer.actor
    contacts = tracing.in_care(session, actor=actor)
    stays = isolation.at_home(session, actor=actor)
    # the persons are only checked here (the whole list is ordered and counted); those of
    # the page shown are read by :func:`_page` (:func:`with_persons`)
    people = persons.readable_ids(session, actor=actor, person_ids={
        *(c.person_id for c in contacts), *(s.person_id for s, _ in stays)})
    now = utc_now()
    due = tasks.due_by(session, actor=actor, until=_end_of_today(zone))
    by_contact: dict[int, list[Any]] = {}
    by_task = {t.id: t for t in due}
    for t in due:
        if t.subject_type == "contact" and t.subject_id is not None:
            by_contact.setdefault(t.subject_id, []).append(t)

    def task_row(t: Any) -> dict[str, Any]:
        return {"id": t.id, "type": t.type, "title": t, "due": t.due_at,
                "overdue": as_utc(t.due_at) < now, "version": task_version(t),
                "closable": t.type in CLOSABLE or not t.completes_on}

    entries: dict[int, dict[str, Any]] = {}

    def entry(person_id: int) -> dict[str, Any] | None:
        if person_id not in people:
            return None
        return entries.setdefault(person_id, {
            "person_id": person_id, "contacts": [], "stays": [], "tasks": []})

    role = titles.VALUES["role"]
    for c in contacts:
        e = entry(c.person_id)
        if e is None:
            continue
        e["contacts"].append({
            "id": c.id, "status": c.status.value,
            "status_label": i18n.label(TRACING_LABELS, c.status.value, lang),
            "role": i18n.label(role, c.role, lang), "last": c.last_exposure,
            "release": c.release_date, "version": contact_version(c),
            "can_notify": c.status == ContactStatus.identified,
            "can_miss": c.status in REACHABLE})
        e["tasks"] += [task_row(t) for t in by_contact.get(c.id, [])]
    for s, pending in stays:
        e = entry(s.person_id)
        if e is None:
            continue
        e["stays"].append({"id": s.id, "kind": i18n.label(ISO_LABELS, s.kind.value, lang),
                           "start": s.start_date, "end": s.planned_end})
        e["tasks"] += [task_row(by_task[k]) for _, k in pending if k in by_task]
    for e in entries.values():
        e["tasks"].sort(key=lambda r: (as_utc(r["due"]), r["id"]))
    return sorted(entries.values(), key=lambda e: (
        not e["tasks"], as_utc(e["tasks"][0]["due"]) if e["tasks"] else now,
        e["person_id"]))


def with_persons(session: DbSession, viewer: Viewer, rows: list[dict[str, Any]]
                 ) -> list[dict[str, Any]]:
    """The worklist's rows of one page with their persons (one audited read of those)."""
    people = persons.get_many(session, actor=viewer.actor,
                              person_ids={r["person_id"] for r in rows})
    names = division_names(session, {p.division_code for p in people.values()})
    return [{**r, "person": person_row(people[r["person_id"]], names, viewer.lang)}
            for r in rows if r["person_id"] in people]


PAGE_SIZE = 24  # people per page (eight rows of three cards on a desk)


def _page(request: Request, viewer: Viewer, session: DbSession, *, done: str | None = None,
          form: FormState | None = None, failed_for: str | None = None,
          status: int = 200, page_no: int = 1) -> HTMLResponse:
    """One page of the worklist (people with something due first, so page 1 holds the day's
    urgent work); the counts are of the whole list. A form posts its page back, so the page
    shown after an action is the one it was made on."""
    zone = request.app.state.settings.timezone
    rows = worklist(session, viewer, zone)
    pages = max(1, -(-len(rows) // PAGE_SIZE))
    page_no = min(max(1, page_no), pages)
    return page(request, viewer, "ws_community.html", nav="community",
                rows=with_persons(session, viewer,
                                  rows[(page_no - 1) * PAGE_SIZE:page_no * PAGE_SIZE]),
                total=len(rows),
                page_no=page_no, pages=pages, done=done, form=form or FormState(),
                failed_for=failed_for, status=status,
                due_count=sum(len(r["tasks"]) for r in rows))


def _page_of(raw: dict[str, str]) -> int:
    value = raw.get("page", "")
    return int(value) if value.isdigit() else 1


@router.get("/community")
def community(request: Request, viewer: CurrentViewer, session: DbSession,
              page: int = 1) -> HTMLResponse:
    return _page(request, viewer, session, page_no=page)


# The rules of what is recorded at the door, shared by the forms below and by the entries made
# offline and sent later (:mod:`fangkong.web.workspace.sync`): one set of rules.


def record_follow_up(session: DbSession, viewer: Viewer, contact_id: int, outcome: str,
                     note: str, version: str | None,
                     seen: Callable[[Any], None] | None = None) -> Any:
    """A contact ``notified`` or ``missed`` (lost to follow-up, ``note`` saying what happened),
    refused (:class:`~fangkong.web.workspace.forms.Stale`) when the contact is no longer at
    ``version``; ``seen`` is shown the contact as it is before the check."""
    if outcome not in ("notified", "missed"):
        raise Invalid(W("refused"))
    if outcome == "missed" and not note:
        raise Invalid(W("form_failed"), problems=[Problem(W("required"), field="note")])
    status = ContactStatus.notified if outcome == "notified" else (
        ContactStatus.lost_to_follow_up)

    def check(contact: Any) -> None:
        if seen is not None:
            seen(contact)
        forms.check_version(version, contact.updated_at, contact.status.value)

    with session.begin_nested():
        return tracing.follow_up(session, actor=viewer.actor, contact_id=contact_id,
                                 data=StatusUpdate(status=status, note=note or None),
                                 check=check)


def close_task(session: DbSession, viewer: Viewer, task: Any, version: str | None) -> None:
    """A task marked done, refused (stale) when it is no longer at ``version``."""
    forms.check_version(version, task.status.value, task.due_at, task.assignee_id,
                        task.escalation_level)
    with session.begin_nested():
        tasks.update(session, actor=viewer.actor, task_id=task.id, data=TaskUpdate(
            status=TaskStatus.done, note=W("community.task_done_note").render(viewer.lang)))


async def _fields(request: Request) -> dict[str, str]:
    return {k: v for k, v in (await request.form()).items() if isinstance(v, str)}


def _name(session: DbSession, viewer: Viewer, person_id: int) -> str:
    found = persons.get_many(session, actor=viewer.actor, person_ids={person_id})
    return found[person_id].name if person_id in found else ""


@router.post("/community/contacts/{contact_id}/{outcome}")
async def follow_up(request: Request, viewer: CurrentViewer, session: DbSession,
                    contact_id: int, outcome: str) -> Response:
    """``notified`` or ``missed`` (lost to follow-up, with what happened)."""
    viewer.actor.require(Perm.task_write)  # the role first: refused (403) before any lookup
    raw = await _fields(request)
    note = raw.get("note", "").strip()
    typed = {"note": note}
    where = f"contact-{contact_id}"
    try:
        contact = record_follow_up(session, viewer, contact_id, outcome, note,
                                   raw.get("version"))
    except AppError as exc:
        if exc.status_code == 404:
            raise
        return _page(request, viewer, session, status=exc.status_code, failed_for=where,
                     form=forms.refused(exc, viewer.lang, typed), page_no=_page_of(raw))
    name = _name(session, viewer, contact.person_id)
    return _page(request, viewer, session, page_no=_page_of(raw),
                 done=W("community.saved", name=name).render(viewer.lang))


@router.post("/community/tasks/{task_id}/done")
async def task_done(request: Request, viewer: CurrentViewer, session: DbSession,
                    task_id: int) -> Response:
    viewer.actor.require(Perm.task_write)  # the role first: refused (403) before any lookup
    raw = await _fields(request)
    task = tasks.get(session, actor=viewer.actor, task_id=task_id)  # 404 outside
    try:
        close_task(session, viewer, task, raw.get("version"))
    except AppError as exc:
        return _page(request, viewer, session, status=exc.status_code,
                     failed_for=f"task-{task_id}", form=forms.refused(exc, viewer.lang, {}),
                     page_no=_page_of(raw))
    title = titles.render(task.title, task.title_key, task.title_params, viewer.lang)
    return _page(request, viewer, session, page_no=_page_of(raw),
                 done=W("community.saved", name=title).render(viewer.lang))
