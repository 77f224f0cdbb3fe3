"""Bandwidth selectors against dense references and closed forms."""

import numpy as np
import pytest
from scipy.spatial.distance import cdist
from scipy.special import logsumexp
from sklearn.neighbors import KernelDensity as SkKDE

from kernlearn.density import KernelDensity
from kernlearn.density import _bandwidth as bw

RNG = np.random.default_rng(7)


def _dense_loo(X, w, h, kernel):
    """Leave-one-out mean log-likelihood by dense numpy (Gaussian/Epanechnikov)."""
    n, d = X.shape
    D2 = cdist(X, X, "sqeuclidean") / (h * h)
    if kernel == "gaussian":
        logk = -0.5 * D2 - 0.5 * d * np.log(2 * np.pi)
    else:  # epanechnikov, d = 1: K(u) = 3/4 (1 - u^2)
        with np.errstate(divide="ignore"):
            logk = np.log(np.maximum(1 - D2, 0)) + np.log(0.75)
    logk -= d * np.log(h)
    np.fill_diagonal(logk, -np.inf)
    p = w / w.sum()
    with np.errstate(divide="ignore"):
        lse = logsumexp(logk + np.log(p)[None, :], axis=1) - np.log(1 - p)
    return np.sum(p * lse)


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_loo_log_likelihood_against_dense(backend):
    X = RNG.standard_normal((700, 5))
    w = RNG.uniform(0.2, 1.0, 700)
    for h in (0.2, 0.6, 1.5):
        got = bw.loo_log_likelihood(
            X, np.log(w / w.sum()), "gaussian", h, backend=backend
        )
        assert got == pytest.approx(_dense_loo(X, w, h, "gaussian"), rel=1e-12)


def test_loo_exact_when_self_term_dominates():
    """In high dimension the self term is e^700 times the rest: no cancellation."""
    X = RNG.standard_normal((300, 200))
    got = bw.loo_log_likelihood(X, np.full(300, -np.log(300)), "gaussian", 0.3)
    ref = _dense_loo(X, np.ones(300), 0.3, "gaussian")
    assert np.isfinite(got) and got == pytest.approx(ref, rel=1e-12)


def test_loo_ml_maximises_the_dense_objective():
    X = RNG.standard_normal((400, 2)) * [1.0, 3.0]
    w = np.ones(400)
    h = KernelDensity(bandwidth="loo_ml").fit(X).bandwidth_
    grid = h * np.exp(np.linspace(-0.1, 0.1, 21))
    vals = [_dense_loo(X, w, g, "gaussian") for g in grid]
    assert abs(np.log(grid[int(np.argmax(vals))] / h)) <= 0.011


def test_loo_ml_compact_kernel_and_weights():
    x = RNG.standard_normal((300, 1))
    w = RNG.uniform(0.5, 1.5, 300)
    h = KernelDensity(bandwidth="loo_ml", kernel="epanechnikov").fit(x, sample_weight=w)
    h = h.bandwidth_
    grid = h * np.exp(np.linspace(-0.1, 0.1, 21))
    vals = [_dense_loo(x, w, g, "epanechnikov") for g in grid]
    assert abs(np.log(grid[int(np.argmax(vals))] / h)) <= 0.011


def test_scott_silverman_are_sklearn_factor_times_spread():
    X = RNG.standard_normal((500, 3)) * [0.5, 2.0, 4.0]
    std = X.std(axis=0)
    iqr = np.subtract(*np.percentile(X, [75, 25], axis=0, method="hazen")) / 1.349
    spread = np.sqrt(np.mean(np.minimum(std, iqr) ** 2))
    for rule in ("scott", "silverman"):
        ours = KernelDensity(bandwidth=rule).fit(X).bandwidth_
        factor = SkKDE(bandwidth=rule).fit(X).bandwidth_
        assert ours == pytest.approx(spread * factor, rel=1e-12)


@pytest.mark.parametrize(
    "rule", ["scott", "silverman", "nn", "loo_ml", "gaussian_reference_hd"]
)
def test_rules_are_scale_equivariant(rule):
    X = RNG.standard_normal((300, 4))
    a = KernelDensity(bandwidth=rule, random_state=0).fit(X).bandwidth_
    b = KernelDensity(bandwidth=rule, random_state=0).fit(3.0 * X + 7.0).bandwidth_
    rel = 1e-3 if rule == "loo_ml" else 1e-9  # loo_ml: optimiser tolerance
    assert b == pytest.approx(3.0 * a, rel=rel)


