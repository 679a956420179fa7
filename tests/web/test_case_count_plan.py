"""A day's (or the map's 14 days') case counts of a city or province start from the report
time index, not from the division's range (SQLite has no statistics: with the division's range
on the indexed code it read every case of the city or province, row by row)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy.orm import Session

from fangkong.core.auth import Role
from fangkong.web import service as q
from tests.conftest import make_actor


def _plan(session: Session, flt: q.CaseFilter) -> list[str]:
    actor = make_actor(Role.commander, "4408")
    stmt = flt.statement(actor, zone="Asia/Shanghai")
    compiled = stmt.compile(session.get_bind(), compile_kwargs={"literal_binds": True})
    return [row[3] for row in session.connection().exec_driver_sql(
        f"EXPLAIN QUERY PLAN {compiled}")]


def test_a_short_window_is_counted_from_the_report_time_index(session: Session,
                                                               dialect: str) -> None:
    if dialect != "sqlite":
        pytest.skip("the plan of SQLite, which has no statistics to choose by")
    day = date(2026, 12, 7)
    for first in (day, day - timedelta(days=13)):  # today; the map's 14 days
        flt = q.CaseFilter(division="4408", classification="infection", reported_from=first,
                           reported_to=day)
        assert flt.short_window()
        plan = _plan(session, flt)
        assert any("ix_case_episode_reported_at" in step for step in plan), plan
    # the cumulative count (no window) keeps the division's range
    flt = q.CaseFilter(division="4408", classification="infection", reported_to=day)
    assert not flt.short_window()
    assert any("division_code" in step for step in _plan(session, flt))
