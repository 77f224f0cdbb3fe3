"""``get_kernel``: names and aliases to kernel objects; objects to clones."""

import numpy as np
import pytest
from sklearn.gaussian_process import kernels as sk

from kernlearn import kernels as K
from kernlearn.kernels import get_kernel

NAMES = {
    "rbf": K.Gaussian,
    "gaussian": K.Gaussian,
    "laplacian": K.Laplacian,
    "exponential": K.Laplacian,
    "l1_laplacian": K.L1Laplacian,
    "manhattan": K.L1Laplacian,
    "matern": K.Matern,
    "rational_quadratic": K.RationalQuadratic,
    "rq": K.RationalQuadratic,
    "cauchy": K.Cauchy,
    "epanechnikov": K.Epanechnikov,
    "tophat": K.Tophat,
    "triangular": K.Triangular,
    "cosine": K.Cosine,
    "polynomial": K.Polynomial,
    "poly": K.Polynomial,
    "linear": K.Linear,
}


@pytest.mark.parametrize("name", list(NAMES))
def test_names_resolve_to_default_kernels(name):
    kernel = get_kernel(name)
    assert type(kernel) is NAMES[name]
    assert kernel == NAMES[name]()
    assert K.KERNELS[name] is NAMES[name]


def test_names_are_normalised_and_params_passed():
    k = get_kernel(" Rational-Quadratic ", length_scale=2.0, alpha=0.5)
    assert isinstance(k, K.RationalQuadratic)
    assert (k.length_scale, k.alpha) == (2.0, 0.5)
    m = get_kernel("MATERN", nu=3.7)
    assert m.nu == 3.7 and m._engine_spec().params == (3.7,)
    p = get_kernel("poly", degree=2, gamma=0.5, coef0=0.0)
    assert (p.degree, p.gamma, p.coef0) == (2, 0.5, 0.0)
    with pytest.raises(TypeError):
        get_kernel("rbf", not_a_parameter=1)


def test_unknown_name_lists_valid_names():
    with pytest.raises(ValueError, match="Unknown kernel 'sigmoid'") as info:
        get_kernel("sigmoid")
    for name in NAMES:
        assert repr(name) in str(info.value)


@pytest.mark.parametrize(
    "kernel",
    [K.Gaussian(np.array([1.0, 2.0])), 2.0 * K.Matern(nu=2.5), sk.RBF(3.0)],
    ids=repr,
)
def test_kernel_objects_are_cloned(kernel):
    out = get_kernel(kernel)
    assert out is not kernel and out == kernel and type(out) is type(kernel)


def test_kernel_object_with_params_sets_them_on_the_clone():
    original = K.Gaussian(3.0)
    out = get_kernel(original, length_scale=0.5)
    assert out.length_scale == 0.5 and original.length_scale == 3.0


@pytest.mark.parametrize("bad", [None, 3, K.Gaussian])
def test_non_kernel_is_a_type_error(bad):
    with pytest.raises(TypeError, match="kernel"):
        get_kernel(bad)
