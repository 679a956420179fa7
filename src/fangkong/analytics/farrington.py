"""The Farrington detectors of the R package surveillance (version 1.20.3), batched.

- :func:`farrington`: ``algo.farrington`` (Farrington et al. 1996): quasi-Poisson GLM with an
  optional linear trend on the ``b`` years of reference windows of half-width ``w``, reweighting
  of outlying baseline values by Anscombe residuals (threshold 1), a power transformation
  (``none``, ``1/2``, ``2/3``) and a two-sided ``alpha`` (the bound is the upper end of the
  ``1 - alpha`` interval); bound 0 and no alarm when fewer than ``limit54[0]`` cases in the last
  ``limit54[1]`` periods.
- :func:`farrington_flexible`: ``farringtonFlexible`` (Noufaily et al. 2013): the same with
  ``noPeriods`` seasonal blocks filling the year, ``pastWeeksNotIncluded``, ``weightsThreshold``,
  ``pThresholdTrend``, a one-sided ``alpha`` and ``thresholdMethod`` ``delta`` (the power
  transformation), ``nbPlugin`` (negative-binomial quantile at the fitted mean) or ``muan`` (at
  the upper ``1 - alpha`` quantile of the fitted mean). Bound NA (None) below ``limit54``.

Where the package's code and its documentation differ, the code is followed:

- farringtonFlexible passes ``dispersion`` to ``predict.glm`` inside its ``newdata``, so the
  standard error of the prediction uses the model's Pearson dispersion, not ``phi = max(., 1)``;
- for ``nbPlugin``/``muan`` its score (and so the alarm) compares the count with the prediction on
  the log scale: ``(y - eta0) / (U - eta0)``;
- an alarm of farringtonFlexible also needs a non-zero count.

Time points are 1-based. With ``dates`` (the epoch of each period, weekly data), reference
points are found by date as the package does for ``epochAsDate`` series (same calendar day
``b`` years back, moved to the nearest same weekday), and the trend's time unit is the period
(days / 7); without dates, ``k - freq * i``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from fangkong.analytics.ears import Detection
from fangkong.analytics.glm import GlmFit, fit_shared
from fangkong.analytics.messages import A
from fangkong.core.errors import Invalid
from fangkong.core.messages import Day

Array = NDArray[np.float64]
POWERS = {"none": 1.0, "1/2": 0.5, "2/3": 2.0 / 3.0}
THRESHOLD_METHODS = ("delta", "nbPlugin", "muan")
CHUNK = 4096


@dataclass
class FarringtonDetection(Detection):
    expected: Array | None = None  # (B, n)
    score: Array | None = None
    pvalue: Array | None = None
    trend: NDArray[np.bool_] | None = None


@dataclass
class _Problems:
    """The K time points' designs: rows are reference observations (padded with weight 0)."""

    idx: NDArray[np.int64]  # (K, n) 0-based indices into the series (0 where padded)
    valid: NDArray[np.bool_]  # (K, n)
    x_trend: Array  # (K, n, p_trend): intercept, wtime, dummies
    x0_trend: Array  # (K, p_trend) prediction row
    has_wtime: bool


def _assign_weights(s: Array, valid: NDArray[np.bool_], threshold: float) -> Array:
    big = (s > threshold) & valid
    with np.errstate(divide="ignore", invalid="ignore"):
        inv2 = np.where(big, s ** -2.0, 1.0)
    inv2 = np.where(valid, inv2, 0.0)
    gamma = valid.sum(axis=1) / inv2.sum(axis=1)
    omega = np.where(big, gamma[:, None] * np.where(big, inv2, 0.0), gamma[:, None])
    return np.where(valid, omega, 0.0)


