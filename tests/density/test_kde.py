"""KernelDensity against scikit-learn, scipy, dense numpy and closed forms."""

import pickle

import numpy as np
import pytest
from scipy import integrate, stats
from scipy.special import gammaln, logsumexp
from sklearn.neighbors import KernelDensity as SkKDE

from kernlearn.density import ExtremeValueRegimeWarning, KernelDensity
from kernlearn.density._kernels import (
    DENSITY_KERNELS,
    SKLEARN_SHARED,
    log_normaliser,
    unit_second_moment,
)

RNG = np.random.default_rng(20261123)


def _dense_reference(X, Y, H, w=None):
    """Gaussian mixture log density with kernel covariance H (dense numpy)."""
    n = X.shape[0]
    w = np.full(n, 1.0 / n) if w is None else w / w.sum()
    L = np.linalg.cholesky(H)
    diff = Y[:, None, :] - X[None, :, :]
    z = np.linalg.solve(L, diff.reshape(-1, X.shape[1]).T).T.reshape(diff.shape)
    d = X.shape[1]
    logk = -0.5 * np.sum(z * z, axis=2) - 0.5 * d * np.log(2 * np.pi)
    logk -= np.sum(np.log(np.diag(L)))
    return logsumexp(logk + np.log(w)[None, :], axis=1)


# --------------------------------------------------------------- scikit-learn
@pytest.mark.parametrize("kernel", SKLEARN_SHARED)
@pytest.mark.parametrize("d", [1, 3])
def test_matches_sklearn_exact(kernel, d):
    X = RNG.standard_normal((400, d))
    # Queries near the data: scikit-learn's trees at rtol = atol = 0 are exact
    # there; far from it they prune with errors up to 1e-3 (see the next test).
    Y = RNG.standard_normal((60, d))
    w = RNG.uniform(0.1, 2.0, 400)
    for sw in (None, w):
        ours = KernelDensity(bandwidth=0.8, kernel=kernel).fit(X, sample_weight=sw)
        ref = SkKDE(
            bandwidth=0.8, kernel=kernel, rtol=0, atol=0, algorithm="ball_tree"
        ).fit(X, sample_weight=sw)
        a, b = ours.score_samples(Y), ref.score_samples(Y)
        both = np.isfinite(a) & np.isfinite(b)
        np.testing.assert_allclose(a[both], b[both], rtol=1e-10, atol=0)
        # Support edges: one side may round a point just in, the other just out;
        # the density there is below 1e-12 of its maximum.
        with np.errstate(under="ignore"):
            np.testing.assert_allclose(np.exp(a), np.exp(b), rtol=0, atol=1e-12)


def test_far_queries_against_dense_numpy():
    X = RNG.standard_normal((400, 3))
    Y = 5 + RNG.standard_normal((20, 3))
    w = RNG.uniform(0.1, 2.0, 400)
    got = KernelDensity(bandwidth=0.8).fit(X, sample_weight=w).score_samples(Y)
    np.testing.assert_allclose(
        got, _dense_reference(X, Y, 0.64 * np.eye(3), w), rtol=1e-13
    )


def test_high_dimension_finite_where_sklearn_underflows():
    d = 500
    X = RNG.standard_normal((300, d))
    Y = RNG.standard_normal((20, d))
    ours = KernelDensity(bandwidth=0.5).fit(X).score_samples(Y)
    with np.errstate(divide="ignore"):
        sk = SkKDE(bandwidth=0.5, rtol=0, atol=0).fit(X).score_samples(Y)
    ref = _dense_reference(X, Y, 0.25 * np.eye(d))
    # scikit-learn's sums lose these queries (-inf or off by hundreds of nats)
    assert np.sum(~np.isfinite(sk) | (np.abs(sk - ref) > 100)) >= 5
    np.testing.assert_allclose(ours, ref, rtol=1e-12)
    assert np.all(ours < -1000)  # every kernel value is below 1e-434


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_backends_agree(backend):
    X = RNG.standard_normal((3000, 8))
    Y = RNG.standard_normal((200, 8))
    ref = KernelDensity(bandwidth=0.6, backend="numpy").fit(X).score_samples(Y)
    got = KernelDensity(bandwidth=0.6, backend=backend).fit(X).score_samples(Y)
    np.testing.assert_allclose(got, ref, rtol=1e-12)


