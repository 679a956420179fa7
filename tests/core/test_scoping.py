from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fangkong.core.auth import Role, code_successor, scope, within
from fangkong.geo.models import Division
from tests.conftest import make_actor


def test_code_successor() -> None:
    assert code_successor("4408") == "4409"
    assert code_successor("4419") == "442"
    assert code_successor("4499") == "45"
    assert code_successor("99") is None


def _count(session: Session, stmt) -> int:  # type: ignore[no-untyped-def]
    return session.scalar(select(func.count()).select_from(stmt.subquery())) or 0


def test_within_matches_prefix_scan(session: Session) -> None:
    for code in ("44", "4408", "440802", "440802001", "4419"):
        by_range = _count(session, select(Division.code).where(within(Division.code, code)))
        by_prefix = _count(session, select(Division.code).where(Division.code.like(f"{code}%")))
        assert by_range == by_prefix > 0


def test_scope_limits_to_grants(session: Session) -> None:
    county = make_actor(Role.epidemiologist, "440802")
    two = make_actor(Role.epidemiologist, "440802", "330502")
    codes = set(session.scalars(scope(select(Division.code), county, Division.code)))
    assert codes and all(c.startswith("440802") for c in codes)
    both = set(session.scalars(scope(select(Division.code), two, Division.code)))
    assert codes < both and any(c.startswith("330502") for c in both)
    assert not county.covers("440803") and county.covers("440802001001")
