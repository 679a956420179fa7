"""The zones section asks the pack's clock and the prohibition checks of every zone on every
page; their answers are kept per process, keyed by the whole of their input
(``service.clock_inputs`` and the day). Through a zone's whole life (infection, rounds, a level
change, the lifting, the days passing) every kept answer equals the one
computed afresh, and every write changes the key."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from fangkong.core.auth import Actor
from fangkong.zone import rules, service
from fangkong.zone.schemas import InfectionIn, LevelChange, Lift, RoundIn
from tests.zone.test_service import D, _zone, on

__all__ = ["on"]  # the fixture, used by name


def _fresh(zone: Any, day: date) -> tuple[Any, list[Any]]:
    breaches = list(service._breaches(zone, day)) if rules.existed_on(zone, day) else []
    return rules.evaluate(zone, day), breaches


def _check(session: Session, admin: Actor, zone_id: int, day: date,
           keys: list[tuple[Any, ...]]) -> None:
    zone = service.get(session, actor=admin, zone_id=zone_id)
    key = (day, *service.clock_inputs(zone))
    assert key not in keys  # every write (or another day) is another input
    keys.append(key)
    for _ in range(2):  # computed, then kept
        kept = service.next_step(zone, day), service.prohibition_breaches(
            session, actor=admin, on=day, zones=[zone])
        assert kept == _fresh(zone, day)
    assert service.next_step(zone, day) is service.next_step(zone, day)  # kept, not redone


def test_kept_answers_equal_fresh_ones_through_a_zone_s_life(
        session: Session, admin: Actor, on: list[date]) -> None:
    service._MEMO.clear()
    zone_id = _zone(session, admin)  # high risk, under cn_v9 (which has the prohibitions)
    keys: list[tuple[Any, ...]] = []
    _check(session, admin, zone_id, D("2022-05-10"), keys)
    _check(session, admin, zone_id, D("2022-05-12"), keys)
    on[0] = D("2022-05-13")
    _check(session, admin, zone_id, D("2022-05-13"), keys)
    service.add_infection(session, actor=admin, zone_id=zone_id,
                          data=InfectionIn(reported_date=D("2022-05-13")))
    _check(session, admin, zone_id, D("2022-05-13"), keys)
    on[0] = D("2022-05-20")
    _check(session, admin, zone_id, D("2022-05-20"), keys)
    service.record_round(session, actor=admin, zone_id=zone_id,
                         data=RoundIn(round_date=D("2022-05-20"), all_negative=True))
    _check(session, admin, zone_id, D("2022-05-20"), keys)
    on[0] = D("2022-05-30")  # held past its date: a breach of prohibition 3
    _check(session, admin, zone_id, D("2022-05-30"), keys)
    zone = service.get(session, actor=admin, zone_id=zone_id)
    assert service.prohibition_breaches(session, actor=admin, on=D("2022-05-30"),
                                        zones=[zone])  # the case the check is for
    zone = service.get(session, actor=admin, zone_id=zone_id)
    to = service.next_step(zone, D("2022-05-30")).due
    assert to is not None
    if to == "lift":
        service.lift(session, actor=admin, zone_id=zone_id, data=Lift(reason="done"))
    else:
        service.change_level(session, actor=admin, zone_id=zone_id,
                             data=LevelChange(to_level=to, reason="evaluation"))
    _check(session, admin, zone_id, D("2022-05-30"), keys)


def test_the_kept_answers_are_bounded(session: Session, admin: Actor, on: list[date],
                                      monkeypatch: Any) -> None:
    service._MEMO.clear()
    monkeypatch.setattr(service, "MEMO_SIZE", 3)
    zone = service.get(session, actor=admin, zone_id=_zone(session, admin))
    for day in range(10, 20):
        service.next_step(zone, D(f"2022-05-{day}"))
        assert len(service._MEMO) <= 3
