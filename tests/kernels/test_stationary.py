"""Stationary kernels against independent references.

Values: scikit-learn's RBF, Matern (its general-``nu`` branch evaluates ``kv``),
RationalQuadratic and ``laplacian_kernel``, closed forms for the others, and mpmath
(50 digits) for the general-``nu`` Matern where scipy's ``kv`` overflows or
underflows. Gradients: central finite differences in log-hyperparameter space.
"""

import warnings

import mpmath as mp
import numpy as np
import pytest
from scipy.special import kv
from sklearn.gaussian_process import kernels as sk
from sklearn.metrics.pairwise import laplacian_kernel

from kernlearn.backend._spec import log_profile
from kernlearn.kernels import (
    Cauchy,
    Cosine,
    Epanechnikov,
    Gaussian,
    L1Laplacian,
    Laplacian,
    Matern,
    RationalQuadratic,
    Tophat,
    Triangular,
)

RADIAL = [
    Gaussian,
    Laplacian,
    L1Laplacian,
    Matern,
    RationalQuadratic,
    Cauchy,
    Epanechnikov,
    Tophat,
    Triangular,
    Cosine,
]


def _data(n=9, m=7, d=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)), rng.normal(size=(m, d))


def _dist(X, Y, ls, p=2):
    D = np.abs(X[:, None, :] - Y[None, :, :]) / ls
    return D.sum(-1) if p == 1 else np.sqrt((D**2).sum(-1))


def fd_gradient(kernel, X, h=1e-5):
    """Central differences of ``kernel(X)`` in log-hyperparameter space."""
    theta = kernel.theta
    cols = []
    for i in range(theta.size):
        e = np.zeros_like(theta)
        e[i] = h
        up = kernel.clone_with_theta(theta + e)(X)
        down = kernel.clone_with_theta(theta - e)(X)
        cols.append((up - down) / (2 * h))
    return np.stack(cols, axis=-1)


# ------------------------------------------------------------------ values
@pytest.mark.parametrize("ls", [1.3, np.array([0.7, 1.1, 2.0])], ids=["iso", "aniso"])
def test_gaussian_matches_sklearn_rbf(ls):
    X, Y = _data()
    np.testing.assert_allclose(Gaussian(ls)(X, Y), sk.RBF(ls)(X, Y), rtol=1e-13)
    np.testing.assert_allclose(Gaussian(ls)(X), sk.RBF(ls)(X), rtol=1e-13)


@pytest.mark.parametrize("nu", [0.5, 1.5, 2.5, 3.7, 0.3, np.inf])
@pytest.mark.parametrize("ls", [1.2, np.array([0.7, 1.1, 2.0])], ids=["iso", "aniso"])
def test_matern_matches_sklearn(nu, ls):
    X, Y = _data()
    ref = sk.Matern(ls, nu=nu)(X, Y)
    np.testing.assert_allclose(Matern(ls, nu=nu)(X, Y), ref, rtol=1e-11, atol=1e-15)
    # sklearn sets the diagonal of k(X) to 1 explicitly for general nu
    np.testing.assert_allclose(Matern(ls, nu=nu)(X), sk.Matern(ls, nu=nu)(X), 1e-11)


@pytest.mark.parametrize("ls", [1.7, np.array([0.7, 1.1, 2.0])], ids=["iso", "aniso"])
def test_laplacian_is_euclidean_exponential(ls):
    X, Y = _data()
    ref = np.exp(-_dist(X, Y, ls))
    np.testing.assert_allclose(Laplacian(ls)(X, Y), ref, rtol=1e-13)
    np.testing.assert_allclose(Laplacian(ls)(X, Y), sk.Matern(ls, nu=0.5)(X, Y), 1e-13)


