from __future__ import annotations

from datetime import date, timedelta

import pytest

from fangkong.core.errors import Invalid
from fangkong.policy import service
from fangkong.policy.enums import PhaseKind as K

D = date.fromisoformat
CQ, HQ, HHM, Q = K.centralized_quarantine, K.home_quarantine, K.home_health_monitoring, K.quarantine
ISO, TEST = K.isolation, K.testing_only
UNMANAGED = None

V8 = {
    "close_contact": [(CQ, 14, [1, 4, 7, 14]), (HHM, 7, [2, 7])],
    "secondary_contact": [(CQ, 7, [1, 4, 7])],
    "inbound_traveller": [(CQ, 14, [1, 4, 7, 14]), (HHM, 7, [2, 7])],
    "from_high_risk_area": UNMANAGED,
    "from_medium_risk_area": UNMANAGED,
    "from_low_risk_area": UNMANAGED,
    "closed_loop_worker_after_shift": UNMANAGED,
}
V9 = {
    "close_contact": [(CQ, 7, [1, 2, 3, 5, 7]), (HHM, 3, [3])],
    "secondary_contact": [(HQ, 7, [1, 4, 7])],
    "inbound_traveller": [(CQ, 7, [1, 2, 3, 5, 7]), (HHM, 3, [3])],
    "from_high_risk_area": [(CQ, 7, [1, 2, 3, 5, 7])],
    "from_medium_risk_area": [(HQ, 7, [1, 4, 7])],
    "from_low_risk_area": [(TEST, 3, [1, 3])],
    "closed_loop_worker_after_shift": [(CQ, 7, [1, 4, 7])],
    "venue_exposed": UNMANAGED,
    "spatiotemporal_companion": UNMANAGED,
}
TWENTY = {
    **V9,
    "close_contact": [(CQ, 5, [1, 2, 3, 5]), (HQ, 3, [1, 3])],
    "secondary_contact": UNMANAGED,
    "inbound_traveller": [(CQ, 5, [1, 2, 3, 5]), (HQ, 3, [1, 3])],
    "from_high_risk_area": [(HQ, 7, [1, 3, 5, 7])],
    "from_medium_risk_area": UNMANAGED,
    "closed_loop_worker_after_shift": [(HHM, 5, [1, 3, 5])],
}
NEW_10 = {
    **TWENTY,
    "close_contact": [(HQ, 5, [5])],
    "from_low_risk_area": UNMANAGED,
    "mild_or_asymptomatic_case": [(ISO, 7, [6, 7])],
}
WHO = {role: UNMANAGED for role in V8} | {"close_contact": [(Q, 14, [])]}
EXPECTED = {
    "cn_v8_local_3zones": V8, "cn_shanghai_2022_04": V8, "cn_shanghai_2022_05": V8,
    "cn_shanghai_2022_06": V8, "cn_v9": V9, "cn_20_measures": TWENTY, "cn_new_10": NEW_10,
    "who_2021": WHO,
}
CASES = [(pack, role) for pack, roles in EXPECTED.items() for role in roles]


def test_the_table_covers_every_role_of_every_pack() -> None:
    for pack in service.packs():
        assert set(EXPECTED[pack.id]) == set(pack.roles), pack.id


def test_reference_close_contact_under_cn_v9() -> None:
    plan = service.plan("cn_v9", "close_contact", D("2022-05-09"))
    assert (plan.pack, plan.pack_version) == ("cn_v9", "1.0.0")
    first, second = plan.phases
    assert (first.kind, first.start, first.end) == (CQ, D("2022-05-10"), D("2022-05-16"))
    assert first.test_dates == [D(f"2022-05-{d}") for d in ("10", "11", "12", "14", "16")]
    assert (second.kind, second.start, second.end) == (HHM, D("2022-05-17"), D("2022-05-19"))
    assert second.test_dates == [D("2022-05-19")]
    assert plan.release_date == D("2022-05-20")
    assert second.test_days == [10] and second.start_day == 8


@pytest.mark.parametrize(("pack_id", "role"), CASES)
def test_every_role_of_every_pack(pack_id: str, role: str) -> None:
    anchor = D("2022-05-09")
    plan = service.plan(pack_id, role, anchor)
    expected = EXPECTED[pack_id][role]
    assert (plan.pack, plan.role, plan.anchor, plan.pack_version) == (pack_id, role, anchor,
                                                                     "1.0.0")
    if expected is UNMANAGED:
        assert not plan.managed and plan.phases == [] and plan.release_date is None
        assert plan.explanation
        return
    assert plan.managed
    assert [(p.kind, (p.end - p.start).days + 1, [d - p.start_day + 1 for d in p.test_days])
            for p in plan.phases] == expected
    day = 1
    for phase in plan.phases:  # contiguous, counted from day 1 = the day after the anchor
        assert phase.start == anchor + timedelta(days=day)
        assert phase.test_dates == [anchor + timedelta(days=d) for d in phase.test_days]
        day += (phase.end - phase.start).days + 1
    assert plan.release_date == anchor + timedelta(days=day)
    assert plan.release_date == plan.phases[-1].end + timedelta(days=1)
    assert any(c.ends_plan for c in plan.conditions)  # a positive test ends every plan


def test_secondary_contact_becomes_a_close_contact_under_cn_v9() -> None:
    plan = service.plan("cn_v9", "secondary_contact", D("2022-05-09"))
    escalation = next(c for c in plan.conditions if c.becomes_role)
    assert escalation.becomes_role == "close_contact"
    assert "前两次核酸" in escalation.when
    replanned = service.plan("cn_v9", escalation.becomes_role, D("2022-05-09"))
    assert replanned.release_date == D("2022-05-20")
    assert any("对应密接前两次核酸检测均阴性" in c.then for c in plan.conditions)


def test_secondary_contacts_are_not_identified_after_the_20_measures() -> None:
    plan = service.plan("cn_20_measures", "secondary_contact", D("2022-11-20"))
    assert not plan.managed and "不再判定密接的密接" in (plan.explanation or "")
    assert plan.conditions == []


def test_inflow_plans_count_from_leaving_the_area() -> None:
    plan = service.plan("cn_v9", "from_high_risk_area", D("2022-08-01"))
    assert "left the risk area" in plan.anchor_meaning
    assert plan.phases[0].start == D("2022-08-02") and plan.release_date == D("2022-08-09")
    assert any(c.id == "arrived_after_leaving" for c in plan.conditions)


def test_low_risk_arrivals_are_only_tested() -> None:
    plan = service.plan("cn_v9", "from_low_risk_area", D("2022-08-01"))
    assert [p.kind for p in plan.phases] == [TEST]
    assert plan.phases[0].test_dates == [D("2022-08-02"), D("2022-08-04")]


def test_unknown_role() -> None:
    with pytest.raises(Invalid) as exc:
        service.plan("cn_v9", "tourist", D("2022-05-09"))
    assert "no role 'tourist'" in exc.value.message
    problem = exc.value.problems[0]
    assert problem.field == "role" and "close_contact" in problem.message
    with pytest.raises(Invalid):
        service.plan("cn_v9", "mild_or_asymptomatic_case", D("2022-05-09"))


def test_plan_takes_a_pack_object_or_the_active_pack() -> None:
    pack = service.get_pack("cn_20_measures")
    assert service.plan(pack, "close_contact", D("2022-11-20")).release_date == D("2022-11-29")
    assert service.plan(None, "close_contact", D("2022-05-09")).pack == "cn_v9"
