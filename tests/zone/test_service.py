"""The risk-area registry: designation, the daily evaluation under the pack's clocks (with a
restart), proposals and their approval, auto-apply, escalation, manual conditions, the nine
prohibitions on the platform's own zones, the public notice, scoping and audit."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.core.audit import AuditEntry
from fangkong.core.auth import Actor, Role
from fangkong.core.clock import set_clock
from fangkong.core.config import get_settings
from fangkong.core.errors import Conflict, Invalid, NotFound
from fangkong.zone import service
from fangkong.zone.enums import EventKind, ProposalStatus, ZoneStatus
from fangkong.zone.schemas import (
    ConditionIn,
    InfectionIn,
    LevelChange,
    MemberIn,
    RoundIn,
    ZoneCreate,
)
from tests.conftest import make_actor

D = date.fromisoformat
CHIKAN, XIASHAN = "440802", "440803"  # two districts of Zhanjiang


@pytest.fixture
def on() -> Iterator[list[date]]:
    """The platform's clock, pinned to noon (Beijing time) of the day held in the list."""
    day = [D("2022-05-10")]
    set_clock(lambda: datetime(day[0].year, day[0].month, day[0].day, 4, 0, tzinfo=UTC))
    yield day
    set_clock(None)


def _zone(session: Session, actor: Actor, *, level: str = "high", pack: str = "cn_v9",
          last: str = "2022-05-10", division: str = CHIKAN) -> int:
    zone = service.designate(session, actor=actor, data=ZoneCreate(
        name="海滨花园小区", level=level, owning_division_code=division, pack_id=pack,
        members=[MemberIn(division_code=f"{division}001001", detail="3栋")],
        last_infection_date=D(last), population=1200, reason="两例确诊居住地"))
    return zone.id


def test_reference_high_risk_zone_is_lowered_then_lifted(session: Session, admin: Actor,
                                                         on: list[date]) -> None:
    zone_id = _zone(session, admin)
    on[0] = D("2022-05-17")
    [row] = service.evaluate(session, actor=admin)
    assert row.due is None
    assert any("2022-05-17" in r and "round" in r for r in row.requires)
    service.record_round(session, actor=admin, zone_id=zone_id,
                         data=RoundIn(round_date=D("2022-05-17"), all_negative=True))
    on[0] = D("2022-05-18")
    [row] = service.evaluate(session, actor=admin)
    assert (row.due, row.applied) == ("medium", False)
    assert service.get(session, actor=admin, zone_id=zone_id).level == "high"
    [proposal] = service.proposals(session, actor=admin)
    service.decide(session, actor=admin, proposal_id=proposal.id, approve=True)
    zone = service.get(session, actor=admin, zone_id=zone_id)
    assert zone.level == "medium" and proposal.status is ProposalStatus.applied
    on[0] = D("2022-05-20")
    [row] = service.evaluate(session, actor=admin)
    assert row.due is None and row.effective == D("2022-05-21")
    on[0] = D("2022-05-21")
    [row] = service.evaluate(session, actor=admin)
    assert row.due == "lift"
    service.decide(session, actor=admin, proposal_id=row.proposal_id or 0, approve=True)
    zone = service.get(session, actor=admin, zone_id=zone_id)
    assert (zone.status, zone.lifted_on) == (ZoneStatus.lifted, D("2022-05-21"))
    kinds = [e.kind for e in zone.events]
    assert kinds.count(EventKind.level_changed) == 1 and kinds[-1] is EventKind.lifted
    assert service.list_(session, actor=admin) == []
    with pytest.raises(Conflict):
        service.record_round(session, actor=admin, zone_id=zone_id,
                             data=RoundIn(round_date=D("2022-05-21"), all_negative=True))