# ---------------------------------------------------------------------- scipy
@pytest.mark.parametrize("d", [1, 2, 4])
def test_matches_scipy_gaussian_kde(d):
    A = RNG.standard_normal((d, d)) + 2 * np.eye(d)
    X = RNG.standard_normal((500, d)) @ A
    Y = RNG.standard_normal((50, d)) @ A
    w = RNG.uniform(0.5, 1.5, 500)
    ref = stats.gaussian_kde(X.T, weights=w)
    ours = KernelDensity(bandwidth=ref.factor, whiten=True).fit(X, sample_weight=w)
    np.testing.assert_allclose(ours.score_samples(Y), ref.logpdf(Y.T), rtol=1e-10)
    np.testing.assert_allclose(ours.bandwidth_matrix_, ref.covariance, rtol=1e-10)


# ------------------------------------------------------- bandwidth shapes
def test_per_feature_and_matrix_bandwidth_against_dense():
    X = RNG.standard_normal((200, 3))
    Y = RNG.standard_normal((30, 3))
    hs = np.array([0.3, 0.7, 1.5])
    got = KernelDensity(bandwidth=hs).fit(X).score_samples(Y)
    np.testing.assert_allclose(got, _dense_reference(X, Y, np.diag(hs**2)), rtol=1e-12)
    B = RNG.standard_normal((3, 3))
    H = B @ B.T + 0.2 * np.eye(3)
    got = KernelDensity(bandwidth=H).fit(X).score_samples(Y)
    np.testing.assert_allclose(got, _dense_reference(X, Y, H), rtol=1e-12)


def test_sample_weight_semantics():
    X = RNG.standard_normal((50, 2))
    Y = RNG.standard_normal((10, 2))
    counts = RNG.integers(0, 4, 50)
    counts[0] = 1
    a = KernelDensity(bandwidth=0.5).fit(X, sample_weight=counts).score_samples(Y)
    b = KernelDensity(bandwidth=0.5).fit(np.repeat(X, counts, axis=0)).score_samples(Y)
    np.testing.assert_allclose(a, b, rtol=1e-12)
    c = KernelDensity(bandwidth=0.5).fit(X, sample_weight=7.5 * counts).score_samples(Y)
    np.testing.assert_allclose(a, c, rtol=1e-12)


# ------------------------------------------------- normalisation, each kernel
KERNEL_CASES = [(k, 1.5) for k in DENSITY_KERNELS] + [
    ("matern", 0.5),
    ("matern", 2.5),
    ("matern", 0.8),
]


def _unit_log_density(kernel, nu, d, r):
    kde = KernelDensity(bandwidth=1.0, kernel=kernel, nu=nu).fit(np.zeros((1, d)))
    Y = np.zeros((np.size(r), d))
    Y[:, 0] = r
    return kde.score_samples(Y)


@pytest.mark.parametrize("kernel,nu", KERNEL_CASES)
@pytest.mark.parametrize("d", [1, 2, 5])
def test_density_integrates_to_one(kernel, nu, d):
    """Radial quadrature: int S_d r^(d-1) f(r) dr = 1 (S_d textbook)."""
    log_area = np.log(2.0) + 0.5 * d * np.log(np.pi) - gammaln(0.5 * d)

    def integrand(r):
        return np.exp(
            log_area + (d - 1) * np.log(r) + _unit_log_density(kernel, nu, d, r)
        )

    upper = 1.0 if kernel in ("tophat", "epanechnikov", "linear", "cosine") else np.inf
    total = integrate.quad(lambda r: integrand(np.array([r]))[0], 0, upper, limit=200)[
        0
    ]
    tol = 1e-3 if kernel == "cauchy" and d == 1 else 1e-6
    assert total == pytest.approx(1.0, rel=tol)


