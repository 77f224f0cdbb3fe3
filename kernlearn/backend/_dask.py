"""The dask engine: the kernel primitives over dask arrays, one task per block pair.

Dask arrays in, dask arrays out. For queries ``X`` in row blocks ``X_i`` and data
``Y`` in row blocks ``Y_j`` (weights ``W_j`` chunked like ``Y``), the graph holds

- one task per block pair ``(i, j)``: kernlearn's own engine on the worker
  (numba on CPU workers, cupy or keops on GPU workers: the ``backend=`` argument
  or the configuration, ``"auto"`` by default) computes the partial result of
  ``X_i`` against ``Y_j`` - a partial sum, a partial log-sum-exp (float64) or
  the ``k`` best of the block with global column indices;
- a tree reduction per row block over ``j`` (``split_every`` partials per
  task): sums add, log-sum-exps merge stably (shift by the largest), top-k
  lists merge by a stable partial sort, so ties still go to the lower index;
  the last task casts to the output dtype.

No task reads more than one block of ``X`` and one of ``Y``: nothing is
gathered, to the client or to a worker. The kernel object is one key of the
graph (it travels to each worker once, as data a task depends on, not inside
every task), and so is the state of :func:`map_row_blocks`. The configuration
in force when the graph is built (``working_memory`` and the block engine)
travels inside the tasks and is set around each one on the worker, with the
numba engine limited to one thread per task: Dask supplies the parallelism
(give it one thread per core), as its nanny does for BLAS and OpenMP.

In-memory inputs with ``backend="dask"`` are cut into row blocks (about two per
thread of the current scheduler), run the same way on the current scheduler - a
``dask.distributed`` client when one is active - and come back in memory.

Each block is validated on the worker exactly as an in-memory input is (NaN or
infinity raise there, naming the array); shapes, dtypes and ``k`` are checked
when the graph is built.
"""

from __future__ import annotations

import math
import operator
import os
import threading
from contextlib import contextmanager

import numpy as np

from .._config import config_context, get_config
from ._validation import check_k, check_weights, check_weights_shape, is_dask_array

NAME = "dask"
OPS = ("kernel_matrix", "kernel_sum", "kernel_logsumexp", "kernel_topk")
#: partial results merged per reduction task
SPLIT_EVERY = 8
# Largest block of in-memory data (MiB) that backend="dask" puts in one chunk.
_MAX_CHUNK_MIB = 64.0

_state = threading.local()


def check_available() -> None:
    """Raise ImportError if dask.array cannot be imported."""
    try:
        import dask  # noqa: F401
        import dask.array  # noqa: F401
    except ImportError as exc:
        raise ImportError(f"dask cannot be imported ({exc})") from exc


def supports(spec, op: str) -> bool:
    return op in OPS


def in_task() -> bool:
    """True inside a block task of this engine (``backend="dask"`` then means
    the block engine ``"auto"``: Dask is never started from inside Dask)."""
    return getattr(_state, "depth", 0) > 0


@contextmanager
def _task_context(backend, working_memory):
    """The client's configuration around one task, one engine thread."""
    from . import _numba

    _state.depth = getattr(_state, "depth", 0) + 1
    try:
        with config_context(backend=backend, working_memory=working_memory):
            with _numba.thread_limit(1):
                yield
    finally:
        _state.depth -= 1


def _block_backend(backend):
    """The engine each block task runs: ``backend``, else the configuration;
    ``"dask"`` there means ``"auto"`` on the worker."""
    name = backend if backend is not None else get_config()["backend"]
    from . import resolve_backend

    resolve_backend(name)  # a clear error for an unknown name, here
    return "auto" if name == "dask" else name


# ---------------------------------------------------------------- validation
def _as_dask_2d(a, name, row_chunks=None):
    """A 2-D float dask array with one chunk along the features."""
    import dask.array as da

    from ._validation import _check_host_array

    if not is_dask_array(a):
        a = _check_host_array(a, name)
        rows = row_chunks if row_chunks is not None else a.shape[0]
        return da.from_array(a, chunks=(rows, -1), name=False)
    if a.ndim != 2:
        raise ValueError(
            f"{name} must be a 2-D array of shape (n_samples, n_features), got a "
            f"dask array of {a.ndim} dimension(s)."
        )
    if any(math.isnan(s) for s in a.shape):
        raise ValueError(
            f"{name} has unknown chunk sizes (shape {a.shape}); call "
            f"{name}.compute_chunk_sizes() first."
        )
    if a.shape[0] == 0 or a.shape[1] == 0:
        raise ValueError(
            f"{name} is empty (shape {a.shape}); it needs at least one sample "
            "and one feature."
        )
    if a.dtype.kind not in "biuf":
        raise ValueError(
            f"Invalid {name}: dtype {a.dtype} is not real-valued; pass a numeric array."
        )
    if a.dtype not in (np.float32, np.float64):
        a = a.astype(np.float64)
    if len(a.chunks[1]) > 1:
        a = a.rechunk({1: -1})
    return a


