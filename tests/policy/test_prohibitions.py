"""Each of the nine prohibitions (九不准) with a measure that breaks it and one that does not."""

from __future__ import annotations

from typing import Any

import pytest

from fangkong.core.errors import Invalid
from fangkong.policy import service


def phases(*spec: tuple[str, int]) -> list[dict[str, Any]]:
    return [{"kind": kind, "days": days} for kind, days in spec]


def zone(held_until: str, **extra: Any) -> dict[str, Any]:
    return {"kind": "area_control", "level": "high", "last_infection": "2022-05-10",
            "held_until": held_until, **extra}


def driver(hours: int | None, code: str | None = "green", level: str = "low") -> dict[str, Any]:
    return {"nat_within_hours": hours, "health_code": code, "from_level": level}


# prohibition → (breaking measure, compliant measures…), all under cn_v9
CASES: dict[int, tuple[dict[str, Any], list[dict[str, Any]]]] = {
    1: ({"kind": "travel_restriction", "from_levels": ["high", "low"]},
        [{"kind": "travel_restriction", "from_levels": ["high", "medium"]}]),
    2: ({"kind": "management", "role": "from_low_risk_area",
         "phases": phases(("home_quarantine", 7))},
        [{"kind": "management", "role": "from_low_risk_area",
          "phases": phases(("testing_only", 3))}]),
    3: (zone("2022-05-20"),
        [zone("2022-05-17"), zone("2022-05-20", negative_rounds=[])]),
    4: ({"kind": "management", "role": "spatiotemporal_companion",
         "phases": phases(("home_quarantine", 7))},
        [{"kind": "management", "role": "spatiotemporal_companion",
          "phases": phases(("testing_only", 3))}]),
    5: ({"kind": "management", "role": "close_contact",
         "phases": phases(("centralized_quarantine", 14), ("home_health_monitoring", 7))},
        [{"kind": "management", "role": "close_contact",
          "phases": phases(("centralized_quarantine", 7), ("home_health_monitoring", 3))},
         {"kind": "management", "role": "close_contact",
          "phases": phases(("centralized_quarantine", 5), ("home_quarantine", 2))}]),
    6: ({"kind": "deny_care", "patient": "regular_treatment", "grounds": "epidemic_control"},
        [{"kind": "deny_care", "patient": "regular_treatment", "grounds": "epidemic_control",
          "arranged_referral": True},
         {"kind": "deny_care", "patient": "other", "grounds": "epidemic_control"}]),
    7: ({"kind": "student_quarantine", "from_level": "low", "meets_conditions": True,
         "phases": phases(("centralized_quarantine", 7))},
        [{"kind": "student_quarantine", "from_level": "low", "meets_conditions": False,
          "phases": phases(("centralized_quarantine", 7))},
         {"kind": "student_quarantine", "from_level": "none", "meets_conditions": True,
          "phases": phases(("testing_only", 3))}]),
    8: ({"kind": "checkpoint", "blocks": [driver(None), driver(24)]},
        [{"kind": "checkpoint", "blocks": [driver(None), driver(72), driver(24, "yellow"),
                                            driver(24, level="medium")]}]),
    9: ({"kind": "close_venues", "area_level": "low", "venue_type": "菜市场", "essential": True},
        [{"kind": "close_venues", "area_level": "medium", "venue_type": "菜市场",
          "essential": True},
         {"kind": "close_venues", "area_level": "low", "venue_type": "KTV", "essential": False}]),
}
TEXTS = {1: "限制出行的范围", 2: "低风险地区人员", 3: "管控时间", 4: "风险人员范围",
         5: "健康监测时间", 6: "医疗服务", 7: "高校学生", 8: "检查点", 9: "关闭低风险地区"}


@pytest.mark.parametrize("number", range(1, 10))
def test_breaking_measure(number: int) -> None:
    breaking, _ = CASES[number]
    report = service.check_measures("cn_v9", [breaking])
    assert [(v.measure, v.prohibition) for v in report.violations] == [(0, number)]
    violation = report.violations[0]
    assert TEXTS[number] in violation.text and violation.text.startswith("不准")
    assert violation.why
    assert (report.pack, report.pack_version) == ("cn_v9", "1.0.0")


@pytest.mark.parametrize("number", range(1, 10))
def test_compliant_measures(number: int) -> None:
    _, compliant = CASES[number]
    report = service.check_measures("cn_v9", compliant)
    assert report.violations == []


def test_measures_are_indexed_in_one_report() -> None:
    measures = [CASES[n][0] for n in range(1, 10)] + [CASES[5][1][0]]
    report = service.check_measures("cn_v9", measures)
    assert [(v.measure, v.prohibition) for v in report.violations] == [
        (i, i + 1) for i in range(9)]


def test_the_whys_explain() -> None:
    whys = {n: service.check_measures("cn_v9", [CASES[n][0]]).violations[0].why for n in CASES}
    assert "low" in whys[1] and "only high, medium" in whys[1]
    assert "3 days too long" in whys[3] and "2022-05-18" in whys[3]
    assert "restricts until day 21" in whys[5] and "11 days longer" in whys[5]
    assert "blocks entries 1" in whys[8]


