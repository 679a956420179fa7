import csv
import json

import numpy as np
import pytest

from fangkong.analytics.rt import (
    COLUMNS,
    discr_si,
    estimate_rt,
    estimate_rt_batch,
    estimate_rt_si_from_sample,
    estimate_rt_uncertain_si,
)
from fangkong.core.errors import Invalid
from tests.surveillance.expected import DATA, read

TOL = 1e-6


def _flu() -> list[int]:
    return [int(r["I"]) for r in read("epiestim_flu2009_incidence.csv")]


def _flu_si() -> list[float]:
    return [float(r["p"]) for r in read("epiestim_si_distr.csv") if r["dataset"] == "Flu2009"]


def _compare(example: str, res) -> None:
    ref = [r for r in read("epiestim_ref_tests_examples.csv") if r["example"] == example]
    rows = res.rows()
    assert [int(r["t_start"]) for r in ref] == [r["t_start"] for r in rows]
    assert [int(r["t_end"]) for r in ref] == [r["t_end"] for r in rows]
    for a, b in zip(ref, rows, strict=True):
        for c in COLUMNS[2:]:
            assert abs(float(a[c]) - b[c]) < TOL, (example, a["t_start"], c)


def test_example1_non_parametric_si() -> None:
    _compare("Example1", estimate_rt(_flu(), si_distr=_flu_si(), t_start=range(2, 27),
                                     t_end=range(8, 33)))


def test_example3_parametric_si_default_weekly_windows() -> None:
    # Flu2009 has 32 days: EpiEstim's default weekly windows are exactly 2..26 / 8..32.
    _compare("Example3", estimate_rt(_flu(), si_mean=2.6, si_sd=1.5))


def test_example2_local_and_imported() -> None:
    rows = read("epiestim_ref_example2_input_local_imported.csv")
    local = [int(r["local"]) for r in rows]
    imported = [int(r["imported"]) for r in rows]
    _compare("Example2", estimate_rt(local, imported, si_mean=2.6, si_sd=1.5,
                                     t_start=range(2, 22), t_end=range(8, 28)))


def test_day_one_cases_are_imported() -> None:
    a = estimate_rt([5, 2, 3, 4, 6, 8, 9, 12, 15, 20], si_mean=2.6, si_sd=1.5)
    b = estimate_rt([0, 2, 3, 4, 6, 8, 9, 12, 15, 20], [5] + [0] * 9, si_mean=2.6, si_sd=1.5)
    assert np.allclose(a.mean, b.mean)
    # imported cases only feed the infectivity: more imports, lower R
    c = estimate_rt([0, 2, 3, 4, 6, 8, 9, 12, 15, 20], [5, 3, 0, 0, 0, 0, 0, 0, 0, 0],
                    si_mean=2.6, si_sd=1.5)
    assert np.all(c.mean < b.mean)


def test_discr_si_matches_shipped_distribution() -> None:
    # The shipped Flu2009 SI is discr_si(0:n, 2.6, 1.5) rounded to 3 decimals.
    shipped = np.array(_flu_si())
    ours = discr_si(np.arange(shipped.size), 2.6, 1.5)
    assert np.max(np.abs(ours - shipped)) <= 0.0005 + 1e-12
    assert ours[0] == 0


def test_minimum_case_rule_and_warning() -> None:
    res = estimate_rt(_flu(), si_mean=2.6, si_sd=1.5)
    assert res.min_cases == 11  # ceil(1 / 0.3^2 - 1)
    rows = res.rows()
    assert rows[0]["cases"] == sum(_flu()[1:8])
    assert all(r["enough_cases"] == (r["cases"] >= 11) for r in rows)
    assert not res.warnings  # the first window of Flu2009 has 17 cases
    short = estimate_rt([1, 1, 0, 2, 1, 1, 2, 1, 3, 2, 4], si_mean=2.6, si_sd=1.5)
    assert short.warnings and "too early" in str(short.warnings[0])
    assert "疫情早期" in short.warnings[0].render("zh-Hans")
    assert not short.rows()[0]["enough_cases"]


def test_windows_before_the_mean_si_are_dropped() -> None:
    res = estimate_rt([1, 2, 3, 4, 5, 6, 7, 8], si_mean=4.5, si_sd=1.0, window=1)
    assert res.t_end.min() > res.si_mean


