"""Polynomial and Linear kernels against scikit-learn and finite differences."""

import numpy as np
import pytest
from sklearn.gaussian_process.kernels import DotProduct
from sklearn.metrics.pairwise import polynomial_kernel

from kernlearn.kernels import Linear, Polynomial


def _data(n=8, m=6, d=4, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)), rng.normal(size=(m, d))


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


@pytest.mark.parametrize(
    "degree,gamma,coef0", [(3, 0.3, 1.0), (1, 1.0, 0.0), (2, 0.5, 2.0), (4, 0.2, -0.5)]
)
def test_polynomial_matches_sklearn(degree, gamma, coef0):
    X, Y = _data()
    k = Polynomial(degree=degree, gamma=gamma, coef0=coef0)
    ref = polynomial_kernel(X, Y, degree=degree, gamma=gamma, coef0=coef0)
    np.testing.assert_allclose(k(X, Y), ref, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(
        k(X),
        polynomial_kernel(X, degree=degree, gamma=gamma, coef0=coef0),
        rtol=1e-12,
        atol=1e-14,
    )
    # einsum and GEMM round differently; gamma |x|^2 + coef0 may cancel
    np.testing.assert_allclose(k.diag(X), np.diag(k(X)), rtol=1e-11, atol=1e-14)
    assert not k.is_stationary()


@pytest.mark.parametrize("sigma_0", [0.0, 0.5, 2.0])
def test_linear_matches_sklearn_dot_product(sigma_0):
    X, Y = _data()
    k = Linear(sigma_0=sigma_0)
    ref = DotProduct(sigma_0=sigma_0)
    np.testing.assert_allclose(k(X, Y), ref(X, Y), rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(k.diag(X), ref.diag(X), rtol=1e-14)
    assert not k.is_stationary()
    if sigma_0 > 0:
        _, G = k(X, eval_gradient=True)
        _, G_ref = ref(X, eval_gradient=True)
        np.testing.assert_allclose(G, G_ref, rtol=1e-14)


@pytest.mark.parametrize(
    "kernel",
    [
        Polynomial(degree=3, gamma=0.3, coef0=1.0),
        Polynomial(degree=2, gamma=1.5, coef0=0.2),
        Polynomial(degree=3, gamma=0.3, coef0=0.0),  # coef0 fixed under "auto"
        Polynomial(degree=2, gamma=0.3, coef0=1.0, gamma_bounds="fixed"),
        Linear(sigma_0=0.5),
    ],
    ids=repr,
)
def test_gradient_matches_finite_differences(kernel):
    X, _ = _data()
    K, G = kernel(X, eval_gradient=True)
    np.testing.assert_allclose(K, kernel(X), rtol=1e-14)
    assert G.shape == (len(X), len(X), kernel.n_dims)
    np.testing.assert_allclose(G, fd_gradient(kernel, X), rtol=1e-6, atol=1e-8)


def test_theta_order_and_auto_bounds():
    k = Polynomial(degree=3, gamma=0.3, coef0=2.0)
    # hyperparameters sort by name, as in scikit-learn: coef0, then gamma
    np.testing.assert_allclose(k.theta, np.log([2.0, 0.3]))
    np.testing.assert_allclose(k.bounds, np.log([[1e-5, 1e5], [1e-5, 1e5]]))
    assert Polynomial(coef0=0.0).theta.tolist() == [0.0]  # only log(gamma)
    assert Polynomial(coef0=-1.0).hyperparameter_coef0.fixed
    assert Linear().theta.size == 0 and Linear().hyperparameter_sigma_0.fixed
    k = Linear(sigma_0=0.5)
    np.testing.assert_allclose(k.theta, [np.log(0.5)])
    k.set_params(sigma_0=0.0)
    assert k.theta.size == 0
    assert Linear(0.5, sigma_0_bounds="fixed").theta.size == 0
    np.testing.assert_allclose(Linear(0.5, (1e-2, 1e2)).bounds, np.log([[1e-2, 1e2]]))


def test_engine_specs():
    spec = Polynomial(degree=3, gamma=0.3, coef0=1.0)._engine_spec()
    assert (spec.family, spec.length_scale, spec.params) == (
        "polynomial",
        None,
        (0.3, 1.0, 3.0),
    )
    spec = Linear(sigma_0=0.5)._engine_spec()
    assert (spec.family, spec.length_scale, spec.params) == ("linear", None, (0.25,))
    assert spec.signed


@pytest.mark.parametrize(
    "params,name",
    [
        ({"degree": 0}, "degree"),
        ({"degree": 2.5}, "degree"),
        ({"degree": True}, "degree"),
        ({"gamma": 0.0}, "gamma"),
        ({"gamma": -1.0}, "gamma"),
        ({"coef0": np.nan}, "coef0"),
    ],
)
def test_polynomial_bad_parameters(params, name):
    with pytest.raises(ValueError, match=name):
        Polynomial(**params)(np.ones((2, 2)))


@pytest.mark.parametrize("sigma_0", [-0.5, np.nan])
def test_linear_bad_sigma_0(sigma_0):
    with pytest.raises(ValueError, match="sigma_0"):
        Linear(sigma_0=sigma_0)(np.ones((2, 2)))


def test_bad_arrays():
    for k in (Polynomial(), Linear()):
        with pytest.raises(ValueError, match="2-D"):
            k(np.ones(3))
        with pytest.raises(ValueError, match="n_features"):
            k(np.ones((2, 3)), np.ones((2, 2)))
        with pytest.raises(ValueError, match="Y is None"):
            k(np.ones((2, 3)), np.ones((2, 3)), eval_gradient=True)
