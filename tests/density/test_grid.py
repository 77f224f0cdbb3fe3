"""Binned FFT grid density (:func:`binned_grid_density`) against direct sums.

The reference is the dense sum ``sum_i w_i K(g - x_i)`` over every grid point ``g``.
Linear binning replaces ``K(g - x)`` by its multilinear interpolation between the
nodes around ``x``, so for a smooth kernel the error at every grid point is at most
``sum(w) * sum_k delta_k^2 / 8 * max |d^2 K / du_k^2|`` (for a Gaussian with
covariance ``H``: ``sum(w) * K(0) * sum_k delta_k^2 (H^-1)_kk / 8``); the tests check
that rigorous bound, an ``O(delta^2)`` rate (halving ``delta`` divides the error by
about 4) and, on fine grids, an error below 1e-3 of the maximum density.
"""

import numpy as np
import pytest

from kernlearn.density import _grid
from kernlearn.density._grid import binned_grid_density

# ---------------------------------------------------------------- kernels


def gaussian(H):
    """``N(u; 0, H)`` and its ``max |d^2 K / du_k^2|`` per axis (``K(0) (H^-1)_kk``)."""
    H = np.atleast_2d(np.asarray(H, dtype=float))
    A = np.linalg.inv(H)
    d = H.shape[0]
    k0 = 1.0 / np.sqrt((2 * np.pi) ** d * np.linalg.det(H))

    def K(u):
        return k0 * np.exp(-0.5 * np.einsum("...i,ij,...j->...", u, A, u))

    return K, k0 * np.diag(A)


def epanechnikov(h, d):
    """Radial Epanechnikov kernel of radius ``h`` in ``d`` dimensions (compact)."""
    volume = {1: 2.0, 2: np.pi, 3: 4.0 * np.pi / 3.0}[d] * h**d
    c = (d + 2) / (2.0 * volume)

    def K(u):
        return c * np.clip(1.0 - np.sum(u * u, axis=-1) / h**2, 0.0, None)

    return K


def cauchy_1d(h):
    """Heavy-tailed Cauchy density of scale ``h``; ``max |K''| = 2 / (pi h^3)``."""

    def K(u):
        return 1.0 / (np.pi * h * (1.0 + (u[..., 0] / h) ** 2))

    return K, 2.0 / (np.pi * h**3)


# ---------------------------------------------------------------- helpers


def direct(X, w, axes, K, chunk=16):
    """Dense ``sum_i w_i K(g - x_i)`` on the grid (the reference), in chunks of
    points to keep the temporaries small."""
    G = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1)
    out = np.zeros(G.shape[:-1])
    for i in range(0, X.shape[0], chunk):
        out += K(G[..., None, :] - X[i : i + chunk]) @ w[i : i + chunk]
    return out


def binning_bound(w, deltas, max_d2):
    """Rigorous bound of the linear-binning error at each grid point."""
    return np.sum(w) * np.sum(np.asarray(deltas) ** 2 * np.asarray(max_d2)) / 8.0


def axes_for(lo, hi, sizes):
    return [np.linspace(a, b, m) for a, b, m in zip(lo, hi, sizes, strict=True)]


def deltas_of(axes):
    return [a[1] - a[0] for a in axes]


# ---------------------------------------------------------------- accuracy


@pytest.mark.parametrize(
    "d, sizes, h",
    [
        (1, (401,), 0.3),
        (2, (81, 61), 0.4),
        (3, (41, 37, 33), 0.7),
    ],
)
def test_gaussian_isotropic_matches_direct(d, sizes, h):
    rng = np.random.default_rng(d)
    X = rng.normal(size=(200, d))
    w = np.full(200, 1 / 200)
    axes = axes_for([-4] * d, [4] * d, sizes)
    K, d2 = gaussian(h**2 * np.eye(d))
    got = binned_grid_density(X, w, axes, K, np.full(d, 8 * h))
    ref = direct(X, w, axes, K)
    assert got.shape == sizes
    err = np.max(np.abs(got - ref))
    assert err <= binning_bound(w, deltas_of(axes), d2) + 1e-12
    # delta / h <= 0.4 here (0.09 in 1-D): within 1% of the peak (1e-3 in 1-D)
    assert err <= (1e-3 if d == 1 else 1e-2) * ref.max()


