"""The transmission chain of a case, seen as a small graph and edited: an epidemiologist sets
who infected the case (by the infector's case number) or clears it (the source unknown), with a
reason (:mod:`fangkong.tracing.infectors`: refused when it would close a cycle, or name a case
outside the jurisdiction; audited). A form shown before another change is refused (409)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from fangkong.case import service as cases
from fangkong.core.auth import Perm
from fangkong.core.errors import AppError, Invalid, Problem
from fangkong.deps import DbSession
from fangkong.tracing import infectors
from fangkong.tracing.messages import T
from fangkong.tracing.schemas import InfectorSet
from fangkong.web import casepage
from fangkong.web.auth import CurrentViewer, Viewer
from fangkong.web.workspace import forms
from fangkong.web.workspace.common import page, router
from fangkong.web.workspace.forms import FormState
from fangkong.web.workspace.interview_words import IW
from fangkong.web.workspace.messages import W


def _page(request: Request, viewer: Viewer, session: DbSession, case_id: int, *,
          form: FormState | None = None, done: str | None = None,
          status: int = 200) -> HTMLResponse:
    lang = viewer.lang
    case = cases.get(session, actor=viewer.actor, case_id=case_id, audit_read=False)
    decision = infectors.decided(session, actor=viewer.actor, case_id=case_id)
    chain = casepage.chain_view(session, viewer.actor, case_id, lang)
    sources = infectors.infectors_of(session, actor=viewer.actor, case_id=case_id)
    readable = cases.readable_ids(session, actor=viewer.actor, ids=[
        *sources, *([decision.infector_case_id] if decision and decision.infector_case_id
                    else [])])
    refs = {i: cases.get(session, actor=viewer.actor, case_id=i, audit_read=False).ref
            for i in readable}
    masked = IW("chain.none").render(lang)

    def ref(i: int | None) -> str:
        return refs.get(i, masked) if i is not None else masked

    decided: dict[str, Any] | None = None
    if decision is not None:
        decided = {"who": ref(decision.infector_case_id), "by": decision.set_by,
                   "at": decision.set_at, "reason": decision.reason}
    return page(request, viewer, "ws_chain.html", nav="report", status=status, case=case,
                chain=chain, sources=[{"id": s, "ref": ref(s), "href": f"/cases/{s}"
                                       if s in refs else None} for s in sources],
                decided=decided, version=decision.version if decision is not None else 0,
                form=form or FormState(), done=done,
                iw=lambda key, **params: IW(key, **params).render(lang))


@router.get("/cases/{case_id}/chain")
def chain_page(request: Request, viewer: CurrentViewer, session: DbSession,
               case_id: int, done: str = "") -> HTMLResponse:
    viewer.actor.require(Perm.case_read)
    said = None
    if done in ("set", "clear"):
        decision = infectors.decided(session, actor=viewer.actor, case_id=case_id)
        source = decision.infector_case_id if decision is not None else None
        if done == "set" and source is not None:
            ref = cases.get(session, actor=viewer.actor, case_id=source, audit_read=False).ref
            said = IW("chain.saved_set", ref=ref).render(viewer.lang)
        elif done == "clear" and decision is not None and source is None:
            said = IW("chain.saved_clear").render(viewer.lang)
    return _page(request, viewer, session, case_id, done=said)


@router.post("/cases/{case_id}/chain/infector")
async def set_infector(request: Request, viewer: CurrentViewer, session: DbSession,
                       case_id: int) -> Response:
    viewer.actor.require(Perm.case_write)  # the role first: refused (403) before any lookup
    lang = viewer.lang
    raw = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    cases.get(session, actor=viewer.actor, case_id=case_id, audit_read=False)
    typed = {"infector": raw.get("infector", "").strip(), "reason": raw.get("reason", "").strip()}
    clear = raw.get("action") == "clear"
    try:
        version = int(raw.get("version") or "0")
    except ValueError:
        version = -1
    try:
        problems = []
        if not typed["reason"]:
            problems.append(Problem(IW("chain.reason_needed"), field="reason"))
        source: int | None = None
        if not clear:
            if not typed["infector"]:
                problems.append(Problem(IW("chain.infector_needed"), field="infector"))
            else:
                source = infectors.find_case(session, actor=viewer.actor, ref=typed["infector"])
                if source is None:
                    problems.append(Problem(T("infector_unknown"), field="infector"))
        if problems:
            raise Invalid(W("form_failed"), problems=problems)
        data = InfectorSet(infector_case_id=source, reason=typed["reason"], version=version)
        with session.begin_nested():
            infectors.set_infector(session, actor=viewer.actor, case_id=case_id, data=data)
    except (AppError, ValidationError) as exc:
        status = 422 if isinstance(exc, ValidationError) else exc.status_code
        if status == 409:
            state = FormState(values=typed, general=[W("stale").render(lang)])
        else:
            state = forms.refused(exc, lang, typed, {"infector_case_id": "infector"})
        return _page(request, viewer, session, case_id, form=state, status=status)
    done = "clear" if clear else "set"
    return RedirectResponse(f"/cases/{case_id}/chain?done={done}", status_code=303)