def test_normalisers_against_scipy_distributions():
    for d in (1, 7, 300):
        y = RNG.standard_normal((5, d))
        got = _multi_point(KernelDensity(bandwidth=1.0), d, y)
        ref = stats.multivariate_normal(np.zeros(d), np.eye(d)).logpdf(y)
        np.testing.assert_allclose(got, ref, rtol=1e-12)
        got = _multi_point(KernelDensity(bandwidth=1.0, kernel="cauchy"), d, y)
        ref = stats.multivariate_t(np.zeros(d), np.eye(d), df=1).logpdf(y)
        np.testing.assert_allclose(got, ref, rtol=1e-10)
    # Matern nu = 1/2 is the exponential kernel in every dimension.
    for d in (1, 10, 500):
        assert log_normaliser("matern", d, 0.5) == pytest.approx(
            log_normaliser("exponential", d), rel=1e-12
        )


def _multi_point(kde, d, y):
    return kde.fit(np.zeros((1, d))).score_samples(y)


def test_cosine_normaliser_large_dimension():
    for d in (1, 3, 50, 400):
        num = integrate.quad(
            lambda r, d=d: np.cos(0.5 * np.pi * r) * r ** (d - 1), 0, 1, points=[0.99]
        )[0]
        area = np.log(2.0) + 0.5 * d * np.log(np.pi) - gammaln(0.5 * d)
        assert log_normaliser("cosine", d) == pytest.approx(
            area + np.log(num), rel=1e-9
        )


# ------------------------------------------------------------------ sampling
@pytest.mark.parametrize("kernel,nu", KERNEL_CASES)
def test_sample_1d_follows_the_density(kernel, nu):
    """Kolmogorov-Smirnov against the CDF integrated from score_samples."""
    X = np.array([[0.0], [3.0]])
    kde = KernelDensity(bandwidth=0.7, kernel=kernel, nu=nu).fit(
        X, sample_weight=[1, 3]
    )
    draws = kde.sample(4000, random_state=0)[:, 0]

    def f(u):
        return np.exp(kde.score_samples(np.asarray(u, dtype=float).reshape(-1, 1)))

    fine = np.linspace(-30, 7, 200_001)
    F = integrate.cumulative_trapezoid(f(fine), fine, initial=0.0)
    F += integrate.quad(lambda u: f([u])[0], -np.inf, -30)[0]
    grid = np.linspace(-4, 7, 45)
    F = np.interp(grid, fine, F)
    emp = np.searchsorted(np.sort(draws), grid) / draws.size
    # DKW: P(sup |F_n - F| > 0.035) <= 2 exp(-2 n 0.035^2) = 1.1e-4 at n = 4000
    assert np.max(np.abs(emp - F)) < 0.035


@pytest.mark.parametrize("kernel,nu", [c for c in KERNEL_CASES if c[0] != "cauchy"])
def test_sample_second_moment_in_3d(kernel, nu):
    d, h = 3, 0.5
    kde = KernelDensity(bandwidth=h, kernel=kernel, nu=nu).fit(np.zeros((1, d)))
    U = kde.sample(20000, random_state=1)
    r2 = np.sum(U * U, axis=1)

    # independent reference: radial quadrature of r^2 against the density
    def f(r, p):
        return np.exp(_unit_log_density(kernel, nu, d, np.array([r]))[0]) * r ** (
            d - 1 + p
        )

    upper = 1.0 if kernel in ("tophat", "epanechnikov", "linear", "cosine") else np.inf
    m2 = (
        integrate.quad(f, 0, upper, args=(2,))[0]
        / integrate.quad(f, 0, upper, args=(0,))[0]
    )
    assert unit_second_moment(kernel, d, nu) == pytest.approx(m2, rel=1e-6)
    se = r2.std() / np.sqrt(r2.size)
    assert abs(r2.mean() - h * h * m2) < 5 * se


def test_sample_full_bandwidth_matrix_covariance():
    H = np.array([[1.0, 0.6], [0.6, 0.5]])
    kde = KernelDensity(bandwidth=H).fit(np.zeros((1, 2)))
    U = kde.sample(40000, random_state=2)
    np.testing.assert_allclose(np.cov(U.T), H, atol=0.03)


