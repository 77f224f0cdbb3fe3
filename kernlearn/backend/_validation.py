"""Input validation shared by the backend primitives (engine-independent)."""

from __future__ import annotations

import numbers

import numpy as np
from scipy.sparse import issparse
from sklearn.utils import check_array


def is_cupy_array(a) -> bool:
    """True for a CuPy ndarray (without importing cupy)."""
    return type(a).__module__.split(".")[0] == "cupy"


def is_dask_array(a) -> bool:
    """True for a dask array, without importing dask.

    Parameters
    ----------
    a : object

    Returns
    -------
    bool

    Examples
    --------
    >>> import numpy as np
    >>> from kernlearn.backend import is_dask_array
    >>> is_dask_array(np.zeros(3))
    False
    """
    return type(a).__module__.split(".")[0] == "dask" and hasattr(a, "chunks")


def _check_device_array(a, name):
    import cupy as cp

    if a.ndim != 2:
        raise ValueError(
            f"{name} must be a 2-D array of shape (n_samples, n_features), got "
            f"{a.ndim} dimension(s)."
        )
    if a.dtype not in (cp.float32, cp.float64):
        a = a.astype(cp.float64)
    if a.shape[0] == 0 or a.shape[1] == 0:
        raise ValueError(
            f"{name} is empty (shape {a.shape}); it needs at least one sample "
            "and one feature."
        )
    if not bool(cp.isfinite(a).all()):
        raise ValueError(f"{name} contains NaN or infinity; remove or impute them.")
    return a


def _check_host_array(a, name):
    """``check_array`` with errors that name the parameter (X or Y)."""
    if issparse(a):
        raise TypeError(
            f"{name} is a sparse matrix; the kernel primitives need a dense array "
            f"(convert with {name}.toarray())."
        )
    try:
        shape = np.shape(a)
    except ValueError:  # ragged nested sequence: let check_array word it
        shape = None
    if shape is not None and len(shape) != 2:
        hint = (
            " Reshape a single feature with .reshape(-1, 1)." if len(shape) == 1 else ""
        )
        raise ValueError(
            f"{name} must be a 2-D array of shape (n_samples, n_features), got "
            f"{len(shape)} dimension(s).{hint}"
        )
    if shape is not None and (shape[0] == 0 or shape[1] == 0):
        raise ValueError(
            f"{name} is empty (shape {shape}); it needs at least one sample "
            "and one feature."
        )
    try:
        return check_array(
            a, dtype=[np.float64, np.float32], ensure_all_finite=True, input_name=name
        )
    except (TypeError, ValueError) as exc:
        if f"Input {name} " in str(exc):  # already names it
            raise
        raise type(exc)(f"Invalid {name}: {exc}") from exc


def check_pair(X, Y):
    """Validate ``X`` and ``Y`` (``Y=None`` means ``X``): 2-D, finite, float.

    Returns ``X, Y`` of one common dtype, float32 only when both are float32.
    """
    gpu = is_cupy_array(X) or (Y is not None and is_cupy_array(Y))
    if gpu:
        import cupy as cp

        X = _check_device_array(cp.asarray(X), "X")
        Y = X if Y is None else _check_device_array(cp.asarray(Y), "Y")
    else:
        X = _check_host_array(X, "X")
        Y = X if Y is None else _check_host_array(Y, "Y")
    if X.shape[1] != Y.shape[1]:
        raise ValueError(
            f"X has {X.shape[1]} features but Y has {Y.shape[1]}; both must have "
            "the same number of columns."
        )
    if X.dtype != Y.dtype:
        X = X.astype(np.float64, copy=False)
        Y = Y.astype(np.float64, copy=False)
    return X, Y


def check_weights(weights, m, name="weights", allow_neg_inf=False, xp=np):
    """Validate weights, a vector (m,) or a matrix (m, k).

    Returns ``(W, squeeze)``: ``W`` of shape (m, k) in float64 (``None`` when
    ``weights`` is None) and whether the output should drop its second axis.
    """
    if weights is None:
        return None, True
    try:
        W = xp.asarray(weights)
        if W.dtype.kind not in "biuf":
            raise TypeError(f"dtype {W.dtype} is not real-valued")
        W = W.astype(xp.float64, copy=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"{name} must be an array of real numbers, got {type(weights).__name__}"
            f" ({exc})."
        ) from exc
    check_weights_shape(W.shape, m, name)
    if allow_neg_inf:
        bad = xp.isnan(W) | (W == xp.inf)
        if bool(bad.any()):
            raise ValueError(
                f"{name} contains NaN or +inf; log-weights must be finite or -inf "
                "(a zero weight)."
            )
    elif not bool(xp.isfinite(W).all()):
        raise ValueError(f"{name} contains NaN or infinity; pass finite weights.")
    squeeze = W.ndim == 1
    if squeeze:
        W = W[:, None]
    return W, squeeze


def check_weights_shape(shape, m, name="weights"):
    """Raise unless ``shape`` is ``(m,)`` or ``(m, k)`` with ``k >= 1``."""
    if len(shape) not in (1, 2):
        raise ValueError(
            f"{name} must have shape (n_samples_Y,) or (n_samples_Y, n_outputs), "
            f"got an array of shape {tuple(shape)}."
        )
    if shape[0] != m:
        raise ValueError(
            f"{name} has {shape[0]} rows but Y has {m} samples; pass one weight "
            "per row of Y."
        )
    if len(shape) == 2 and shape[1] == 0:
        raise ValueError(f"{name} has no columns; pass at least one output.")


def check_k(k, m):
    """Validate the ``k`` of ``kernel_topk``."""
    if isinstance(k, bool) or not isinstance(k, numbers.Integral):
        raise TypeError(f"k must be an integer, got {type(k).__name__}.")
    if not 1 <= k <= m:
        raise ValueError(
            f"k={k} is out of range: it must satisfy 1 <= k <= n_samples_Y = {m}."
        )
    return int(k)
