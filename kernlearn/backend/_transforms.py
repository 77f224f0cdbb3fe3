"""Feature-map transforms shared by the random-feature estimators.

Two primitives, each with a numpy reference (array-module generic, so it also runs
on CuPy arrays) and a fused numba kernel (``_numba.py``):

- :func:`hadamard_chain` - ``D_0 H D_1 H ... H D_m x`` for blocks of diagonals,
  the structured orthogonal projections of SORF (Yu et al. 2016) in
  ``O(p log p)`` per block and row;
- :func:`cos_sin` - ``[cos P, sin P] * scale``, the trigonometric feature pairs of
  random Fourier features and of the private random-feature sketches.

Used by :class:`kernlearn.kernel_approximation.RandomFourierFeatures`,
:class:`kernlearn.privacy.PrivateSimilaritySum` (its random-feature sketch) and
:class:`kernlearn.neural.SNNKFeatures`.
"""

from __future__ import annotations

import functools
import logging

import numpy as np

from .._config import BACKENDS, get_config
from ._log import note_engine
from ._validation import is_cupy_array

logger = logging.getLogger("kernlearn")

#: Below this many output values ``"auto"`` runs the numpy reference.
_AUTO_MIN_VALUES = 4096
#: Lengths from which :func:`fwht` uses Kronecker factors and BLAS.
_FWHT_BLAS_MIN = 64


def _module(X):
    if is_cupy_array(X):
        import cupy

        return cupy
    return np


@functools.lru_cache(maxsize=16)
def _hadamard(n):
    """The Sylvester Hadamard matrix of order ``n`` (float64, read-only)."""
    H = np.ones((1, 1))
    while H.shape[0] < n:
        H = np.block([[H, H], [H, -H]])
    H.setflags(write=False)
    return H