def _check_pair(X, Y):
    """``X`` and ``Y`` as 2-D dask arrays of one dtype; in-memory ones are cut
    in row blocks like the other's."""
    X = _as_dask_2d(X, "X", row_chunks=_typical_rows(Y))
    Y = X if Y is None else _as_dask_2d(Y, "Y", row_chunks=_typical_rows(X))
    if X.shape[1] != Y.shape[1]:
        raise ValueError(
            f"X has {X.shape[1]} features but Y has {Y.shape[1]}; both must have "
            "the same number of columns."
        )
    if X.dtype != Y.dtype:
        X, Y = X.astype(np.float64), Y.astype(np.float64)
    return X, Y


def _typical_rows(a):
    return max(a.chunks[0]) if is_dask_array(a) else None


def _check_weights(weights, Y, name, allow_neg_inf):
    """Weights as an (m, p) float64 dask array chunked like ``Y``'s rows;
    whether the output drops its second axis."""
    import dask.array as da

    m = Y.shape[0]
    if weights is None:
        return None, True
    if not is_dask_array(weights):
        W, squeeze = check_weights(weights, m, name, allow_neg_inf=allow_neg_inf)
        return da.from_array(W, chunks=(Y.chunks[0], -1), name=False), squeeze
    check_weights_shape(weights.shape, m, name)
    if weights.dtype.kind not in "biuf":
        raise ValueError(
            f"{name} must be an array of real numbers, got dtype {weights.dtype}."
        )
    squeeze = weights.ndim == 1
    W = weights[:, None] if squeeze else weights
    W = W.astype(np.float64).rechunk((Y.chunks[0], -1))
    return W, squeeze


# ------------------------------------------------------------------- tasks
def _pair(op, kernel, backend, working_memory, col0, k, Xb, Yb, Wb):
    """One block pair on the worker: the raw (float64) partial result."""
    from . import _run

    with _task_context(backend, working_memory):
        if op == "kernel_topk":
            (vals, idx), _ = _run(op, kernel, Xb, Yb, None, min(k, len(Yb)), None)
            return vals, idx + col0
        out, dtype = _run(op, kernel, Xb, Yb, Wb, k, None)
        if op == "kernel_matrix":
            return out.astype(dtype, copy=False)
        return out


def _merge_logsumexp(parts):
    """Stable ``log sum exp`` of partial log-sum-exps (``-inf`` for none)."""
    if len(parts) == 1:
        return parts[0]
    L = np.stack(parts)
    mx = L.max(axis=0)
    safe = np.where(np.isfinite(mx), mx, 0.0)
    with np.errstate(under="ignore", divide="ignore"):
        s = np.exp(L - safe).sum(axis=0)
        return np.where(np.isfinite(mx), safe + np.log(s), -np.inf)