def test_l1_laplacian_matches_sklearn_laplacian_kernel():
    # sklearn's laplacian_kernel uses the L1 (Manhattan) distance
    X, Y = _data()
    ref = laplacian_kernel(X, Y, gamma=1 / 2.0)
    np.testing.assert_allclose(L1Laplacian(2.0)(X, Y), ref, rtol=1e-13)
    ls = np.array([0.7, 1.1, 2.0])
    ref = np.exp(-_dist(X, Y, ls, p=1))
    np.testing.assert_allclose(L1Laplacian(ls)(X, Y), ref, rtol=1e-13)


def test_rational_quadratic_matches_sklearn():
    X, Y = _data()
    k = RationalQuadratic(1.4, alpha=0.8)
    ref = sk.RationalQuadratic(1.4, alpha=0.8)(X, Y)
    np.testing.assert_allclose(k(X, Y), ref, rtol=1e-13)
    _, G = k(X, eval_gradient=True)
    _, G_ref = sk.RationalQuadratic(1.4, alpha=0.8)(X, eval_gradient=True)
    # sklearn orders theta (alpha, length_scale) too
    np.testing.assert_allclose(G, G_ref, rtol=1e-10, atol=1e-14)


def test_rational_quadratic_anisotropic_closed_form():
    X, Y = _data()
    ls, alpha = np.array([0.7, 1.1, 2.0]), 2.5
    r2 = _dist(X, Y, ls) ** 2
    ref = (1 + r2 / (2 * alpha)) ** -alpha
    k = RationalQuadratic(ls, alpha=alpha)
    np.testing.assert_allclose(k(X, Y), ref, rtol=1e-13)


def test_cauchy_closed_form_and_rq_identity():
    X, Y = _data()
    ref = 1 / (1 + _dist(X, Y, 1.1) ** 2)
    np.testing.assert_allclose(Cauchy(1.1)(X, Y), ref, rtol=1e-13)
    rq = sk.RationalQuadratic(1.1 / np.sqrt(2), alpha=1.0)(X, Y)
    np.testing.assert_allclose(Cauchy(1.1)(X, Y), rq, rtol=1e-13)


COMPACT = {
    Epanechnikov: lambda r: np.maximum(0.0, 1 - r**2),
    Tophat: lambda r: (r < 1).astype(float),
    Triangular: lambda r: np.maximum(0.0, 1 - r),
    Cosine: lambda r: np.where(r < 1, np.cos(np.pi * np.minimum(r, 1) / 2), 0.0),
}


@pytest.mark.parametrize("cls", list(COMPACT), ids=lambda c: c.__name__)
def test_compact_kernels_closed_form(cls):
    X, Y = _data(30, 25, 2)
    for ls in (2.5, np.array([1.5, 3.0])):
        ref = COMPACT[cls](_dist(X, Y, ls))
        np.testing.assert_allclose(cls(ls)(X, Y), ref, rtol=1e-13, atol=1e-15)
        assert 0 < np.count_nonzero(ref) < ref.size  # both sides of the support


@pytest.mark.parametrize("cls", list(COMPACT), ids=lambda c: c.__name__)
def test_compact_kernels_support_edge(cls):
    # r = 0, 0.5, exactly 1, 1.5: the support is the open unit ball
    X = np.zeros((1, 1))
    Y = np.array([[0.0], [1.25], [2.5], [3.75]])
    got = cls(2.5)(X, Y)[0]
    np.testing.assert_allclose(got, COMPACT[cls](np.array([0.0, 0.5, 1.0, 1.5])))
    assert got[0] == 1.0 and got[2] == 0.0 and got[3] == 0.0


@pytest.mark.parametrize("cls", RADIAL, ids=lambda c: c.__name__)
def test_radial_kernels_are_normalized_and_symmetric(cls):
    X, _ = _data()
    k = cls(1.5)
    K = k(X)
    np.testing.assert_allclose(K, K.T)
    np.testing.assert_array_equal(np.diag(K), 1.0)
    np.testing.assert_array_equal(k.diag(X), np.ones(len(X)))
    np.testing.assert_allclose(k(X, X), K, rtol=1e-12, atol=1e-15)
    assert k.is_stationary()