def test_stricter_on_some_days_breaks_5() -> None:
    measure = {"kind": "management", "role": "close_contact",
               "phases": phases(("centralized_quarantine", 10))}
    (violation,) = service.check_measures("cn_v9", [measure]).violations
    assert violation.prohibition == 5
    assert "stricter on days 8-10" in violation.why
    assert "centralized_quarantine instead of home_health_monitoring" in violation.why


def test_turning_back_low_risk_arrivals_breaks_2() -> None:
    measure = {"kind": "management", "role": "from_low_risk_area", "forced_return": True}
    assert [v.prohibition for v in service.check_measures("cn_v9", [measure]).violations] == [2]


def test_unknown_role_breaks_4() -> None:
    measure = {"kind": "management", "role": "tourist", "phases": phases(("home_quarantine", 3))}
    (violation,) = service.check_measures("cn_v9", [measure]).violations
    assert violation.prohibition == 4 and "not a role of pack cn_v9" in violation.why


def test_secondary_contacts_are_not_risk_persons_under_the_20_measures() -> None:
    measure = {"kind": "management", "role": "secondary_contact",
               "phases": phases(("home_quarantine", 7))}
    assert service.check_measures("cn_v9", [measure]).violations == []
    (violation,) = service.check_measures("cn_20_measures", [measure]).violations
    assert violation.prohibition == 4 and "不再判定密接的密接" in violation.why


def test_the_v9_plan_is_too_long_under_the_20_measures() -> None:
    measure = {"kind": "management", "role": "close_contact",
               "phases": phases(("centralized_quarantine", 7), ("home_health_monitoring", 3))}
    (violation,) = service.check_measures("cn_20_measures", [measure]).violations
    assert violation.prohibition == 5 and "2 days longer" in violation.why


def test_medium_areas_no_longer_restrict_travel_after_the_20_measures() -> None:
    measure = {"kind": "travel_restriction", "from_levels": ["medium"]}
    assert service.check_measures("cn_v9", [measure]).violations == []
    assert service.check_measures("cn_20_measures", [measure]).violations[0].prohibition == 1


def test_any_venue_outside_high_risk_areas_under_the_new_10() -> None:
    ktv = CASES[9][1][1]
    assert service.check_measures("cn_v9", [ktv]).violations == []
    assert service.check_measures("cn_new_10", [ktv]).violations[0].prohibition == 9


def test_no_test_is_needed_at_checkpoints_under_the_new_10() -> None:
    measure = {"kind": "checkpoint", "blocks": [driver(None, None)]}
    assert service.check_measures("cn_v9", [measure]).violations == []
    assert service.check_measures("cn_new_10", [measure]).violations[0].prohibition == 8


def test_zone_held_past_a_delayed_round() -> None:
    late_round = zone("2022-05-19", negative_rounds=["2022-05-19"])
    assert service.check_measures("cn_v9", [late_round]).violations == []
    (violation,) = service.check_measures(
        "cn_v9", [zone("2022-05-21", negative_rounds=["2022-05-19"])]).violations
    assert violation.prohibition == 3 and "2 days too long" in violation.why


def test_what_cannot_be_checked_is_noted() -> None:
    measures = [{"kind": "management", "role": "venue_exposed",
                 "phases": phases(("home_quarantine", 14))},
                {"kind": "area_control", "level": "low", "last_infection": "2022-05-10",
                 "held_until": "2022-06-10"},
                {"kind": "student_quarantine", "from_level": "high", "meets_conditions": True,
                 "phases": phases(("centralized_quarantine", 7))}]
    report = service.check_measures("cn_v9", measures)
    assert report.violations == []
    assert [n.split(":")[0] for n in report.notes] == ["measure 0", "measure 1", "measure 2"]


def test_packs_without_prohibitions() -> None:
    for pack in ("who_2021", "cn_v8_local_3zones", "cn_shanghai_2022_04"):
        assert not service.has_prohibitions(pack)
        with pytest.raises(Invalid, match="defines no prohibitions"):
            service.check_measures(pack, [CASES[1][0]])


def test_malformed_measures_name_the_index_and_field() -> None:
    with pytest.raises(Invalid) as exc:
        service.parse_measures([CASES[1][0], {"kind": "checkpoint", "blocks": [
            {"health_code": "purple"}]}, {"kind": "curfew"}, {"role": "x"}], file="m.json")
    found = {(p.field, p.file) for p in exc.value.problems}
    assert ("[1].blocks[0].health_code", "m.json") in found
    assert ("[2]", "m.json") in found and ("[3]", "m.json") in found
    messages = {p.field: p.message for p in exc.value.problems}
    assert "close_venues" in messages["[2]"] and "'purple'" in messages["[1].blocks[0].health_code"]
    with pytest.raises(Invalid) as exc:
        service.parse_measures({"kind": "deny_care"})
    assert exc.value.problems[0].field == "measures"
