"""FastAPI dependencies shared by every router: the request's session and the signed-in actor."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from fangkong.config import Settings
from fangkong.core.auth import Actor, Perm
from fangkong.core.db import session_scope
from fangkong.core.errors import Unauthenticated
from fangkong.user import service as users

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_session(request: Request) -> Iterator[Session]:
    """One transaction per request: committed when the endpoint returns, rolled back on error."""
    with session_scope(request.app.state.engine) as session:
        yield session


DbSession = Annotated[Session, Depends(get_session)]
AppSettings = Annotated[Settings, Depends(get_settings_dep)]


def source_of(request: Request) -> str:
    host = request.client.host if request.client else "unknown"
    return f"api:{host}"


def get_actor(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    token: Annotated[str | None, Depends(oauth2)],
) -> Actor:
    if not token:
        raise Unauthenticated("sign in first: POST /api/v1/auth/token, then send "
                              "'Authorization: Bearer <token>'")
    return users.actor_from_token(session, settings, token, source=source_of(request))


CurrentActor = Annotated[Actor, Depends(get_actor)]


def needs(perm: Perm) -> Any:
    """A route's permission under the role table (``ROLE_PERMS``), as a dependency of the
    route: checked before its input is read, so a role without it is refused (403) whatever
    it sends. The service checks it again (CLI and internal callers)."""

    def permission(actor: CurrentActor) -> None:
        actor.require(perm)

    permission.perm = perm  # type: ignore[attr-defined]
    return Depends(permission)