# ----------------------------------------------- general-nu Matern, log space
def _mp_log_matern(nu, r):
    """log k of the Matern kernel (length scale 1) at distance r, 50 digits."""
    with mp.workdps(50):
        nu, r = mp.mpf(nu), mp.mpf(r)
        x = mp.sqrt(2 * nu) * r
        return float(
            (1 - nu) * mp.log(2)
            - mp.loggamma(nu)
            + nu * mp.log(x)
            + mp.log(mp.besselk(nu, x))
        )


MATERN_POINTS = [
    (nu, r)
    for nu in (0.3, 3.7, 25.5, 300.0)
    for r in (1e-3, 0.1, 1.0, 10.0, 100.0, 1e3)
]


def test_matern_log_space_against_mpmath():
    nus = sorted({nu for nu, _ in MATERN_POINTS})
    scipy_failures = 0
    for nu in nus:
        r = np.array([r for n, r in MATERN_POINTS if n == nu])
        spec = Matern(1.0, nu=nu)._engine_spec()
        assert spec.family == "matern" and spec.params == (nu,)
        got = log_profile(spec, r**2)
        ref = np.array([_mp_log_matern(nu, ri) for ri in r])
        assert np.all(np.isfinite(got))
        # an absolute error of 1e-11 in log k is a relative error of 1e-11 in k
        np.testing.assert_allclose(got, ref, rtol=1e-11, atol=1e-11)
        with np.errstate(all="ignore"):
            kvals = kv(nu, np.sqrt(2 * nu) * r)
        scipy_failures += np.count_nonzero((kvals == 0) | ~np.isfinite(kvals))
    # the points include many where scipy's kv under- or overflows
    assert scipy_failures >= 8


