"""The keops engine: pykeops symbolic reductions, never forming ``n x m``.

Each primitive becomes one KeOps reduction over ``j`` of a formula in ``x_i`` and
``y_j``: a sum (``kernel_sum``), a max-shifted sum of exponentials
(``kernel_logsumexp``) or a k-min with arguments (``kernel_topk``). KeOps compiles one
binary per formula, dimension, weight width, ``k`` and dtype, and caches it on disk
(``~/.cache/keops<version>/`` unless ``KEOPS_CACHE_FOLDER`` says otherwise), so the
first call of each costs seconds (about 6 s with g++ on the CPU) and later calls,
in any process, milliseconds. Family parameters (``alpha``, ``gamma``, ...) are
runtime parameters of the formula and length scales are applied to the inputs first,
so changing a hyperparameter never recompiles.

Notes
-----
- ``kernel_matrix`` is not a reduction: :func:`supports` declines it and dispatch runs
  the numpy engine. The general ``matern`` family (a Bessel function) and
  ``polynomial`` with a non-integer degree are declined as well.
- ``kernel_topk`` ranks pairs by the family variable (``s`` or ``t``, on which every
  stationary profile is non-increasing; ``p`` for ``linear``), so all stationary
  families share one compiled binary; the selected values are then recomputed exactly
  in float64 on the host and re-sorted (ties to the lower index).
- float32 inputs run in float32; sums accumulate in float64 (``dtype_acc``).
- CuPy inputs are copied to the host (pykeops has no CuPy front end; on a GPU machine
  pykeops moves them to the device itself) and the results copied back.
- Unless ``PYKEOPS_VERBOSE`` or ``KEOPS_VERBOSE`` is set, pykeops is made quiet (it
  prints on import and on every compilation); its messages go to the ``"kernlearn"``
  logger at debug level instead.
- First calls of a formula hold a file lock beside KeOps's binaries, so parallel
  processes (pytest-xdist workers, cluster jobs sharing a home directory) never compile
  the same binary at once.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import math
import os
import threading

import numpy as np

from ._chunking import MIB
from ._spec import KernelSpec, profile
from ._validation import is_cupy_array

NAME = "keops"
EXTRA = "keops"

logger = logging.getLogger("kernlearn")

# --------------------------------------------------------------------- formulas
# Unit profiles g(z) and log g(z) as KeOps formula templates in the family variable
# ``{z}``. Non-integer constants are runtime parameters ``p0``, ``p1`` (KeOps writes
# rational constants as single-precision literals, which would cost float64 accuracy).
_Z = {"sqeuclidean": "SqDist(x,y)", "l1": "Sum(Abs(x-y))", "dot": "(x|y)"}

_UNIT = {
    "gaussian": "Exp(-{z}/2)",
    "laplacian": "Exp(-Sqrt({z}))",
    "l1_laplacian": "Exp(-{z})",
    "matern32": "(1+Sqrt(3*{z}))*Exp(-Sqrt(3*{z}))",
    "matern52": "(1+Sqrt(5*{z})+p0*{z})*Exp(-Sqrt(5*{z}))",
    "rational_quadratic": "Exp(-p0*Log(1+p1*{z}))",
    "cauchy": "Inv(1+{z})",
    "epanechnikov": "ReLU(1-{z})",
    "tophat": "(1-Step({z}-1))",
    "triangular": "ReLU(1-Sqrt({z}))",
    "cosine": "(1-Step(Sqrt({z})-1))*ReLU(Cos(p0*Sqrt({z})))",
    "polynomial": "Pow(p0*{z}+p1,{degree})",
    "linear": "(p0+{z})",
}

_LOG_UNIT = {
    "gaussian": "(-{z}/2)",
    "laplacian": "(-Sqrt({z}))",
    "l1_laplacian": "(-{z})",
    "matern32": "(Log(1+Sqrt(3*{z}))-Sqrt(3*{z}))",
    "matern52": "(Log(1+Sqrt(5*{z})+p0*{z})-Sqrt(5*{z}))",
    "rational_quadratic": "(-p0*Log(1+p1*{z}))",
    "cauchy": "(-Log(1+{z}))",
    # compact families: Log(0) = -inf off the support, clamped by the caller
    "epanechnikov": "Log(ReLU(1-{z}))",
    "tophat": "Log(1-Step({z}-1))",
    "triangular": "Log(ReLU(1-Sqrt({z})))",
    "cosine": "Log((1-Step(Sqrt({z})-1))*ReLU(Cos(p0*Sqrt({z}))))",
}

_MATERN_HALF_INTEGER = {0.5: "laplacian", 1.5: "matern32", 2.5: "matern52"}
_MAX_DEGREE = 64
# Float32 k-min encodes indices as floats: exact only below 2**24 columns.
_F32_MAX_ARG_COLS = 2**24


def _family(spec: KernelSpec) -> str | None:
    """The formula family that runs ``spec``, or None if KeOps cannot express it."""
    fam = spec.family
    if fam == "matern":
        return _MATERN_HALF_INTEGER.get(spec.params[0])
    if fam == "polynomial":
        degree = spec.params[2]
        if not (float(degree).is_integer() and 1 <= degree <= _MAX_DEGREE):
            return None
    return fam if fam in _UNIT else None


def _params(fam: str, spec: KernelSpec) -> tuple[float, ...]:
    """Runtime parameters ``p0, p1, ...`` of a family's formula."""
    if fam == "matern52":
        return (5.0 / 3.0,)
    if fam == "rational_quadratic":
        alpha = spec.params[0]
        return (alpha, 1.0 / (2.0 * alpha))
    if fam == "cosine":
        return (0.5 * math.pi,)
    if fam == "polynomial":
        gamma, coef0, _ = spec.params
        return (gamma, coef0)
    if fam == "linear":
        return (spec.params[0],)
    return ()