def test_the_evaluation_of_some_zones_proposes_on_them_only(session: Session, admin: Actor,
                                                            on: list[date]) -> None:
    """A command (or a drill) evaluates its own zones: the others get no proposal."""
    mine, other = _zone(session, admin), _zone(session, admin, division=XIASHAN)
    for zone_id in (mine, other):
        service.record_round(session, actor=admin, zone_id=zone_id,
                             data=RoundIn(round_date=D("2022-05-17"), all_negative=True))
    on[0] = D("2022-05-18")
    [row] = service.evaluate(session, actor=admin, zone_ids={mine})
    assert (row.zone_id, row.due) == (mine, "medium") and row.proposal_id is not None
    assert [p.zone_id for p in service.proposals(session, actor=admin)] == [mine]
    assert {r.zone_id for r in service.evaluate(session, actor=admin)} == {mine, other}
    assert service.evaluate(session, actor=admin, zone_ids=[]) == []


def test_a_new_infection_restarts_the_clock(session: Session, admin: Actor,
                                            on: list[date]) -> None:
    zone_id = _zone(session, admin)
    on[0] = D("2022-05-14")
    service.add_infection(session, actor=admin, zone_id=zone_id,
                          data=InfectionIn(reported_date=D("2022-05-14")))
    service.record_round(session, actor=admin, zone_id=zone_id,
                         data=RoundIn(round_date=D("2022-05-17"), all_negative=True))
    on[0] = D("2022-05-18")
    [row] = service.evaluate(session, actor=admin)
    assert row.due is None and row.effective == D("2022-05-22")  # day 0 is now 05-14
    zone = service.get(session, actor=admin, zone_id=zone_id)
    assert zone.last_infection_date == D("2022-05-14")
    assert zone.events[-2].reason == "clock restarted"
    service.record_round(session, actor=admin, zone_id=zone_id,
                         data=RoundIn(round_date=D("2022-05-21"), all_negative=True))
    on[0] = D("2022-05-22")
    [row] = service.evaluate(session, actor=admin)
    assert row.due == "medium"


def test_a_restart_supersedes_a_pending_proposal(session: Session, admin: Actor,
                                                 on: list[date]) -> None:
    zone_id = _zone(session, admin)
    service.record_round(session, actor=admin, zone_id=zone_id,
                         data=RoundIn(round_date=D("2022-05-17"), all_negative=True))
    on[0] = D("2022-05-18")
    [row] = service.evaluate(session, actor=admin)
    service.add_infection(session, actor=admin, zone_id=zone_id,
                          data=InfectionIn(reported_date=D("2022-05-18")))
    assert service.proposals(session, actor=admin) == []
    with pytest.raises(Conflict):
        service.decide(session, actor=admin, proposal_id=row.proposal_id or 0, approve=True)


