"""Exponential growth rate and doubling (or halving) time from an epidemic curve.

A log-linear Poisson regression of daily counts on time over a window, ``log E[I_t] = a + r t``
(R: ``glm(I ~ t, family = poisson)``), gives the growth rate r per day with a Wald confidence
interval ``r ± z se`` (R's ``confint.default``). With ``quasi=True`` the standard error is scaled
by the Pearson dispersion (quasi-Poisson, for over-dispersed counts). The doubling time is
``log(2) / r`` (a halving time when r < 0); its interval maps the ends of r's interval and is
unbounded when r's interval contains 0.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

from fangkong.analytics.glm import fit_quasipoisson
from fangkong.analytics.messages import A
from fangkong.core.errors import Invalid


@dataclass(frozen=True)
class Growth:
    r: float
    se: float
    r_lower: float
    r_upper: float
    doubling_time: float  # days; negative = halving time; inf when r == 0
    doubling_lower: float
    doubling_upper: float
    level: float
    days: int

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def _doubling(r: float) -> float:
    return math.inf if r == 0 else math.log(2) / r


def growth_rate(counts: ArrayLike, *, level: float = 0.95, quasi: bool = False,
                times: ArrayLike | None = None) -> Growth:
    """Growth rate of ``counts`` (one value per day, or at ``times``) with its interval."""
    y = np.asarray(counts, dtype=float)
    if y.ndim != 1 or y.size < 3:
        raise Invalid(A("growth_three_days"))
    if np.any(~np.isfinite(y)) or np.any(y < 0):
        raise Invalid(A("counts_finite"))
    if y.sum() == 0:
        raise Invalid(A("growth_one_case"))
    if not 0 < level < 1:
        raise Invalid(A("confidence_level"))
    t = np.arange(1, y.size + 1, dtype=float) if times is None else np.asarray(times, float)
    x = np.stack([np.ones_like(t), t], axis=1)[None]
    fit = fit_quasipoisson(x, y[None])
    if not fit.converged[0]:
        raise Invalid(A("not_converged"))
    disp = float(fit.dispersion[0]) if quasi else 1.0
    r = float(fit.coef[0, 1])
    se = math.sqrt(float(fit.cov_unscaled[0, 1, 1]) * disp)
    z = float(stats.norm.ppf(0.5 + level / 2))
    lo, hi = r - z * se, r + z * se
    if lo > 0 or hi < 0:
        d_lo, d_hi = sorted((_doubling(hi), _doubling(lo)))
    else:  # the interval of r contains 0: the doubling time is unbounded on one side
        d_lo, d_hi = (_doubling(hi), math.inf) if r > 0 else (-math.inf, _doubling(lo))
    return Growth(r, se, lo, hi, _doubling(r), d_lo, d_hi, level, int(y.size))
