"""Dorfman advice, the guide's planner, the stop rule, and the pack section."""

from __future__ import annotations

import math
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from fangkong.core.auth import Actor, Role
from fangkong.core.errors import Invalid
from fangkong.policy import service as policy
from fangkong.testing import planning, service
from fangkong.testing.schemas import PointCreate
from tests.conftest import login
from tests.testing.helpers import make_persons

RULES = policy.testing_rules("cn_v9")


def test_pack_section_is_sourced_and_inherited() -> None:
    assert RULES.pooling.by_level == {"high": "household", "medium": 10}
    assert (RULES.pooling.quarantine_site, RULES.pooling.elsewhere) == (1, 20)
    assert RULES.stop_rule.clean_rounds == 3 and RULES.stop_rule.final_after_days == 3
    assert all(RULES.sources[s].url.startswith("http") for s in RULES.pooling.source)
    assert policy.testing_rules("cn_20_measures").pooling.by_level == {"high": "household"}
    assert policy.testing_rules("cn_new_10").stop_rule == RULES.stop_rule
    with pytest.raises(Invalid):
        policy.testing_rules("who_2021")


@pytest.mark.parametrize(("p", "k", "expected"), [
    (0.0001, 10, 0.1 + 1 - 0.9999 ** 10), (0.0001, 1, 1.0), (0.05, 20, 0.05 + 1 - 0.95 ** 20)])
def test_dorfman_formula(p: float, k: int, expected: float) -> None:
    assert planning.tests_per_person(p, k) == pytest.approx(expected)


def test_advice_picks_the_best_allowed_size() -> None:
    low = planning.advise(RULES, "cn_v9", prevalence=0.0001, population=7_000_000,
                          lab_capacity_per_day=1_000_000)
    assert low.best_size == 20
    twenty = next(o for o in low.options if o.size == 20)
    assert twenty.tests == math.ceil(7_000_000 * (0.05 + 1 - 0.9999 ** 20))
    assert twenty.lab_hours == pytest.approx(24 * twenty.tests / 1_000_000, abs=0.01)
    assert planning.advise(RULES, "cn_v9", prevalence=0.05, population=100,
                           lab_capacity_per_day=None).best_size == 5
    assert planning.advise(RULES, "cn_v9", prevalence=0.5, population=100,
                           lab_capacity_per_day=None).best_size == 1
    with pytest.raises(Invalid):
        planning.advise(RULES, "cn_v9", prevalence=1.5, population=1, lab_capacity_per_day=None)


def test_planner(session: Session, admin: Actor) -> None:
    assert planning.points_and_samplers(RULES, 7_200_000) == ((2400, 3600), 20_000)
    assert planning.hours_needed(RULES, 7_200_000, 20_000) == 24.0
    make_persons(session, admin, 720, prefix="PL")
    from datetime import time

    service.create_point(session, actor=admin, data=PointCreate(
        code="P", name="点", division_code="440802001", samplers=1, opens=time(8),
        closes=time(20)))
    plan = service.plan(session, actor=admin, area=["440802"])
    assert (plan.population, plan.points_needed, plan.samplers_needed) == (720, [1, 1], 2)
    assert plan.hours_needed == 48.0


def test_plan_of_another_district_is_refused(client: TestClient, session: Session,
                                             admin: Actor) -> None:
    """Issue 19, item 9: ``testing plan?area=`` gave another district's exact population."""
    make_persons(session, admin, 3, prefix="PA")
    make_persons(session, admin, 5, code="440803001001", prefix="PB")
    officer = login(client, session, "officer", Role.testing_officer, "440802")
    for area in ("440803", "440803001001", "4408", "440802,440803"):
        resp = client.get("/api/v1/testing/plan", params={"area": area}, headers=officer)
        assert resp.status_code == 422, resp.text
        assert "population" not in resp.text
    mine = client.get("/api/v1/testing/plan", params={"area": "440802"}, headers=officer)
    assert mine.json()["population"] == 3


def test_stop_rule() -> None:
    d = date(2022, 8, 1)

    def days(*infections: int) -> list[tuple[date, int]]:
        return [(d + timedelta(days=i), n) for i, n in enumerate(infections)]

    a = planning.series_advice(RULES, "cn_v9", "s", days(5, 0, 0))
    assert (a.may_stop, a.next_round_on, a.clean_streak) == (False, d + timedelta(days=3), 2)
    b = planning.series_advice(RULES, "cn_v9", "s", days(5, 0, 0, 0))
    assert (b.may_stop, b.next_round_on) == (False, d + timedelta(days=6))
    final = [*days(5, 0, 0, 0), (d + timedelta(days=6), 0)]
    assert planning.series_advice(RULES, "cn_v9", "s", final).may_stop
    again = [*days(5, 0, 0, 0), (d + timedelta(days=6), 1)]
    assert not planning.series_advice(RULES, "cn_v9", "s", again).may_stop
