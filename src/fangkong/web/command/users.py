"""The users of the jurisdiction, ``/users``: who they are, their role, jurisdiction and
state, and a form to add one (commanders and administrators). The user service the API's
``POST /users`` calls decides: a grant outside the adder's jurisdiction or a role with a right
the adder lacks is refused, next to its field. The password is checked against the policy and
hashed before the transaction opens (argon2 is slow; SQLite has one write lock)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from fangkong.core.auth import ROLE_PERMS, Perm, Role
from fangkong.core.errors import AppError, Problem
from fangkong.deps import AppSettings, DbSession, Transactions
from fangkong.user import service as users
from fangkong.user.passwords import PasswordRejected
from fangkong.user.schemas import UserCreate
from fangkong.web import i18n
from fangkong.web.auth import CurrentViewer, Viewer, ViewerOutside
from fangkong.web.command.common import page, router
from fangkong.web.command.messages import C
from fangkong.web.pages import password_error
from fangkong.web.workspace import forms
from fangkong.web.workspace.common import divisions, place_options
from fangkong.web.workspace.forms import FormState
from fangkong.web.workspace.messages import W

FIELDS = ("username", "display_name", "role", "jurisdiction", "password")


def role_name(role: str, lang: str) -> str:
    key = f"role.{role}"
    return C(key).render(lang) if key in C else role


def grantable(viewer: Viewer) -> list[Role]:
    """The roles the viewer may give: none with a right the viewer lacks."""
    mine = ROLE_PERMS[viewer.actor.role]
    return [r for r in Role if ROLE_PERMS[r] <= mine]


def users_page(request: Request, viewer: Viewer, session: Session, *,
               form: FormState | None = None, done: str | None = None,
               status: int = 200) -> HTMLResponse:
    lang = viewer.lang
    found = users.list_users(session, actor=viewer.actor)
    names = {c: n for c, n, _ in divisions(session, viewer.actor, depth=3)}
    rows: list[dict[str, Any]] = [{
        "username": u.username, "display_name": u.display_name,
        "role": role_name(u.role.value, lang), "active": u.active,
        "jurisdictions": [i18n.place(names.get(g.division_code, g.division_code), lang)
                          for g in u.grants]} for u in found]
    return page(request, viewer, "users.html", nav="users", status=status, rows=rows,
                roles=[(r.value, role_name(r.value, lang)) for r in grantable(viewer)],
                places=place_options(divisions(session, viewer.actor), lang),
                form=form or FormState(), done=done,
                w=lambda key, **p: W(key, **p).render(lang))


@router.get("/users")
def users_list(request: Request, viewer: CurrentViewer, session: DbSession) -> HTMLResponse:
    viewer.actor.require(Perm.user_add)
    return users_page(request, viewer, session)


@router.post("/users")
async def add_user(request: Request, viewer: ViewerOutside, transaction: Transactions,
                   session: DbSession, settings: AppSettings) -> Response:
    """Add a user. The password is hashed first, then the user is created in a short
    transaction of its own; the page is read afterwards (``session`` is first used then, so
    on SQLite no write lock is held while argon2 runs or twice in one request)."""
    viewer.actor.require(Perm.user_add)  # the role first: refused (403) before anything else
    raw = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    typed = {k: raw.get(k, "") for k in FIELDS}
    shown = {**{k: v for k, v in typed.items() if k != "password"}, "password": ""}
    lang = viewer.lang
    try:
        data = UserCreate(username=typed["username"].strip(),
                          display_name=typed["display_name"].strip(),
                          role=typed["role"],
                          jurisdictions=[typed["jurisdiction"]] if typed["jurisdiction"] else [],
                          password=typed["password"])
        try:
            digest = users.new_password_hash(data.password, data.username)
        except PasswordRejected as exc:
            text = password_error(exc, lang, settings.password_min_length)
            return users_page(request, viewer, session, status=422,
                              form=FormState(values=shown, errors={"password": text}))
        with transaction() as writing:
            user = users.create_user(writing, actor=viewer.actor, data=data,
                                     password_hash=digest)
            done = C("users.created", username=user.username).render(lang)
    except (AppError, ValidationError) as exc:
        status = exc.status_code if isinstance(exc, AppError) else 422
        if isinstance(exc, AppError) and status == 404:  # a division that does not exist
            exc = type(exc)(exc.text, problems=[Problem(exc.text, field="jurisdictions")])
        state = forms.refused(exc, lang, shown, fields={"jurisdictions": "jurisdiction"})
        return users_page(request, viewer, session, form=state, status=status)
    return users_page(request, viewer, session, done=done)
