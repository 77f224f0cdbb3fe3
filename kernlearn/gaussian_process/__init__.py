"""Gaussian processes with Kronecker structure (:mod:`kernlearn.gaussian_process`).

- :class:`KroneckerGaussianProcessRegressor`: exact GP regression with a
  product kernel, by Kronecker algebra when the inputs form a grid.
- :class:`GPPDESolver`: high-frequency and multi-scale PDEs by GP-HM, with
  :class:`PDEOperator` describing the equation.
- :func:`detect_grid`: the grid spanned by a set of points.
- :func:`kron_mv`, :func:`kron_diag`: Kronecker products on grid tensors.
"""

from ._kron import kron_diag, kron_mv
from ._kronecker import KroneckerGaussianProcessRegressor, detect_grid
from ._operators import PDEOperator
from ._pde import GPPDESolver

__all__ = [
    "GPPDESolver",
    "PDEOperator",
    "KroneckerGaussianProcessRegressor",
    "detect_grid",
    "kron_diag",
    "kron_mv",
]
