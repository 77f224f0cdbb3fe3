"""The scikit-learn Kernel protocol and the engine description of every kernel."""

import inspect
import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.gaussian_process import kernels as sk

from kernlearn import kernels as K
from kernlearn.backend import kernel_matrix

ANISO = np.array([0.7, 1.1, 2.0])

#: (kernel, expected KernelSpec family, expected params)
CASES = [
    (K.Gaussian(1.3), "gaussian", ()),
    (K.Gaussian(ANISO), "gaussian", ()),
    (K.Laplacian(1.7), "laplacian", ()),
    (K.L1Laplacian(2.0), "l1_laplacian", ()),
    (K.L1Laplacian(ANISO), "l1_laplacian", ()),
    (K.Matern(1.2, nu=0.5), "laplacian", ()),
    (K.Matern(1.2, nu=1.5), "matern32", ()),
    (K.Matern(ANISO, nu=2.5), "matern52", ()),
    (K.Matern(1.2, nu=3.7), "matern", (3.7,)),
    (K.Matern(1.2, nu=np.inf), "gaussian", ()),
    (K.RationalQuadratic(1.4, alpha=0.8), "rational_quadratic", (0.8,)),
    (K.RationalQuadratic(ANISO, alpha=0.8), "rational_quadratic", (0.8,)),
    (K.Cauchy(1.1), "cauchy", ()),
    (K.Epanechnikov(2.5), "epanechnikov", ()),
    (K.Tophat(2.5), "tophat", ()),
    (K.Triangular(2.5), "triangular", ()),
    (K.Cosine(2.5), "cosine", ()),
    (K.Polynomial(degree=3, gamma=0.3, coef0=1.0), "polynomial", (0.3, 1.0, 3.0)),
    (K.Linear(sigma_0=0.5), "linear", (0.25,)),
]
KERNELS = [c[0] for c in CASES]
IDS = [repr(k) for k in KERNELS]


