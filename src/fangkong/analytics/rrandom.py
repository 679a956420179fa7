"""R's default random number generator, draw for draw, for reproducing R packages exactly.

R (``RNGkind()`` = "Mersenne-Twister", "Inversion", "Rejection") after ``set.seed(seed)``:

- **Seeding.** The integer seed is scrambled by 50 steps of the linear congruential generator
  ``s <- 69069 s + 1 (mod 2^32)``; 625 further steps fill the seed vector, whose first word is
  then replaced by the position 624 (so the first draw regenerates the state) and whose other
  624 words are the Mersenne-Twister state. This is what ``.Random.seed`` shows.
- **Uniforms.** Matsumoto and Nishimura's MT19937 (1998), each tempered 32-bit output times
  2^-32; an exact 0 is moved to half of 1/(2^32 - 1) so that draws lie strictly inside (0, 1).
  The 32-bit outputs come from numpy's :class:`numpy.random.MT19937` set to that state.
- **Normals** ("Inversion"): two uniforms ``u1, u2`` give ``u = floor(2^27 u1) + u2`` and the
  draw is the standard normal quantile of ``u / 2^27`` (53 bits of resolution).
- **Exponentials**: Ahrens and Dieter (1972), algorithm SA.
- **Gamma** (shape ``a``, scale): Ahrens and Dieter (1974) algorithm GS for ``a < 1``;
  Ahrens and Dieter (1982) algorithm GD for ``a >= 1``, with its published constants (the
  squeeze uses sqrt(32) rounded to 5.656854 as published) and ``exp(q) - 1`` computed by
  ``expm1``.

Everything is written from the published algorithms; the stream is checked against draws made
by R 4.2.2 (tests/surveillance/data/make_rng_expected.R).

Speed: uniforms are produced in blocks and the normal deviates at every position of a block are
computed at once, so a gamma draw on GD's fast path (one normal, at most one uniform) is a few
Python operations.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from fangkong.analytics.messages import A
from fangkong.core.errors import Invalid

_TWO_M32 = 2.3283064365386963e-10  # 2^-32
_HALF_I2_32M1 = 0.5 * 2.328306437080797e-10  # half of 1 / (2^32 - 1)
_BIG = 134217728.0  # 2^27
_BLOCK = 1 << 16
_LCG = 69069
_MASK32 = 0xFFFFFFFF
_MT_N = 624

# Algorithm SA: q[k] = sum_{i=1}^{k+1} (ln 2)^i / i!, k = 0..15; the last is 1 (the series
# sums to e^(ln 2) - 1 = 1).
_SA_Q: list[float] = []
_term, _acc = 1.0, 0.0
for _i in range(1, 16):
    _term *= math.log(2.0) / _i
    _acc += _term
    _SA_Q.append(_acc)
_SA_Q.append(1.0)
_LN2 = _SA_Q[0]

# Algorithm AS 241 (Wichura 1988, Applied Statistics 37:477-484), PPND16: the normal quantile
# as rational functions in three ranges; the coefficients as published (R's qnorm uses it).
_AS241_A = (3.3871328727963666080e0, 1.3314166789178437745e2, 1.9715909503065514427e3,
            1.3731693765509461125e4, 4.5921953931549871457e4, 6.7265770927008700853e4,
            3.3430575583588128105e4, 2.5090809287301226727e3)
_AS241_B = (1.0, 4.2313330701600911252e1, 6.8718700749205790830e2, 5.3941960214247511077e3,
            2.1213794301586595867e4, 3.9307895800092710610e4, 2.8729085735721942674e4,
            5.2264952788528545610e3)
_AS241_C = (1.42343711074968357734e0, 4.63033784615654529590e0, 5.76949722146069140550e0,
            3.64784832476320460504e0, 1.27045825245236838258e0, 2.41780725177450611770e-1,
            2.27238449892691845833e-2, 7.74545014278341407640e-4)
_AS241_D = (1.0, 2.05319162663775882187e0, 1.67638483018380384940e0, 6.89767334985100004550e-1,
            1.48103976427480074590e-1, 1.51986665636164571966e-2, 5.47593808499534494600e-4,
            1.05075007164441684324e-9)
_AS241_E = (6.65790464350110377720e0, 5.46378491116411436990e0, 1.78482653991729133580e0,
            2.96560571828504891230e-1, 2.65321895265761230930e-2, 1.24266094738807843860e-3,
            2.71155556874348757815e-5, 2.01033439929228813265e-7)
_AS241_F = (1.0, 5.99832206555887937690e-1, 1.36929880922735805310e-1,
            1.48753612908506148525e-2, 7.86869131145613259100e-4, 1.84631831751005468180e-5,
            1.42151175831644588870e-7, 2.04426310338993978564e-15)


def _horner(coef: tuple[float, ...], r: NDArray[np.float64]) -> NDArray[np.float64]:
    """coef[0] + coef[1] r + ... + coef[7] r^7, from the highest power down."""
    acc = np.full_like(r, coef[-1])
    for c in coef[-2::-1]:
        acc = acc * r + c
    return acc


def qnorm(p: NDArray[np.float64]) -> NDArray[np.float64]:
    """Standard normal quantiles of ``p`` in (0, 1) by AS 241. The logarithms of the tails are
    taken with the C library's ``log`` (Python's :func:`math.log`), as R's qnorm takes them."""
    p = np.asarray(p, dtype=np.float64)
    q = p - 0.5
    out = np.empty_like(p)
    mid = np.abs(q) <= 0.425
    r = 0.180625 - q[mid] * q[mid]
    out[mid] = q[mid] * _horner(_AS241_A, r) / _horner(_AS241_B, r)
    tails = ~mid
    if tails.any():
        qt = q[tails]
        pt = np.where(qt < 0, p[tails], 1.0 - p[tails])
        rt = np.sqrt(-np.array([math.log(v) for v in pt.tolist()]))
        near = rt <= 5.0
        val = np.empty_like(rt)
        rn = rt[near] - 1.6
        val[near] = _horner(_AS241_C, rn) / _horner(_AS241_D, rn)
        rf = rt[~near] - 5.0
        val[~near] = _horner(_AS241_E, rf) / _horner(_AS241_F, rf)
        out[tails] = np.where(qt < 0, -val, val)
    return out


