"""The time-varying reproduction number by the method of Cori et al. (2013), as the R package
EpiEstim (``estimate_R``, methods ``parametric_si`` and ``non_parametric_si``) computes it.

Conventions that change numbers, all as in EpiEstim:

- Day indices are 1-based: ``t_start``/``t_end`` refer to the first day of the series as 1.
- A single incidence series is taken as local cases, except day 1, whose cases are all imported;
  with a local/imported split, local cases on day 1 are moved to imported.
- Imported cases enter the infectivity term only; local cases the numerator.
- The parametric serial interval is a gamma shifted by one day, discretised over 0..T-1 by
  :func:`discr_si` (Cori et al. 2013, Web Appendix 11); a given distribution is used as is
  (first value must be 0, sum 1).
- The prior on R is Gamma(mean 5, sd 5); the default windows are weekly, t_start = 2..T-6.
- A window is estimated only when its end is after the mean of the (discrete) serial interval.
- The minimum-case rule: a window needs ``ceil(1 / cv_posterior**2 - a_prior)`` cases (local +
  imported) for the posterior coefficient of variation to be at most ``cv_posterior`` (0.3);
  EpiEstim only warns when the first window is short. Here every window reports its incidence and
  whether it meets the rule, and :attr:`RtResult.warnings` carries EpiEstim's warning.

All arrays may carry a leading batch axis (many divisions at once); see :func:`estimate_rt_batch`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

from fangkong.analytics.messages import A
from fangkong.analytics.rrandom import RRandom
from fangkong.core.errors import Invalid
from fangkong.core.messages import Text

QUANTILES = (0.025, 0.05, 0.25, 0.5, 0.75, 0.95, 0.975)
COLUMNS = ("t_start", "t_end", "mean", "std", "q025", "q05", "q25", "median", "q75", "q95",
           "q975")
Array = NDArray[np.float64]


def _pgamma(x: Array, shape: float, scale: float) -> Array:
    """Gamma CDF with pgamma's convention of 0 for x <= 0."""
    xs = np.clip(x, 0.0, None) / scale
    return np.where(x > 0, special.gammainc(shape, xs), 0.0)


def discr_si(k: ArrayLike, mu: float, sigma: float) -> Array:
    """EpiEstim's ``discr_si``: the discretised serial interval at days ``k``, from a gamma
    distribution of mean ``mu - 1`` and sd ``sigma`` shifted by one day."""
    if sigma < 0:
        raise Invalid(A("si_sd"))
    if mu <= 1:
        raise Invalid(A("si_mean"))
    kk = np.asarray(k, dtype=float)
    a = ((mu - 1) / sigma) ** 2
    b = sigma**2 / (mu - 1)
    res = (kk * _pgamma(kk, a, b) + (kk - 2) * _pgamma(kk - 2, a, b)
           - 2 * (kk - 1) * _pgamma(kk - 1, a, b))
    res = res + a * b * (2 * _pgamma(kk - 1, a + 1, b) - _pgamma(kk - 2, a + 1, b)
                         - _pgamma(kk, a + 1, b))
    return np.maximum(0.0, res)


def check_si_distr(si: ArrayLike) -> Array:
    arr = np.asarray(si, dtype=float)
    if arr.ndim != 1 or arr.size < 2:
        raise Invalid(A("si_two_values"))
    if np.any(arr < 0) or not np.all(np.isfinite(arr)):
        raise Invalid(A("si_finite"))
    if arr[0] != 0:
        raise Invalid(A("si_day0"))
    if abs(arr.sum() - 1) > 0.01:
        raise Invalid(A("si_sum", total=f"{arr.sum():g}"))
    return arr


def process_incidence(local: ArrayLike, imported: ArrayLike | None = None) -> tuple[Array, Array]:
    """EpiEstim's ``process_I``: day-1 cases are imported. Works on (..., T) arrays."""
    loc = np.array(local, dtype=float)
    imp = np.zeros_like(loc) if imported is None else np.array(imported, dtype=float)
    if loc.shape != imp.shape:
        raise Invalid(A("incidence_length"))
    if loc.shape[-1] < 2:
        raise Invalid(A("incidence_two_days"))
    if np.any(~np.isfinite(loc)) or np.any(~np.isfinite(imp)):
        raise Invalid(A("incidence_finite"))
    if np.any(loc < 0) or np.any(imp < 0):
        raise Invalid(A("incidence_positive"))
    imp[..., 0] += loc[..., 0]
    loc[..., 0] = 0
    return loc, imp


