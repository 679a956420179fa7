from __future__ import annotations

from datetime import date, timedelta

import pytest

from fangkong.core.errors import Invalid
from fangkong.policy import service
from fangkong.policy.schemas import ZoneFacts

D = date.fromisoformat
DAY0 = D("2022-05-10")


def day(n: int) -> date:
    return DAY0 + timedelta(days=n)


# pack → level → [(to_level, effective day, number of requirements)]
PATHS = {
    "cn_v9": {"high": [("medium", 8, 2), ("low", 11, 1)], "medium": [("low", 8, 2)], "low": []},
    "cn_20_measures": {"high": [("low", 6, 2)], "low": []},
    "cn_new_10": {"high": [("low", 6, 1)], "low": []},
    "cn_v8_local_3zones": {"sealed": [("precaution", 15, 3)],
                           "controlled": [("precaution", 15, 3)], "precaution": []},
    "cn_shanghai_2022_04": {"sealed": [("precaution", 15, 2)],
                            "controlled": [("precaution", 8, 2)], "precaution": []},
    "cn_shanghai_2022_05": {"sealed": [("controlled", 8, 1), ("precaution", 11, 1)],
                            "controlled": [("precaution", 8, 1)], "precaution": []},
    "cn_shanghai_2022_06": {"high": [("low", 15, 1)], "medium": [("low", 15, 1)], "low": []},
}
CASES = [(p, lvl) for p, levels in PATHS.items() for lvl in levels]


def test_the_table_covers_every_level_of_every_pack() -> None:
    for pack in service.packs():
        assert list(PATHS.get(pack.id, {})) == pack.levels(), pack.id


def test_reference_high_risk_zone_under_cn_v9() -> None:
    schedule = service.zone_schedule("cn_v9", "high", D("2022-05-10"))
    (to_medium, to_low) = schedule.steps
    assert (to_medium.to_level, to_medium.effective) == ("medium", D("2022-05-18"))
    assert to_medium.requires == ["no new infection on days 1-7 (2022-05-11..2022-05-17)",
                                  "a negative area-wide round on day 7 (2022-05-17)"]
    assert (to_low.to_level, to_low.effective, to_low.lifts) == ("low", D("2022-05-21"), True)
    assert to_low.requires == ["no new infection on days 8-10 (2022-05-18..2022-05-20)"]
    assert not to_medium.lifts and (schedule.pack, schedule.pack_version) == ("cn_v9", "1.0.0")


@pytest.mark.parametrize(("pack_id", "level"), CASES)
def test_every_lifting_path(pack_id: str, level: str) -> None:
    schedule = service.zone_schedule(pack_id, level, DAY0)
    got = [(s.to_level, (s.effective - DAY0).days, len(s.requires)) for s in schedule.steps]
    assert got == PATHS[pack_id][level]
    if not got:
        assert schedule.note and "base level" in schedule.note
        return
    assert schedule.steps[-1].lifts and not any(s.lifts for s in schedule.steps[:-1])
    # following the path with every condition met on time brings the zone to the base level
    level_now, since, rounds = level, None, [day(n) for n in range(1, 30)]
    for step in schedule.steps:
        before = service.evaluate_zone(
            pack_id, level=level_now, last_infection=DAY0, on=step.effective - timedelta(days=1),
            facts=ZoneFacts(negative_rounds=rounds, path_level=level, level_since=since,
                            confirmed=["last_close_contact_cleared"]))
        assert before.due is None and before.effective == step.effective
        verdict = service.evaluate_zone(
            pack_id, level=level_now, last_infection=DAY0, on=step.effective,
            facts=ZoneFacts(negative_rounds=rounds, path_level=level, level_since=since,
                            confirmed=["last_close_contact_cleared"]))
        assert (verdict.due, verdict.lifts, verdict.requires) == (step.to_level, step.lifts, [])
        level_now, since = step.to_level, step.effective


