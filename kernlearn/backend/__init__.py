"""Kernel-matrix primitives on interchangeable engines.

Four primitives, each with the same meaning on every engine:

- :func:`kernel_matrix` - the dense block ``K(X, Y)``;
- :func:`kernel_sum` - ``K(X, Y) @ weights`` without forming ``K``;
- :func:`kernel_logsumexp` - ``log sum_j w_j k(x_i, y_j)``, stable in log space;
- :func:`kernel_topk` - the ``k`` largest kernel values per row and their indices.

two feature-map transforms of the random-feature estimators,
:func:`hadamard_chain` (structured orthogonal projections) and :func:`cos_sin`
(trigonometric feature pairs), with :func:`fwht` their array-module reference, and
:func:`masked_sqdist_topk`, nearest points on each query's own subset of features
(fingerprint localisation).

Engines: ``numpy`` (the exact reference, always there), ``numba`` (fused, parallel
CPU workhorse), ``keops`` (pykeops LazyTensor reductions) and ``cupy`` (blocked GEMM on
the GPU). The engine is chosen by the ``backend=`` argument, then
:func:`kernlearn.config_context` / :func:`kernlearn.set_config`, then ``"auto"``.
Kernels that an engine cannot run fused fall back to numpy blocks of
``kernel(X, Y)``, logged at debug level on the ``"kernlearn"`` logger.
"""

from __future__ import annotations

import importlib
import logging

import numpy as np

from .._config import BACKENDS, get_config
from ._log import note_engine
from ._neighbors import masked_sqdist_topk
from ._spec import KernelSpec
from ._transforms import cos_sin, fwht, hadamard_chain
from ._validation import (
    check_k,
    check_pair,
    check_weights,
    is_cupy_array,
    is_dask_array,
)

__all__ = [
    "kernel_matrix",
    "kernel_sum",
    "kernel_logsumexp",
    "kernel_topk",
    "hadamard_chain",
    "cos_sin",
    "fwht",
    "masked_sqdist_topk",
    "map_row_blocks",
    "is_dask_array",
    "engine_status",
    "resolve_backend",
    "KernelSpec",
]

logger = logging.getLogger("kernlearn")

#: engine name -> (module, pip extra that installs it)
ENGINES = {
    "numpy": ("._numpy", None),
    "numba": ("._numba", None),
    "keops": ("._keops", "keops"),
    "cupy": ("._cupy", "gpu"),
    "dask": ("._dask", "distributed"),
}

# Below this many pairs the numpy engine beats the fused engines' call overhead.
_AUTO_MIN_PAIRS = 100_000


def _load_engine(name: str):
    """Import an engine module, or raise an ImportError that names the fix."""
    if name not in ENGINES:
        raise ValueError(
            f"backend must be one of {BACKENDS}, got {name!r}. "
            "Use 'auto' to let kernlearn choose."
        )
    module_name, extra = ENGINES[name]
    try:
        module = importlib.import_module(module_name, __name__)
        module.check_available()
    except ImportError as exc:
        hint = (
            f'pip install "kernlearn[{extra}]"'
            if extra
            else "pip install --force-reinstall kernlearn"
        )
        raise ImportError(
            f"The {name!r} engine is not usable here: {exc}. Install it with "
            f"`{hint}`, or choose another backend (kernlearn info lists them)."
        ) from exc
    return module


def engine_status() -> dict:
    """Which engines are usable here and, for each that is not, why.

    Returns
    -------
    status : dict
        ``{name: (usable, reason, extra)}``; ``reason`` is ``""`` when usable and
        ``extra`` is the pip extra that installs the engine (``None`` for core).

    Examples
    --------
    >>> from kernlearn.backend import engine_status
    >>> engine_status()["numpy"]
    (True, '', None)
    """
    status = {}
    for name, (_, extra) in ENGINES.items():
        try:
            _load_engine(name)
            status[name] = (True, "", extra)
        except ImportError as exc:
            reason = str(exc.__cause__ or exc)
            status[name] = (False, reason, extra)
        except Exception as exc:  # a broken install must not hide the others
            status[name] = (False, f"{type(exc).__name__}: {exc}", extra)
    return status


def _spec_of(kernel) -> KernelSpec | None:
    get = getattr(kernel, "_engine_spec", None)
    return get() if callable(get) else None


