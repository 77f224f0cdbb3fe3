"""The numba engine: fused, parallel over rows, float32 and float64.

The CPU workhorse. No ``n x m`` temporary is ever formed: each thread holds one
column block of kernel values for one row at a time, reduces it at once (weighted
sums, running log-sum-exp, a top-k heap) and moves on.

Two things make it several times faster than a plain loop:

- **A vectorisable exponential.** ``math.exp`` is a call into libm that stops the
  compiler from vectorising the loop (about 0.1 G exp/s per core). :func:`_vexp`
  computes ``exp`` with Cody-Waite range reduction ``t = k ln2 + r``, a degree-13
  (float64) or degree-7 (float32) Taylor polynomial for ``exp(r)`` on
  ``|r| <= ln2 / 2`` (truncation error below 2e-16, resp. 1.2e-7, relative) and the
  scale ``2^k`` built from the exponent bits, split as ``2^k1 2^k2`` so subnormal
  results stay right. Every step is plain arithmetic, so LLVM emits SIMD code.
- **Distances from GEMM tiles when d is large.** ``|x - y|^2 = |x|^2 + |y|^2 -
  2 x.y`` turns the O(d) part into a BLAS matrix product; the data are centred
  first and pairs whose distance is below 1e-3 of ``|x|^2 + |y|^2`` (where the
  cancellation would cost digits) are recomputed directly.

Families without a numba profile (the general-``nu`` Matern) are refused by
:func:`supports`, so dispatch runs them on numpy blocks.
"""

from __future__ import annotations

import contextlib
import math

import numpy as np

try:
    import numba
    from llvmlite import ir as llvm_ir
    from numba import njit, prange, types
    from numba.extending import intrinsic, overload
except ImportError as exc:  # pragma: no cover - numba is a core dependency
    numba = None
    _IMPORT_ERROR = exc
else:
    _IMPORT_ERROR = None

from threadpoolctl import threadpool_limits

from ._spec import KernelSpec

NAME = "numba"
EXTRA = None

# Family codes compiled into the kernels (see _spec.py for the formulas).
_FAMILY_CODES = {
    "gaussian": 0,
    "laplacian": 1,
    "matern32": 2,
    "matern52": 3,
    "rational_quadratic": 4,
    "cauchy": 5,
    "epanechnikov": 6,
    "tophat": 7,
    "triangular": 8,
    "cosine": 9,
    "l1_laplacian": 10,
    "polynomial": 11,
    "linear": 12,
}
_VAR_CODES = {"sqeuclidean": 0, "l1": 1, "dot": 2}
_SQRT_FAMILIES = frozenset({1, 2, 3, 8, 9})  # need r = sqrt(s): cancellation-prone

# Block sizes of the direct (fused) loops: a column block of Y (d x cols) stays in
# the L1 cache (~32 KiB) while a block of rows sweeps it.
_ROW_BLOCK = 32
_L1_BYTES = 262144
# Feature count from which sqeuclidean distances come from GEMM tiles.
_GEMM_MIN_FEATURES = 10

# fastmath flags: no 'nnan'/'ninf' anywhere (-inf log-weights and compact supports
# must stay exact); no 'reassoc' in the exponential (it would undo Cody-Waite).
_FM_EXP = {"nsz", "arcp", "contract"}
_FM_RED = {"nsz", "arcp", "contract", "reassoc"}


def check_available() -> None:
    """Raise ImportError if numba cannot be imported."""
    if numba is None:
        raise ImportError(f"numba cannot be imported ({_IMPORT_ERROR})")


def supports(spec: KernelSpec | None, op: str) -> bool:
    return spec is not None and spec.family in _FAMILY_CODES


