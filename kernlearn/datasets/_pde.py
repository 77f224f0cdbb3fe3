"""Benchmark PDE problems with exact solutions (high-frequency, multi-scale).

The problems of Fang et al., "Solving high frequency and multi-scale PDEs with
Gaussian processes" (ICLR 2024), built from a manufactured solution: the
source ``f = L[u]`` and the Dirichlet data ``g = u`` on the box's faces come
from the exact ``u``, so the relative L2 error on the grid measures the solver.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
from sklearn.utils import Bunch

_TWO_PI = 2.0 * math.pi


def _sin_mix(terms):
    """``u(x) = sum a sin(w x)`` and ``u''`` for a list of ``(a, w)``."""

    def u(x):
        return sum(a * np.sin(w * x) for a, w in terms)

    def u2(x):
        return sum(-a * w * w * np.sin(w * x) for a, w in terms)

    return u, u2


def _product_6_20():
    # g(x) = sin(6x) sin(20x) = (cos(14x) - cos(26x)) / 2
    def g(x):
        return np.sin(6 * x) * np.sin(20 * x)

    def g2(x):
        return 0.5 * (-196.0 * np.cos(14 * x) + 676.0 * np.cos(26 * x))

    return g, g2


def _problem(name):
    hf, hf2 = _sin_mix([(1.0, 100.0)])
    ms, ms2 = _sin_mix([(1.0, 1.0), (0.1, 20.0), (0.05, 100.0)])
    g, g2 = _product_6_20()
    table = {
        "poisson_1d_high_freq": dict(
            operator="poisson",
            domain=[(0.0, _TWO_PI)],
            n_points=400,
            solution=lambda X: hf(X[:, 0]),
            source=lambda X: hf2(X[:, 0]),
            paper_error=(4.0e-7, 6.5e-7),
            description="u'' = f on [0, 2 pi], u = sin(100 x)",
        ),
        "allen_cahn_1d_high_freq": dict(
            operator="allen_cahn",
            domain=[(0.0, _TWO_PI)],
            n_points=400,
            solution=lambda X: hf(X[:, 0]),
            source=lambda X: hf2(X[:, 0]) + hf(X[:, 0]) * (hf(X[:, 0]) ** 2 - 1.0),
            paper_error=(7.7e-7, 4.9e-6),
            description="u'' + u (u^2 - 1) = f on [0, 2 pi], u = sin(100 x)",
        ),
        "poisson_1d_multi_scale": dict(
            operator="poisson",
            domain=[(0.0, 1.0)],
            n_points=400,
            solution=lambda X: ms(X[:, 0]),
            source=lambda X: ms2(X[:, 0]),
            paper_error=(3.5e-4, 5.8e-4),
            description=(
                "u'' = f on [0, 1], u = sin(x) + 0.1 sin(20 x) + 0.05 sin(100 x)"
            ),
        ),
        "poisson_2d_high_freq": dict(
            operator="poisson",
            domain=[(0.0, _TWO_PI), (0.0, _TWO_PI)],
            n_points=400,
            solution=lambda X: hf(X[:, 0]) * hf(X[:, 1]),
            source=lambda X: hf2(X[:, 0]) * hf(X[:, 1]) + hf(X[:, 0]) * hf2(X[:, 1]),
            paper_error=(6.5e-5, 6.5e-5),
            description="u_xx + u_yy = f on [0, 2 pi]^2, u = sin(100 x) sin(100 y)",
        ),
        "allen_cahn_2d_high_freq": dict(
            operator="allen_cahn",
            domain=[(0.0, _TWO_PI), (0.0, _TWO_PI)],
            n_points=400,
            solution=lambda X: hf(X[:, 0]) * hf(X[:, 1]),
            source=lambda X: (
                hf2(X[:, 0]) * hf(X[:, 1])
                + hf(X[:, 0]) * hf2(X[:, 1])
                + hf(X[:, 0]) * hf(X[:, 1]) * ((hf(X[:, 0]) * hf(X[:, 1])) ** 2 - 1.0)
            ),
            paper_error=None,
            description=(
                "u_xx + u_yy + u (u^2 - 1) = f on [0, 2 pi]^2, "
                "u = sin(100 x) sin(100 y)"
            ),
        ),
        "poisson_2d_multi_scale": dict(
            operator="poisson",
            domain=[(0.0, 1.0), (0.0, 1.0)],
            n_points=200,
            solution=lambda X: g(X[:, 0]) + g(X[:, 1]),
            source=lambda X: g2(X[:, 0]) + g2(X[:, 1]),
            paper_error=None,
            description=(
                "u_xx + u_yy = f on [0, 1]^2, u = sin(6x) sin(20x) + sin(6y) sin(20y)"
            ),
        ),
    }
    if name not in table:
        raise ValueError(
            f"unknown PDE problem {name!r}; choose one of {sorted(table)}."
        )
    return table[name]


#: The problems :func:`make_pde_problem` builds (Fang et al., ICLR 2024).
PDE_PROBLEMS = (
    "poisson_1d_high_freq",
    "allen_cahn_1d_high_freq",
    "poisson_1d_multi_scale",
    "poisson_2d_high_freq",
    "allen_cahn_2d_high_freq",
    "poisson_2d_multi_scale",
)


def make_pde_problem(name, n_points=None):
    """A benchmark PDE on a uniform grid with its end points.

    Parameters
    ----------
    name : str
        One of :data:`PDE_PROBLEMS`: ``"poisson_1d_high_freq"``,
        ``"allen_cahn_1d_high_freq"``, ``"poisson_1d_multi_scale"``,
        ``"poisson_2d_high_freq"``, ``"allen_cahn_2d_high_freq"`` (ours: the
        2-D high-frequency solution under Allen-Cahn), ``"poisson_2d_multi_scale"``.
    n_points : int, default=None
        Grid points per axis (at least 3); ``None`` takes the paper's.

    Returns
    -------
    problem : Bunch
        ``X`` (grid points, shape (n_points**D, D)), ``y`` (the source at
        interior points, the Dirichlet value on the faces: what
        :meth:`GPPDESolver.fit` takes), ``u`` (the exact solution at ``X``),
        ``solution`` (callable on any points), ``source`` (callable),
        ``operator`` (name), ``domain`` (per-axis bounds), ``axes``,
        ``boundary_mask``, ``paper_error`` (GP-HM's reported relative L2
        error range, or None) and ``description``.

    Examples
    --------
    >>> from kernlearn.datasets import make_pde_problem
    >>> p = make_pde_problem("poisson_1d_high_freq")
    >>> p.X.shape, p.operator, p.paper_error
    ((400, 1), 'poisson', (4e-07, 6.5e-07))
    """
    spec = _problem(name)
    n = spec["n_points"] if n_points is None else n_points
    if not isinstance(n, numbers.Integral) or n < 3:
        raise ValueError(f"n_points must be an integer of at least 3, got {n!r}.")
    axes = [np.linspace(lo, hi, int(n)) for lo, hi in spec["domain"]]
    X = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, len(axes))
    boundary = np.zeros(len(X), dtype=bool)
    for d, a in enumerate(axes):
        boundary |= (X[:, d] == a[0]) | (X[:, d] == a[-1])
    u = spec["solution"](X)
    y = np.where(boundary, u, spec["source"](X))
    return Bunch(
        X=X,
        y=y,
        u=u,
        solution=spec["solution"],
        source=spec["source"],
        operator=spec["operator"],
        domain=spec["domain"],
        axes=axes,
        boundary_mask=boundary,
        paper_error=spec["paper_error"],
        description=spec["description"],
        name=name,
    )