# Algorithm GD's constants (Ahrens and Dieter 1982).
_GD_Q = (0.04166669, 0.02083148, 0.00801191, 0.00144121, -7.388e-5, 2.4511e-4, 2.424e-4)
_GD_A = (0.3333333, -0.250003, 0.2000062, -0.1662921, 0.1423657, -0.1367177, 0.1233795)
_GD_SQRT32 = 5.656854
_GD_TAU1 = -0.71874483771719
_EXP_M1 = 0.36787944117144233  # exp(-1)


def seed_state(seed: int) -> NDArray[np.uint32]:
    """The 625 words ``.Random.seed[2:626]`` after ``set.seed(seed)`` (position, then state)."""
    if not isinstance(seed, int | np.integer) or not -(2**31) < int(seed) < 2**31:
        raise Invalid(A("seed_range"))
    s = int(seed) & _MASK32
    for _ in range(50):
        s = (_LCG * s + 1) & _MASK32
    words = np.empty(_MT_N + 1, dtype=np.uint32)
    for j in range(_MT_N + 1):
        s = (_LCG * s + 1) & _MASK32
        words[j] = s
    words[0] = _MT_N
    if not words[1:].any():  # an all-zero state cannot run; never produced by the LCG
        raise Invalid(A("seed_zero_state"))
    return words