if numba is not None:
    _LN2_HI = 0.693145751953125
    _LN2_LO = 1.42860682030941723212e-6
    _LOG2E = 1.4426950408889634

    @intrinsic
    def _f64_from_bits(typingctx, bits):
        """Reinterpret int64 bits as a float64 (an LLVM bitcast, vectorisable)."""

        def codegen(context, builder, signature, args):
            return builder.bitcast(args[0], llvm_ir.DoubleType())

        return types.float64(types.int64), codegen

    @njit(cache=True, fastmath=_FM_EXP, inline="always")
    def _exp_nonpos(t):
        """``exp(t)`` for ``t <= 0`` in float64, vectorisable; ``t < -746`` gives 0."""
        t = max(min(t, 0.0), -746.0)
        kf = np.floor(t * _LOG2E + 0.5)
        r = (t - kf * _LN2_HI) - kf * _LN2_LO
        p = 1.0 / 6227020800.0
        p = p * r + 1.0 / 479001600.0
        p = p * r + 1.0 / 39916800.0
        p = p * r + 1.0 / 3628800.0
        p = p * r + 1.0 / 362880.0
        p = p * r + 1.0 / 40320.0
        p = p * r + 1.0 / 5040.0
        p = p * r + 1.0 / 720.0
        p = p * r + 1.0 / 120.0
        p = p * r + 1.0 / 24.0
        p = p * r + 1.0 / 6.0
        p = p * r + 0.5
        p = p * r + 1.0
        p = p * r + 1.0
        k = np.int64(kf)
        k1 = k >> 1
        # 2^k as 2^k1 * 2^(k - k1): both factors normal, so subnormal results
        # (k < -1022) come out right.
        return (
            p
            * _f64_from_bits((k1 + 1023) << 52)
            * _f64_from_bits((k - k1 + 1023) << 52)
        )

    @intrinsic
    def _f32_from_bits(typingctx, bits):
        """Reinterpret int32 bits as a float32 (an LLVM bitcast, vectorisable)."""

        def codegen(context, builder, signature, args):
            return builder.bitcast(args[0], llvm_ir.FloatType())

        return types.float32(types.int32), codegen

    _F32 = np.float32
    _LOG2E_32 = _F32(_LOG2E)
    _LN2_HI_32 = _F32(0.693359375)
    _LN2_LO_32 = _F32(-2.12194440e-4)
    _HALF_32 = _F32(0.5)
    _ZERO_32 = _F32(0.0)
    _MIN_32 = _F32(-104.0)
    _C32 = tuple(_F32(1.0 / math.factorial(i)) for i in range(8))
    _C32_0, _C32_1, _C32_2, _C32_3, _C32_4, _C32_5, _C32_6, _C32_7 = _C32
    _I127 = np.int32(127)
    _I23 = np.int32(23)

    @njit(cache=True, fastmath=_FM_EXP, inline="always")
    def _exp_nonpos32(t):
        """``exp(t)`` for ``t <= 0`` in float32 arithmetic (twice the SIMD lanes).

        Degree-7 Taylor polynomial on ``|r| <= ln2 / 2`` (truncation < 1.2e-7
        relative, one float32 ulp); ``t < -104`` gives 0.
        """
        t = max(min(t, _ZERO_32), _MIN_32)
        kf = np.floor(t * _LOG2E_32 + _HALF_32)
        r = (t - kf * _LN2_HI_32) - kf * _LN2_LO_32
        p = _C32_7
        p = p * r + _C32_6
        p = p * r + _C32_5
        p = p * r + _C32_4
        p = p * r + _C32_3
        p = p * r + _C32_2
        p = p * r + _C32_1
        p = p * r + _C32_0
        k = np.int32(kf)
        k1 = k >> 1
        return (
            p
            * _f32_from_bits((k1 + _I127) << _I23)
            * _f32_from_bits((k - k1 + _I127) << _I23)
        )

    def _exp_like(buf, t):  # pragma: no cover - replaced by the overload below
        raise NotImplementedError

    @overload(_exp_like, inline="always")
    def _exp_like_impl(buf, t):
        """exp(t) in the precision of ``buf``'s dtype (compile-time choice)."""
        if buf.dtype == types.float32:
            return lambda buf, t: _exp_nonpos32(np.float32(t))
        return lambda buf, t: _exp_nonpos(np.float64(t))

    @njit(cache=True, fastmath=_FM_EXP)
    def _vexp(buf, n):
        """In place ``buf[:n] = exp(buf[:n])`` for arguments ``<= 0``."""
        for j in range(n):
            buf[j] = _exp_nonpos(np.float64(buf[j]))

    @njit(cache=True, fastmath=_FM_RED, inline="always")
    def _term(var, xv, yv):
        if var == 0:
            diff = xv - yv
            return diff * diff
        if var == 1:
            return abs(xv - yv)
        return xv * yv

    @njit(cache=True, fastmath=_FM_RED)
    def _variable(X, i, YT, j0, jl, var, buf):
        """buf[:jl] = family variable between X[i] and columns j0:j0+jl of YT.

        Features are taken four at a time so that the buffer is read and written
        once per four features. Slices rather than ``YT[kk, j0 + j]``: numba's
        negative-index wraparound on a computed index stops LLVM vectorising.
        """
        d = X.shape[1]
        kk = 0
        first = True
        while kk < d:
            nk = min(4, d - kk)
            x0 = X[i, kk]
            y0 = YT[kk, j0 : j0 + jl]
            if nk == 4:
                x1, x2, x3 = X[i, kk + 1], X[i, kk + 2], X[i, kk + 3]
                y1 = YT[kk + 1, j0 : j0 + jl]
                y2 = YT[kk + 2, j0 : j0 + jl]
                y3 = YT[kk + 3, j0 : j0 + jl]
                if first:
                    for j in range(jl):
                        buf[j] = (_term(var, x0, y0[j]) + _term(var, x1, y1[j])) + (
                            _term(var, x2, y2[j]) + _term(var, x3, y3[j])
                        )
                else:
                    for j in range(jl):
                        buf[j] += (_term(var, x0, y0[j]) + _term(var, x1, y1[j])) + (
                            _term(var, x2, y2[j]) + _term(var, x3, y3[j])
                        )
            elif nk == 3:
                x1, x2 = X[i, kk + 1], X[i, kk + 2]
                y1 = YT[kk + 1, j0 : j0 + jl]
                y2 = YT[kk + 2, j0 : j0 + jl]
                if first:
                    for j in range(jl):
                        buf[j] = (
                            _term(var, x0, y0[j]) + _term(var, x1, y1[j])
                        ) + _term(var, x2, y2[j])
                else:
                    for j in range(jl):
                        buf[j] += (
                            _term(var, x0, y0[j]) + _term(var, x1, y1[j])
                        ) + _term(var, x2, y2[j])
            elif nk == 2:
                x1 = X[i, kk + 1]
                y1 = YT[kk + 1, j0 : j0 + jl]
                if first:
                    for j in range(jl):
                        buf[j] = _term(var, x0, y0[j]) + _term(var, x1, y1[j])
                else:
                    for j in range(jl):
                        buf[j] += _term(var, x0, y0[j]) + _term(var, x1, y1[j])
            else:
                if first:
                    for j in range(jl):
                        buf[j] = _term(var, x0, y0[j])
                else:
                    for j in range(jl):
                        buf[j] += _term(var, x0, y0[j])
            first = False
            kk += nk

    @njit(cache=True, fastmath=_FM_RED)
    def _profile(buf, n, fam, prm, amp):
        """In place: family variable -> kernel value (times amplitude)."""
        if fam == 0:
            for j in range(n):
                buf[j] = _exp_like(buf, -0.5 * buf[j])
        elif fam == 1:
            for j in range(n):
                buf[j] = _exp_like(buf, -math.sqrt(buf[j]))
        elif fam == 10:
            for j in range(n):
                buf[j] = _exp_like(buf, -buf[j])
        elif fam == 2:
            for j in range(n):
                a = math.sqrt(3.0 * buf[j])
                buf[j] = (1.0 + a) * _exp_like(buf, -a)
        elif fam == 3:
            for j in range(n):
                a = math.sqrt(5.0 * buf[j])
                buf[j] = (1.0 + a + (5.0 / 3.0) * buf[j]) * _exp_like(buf, -a)
        elif fam == 4:
            alpha = prm[0]
            for j in range(n):
                buf[j] = -alpha * math.log1p(buf[j] / (2.0 * alpha))
            _vexp(buf, n)
        elif fam == 5:
            for j in range(n):
                buf[j] = 1.0 / (1.0 + buf[j])
        elif fam == 6:
            for j in range(n):
                buf[j] = max(1.0 - buf[j], 0.0)
        elif fam == 7:
            for j in range(n):
                buf[j] = 1.0 if buf[j] < 1.0 else 0.0
        elif fam == 8:
            for j in range(n):
                buf[j] = max(1.0 - math.sqrt(buf[j]), 0.0)
        elif fam == 9:
            for j in range(n):
                r = math.sqrt(buf[j])
                buf[j] = math.cos(0.5 * math.pi * r) if r < 1.0 else 0.0
        elif fam == 11:
            gamma, coef0, degree = prm[0], prm[1], prm[2]
            ideg = int(degree)
            if ideg == degree and 0 <= ideg <= 8:
                for j in range(n):
                    base = gamma * buf[j] + coef0
                    v = 1.0
                    for _ in range(ideg):
                        v *= base
                    buf[j] = v
            else:
                for j in range(n):
                    buf[j] = (gamma * buf[j] + coef0) ** degree
        else:  # linear
            c0 = prm[0]
            for j in range(n):
                buf[j] = c0 + buf[j]
        if amp != 1.0:
            for j in range(n):
                buf[j] = amp * buf[j]

    @njit(cache=True, fastmath=_FM_RED)
    def _log_profile(buf, n, fam, prm, logamp):
        """In place: family variable -> log kernel value (+ log amplitude)."""
        if fam == 0:
            for j in range(n):
                buf[j] = -0.5 * buf[j]
        elif fam == 1:
            for j in range(n):
                buf[j] = -math.sqrt(buf[j])
        elif fam == 10:
            for j in range(n):
                buf[j] = -buf[j]
        elif fam == 2:
            for j in range(n):
                a = math.sqrt(3.0 * buf[j])
                buf[j] = math.log1p(a) - a
        elif fam == 3:
            for j in range(n):
                a = math.sqrt(5.0 * buf[j])
                buf[j] = math.log1p(a + (5.0 / 3.0) * buf[j]) - a
        elif fam == 4:
            alpha = prm[0]
            for j in range(n):
                buf[j] = -alpha * math.log1p(buf[j] / (2.0 * alpha))
        elif fam == 5:
            for j in range(n):
                buf[j] = -math.log1p(buf[j])
        else:
            for j in range(n):
                s = buf[j]
                if fam == 6:
                    v = math.log(1.0 - s) if s < 1.0 else -np.inf
                elif fam == 7:
                    v = 0.0 if s < 1.0 else -np.inf
                elif fam == 8:
                    r = math.sqrt(s)
                    v = math.log(1.0 - r) if r < 1.0 else -np.inf
                else:
                    r = math.sqrt(s)
                    v = math.log(math.cos(0.5 * math.pi * r)) if r < 1.0 else -np.inf
                buf[j] = v
        if logamp != 0.0:
            for j in range(n):
                buf[j] = buf[j] + logamp

    @njit(cache=True, fastmath=_FM_RED)
    def _accumulate(buf, jl, WT, j0, has_w, acc_row):
        """acc_row[c] += sum_j buf[j] * WT[c, j0 + j] (or the plain sum)."""
        if not has_w:
            s = buf[0] - buf[0]
            for j in range(jl):
                s += buf[j]
            acc_row[0] += s
            return
        for c in range(WT.shape[0]):
            w = WT[c, j0 : j0 + jl]
            s = buf[0] - buf[0]
            for j in range(jl):
                s += buf[j] * w[j]
            acc_row[c] += s

    @njit(cache=True, fastmath=_FM_RED)
    def _lse_update(buf, jl, LWT, j0, has_w, tmp, mx, sm, c):
        """Running log-sum-exp of buf[:jl] (+ LWT[c, j0:]) into mx[c], sm[c].

        Three vectorised passes over the block: the terms and their maximum, the
        shifted exponentials, their sum (the sum may reassociate; the
        exponential may not).
        """
        bmax = -np.inf
        if has_w:
            lw = LWT[c, j0 : j0 + jl]
            for j in range(jl):
                v = buf[j] + lw[j]
                tmp[j] = v
                bmax = max(bmax, v)
        else:
            for j in range(jl):
                bmax = max(bmax, buf[j])
        if bmax == -np.inf:
            return
        if bmax > mx[c]:
            sm[c] = sm[c] * math.exp(mx[c] - bmax)
            mx[c] = bmax
        if has_w:
            _shifted_exp_inplace(tmp, jl, mx[c])
        else:
            _shifted_exp(buf, tmp, jl, mx[c])
        acc = 0.0
        for j in range(jl):
            acc += tmp[j]
        sm[c] += acc

    @njit(cache=True, fastmath=_FM_EXP)
    def _shifted_exp(a, out, n, shift):
        """out[:n] = exp(a[:n] - shift) for a <= shift (-inf terms give 0)."""
        for j in range(n):
            out[j] = _exp_nonpos(a[j] - shift)

    @njit(cache=True, fastmath=_FM_EXP)
    def _shifted_exp_inplace(a, n, shift):
        """a[:n] = exp(a[:n] - shift): one array, so the loop vectorises (passing
        the same array as ``a`` and ``out`` above would not)."""
        for j in range(n):
            a[j] = _exp_nonpos(a[j] - shift)

    # ---------------------------------------------------------------- direct
    @njit(parallel=True, cache=True, fastmath=_FM_RED)
    def _sum_direct(X, YT, WT, has_w, var, fam, prm, amp, out, cb):
        n = X.shape[0]
        m = YT.shape[1]
        k = out.shape[1]
        nrb = (n + _ROW_BLOCK - 1) // _ROW_BLOCK
        for b in prange(nrb):
            i0 = b * _ROW_BLOCK
            i1 = min(n, i0 + _ROW_BLOCK)
            buf = np.empty(cb, X.dtype)
            acc = np.zeros((i1 - i0, k), np.float64)
            for j0 in range(0, m, cb):
                jl = min(cb, m - j0)
                for i in range(i0, i1):
                    _variable(X, i, YT, j0, jl, var, buf)
                    _profile(buf, jl, fam, prm, amp)
                    _accumulate(buf, jl, WT, j0, has_w, acc[i - i0])
            for i in range(i0, i1):
                for c in range(k):
                    out[i, c] = acc[i - i0, c]

    @njit(parallel=True, cache=True, fastmath=_FM_RED)
    def _lse_direct(X, YT, LWT, has_w, var, fam, prm, logamp, out, cb):
        n = X.shape[0]
        m = YT.shape[1]
        k = out.shape[1]
        nrb = (n + _ROW_BLOCK - 1) // _ROW_BLOCK
        for b in prange(nrb):
            i0 = b * _ROW_BLOCK
            i1 = min(n, i0 + _ROW_BLOCK)
            buf = np.empty(cb, np.float64)
            tmp = np.empty(cb, np.float64)
            mx = np.full((i1 - i0, k), -np.inf)
            sm = np.zeros((i1 - i0, k))
            xbuf = np.empty(cb, X.dtype)
            for j0 in range(0, m, cb):
                jl = min(cb, m - j0)
                for i in range(i0, i1):
                    _variable(X, i, YT, j0, jl, var, xbuf)
                    for j in range(jl):
                        buf[j] = xbuf[j]
                    _log_profile(buf, jl, fam, prm, logamp)
                    for c in range(k):
                        _lse_update(
                            buf,
                            jl,
                            LWT,
                            j0,
                            has_w,
                            tmp,
                            mx[i - i0],
                            sm[i - i0],
                            c,
                        )
            for i in range(i0, i1):
                for c in range(k):
                    if mx[i - i0, c] == -np.inf:
                        out[i, c] = -np.inf
                    else:
                        out[i, c] = mx[i - i0, c] + math.log(sm[i - i0, c])

    @njit(parallel=True, cache=True, fastmath=_FM_RED)
    def _matrix_direct(X, YT, var, fam, prm, amp, out, cb):
        n = X.shape[0]
        m = YT.shape[1]
        for i in prange(n):
            buf = np.empty(cb, X.dtype)
            for j0 in range(0, m, cb):
                jl = min(cb, m - j0)
                _variable(X, i, YT, j0, jl, var, buf)
                _profile(buf, jl, fam, prm, amp)
                orow = out[i, j0 : j0 + jl]
                for j in range(jl):
                    orow[j] = buf[j]

    @njit(cache=True)
    def _heap_sift_down(hv, hi, pos, size):
        # min-heap on (value, -index): the root is the entry evicted first; among
        # equal values the higher index is evicted first (lower index wins ties).
        while True:
            left = 2 * pos + 1
            if left >= size:
                return
            child = left
            right = left + 1
            if right < size and (
                hv[right] < hv[left] or (hv[right] == hv[left] and hi[right] > hi[left])
            ):
                child = right
            if hv[child] < hv[pos] or (hv[child] == hv[pos] and hi[child] > hi[pos]):
                hv[child], hv[pos] = hv[pos], hv[child]
                hi[child], hi[pos] = hi[pos], hi[child]
                pos = child
            else:
                return

    @njit(cache=True, inline="always")
    def _heap_push(hv, hi, size, v, j):
        """Offer ``(v, j)`` to the top-k heap holding ``size`` entries; returns
        the new size. Candidates arrive in increasing ``j``, so a value equal
        to the root's never displaces it (the lower index wins ties)."""
        k = hv.shape[0]
        if size < k:
            pos = size
            hv[pos] = v
            hi[pos] = j
            size += 1
            while pos > 0:
                parent = (pos - 1) // 2
                if hv[pos] < hv[parent] or (
                    hv[pos] == hv[parent] and hi[pos] > hi[parent]
                ):
                    hv[pos], hv[parent] = hv[parent], hv[pos]
                    hi[pos], hi[parent] = hi[parent], hi[pos]
                    pos = parent
                else:
                    break
        elif v > hv[0] or (v == hv[0] and j < hi[0]):
            hv[0] = v
            hi[0] = j
            _heap_sift_down(hv, hi, 0, size)
        return size

    @njit(cache=True, inline="always")
    def _heap_offer(hv, hi, size, vals, n, j0):
        """Offer ``vals[:n]`` (columns ``j0`` on) to a top-k heap; returns its
        size. Most values fall below the root and cost one comparison."""
        k = hv.shape[0]
        for j in range(n):
            v = np.float64(vals[j])
            if size == k and v <= hv[0]:
                continue
            size = _heap_push(hv, hi, size, v, j0 + j)
        return size

    @njit(cache=True)
    def _heap_emit(hv, hi, vals_row, idx_row):
        """Write a full heap out sorted: value descending, index ascending."""
        k = hv.shape[0]
        keys = np.empty(k, np.float64)
        for t in range(k):
            keys[t] = -hv[t]
        order = np.argsort(keys, kind="mergesort")
        t = 0
        while t < k:
            u = t
            while u + 1 < k and keys[order[u + 1]] == keys[order[t]]:
                u += 1
            if u > t:
                seg = np.sort(hi[order[t : u + 1]])
                for q in range(u - t + 1):
                    vals_row[t + q] = hv[order[t]]
                    idx_row[t + q] = seg[q]
            else:
                vals_row[t] = hv[order[t]]
                idx_row[t] = hi[order[t]]
            t = u + 1

    @njit(parallel=True, cache=True)
    def _topk_direct(X, YT, var, fam, prm, amp, k, vals, idx, cb):
        n = X.shape[0]
        m = YT.shape[1]
        for i in prange(n):
            buf = np.empty(cb, X.dtype)
            hv = np.empty(k, np.float64)
            hi = np.empty(k, np.int64)
            size = 0
            for j0 in range(0, m, cb):
                jl = min(cb, m - j0)
                _variable(X, i, YT, j0, jl, var, buf)
                _profile(buf, jl, fam, prm, amp)
                size = _heap_offer(hv, hi, size, buf, jl, j0)
            _heap_emit(hv, hi, vals[i], idx[i])

    @njit(cache=True, inline="always")
    def _corrected_d(suu, su, sau, off, gain, a2):
        """Masked distance with the optional offset and gain corrections (the
        scalar twin of ``_neighbors._corrected``)."""
        if gain > 0.0:
            sgg = a2 - 2.0 * sau + suu + gain
            sug = sau - suu
            if off > 0.0:
                det = sgg * off - su * su
                if det <= 0.0:
                    return max(suu, 0.0)
                d = suu - (off * sug * sug + 2.0 * su * su * sug + sgg * su * su) / det
            else:
                d = suu - sug * sug / sgg if sgg > 0.0 else suu
        elif off > 0.0:
            d = suu - su * su / off
        else:
            d = suu
        return max(d, 0.0)

    @njit(parallel=True, cache=True, fastmath=_FM_RED)
    def _masked_topk_rows(sel, cnt, qv, av, off, gain, a2, FT, vals, idx, rb, cb):
        """Top ``k`` of minus the masked distances of
        :func:`kernlearn.backend.masked_sqdist_topk` over the ``cnt[i]``
        selected features ``sel[i, :cnt[i]]`` of each row (values ``qv``, and
        ``av`` about the row's mean for the gain).

        Work per pair is ``cnt[i]``, not the feature count: each thread takes
        ``rb`` rows and sweeps column blocks of ``FT`` (features x points, so a
        selected feature's values for ``cb`` points are contiguous and the
        block stays in cache while the rows use it); per point the sums of
        ``u``, ``u^2`` (and ``a u`` for the gain), then one pass through a
        top-k heap per row.
        """
        n = sel.shape[0]
        m = FT.shape[1]
        k = vals.shape[1]
        nrb = (n + rb - 1) // rb
        for b in prange(nrb):
            i0 = b * rb
            i1 = min(n, i0 + rb)
            hv = np.empty((i1 - i0, k), np.float64)
            hi = np.empty((i1 - i0, k), np.int64)
            hs = np.zeros(i1 - i0, np.int64)
            acc = np.empty(cb, np.float64)
            sm = np.empty(cb, np.float64)
            sa = np.empty(cb, np.float64)
            for j0 in range(0, m, cb):
                jl = min(cb, m - j0)
                for r in range(i1 - i0):
                    i = i0 + r
                    for j in range(jl):
                        acc[j] = 0.0
                        sm[j] = 0.0
                        sa[j] = 0.0
                    # four features per sweep: a quarter of the accumulator
                    # loads and stores of one feature at a time
                    ct = cnt[i]
                    t = 0
                    use_gain = gain[i] > 0.0
                    while t + 4 <= ct:
                        q0 = qv[i, t]
                        q1 = qv[i, t + 1]
                        q2 = qv[i, t + 2]
                        q3 = qv[i, t + 3]
                        r0 = FT[sel[i, t], j0 : j0 + jl]
                        r1 = FT[sel[i, t + 1], j0 : j0 + jl]
                        r2 = FT[sel[i, t + 2], j0 : j0 + jl]
                        r3 = FT[sel[i, t + 3], j0 : j0 + jl]
                        if use_gain:
                            w0 = av[i, t]
                            w1 = av[i, t + 1]
                            w2 = av[i, t + 2]
                            w3 = av[i, t + 3]
                            for j in range(jl):
                                u0 = q0 - r0[j]
                                u1 = q1 - r1[j]
                                u2 = q2 - r2[j]
                                u3 = q3 - r3[j]
                                acc[j] += (u0 * u0 + u1 * u1) + (u2 * u2 + u3 * u3)
                                sm[j] += (u0 + u1) + (u2 + u3)
                                sa[j] += (w0 * u0 + w1 * u1) + (w2 * u2 + w3 * u3)
                        else:
                            for j in range(jl):
                                u0 = q0 - r0[j]
                                u1 = q1 - r1[j]
                                u2 = q2 - r2[j]
                                u3 = q3 - r3[j]
                                acc[j] += (u0 * u0 + u1 * u1) + (u2 * u2 + u3 * u3)
                                sm[j] += (u0 + u1) + (u2 + u3)
                        t += 4
                    while t < ct:
                        q0 = qv[i, t]
                        w0 = av[i, t]
                        r0 = FT[sel[i, t], j0 : j0 + jl]
                        for j in range(jl):
                            u0 = q0 - r0[j]
                            acc[j] += u0 * u0
                            sm[j] += u0
                            sa[j] += w0 * u0
                        t += 1
                    oi = off[i]
                    gi = gain[i]
                    ai = a2[i]
                    for j in range(jl):  # acc becomes minus the distance
                        acc[j] = -_corrected_d(acc[j], sm[j], sa[j], oi, gi, ai)
                    hs[r] = _heap_offer(hv[r], hi[r], hs[r], acc, jl, j0)
            for r in range(i1 - i0):
                _heap_emit(hv[r], hi[r], vals[i0 + r], idx[i0 + r])

    # ------------------------------------------------------------- GEMM tiles
    @njit(cache=True, fastmath=_FM_RED)
    def _tile_sqdist_row(G, i, xx, yy, Xc, Yc, i_glob, j0, jl, buf):
        """buf[:jl] = |x_i - y_j|^2 from the GEMM row, with exact recomputation
        where cancellation would lose digits."""
        xi = xx[i_glob]
        yyb = yy[j0 : j0 + jl]
        nfix = 0
        for j in range(jl):
            s = xi + yyb[j] - 2.0 * G[i, j]
            s = max(s, 0.0)
            buf[j] = s
            nfix += s < 1e-3 * (xi + yyb[j])
        if nfix > 0:
            for j in range(jl):
                if buf[j] < 1e-3 * (xi + yyb[j]):
                    acc = 0.0
                    for kk in range(Xc.shape[1]):
                        diff = np.float64(Xc[i_glob, kk]) - Yc[j0 + j, kk]
                        acc += diff * diff
                    buf[j] = acc

    @njit(cache=True)
    def _tile(Xb, Yc, j0, jl, gbuf):
        """``Xb @ Yc[j0:j0+jl].T`` into the thread's buffer: a tile allocated
        per product would be an mmap and page faults each time wherever glibc's
        mmap threshold is fixed (Dask's workers fix it at 64 KiB), which made
        the engine 3x slower there."""
        G = gbuf[: Xb.shape[0] * jl].reshape((Xb.shape[0], jl))
        np.dot(Xb, Yc[j0 : j0 + jl].T, G)
        return G

    @njit(parallel=True, cache=True, fastmath=_FM_RED)
    def _gemm_sum(Xc, Yc, xx, yy, WT, has_w, fam, prm, amp, out, rb, cb):
        """Kernel sums with distances from per-thread GEMM tiles (rb x cb).

        Each thread owns a block of rows and multiplies it against column blocks
        of Y itself (single-threaded BLAS), so tiles stay in cache and no second
        thread pool competes for the cores.
        """
        n = Xc.shape[0]
        m = Yc.shape[0]
        k = out.shape[1]
        nrb = (n + rb - 1) // rb
        for b in prange(nrb):
            i0 = b * rb
            i1 = min(n, i0 + rb)
            Xb = Xc[i0:i1]
            gbuf = np.empty(rb * cb, Xc.dtype)
            buf = np.empty(cb, Xc.dtype)
            acc = np.zeros((i1 - i0, k), np.float64)
            for j0 in range(0, m, cb):
                jl = min(cb, m - j0)
                G = _tile(Xb, Yc, j0, jl, gbuf)
                for i in range(i1 - i0):
                    _tile_sqdist_row(G, i, xx, yy, Xc, Yc, i0 + i, j0, jl, buf)
                    _profile(buf, jl, fam, prm, amp)
                    _accumulate(buf, jl, WT, j0, has_w, acc[i])
            for i in range(i1 - i0):
                for c in range(k):
                    out[i0 + i, c] = acc[i, c]

    @njit(parallel=True, cache=True, fastmath=_FM_RED)
    def _gemm_matrix(Xc, Yc, xx, yy, fam, prm, amp, out, rb, cb):
        """Dense kernel matrix with distances from per-thread GEMM tiles."""
        n = Xc.shape[0]
        m = Yc.shape[0]
        nrb = (n + rb - 1) // rb
        for b in prange(nrb):
            i0 = b * rb
            i1 = min(n, i0 + rb)
            Xb = Xc[i0:i1]
            gbuf = np.empty(rb * cb, Xc.dtype)
            buf = np.empty(cb, Xc.dtype)
            for j0 in range(0, m, cb):
                jl = min(cb, m - j0)
                G = _tile(Xb, Yc, j0, jl, gbuf)
                for i in range(i1 - i0):
                    _tile_sqdist_row(G, i, xx, yy, Xc, Yc, i0 + i, j0, jl, buf)
                    _profile(buf, jl, fam, prm, amp)
                    orow = out[i0 + i, j0 : j0 + jl]
                    for j in range(jl):
                        orow[j] = buf[j]

    @njit(parallel=True, cache=True, fastmath=_FM_RED)
    def _gemm_lse(Xc, Yc, xx, yy, LWT, has_w, fam, prm, logamp, out, rb, cb):
        """Log-sum-exp counterpart of :func:`_gemm_sum`."""
        n = Xc.shape[0]
        m = Yc.shape[0]
        k = out.shape[1]
        nrb = (n + rb - 1) // rb
        for b in prange(nrb):
            i0 = b * rb
            i1 = min(n, i0 + rb)
            Xb = Xc[i0:i1]
            gbuf = np.empty(rb * cb, Xc.dtype)
            sbuf = np.empty(cb, Xc.dtype)
            buf = np.empty(cb, np.float64)
            tmp = np.empty(cb, np.float64)
            mx = np.full((i1 - i0, k), -np.inf)
            sm = np.zeros((i1 - i0, k))
            for j0 in range(0, m, cb):
                jl = min(cb, m - j0)
                G = _tile(Xb, Yc, j0, jl, gbuf)
                for i in range(i1 - i0):
                    _tile_sqdist_row(G, i, xx, yy, Xc, Yc, i0 + i, j0, jl, sbuf)
                    for j in range(jl):
                        buf[j] = sbuf[j]
                    _log_profile(buf, jl, fam, prm, logamp)
                    for c in range(k):
                        _lse_update(buf, jl, LWT, j0, has_w, tmp, mx[i], sm[i], c)
            for i in range(i1 - i0):
                for c in range(k):
                    if mx[i, c] == -np.inf:
                        out[i0 + i, c] = -np.inf
                    else:
                        out[i0 + i, c] = mx[i, c] + math.log(sm[i, c])

    @njit(parallel=True, cache=True, fastmath=_FM_RED)
    def _gemm_topk(Xc, Yc, xx, yy, is_dot, fam, prm, amp, vals, idx, rb, cb):
        """Top-k kernel values from per-thread GEMM tiles: squared distances
        (as in :func:`_gemm_sum`) or, for dot-product kernels, the products
        themselves; one heap per row of the thread's block."""
        n = Xc.shape[0]
        m = Yc.shape[0]
        k = vals.shape[1]
        nrb = (n + rb - 1) // rb
        for b in prange(nrb):
            i0 = b * rb
            i1 = min(n, i0 + rb)
            Xb = Xc[i0:i1]
            gbuf = np.empty(rb * cb, Xc.dtype)
            buf = np.empty(cb, Xc.dtype)
            hv = np.empty((i1 - i0, k), np.float64)
            hi = np.empty((i1 - i0, k), np.int64)
            hs = np.zeros(i1 - i0, np.int64)
            for j0 in range(0, m, cb):
                jl = min(cb, m - j0)
                G = _tile(Xb, Yc, j0, jl, gbuf)
                for i in range(i1 - i0):
                    if is_dot:
                        for j in range(jl):
                            buf[j] = G[i, j]
                    else:
                        _tile_sqdist_row(G, i, xx, yy, Xc, Yc, i0 + i, j0, jl, buf)
                    _profile(buf, jl, fam, prm, amp)
                    hs[i] = _heap_offer(hv[i], hi[i], hs[i], buf, jl, j0)
            for i in range(i1 - i0):
                _heap_emit(hv[i], hi[i], vals[i0 + i], idx[i0 + i])

    @njit(parallel=True, cache=True, fastmath=_FM_EXP)
    def _vexp_parallel(a):
        n = a.shape[0]
        nb = (n + 4095) // 4096
        for b in prange(nb):
            j0 = b * 4096
            jl = min(4096, n - j0)
            _vexp(a[j0 : j0 + jl], jl)


