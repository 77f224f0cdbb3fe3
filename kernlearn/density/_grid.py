"""Kernel density sums on a regular grid by linear binning and FFT convolution.

:func:`binned_grid_density` computes ``f(g) = sum_i w_i K(g - x_i)`` at every point
``g`` of a regular grid in one to three dimensions, the way of Silverman (1982) and
Wand (1994):

1. **Linear binning.** Each point spreads its weight over the ``2^d`` nodes of the grid
   cell that holds it, in proportion to the multilinear interpolation weights. The
   binning grid is the user's grid extended by ``E_k`` cells on each side, so points
   just outside the user's grid (but within the kernel's reach) still count.
2. **Kernel lattice.** ``K`` is evaluated once on the offsets ``j * delta`` with
   ``|j_k| <= R_k``.
3. **Convolution.** The binned weights and the kernel lattice are convolved with
   real FFTs (``scipy.fft.rfftn`` / ``irfftn``, zero padded to fast lengths so that
   the cropped part of the circular convolution equals the linear one).
4. **The rest, exactly.** Points beyond the extended grid that are still within the
   kernel's support of the user's grid (possible only where ``E_k`` had to be capped)
   are added by direct evaluation of ``K``, in blocks of bounded memory.

References
----------
.. [1] M. P. Wand, "Fast computation of multivariate kernel estimators", Journal of
   Computational and Graphical Statistics 3(4), 433-445, 1994.
.. [2] B. W. Silverman, "Algorithm AS 176: Kernel density estimation using the fast
   Fourier transform", Applied Statistics 31(1), 93-99, 1982.
"""

from __future__ import annotations

import math
import numbers

import numba
import numpy as np
import scipy.fft

__all__ = ["binned_grid_density"]

_MIB = 2**20
# Largest number of cells an extension or a kernel radius may have (keeps the integer
# arithmetic exact; the FFT budget caps it much earlier in practice).
_MAX_CELLS = 2**40
# 1-D binning grids up to this many nodes get two accumulation lanes (see _bin_1d).
_TWO_LANES_MAX = 2**16


@numba.njit(cache=True)
def _data_range(X):
    """Per-column minimum and maximum of ``X`` (numpy's axis-0 reductions are slow
    on narrow ``(n, d)`` arrays). A NaN here is harmless (every comparison with it
    fails, so it extends nothing); the binning loop reports it."""
    n, d = X.shape
    lo = np.full(d, np.inf)
    hi = np.full(d, -np.inf)
    for k in range(d):
        a = np.inf
        b = -np.inf
        for i in range(n):
            v = X[i, k]
            a = min(a, v)
            b = max(b, v)
        lo[k] = a
        hi[k] = b
    return lo, hi


@numba.njit(cache=True)
def _bin_1d(X, w, origin, inv_delta, reach_lo, reach_hi, counts, far):
    """Linear binning in 1-D, one pass over the data.

    ``origin`` is the coordinate of node 0 and ``inv_delta`` the inverse spacing.
    ``counts`` has shape ``(lanes, M)`` with ``lanes`` 1 or 2: point ``i`` goes to
    lane ``i % lanes`` (the caller sums the lanes). Two lanes break the chain of
    dependent read-modify-writes on one node when consecutive points share a cell
    (sorted data), which otherwise halves the speed. Points outside the binning grid
    but within ``[reach_lo, reach_hi]`` are listed in ``far``. Returns
    ``(n_far, bad_x)``: how many indices were written to ``far`` and the first row of
    ``X`` that is not finite (``-1`` for none). NaN or infinite coordinates fail the
    inside test, so checking them costs nothing on the common path.
    """
    n = X.shape[0]
    mask = counts.shape[0] - 1
    last = counts.shape[1] - 1
    o0 = origin[0]
    s0 = inv_delta[0]
    n_far = 0
    bad_x = -1
    for i in range(n):
        x = X[i, 0]
        t = (x - o0) * s0
        if t >= 0.0 and t <= last:
            j = min(int(t), last - 1)
            f = t - j
            wi = w[i]
            r = i & mask
            counts[r, j] += wi * (1.0 - f)
            counts[r, j + 1] += wi * f
        elif not (abs(x) < np.inf):
            if bad_x < 0:
                bad_x = i
        elif x >= reach_lo[0] and x <= reach_hi[0]:
            far[n_far] = i
            n_far += 1
    return n_far, bad_x