def test_gaussian_full_covariance_2d():
    rng = np.random.default_rng(1)
    H = np.array([[0.09, 0.06], [0.06, 0.16]])  # correlation 0.5
    X = rng.multivariate_normal([0.2, -0.1], [[1.0, 0.6], [0.6, 0.8]], size=300)
    w = rng.uniform(0.5, 1.5, size=300)
    axes = axes_for([-4, -3.5], [4, 3.5], (161, 141))
    K, d2 = gaussian(H)
    support = 8 * np.sqrt(np.diag(H))
    got = binned_grid_density(X, w, axes, K, support)
    ref = direct(X, w, axes, K)
    err = np.max(np.abs(got - ref))
    assert err <= binning_bound(w, deltas_of(axes), d2) + 1e-12
    # delta / sigma <= 0.17 on both axes: within 2e-3 of the peak
    assert err <= 2e-3 * ref.max()


def rms(e):
    return np.sqrt(np.mean(e**2))


def test_error_is_second_order_in_delta():
    """Halving delta divides the (RMS over the grid) error by about 4.

    The maximum error fluctuates more with few points (it is a sum of interpolation
    errors of both signs), so the rate is checked on the RMS with 5000 points; the
    observed ratios are 3.96, 3.98, 4.10.
    """
    rng = np.random.default_rng(2)
    X = rng.normal(size=(5000, 1))
    w = np.full(5000, 1 / 5000)
    K, _ = gaussian([[0.3**2]])
    errors, maxima = [], []
    for m in (81, 161, 321, 641):
        axes = [np.linspace(-4, 4, m)]
        e = binned_grid_density(X, w, axes, K, [2.4]) - direct(X, w, axes, K)
        errors.append(rms(e))
        maxima.append(np.max(np.abs(e)))
    ratios = np.array(errors[:-1]) / np.array(errors[1:])
    assert np.all((ratios > 3.5) & (ratios < 4.6)), ratios
    # delta = h / 24 at the finest: the maximum error is below 1e-4 of the peak (0.4)
    assert maxima[-1] <= 1e-4 * 0.4


def test_error_is_second_order_in_delta_2d_anisotropic():
    """Same in 2-D with a correlated H (observed RMS ratios 3.91, 3.90)."""
    rng = np.random.default_rng(3)
    X = rng.normal(size=(1000, 2))
    w = np.full(1000, 1 / 1000)
    K, _ = gaussian([[0.16, -0.05], [-0.05, 0.25]])
    errors = []
    for m0, m1 in ((31, 25), (61, 49), (121, 97)):
        axes = axes_for([-4, -3], [4, 3], (m0, m1))
        got = binned_grid_density(X, w, axes, K, [3.2, 4.0])
        errors.append(rms(got - direct(X, w, axes, K, chunk=200)))
    ratios = np.array(errors[:-1]) / np.array(errors[1:])
    assert np.all((ratios > 3.4) & (ratios < 4.6)), ratios


@pytest.mark.parametrize(
    "d, sizes, tol",
    [(1, (161, 321), 2e-3), (2, (81, 161), 1.5e-2), (3, (33, 49), 8e-2)],
)
def test_epanechnikov_compact_kernel(d, sizes, tol):
    """Compact kernel with support equal to its radius.

    The gradient of K jumps at the edge of the support, so a point that bins across
    that edge is off by O(delta |grad K|) at the grid point concerned: with few
    points the maximum error can be first order (observed ratios 3.8 and 1.9 for
    halving delta in 1-D and 2-D, 1.54 for dividing it by 1.5 in 3-D). Tolerances on
    the maximum relative to the peak, at delta = h / 20 (d = 1), h / 10 (d = 2) and
    h / 4 (d = 3), are about 3x the observed errors (6e-4, 5e-3, 3.4e-2).
    """
    rng = np.random.default_rng(4 + d)
    h = 1.0
    X = rng.normal(size=(150, d))
    w = rng.uniform(size=150)
    K = epanechnikov(h, d)
    errors = []
    for m in sizes:
        axes = axes_for([-4] * d, [4] * d, (m,) * d)
        got = binned_grid_density(X, w, axes, K, np.full(d, h))
        ref = direct(X, w, axes, K)
        assert np.all(got >= 0)
        errors.append(np.max(np.abs(got - ref)) / ref.max())
    assert errors[0] <= tol
    # at least first order: the error shrinks by more than 0.8 x the delta ratio
    assert errors[0] / errors[1] > 0.8 * (sizes[1] - 1) / (sizes[0] - 1)