def vexp_inplace(a: np.ndarray) -> np.ndarray:
    """``a[:] = exp(a)`` with the engine's vectorised exponential (arguments <= 0).

    Exposed for benchmarks and tests (it is the exponential every numba kernel
    uses). Arguments above 0 are clamped to 0.
    """
    check_available()
    a = np.ascontiguousarray(a).reshape(-1)
    _vexp_parallel(a)
    return a


# ---------------------------------------------------------------- front end
def _prepare(spec: KernelSpec, X: np.ndarray, Y: np.ndarray):
    X, Y = spec.scale_inputs(X, Y)
    fam = _FAMILY_CODES[spec.family]
    var = _VAR_CODES[spec.variable]
    prm = np.zeros(3)
    prm[: len(spec.params)] = spec.params
    return np.ascontiguousarray(X), np.ascontiguousarray(Y), var, fam, prm


def _col_block(X: np.ndarray) -> int:
    cols = _L1_BYTES // (X.itemsize * X.shape[1])
    return int(min(2048, max(128, cols - cols % 64)))


def _use_gemm(var: int, d: int) -> bool:
    return var == 0 and d >= _GEMM_MIN_FEATURES


def _centre(X, Y):
    mu = Y.mean(axis=0, dtype=np.float64).astype(X.dtype)
    Xc = X - mu
    Yc = Y - mu
    xx = np.einsum("ij,ij->i", Xc, Xc, dtype=np.float64).astype(X.dtype)
    yy = np.einsum("ij,ij->i", Yc, Yc, dtype=np.float64).astype(X.dtype)
    return Xc, Yc, xx, yy