def _fit(x: Array, y: Array, valid: NDArray[np.bool_], reweight: bool,
         threshold: float, flexible: bool = False, offset: Array | None = None
         ) -> tuple[GlmFit, Array]:
    """The package's fitGLM: fit, phi = max(dispersion, 1), optionally reweight and refit.

    farringtonFlexible's fitter then overwrites the model's working weights with the prior
    weights omega, so every later ``summary.glm`` (the trend's p-value, the prediction's standard
    error) uses the dispersion ``sum(omega * ((y - mu) / mu)^2) / df``: reproduced here."""
    prior = valid.astype(float)
    fit = fit_shared(x, y, prior, offset)
    phi = np.maximum(fit.dispersion, 1.0)
    if reweight:
        s = fit.anscombe(phi)
        omega = _assign_weights(s, valid, threshold)
        refit = fit_shared(x, y, omega, offset)
        refit.converged &= fit.converged
        fit = refit
        phi = np.maximum(fit.dispersion, 1.0)
        if flexible:
            with np.errstate(divide="ignore", invalid="ignore"):
                r = (y - fit.mu) / fit.mu
                fit.dispersion = np.sum(np.where(omega > 0, omega * r**2, 0.0), axis=1) \
                    / fit.df_residual
    return fit, phi


def _power_bound(mu0: Array, se_fit: Array, phi: Array, power: str, z: float, y: Array
                 ) -> tuple[Array, Array]:
    """Upper bound and the transformed-scale normal tail of the observation (delta method)."""
    tau = phi + se_fit**2 / mu0
    e = POWERS[power]
    if power == "none":
        se = np.sqrt(mu0 * tau)
    elif power == "1/2":
        se = np.sqrt(0.25 * tau)
    else:
        se = np.sqrt(4.0 / 9.0 * mu0 ** (1.0 / 3.0) * tau)
    upper = (mu0**e + z * se) ** (1.0 / e)
    return upper, stats.norm.sf(y**e, loc=mu0**e, scale=se)


def _check_common(observed: ArrayLike, range_: ArrayLike | None, b: int, w: int, alpha: float,
                  limit54: tuple[int, int], powertrans: str) -> tuple[Array, NDArray[np.int64]]:
    y = np.asarray(observed, dtype=float)
    if y.ndim == 1:
        y = y[None, :]
    if y.ndim != 2:
        raise Invalid(A("series_dims"))
    if np.any(~np.isfinite(y)) or np.any(y < 0):
        raise Invalid(A("counts_finite"))
    if b < 1 or w < 0:
        raise Invalid(A("b_w"))
    if not 0 < alpha < 1:
        raise Invalid(A("alpha"))
    if not (limit54[0] >= 0 and limit54[1] > 0):
        raise Invalid(A("limit54_bounds"))
    if powertrans not in POWERS:
        raise Invalid(A("powertrans", allowed=", ".join(POWERS)))
    t = np.asarray(range_, dtype=np.int64) if range_ is not None else np.zeros(0, np.int64)
    return y, t


def _log_population(population: ArrayLike | None, y: Array) -> Array | None:
    if population is None:
        return None
    pop = np.asarray(population, dtype=float)
    if pop.ndim == 1 and pop.size == y.shape[1]:
        pop = np.broadcast_to(pop, y.shape)
    if pop.shape != y.shape:
        raise Invalid(A("population_shape"))
    if np.any(~np.isfinite(pop)) or np.any(pop <= 0):
        raise Invalid(A("population_positive"))
    return np.log(pop)


def _enough(y: Array, t: NDArray[np.int64], limit54: tuple[int, int]) -> NDArray[np.bool_]:
    cum = np.concatenate([np.zeros((y.shape[0], 1)), np.cumsum(y, axis=1)], axis=1)
    lo = np.maximum(t - limit54[1], 0)
    return (cum[:, t] - cum[:, lo]) >= limit54[0]