def resolve_backend(backend=None, X=None, n_pairs=None, spec=None) -> str:
    """Name of the engine a call would use.

    Precedence: ``backend`` (an estimator's parameter), then the configuration,
    then ``"auto"``: a CuPy input stays on the GPU; otherwise the numba engine for
    fused kernels on problems big enough to repay its call overhead, numpy else.

    Parameters
    ----------
    backend : {"auto", "numpy", "numba", "keops", "cupy", "dask"} or None, default=None
        Explicit choice; ``None`` defers to :func:`kernlearn.get_config`.
    X : array or None, default=None
        The query array; a CuPy array makes ``"auto"`` pick the cupy engine.
    n_pairs : int or None, default=None
        Problem size ``n * m``; below ~1e5 pairs ``"auto"`` picks numpy.
    spec : KernelSpec or None, default=None
        The kernel's plain description; ``None`` (not fusable) picks numpy.

    Returns
    -------
    name : str
        The engine name. It is not checked to be installed here.

    Examples
    --------
    >>> import kernlearn
    >>> from kernlearn.backend import resolve_backend
    >>> with kernlearn.config_context(backend="numpy"):
    ...     print(resolve_backend(), resolve_backend("numba"))
    numpy numba
    """
    name = backend if backend is not None else get_config()["backend"]
    if name not in BACKENDS:
        raise ValueError(
            f"backend must be one of {BACKENDS}, got {name!r}. "
            "Use 'auto' to let kernlearn choose."
        )
    if name == "dask" and _in_dask_task():
        name = "auto"  # already on a Dask worker: never start Dask from inside it
    if name != "auto":
        return name
    if X is not None and is_cupy_array(X):
        return "cupy"
    if spec is None or (n_pairs is not None and n_pairs < _AUTO_MIN_PAIRS):
        return "numpy"
    try:
        _load_engine("numba")
    except ImportError:
        return "numpy"
    return "numba"


def _in_dask_task():
    from ._dask import in_task

    return in_task()


def _select(kernel, X, Y, backend, op):
    spec = _spec_of(kernel)
    name = resolve_backend(backend, X, X.shape[0] * Y.shape[0], spec)
    engine = _load_engine(name)
    gpu_input = is_cupy_array(X)
    if gpu_input and name not in ("cupy", "keops"):
        raise TypeError(
            f"backend={name!r} runs on the CPU but X is a CuPy array; use "
            "backend='cupy' (or 'auto'), or convert with cupy.asnumpy(X)."
        )
    if not engine.supports(spec, op):
        fallback = "cupy" if gpu_input else "numpy"
        logger.debug(
            "%s: engine %r cannot run %r fused; falling back to %s blocks.",
            op,
            name,
            kernel,
            fallback,
        )
        if gpu_input and name == "cupy":
            note_engine(op, "cupy")
            return engine, spec  # the cupy engine has its own host fallback
        engine = _load_engine(fallback)
    note_engine(op, engine.NAME)
    return engine, spec


def _check_kernel(kernel):
    if not callable(kernel):
        raise TypeError(
            "kernel must be a kernel object such as kernlearn.kernels.Gaussian() "
            f"(callable as kernel(X, Y)), got {type(kernel).__name__}."
        )


def _out_dtype(X):
    return X.dtype if X.dtype == np.float32 else np.float64


def kernel_matrix(kernel, X, Y=None, *, backend=None):
    """Dense kernel matrix ``K[i, j] = k(X[i], Y[j])``.

    Parameters
    ----------
    kernel : kernel object
        A kernlearn kernel (fused on every engine) or any callable kernel with the
        scikit-learn protocol (numpy blocks).
    X : array-like of shape (n_samples_X, n_features)
    Y : array-like of shape (n_samples_Y, n_features), default=None
        ``None`` means ``Y = X``.
    backend : {"auto", "numpy", "numba", "keops", "cupy", "dask"}, default=None
        Engine; ``None`` defers to the configuration.

    Returns
    -------
    K : ndarray of shape (n_samples_X, n_samples_Y)
        float32 when both inputs are float32, float64 otherwise.
        A dask array when any input is one: computed lazily, block pair by
        block pair, on the Dask workers (see the dask engine).

    Examples
    --------
    >>> import numpy as np
    >>> from kernlearn.backend import kernel_matrix
    >>> from kernlearn.kernels import Gaussian
    >>> kernel_matrix(Gaussian(1.0), np.array([[0.0], [1.0]])).round(4)
    array([[1.    , 0.6065],
           [0.6065, 1.    ]])
    """
    _check_kernel(kernel)
    if _any_lazy(X, Y):
        return _lazy("kernel_matrix", kernel, X, Y, None, None, backend)
    out, dtype = _run("kernel_matrix", kernel, X, Y, None, None, backend)
    return out.astype(dtype, copy=False)


