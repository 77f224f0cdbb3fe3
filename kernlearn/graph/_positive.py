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
  no entry by more than a relative ``eps``;
- :func:`log_mmatrix_inverse` - the same for a *symmetric* ``X`` by one
  Cholesky factorisation of the M-matrix ``I - X``, whose only cancellations
  are in the pivots (a bound in ``kappa``, the ratio of the diagonal to the
  diagonally dominant part, decides when it is enough).

A Metzler matrix ``M`` (non-negative off the diagonal, e.g. ``-L``) is reduced
to these by a diagonal shift: ``expm(tM) = exp(-tc) expm(t(M + cI))``.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import sparse
from scipy.linalg import lapack

from ..utils._threaded import threaded_ufunc

_EPS = np.finfo(np.float64).eps
#: Below this fraction of non-zeros a sparse factor multiplies faster.
_SPARSE_DENSITY = 0.1
#: Smallest normal float64: below it relative precision is lost.
_TINY = np.finfo(np.float64).tiny
#: Order of the Taylor polynomial (with the scaling below the truncated tail of
#: every entry is below eps relative; see log_expm_nonneg).
_TAYLOR_ORDER = 14


def log_expm_nonneg(B, *, max_hops=None, spectral_radius=None):
    """``log expm(B)`` entrywise for a non-negative square matrix ``B``.

    With ``2^s >= max(4 ||B||_1, 2 h)`` (``h = max_hops``, the largest number of
    edges on a shortest path of the graph of ``B``; ``n`` when not given),
    ``X = B / 2^s`` has norm at most 1/4 and every entry of ``expm(B) =
    (expm(X))^(2^s)`` is a sum over walks cut into ``2^s`` segments of average
    length at most 1/2, so the order-14 Taylor polynomial of ``expm(X)`` (all
    terms non-negative) leaves a relative tail below ``eps`` in every entry.
    For an irreducible ``B`` the spectral radius ``rho`` may replace
    ``||B||_1``: with ``v > 0`` its Perron vector, ``Y = D_v^{-1} B D_v`` has
    ``||Y||_1 = rho`` (for a symmetric ``B``) and every step here
    (non-negative sums and products) computes the entries of the same
    algorithm on ``Y`` scaled by ``v_i / v_j``, each to the same relative
    accuracy, so the bound for ``Y`` holds for ``B``: a hub of degree ``d``
    makes ``||B||_1`` up to ``sqrt(d)`` times ``rho`` (the normalised
    adjacency), i.e. several squarings fewer. Zero entries (unreachable pairs)
    give ``-inf``.

    Parameters
    ----------
    B : ndarray of shape (n, n)
        Non-negative matrix.
    max_hops : int, default=None
        Hop diameter of ``B``'s graph (fewer squarings than the bound ``n``).
    spectral_radius : float, default=None
        ``rho(B)`` of a symmetric irreducible ``B`` (a connected graph), used
        in place of ``||B||_1`` when smaller.

    Returns
    -------
    log_E : ndarray of shape (n, n)
    """
    B = np.asarray(B, dtype=np.float64)
    n = B.shape[0]
    norm = float(np.abs(B).sum(axis=0).max())
    if spectral_radius is not None:
        norm = min(norm, float(spectral_radius))
    hops = n if max_hops is None else max(int(max_hops), 1)
    s = max(0, math.ceil(math.log2(max(4.0 * norm, 2.0 * hops, 1.0))))
    X = B / 2.0**s
    T = np.eye(n)
    # a symmetric B (every graph kernel here) keeps every power symmetric:
    # X T = T X, so a sparse X multiplies from the left at O(nnz n), and each
    # squaring is a symmetric rank-k update (half a general product)
    symmetric = np.array_equal(B, B.T)
    if symmetric and np.count_nonzero(B) < _SPARSE_DENSITY * n * n:
        X = sparse.csr_array(X)
    term = np.eye(n)
    for k in range(1, _TAYLOR_ORDER + 1):
        term = X @ term if symmetric else term @ X
        term /= k
        T += term
    log_scale = 0.0
    for _ in range(s):
        T = T @ T.T if symmetric else T @ T
        log_scale *= 2.0
        top = T.max()
        if top > 1e100:
            T /= top
            log_scale += math.log(top)
    T[T < _TINY] = 0.0  # subnormal: relative precision lost
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
            S[S < _TINY] = 0.0  # subnormal: relative precision lost
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


def log_mmatrix_inverse(M):
    """``log M^{-1}`` entrywise for a symmetric nonsingular M-matrix ``M``.

    ``M = L L^T`` (Cholesky, LAPACK ``potrf``/``potri``). For an M-matrix the
    factor has a positive diagonal and non-positive off-diagonal entries, so
    ``L^{-1}`` and ``M^{-1} = L^{-T} L^{-1}`` are sums of non-negative terms:
    only the pivots ``l_kk^2 = m_kk - sum_j l_kj^2`` can cancel. The backward
    error ``|Delta M| <= gamma_n |L| |L^T|`` then changes each entry of the
    inverse by at most ``gamma_n (4 (M^{-1} diag(l^2) M^{-1})_ij + M^{-1}_ij)``
    (the cross terms are non-positive), i.e. a relative ``~ 4 n eps kappa``,
    where ``kappa`` bounds ``(M^{-2})_ij m_kk / M^{-1}_ij``: ``1 / (1 - rho)``
    for ``M = I - X`` scaled by its Perron vector (``rho`` the spectral radius
    of ``X``), ``1 + t max(d)`` for ``I + t L``. The caller checks ``kappa``.
    Unlike a general inverse, no entry is lost to cancellation however small
    (checked against mpmath in tests/graph/test_kernels.py).

    Parameters
    ----------
    M : ndarray of shape (n, n)
        Symmetric, non-positive off the diagonal, positive definite.

    Returns
    -------
    log_inv : ndarray of shape (n, n)
        Zero entries of the inverse (a disconnected ``M``) give ``-inf``.
    """
    out = mmatrix_inverse(M)
    with np.errstate(divide="ignore"):
        return threaded_ufunc(np.log, out, out=out)


def mmatrix_inverse(M):
    """``M^{-1}`` of a symmetric nonsingular M-matrix, every entry to relative
    accuracy (see :func:`log_mmatrix_inverse`); entries that underflow to the
    subnormal range, where float64 loses relative precision, are returned as 0.

    Parameters
    ----------
    M : ndarray of shape (n, n)

    Returns
    -------
    inv : ndarray of shape (n, n)
        Non-negative.
    """
    n = M.shape[0]
    # M is symmetric: its transpose is the Fortran-ordered view LAPACK takes
    # without a copy (the lower triangle of M.T is M's upper, the same numbers)
    c, info = lapack.dpotrf(np.asarray(M, dtype=np.float64).T, lower=1)
    if info == 0:
        inv, info = lapack.dpotri(c, lower=1, overwrite_c=1)
    if info != 0:
        raise FloatingPointError(
            "the Cholesky factorisation failed: the matrix is not a positive "
            "definite M-matrix (the kernel parameter is outside its range)."
        )
    # potri fills the lower triangle (column-major): mirror it
    out = inv.T.copy()
    np.copyto(out, inv, where=np.tri(n, dtype=bool))
    # no entry can be negative (sums of non-negative terms); subnormals have
    # lost relative precision: both become exact zeros (-inf in log space)
    out[out < _TINY] = 0.0
    return out
