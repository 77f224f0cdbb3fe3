"""masked_sqdist_topk on every engine.

References: the dense (n, M, d) array of masked differences in numpy, and, for
the offset-corrected distance, its definition as a minimum over a common shift
solved by scipy.optimize.minimize_scalar. The cupy rows run only where a CUDA
device is present.
"""

import numpy as np
import pytest
from scipy.optimize import minimize_scalar

import kernlearn
from kernlearn.backend import _load_engine, masked_sqdist_topk

try:
    _load_engine("cupy")
    _GPU_SKIP = None
except ImportError as exc:
    _GPU_SKIP = str(exc)

ENGINES = [
    "numpy",
    "numba",
    "auto",
    pytest.param(
        "cupy",
        marks=[
            pytest.mark.gpu,
            pytest.mark.skipif(_GPU_SKIP is not None, reason=str(_GPU_SKIP)),
        ],
    ),
]


def _dense(Q, mask, F, lam=None, mu=None):
    """All n x M distances, each the residual of its own least-squares fit of
    (beta, delta) with the priors as extra rows (numpy.linalg.lstsq)."""
    n, M = len(Q), len(F)
    D = np.empty((n, M))
    for i in range(n):
        S = mask[i]
        s = max(S.sum(), 1)
        c = Q[i, S].mean() if S.any() else 0.0
        for j in range(M):
            u = Q[i, S] - F[j, S]
            # the free unknowns among (beta, delta), with their prior weights
            free = [
                (col, w)
                for col, w in ((F[j, S] - c, mu), (np.ones(S.sum()), lam))
                if w is not None
            ]
            if not free:
                D[i, j] = (u**2).sum()
                continue
            A = np.vstack(
                [
                    np.column_stack([col for col, _ in free]),
                    np.diag([np.sqrt(w * s) for _, w in free]),
                ]
            )
            b = np.r_[u, np.zeros(len(free))]
            coef = np.linalg.lstsq(A, b, rcond=None)[0]
            D[i, j] = ((b - A @ coef) ** 2).sum()
    return np.maximum(D, 0.0)


def _problem(n=60, M=500, d=23, density=0.35, seed=0):
    rng = np.random.default_rng(seed)
    F = rng.normal(-70.0, 10.0, size=(M, d))
    Q = rng.normal(-70.0, 10.0, size=(n, d))
    mask = rng.random((n, d)) < density
    mask[0] = True  # every feature
    mask[1] = False
    mask[1, 3] = True  # a single feature
    mask[2] = False  # none
    Q[~mask] = np.nan  # never read
    return Q, mask, F


PRIORS = [
    (None, None),
    (0.25, None),
    (3.0, None),
    (None, 10.0),
    (0.25, 10.0),
    (0.1, 0.5),
]
_DENSE = {}


def _dense_cached(priors):
    if priors not in _DENSE:
        Q, mask, F = _problem(n=30, M=150)
        _DENSE[priors] = _dense(Q, mask, F, *priors)
    return _DENSE[priors]