def test_sample_warns_in_extreme_value_regime():
    X = RNG.standard_normal((500, 40))
    with pytest.warns(ExtremeValueRegimeWarning):
        KernelDensity(bandwidth=0.2).fit(X).sample(3, random_state=0)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        KernelDensity(bandwidth=3.0).fit(X).sample(3, random_state=0)


# -------------------------------------------------------------------- bounds
def test_bounds_reflection_matches_formula_and_integrates():
    x = RNG.exponential(1.0, 300)[:, None]
    kde = KernelDensity(bandwidth=0.3, bounds=[[0.0, np.inf]]).fit(x)
    y = np.array([[-0.1], [0.0], [0.05], [0.4], [2.0]])
    got = np.exp(kde.score_samples(y))
    ref = (
        stats.norm.pdf(y[:, 0, None], x[:, 0], 0.3)
        + stats.norm.pdf(y[:, 0, None], -x[:, 0], 0.3)
    ).mean(axis=1)
    ref[y[:, 0] < 0] = 0.0
    np.testing.assert_allclose(got, ref, rtol=1e-12)
    f = lambda t: np.exp(kde.score_samples(np.array([[t]])))[0]  # noqa: E731
    assert integrate.quad(f, 0, 40, limit=200)[0] == pytest.approx(1.0, rel=1e-8)
    s = kde.sample(2000, random_state=0)
    assert np.all(s >= 0)


def test_bounds_box_2d_integrates_to_one_when_narrow():
    X = RNG.uniform(0, 1, (200, 2))
    kde = KernelDensity(bandwidth=0.05, bounds=[[0, 1], [0, 1]]).fit(X)
    axes, dens = kde.evaluate_grid([np.linspace(0, 1, 201)] * 2, method="exact")
    mass = integrate.simpson(integrate.simpson(dens, x=axes[1]), x=axes[0])
    assert mass == pytest.approx(1.0, abs=2e-3)


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize(
    "params,match",
    [
        ({"bandwidth": 0.0}, "bandwidth"),
        ({"bandwidth": -1.0}, "bandwidth"),
        ({"bandwidth": "wrong"}, "bandwidth"),
        ({"bandwidth": [1.0, 2.0]}, "bandwidth"),
        ({"bandwidth": [[1, 2, 0], [2, 1, 0], [0, 0, 1]]}, "positive definite"),
        ({"bandwidth": [[1, 2, 0], [0, 1, 0], [0, 0, 1]]}, "symmetric"),
        ({"bandwidth": np.nan}, "bandwidth"),
        ({"kernel": "box"}, "kernel"),
        ({"nu": 0}, "nu"),
        ({"bandwidth": "isj"}, "isj"),
        ({"bounds": [[0, 1]]}, "bounds"),
        ({"whiten": True, "bandwidth": [1.0, 1.0, 1.0]}, "whiten"),
    ],
)
def test_bad_parameters(params, match):
    X = RNG.standard_normal((20, 3))
    with pytest.raises(ValueError, match=match):
        KernelDensity(**params).fit(X)


def test_bad_data():
    X = RNG.standard_normal((20, 3))
    bad = X.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        KernelDensity(bandwidth=1.0).fit(bad)
    with pytest.raises(ValueError, match="(?i)sample.weight"):
        KernelDensity(bandwidth=1.0).fit(X, sample_weight=np.zeros(20))
    with pytest.raises(ValueError, match="sample_weight"):
        KernelDensity(bandwidth=1.0).fit(X, sample_weight=-np.ones(20))
    kde = KernelDensity(bandwidth=1.0).fit(X)
    with pytest.raises(ValueError, match="features"):
        kde.score_samples(X[:, :2])
    with pytest.raises(ValueError, match="bounds"):
        KernelDensity(bounds=[[0, 1]] * 3).fit(X)  # points outside
    with pytest.raises(ValueError, match="spread"):
        KernelDensity(bandwidth="scott").fit(np.ones((10, 2)))


