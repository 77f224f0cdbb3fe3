"""Approximate weighted kernel sums in log space, with their own error estimates.

For training points ``x_i`` with weights ``w_i`` and a query ``y`` the target is

    ``L(y) = log S(y)``,  ``S(y) = sum_i w_i k(|y - x_i|^2 / h^2)``,

for a radial profile ``k`` (non-increasing in the squared scaled distance ``s``,
``k(0) = 1``) given through its logarithm, so that sums whose every term is below
``1e-308`` (a Gaussian at ``d = 500``) are still right.

The method has to work in the two regimes a kernel density estimate has in large
dimension (see :mod:`kernlearn.density._regime`): for large ``h`` (the "CLT" regime)
every point contributes a little and a few thousand random points estimate ``S`` to
a percent; for small ``h`` (the "extreme value" regime) a handful of nearest points
carry the whole sum and no sample of a reasonable size sees them. The index is a
coarse k-means quantiser (:func:`build_index`); :func:`approximate_logsumexp` sums
the clusters nearest to the query exactly, certifies negligible clusters with
triangle-inequality bounds, estimates the rest by stratified importance sampling
and raises its effort where the estimated error is above the target. A tail
diagnostic on the sampled importance values (the Pareto ``k`` of Vehtari et al.,
"Pareto smoothed importance sampling", 2024) tells the two regimes apart: a
heavy-tailed sample means that unseen near points may hold the sum, so the exact
part grows instead, up to the whole dataset. The error estimate is therefore
trustworthy in both regimes (in the extreme-value regime of i.i.d. data the answer
is simply exact) and the work is capped at about twice the exact cost.

Everything returned is plain numpy (the index is a ``dict`` of arrays) and pickles.
"""

from __future__ import annotations

import math
import numbers
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numba import get_num_threads, njit, prange
from threadpoolctl import threadpool_limits

__all__ = ["build_index", "approximate_logsumexp"]

_EPS = np.finfo(np.float64).eps
_M0 = 256  # first sample size per query
_B0 = 64  # first exact budget (points; rounded up to whole clusters)
_MIN_NONZERO = 16  # fewer non-zero sampled values than this count as heavy-tailed
_SAFETY = 1.25  # over-provisioning of projected sample sizes
_CHUNK = 1 << 19  # elements per distance tile of the exact part
_HILL_MAX = 1.0  # a Hill tail index above this sends a query to the exact part
_POOL_ROWS = 32  # queries sharing one sample pool (independent pools across groups)
_PAR_WORK = 1 << 20  # smallest work (elements) worth a parallel numba launch


# --------------------------------------------------------------------------- numba


@njit(cache=True)
def _kmeanspp(X, K, u):
    """k-means++ seeding on ``X`` with the uniforms ``u`` (``K`` of them)."""
    n, d = X.shape
    chosen = np.empty(K, dtype=np.int64)
    dist = np.full(n, np.inf)
    first = min(int(u[0] * n), n - 1)
    chosen[0] = first
    for k in range(1, K + 1):
        c = chosen[k - 1]
        total = 0.0
        for i in range(n):
            acc = 0.0
            for j in range(d):
                t = X[i, j] - X[c, j]
                acc += t * t
            if acc < dist[i]:
                dist[i] = acc
            total += dist[i]
        if k == K:
            break
        if total <= 0.0:  # fewer distinct points than clusters
            chosen[k] = min(int(u[k] * n), n - 1)
            continue
        target = u[k] * total
        run = 0.0
        pick = n - 1
        for i in range(n):
            run += dist[i]
            if run > target and dist[i] > 0.0:
                pick = i
                break
        chosen[k] = pick
    return chosen


@njit(cache=True)
def _sift_down(a, idx, root, end):
    """Max-heap sift-down of ``idx[root]`` (keys ``a[idx]``) within ``idx[:end]``."""
    while True:
        child = 2 * root + 1
        if child >= end:
            return
        if child + 1 < end and a[idx[child + 1]] > a[idx[child]]:
            child += 1
        if a[idx[root]] >= a[idx[child]]:
            return
        idx[root], idx[child] = idx[child], idx[root]
        root = child