def _template(table: dict, fam: str, spec: KernelSpec) -> str:
    degree = int(spec.params[2]) if fam == "polynomial" else 0
    return table[fam].format(z=_Z[spec.variable], degree=degree)


# ---------------------------------------------------------- availability, quiet
_state_lock = threading.Lock()
_available: bool | None = None
_unavailable_reason = ""


def _quiet() -> bool:
    return "PYKEOPS_VERBOSE" not in os.environ and "KEOPS_VERBOSE" not in os.environ


def _import_pykeops():
    """Import pykeops (quietly unless asked not to); raise ImportError with the why."""
    buf = io.StringIO()
    redirect = contextlib.redirect_stdout(buf) if _quiet() else contextlib.nullcontext()
    try:
        with redirect:
            import pykeops
            import pykeops.numpy  # noqa: F401
    except ImportError as exc:
        raise ImportError(f"pykeops is not installed ({exc})") from exc
    except Exception as exc:
        # e.g. a formula cache left truncated by two processes writing it at exit
        raise ImportError(
            f"pykeops failed to start ({type(exc).__name__}: {exc}); if its cache "
            "is damaged, delete ~/.cache/keops* (or $KEOPS_CACHE_FOLDER) and retry"
        ) from exc
    finally:
        text = buf.getvalue().strip()
        if text:
            logger.debug("pykeops: %s", text)
    if _quiet():
        pykeops.set_verbose(False)
    return pykeops


def _probe(pykeops) -> None:
    """Compile (once per machine) and run a tiny reduction; raise ImportError if not."""
    from keopscore.config import config as keops_config
    from keopscore.config import cuda_config

    if not cuda_config.get_use_cuda() and keops_config.get_cxx_compiler() is None:
        raise ImportError(
            "pykeops needs a C++ compiler to build its formulas on the CPU and none "
            "was found (install g++, or point the CXX environment variable at one)"
        )
    X = np.array([[0.0], [1.0]])
    Y = np.array([[0.0], [2.0], [3.0]])
    buf = io.StringIO()
    old = pykeops.verbose
    pykeops.set_verbose(True)  # keep the compiler's complaints for the message
    try:
        with contextlib.redirect_stdout(buf):
            got = _reduce("SqDist(x,y)", ["x=Vi(1)", "y=Vj(1)"], "Sum", (X, Y))
    except Exception as exc:
        # keep the compiler's own lines, not KeOps's "[KeOps] ..." progress notes
        detail = [
            line.strip()
            for line in buf.getvalue().splitlines()
            if line.strip() not in ("", "OK") and not line.lstrip().startswith("[")
        ]
        tail = " | ".join(detail[-6:])
        raise ImportError(
            f"pykeops is installed but could not build or run a test formula with "
            f"the compiler {keops_config.get_cxx_compiler()!r} "
            f"({type(exc).__name__}: {exc}){'; compiler said: ' + tail if tail else ''}"
        ) from exc
    finally:
        pykeops.set_verbose(old)
        text = buf.getvalue().strip()
        if text:
            logger.debug("pykeops: %s", text)
    if not np.allclose(got[:, 0], [13.0, 6.0]):
        raise ImportError(
            f"pykeops ran its test formula but returned {got[:, 0]!r} instead of "
            "[13, 6]; its build may be broken"
        )


