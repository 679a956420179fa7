from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import OAuth2PasswordRequestForm

from fangkong.core.auth import Actor, Perm
from fangkong.core.errors import Unauthenticated
from fangkong.core.http import error_responses
from fangkong.deps import (
    AppSettings,
    CurrentActor,
    DbSession,
    Transactions,
    client_address,
    needs,
    oauth2,
    source_of,
)
from fangkong.user import service
from fangkong.user.messages import U
from fangkong.user.schemas import PasswordChange, PasswordSet, Token, UserCreate, UserRead

router = APIRouter(tags=["users"])
Bearer = Annotated[str | None, Depends(oauth2)]


def _bearer(token: str | None) -> str:
    if not token:
        raise Unauthenticated(U("sign_in_first"))
    return token


def actor_outside(request: Request, settings: AppSettings, transaction: Transactions,
                  token: Bearer) -> Actor:
    """The signed-in actor, read in a transaction of its own that ends at once (for the
    endpoints that hash a password before they open theirs)."""
    with transaction() as session:
        return service.actor_from_token(session, settings, _bearer(token),
                                        source=source_of(request))


ActorOutside = Annotated[Actor, Depends(actor_outside)]


def user_admin(actor: ActorOutside) -> None:
    """The route's permission, checked before its input is read and with no transaction held
    (these routes hash a password afterwards)."""
    actor.require(Perm.user_admin)


user_admin.perm = Perm.user_admin  # type: ignore[attr-defined]


def user_add(actor: ActorOutside) -> None:
    """Adding a user's permission (commanders too), checked like :func:`user_admin`."""
    actor.require(Perm.user_add)


user_add.perm = Perm.user_add  # type: ignore[attr-defined]


@router.post("/auth/token", response_model=Token, responses=error_responses(401, 429))
def token(request: Request, transaction: Transactions, settings: AppSettings,
          form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> Token:
    """OAuth2 password flow: a bearer token for the username and password. Repeated failures
    lock the username and the client address out for a while (429 with Retry-After)."""
    access = service.sign_in(transaction, settings, form.username, form.password,
                             address=client_address(request), source=source_of(request))
    return Token(access_token=access)


@router.post("/auth/logout", status_code=204)
def logout(request: Request, session: DbSession, settings: AppSettings,
           token: Bearer) -> Response:
    """End the bearer token's session: the token is refused from now on."""
    service.sign_out(session, settings, _bearer(token), source=source_of(request))
    return Response(status_code=204)


@router.get("/users/me", response_model=UserRead)
def me(session: DbSession, actor: CurrentActor) -> UserRead:
    assert actor.user_id is not None
    return UserRead.model_validate(service.get_user(session, actor=actor, user_id=actor.user_id),
                                   from_attributes=True)


@router.put("/users/me/password", response_model=Token)
def change_my_password(request: Request, transaction: Transactions, settings: AppSettings,
                       actor: ActorOutside, data: PasswordChange) -> Token:
    """Change your own password, giving the current one. Every session of yours ends; the
    answer is a token of a new one."""
    access = service.change_own_password(transaction, settings, actor=actor,
                                         old=data.old_password, new=data.new_password,
                                         address=client_address(request))
    return Token(access_token=access)


@router.get("/users", response_model=list[UserRead])
def list_users(session: DbSession, actor: CurrentActor) -> list[UserRead]:
    """The user picker: users with a jurisdiction inside yours."""
    return [UserRead.model_validate(u) for u in service.list_users(session, actor=actor)]


@router.post("/users", response_model=UserRead, status_code=201,
             dependencies=[Depends(user_add)])
def create_user(transaction: Transactions, actor: ActorOutside, data: UserCreate) -> UserRead:
    """Add a user inside your jurisdiction, of a role with no right you lack."""
    digest = service.new_password_hash(data.password, data.username)
    with transaction() as session:
        return UserRead.model_validate(service.create_user(session, actor=actor, data=data,
                                                           password_hash=digest))


@router.put("/users/{user_id}/password", status_code=204,
            dependencies=[Depends(user_admin)])
def set_password(transaction: Transactions, actor: ActorOutside, user_id: int,
                 data: PasswordSet) -> Response:
    """An administrator sets a user's password; every session of that user ends."""
    with transaction() as session:
        username = service.administered(session, actor, user_id).username
    digest = service.new_password_hash(data.password, username)
    with transaction() as session:
        service.set_password_hash(session, actor=actor, user_id=user_id, password_hash=digest)
    return Response(status_code=204)


@router.post("/users/{user_id}/disable", response_model=UserRead,
             dependencies=[needs(Perm.user_admin)])
def disable(session: DbSession, actor: CurrentActor, user_id: int) -> UserRead:
    """Disable a user: every session of theirs ends and they cannot sign in."""
    return UserRead.model_validate(service.set_active(session, actor=actor, user_id=user_id,
                                                      active=False))


@router.post("/users/{user_id}/enable", response_model=UserRead,
             dependencies=[needs(Perm.user_admin)])
def enable(session: DbSession, actor: CurrentActor, user_id: int) -> UserRead:
    return UserRead.model_validate(service.set_active(session, actor=actor, user_id=user_id,
                                                      active=True))
