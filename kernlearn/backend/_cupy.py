"""The cupy engine: blocked kernel evaluation on a CUDA GPU.

Blocks of rows and columns are sized from ``working_memory``; each block's family
variable comes from GEMM tiles (``s = |x|^2 + |y|^2 - 2 x.y`` on centred data, clamped
at zero, for the squared-Euclidean families; ``p = x.y`` for the dot-product ones;
per-feature absolute differences for ``l1_laplacian``), then the profile is applied
elementwise on the device. Sums accumulate in float64 (each block's values are cast
before the GEMM with the weights), log-sum-exp merges a running maximum across column
blocks, and top-k keeps a running ``k`` per row merged with each block.

CuPy inputs stay on the device and CuPy arrays come back; NumPy inputs are copied to
the device and the results copied back to NumPy. Kernels without a
:class:`~kernlearn.backend._spec.KernelSpec`, and the general ``matern`` family (a
Bessel function), run on the host through the numpy engine (``kernel(X, Y)`` blocks)
when the input is on the device (dispatch routes NumPy inputs of those to the numpy
engine directly); that fallback is logged at debug level.
"""

from __future__ import annotations

import logging
import math

from ._chunking import block_shape
from ._spec import KernelSpec
from ._validation import is_cupy_array

NAME = "cupy"
EXTRA = "gpu"

logger = logging.getLogger("kernlearn")

_MATERN_HALF_INTEGER = {0.5: "laplacian", 1.5: "matern32", 2.5: "matern52"}
_FAMILIES = frozenset(
    {
        "gaussian",
        "laplacian",
        "l1_laplacian",
        "matern32",
        "matern52",
        "rational_quadratic",
        "cauchy",
        "epanechnikov",
        "tophat",
        "triangular",
        "cosine",
        "polynomial",
        "linear",
    }
)
# Top-k by k rounds of argmax (ties to the lower index) up to this k; argsort above.
_ARGMAX_MAX_K = 16

_available: bool | None = None
_unavailable_reason = ""
_kernels: dict = {}


def check_available() -> None:
    """Raise ImportError (saying why) unless cupy imports and sees a CUDA device."""
    global _available, _unavailable_reason
    if _available is None:
        reason = ""
        try:
            import cupy
        except ImportError as exc:
            reason = f"cupy is not installed ({exc})"
        else:
            try:
                count = cupy.cuda.runtime.getDeviceCount()
            except Exception as exc:  # CUDARuntimeError, missing driver library
                reason = (
                    f"cupy cannot reach a CUDA device ({type(exc).__name__}: {exc})"
                )
            else:
                if count < 1:
                    reason = "cupy found no CUDA device"
        _available = not reason
        _unavailable_reason = reason
    if not _available:
        raise ImportError(_unavailable_reason)


def _family(spec: KernelSpec | None) -> str | None:
    """The family the device profiles run for ``spec``, or None (host fallback)."""
    if spec is None:
        return None
    if spec.family == "matern":
        return _MATERN_HALF_INTEGER.get(spec.params[0])
    return spec.family if spec.family in _FAMILIES else None


def supports(spec: KernelSpec | None, op: str) -> bool:
    """Every family but the general Matern; kernels without a spec run on the host."""
    return _family(spec) is not None


# ----------------------------------------------------------------------- device
def _cp():
    import cupy

    return cupy


def _sq_from_gram():
    """Elementwise ``g <- max(xx + yy - 2 g, 0)`` in place (one pass, not four)."""
    kern = _kernels.get("sq")
    if kern is None:
        kern = _cp().ElementwiseKernel(
            "T xx, T yy",
            "T g",
            "T v = xx + yy - 2 * g; g = v > (T)0 ? v : (T)0",
            "kernlearn_sq_from_gram",
        )
        _kernels["sq"] = kern
    return kern


