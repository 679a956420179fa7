"""FastAPI dependencies shared by every router: the request's session and the signed-in actor.

Who the actor of a token is belongs to the user domain (its sessions and users):
:func:`fangkong.app.create_app` hands its reader over as ``app.state.actor_of``, so that this
module, which every domain's API imports, imports no domain."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Annotated, Any, Protocol

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from fangkong.core.auth import Actor, Perm
from fangkong.core.config import Settings
from fangkong.core.db import read_scope, session_scope
from fangkong.core.errors import Unauthenticated
from fangkong.core.messages import CORE

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_session(request: Request) -> Iterator[Session]:
    """One transaction per request, committed (with its audit entries) when the endpoint
    returns and BEFORE the response is sent (``scope="function"`` below): a client told
    "created" or shown personal data can rely on it being stored and audited, and a commit
    that fails is an error to the client, never a success. GET and HEAD requests read in a
    :func:`read_scope` transaction, which takes no write lock."""
    engine = request.app.state.engine
    scope = read_scope if request.method in READ_METHODS else session_scope
    with scope(engine) as session:
        yield session


def get_transactions(request: Request) -> Callable[[], AbstractContextManager[Session]]:
    """Short transactions the endpoint opens itself, for sign-in and passwords: their argon2
    hashing runs between two transactions, never inside one."""
    engine = request.app.state.engine

    def transaction() -> AbstractContextManager[Session]:
        return session_scope(engine)

    return transaction


DbSession = Annotated[Session, Depends(get_session, scope="function")]
AppSettings = Annotated[Settings, Depends(get_settings_dep)]
Transactions = Annotated[Callable[[], AbstractContextManager[Session]],
                         Depends(get_transactions)]


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def source_of(request: Request) -> str:
    return f"api:{client_address(request)}"


class ActorOf(Protocol):
    """The actor of a token of a live session (``fangkong.user.service.actor_from_token``)."""

    def __call__(self, session: Session, settings: Settings, token: str, *,
                 source: str) -> Actor: ...


def get_actor(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    token: Annotated[str | None, Depends(oauth2)],
) -> Actor:
    if not token:
        raise Unauthenticated(CORE("sign_in_first"))
    actor_of: ActorOf = request.app.state.actor_of
    return actor_of(session, settings, token, source=source_of(request))


CurrentActor = Annotated[Actor, Depends(get_actor)]


def needs(perm: Perm) -> Any:
    """A route's permission under the role table (``ROLE_PERMS``), as a dependency of the
    route: checked before its input is read, so a role without it is refused (403) whatever
    it sends. The service checks it again (CLI and internal callers)."""

    def permission(actor: CurrentActor) -> None:
        actor.require(perm)

    permission.perm = perm  # type: ignore[attr-defined]
    return Depends(permission)
