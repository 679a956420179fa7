from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm

from fangkong.core.http import error_responses
from fangkong.deps import AppSettings, CurrentActor, DbSession, source_of
from fangkong.user import service
from fangkong.user.schemas import Token, UserCreate, UserRead

router = APIRouter(tags=["users"])


@router.post("/auth/token", response_model=Token, responses=error_responses(401))
def token(request: Request, session: DbSession, settings: AppSettings,
          form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> Token:
    """OAuth2 password flow: a bearer token for the username and password."""
    access = service.sign_in(session, settings, form.username, form.password,
                             source=source_of(request))
    return Token(access_token=access)


@router.get("/users/me", response_model=UserRead)
def me(session: DbSession, actor: CurrentActor) -> UserRead:
    assert actor.user_id is not None
    return UserRead.model_validate(service.get_user(session, actor=actor, user_id=actor.user_id),
                                   from_attributes=True)


@router.get("/users", response_model=list[UserRead])
def list_users(session: DbSession, actor: CurrentActor) -> list[UserRead]:
    """The user picker: users with a jurisdiction inside yours."""
    return [UserRead.model_validate(u) for u in service.list_users(session, actor=actor)]


@router.post("/users", response_model=UserRead, status_code=201)
def create_user(session: DbSession, actor: CurrentActor, data: UserCreate) -> UserRead:
    return UserRead.model_validate(service.create_user(session, actor=actor, data=data))
