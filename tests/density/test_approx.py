"""Approximate log-sum-exp kernel sums (kernlearn.density._approx) against the exact
dense sum: accuracy, honesty of the reported error, exact corner cases."""

import pickle
import warnings

import numpy as np
import pytest
from scipy.spatial.distance import cdist
from scipy.special import logsumexp

from kernlearn.density._approx import approximate_logsumexp, build_index


def gaussian(s):
    return -0.5 * s


def exponential(s):
    return -np.sqrt(s)


def epanechnikov(s):
    return np.log(np.maximum(0.0, 1.0 - s))  # log(0) warns unless the caller guards


def exact(Z, log_w, Y, log_k, h):
    """Dense reference: direct squared distances, scipy's log-sum-exp."""
    s = cdist(Y, Z, "sqeuclidean") / h**2
    with np.errstate(divide="ignore"):
        return logsumexp(log_w[None, :] + log_k(s), axis=1)


def realised(L, L_ref):
    """``|exp(L - L_ref) - 1|``, 0 where both are ``-inf``."""
    both = (L == -np.inf) & (L_ref == -np.inf)
    with np.errstate(invalid="ignore"):
        return np.where(both, 0.0, np.abs(np.expm1(L - L_ref)))


@pytest.fixture(scope="module")
def gauss64():
    rng = np.random.default_rng(0)
    n, d = 20_000, 64
    Z = rng.standard_normal((n, d))
    Y = rng.standard_normal((200, d))
    log_w = np.zeros(n)
    return Z, log_w, Y, build_index(Z, log_w, random_state=0)


# Regimes for N(0, I) data, d = 64, n = 20000 (alpha = ln n / d = 0.155): below
# h_G ~ 1 the nearest point carries the sum, above h_CLT ~ 1.5 the terms are
# spread. "top" bounds the share of the largest term in the exact sum (median
# over queries), which checks that the regime is the one intended.
REGIMES = [
    # kernel, h, regime, lower/upper bound on the median top-term share
    (gaussian, 0.5, "extreme", (0.5, 1.0)),
    (gaussian, 1.5, "intermediate", (1e-4, 0.5)),
    (gaussian, 4.0, "clt", (0.0, 1e-3)),
    (exponential, 0.05, "extreme", (0.5, 1.0)),
    (exponential, 0.3, "intermediate", (1e-4, 0.5)),
    (exponential, 4.0, "clt", (0.0, 1e-3)),
]


@pytest.mark.parametrize(
    "log_k, h, regime, top",
    REGIMES,
    ids=[f"{k.__name__}-{h}-{r}" for k, h, r, _ in REGIMES],
)
def test_error_estimate_is_honest(gauss64, log_k, h, regime, top):
    Z, log_w, Y, index = gauss64
    L_ref = exact(Z, log_w, Y, log_k, h)
    s_min = cdist(Y, Z, "sqeuclidean").min(axis=1) / h**2
    share = np.exp(log_k(s_min) - L_ref)
    assert top[0] <= np.median(share) <= top[1], np.median(share)

    rtol = 1e-2
    L, rel = approximate_logsumexp(index, Y, log_k, h, rtol=rtol, random_state=1)
    assert L.shape == rel.shape == (200,)
    assert L.dtype == rel.dtype == np.float64
    assert np.isfinite(L).all() and (rel >= 0).all()
    err = realised(L, L_ref)
    covered = np.mean(err <= 3 * rel + 1e-12)
    assert covered >= 0.95, (covered, np.median(err), np.median(rel))
    assert np.median(err) < rtol
    assert np.all(rel[rel > 0] <= rtol)  # approximate answers meet the target
    if regime == "clt":  # sampling is actually used where it pays
        assert np.mean(rel > 0) > 0.9
    if regime == "extreme":  # and refused where a few points carry the sum
        assert np.mean(rel == 0) > 0.9
    assert np.all(err[rel == 0] <= 1e-11)


def test_tiny_rtol_is_exact(gauss64):
    Z, log_w, Y, index = gauss64
    for h in (0.5, 4.0):
        L_ref = exact(Z, log_w, Y[:50], gaussian, h)
        L, rel = approximate_logsumexp(index, Y[:50], gaussian, h, rtol=1e-12)
        assert np.all(rel == 0)
        assert realised(L, L_ref).max() <= 1e-12


def test_high_dimension_no_underflow():
    rng = np.random.default_rng(5)
    n, d = 3000, 500
    Z = rng.standard_normal((n, d))
    Y = rng.standard_normal((30, d))
    log_w = np.full(n, -np.log(n))
    index = build_index(Z, log_w, random_state=0)
    for h in (0.7, 8.0):
        L_ref = exact(Z, log_w, Y, gaussian, h)
        L, rel = approximate_logsumexp(index, Y, gaussian, h, random_state=0)
        assert np.isfinite(L).all()
        err = realised(L, L_ref)
        assert np.mean(err <= 3 * rel + 1e-10) >= 0.95
        assert np.all(err <= np.maximum(5 * rel, 1e-10))
        if h == 0.7:
            assert L.max() < -710  # every term is below 1e-308


