"""Sign-in for the web pages: the same users, passwords and roles as the API, carried in a
signed, HTTP-only, SameSite=Lax session cookie naming a server-side session (ended by signing
out); and each user's stored display choices."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from fangkong.core.auth import Actor
from fangkong.core.clock import utc_now
from fangkong.core.config import Settings
from fangkong.core.errors import AppError
from fangkong.deps import AppSettings, DbSession, Transactions, source_of
from fangkong.user import service as users
from fangkong.web.i18n import DEFAULT_LANG, lang_or_default
from fangkong.web.models import WebPreference

COOKIE = "fangkong_session"
LANG_COOKIE = "fangkong_lang"


@dataclass
class Viewer:
    actor: Actor
    lang: str
    large_text: bool


def web_source(request: Request) -> str:
    return source_of(request).replace("api:", "web:")


def preference(session: Session, user_id: int) -> WebPreference | None:
    return session.get(WebPreference, user_id)


def save_preference(session: Session, user_id: int, *, lang: str, large_text: bool) -> None:
    pref = session.get(WebPreference, user_id)
    if pref is None:
        pref = WebPreference(user_id=user_id, lang=lang, large_text=large_text,
                             updated_at=utc_now())
        session.add(pref)
    else:
        pref.lang, pref.large_text, pref.updated_at = lang, large_text, utc_now()
    session.flush()


class LoginRequired(Exception):
    """Raised by pages when nobody (or an expired session) is signed in: answered with a
    redirect to the sign-in page that comes back here afterwards."""

    def __init__(self, location: str) -> None:
        super().__init__(location)
        self.location = location


def _login_redirect(request: Request) -> LoginRequired:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return LoginRequired(f"/login?next={quote(target)}")


def _viewer(request: Request, session: Session, settings: Settings) -> Viewer:
    token = request.cookies.get(COOKIE)
    if not token:
        raise _login_redirect(request)
    try:
        actor = users.actor_from_token(session, settings, token, kind="web",
                                       source=web_source(request))
    except AppError:
        raise _login_redirect(request) from None
    assert actor.user_id is not None
    pref = preference(session, actor.user_id)
    lang = lang_or_default(pref.lang if pref else request.cookies.get(LANG_COOKIE))
    return Viewer(actor=actor, lang=lang or DEFAULT_LANG,
                  large_text=bool(pref and pref.large_text))


def get_viewer(request: Request, session: DbSession, settings: AppSettings) -> Viewer:
    return _viewer(request, session, settings)


def viewer_outside(request: Request, transaction: Transactions, settings: AppSettings) -> Viewer:
    """The signed-in viewer, read in a transaction of its own that ends at once (for pages
    that hash a password before they open theirs)."""
    with transaction() as session:
        return _viewer(request, session, settings)


CurrentViewer = Annotated[Viewer, Depends(get_viewer)]
ViewerOutside = Annotated[Viewer, Depends(viewer_outside)]