def _data(n=11, m=7, d=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(scale=0.8, size=(n, d)), rng.normal(scale=0.8, size=(m, d))


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_engine_spec(case):
    kernel, family, params = case
    spec = kernel._engine_spec()
    assert spec.family == family
    assert spec.params == params
    assert spec.amplitude == 1.0
    if family in ("polynomial", "linear"):
        assert spec.length_scale is None
    else:
        np.testing.assert_array_equal(
            spec.length_scale, np.atleast_1d(kernel.length_scale)
        )
    for scaled in (3.0 * kernel, kernel * 3.0):
        assert isinstance(scaled, K.Product)
        s3 = scaled._engine_spec()
        assert s3.amplitude == 3.0 and s3.family == family and s3.params == params


@pytest.mark.parametrize("kernel", KERNELS, ids=IDS)
def test_kernel_matrix_numpy_engine_equals_call(kernel):
    X, Y = _data()
    np.testing.assert_allclose(
        kernel_matrix(kernel, X, Y, backend="numpy"),
        kernel(X, Y),
        rtol=1e-12,
        atol=1e-15,
    )
    np.testing.assert_allclose(
        kernel_matrix(2.5 * kernel, X, Y, backend="numpy"),
        2.5 * kernel(X, Y),
        rtol=1e-12,
        atol=1e-15,
    )
    np.testing.assert_allclose(
        kernel_matrix(kernel, X, backend="numpy"), kernel(X), rtol=1e-12, atol=1e-15
    )


@pytest.mark.parametrize("kernel", KERNELS, ids=IDS)
def test_clone_params_repr_pickle(kernel):
    params = kernel.get_params()
    init = inspect.signature(type(kernel).__init__).parameters
    assert set(params) == set(init) - {"self"}
    twin = clone(kernel)
    assert twin is not kernel and twin == kernel
    assert repr(twin) == repr(kernel)
    assert repr(kernel).startswith(type(kernel).__name__ + "(")
    assert pickle.loads(pickle.dumps(kernel)) == kernel
    X, Y = _data()
    np.testing.assert_array_equal(twin(X, Y), kernel(X, Y))
    # set_params changes the kernel and returns it; the original is untouched
    name = next(iter(h.name for h in kernel.hyperparameters if not h.fixed))
    new = np.asarray(params[name]) * 1.5
    assert twin.set_params(**{name: new}) is twin
    np.testing.assert_array_equal(twin.get_params()[name], new)
    assert twin != kernel
    with pytest.raises(ValueError, match="Invalid parameter"):
        twin.set_params(not_a_parameter=1)


@pytest.mark.parametrize("kernel", KERNELS, ids=IDS)
def test_theta_bounds_roundtrip(kernel):
    theta = kernel.theta
    bounds = kernel.bounds
    assert theta.ndim == 1 and bounds.shape == (theta.size, 2)
    assert (
        theta.size
        == kernel.n_dims
        == sum(h.n_elements for h in kernel.hyperparameters if not h.fixed)
    )
    assert np.all(bounds[:, 0] <= theta) and np.all(theta <= bounds[:, 1])
    new = theta + np.linspace(-0.3, 0.2, theta.size)
    other = kernel.clone_with_theta(new)
    np.testing.assert_allclose(other.theta, new, rtol=1e-14)
    np.testing.assert_array_equal(other.bounds, bounds)
    np.testing.assert_allclose(kernel.theta, theta)  # original untouched
    X, _ = _data()
    _, G = other(X, eval_gradient=True)
    assert G.shape[2] == theta.size


@pytest.mark.parametrize("kernel", KERNELS, ids=IDS)
def test_diag_and_stationarity(kernel):
    X, _ = _data()
    np.testing.assert_allclose(kernel.diag(X), np.diag(kernel(X)), rtol=1e-12)
    assert kernel.is_stationary() == (kernel._engine_spec().length_scale is not None)
    assert kernel.requires_vector_input


def test_hyperparameter_names():
    names = lambda k: [h.name for h in k.hyperparameters]  # noqa: E731
    assert names(K.Gaussian()) == ["length_scale"]
    assert names(K.Matern(nu=3.7)) == ["length_scale"]  # nu is not optimised
    assert names(K.RationalQuadratic()) == ["alpha", "length_scale"]
    assert names(K.Polynomial()) == ["coef0", "gamma"]
    assert names(K.Linear()) == ["sigma_0"]
    h = K.Gaussian(ANISO).hyperparameter_length_scale
    assert h.n_elements == 3 and h.bounds.shape == (3, 2)


def test_operators_build_kernlearn_kernels():
    X, Y = _data()
    g, m = K.Gaussian(1.0), K.Matern(2.0, nu=2.5)
    total = g + m
    assert isinstance(total, K.Sum)
    assert total._engine_spec() is None  # runs on numpy blocks
    np.testing.assert_allclose(total(X, Y), g(X, Y) + m(X, Y))
    np.testing.assert_allclose(
        kernel_matrix(total, X, Y, backend="numpy"), g(X, Y) + m(X, Y)
    )
    prod = g * m
    assert isinstance(prod, K.Product) and prod._engine_spec() is None
    np.testing.assert_allclose(prod(X, Y), g(X, Y) * m(X, Y))
    assert isinstance(1.0 + g, K.Sum) and isinstance(g + 1.0, K.Sum)
    # scikit-learn kernels combine with kernlearn ones either way round
    mixed = sk.RBF(1.0) * g
    np.testing.assert_allclose(mixed(X, Y), sk.RBF(1.0)(X, Y) * g(X, Y))
    assert isinstance(g * sk.WhiteKernel(), K.Product)
    # a negative or array constant does not make a fused amplitude
    assert (K.Product(sk.ConstantKernel(-1.0), g))._engine_spec() is None
    # products of sums: gradient of the compound kernel still follows theta
    k = 2.0 * g + sk.WhiteKernel(0.1)
    _, G = k(X, eval_gradient=True)
    assert G.shape == (len(X), len(X), k.n_dims) and k.n_dims == 3


def test_constructor_only_stores_parameters():
    ls = np.array([1.0, 2.0])
    k = K.Gaussian(ls)
    assert k.length_scale is ls
    # invalid values are accepted at construction and refused at use
    K.Gaussian(-1.0)
    K.Matern(nu=-1)
    K.Polynomial(degree=0)