def check_available() -> None:
    """Raise ImportError (saying why) unless pykeops imports, compiles and runs here.

    The check compiles one tiny formula on the first call on a machine (seconds) and
    is remembered for the rest of the process.
    """
    global _available, _unavailable_reason
    with _state_lock:
        if _available is None:
            try:
                _probe(_import_pykeops())
                _available = True
            except ImportError as exc:
                _available = False
                _unavailable_reason = str(exc)
    if not _available:
        raise ImportError(_unavailable_reason)


def supports(spec: KernelSpec | None, op: str) -> bool:
    """Reductions of the families KeOps can express; never ``kernel_matrix``."""
    if spec is None or op == "kernel_matrix":
        return False
    return _family(spec) is not None


# ------------------------------------------------------------------- reductions
_routines: dict = {}
_compiled: set = set()


@contextlib.contextmanager
def _build_lock(key: tuple):
    """Exclusive per-formula file lock in KeOps's build folder (no-op without fcntl)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    import pykeops

    folder = os.path.join(pykeops.get_build_folder(), "kernlearn-locks")
    os.makedirs(folder, exist_ok=True)
    name = hashlib.sha1(repr(key).encode()).hexdigest()[:20] + ".lock"
    with open(os.path.join(folder, name), "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _reduce(
    formula: str,
    aliases: list[str],
    reduction: str,
    args: tuple,
    opt_arg: int | None = None,
    dtype_acc: str = "auto",
):
    """Run one Genred reduction over ``j``; the first call of a formula compiles it."""
    from pykeops.numpy import Genred

    key = (formula, tuple(aliases), reduction, opt_arg, dtype_acc, args[0].dtype.str)
    routine = _routines.get(key)
    if routine is None:
        routine = Genred(
            formula,
            aliases,
            reduction_op=reduction,
            axis=1,
            opt_arg=opt_arg,
            dtype_acc=dtype_acc,
        )
        _routines[key] = routine
    if key in _compiled:
        return routine(*args)
    logger.debug(
        "keops: first call of %s(%s) [%s]; compiles once per machine (seconds).",
        reduction,
        formula,
        args[0].dtype,
    )
    with _build_lock(key):
        out = routine(*args)
    _compiled.add(key)
    return out


# ---------------------------------------------------------------------- helpers
def _to_host(a):
    if a is None or not is_cupy_array(a):
        return a
    import cupy

    return cupy.asnumpy(a)


def _like(out, gpu: bool):
    if not gpu:
        return out
    import cupy

    if isinstance(out, tuple):
        return tuple(cupy.asarray(o) for o in out)
    return cupy.asarray(out)


def _prepare(spec: KernelSpec, X, Y):
    """Host, C-contiguous, length-scaled inputs of one dtype."""
    X, Y = _to_host(X), _to_host(Y)
    X, Y = spec.scale_inputs(X, Y)
    return np.ascontiguousarray(X), np.ascontiguousarray(Y)


def _aliases(d: int, extra: list[str], n_params: int) -> list[str]:
    return (
        [f"x=Vi({d})", f"y=Vj({d})"] + extra + [f"p{i}=Pm(1)" for i in range(n_params)]
    )


def _param_arrays(values: tuple[float, ...], dtype) -> tuple:
    return tuple(np.array([v], dtype=dtype) for v in values)


def _acc(dtype) -> str:
    return "float64" if dtype == np.float32 else "auto"


def _unsupported(spec: KernelSpec | None) -> ValueError:
    return ValueError(
        f"The keops engine cannot run {spec!r}; dispatch should have fallen back."
    )


# ------------------------------------------------------------------- primitives
def kernel_matrix(kernel, spec, X, Y, working_memory):
    """Not a reduction: dispatch uses the numpy engine (see :func:`supports`)."""
    raise _unsupported(spec)


def kernel_sum(kernel, spec, X, Y, W, working_memory):
    """``K(X, Y) @ W`` as one KeOps sum reduction; (n, k) float64."""
    fam = _family(spec) if spec is not None else None
    if fam is None:
        raise _unsupported(spec)
    gpu = is_cupy_array(X)
    X, Y = _prepare(spec, X, Y)
    dt = X.dtype
    m = Y.shape[0]
    W = np.ones((m, 1), dtype=dt) if W is None else np.asarray(_to_host(W), dtype=dt)
    W = np.ascontiguousarray(W)
    prm = _params(fam, spec)
    formula = f"{_template(_UNIT, fam, spec)}*w"
    aliases = _aliases(X.shape[1], [f"w=Vj({W.shape[1]})"], len(prm))
    args = (X, Y, W) + _param_arrays(prm, dt)
    out = _reduce(formula, aliases, "Sum", args, dtype_acc=_acc(dt))
    out = np.asarray(out, dtype=np.float64).reshape(X.shape[0], W.shape[1])
    if spec.amplitude != 1.0:
        out *= spec.amplitude
    return _like(out, gpu)


def kernel_logsumexp(kernel, spec, X, Y, logW, working_memory):
    """``log sum_j w_j k(x_i, y_j)`` by KeOps's max-shifted sum; (n, k) float64.

    ``log k + log w`` is clamped to ``[-B, B]`` (``B`` = max float / 8) inside the
    formula: KeOps's running max turns ``-inf - -inf`` into NaN, while ``-B`` terms
    vanish exactly next to any finite one. Rows whose max stays at ``-B`` (every
    term zero) are ``-inf``. Several columns of ``logW`` run one after the other:
    turning log-weights into weights could underflow.
    """
    fam = _family(spec) if spec is not None else None
    if fam is None or fam not in _LOG_UNIT:
        raise _unsupported(spec)
    gpu = is_cupy_array(X)
    X, Y = _prepare(spec, X, Y)
    dt = X.dtype
    n, m = X.shape[0], Y.shape[0]
    logW = np.zeros((m, 1)) if logW is None else np.asarray(_to_host(logW))
    big = float(np.finfo(dt).max) / 8.0
    prm = _params(fam, spec)
    formula = f"Clamp({_template(_LOG_UNIT, fam, spec)}+w,-B,B)"
    aliases = _aliases(X.shape[1], ["w=Vj(1)", "B=Pm(1)"], len(prm))
    extra = _param_arrays((big,) + prm, dt)
    out = np.empty((n, logW.shape[1]), dtype=np.float64)
    for c in range(logW.shape[1]):
        w = np.ascontiguousarray(logW[:, c : c + 1], dtype=dt)
        # (dtype_acc="float64" is broken in KeOps 2.3 for this reduction in float32;
        # its default block-wise summation keeps float32 within tolerance.)
        ms = _reduce(formula, aliases, "Max_SumShiftExp", (X, Y, w) + extra)
        mx = np.asarray(ms[:, 0], dtype=np.float64)
        s = np.asarray(ms[:, 1], dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            out[:, c] = np.where(mx > -0.5 * big, mx + np.log(s), -np.inf)
    if spec.amplitude != 1.0:
        out += math.log(spec.amplitude)
    return _like(out, gpu)


def _exact_variable(spec: KernelSpec, X: np.ndarray, Y: np.ndarray, idx, rows):
    """Family variable of the pairs ``(i, idx[i, :])`` in float64."""
    Yb = Y[idx[rows]]
    if spec.variable == "dot":
        return np.einsum("id,ikd->ik", X[rows], Yb)
    diff = X[rows, None, :] - Yb
    if spec.variable == "l1":
        return np.abs(diff).sum(axis=-1)
    return np.einsum("ikd,ikd->ik", diff, diff)


def kernel_topk(kernel, spec, X, Y, k, working_memory):
    """The ``k`` largest values per row by one KeOps k-min reduction."""
    fam = _family(spec) if spec is not None else None
    if fam is None:
        raise _unsupported(spec)
    gpu = is_cupy_array(X)
    X, Y = _prepare(spec, X, Y)
    if X.dtype == np.float32 and Y.shape[0] >= _F32_MAX_ARG_COLS:
        X, Y = X.astype(np.float64), Y.astype(np.float64)
    dt = X.dtype
    n, d = X.shape
    if spec.variable != "dot":
        # every stationary profile is non-increasing in s (or t): rank by it
        formula, prm = _Z[spec.variable], ()
    elif fam == "linear":
        formula, prm = f"-{_Z['dot']}", ()
    else:
        formula, prm = f"-{_template(_UNIT, fam, spec)}", _params(fam, spec)
    aliases = _aliases(d, [], len(prm))
    args = (X, Y) + _param_arrays(prm, dt)
    _, idx = _reduce(formula, aliases, "KMin_ArgKMin", args, opt_arg=k)
    idx = np.asarray(idx, dtype=np.int64).reshape(n, k)
    # Exact values of the selected pairs, in row blocks within working_memory.
    X64, Y64 = X.astype(np.float64, copy=False), Y.astype(np.float64, copy=False)
    vals = np.empty((n, k), dtype=np.float64)
    step = max(1, int(working_memory * MIB // (3 * 8 * k * d)))
    for i0 in range(0, n, step):
        rows = slice(i0, min(n, i0 + step))
        vals[rows] = profile(spec, _exact_variable(spec, X64, Y64, idx, rows))
    # Decreasing values, ties to the lower index (as the numpy engine).
    order = np.lexsort((idx, -vals), axis=-1)
    vals = np.take_along_axis(vals, order, axis=1)
    idx = np.take_along_axis(idx, order, axis=1)
    return _like((vals, idx), gpu)