@pytest.mark.parametrize("nu", [0.3, 3.7, 300.0])
def test_matern_values_large_r_and_nu_are_finite(nu):
    r = np.array([0.0, 1e-200, 1e-8, 1e-3, 0.5, 1.0, 3.0, 30.0, 1e3, 1e5])
    X = np.zeros((1, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        K = Matern(1.0, nu=nu)(X, r[:, None])[0]
        _, G = Matern(1.0, nu=nu)(r[:, None], eval_gradient=True)
    assert K[0] == 1.0 and K[1] == 1.0
    assert np.all(np.isfinite(K)) and np.all((K >= 0) & (K <= 1))
    assert np.all(np.diff(K) <= 0)  # decreasing in r
    assert K[-1] == 0.0  # exp(-large) underflows to 0, not NaN
    assert np.all(np.isfinite(G))


def test_matern_large_nu_tends_to_gaussian():
    X, Y = _data()
    np.testing.assert_allclose(
        Matern(1.3, nu=1e4)(X, Y), Gaussian(1.3)(X, Y), rtol=2e-3, atol=1e-6
    )


# --------------------------------------------------------------- gradients
def _gradient_cases():
    aniso = np.array([0.7, 1.1, 2.0])
    cases = [
        Gaussian(1.3),
        Gaussian(aniso),
        Laplacian(1.7),
        Laplacian(aniso),
        L1Laplacian(2.0),
        L1Laplacian(aniso),
        RationalQuadratic(1.4, alpha=0.8),
        RationalQuadratic(aniso, alpha=2.5),
        RationalQuadratic(1.4, alpha=0.8, length_scale_bounds="fixed"),
        RationalQuadratic(aniso, alpha=0.8, alpha_bounds="fixed"),
        Cauchy(1.1),
        Cauchy(aniso),
        Epanechnikov(2.5),
        Epanechnikov(aniso * 2),
        Tophat(2.5),
        Triangular(2.5),
        Triangular(aniso * 2),
        Cosine(2.5),
        Cosine(aniso * 2),
    ]
    for nu in (0.5, 1.5, 2.5, 3.7, 0.3, 1.0, 300.0, np.inf):
        cases += [Matern(1.2, nu=nu), Matern(aniso, nu=nu)]
    return cases


@pytest.mark.parametrize("kernel", _gradient_cases(), ids=repr)
def test_gradient_matches_finite_differences(kernel):
    X, _ = _data(10, 1, 3, seed=4)
    X[3] = X[1]  # a duplicate point: r = 0 off the diagonal
    ls = np.broadcast_to(kernel.length_scale, (3,))
    r = _dist(X, X, ls)
    # keep the finite differences off the kink of the compact kernels
    assert np.all(np.abs(r - 1) > 1e-3)
    K, G = kernel(X, eval_gradient=True)
    np.testing.assert_allclose(K, kernel(X), rtol=1e-14)
    assert G.shape == (10, 10, kernel.n_dims)
    np.testing.assert_allclose(G, fd_gradient(kernel, X), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("nu", [0.5, 1.5, 2.5])
@pytest.mark.parametrize("ls", [1.2, np.array([0.7, 1.1, 2.0])], ids=["iso", "aniso"])
def test_matern_gradient_matches_sklearn(nu, ls):
    X, _ = _data()
    _, G = Matern(ls, nu=nu)(X, eval_gradient=True)
    _, G_ref = sk.Matern(ls, nu=nu)(X, eval_gradient=True)
    np.testing.assert_allclose(G, G_ref, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("ls", [1.3, np.array([0.7, 1.1, 2.0])], ids=["iso", "aniso"])
def test_gaussian_gradient_matches_sklearn(ls):
    X, _ = _data()
    _, G = Gaussian(ls)(X, eval_gradient=True)
    _, G_ref = sk.RBF(ls)(X, eval_gradient=True)
    np.testing.assert_allclose(G, G_ref, rtol=1e-12, atol=1e-15)


def test_fixed_length_scale_has_empty_gradient():
    X, _ = _data()
    K, G = Matern(1.0, length_scale_bounds="fixed", nu=3.7)(X, eval_gradient=True)
    assert G.shape == (len(X), len(X), 0)


# -------------------------------------------------------------- bad inputs
@pytest.mark.parametrize("cls", RADIAL, ids=lambda c: c.__name__)
@pytest.mark.parametrize("ls", [-1.0, 0.0, np.nan, np.inf, [1.0, -2.0, 1.0]])
def test_bad_length_scale_names_length_scale(cls, ls):
    X, _ = _data()
    with pytest.raises(ValueError, match="length_scale"):
        cls(ls)(X)
    with pytest.raises(ValueError, match="length_scale"):
        cls(ls)._engine_spec()


@pytest.mark.parametrize("cls", RADIAL, ids=lambda c: c.__name__)
def test_mismatched_length_scale_names_n_features(cls):
    X, Y = _data(d=3)
    with pytest.raises(ValueError, match="n_features"):
        cls([1.0, 2.0])(X, Y)


def test_bad_arrays():
    k = Gaussian()
    with pytest.raises(ValueError, match="2-D"):
        k(np.zeros(5))
    with pytest.raises(ValueError, match="2-D"):
        k(np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match="n_features"):
        k(np.zeros((2, 3)), np.zeros((2, 4)))
    with pytest.raises(ValueError, match="Y is None"):
        k(np.zeros((2, 3)), np.zeros((2, 3)), eval_gradient=True)


@pytest.mark.parametrize("nu", [0.0, -1.5, np.nan, "a"])
def test_bad_nu(nu):
    with pytest.raises(ValueError, match="nu"):
        Matern(nu=nu)(np.zeros((2, 1)))


@pytest.mark.parametrize("alpha", [0.0, -1.0, np.nan])
def test_bad_alpha(alpha):
    with pytest.raises(ValueError, match="alpha"):
        RationalQuadratic(alpha=alpha)(np.zeros((2, 1)))
