"""Density kernels: profiles, normalising constants in any dimension, samplers.

A density kernel here is radial: ``K_h(u) = k(|u| / h) / (h^d C_d)`` with a unit
profile ``k`` (``k(0) = 1``) and ``C_d = int_{R^d} k(|u|) du``. The profiles and the
bandwidth convention match :class:`sklearn.neighbors.KernelDensity` for the kernels the
two share:

==============  ==============================  ====================================
name            unit profile ``k(r)``           ``C_d``
==============  ==============================  ====================================
gaussian        ``exp(-r^2 / 2)``               ``(2 pi)^(d/2)``
tophat          ``1 if r < 1``                  ``V_d = pi^(d/2) / Gamma(d/2 + 1)``
epanechnikov    ``1 - r^2`` on ``r < 1``        ``2 V_d / (d + 2)``
exponential     ``exp(-r)``                     ``S_d Gamma(d)``
linear          ``1 - r`` on ``r < 1``          ``V_d / (d + 1)``
cosine          ``cos(pi r / 2)`` on ``r < 1``  ``S_d int_0^1 cos(pi r/2) r^(d-1) dr``
cauchy          ``(1 + r^2)^(-(d + 1) / 2)``    ``pi^((d+1)/2) / Gamma((d+1)/2)``
matern          Matern of order ``nu``          ``(2 sqrt(pi))^d Gamma(nu + d/2) /
                (length scale 1)                (Gamma(nu) (2 nu)^(d/2))``
==============  ==============================  ====================================

with ``S_d = 2 pi^(d/2) / Gamma(d/2)`` the area of the unit sphere in ``R^d``. The
Cauchy kernel is the multivariate Cauchy (Student t with one degree of freedom): the
profile ``1 / (1 + r^2)`` is integrable only for ``d = 1``, so the exponent grows with
``d``. Everything is kept in log space so that ``d = 500`` is as exact as ``d = 1``.

Every kernel can be sampled: a radial density is a uniform direction times a radius
with density ``k(r) r^(d-1) / (S_d^-1 C_d)``; the radius laws are Beta, Gamma or
scale mixtures of normals (see :func:`sample_unit`).
"""

from __future__ import annotations

import numpy as np
from scipy.special import gammaln

from ..kernels import (
    Cosine,
    Epanechnikov,
    Gaussian,
    Laplacian,
    Matern,
    RationalQuadratic,
    Tophat,
    Triangular,
)

#: Kernels :class:`~kernlearn.density.KernelDensity` accepts (aliases resolved).
DENSITY_KERNELS = (
    "gaussian",
    "epanechnikov",
    "exponential",
    "tophat",
    "linear",
    "cosine",
    "cauchy",
    "matern",
)
ALIASES = {"laplacian": "exponential", "triangular": "linear", "normal": "gaussian"}
#: Kernels with compact support (zero beyond r = 1).
COMPACT = frozenset({"epanechnikov", "tophat", "linear", "cosine"})
#: Kernels shared with scikit-learn's KernelDensity, under the same names.
SKLEARN_SHARED = (
    "gaussian",
    "tophat",
    "epanechnikov",
    "exponential",
    "linear",
    "cosine",
)


def canonical(name: str) -> str:
    """The canonical kernel name, or a ValueError that lists the choices."""
    if not isinstance(name, str):
        raise ValueError(
            f"kernel must be a string, one of {DENSITY_KERNELS}, got {name!r}."
        )
    key = ALIASES.get(name.lower(), name.lower())
    if key not in DENSITY_KERNELS:
        raise ValueError(f"kernel must be one of {DENSITY_KERNELS}, got {name!r}.")
    return key


def _log_sphere_area(d: int) -> float:
    return np.log(2.0) + 0.5 * d * np.log(np.pi) - gammaln(0.5 * d)


def _log_ball_volume(d: int) -> float:
    return 0.5 * d * np.log(np.pi) - gammaln(0.5 * d + 1.0)


