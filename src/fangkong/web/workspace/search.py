"""One search box for everyone: an ID number, a phone number, a name or a person number finds
persons; a case number finds the case; a tube barcode finds the tube and its round. Each only
within the viewer's jurisdiction and what the viewer's role may read (a record outside it is
not found, as one that does not exist)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from fangkong.case import service as cases
from fangkong.core.auth import Perm
from fangkong.deps import DbSession
from fangkong.testing import service as testing
from fangkong.testing.enums import LABELS as TESTING_LABELS
from fangkong.web import i18n
from fangkong.web.auth import CurrentViewer
from fangkong.web.workspace.common import division_names, find_people, page, person_row, router


@router.get("/search")
def search(request: Request, viewer: CurrentViewer, session: DbSession,
           q: str = "") -> HTMLResponse:
    actor, lang = viewer.actor, viewer.lang
    text = q.strip()[:100]
    people: list[dict[str, Any]] = []
    found_cases: list[Any] = []
    tubes: list[dict[str, Any]] = []
    if text:
        if actor.can(Perm.person_read):
            hits = find_people(session, actor, text, partial=True)
            names = division_names(session, {p.division_code for p in hits})
            people = [person_row(p, names, lang) for p in hits]
            tube = testing.tube_by_barcode(session, actor=actor, barcode=text)
            if tube is not None:
                t, round_name = tube
                tubes.append({"barcode": t.barcode, "round": round_name,
                              "members": t.members, "sampled": t.first_sampled_at,
                              "result": i18n.label(TESTING_LABELS, t.result.value, lang)
                              if t.result else "—"})
        if actor.can(Perm.case_read):
            case = cases.find_by_ref(session, actor=actor, ref=text)
            found_cases = [case] if case is not None else []
    return page(request, viewer, "ws_search.html", nav="search", q=text, people=people,
                cases=found_cases, tubes=tubes,
                can_report=actor.can(Perm.case_write),
                total=len(people) + len(found_cases) + len(tubes))