# GEMM tiles (rows x cols of one thread) stay in the per-core L2 cache.
_GEMM_ROWS = 128
_GEMM_COLS = 512


def _weights_T(W, dtype, m):
    if W is None:
        return np.zeros((1, m), dtype=dtype), False
    return np.ascontiguousarray(W.T, dtype=dtype), True


def kernel_sum(kernel, spec, X, Y, W, working_memory):
    X, Y, var, fam, prm = _prepare(spec, X, Y)
    n, m = X.shape[0], Y.shape[0]
    WT, has_w = _weights_T(W, X.dtype, m)
    k = WT.shape[0] if has_w else 1
    out = np.zeros((n, k), dtype=np.float64)
    if _use_gemm(var, X.shape[1]):
        Xc, Yc, xx, yy = _centre(X, Y)
        with threadpool_limits(1):  # each numba thread runs its own GEMM tiles
            _gemm_sum(
                Xc,
                Yc,
                xx,
                yy,
                WT,
                has_w,
                fam,
                prm,
                spec.amplitude,
                out,
                _GEMM_ROWS,
                _GEMM_COLS,
            )
        return out
    _sum_direct(
        X,
        np.ascontiguousarray(Y.T),
        WT,
        has_w,
        var,
        fam,
        prm,
        spec.amplitude,
        out,
        _col_block(X),
    )
    return out