def overall_infectivity(total: Array, si: Array) -> Array:
    """Lambda_t = sum_{s=1}^{t-1} I_{t-s} w_s (NaN on day 1), along the last axis.

    Computed as one matrix product with the T x T Toeplitz matrix of the serial interval, so a
    batch of series costs one BLAS call."""
    t = total.shape[-1]
    w = np.zeros(t)
    n = min(t, si.size)
    w[:n] = si[:n]
    w[0] = 0.0
    lag = np.arange(t)[None, :] - np.arange(t)[:, None]  # lag[j, i] = i - j
    toeplitz = np.where(lag >= 0, w[np.clip(lag, 0, t - 1)], 0.0)
    lam = np.asarray(total, dtype=float) @ toeplitz
    lam[..., 0] = np.nan
    return lam


def weekly_windows(t: int, window: int = 7) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """EpiEstim's default sliding windows: t_start = 2..T-window+1, t_end = t_start+window-1."""
    if window < 1:
        raise Invalid(A("window_one_day"))
    if t - window + 1 < 2:
        raise Invalid(A("series_too_short", t=t, window=window))
    starts = np.arange(2, t - window + 2, dtype=np.int64)
    return starts, starts + window - 1


@dataclass
class RtResult:
    """Posterior of R per window (rows where EpiEstim gives an estimate)."""

    t_start: NDArray[np.int64]
    t_end: NDArray[np.int64]
    mean: Array
    std: Array
    quantiles: Array  # (len(QUANTILES), n_windows)
    incidence: Array  # cases (local + imported) per window
    min_cases: int
    si_mean: float
    si_sd: float
    warnings: list[Text] = field(default_factory=list)  # str() gives the English text
    seed: int | None = None  # the seed of a method that draws

    def rows(self) -> list[dict[str, float | int | bool]]:
        out: list[dict[str, float | int | bool]] = []
        for i in range(self.t_start.size):
            row: dict[str, float | int | bool] = {
                "t_start": int(self.t_start[i]), "t_end": int(self.t_end[i]),
                "mean": float(self.mean[i]), "std": float(self.std[i]),
            }
            for name, q in zip(COLUMNS[4:], self.quantiles[:, i], strict=True):
                row[name] = float(q)
            row["cases"] = float(self.incidence[i])
            row["enough_cases"] = bool(self.incidence[i] >= self.min_cases)
            out.append(row)
        return out


@dataclass
class RtBatch:
    """Posterior parameters for a batch of series over common windows (NaN where not estimated)."""

    t_start: NDArray[np.int64]
    t_end: NDArray[np.int64]
    shape: Array  # (n_series, n_windows)
    scale: Array
    incidence: Array
    min_cases: int
    si_mean: float
    si_sd: float

    @property
    def mean(self) -> Array:
        return self.shape * self.scale

    @property
    def std(self) -> Array:
        return np.sqrt(self.shape) * self.scale

    def quantile(self, q: float) -> Array:
        return special.gammaincinv(self.shape, q) * self.scale


def resolve_si(t: int, si_mean: float | None, si_sd: float | None,
               si_distr: ArrayLike | None) -> Array:
    """The discrete SI used for a series of ``t`` days, padded with zeros to ``t + 1`` values."""
    if si_distr is not None:
        if si_mean is not None or si_sd is not None:
            raise Invalid(A("si_not_both"))
        si = check_si_distr(si_distr)
    else:
        if si_mean is None or si_sd is None:
            raise Invalid(A("si_needs"))
        si = discr_si(np.arange(t), si_mean, si_sd)
    if si.size < t + 1:
        si = np.concatenate([si, np.zeros(t + 1 - si.size)])
    return si


def _windows(t: int, window: int, t_start: ArrayLike | None, t_end: ArrayLike | None
             ) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    if t_start is None and t_end is None:
        return weekly_windows(t, window)
    if t_start is None or t_end is None:
        raise Invalid(A("t_start_end"))
    starts = np.asarray(t_start, dtype=np.int64)
    ends = np.asarray(t_end, dtype=np.int64)
    if starts.shape != ends.shape or np.any(starts > ends) or np.any(starts < 2) \
            or np.any(ends > t):
        raise Invalid(A("windows_bounds", t=t))
    return starts, ends