class _Blocks:
    """Inputs on the device, scaled and centred, and the family variable per block."""

    def __init__(self, spec: KernelSpec, X, Y, working_memory: float, extra: int = 0):
        cp = _cp()
        same = Y is X
        X = cp.asarray(X)
        Y = X if same else cp.asarray(Y)
        X, Y = spec.scale_inputs(X, Y, xp=cp)
        self.variable = spec.variable
        if self.variable != "dot":
            # Translation-invariant: centring shrinks |x|^2 + |y|^2 and with it the
            # cancellation error of the GEMM form.
            mu = Y.mean(axis=0, dtype=cp.float64).astype(X.dtype)
            X = X - mu
            Y = X if same else Y - mu
        self.X = cp.ascontiguousarray(X)
        self.Y = self.X if same else cp.ascontiguousarray(Y)
        self.same = same
        self.dtype = self.X.dtype
        if self.variable == "sqeuclidean":
            self.xx = (self.X * self.X).sum(axis=1)
            self.yy = self.xx if same else (self.Y * self.Y).sum(axis=1)
        self.n, self.m = self.X.shape[0], self.Y.shape[0]
        # variable + profile temporaries in the compute dtype, float64 casts and
        # merges (sums, log-sum-exp), int64 candidate indices (top-k)
        bytes_per_pair = 4 * self.dtype.itemsize + 24 + extra
        self.rows, self.cols = block_shape(
            self.n, self.m, bytes_per_pair, working_memory
        )

    def __iter__(self):
        for i0 in range(0, self.n, self.rows):
            for j0 in range(0, self.m, self.cols):
                yield (
                    slice(i0, min(self.n, i0 + self.rows)),
                    slice(j0, min(self.m, j0 + self.cols)),
                )

    def variable_block(self, rs: slice, cs: slice):
        cp = _cp()
        Xb, Yb = self.X[rs], self.Y[cs]
        if self.variable == "dot":
            return Xb @ Yb.T
        if self.variable == "l1":
            out = cp.zeros((Xb.shape[0], Yb.shape[0]), dtype=self.dtype)
            diff = cp.empty_like(out)
            for k in range(Xb.shape[1]):
                cp.subtract(Xb[:, k, None], Yb[None, :, k], out=diff)
                cp.abs(diff, out=diff)
                out += diff
            return out
        G = Xb @ Yb.T
        _sq_from_gram()(self.xx[rs, None], self.yy[None, cs], G)
        if self.same:
            # Exact zeros on the diagonal of K(X, X), where the GEMM form leaves
            # rounding noise that sqrt() would magnify (Laplacian, Matern).
            lo, hi = max(rs.start, cs.start), min(rs.stop, cs.stop)
            if lo < hi:
                d = cp.arange(lo, hi)
                G[d - rs.start, d - cs.start] = 0
        return G


def _unit(cp, fam: str, prm: tuple, z):
    """Kernel values (without amplitude) from the family variable, on the device."""
    if fam == "gaussian":
        return cp.exp(-0.5 * z)
    if fam == "laplacian":
        return cp.exp(-cp.sqrt(z))
    if fam == "l1_laplacian":
        return cp.exp(-z)
    if fam == "matern32":
        a = cp.sqrt(3.0 * z)
        return (1.0 + a) * cp.exp(-a)
    if fam == "matern52":
        a = cp.sqrt(5.0 * z)
        return (1.0 + a + (5.0 / 3.0) * z) * cp.exp(-a)
    if fam == "rational_quadratic":
        alpha = prm[0]
        return cp.exp(-alpha * cp.log1p(z * (0.5 / alpha)))
    if fam == "cauchy":
        return 1.0 / (1.0 + z)
    if fam == "epanechnikov":
        return cp.maximum(1.0 - z, 0.0)
    if fam == "tophat":
        return (z < 1.0).astype(z.dtype)
    if fam == "triangular":
        return cp.maximum(1.0 - cp.sqrt(z), 0.0)
    if fam == "cosine":
        r = cp.sqrt(z)
        # max(., 0): float32 pi/2 exceeds pi/2, so cos can dip to -4e-8 near r = 1
        val = cp.maximum(cp.cos((0.5 * math.pi) * cp.minimum(r, 1.0)), 0.0)
        return cp.where(r < 1.0, val, 0.0).astype(z.dtype, copy=False)
    if fam == "polynomial":
        gamma, coef0, degree = prm
        return (gamma * z + coef0) ** degree
    if fam == "linear":
        return prm[0] + z
    raise ValueError(f"no device profile for family {fam!r}")  # pragma: no cover


