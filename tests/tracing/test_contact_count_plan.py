"""The contacts section counts a jurisdiction's contacts per status from the index
(division_code, status) alone (migration 0032), without reading the contact rows."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fangkong.core.auth import within
from fangkong.tracing.models import ContactEpisode


def test_contacts_per_status_are_counted_from_the_index(session: Session,
                                                       dialect: str) -> None:
    if dialect != "sqlite":
        pytest.skip("the plan of SQLite (PostgreSQL chooses by its statistics)")
    stmt = (select(ContactEpisode.status, func.count())
            .where(within(ContactEpisode.division_code, "4408"))
            .group_by(ContactEpisode.status))
    compiled = stmt.compile(session.get_bind(), compile_kwargs={"literal_binds": True})
    plan = [row[3] for row in session.connection().exec_driver_sql(
        f"EXPLAIN QUERY PLAN {compiled}")]
    assert any("COVERING INDEX ix_tracing_contact_division_code_status" in s for s in plan), plan
