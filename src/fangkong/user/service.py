"""Users, their roles and jurisdiction grants, and sign-in."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.config import Settings
from fangkong.core import audit
from fangkong.core.auth import NATIONAL, Actor, Perm, scope_clause
from fangkong.core.clock import utc_now
from fangkong.core.errors import Conflict, Forbidden, NotFound, Unauthenticated
from fangkong.core.security import hash_password, issue_token, read_token, verify_password
from fangkong.geo import service as geo
from fangkong.user.models import User, UserGrant
from fangkong.user.schemas import UserCreate


def create_user(session: Session, *, actor: Actor, data: UserCreate) -> User:
    actor.require(Perm.user_admin)
    for code in data.jurisdictions:
        if code != NATIONAL:
            geo.get(session, code)
        if not (actor.national or (code != NATIONAL and actor.covers(code))):
            raise Forbidden(f"you may not grant jurisdiction {code}: it is outside your own")
    if session.scalar(select(User.id).where(User.username == data.username)) is not None:
        raise Conflict(f"user {data.username} already exists")
    user = User(
        username=data.username, display_name=data.display_name, role=data.role,
        password_hash=hash_password(data.password), active=True, created_at=utc_now(),
        grants=[UserGrant(division_code=c) for c in sorted(set(data.jurisdictions))],
    )
    session.add(user)
    session.flush()
    audit.record(session, actor, action="create", record_type="user", record_ids=[user.id],
                 fields=["username", "role", "jurisdictions"])
    return user


def actor_for(user: User, *, source: str) -> Actor:
    return Actor(username=user.username, role=user.role, user_id=user.id, source=source,
                 grants=tuple(g.division_code for g in user.grants))


def authenticate(session: Session, username: str, password: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    # Verify against a dummy hash when the user is unknown so timing does not tell.
    ok = verify_password(user.password_hash if user else _DUMMY_HASH, password)
    if user is None or not ok or not user.active:
        raise Unauthenticated("wrong username or password")
    return user


# A hash with the hasher's parameters (a test checks them), written out rather than computed
# at import: one argon2 hash costs `fangkong user add` and every start a few hundred ms.
_DUMMY_HASH = ("$argon2id$v=19$m=65536,t=3,p=4$HlugDSpOLFMDHcR7mXvJHw$"
               "AOoJ2rJlU2HJxOkH69Ngsj5V4XNpQoTmYWVKsab4BVQ")


def sign_in(session: Session, settings: Settings, username: str, password: str, *,
            source: str) -> str:
    user = authenticate(session, username, password)
    audit.record(session, actor_for(user, source=source), action="login", record_type="user",
                 record_ids=[user.id])
    return issue_token(settings, subject=str(user.id), claims={"usr": user.username})


def actor_from_token(session: Session, settings: Settings, token: str, *, source: str) -> Actor:
    claims = read_token(settings, token)
    user = session.get(User, int(claims["sub"]))
    if user is None or not user.active:
        raise Unauthenticated("account disabled or removed: sign in again")
    return actor_for(user, source=source)


def list_users(session: Session, *, actor: Actor) -> list[User]:
    """The user picker: users with at least one grant inside the actor's jurisdictions."""
    inside = select(UserGrant.user_id).where(scope_clause(actor, UserGrant.division_code))
    stmt = select(User).where(User.id.in_(inside)).order_by(User.username)
    return list(session.scalars(stmt))


def get_user(session: Session, *, actor: Actor, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None or not any(actor.covers(g.division_code) for g in user.grants):
        raise NotFound(f"user {user_id} not found")
    return user
