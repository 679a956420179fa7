"""EARS C1, C2 and C3 (Hutwagner et al. 2003) as the R package surveillance's ``earsC`` computes
them (version 1.20.3), for one series or a batch of series with a common time axis.

Reference values at time t (1-based, ``baseline`` = 7 by default), sample standard deviation:

- C1: the ``baseline`` values t-baseline .. t-1; bound = mean + z(1-alpha) * max(sd, minSigma).
- C2: the ``baseline`` values t-baseline-2 .. t-3 (a lag of two); same bound.
- C3: the package's code, which differs from its documented formula. The documented statistic is
  C3(t) = sum over t-2..t of max(0, C2 - 1), i.e. including the current day's C2. The code's
  bound is ``y_t + sd_t * (z - (max(0, C2(t-2) - 1) + max(0, C2(t-1) - 1)))``, floored at 0,
  with sd_t the C2 reference sd of day t: an alarm (y_t > bound) therefore happens exactly when
  the two previous days' exceedances sum to more than z, ignoring the current day's C2. We follow
  the code (its bounds and alarms are the reference numbers).

Defaults as the package: alpha 0.001 for C1/C2 and 0.025 for C3; the default range starts at
the first time point with a full reference window. An alarm needs the count strictly above the
bound.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from fangkong.analytics.messages import A
from fangkong.core.errors import Invalid

Array = NDArray[np.float64]
METHODS = ("C1", "C2", "C3")


@dataclass
class Detection:
    """Result of a detector over ``t`` (1-based time points): per series rows of bounds/alarms."""

    t: NDArray[np.int64]
    observed: Array  # (B, n)
    upperbound: Array  # (B, n); NaN where the method gives none
    alarm: NDArray[np.bool_]  # (B, n)

    def rows(self, series: int = 0) -> list[dict[str, float | int | bool | None]]:
        out: list[dict[str, float | int | bool | None]] = []
        for i, t in enumerate(self.t):
            ub = self.upperbound[series, i]
            out.append({"t": int(t), "observed": float(self.observed[series, i]),
                        "upperbound": None if np.isnan(ub) else float(ub),
                        "alarm": bool(self.alarm[series, i])})
        return out


def _as_batch(observed: ArrayLike) -> Array:
    y = np.asarray(observed, dtype=float)
    if y.ndim == 1:
        y = y[None, :]
    if y.ndim != 2:
        raise Invalid(A("series_dims"))
    return y


def _ref_stats(y: Array, ends: NDArray[np.int64], baseline: int) -> tuple[Array, Array]:
    """Mean and sample sd of the ``baseline`` values ending (inclusive, 1-based) at ``ends``."""
    win = sliding_window_view(y, baseline, axis=1)  # win[:, j] = y[:, j:j+baseline]
    sel = win[:, ends - baseline, :]
    return sel.mean(axis=2), sel.std(axis=2, ddof=1)


def ears(observed: ArrayLike, *, method: str = "C1", range_: ArrayLike | None = None,
         baseline: int = 7, alpha: float | None = None, min_sigma: float = 0.0) -> Detection:
    """EARS C1/C2/C3 over ``range_`` (1-based indices; the package's default if None)."""
    method = method.upper()
    if method not in METHODS:
        raise Invalid(A("unknown_ears", method=repr(method)))
    if min_sigma < 0:
        raise Invalid(A("min_sigma"))
    if baseline < 3:
        raise Invalid(A("baseline_3"))
    y = _as_batch(observed)
    n = y.shape[1]
    max_lag = {"C1": baseline, "C2": baseline + 2, "C3": baseline + 4}[method]
    if range_ is None:
        t = np.arange(max_lag + 1, n + 1, dtype=np.int64)
    else:
        t = np.sort(np.asarray(range_, dtype=np.int64))
    if t.size == 0:
        raise Invalid(A("range_empty") if range_ is not None else
                      A("ears_too_short", method=method, baseline=baseline))
    if t[0] - max_lag < 1:
        raise Invalid(A("ears_needs_earlier", method=method, baseline=baseline, lag=max_lag))
    if t[-1] > n:
        raise Invalid(A("range_past_end", end=int(t[-1]), n=n))
    if alpha is None:
        alpha = 0.025 if method == "C3" else 0.001
    if not 0 < alpha < 1:
        raise Invalid(A("alpha"))
    z = stats.norm.ppf(1 - alpha)
    obs = y[:, t - 1]
    if method in ("C1", "C2"):
        lag = 1 if method == "C1" else 3
        mean, sd = _ref_stats(y, t - lag, baseline)
        ub = mean + z * np.maximum(sd, min_sigma)
    else:
        t2 = np.arange(t[0] - 2, t[-1] + 1, dtype=np.int64)
        mean, sd = _ref_stats(y, t2 - 3, baseline)
        with np.errstate(divide="ignore", invalid="ignore"):
            c2 = (y[:, t2 - 1] - mean) / np.maximum(sd, min_sigma)
        pos = t - t2[0]  # position of each t within t2
        part = np.maximum(0.0, c2[:, pos - 2] - 1) + np.maximum(0.0, c2[:, pos - 1] - 1)
        with np.errstate(invalid="ignore"):  # sd 0 and minSigma 0: NaN, as in R
            ub = np.maximum(0.0, obs + np.maximum(sd[:, pos], min_sigma) * (z - part))
    with np.errstate(invalid="ignore"):
        alarm = obs > ub
    return Detection(t, obs, ub, alarm)