def kernel_logsumexp(kernel, spec, X, Y, logW, working_memory):
    X, Y, var, fam, prm = _prepare(spec, X, Y)
    n, m = X.shape[0], Y.shape[0]
    has_w = logW is not None
    LWT = np.ascontiguousarray(logW.T) if has_w else np.zeros((1, m))
    k = LWT.shape[0] if has_w else 1
    logamp = math.log(spec.amplitude)
    out = np.empty((n, k))
    if _use_gemm(var, X.shape[1]):
        Xc, Yc, xx, yy = _centre(X, Y)
        with threadpool_limits(1):
            _gemm_lse(
                Xc,
                Yc,
                xx,
                yy,
                LWT,
                has_w,
                fam,
                prm,
                logamp,
                out,
                _GEMM_ROWS,
                _GEMM_COLS,
            )
        return out
    _lse_direct(
        X,
        np.ascontiguousarray(Y.T),
        LWT,
        has_w,
        var,
        fam,
        prm,
        logamp,
        out,
        _col_block(X),
    )
    return out


def kernel_matrix(kernel, spec, X, Y, working_memory):
    X, Y, var, fam, prm = _prepare(spec, X, Y)
    out = np.empty((X.shape[0], Y.shape[0]), dtype=X.dtype)
    if _use_gemm(var, X.shape[1]):
        Xc, Yc, xx, yy = _centre(X, Y)
        with threadpool_limits(1):
            _gemm_matrix(
                Xc, Yc, xx, yy, fam, prm, spec.amplitude, out, _GEMM_ROWS, _GEMM_COLS
            )
        return out
    _matrix_direct(
        X, np.ascontiguousarray(Y.T), var, fam, prm, spec.amplitude, out, _col_block(X)
    )
    return out


