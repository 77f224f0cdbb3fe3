"""Kronecker GP against the dense exact GP (scikit-learn and numpy).

References: scikit-learn's GaussianProcessRegressor with an anisotropic RBF
(the product of per-axis Gaussians) and a WhiteKernel, for the log marginal
likelihood, its gradient and the predictions; dense numpy formulas with
np.kron for kernels scikit-learn cannot express as a product (Matern per
axis); central finite differences for the gradient.
"""

import math

import numpy as np
import pytest
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel

from kernlearn.gaussian_process import (
    KroneckerGaussianProcessRegressor,
    detect_grid,
    kron_diag,
    kron_mv,
)
from kernlearn.kernels import Gaussian, Matern


def grid_points(*axes):
    mesh = np.meshgrid(*axes, indexing="ij")
    return np.stack([m.ravel() for m in mesh], axis=1)


def planted(X, rng, m=1):
    f = np.sin(3 * X[:, 0])
    for d in range(1, X.shape[1]):
        f = f * np.cos(2 * X[:, d] + d)
    Y = f[:, None] + 0.05 * rng.normal(size=(len(X), m))
    return Y[:, 0] if m == 1 else Y


# ------------------------------------------------------------ algebra
def test_kron_mv_and_diag_match_np_kron():
    rng = np.random.default_rng(0)
    mats = [rng.normal(size=(p, n)) for p, n in [(3, 4), (2, 5), (4, 3)]]
    x = rng.normal(size=(60, 2))
    dense = np.kron(np.kron(mats[0], mats[1]), mats[2])
    got = kron_mv(mats, x.reshape(4, 5, 3, 2)).reshape(-1, 2)
    np.testing.assert_allclose(got, dense @ x, rtol=1e-12, atol=1e-12)
    vs = [rng.normal(size=n) for n in (4, 5, 3)]
    np.testing.assert_allclose(
        kron_diag(vs).ravel(), np.kron(np.kron(vs[0], vs[1]), vs[2]), rtol=1e-14
    )


def test_detect_grid_in_any_row_order():
    X = grid_points([0.0, 1.0, 3.0], [2.0, -1.0])
    perm = np.random.default_rng(1).permutation(len(X))
    axes, cells, complete = detect_grid(X[perm])
    assert complete and [a.tolist() for a in axes] == [[0, 1, 3], [-1, 2]]
    assert not detect_grid(X[:-1])[2]  # a missing cell
    assert not detect_grid(np.vstack([X, X[:1]]))[2]  # a repeated one


# ------------------------------------------------------------ vs scikit-learn
@pytest.fixture
def grid2d():
    rng = np.random.default_rng(2)
    X = grid_points(np.sort(rng.uniform(0, 2, 7)), np.sort(rng.uniform(0, 3, 6)))
    return X, planted(X, rng)


def _pair(ls=(0.7, 1.3), amp=1.5, noise=0.01):
    ours = KroneckerGaussianProcessRegressor(
        [ConstantKernel(amp) * Gaussian(ls[0]), Gaussian(ls[1])],
        noise_variance=noise,
        optimizer=None,
    )
    ref = GaussianProcessRegressor(
        ConstantKernel(amp) * RBF(list(ls)) + WhiteKernel(noise),
        optimizer=None,
        alpha=0.0,
    )
    return ours, ref


def test_lml_gradient_and_predictions_equal_sklearn(grid2d):
    X, y = grid2d
    ours, ref = _pair()
    perm = np.random.default_rng(3).permutation(len(X))
    ours.fit(X[perm], y[perm])  # rows in any order
    ref.fit(X, y)
    assert ours.algorithm_ == "kronecker"
    # theta order: amplitude, ls_0, ls_1, noise -- the same as scikit-learn's
    lml, grad = ours.log_marginal_likelihood(ours._pack(ours.kernels_, 0.01), True)
    lml_ref, grad_ref = ref.log_marginal_likelihood(ref.kernel_.theta, True)
    assert lml == pytest.approx(lml_ref, rel=1e-10)
    np.testing.assert_allclose(grad, grad_ref, rtol=1e-8, atol=1e-10)
    Xs = np.random.default_rng(4).uniform(-0.5, 3.5, size=(40, 2))
    m, s = ours.predict(Xs, return_std=True)
    ref_kernel_nonoise = ConstantKernel(1.5) * RBF([0.7, 1.3])
    mr = ref.predict(Xs)
    K = ref_kernel_nonoise(Xs, X)
    C = ref_kernel_nonoise(X) + 0.01 * np.eye(len(X))
    sr = np.sqrt(1.5 - np.einsum("ij,ji->i", K, np.linalg.solve(C, K.T)))
    np.testing.assert_allclose(m, mr, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(s, sr, rtol=1e-8, atol=1e-10)


def test_gradient_matches_finite_differences(grid2d):
    X, y = grid2d
    gp = KroneckerGaussianProcessRegressor(
        [ConstantKernel(1.2) * Matern(0.8, nu=2.5), Matern(1.1, nu=1.5)],
        noise_variance=0.02,
        optimizer=None,
    ).fit(X, y)
    theta = gp._pack(gp.kernels_, gp.noise_variance_)
    _, grad = gp.log_marginal_likelihood(theta, eval_gradient=True)
    h = 1e-5
    fd = [
        (
            gp.log_marginal_likelihood(theta + h * e)
            - gp.log_marginal_likelihood(theta - h * e)
        )
        / (2 * h)
        for e in np.eye(len(theta))
    ]
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-7)


