"""Differential operators for :class:`~kernlearn.gaussian_process.GPPDESolver`.

An operator is ``L[u](x) = sum_t c_t D^{a_t} u(x) + N(u(x))``: a linear part,
one constant coefficient per multi-index ``a_t`` (derivative orders per axis,
at most two per axis and two in all), plus an optional pointwise nonlinearity
``N`` with its derivative ``N'``. The PDE reads ``L[u] = f`` in the box, with
Dirichlet data ``u = g`` on its faces.
"""

from __future__ import annotations

import numbers

import numpy as np


class PDEOperator:
    """``L[u] = sum_t c_t D^{a_t} u + N(u)`` with constant coefficients.

    Parameters
    ----------
    terms : dict of tuple of int to float
        Multi-index (derivative order per axis, each 0, 1 or 2, total at
        most 2) to coefficient: ``{(2, 0): 1.0, (0, 2): 1.0}`` is the 2-D
        Laplacian, ``{(1, 0): 1.0, (0, 1): 200.0}`` the advection operator
        ``u_t + 200 u_x`` with time as the first axis.
    nonlinearity : callable, default=None
        ``N(u)`` applied elementwise to the solution's values.
    nonlinearity_derivative : callable, default=None
        ``N'(u)`` (required with ``nonlinearity``; Gauss-Newton uses it).
    name : str, default=None

    Examples
    --------
    >>> from kernlearn.gaussian_process import PDEOperator
    >>> op = PDEOperator.allen_cahn(n_dims=1)
    >>> op.terms, op.is_linear, op.n_dims
    ({(2,): 1.0}, False, 1)
    >>> float(op.nonlinearity(2.0))
    6.0
    """

    def __init__(
        self, terms, nonlinearity=None, nonlinearity_derivative=None, name=None
    ):
        if not isinstance(terms, dict) or not terms:
            raise ValueError(
                "terms must be a non-empty dict of multi-index -> coefficient, "
                "e.g. {(2,): 1.0} for u''."
            )
        clean = {}
        n_dims = None
        for key, coef in terms.items():
            key = (key,) if isinstance(key, numbers.Integral) else tuple(key)
            if not key or not all(
                isinstance(a, numbers.Integral) and 0 <= a <= 2 for a in key
            ):
                raise ValueError(
                    f"terms key {key!r}: one derivative order (0, 1 or 2) per axis."
                )
            if sum(key) > 2:
                raise ValueError(
                    f"terms key {key!r}: derivatives of total order at most 2."
                )
            if n_dims is None:
                n_dims = len(key)
            elif len(key) != n_dims:
                raise ValueError("terms keys must all have one entry per axis.")
            if not isinstance(coef, numbers.Real) or not np.isfinite(coef):
                raise ValueError(
                    f"terms[{key!r}] must be a finite real coefficient, got {coef!r}."
                )
            clean[tuple(int(a) for a in key)] = float(coef)
        if (nonlinearity is None) != (nonlinearity_derivative is None):
            raise ValueError(
                "nonlinearity and nonlinearity_derivative go together: give both."
            )
        self.terms = clean
        self.nonlinearity = nonlinearity
        self.nonlinearity_derivative = nonlinearity_derivative
        self.name = name

    @property
    def n_dims(self):
        """Number of axes the operator acts on."""
        return len(next(iter(self.terms)))

    @property
    def is_linear(self):
        """Whether the operator has no nonlinearity."""
        return self.nonlinearity is None

    @property
    def is_separable(self):
        """Whether every term differentiates along at most one axis (a
        Kronecker sum on a grid)."""
        return all(sum(a > 0 for a in key) <= 1 for key in self.terms)

    def axis_terms(self):
        """Per axis, ``{order: coefficient}`` of the separable linear part
        (zero-order terms go to axis 0)."""
        out = [dict() for _ in range(self.n_dims)]
        for key, c in self.terms.items():
            d = next((i for i, a in enumerate(key) if a > 0), 0)
            out[d][key[d]] = out[d].get(key[d], 0.0) + c
        return out

    @classmethod
    def poisson(cls, n_dims=1):
        """The Laplacian ``sum_d u_{x_d x_d}`` (Poisson's equation)."""
        n_dims = _check_dims(n_dims)
        return cls(
            {
                tuple(2 if e == d else 0 for e in range(n_dims)): 1.0
                for d in range(n_dims)
            },
            name="poisson",
        )

    @classmethod
    def allen_cahn(cls, n_dims=1, coefficient=1.0):
        """``Laplacian(u) + coefficient * u (u^2 - 1)`` (Allen-Cahn)."""
        lap = cls.poisson(n_dims)
        c = float(coefficient)
        return cls(
            lap.terms,
            nonlinearity=_AllenCahn(c),
            nonlinearity_derivative=_AllenCahnDerivative(c),
            name="allen_cahn",
        )

    @classmethod
    def advection_diffusion(cls, velocity, diffusion=0.0, reaction=0.0):
        """``sum_d v_d u_{x_d} - sum_d k_d u_{x_d x_d} + r u``.

        Parameters
        ----------
        velocity : array-like of shape (n_dims,)
        diffusion : float or array-like of shape (n_dims,), default=0.0
        reaction : float, default=0.0
        """
        v = np.atleast_1d(np.asarray(velocity, dtype=np.float64))
        n = v.size
        k = np.broadcast_to(np.asarray(diffusion, dtype=np.float64), (n,))
        terms = {}
        for d in range(n):
            e = [0] * n
            if v[d] != 0:
                e[d] = 1
                terms[tuple(e)] = float(v[d])
            if k[d] != 0:
                e[d] = 2
                terms[tuple(e)] = -float(k[d])
        if reaction != 0:
            terms[(0,) * n] = float(reaction)
        return cls(terms, name="advection_diffusion")

    def __repr__(self):
        head = self.name or "PDEOperator"
        lin = " + ".join(f"{c:g}*D{key}" for key, c in self.terms.items())
        return f"{head}({lin}{'' if self.is_linear else ' + N(u)'})"

    def __eq__(self, other):
        return (
            isinstance(other, PDEOperator)
            and self.terms == other.terms
            and self.nonlinearity == other.nonlinearity
            and self.nonlinearity_derivative == other.nonlinearity_derivative
        )

    __hash__ = None


class _AllenCahn:
    def __init__(self, c):
        self.c = c

    def __call__(self, u):
        return self.c * u * (u * u - 1.0)

    def __eq__(self, other):
        return type(other) is type(self) and other.c == self.c

    __hash__ = None


class _AllenCahnDerivative(_AllenCahn):
    def __call__(self, u):
        return self.c * (3.0 * u * u - 1.0)


def _check_dims(n_dims):
    if not isinstance(n_dims, numbers.Integral) or n_dims < 1:
        raise ValueError(f"n_dims must be a positive integer, got {n_dims!r}.")
    return int(n_dims)


def resolve_operator(operator, n_dims):
    """A :class:`PDEOperator` for ``n_dims`` axes from a name or an operator."""
    if isinstance(operator, str):
        makers = {"poisson": PDEOperator.poisson, "allen_cahn": PDEOperator.allen_cahn}
        if operator not in makers:
            raise ValueError(
                f"operator={operator!r} is not a known name; use one of "
                f"{sorted(makers)} or a PDEOperator."
            )
        return makers[operator](n_dims)
    if not isinstance(operator, PDEOperator):
        raise TypeError(
            f"operator must be a name or a PDEOperator, got {type(operator).__name__}."
        )
    if operator.n_dims != n_dims:
        raise ValueError(
            f"the operator acts on {operator.n_dims} axes but X has {n_dims} features."
        )
    return operator