def test_approved_kinds_apply_by_themselves(session: Session, admin: Actor, on: list[date],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FANGKONG_ZONE_AUTO_APPLY", '["downgrade"]')
    get_settings.cache_clear()
    try:
        zone_id = _zone(session, admin)
        service.record_round(session, actor=admin, zone_id=zone_id,
                             data=RoundIn(round_date=D("2022-05-17"), all_negative=True))
        on[0] = D("2022-05-18")
        [row] = service.evaluate(session, actor=admin)
        assert row.applied
        zone = service.get(session, actor=admin, zone_id=zone_id)
        assert zone.level == "medium" and zone.events[-1].basis == "rule"
        on[0] = D("2022-05-21")
        [row] = service.evaluate(session, actor=admin)
        assert row.due == "lift" and not row.applied  # lifting still waits for a commander
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()


def test_a_positive_in_a_controlled_zone_proposes_sealing(session: Session, admin: Actor,
                                                          on: list[date]) -> None:
    zone_id = _zone(session, admin, level="controlled", pack="cn_v8_local_3zones")
    on[0] = D("2022-05-12")
    service.add_infection(session, actor=admin, zone_id=zone_id,
                          data=InfectionIn(reported_date=D("2022-05-12")))
    [row] = service.evaluate(session, actor=admin)
    assert row.due == "sealed"
    service.decide(session, actor=admin, proposal_id=row.proposal_id or 0, approve=True)
    assert service.get(session, actor=admin, zone_id=zone_id).level == "sealed"


def test_manual_lifting_conditions_are_confirmed(session: Session, admin: Actor,
                                                 on: list[date]) -> None:
    zone_id = _zone(session, admin, level="sealed", pack="cn_v8_local_3zones")
    on[0] = D("2022-05-23")
    service.record_round(session, actor=admin, zone_id=zone_id,
                         data=RoundIn(round_date=D("2022-05-23"), all_negative=True))
    on[0] = D("2022-05-25")
    [row] = service.evaluate(session, actor=admin)
    assert row.due is None and row.requires[-1].endswith("[confirm: last_close_contact_cleared]")
    with pytest.raises(Invalid) as bad:
        service.confirm_condition(session, actor=admin, zone_id=zone_id,
                                  data=ConditionIn(condition="no_such_condition"))
    assert "last_close_contact_cleared" in bad.value.problems[0].message
    service.confirm_condition(session, actor=admin, zone_id=zone_id,
                              data=ConditionIn(condition="last_close_contact_cleared"))
    [row] = service.evaluate(session, actor=admin)
    assert row.due == "lift"


def test_a_zone_held_past_its_lifting_date_breaks_prohibition_3(
        session: Session, admin: Actor, on: list[date]) -> None:
    zone_id = _zone(session, admin)
    service.record_round(session, actor=admin, zone_id=zone_id,
                         data=RoundIn(round_date=D("2022-05-17"), all_negative=True))
    on[0] = D("2022-05-17")
    assert service.prohibition_breaches(session, actor=admin) == []
    on[0] = D("2022-05-19")  # due to be medium since 05-18, still high
    [breach] = service.prohibition_breaches(session, actor=admin)
    assert (breach.zone_id, breach.prohibition) == (zone_id, 3)
    # the reason in the reader's language (pages, API, CLI), English as it always was
    assert breach.why.startswith("a 'high' zone whose last infection was reported on "
                                 "2022-05-10 should become 'medium' on 2022-05-18")
    assert breach.why_in("zh-Hans").startswith(
        "末例感染者于2022年5月10日报告的高风险区应于2022年5月18日调整为中风险区")
    hant = breach.in_lang("zh-Hant")
    assert hant.why.startswith("末例感染者於2022年5月10日報告的高風險區")
    assert hant.text.startswith("不準隨意延長")
    service.change_level(session, actor=admin, zone_id=zone_id,
                         data=LevelChange(to_level="medium", reason="evaluation"))
    assert service.prohibition_breaches(session, actor=admin) == []


def test_designation_is_checked(session: Session, admin: Actor, on: list[date]) -> None:
    county = make_actor(Role.epidemiologist, CHIKAN)
    with pytest.raises(Invalid) as bad:
        service.designate(session, actor=county, data=ZoneCreate(
            name="x", level="high", owning_division_code=CHIKAN,
            members=[MemberIn(division_code=f"{XIASHAN}001001"),
                     MemberIn(division_code="440802999999")],
            last_infection_date=D("2022-05-11")))
    messages = {p.message for p in bad.value.problems}
    assert "unknown division code 440802999999" in messages
    assert f"division {XIASHAN}001001 is outside your jurisdiction" in messages
    assert f"member {XIASHAN}001001 is not inside {CHIKAN}" in messages
    assert "is in the future" in messages
    with pytest.raises(Invalid):
        _zone(session, admin, level="sealed")  # cn_v9 speaks of high / medium / low
    assert service.list_(session, actor=admin) == []


def test_zones_are_scoped_and_audited(session: Session, admin: Actor, on: list[date]) -> None:
    here = _zone(session, admin, division=CHIKAN)
    there = _zone(session, admin, division=XIASHAN)
    county = make_actor(Role.commander, CHIKAN, name="ck")
    assert [z.id for z in service.list_(session, actor=county)] == [here]
    with pytest.raises(NotFound):
        service.get(session, actor=county, zone_id=there)
    with pytest.raises(NotFound):
        service.lift(session, actor=county, zone_id=there, data=service.Lift(reason="x"))
    assert [r.zone_id for r in service.evaluate(session, actor=county)] == [here]
    service.change_level(session, actor=county, zone_id=here,
                         data=LevelChange(to_level="medium", reason="评估"))
    entry = session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
    assert entry is not None and (entry.actor, entry.record_type, entry.record_ids,
                                  entry.fields) == ("ck", "zone", [str(here)], ["level"])


def test_public_notice_lists_zones_and_the_changes_since_yesterday(
        session: Session, admin: Actor, on: list[date]) -> None:
    first = _zone(session, admin)
    on[0] = D("2022-05-12")
    _zone(session, admin, division=XIASHAN, last="2022-05-12")
    notice = service.public_notice(session)
    assert [z.level_label["zh-Hans"] for z in notice.zones] == ["高风险区", "高风险区"]
    assert notice.zones[0].divisions[0].endswith("3栋")
    assert [(c.kind, c.on_date) for c in notice.changes_since_yesterday] == [
        ("designated", D("2022-05-12"))]
    on[0] = D("2022-05-13")
    service.lift(session, actor=admin, zone_id=first, data=service.Lift(reason="误判"))
    notice = service.public_notice(session, division=CHIKAN)
    assert notice.zones == []
    assert [c.kind for c in notice.changes_since_yesterday] == ["lifted"]


def test_a_zone_drawn_late_gets_its_round_from_the_designation_on(
        session: Session, admin: Actor, on: list[date]) -> None:
    """Day 0 on 05-01, drawn on 05-10: the pack's round day (day 7, 05-08) had passed; the
    round is asked for from the designation on, and the change dated after it, not before."""
    _zone(session, admin, last="2022-05-01")
    [row] = service.evaluate(session, actor=admin)
    assert row.due is None
    [rnd] = [r for r in row.requires if "round" in r]
    assert "2022-05-10" in rnd and "2022-05-08" not in rnd
    assert row.effective is not None and row.effective >= D("2022-05-10")
    zone = service.get(session, actor=admin, zone_id=row.zone_id)
    service.record_round(session, actor=admin, zone_id=zone.id,
                         data=RoundIn(round_date=D("2022-05-10"), all_negative=True))
    on[0] = D("2022-05-11")
    [row] = service.evaluate(session, actor=admin)
    assert row.due == "medium" and row.effective == D("2022-05-11")


def test_a_past_day_is_evaluated_as_the_zone_stood_then(session: Session, admin: Actor,
                                                         on: list[date]) -> None:
    """An infection reported after a day does not stop that day's evaluation (a past day's
    brief): the clock is read from the infections known then."""
    zone_id = _zone(session, admin, last="2022-05-01")
    on[0] = D("2022-05-12")
    service.add_infection(session, actor=admin, zone_id=zone_id,
                          data=InfectionIn(reported_date=D("2022-05-12")))
    zone = service.get(session, actor=admin, zone_id=zone_id)
    past = service.next_step(zone, D("2022-05-11"))
    # day 0 still 05-01 then, the round due from the designation (05-10) on, none recorded
    assert past.effective == D("2022-05-12") and past.due is None
    assert any("round" in r and "2022-05-10" in r for r in past.requires)
    now = service.next_step(zone, D("2022-05-12"))
    assert now.effective == D("2022-05-20")  # day 0 is 05-12 now: day 7's round, day 8
    assert service.prohibition_breaches(session, actor=admin, on=D("2022-05-11")) == []
    # before it was drawn the zone was not in force: nothing to say of it
    from fangkong.zone import rules
    assert not rules.existed_on(zone, D("2022-05-09"))
    assert rules.existed_on(zone, D("2022-05-11"))