def test_matern_product_equals_dense_kron_formulas(grid2d):
    """Kernels scikit-learn cannot multiply per axis: dense np.kron reference."""
    X, y = grid2d
    k0, k1 = ConstantKernel(1.2) * Matern(0.8, nu=2.5), Matern(1.1, nu=0.5)
    gp = KroneckerGaussianProcessRegressor(
        [k0, k1], noise_variance=0.02, optimizer=None
    )
    gp.fit(X, y)
    ax = gp.grid_axes_
    K = np.kron(k0(ax[0][:, None]), k1(ax[1][:, None]))
    C = K + 0.02 * np.eye(len(K))
    yg = y.reshape(len(ax[0]), len(ax[1])).ravel()  # X is already C-ordered
    alpha = np.linalg.solve(C, yg)
    lml = (
        -0.5 * yg @ alpha
        - 0.5 * np.linalg.slogdet(C)[1]
        - 0.5 * len(yg) * math.log(2 * math.pi)
    )
    assert gp.log_marginal_likelihood() == pytest.approx(lml, rel=1e-10)
    Xs = np.random.default_rng(5).uniform(0, 3, size=(25, 2))
    Ks = (
        k0(Xs[:, :1], ax[0][:, None])[:, :, None]
        * k1(Xs[:, 1:], ax[1][:, None])[:, None, :]
    )
    Ks = Ks.reshape(len(Xs), -1)
    var = 1.2 - np.einsum("ij,ji->i", Ks, np.linalg.solve(C, Ks.T))
    m, s = gp.predict(Xs, return_std=True)
    np.testing.assert_allclose(m, Ks @ alpha, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(s, np.sqrt(var), rtol=1e-7, atol=1e-9)


def test_three_axes_multi_output_and_predict_grid():
    rng = np.random.default_rng(6)
    axes = [np.linspace(0, 1, 5), np.linspace(0, 2, 4), np.linspace(-1, 1, 3)]
    X = grid_points(*axes)
    Y = planted(X, rng, m=2)
    ours = KroneckerGaussianProcessRegressor(
        [ConstantKernel(2.0) * Gaussian(0.5), Gaussian(0.9), Gaussian(1.4)],
        noise_variance=0.05,
        optimizer=None,
        normalize_y=True,
    ).fit(X, Y)
    ref = GaussianProcessRegressor(
        ConstantKernel(2.0) * RBF([0.5, 0.9, 1.4]) + WhiteKernel(0.05),
        optimizer=None,
        normalize_y=True,
        alpha=0.0,
    ).fit(X, Y)
    test_axes = [np.linspace(-0.2, 1.2, 4), np.array([0.3, 1.7]), np.linspace(-1, 1, 5)]
    Xs = grid_points(*test_axes)
    mr = ref.predict(Xs)
    m = ours.predict(Xs)
    np.testing.assert_allclose(m, mr, rtol=1e-8, atol=1e-10)
    mg, sg = ours.predict_grid(test_axes, return_std=True)
    np.testing.assert_allclose(mg.reshape(-1, 2), mr, rtol=1e-8, atol=1e-10)
    _, sp = ours.predict(Xs, return_std=True)
    np.testing.assert_allclose(sg.reshape(-1, 2), sp, rtol=1e-10)


def test_optimised_hyperparameters_equal_sklearn(grid2d):
    X, y = grid2d
    ours = KroneckerGaussianProcessRegressor(
        [ConstantKernel(1.0) * Gaussian(1.0), Gaussian(1.0)], noise_variance=0.1
    ).fit(X, y)
    ref = GaussianProcessRegressor(
        ConstantKernel(1.0) * RBF([1.0, 1.0]) + WhiteKernel(0.1), alpha=0.0
    ).fit(X, y)
    assert ours.log_marginal_likelihood_value_ == pytest.approx(
        ref.log_marginal_likelihood_value_, rel=1e-6
    )
    np.testing.assert_allclose(
        ours._pack(ours.kernels_, ours.noise_variance_), ref.kernel_.theta, rtol=1e-3
    )


# ------------------------------------------------------------ not a grid
def test_missing_cells_masked_formulas_equal_sklearn_on_observed(grid2d):
    """Exact masked formulas: LML, gradient, mean and std of the dense model."""
    X, y = grid2d
    keep = np.ones(len(X), bool)
    keep[[0, 3, 10, 11, 41]] = False
    ours, ref = _pair()
    ours.set_params(algorithm="kronecker")  # "auto" takes dense at this size
    ours.fit(X[keep], y[keep])
    ref.fit(X[keep], y[keep])
    assert ours.algorithm_ == "kronecker" and "B" in ours._state
    theta = ours._pack(ours.kernels_, ours.noise_variance_)
    lml, grad = ours.log_marginal_likelihood(theta, True)
    lml_ref, grad_ref = ref.log_marginal_likelihood(ref.kernel_.theta, True)
    assert lml == pytest.approx(lml_ref, rel=1e-10)
    np.testing.assert_allclose(grad, grad_ref, rtol=1e-8, atol=1e-10)
    Xs = np.random.default_rng(7).uniform(0, 3, size=(30, 2))
    m, s = ours.predict(Xs, return_std=True)
    mr, sr = ref.predict(Xs, return_std=True)
    sr = np.sqrt(np.maximum(sr**2 - 0.01, 0))  # scikit-learn's std adds the noise
    np.testing.assert_allclose(m, mr, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(s, sr, rtol=1e-7, atol=1e-9)
    mg, sg = ours.predict_grid(ours.grid_axes_, return_std=True)
    mo, so = ours.predict(X, return_std=True)
    np.testing.assert_allclose(mg.ravel(), mo, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(sg.ravel(), so, rtol=1e-8, atol=1e-10)


def test_auto_takes_the_masked_grid_path_when_it_is_cheaper():
    X = grid_points(np.linspace(0, 1, 30), np.linspace(0, 2, 30))
    y = np.sin(4 * X[:, 0]) * X[:, 1]
    keep = np.ones(len(X), bool)
    keep[[5, 77, 400, 401, 899]] = False
    gp = KroneckerGaussianProcessRegressor(optimizer=None).fit(X[keep], y[keep])
    assert gp.algorithm_ == "kronecker" and gp._data["missing"].tolist() == [
        5, 77, 400, 401, 899,
    ]  # fmt: skip
    few = KroneckerGaussianProcessRegressor(optimizer=None).fit(X[:40], y[:40])
    assert few.algorithm_ == "dense"  # spans a 2 x 30 grid, 20 cells missing


def test_scattered_and_repeated_inputs_take_the_dense_path(grid2d):
    X, y = grid2d
    rng = np.random.default_rng(8)
    Xr = rng.uniform(0, 3, size=(40, 2))
    yr = np.sin(Xr[:, 0])
    ours, ref = _pair()
    ours.fit(Xr, yr)
    ref.fit(Xr, yr)
    assert ours.algorithm_ == "dense"
    assert ours.log_marginal_likelihood_value_ == pytest.approx(
        ref.log_marginal_likelihood_value_, rel=1e-10
    )
    np.testing.assert_allclose(ours.predict(X), ref.predict(X), rtol=1e-8, atol=1e-10)
    Xd, yd = np.vstack([X, X[:2]]), np.concatenate([y, y[:2] + 0.1])
    assert (
        KroneckerGaussianProcessRegressor(optimizer=None).fit(Xd, yd).algorithm_
        == "dense"
    )
    with pytest.raises(ValueError, match="repeated points"):
        KroneckerGaussianProcessRegressor(algorithm="kronecker").fit(Xd, yd)


def test_bad_parameters_are_named():
    X = grid_points([0.0, 1.0], [0.0, 1.0])
    y = np.arange(4.0)
    with pytest.raises(ValueError, match="kernels has 3 entries"):
        KroneckerGaussianProcessRegressor([Gaussian()] * 3).fit(X, y)
    with pytest.raises(ValueError, match="noise_variance_bounds"):
        KroneckerGaussianProcessRegressor(noise_variance_bounds=(1.0, 0.1)).fit(X, y)
    with pytest.raises(ValueError, match="noise_variance"):
        KroneckerGaussianProcessRegressor(noise_variance=-1.0).fit(X, y)
    gp = KroneckerGaussianProcessRegressor(optimizer=None).fit(X, y)
    with pytest.raises(ValueError, match="axes has 1"):
        gp.predict_grid([[0.5]])