def kernel_sum(kernel, X, Y=None, weights=None, *, backend=None):
    """Kernel sums ``K(X, Y) @ weights`` without forming ``K(X, Y)``.

    Parameters
    ----------
    kernel : kernel object
        See :func:`kernel_matrix`.
    X : array-like of shape (n_samples_X, n_features)
    Y : array-like of shape (n_samples_Y, n_features), default=None
        ``None`` means ``Y = X``.
    weights : array-like of shape (n_samples_Y,) or (n_samples_Y, n_outputs), \
default=None
        ``None`` sums the kernel values (all weights one).
    backend : {"auto", "numpy", "numba", "keops", "cupy", "dask"}, default=None

    Returns
    -------
    sums : ndarray of shape (n_samples_X,) or (n_samples_X, n_outputs)
        Accumulated in float64; returned as float32 when both inputs are float32.
        A dask array when any input is one: computed lazily, block pair by
        block pair, on the Dask workers (see the dask engine).

    Examples
    --------
    >>> import numpy as np
    >>> from kernlearn.backend import kernel_sum
    >>> from kernlearn.kernels import Gaussian
    >>> kernel_sum(Gaussian(1.0), np.array([[0.0], [1.0]])).round(4)
    array([1.6065, 1.6065])
    """
    _check_kernel(kernel)
    if _any_lazy(X, Y, weights):
        return _lazy("kernel_sum", kernel, X, Y, weights, None, backend)
    out, dtype = _run("kernel_sum", kernel, X, Y, weights, None, backend)
    out = out.astype(dtype, copy=False)
    return _squeeze(out, weights)


def kernel_logsumexp(kernel, X, Y=None, log_weights=None, *, backend=None):
    """``log sum_j w_j k(x_i, y_j)`` computed stably in log space.

    Correct where the plain sum underflows (a Gaussian kernel at d = 500 whose
    values are all below 1e-308): it works from ``log k`` directly.

    Parameters
    ----------
    kernel : kernel object
        A non-negative kernel. See :func:`kernel_matrix`.
    X : array-like of shape (n_samples_X, n_features)
    Y : array-like of shape (n_samples_Y, n_features), default=None
    log_weights : array-like of shape (n_samples_Y,) or (n_samples_Y, n_outputs), \
default=None
        ``log w_j``; ``-inf`` is a zero weight. ``None`` means all weights one.
    backend : {"auto", "numpy", "numba", "keops", "cupy", "dask"}, default=None

    Returns
    -------
    out : ndarray of shape (n_samples_X,) or (n_samples_X, n_outputs)
        ``-inf`` where every term is zero (outside a compact support).
        A dask array when any input is one: computed lazily, block pair by
        block pair, on the Dask workers (see the dask engine).

    Examples
    --------
    >>> import numpy as np
    >>> from kernlearn.backend import kernel_logsumexp
    >>> from kernlearn.kernels import Gaussian
    >>> X = np.zeros((1, 500)); Y = np.full((2, 500), 3.0)
    >>> kernel_logsumexp(Gaussian(1.0), X, Y).round(4)  # sum of 2 exp(-2250)
    array([-2249.3069])
    """
    _check_kernel(kernel)
    if _any_lazy(X, Y, log_weights):
        return _lazy("kernel_logsumexp", kernel, X, Y, log_weights, None, backend)
    out, dtype = _run("kernel_logsumexp", kernel, X, Y, log_weights, None, backend)
    out = out.astype(dtype, copy=False)
    return _squeeze(out, log_weights)


def kernel_topk(kernel, X, Y=None, k=1, *, backend=None):
    """The ``k`` largest kernel values of each row and their column indices.

    Parameters
    ----------
    kernel : kernel object
        See :func:`kernel_matrix`.
    X : array-like of shape (n_samples_X, n_features)
    Y : array-like of shape (n_samples_Y, n_features), default=None
    k : int, default=1
        ``1 <= k <= n_samples_Y``.
    backend : {"auto", "numpy", "numba", "keops", "cupy", "dask"}, default=None

    Returns
    -------
    values : ndarray of shape (n_samples_X, k)
        Sorted in decreasing order along each row.
    indices : ndarray of int64, shape (n_samples_X, k)
        Column indices into ``Y``; ties go to the lower index on the numpy and
        numba engines. Both are dask arrays when any input is one (the top-k
        lists of the column blocks merge by a stable sort).

    Examples
    --------
    >>> import numpy as np
    >>> from kernlearn.backend import kernel_topk
    >>> from kernlearn.kernels import Gaussian
    >>> vals, idx = kernel_topk(Gaussian(1.0), np.array([[0.9]]),
    ...                         np.array([[0.0], [1.0], [5.0]]), k=2)
    >>> idx
    array([[1, 0]])
    """
    _check_kernel(kernel)
    if _any_lazy(X, Y):
        return _lazy("kernel_topk", kernel, X, Y, None, k, backend)
    (vals, idx), dtype = _run("kernel_topk", kernel, X, Y, None, k, backend)
    return vals.astype(dtype, copy=False), idx