def test_batch_equals_single_series() -> None:
    rng = np.random.default_rng(1)
    local = rng.poisson(8, size=(5, 60))
    batch = estimate_rt_batch(local, si_mean=5.0, si_sd=3.0, window=10)
    for i in range(5):
        one = estimate_rt(local[i], si_mean=5.0, si_sd=3.0, window=10)
        assert np.allclose(batch.mean[i][~np.isnan(batch.mean[i])], one.mean, rtol=1e-12)
        assert np.allclose(batch.quantile(0.975)[i][~np.isnan(batch.mean[i])],
                           one.quantiles[-1], rtol=1e-10)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"si_mean": 1.0, "si_sd": 1.0}, "mean must be > 1"),
    ({}, "needs a mean and an sd"),
    ({"si_mean": 2.6, "si_sd": 1.5, "si_distr": [0, 1]}, "not both"),
    ({"si_distr": [0.1, 0.9]}, "0 on day 0"),
    ({"si_distr": [0, 0.5]}, "sum to 1"),
    ({"si_mean": 2.6, "si_sd": 1.5, "window": 40}, "too short"),
])
def test_bad_parameters(kwargs: dict, message: str) -> None:
    with pytest.raises(Invalid, match=message):
        estimate_rt(_flu(), **kwargs)


def test_negative_incidence_rejected() -> None:
    with pytest.raises(Invalid, match=">= 0"):
        estimate_rt([1, 2, -1, 3, 4, 5, 6, 7, 8], si_mean=2.6, si_sd=1.5)