def _run(y: Array, prob: _Problems, t: NDArray[np.int64], *, reweight: bool, threshold: float,
         trend: bool, p_trend: float, b: int, flexible: bool, log_pop: Array | None = None
         ) -> tuple[Array, Array, Array, NDArray[np.bool_], NDArray[np.bool_], Array]:
    """Fit every (series, time point): returns eta0, se(eta0) [Pearson dispersion for the
    flexible method, phi for the classic one], phi, trend used, converged, max response.
    All series share each time point's design, so each time point is one batch of fits."""
    nser, k = y.shape[0], t.size
    shape = (nser, k)
    eta0, se_eta, phi_out, ymax = (np.empty(shape) for _ in range(4))
    trend_used = np.zeros(shape, dtype=bool)
    ok = np.ones(shape, dtype=bool)
    p_full = prob.x_trend.shape[2]
    notrend_cols = [c for c in range(p_full) if not (prob.has_wtime and c == 1)]
    for j in range(k):
        sel = np.flatnonzero(prob.valid[j])
        x_t, x0_t = prob.x_trend[j, sel], prob.x0_trend[j]
        x_nt, x0_nt = x_t[:, notrend_cols], x0_t[notrend_cols]
        for start in range(0, nser, CHUNK):
            rows = np.arange(start, min(start + CHUNK, nser))
            yy = y[rows][:, prob.idx[j, sel]]
            off = None if log_pop is None else log_pop[rows][:, prob.idx[j, sel]]
            off0 = np.zeros(rows.size) if log_pop is None else log_pop[rows, t[j] - 1]
            ymax[rows, j] = yy.max(axis=1)
            need_nt = np.ones(rows.size, dtype=bool)
            if trend and prob.has_wtime:
                # The trend model first; the model without trend only where it is not used.
                fit_t, phi_t = _fit(x_t, yy, np.ones(yy.shape, dtype=bool), reweight,
                                    threshold, flexible, off)
                mu_hat = np.exp(fit_t.coef @ x0_t + off0)
                significant = fit_t.pvalue(1) < p_trend
                use = fit_t.converged & (b >= 3) & significant & (mu_hat <= ymax[rows, j])
                disp_t = fit_t.dispersion if flexible else phi_t
                e_t, s_t = fit_t.predict_link(np.broadcast_to(x0_t, (rows.size, x0_t.size)),
                                              disp_t)
                eta0[rows, j], se_eta[rows, j] = e_t + off0, s_t
                phi_out[rows, j], trend_used[rows, j] = phi_t, use
                need_nt = ~use
            sub = np.flatnonzero(need_nt)
            if sub.size == 0:
                continue
            y_nt = yy[sub]
            fit_nt, phi_nt = _fit(x_nt, y_nt, np.ones(y_nt.shape, dtype=bool), reweight,
                                  threshold, flexible, None if off is None else off[sub])
            disp_nt = fit_nt.dispersion if flexible else phi_nt
            e_nt, s_nt = fit_nt.predict_link(np.broadcast_to(x0_nt, (sub.size, x0_nt.size)),
                                             disp_nt)
            r = rows[sub]
            eta0[r, j], se_eta[r, j], phi_out[r, j] = e_nt + off0[sub], s_nt, phi_nt
            ok[r, j] = fit_nt.converged
    return eta0, se_eta, phi_out, trend_used, ok, ymax


def farrington(observed: ArrayLike, *, freq: int = 52, range_: ArrayLike | None = None,
               b: int = 5, w: int = 3, reweight: bool = True, alpha: float = 0.05,
               trend: bool = True, limit54: tuple[int, int] = (5, 4),
               powertrans: str = "2/3", population: ArrayLike | None = None
               ) -> FarringtonDetection:
    """``algo.farrington`` (reference windows by index: k - freq*i - w .. k - freq*i + w).

    With ``population`` (same shape as the counts) the model has ``offset(log(population))``,
    as the package's ``fitFun = "algo.farrington.fitGLM.populationOffset"``."""
    y, t = _check_common(observed, range_, b, w, alpha, limit54, powertrans)
    n = y.shape[1]
    if range_ is None:
        t = np.arange(freq * b - w, n + 1, dtype=np.int64)
    if t.size == 0 or t.min() < 1 or t.max() > n:
        raise Invalid(A("range_out_of_bounds", n=n))
    offsets = np.concatenate([np.arange(-freq * i - w, -freq * i + w + 1)
                              for i in range(b, 0, -1)])
    wt = t[:, None] + offsets[None, :]  # 1-based reference times
    valid = wt > 0
    if np.any(valid.sum(axis=1) < 3):
        raise Invalid(A("too_few_reference"))
    x = np.stack([np.ones(wt.shape), np.where(valid, wt, 0.0)], axis=2)
    x0 = np.stack([np.ones(t.size), t.astype(float)], axis=1)
    prob = _Problems(np.where(valid, wt - 1, 0), valid, x, x0, True)
    eta0, se_eta, phi, tr, _ok, _ = _run(y, prob, t, reweight=reweight, threshold=1.0,
                                         trend=trend, p_trend=0.05, b=b, flexible=False,
                                         log_pop=_log_population(population, y))
    mu0 = np.exp(eta0)
    se_fit = se_eta * mu0
    obs = y[:, t - 1]
    z = stats.norm.ppf(1 - alpha / 2)
    upper, _ = _power_bound(mu0, se_fit, phi, powertrans, z, obs)
    enough = _enough(y, t, limit54)
    with np.errstate(divide="ignore", invalid="ignore"):
        score = np.where(enough, (obs - mu0) / (upper - mu0), 0.0)
    return FarringtonDetection(t, obs, np.where(enough, upper, 0.0), score > 1, expected=mu0,
                               score=score, trend=tr)


