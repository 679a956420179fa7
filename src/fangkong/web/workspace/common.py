"""What the workspace's pages share: their router, rendering with the workspace's words, the
divisions a form may choose from, and finding a person of the jurisdiction by what a user
types (an ID number, a phone number, a name or a person number)."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from fangkong.core.auth import Actor
from fangkong.core.errors import Invalid, NotFound
from fangkong.person import service as persons
from fangkong.web import i18n
from fangkong.web import service as queries
from fangkong.web.auth import Viewer
from fangkong.web.pages import render
from fangkong.web.workspace.forms import FormState
from fangkong.web.workspace.messages import W

router = APIRouter(include_in_schema=False)

ID_NUMBER = re.compile(r"^(\d{17}[\dXx]|\d{15})$")
PHONE = re.compile(r"^\+?\d{7,15}$")
SEXES = ("male", "female", "unknown")


def page(request: Request, viewer: Viewer, name: str, *, status: int = 200,
         **context: Any) -> HTMLResponse:
    """A workspace page in the viewer's language; ``w(key, **params)`` gives its words."""
    lang = viewer.lang
    zone = request.app.state.settings.timezone
    context.setdefault("form", FormState())
    return render(request, viewer, name, lang=lang, zone=zone, status=status,
                  w=lambda key, **params: W(key, **params).render(lang), **context)


def divisions(session: Session, actor: Actor, depth: int = 2) -> list[tuple[str, str, int]]:
    """The divisions a form offers: the viewer's jurisdictions and ``depth`` levels below
    them, as (code, name, level below the jurisdiction), in order."""
    root = queries.jurisdiction_of(session, actor, None)
    out: list[tuple[str, str, int]] = []

    def walk(code: str, name: str, level: int) -> None:
        out.append((code, name, level))
        if level < depth:
            for child, child_name in queries.children(session, code):
                walk(child, child_name, level + 1)

    for code, name in root.choices:
        walk(code, name, 0)
    return out


def place_options(places: list[tuple[str, str, int]], lang: str) -> list[tuple[str, str]]:
    """Divisions as a select's options, each indented by its level below the jurisdiction."""
    return [(code, "\u3000" * level + i18n.place(name, lang)) for code, name, level in places]


PHONE_TAIL = re.compile(r"^\d{4}$")


def find_people(session: Session, actor: Actor, typed: str, limit: int = 20, *,
                partial: bool = False) -> list[Any]:
    """The persons of the actor's jurisdiction that ``typed`` names: an ID number or a phone
    number (exact, by their keyed hash), else a person number or a name (exact). ``partial``
    (a search box): also a phone by its last four digits, and a name by its beginning ("张"
    finds 张三), both from an index (:func:`fangkong.person.service.search`)."""
    text = typed.strip()
    if partial and text:
        compact = re.sub(r"[\s-]", "", text)
        if PHONE_TAIL.match(compact):
            return list(persons.search(session, actor=actor, phone_tail=compact, limit=limit))
        if not (ID_NUMBER.match(compact) or PHONE.match(compact)):
            try:
                return [persons.get_by_ref(session, actor=actor, ref=text)]
            except NotFound:
                return list(persons.search(session, actor=actor, name_prefix=text,
                                           limit=limit))
    compact = re.sub(r"[\s-]", "", text)
    if not text:
        return []
    if ID_NUMBER.match(compact):
        found, _ = persons.list_(session, actor=actor, id_number=compact.upper(), limit=limit)
        return found
    if PHONE.match(compact):
        try:
            found, _ = persons.list_(session, actor=actor, phone=compact, limit=limit)
        except Invalid:
            return []
        return found
    found, _ = persons.list_(session, actor=actor, name=text, limit=limit)
    if not found:
        try:
            found = [persons.get_by_ref(session, actor=actor, ref=text)]
        except NotFound:
            return []
    return found


def one_person(session: Session, actor: Actor, typed: str) -> Any:
    """The one person ``typed`` names, else Invalid (none, or several) on the field."""
    from fangkong.core.errors import Problem

    found = find_people(session, actor, typed, limit=5)
    if len(found) == 1:
        return found[0]
    message = W("no_such_person") if not found else W("several_people", count=len(found))
    raise Invalid(message, problems=[Problem(message, field="who")])


def person_row(person: Any, names: dict[str, str], lang: str) -> dict[str, Any]:
    """A person as the workspace lists them (identifiers masked)."""
    return {"id": person.id, "ref": person.ref, "name": person.name,
            "sex": W(f"sex.{person.sex.value}").render(lang) if person.sex else "—",
            "birth_date": person.birth_date, "id_number": person.id_number_masked or "—",
            "phone": person.phone_masked or "—", "address": person.address or "",
            "division": i18n.place(names.get(person.division_code, person.division_code),
                                   lang)}


def division_names(session: Session, codes: set[str]) -> dict[str, str]:
    return queries.division_names(session, codes)