def test_cli_rt(run_cli, tmp_path) -> None:
    ref = [r for r in read("epiestim_ref_tests_examples.csv") if r["example"] == "Example1"]
    si = tmp_path / "si.csv"
    with si.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["k", "p"])
        for k, p in enumerate(_flu_si()):
            w.writerow([k, p])
    result = run_cli(["analytics", "rt", "--incidence",
                      str(DATA / "epiestim_flu2009_incidence.csv"), "--si-distr", str(si),
                      "--window", "7", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert list(rows[0]) == list(COLUMNS)
    assert len(rows) == len(ref)
    for a, b in zip(ref, rows, strict=True):
        assert all(abs(float(a[c]) - b[c]) < TOL for c in COLUMNS[2:])


def test_cli_rt_local_imported(run_cli, tmp_path) -> None:
    rows = read("epiestim_ref_example2_input_local_imported.csv")
    src = tmp_path / "incidence.csv"
    src.write_text("t,local,imported\n" + "".join(
        f"{r['t']},{r['local']},{r['imported']}\n" for r in rows))
    result = run_cli(["analytics", "rt", "--incidence", str(src),
                      "--si-mean", "2.6", "--si-sd", "1.5", "--json"])
    assert result.exit_code == 0, result.output
    ref = [r for r in read("epiestim_ref_tests_examples.csv") if r["example"] == "Example2"]
    rows = json.loads(result.stdout)
    # default windows (2..21 / 8..27) are Example 2's windows
    assert [r["t_start"] for r in rows] == [int(r["t_start"]) for r in ref]
    assert all(abs(float(a["mean"]) - b["mean"]) < TOL for a, b in zip(ref, rows, strict=True))


def test_cli_rt_bad_file_names_line_and_field(run_cli, tmp_path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("t,local,imported\n1,0,1\n2,x,0\n3,1,-2\n")
    result = run_cli(["analytics", "rt", "--incidence", str(bad), "--si-mean", "2.6",
                      "--si-sd", "1.5", "--json"])
    assert result.exit_code == 2
    where = {(p["file"], p["line"], p["field"])
             for p in json.loads(result.stdout)["error"]["problems"]}  # --json: the API's shape
    assert where == {("bad.csv", 3, "local"), ("bad.csv", 4, "imported")}
    human = run_cli(["analytics", "rt", "--incidence", str(bad), "--si-mean", "2.6",
                     "--si-sd", "1.5"])
    assert "bad.csv:3 local" in human.output and "bad.csv:4 imported" in human.output


EX4 = {"mean_si": 2.6, "std_mean_si": 1, "min_mean_si": 1, "max_mean_si": 4.2, "std_si": 1.5,
       "std_std_si": 0.5, "min_std_si": 0.5, "max_std_si": 2.5, "n1": 100, "n2": 100,
       "t_start": range(2, 27), "t_end": range(8, 33)}


def test_example4_uncertain_si_exact() -> None:
    # EpiEstim's test: estimate_R(Flu2009$incidence, method = "uncertain_si", config = list(
    # ..., n1 = 100, n2 = 100, seed = 1)); R's generator, draw for draw.
    _compare("Example4", estimate_rt_uncertain_si(_flu(), seed=1, **EX4))


def _uncertain_inputs() -> dict[str, tuple[tuple, dict]]:
    li = read("epiestim_ref_example2_input_local_imported.csv")
    sars = [int(r["I"]) for r in read("epiestim_sars2003_incidence.csv")]
    flu = {"mean_si": 2.6, "std_mean_si": 1, "min_mean_si": 1, "max_mean_si": 4.2,
           "std_si": 1.5, "std_std_si": 0.5, "min_std_si": 0.5, "max_std_si": 2.5}
    return {  # as in make_rng_expected.R
        "flu_default_windows": ((_flu(), None), flu | {"n1": 50, "n2": 40, "seed": 7}),
        "sars_wide": ((sars, None), {
            "t_start": range(2, 93, 3), "t_end": range(15, 106, 3), "mean_si": 8.4,
            "std_mean_si": 1.5, "min_mean_si": 5, "max_mean_si": 12, "std_si": 3.8,
            "std_std_si": 1, "min_std_si": 2, "max_std_si": 6, "n1": 30, "n2": 20,
            "seed": 11, "mean_prior": 3, "std_prior": 4}),
        "local_imported": (([int(r["local"]) for r in li], [int(r["imported"]) for r in li]),
                           flu | {"t_start": range(2, 22), "t_end": range(8, 28),
                                  "min_mean_si": 1.5, "max_mean_si": 4, "n1": 40, "n2": 25,
                                  "seed": 2026}),
        "small_prior_shape": (([0, 1, 0, 0, 2, 0, 1, 3, 0, 0, 2, 5, 1, 0, 3, 4, 2, 6], None), {
            "t_start": range(2, 16), "t_end": range(5, 19), "mean_si": 3, "std_mean_si": 0.8,
            "min_mean_si": 1.2, "max_mean_si": 5, "std_si": 1.2, "std_std_si": 0.4,
            "min_std_si": 0.4, "max_std_si": 2.2, "n1": 30, "n2": 30, "seed": 3,
            "mean_prior": 2, "std_prior": 4}),
    }


@pytest.mark.parametrize("config", list(_uncertain_inputs()))
def test_uncertain_si_equals_epiestim(config: str) -> None:
    # default weekly windows, SARS with 14-day windows and another prior, local/imported
    # cases, and a prior of shape 0.25 (zero-case windows draw with Ahrens-Dieter GS)
    args, kwargs = _uncertain_inputs()[config]
    ref = [r for r in read("epiestim_expected_uncertain.csv") if r["config"] == config]
    rows = estimate_rt_uncertain_si(*args, **kwargs).rows()
    assert [r["t_start"] for r in rows] == [int(r["t_start"]) for r in ref]
    for a, b in zip(ref, rows, strict=True):
        for c in COLUMNS[2:]:
            assert b[c] == pytest.approx(float(a[c]), rel=1e-12), (a["t_start"], c)


def test_uncertain_si_numpy_generator_within_monte_carlo_error() -> None:
    # The numpy generator takes the same steps with other draws: compare the averages of the
    # relative differences over the 25 windows with Monte Carlo tolerances. Ignoring the SI's
    # uncertainty (Example 3's numbers) is off by ~40% in sd and ~10% in the quantiles.
    ref = [r for r in read("epiestim_ref_tests_examples.csv") if r["example"] == "Example4"]
    res = estimate_rt_uncertain_si(_flu(), seed=3, generator="numpy", **(EX4 | {"n1": 1000}))
    rows = res.rows()
    assert [r["t_start"] for r in rows] == [int(r["t_start"]) for r in ref]

    def err(col: str) -> float:
        return float(np.mean([abs(b[col] - float(a[col])) / float(a[col])
                              for a, b in zip(ref, rows, strict=True)]))

    assert err("mean") < 0.03 and err("median") < 0.03
    assert err("std") < 0.05
    assert err("q025") < 0.03 and err("q975") < 0.03
    ex3 = [r for r in read("epiestim_ref_tests_examples.csv") if r["example"] == "Example3"]
    certain = float(np.mean([abs(float(a["std"]) - float(b["std"])) / float(a["std"])
                             for a, b in zip(ref, ex3, strict=True)]))
    assert certain > 0.2  # the tolerance above would catch a method ignoring SI uncertainty


def test_uncertain_si_seed_reported_and_reproducible() -> None:
    small = EX4 | {"n1": 5, "n2": 10}
    a = estimate_rt_uncertain_si(_flu(), **small)
    assert a.seed is not None
    b = estimate_rt_uncertain_si(_flu(), seed=a.seed, **small)
    assert np.array_equal(a.quantiles, b.quantiles)
    c = estimate_rt_uncertain_si(_flu(), seed=a.seed + 1, **small)
    assert not np.array_equal(a.quantiles, c.quantiles)


@pytest.mark.parametrize(("change", "message"), [
    ({"min_mean_si": 0.5}, "min_mean_si"),
    ({"mean_si": 5.0}, "within"),
    ({"std_std_si": 0}, "> 0"),
    ({"n1": 0}, "n1"),
    ({"generator": "mt"}, "generator"),
])
def test_uncertain_si_bad_parameters(change: dict, message: str) -> None:
    with pytest.raises(Invalid, match=message):
        estimate_rt_uncertain_si(_flu(), **(EX4 | change))


UNCERTAIN_ARGS = ["--si-mean", "2.6", "--si-sd", "1.5", "--si-mean-sd", "1", "--si-mean-min",
                  "1", "--si-mean-max", "4.2", "--si-sd-sd", "0.5", "--si-sd-min", "0.5",
                  "--si-sd-max", "2.5"]


def test_cli_rt_uncertain_si_with_seed_is_example4(run_cli) -> None:
    # Flu2009 has 32 days: the default weekly windows are Example 4's
    result = run_cli(["analytics", "rt", "--incidence",
                      str(DATA / "epiestim_flu2009_incidence.csv"), *UNCERTAIN_ARGS,
                      "--n1", "100", "--n2", "100", "--seed", "1", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    ref = [r for r in read("epiestim_ref_tests_examples.csv") if r["example"] == "Example4"]
    assert len(rows) == len(ref)
    for a, b in zip(ref, rows, strict=True):
        assert all(abs(float(a[c]) - b[c]) < TOL for c in COLUMNS[2:])
    assert "seed: 1" in result.stderr


def test_cli_rt_uncertain_si_needs_every_bound(run_cli) -> None:
    result = run_cli(["analytics", "rt", "--incidence",
                      str(DATA / "epiestim_flu2009_incidence.csv"), *UNCERTAIN_ARGS[:-2],
                      "--json"])
    assert result.exit_code == 2
    assert "--si-sd-max" in result.output


def _si_sample() -> np.ndarray:
    rows = read("epiestim_si_sample.csv")  # one column per distribution, written by R
    return np.array([[float(r[c]) for r in rows] for c in list(rows[0])[1:]])


@pytest.mark.parametrize("config", ["flu_sample", "local_imported_sample"])
def test_si_from_sample_equals_epiestim(config: str) -> None:
    li = read("epiestim_ref_example2_input_local_imported.csv")
    if config == "flu_sample":
        res = estimate_rt_si_from_sample(_flu(), si_sample=_si_sample(), n2=50, seed=2,
                                         t_start=range(2, 27), t_end=range(8, 33))
    else:
        res = estimate_rt_si_from_sample([int(r["local"]) for r in li],
                                         [int(r["imported"]) for r in li],
                                         si_sample=_si_sample(), n2=30, seed=5, mean_prior=2,
                                         std_prior=2)
    ref = [r for r in read("epiestim_expected_si_sample.csv") if r["config"] == config]
    rows = res.rows()
    assert [r["t_start"] for r in rows] == [int(r["t_start"]) for r in ref]
    for a, b in zip(ref, rows, strict=True):
        for c in COLUMNS[2:]:
            assert b[c] == pytest.approx(float(a[c]), rel=1e-12), (a["t_start"], c)


def test_si_from_sample_bad_rows_are_named() -> None:
    bad = _si_sample()
    bad[3, 0] = 0.1
    with pytest.raises(Invalid, match=r"row 4: .*0 on day 0"):
        estimate_rt_si_from_sample(_flu(), si_sample=bad, seed=1)


def test_cli_rt_si_sample(run_cli, tmp_path) -> None:
    src = tmp_path / "sample.csv"
    src.write_text("sample,k,p\n" + "".join(
        f"{i + 1},{k},{float(p)!r}\n" for i, row in enumerate(_si_sample())
        for k, p in enumerate(row)))
    result = run_cli(["analytics", "rt", "--incidence",
                      str(DATA / "epiestim_flu2009_incidence.csv"), "--si-sample", str(src),
                      "--n2", "50", "--seed", "2", "--json"])
    assert result.exit_code == 0, result.output
    ref = [r for r in read("epiestim_expected_si_sample.csv") if r["config"] == "flu_sample"]
    rows = json.loads(result.stdout)  # Flu2009's default windows are the reference's
    assert [r["t_start"] for r in rows] == [int(r["t_start"]) for r in ref]
    for a, b in zip(ref, rows, strict=True):
        assert all(b[c] == pytest.approx(float(a[c]), rel=1e-12) for c in COLUMNS[2:])


def test_cli_rt_si_sample_bad_file(run_cli, tmp_path) -> None:
    src = tmp_path / "sample.csv"
    src.write_text("sample,k,p\n1,0,0\n1,1,1\n3,0,0\n2,0,0\n2,2,1\n")
    result = run_cli(["analytics", "rt", "--incidence",
                      str(DATA / "epiestim_flu2009_incidence.csv"), "--si-sample", str(src),
                      "--json"])
    assert result.exit_code == 2
    where = {(p["file"], p["line"], p["field"])
             for p in json.loads(result.stdout)["error"]["problems"]}
    assert where == {("sample.csv", 4, "sample"), ("sample.csv", 6, "k")}