def kernel_topk(kernel, spec, X, Y, k, working_memory):
    X, Y, var, fam, prm = _prepare(spec, X, Y)
    n = X.shape[0]
    vals = np.empty((n, k))
    idx = np.empty((n, k), dtype=np.int64)
    if var == _VAR_CODES["dot"] or _use_gemm(var, X.shape[1]):
        # BLAS tiles per thread, then a heap pass: a dot-product kernel is a
        # matrix product, and many features make distances one as well
        if var == _VAR_CODES["dot"]:
            Xc, Yc = X, Y
            xx = yy = np.zeros(0, X.dtype)
        else:
            Xc, Yc, xx, yy = _centre(X, Y)
        with threadpool_limits(1):
            _gemm_topk(
                Xc,
                Yc,
                xx,
                yy,
                var == _VAR_CODES["dot"],
                fam,
                prm,
                spec.amplitude,
                vals,
                idx,
                _rows_per_thread(n, _GEMM_ROWS),
                _GEMM_COLS,
            )
        return vals, idx
    _topk_direct(
        X,
        np.ascontiguousarray(Y.T),
        var,
        fam,
        prm,
        spec.amplitude,
        k,
        vals,
        idx,
        _col_block(X),
    )
    return vals, idx


def _rows_per_thread(n: int, rows: int) -> int:
    """Row block of at most ``rows`` that still gives every thread work."""
    per = -(-n // max(1, numba.get_num_threads()))
    return int(max(1, min(rows, per)))


def masked_topk(sel, cnt, qv, av, off, gain, a2, FT, k):
    """Top ``k`` of minus the masked distances (see
    :func:`kernlearn.backend.masked_sqdist_topk`); ``FT`` is features x points."""
    n = sel.shape[0]
    vals = np.empty((n, k))
    idx = np.empty((n, k), dtype=np.int64)
    # a column block of the selected features stays in the L2 cache while a
    # block of rows sweeps it
    _masked_topk_rows(
        sel,
        cnt,
        qv,
        av,
        np.ascontiguousarray(off, dtype=np.float64),
        np.ascontiguousarray(gain, dtype=np.float64),
        np.ascontiguousarray(a2, dtype=np.float64),
        FT,
        vals,
        idx,
        _rows_per_thread(n, 256),
        1024,
    )
    return vals, idx


# ------------------------------------------------------- feature-map transforms
# Fused per-row kernels behind kernlearn.backend.hadamard_chain and cos_sin (see
# _transforms.py for their meaning and the numpy reference).

if numba is not None:

    @njit(cache=True, fastmath=_FM_RED, inline="always")
    def _fwht_inplace(buf, p):
        """Unnormalised Sylvester Walsh-Hadamard transform of ``buf[:p]``.

        Radix-4 stages (two butterfly levels per pass over the row, half the
        memory traffic of radix 2), then one radix-2 stage when log2(p) is odd.
        Additions and subtractions only: exact up to float rounding.
        """
        h = 1
        while 4 * h <= p:
            for s in range(0, p, 4 * h):
                for j in range(s, s + h):
                    a = buf[j]
                    b = buf[j + h]
                    c = buf[j + 2 * h]
                    e = buf[j + 3 * h]
                    apb = a + b
                    amb = a - b
                    cpe = c + e
                    cme = c - e
                    buf[j] = apb + cpe
                    buf[j + h] = amb + cme
                    buf[j + 2 * h] = apb - cpe
                    buf[j + 3 * h] = amb - cme
            h *= 4
        if h < p:
            for j in range(h):
                a = buf[j]
                b = buf[j + h]
                buf[j] = a + b
                buf[j + h] = a - b

    @njit(parallel=True, cache=True, fastmath=_FM_RED)
    def _hadamard_chain_rows(X, diag, n_out, out):
        n, d = X.shape
        n_blocks, n_diag, p = diag.shape
        n_chunks = (n + 15) // 16
        for c in prange(n_chunks):
            buf = np.empty(p)
            for i in range(16 * c, min(n, 16 * c + 16)):
                for b in range(n_blocks):
                    c0 = b * p
                    if c0 >= n_out:
                        break
                    last = n_diag - 1
                    for j in range(d):
                        buf[j] = X[i, j] * diag[b, last, j]
                    for j in range(d, p):
                        buf[j] = 0.0
                    for k in range(last - 1, -1, -1):
                        _fwht_inplace(buf, p)
                        for j in range(p):
                            buf[j] *= diag[b, k, j]
                    for j in range(min(p, n_out - c0)):
                        out[i, c0 + j] = buf[j]

    @njit(parallel=True, cache=True, fastmath={"nsz", "arcp", "contract"})
    def _cos_sin_rows(P, scale, out):
        n, m = P.shape
        for i in prange(n):
            for j in range(m):
                t = P[i, j]
                out[i, j] = math.cos(t) * scale
                out[i, m + j] = math.sin(t) * scale


def hadamard_chain(X, diagonals, n_out, out):
    """Fill ``out`` (n, n_out) with the Hadamard-diagonal chain of each row."""
    _hadamard_chain_rows(X, diagonals, n_out, out)
    return out


def cos_sin(P, scale, out):
    """Fill ``out`` (n, 2m) with ``[cos P, sin P] * scale``."""
    _cos_sin_rows(P, scale, out)
    return out


@contextlib.contextmanager
def thread_limit(n):
    """Run the numba engine's parallel loops on at most ``n`` threads in this
    thread (numba's thread count is per calling thread), restoring it after.

    The dask engine runs each task under ``thread_limit(1)``: Dask supplies the
    parallelism (one task per worker thread), as its nanny does for BLAS and
    OpenMP, so engine threads would only oversubscribe the cores.
    """
    if numba is None:
        yield
        return
    old = numba.get_num_threads()
    numba.set_num_threads(max(1, min(int(n), numba.config.NUMBA_NUM_THREADS)))
    try:
        yield
    finally:
        numba.set_num_threads(old)
