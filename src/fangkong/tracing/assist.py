"""Cross-region assistance (区域协查): contacts living in another jurisdiction are sent to it.

The sending side (it covers the case's jurisdiction) picks contacts of the case whose place of
residence lies in the receiving jurisdiction. The receiving side sees the request with just
those persons (not the case's other contacts), accepts it, and answers with an outcome per
person. A task owned by the receiving jurisdiction carries the due time, so an overdue request
climbs the jurisdictions like any task (``fangkong task escalate``); answering closes it.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.case import service as cases
from fangkong.core import audit
from fangkong.core.auth import Actor, Perm, handover, scope_clause
from fangkong.core.clock import utc_now
from fangkong.core.errors import Conflict, Forbidden, Invalid, NotFound, Problem
from fangkong.geo import service as geo
from fangkong.task import service as tasks
from fangkong.task.enums import TaskStatus
from fangkong.task.schemas import TaskCreate, TaskUpdate
from fangkong.tracing.enums import AssistOutcome, AssistStatus
from fangkong.tracing.messages import T, state
from fangkong.tracing.models import AssistItem, AssistRequest, ContactEpisode
from fangkong.tracing.schemas import AssistAnswer, AssistCreate


def send(session: Session, *, actor: Actor, data: AssistCreate) -> AssistRequest:
    actor.require(Perm.case_write)
    case = cases.get(session, actor=actor, case_id=data.case_id, audit_read=False)
    if not actor.covers(case.owning_division_code):
        raise Forbidden(T("assist_own_only"))
    geo.get(session, data.to_division_code)
    if case.owning_division_code.startswith(data.to_division_code) or \
            data.to_division_code.startswith(case.owning_division_code):
        raise Invalid(T("assist_other"), problems=[Problem(
            T("assist_inside"), field="to_division_code")])
    found = {c.id: c for c in session.scalars(select(ContactEpisode).where(
        ContactEpisode.id.in_(data.contact_ids)))}
    problems = []
    for i, cid in enumerate(data.contact_ids):
        c = found.get(cid)
        if c is None or c.index_case_id != case.id:
            problems.append(Problem(T("assist_not_contact", contact=cid, case=case.id),
                                    field=f"contact_ids.{i}"))
        elif not c.division_code.startswith(data.to_division_code):
            problems.append(Problem(T("assist_not_living", contact=cid, code=data.to_division_code),
                                    field=f"contact_ids.{i}"))
    if problems:
        raise Invalid(T("assist_cannot_send"), problems=problems)
    now = utc_now()
    request = AssistRequest(case_id=case.id, from_division_code=case.owning_division_code,
                            to_division_code=data.to_division_code, status=AssistStatus.sent,
                            due_at=now + timedelta(hours=data.due_hours), message=data.message,
                            created_by=actor.username, created_at=now)
    for cid in dict.fromkeys(data.contact_ids):
        c = found[cid]
        request.items.append(AssistItem(person_id=c.person_id, contact_id=c.id, role=c.role,
                                         last_exposure=c.last_exposure,
                                         outcome=AssistOutcome.pending))
    session.add(request)
    session.flush()
    task = tasks.create(session, actor=handover(actor), data=TaskCreate(
        type="assist_request", **tasks.titled("assist_request", request=request.id,
                                              count=len(request.items), case=case.ref),
        subject_type="assist_request",
        subject_id=request.id, owning_division_code=data.to_division_code,
        due_at=request.due_at))
    request.task_id = task.id
    audit.record(session, actor, action="create", record_type="assist_request",
                 record_ids=[request.id], fields=["person_id"],
                 detail={"to": data.to_division_code, "persons": len(request.items)})
    return request


def _sides(actor: Actor, request: AssistRequest) -> tuple[bool, bool]:
    return actor.covers(request.from_division_code), actor.covers(request.to_division_code)


def get(session: Session, *, actor: Actor, request_id: int) -> AssistRequest:
    actor.require(Perm.case_read)
    request = session.get(AssistRequest, request_id)
    if request is None or not any(_sides(actor, request)):
        raise NotFound(T("assist_not_found", id=request_id))
    audit.record(session, actor, action="read", record_type="assist_request",
                 record_ids=[request.id], fields=["person_id", "outcome"])
    return request


def list_(session: Session, *, actor: Actor, incoming: bool) -> list[AssistRequest]:
    actor.require(Perm.case_read)
    column = AssistRequest.to_division_code if incoming else AssistRequest.from_division_code
    found = list(session.scalars(select(AssistRequest).where(scope_clause(actor, column))
                                 .order_by(AssistRequest.id.desc()).limit(500)))
    audit.record(session, actor, action="read", record_type="assist_request",
                 record_ids=[r.id for r in found], fields=["person_id", "outcome"])
    return found


def accept(session: Session, *, actor: Actor, request_id: int) -> AssistRequest:
    actor.require(Perm.case_write)
    request = get(session, actor=actor, request_id=request_id)
    if not _sides(actor, request)[1]:
        raise Forbidden(T("assist_accept_receiver"))
    if request.status != AssistStatus.sent:
        raise Conflict(T("assist_already", id=request_id, status=state(request.status)))
    request.status, request.accepted_by, request.accepted_at = (
        AssistStatus.accepted, actor.username, utc_now())
    if request.task_id is not None:
        tasks.update(session, actor=handover(actor), task_id=request.task_id,
                     data=TaskUpdate(status=TaskStatus.in_progress))
    session.flush()
    audit.record(session, actor, action="update", record_type="assist_request",
                 record_ids=[request.id], fields=["status"])
    return request


def answer(session: Session, *, actor: Actor, request_id: int,
           data: AssistAnswer) -> AssistRequest:
    """Outcomes per person; when every person has one, the request is answered and its task
    done."""
    actor.require(Perm.case_write)
    request = get(session, actor=actor, request_id=request_id)
    if not _sides(actor, request)[1]:
        raise Forbidden(T("assist_answer_receiver"))
    if request.status == AssistStatus.sent:
        raise Invalid(T("assist_accept_first"))
    items = {i.person_id: i for i in request.items}
    problems = [Problem(T("assist_not_in", person=a.person_id),
                        field=f"items.{n}.person_id")
                for n, a in enumerate(data.items) if a.person_id not in items]
    if problems:
        raise Invalid(T("assist_unknown"), problems=problems)
    now = utc_now()
    for a in data.items:
        item = items[a.person_id]
        item.outcome, item.note, item.answered_at = a.outcome, a.note, now
    if all(i.outcome != AssistOutcome.pending for i in request.items) and \
            request.status != AssistStatus.answered:
        request.status, request.answered_at = AssistStatus.answered, now
        if request.task_id is not None:
            tasks.update(session, actor=handover(actor), task_id=request.task_id,
                         data=TaskUpdate(status=TaskStatus.done))
    session.flush()
    audit.record(session, actor, action="update", record_type="assist_request",
                 record_ids=[request.id], fields=["outcome"])
    return request


def is_overdue(request: AssistRequest) -> bool:
    return request.status != AssistStatus.answered and request.due_at < utc_now()
