from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from fangkong.app import escalation_loop
from fangkong.core import audit
from fangkong.core.db import get_engine, session_scope
from fangkong.core.migrate import upgrade
from fangkong.geo import service as geo
from fangkong.task import service as tasks
from fangkong.task.models import Task
from fangkong.task.schemas import TaskCreate
from tests.conftest import make_actor


@pytest.mark.parametrize("interval", [0.05, 3600.0], ids=["every-50ms", "hourly"])
def test_the_scheduled_check_escalates_overdue_tasks(fresh_db: str, interval: float) -> None:
    """Every interval, and once at start: with an hourly check the overdue task is escalated
    as soon as the loop starts."""
    from fangkong.core.clock import utc_now

    engine = get_engine()
    upgrade(engine)
    with session_scope(engine) as session:
        geo.load(session, province="44")
        task = tasks.create(session, actor=make_actor(), data=TaskCreate(
            type="resample", title="单管复采", owning_division_code="440802001",
            due_at=utc_now() - timedelta(minutes=5)))
        task_id = task.id
    stop = threading.Event()
    worker = threading.Thread(target=escalation_loop, args=(engine, interval, stop))
    worker.start()
    try:
        for _ in range(100):
            with session_scope(engine) as session:
                level = session.get(Task, task_id).escalation_level  # type: ignore[union-attr]
            if level:
                break
            threading.Event().wait(0.05)
    finally:
        stop.set()
        worker.join(5)
    assert level == 1
    assert not worker.is_alive()


def test_the_scheduled_check_proposes_due_risk_area_changes(fresh_db: str) -> None:
    from datetime import date

    from fangkong.zone import service as zones
    from fangkong.zone.models import ZoneProposal
    from fangkong.zone.schemas import MemberIn, RoundIn, ZoneCreate

    engine = get_engine()
    upgrade(engine)
    with session_scope(engine) as session:
        geo.load(session, province="44")
        zone = zones.designate(session, actor=make_actor(), data=ZoneCreate(
            name="小区", level="high", owning_division_code="440802", pack_id="cn_v9",
            members=[MemberIn(division_code="440802001001")],
            last_infection_date=date(2022, 5, 10)))
        zones.record_round(session, actor=make_actor(), zone_id=zone.id,
                           data=RoundIn(round_date=date(2022, 5, 17), all_negative=True))
    stop = threading.Event()
    worker = threading.Thread(target=escalation_loop, args=(engine, 0.05, stop))
    worker.start()
    try:
        for _ in range(100):
            with session_scope(engine) as session:
                proposals = session.query(ZoneProposal).all()
            if proposals:
                break
            stop.wait(0.05)
        stop.wait(0.3)  # more ticks the same day propose nothing more
    finally:
        stop.set()
        worker.join(5)
    with session_scope(engine) as session:
        proposals = session.query(ZoneProposal).all()
        assert [(p.from_level, p.to_level) for p in proposals] == [("high", "medium")]
        # the audit chain's head, anchored outside the database once per change of head
        anchors = audit.read_anchors(audit.anchor_file())
        assert (anchors[-1].seq, anchors[-1].hash) == audit.head(session)
        assert anchors[-1].seq > 0 and len({a.seq for a in anchors}) == len(anchors)


def test_the_scheduled_check_writes_the_morning_briefs(fresh_db: str,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from fangkong.core.config import get_settings

    monkeypatch.setenv("FANGKONG_BRIEF_JURISDICTIONS", '["440802"]')
    monkeypatch.setenv("FANGKONG_BRIEF_HOUR", "0")
    get_settings.cache_clear()
    engine = get_engine()
    upgrade(engine)
    with session_scope(engine) as session:
        geo.load(session, province="44")
    stop = threading.Event()
    worker = threading.Thread(target=escalation_loop, args=(engine, 0.05, stop))
    worker.start()
    briefs = get_settings().data_dir / "briefs"
    try:
        for _ in range(200):
            if briefs.exists() and len(list(briefs.rglob("*"))) >= 5:  # a day, 4 files
                break
            stop.wait(0.1)
    finally:
        stop.set()
        worker.join(30)
    [day] = list(briefs.iterdir())
    assert sorted(p.suffix for p in day.iterdir()) == [".html", ".pdf", ".pdf", ".xlsx"]
    assert len([p for p in day.iterdir() if p.name.endswith("-annex.pdf")]) == 1
