"""kernlearn kernels inside scikit-learn estimators (required by the design).

``GridSearchCV`` over kernel objects and over ``kernel__length_scale`` with
``KernelRidge``, and ``GaussianProcessRegressor`` fitting with log-marginal-
likelihood gradients checked against finite differences.
"""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process import kernels as sk
from sklearn.kernel_ridge import KernelRidge
from sklearn.model_selection import GridSearchCV

from kernlearn.kernels import (
    Cauchy,
    Gaussian,
    L1Laplacian,
    Linear,
    Matern,
    Polynomial,
    RationalQuadratic,
)


def _regression(n=40, d=2, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2, 2, size=(n, d))
    y = np.sin(2 * X[:, 0]) + 0.5 * X[:, 1] ** 2 + 0.05 * rng.normal(size=n)
    return X, y


def test_grid_search_over_kernel_objects():
    X, y = _regression()
    candidates = [Gaussian(1.0), Matern(nu=1.5)]
    search = GridSearchCV(KernelRidge(alpha=0.1), {"kernel": candidates}, cv=3)
    search.fit(X, y)
    assert search.best_params_["kernel"] in candidates
    assert len(search.cv_results_["params"]) == 2
    pred = search.predict(X[:5])
    assert pred.shape == (5,) and np.all(np.isfinite(pred))
    assert search.best_score_ > 0.5
    # the estimator that was refitted holds a clone, not the grid's object
    assert search.best_estimator_.kernel is not search.best_params_["kernel"]
    # and predicts like KernelRidge on the precomputed kernel matrix
    k = search.best_estimator_.kernel
    ref = KernelRidge(alpha=0.1, kernel="precomputed").fit(k(X), y)
    np.testing.assert_allclose(pred, ref.predict(k(X[:5], X)), rtol=1e-10)


def test_grid_search_over_length_scale():
    X, y = _regression()
    kernel = Gaussian(1.0)
    grid = {"kernel__length_scale": [0.1, 0.7, 5.0]}
    search = GridSearchCV(KernelRidge(kernel=kernel, alpha=0.1), grid, cv=3)
    search.fit(X, y)
    assert kernel.length_scale == 1.0  # the parameter itself is never mutated
    best = search.best_params_["kernel__length_scale"]
    assert search.best_estimator_.kernel.length_scale == best
    # reference: scikit-learn's own "rbf" string kernel with gamma = 1 / (2 ls^2)
    ref = GridSearchCV(
        KernelRidge(kernel="rbf", alpha=0.1),
        {"gamma": [1 / (2 * ls**2) for ls in grid["kernel__length_scale"]]},
        cv=3,
    ).fit(X, y)
    np.testing.assert_allclose(
        search.cv_results_["mean_test_score"],
        ref.cv_results_["mean_test_score"],
        rtol=1e-8,
    )
    np.testing.assert_allclose(search.predict(X), ref.predict(X), rtol=1e-8)


def test_grid_search_over_matern_nu():
    X, y = _regression()
    search = GridSearchCV(
        KernelRidge(kernel=Matern(1.0), alpha=0.1),
        {"kernel__nu": [0.5, 1.5, 3.7]},
        cv=3,
    ).fit(X, y)
    assert search.best_params_["kernel__nu"] in (0.5, 1.5, 3.7)
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))


def test_gpr_predictions_match_sklearn_rbf():
    X, y = _regression()
    ours = GaussianProcessRegressor(2.0 * Gaussian(0.8), alpha=1e-2, optimizer=None)
    ref = GaussianProcessRegressor(2.0 * sk.RBF(0.8), alpha=1e-2, optimizer=None)
    ours.fit(X, y)
    ref.fit(X, y)
    mu, sd = ours.predict(X[:7], return_std=True)
    mu_ref, sd_ref = ref.predict(X[:7], return_std=True)
    np.testing.assert_allclose(mu, mu_ref, rtol=1e-10)
    np.testing.assert_allclose(sd, sd_ref, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(
        ours.log_marginal_likelihood_value_, ref.log_marginal_likelihood_value_
    )


def test_gpr_optimises_like_sklearn():
    X, y = _regression()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = GaussianProcessRegressor(
            1.0 * Gaussian(1.0) + sk.WhiteKernel(0.1), random_state=0
        ).fit(X, y)
        ref = GaussianProcessRegressor(
            1.0 * sk.RBF(1.0) + sk.WhiteKernel(0.1), random_state=0
        ).fit(X, y)
    np.testing.assert_allclose(
        ours.log_marginal_likelihood_value_,
        ref.log_marginal_likelihood_value_,
        rtol=1e-6,
    )
    np.testing.assert_allclose(ours.kernel_.theta, ref.kernel_.theta, atol=1e-3)


GPR_KERNELS = [
    Gaussian(),
    2.0 * Gaussian() + sk.WhiteKernel(),
    Gaussian(np.array([0.5, 2.0])) + sk.WhiteKernel(0.1),
    Matern(0.7, nu=1.5) + sk.WhiteKernel(0.1),
    Matern(np.array([0.7, 1.3]), nu=3.7) + sk.WhiteKernel(0.1),
    1.5 * RationalQuadratic(0.9, alpha=0.6) + sk.WhiteKernel(0.1),
    L1Laplacian(np.array([1.5, 0.8])) + sk.WhiteKernel(0.1),
    Cauchy(1.2) * sk.ConstantKernel(0.7),
    Polynomial(degree=2, gamma=0.5, coef0=1.0) + sk.WhiteKernel(0.5),
    Linear(sigma_0=1.0) + Gaussian(1.0) + sk.WhiteKernel(0.1),
]


@pytest.mark.parametrize("kernel", GPR_KERNELS, ids=repr)
def test_gpr_fits_and_lml_gradient_matches_finite_differences(kernel):
    X, y = _regression(n=25)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        gpr = GaussianProcessRegressor(kernel, alpha=1e-6, random_state=0).fit(X, y)
    mu, sd = gpr.predict(X[:5], return_std=True)
    assert np.all(np.isfinite(mu)) and np.all(np.isfinite(sd))
    assert gpr.kernel is kernel and gpr.kernel_ is not kernel
    # gradient at the starting point (away from the optimum, where it vanishes)
    theta = kernel.theta
    lml, grad = gpr.log_marginal_likelihood(theta, eval_gradient=True)
    assert grad.shape == theta.shape
    h = 1e-5
    fd = np.empty_like(theta)
    for i in range(theta.size):
        e = np.zeros_like(theta)
        e[i] = h
        fd[i] = (
            gpr.log_marginal_likelihood(theta + e)
            - gpr.log_marginal_likelihood(theta - e)
        ) / (2 * h)
    np.testing.assert_allclose(grad, fd, rtol=1e-5, atol=1e-5 * max(1, abs(lml)))
    # fitting did not lower the log marginal likelihood
    assert gpr.log_marginal_likelihood_value_ >= lml - 1e-8
