"""Kronecker GP against the dense exact GP (scikit-learn and numpy).

References: scikit-learn's GaussianProcessRegressor with an anisotropic RBF
(the product of per-axis Gaussians) and a WhiteKernel, for the log marginal
likelihood, its gradient and the predictions; dense numpy formulas with
np.kron for kernels scikit-learn cannot express as a product (Matern per
axis); central finite differences for the gradient. The conjugate-gradient
path on incomplete grids is checked against the dense path
(``algorithm="dense"``, exact Cholesky on the observed rows): exactly for
alpha and the predictions, within tolerances set from the measured spread of
its stochastic log-likelihood and gradient estimates.
"""

import math
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel

from kernlearn.gaussian_process import (
    KroneckerGaussianProcessRegressor,
    detect_grid,
    kron_diag,
    kron_mv,
)
from kernlearn.gaussian_process._kron import block_cg, lanczos_quadrature
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


# ------------------------------------------------------------ conjugate gradients
def test_block_cg_and_lanczos_quadrature_against_numpy():
    rng = np.random.default_rng(20)
    G = rng.normal(size=(30, 30))
    S = G @ G.T + 0.5 * np.eye(30)
    B = rng.normal(size=(30, 3))
    B[:, 1] = 0.0  # a zero right-hand side stops at once
    X, info = block_cg(lambda P: S @ P, B, tol=1e-12, maxiter=200)
    np.testing.assert_allclose(X, np.linalg.solve(S, B), rtol=1e-8, atol=1e-12)
    assert info["converged"] and info["n_iter"][1] == 0
    # with the Krylov space exhausted, Gauss quadrature is exact:
    # z^T log(S) z = ||z||^2 e_1^T log(T) e_1
    z = rng.choice([-1.0, 1.0], size=(30, 2))
    _, info = block_cg(lambda P: S @ P, z, tol=1e-14, maxiter=30)
    lam, V = np.linalg.eigh(S)
    exact = np.einsum("ip,i,ip->p", V.T @ z, np.log(lam), V.T @ z)
    q = 30 * lanczos_quadrature(info["a"], info["b"], info["n_iter"])
    np.testing.assert_allclose(q, exact, rtol=1e-6)
    _, info = block_cg(lambda P: S @ P, B, tol=1e-12, maxiter=2)
    assert not info["converged"] and info["residual"].max() > 1e-12


@pytest.fixture
def incomplete_grid():
    """A 20 x 24 grid with 30% of its cells missing, two targets."""
    rng = np.random.default_rng(21)
    X = grid_points(np.linspace(0, 2, 20), np.linspace(0, 3, 24))
    keep = np.sort(rng.permutation(len(X))[: int(0.7 * len(X))])
    return X[keep], planted(X[keep], rng, m=2)


CG_KERNELS = {
    "rbf": lambda: [ConstantKernel(1.5) * Gaussian(0.4), Gaussian(0.7)],
    "matern": lambda: [ConstantKernel(1.2) * Matern(0.5, nu=2.5), Matern(0.9, nu=1.5)],
}


def _cg_and_dense(kernels, X, y, **kw):
    kw = {"noise_variance": 0.01, "optimizer": None, **kw}
    cg = KroneckerGaussianProcessRegressor(kernels, algorithm="cg", **kw).fit(X, y)
    dense = KroneckerGaussianProcessRegressor(kernels, algorithm="dense", **kw)
    return cg, dense.fit(X, y)


def _close(a, b, rel):  # relative to the reference's scale
    np.testing.assert_allclose(a, b, rtol=rel, atol=rel * np.abs(b).max())


