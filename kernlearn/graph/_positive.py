"""Entrywise-accurate matrix functions of non-negative matrices, in log space.

The eigendecomposition path of :class:`kernlearn.graph.NodeKernels` is accurate
to ``~ n eps`` *in absolute terms* (relative to the largest entry). Logarithmic
proximities need every entry to *relative* accuracy: ``log expm(-tL)`` at small
``t`` has entries near ``t^d / d!`` for nodes ``d`` hops apart, far below the
rounding error of the largest entry, and ``log expm(tA)`` at large ``t`` has
entries beyond the float range. Both are handled here with arithmetic on
non-negative matrices only, where sums never cancel, so every entry keeps its
relative accuracy (Higham, "Accuracy and Stability of Numerical Algorithms",
Sec. 3.5: products of non-negative matrices have small componentwise error):

- :func:`log_expm_nonneg` - ``log expm(B)`` for ``B >= 0`` by scaling and
  squaring with a positive Taylor polynomial, rescaling after each squaring so
  nothing overflows;
- :func:`log_resolvent_nonneg` - ``log (I - X)^{-1}`` for ``X >= 0`` with
  spectral radius below 1 through the doubling product
  ``(I - X)^{-1} = prod_k (I + X^(2^k))``, stopped when the next factor changes
  no entry by more than a relative ``eps``.

A Metzler matrix ``M`` (non-negative off the diagonal, e.g. ``-L``) is reduced
to these by a diagonal shift: ``expm(tM) = exp(-tc) expm(t(M + cI))``.
"""

from __future__ import annotations

import math

import numpy as np

_EPS = np.finfo(np.float64).eps
#: Order of the Taylor polynomial (with the scaling below the truncated tail of
#: every entry is below eps relative; see log_expm_nonneg).
_TAYLOR_ORDER = 14


def log_expm_nonneg(B, *, max_hops=None):
    """``log expm(B)`` entrywise for a non-negative square matrix ``B``.

    With ``2^s >= max(4 ||B||_1, 2 h)`` (``h = max_hops``, the largest number of
    edges on a shortest path of the graph of ``B``; ``n`` when not given),
    ``X = B / 2^s`` has norm at most 1/4 and every entry of ``expm(B) =
    (expm(X))^(2^s)`` is a sum over walks cut into ``2^s`` segments of average
    length at most 1/2, so the order-14 Taylor polynomial of ``expm(X)`` (all
    terms non-negative) leaves a relative tail below ``eps`` in every entry.
    Zero entries (unreachable pairs) give ``-inf``.

    Parameters
    ----------
    B : ndarray of shape (n, n)
        Non-negative matrix.
    max_hops : int, default=None
        Hop diameter of ``B``'s graph (fewer squarings than the bound ``n``).

    Returns
    -------
    log_E : ndarray of shape (n, n)
    """
    B = np.asarray(B, dtype=np.float64)
    n = B.shape[0]
    norm = float(np.abs(B).sum(axis=0).max())
    hops = n if max_hops is None else max(int(max_hops), 1)
    s = max(0, math.ceil(math.log2(max(4.0 * norm, 2.0 * hops, 1.0))))
    X = B / 2.0**s
    T = np.eye(n)
    term = np.eye(n)
    for k in range(1, _TAYLOR_ORDER + 1):
        term = term @ X
        term /= k
        T += term
    log_scale = 0.0
    for _ in range(s):
        T = T @ T
        log_scale *= 2.0
        top = T.max()
        if top > 1e100:
            T /= top
            log_scale += math.log(top)
    with np.errstate(divide="ignore"):
        return np.log(T) + log_scale


def log_resolvent_nonneg(X, *, max_doublings=64):
    """``log (I - X)^{-1}`` entrywise for ``X >= 0`` with spectral radius < 1.

    The doubling product ``S_k = prod_{j <= k} (I + X^(2^j))`` sums
    ``X^0 .. X^(2^(k+1) - 1)`` with non-negative terms only; it stops once the
    remainder ``S_k Y`` with ``Y = X^(2^(k+1))`` is below ``eps`` times ``S_k``
    in every entry (the exact value is ``S_k (I - Y)^{-1}``).

    Parameters
    ----------
    X : ndarray of shape (n, n)
        Non-negative matrix with spectral radius below 1.
    max_doublings : int, default=64
        Raise when not converged after this many doublings (spectral radius
        too close to 1 for the product to converge in float64).

    Returns
    -------
    log_R : ndarray of shape (n, n)
    """
    X = np.asarray(X, dtype=np.float64)
    n = X.shape[0]
    S = np.eye(n) + X
    P = X
    for _ in range(max_doublings):
        P = P @ P
        rest = S @ P
        if not np.any(rest > _EPS * S):
            with np.errstate(divide="ignore"):
                return np.log(S)
        S += rest
        if not np.all(np.isfinite(S)):
            break
    raise FloatingPointError(
        "the resolvent series did not converge: the spectral radius of the "
        "iteration matrix is too close to 1 (the kernel parameter is at the edge "
        "of its valid range); use a smaller parameter."
    )
