"""Nearest points under a per-row feature mask (and a common-offset correction).

:func:`masked_sqdist_topk` finds, for every query row, the ``k`` reference points
closest on the features that row selects. It is the search behind
:class:`kernlearn.localization.FingerprintLocator` (each phone observation is
matched on its own subset of beacons) and serves any nearest-neighbour search on
partially observed vectors. Engines: an array-module reference (numpy or CuPy
arrays, blocked GEMMs, exact top ``k``) and a fused numba kernel whose work per
pair is the number of selected features, not the number of features.
"""

from __future__ import annotations

import numbers

import numpy as np

from .._config import get_config
from ._chunking import block_shape
from ._transforms import _engine, _module
from ._validation import is_cupy_array


def masked_sqdist_topk(Q, mask, F, k, *, shrinkage=None, backend=None):
    """The ``k`` rows of ``F`` closest to each row of ``Q`` on its own features.

    For query ``q_i`` with selected features ``S_i`` (``mask[i]``) and
    ``u = q_i - f`` on ``S_i``, the squared distance is

    ``d_i(f) = sum_{b in S_i} u_b^2 - c_i (sum_{b in S_i} u_b)^2``,
    ``c_i = 1 / ((1 + shrinkage) |S_i|)``

    (``c_i = 0`` without ``shrinkage``: the plain masked distance). With
    shrinkage it is the plain distance minimised over a common shift ``delta``
    of the query with the penalty ``shrinkage |S_i| delta^2``, i.e. a Gaussian
    prior on an offset that moves every feature of the query alike. Nothing of
    size ``n x M`` is formed: the reference runs blocks sized by
    ``working_memory``, the numba engine one heap per row.

    Parameters
    ----------
    Q : array-like of shape (n_queries, n_features)
        Queries; entries outside the mask are ignored (they may be NaN).
    mask : array-like of bool, shape (n_queries, n_features)
        Features each query is compared on. An empty row compares on nothing:
        every distance is 0 and the first ``k`` points are returned.
    F : array-like of shape (n_points, n_features)
        Reference points, finite. A Fortran-ordered (or transposed C) array is
        used without a copy by the numba engine.
    k : int
        Neighbours per query, ``1 <= k <= n_points``.
    shrinkage : float > 0 or None, default=None
        Prior weight on the common offset (``None``: no offset).
    backend : {"auto", "numpy", "numba", "keops", "cupy"}, default=None
        Engine; ``None`` defers to the configuration. KeOps has no such
        reduction, so ``"keops"`` runs numba on CPU arrays.

    Returns
    -------
    d2 : ndarray of shape (n_queries, k)
        Distances, increasing along each row (ties to the lower index).
    indices : ndarray of int64, shape (n_queries, k)

    Examples
    --------
    >>> import numpy as np
    >>> from kernlearn.backend import masked_sqdist_topk
    >>> F = np.array([[0.0, 0.0, 9.0], [1.0, 2.0, 0.0], [5.0, 5.0, 5.0]])
    >>> Q = np.array([[1.0, 2.0, np.nan]])
    >>> d2, idx = masked_sqdist_topk(Q, ~np.isnan(Q), F, k=2)
    >>> d2, idx
    (array([[0., 5.]]), array([[1, 0]]))
    >>> masked_sqdist_topk(Q, ~np.isnan(Q), F + 3.0, k=1, shrinkage=1e-9)[1]
    array([[1]])
    """
    xp = _module(Q)
    Q = xp.asarray(Q, dtype=xp.float64)
    mask = xp.asarray(mask)
    F = _module(F).asarray(F, dtype=np.float64)
    if Q.ndim != 2 or F.ndim != 2:
        raise ValueError(
            f"Q and F must be 2-D (n, n_features), got shapes {Q.shape} and {F.shape}."
        )
    if mask.shape != Q.shape or mask.dtype != bool:
        raise ValueError(
            f"mask must be a boolean array of Q's shape {Q.shape}, got "
            f"{mask.dtype} {mask.shape}."
        )
    if Q.shape[1] != F.shape[1]:
        raise ValueError(
            f"Q has {Q.shape[1]} features but F has {F.shape[1]}; they must match."
        )
    n, M = Q.shape[0], F.shape[0]
    if M == 0:
        raise ValueError("F is empty: there are no points to search.")
    if (
        isinstance(k, bool)
        or not isinstance(k, numbers.Integral)
        or not 1 <= int(k) <= M
    ):
        raise ValueError(f"k must be an integer in [1, n_points={M}], got {k!r}.")
    k = int(k)
    if shrinkage is not None and (
        not isinstance(shrinkage, numbers.Real) or not shrinkage > 0
    ):
        raise ValueError(f"shrinkage must be a float > 0 or None, got {shrinkage!r}.")
    if not bool(xp.isfinite(F).all()):
        raise ValueError("F must be finite (give a floor value for missing entries).")
    Qm = xp.where(mask, Q, 0.0)
    if not bool(xp.isfinite(Qm).all()):
        raise ValueError("Q must be finite wherever mask is True.")
    count = mask.sum(axis=1)
    if shrinkage is None:
        coef = xp.zeros(n)
    else:
        coef = 1.0 / ((1.0 + float(shrinkage)) * xp.maximum(count, 1))
    engine = _engine(backend, Q, n * M)
    if engine == "cupy":
        import cupy

        Qm, mask, F, coef = (cupy.asarray(a) for a in (Qm, mask, F, coef))
        d2, idx = _reference(Qm, mask, F, coef, k, cupy)
        if not is_cupy_array(Q):
            d2, idx = cupy.asnumpy(d2), cupy.asnumpy(idx)
        return d2, idx
    if engine == "numpy" or n == 0:
        return _reference(Qm, mask, F, coef, k, np)
    from . import _numba

    width = max(1, int(count.max()) if n else 1)
    order = np.argsort(~mask, axis=1, kind="stable")[:, :width]  # selected first
    sel = np.ascontiguousarray(order, dtype=np.int64)
    qv = np.ascontiguousarray(np.take_along_axis(Qm, sel, axis=1))
    vals, idx = _numba.masked_topk(
        sel,
        count.astype(np.int64),
        qv,
        np.ascontiguousarray(coef),
        np.ascontiguousarray(F.T),
        k,
    )
    return -vals, idx


