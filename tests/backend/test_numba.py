"""The numba engine against the numpy reference (conformance suite) and its own
exponential against numpy's."""

import numpy as np
import pytest

from kernlearn import config_context
from kernlearn.backend import kernel_logsumexp, kernel_sum, kernel_topk
from kernlearn.kernels import Gaussian

from .conformance import EngineConformance

numba_engine = pytest.importorskip("kernlearn.backend._numba")


class TestNumbaEngine(EngineConformance):
    backend = "numba"


def test_vexp_matches_numpy():
    rng = np.random.default_rng(0)
    # full range, subnormal results included, and exact zero
    t = np.concatenate([-rng.uniform(0, 750, 100_000), [0.0, -745.1, -800.0]])
    got = numba_engine.vexp_inplace(t.copy())
    ref = np.exp(t)
    normal = ref > np.finfo(np.float64).tiny
    # 1 ulp-level on normal results (Taylor remainder < 2e-16, Horner rounding)
    np.testing.assert_allclose(got[normal], ref[normal], rtol=4e-16, atol=0)
    # subnormal results: absolute error within a few subnormal ulps
    assert np.all(np.abs(got[~normal] - ref[~normal]) <= 8 * 5e-324)


@pytest.mark.parametrize("d", [3, 30])
def test_blocking_invariance(d):
    """Results do not depend on working_memory (row/column tiling of GEMM path)."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(300, d))
    Y = rng.normal(size=(1500, d))
    k = Gaussian(np.sqrt(d))
    W = rng.normal(size=(1500, 2))
    ref = kernel_sum(k, X, Y, W, backend="numpy")
    for wm in (0.01, 1.0, 1024):
        with config_context(working_memory=wm):
            np.testing.assert_allclose(
                kernel_sum(k, X, Y, W, backend="numba"), ref, rtol=1e-12, atol=1e-12
            )
            np.testing.assert_allclose(
                kernel_logsumexp(k, X, Y, backend="numba"),
                kernel_logsumexp(k, X, Y, backend="numpy"),
                rtol=1e-13,
            )


def test_gemm_path_near_duplicates_exact():
    """Near-identical points at large d: GEMM cancellation is repaired exactly."""
    from kernlearn.kernels import Laplacian

    rng = np.random.default_rng(2)
    Y = rng.normal(loc=50.0, size=(200, 64))  # far from the origin
    X = Y[:50] + 1e-9 * rng.normal(size=(50, 64))
    k = Laplacian(8.0)
    np.testing.assert_allclose(
        kernel_sum(k, X, Y, backend="numba"),
        kernel_sum(k, X, Y, backend="numpy"),
        rtol=1e-12,
    )


def test_topk_ties_lowest_index():
    from kernlearn.kernels import Tophat

    X = np.zeros((3, 2))
    Y = np.zeros((10, 2))
    vals, idx = kernel_topk(Tophat(1.0), X, Y, 4, backend="numba")
    np.testing.assert_array_equal(idx, np.tile(np.arange(4), (3, 1)))
    np.testing.assert_array_equal(vals, 1.0)


@pytest.mark.parametrize("d", [2, 40])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_many_column_blocks_and_y_none(d, dtype):
    """m spans several column blocks of both the direct and the GEMM path."""
    from kernlearn.kernels import Laplacian

    rng = np.random.default_rng(5)
    X = rng.normal(size=(70, d)).astype(dtype)
    Y = rng.normal(size=(5000, d)).astype(dtype)
    rtol = 1e-12 if dtype == np.float64 else 2e-4
    for k in (Gaussian(np.sqrt(d)), Laplacian(np.sqrt(d))):
        np.testing.assert_allclose(
            kernel_sum(k, X, Y, backend="numba"),
            kernel_sum(k, X, Y, backend="numpy"),
            rtol=rtol,
        )
        np.testing.assert_allclose(
            kernel_logsumexp(k, X, Y, backend="numba"),
            kernel_logsumexp(k, X, Y, backend="numpy"),
            rtol=rtol,
        )
        # Y=None: the diagonal (distance exactly 0) must come out as exactly 1
        got = kernel_sum(k, Y[:600], backend="numba")
        ref = kernel_sum(k, Y[:600], backend="numpy")
        np.testing.assert_allclose(got, ref, rtol=rtol)
        vals, idx = kernel_topk(k, Y[:600], k=3, backend="numba")
        np.testing.assert_array_equal(idx[:, 0], np.arange(600))
        np.testing.assert_allclose(vals[:, 0], 1.0, rtol=rtol)
