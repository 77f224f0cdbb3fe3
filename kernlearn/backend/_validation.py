"""Input validation shared by the backend primitives (engine-independent)."""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.utils import check_array


def is_cupy_array(a) -> bool:
    """True for a CuPy ndarray (without importing cupy)."""
    return type(a).__module__.split(".")[0] == "cupy"


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
        raise ValueError(f"{name} is empty (shape {a.shape}); pass at least one row.")
    if not bool(cp.isfinite(a).all()):
        raise ValueError(f"{name} contains NaN or infinity; remove or impute them.")
    return a


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
        X = check_array(
            X, dtype=[np.float64, np.float32], ensure_all_finite=True, input_name="X"
        )
        Y = (
            X
            if Y is None
            else check_array(
                Y,
                dtype=[np.float64, np.float32],
                ensure_all_finite=True,
                input_name="Y",
            )
        )
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
    """Validate a weight vector (m,) or matrix (m, k); return (W (m, k) f64, squeeze)."""
    if weights is None:
        return None, True
    W = xp.asarray(weights, dtype=xp.float64)
    if W.ndim not in (1, 2):
        raise ValueError(
            f"{name} must have shape (n_samples_Y,) or (n_samples_Y, n_outputs), "
            f"got an array of shape {W.shape}."
        )
    if W.shape[0] != m:
        raise ValueError(
            f"{name} has {W.shape[0]} rows but Y has {m} samples; pass one weight "
            "per row of Y."
        )
    if W.ndim == 2 and W.shape[1] == 0:
        raise ValueError(f"{name} has no columns; pass at least one output.")
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


def check_k(k, m):
    """Validate the ``k`` of ``kernel_topk``."""
    if isinstance(k, bool) or not isinstance(k, numbers.Integral):
        raise TypeError(f"k must be an integer, got {type(k).__name__}.")
    if not 1 <= k <= m:
        raise ValueError(
            f"k={k} is out of range: it must satisfy 1 <= k <= n_samples_Y = {m}."
        )
    return int(k)