def test_points_on_nodes_are_exact():
    """A point on a node bins onto that node alone, so the sum is exact."""
    axes = axes_for([-1, 0], [1, 2], (21, 11))
    X = np.array([[axes[0][3], axes[1][7]], [axes[0][20], axes[1][10]]])
    w = np.array([0.7, 1.3])
    K, _ = gaussian([[0.04, 0.01], [0.01, 0.09]])
    got = binned_grid_density(X, w, axes, K, [1.6, 2.4])
    np.testing.assert_allclose(got, direct(X, w, axes, K), rtol=0, atol=1e-13)


def test_asymmetric_kernel_orientation():
    """K(g - x), not K(x - g): a shifted kernel exposes a flipped convolution."""
    rng = np.random.default_rng(6)
    X = rng.uniform(-1, 1, size=(100, 2))
    w = np.full(100, 0.01)
    Kc, _ = gaussian([[0.04, 0.0], [0.0, 0.09]])
    shift = np.array([0.5, -0.3])

    def K(u):
        return Kc(u - shift)

    axes = axes_for([-3, -3], [3, 3], (121, 101))
    got = binned_grid_density(X, w, axes, K, [2.5, 2.5])
    ref = direct(X, w, axes, K)
    assert np.max(np.abs(got - ref)) <= 5e-3 * ref.max()


# ---------------------------------------------------------------- outside the grid


def test_points_outside_the_grid_2d():
    """Points just outside the grid (within the support) are binned on the
    extension; points far outside contribute nothing, as in the direct sum."""
    rng = np.random.default_rng(7)
    X = np.concatenate(
        [
            rng.uniform(-1, 1, size=(100, 2)),
            rng.uniform(-2.2, 2.2, size=(200, 2)),  # many just outside [-1, 1]^2
            rng.uniform(20, 30, size=(20, 2)),  # far away
        ]
    )
    w = rng.uniform(size=X.shape[0])
    K, d2 = gaussian(0.15**2 * np.eye(2))
    axes = axes_for([-1, -1], [1, 1], (81, 81))
    got = binned_grid_density(X, w, axes, K, [1.2, 1.2])
    ref = direct(X, w, axes, K)
    assert np.max(np.abs(got - ref)) <= binning_bound(w, deltas_of(axes), d2)
    assert np.max(np.abs(got - ref)) <= 5e-3 * ref.max()


@pytest.mark.parametrize("max_fft_size", [1, 300, 2**22])
def test_capped_extension_adds_the_rest_exactly(max_fft_size, monkeypatch):
    """With a small FFT budget the binning grid is not extended; the points beyond it
    are added by direct evaluation and the answer does not change."""
    calls = []
    real = _grid._add_far_points

    def spy(out, X_far, *args):
        calls.append(X_far.shape[0])
        return real(out, X_far, *args)

    monkeypatch.setattr(_grid, "_add_far_points", spy)
    rng = np.random.default_rng(8)
    X = rng.normal(0, 1.5, size=(300, 1))
    w = np.full(300, 1 / 300)
    K, d2 = gaussian([[0.2**2]])
    axes = [np.linspace(-1, 1, 101)]
    got = binned_grid_density(X, w, axes, K, [1.6], max_fft_size=max_fft_size)
    ref = direct(X, w, axes, K)
    assert np.max(np.abs(got - ref)) <= binning_bound(w, deltas_of(axes), d2)
    if max_fft_size == 1:
        assert calls and calls[0] > 50  # the direct path did the outside points
    if max_fft_size == 2**22:
        assert not calls  # everything within reach was binned