@pytest.mark.parametrize("name", list(CG_KERNELS))
def test_cg_alpha_and_predictions_equal_dense(incomplete_grid, name):
    X, Y = incomplete_grid
    cg, dense = _cg_and_dense(CG_KERNELS[name](), X, Y, normalize_y=True)
    assert cg.algorithm_ == "cg" and dense.algorithm_ == "dense"
    assert cg.alpha_.shape == (20, 24, 2)
    _, cells, _ = detect_grid(X)
    flat = cg.alpha_.reshape(-1, 2)
    _close(flat[cells], dense.alpha_, 1e-7)
    assert np.all(np.delete(flat, cells, axis=0) == 0.0)
    # the data-fit term y^T alpha is exact (only log det is estimated)
    Yn = (Y - cg._y_mean) / cg._y_std
    assert np.sum(Yn * flat[cells]) == pytest.approx(np.sum(Yn * dense.alpha_), 1e-10)
    Xs = np.random.default_rng(22).uniform(-0.2, 3.2, size=(60, 2))
    mc, sc = cg.predict(Xs, return_std=True)
    md, sd = dense.predict(Xs, return_std=True)
    _close(mc, md, 1e-7)
    _close(sc, sd, 1e-7)
    # predict_grid: the mean by Kronecker products, the std through predict
    axes = [np.linspace(0, 2, 7), np.linspace(0, 3, 5)]
    mg, sg = cg.predict_grid(axes, return_std=True)
    mp, sp = dense.predict(grid_points(*axes), return_std=True)
    _close(mg.reshape(-1, 2), mp, 1e-7)
    _close(sg.reshape(-1, 2), sp, 1e-7)
    with pytest.raises(ValueError, match=r"predict\(X, return_std=True\)"):
        cg.predict_grid([np.linspace(0, 2, 70)] * 2, return_std=True)
    assert cg.predict_grid([np.linspace(0, 2, 70)] * 2).shape == (70, 70, 2)


def test_cg_small_noise_needs_the_refined_solve():
    """At noise 1e-8 the embedded solve amplifies CG's error by ~1/noise; the
    refill of the missing cells (iterative refinement) keeps the mean exact."""
    rng = np.random.default_rng(23)
    X = grid_points(np.linspace(0, 1, 20), np.linspace(0, 1, 20))
    keep = rng.random(len(X)) > 0.4
    y = np.sin(6 * X[keep, 0]) * np.cos(4 * X[keep, 1])
    kernels = [ConstantKernel(50.0) * Gaussian(0.7), Gaussian(0.33)]
    cg, dense = _cg_and_dense(kernels, X[keep], y, noise_variance=1e-8)
    Xs = rng.uniform(0, 1, size=(20, 2))
    _close(cg.predict(Xs), dense.predict(Xs), 1e-6)


# Over 400 probe seeds (random_state=0..399) on ``incomplete_grid``'s first
# target, the LML estimate's relative standard deviation was 1.1e-3 (rbf) and
# 2.2e-3 (matern), its largest relative error 7.3e-3, and its mean within 0.6
# standard errors of the exact value; each gradient entry's standard deviation
# was at most 3.2e-3 of the exact gradient's norm (largest error 9.9e-3, means
# within 0.7 standard errors). The tolerances: 1e-2 >= 4.5 sd for the LML,
# 2e-2 >= 6 sd for the gradient.
LML_REL_TOL, GRAD_REL_TOL = 1e-2, 2e-2


@pytest.mark.parametrize("name", list(CG_KERNELS))
def test_cg_lml_and_gradient_estimates_within_their_spread(incomplete_grid, name):
    X, Y = incomplete_grid
    y = Y[:, 0]
    dense = KroneckerGaussianProcessRegressor(
        CG_KERNELS[name](), noise_variance=0.01, optimizer=None, algorithm="dense"
    ).fit(X, y)
    theta = dense._pack(dense.kernels_, dense.noise_variance_)
    lml, grad = dense.log_marginal_likelihood(theta, eval_gradient=True)
    lmls, grads = [], []
    for seed in range(8):
        cg = KroneckerGaussianProcessRegressor(
            CG_KERNELS[name](),
            noise_variance=0.01,
            optimizer=None,
            algorithm="cg",
            random_state=seed,
        ).fit(X, y)
        est, g = cg.log_marginal_likelihood(theta, eval_gradient=True)
        assert cg.log_marginal_likelihood_value_ == pytest.approx(est, rel=1e-12)
        lmls.append(est)
        grads.append(g)
    lmls, grads = np.array(lmls), np.array(grads)
    assert lmls[0] == pytest.approx(lml, rel=LML_REL_TOL)
    np.testing.assert_array_less(
        np.abs(grads - grad).max(axis=0), GRAD_REL_TOL * np.linalg.norm(grad)
    )
    # the spread the tolerances were chosen from (a sample of 8), no bias
    assert 0 < lmls.std() < LML_REL_TOL / 3 * abs(lml)
    assert abs(lmls.mean() - lml) < 3 * lmls.std()
    assert grads.std(axis=0).max() < GRAD_REL_TOL / 4 * np.linalg.norm(grad)
    # fixed probes: the objective the optimiser sees is deterministic
    assert cg.log_marginal_likelihood(theta) == cg.log_marginal_likelihood(theta)