def test_rules_rescale_to_other_kernels():
    X = RNG.standard_normal((400, 1))
    g = KernelDensity(bandwidth="scott").fit(X).bandwidth_
    t = KernelDensity(bandwidth="scott", kernel="tophat").fit(X).bandwidth_
    # same covariance: a tophat on [-h, h] has variance h^2 / 3
    assert t == pytest.approx(np.sqrt(3.0) * g, rel=1e-12)


def test_whitened_rules_use_whitened_spread():
    A = np.array([[2.0, 0.0], [1.5, 0.5]])
    X = RNG.standard_normal((2000, 2)) @ A
    kde = KernelDensity(bandwidth="scott", whiten=True).fit(X)
    assert kde.bandwidth_ == pytest.approx(2000 ** (-1 / 6), rel=0.05)
    np.testing.assert_allclose(
        kde.bandwidth_matrix_, kde.bandwidth_**2 * np.cov(X.T), rtol=1e-10
    )


def test_rules_need_two_samples():
    with pytest.raises(ValueError, match="2 samples"):
        KernelDensity(bandwidth="scott").fit(np.zeros((1, 2)))
    with pytest.raises(ValueError, match="2 samples"):
        KernelDensity(bandwidth="loo_ml").fit(
            RNG.standard_normal((5, 2)), sample_weight=[1, 0, 0, 0, 0]
        )


def test_isj_rule_wired_through_the_estimator():
    from kernlearn.density._isj import improved_sheather_jones

    x = RNG.standard_normal((3000, 1))
    w = RNG.uniform(0.5, 1.0, 3000)
    kde = KernelDensity(bandwidth="isj").fit(x, sample_weight=w)
    assert kde.bandwidth_ == pytest.approx(improved_sheather_jones(x, w), rel=1e-12)
    with pytest.raises(ValueError, match="one-dimensional"):
        KernelDensity(bandwidth="isj").fit(RNG.standard_normal((30, 2)))


def test_loo_on_a_row_subset_is_the_mean_over_those_rows():
    X = RNG.standard_normal((500, 3))
    w = RNG.uniform(0.2, 1.0, 500)
    rows = np.sort(RNG.choice(500, 120, replace=False))
    got = bw.loo_log_likelihood(X, np.log(w / w.sum()), "gaussian", 0.5, rows=rows)
    # dense per-point reference
    D2 = cdist(X[rows], X, "sqeuclidean") / 0.25
    logk = -0.5 * D2 - 1.5 * np.log(2 * np.pi * 0.25)
    logk[np.arange(120), rows] = -np.inf
    p = w / w.sum()
    ll = logsumexp(logk + np.log(p), axis=1) - np.log(1 - p[rows])
    assert got == pytest.approx(np.sum(p[rows] * ll) / p[rows].sum(), rel=1e-12)
    # and loo_ml on a subset lands near the full-data maximiser
    X = RNG.standard_normal((4000, 3))
    lw = np.full(4000, -np.log(4000))
    full = bw.loo_ml(X, lw, "gaussian", max_rows=None, xatol=1e-2)
    sub = bw.loo_ml(X, lw, "gaussian", max_rows=1500, random_state=0, xatol=1e-2)
    assert sub == pytest.approx(full, rel=0.05)


@pytest.mark.parametrize("d", [1, 2])
def test_binned_loo_agrees_with_exact(d):
    X = RNG.standard_normal((3000, d)) * [1.0, 2.0][:d]
    lw = np.full(3000, -np.log(3000))
    for h in (0.1, 0.3):
        a = bw.loo_log_likelihood(X, lw, "gaussian", h, binned=True)
        b = bw.loo_log_likelihood(X, lw, "gaussian", h)
        assert abs(a - b) < 5e-4  # nats per point; grid step h / 20
    binned = bw.loo_ml(X, lw, "gaussian")  # n >= 1000: binned
    exact = bw.loo_ml(X, lw, "gaussian", max_rows=2999)  # a subset: exact path
    assert binned == pytest.approx(exact, rel=0.01)


def test_loo_recomputes_rows_dominated_by_their_own_term():
    # one far outlier: its own term is everything; subtracting it would give -inf
    X = np.vstack([RNG.standard_normal((200, 2)), [[40.0, 40.0]]])
    lw = np.full(201, -np.log(201))
    got = bw.loo_log_likelihood(X, lw, "gaussian", 0.5)
    assert np.isfinite(got)
    assert got == pytest.approx(_dense_loo(X, np.ones(201), 0.5, "gaussian"), rel=1e-12)