def fwht(a, axis=-1):
    """Fast Walsh-Hadamard transform (unnormalised, Sylvester order).

    Returns ``H_p @ a`` along ``axis`` for the Sylvester Hadamard matrix
    ``H_p = [[H_{p/2}, H_{p/2}], [H_{p/2}, -H_{p/2}]]`` (that of
    :func:`scipy.linalg.hadamard`) without forming it, vectorised over the other
    axes. ``H_p / sqrt(p)`` is orthogonal and symmetric. This is the array-module
    reference (numpy or CuPy input); :func:`hadamard_chain` runs it fused per row.

    Parameters
    ----------
    a : array-like
        Input; its length along ``axis`` must be a power of two.
    axis : int, default=-1
        Axis to transform.

    Returns
    -------
    out : ndarray of float64, same shape as ``a``

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.linalg import hadamard
    >>> from kernlearn.backend import fwht
    >>> x = np.arange(4.0)
    >>> fwht(x), hadamard(4) @ x
    (array([ 6., -2., -4.,  0.]), array([ 6., -2., -4.,  0.]))
    """
    xp = _module(a)
    a = xp.moveaxis(xp.array(a, dtype=xp.float64), axis, -1)
    p = a.shape[-1]
    if p < 1 or p & (p - 1):
        raise ValueError(
            f"a must have a power-of-two length along axis={axis}, got {p}; pad "
            "with zeros to the next power of two."
        )
    lead = a.shape[:-1]
    if p >= _FWHT_BLAS_MIN:
        # H_p = H_A kron H_B (Sylvester order, p = A B): two GEMMs with small
        # dense Hadamard blocks, O(p (A + B)) per vector but at BLAS speed.
        k = p.bit_length() - 1
        A, B = 1 << (k // 2), p >> (k // 2)
        m = a.size // p
        HA, HB = xp.asarray(_hadamard(A)), xp.asarray(_hadamard(B))
        Y = (a.reshape(m * A, B) @ HB).reshape(m, A, B)
        Y = Y.transpose(0, 2, 1).reshape(m * B, A) @ HA
        a = Y.reshape(m, B, A).transpose(0, 2, 1)
        return xp.moveaxis(a.reshape(*lead, p), -1, axis)
    h = 1
    while h < p:
        a = a.reshape(*lead, p // (2 * h), 2, h)
        x, y = a[..., 0, :], a[..., 1, :]
        a = xp.stack((x + y, x - y), axis=-2)
        h *= 2
    return xp.moveaxis(a.reshape(*lead, p), -1, axis)


def _engine(backend, X, n_values):
    """``"numba"`` or an array module (numpy / cupy) to run the reference with."""
    name = backend if backend is not None else get_config()["backend"]
    if name not in BACKENDS:
        raise ValueError(
            f"backend must be one of {BACKENDS}, got {name!r}. "
            "Use 'auto' to let kernlearn choose."
        )
    gpu = is_cupy_array(X)
    if gpu:
        if name in ("numpy", "numba"):
            raise TypeError(
                f"backend={name!r} runs on the CPU but the input is a CuPy array; "
                "use backend='cupy' (or 'auto'), or convert with cupy.asnumpy."
            )
        return "cupy"
    if name == "cupy":
        from . import _load_engine

        _load_engine("cupy")  # ImportError naming the extra when missing
        return "cupy"
    if name == "numpy" or (name == "auto" and n_values < _AUTO_MIN_VALUES):
        return "numpy"
    from . import _load_engine

    try:
        _load_engine("numba")
    except ImportError:
        if name == "numba":
            raise
        return "numpy"
    if name == "keops":
        logger.debug("keops has no feature-map transforms; running them on numba.")
    return "numba"


def _float_2d(X, name):
    xp = _module(X)
    X = xp.asarray(X, dtype=xp.float64)
    if X.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n_samples, n), got shape {X.shape}.")
    return X


def _check_out(out, shape, xp):
    if out is None:
        return xp.empty(shape)
    if out.shape != shape or out.dtype != np.float64:
        raise ValueError(
            f"out must be a float64 array of shape {shape}, got {out.dtype} "
            f"{out.shape}."
        )
    return out


def _to_device(arrays, engine, like):
    """Copy host arrays to the GPU when the cupy engine runs host input."""
    if engine != "cupy" or is_cupy_array(like):
        return arrays
    import cupy

    return [cupy.asarray(a) for a in arrays]


def _finish(res, out, host):
    """Return ``res``; host input run on the GPU comes back to the host (in ``out``)."""
    if not host:
        return res
    import cupy

    res = cupy.asnumpy(res)
    if out is None:
        return res
    out[...] = res
    return out


def hadamard_chain(X, diagonals, n_out=None, *, out=None, backend=None):
    """Structured projections ``D_0 H D_1 H...H D_m [x; 0]`` of every row.

    ``H`` is the unnormalised Sylvester Walsh-Hadamard matrix of order ``p`` (a
    power of two, ``p >= n_features``), each ``D_k`` the diagonal matrix of
    ``diagonals[b, k]``; rows are zero-padded to length ``p``. Block ``b`` gives
    output columns ``b p`` to ``(b + 1) p``, and the first ``n_out`` columns are
    kept. With ``D_1, D_2, D_3`` random signs and ``D_0`` radii over
    ``p^{3/2}`` this is structured orthogonal random features (SORF; Yu et al.,
    "Orthogonal Random Features", NeurIPS 2016): ``O(m p log p)`` per row and
    block instead of ``O(d p)`` for a dense projection. Streams: no temporary
    beyond one row of length ``p`` per thread (numba) or the configured
    ``working_memory`` (numpy reference).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    diagonals : array-like of shape (n_blocks, m + 1, p)
        ``diagonals[b, 0]`` is applied last, ``diagonals[b, m]`` first (to the
        padded input). ``p`` must be a power of two and at least ``n_features``.
    n_out : int, default=None
        Columns to keep, at most ``n_blocks * p``; ``None`` keeps all.
    out : ndarray of shape (n_samples, n_out), default=None
        float64 array to write into (may be a view of a larger array).
    backend : {"auto", "numpy", "numba", "keops", "cupy", "dask"}, default=None
        Engine; ``None`` defers to the configuration. KeOps has no such
        reduction, so ``"keops"`` runs numba on CPU arrays.

    Returns
    -------
    out : ndarray of shape (n_samples, n_out)

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.linalg import hadamard
    >>> from kernlearn.backend import hadamard_chain
    >>> D = np.array([[[1.0, 2.0], [1.0, -1.0]]])  # D_0 H D_1, p = 2
    >>> hadamard_chain(np.array([[3.0, 4.0]]), D)
    array([[-1., 14.]])
    >>> np.diag(D[0, 0]) @ hadamard(2) @ np.diag(D[0, 1]) @ [3.0, 4.0]
    array([-1., 14.])
    """
    X = _float_2d(X, "X")
    xp = _module(X)
    diagonals = xp.asarray(diagonals, dtype=xp.float64)
    if diagonals.ndim != 3 or diagonals.shape[1] < 1:
        raise ValueError(
            f"diagonals must have shape (n_blocks, m + 1, p), got {diagonals.shape}."
        )
    n_blocks, n_diag, p = diagonals.shape
    n, d = X.shape
    if p < 1 or p & (p - 1) or p < d:
        raise ValueError(
            f"diagonals have length p={p}; it must be a power of two and at least "
            f"n_features={d}."
        )
    n_out = n_blocks * p if n_out is None else int(n_out)
    if not 0 <= n_out <= n_blocks * p:
        raise ValueError(
            f"n_out must be in [0, n_blocks * p] = [0, {n_blocks * p}], got {n_out}."
        )
    engine = _engine(backend, X, n * n_out)
    note_engine("hadamard_chain", engine)
    host = engine == "cupy" and not is_cupy_array(X)
    X, diagonals = _to_device([X, diagonals], engine, X)
    xp = _module(X)
    user_out = out
    if host and out is not None:
        _check_out(out, (n, n_out), np)
    out = _check_out(None if host else out, (n, n_out), xp)
    if engine == "numba":
        from . import _numba

        _numba.hadamard_chain(
            np.ascontiguousarray(X), np.ascontiguousarray(diagonals), n_out, out
        )
        return out
    budget = get_config()["working_memory"] * 2**20
    step = max(1, int(budget // (8 * 2 * n_blocks * p)))
    for i0 in range(0, n, step):
        Z = xp.zeros((min(step, n - i0), 1, p))
        Z[:, 0, :d] = X[i0 : i0 + step]
        Z = Z * diagonals[:, -1]  # (rows, n_blocks, p)
        for k in range(n_diag - 2, -1, -1):
            Z = fwht(Z) * diagonals[:, k]
        out[i0 : i0 + step] = Z.reshape(Z.shape[0], -1)[:, :n_out]
    return _finish(out, user_out, host)


def cos_sin(P, scale=1.0, *, out=None, backend=None):
    """Trigonometric feature pairs ``[cos P, sin P] * scale``.

    Parameters
    ----------
    P : array-like of shape (n_samples, m)
        Phases (projections ``w . x``).
    scale : float, default=1.0
        Common factor, e.g. ``1 / sqrt(m)`` for random Fourier features.
    out : ndarray of shape (n_samples, 2 m), default=None
        float64 array to write into (may be a view of a larger array).
    backend : {"auto", "numpy", "numba", "keops", "cupy", "dask"}, default=None
        Engine; ``None`` defers to the configuration. The numba kernel is one
        parallel pass that writes both halves (about 4x numpy's two ufuncs).

    Returns
    -------
    out : ndarray of shape (n_samples, 2 m)
        ``out[:, :m] = cos(P) * scale`` and ``out[:, m:] = sin(P) * scale``.

    Examples
    --------
    >>> import numpy as np
    >>> from kernlearn.backend import cos_sin
    >>> cos_sin(np.array([[0.0, np.pi / 2]]), 2.0).round(12)
    array([[2., 0., 0., 2.]])
    """
    P = _float_2d(P, "P")
    n, m = P.shape
    scale = float(scale)
    engine = _engine(backend, P, 2 * n * m)
    note_engine("cos_sin", engine)
    host = engine == "cupy" and not is_cupy_array(P)
    (P,) = _to_device([P], engine, P)
    xp = _module(P)
    user_out = out
    if host and out is not None:
        _check_out(out, (n, 2 * m), np)
    out = _check_out(None if host else out, (n, 2 * m), xp)
    if engine == "numba":
        from . import _numba

        _numba.cos_sin(np.ascontiguousarray(P), scale, out)
        return out
    xp.multiply(xp.cos(P, out=out[:, :m]), scale, out=out[:, :m])
    xp.multiply(xp.sin(P, out=out[:, m:]), scale, out=out[:, m:])
    return _finish(out, user_out, host)
