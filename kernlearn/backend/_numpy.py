"""The numpy engine: the exact reference, blocked by ``working_memory``.

Every other engine is tested against this one. It computes in float64 whatever the
input dtype, forms distances from per-feature differences (no ``|x|^2 + |y|^2 - 2 x.y``
cancellation), and never holds more than one block of kernel values. Kernels without a
:class:`~kernlearn.backend._spec.KernelSpec` run through ``kernel(X_block, Y_block)``.
"""

from __future__ import annotations

import numpy as np

from ._chunking import block_shape
from ._spec import KernelSpec, log_profile, profile

NAME = "numpy"
EXTRA = None


def check_available() -> None:
    """The numpy engine is always available."""


def supports(spec: KernelSpec | None, op: str) -> bool:
    return True


# Bytes of float64/int64 temporaries alive at once per pair of a block, measured
# with tracemalloc: the variable and one difference (16), the values and their
# intermediates (16-24); top-k adds the candidate values, indices and sort order.
_BYTES_PER_PAIR = {
    "kernel_matrix": 40,
    "kernel_sum": 40,
    "kernel_logsumexp": 48,
    "kernel_topk": 80,
}
# The general-nu Matern (log-Bessel) and kernels called as kernel(X, Y) hold more.
_EXTRA_BYTES_PER_PAIR = 40
# working_memory is a ceiling, not a target: blocks beyond a few MiB fall out of
# cache and (above glibc's mmap threshold) page-fault on every allocation, which
# made the default 1024 MiB budget 2-6x slower than 1-4 MiB blocks.
_MAX_BLOCK_MIB = 4.0


def _variable(spec: KernelSpec, X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """Family variable (s, t or p) for a block, exact, in float64."""
    if spec.variable == "dot":
        return X @ Y.T
    out = np.zeros((X.shape[0], Y.shape[0]), dtype=np.float64)
    diff = np.empty_like(out)
    for k in range(X.shape[1]):
        np.subtract(X[:, k, None], Y[None, :, k], out=diff)
        if spec.variable == "l1":
            np.abs(diff, out=diff)
        else:
            np.multiply(diff, diff, out=diff)
        out += diff
    return out


def _prepare(spec, X, Y):
    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    if spec is not None:
        X, Y = spec.scale_inputs(X, Y)
    return X, Y


def _values(kernel, spec, Xb, Yb):
    if spec is None:
        return np.asarray(kernel(Xb, Yb), dtype=np.float64)
    return profile(spec, _variable(spec, Xb, Yb))


def _log_values(kernel, spec, Xb, Yb):
    if spec is None:
        K = np.asarray(kernel(Xb, Yb), dtype=np.float64)
        if np.any(K < 0):
            raise ValueError(
                f"kernel_logsumexp needs a non-negative kernel, but {kernel!r} "
                "returned negative values; use kernel_sum instead."
            )
        with np.errstate(divide="ignore"):
            return np.log(K)
    return log_profile(spec, _variable(spec, Xb, Yb))


def _blocks(n, m, working_memory, op="kernel_sum", spec=None):
    bytes_per_pair = _BYTES_PER_PAIR[op]
    if spec is None or spec.family == "matern":
        bytes_per_pair += _EXTRA_BYTES_PER_PAIR
    budget = min(float(working_memory), _MAX_BLOCK_MIB)
    rows, cols = block_shape(n, m, bytes_per_pair, budget)
    for i0 in range(0, n, rows):
        for j0 in range(0, m, cols):
            yield slice(i0, min(n, i0 + rows)), slice(j0, min(m, j0 + cols))


def kernel_matrix(kernel, spec, X, Y, working_memory):
    X, Y = _prepare(spec, X, Y)
    n, m = X.shape[0], Y.shape[0]
    out = np.empty((n, m), dtype=np.float64)
    for rs, cs in _blocks(n, m, working_memory, "kernel_matrix", spec):
        out[rs, cs] = _values(kernel, spec, X[rs], Y[cs])
    return out


def kernel_sum(kernel, spec, X, Y, W, working_memory):
    X, Y = _prepare(spec, X, Y)
    n, m = X.shape[0], Y.shape[0]
    out = np.zeros((n, 1 if W is None else W.shape[1]), dtype=np.float64)
    for rs, cs in _blocks(n, m, working_memory, "kernel_sum", spec):
        K = _values(kernel, spec, X[rs], Y[cs])
        if W is None:
            out[rs, 0] += K.sum(axis=1)
        else:
            out[rs] += K @ W[cs]
    return out


def kernel_logsumexp(kernel, spec, X, Y, logW, working_memory):
    X, Y = _prepare(spec, X, Y)
    n, m = X.shape[0], Y.shape[0]
    k = 1 if logW is None else logW.shape[1]
    mx = np.full((n, k), -np.inf)
    acc = np.zeros((n, k))
    for rs, cs in _blocks(n, m, working_memory, "kernel_logsumexp", spec):
        L = _log_values(kernel, spec, X[rs], Y[cs])
        for c in range(k):
            Lc = L if logW is None else L + logW[cs, c]
            bmax = Lc.max(axis=1)
            new = np.maximum(mx[rs, c], bmax)
            safe = np.where(np.isfinite(new), new, 0.0)
            with np.errstate(under="ignore"):
                acc[rs, c] = acc[rs, c] * np.exp(mx[rs, c] - safe) + np.exp(
                    Lc - safe[:, None]
                ).sum(axis=1)
            mx[rs, c] = new
    with np.errstate(divide="ignore"):
        return np.where(np.isfinite(mx), mx + np.log(acc), -np.inf)


def kernel_topk(kernel, spec, X, Y, k, working_memory):
    X, Y = _prepare(spec, X, Y)
    n, m = X.shape[0], Y.shape[0]
    vals = np.full((n, k), -np.inf)
    idx = np.full((n, k), -1, dtype=np.int64)
    for rs, cs in _blocks(n, m, working_memory, "kernel_topk", spec):
        K = _values(kernel, spec, X[rs], Y[cs])
        bv, bi = _block_topk(K, k, cs.start)
        cand_v = np.concatenate([vals[rs], bv], axis=1)
        cand_i = np.concatenate([idx[rs], bi], axis=1)
        # Stable sort on -value: earlier candidates (lower indices) win ties.
        order = np.argsort(-cand_v, axis=1, kind="stable")[:, :k]
        vals[rs] = np.take_along_axis(cand_v, order, axis=1)
        idx[rs] = np.take_along_axis(cand_i, order, axis=1)
    return vals, idx


def _block_topk(K, k, col0):
    """The ``k`` largest values of each row of ``K`` (decreasing, ties to the
    lower column) and their columns plus ``col0``: a partition, then a sort of
    ``k`` values per row instead of the whole block's."""
    n, m = K.shape
    if m <= k or np.isnan(K).any():
        order = np.argsort(-K, axis=1, kind="stable")[:, :k]
        return np.take_along_axis(K, order, axis=1), order + col0
    part = np.argpartition(-K, k - 1, axis=1)[:, :k]
    kth = np.take_along_axis(K, part, axis=1).min(axis=1, keepdims=True)
    above = K > kth
    need = k - above.sum(axis=1, keepdims=True)
    tie = K == kth
    pick = above | (tie & (np.cumsum(tie, axis=1) <= need))
    cols = np.nonzero(pick)[1].reshape(n, k)  # ascending within each row
    v = np.take_along_axis(K, cols, axis=1)
    order = np.argsort(-v, axis=1, kind="stable")
    return np.take_along_axis(v, order, axis=1), np.take_along_axis(
        cols, order, 1
    ) + col0