def estimate_rt_batch(
    local: ArrayLike,
    imported: ArrayLike | None = None,
    *,
    si_mean: float | None = None,
    si_sd: float | None = None,
    si_distr: ArrayLike | None = None,
    window: int = 7,
    t_start: ArrayLike | None = None,
    t_end: ArrayLike | None = None,
    mean_prior: float = 5.0,
    std_prior: float = 5.0,
    cv_posterior: float = 0.3,
) -> RtBatch:
    """Cori et al. (2013) for ``local`` of shape (n_series, T) (or (T,)), common windows."""
    loc, imp = process_incidence(local, imported)
    if loc.ndim == 1:
        loc, imp = loc[None, :], imp[None, :]
    t = loc.shape[-1]
    starts, ends = _windows(t, window, t_start, t_end)
    if mean_prior <= 0 or std_prior <= 0 or cv_posterior <= 0:
        raise Invalid(A("prior_positive"))
    si = resolve_si(t, si_mean, si_sd, si_distr)
    days = np.arange(si.size)
    final_mean = float(np.sum(si * days))
    final_sd = math.sqrt(max(float(np.sum(si * days**2)) - final_mean**2, 0.0))
    a_prior = (mean_prior / std_prior) ** 2
    b_prior = std_prior**2 / mean_prior
    total = loc + imp
    lam = overall_infectivity(total, si)
    zero = np.zeros((loc.shape[0], 1))
    cum_loc = np.concatenate([zero, np.cumsum(loc, axis=-1)], axis=-1)
    cum_tot = np.concatenate([zero, np.cumsum(total, axis=-1)], axis=-1)
    lam0 = np.nan_to_num(lam, nan=0.0)  # day 1 is never inside a window (t_start >= 2)
    cum_lam = np.concatenate([zero, np.cumsum(lam0, axis=-1)], axis=-1)
    s0, e = starts - 1, ends  # 0-based half-open [s0, e)
    shape = a_prior + (cum_loc[:, e] - cum_loc[:, s0])
    scale = 1.0 / (1.0 / b_prior + (cum_lam[:, e] - cum_lam[:, s0]))
    keep = ends > final_mean
    shape = np.where(keep[None, :], shape, np.nan)
    scale = np.where(keep[None, :], scale, np.nan)
    min_cases = math.ceil(1 / cv_posterior**2 - a_prior)
    return RtBatch(starts, ends, shape, scale, cum_tot[:, e] - cum_tot[:, s0], min_cases,
                   final_mean, final_sd)


def estimate_rt(local: ArrayLike, imported: ArrayLike | None = None, **kwargs: object
                ) -> RtResult:
    """One series; windows without an estimate are dropped as EpiEstim does."""
    if np.asarray(local).ndim != 1:
        raise Invalid(A("one_series"))
    b = estimate_rt_batch(local, imported, **kwargs)  # type: ignore[arg-type]
    keep = ~np.isnan(b.shape[0])
    quantiles = np.vstack([b.quantile(q)[0] for q in QUANTILES])
    warnings: list[Text] = []
    if b.incidence[0, 0] < b.min_cases:
        warnings.append(A("too_early", cases=f"{b.incidence[0, 0]:g}", needed=b.min_cases))
    return RtResult(b.t_start[keep], b.t_end[keep], b.mean[0][keep], b.std[0][keep],
                    quantiles[:, keep], b.incidence[0][keep], b.min_cases, b.si_mean, b.si_sd,
                    warnings)


@dataclass
class SiPosteriors:
    """The Gamma posterior of R per window under each of several serial intervals."""

    t_start: NDArray[np.int64]
    t_end: NDArray[np.int64]
    shape: Array  # (n_windows,): the same under every SI
    scale: Array  # (n_si, n_windows)
    estimated: NDArray[np.bool_]  # (n_si, n_windows): the window ends after that SI's mean
    si_mean: Array  # (n_si,) means of the discrete SIs
    incidence: Array  # (n_windows,) cases, local + imported
    min_cases: int