def test_heavy_tailed_kernel_with_infinite_support():
    """Cauchy kernel, support=inf: far points matter and are all accounted for,
    whether binned on a wide extension or evaluated directly."""
    rng = np.random.default_rng(9)
    X = np.concatenate(
        [rng.standard_cauchy(size=(300, 1)), [[1e3], [-5e4], [1e7]]], axis=0
    )
    w = rng.uniform(size=X.shape[0])
    h = 0.25
    K, d2 = cauchy_1d(h)
    axes = [np.linspace(-3, 3, 241)]
    ref = direct(X, w, axes, K)
    bound = binning_bound(w, deltas_of(axes), [d2])
    for max_fft_size in (2**22, 2000, 1):
        got = binned_grid_density(X, w, axes, K, [np.inf], max_fft_size=max_fft_size)
        assert np.max(np.abs(got - ref)) <= bound
        assert np.max(np.abs(got - ref)) <= 2e-3 * ref.max()


def test_outside_points_3d_with_capped_extension():
    rng = np.random.default_rng(10)
    X = rng.uniform(-2, 2, size=(200, 3))
    w = rng.uniform(size=200)
    K, d2 = gaussian(np.diag([0.3, 0.4, 0.35]) ** 2)
    axes = axes_for([-1, -1, -1], [1, 1.2, 0.8], (21, 23, 17))
    support = 6 * np.array([0.3, 0.4, 0.35])
    ref = direct(X, w, axes, K)
    bound = binning_bound(w, deltas_of(axes), d2)
    for max_fft_size in (2**22, 30000):
        got = binned_grid_density(X, w, axes, K, support, max_fft_size=max_fft_size)
        # truncation at 6 sigma adds at most sum(w) K(0) exp(-18)
        assert np.max(np.abs(got - ref)) <= bound + np.sum(w) * K(np.zeros(3)) * 2e-8


# ---------------------------------------------------------------- weights


def test_weights_are_respected():
    rng = np.random.default_rng(11)
    X = rng.normal(size=(300, 2))
    w = rng.exponential(size=300)
    w[::3] = 0.0
    K, d2 = gaussian([[0.09, 0.02], [0.02, 0.12]])
    axes = axes_for([-4, -4], [4, 4], (121, 121))
    got = binned_grid_density(X, w, axes, K, [2.4, 2.8])
    ref = direct(X, w, axes, K)
    assert np.max(np.abs(got - ref)) <= binning_bound(w, deltas_of(axes), d2)
    # zero weights are the same as dropping the points
    keep = w > 0
    dropped = binned_grid_density(X[keep], w[keep], axes, K, [2.4, 2.8])
    np.testing.assert_allclose(got, dropped, rtol=0, atol=1e-12 * got.max())
    # linear in the weights
    twice = binned_grid_density(X, 2.0 * w, axes, K, [2.4, 2.8])
    np.testing.assert_allclose(twice, 2.0 * got, rtol=1e-12, atol=1e-14)


def test_all_zero_weights_and_no_points():
    K, _ = gaussian([[0.1]])
    axes = [np.linspace(0, 1, 11)]
    X = np.linspace(0, 1, 7)[:, None]
    assert np.all(binned_grid_density(X, np.zeros(7), axes, K, [1.0]) == 0)
    empty = binned_grid_density(np.empty((0, 1)), np.empty(0), axes, K, [1.0])
    assert empty.shape == (11,)
    assert np.all(empty == 0)


# ---------------------------------------------------------------- against KDEpy


@pytest.mark.parametrize("n, bw", [(2000, 0.1), (20000, 0.35)])
def test_matches_kdepy_fftkde_1d(n, bw):
    """KDEpy's FFTKDE bins linearly as well and truncates its Gaussian at
    ``floor(practical_support / dx)`` cells; with that truncation as ``support``
    the two agree to round-off (1e-10 of the peak)."""
    kdepy = pytest.importorskip("KDEpy")
    rng = np.random.default_rng(12)
    x = rng.normal(size=n)
    w = rng.uniform(0.5, 1.5, size=n)
    fft = kdepy.FFTKDE(kernel="gaussian", bw=bw).fit(x, weights=w)
    grid, y = fft.evaluate(1024)
    dx = grid[1] - grid[0]
    cells = np.floor(fft.kernel.practical_support(bw) / dx)
    K, _ = gaussian([[bw**2]])
    got = binned_grid_density(x[:, None], w / w.sum(), [grid], K, [cells * dx])
    np.testing.assert_allclose(got, y, rtol=0, atol=1e-10 * y.max())
    # untruncated (8 sigma), it differs only by KDEpy's truncated tails
    wide = binned_grid_density(x[:, None], w / w.sum(), [grid], K, [8 * bw])
    np.testing.assert_allclose(wide, y, rtol=0, atol=2e-4 * y.max())