def _minus_years(d: date, years: int) -> date:
    """R's seq(d, by = "-1 year"): same month and day; 29 February rolls over to 1 March."""
    try:
        return d.replace(year=d.year - years)
    except ValueError:
        return date(d.year - years, 3, 1)


def _reference_points(k: int, b: int, freq: int, dates: list[date] | None) -> list[int]:
    """0-based indices of the time point k (0-based) and its b reference points, newest first."""
    if dates is None:
        pts = [k - freq * i for i in range(b + 1)]
        if min(pts) < 0:
            raise Invalid(A("reference_missing"))
        return pts
    d0 = dates[k]
    index = {d: i for i, d in enumerate(dates)}
    out = []
    for i in range(b + 1):
        ref = _minus_years(d0, i)
        if freq == 52:
            shift = ref.isoweekday() % 7 - d0.isoweekday() % 7
            a = ref - timedelta(days=shift)
            bb = a + timedelta(days=-7 if a > ref else 7)
            ref = bb if abs((a - ref).days) > abs((bb - ref).days) else a
        if ref not in index:
            raise Invalid(A("reference_not_in_series", ref=Day(ref), day=Day(d0)))
        out.append(index[ref])
    return out


def _blocks(n: int, refs: list[int], w: int, p: int) -> NDArray[np.float64]:
    """The package's ``blocks``: period labels (NaN outside) for the time point refs[0]."""
    f = np.full(n, np.nan)
    now = refs[0]
    f[max(now - w, 0):now + 1] = p
    for i in range(len(refs) - 1):
        ref = refs[i + 1]
        if ref - w < 0:
            raise Invalid(A("window_before_series"))
        f[ref - w:ref + w + 1] = p
        if p != 1:
            period = refs[i] - 2 * w - 1 - ref
            if period < p - (2 * w + 1):
                raise Invalid(A("too_many_factors"))
            lengths = [period // (p - 1)] * (p - 1)
            for j in range(period % (p - 1)):
                lengths[j] += 1
            cum = np.concatenate([[0], np.cumsum(lengths)])
            for j in range(1, p):
                lo, hi = ref + w + 1 + cum[j - 1], ref + w + 1 + cum[j] - 1
                if hi >= lo:
                    f[lo:hi + 1] = j
    return f


def farrington_flexible(observed: ArrayLike, *, freq: int = 52, dates: list[date] | None = None,
                        range_: ArrayLike | None = None, b: int = 5, w: int = 3,
                        reweight: bool = True, weights_threshold: float = 2.58,
                        alpha: float = 0.05, trend: bool = True, p_threshold_trend: float = 0.05,
                        limit54: tuple[int, int] = (5, 4), powertrans: str = "2/3",
                        no_periods: int = 1, past_weeks_not_included: int | None = None,
                        threshold_method: str = "delta", population: ArrayLike | None = None,
                        population_offset: bool = False) -> FarringtonDetection:
    """``farringtonFlexible``; ``population_offset`` adds ``offset(log(population))``."""
    y, t = _check_common(observed, range_, b, w, alpha, limit54, powertrans)
    n = y.shape[1]
    if threshold_method not in THRESHOLD_METHODS:
        raise Invalid(A("threshold_method", allowed=", ".join(THRESHOLD_METHODS)))
    if no_periods < 1:
        raise Invalid(A("no_periods"))
    if dates is not None and len(dates) != n:
        raise Invalid(A("one_date_each"))
    past = w if past_weeks_not_included is None else past_weeks_not_included
    if range_ is None:
        t = np.arange(freq * b + w + 1, n + 1, dtype=np.int64)
    if t.size == 0 or t.min() < 1 or t.max() > n:
        raise Invalid(A("range_within", n=n))
    factors = no_periods != 1
    rows: list[tuple[NDArray[np.int64], Array, Array, float, int]] = []
    step = 1.0 if dates is None else float((dates[1] - dates[0]).days)
    for k in t:
        refs = _reference_points(int(k) - 1, b, freq, dates)
        blk = _blocks(n, refs, w, no_periods)
        blk[max(int(k) - 1 - past, 0):int(k)] = np.nan
        idx = np.flatnonzero(~np.isnan(blk))
        if idx.size < 2:
            raise Invalid(A("too_few_reference_at", k=int(k)))
        if dates is None:
            wtime = (idx + 1).astype(float)
            w0 = float(k)
        else:
            wtime = np.array([(dates[i] - dates[idx[0]]).days for i in idx], float) / step
            w0 = (dates[int(k) - 1] - dates[idx[0]]).days / step
        rows.append((idx, wtime, blk[idx], w0, int(k)))
    n_max = max(r[0].size for r in rows)
    levels_all = [np.unique(r[2]) for r in rows]
    n_dummy = max(lv.size for lv in levels_all) - 1 if factors else 0
    p = 2 + n_dummy
    idx_m = np.zeros((t.size, n_max), dtype=np.int64)
    valid = np.zeros((t.size, n_max), dtype=bool)
    x = np.zeros((t.size, n_max, p))
    x0 = np.zeros((t.size, p))
    for j, (idx, wtime, blk, w0, _k) in enumerate(rows):
        m = idx.size
        idx_m[j, :m], valid[j, :m] = idx, True
        x[j, :m, 0], x[j, :m, 1] = 1.0, wtime
        x0[j, 0], x0[j, 1] = 1.0, w0
        if factors:
            levels = levels_all[j]
            if levels.size - 1 != n_dummy:
                raise Invalid(A("period_no_reference", k=_k))
            for c, lv in enumerate(levels[1:]):
                x[j, :m, 2 + c] = blk == lv
                x0[j, 2 + c] = float(lv == no_periods)
    prob = _Problems(idx_m, valid, x, x0, True)
    if population_offset and population is None:
        raise Invalid(A("population_offset"))
    eta0, se_eta, phi, tr, ok, _ = _run(
        y, prob, t, reweight=reweight, threshold=weights_threshold, trend=trend,
        p_trend=p_threshold_trend, b=b, flexible=True,
        log_pop=_log_population(population, y) if population_offset else None)
    obs = y[:, t - 1]
    if threshold_method == "delta":
        mu0 = np.exp(eta0)
        upper, pval = _power_bound(mu0, se_eta * mu0, phi, powertrans,
                                   float(stats.norm.ppf(1 - alpha)), obs)
        pred = mu0
        expected = mu0
    else:
        if threshold_method == "nbPlugin":
            mq = np.exp(eta0)
        else:
            mq = np.exp(stats.norm.ppf(1 - alpha, loc=eta0, scale=se_eta))
        with np.errstate(divide="ignore", invalid="ignore"):
            size = mq / (phi - 1)
            nb_upper = stats.nbinom.ppf(1 - alpha, size, 1 / phi)
            nb_p = stats.nbinom.sf(obs - 1, size, 1 / phi)
        upper = np.where(phi > 1, nb_upper, stats.poisson.ppf(1 - alpha, mq))
        pval = np.where(phi != 1, nb_p, stats.poisson.sf(obs - 1, mq))
        inf = np.isinf(mq)
        upper = np.where(inf, np.nan, upper)
        pval = np.where(inf, np.nan, pval)
        pred = eta0
        expected = np.exp(eta0)
    with np.errstate(divide="ignore", invalid="ignore"):
        score = (obs - pred) / (upper - pred)
    enough = _enough(y, t, limit54) & ok
    score = np.where(ok, score, np.nan)
    upperbound = np.where(enough, upper, np.nan)
    alarm = enough & ~np.isnan(score) & (score > 1) & (obs != 0)
    expected = np.where(enough & ~np.isnan(upper), expected, np.nan)
    return FarringtonDetection(t, obs, upperbound, alarm, expected=expected, score=score,
                               pvalue=np.where(ok, pval, np.nan), trend=tr)