@numba.njit(cache=True)
def _bin_2d(X, w, origin, inv_delta, reach_lo, reach_hi, counts, far):
    """Linear binning in 2-D; see :func:`_bin_1d`."""
    n = X.shape[0]
    last0 = counts.shape[0] - 1
    last1 = counts.shape[1] - 1
    o0, o1 = origin[0], origin[1]
    s0, s1 = inv_delta[0], inv_delta[1]
    n_far = 0
    bad_x = -1
    for i in range(n):
        x0 = X[i, 0]
        x1 = X[i, 1]
        wi = w[i]
        t0 = (x0 - o0) * s0
        t1 = (x1 - o1) * s1
        if t0 >= 0.0 and t0 <= last0 and t1 >= 0.0 and t1 <= last1:
            j0 = min(int(t0), last0 - 1)
            j1 = min(int(t1), last1 - 1)
            f0 = t0 - j0
            f1 = t1 - j1
            a = wi * (1.0 - f0)
            b = wi * f0
            counts[j0, j1] += a * (1.0 - f1)
            counts[j0, j1 + 1] += a * f1
            counts[j0 + 1, j1] += b * (1.0 - f1)
            counts[j0 + 1, j1 + 1] += b * f1
        elif not (abs(x0) < np.inf and abs(x1) < np.inf):
            if bad_x < 0:
                bad_x = i
        elif (
            x0 >= reach_lo[0]
            and x0 <= reach_hi[0]
            and x1 >= reach_lo[1]
            and x1 <= reach_hi[1]
        ):
            far[n_far] = i
            n_far += 1
    return n_far, bad_x


@numba.njit(cache=True)
def _bin_3d(X, w, origin, inv_delta, reach_lo, reach_hi, counts, far):
    """Linear binning in 3-D; see :func:`_bin_1d`."""
    n = X.shape[0]
    last0 = counts.shape[0] - 1
    last1 = counts.shape[1] - 1
    last2 = counts.shape[2] - 1
    o0, o1, o2 = origin[0], origin[1], origin[2]
    s0, s1, s2 = inv_delta[0], inv_delta[1], inv_delta[2]
    n_far = 0
    bad_x = -1
    for i in range(n):
        x0 = X[i, 0]
        x1 = X[i, 1]
        x2 = X[i, 2]
        wi = w[i]
        t0 = (x0 - o0) * s0
        t1 = (x1 - o1) * s1
        t2 = (x2 - o2) * s2
        if (
            t0 >= 0.0
            and t0 <= last0
            and t1 >= 0.0
            and t1 <= last1
            and t2 >= 0.0
            and t2 <= last2
        ):
            j0 = min(int(t0), last0 - 1)
            j1 = min(int(t1), last1 - 1)
            j2 = min(int(t2), last2 - 1)
            f0 = t0 - j0
            f1 = t1 - j1
            f2 = t2 - j2
            a0 = wi * (1.0 - f0)
            a1 = wi * f0
            b00 = a0 * (1.0 - f1)
            b01 = a0 * f1
            b10 = a1 * (1.0 - f1)
            b11 = a1 * f1
            g2 = 1.0 - f2
            counts[j0, j1, j2] += b00 * g2
            counts[j0, j1, j2 + 1] += b00 * f2
            counts[j0, j1 + 1, j2] += b01 * g2
            counts[j0, j1 + 1, j2 + 1] += b01 * f2
            counts[j0 + 1, j1, j2] += b10 * g2
            counts[j0 + 1, j1, j2 + 1] += b10 * f2
            counts[j0 + 1, j1 + 1, j2] += b11 * g2
            counts[j0 + 1, j1 + 1, j2 + 1] += b11 * f2
        elif not (abs(x0) < np.inf and abs(x1) < np.inf and abs(x2) < np.inf):
            if bad_x < 0:
                bad_x = i
        elif (
            x0 >= reach_lo[0]
            and x0 <= reach_hi[0]
            and x1 >= reach_lo[1]
            and x1 <= reach_hi[1]
            and x2 >= reach_lo[2]
            and x2 <= reach_hi[2]
        ):
            far[n_far] = i
            n_far += 1
    return n_far, bad_x