def test_compact_kernel_far_queries_exact_zero():
    rng = np.random.default_rng(2)
    Z = rng.standard_normal((4000, 10))
    index = build_index(Z, np.zeros(4000), random_state=0)
    Y = rng.standard_normal((50, 10)) + 40.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        L, rel = approximate_logsumexp(index, Y, epanechnikov, 2.0)
    assert np.all(L == -np.inf)
    assert np.all(rel == 0)


def test_compact_kernel_near_queries():
    rng = np.random.default_rng(3)
    Z = rng.standard_normal((4000, 10))
    log_w = np.zeros(4000)
    index = build_index(Z, log_w, random_state=0)
    Y = np.vstack([rng.standard_normal((100, 10)), rng.standard_normal((20, 10)) + 9])
    for h in (1.5, 6.0):
        L_ref = exact(Z, log_w, Y, epanechnikov, h)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            L, rel = approximate_logsumexp(index, Y, epanechnikov, h, random_state=0)
        assert np.array_equal(L == -np.inf, L_ref == -np.inf)
        err = realised(L, L_ref)
        # near the support's edge log(1 - s) magnifies rounding of s
        assert np.mean(err <= 3 * rel + 1e-10) >= 0.95
        assert np.median(err) < 1e-2


def test_zero_and_unequal_weights():
    rng = np.random.default_rng(4)
    n, d = 8000, 32
    Z = rng.standard_normal((n, d))
    log_w = rng.normal(scale=2.0, size=n)
    log_w[rng.random(n) < 0.3] = -np.inf
    index = build_index(Z, log_w, random_state=0)
    assert index["points"].shape[0] == np.isfinite(log_w).sum()
    np.testing.assert_array_equal(index["points"], Z[index["sample_index"]])
    Y = rng.standard_normal((100, d))
    for h in (0.6, 3.0, 6.0):
        L_ref = exact(Z, log_w, Y, gaussian, h)
        L, rel = approximate_logsumexp(index, Y, gaussian, h, random_state=0)
        err = realised(L, L_ref)
        assert np.mean(err <= 3 * rel + 1e-12) >= 0.95
        assert np.median(err) < 1e-2
        L, rel = approximate_logsumexp(index, Y, gaussian, h, rtol=0)
        assert np.all(rel == 0) and realised(L, L_ref).max() <= 1e-12
    # all weights zero
    index0 = build_index(Z, np.full(n, -np.inf))
    L, rel = approximate_logsumexp(index0, Y, gaussian, 1.0)
    assert np.all(L == -np.inf) and np.all(rel == 0)


def test_index_invariants():
    rng = np.random.default_rng(6)
    Z = rng.standard_normal((5000, 7)) * [1, 2, 3, 4, 5, 6, 7]
    log_w = rng.normal(size=5000)
    index = build_index(Z, log_w, n_clusters=40, random_state=0)
    off = index["offsets"]
    K = off.shape[0] - 1
    assert 1 <= K <= 40 and off[0] == 0 and off[-1] == 5000
    assert np.all(np.diff(off) > 0)
    pts, C = index["points"], index["centroids"]
    for c in range(K):
        members = pts[off[c] : off[c + 1]]
        np.testing.assert_allclose(members.mean(axis=0), C[c], atol=1e-12)
        dist = np.linalg.norm(members - C[c], axis=1)
        assert dist.max() <= index["radius"][c]
        lw = index["log_w"][off[c] : off[c + 1]]
        np.testing.assert_allclose(index["cluster_log_weight"][c], logsumexp(lw))
        assert index["cum_weight"][off[c + 1] - 1] == 1.0
    np.testing.assert_array_equal(np.sort(index["sample_index"]), np.arange(5000))
    np.testing.assert_array_equal(index["log_w"], log_w[index["sample_index"]])
    again = pickle.loads(pickle.dumps(index))
    assert again.keys() == index.keys()
    small = build_index(Z[:1], log_w[:1])
    assert small["offsets"].tolist() == [0, 1]


def test_reproducible_and_picklable(gauss64):
    Z, log_w, Y, index = gauss64
    a = approximate_logsumexp(index, Y[:40], gaussian, 4.0, random_state=7)
    b = approximate_logsumexp(index, Y[:40], gaussian, 4.0, random_state=7)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    c = pickle.loads(pickle.dumps(a))
    np.testing.assert_array_equal(c[0], a[0])
    # a tiny memory budget changes the blocking, not the quality
    L_ref = exact(Z, log_w, Y[:40], gaussian, 4.0)
    L, rel = approximate_logsumexp(
        index, Y[:40], gaussian, 4.0, random_state=7, working_memory_mib=1
    )
    assert np.mean(realised(L, L_ref) <= 3 * rel + 1e-12) >= 0.95


def test_empty_and_invalid():
    rng = np.random.default_rng(8)
    Z = rng.standard_normal((50, 3))
    index = build_index(Z, np.zeros(50), random_state=0)
    L, rel = approximate_logsumexp(index, np.empty((0, 3)), gaussian, 1.0)
    assert L.shape == rel.shape == (0,)
    with pytest.raises(ValueError):
        approximate_logsumexp(index, np.zeros((2, 4)), gaussian, 1.0)
    with pytest.raises(ValueError):
        approximate_logsumexp(index, np.zeros((2, 3)), gaussian, 0.0)
    with pytest.raises(ValueError):
        build_index(Z, np.full(50, np.nan))
    with pytest.raises(ValueError):
        build_index(Z, np.zeros(49))
