"""Kernel objects with the scikit-learn ``Kernel`` protocol, runnable fused.

Every kernel here has hyperparameters with bounds, ``get_params``/``set_params``,
``clone``, ``theta``/``bounds``, ``__call__(X, Y=None, eval_gradient=False)`` and
``diag``, so it plugs into scikit-learn's ``GaussianProcessRegressor``,
``KernelRidge`` and ``GridSearchCV``; it also describes itself to the fused engines
of :mod:`kernlearn.backend`.
"""

from ._base import Gaussian, KernlearnKernelMixin, Product, RadialKernel, Sum
from ._dot_product import Linear, Polynomial
from ._registry import KERNELS, get_kernel
from ._spectral import SpectralMixture, StudentTMixture
from ._stationary import (
    Cauchy,
    Cosine,
    Epanechnikov,
    L1Laplacian,
    Laplacian,
    Matern,
    RationalQuadratic,
    Tophat,
    Triangular,
)

__all__ = [
    "Cauchy",
    "Cosine",
    "Epanechnikov",
    "Gaussian",
    "KERNELS",
    "KernlearnKernelMixin",
    "L1Laplacian",
    "Laplacian",
    "Linear",
    "Matern",
    "Polynomial",
    "Product",
    "RadialKernel",
    "RationalQuadratic",
    "SpectralMixture",
    "StudentTMixture",
    "Sum",
    "Tophat",
    "Triangular",
    "get_kernel",
]