_BINNERS = {1: _bin_1d, 2: _bin_2d, 3: _bin_3d}


def _check_axes(grid_axes):
    """Validate ``grid_axes``; return their starts, spacings and lengths."""
    if isinstance(grid_axes, np.ndarray) and grid_axes.ndim == 1:
        raise ValueError(
            "grid_axes must be a sequence of d 1-D arrays, one per dimension, got a "
            "single 1-D array; wrap it in a list: grid_axes=[axis]."
        )
    try:
        axes = [np.asarray(a, dtype=np.float64) for a in grid_axes]
    except (TypeError, ValueError) as exc:
        raise ValueError(
            "grid_axes must be a sequence of 1-D float arrays, one per dimension; "
            f"could not convert it ({exc})."
        ) from None
    starts, deltas, sizes = [], [], []
    for k, ax in enumerate(axes):
        if ax.ndim != 1:
            raise ValueError(
                f"grid_axes[{k}] must be a 1-D array, got shape {ax.shape}; pass one "
                "1-D array of coordinates per dimension."
            )
        if ax.shape[0] < 2:
            raise ValueError(
                f"grid_axes[{k}] must hold at least 2 points, got {ax.shape[0]}; use a "
                "longer axis, e.g. np.linspace(lo, hi, 256)."
            )
        if not np.all(np.isfinite(ax)):
            raise ValueError(
                f"grid_axes[{k}] holds NaN or infinite values; pass finite coordinates."
            )
        steps = np.diff(ax)
        if not np.all(steps > 0):
            raise ValueError(
                f"grid_axes[{k}] must be strictly increasing; sort it (np.sort) and "
                "drop duplicates."
            )
        m = ax.shape[0]
        delta = (ax[-1] - ax[0]) / (m - 1)
        tol = 1e-6 * delta + 8 * np.finfo(np.float64).eps * max(abs(ax[0]), abs(ax[-1]))
        if np.max(np.abs(steps - delta)) > tol:
            raise ValueError(
                f"grid_axes[{k}] must be equally spaced (largest deviation from the "
                f"mean step {delta:.6g} is {np.max(np.abs(steps - delta)):.3g}); build "
                "it with np.linspace(lo, hi, m)."
            )
        starts.append(ax[0])
        deltas.append(delta)
        sizes.append(m)
    return np.array(starts), np.array(deltas), np.array(sizes, dtype=np.int64)