@njit(cache=True)
def _argsort(a):
    """Ascending argsort by heapsort (cheap to compile, unlike ``np.argsort``)."""
    n = a.shape[0]
    idx = np.arange(n)
    for start in range(n // 2 - 1, -1, -1):
        _sift_down(a, idx, start, n)
    for end in range(n - 1, 0, -1):
        idx[0], idx[end] = idx[end], idx[0]
        _sift_down(a, idx, 0, end)
    return idx


@njit(cache=True)
def _top_sorted(v, k):
    """The ``k`` largest values of ``v`` in ascending order (a size-``k`` min-heap)."""
    heap = np.empty(k)
    size = 0
    for x in v:
        if size < k:  # sift up
            i = size
            heap[i] = x
            size += 1
            while i > 0:
                parent = (i - 1) // 2
                if heap[parent] <= heap[i]:
                    break
                heap[parent], heap[i] = heap[i], heap[parent]
                i = parent
        elif x > heap[0]:  # replace the minimum, sift down
            heap[0] = x
            i = 0
            while True:
                child = 2 * i + 1
                if child >= k:
                    break
                if child + 1 < k and heap[child + 1] < heap[child]:
                    child += 1
                if heap[i] <= heap[child]:
                    break
                heap[i], heap[child] = heap[child], heap[i]
                i = child
    return heap[:size][_argsort(heap[:size])]


@njit(cache=True)
def _logaddexp(a, b):
    if a == -np.inf:
        return b
    if b == -np.inf:
        return a
    if a > b:
        return a + math.log1p(math.exp(b - a))
    return b + math.log1p(math.exp(a - b))


@njit(cache=True)
def _plan_row(t, rank, logU, logC, counts, rows, ne, npos, logSE, log_frac, smask,
              logpi, logB, nrem):  # fmt: skip
    """Split query ``rows[t]``'s remaining clusters into skipped and sampled ones.

    The remaining clusters are the rank positions ``ne[q] <= p < npos[q]``. Sorted by
    their bound ``U_c``, the longest prefix whose total bound is at most
    ``exp(log_frac) * S_exact`` is skipped (``logB[q]``: its total, log); the others
    are sampled, cluster ``c`` with probability ``pi_c = (U_c / sum U + C_c / sum C)
    / 2`` (bound and typical-member estimate), and ``nrem[q]`` counts their points.
    """
    q = rows[t]
    logB[q] = -np.inf
    nrem[q] = 0
    for c in range(smask.shape[1]):
        smask[q, c] = False
        logpi[q, c] = -np.inf
    lo = ne[q]
    hi = npos[q]
    if hi <= lo:
        return
    cl = rank[q, lo:hi]
    nc = hi - lo
    uu = np.empty(nc)
    umin = np.inf
    for p in range(nc):
        uu[p] = logU[q, cl[p]]
        umin = min(umin, uu[p])
    thr = logSE[q] + log_frac
    cum = -np.inf
    if umin <= thr:  # something may be skipped
        order = _argsort(uu)
        for p in range(nc):
            new = _logaddexp(cum, uu[order[p]])
            if new > thr:
                break
            cum = new
            uu[order[p]] = np.nan  # skipped
    logB[q] = cum
    mu = -np.inf
    mc = -np.inf
    for p in range(nc):
        if not np.isnan(uu[p]):
            mu = max(mu, uu[p])
            mc = max(mc, logC[q, cl[p]])
    su = 0.0
    sc = 0.0
    for p in range(nc):
        if not np.isnan(uu[p]):
            su += math.exp(uu[p] - mu)
            if mc > -np.inf:
                sc += math.exp(logC[q, cl[p]] - mc)
    n_pts = 0
    for p in range(nc):
        if np.isnan(uu[p]):
            continue
        c = cl[p]
        pi = math.exp(uu[p] - mu) / su
        if mc > -np.inf:
            pi = 0.5 * pi + 0.5 * math.exp(logC[q, c] - mc) / sc
        if pi > 0.0:
            smask[q, c] = True
            logpi[q, c] = math.log(pi)
            n_pts += counts[c]
        else:  # bound below 1e-308 of the largest one: skipped after all
            logB[q] = _logaddexp(logB[q], uu[p])
    nrem[q] = n_pts


@njit(cache=True, parallel=True)
def _plan_par(rank, logU, logC, counts, rows, ne, npos, logSE, log_frac, smask,
              logpi, logB, nrem):  # fmt: skip
    for t in prange(rows.shape[0]):
        _plan_row(t, rank, logU, logC, counts, rows, ne, npos, logSE, log_frac,
                  smask, logpi, logB, nrem)  # fmt: skip


@njit(cache=True)
def _plan_ser(rank, logU, logC, counts, rows, ne, npos, logSE, log_frac, smask,
              logpi, logB, nrem):  # fmt: skip
    for t in range(rows.shape[0]):
        _plan_row(t, rank, logU, logC, counts, rows, ne, npos, logSE, log_frac,
                  smask, logpi, logB, nrem)  # fmt: skip


@njit(cache=True)
def _draw_pool(u, cdf, offsets, cumw):
    """Map sorted uniforms to points: cluster by ``cdf``, then by within-cluster
    cumulative weight ``cumw``. Returns point indices and their clusters."""
    m = u.shape[0]
    K = cdf.shape[0]
    ids = np.empty(m, dtype=np.int64)
    cids = np.empty(m, dtype=np.int64)
    c = 0
    for j in range(m):
        while c < K - 1 and cdf[c] <= u[j]:
            c += 1
        lo_c = cdf[c - 1] if c > 0 else 0.0
        width = cdf[c] - lo_c
        loc = (u[j] - lo_c) / width if width > 0.0 else 0.0
        a = offsets[c]
        b = offsets[c + 1]
        # first i in [a, b) with cumw[i] > loc
        lo = a
        hi = b - 1
        while lo < hi:
            mid = (lo + hi) // 2
            if cumw[mid] > loc:
                hi = mid
            else:
                lo = mid + 1
        ids[j] = lo
        cids[j] = c
    return ids, cids


@njit(cache=True)
def _gpd_khat(x):
    """Shape ``k`` of a generalised Pareto fit to the sorted excesses ``x`` > 0.

    Zhang and Stephens (2009) profile-likelihood estimator, with the weakly
    informative prior of Vehtari et al. (2024) (``k`` shrunk to 0.5 with weight 10).
    Returns ``inf`` when a quarter of the excesses are zero (too few distinct tail
    values to judge) and 0 when all are.
    """
    n = x.shape[0]
    xmax = x[n - 1]
    if xmax <= 0.0:
        return 0.0
    xq = x[max(int(n / 4.0 + 0.5) - 1, 0)]
    if xq <= 0.0:
        return np.inf
    mg = 30 + int(math.sqrt(n))
    theta = np.empty(mg)
    ll = np.empty(mg)
    for j in range(mg):
        th = 1.0 / xmax + (1.0 - math.sqrt(mg / (j + 0.5))) / (3.0 * xq)
        theta[j] = th
        acc = 0.0
        for i in range(n):
            acc += math.log1p(-th * x[i])
        k = acc / n
        if k == 0.0 or th == 0.0:
            ll[j] = -np.inf
        else:
            ll[j] = n * (math.log(-th / k) - k - 1.0)
    lmax = -np.inf
    for j in range(mg):
        lmax = max(lmax, ll[j])
    if lmax == -np.inf:
        return np.inf
    ws = 0.0
    tw = 0.0
    for j in range(mg):
        w = math.exp(ll[j] - lmax)
        ws += w
        tw += w * theta[j]
    th = tw / ws
    acc = 0.0
    for i in range(n):
        acc += math.log1p(-th * x[i])
    k = acc / n
    return (n * k + 10.0 * 0.5) / (n + 10.0)


@njit(cache=True)
def _pool_row(t, lk, cids2, logr2, prow, smask, rows, logSE, logB, rtol, acc, out):
    """Per query of a shared stratified pool: mean, variance, tail; merge; error.

    Row ``t`` of ``lk`` holds ``log k`` of query ``q = rows[t]`` at the ``m`` points
    of pool ``prow[t]`` (clusters ``cids2[prow[t]]``, log importance ratios
    ``logr2[prow[t]]``); the importance value of point ``j`` is
    ``v_j = exp(lk + logr[j])`` where its cluster is sampled for that query, else 0.
    The round's mean ``T_r`` and
    variance ``V_r = sum_pairs (v_2j - v_2j+1)^2 / m^2`` (collapsed strata, biased
    upwards) are merged into ``acc[q] = (log sum m_r T_r, log sum m_r^2 V_r,
    sum m_r)``, i.e. rounds are averaged with weights ``m_r``. ``out[t]`` receives
    ``(rel_err, log S, Pareto k, Hill index, non-zero count)``: the Pareto ``k`` of
    the largest ``M = min(m / 5, 3 sqrt(m))`` values is fitted only where
    ``rel_err <= rtol`` (the costly convergence gate; NaN elsewhere), the Hill
    estimate of the same tail (cheap, for choosing the next step) always.
    """
    m = lk.shape[1]
    M = min(m // 5, int(3.0 * math.sqrt(m)))
    logm = math.log(m)
    cids = cids2[prow[t]]
    logr = logr2[prow[t]]
    q = rows[t]
    v = np.empty(m)
    mx = -np.inf
    cnt = 0
    for j in range(m):
        if smask[q, cids[j]]:
            x = lk[t, j] + logr[j]
        else:
            x = -np.inf
        v[j] = x
        if x > mx:
            mx = x
        if x > -np.inf:
            cnt += 1
    out[t, 4] = cnt
    out[t, 2] = np.nan
    out[t, 3] = np.inf
    if mx == -np.inf:
        lT = -np.inf
        lV = -np.inf
    else:
        s1 = 0.0
        for j in range(m):
            v[j] = math.exp(v[j] - mx)
            s1 += v[j]
        s2 = 0.0
        for j in range(0, m - 1, 2):
            dlt = v[j] - v[j + 1]
            s2 += dlt * dlt
        lT = mx + math.log(s1) - logm
        lV = 2.0 * (mx - logm) + math.log(s2) if s2 > 0.0 else -np.inf
    acc[q, 0] = _logaddexp(acc[q, 0], logm + lT)
    acc[q, 1] = _logaddexp(acc[q, 1], 2.0 * logm + lV)
    acc[q, 2] += m
    lM = math.log(acc[q, 2])
    logS = _logaddexp(logSE[q], acc[q, 0] - lM)
    logsd = 0.5 * acc[q, 1] - lM
    out[t, 1] = logS
    if logS == -np.inf:
        out[t, 0] = np.inf
    else:
        out[t, 0] = math.exp(_logaddexp(logsd, logB[q]) - logS)
    if mx == -np.inf or M < 5:
        return
    top = _top_sorted(v, M + 1)
    thr = top[0]
    if thr > 0.0:
        hill = 0.0
        for i in range(M):
            hill += math.log(top[i + 1] / thr)
        out[t, 3] = hill / M
    if out[t, 0] <= rtol:
        ex = np.empty(M)
        for i in range(M):
            ex[i] = top[i + 1] - thr
        out[t, 2] = _gpd_khat(ex)


@njit(cache=True, parallel=True)
def _pool_par(lk, cids2, logr2, prow, smask, rows, logSE, logB, rtol, acc, out):
    for t in prange(lk.shape[0]):
        _pool_row(t, lk, cids2, logr2, prow, smask, rows, logSE, logB, rtol, acc, out)


@njit(cache=True)
def _pool_ser(lk, cids2, logr2, prow, smask, rows, logSE, logB, rtol, acc, out):
    for t in range(lk.shape[0]):
        _pool_row(t, lk, cids2, logr2, prow, smask, rows, logSE, logB, rtol, acc, out)


# -------------------------------------------------------------------------- helpers


def _as_generator(random_state):
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(0, 2**31 - 1))
    if random_state is None or isinstance(random_state, numbers.Integral):
        return np.random.default_rng(random_state)
    raise ValueError(
        f"random_state must be None, an int or a Generator, got {random_state!r}"
    )


def _sqdist(A, B, aa=None, bb=None):
    """``|a - b|^2`` for all pairs through one GEMM, clamped at 0."""
    if aa is None:
        aa = np.einsum("ij,ij->i", A, A)
    if bb is None:
        bb = np.einsum("ij,ij->i", B, B)
    s = (-2.0 * A) @ B.T
    s += aa[:, None]
    s += bb[None, :]
    np.maximum(s, 0.0, out=s)
    return s


def _row_lse(lk, lw):
    """``log sum_j exp(lk[i, j] + lw[j])`` per row, overwriting ``lk``."""
    lk += lw[None, :]
    mx = lk.max(axis=1)
    mx = np.where(mx > -np.inf, mx, 0.0)
    lk -= mx[:, None]
    np.exp(lk, out=lk)
    with np.errstate(divide="ignore"):
        return mx + np.log(lk.sum(axis=1))


def _call_log_k(log_k, s):
    with np.errstate(divide="ignore", under="ignore", over="ignore"):
        out = np.asarray(log_k(s), dtype=np.float64)
    if out.shape != s.shape or not out.flags.writeable:
        out = np.broadcast_to(out, s.shape).copy()
    if np.isnan(out).any():
        raise ValueError("log_k returned NaN")
    return out


def _assign(X, C, rows=None, shift=None):
    """Nearest centroid of every row of ``X[rows] - shift`` (GEMM blocks, run on
    ``numba.get_num_threads()`` Python threads)."""
    n = X.shape[0] if rows is None else rows.shape[0]
    lab = np.empty(n, dtype=np.int64)
    cc = np.einsum("ij,ij->i", C, C)
    chunk = max(64, (8 << 20) // (8 * C.shape[0]))

    def work(a):
        Xb = X[a : a + chunk] if rows is None else X[rows[a : a + chunk]]
        if shift is not None:
            Xb = Xb - shift
        g = Xb @ (-2.0 * C).T
        g += cc[None, :]
        lab[a : a + chunk] = np.argmin(g, axis=1)

    starts = range(0, n, chunk)
    n_workers = min(get_num_threads(), len(starts))
    if n_workers > 1:
        with ThreadPoolExecutor(n_workers) as ex:
            list(ex.map(work, starts))
    else:
        for a in starts:
            work(a)
    return lab


def _means(X, lab, K, old):
    counts = np.bincount(lab, minlength=K)
    order = np.argsort(lab, kind="stable")
    C = old.copy()
    nz = np.flatnonzero(counts)
    starts = np.concatenate(([0], np.cumsum(counts)))[nz]
    sums = np.add.reduceat(X[order], starts, axis=0)
    C[nz] = sums / counts[nz, None]
    return C, counts


@njit(cache=True)
def _segment_cumsum(w, offsets):
    """Within-segment cumulative sums of ``w``, each normalised to end at 1."""
    out = np.empty_like(w)
    for c in range(offsets.shape[0] - 1):
        acc = 0.0
        for i in range(offsets[c], offsets[c + 1]):
            acc += w[i]
            out[i] = acc
        for i in range(offsets[c], offsets[c + 1]):
            out[i] /= acc
        out[offsets[c + 1] - 1] = 1.0
    return out


def _log_cluster_sums(lw, offsets):
    """Per-cluster ``log sum exp(lw)`` over contiguous segments."""
    K = offsets.shape[0] - 1
    mx = np.maximum.reduceat(lw, offsets[:-1]) if K else np.empty(0)
    rep = np.repeat(mx, np.diff(offsets))
    s = np.add.reduceat(np.exp(lw - rep), offsets[:-1]) if K else np.empty(0)
    return mx + np.log(s), rep


# ---------------------------------------------------------------------------- index


def build_index(Z, log_w, *, n_clusters=None, random_state=None) -> dict:
    """Coarse k-means quantiser of weighted training points.

    Parameters
    ----------
    Z : ndarray of shape (n, d)
        Training points.
    log_w : ndarray of shape (n,)
        Log-weights; ``-inf`` means weight zero (such points are left out of the
        index). ``nan`` and ``+inf`` are refused.
    n_clusters : int, optional
        Number of clusters; default ``round(sqrt(n'))`` with ``n'`` the number of
        points of non-zero weight (at least 1, at most ``n'``).
    random_state : None, int or numpy Generator
        Seed of the subsample and of the k-means++ seeding.

    Returns
    -------
    index : dict of ndarrays
        ``points`` (n', d) the non-zero-weight points reordered by cluster;
        ``sample_index`` (n',) their rows in ``Z``; ``log_w`` (n',) their
        log-weights; ``offsets`` (K + 1,) cluster ``c`` is
        ``points[offsets[c]:offsets[c + 1]]``; ``centroids`` (K, d) the member means;
        ``radius`` (K,) the largest member distance to the centroid (rounded up);
        ``cluster_log_weight`` (K,) ``log sum w`` of the members;
        ``cluster_mean_sq_radius`` (K,) the weighted mean squared member distance to
        the centroid; ``point_sq_radius`` (n',) each point's squared distance to its
        centroid; ``cum_weight`` (n',) the within-cluster cumulative weight
        (normalised to end at 1, used for sampling); ``center`` (d,) the mean point;
        ``n_samples_total`` the ``n`` of ``Z``.

    Notes
    -----
    Lloyd iterations (at most 10) from a k-means++ seeding run on a uniform subsample
    of ``max(64 K, 10000)`` points; every point is then assigned to its nearest
    centroid and the centroids are recomputed as member means, so that the radii are
    exact for the stored assignment. Clusters are labelled in the order of their
    centroids along the first principal axis of the centroids, which makes adjacent
    clusters (and so adjacent sampling strata) spatially related. The cost is
    ``O(n K d)`` for the final assignment, i.e. ``O(n^1.5 d)`` by default.
    """
    Z = np.asarray(Z, dtype=np.float64)
    if Z.ndim != 2:
        raise ValueError(f"Z must be 2-d, got shape {Z.shape}")
    n, d = Z.shape
    log_w = np.asarray(log_w, dtype=np.float64).reshape(-1)
    if log_w.shape[0] != n:
        raise ValueError(f"log_w has {log_w.shape[0]} entries for {n} points")
    if np.isnan(log_w).any() or np.isposinf(log_w).any():
        raise ValueError("log_w must not contain NaN or +inf")
    if not np.isfinite(Z).all():
        raise ValueError("Z must be finite")
    rng = _as_generator(random_state)
    keep = np.flatnonzero(log_w > -np.inf)
    n_eff = keep.shape[0]
    if n_eff == 0:
        return {
            "points": np.empty((0, d)),
            "sample_index": np.empty(0, dtype=np.int64),
            "log_w": np.empty(0),
            "offsets": np.zeros(1, dtype=np.int64),
            "centroids": np.empty((0, d)),
            "radius": np.empty(0),
            "cluster_log_weight": np.empty(0),
            "cluster_mean_sq_radius": np.empty(0),
            "point_sq_radius": np.empty(0),
            "cum_weight": np.empty(0),
            "center": np.zeros(d),
            "n_samples_total": n,
        }
    if n_clusters is None:
        K = int(round(math.sqrt(n_eff)))
    else:
        K = int(n_clusters)
        if K < 1:
            raise ValueError(f"n_clusters must be >= 1, got {n_clusters!r}")
    K = max(1, min(K, n_eff))
    with threadpool_limits(limits=1, user_api="blas"):
        return _build(Z, log_w, keep, K, rng, n)


def _build(Z, log_w, keep, K, rng, n):
    n_eff = keep.shape[0]
    all_kept = n_eff == n
    center = (Z if all_kept else Z[keep]).mean(axis=0)
    rows = None if all_kept else keep
    # Lloyd iterations on a subsample, from k-means++ on a smaller one
    n_sub = min(n_eff, max(64 * K, 10_000))
    sub = np.sort(rng.choice(n_eff, size=n_sub, replace=False))
    Xs = Z[keep[sub]] - center
    n_init = min(n_sub, max(16 * K, 2_000))
    Xi = np.ascontiguousarray(Xs[rng.choice(n_sub, size=n_init, replace=False)])
    C = Xi[_kmeanspp(Xi, K, rng.random(K))].copy()
    prev = None
    for _ in range(10):
        lab = _assign(Xs, C)
        if prev is not None and np.array_equal(lab, prev):
            break
        C, _counts = _means(Xs, lab, K, C)
        prev = lab
    del Xs, Xi
    # every point to its nearest centroid; empty clusters dropped
    lab = _assign(Z, C, rows=rows, shift=center)
    counts = np.bincount(lab, minlength=K)
    nz = np.flatnonzero(counts)
    C = C[nz]
    remap = np.full(K, -1, dtype=np.int64)
    remap[nz] = np.arange(nz.shape[0])
    lab = remap[lab]
    K = nz.shape[0]
    if K > 1:  # label along the first principal axis of the centroids
        Cc = C - C.mean(axis=0)
        _, vec = np.linalg.eigh(Cc.T @ Cc)
        perm = np.argsort(Cc @ vec[:, -1], kind="stable")
        inv = np.empty(K, dtype=np.int64)
        inv[perm] = np.arange(K)
        lab = inv[lab]
    order = np.argsort(lab, kind="stable")
    idx = keep[order]
    points = Z[idx]
    lab = lab[order]
    lw = log_w[idx]
    counts = np.bincount(lab, minlength=K)
    offsets = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
    # centroids are the member means, so the radii are exact for this assignment
    C = np.add.reduceat(points - center, offsets[:-1], axis=0) / counts[:, None]
    C += center
    sqr = np.empty(n_eff)
    step = 1 << 16
    for a in range(0, n_eff, step):
        r = points[a : a + step] - C[lab[a : a + step]]
        sqr[a : a + step] = np.einsum("ij,ij->i", r, r)
    radius = np.sqrt(np.maximum.reduceat(sqr, offsets[:-1])) * (1 + 1e-12) + 1e-300
    clw, rep = _log_cluster_sums(lw, offsets)
    wrel = np.exp(lw - rep)  # within-cluster weights relative to the cluster max
    msr = np.add.reduceat(wrel * sqr, offsets[:-1]) / np.add.reduceat(
        wrel, offsets[:-1]
    )
    return {
        "points": points,
        "sample_index": idx.astype(np.int64),
        "log_w": lw,
        "offsets": offsets,
        "centroids": C,
        "radius": radius,
        "cluster_log_weight": clw,
        "cluster_mean_sq_radius": msr,
        "point_sq_radius": sqr,
        "cum_weight": _segment_cumsum(wrel, offsets),
        "center": center,
        "n_samples_total": n,
    }


# ---------------------------------------------------------------------- estimation


def approximate_logsumexp(
    index,
    Zq,
    log_k,
    h,
    *,
    rtol=1e-2,
    max_exact_fraction=0.1,
    random_state=None,
    working_memory_mib=256,
):
    """Estimate ``L[q] = log sum_i w_i k(|Zq[q] - Z_i|^2 / h^2)`` with error bars.

    Parameters
    ----------
    index : dict
        From :func:`build_index`.
    Zq : ndarray of shape (q, d)
        Query points.
    log_k : callable
        Vectorised ``s -> log k(s)`` of the squared distance in bandwidth units
        (an ndarray in, an ndarray of the same shape out, ``-inf`` where ``k = 0``);
        ``k`` must be radial and non-increasing in ``s`` with ``log k(0) = 0``. It is
        called under ``np.errstate(divide="ignore")`` (``np.log(0)`` is fine) and,
        for the exact part, from several threads at once: it must be a pure function.
    h : float
        Bandwidth, > 0.
    rtol : float, default 1e-2
        Target relative standard error of ``exp(L)``. ``0`` asks for the exact sum.
    max_exact_fraction : float, default 0.1
        While the sampled remainder of a query looks heavy-tailed the exact part
        grows fourfold per round; once it would pass this fraction of the points the
        query is summed exactly in full.
    random_state : None, int or numpy Generator
        Seed of the sampling.
    working_memory_mib : float, default 256
        Bound on the temporaries (the index itself excluded).

    Returns
    -------
    L : ndarray of shape (q,)
        The estimates (``-inf`` where the sum is exactly zero).
    rel_err : ndarray of shape (q,)
        Estimated relative standard error of ``exp(L)``; exactly 0 where ``L`` is
        the exact sum (up to rounding), and at most ``rtol`` elsewhere.

    Notes
    -----
    Queries are processed in blocks; per block:

    1. **Bounds and ranking.** With ``mu_c, R_c, W_c`` a cluster's centroid, radius
       and weight, every member is at least ``max(0, |y - mu_c| - R_c)`` from ``y``,
       so ``U_c = W_c k(lower^2 / h^2)`` bounds the cluster's contribution (the
       centroid distances come from a GEMM; the lower distance is reduced by the
       GEMM's worst-case rounding, so ``U_c`` stays a bound). Clusters with
       ``U_c = 0`` (compact kernels) are dropped: they are exactly zero. In high
       dimension the bounds are loose (``|y - mu_c| < R_c`` for most clusters of
       Gaussian data, so ``U_c = W_c``), so the clusters are ranked by the
       contribution of a typical member, ``C_c = W_c k((|y - mu_c|^2 + rms_c^2) /
       h^2)``, ties broken by ``U_c``: the nearest clusters, as in an IVF index.
    2. **Exact part.** The top-ranked clusters are summed exactly until they hold
       the query's budget of points (first 64, i.e. one cluster or more). The
       (query, cluster) pairs are grouped by cluster, so each cluster meets all its
       queries in one GEMM on coordinates relative to its centroid; the groups run
       on ``numba.get_num_threads()`` threads.
    3. **Skipped part.** Of the other clusters, those with the smallest bounds are
       skipped as long as their bounds add up to at most ``rtol / 10`` of the exact
       part. The skipped mass lies in ``[0, B_skip]``; nothing is added for it and
       ``B_skip / S`` is added to ``rel_err`` (a deterministic bound, not a standard
       error).
    4. **Sampled part.** The remaining clusters are sampled: query ``q`` would draw
       cluster ``c`` with probability ``pi_qc = (U_c / sum U + C_c / sum C) / 2``
       and a member with probability ``w_i / W_c``. Up to 32 queries that need the
       same number ``m`` of samples share one pool drawn from the average ``rho_c``
       of their ``pi`` (so their distances are one GEMM; different groups draw
       independent pools). The pool is stratified: sorted uniforms
       ``u_j = (j + U_j) / m`` are mapped through the cumulative ``rho`` over
       clusters and, within a cluster, its cumulative weight. A point's importance
       value ``v = W_c k(s) / rho_c`` (0 if its cluster is not in the query's
       sampled set) averages to an unbiased estimate ``T`` of the sampled part; its
       variance is estimated by collapsing adjacent strata in pairs,
       ``sum (v_2j - v_2j+1)^2 / m^2``, which is biased upwards (conservative).
    5. **Adaptivity.** ``rel_err = (sd(T) + B_skip) / (S_exact + T)``. A query stops
       once ``rel_err <= rtol`` provided the sample's tail is trustworthy: at least
       16 non-zero values and a Pareto shape ``k`` (generalised Pareto fit of Zhang
       and Stephens, 2009, to the largest ``min(m / 5, 3 sqrt(m))`` values) of at
       most ``min(1 - 1 / log10(m), 0.7)``, the threshold of Vehtari et al. Queries
       that fail this gate, or whose tail has a Hill index above 1 while the error
       is still too large, are heavy-tailed - the extreme-value regime, where the
       sum sits on a few near points that a sample will not see: their exact
       budget grows fourfold and sampling starts afresh with 256 samples. The
       others draw the number of samples their variance projects (1.25 times that,
       at least half and at most 8 times the total so far, rounded up to ``2^k``
       or ``3 2^(k-1)``, capped so that a pool fits the working memory); the
       rounds are averaged with weights proportional to their sizes. A query is summed
       exactly in full (``rel_err = 0``) when the samples it still wants reach
       half the points that remain, or when its exact part would pass
       ``max_exact_fraction`` of the points. As the samples cost about what exact
       terms cost (both are GEMM columns), the work per query is at most about
       twice the exact sum's.

    The rounds stop when every query is done: at most ``log4(n / 64)`` heavy
    rounds, and a light query at least multiplies its samples by 1.5 per round.
    ``rel_err`` leaves out floating-point rounding: the squared distances of the
    exact part are exact to about ``(d + 4) eps (|y - mu_c|^2 + R_c^2)``, so ``L``
    is exact to that over ``2 h^2`` (about ``1e-13`` for ``d = 64``, ``h = 0.5``).
    """
    Zq = np.asarray(Zq, dtype=np.float64)
    if Zq.ndim != 2:
        raise ValueError(f"Zq must be 2-d, got shape {Zq.shape}")
    d = index["center"].shape[0]
    if Zq.shape[1] != d:
        raise ValueError(f"Zq has {Zq.shape[1]} features, the index {d}")
    h = float(h)
    if not (np.isfinite(h) and h > 0):
        raise ValueError(f"h must be positive and finite, got {h!r}")
    rtol = float(rtol)
    if not (rtol >= 0):
        raise ValueError(f"rtol must be >= 0, got {rtol!r}")
    max_exact_fraction = float(max_exact_fraction)
    if not (0 <= max_exact_fraction <= 1):
        raise ValueError(
            f"max_exact_fraction must be in [0, 1], got {max_exact_fraction!r}"
        )
    if not np.isfinite(Zq).all():
        raise ValueError("Zq must be finite")
    nq = Zq.shape[0]
    L = np.full(nq, -np.inf)
    rel = np.zeros(nq)
    offsets = index["offsets"]
    K = offsets.shape[0] - 1
    if nq == 0 or K == 0:
        return L, rel
    rng = _as_generator(random_state)
    budget = max(float(working_memory_mib), 1.0) * (1 << 20)
    max_elems = max(int(budget // 32), 4096)
    qb = int(max(1, min(nq, 2048, budget // 2 // (K * 64 + 8 * d + 256))))
    ctx = _Context(index, log_k, h, rtol, max_exact_fraction, rng, max_elems)
    # Many small GEMMs: threaded BLAS would only spin against the numba threads.
    with threadpool_limits(limits=1, user_api="blas"):
        for a in range(0, nq, qb):
            L[a : a + qb], rel[a : a + qb] = ctx.run(Zq[a : a + qb])
    return L, rel


class _Context:
    """Shared per-call data; :meth:`run` estimates one block of queries."""

    def __init__(self, index, log_k, h, rtol, max_exact_fraction, rng, max_elems):
        self.points = index["points"]
        self.log_w = index["log_w"]
        self.offsets = index["offsets"]
        self.counts = np.diff(self.offsets)
        self.C = index["centroids"]
        self.R = index["radius"]
        self.logW = index["cluster_log_weight"]
        self.msr = index["cluster_mean_sq_radius"]
        self.sqr = index["point_sq_radius"]
        self.cumw = index["cum_weight"]
        self.center = index["center"]
        self.Cc = self.C - self.center
        self.cc = np.einsum("ij,ij->i", self.Cc, self.Cc)
        self.log_k = log_k
        self.h = h
        self.inv_h = 1.0 / h
        self.rtol = rtol
        self.log_frac = math.log(rtol / 10) if rtol > 0 else -np.inf
        self.mef = max_exact_fraction
        self.rng = rng
        self.max_elems = max_elems

    # -- exact part -----------------------------------------------------------------
    def _exact(self, Y, qi, ci, logSE):
        """Add the exact sums of the (query, cluster) pairs ``(qi, ci)`` to ``logSE``.

        The pairs are grouped by cluster; the groups run on ``numba.get_num_threads()``
        Python threads (BLAS, numpy and ``log_k``'s numpy calls release the GIL).
        """
        if qi.size == 0:
            return
        o = np.argsort(ci, kind="stable")
        qi = qi[o]
        ci = ci[o]
        cuts = np.flatnonzero(np.diff(ci)) + 1
        starts = np.concatenate(([0], cuts))
        ends = np.concatenate((cuts, [ci.shape[0]]))
        groups = [(ci[s0], qi[s0:s1]) for s0, s1 in zip(starts, ends, strict=True)]
        work = int(np.dot(self.counts[ci[starts]], ends - starts))
        n_workers = min(get_num_threads(), len(groups), max(1, work // _CHUNK))
        if n_workers > 1:
            with ThreadPoolExecutor(n_workers) as ex:
                results = list(ex.map(self._exact_group, groups, [Y] * len(groups)))
        else:
            results = [self._exact_group(g, Y) for g in groups]
        for (_, qs), out in zip(groups, results, strict=True):
            logSE[qs] = np.logaddexp(logSE[qs], out)

    def _exact_group(self, group, Y):
        c, qs_all = group
        ih = self.inv_h
        a, b = self.offsets[c], self.offsets[c + 1]
        mu = self.C[c]
        Xr = (self.points[a:b] - mu) * ih
        xx = np.einsum("ij,ij->i", Xr, Xr)
        lw = self.log_w[a:b]
        out = np.empty(qs_all.shape[0])
        step = max(1, min(self.max_elems, _CHUNK) // max(b - a, 1))
        for t in range(0, qs_all.shape[0], step):
            A = (Y[qs_all[t : t + step]] - mu) * ih
            lk = _call_log_k(self.log_k, _sqdist(A, Xr, bb=xx))
            out[t : t + step] = _row_lse(lk, lw)
        return out

    # -- sampling -------------------------------------------------------------------
    def _sample(self, Yc, rows, pos, m, smask, logpi, logSE, logB, acc, stats):
        """Shared stratified pools of ``m`` points for the block rows ``rows``
        (at most ``_POOL_ROWS`` queries per pool, independent pools); ``pos`` are
        the rows' places in ``stats``."""
        ih = self.inv_h
        fit = max(1, self.max_elems // (2 * m))  # rows of m values within budget
        pool_rows = min(_POOL_ROWS, fit)
        per_call = max(pool_rows, fit // pool_rows * pool_rows)
        for t0 in range(0, rows.shape[0], per_call):
            rr_all = rows[t0 : t0 + per_call]
            n = rr_all.shape[0]
            n_pools = -(-n // pool_rows)
            lk = np.empty((n, m))
            cids2 = np.empty((n_pools, m), dtype=np.int64)
            logr2 = np.empty((n_pools, m))
            for p in range(n_pools):
                sl = slice(p * pool_rows, (p + 1) * pool_rows)
                rr = rr_all[sl]
                with np.errstate(under="ignore"):
                    rho = np.exp(logpi[rr]).mean(axis=0)
                cdf = np.cumsum(rho)
                cdf /= cdf[-1]
                cdf[-1] = 1.0
                with np.errstate(divide="ignore"):
                    logrho = np.log(rho)
                u = np.minimum((np.arange(m) + self.rng.random(m)) / m, 1.0 - _EPS)
                ids, cids = _draw_pool(u, cdf, self.offsets, self.cumw)
                P = (self.points[ids] - self.center) * ih
                lk[sl] = _call_log_k(self.log_k, _sqdist(Yc[rr] * ih, P))
                cids2[p] = cids
                logr2[p] = self.logW[cids] - logrho[cids]
            prow = np.arange(n) // pool_rows
            st = np.empty((n, 5))
            f = _pool_par if n * m >= _PAR_WORK and n > 1 else _pool_ser
            f(lk, cids2, logr2, prow, smask, rr_all, logSE, logB, self.rtol, acc, st)
            stats[pos[t0 : t0 + n]] = st

    # -- one block --------------------------------------------------------------------
    def run(self, Y):
        nb = Y.shape[0]
        K = self.Cc.shape[0]
        h2 = self.h * self.h
        Yc = Y - self.center
        yy = np.einsum("ij,ij->i", Yc, Yc)
        dc2 = _sqdist(Yc, self.Cc, aa=yy, bb=self.cc)
        # |error| of the GEMM's dc2 <= (d + 4) 2 eps (|y|^2 + |mu|^2), and
        # |sqrt(a) - sqrt(b)| <= sqrt(|a - b|): the lower bounds stay bounds
        d = Y.shape[1]
        slack = np.sqrt((2 * d + 8) * _EPS * (yy[:, None] + self.cc[None, :]))
        lower = np.maximum(np.sqrt(dc2) - self.R[None, :] - slack, 0.0)
        logU = self.logW[None, :] + _call_log_k(self.log_k, lower * lower / h2)
        del lower, slack
        dc2 += self.msr[None, :]
        dc2 /= h2
        logC = self.logW[None, :] + _call_log_k(self.log_k, dc2)
        del dc2
        logC = np.minimum(logC, logU)  # C is a typical member; never above the bound
        rank = np.lexsort((-logU, -logC), axis=-1)
        npos = (logU > -np.inf).sum(axis=1)
        cum = np.cumsum(self.counts[rank], axis=1)
        n_tot = cum[np.arange(nb), np.maximum(npos - 1, 0)] * (npos > 0)

        ne = np.zeros(nb, dtype=np.int64)  # rank positions summed exactly
        B = np.full(nb, float(_B0) if self.rtol > 0 else np.inf)  # exact budget
        m_cap = max(_M0, self.max_elems // 2 // 2 * 2)  # largest pool (memory)
        want_m = np.full(nb, float(_M0))  # samples still wanted
        m = np.full(nb, _M0, dtype=np.int64)  # size of the next pool
        logSE = np.full(nb, -np.inf)  # log of the exact part
        acc = np.empty((nb, 3))  # log sum m_r T_r, log sum m_r^2 V_r, sum m_r
        acc[:] = (-np.inf, -np.inf, 0.0)
        logB = np.full(nb, -np.inf)  # log of the skipped bound
        nrem = np.zeros(nb, dtype=np.int64)  # points in the sampled clusters
        stale = np.ones(nb, dtype=bool)  # plan out of date
        active = npos > 0
        L = np.full(nb, -np.inf)
        rel = np.zeros(nb)
        smask = np.zeros((nb, K), dtype=np.bool_)
        logpi = np.full((nb, K), -np.inf)
        arange_K = np.arange(K)
        while active.any():
            act = np.flatnonzero(active)
            # 1. extend the exact part to the budget
            want = (cum[act] < B[act, None]).sum(axis=1) + 1
            new_ne = np.minimum(np.maximum(want, ne[act]), npos[act])
            grow = new_ne > ne[act]
            if grow.any():
                ga = act[grow]
                sel = (arange_K[None, :] >= ne[ga, None]) & (
                    arange_K[None, :] < new_ne[grow, None]
                )
                r_, p_ = np.nonzero(sel)
                self._exact(Y, ga[r_], rank[ga[r_], p_], logSE)
                ne[ga] = new_ne[grow]
                acc[ga] = (-np.inf, -np.inf, 0.0)
                stale[ga] = True
            # 2. skip / sample plan (it changes only with the exact part)
            rp = act[stale[act]]
            if rp.size:
                f = _plan_par if rp.shape[0] * K >= _PAR_WORK // 8 else _plan_ser
                f(rank, logU, logC, self.counts, rp, ne, npos, logSE, self.log_frac,
                  smask, logpi, logB, nrem)  # fmt: skip
                stale[rp] = False
            finished = nrem[act] == 0
            if finished.any():
                f = act[finished]
                L[f] = logSE[f]
                with np.errstate(invalid="ignore", under="ignore"):
                    rb = np.exp(logB[f] - logSE[f])
                rel[f] = np.where(logB[f] > -np.inf, rb, 0.0)
                active[f] = False
            go_exact = ~finished & (2 * want_m[act] >= nrem[act])
            B[act[go_exact]] = np.inf
            sa = act[~finished & ~go_exact]
            if sa.size == 0:
                continue
            # 3. shared pools, grouped by sample size; merged with earlier rounds
            stats = np.empty((sa.shape[0], 5))
            for mm in np.unique(m[sa]):
                pos = np.flatnonzero(m[sa] == mm)
                self._sample(
                    Yc, sa[pos], pos, int(mm), smask, logpi, logSE, logB, acc, stats
                )
            # 4. decide
            r_est, logS, khat, hill, nnz = stats.T
            kap = np.minimum(1.0 - 1.0 / np.log10(m[sa]), 0.7)
            small = r_est <= self.rtol
            few = nnz < _MIN_NONZERO
            ok = small & ~few & (khat <= kap)
            heavy = ~ok & (few | small | (hill > _HILL_MAX))
            done = sa[ok]
            L[done] = logS[ok]
            rel[done] = r_est[ok]
            active[done] = False
            if heavy.any():
                hq = sa[heavy]
                nxt = cum[hq, np.minimum(ne[hq], npos[hq] - 1)]  # one more cluster
                B[hq] = np.maximum(4 * B[hq], nxt)
                B[hq[B[hq] > self.mef * n_tot[hq]]] = np.inf
                acc[hq] = (-np.inf, -np.inf, 0.0)
                want_m[hq] = _M0
                m[hq] = _M0
            light = ~ok & ~heavy
            if light.any():
                lq = sa[light]
                M = acc[lq, 2]
                logsd = 0.5 * acc[lq, 1] - np.log(M)
                with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                    rb = np.exp(logB[lq] - logS[light])
                    log_target = logS[light] + np.log(self.rtol - rb)
                    need = M * np.exp(2 * (logsd - log_target)) * _SAFETY
                need = np.where(np.isfinite(need), need, np.inf)
                want_m[lq] = np.clip(need - M, 0.5 * M, 8 * M)
                m[lq] = np.minimum(_round_up_size(want_m[lq]), m_cap)
        return L, rel


def _round_up_size(x):
    """Smallest ``2^k`` or ``3 * 2^(k-1)`` (k >= 1) at least ``x`` (capped at 2^40)."""
    x = np.minimum(np.maximum(x, 2.0), 2.0**40)
    p = 2.0 ** np.floor(np.log2(x))
    out = np.where(x <= p, p, np.where(x <= 1.5 * p, 1.5 * p, 2 * p))
    return out.astype(np.int64)
