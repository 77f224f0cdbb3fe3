"""Lattice noise for differentially private releases, safe against float attacks.

Every privately released statistic in :mod:`kernlearn.privacy` goes through
:func:`release`. Textbook Laplace noise drawn by inverting its CDF on doubles leaks
the input through the low-order bits of the output: the set of doubles that
``x + Laplace`` can produce depends on ``x``, and Mironov (2012) recovers records
from it. Here no continuous noise is ever formed. Each rescaled statistic
``T / w`` is rounded (exactly) to a power-of-two grid ``g``, integer noise - a
discrete Laplace or discrete Gaussian variable - is added on that lattice, and the
result is scaled back, ``w * g * (k + Z)``: a deterministic function of the integer
``k + Z`` and public quantities, so the floating-point representation carries
nothing beyond what the integer mechanism releases. The rounding moves every
coordinate by at most half a grid step, which is paid for by inflating the
sensitivity by ``g`` per touched coordinate (at most 1/1024 relative, by the
choice of ``g``).

References
----------
.. [1] I. Mironov, "On significance of the least significant bits for differential
   privacy", ACM CCS 2012.
.. [2] C. L. Canonne, G. Kamath, T. Steinke, "The discrete Gaussian for
   differential privacy", NeurIPS 2020.
.. [3] M. Bun, T. Steinke, "Concentrated differential privacy: simplifications,
   extensions, and lower bounds", TCC 2016.
.. [4] J. R. Shewchuk, "Adaptive precision floating-point arithmetic and fast
   robust geometric predicates", Discrete Comput. Geom. 18, 1997.
"""

import math
import numbers
import secrets
from dataclasses import dataclass

import numpy as np

from .._config import get_config
from ._base import Sensitivity

DISTRIBUTIONS = ("discrete_laplace", "discrete_gaussian")

# Relative inflation of the sensitivity paid for rounding is at most 2**-_GRID_BITS.
_GRID_BITS = 10
# |T / w / g| must stay below this: k, k +- 1/2 and the released lattice values stay
# exactly representable in float64 (53-bit significand) with room for the noise.
_MAX_LATTICE = 2.0**50
# Veltkamp's splitting constant 2**27 + 1 (Dekker's exact product in float64).
_SPLITTER = 134217729.0


# --------------------------------------------------------------------- randomness


def secure_generator(random_state=None) -> np.random.Generator:
    """A numpy Generator for privacy noise, securely seeded by default.

    Parameters
    ----------
    random_state : None, int or numpy.random.Generator, default=None
        ``None`` (the only choice that protects privacy): a fresh generator per
        call, seeded with 128 bits from the operating system's secure source
        (:func:`secrets.randbits`). An ``int`` seeds a deterministic generator and a
        ``Generator`` is used as given: both are for tests and reproducible
        experiments only - whoever knows or can guess the seed can subtract the
        noise, which forfeits the privacy guarantee.

    Returns
    -------
    numpy.random.Generator
        The generator (PCG64 unless a Generator was passed in).

    Notes
    -----
    The seed is cryptographically random, but PCG64 is a statistical generator,
    not a cryptographic one: recovering its state from released values is not
    known to be practical (the noise is only ever seen added to the data), but it
    is not ruled out by a proof either.
    """
    if random_state is None:
        return np.random.default_rng(secrets.randbits(128))
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, numbers.Integral) and not isinstance(
        random_state, bool
    ):
        if random_state < 0:
            raise ValueError(
                f"random_state must be a non-negative int, got {random_state}; "
                "pass None for secure noise."
            )
        return np.random.default_rng(int(random_state))
    raise ValueError(
        "random_state must be None (secure seed), an int or a numpy Generator, got "
        f"{random_state!r} of type {type(random_state).__name__}; pass None for "
        "private releases."
    )


def _check_positive_scale(value, name):
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not math.isfinite(value)
        or value <= 0
    ):
        raise ValueError(f"{name} must be a positive finite number, got {value!r}.")
    return float(value)


