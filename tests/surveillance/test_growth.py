import json
import math

import numpy as np
import pytest

from fangkong.analytics.glm import fit_quasipoisson, statsmodels_check
from fangkong.analytics.growth import growth_rate
from fangkong.core.errors import Invalid
from tests.surveillance.expected import DATA, read

SERIES = {"flu2009": "epiestim_flu2009_incidence.csv",
          "sars2003": "epiestim_sars2003_incidence.csv"}


@pytest.mark.parametrize("row", read("growth_expected.csv"), ids=lambda r: r["series"] + r["from"])
def test_growth_equals_r_glm(row: dict[str, str]) -> None:
    counts = [float(r["I"]) for r in read(SERIES[row["series"]])]
    a, b = int(row["from"]), int(row["to"])
    g = growth_rate(counts[a - 1:b], times=list(range(a, b + 1)))
    for key in ("r", "se", "r_lower", "r_upper"):
        assert abs(getattr(g, key) - float(row[key])) < 1e-6, key
    assert g.doubling_time == pytest.approx(math.log(2) / g.r)
    assert g.doubling_lower <= g.doubling_time <= g.doubling_upper or g.r < 0


def test_doubling_interval_unbounded_when_r_may_be_zero() -> None:
    g = growth_rate([3, 2, 4, 3, 3, 4, 3])
    assert g.r_lower < 0 < g.r_upper
    assert math.isinf(g.doubling_upper) or math.isinf(g.doubling_lower)


def test_growth_errors() -> None:
    with pytest.raises(Invalid, match="at least one case"):
        growth_rate([0, 0, 0, 0])
    with pytest.raises(Invalid, match="three days"):
        growth_rate([1, 2])


def test_irls_agrees_with_statsmodels() -> None:
    rng = np.random.default_rng(7)
    y = rng.poisson(np.exp(1 + 0.05 * np.arange(30)))
    x = np.stack([np.ones(30), np.arange(30.0)], axis=1)
    w = rng.uniform(0.5, 2, size=30)
    fit = fit_quasipoisson(x[None], y[None].astype(float), w[None])
    coef, scale = statsmodels_check(x, y.astype(float), w)
    assert np.allclose(fit.coef[0], coef, rtol=1e-7)
    assert fit.dispersion[0] == pytest.approx(scale, rel=1e-6)


def test_cli_growth(run_cli) -> None:
    row = read("growth_expected.csv")[0]
    result = run_cli(["analytics", "growth", "--incidence",
                      str(DATA / "epiestim_flu2009_incidence.csv"), "--range", "1:14", "--json"])
    assert result.exit_code == 0, result.output
    assert abs(json.loads(result.stdout)["r"] - float(row["r"])) < 1e-6
