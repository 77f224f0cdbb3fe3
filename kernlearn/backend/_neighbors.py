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
from ._log import note_engine
from ._transforms import _engine, _module
from ._validation import is_cupy_array


def masked_sqdist_topk(
    Q, mask, F, k, *, offset_shrinkage=None, gain_shrinkage=None, backend=None
):
    """The ``k`` rows of ``F`` closest to each row of ``Q`` on its own features.

    For query ``q_i`` with selected features ``S_i`` (``mask[i]``, ``s_i =
    |S_i|`` of them), ``u = q_i - f`` and ``g = f - c_i`` on ``S_i`` (``c_i``
    the mean of ``q_i`` over ``S_i``), the squared distance is

    ``d_i(f) = min_{delta, beta} sum_{b in S_i} (u_b - beta g_b - delta)^2
    + offset_shrinkage s_i delta^2 + gain_shrinkage s_i beta^2``:

    the plain masked distance ``sum u_b^2`` once the query is allowed a common
    offset ``delta`` and a gain ``1 + beta`` about its own level, each with a
    Gaussian prior (``None`` pins it at 0). With the offset alone this is
    ``|u|^2 - (sum u)^2 / ((1 + offset_shrinkage) s_i)``; with both, a 2 x 2
    solve per pair. In fingerprint localisation the offset and gain model how
    a phone's holding position moves and stretches all of its readings.
    Nothing of size ``n x M`` is formed: the reference runs blocks sized by
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
    offset_shrinkage, gain_shrinkage : float > 0 or None, default=None
        Prior weights on the common offset and on the gain deviation
        (``None``: not fitted).
    backend : {"auto", "numpy", "numba", "keops", "cupy", "dask"}, default=None
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
    >>> masked_sqdist_topk(Q, ~np.isnan(Q), F + 3.0, k=1, offset_shrinkage=1e-9)[1]
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
    for name, value in (
        ("offset_shrinkage", offset_shrinkage),
        ("gain_shrinkage", gain_shrinkage),
    ):
        if value is not None and (
            isinstance(value, bool)
            or not isinstance(value, numbers.Real)
            or not value > 0
        ):
            raise ValueError(f"{name} must be a float > 0 or None, got {value!r}.")
    if not bool(xp.isfinite(F).all()):
        raise ValueError("F must be finite (give a floor value for missing entries).")
    Qm = xp.where(mask, Q, 0.0)
    if not bool(xp.isfinite(Qm).all()):
        raise ValueError("Q must be finite wherever mask is True.")
    s = xp.maximum(mask.sum(axis=1), 1).astype(xp.float64)
    # per row: (1 + lam) s (0: no offset), mu s (0: no gain), and the query
    # about its own mean on S, a = q - c, with sum a^2
    off = xp.zeros(n) if offset_shrinkage is None else (1 + offset_shrinkage) * s
    gain = xp.zeros(n) if gain_shrinkage is None else gain_shrinkage * s
    Am = xp.where(mask, Qm - (Qm.sum(axis=1) / s)[:, None], 0.0)
    a2 = (Am * Am).sum(axis=1)
    engine = _engine(backend, Q, n * M)
    note_engine("masked_sqdist_topk", engine)
    if engine == "cupy":
        import cupy

        args = [cupy.asarray(a) for a in (Qm, mask, Am, F, off, gain, a2)]
        d2, idx = _reference(*args, k, cupy)
        if not is_cupy_array(Q):
            d2, idx = cupy.asnumpy(d2), cupy.asnumpy(idx)
        return d2, idx
    if engine == "numpy" or n == 0:
        return _reference(Qm, mask, Am, F, off, gain, a2, k, np)
    from . import _numba

    count = mask.sum(axis=1)
    width = max(1, int(count.max()))
    sel = np.ascontiguousarray(
        np.argsort(~mask, axis=1, kind="stable")[:, :width], dtype=np.int64
    )  # the selected features first
    vals, idx = _numba.masked_topk(
        sel,
        count.astype(np.int64),
        np.ascontiguousarray(np.take_along_axis(Qm, sel, axis=1)),
        np.ascontiguousarray(np.take_along_axis(Am, sel, axis=1)),
        off,
        gain,
        a2,
        np.ascontiguousarray(F.T),
        k,
    )
    return -vals, idx


def _corrected(suu, su, sau, off, gain, a2, xp):
    """``d`` from the per-pair sums ``sum u^2``, ``sum u``, ``sum a u`` and the
    per-row ``(1 + lam) s``, ``mu s`` (0: that correction is off) and ``sum
    a^2``. With ``g = a - u``: ``sum g = -sum u`` (``sum a = 0``), ``sum g^2 =
    sum a^2 - 2 sum a u + sum u^2`` and ``sum u g = sum a u - sum u^2``; the
    normal equations of (beta, delta) are ``[[sum g^2 + mu s, sum g], [sum g,
    (1 + lam) s]]``."""
    off, gain, a2 = off[:, None], gain[:, None], a2[:, None]
    sgg = a2 - 2.0 * sau + suu + gain
    sug = sau - suu
    det = sgg * off - su * su
    with_gain = xp.where(
        off > 0,
        suu
        - (off * sug * sug + 2.0 * su * su * sug + sgg * su * su)
        / xp.where(det > 0, det, 1.0),
        suu - sug * sug / xp.where(sgg > 0, sgg, 1.0),
    )
    offset_only = suu - su * su / xp.where(off > 0, off, xp.inf)
    return xp.maximum(xp.where(gain > 0, with_gain, offset_only), 0.0)


def _reference(Qm, mask, Am, F, off, gain, a2, k, xp):
    """Blocked GEMMs for the per-pair sums (``sum u^2 = sum m q^2 - 2 (m q) . f
    + m . f^2``, ``sum u = sum m q - m . f``, ``sum a u = sum a q - a . f``) on
    values centred at the mean of ``F`` (no cancellation between large
    levels), then an exact top ``k`` per block merged with the running one
    (stable: the lower index wins ties)."""
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
    aq = (Am * q).sum(axis=1)
    budget = min(float(get_config()["working_memory"]), 4.0)
    rows, cols = block_shape(n, M, 120, budget)
    vals = xp.full((n, k), -xp.inf)
    idx = xp.zeros((n, k), dtype=xp.int64)
    for r0 in range(0, n, rows):
        r = slice(r0, min(n, r0 + rows))
        best_v, best_i = vals[r], idx[r]
        for c0 in range(0, M, cols):
            cs = slice(c0, min(M, c0 + cols))
            suu = A[r] @ B[cs].T + qq[r, None]
            su = qs[r, None] - m[r] @ Fc[cs].T
            sau = aq[r, None] - Am[r] @ Fc[cs].T
            neg = -_corrected(suu, su, sau, off[r], gain[r], a2[r], xp)
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
