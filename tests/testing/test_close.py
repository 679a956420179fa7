"""Closing a round: it leaves the open rounds (the command's list, the dashboard), its tubes'
results still land and its positive pools are still followed up; closing twice is a no-op."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fangkong.core.audit import AuditEntry
from fangkong.core.auth import Actor, Role
from fangkong.core.errors import Forbidden
from fangkong.testing import importer, service
from fangkong.testing.enums import RoundStatus
from tests.conftest import make_actor
from tests.testing.helpers import (
    issue,
    lab,
    make_persons,
    make_round,
    results_csv,
    samples_csv,
)


def test_a_closed_round_leaves_the_open_rounds_and_its_results_still_land(
        session: Session, admin: Actor) -> None:
    refs = make_persons(session, admin, 3)
    lab(session, admin)
    first = make_round(session, admin, area=["440802"])
    second = make_round(session, admin, area=["440802"])
    issue(session, admin, first, ["C1"], capacity=10)
    importer.import_samples(session, actor=admin, round_id=first, filename="s",
                            source=samples_csv([("C1", r, 5) for r in refs]))
    assert {r.id for r in service.open_rounds(session, actor=admin, division="440802")} == {
        first, second}

    closed = service.close_round(session, actor=admin, round_id=first)
    assert closed.status == RoundStatus.closed
    assert [r.id for r in service.open_rounds(session, actor=admin, division="440802")] == [
        second]
    audited = session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.record_type == "testing_round", AuditEntry.action == "update"))
    service.close_round(session, actor=admin, round_id=first)  # again: nothing changes
    assert session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.record_type == "testing_round", AuditEntry.action == "update")) == audited == 1

    report = importer.import_results(session, actor=admin, filename="r",
                                     source=results_csv([("C1", "positive", 60)]))
    assert (report.positive_tubes, report.followups_opened) == (1, 1)
    assert service.status(session, actor=admin, round_id=first).pending_persons == sorted(refs)


def test_only_a_user_over_the_whole_area_closes_a_round(session: Session, admin: Actor) -> None:
    """A county sees the city's round (it samples its part of it) but may not end it for the
    other counties; the city may."""
    city_round = make_round(session, admin, area=["440802", "440803"])
    county = make_actor(Role.testing_officer, "440802")
    assert service.get_round(session, actor=county, round_id=city_round).id == city_round
    with pytest.raises(Forbidden, match="440803"):
        service.close_round(session, actor=county, round_id=city_round)
    assert service.get_round(session, actor=admin, round_id=city_round).status == RoundStatus.open
    own = make_round(session, admin, area=["440802"])
    assert service.close_round(session, actor=county, round_id=own).status == RoundStatus.closed
    city = make_actor(Role.testing_officer, "4408")
    assert service.close_round(session, actor=city, round_id=city_round).status == (
        RoundStatus.closed)