def test_more_features_than_samples():
    X = RNG.standard_normal((30, 100))
    with pytest.raises(ValueError, match="whiten"):
        KernelDensity(whiten=True).fit(X)
    # spectrum-based and spread-based rules work (zero eigenvalues are harmless)
    for rule in ("gaussian_reference_hd", "scott", "nn", "loo_ml"):
        kde = KernelDensity(bandwidth=rule).fit(X)
        assert np.isfinite(kde.bandwidth_) and kde.bandwidth_ > 0
        assert np.all(np.isfinite(kde.score_samples(X[:3])))


def test_failed_fit_leaves_estimator_untouched():
    kde = KernelDensity(bandwidth=1.0).fit(RNG.standard_normal((20, 2)))
    before = kde.bandwidth_matrix_.copy()
    kde.set_params(bandwidth=-1.0)
    with pytest.raises(ValueError):
        kde.fit(RNG.standard_normal((20, 2)))
    np.testing.assert_array_equal(kde.bandwidth_matrix_, before)


def test_score_and_pickle():
    X = RNG.standard_normal((100, 2))
    kde = KernelDensity(bandwidth="silverman").fit(X)
    assert kde.score(X) == pytest.approx(kde.score_samples(X).sum())
    clone = pickle.loads(pickle.dumps(kde))
    np.testing.assert_array_equal(clone.score_samples(X), kde.score_samples(X))


# --------------------------------------------------------------------- grids
@pytest.mark.parametrize("kernel", ["gaussian", "epanechnikov", "cauchy", "matern"])
@pytest.mark.parametrize("d,n_points,tol", [(1, 512, 1e-3), (2, 96, 2.5e-2)])
def test_fft_grid_matches_direct_evaluation(kernel, d, n_points, tol):
    X = RNG.standard_normal((1500, d))
    kde = KernelDensity(kernel=kernel).fit(X, sample_weight=RNG.uniform(0, 1, 1500))
    axes, fft = kde.evaluate_grid(n_points=n_points)
    _, exact = kde.evaluate_grid(axes, method="exact")
    assert np.max(np.abs(fft - exact)) < tol * exact.max()


def test_fft_grid_with_bounds_and_errors():
    x = RNG.exponential(1.0, (3000, 1))
    kde = KernelDensity(bandwidth=0.1, bounds=[[0.0, np.inf]]).fit(x)
    axes, fft = kde.evaluate_grid()
    assert axes[0][0] == 0.0
    _, exact = kde.evaluate_grid(axes, method="exact")
    assert np.max(np.abs(fft - exact)) < 1e-3 * exact.max()
    with pytest.raises(ValueError, match="method"):
        kde.evaluate_grid(method="slow")
    with pytest.raises(ValueError, match="1 to 3"):
        KernelDensity(bandwidth=1.0).fit(RNG.standard_normal((10, 4))).evaluate_grid()


# --------------------------------------------------------------- approximate
def test_approximate_algorithm_reports_honest_errors():
    X = RNG.standard_normal((20000, 16))
    Y = RNG.standard_normal((300, 16))
    for h, expect_exact in ((0.4, True), (4.0, False)):
        exact = KernelDensity(bandwidth=h).fit(X).score_samples(Y)
        approx = KernelDensity(
            bandwidth=h, algorithm="approximate", rtol=1e-2, random_state=0
        ).fit(X)
        got, err = approx.score_samples_with_error(Y)
        np.testing.assert_array_equal(got, approx.score_samples(Y))  # seeded
        realised = np.abs(np.expm1(got - exact))
        assert np.mean(realised <= 3 * err + 1e-12) >= 0.95
        assert np.all(err <= 1e-2)
        if expect_exact:  # extreme-value regime: the nearest points are summed
            assert np.all(err == 0) and np.max(realised) < 1e-10
        else:
            assert np.median(realised) < 1e-2 and np.all(err > 0)
    # the exact algorithm reports zero error
    _, err = KernelDensity(bandwidth=1.0).fit(X).score_samples_with_error(Y)
    assert np.all(err == 0)