def test_daily_evaluation_of_the_reference_zone() -> None:
    facts = ZoneFacts(negative_rounds=[D("2022-05-17")])
    on_17 = service.evaluate_zone("cn_v9", level="high", last_infection=DAY0, on=D("2022-05-17"),
                                  facts=facts)
    assert on_17.due is None and on_17.effective == D("2022-05-18")
    assert on_17.requires == ["no new infection on days 1-7 (2022-05-11..2022-05-17)",
                              "a negative area-wide round on day 7 (2022-05-17)"]
    on_18 = service.evaluate_zone("cn_v9", level="high", last_infection=DAY0, on=D("2022-05-18"),
                                  facts=facts)
    assert (on_18.due, on_18.lifts, on_18.requires, on_18.restarted) == ("medium", False, [],
                                                                        False)
    assert len(on_18.met) == 2 and "due" in on_18.reason
    medium = ZoneFacts(path_level="high", level_since=D("2022-05-18"))
    for on, due in (("2022-05-20", None), ("2022-05-21", "low")):
        verdict = service.evaluate_zone("cn_v9", level="medium", last_infection=DAY0, on=D(on),
                                        facts=medium)
        assert verdict.due == due
    assert verdict.lifts


def test_the_round_is_what_is_missing() -> None:
    verdict = service.evaluate_zone("cn_v9", level="high", last_infection=DAY0,
                                    on=D("2022-05-18"))
    assert verdict.due is None
    assert verdict.requires == ["a negative area-wide round on day 7 (2022-05-17)"]
    assert verdict.met == ["no new infection on days 1-7 (2022-05-11..2022-05-17)"]
    assert verdict.effective == D("2022-05-19")  # a round today qualifies from tomorrow


def test_a_round_before_day_7_does_not_count_and_a_late_one_delays() -> None:
    early = ZoneFacts(negative_rounds=[D("2022-05-16")])
    assert service.evaluate_zone("cn_v9", level="high", last_infection=DAY0, on=D("2022-05-18"),
                                 facts=early).due is None
    late = ZoneFacts(negative_rounds=[D("2022-05-16"), D("2022-05-19")])
    on_19 = service.evaluate_zone("cn_v9", level="high", last_infection=DAY0, on=D("2022-05-19"),
                                  facts=late)
    assert on_19.due is None and on_19.effective == D("2022-05-20")
    on_20 = service.evaluate_zone("cn_v9", level="high", last_infection=DAY0, on=D("2022-05-20"),
                                  facts=late)
    assert on_20.due == "medium" and on_20.effective == D("2022-05-20")


def test_a_new_infection_restarts_the_clock() -> None:
    facts = ZoneFacts(infections=[D("2022-05-14")], negative_rounds=[D("2022-05-17")])
    verdict = service.evaluate_zone("cn_v9", level="high", last_infection=DAY0,
                                    on=D("2022-05-18"), facts=facts)
    assert verdict.restarted and verdict.day0 == D("2022-05-14") and verdict.due is None
    assert verdict.effective == D("2022-05-22")
    assert verdict.requires == ["no new infection on days 1-7 (2022-05-15..2022-05-21)",
                                "a negative area-wide round on day 7 (2022-05-21)"]
    assert "clock restarted" in verdict.reason
    facts.negative_rounds.append(D("2022-05-21"))
    assert service.evaluate_zone("cn_v9", level="high", last_infection=DAY0, on=D("2022-05-22"),
                                 facts=facts).due == "medium"
    assert service.zone_schedule("cn_v9", "high", D("2022-05-14")).steps[0].effective \
        == D("2022-05-22")


def test_infections_after_the_evaluation_day_are_ignored() -> None:
    facts = ZoneFacts(infections=[D("2022-05-30")], negative_rounds=[D("2022-05-17")])
    verdict = service.evaluate_zone("cn_v9", level="high", last_infection=DAY0,
                                    on=D("2022-05-18"), facts=facts)
    assert not verdict.restarted and verdict.due == "medium"


def test_a_restart_in_a_lowered_zone_follows_its_own_level() -> None:
    """A high zone lowered to medium on 05-18 has a new infection on 05-19: it no longer
    needs 3 days but medium's own 7 days and day-7 round."""
    facts = ZoneFacts(infections=[D("2022-05-19")], path_level="high",
                      level_since=D("2022-05-18"))
    verdict = service.evaluate_zone("cn_v9", level="medium", last_infection=DAY0,
                                    on=D("2022-05-21"), facts=facts)
    assert verdict.due is None and verdict.effective == D("2022-05-27")
    assert verdict.requires[1] == "a negative area-wide round on day 7 (2022-05-26)"


