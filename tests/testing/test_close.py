"""Closing a round: it leaves the open rounds (the command's list, the dashboard), its tubes'
results still land and its positive pools are still followed up; closing twice is a no-op."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fangkong.core.audit import AuditEntry
from fangkong.core.auth import Actor
from fangkong.testing import importer, service
from fangkong.testing.enums import RoundStatus
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