def _log_unit(cp, fam: str, prm: tuple, z):
    """``log`` of the kernel values (without amplitude); ``-inf`` off a support."""
    if fam == "gaussian":
        return -0.5 * z
    if fam == "laplacian":
        return -cp.sqrt(z)
    if fam == "l1_laplacian":
        return -z
    if fam == "matern32":
        a = cp.sqrt(3.0 * z)
        return cp.log1p(a) - a
    if fam == "matern52":
        a = cp.sqrt(5.0 * z)
        return cp.log1p(a + (5.0 / 3.0) * z) - a
    if fam == "rational_quadratic":
        alpha = prm[0]
        return -alpha * cp.log1p(z * (0.5 / alpha))
    if fam == "cauchy":
        return -cp.log1p(z)
    if fam in ("epanechnikov", "tophat", "triangular", "cosine"):
        return cp.log(_unit(cp, fam, prm, z))  # log(0) = -inf, no warning on device
    raise ValueError(  # pragma: no cover - signed families are refused by dispatch
        f"The {fam!r} kernel can be negative; its logarithm is undefined."
    )


def _values(blocks: _Blocks, fam: str, spec: KernelSpec, rs, cs):
    K = _unit(_cp(), fam, spec.params, blocks.variable_block(rs, cs))
    if spec.amplitude != 1.0:
        K *= spec.amplitude
    return K


# ------------------------------------------------------------------ host / I/O
def _host_fallback(op: str, kernel, spec, X, Y, *rest):
    """Run ``op`` on the numpy engine with host copies; return device arrays."""
    from . import _numpy

    cp = _cp()
    logger.debug(
        "%s: cupy engine has no device profile for %r; computing numpy blocks on "
        "the host and copying the result back.",
        op,
        kernel,
    )
    same = Y is X
    Xh = cp.asnumpy(X)
    Yh = Xh if same else cp.asnumpy(Y)
    rest = tuple(cp.asnumpy(r) if is_cupy_array(r) else r for r in rest)
    out = getattr(_numpy, op)(kernel, spec, Xh, Yh, *rest)
    if isinstance(out, tuple):
        return tuple(cp.asarray(o) for o in out)
    return cp.asarray(out)


def _result(out, on_device: bool):
    if on_device:
        return out
    cp = _cp()
    if isinstance(out, tuple):
        return tuple(cp.asnumpy(o) for o in out)
    return cp.asnumpy(out)


def _fused(op: str, kernel, spec, X, Y, *rest):
    """``(family, None)`` to run on the device, or ``(None, result)`` from the host."""
    fam = _family(spec)
    if fam is not None:
        return fam, None
    if not is_cupy_array(X):  # dispatch sends these to the numpy engine itself
        from . import _numpy

        return None, getattr(_numpy, op)(kernel, spec, X, Y, *rest)
    return None, _host_fallback(op, kernel, spec, X, Y, *rest)


# ------------------------------------------------------------------- primitives
def kernel_matrix(kernel, spec, X, Y, working_memory):
    """Dense ``K(X, Y)`` assembled block by block on the device."""
    fam, done = _fused("kernel_matrix", kernel, spec, X, Y, working_memory)
    if fam is None:
        return done
    cp = _cp()
    on_device = is_cupy_array(X)
    blocks = _Blocks(spec, X, Y, working_memory)
    out = cp.empty((blocks.n, blocks.m), dtype=blocks.dtype)
    for rs, cs in blocks:
        out[rs, cs] = _values(blocks, fam, spec, rs, cs)
    return _result(out, on_device)