def _log_cosine_radial_integral(d: int) -> float:
    """``log int_0^1 cos(pi r / 2) r^(d-1) dr``, stable for every ``d``.

    With ``s = 1 - r`` the integral is ``sum_k (-1)^k (pi/2)^(2k+1) B(2k+2, d) /
    (2k+1)!`` = ``sum_k (-1)^k (pi/2)^(2k+1) / (d (d+1) ... (d+2k+1))``: terms shrink
    at least as fast as ``(pi/2)^2 / ((d+2k+2)(d+2k+3))``, without cancellation for
    large ``d`` (alternating with a ratio below 0.21 for ``d = 1``).
    """
    a = 0.5 * np.pi
    term = a / (d * (d + 1.0))
    total = term
    for k in range(1, 60):
        term *= -(a * a) / ((d + 2.0 * k) * (d + 2.0 * k + 1.0))
        total += term
        if abs(term) < 1e-18 * abs(total):
            break
    return float(np.log(total))


def log_normaliser(name: str, d: int, nu: float = 1.5) -> float:
    """``log C_d``: the log of the integral of the unit profile over ``R^d``."""
    if name == "gaussian":
        return 0.5 * d * np.log(2.0 * np.pi)
    if name == "tophat":
        return _log_ball_volume(d)
    if name == "epanechnikov":
        return _log_ball_volume(d) + np.log(2.0 / (d + 2.0))
    if name == "linear":
        return _log_ball_volume(d) - np.log(d + 1.0)
    if name == "exponential":
        return _log_sphere_area(d) + gammaln(d)
    if name == "cosine":
        return _log_sphere_area(d) + _log_cosine_radial_integral(d)
    if name == "cauchy":
        return 0.5 * (d + 1) * np.log(np.pi) - gammaln(0.5 * (d + 1))
    if name == "matern":
        return (
            d * np.log(2.0 * np.sqrt(np.pi))
            + gammaln(nu + 0.5 * d)
            - gammaln(nu)
            - 0.5 * d * np.log(2.0 * nu)
        )
    raise ValueError(f"Unknown density kernel {name!r}.")  # pragma: no cover


def kernel_object(name: str, h: float, d: int, nu: float = 1.5):
    """A :mod:`kernlearn.kernels` object whose value is ``k(|x - y| / h)``.

    The backend primitives run it fused; the multivariate Cauchy is a rational
    quadratic with ``alpha = (d + 1) / 2`` and length scale ``h / sqrt(d + 1)``.
    """
    h = float(h)
    if name == "gaussian":
        return Gaussian(h)
    if name == "exponential":
        return Laplacian(h)
    if name == "tophat":
        return Tophat(h)
    if name == "epanechnikov":
        return Epanechnikov(h)
    if name == "linear":
        return Triangular(h)
    if name == "cosine":
        return Cosine(h)
    if name == "cauchy":
        return RationalQuadratic(h / np.sqrt(d + 1.0), alpha=0.5 * (d + 1.0))
    if name == "matern":
        return Matern(h, nu=nu)
    raise ValueError(f"Unknown density kernel {name!r}.")  # pragma: no cover


def log_unit_profile(name: str, s: np.ndarray, d: int, nu: float = 1.5) -> np.ndarray:
    """``log k(r)`` from ``s = r^2`` (``-inf`` outside a compact support)."""
    from ..backend._spec import log_profile

    spec = kernel_object(name, 1.0, d, nu)._engine_spec()
    if name == "cauchy":  # the spec's length scale is 1/sqrt(d+1): rescale s
        s = s * (d + 1.0)
    return log_profile(spec, np.asarray(s, dtype=np.float64))


def log_kernel_block(A, B, name: str, h: float, d: int, nu: float = 1.5):
    """Dense ``log k(|a - b| / h)`` for the rows of ``A`` against those of ``B``
    (squared distances from one GEMM, clamped at 0); for small blocks only."""
    s = np.sum(A * A, axis=1)[:, None] + np.sum(B * B, axis=1)[None, :]
    s = np.maximum(s - 2.0 * A @ B.T, 0.0) / (h * h)
    return log_unit_profile(name, s, d, nu)


def support_radius(name: str, d: int, nu: float = 1.5, tail: float = 1e-12) -> float:
    """Radius (in bandwidths) beyond which the kernel's mass fraction is below
    ``tail`` (1 for compact kernels; ``inf`` for the Cauchy)."""
    if name in COMPACT:
        return 1.0
    if name == "cauchy":
        return np.inf
    from scipy import stats

    if name == "gaussian":
        return float(np.sqrt(stats.chi2.isf(tail, d)))
    if name == "exponential":
        return float(stats.gamma.isf(tail, d))
    # Matern: |u|^2 = W |z|^2 with W ~ Gamma(nu + d/2, 1/nu); bound each factor.
    w = stats.gamma.isf(tail / 2, nu + 0.5 * d, scale=1.0 / nu)
    z2 = stats.chi2.isf(tail / 2, d)
    return float(np.sqrt(w * z2))