def sample_discrete_laplace(t, size, rng) -> np.ndarray:
    """Draw from the discrete Laplace distribution ``P(k) ~ exp(-|k| / t)``.

    The difference of two independent geometric variables with success
    probability ``p = 1 - exp(-1/t)`` has exactly this law on the integers
    (Inusah & Kozubowski 2006): both are drawn with
    :meth:`numpy.random.Generator.geometric`, so the law is exact up to the
    generator's own floating-point sampling of the geometric distribution.

    Parameters
    ----------
    t : float
        Scale, ``t > 0``; the variance is ``2 q / (1 - q)**2`` with
        ``q = exp(-1/t)``.
    size : int or tuple of int
        Output shape.
    rng : numpy.random.Generator
        Source of randomness (see :func:`secure_generator`).

    Returns
    -------
    numpy.ndarray of int64
        Samples of shape ``size``.

    Examples
    --------
    >>> z = sample_discrete_laplace(2.0, 100_000, secure_generator(0))
    >>> q = np.exp(-1 / 2.0)
    >>> z.dtype, bool(abs(z.var() / (2 * q / (1 - q) ** 2) - 1) < 0.03)
    (dtype('int64'), True)
    """
    t = _check_positive_scale(t, "t")
    p = -math.expm1(-1.0 / t)
    if not p > 0.0:
        raise ValueError(
            f"t={t!r} is too large for a float64 geometric sampler; use a smaller "
            "noise scale (larger epsilon or a coarser grid)."
        )
    g1 = rng.geometric(p, size=size)
    g2 = rng.geometric(p, size=size)
    return (g1 - g2).astype(np.int64, copy=False)