def kernel_sum(kernel, spec, X, Y, W, working_memory):
    """``K(X, Y) @ W`` accumulated in float64 on the device; (n, k)."""
    fam, done = _fused("kernel_sum", kernel, spec, X, Y, W, working_memory)
    if fam is None:
        return done
    cp = _cp()
    on_device = is_cupy_array(X)
    blocks = _Blocks(spec, X, Y, working_memory)
    k = 1 if W is None else W.shape[1]
    W = None if W is None else cp.asarray(W, dtype=cp.float64)
    out = cp.zeros((blocks.n, k), dtype=cp.float64)
    for rs, cs in blocks:
        K = _unit(cp, fam, spec.params, blocks.variable_block(rs, cs))
        if W is None:
            out[rs, 0] += K.sum(axis=1, dtype=cp.float64)
        else:
            out[rs] += K.astype(cp.float64, copy=False) @ W[cs]
    if spec.amplitude != 1.0:
        out *= spec.amplitude
    return _result(out, on_device)


def kernel_logsumexp(kernel, spec, X, Y, logW, working_memory):
    """``log sum_j w_j k(x_i, y_j)`` with a running max across column blocks."""
    fam, done = _fused("kernel_logsumexp", kernel, spec, X, Y, logW, working_memory)
    if fam is None:
        return done
    cp = _cp()
    on_device = is_cupy_array(X)
    blocks = _Blocks(spec, X, Y, working_memory, extra=16)
    k = 1 if logW is None else logW.shape[1]
    logW = None if logW is None else cp.asarray(logW, dtype=cp.float64)
    mx = cp.full((blocks.n, k), -cp.inf)
    acc = cp.zeros((blocks.n, k))
    for rs, cs in blocks:
        L = _log_unit(cp, fam, spec.params, blocks.variable_block(rs, cs))
        for c in range(k):
            Lc = L if logW is None else L + logW[cs, c]  # float64 with weights
            bmax = Lc.max(axis=1).astype(cp.float64)
            new = cp.maximum(mx[rs, c], bmax)
            safe = cp.where(cp.isfinite(new), new, 0.0)
            # float64 shift; exp(-inf) = 0 and log(0) = -inf raise no warnings here
            term = cp.exp(Lc - safe[:, None]).sum(axis=1)
            acc[rs, c] = acc[rs, c] * cp.exp(mx[rs, c] - safe) + term
            mx[rs, c] = new
    out = cp.where(cp.isfinite(mx), mx + cp.log(acc), -cp.inf)
    if spec.amplitude != 1.0:
        out += math.log(spec.amplitude)
    return _result(out, on_device)


def _select(cp, cand_v, cand_i, k: int):
    """The ``k`` largest of each row of ``cand_v``, sorted decreasing."""
    width = cand_v.shape[1]
    if k <= _ARGMAX_MAX_K and k < width:
        # k argmax rounds: no sort, ties to the first position (the lower index,
        # as candidates are kept in index order).
        v = cand_v.copy()
        rows = cp.arange(v.shape[0])
        pos = cp.empty((v.shape[0], k), dtype=cp.int64)
        for t in range(k):
            j = cp.argmax(v, axis=1)
            pos[:, t] = j
            v[rows, j] = -cp.inf
    else:
        # cupy.argpartition sorts fully anyway
        pos = cp.argsort(-cand_v, axis=1)[:, :k]
    return cp.take_along_axis(cand_v, pos, axis=1), cp.take_along_axis(
        cand_i, pos, axis=1
    )


def kernel_topk(kernel, spec, X, Y, k, working_memory):
    """Per column block, merge the block's values with the running top ``k``."""
    fam, done = _fused("kernel_topk", kernel, spec, X, Y, k, working_memory)
    if fam is None:
        return done
    cp = _cp()
    on_device = is_cupy_array(X)
    blocks = _Blocks(spec, X, Y, working_memory, extra=32)
    vals = cp.full((blocks.n, k), -cp.inf, dtype=blocks.dtype)
    idx = cp.full((blocks.n, k), -1, dtype=cp.int64)
    for rs, cs in blocks:
        K = _values(blocks, fam, spec, rs, cs)
        cols = cp.arange(cs.start, cs.stop, dtype=cp.int64)
        cand_v = cp.concatenate([vals[rs], K], axis=1)
        cand_i = cp.concatenate([idx[rs], cp.broadcast_to(cols, K.shape)], axis=1)
        vals[rs], idx[rs] = _select(cp, cand_v, cand_i, k)
    return _result((vals, idx), on_device)