def _quotient(t: float, s: float, s2: float, q0: float) -> float:
    """GD's log-quotient q(t) for the normal deviate t (steps 6 and 10)."""
    v = t / (s + s)
    if abs(v) <= 0.25:
        a1, a2, a3, a4, a5, a6, a7 = _GD_A
        return q0 + 0.5 * t * t * ((((((a7 * v + a6) * v + a5) * v + a4) * v + a3) * v + a2)
                                   * v + a1) * v
    return q0 - s * t + 0.25 * t * t + (s2 + s2) * math.log(1.0 + v)


class _GD:
    """Shape-dependent constants of algorithm GD."""

    __slots__ = ("b", "c", "d", "q0", "s", "s2", "si")

    def __init__(self, a: float) -> None:
        self.s2 = a - 0.5
        self.s = math.sqrt(self.s2)
        self.d = _GD_SQRT32 - self.s * 12.0
        r = 1.0 / a
        q1, q2, q3, q4, q5, q6, q7 = _GD_Q
        self.q0 = ((((((q7 * r + q6) * r + q5) * r + q4) * r + q3) * r + q2) * r + q1) * r
        s, s2 = self.s, self.s2
        if a <= 3.686:
            self.b = 0.463 + s + 0.178 * s2
            self.si = 1.235
            self.c = 0.195 / s - 0.079 + 0.16 * s
        elif a <= 13.022:
            self.b = 1.654 + 0.0076 * s2
            self.si = 1.68 / s + 0.275
            self.c = 0.062 / s + 0.024
        else:
            self.b = 1.77
            self.si = 0.75
            self.c = 0.1515 / s


