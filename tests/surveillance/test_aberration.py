import json

import numpy as np
import pytest

from fangkong.analytics.ears import ears
from fangkong.analytics.farrington import farrington, farrington_flexible
from fangkong.core.errors import Invalid
from tests.surveillance.expected import DATA, agona, by_config, in2011, newport, num

TOL = 1e-6


def _check(ref: list[dict[str, str]], det, *, extra: tuple[str, ...] = ()) -> None:
    assert det.t.tolist() == [int(r["t"]) for r in ref]
    assert det.observed[0].tolist() == [float(r["observed"]) for r in ref]
    for i, r in enumerate(ref):
        exp = num(r["upperbound"])
        got = det.upperbound[0, i]
        if np.isnan(exp):
            assert np.isnan(got), (r["config"], r["t"])
        else:
            assert abs(got - exp) < TOL, (r["config"], r["t"], got, exp)
        assert bool(det.alarm[0, i]) == bool(int(r["alarm"])), (r["config"], r["t"])
        for col in extra:
            e, g = num(r[col]), getattr(det, col)[0, i]
            assert (np.isnan(e) and np.isnan(g)) or abs(e - g) < TOL, (r["config"], r["t"], col)


def test_in2011_is_the_r_range() -> None:
    ref = by_config("surveillance_expected_ears.csv")["C1_a05"]
    assert in2011() == [int(r["t"]) for r in ref]


def test_earsc_package_test_bounds() -> None:
    y, _ = newport()
    det = ears(y, method="C1", range_=in2011(), alpha=0.05)
    assert np.allclose(det.upperbound[0, :4], [3.278854, 3.278854, 3.436517, 3.855617],
                       atol=1e-6)


EARS = {
    "C1_a05": {"method": "C1", "alpha": 0.05},
    "C2_a05": {"method": "C2", "alpha": 0.05},
    "C3_a05": {"method": "C3", "alpha": 0.05},
    "C1_default": {"method": "C1"},
    "C3_default": {"method": "C3"},
    "C2_b10_minsigma2": {"method": "C2", "alpha": 0.01, "baseline": 10, "min_sigma": 2},
    "C3_b5_minsigma05": {"method": "C3", "alpha": 0.1, "baseline": 5, "min_sigma": 0.5},
}


@pytest.mark.parametrize("config", sorted(EARS))
def test_ears_equals_r(config: str) -> None:
    y, _ = newport()
    _check(by_config("surveillance_expected_ears.csv")[config],
           ears(y, range_=in2011(), **EARS[config]))


def test_ears_default_range_equals_r() -> None:
    y, _ = newport()
    _check(by_config("surveillance_expected_ears.csv")["C1_full"], ears(y, alpha=0.05))


def test_c3_ignores_the_current_day() -> None:
    # The package's C3 alarm depends only on the two previous days' C2 exceedances.
    y, _ = newport()
    base = ears(y, method="C3", range_=[400], alpha=0.05)
    y2 = list(y)
    y2[399] += 50
    spiked = ears(y2, method="C3", range_=[400], alpha=0.05)
    assert bool(base.alarm[0, 0]) == bool(spiked.alarm[0, 0])


def test_ears_batch_equals_single() -> None:
    rng = np.random.default_rng(3)
    ys = rng.poisson(5, size=(4, 80))
    batch = ears(ys, method="C2", alpha=0.05)
    for i in range(4):
        assert np.array_equal(batch.upperbound[i], ears(ys[i], method="C2",
                                                        alpha=0.05).upperbound[0])


def test_ears_errors() -> None:
    with pytest.raises(Invalid, match="too short"):
        ears([1, 2, 3, 4, 5, 6, 7, 8], method="C3")
    with pytest.raises(Invalid, match="baseline"):
        ears([1] * 20, baseline=2)
    with pytest.raises(Invalid, match="unknown"):
        ears([1] * 20, method="C4")


FARRINGTON = {
    "default": {},
    "b3w2": {"b": 3, "w": 2, "range_": range(200, 313)},
    "noreweight_notrend": {"b": 4, "w": 3, "reweight": False, "trend": False,
                           "range_": range(250, 313)},
    "alpha01_pt_none": {"b": 5, "w": 3, "alpha": 0.01, "powertrans": "none",
                        "range_": range(270, 313)},
    "pt_half_limit": {"b": 5, "w": 4, "powertrans": "1/2", "limit54": (3, 3),
                      "range_": range(270, 313)},
    # R's glm() and glm.fit() fitters give the same numbers: one implementation serves both.
    "glm_fitfun": {"b": 4, "w": 2, "range_": range(230, 313)},
    # fitFun = "algo.farrington.fitGLM.populationOffset" with a growing population
    "pop_offset": {"b": 4, "w": 3, "range_": range(230, 313), "population": "agona"},
}


def population(n: int) -> np.ndarray:
    """The population make_expected.R gives the offset configurations: 1e6 (1 + 0.002 t)."""
    return 1e6 * (1 + 0.002 * np.arange(1, n + 1))


@pytest.mark.parametrize("config", sorted(FARRINGTON))
def test_farrington_equals_r(config: str) -> None:
    kw = dict(FARRINGTON[config])
    if "population" in kw:
        kw["population"] = population(len(agona()))
    _check(by_config("surveillance_expected_farrington.csv")[config], farrington(agona(), **kw))


_ORIGINAL = {"no_periods": 1, "b": 4, "w": 3, "weights_threshold": 1,
             "past_weeks_not_included": 3, "p_threshold_trend": 0.05,
             "threshold_method": "delta"}
