"""Users, their roles and jurisdiction grants, sign-in, sessions and the lockout of repeated
failed sign-ins.

Password hashes are computed and checked outside any database transaction (argon2 takes tens
of milliseconds and much memory; on SQLite a transaction holds the one write lock): sign-in
reads in one short transaction, checks the password with none open, and writes its outcome in
a second. The caller supplies those transactions (``Transactions``: a factory of
commit-on-exit sessions), as it supplies the session of every other service.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from fangkong.core import audit
from fangkong.core.auth import NATIONAL, ROLE_PERMS, Actor, Perm, Role, scope_clause
from fangkong.core.clock import utc_now
from fangkong.core.config import Settings, get_settings
from fangkong.core.db import upsert
from fangkong.core.errors import (
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    Problem,
    TooManyAttempts,
    Unauthenticated,
)
from fangkong.core.messages import Text
from fangkong.core.security import hash_password, issue_token, read_token, verify_password
from fangkong.geo import service as geo
from fangkong.user import passwords
from fangkong.user.messages import U
from fangkong.user.models import LoginThrottle, User, UserGrant, UserSession
from fangkong.user.schemas import UserCreate

Transactions = Callable[[], AbstractContextManager[Session]]
"""Opens one transaction: committed when the block ends, rolled back on an error."""

WRONG = U("wrong")


def check_password(password: str, username: str) -> None:
    """The password policy (:mod:`fangkong.user.passwords`) under the configured length."""
    passwords.check(password, username=username,
                    min_length=get_settings().password_min_length)


def new_password_hash(password: str, username: str) -> str:
    """Check ``password`` against the policy and hash it; call outside any transaction."""
    check_password(password, username)
    return hash_password(password)


def create_user(session: Session, *, actor: Actor, data: UserCreate,
                password_hash: str | None = None) -> User:
    """Create a user. ``password_hash`` is ``new_password_hash(data.password, ...)`` computed
    before the transaction began; without it the password is checked and hashed here."""
    actor.require(Perm.user_add)
    if not ROLE_PERMS[data.role] <= ROLE_PERMS[actor.role]:  # no more rights than one's own
        refused = U("more_rights", role=data.role.value)
        raise Forbidden(refused, problems=[Problem(refused, field="role")])
    for code in data.jurisdictions:
        if code != NATIONAL:
            geo.get(session, code)
        if not (actor.national or (code != NATIONAL and actor.covers(code))):
            outside = U("grant_outside", code=code)
            raise Forbidden(outside, problems=[Problem(outside, field="jurisdictions")])
    if session.scalar(select(User.id).where(User.username == data.username)) is not None:
        taken = U("exists", username=data.username)
        raise Conflict(taken, problems=[Problem(taken, field="username")])
    if password_hash is None:
        password_hash = new_password_hash(data.password, data.username)
    user = User(
        username=data.username, display_name=data.display_name, role=data.role,
        password_hash=password_hash, active=True, created_at=utc_now(),
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


def anonymous(source: str) -> Actor:
    """Who a failed sign-in is recorded as: nobody signed in (no role's rights, no grants)."""
    return Actor(username="anonymous", role=Role.analyst, grants=(), source=source)


# A hash with the hasher's parameters (a test checks them), written out rather than computed
# at import: one argon2 hash costs `fangkong user add` and every start a few hundred ms.
_DUMMY_HASH = ("$argon2id$v=19$m=65536,t=3,p=4$HlugDSpOLFMDHcR7mXvJHw$"
               "AOoJ2rJlU2HJxOkH69Ngsj5V4XNpQoTmYWVKsab4BVQ")


# ------------------------------------------------------------------------------ lockout


@dataclass(frozen=True)
class Attempt:
    """Who is signing in, from where, and how the outcome is recorded."""

    username: str
    address: str
    source: str

    def counters(self) -> list[tuple[str, str]]:
        return [("user", self.username[:200]), ("address", self.address[:200])]


def _limit(settings: Settings, kind: str) -> int:
    return (settings.login_user_max_failures if kind == "user"
            else settings.login_address_max_failures)


def _locked_for(session: Session, attempt: Attempt, now: datetime) -> int:
    """Seconds until the attempt's username and address are both free of lockout (0: free)."""
    rows = session.scalars(select(LoginThrottle).where(
        LoginThrottle.locked_until > now,
        ((LoginThrottle.kind == "user") & (LoginThrottle.key == attempt.username[:200]))
        | ((LoginThrottle.kind == "address") & (LoginThrottle.key == attempt.address[:200]))))
    until = max((r.locked_until for r in rows if r.locked_until), default=None)
    return 0 if until is None else max(1, math.ceil((until - now).total_seconds()))


def _throttle_rows(session: Session, attempt: Attempt, now: datetime) -> list[LoginThrottle]:
    """The attempt's two counters, created if new and locked for this transaction."""
    upsert(session, LoginThrottle.__table__,
           [{"kind": k, "key": v, "failures": 0, "last_failure_at": now, "locked_until": None}
            for k, v in attempt.counters()], key=["kind", "key"], update=[])
    stmt = select(LoginThrottle).where(
        LoginThrottle.kind.in_(["user", "address"]),
        LoginThrottle.key.in_([v for _, v in attempt.counters()])).with_for_update()
    rows = {(r.kind, r.key): r for r in session.scalars(stmt.execution_options(
        populate_existing=True))}
    return [rows[k] for k in attempt.counters()]


def _record_failure(session: Session, settings: Settings, attempt: Attempt, *,
                    user: User | None, reason: str) -> int:
    """Count a failed sign-in for the username and the address, audit it, and lock out those
    that reached their limit (each further failure doubles the lockout). Returns the seconds
    of lockout now in force (0: none)."""
    now = utc_now()
    actor = anonymous(attempt.source)
    window = timedelta(minutes=settings.login_failure_window_minutes)
    audit.record(session, actor, action="login_failed", record_type="user",
                 record_ids=[user.id] if user else [],
                 detail={"username": attempt.username[:200], "address": attempt.address,
                         "reason": reason})
    longest = 0
    for row in _throttle_rows(session, attempt, now):
        quiet_since = max(row.last_failure_at, row.locked_until or row.last_failure_at)
        if row.failures and now - quiet_since > window:
            row.failures = 0
        row.failures += 1
        row.last_failure_at = now
        over = row.failures - _limit(settings, row.kind)
        if over < 0:
            continue
        seconds = min(settings.login_lockout_seconds * 2 ** min(over, 32),
                      settings.login_lockout_max_seconds)
        row.locked_until = now + timedelta(seconds=seconds)
        longest = max(longest, seconds)
        audit.record(session, actor, action="lockout", record_type="login",
                     record_ids=[f"{row.kind}:{row.key}"],
                     detail={"kind": row.kind, "key": row.key, "failures": row.failures,
                             "seconds": seconds, "until": row.locked_until.isoformat()})
    session.flush()
    return longest


def _locked_out(seconds: int) -> TooManyAttempts:
    return TooManyAttempts(U("locked", seconds=seconds), retry_after=seconds)


def _refuse_if_locked(session: Session, attempt: Attempt) -> int:
    """Audit and report an attempt made while its username or address is locked out."""
    seconds = _locked_for(session, attempt, utc_now())
    if seconds:
        audit.record(session, anonymous(attempt.source), action="login_refused",
                     record_type="user",
                     detail={"username": attempt.username[:200], "address": attempt.address,
                             "retry_after": seconds})
    return seconds


# ---------------------------------------------------------------------------- sign-in


@dataclass(frozen=True)
class _Stored:
    id: int
    username: str
    password_hash: str
    active: bool


def _stored(session: Session, username: str) -> _Stored | None:
    row = session.execute(select(User.id, User.username, User.password_hash, User.active)
                          .where(User.username == username)).first()
    return _Stored(*row) if row else None


def _check(transaction: Transactions, settings: Settings, attempt: Attempt, password: str, *,
           wrong: Text) -> _Stored:
    """The password check of a sign-in: refused while the username or the address is locked
    out (without looking at the password); a failure is counted and audited, and answered
    with ``wrong`` (401) or the lockout it earned (429). The hash is verified with no
    transaction open."""
    with transaction() as session:
        locked = _refuse_if_locked(session, attempt)
        stored = None if locked else _stored(session, attempt.username)
    if locked:
        raise _locked_out(locked)
    # Against a dummy hash when the user is unknown, so that timing does not tell.
    ok = verify_password(stored.password_hash if stored else _DUMMY_HASH, password)
    if stored is not None and ok and stored.active:
        return stored
    reason = "unknown_user" if stored is None else "wrong_password" if not ok else "disabled"
    with transaction() as session:
        user = session.get(User, stored.id) if stored else None
        locked = _record_failure(session, settings, attempt, user=user, reason=reason)
    if locked:
        raise _locked_out(locked)
    raise Unauthenticated(wrong)


def sign_in(transaction: Transactions, settings: Settings, username: str, password: str, *,
            address: str, source: str, kind: str = "api") -> str:
    """Check a username and password and open a session of ``kind`` (``api`` or ``web``);
    returns its signed token. Every failure and lockout is audited (see :func:`_check`)."""
    attempt = Attempt(username, address, source)
    stored = _check(transaction, settings, attempt, password, wrong=WRONG)
    with transaction() as session:
        user = session.get(User, stored.id)
        if user is None or not user.active or user.password_hash != stored.password_hash:
            raise Unauthenticated(WRONG)  # changed while the password was checked
        # Failures of attempts sent alongside this one may have locked it out meanwhile:
        # guesses sent in parallel gain nothing over guesses sent one after the other.
        locked = _refuse_if_locked(session, attempt)
        if not locked:
            session.execute(update(LoginThrottle).where(
                LoginThrottle.kind == "user", LoginThrottle.key == username[:200],
            ).values(failures=0, locked_until=None))
            audit.record(session, actor_for(user, source=source), action="login",
                         record_type="user", record_ids=[user.id])
            token = open_session(session, settings, user, kind=kind, source=source)
    if locked:
        raise _locked_out(locked)
    return token


def open_session(session: Session, settings: Settings, user: User, *, kind: str,
                 source: str) -> str:
    """A new server-side session for ``user``; returns its signed token. The user's sessions
    that have expired are deleted (a token naming no session is refused all the same)."""
    now = utc_now()
    session.execute(delete(UserSession).where(UserSession.user_id == user.id,
                                              UserSession.expires_at <= now))
    row = UserSession(id=secrets.token_urlsafe(24), user_id=user.id, kind=kind,
                      source=source[:200], created_at=now,
                      expires_at=now + timedelta(minutes=settings.token_ttl_minutes))
    session.add(row)
    session.flush()
    claims: dict[str, object] = {"usr": user.username}
    if kind == "web":
        claims["web"] = True
    return issue_token(settings, subject=str(user.id), session_id=row.id,
                       expires_at=row.expires_at, claims=claims)


def _live_session(session: Session, settings: Settings, token: str, kind: str
                  ) -> tuple[UserSession, User]:
    claims = read_token(settings, token)
    row = session.get(UserSession, str(claims["jti"]))
    if (row is None or row.kind != kind or str(row.user_id) != str(claims["sub"])
            or row.revoked_at is not None or row.expires_at <= utc_now()):
        raise Unauthenticated(U("session_ended"))
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        raise Unauthenticated(U("disabled"))
    return row, user


def actor_from_token(session: Session, settings: Settings, token: str, *, source: str,
                     kind: str = "api") -> Actor:
    """The actor of a token of a live session of ``kind``; refused (401) once the session is
    revoked or expired, or the user disabled. Every request asks this: one query (the
    session, its user and their grants, one row per grant), no ORM objects."""
    claims = read_token(settings, token)
    rows = session.execute(
        select(UserSession.kind, UserSession.user_id, UserSession.revoked_at,
               UserSession.expires_at, User.username, User.role, User.active,
               UserGrant.division_code)
        .join(User, User.id == UserSession.user_id)
        .outerjoin(UserGrant, UserGrant.user_id == User.id)
        .where(UserSession.id == str(claims["jti"]))
        .order_by(UserGrant.division_code)).all()
    first = rows[0] if rows else None
    if (first is None or first.kind != kind or str(first.user_id) != str(claims["sub"])
            or first.revoked_at is not None or first.expires_at <= utc_now()):
        raise Unauthenticated(U("session_ended"))
    if not first.active:
        raise Unauthenticated(U("disabled"))
    return Actor(username=first.username, role=first.role, user_id=first.user_id,
                 source=source,
                 grants=tuple(r.division_code for r in rows if r.division_code is not None))


def sign_out(session: Session, settings: Settings, token: str, *, source: str,
             kind: str = "api") -> None:
    """Revoke the token's session (audited); a token already invalid is refused (401)."""
    row, user = _live_session(session, settings, token, kind)
    row.revoked_at, row.revoked_why = utc_now(), "logout"
    audit.record(session, actor_for(user, source=source), action="logout",
                 record_type="user", record_ids=[user.id])
    session.flush()


def revoke_sessions(session: Session, user_id: int, *, why: str) -> int:
    """Revoke every live session of the user; returns how many."""
    now = utc_now()
    result = session.execute(update(UserSession).where(
        UserSession.user_id == user_id, UserSession.revoked_at.is_(None),
        UserSession.expires_at > now).values(revoked_at=now, revoked_why=why))
    return int(getattr(result, "rowcount", 0) or 0)


# ---------------------------------------------------------------- disable and passwords


def find_user(session: Session, *, actor: Actor, username: str) -> User:
    """A user by name, inside the actor's jurisdictions (else 404), for administrators."""
    actor.require(Perm.user_admin)
    user_id = session.scalar(select(User.id).where(User.username == username))
    return get_user(session, actor=actor, user_id=user_id if user_id is not None else -1)


def administered(session: Session, actor: Actor, user_id: int) -> User:
    """A user whom the actor administers: every one of their grants inside the actor's."""
    actor.require(Perm.user_admin)
    user = get_user(session, actor=actor, user_id=user_id)
    if not all(actor.covers(g.division_code) for g in user.grants):
        raise Forbidden(U("acts_outside", username=user.username))
    return user


def set_active(session: Session, *, actor: Actor, user_id: int, active: bool) -> User:
    """Disable (revoking every session) or enable a user of the actor's jurisdictions."""
    user = administered(session, actor, user_id)
    if not active and actor.user_id == user.id:
        raise Invalid(U("not_yourself"))
    user.active = active
    revoked = 0 if active else revoke_sessions(session, user.id, why="disabled")
    audit.record(session, actor, action="enable" if active else "disable", record_type="user",
                 record_ids=[user.id], fields=["active"], detail={"sessions_revoked": revoked})
    session.flush()
    return user


def set_password_hash(session: Session, *, actor: Actor, user_id: int, password_hash: str,
                      own: bool = False) -> User:
    """Store a new password hash (from :func:`new_password_hash`, computed before this
    transaction) and revoke every session of the user. ``own``: the user changes their own
    (the old password was checked); otherwise an administrator of their jurisdiction sets it."""
    if own:
        if actor.user_id != user_id:
            raise Forbidden(U("own_password"))
        user = session.get(User, user_id)
        if user is None:
            raise NotFound(U("not_found", id=user_id))
    else:
        user = administered(session, actor, user_id)
    user.password_hash = password_hash
    revoked = revoke_sessions(session, user.id, why="password")
    audit.record(session, actor, action="password", record_type="user", record_ids=[user.id],
                 fields=["password_hash"], detail={"sessions_revoked": revoked})
    session.flush()
    return user


def change_own_password(transaction: Transactions, settings: Settings, *, actor: Actor,
                        old: str, new: str, address: str, kind: str = "api") -> str:
    """A signed-in user changes their password, giving the old one (a wrong one counts as a
    failed sign-in, towards lockout). Every session of theirs is revoked; returns a token of
    a new session of ``kind``."""
    stored = _check(transaction, settings, Attempt(actor.username, address, actor.source), old,
                    wrong=U("wrong_current"))
    digest = new_password_hash(new, stored.username)
    with transaction() as session:
        user = set_password_hash(session, actor=actor, user_id=stored.id, password_hash=digest,
                                 own=True)
        return open_session(session, settings, user, kind=kind, source=actor.source)


def list_users(session: Session, *, actor: Actor) -> list[User]:
    """The user picker: users with at least one grant inside the actor's jurisdictions."""
    inside = select(UserGrant.user_id).where(scope_clause(actor, UserGrant.division_code))
    stmt = select(User).where(User.id.in_(inside)).order_by(User.username)
    return list(session.scalars(stmt))


def get_user(session: Session, *, actor: Actor, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None or not any(actor.covers(g.division_code) for g in user.grants):
        raise NotFound(U("not_found", id=user_id))
    return user


def username_taken(session: Session, username: str) -> bool:
    return session.scalar(select(User.id).where(User.username == username)) is not None