def _merge_topk(parts, k):
    """The ``k`` best of partial top-k lists given in increasing column order:
    a stable sort on ``-value`` keeps ties with the lower column."""
    if len(parts) == 1 and parts[0][0].shape[1] <= k:
        return parts[0]
    vals = np.concatenate([p[0] for p in parts], axis=1)
    idx = np.concatenate([p[1] for p in parts], axis=1)
    order = np.argsort(-vals, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(vals, order, 1), np.take_along_axis(idx, order, 1)


def _combine(op, k, parts):
    if op == "kernel_sum":
        out = parts[0].copy() if len(parts) > 1 else parts[0]
        for p in parts[1:]:
            out += p
        return out
    if op == "kernel_logsumexp":
        return _merge_logsumexp(parts)
    return _merge_topk(parts, k)


def _finalize(op, k, dtype, squeeze, parts):
    out = _combine(op, k, parts)
    if op == "kernel_topk":
        return out[0].astype(dtype, copy=False), out[1]
    out = out.astype(dtype, copy=False)
    return out[:, 0] if squeeze else out


# ------------------------------------------------------------------- graphs
def _token(*parts):
    from dask.base import tokenize

    return tokenize(*parts)


def _graph(new_layers, new_deps, inputs):
    """The inputs' graphs plus new layers (name -> dict of tasks)."""
    from dask.highlevelgraph import HighLevelGraph, MaterializedLayer

    base = HighLevelGraph.merge(*(a.__dask_graph__() for a in inputs))
    layers = dict(base.layers)
    deps = dict(base.dependencies)
    for name, tasks in new_layers.items():
        layers[name] = MaterializedLayer(tasks)
        deps[name] = set(new_deps[name])
    return HighLevelGraph(layers, deps)


def _layers_of(arrays):
    out = set()
    for a in arrays:
        out.update(a.__dask_layers__())
    return out


def lazy(op, kernel, X, Y, weights, k, backend, split_every=None):
    """Primitive ``op`` with dask arrays among its inputs: a lazy result.

    Parameters
    ----------
    op : {"kernel_matrix", "kernel_sum", "kernel_logsumexp", "kernel_topk"}
    kernel : kernel object
    X, Y : dask or in-memory arrays (``Y=None`` means ``X``)
    weights : weights (``kernel_sum``) or log-weights (``kernel_logsumexp``)
    k : int or None
        ``kernel_topk``'s ``k``.
    backend : str or None
        The engine of each block task (``None``: the configuration).
    split_every : int, default=SPLIT_EVERY
        Partial results merged per reduction task.

    Returns
    -------
    dask array, or a pair of them for ``kernel_topk``.
    """
    import dask.array as da
    from dask.array.utils import meta_from_array

    if op not in OPS:
        raise ValueError(f"The dask engine runs {OPS}, not {op!r}.")
    split_every = SPLIT_EVERY if split_every is None else int(split_every)
    if split_every < 2:
        raise ValueError(f"split_every must be at least 2, got {split_every}.")
    block_backend = _block_backend(backend)
    working_memory = get_config()["working_memory"]
    X, Y = _check_pair(X, Y)
    m = Y.shape[0]
    if op == "kernel_topk":
        k = check_k(k, m)
    W, squeeze = None, False
    if op in ("kernel_sum", "kernel_logsumexp"):
        wname = "weights" if op == "kernel_sum" else "log_weights"
        W, squeeze = _check_weights(
            weights, Y, wname, allow_neg_inf=op == "kernel_logsumexp"
        )
        if W is None:
            squeeze = True
    dtype = np.dtype(np.float32 if X.dtype == np.float32 else np.float64)
    inputs = [a for a in (X, Y, W) if a is not None]
    token = _token(op, kernel, X.name, Y.name, W.name if W is not None else None)
    token = _token(token, k, block_backend, working_memory, split_every)
    kname = f"kernlearn-kernel-{token}"
    pname = f"kernlearn-{op}-pairs-{token}"
    rname = f"kernlearn-{op}-{token}"
    nx, ny = len(X.chunks[0]), len(Y.chunks[0])
    col0 = np.concatenate([[0], np.cumsum(Y.chunks[0])[:-1]]).astype(np.int64)

    pairs = {kname: kernel}
    for i in range(nx):
        for j in range(ny):
            wkey = (W.name, j, 0) if W is not None else None
            pairs[(pname, i, j)] = (
                _pair,
                op,
                kname,
                block_backend,
                working_memory,
                int(col0[j]),
                k,
                (X.name, i, 0),
                (Y.name, j, 0),
                wkey,
            )
    deps = {pname: _layers_of(inputs)}
    if op == "kernel_matrix":
        graph = _graph({pname: pairs}, deps, inputs)  # the pairs are the blocks
        meta = meta_from_array(X._meta, ndim=2, dtype=dtype)
        return da.Array(graph, pname, (X.chunks[0], Y.chunks[0]), meta=meta)

    reduce = {}
    for i in range(nx):
        level = [(pname, i, j) for j in range(ny)]
        depth = 0
        while len(level) > split_every:
            nxt = []
            for g in range(0, len(level), split_every):
                key = (f"{rname}-combine-{depth}", i, g // split_every)
                reduce[key] = (_combine, op, k, level[g : g + split_every])
                nxt.append(key)
            level, depth = nxt, depth + 1
        out_key = (
            (rname, i)
            if op == "kernel_topk"
            else ((rname, i) if squeeze else (rname, i, 0))
        )
        reduce[out_key] = (_finalize, op, k, dtype, squeeze, level)
    deps[rname] = {pname}
    if op == "kernel_topk":
        vname, iname = f"{rname}-values", f"{rname}-indices"
        vals = {(vname, i, 0): (operator.getitem, (rname, i), 0) for i in range(nx)}
        idx = {(iname, i, 0): (operator.getitem, (rname, i), 1) for i in range(nx)}
        layers = {pname: pairs, rname: reduce, vname: vals, iname: idx}
        deps[vname] = deps[iname] = {rname}
        graph = _graph(layers, deps, inputs)
        chunks = (X.chunks[0], (k,))
        vmeta = meta_from_array(X._meta, ndim=2, dtype=dtype)
        imeta = meta_from_array(X._meta, ndim=2, dtype=np.int64)
        return (
            da.Array(graph, vname, chunks, meta=vmeta),
            da.Array(graph, iname, chunks, meta=imeta),
        )
    graph = _graph({pname: pairs, rname: reduce}, deps, inputs)
    p = W.shape[1] if W is not None else 1
    if squeeze:
        meta = meta_from_array(X._meta, ndim=1, dtype=dtype)
        return da.Array(graph, rname, (X.chunks[0],), meta=meta)
    meta = meta_from_array(X._meta, ndim=2, dtype=dtype)
    return da.Array(graph, rname, (X.chunks[0], (p,)), meta=meta)


# ------------------------------------------------- in-memory inputs on Dask
def _scheduler_threads():
    """Threads of the current scheduler: the client's workers, else the CPUs."""
    try:
        from distributed import get_client

        client = get_client()
    except (ImportError, ValueError):
        return os.cpu_count() or 1
    return max(1, sum(client.nthreads().values()))


def _row_chunks(n, d, itemsize):
    """About two row blocks per scheduler thread, each at most _MAX_CHUNK_MIB."""
    per_thread = -(-n // (2 * _scheduler_threads()))
    cap = max(1, int(_MAX_CHUNK_MIB * 2**20 // max(1, d * itemsize)))
    return max(1, min(n, per_thread, cap))


def _eager(op, kernel, X, Y, W, k):
    """Run ``op`` on in-memory inputs through Dask and return in-memory raw
    results (the engine interface of ``kernlearn.backend``)."""
    import dask.array as da

    rows = _row_chunks(X.shape[0], X.shape[1], X.dtype.itemsize)
    Xd = da.from_array(X, chunks=(rows, -1), name=False)
    cols = _row_chunks(Y.shape[0], Y.shape[1], Y.dtype.itemsize)
    Yd = Xd if Y is X else da.from_array(Y, chunks=(cols, -1), name=False)
    # the block engine is the configuration's unless it says "dask"
    out = lazy(op, kernel, Xd, Yd, W, k, None)
    if op == "kernel_topk":
        vals, idx = da.compute(*out)
        return vals.astype(np.float64, copy=False), idx
    out = np.asarray(out.compute(), dtype=np.float64)
    # the engine interface keeps the outputs axis of sums for a vector of weights
    return out if op == "kernel_matrix" else out.reshape(len(X), -1)


def kernel_matrix(kernel, spec, X, Y, working_memory):
    return _eager("kernel_matrix", kernel, X, Y, None, None)


def kernel_sum(kernel, spec, X, Y, W, working_memory):
    return _eager("kernel_sum", kernel, X, Y, W, None)


def kernel_logsumexp(kernel, spec, X, Y, logW, working_memory):
    return _eager("kernel_logsumexp", kernel, X, Y, logW, None)


def kernel_topk(kernel, spec, X, Y, k, working_memory):
    return _eager("kernel_topk", kernel, X, Y, None, k)


# ------------------------------------------------------- estimators' helper
def _apply(state, method, backend, working_memory, Xb):
    with _task_context(backend, working_memory):
        return getattr(state, method)(Xb)


def map_row_blocks(obj, method, X, *, n_outputs=None, dtype=np.float64):
    """``obj.method`` on each row block of a dask array, lazily.

    The object (a fitted estimator) is one key of the graph: it travels to each
    worker once, not inside every task. ``obj.method`` must map the rows of an
    in-memory block to as many output rows.

    Parameters
    ----------
    obj : object
        Holds ``method``; pickled once.
    method : str
        Name of the method to call on each block.
    X : dask array of shape (n_samples, n_features)
    n_outputs : int or None, default=None
        Columns of each output block; ``None`` means a 1-D output.
    dtype : dtype, default=float64

    Returns
    -------
    out : dask array of shape (n_samples,) or (n_samples, n_outputs)
    """
    import dask.array as da
    from dask.array.utils import meta_from_array

    X = _as_dask_2d(X, "X")
    block_backend = _block_backend(getattr(obj, "backend", None))
    working_memory = get_config()["working_memory"]
    token = _token(obj, method, X.name, block_backend, working_memory)
    sname = f"kernlearn-state-{token}"
    name = f"kernlearn-{method}-{token}"
    tasks = {sname: obj}
    for i in range(len(X.chunks[0])):
        key = (name, i) if n_outputs is None else (name, i, 0)
        tasks[key] = (
            _apply,
            sname,
            method,
            block_backend,
            working_memory,
            (X.name, i, 0),
        )
    graph = _graph({name: tasks}, {name: _layers_of([X])}, [X])
    if n_outputs is None:
        meta = meta_from_array(X._meta, ndim=1, dtype=dtype)
        return da.Array(graph, name, (X.chunks[0],), meta=meta)
    meta = meta_from_array(X._meta, ndim=2, dtype=dtype)
    return da.Array(graph, name, (X.chunks[0], (int(n_outputs),)), meta=meta)
