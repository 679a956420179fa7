"""A zone or a stay made under a pack version the disk no longer has is reported (PackChanged
naming the record, the stored version and the one on disk) when its rules are read again; it
is never evaluated under the new version. Zones and stays follow their own pack, not the
deployment's active one."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.core.auth import Actor
from fangkong.core.clock import set_clock
from fangkong.core.config import get_settings
from fangkong.isolation import service as isolation
from fangkong.isolation.enums import SampleResult
from fangkong.policy import service as policy
from fangkong.task.models import Task
from fangkong.zone import service as zones
from fangkong.zone.schemas import MemberIn, RoundIn, ZoneCreate
from tests.isolation.test_stays import _site, _stay, people  # noqa: F401  (a fixture)

D = date.fromisoformat


@pytest.fixture(autouse=True)
def _active(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("FANGKONG_ACTIVE_POLICY_PACK", "cn_v9")
    get_settings.cache_clear()
    set_clock(lambda: datetime(2022, 5, 16, 4, 0, tzinfo=UTC))
    yield
    set_clock(None)
    monkeypatch.undo()
    get_settings.cache_clear()


def _zone(session: Session, admin: Actor) -> int:
    """A high-risk zone under the 20 measures (lifted after 5 clean days; cn_v9: 7 to medium)."""
    return zones.designate(session, actor=admin, data=ZoneCreate(
        name="海滨花园小区", level="high", owning_division_code="440802",
        pack_id="cn_20_measures", members=[MemberIn(division_code="440802001001")],
        last_infection_date=D("2022-05-10"), reason="确诊居住地")).id


def test_a_zone_is_evaluated_under_its_pack_and_a_changed_version_is_reported(
        session: Session, admin: Actor) -> None:
    zone_id = _zone(session, admin)
    zones.record_round(session, actor=admin, zone_id=zone_id,
                       data=RoundIn(round_date=D("2022-05-15"), all_negative=True))
    [row] = zones.evaluate(session, actor=admin)
    assert row.due == "lift"  # 5 clean days and the day-5 round (cn_v9 would wait 7 days)
    zone = zones.get(session, actor=admin, zone_id=zone_id)
    on_disk = policy.get_pack("cn_20_measures").version
    zone.pack_version = "0.9.0"
    session.flush()
    with pytest.raises(policy.PackChanged) as raised:
        zones.evaluate(session, actor=admin)
    assert raised.value.message.startswith(
        f"zone {zone.code} was made under policy pack cn_20_measures version 0.9.0, but the "
        f"pack on disk is version {on_disk}")


def test_a_stays_next_phase_reads_its_pack_and_a_changed_version_is_reported(
        session: Session, admin: Actor, people: list[dict[str, str]]) -> None:  # noqa: F811
    site, rooms = _site(session, admin)
    stay = isolation.create_stay(session, actor=admin, data=_stay(
        people[0]["ref"], site, rooms["101"], pack="cn_20_measures"))
    assert (stay.pack, stay.pack_version) == ("cn_20_measures",
                                              policy.get_pack("cn_20_measures").version)
    made = session.scalars(select(Task).where(Task.subject_type == "iso_stay_test")).all()
    assert made and {(t.pack_id, t.pack_version) for t in made} == {(stay.pack,
                                                                     stay.pack_version)}
    for t in isolation.tests_of(session, stay.id):
        isolation.record_test(session, actor=admin, stay_id=stay.id, test_date=t.test_date,
                              result=SampleResult.negative)
    stay.pack_version = "0.9.0"
    session.flush()
    with pytest.raises(policy.PackChanged, match=rf"stay {stay.id} was made under policy pack "
                       r"cn_20_measures version 0\.9\.0"):
        isolation.release(session, actor=admin, stay_id=stay.id, on=stay.planned_end)