def posteriors_for_sis(local: ArrayLike, imported: ArrayLike | None, si: Array, *,
                       window: int = 7, t_start: ArrayLike | None = None,
                       t_end: ArrayLike | None = None, mean_prior: float = 5.0,
                       std_prior: float = 5.0, cv_posterior: float = 0.3) -> SiPosteriors:
    """One series, many discrete serial intervals ``si`` (n_si, >= 2 days): the posterior
    parameters per SI and window, as EpiEstim's ``sample_from_posterior`` forms them."""
    loc, imp = process_incidence(local, imported)
    if loc.ndim != 1:
        raise Invalid(A("one_incidence"))
    t = loc.size
    starts, ends = _windows(t, window, t_start, t_end)
    if mean_prior <= 0 or std_prior <= 0 or cv_posterior <= 0:
        raise Invalid(A("prior_positive"))
    si = np.atleast_2d(np.asarray(si, dtype=float))
    w = np.zeros((si.shape[0], t))
    n = min(t, si.shape[1])
    w[:, :n] = si[:, :n]
    w[:, 0] = 0.0
    days = np.arange(si.shape[1])
    si_mean = si @ days
    total = loc + imp
    # lam[k, j] = sum_{s >= 1} w[k, s] total[j - s]: one matrix product over all SIs
    lag = np.arange(t)[None, :] - np.arange(t)[:, None]  # lag[s, j] = j - s
    shifted = np.where(lag >= 0, total[np.clip(lag, 0, t - 1)], 0.0)
    lam = w @ shifted
    cum_lam = np.concatenate([np.zeros((si.shape[0], 1)), np.cumsum(lam, axis=1)], axis=1)
    cum_loc = np.concatenate([[0.0], np.cumsum(loc)])
    cum_tot = np.concatenate([[0.0], np.cumsum(total)])
    a_prior = (mean_prior / std_prior) ** 2
    b_prior = std_prior**2 / mean_prior
    s0, e = starts - 1, ends
    shape = a_prior + (cum_loc[e] - cum_loc[s0])
    scale = 1.0 / (1.0 / b_prior + (cum_lam[:, e] - cum_lam[:, s0]))
    estimated = ends[None, :] > si_mean[:, None]
    return SiPosteriors(starts, ends, shape, scale, estimated, si_mean,
                        cum_tot[e] - cum_tot[s0], math.ceil(1 / cv_posterior**2 - a_prior))


def _pooled_result(post: SiPosteriors, sample: Array, si_mean: float, si_sd: float,
                   seed: int | None) -> RtResult:
    """Mean, sd (n - 1) and quantiles (R's default, type 7) of the pooled draws per window;
    windows without a draw are left out."""
    ok = ~np.all(np.isnan(sample), axis=0)
    sample = sample[:, ok]
    mean = np.nanmean(sample, axis=0)
    std = np.nanstd(sample, axis=0, ddof=1)
    quantiles = np.vstack([np.nanquantile(sample, q, axis=0) for q in QUANTILES])
    warnings: list[Text] = []
    if post.incidence[0] < post.min_cases:
        warnings.append(A("too_early", cases=f"{post.incidence[0]:g}", needed=post.min_cases))
    return RtResult(post.t_start[ok], post.t_end[ok], mean, std, quantiles, post.incidence[ok],
                    post.min_cases, si_mean, si_sd, warnings, seed)


GENERATORS = ("r", "numpy")


def estimate_rt_uncertain_si(
    local: ArrayLike,
    imported: ArrayLike | None = None,
    *,
    mean_si: float,
    std_mean_si: float,
    min_mean_si: float,
    max_mean_si: float,
    std_si: float,
    std_std_si: float,
    min_std_si: float,
    max_std_si: float,
    n1: int = 500,
    n2: int = 50,
    window: int = 7,
    t_start: ArrayLike | None = None,
    t_end: ArrayLike | None = None,
    mean_prior: float = 5.0,
    std_prior: float = 5.0,
    seed: int | None = None,
    generator: str = "r",
) -> RtResult:
    """EpiEstim's ``uncertain_si`` (Cori et al. 2013, Web Appendix 3).

    ``n1`` pairs (mean, sd) of the serial interval are drawn first, for each pair the mean and
    then the sd, each from a normal truncated to [min, max] by rejection; then, pair after pair
    and window after window, ``n2`` draws of R from its Gamma posterior under that SI (windows
    ending before the discrete SI's mean take no draws; windows ending before the drawn mean are
    then left out of that pair's draws). The pooled draws give the mean, sd and quantiles (R's
    default definition).

    With ``generator="r"`` (the default) the draws are R's after ``set.seed(seed)``
    (:mod:`fangkong.analytics.rrandom`), so the numbers equal EpiEstim's with ``config$seed =
    seed``. ``generator="numpy"`` takes the same steps with numpy's generator: the same
    distribution, different draws, faster on very long runs. Without a seed one is drawn and
    reported in the result."""
    if not (min_mean_si <= mean_si <= max_mean_si and min_std_si <= std_si <= max_std_si):
        raise Invalid(A("si_within_bounds"))
    if min_mean_si < 1:
        raise Invalid(A("min_mean_si"))
    if min_std_si <= 0 or std_mean_si <= 0 or std_std_si <= 0:
        raise Invalid(A("std_positive"))
    if n1 < 1 or n2 < 1:
        raise Invalid(A("n1_n2"))
    seed, source = _stream(seed, generator)
    if isinstance(source, RRandom):
        normal = source.norm_rand
    else:
        gen = source

        def normal() -> float:
            return float(gen.standard_normal())

    def truncated(mu: float, sd: float, lo: float, hi: float) -> float:
        v = -1.0  # as EpiEstim: the first test fails since lo >= 1 (mean) or > 0 (sd)
        while v < lo or v > hi:
            v = mu + sd * normal()
        return v

    means = np.empty(n1)
    sds = np.empty(n1)
    for k in range(n1):
        means[k] = truncated(mean_si, std_mean_si, min_mean_si, max_mean_si)
        sds[k] = truncated(std_si, std_std_si, min_std_si, max_std_si)
    t = np.asarray(local).shape[-1]
    si = np.vstack([discr_si(np.arange(t), m, sd) for m, sd in zip(means, sds, strict=True)])
    post = posteriors_for_sis(local, imported, si, window=window, t_start=t_start, t_end=t_end,
                              mean_prior=mean_prior, std_prior=std_prior)
    sample = _draw(post, means, n2, source)
    return _pooled_result(post, sample, float(mean_si), float(std_si), seed)