def _check_inputs(X, weights, grid_axes, support):
    """Validate and convert the arguments of :func:`binned_grid_density`."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(
            f"X must be a 2-D array of shape (n, d), got {X.ndim} dimension(s); "
            "reshape 1-D data with X.reshape(-1, 1)."
        )
    n, d = X.shape
    if d not in (1, 2, 3):
        raise ValueError(
            f"X must have 1, 2 or 3 columns for grid evaluation, got d={d}; evaluate "
            "higher-dimensional densities at points instead of on a grid."
        )
    X = np.ascontiguousarray(X)
    weights = np.ascontiguousarray(weights, dtype=np.float64)
    if weights.shape != (n,):
        raise ValueError(
            f"weights must have shape (n,) = ({n},) to match X, got {weights.shape}."
        )
    starts, deltas, sizes = _check_axes(grid_axes)
    if sizes.shape[0] != d:
        raise ValueError(
            f"grid_axes must hold one axis per column of X: got {sizes.shape[0]} "
            f"axes for d={d}."
        )
    support = np.asarray(support, dtype=np.float64)
    if support.ndim == 0:
        support = np.full(d, float(support))
    if support.shape != (d,):
        raise ValueError(
            f"support must have shape (d,) = ({d},), got {support.shape}; give one "
            "half width per axis."
        )
    if not np.all(support > 0):  # also catches NaN
        raise ValueError(
            f"support must be positive (np.inf allowed), got {support}; pass the "
            "half width beyond which the kernel is zero on each axis."
        )
    return X, weights, starts, deltas, sizes, support


def _cells(length, delta):
    """``ceil(length / delta)`` as an int, clamped to ``[0, _MAX_CELLS]``."""
    ratio = length / delta
    if not ratio < _MAX_CELLS:  # inf or huge
        return _MAX_CELLS
    return max(0, math.ceil(ratio))


def _choose_extent(X, sizes, deltas, starts, support, max_fft_size):
    """Extension ``E`` of the binning grid and kernel radius ``R``, in cells per axis.

    ``S_k = ceil(support_k / delta_k)``. The extension wants ``min(S_k, cells the data
    reach beyond the grid)``; the radius is ``min(S_k, m_k - 1 + E_k)``, the largest
    offset between a binning node and a node of the user's grid, so the kernel is never
    cut short of its support. The extensions are scaled down together until the FFT
    (``prod(m_k + E_k + R_k)`` points) fits ``max_fft_size``, never below zero.

    The data's reach costs a pass over ``X``; it is skipped (``E = S``) when extending
    by the full support makes the FFT at most 25% larger than not extending at all,
    the common case of a grid that covers the data with a margin in 1-D.
    """
    d = sizes.shape[0]
    m = [int(v) for v in sizes]
    S = [_cells(support[k], deltas[k]) for k in range(d)]

    def extent(want, scale):
        E = [int(math.floor(scale * want[k])) for k in range(d)]
        R = [min(S[k], m[k] - 1 + E[k]) for k in range(d)]
        return E, R

    def cost(want, scale):
        E, R = extent(want, scale)
        return math.prod(m[k] + E[k] + R[k] for k in range(d))

    if cost(S, 1.0) <= min(max_fft_size, 1.25 * cost(S, 0.0)):
        return extent(S, 1.0)

    data_lo, data_hi = _data_range(X)
    ends = starts + (sizes - 1) * deltas
    want = []
    for k in range(d):
        beyond = 0
        if data_lo[k] < starts[k]:
            beyond = _cells(starts[k] - data_lo[k], deltas[k])
        if data_hi[k] > ends[k]:
            beyond = max(beyond, _cells(data_hi[k] - ends[k], deltas[k]))
        want.append(min(S[k], beyond))

    if cost(want, 1.0) <= max_fft_size:
        return extent(want, 1.0)
    lo, hi = 0.0, 1.0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if cost(want, mid) <= max_fft_size:
            lo = mid
        else:
            hi = mid
    return extent(want, lo)


def _eval_kernel(kernel_on_offsets, offsets):
    """``kernel_on_offsets(offsets)`` with its shape and values checked."""
    values = np.asarray(kernel_on_offsets(offsets), dtype=np.float64)
    if values.shape != offsets.shape[:-1]:
        raise ValueError(
            f"kernel_on_offsets must map offsets of shape (..., d) = {offsets.shape} "
            f"to values of shape (...) = {offsets.shape[:-1]}, got {values.shape}."
        )
    if not np.all(np.isfinite(values)):
        raise ValueError(
            "kernel_on_offsets returned NaN or infinite values; it must be finite for "
            "every offset."
        )
    return values


def _kernel_lattice(kernel_on_offsets, R, deltas, support, budget_bytes):
    """``K(j * delta)`` for ``|j_k| <= R_k``, zero where ``|j_k delta_k| > support_k``.

    Evaluated in slabs along axis 0 so the offset arrays stay within
    ``budget_bytes``.
    """
    d = len(R)
    axes = []
    for k in range(d):
        off = np.arange(-R[k], R[k] + 1, dtype=np.float64) * deltas[k]
        off[np.abs(off) > support[k]] = np.nan  # marks "outside the support"
        axes.append(off)
    shape = tuple(a.shape[0] for a in axes)
    lattice = np.zeros(shape)
    row = math.prod(shape[1:]) if d > 1 else 1
    # offsets, a copy for the kernel's own temporaries, and the values
    rows = max(1, int(budget_bytes // (8 * row * (2 * d + 4))))
    inner = np.meshgrid(*axes[1:], indexing="ij") if d > 1 else []
    inside_inner = np.ones(shape[1:], dtype=bool)
    for g in inner:
        inside_inner &= ~np.isnan(g)
    for start in range(0, shape[0], rows):
        a0 = axes[0][start : start + rows]
        keep0 = ~np.isnan(a0)
        if not np.any(keep0) or not np.any(inside_inner):
            continue
        a0 = a0[keep0]
        offsets = np.empty((a0.shape[0],) + shape[1:] + (d,))
        offsets[..., 0] = a0.reshape((-1,) + (1,) * (d - 1))
        for k in range(1, d):
            offsets[..., k] = np.nan_to_num(inner[k - 1], nan=0.0)
        values = _eval_kernel(kernel_on_offsets, offsets)
        values *= inside_inner
        lattice[start : start + rows][keep0] = values
    return lattice


def _add_far_points(
    out, X_far, w_far, starts, deltas, kernel_on_offsets, support, budget_bytes
):
    """Add ``sum_i w_i K(g - x_i)`` over ``X_far`` to ``out`` by direct evaluation.

    Offsets with ``|u_k| > support_k`` on some axis count as zero. Blocks of grid
    points and data points are sized so their temporaries stay within
    ``budget_bytes``.
    """
    shape = out.shape
    d = len(shape)
    n_grid = out.size
    n_far = X_far.shape[0]
    max_pairs = max(1, int(budget_bytes // (8 * (2 * d + 4))))
    cols = min(n_far, max_pairs)
    rows = max(1, max_pairs // cols)
    flat = out.reshape(-1)
    for g0 in range(0, n_grid, rows):
        idx = np.unravel_index(np.arange(g0, min(g0 + rows, n_grid)), shape)
        G = np.stack([starts[k] + idx[k] * deltas[k] for k in range(d)], axis=-1)
        acc = np.zeros(G.shape[0])
        for c0 in range(0, n_far, cols):
            offsets = G[:, None, :] - X_far[None, c0 : c0 + cols, :]
            values = _eval_kernel(kernel_on_offsets, offsets)
            values[np.any(np.abs(offsets) > support, axis=-1)] = 0.0
            acc += values @ w_far[c0 : c0 + cols]
        flat[g0 : g0 + G.shape[0]] += acc


def binned_grid_density(
    X,
    weights,
    grid_axes,
    kernel_on_offsets,
    support,
    *,
    max_fft_size=2**22,
    working_memory=32.0,
):
    """Sum_i weights[i] * K(g - X[i]) at every grid point g (linear binning + FFT).

    Linear binning followed by an FFT convolution with the kernel sampled on the grid's
    lattice of offsets (Silverman 1982; Wand 1994). Cost ``O(n + N log N)`` for ``n``
    points and an FFT of ``N`` points (about ``prod(m_k + 2 support_k / delta_k)``),
    instead of ``O(n prod(m_k))`` for direct evaluation.

    Parameters
    ----------
    X : ndarray of shape (n, d)
        Data points, ``d`` in {1, 2, 3}, finite.
    weights : ndarray of shape (n,)
        Non-negative, finite weights (not necessarily normalised).
    grid_axes : sequence of d 1-D arrays
        Coordinates of the grid along each axis: strictly increasing, equally spaced,
        at least 2 points each (e.g. ``np.linspace``). The grid is their Cartesian
        product.
    kernel_on_offsets : callable
        Maps an array of offset vectors ``u`` of shape ``(..., d)`` to the kernel
        values ``K(u)`` of shape ``(...)``. ``K`` is the normalised density kernel
        with the bandwidth included; it may be anisotropic (e.g. ``N(u; 0, H)`` with
        a full ``H``). It is called once on the offset lattice (in slabs) and, for
        points beyond the extended grid, on blocks of direct offsets.
    support : ndarray of shape (d,)
        Positive half width on each axis beyond which ``K`` is treated as zero (an
        offset counts as zero as soon as one ``|u_k| > support_k``). ``np.inf`` is
        allowed (heavy tails); the kernel then reaches the whole grid and every
        point, and the extension of the binning grid is capped by ``max_fft_size``.
        A scalar is broadcast to all axes.
    max_fft_size : int, default=2**22
        Budget on the number of points of the FFT arrays (each about 8 bytes per point,
        a few are alive at once). The extension of the binning grid beyond the user's
        grid is shrunk to fit; points it then misses are added exactly by direct
        evaluation. The user's grid plus the kernel radius is always kept, even above
        the budget.
    working_memory : float, default=32.0
        Budget in MiB for the blocks of offsets and kernel values (lattice and direct
        evaluation).

    Returns
    -------
    density : ndarray of shape (len(grid_axes[0]), ..., len(grid_axes[d-1]))
        ``sum_i weights[i] * K(g - X[i])`` at each grid point ``g``. Not divided by
        ``sum(weights)``. Tiny negative round-off is clipped to zero when the kernel
        is non-negative.

    Raises
    ------
    ValueError
        If ``d`` is not 1, 2 or 3, an axis is not strictly increasing, not equally
        spaced or shorter than 2, shapes disagree, ``X`` or ``weights`` hold NaN or
        infinities, weights are negative, ``support`` is not positive, or
        ``kernel_on_offsets`` returns the wrong shape or non-finite values.

    Notes
    -----
    **Algorithm.** Let ``m_k`` be the axis lengths, ``delta_k`` the spacings and
    ``S_k = ceil(support_k / delta_k)``.

    1. The binning grid extends the user's grid by ``E_k <= S_k`` cells on each side
       (only as far as the data reach, and shrunk to ``max_fft_size``). One O(n)
       numba loop splits each point's weight over the ``2^d`` nodes of its cell with
       the multilinear weights (Wand 1994, linear binning).
    2. ``K`` is evaluated on the offsets ``j * delta``, ``|j_k| <= R_k`` with
       ``R_k = min(S_k, m_k - 1 + E_k)``, i.e. every offset between a binning node and
       a user node within the support.
    3. The two arrays are zero padded to ``N_k = next_fast_len(m_k + E_k + R_k)`` and
       convolved with ``scipy.fft.rfftn`` / ``irfftn``; that length makes the cropped
       user part of the circular convolution equal to the linear convolution.
    4. Points beyond the extended grid but within ``support`` of the user's grid
       (there are some only when ``E_k < S_k`` was forced) are added by direct
       evaluation of ``K``.

    **Accuracy.** The only approximation is the binning: for each point,
    ``K(g - x)`` is replaced by its multilinear interpolation between the nodes
    around ``x``. For a kernel with bounded second derivatives the error at each grid
    point is at most ``sum(weights) * sum_k delta_k^2 / 8 * max|d^2 K / du_k^2|``,
    i.e. ``O(delta^2)`` (Wand 1994); for a Gaussian with covariance ``H`` that is
    ``sum(weights) * K(0) * sum_k delta_k^2 (H^-1)_kk / 8``. Kernels whose
    gradient jumps (e.g. Epanechnikov at the edge of its support) are off by
    ``O(delta |grad K|)`` for each point that bins across the jump, so with few points
    the maximum error can be first order in ``delta``; it is second order in the
    mean over many points. The grid should resolve the kernel: ``delta_k`` a small
    fraction of the bandwidth (``delta <= h / 10`` keeps the Gaussian error near
    1e-3 of the peak). The FFT adds round-off of order
    ``1e-16 * sum(weights) * max K`` per grid point.

    References
    ----------
    .. [1] M. P. Wand, "Fast computation of multivariate kernel estimators", Journal
       of Computational and Graphical Statistics 3(4), 433-445, 1994.
    .. [2] B. W. Silverman, "Algorithm AS 176: Kernel density estimation using the
       fast Fourier transform", Applied Statistics 31(1), 93-99, 1982.

    Examples
    --------
    >>> import numpy as np
    >>> from kernlearn.density._grid import binned_grid_density
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(1000, 1))
    >>> h = 0.3
    >>> def gauss(u):
    ...     return np.exp(-0.5 * (u[..., 0] / h) ** 2) / (h * np.sqrt(2 * np.pi))
    >>> grid = np.linspace(-4, 4, 401)
    >>> f = binned_grid_density(X, np.full(1000, 1e-3), [grid], gauss, [8 * h])
    >>> f.shape
    (401,)
    >>> bool(abs(f.sum() * (grid[1] - grid[0]) - 1) < 1e-3)
    True
    """
    X, weights, starts, deltas, sizes, support = _check_inputs(
        X, weights, grid_axes, support
    )
    if (
        isinstance(max_fft_size, bool)
        or not isinstance(max_fft_size, numbers.Integral)
        or max_fft_size < 1
    ):
        raise ValueError(
            f"max_fft_size must be a positive integer, got {max_fft_size!r}."
        )
    if (
        isinstance(working_memory, bool)
        or not isinstance(working_memory, numbers.Real)
        or not (0 < working_memory < np.inf)
    ):
        raise ValueError(
            "working_memory must be a positive, finite number of MiB, got "
            f"{working_memory!r}."
        )
    budget_bytes = float(working_memory) * _MIB
    n, d = X.shape
    out_shape = tuple(int(m) for m in sizes)

    if n == 0:
        return np.zeros(out_shape)
    # min/max are vectorised reductions (NaN propagates), cheaper than a test per
    # point inside the binning loop
    if not (weights.min() >= 0 and weights.max() < np.inf):
        bad = int(np.flatnonzero(~((weights >= 0) & (weights < np.inf)))[0])
        raise ValueError(
            f"weights must be non-negative and finite, got weights[{bad}] = "
            f"{weights[bad]!r}."
        )

    E, R = _choose_extent(X, sizes, deltas, starts, support, max_fft_size)
    E_arr = np.array(E, dtype=np.float64)
    origin = starts - E_arr * deltas
    ends = starts + (sizes - 1) * deltas
    # Points outside the binning grid matter only within ``support`` of the user grid.
    reach_lo = starts - support
    reach_hi = ends + support

    bin_shape = tuple(int(sizes[k]) + 2 * E[k] for k in range(d))
    if d == 1:
        counts = np.zeros((2 if bin_shape[0] <= _TWO_LANES_MAX else 1,) + bin_shape)
    else:
        counts = np.zeros(bin_shape)
    far = np.empty(n, dtype=np.int64)
    n_far, bad_x = _BINNERS[d](
        X, weights, origin, 1.0 / deltas, reach_lo, reach_hi, counts, far
    )
    if d == 1:
        counts = counts.sum(axis=0)
    if bad_x >= 0:
        raise ValueError(
            f"X must be finite, but row {bad_x} holds NaN or infinity; drop or impute "
            "such rows first."
        )

    lattice = _kernel_lattice(kernel_on_offsets, R, deltas, support, budget_bytes)
    fft_shape = tuple(
        scipy.fft.next_fast_len(int(sizes[k]) + E[k] + R[k], real=True)
        for k in range(d)
    )
    # Multi-dimensional transforms split over the cores (1-D ones are too small
    # for threads to pay).
    workers = -1 if len(fft_shape) > 1 else None
    spectrum = scipy.fft.rfftn(counts, s=fft_shape, workers=workers)
    spectrum *= scipy.fft.rfftn(lattice, s=fft_shape, workers=workers)
    full = scipy.fft.irfftn(spectrum, s=fft_shape, workers=workers)
    crop = tuple(slice(E[k] + R[k], E[k] + R[k] + out_shape[k]) for k in range(d))
    out = np.array(full[crop])  # own, contiguous

    if n_far:
        idx = far[:n_far]
        _add_far_points(
            out,
            X[idx],
            weights[idx],
            starts,
            deltas,
            kernel_on_offsets,
            support,
            budget_bytes,
        )
    if lattice.min() >= 0:
        np.maximum(out, 0.0, out=out)
    return out
