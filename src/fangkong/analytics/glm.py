"""Quasi-Poisson log-linear GLMs fitted by IRLS, many problems at once.

The Farrington detectors fit thousands of tiny GLMs (a handful of coefficients, a few dozen
observations); a general library fits them one at a time, which is what made the detectors slow
over every division of a city. This module fits a batch of same-shaped problems with numpy,
reproducing the iteration of R's ``glm.fit`` (the reference implementation's fitter) so that
results agree with it to the last digits that matter:

- start from ``mu = y + 0.1``; iterate weighted least squares on the working response;
- stop when ``|dev - dev_old| / (|dev| + 0.1) < 1e-8`` or after 25 iterations;
- the reported working weights, covariance and hat values are those of the last weighted fit
  (R keeps the QR decomposition of that iteration), the residuals those of the final mean.

Observations with prior weight 0 are left out (this is how shorter problems are padded).
:func:`statsmodels_check` fits one problem with statsmodels, for tests.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import stats

Array = NDArray[np.float64]
EPSILON = 1e-8
MAXIT = 25


def _dev(y: Array, mu: Array, w: Array) -> Array:
    with np.errstate(divide="ignore", invalid="ignore"):
        ylogy = np.where(y > 0, y * np.log(y / mu), 0.0)
    return np.sum(2.0 * w * (ylogy - (y - mu)), axis=-1)


@dataclass
class GlmFit:
    coef: Array  # (B, p)
    mu: Array  # (B, n) fitted means
    cov_unscaled: Array  # (B, p, p)
    hat: Array  # (B, n)
    dispersion: Array  # (B,) Pearson estimate, as summary.glm gives it
    df_residual: Array  # (B,)
    converged: NDArray[np.bool_]
    iterations: NDArray[np.int64]
    y: Array
    prior: Array

    def pvalue(self, j: int) -> Array:
        """Two-sided t-test p-value of coefficient ``j`` (summary.glm for quasi families)."""
        se = np.sqrt(self.cov_unscaled[:, j, j] * self.dispersion)
        with np.errstate(divide="ignore", invalid="ignore"):
            tval = self.coef[:, j] / se
        return 2.0 * stats.t.sf(np.abs(tval), self.df_residual)

    def predict_link(self, x0: Array, dispersion: Array) -> tuple[Array, Array]:
        """(eta, se of eta) at design rows ``x0`` (B, p) with the given dispersion."""
        eta = np.einsum("bp,bp->b", x0, self.coef)
        var = np.einsum("bp,bpq,bq->b", x0, self.cov_unscaled, x0)
        return eta, np.sqrt(var * dispersion)

    def anscombe(self, phi: Array) -> Array:
        """Anscombe residuals scaled by phi and leverage (surveillance's anscombe.residuals)."""
        y, mu = self.y, self.mu
        with np.errstate(divide="ignore", invalid="ignore"):
            a = 1.5 * (y ** (2.0 / 3.0) * mu ** (-1.0 / 6.0) - np.sqrt(mu))
            return a / np.sqrt(phi[:, None] * (1.0 - self.hat))


def fit_quasipoisson(x: Array, y: Array, prior: Array | None = None) -> GlmFit:
    """Fit ``y ~ x`` (log link) for a batch: x (B, n, p), y (B, n), prior weights (B, n)."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    nb, n, p = x.shape
    pw = np.ones((nb, n)) if prior is None else np.asarray(prior, dtype=float)
    good = pw > 0
    mu = y + 0.1
    eta = np.log(mu)
    devold = _dev(y, mu, pw)
    coef = np.zeros((nb, p))
    w2 = np.zeros((nb, n))
    xtwx_inv = np.zeros((nb, p, p))
    done = np.zeros(nb, dtype=bool)
    conv = np.zeros(nb, dtype=bool)
    iters = np.zeros(nb, dtype=np.int64)
    eye = np.eye(p)
    for _ in range(MAXIT):
        act = ~done
        if not act.any():
            break
        xa, ya, pa, eta_a, mu_a = x[act], y[act], pw[act], eta[act], mu[act]
        z = eta_a + (ya - mu_a) / mu_a
        w = np.where(pa > 0, pa * mu_a, 0.0)
        xtw = xa.transpose(0, 2, 1) * w[:, None, :]
        xtwx = xtw @ xa
        inv = np.linalg.solve(xtwx, np.broadcast_to(eye, xtwx.shape))
        beta = np.einsum("bpq,bq->bp", inv, np.einsum("bpn,bn->bp", xtw, z))
        eta_new = np.einsum("bnp,bp->bn", xa, beta)
        mu_new = np.exp(eta_new)
        dev = _dev(ya, mu_new, pa)
        coef[act], w2[act], xtwx_inv[act] = beta, w, inv
        eta[act], mu[act] = eta_new, mu_new
        iters[act] += 1
        c = np.abs(dev - devold[act]) / (np.abs(dev) + 0.1) < EPSILON
        idx = np.flatnonzero(act)
        conv[idx[c]] = True
        done[idx[c]] = True
        devold[act] = dev
    hat = np.einsum("bnp,bpq,bnq->bn", x, xtwx_inv, x) * w2
    n_ok = good.sum(axis=1)
    df_r = (n_ok - p).astype(float)
    resid = (y - mu) / mu
    with np.errstate(divide="ignore", invalid="ignore"):
        disp = np.where(df_r > 0, np.sum(np.where(w2 > 0, w2 * resid**2, 0.0), axis=1) / df_r,
                        np.nan)
    return GlmFit(coef, mu, xtwx_inv, hat, disp, df_r, conv, iters, y, pw)


def fit_shared(x: Array, y: Array, prior: Array | None = None,
               offset: Array | None = None) -> GlmFit:
    """As :func:`fit_quasipoisson` for B problems sharing one design ``x`` (n, p): the
    weighted cross-products become single matrix products (BLAS) over all problems, which is
    what makes the detectors fast over thousands of divisions. ``offset`` (B, n) is added to
    the linear predictor (as R's ``offset()``; R starts from ``log(y + 0.1)`` regardless)."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    nb, n = y.shape
    p = x.shape[1]
    pw = np.ones((nb, n)) if prior is None else np.asarray(prior, dtype=float)
    xx = (x[:, :, None] * x[:, None, :]).reshape(n, p * p)
    with np.errstate(divide="ignore", invalid="ignore"):
        ylogy = np.where(y > 0, y * np.log(np.where(y > 0, y, 1.0)), 0.0)
    mu = y + 0.1
    eta = np.log(mu)
    devold = _dev(y, mu, pw)
    coef = np.zeros((nb, p))
    w2 = np.zeros((nb, n))
    inv_all = np.zeros((nb, p, p))
    done = np.zeros(nb, dtype=bool)
    conv = np.zeros(nb, dtype=bool)
    iters = np.zeros(nb, dtype=np.int64)
    for _ in range(MAXIT):
        idx = np.flatnonzero(~done)
        if idx.size == 0:
            break
        every = idx.size == nb
        ya = y if every else y[idx]
        pa = pw if every else pw[idx]
        yl = ylogy if every else ylogy[idx]
        eta_a = eta if every else eta[idx]
        mu_a = mu if every else mu[idx]
        off = None if offset is None else (offset if every else offset[idx])
        # working weights w = prior * mu; w * z = w * (eta - offset) + prior * (y - mu)
        w = pa * mu_a
        wz = w * (eta_a if off is None else eta_a - off)
        wz += pa * (ya - mu_a)
        xtwx = (w @ xx).reshape(idx.size, p, p)
        inv = np.linalg.inv(xtwx)
        beta = np.einsum("bpq,bq->bp", inv, wz @ x)
        eta_new = beta @ x.T
        if off is not None:
            eta_new += off
        mu_new = np.exp(eta_new)
        # deviance: 2 * sum(prior * (y log y - y eta - y + mu))
        d = yl - ya * eta_new
        d += mu_new - ya
        dev = 2.0 * np.einsum("bn,bn->b", pa, d)
        coef[idx], w2[idx], inv_all[idx] = beta, w, inv
        eta[idx], mu[idx] = eta_new, mu_new
        iters[idx] += 1
        c = np.abs(dev - devold[idx]) / (np.abs(dev) + 0.1) < EPSILON
        conv[idx[c]] = True
        done[idx[c]] = True
        devold[idx] = dev
    hat = (inv_all.reshape(nb, p * p) @ xx.T) * w2
    df_r = (pw > 0).sum(axis=1).astype(float) - p
    resid = (y - mu) / mu
    with np.errstate(divide="ignore", invalid="ignore"):
        disp = np.where(df_r > 0, np.sum(np.where(w2 > 0, w2 * resid**2, 0.0), axis=1) / df_r,
                        np.nan)
    return GlmFit(coef, mu, inv_all, hat, disp, df_r, conv, iters, y, pw)


def statsmodels_check(x: Array, y: Array, prior: Array | None = None) -> tuple[Array, float]:
    """(coefficients, Pearson dispersion) of one problem by statsmodels, for cross-checks."""
    import statsmodels.api as sm

    model = sm.GLM(y, x, family=sm.families.Poisson(), var_weights=prior)
    res = model.fit(scale="X2", tol=1e-12)
    return np.asarray(res.params), float(res.scale)