def test_cg_optimiser_recovers_the_dense_hyperparameters(incomplete_grid):
    X, Y = incomplete_grid
    kw = dict(noise_variance=0.1, random_state=0)
    kernels = [ConstantKernel(1.0) * Gaussian(1.0), Gaussian(1.0)]
    cg = KroneckerGaussianProcessRegressor(kernels, algorithm="cg", **kw)
    dense = KroneckerGaussianProcessRegressor(kernels, algorithm="dense", **kw)
    cg.fit(X, Y[:, 0])
    dense.fit(X, Y[:, 0])
    theta_cg = cg._pack(cg.kernels_, cg.noise_variance_)
    theta_dense = dense._pack(dense.kernels_, dense.noise_variance_)
    assert np.abs(theta_dense - np.log([1.0, 1.0, 1.0, 0.1])).max() > 0.5  # moved
    np.testing.assert_allclose(theta_cg, theta_dense, atol=0.05)  # 5% each
    assert cg.log_marginal_likelihood_value_ == pytest.approx(
        dense.log_marginal_likelihood_value_, rel=LML_REL_TOL
    )


def test_auto_takes_cg_for_many_missing_cells_and_rows():
    rng = np.random.default_rng(24)
    X = grid_points(np.linspace(0, 1, 70), np.linspace(0, 2, 64))
    keep = rng.random(len(X)) > 0.3  # ~3,100 rows, ~1,300 missing cells
    y = np.sin(4 * X[keep, 0]) * X[keep, 1]
    kw = dict(noise_variance=0.01, optimizer=None)
    gp = KroneckerGaussianProcessRegressor(**kw).fit(X[keep], y)
    assert keep.sum() > 3000 and gp.algorithm_ == "cg"
    assert np.all(np.isfinite(gp.predict(X[:5], return_std=True)))
    few = np.flatnonzero(keep)[:2000]  # same grid, fewer rows: dense is cheap
    assert KroneckerGaussianProcessRegressor(**kw).fit(X[few], y[:2000]).algorithm_ == (
        "dense"
    )


def test_cg_on_complete_or_repeated_inputs():
    X = grid_points(np.linspace(0, 1, 6), np.linspace(0, 1, 5))
    y = np.sin(3 * X[:, 0])
    gp = KroneckerGaussianProcessRegressor(algorithm="cg", optimizer=None)
    assert gp.fit(X, y).algorithm_ == "kronecker"  # nothing to iterate on
    with pytest.raises(ValueError, match="algorithm='cg'.*repeated points"):
        gp.fit(np.vstack([X, X[:1]]), np.append(y, 0.0))


def test_cg_bad_parameters_are_named_and_non_convergence_warns(incomplete_grid):
    X, Y = incomplete_grid
    for bad in (0.0, -1e-3, 1.0):
        with pytest.raises(ValueError, match="cg_tol"):
            KroneckerGaussianProcessRegressor(cg_tol=bad).fit(X, Y)
    for bad in (0, -5, 2.5):
        with pytest.raises(ValueError, match="cg_maxiter"):
            KroneckerGaussianProcessRegressor(cg_maxiter=bad).fit(X, Y)
    gp = KroneckerGaussianProcessRegressor(
        CG_KERNELS["rbf"](), optimizer=None, algorithm="cg", cg_maxiter=1
    )
    with pytest.warns(ConvergenceWarning, match="cg_maxiter=1 iterations"):
        gp.fit(X, Y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        gp.set_params(cg_maxiter=1000).fit(X, Y)  # converges: no warning