_NOUFAILY = {"no_periods": 10, "b": 4, "w": 3, "weights_threshold": 2.58,
             "past_weeks_not_included": 26, "p_threshold_trend": 1,
             "threshold_method": "nbPlugin"}
FLEXIBLE = {
    "original": _ORIGINAL,
    "noufaily": _NOUFAILY,
    "original_limit0_50": {**_ORIGINAL, "limit54": (0, 50)},
    "noufaily_limit0_50": {**_NOUFAILY, "limit54": (0, 50)},
    "noufaily_muan": {**_NOUFAILY, "threshold_method": "muan", "alpha": 0.01},
    "original_noperiods10": {**_ORIGINAL, "no_periods": 10, "alpha": 0.1},
    "original_pt_none_notrend": {**_ORIGINAL, "powertrans": "none", "trend": False},
    "original_pt_half_noreweight": {**_ORIGINAL, "powertrans": "1/2", "reweight": False,
                                    "b": 3, "w": 2},
    "noufaily_b5_past10": {**_NOUFAILY, "b": 5, "past_weeks_not_included": 10,
                           "no_periods": 4},
    "original_popoffset": {**_ORIGINAL, "population_offset": True},
    "noufaily_popoffset": {**_NOUFAILY, "population_offset": True},
}


@pytest.mark.parametrize("config", sorted(FLEXIBLE))
def test_farrington_flexible_equals_r(config: str) -> None:
    y, dates = newport()
    pop = population(len(y)) if "popoffset" in config else None
    det = farrington_flexible(y, dates=dates, range_=in2011(), population=pop,
                              **FLEXIBLE[config])
    _check(by_config("surveillance_expected_flexible.csv")[config], det,
           extra=("expected", "score", "pvalue"))


def test_vignette_configurations_raise_alarms() -> None:
    ref = by_config("surveillance_expected_flexible.csv")
    assert sum(int(r["alarm"]) for r in ref["original"]) > 0
    assert sum(int(r["alarm"]) for r in ref["noufaily"]) > 0


def test_flexible_batch_equals_single() -> None:
    y, dates = newport()
    ys = np.vstack([y, np.array(y) * 2, np.roll(y, 3)])
    batch = farrington_flexible(ys, dates=dates, range_=in2011(), **_NOUFAILY)
    for i in range(3):
        one = farrington_flexible(ys[i], dates=dates, range_=in2011(), **_NOUFAILY)
        assert np.array_equal(np.nan_to_num(batch.upperbound[i], nan=-1),
                              np.nan_to_num(one.upperbound[0], nan=-1))


def test_farrington_errors() -> None:
    with pytest.raises(Invalid, match="limit54"):
        farrington(agona(), limit54=(5, 0))
    with pytest.raises(Invalid, match="powertrans"):
        farrington(agona(), powertrans="3/4")
    y, dates = newport()
    with pytest.raises(Invalid, match="reference time point"):
        farrington_flexible(y, dates=dates, range_=[60], b=4)
    with pytest.raises(Invalid, match="population"):
        farrington_flexible(y, dates=dates, range_=in2011(), b=4, population_offset=True)
    with pytest.raises(Invalid, match="population"):
        farrington(agona(), population=[1.0, 2.0])
    with pytest.raises(Invalid, match="thresholdMethod"):
        farrington_flexible(y, dates=dates, threshold_method="exact")


def test_cli_aberration_ears(run_cli) -> None:
    result = run_cli(["analytics", "aberration", "--method", "ears-c1", "--series",
                      str(DATA / "surveillance_salmNewport_germany_weekly.csv"),
                      "--range", "366:369", "--alpha", "0.05", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert list(rows[0]) == ["t", "observed", "upperbound", "alarm"]
    assert [round(r["upperbound"], 6) for r in rows] == [3.278854, 3.278854, 3.436517, 3.855617]


def test_cli_aberration_noufaily(run_cli) -> None:
    ref = by_config("surveillance_expected_flexible.csv")["noufaily"]
    a, b = ref[0]["t"], ref[-1]["t"]
    result = run_cli(["analytics", "aberration", "--method", "farrington-flexible", "--series",
                      str(DATA / "surveillance_salmNewport_germany_weekly.csv"),
                      "--range", f"{a}:{b}", "--b", "4", "--w", "3", "--no-periods", "10",
                      "--weights-threshold", "2.58", "--past-weeks-not-included", "26",
                      "--p-threshold-trend", "1", "--threshold-method", "nbPlugin", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [r["upperbound"] for r in rows] == [
        None if r["upperbound"] == "NA" else float(r["upperbound"]) for r in ref]
    assert [r["alarm"] for r in rows] == [bool(int(r["alarm"])) for r in ref]


def test_cli_aberration_farrington(run_cli) -> None:
    ref = by_config("surveillance_expected_farrington.csv")["default"]
    result = run_cli(["analytics", "aberration", "--method", "farrington", "--series",
                      str(DATA / "surveillance_salmonella_agona_weekly.csv"),
                      "--range", f"{ref[0]['t']}:{ref[-1]['t']}", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert all(abs(r["upperbound"] - float(e["upperbound"])) < TOL
               for r, e in zip(rows, ref, strict=True))


def test_cli_aberration_bad_method_and_range(run_cli) -> None:
    series = str(DATA / "surveillance_salmonella_agona_weekly.csv")
    r = run_cli(["analytics", "aberration", "--method", "cusum", "--series", series])
    assert r.exit_code == 2 and "cusum" in r.output
    r = run_cli(["analytics", "aberration", "--method", "ears-c1", "--series", series,
                 "--range", "5:1"])
    assert r.exit_code == 2 and "--range" in r.output
