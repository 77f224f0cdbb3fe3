"""Bandwidth selectors for kernel density estimation.

Every rule returns the bandwidth ``h`` of an isotropic kernel in the space where the
estimator's kernel is isotropic (the data space, or the whitened space when
``whiten=True``). Rules derived for the Gaussian kernel (Scott, Silverman, the
nearest-neighbour rule, the high-dimensional Gaussian reference) are carried over to
other kernels by matching the kernel's covariance ``E|u|^2 / d`` to the Gaussian's
(the Cauchy, with no variance, takes the Gaussian value). ``isj`` and ``loo_ml`` fit
the kernel at hand.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import logsumexp

from ..backend import kernel_logsumexp
from ._kernels import (
    kernel_object,
    log_kernel_block,
    log_unit_profile,
    unit_second_moment,
)
from ._regime import gaussian_thresholds

#: The selectors ``KernelDensity(bandwidth=...)`` accepts by name.
SELECTORS = ("scott", "silverman", "isj", "loo_ml", "nn", "gaussian_reference_hd")


def effective_n(w) -> float:
    """``(sum w)^2 / sum w^2``, the effective sample size (``n`` without weights)."""
    return float(w.sum() ** 2 / np.dot(w, w))


def weighted_covariance(Z, w):
    """Weighted covariance (weights normalised to sum 1, unbiased for frequencies
    in the ``n_eff`` sense)."""
    p = w / w.sum()
    mean = p @ Z
    C = (Z - mean).T @ ((Z - mean) * p[:, None])
    n_eff = effective_n(w)
    return C * (n_eff / (n_eff - 1.0)) if n_eff > 1 else C


def _weighted_quantile(x, w, q):
    order = np.argsort(x, kind="stable")
    cw = np.cumsum(w[order])
    cw /= cw[-1]
    return np.interp(q, cw - 0.5 * w[order] / w.sum(), x[order])


def spread(Z, w) -> float:
    """Robust scale: root-mean-square over features of ``min(std, IQR / 1.349)``
    (Silverman 1986), the std alone where the IQR is zero. Quantiles are the
    weighted Hazen quantiles (``numpy.percentile(method="hazen")`` without
    weights); the std is the weighted population std."""
    p = w / w.sum()
    mean = p @ Z
    std = np.sqrt(np.maximum(p @ (Z - mean) ** 2, 0.0))
    s = std.copy()
    for k in range(Z.shape[1]):
        q1, q3 = _weighted_quantile(Z[:, k], w, [0.25, 0.75])
        iqr = (q3 - q1) / 1.349
        if iqr > 0:
            s[k] = min(std[k], iqr)
    return float(np.sqrt(np.mean(s * s)))


def gaussian_equivalent(kernel: str, d: int, nu: float) -> float:
    """Factor turning a Gaussian bandwidth into the same-covariance bandwidth of
    ``kernel`` (1 for the Gaussian and the Cauchy)."""
    m2 = unit_second_moment(kernel, d, nu)
    return 1.0 if not np.isfinite(m2) else float(np.sqrt(d / m2))


def _need_spread(value, rule):
    if not value > 0:
        raise ValueError(
            f"bandwidth={rule!r} needs data with spread, but every feature is "
            "constant; pass a numeric bandwidth."
        )
    return value


def scott(Z, w, d):
    """Scott's rule ``spread * n_eff^(-1/(d+4))`` for a Gaussian kernel."""
    return _need_spread(spread(Z, w), "scott") * effective_n(w) ** (-1.0 / (d + 4))


def silverman(Z, w, d):
    """Silverman's rule ``spread * (n_eff (d+2) / 4)^(-1/(d+4))``, Gaussian kernel."""
    n = effective_n(w)
    return _need_spread(spread(Z, w), "silverman") * (n * (d + 2) / 4.0) ** (
        -1.0 / (d + 4)
    )


def nearest_neighbour(Z, w, *, max_queries=2000, random_state=None):
    """``sqrt(mean |x_i - nn(x_i)|^2 / d)`` over (a subsample of) the points.

    This is the bandwidth that maximises the likelihood when each point's density
    comes from its nearest neighbour alone - the extreme-value regime of
    :mod:`kernlearn.density._regime` - so it is a cheap start for ``loo_ml`` and
    the right order of magnitude in high dimension. Duplicate points are skipped.
    """
    from sklearn.neighbors import NearestNeighbors

    n, d = Z.shape
    rng = np.random.default_rng(random_state)
    idx = np.arange(n) if n <= max_queries else rng.choice(n, max_queries, False)
    nn = NearestNeighbors(n_neighbors=min(n, 8), algorithm="brute").fit(Z)
    dist, _ = nn.kneighbors(Z[idx])
    dist = dist[:, 1:]  # the first neighbour is the point itself (or a duplicate)
    pos = np.where(dist > 0, dist, np.inf).min(axis=1)
    pos = pos[np.isfinite(pos)]
    if pos.size == 0:
        raise ValueError(
            "bandwidth='nn' found no two distinct points; pass a numeric bandwidth."
        )
    return float(np.sqrt(np.mean(pos * pos) / d))