def _reference(Qm, mask, F, coef, k, xp):
    """Blocked GEMMs: ``|u|^2 = sum m q^2 - 2 (m q) . f + m . f^2`` and ``sum u =
    sum m q - m . f`` on values centred at the mean of ``F`` (no cancellation
    between large levels), then an exact top ``k`` per block merged with the
    running one (stable: the lower index wins ties)."""
    from ._numpy import _block_topk

    n, M = Qm.shape[0], F.shape[0]
    centre = float(F.mean())
    m = mask.astype(xp.float64)
    q = m * (Qm - centre)
    Fc = F - centre
    A = xp.concatenate([-2.0 * q, m], axis=1)  # . [f, f^2] = |u|^2 - sum m q^2
    B = xp.concatenate([Fc, Fc * Fc], axis=1)
    qq = (q * q).sum(axis=1)
    qs = q.sum(axis=1)
    budget = min(float(get_config()["working_memory"]), 4.0)
    rows, cols = block_shape(n, M, 80, budget)
    vals = xp.full((n, k), -xp.inf)
    idx = xp.zeros((n, k), dtype=xp.int64)
    for r0 in range(0, n, rows):
        r = slice(r0, min(n, r0 + rows))
        best_v, best_i = vals[r], idx[r]
        for c0 in range(0, M, cols):
            cs = slice(c0, min(M, c0 + cols))
            d = A[r] @ B[cs].T + qq[r, None]
            s = qs[r, None] - m[r] @ Fc[cs].T
            neg = -xp.maximum(d - coef[r, None] * s * s, 0.0)
            kk = min(k, cs.stop - cs.start)
            if xp is np:
                bv, bi = _block_topk(neg, kk, c0)
            else:
                o = xp.argsort(-neg, axis=1)[:, :kk]  # CuPy's sort is stable
                bv, bi = xp.take_along_axis(neg, o, axis=1), o + c0
            cand_v = xp.concatenate([best_v, bv], axis=1)
            cand_i = xp.concatenate([best_i, bi], axis=1)
            o = xp.argsort(-cand_v, axis=1, kind="stable")[:, :k]
            best_v = xp.take_along_axis(cand_v, o, axis=1)
            best_i = xp.take_along_axis(cand_i, o, axis=1)
        vals[r], idx[r] = best_v, best_i
    return -vals, idx