def test_a_positive_turns_a_controlled_zone_sealed() -> None:
    for pack in ("cn_v8_local_3zones", "cn_shanghai_2022_04", "cn_shanghai_2022_05"):
        verdict = service.evaluate_zone(pack, level="controlled", last_infection=DAY0,
                                        on=D("2022-05-12"),
                                        facts=ZoneFacts(infections=[D("2022-05-12")]))
        assert (verdict.due, verdict.escalation, verdict.lifts) == ("sealed", True, False)
        assert verdict.effective == D("2022-05-12")


def test_escalation_when_the_registry_has_already_moved_day_0() -> None:
    """The registry records the infection as the zone's last one; the level it has held since
    an earlier day tells that the infection came while the zone was controlled."""
    facts = ZoneFacts(level_since=D("2022-05-10"))
    verdict = service.evaluate_zone("cn_v8_local_3zones", level="controlled",
                                    last_infection=D("2022-05-12"), on=D("2022-05-13"),
                                    facts=facts)
    assert (verdict.due, verdict.escalation) == ("sealed", True)
    same_day = ZoneFacts(level_since=D("2022-05-12"))
    verdict = service.evaluate_zone("cn_v8_local_3zones", level="controlled",
                                    last_infection=D("2022-05-12"), on=D("2022-05-13"),
                                    facts=same_day)
    assert verdict.due is None and not verdict.escalation


def test_manual_conditions_must_be_confirmed() -> None:
    rounds = ZoneFacts(negative_rounds=[D("2022-05-23")])
    verdict = service.evaluate_zone("cn_v8_local_3zones", level="sealed", last_infection=DAY0,
                                    on=D("2022-05-25"), facts=rounds)
    assert verdict.due is None
    assert verdict.requires == ["区域内最后一名密切接触者自末次暴露超过14天, 核酸检测为阴性 "
                                "[confirm: last_close_contact_cleared]"]
    rounds.confirmed.append("last_close_contact_cleared")
    verdict = service.evaluate_zone("cn_v8_local_3zones", level="sealed", last_infection=DAY0,
                                    on=D("2022-05-25"), facts=rounds)
    assert (verdict.due, verdict.lifts) == ("precaution", True)


def test_round_windows_of_several_days() -> None:
    schedule = service.zone_schedule("cn_v8_local_3zones", "sealed", DAY0)
    assert schedule.steps[0].requires[1] == ("a negative area-wide round on one of days 13-14 "
                                             "(2022-05-23..2022-05-24)")


def test_shanghai_sealed_zone() -> None:
    steps = service.zone_schedule("cn_shanghai_2022_04", "sealed", DAY0).steps
    assert steps[0].requires[1] == "a negative area-wide round on day 13 (2022-05-23)"
    controlled = service.zone_schedule("cn_shanghai_2022_04", "controlled", DAY0).steps
    assert controlled[0].requires[1] == "a negative area-wide round on day 6 (2022-05-16)"


def test_base_level_and_no_zones() -> None:
    verdict = service.evaluate_zone("cn_v9", level="low", last_infection=DAY0, on=D("2022-06-01"))
    assert verdict.due is None and "base level" in verdict.reason
    with pytest.raises(Invalid, match="defines no risk-area levels"):
        service.zone_schedule("who_2021", "high", DAY0)


def test_levels_are_checked() -> None:
    assert service.check_level("cn_v9", "medium") == "1.0.0"
    with pytest.raises(Invalid) as exc:
        service.check_level("cn_20_measures", "medium")
    assert exc.value.problems[0].field == "level" and "high, low" in exc.value.problems[0].message
    with pytest.raises(Invalid, match="not on the lifting path"):
        service.zone_schedule("cn_v9", "high", DAY0, path_level="medium")
    with pytest.raises(Invalid, match="before the last infection"):
        service.evaluate_zone("cn_v9", level="high", last_infection=DAY0, on=D("2022-05-01"))