def gaussian_reference_hd(Z, w):
    """The KL-optimal ``h_opt`` of :func:`gaussian_thresholds` from the sample
    spectrum, ``alpha = ln(n_eff) / d`` (a Gaussian kernel on Gaussian data)."""
    n_eff = effective_n(w)
    d = Z.shape[1]
    s = np.linalg.eigvalsh(weighted_covariance(Z, w))
    s = np.clip(s, 0.0, None)
    if not np.any(s > 0):
        raise ValueError(
            "bandwidth='gaussian_reference_hd' needs data with spread, but every "
            "feature is constant; pass a numeric bandwidth."
        )
    return gaussian_thresholds(np.log(n_eff) / d, s)["h_opt"]


def _excluded_rows(Z, log_w, kobj, kernel, h, nu, idx, backend, block=512):
    """Exact ``log sum_{j != i} w_j k(x_i, x_j)`` for the rows ``idx``.

    Each block of rows is summed against all columns with the block's own columns
    given zero weight (``log w = -inf``), and against itself densely with the
    diagonal removed: no self term is ever subtracted.
    """
    d = Z.shape[1]
    out = np.empty(idx.size)
    lw = log_w.copy()
    for start in range(0, idx.size, block):
        rows = idx[start : start + block]
        lw[rows] = -np.inf
        B = Z[rows]
        far = kernel_logsumexp(kobj, B, Z, lw, backend=backend)
        lw[rows] = log_w[rows]
        near = log_kernel_block(B, B, kernel, h, d, nu) + log_w[None, rows]
        np.fill_diagonal(near, -np.inf)
        out[start : start + rows.size] = np.logaddexp(far, logsumexp(near, axis=1))
    return out


#: Rows whose own term is more than this fraction of their full sum are recomputed
#: without it: subtracting it would lose digits (about 1e-15 / (1 - fraction)).
_SELF_FRACTION = 0.999


def _binned_sums(Z, w, kernel, h, nu, *, max_cells=2**20):
    """``sum_j w_j K_h(x_i - x_j)`` (self included) at every point by linear
    binning + FFT on a grid of step at most ``h / 20`` (Wand 1994), or ``None``
    when that grid would exceed ``max_cells`` (then the exact path runs)."""
    from ._grid import binned_grid_density
    from ._kernels import log_normaliser, support_radius

    n, d = Z.shape
    step = h / 20.0
    lo, hi = Z.min(axis=0), Z.max(axis=0)
    counts = np.maximum(2, np.ceil((hi - lo) / step).astype(np.int64) + 1)
    if np.prod(counts.astype(float)) > max_cells:
        return None
    axes = [np.linspace(lo[k], hi[k], counts[k]) for k in range(d)]
    log_c = -log_normaliser(kernel, d, nu) - d * np.log(h)

    def kernel_on_offsets(U):
        sq = np.sum(U * U, axis=-1) / (h * h)
        return np.exp(log_unit_profile(kernel, sq.ravel(), d, nu) + log_c).reshape(
            sq.shape
        )

    support = np.full(d, support_radius(kernel, d, nu, tail=1e-10) * h)
    grid = binned_grid_density(Z, w, axes, kernel_on_offsets, support)
    if d == 1:
        return np.interp(Z[:, 0], axes[0], grid)
    from scipy.interpolate import RegularGridInterpolator

    return RegularGridInterpolator(axes, grid, method="linear")(Z)