@pytest.mark.parametrize("backend", ENGINES)
@pytest.mark.parametrize("priors", PRIORS, ids=str)
@pytest.mark.parametrize("k", [1, 9])
def test_matches_dense_reference(backend, priors, k):
    Q, mask, F = _problem(n=30, M=150)
    D = _dense_cached(priors)
    ref_i = np.argsort(D, axis=1, kind="stable")[:, :k]
    ref_d = np.take_along_axis(D, ref_i, axis=1)
    lam, mu = priors
    d2, idx = masked_sqdist_topk(
        Q, mask, F, k, offset_shrinkage=lam, gain_shrinkage=mu, backend=backend
    )
    assert d2.shape == idx.shape == (len(Q), k)
    assert idx.dtype == np.int64
    np.testing.assert_allclose(d2, ref_d, rtol=1e-9, atol=1e-8)
    # the indices hold those distances (continuous data: no ties; row 2
    # selects nothing, so every distance is 0 and the first k come back)
    np.testing.assert_array_equal(idx, ref_i)
    assert np.all(np.diff(d2, axis=1) >= 0)


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_shrunk_distance_is_min_over_a_common_offset(backend):
    """d = min_delta |u - delta|^2 + lam |S| delta^2, solved numerically."""
    Q, mask, F = _problem(n=6, M=40, d=9, density=0.6, seed=4)
    lam = 0.4
    d2, idx = masked_sqdist_topk(Q, mask, F, 40, offset_shrinkage=lam, backend=backend)
    for i in range(len(Q)):
        S = mask[i]
        for t in (0, 17, 39):
            u = Q[i, S] - F[idx[i, t], S]
            res = minimize_scalar(
                lambda delta, u=u, S=S: (
                    ((u - delta) ** 2).sum() + lam * S.sum() * delta**2
                )
            )
            np.testing.assert_allclose(d2[i, t], res.fun, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_offset_invariance_as_shrinkage_vanishes(backend):
    """A query shifted by 12 dB on its features finds its own point once the
    offset is free (tiny shrinkage); the plain distance mostly does not."""
    rng = np.random.default_rng(1)
    F = rng.normal(-70.0, 10.0, size=(300, 12))
    Q = F[:20] + rng.normal(0.0, 0.3, size=(20, 12)) + 12.0
    mask = np.ones_like(Q, dtype=bool)
    _, free = masked_sqdist_topk(Q, mask, F, 1, offset_shrinkage=1e-9, backend=backend)
    _, plain = masked_sqdist_topk(Q, mask, F, 1, backend=backend)
    np.testing.assert_array_equal(free[:, 0], np.arange(20))
    assert (plain[:, 0] != np.arange(20)).sum() >= 10


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_ties_go_to_the_lower_index_and_empty_rows(backend):
    F = np.array([[1.0, 2.0], [5.0, 5.0], [1.0, 2.0], [1.0, 9.0], [0.0, 0.0]])
    Q = np.array([[1.0, np.nan], [np.nan, np.nan]])
    mask = ~np.isnan(Q)
    d2, idx = masked_sqdist_topk(Q, mask, F, 4, backend=backend)
    np.testing.assert_array_equal(idx[0], [0, 2, 3, 4])
    np.testing.assert_allclose(d2[0], [0.0, 0.0, 0.0, 1.0], atol=1e-12)
    # nothing selected: every distance is 0, the first k points in order
    np.testing.assert_array_equal(idx[1], [0, 1, 2, 3])
    np.testing.assert_array_equal(d2[1], 0.0)


@pytest.mark.parametrize("backend", ["numpy", "numba"])
@pytest.mark.parametrize("order", ["C", "F"])
def test_blocks_and_layouts(backend, order):
    """A tiny working_memory splits the reference into many blocks; a
    Fortran-ordered map and k = M give the same answer."""
    Q, mask, F = _problem(n=45, M=130, d=7, seed=2)
    D = _dense(Q, mask, F, 0.5, 2.0)
    ref_i = np.argsort(D, axis=1, kind="stable")
    with kernlearn.config_context(working_memory=0.01):
        d2, idx = masked_sqdist_topk(
            Q,
            mask,
            np.asarray(F, order=order),
            130,
            offset_shrinkage=0.5,
            gain_shrinkage=2.0,
            backend=backend,
        )
    np.testing.assert_array_equal(idx, ref_i)
    np.testing.assert_allclose(d2, np.take_along_axis(D, ref_i, 1), atol=1e-8)


def test_engines_agree_on_a_large_problem():
    Q, mask, F = _problem(n=700, M=3000, d=40, density=0.3, seed=5)
    for priors in PRIORS:
        kw = dict(offset_shrinkage=priors[0], gain_shrinkage=priors[1])
        a = masked_sqdist_topk(Q, mask, F, 10, backend="numpy", **kw)
        b = masked_sqdist_topk(Q, mask, F, 10, backend="numba", **kw)
        np.testing.assert_allclose(a[0], b[0], rtol=1e-9, atol=1e-8)
        np.testing.assert_array_equal(a[1], b[1])


@pytest.mark.parametrize(
    "change, match",
    [
        (dict(F=np.zeros((5, 3))), "features"),
        (dict(mask=np.ones((4, 4))), "boolean"),
        (dict(mask=np.ones((3, 4), dtype=bool)), "boolean"),
        (dict(k=0), "k must be"),
        (dict(k=7), "k must be"),
        (dict(k=2.0), "k must be"),
        (dict(offset_shrinkage=0.0), "offset_shrinkage"),
        (dict(offset_shrinkage=-1.0), "offset_shrinkage"),
        (dict(gain_shrinkage=0.0), "gain_shrinkage"),
        (dict(gain_shrinkage=True), "gain_shrinkage"),
        (dict(F=np.full((6, 4), np.nan)), "F must be finite"),
        (dict(F=np.zeros((0, 4))), "empty"),
        (dict(Q=np.full((4, 4), np.inf)), "finite wherever mask"),
        (dict(Q=np.zeros(4)), "2-D"),
    ],
)
def test_bad_input(change, match):
    args = dict(
        Q=np.zeros((4, 4)), mask=np.ones((4, 4), dtype=bool), F=np.ones((6, 4)), k=2
    )
    args.update(change)
    with pytest.raises(ValueError, match=match):
        masked_sqdist_topk(**args)