def _draw(post: SiPosteriors, means: Array, n2: int,
          source: RRandom | np.random.Generator) -> Array:
    """``n2`` draws of R per serial interval and window, SI after SI and window after window
    (as EpiEstim draws them); NaN where a window ends before the discrete SI's mean (no draw)
    or before ``means`` (drawn, then left out)."""
    n1, n_w = post.scale.shape
    if isinstance(source, RRandom):
        sample = np.full((n1 * n2, n_w), np.nan)
        for k in range(n1):
            rows = slice(k * n2, (k + 1) * n2)
            for j in np.flatnonzero(post.estimated[k]):
                sample[rows, j] = source.rgamma(n2, float(post.shape[j]),
                                                float(post.scale[k, j]))
    else:
        shape = np.broadcast_to(post.shape, post.scale.shape)
        draws = source.standard_gamma(np.where(post.estimated, shape, 1.0)[:, None, :],
                                      size=(n1, n2, n_w)) * post.scale[:, None, :]
        sample = np.where(post.estimated[:, None, :], draws, np.nan).reshape(n1 * n2, n_w)
    late = post.t_end[None, :] > means[:, None]
    return np.where(np.repeat(late, n2, axis=0), sample, np.nan)


def _stream(seed: int | None, generator: str) -> tuple[int, RRandom | np.random.Generator]:
    if generator not in GENERATORS:
        raise Invalid(A("use_one_of", option="generator", value=repr(generator),
                        allowed=", ".join(GENERATORS)))
    if seed is None:
        seed = int(np.random.SeedSequence().generate_state(1)[0] & 0x7FFFFFFF)
    return seed, (RRandom(seed) if generator == "r" else np.random.default_rng(seed))


def estimate_rt_si_from_sample(
    local: ArrayLike,
    imported: ArrayLike | None = None,
    *,
    si_sample: ArrayLike,
    n2: int = 50,
    window: int = 7,
    t_start: ArrayLike | None = None,
    t_end: ArrayLike | None = None,
    mean_prior: float = 5.0,
    std_prior: float = 5.0,
    seed: int | None = None,
    generator: str = "r",
) -> RtResult:
    """EpiEstim's ``si_from_sample``: R integrated over a given sample of discrete serial
    intervals, ``si_sample`` of shape (n_samples, n_days) (one distribution per row, day 0
    first; EpiEstim's matrix transposed). Per serial interval, ``n2`` draws of R from its
    posterior, as :func:`estimate_rt_uncertain_si` draws them (without its SI draws first); a
    window counts for a serial interval when it ends after that interval's mean. With
    ``generator="r"`` the numbers equal EpiEstim's with ``config$seed = seed``."""
    arr = np.atleast_2d(np.asarray(si_sample, dtype=float))
    if arr.ndim != 2 or arr.shape[1] < 2 or arr.shape[0] < 1:
        raise Invalid(A("si_sample_shape"))
    for i, row in enumerate(arr):
        try:
            check_si_distr(row)
        except Invalid as exc:
            raise Invalid(A("si_sample_row", row=i + 1, problem=exc.text)) from None
    if n2 < 1:
        raise Invalid(A("n2"))
    seed, source = _stream(seed, generator)
    post = posteriors_for_sis(local, imported, arr, window=window, t_start=t_start,
                              t_end=t_end, mean_prior=mean_prior, std_prior=std_prior)
    sample = _draw(post, post.si_mean, n2, source)
    days = np.arange(arr.shape[1])
    sds = np.sqrt(np.maximum(arr @ days**2 - post.si_mean**2, 0.0))
    return _pooled_result(post, sample, float(np.mean(post.si_mean)), float(np.mean(sds)), seed)