def loo_log_likelihood(
    Z, log_w, kernel, h, nu=1.5, *, rows=None, backend=None, binned=False
):
    """Leave-one-out log-likelihood ``sum_i w_i log f_{-i}(x_i) / sum_i w_i``.

    ``f_{-i}`` is the weighted estimate without point ``i``; the sum runs over
    ``rows`` (all points by default; a random subset gives an unbiased estimate of
    the mean at a fraction of the cost).

    One pass of :func:`kernlearn.backend.kernel_logsumexp` sums every row against
    all points; the own term ``w_i k(0)`` is then removed, except in rows where it
    is over 99.9% of the sum (isolated points, and every point in the
    extreme-value regime of high dimension), which are recomputed exactly without
    it. With ``binned=True`` (1-D and 2-D) the first pass is linear binning + FFT
    instead, with a grid step of ``h / 20`` (error ``O(1e-4)`` relative), falling
    back to the exact pass when that grid would be too large.
    """
    from ._kernels import log_normaliser

    n, d = Z.shape
    rows = np.arange(n) if rows is None else np.asarray(rows)
    kobj = kernel_object(kernel, h, d, nu)
    log_norm = log_normaliser(kernel, d, nu) + d * np.log(h)
    w = np.exp(log_w)
    total_w = w.sum()
    wr = w[rows]
    full = None
    if binned and d <= 2 and rows.size == n:
        sums = _binned_sums(Z, w, kernel, h, nu)
        if sums is not None:
            with np.errstate(divide="ignore"):
                full = np.log(np.maximum(sums, 0.0)) + log_norm
    if full is None:
        full = kernel_logsumexp(kobj, Z[rows], Z, log_w, backend=backend)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        frac = np.exp(log_w[rows] - full)  # own share (k(0) = 1 for every kernel)
        out = full + np.log1p(-np.minimum(frac, 1.0))
    redo = ~(frac < _SELF_FRACTION)
    if np.any(redo):
        out[redo] = _excluded_rows(Z, log_w, kobj, kernel, h, nu, rows[redo], backend)
    # Each point's density is normalised by the weight of the others.
    with np.errstate(divide="ignore"):
        others = np.log(np.maximum(total_w - wr, 0.0))
    ll = out - others - log_norm
    pos = wr > 0  # zero-weight points neither count nor are scored
    return float(np.sum(wr[pos] * ll[pos]) / wr.sum())


def loo_ml(
    Z,
    log_w,
    kernel,
    nu=1.5,
    *,
    start=None,
    backend=None,
    xatol=1e-3,
    max_rows=10_000,
    random_state=None,
):
    """Bandwidth maximising the leave-one-out log-likelihood.

    Bounded Brent search over ``log h`` in ``[start / 10, start * 10]`` around
    ``start`` (default: Silverman's rule up to 4 dimensions, the nearest-neighbour
    rule above), widened when the optimum sits
    on an edge. ``xatol`` is the tolerance on ``log h`` (0.1% by default). Above
    ``max_rows`` points, the objective is the mean over a fixed random subset of
    ``max_rows`` points (each still scored against all others): the same
    maximiser up to sampling noise, at ``max_rows / n`` of the cost. In one and
    two dimensions with at least 1,000 points the objective is binned (see
    :func:`loo_log_likelihood`), which moves the maximiser by well under 1%.
    """
    w = np.exp(log_w)
    n = Z.shape[0]
    rows = None
    if max_rows is not None and n > max_rows:
        rng = np.random.default_rng(random_state)
        rows = np.sort(rng.choice(n, size=int(max_rows), replace=False))
    if start is None:
        d = Z.shape[1]
        # Silverman's rule is near the optimum in low dimension, where the
        # nearest-neighbour rule (the extreme-value optimum) is far too small.
        if d <= 4 and spread(Z, w) > 0:
            start = silverman(Z, w, d)
        else:
            start = nearest_neighbour(Z, w)
        start *= gaussian_equivalent(kernel, d, nu)

    binned = Z.shape[1] <= 2 and n >= 1000 and rows is None

    def objective(log_h):
        v = loo_log_likelihood(
            Z,
            log_w,
            kernel,
            np.exp(log_h),
            nu,
            rows=rows,
            backend=backend,
            binned=binned,
        )
        return -v if np.isfinite(v) else 1e300

    lo, hi = np.log(start) - np.log(10.0), np.log(start) + np.log(10.0)
    for _ in range(6):
        res = minimize_scalar(
            objective, bounds=(lo, hi), method="bounded", options={"xatol": xatol}
        )
        width = hi - lo
        if res.x - lo < 2 * xatol:
            lo, hi = lo - width, lo + 0.25 * width
        elif hi - res.x < 2 * xatol:
            lo, hi = hi - 0.25 * width, hi + width
        else:
            break
    if not res.fun < 1e300:
        raise ValueError(
            "bandwidth='loo_ml' found no bandwidth with a finite leave-one-out "
            "likelihood (a compact kernel on isolated points?); use a Gaussian "
            "kernel or a numeric bandwidth."
        )
    return float(np.exp(res.x))
