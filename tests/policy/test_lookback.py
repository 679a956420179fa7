from __future__ import annotations

from datetime import date

import pytest

from fangkong.core.errors import Invalid
from fangkong.policy import service

D = date.fromisoformat


def test_symptomatic_case_under_cn_v9() -> None:
    window = service.lookback_window("cn_v9", onset=D("2022-05-10"), isolated_on=D("2022-05-12"))
    assert (window.start, window.end) == (D("2022-05-08"), D("2022-05-12"))
    assert (window.pack, window.pack_version) == ("cn_v9", "1.0.0")
    assert window.covers(D("2022-05-08")) and window.covers(D("2022-05-12"))
    assert not window.covers(D("2022-05-07")) and not window.covers(D("2022-05-13"))
    assert "symptom onset" in window.basis


def test_asymptomatic_case_uses_the_first_positive_sample() -> None:
    window = service.lookback_window("cn_v9", first_positive_sample=D("2022-05-10"),
                                     isolated_on=D("2022-05-11"))
    assert window.start == D("2022-05-08") and "first positive sample" in window.basis


def test_onset_wins_over_the_sample_date() -> None:
    window = service.lookback_window("cn_v9", onset=D("2022-05-09"),
                                     first_positive_sample=D("2022-05-10"))
    assert window.start == D("2022-05-07")


def test_not_yet_isolated_leaves_the_window_open() -> None:
    window = service.lookback_window("cn_v9", onset=D("2022-05-10"))
    assert window.end is None and window.covers(D("2030-01-01")) and "not yet" in window.basis


def test_case_found_by_repeated_testing() -> None:
    window = service.lookback_window("cn_v9", first_positive_sample=D("2022-05-10"),
                                     last_negative_sample=D("2022-05-09"),
                                     isolated_on=D("2022-05-10"))
    assert window.start == D("2022-05-09") and "repeated testing" in window.basis
    with pytest.raises(Invalid):
        service.lookback_window("cn_v9", first_positive_sample=D("2022-05-10"),
                                last_negative_sample=D("2022-05-11"))


def test_every_chinese_pack_looks_back_two_days() -> None:
    for pack in ("cn_v8_local_3zones", "cn_shanghai_2022_04", "cn_20_measures", "cn_new_10"):
        window = service.lookback_window(pack, onset=D("2022-05-10"), isolated_on=D("2022-05-10"))
        assert window.start == D("2022-05-08"), pack


def test_who_infectious_period() -> None:
    window = service.lookback_window("who_2021", onset=D("2021-07-01"))
    assert (window.start, window.end) == (D("2021-06-29"), D("2021-07-14"))
    longer = service.lookback_window("who_2021", onset=D("2021-07-01"),
                                     symptoms_resolved=D("2021-07-20"))
    assert longer.end == D("2021-07-23")
    asymptomatic = service.lookback_window("who_2021", first_positive_sample=D("2021-07-01"))
    assert asymptomatic.end == D("2021-07-11")


def test_secondary_contact_window() -> None:
    window = service.secondary_window("cn_v9", close_contact_first_exposure=D("2022-05-08"),
                                      close_contact_isolated_on=D("2022-05-11"))
    assert (window.start, window.end) == (D("2022-05-08"), D("2022-05-11"))
    with pytest.raises(Invalid, match="no look-back window for secondary contacts"):
        service.secondary_window("cn_20_measures", close_contact_first_exposure=D("2022-11-20"),
                                 close_contact_isolated_on=None)
    with pytest.raises(Invalid):
        service.secondary_window("cn_v9", close_contact_first_exposure=D("2022-05-08"),
                                 close_contact_isolated_on=D("2022-05-07"))


def test_inputs_are_checked() -> None:
    with pytest.raises(Invalid, match="onset"):
        service.lookback_window("cn_v9")
    with pytest.raises(Invalid, match="end before it starts"):
        service.lookback_window("cn_v9", onset=D("2022-05-10"), isolated_on=D("2022-05-01"))