def sample_discrete_gaussian(sigma, size, rng) -> np.ndarray:
    """Draw from the discrete Gaussian ``P(k) ~ exp(-k**2 / (2 sigma**2))``.

    Rejection sampling from a discrete Laplace proposal, Algorithm 3 of Canonne,
    Kamath and Steinke (2020): propose ``Y ~ DLap(t)`` with
    ``t = floor(sigma) + 1`` and accept with probability
    ``exp(-(|Y| - sigma**2 / t)**2 / (2 sigma**2))``. Proposals are drawn in
    vectorised batches until enough are accepted (the acceptance rate lies
    between 0.44 and 0.77 for every ``sigma``). The acceptance test compares a
    uniform double with a double exponential, so the law is exact up to floating
    point.

    Parameters
    ----------
    sigma : float
        Scale, ``sigma > 0``; the variance is slightly below ``sigma**2``.
    size : int or tuple of int
        Output shape.
    rng : numpy.random.Generator
        Source of randomness (see :func:`secure_generator`).

    Returns
    -------
    numpy.ndarray of int64
        Samples of shape ``size``.
    """
    sigma = _check_positive_scale(sigma, "sigma")
    shape = (size,) if isinstance(size, numbers.Integral) else tuple(size)
    n = math.prod(shape)
    t = math.floor(sigma) + 1.0
    centre = sigma * sigma / t
    two_var = 2.0 * sigma * sigma
    out = np.empty(n, dtype=np.int64)
    filled = 0
    while filled < n:
        need = n - filled
        # Acceptance > 0.44: usually one pass; batches capped to bound memory.
        m = min(5 * need // 2 + 16, 1 << 20)
        y = sample_discrete_laplace(t, m, rng)
        u = rng.random(m)
        accept = u < np.exp(-((np.abs(y) - centre) ** 2) / two_var)
        got = y[accept][:need]
        out[filled : filled + got.size] = got
        filled += got.size
    return out.reshape(shape)


# ------------------------------------------------------------------ calibration


def gaussian_sigma(l2, epsilon, delta) -> float:
    """Scale of discrete Gaussian noise giving ``(epsilon, delta)``-DP.

    Derivation. Adding independent discrete Gaussian noise of scale ``sigma`` to
    every coordinate of an integer vector whose l2 sensitivity is ``l2`` is
    ``rho``-zCDP with ``rho = l2**2 / (2 sigma**2)`` (Canonne, Kamath, Steinke
    2020, Theorem 14, the multivariate discrete Gaussian). ``rho``-zCDP implies
    ``(rho + 2 sqrt(rho L), delta)``-DP for every ``delta > 0``, where
    ``L = ln(1/delta)`` (Bun & Steinke 2016, Proposition 1.3). The left side
    increases with ``rho``; the largest admissible ``rho`` solves
    ``rho + 2 sqrt(rho L) = epsilon``, i.e. ``(sqrt(rho) + sqrt(L))**2 =
    epsilon + L``, so ``sqrt(rho) = sqrt(L + epsilon) - sqrt(L)``, evaluated
    without cancellation as ``epsilon / (sqrt(L + epsilon) + sqrt(L))``. Then
    ``sigma = l2 / sqrt(2 rho)``.

    Parameters
    ----------
    l2 : float
        l2 sensitivity, > 0 (on the integer lattice when ``sigma`` is used there;
        the formula is scale-free).
    epsilon : float
        Target epsilon, > 0.
    delta : float
        Target delta, ``0 < delta < 1``.

    Returns
    -------
    float
        The noise scale ``sigma``.
    """
    l2 = _check_positive_scale(l2, "l2")
    epsilon = _check_positive_scale(epsilon, "epsilon")
    if isinstance(delta, bool) or not isinstance(delta, numbers.Real):
        raise ValueError(f"delta must be a number in (0, 1), got {delta!r}.")
    if not 0.0 < delta < 1.0:
        raise ValueError(f"delta must lie in (0, 1) for Gaussian noise, got {delta}.")
    log_inv_delta = -math.log(delta)
    sqrt_rho = epsilon / (math.sqrt(log_inv_delta + epsilon) + math.sqrt(log_inv_delta))
    return l2 / (math.sqrt(2.0) * sqrt_rho)


def noise_grid(sensitivity, norm) -> float:
    """Power-of-two granularity of the lattice the statistics are rounded to.

    ``g = 2**floor(log2(l1 / (n_touched * 2**10)))`` for ``norm="l1"`` and
    ``g = 2**floor(log2(l2 / (sqrt(n_touched) * 2**10)))`` for ``norm="l2"``.
    Rounding moves each of the ``n_touched`` coordinates that one record can
    change by at most one grid step between neighbours, adding ``g * n_touched``
    to the l1 sensitivity (``g * sqrt(n_touched)`` to the l2 one): at most
    ``1/1024`` of it. A power of two makes ``T / g`` and ``g * k`` exact.

    Parameters
    ----------
    sensitivity : Sensitivity
        The joint sensitivity of the rescaled statistics.
    norm : {"l1", "l2"}
        ``"l1"`` for Laplace noise (pure DP), ``"l2"`` for Gaussian noise.

    Returns
    -------
    float
        The granularity ``g`` (an exact power of two).
    """
    if not isinstance(sensitivity, Sensitivity):
        raise ValueError(
            f"sensitivity must be a Sensitivity, got {type(sensitivity).__name__}."
        )
    n = sensitivity.n_touched
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
        raise ValueError(
            f"sensitivity.n_touched must be a positive int, got {n!r}; a mechanism "
            "whose record changes nothing needs no noise."
        )
    if norm == "l1":
        value = _check_positive_scale(sensitivity.l1, "sensitivity.l1")
        spread = float(n)
    elif norm == "l2":
        value = _check_positive_scale(sensitivity.l2, "sensitivity.l2")
        spread = math.sqrt(n)
    else:
        raise ValueError(f'norm must be "l1" or "l2", got {norm!r}.')
    target = value / (spread * 2.0**_GRID_BITS)
    _, exponent = math.frexp(target)  # target = m * 2**exponent, 0.5 <= m < 1
    g = math.ldexp(1.0, exponent - 1)
    # Guard the 1/1024 promise against rounding in ``target`` next to a power of 2.
    while g * spread * 2.0**_GRID_BITS > value:
        g *= 0.5
    if g == 0.0 or not math.isfinite(g):
        raise ValueError(
            f"The sensitivity {value!r} gives no usable float64 grid; rescale the "
            "data so that sensitivities lie in a normal floating-point range."
        )
    return g


# ---------------------------------------------------------------- exact rounding


def _two_sum(a, b):
    """``a + b = s + err`` exactly (Knuth)."""
    s = a + b
    bb = s - a
    err = (a - (s - bb)) + (b - bb)
    return s, err


def _split(a):
    c = _SPLITTER * a
    hi = c - (c - a)
    return hi, a - hi


def _two_product(a, b):
    """``a * b = p + err`` exactly (Dekker), a nonoverlapping expansion."""
    p = a * b
    ahi, alo = _split(a)
    bhi, blo = _split(b)
    err = alo * blo - (((p - ahi * bhi) - alo * bhi) - ahi * blo)
    return p, err


def _sign_of_difference(x, h, f):
    """Exact sign of ``x - h * f`` for float arrays (no overflow or underflow).

    ``h * f = p + e`` exactly; adding ``x`` to the expansion ``(-e, -p)`` by
    Shewchuk's Grow-Expansion gives a nonoverlapping expansion ``c1, c2, c3`` of
    increasing magnitude summing to ``x - h * f`` exactly, whose sign is the sign
    of its largest nonzero component (Shewchuk 1997, Theorems 10 and 18).
    """
    p, e = _two_product(h, f)
    q1, c1 = _two_sum(x, -e)
    c3, c2 = _two_sum(q1, -p)
    sign = np.sign(c3)
    np.copyto(sign, np.sign(c2), where=sign == 0)
    np.copyto(sign, np.sign(c1), where=sign == 0)
    return sign


def _lattice_round(T, w, g, name):
    """``k = nearest integer to T / (w g)``, computed exactly, as int64.

    Writing ``w = f * 2**e`` with ``0.5 <= f < 1``, ``x = T * 2**-(e + log2 g)`` is
    exact (or, if it underflows, so tiny that ``k = 0`` either way) and
    ``T / (w g) = x / f``. The float quotient ``q = x / f`` is within a
    quarter of the true one (as ``|q| < 2**50``), so the nearest integer is
    ``rint(q)`` or a neighbour; which one follows from the exact signs of
    ``x - (rint(q) +- 1/2) f``. Ties stay at ``rint(q)``, which is still within
    1/2 of the exact quotient, all the proof in :func:`release` needs.
    """
    T = np.asarray(T, dtype=np.float64)
    wb = np.broadcast_to(w, T.shape)
    if not np.all(np.isfinite(T)):
        raise ValueError(
            f"Statistic {name!r} has non-finite values; check the data bounds "
            "(clipping) and the mechanism."
        )
    log2_g = math.frexp(g)[1] - 1
    t_flat = T.reshape(-1)
    w_flat = wb.reshape(-1)
    k = np.empty(t_flat.size, dtype=np.int64)
    # ~20 float64 temporaries per element: keep blocks to a few tens of MB.
    mib = min(float(get_config()["working_memory"]), 32.0)
    block = max(1024, int(mib * 2**20 / (8 * 20)))
    for start in range(0, t_flat.size, block):
        sl = slice(start, start + block)
        f, e = np.frexp(w_flat[sl])
        with np.errstate(over="ignore", invalid="ignore"):
            # Overflow to inf is caught just below as out of range.
            x = np.ldexp(t_flat[sl], -(e + log2_g))
            q = x / f
        bad = ~(np.abs(q) < _MAX_LATTICE)
        if np.any(bad):
            raise ValueError(
                f"Statistic {name!r} has |T / w / g| >= 2**50 (largest "
                f"{np.max(np.abs(q))!r} grid steps of g={g!r}): the statistics "
                "exceed what the declared sensitivity allows; check the data bounds "
                "(clipping) and the mechanism's sensitivity."
            )
        k0 = np.rint(q)
        if np.all(f == 0.5):
            # w is a power of two (as are the usual unit weights): q = 2 x is
            # exact, so rint(q) already is the exact nearest integer.
            k[sl] = k0.astype(np.int64)
            continue
        up = _sign_of_difference(x, k0 + 0.5, f) > 0
        down = _sign_of_difference(x, k0 - 0.5, f) < 0
        k[sl] = k0.astype(np.int64) + up - down
    return k.reshape(T.shape)


def _as_weights(w, shape, name):
    w = np.asarray(w, dtype=np.float64)
    try:
        target = np.broadcast_shapes(w.shape, shape)
    except ValueError:
        target = None
    if target != tuple(shape):
        raise ValueError(
            f"The noise weights of {name!r} (shape {w.shape}) do not broadcast to "
            f"the statistic's shape {tuple(shape)}; fix the mechanism's "
            "noise_weights()."
        )
    if not np.all(np.isfinite(w) & (w > 0)):
        raise ValueError(
            f"The noise weights of {name!r} must be positive and finite; fix the "
            "mechanism's noise_weights()."
        )
    return w


# ---------------------------------------------------------------------- release


def _discrete_laplace_variance(t):
    q = math.exp(-1.0 / t)
    return 2.0 * q / (-math.expm1(-1.0 / t)) ** 2


def _discrete_gaussian_variance(sigma):
    # Beyond sigma = 10 the lattice sum equals sigma**2 to a relative
    # exp(-2 pi**2 sigma**2), far below double precision (Poisson summation).
    if sigma >= 10.0:
        return sigma * sigma
    k = np.arange(1, math.ceil(40.0 * sigma) + 2, dtype=np.float64)
    mass = np.exp(-(k * k) / (2.0 * sigma * sigma))
    return float(2.0 * np.sum(k * k * mass) / (1.0 + 2.0 * np.sum(mass)))


@dataclass(frozen=True)
class NoiseRecord:
    """What noise one statistic of a release received.

    Attributes
    ----------
    name : str
        The statistic.
    distribution : {"discrete_laplace", "discrete_gaussian"}
        The law of the integer noise ``Z`` on the lattice.
    scale : float
        In units of the rescaled statistic ``T / w``: the Laplace scale
        ``b = l1' / epsilon`` or the Gaussian ``sigma``; the lattice noise has
        scale ``scale / granularity`` and coordinate ``i`` of the released ``T``
        carries noise of scale ``w_i * scale``.
    granularity : float
        The grid ``g`` (a power of two) the rescaled statistic was rounded to.
    sensitivity : float
        The inflated joint sensitivity, ``l1' = l1 + g n_touched`` (Laplace) or
        ``l2' = l2 + g sqrt(n_touched)`` (Gaussian).
    epsilon, delta : float
        The guarantee of the whole release (all its statistics together).
    shape : tuple of int
        Shape of the statistic.

    Examples
    --------
    A fitted :class:`~kernlearn.privacy.PrivateSimilaritySum` lists its records
    in ``noise_``:

    >>> import numpy as np
    >>> from kernlearn.privacy import PrivateSimilaritySum
    >>> X = np.random.default_rng(0).uniform(0, 1, size=(1000, 2))
    >>> est = PrivateSimilaritySum(bandwidth=0.1, epsilon=1.0, bounds=(0, 1)).fit(X)
    >>> record = est.noise_[0]
    >>> print(record.distribution, record.epsilon, record.delta)
    discrete_laplace 1.0 0.0
    """

    name: str
    distribution: str
    scale: float
    granularity: float
    sensitivity: float
    epsilon: float
    delta: float
    shape: tuple

    @property
    def variance(self) -> float:
        """Exact variance of the noise on ``T / w`` (multiply by ``w**2``)."""
        lattice = self.scale / self.granularity
        if self.distribution == "discrete_laplace":
            var = _discrete_laplace_variance(lattice)
        else:
            var = _discrete_gaussian_variance(lattice)
        return var * self.granularity**2

    def __str__(self):
        g_exp = math.frexp(self.granularity)[1] - 1
        kind, norm = (
            ("Laplace b", "l1'")
            if self.distribution == "discrete_laplace"
            else ("Gaussian sigma", "l2'")
        )
        return (
            f"{self.name} {self.shape}: {self.distribution}, {kind}={self.scale:.6g}"
            f" (std {math.sqrt(self.variance):.6g} x w) on grid 2^{g_exp}, "
            f"{norm}={self.sensitivity:.6g}, "
            f"epsilon={self.epsilon:g}, delta={self.delta:g} (whole release)"
        )


def release(
    stats, weights, sensitivity, *, epsilon, delta=0.0, rng, return_noise=False
):
    """Release statistics with discrete noise on a power-of-two lattice.

    Each statistic ``T`` with noise weights ``w`` is released as
    ``w * g * (k + Z)`` with ``k = round(T / (w g))`` (exact nearest integer) and
    integer noise ``Z``:

    * ``delta == 0`` (pure DP): ``Z ~ DLap(t)`` with ``t = l1' / (epsilon g)``,
      ``l1' = l1 + g n_touched``;
    * ``delta > 0``: ``Z ~ DGauss(sigma / g)`` with
      ``sigma = gaussian_sigma(l2', epsilon, delta)``, ``l2' = l2 +
      g sqrt(n_touched)``.

    All statistics together form one release: one grid, one noise scale, one
    ``(epsilon, delta)``, against their joint sensitivity.

    Why this is private. Let ``a, b`` be the rescaled statistics ``T / w`` of two
    neighbouring datasets, all arrays concatenated, and ``k, k'`` their lattice
    points. The rounding is exact, so ``|k_i - a_i / g| <= 1/2``. Coordinates with
    ``a_i = b_i`` (bitwise) round identically; on each of the at most
    ``n_touched`` others ``|k_i - k'_i| <= |a_i - b_i| / g + 1``. Hence
    ``||k - k'||_1 <= l1 / g + n_touched = l1' / g``, and likewise
    ``||k - k'||_2 <= l2 / g + sqrt(n_touched) = l2' / g`` (triangle inequality;
    the rounding errors differ by at most 1 on at most ``n_touched``
    coordinates). For every output ``o`` on the lattice,
    ``P[k + Z = o] / P[k' + Z = o] = exp((||o - k'||_1 - ||o - k||_1) / t) <=
    exp(||k - k'||_1 / t) <= exp(l1' / (g t)) = exp(epsilon)``: pure
    epsilon-DP. In the Gaussian case the lattice noise ``sigma / g`` against
    lattice sensitivity ``l2' / g`` is ``l2'**2 / (2 sigma**2)``-zCDP, which
    :func:`gaussian_sigma` converts to ``(epsilon, delta)``-DP. The released
    floats are computed from the integer ``k + Z`` and the public ``w, g`` alone
    (post-processing), so their low-order bits reveal nothing more (Mironov 2012).

    Parameters
    ----------
    stats : dict of str to array-like
        Exact statistics ``T`` (float arrays), in the order their sensitivity was
        derived.
    weights : dict of str to float or array-like
        Public noise weights ``w > 0`` broadcastable to each statistic;
        ``weights.get(name, 1.0)``.
    sensitivity : Sensitivity
        Joint sensitivity of the rescaled statistics ``T / w``.
    epsilon : float
        Privacy parameter of the whole release, finite and > 0.
    delta : float, default=0.0
        ``0`` for pure DP (discrete Laplace), ``0 < delta < 1`` for discrete
        Gaussian noise.
    rng : None, int or numpy.random.Generator
        ``None`` for a securely seeded generator (see :func:`secure_generator`;
        an int or Generator forfeits the privacy of the noise).
    return_noise : bool, default=False
        Also return the integer noise ``Z`` of each statistic (tests, audits).

    Returns
    -------
    released : dict of str to numpy.ndarray
        The noisy statistics, float64, each of its statistic's shape.
    records : list of NoiseRecord
        One per statistic, in the dict's order.
    noise : dict of str to numpy.ndarray
        Only with ``return_noise``: the int64 lattice noise ``Z``.

    Raises
    ------
    ValueError
        On invalid parameters, on a non-finite statistic, or when ``|T / w / g|``
        reaches ``2**50`` (the data exceed their declared bounds).
    """
    if (
        isinstance(epsilon, bool)
        or not isinstance(epsilon, numbers.Real)
        or not math.isfinite(epsilon)
        or epsilon <= 0
    ):
        raise ValueError(f"epsilon must be a positive finite number, got {epsilon!r}.")
    if isinstance(delta, bool) or not isinstance(delta, numbers.Real):
        raise ValueError(f"delta must be a number in [0, 1), got {delta!r}.")
    if not 0.0 <= delta < 1.0:
        raise ValueError(
            f"delta must lie in [0, 1), got {delta!r}; use 0 for pure DP or a small "
            "value such as 1e-6 for Gaussian noise."
        )
    if not isinstance(stats, dict) or not isinstance(weights, dict):
        raise ValueError("stats and weights must be dicts keyed by statistic name.")
    unknown = set(weights) - set(stats)
    if unknown:
        raise ValueError(
            f"weights name statistics that are not released: {sorted(unknown)}; "
            "fix the mechanism's noise_weights()."
        )
    epsilon, delta = float(epsilon), float(delta)
    rng = secure_generator(rng)
    n_touched = sensitivity.n_touched if isinstance(sensitivity, Sensitivity) else 0
    if delta == 0.0:
        g = noise_grid(sensitivity, "l1")
        inflated = float(sensitivity.l1) + g * n_touched
        distribution = "discrete_laplace"
        scale = inflated / epsilon
    else:
        g = noise_grid(sensitivity, "l2")
        inflated = float(sensitivity.l2) + g * math.sqrt(n_touched)
        distribution = "discrete_gaussian"
        scale = gaussian_sigma(inflated, epsilon, delta)
    lattice_scale = scale / g

    # Round everything before drawing any noise: a bad statistic fails the whole
    # release without consuming randomness.
    lattice, wts = {}, {}
    for name, value in stats.items():
        T = np.asarray(value, dtype=np.float64)
        wts[name] = _as_weights(weights.get(name, 1.0), T.shape, name)
        lattice[name] = _lattice_round(T, wts[name], g, name)

    released, records, noises = {}, [], {}
    for name, k in lattice.items():
        if distribution == "discrete_laplace":
            z = sample_discrete_laplace(lattice_scale, k.shape, rng)
        else:
            z = sample_discrete_gaussian(lattice_scale, k.shape, rng)
        if np.any(np.abs(z) >= _MAX_LATTICE):
            raise ValueError(
                f"The lattice noise scale {lattice_scale!r} is too large for exact "
                "float64 output; increase epsilon."
            )
        m = (k + z).astype(np.float64)
        released[name] = (m * g) * wts[name]  # exact m * g, one rounding by w
        noises[name] = z
        records.append(
            NoiseRecord(
                name=name,
                distribution=distribution,
                scale=scale,
                granularity=g,
                sensitivity=inflated,
                epsilon=epsilon,
                delta=delta,
                shape=tuple(k.shape),
            )
        )
    if return_noise:
        return released, records, noises
    return released, records