# ---------------------------------------------------------------- bad inputs


def _ok():
    K, _ = gaussian([[0.1]])
    return np.zeros((5, 1)), np.ones(5), [np.linspace(-1, 1, 11)], K, [1.0]


def _with(**changes):
    X, w, axes, K, support = _ok()
    args = {"X": X, "weights": w, "grid_axes": axes, "kernel_on_offsets": K}
    args["support"] = support
    args.update(changes)
    return args


@pytest.mark.parametrize(
    "changes, name",
    [
        ({"X": np.zeros(5)}, "X"),
        ({"X": np.zeros((5, 4))}, "X"),
        ({"X": np.array([[0.0], [np.nan], [0], [0], [0]])}, "X"),
        ({"X": np.array([[0.0], [np.inf], [0], [0], [0]])}, "X"),
        ({"weights": np.ones(4)}, "weights"),
        ({"weights": -np.ones(5)}, "weights"),
        ({"weights": np.array([1.0, np.nan, 1, 1, 1])}, "weights"),
        ({"weights": np.array([1.0, np.inf, 1, 1, 1])}, "weights"),
        ({"grid_axes": [np.linspace(-1, 1, 11)] * 2}, "grid_axes"),
        ({"grid_axes": np.linspace(-1, 1, 11)}, "grid_axes"),
        ({"grid_axes": [np.array([0.0])]}, "grid_axes"),
        ({"grid_axes": [np.linspace(1, -1, 11)]}, "grid_axes"),
        ({"grid_axes": [np.array([0.0, 0.1, 0.3, 0.4])]}, "grid_axes"),
        ({"grid_axes": [np.array([0.0, 0.0, 0.0])]}, "grid_axes"),
        ({"grid_axes": [np.array([0.0, np.nan, 1.0])]}, "grid_axes"),
        ({"grid_axes": [np.ones((3, 2))]}, "grid_axes"),
        ({"support": [0.0]}, "support"),
        ({"support": [-1.0]}, "support"),
        ({"support": [np.nan]}, "support"),
        ({"support": [1.0, 1.0]}, "support"),
        ({"kernel_on_offsets": lambda u: u}, "kernel_on_offsets"),
        ({"kernel_on_offsets": lambda u: np.full(u.shape[:-1], np.nan)}, "kernel_on"),
    ],
)
def test_bad_inputs_raise(changes, name):
    with pytest.raises(ValueError, match=name):
        binned_grid_density(**_with(**changes))


def test_bad_dimension_names_d():
    K, _ = gaussian(np.eye(4))
    X = np.zeros((3, 4))
    axes = [np.linspace(0, 1, 5)] * 4
    with pytest.raises(ValueError, match="d=4"):
        binned_grid_density(X, np.ones(3), axes, K, np.ones(4))


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"max_fft_size": 0}, "max_fft_size"),
        ({"max_fft_size": 2.5}, "max_fft_size"),
        ({"working_memory": 0}, "working_memory"),
        ({"working_memory": np.inf}, "working_memory"),
    ],
)
def test_bad_budgets_raise(kwargs, name):
    with pytest.raises(ValueError, match=name):
        binned_grid_density(**_with(), **kwargs)


def test_scalar_support_and_list_inputs():
    K, _ = gaussian([[0.04]])
    X = [[0.1], [0.3]]
    got = binned_grid_density(X, [1.0, 2.0], [list(np.linspace(-1, 1, 21))], K, 3.0)
    ref = direct(np.array(X), np.array([1.0, 2.0]), [np.linspace(-1, 1, 21)], K)
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-13)
