"""Who is acting, what they may do, and the one jurisdiction-scoping helper.

Every query that touches personal data goes through :func:`scope`. Division codes are
hierarchical by prefix (GB/T 2260 and the statistical codes: 2-digit province, 4 city, 6 county,
9 town, 12 village), so "inside jurisdiction X" is a range ``X <= code < successor(X)`` that a
B-tree index answers directly on both databases: no recursive scan per request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, TypeVar

from fangkong.core.errors import Forbidden
from fangkong.core.messages import CORE, perm_term, role_term

if TYPE_CHECKING:  # SQLAlchemy is imported where a clause is made: a command's --help needs
    from sqlalchemy import ColumnElement, Select  # the roles, not the SQL expression language

NATIONAL = "CN"
"""The grant code for the whole country (administrators of a national deployment)."""


class Role(StrEnum):
    commander = "commander"
    epidemiologist = "epidemiologist"
    testing_officer = "testing_officer"
    isolation_officer = "isolation_officer"
    community_worker = "community_worker"
    analyst = "analyst"
    administrator = "administrator"


class Perm(StrEnum):
    person_read = "person:read"
    person_write = "person:write"
    case_read = "case:read"
    case_write = "case:write"
    task_read = "task:read"
    task_write = "task:write"
    isolation_read = "isolation:read"
    isolation_write = "isolation:write"
    testing_write = "testing:write"
    """Create testing rounds, issue tubes, register points and labs, import samples and
    results, manage key groups (within the actor's jurisdiction)."""
    zone_approve = "zone:approve"
    """Change a risk area's level, lift it, approve or reject a proposed change (commanders,
    administrators)."""
    user_admin = "user:admin"
    user_add = "user:add"
    """Add users inside the actor's jurisdiction with no right the actor lacks (commanders,
    administrators); setting passwords, disabling and enabling users stay ``user:admin``."""
    audit_read = "audit:read"


_ALL = frozenset(Perm)
ROLE_PERMS: dict[Role, frozenset[Perm]] = {
    Role.administrator: _ALL,
    Role.commander: _ALL - {Perm.user_admin},
    Role.epidemiologist: frozenset(
        {Perm.person_read, Perm.person_write, Perm.case_read, Perm.case_write,
         Perm.task_read, Perm.task_write, Perm.isolation_read}
    ),
    Role.testing_officer: frozenset(
        {Perm.person_read, Perm.person_write, Perm.case_read, Perm.task_read, Perm.task_write,
         Perm.testing_write}
    ),
    Role.isolation_officer: frozenset(
        {Perm.person_read, Perm.case_read, Perm.task_read, Perm.task_write,
         Perm.isolation_read, Perm.isolation_write}
    ),
    Role.community_worker: frozenset(
        {Perm.person_read, Perm.person_write, Perm.task_read, Perm.task_write}
    ),
    Role.analyst: frozenset({Perm.case_read, Perm.task_read}),
}


@dataclass(frozen=True)
class Actor:
    """The user (or system process) on whose behalf a service runs."""

    username: str
    role: Role
    grants: tuple[str, ...]
    user_id: int | None = None
    source: str = "internal"
    extra: dict[str, Any] = field(default_factory=dict)

    def require(self, perm: Perm) -> None:
        if perm not in ROLE_PERMS[self.role]:
            raise Forbidden(CORE("role_may_not_do", role=role_term(self.role),
                                 perm=perm_term(perm), code=perm.value))

    def can(self, perm: Perm) -> bool:
        return perm in ROLE_PERMS[self.role]

    @property
    def national(self) -> bool:
        return NATIONAL in self.grants

    def covers(self, code: str | None) -> bool:
        """Is the division ``code`` inside one of this actor's jurisdictions?"""
        if self.national:
            return True
        return code is not None and any(code.startswith(g) for g in self.grants)


def system_actor(source: str = "cli") -> Actor:
    return Actor(username="system", role=Role.administrator, grants=(NATIONAL,), source=source)


def handover(actor: Actor) -> Actor:
    """The actor under which a write hands something to another jurisdiction (协查): the task
    a district's visitor request or a visitor's positive result creates in the person's home
    jurisdiction, outside the writer's. It acts on the platform's behalf, recorded with the
    writer's name and source; only services use it, for the records they hand over."""
    return Actor(username=actor.username, role=Role.administrator, grants=(NATIONAL,),
                 user_id=actor.user_id, source=actor.source,
                 extra={**actor.extra, "handover_from": actor.grants})


def acting_for(actor: Actor, codes: list[str]) -> Actor:
    """Who writes the follow-up (tasks, cases) of persons living in ``codes``: the actor for
    their own jurisdiction's, :func:`handover` when any lives elsewhere (a visitor's positive
    result, a contact across a border)."""
    return actor if all(actor.covers(c) for c in codes) else handover(actor)


def code_successor(prefix: str) -> str | None:
    """The smallest digit string greater than every code starting with ``prefix``."""
    digits = prefix.rstrip("9")
    if not digits:
        return None
    return digits[:-1] + str(int(digits[-1]) + 1)


def within(column: Any, prefix: str) -> ColumnElement[bool]:
    """SQL for "column's division code is inside ``prefix``", as an index-friendly range."""
    from sqlalchemy import and_

    upper = code_successor(prefix)
    lower = column >= prefix
    return lower if upper is None else and_(lower, column < upper)


def scope_clause(actor: Actor, *columns: Any) -> ColumnElement[bool]:
    """True where any of ``columns`` (division codes) lies in the actor's jurisdictions."""
    from sqlalchemy import false, or_, true

    if actor.national:
        return true()
    parts = [within(col, g) for g in actor.grants for col in columns]
    return or_(*parts) if parts else false()


S = TypeVar("S", bound="Select")


def scope(stmt: S, actor: Actor, *columns: Any) -> S:
    """The scoping helper: restrict ``stmt`` to rows inside the actor's jurisdictions."""
    return stmt.where(scope_clause(actor, *columns))