def _directions(rng, n: int, d: int) -> np.ndarray:
    g = rng.standard_normal((n, d))
    norm = np.linalg.norm(g, axis=1, keepdims=True)
    norm[norm == 0] = 1.0  # probability zero; keeps the output finite
    return g / norm


def sample_unit(name: str, n: int, d: int, rng, nu: float = 1.5) -> np.ndarray:
    """``n`` draws from the unit-bandwidth density kernel in ``R^d``.

    Radius laws: tophat ``U^(1/d)``; epanechnikov ``sqrt(Beta(d/2, 2))``; linear
    ``Beta(d, 2)``; exponential ``Gamma(d)``; cosine by rejection from
    ``Beta(d, 2)`` (``cos(pi r / 2) <= (pi / 2)(1 - r)``, acceptance >= 2/pi).
    The Gaussian is ``N(0, I)``; the Cauchy is ``z / |g|`` with ``g ~ N(0, 1)``
    (Student t, one degree of freedom); the Matern is ``sqrt(W) z`` with
    ``W ~ Gamma(nu + d/2, scale=1/nu)``, a Gaussian scale mixture whose density is
    the Matern profile.
    """
    if name == "gaussian":
        return rng.standard_normal((n, d))
    if name == "cauchy":
        g = np.abs(rng.standard_normal((n, 1)))
        g[g == 0] = np.finfo(float).tiny
        return rng.standard_normal((n, d)) / g
    if name == "matern":
        w = rng.gamma(nu + 0.5 * d, 1.0 / nu, size=(n, 1))
        return np.sqrt(w) * rng.standard_normal((n, d))
    if name == "tophat":
        r = rng.random(n) ** (1.0 / d)
    elif name == "epanechnikov":
        r = np.sqrt(rng.beta(0.5 * d, 2.0, size=n))
    elif name == "linear":
        r = rng.beta(d, 2.0, size=n)
    elif name == "exponential":
        r = rng.gamma(d, 1.0, size=n)
    elif name == "cosine":
        r = np.empty(n)
        todo = np.arange(n)
        while todo.size:
            prop = rng.beta(d, 2.0, size=todo.size)
            x = 0.5 * np.pi * (1.0 - prop)
            ratio = np.where(x > 0, np.sin(x) / np.where(x > 0, x, 1.0), 1.0)
            ok = rng.random(todo.size) < ratio
            r[todo[ok]] = prop[ok]
            todo = todo[~ok]
    else:  # pragma: no cover
        raise ValueError(f"Unknown density kernel {name!r}.")
    return r[:, None] * _directions(rng, n, d)


def unit_second_moment(name: str, d: int, nu: float = 1.5) -> float:
    """``E|u|^2`` under the unit kernel (``inf`` for the Cauchy): the kernel's
    covariance is ``E|u|^2 / d`` times the identity."""
    if name == "gaussian":
        return float(d)
    if name == "tophat":
        return d / (d + 2.0)
    if name == "epanechnikov":  # r^2 ~ Beta(d/2, 2)
        return (0.5 * d) / (0.5 * d + 2.0)
    if name == "linear":  # r ~ Beta(d, 2): E r^2 = d (d+1) / ((d+2)(d+3))
        return d * (d + 1.0) / ((d + 2.0) * (d + 3.0))
    if name == "exponential":  # r ~ Gamma(d)
        return d * (d + 1.0)
    if name == "matern":  # E W * d
        return (nu + 0.5 * d) / nu * d
    if name == "cauchy":
        return np.inf
    if name == "cosine":
        from scipy.integrate import quad

        num = quad(lambda r: np.cos(0.5 * np.pi * r) * r ** (d + 1), 0, 1)[0]
        den = quad(lambda r: np.cos(0.5 * np.pi * r) * r ** (d - 1), 0, 1)[0]
        return num / den
    raise ValueError(f"Unknown density kernel {name!r}.")  # pragma: no cover
