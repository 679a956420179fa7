"""R's random number stream, compared draw for draw with R 4.2.2 (make_rng_expected.R)."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pytest

from fangkong.analytics.rrandom import RRandom, qnorm, seed_state
from fangkong.core.errors import Invalid
from tests.surveillance.expected import read


def _expected() -> dict[tuple[str, int], np.ndarray]:
    out: dict[tuple[str, int], list[float]] = defaultdict(list)
    for r in read("r_rng_expected.csv"):
        out[(r["case"], int(float(r["seed"])))].append(float(r["value"]))
    return {k: np.array(v) for k, v in out.items()}


EXPECTED = _expected()


def _cases(prefix: str) -> list[tuple[str, int]]:
    return [k for k in EXPECTED if k[0].startswith(prefix)]


@pytest.mark.parametrize("key", _cases("state"))
def test_set_seed_state_equals_dot_random_seed(key: tuple[str, int]) -> None:
    words = seed_state(key[1]).astype(np.int64)
    signed = np.where(words >= 2**31, words - 2**32, words)  # R shows them as signed integers
    assert np.array_equal(signed, EXPECTED[key])


@pytest.mark.parametrize("key", _cases("runif"))
def test_runif_equals_r(key: tuple[str, int]) -> None:
    exp = EXPECTED[key]
    assert np.array_equal(RRandom(key[1]).runif(exp.size), exp)


def test_rnorm_equals_r() -> None:
    exp = EXPECTED[("rnorm", 1)]
    assert np.array_equal(RRandom(1).rnorm(exp.size), exp)
    exp = EXPECTED[("rnorm_mean_sd", 3)]
    assert np.array_equal(RRandom(3).rnorm(exp.size, 2.6, 1.5), exp)


def test_rexp_equals_r() -> None:
    exp = EXPECTED[("rexp", 1)]
    assert np.array_equal(RRandom(1).rexp(exp.size), exp)


@pytest.mark.parametrize("key", _cases("rgamma_shape_"))
def test_rgamma_equals_r(key: tuple[str, int]) -> None:
    exp = EXPECTED[key]
    shape = float(key[0].rsplit("_", 1)[1])
    got = RRandom(key[1]).rgamma(exp.size, shape, 0.7)
    assert np.array_equal(got, exp), np.flatnonzero(got != exp)[:5]


def test_rgamma_with_changing_shapes_equals_r() -> None:
    exp = EXPECTED[("rgamma_mixed", 5)]
    shapes = [2, 2, 0.4, 17, 17, 1.2, 250]
    r = RRandom(5)
    got = np.array([r.rgamma(1, shapes[i % len(shapes)])[0] for i in range(exp.size)])
    assert np.array_equal(got, exp)


def test_one_stream_for_all_kinds_of_draws() -> None:
    r = RRandom(9)
    got = np.concatenate([r.runif(3), r.rnorm(5), r.rexp(4), r.rgamma(6, 0.3),
                          r.rgamma(6, 4.2, 2), r.runif(2), r.rnorm(3, 1, 2)])
    assert np.array_equal(got, EXPECTED[("interleaved", 9)])


def test_long_streams_cross_blocks() -> None:
    # the uniforms are made in blocks of 65,536; a normal may straddle two blocks
    r = RRandom(1)
    r.runif(65535)
    a = r.rnorm(3)
    b = RRandom(1)
    b.runif(65535)
    u = b.runif(6)
    z = qnorm((np.floor(134217728.0 * u[0::2]) + u[1::2]) / 134217728.0)
    assert np.array_equal(a, z)


def test_qnorm_equals_r_qnorm() -> None:
    # R 4.2.2: print(qnorm(c(0.975, 0.025, 0.8413447460685429, 1e-10, 1 - 1e-10, 1e-300)),
    #                digits = 17)
    p = np.array([0.975, 0.025, 0.8413447460685429, 1e-10, 1 - 1e-10, 1e-300])
    r = [1.9599639845400536, -1.9599639845400538, 1.0, -6.3613409024040557, 6.3613408896974208,
         -37.0470962993612005]
    assert list(qnorm(p)) == pytest.approx(r, rel=2e-16, abs=0)
    assert qnorm(np.array([0.5]))[0] == 0.0


@pytest.mark.parametrize("seed", [2**31, -(2**31), 1.5])
def test_bad_seed(seed: object) -> None:
    with pytest.raises(Invalid, match="seed"):
        RRandom(seed)  # type: ignore[arg-type]


def test_bad_gamma_parameters() -> None:
    with pytest.raises(Invalid):
        RRandom(1).rgamma(2, -1.0)
    assert list(RRandom(1).rgamma(2, 0.0)) == [0.0, 0.0]