class RRandom:
    """A stream of draws equal to R's after ``set.seed(seed)`` (default generator kinds)."""

    def __init__(self, seed: int) -> None:
        words = seed_state(seed)
        self._bitgen = np.random.MT19937()
        self._bitgen.state = {"bit_generator": "MT19937",
                              "state": {"key": words[1:].copy(), "pos": _MT_N}}
        self._u: list[float] = []
        self._z: list[float] = []  # _z[i]: the normal made from uniforms i and i + 1
        self._pos = 0
        self._gd: dict[float, _GD] = {}

    # -- blocks ---------------------------------------------------------------------------
    def _refill(self, need: int) -> None:
        """Make at least ``need`` uniforms (and the normals they start) available from _pos."""
        tail = self._u[self._pos:]
        count = max(_BLOCK, need + 1)
        raw = self._bitgen.random_raw(count).astype(np.float64) * _TWO_M32
        raw[raw <= 0.0] = _HALF_I2_32M1
        u = np.concatenate([np.asarray(tail, dtype=np.float64), raw])
        z = qnorm((np.floor(_BIG * u[:-1]) + u[1:]) / _BIG)
        self._u = u.tolist()
        self._z = z.tolist()
        self._pos = 0

    def _ensure(self, k: int) -> None:
        # normals need the uniform after them too: keep one spare
        if self._pos + k >= len(self._u):
            self._refill(k)

    # -- R's unif_rand, norm_rand, exp_rand ------------------------------------------------
    def unif_rand(self) -> float:
        self._ensure(1)
        v = self._u[self._pos]
        self._pos += 1
        return v

    def norm_rand(self) -> float:
        self._ensure(2)
        v = self._z[self._pos]
        self._pos += 2
        return v

    def exp_rand(self) -> float:
        """Algorithm SA (Ahrens and Dieter 1972)."""
        a = 0.0
        u = self.unif_rand()
        while u <= 0.0 or u >= 1.0:
            u = self.unif_rand()
        while True:
            u += u
            if u > 1.0:
                break
            a += _LN2
        u -= 1.0
        if u <= _LN2:
            return a + u
        i = 0
        umin = self.unif_rand()
        while True:
            ustar = self.unif_rand()
            if ustar < umin:
                umin = ustar
            i += 1
            if u <= _SA_Q[i]:
                break
        return a + umin * _LN2

    # -- vectors as R's r* functions give them --------------------------------------------
    def runif(self, n: int, lo: float = 0.0, hi: float = 1.0) -> NDArray[np.float64]:
        return np.array([lo + (hi - lo) * self.unif_rand() for _ in range(n)])

    def rnorm(self, n: int, mean: float = 0.0, sd: float = 1.0) -> NDArray[np.float64]:
        return np.array([mean + sd * self.norm_rand() for _ in range(n)])

    def rexp(self, n: int, rate: float = 1.0) -> NDArray[np.float64]:
        scale = 1.0 / rate
        return np.array([scale * self.exp_rand() for _ in range(n)])

    def rgamma(self, n: int, shape: float, scale: float = 1.0) -> NDArray[np.float64]:
        """``rgamma(n, shape, scale = scale)``."""
        if not (shape >= 0 and scale >= 0) or math.isnan(shape) or math.isnan(scale):
            raise Invalid(A("gamma_params"))
        if shape == 0 or scale == 0:
            return np.zeros(n)
        if math.isinf(shape) or math.isinf(scale):
            return np.full(n, math.inf)
        if shape < 1:
            return np.array([scale * self._gs(shape) for _ in range(n)])
        return self._gd_many(n, shape, scale)

    def gamma_one(self, shape: float, scale: float = 1.0) -> float:
        return float(self.rgamma(1, shape, scale)[0])

    # -- gamma algorithms ---------------------------------------------------------------------
    def _gs(self, a: float) -> float:
        """Algorithm GS (Ahrens and Dieter 1974), 0 < a < 1."""
        e = 1.0 + _EXP_M1 * a
        while True:
            p = e * self.unif_rand()
            if p >= 1.0:
                x = -math.log((e - p) / a)
                if self.exp_rand() >= (1.0 - a) * math.log(x):
                    return x
            else:
                x = math.exp(math.log(p) / a)
                if self.exp_rand() >= x:
                    return x

    def _gd_many(self, n: int, a: float, scale: float) -> NDArray[np.float64]:
        """Algorithm GD (Ahrens and Dieter 1982), a >= 1; the fast path inlined."""
        k = self._gd.get(a)
        if k is None:
            if len(self._gd) > 4096:
                self._gd.clear()
            k = self._gd[a] = _GD(a)
        s, d = k.s, k.d
        out = [0.0] * n
        for j in range(n):
            if self._pos + 3 >= len(self._u):
                self._refill(3)
            pos = self._pos
            t = self._z[pos]
            x = s + 0.5 * t
            if t >= 0.0:  # immediate acceptance
                self._pos = pos + 2
                out[j] = scale * (x * x)
                continue
            u = self._u[pos + 2]
            self._pos = pos + 3
            if d * u <= t * t * t:  # squeeze acceptance
                out[j] = scale * (x * x)
                continue
            out[j] = self._gd_rest(k, t, x, u, scale)
        return np.array(out)

    def _gd_rest(self, k: _GD, t: float, x: float, u: float, scale: float) -> float:
        """GD from the quotient test on (steps 5-11). The products are formed in the order
        that gives R's last bits: scale * (x * x) on acceptance of the normal deviate,
        (scale * x) * x on acceptance of a Laplace proposal."""
        s, s2, q0 = k.s, k.s2, k.q0
        if x > 0.0 and math.log(1.0 - u) <= _quotient(t, s, s2, q0):
            return scale * (x * x)
        while True:  # double-exponential (Laplace) proposals
            e = self.exp_rand()
            u = self.unif_rand()
            u = u + u - 1.0
            t = k.b - k.si * e if u < 0.0 else k.b + k.si * e
            if t < _GD_TAU1:
                continue
            q = _quotient(t, s, s2, q0)
            if q > 0.0 and k.c * abs(u) <= math.expm1(q) * math.exp(e - 0.5 * t * t):
                break
        x = s + 0.5 * t
        return scale * x * x