def _run(op, kernel, X, Y, weights, k, backend):
    """Validate, pick the engine and run primitive ``op`` on in-memory arrays.

    Returns the engine's raw output (float64 values, weights' outputs as a
    second axis even for a vector of weights) and the dtype the public function
    casts it to. The dask engine's tasks call this on each block pair, so a
    block is validated (and its errors worded) exactly as a whole input is.
    """
    X, Y = check_pair(X, Y)
    working_memory = get_config()["working_memory"]
    if op == "kernel_topk":
        k = check_k(k, Y.shape[0])
        engine, spec = _select(kernel, X, Y, backend, op)
        return engine.kernel_topk(kernel, spec, X, Y, k, working_memory), _out_dtype(X)
    if op == "kernel_matrix":
        engine, spec = _select(kernel, X, Y, backend, op)
        return engine.kernel_matrix(kernel, spec, X, Y, working_memory), _out_dtype(X)
    xp = _xp(X)
    if op == "kernel_sum":
        W, _ = check_weights(weights, Y.shape[0], "weights", xp=xp)
        engine, spec = _select(kernel, X, Y, backend, op)
        out = engine.kernel_sum(kernel, spec, X, Y, W, working_memory)
        return out, _out_dtype(X)
    logW, _ = check_weights(
        weights, Y.shape[0], "log_weights", allow_neg_inf=True, xp=xp
    )
    engine, spec = _select(kernel, X, Y, backend, op)
    if spec is not None and spec.signed:
        raise ValueError(
            f"kernel_logsumexp needs a non-negative kernel, but {kernel!r} can be "
            "negative; use kernel_sum instead."
        )
    out = engine.kernel_logsumexp(kernel, spec, X, Y, logW, working_memory)
    return out, _out_dtype(X)


def _squeeze(out, weights):
    """Drop the outputs axis where the weights were a vector or None."""
    if weights is None or np.ndim(weights) == 1:
        return out[:, 0]
    return out


def _any_lazy(*arrays):
    return any(is_dask_array(a) for a in arrays)


def _lazy(op, kernel, X, Y, weights, k, backend):
    """Primitive ``op`` over dask arrays: a lazy dask result (see ``_dask``)."""
    engine = _load_engine("dask")
    return engine.lazy(op, kernel, X, Y, weights, k, backend)


def map_row_blocks(obj, method, X, *, n_outputs=None, dtype=np.float64,
                   n_features=None):  # fmt: skip
    """Call ``obj.method`` on each row block of a dask array, lazily.

    How estimators stay lazy on dask input: a fitted estimator's ``transform``,
    ``predict`` or ``score_samples`` becomes one task per row block of ``X``,
    run on the Dask workers with the configuration in force here (its engine
    and ``working_memory``). The object is one key of the graph, so its fitted
    state travels to each worker once, not with every task.

    Parameters
    ----------
    obj : object
        A fitted estimator (anything picklable) with the method.
    method : str
        The method's name; it maps the rows of an in-memory block to as many
        rows of output.
    X : dask array of shape (n_samples, n_features)
        Chunked along the rows (feature chunks are merged).
    n_outputs : int or None, default=None
        Columns of the output; ``None`` means a 1-D output.
    dtype : dtype, default=numpy.float64
        The output's dtype.
    n_features : int or None, default=None
        Columns ``X`` must have (checked now, not on the workers).

    Returns
    -------
    out : dask array of shape (n_samples,) or (n_samples, n_outputs)
        Chunked like ``X``'s rows; nothing is computed until asked.

    Examples
    --------
    >>> import dask
    >>> import dask.array as da
    >>> import numpy as np
    >>> from kernlearn.backend import map_row_blocks
    >>> from kernlearn.kernel_approximation import Nystroem
    >>> X = np.random.default_rng(0).normal(size=(100, 3))
    >>> nys = Nystroem(n_components=10, random_state=0).fit(X)
    >>> Z = map_row_blocks(nys, "transform", da.from_array(X, chunks=30),
    ...                    n_outputs=10)
    >>> Z.chunks
    ((30, 30, 30, 10), (10,))
    >>> with dask.config.set(scheduler="sync"):
    ...     print(np.allclose(Z.compute(), nys.transform(X)))
    True
    """
    if not is_dask_array(X):
        raise TypeError(
            f"map_row_blocks takes a dask array, got {type(X).__name__}; call "
            f"obj.{method}(X) directly for in-memory data."
        )
    if n_features is not None and X.ndim == 2 and X.shape[1] != n_features:
        raise ValueError(
            f"X has {X.shape[1]} features, but {type(obj).__name__} is expecting "
            f"{n_features} features as input."
        )
    engine = _load_engine("dask")
    return engine.map_row_blocks(obj, method, X, n_outputs=n_outputs, dtype=dtype)


def _xp(X):
    if is_cupy_array(X):
        import cupy

        return cupy
    return np
