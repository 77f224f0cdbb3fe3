"""The numpy reference engine: the conformance suite plus numpy-specific checks.

Blocking must not change results (row blocks and column blocks alike), top-k ties
go to the lowest column index, float32 input is computed in float64, and kernels
without an engine spec are evaluated in blocks within ``working_memory``.
"""

import numpy as np
import pytest
from sklearn.gaussian_process.kernels import RBF

from kernlearn import config_context
from kernlearn import kernels as K
from kernlearn.backend import (
    _numpy,
    kernel_logsumexp,
    kernel_matrix,
    kernel_sum,
    kernel_topk,
)
from kernlearn.backend._chunking import MIB

from .conformance import EngineConformance


class TestNumpyEngine(EngineConformance):
    backend = "numpy"


# ------------------------------------------------------------------ blocking
N, M, D = 50, 700, 3

# working_memory settings (MiB) for an (N, M) problem and a fused kernel: 1.2 splits
# rows only for kernel_sum and kernel_logsumexp (full rows of 700 columns), 0.05 and
# 0.001 split rows and columns.
ROWS_ONLY, ROWS_AND_COLS = 1.2, (0.05, 0.001)


def _block_counts(working_memory, op="kernel_sum", n=N, m=M):
    spec = K.Gaussian(1.0)._engine_spec()
    blocks = list(_numpy._blocks(n, m, working_memory, op, spec))
    rows = {(rs.start, rs.stop) for rs, _ in blocks}
    cols = {(cs.start, cs.stop) for _, cs in blocks}
    return len(rows), len(cols)


@pytest.mark.parametrize("op", ["kernel_sum", "kernel_logsumexp"])
def test_blockings_do_what_they_say(op):
    assert _block_counts(1024.0, op) == (1, 1)
    r, c = _block_counts(ROWS_ONLY, op)
    assert r > 1 and c == 1
    for wm in ROWS_AND_COLS:
        r, c = _block_counts(wm, op)
        assert r > 1 and c > 1
    assert _block_counts(0.001, op) == (N, -(-M // 256))


def _kernels():
    return [
        K.Gaussian(0.9),
        K.Gaussian([0.5, 1.0, 2.0]),
        K.Laplacian(1.2),
        K.Tophat(1.5),
        K.Matern(1.1, nu=3.7),  # general nu: log-Bessel profile
        K.L1Laplacian(2.0),
        K.Polynomial(degree=2, gamma=0.5, coef0=1.0),
        RBF(0.8),  # no engine spec: kernel(X, Y) blocks
    ]


def _data(seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(N, D))
    Y = rng.normal(size=(M, D))
    return X, Y, rng.uniform(0.5, 2.0, size=(M, 2))


def _all_primitives(kernel, X, Y, W):
    out = {
        "matrix": kernel_matrix(kernel, X, Y, backend="numpy"),
        "sum": kernel_sum(kernel, X, Y, backend="numpy"),
        "wsum": kernel_sum(kernel, X, Y, W, backend="numpy"),
    }
    vals, idx = kernel_topk(kernel, X, Y, 7, backend="numpy")
    out["topk_vals"], out["topk_idx"] = vals, idx
    if kernel(X[:2], Y[:2]).min() >= 0 and not isinstance(kernel, K.Polynomial):
        out["lse"] = kernel_logsumexp(kernel, X, Y, backend="numpy")
        out["wlse"] = kernel_logsumexp(kernel, X, Y, np.log(W), backend="numpy")
    return out


@pytest.mark.parametrize("kernel", _kernels(), ids=repr)
@pytest.mark.parametrize("working_memory", [ROWS_ONLY, *ROWS_AND_COLS])
def test_blocking_does_not_change_results(kernel, working_memory):
    X, Y, W = _data()
    with config_context(working_memory=1024):
        ref = _all_primitives(kernel, X, Y, W)
    with config_context(working_memory=working_memory):
        got = _all_primitives(kernel, X, Y, W)
    assert got.keys() == ref.keys()
    # Element-wise results are bit-identical, except for dot-product kernels whose
    # x.y comes from BLAS (its rounding depends on the block shape); reductions
    # over column blocks are summed in another order. Both agree to a few ulps.
    spec = getattr(kernel, "_engine_spec", lambda: None)()
    if spec is not None and spec.variable == "dot":
        atol = 1e-14 * np.max(np.abs(ref["matrix"]))  # (gamma p + c)^q cancels
        for key in ("matrix", "topk_vals"):
            np.testing.assert_allclose(got[key], ref[key], rtol=0, atol=atol)
    else:
        for key in ("matrix", "topk_vals", "topk_idx"):
            np.testing.assert_array_equal(got[key], ref[key], err_msg=key)
    for key in ("sum", "wsum"):
        np.testing.assert_allclose(got[key], ref[key], rtol=1e-14, err_msg=key)
    for key in ("lse", "wlse"):
        if key in ref:
            assert np.array_equal(np.isneginf(got[key]), np.isneginf(ref[key]))
            fin = np.isfinite(ref[key])
            np.testing.assert_allclose(
                got[key][fin], ref[key][fin], rtol=0, atol=1e-14, err_msg=key
            )


def test_row_blocking_alone_is_bit_identical():
    X, Y, W = _data(1)
    with config_context(working_memory=1024):
        ref = kernel_sum(K.Gaussian(0.9), X, Y, backend="numpy")
        ref_lse = kernel_logsumexp(K.Gaussian(0.9), X, Y, backend="numpy")
    with config_context(working_memory=ROWS_ONLY):
        np.testing.assert_array_equal(
            kernel_sum(K.Gaussian(0.9), X, Y, backend="numpy"), ref
        )
        np.testing.assert_array_equal(
            kernel_logsumexp(K.Gaussian(0.9), X, Y, backend="numpy"), ref_lse
        )


def test_unfused_kernel_is_called_in_blocks_within_budget():
    """A kernel without a spec sees blocks no larger than working_memory allows."""
    shapes = []

    class Recording(RBF):
        def __call__(self, X, Y=None, eval_gradient=False):
            shapes.append((X.shape[0], (X if Y is None else Y).shape[0]))
            return super().__call__(X, Y, eval_gradient)

    X, Y, _ = _data()
    wm = 0.05
    with config_context(working_memory=wm):
        got = kernel_sum(Recording(0.8), X, Y, backend="numpy")
    np.testing.assert_allclose(got, RBF(0.8)(X, Y).sum(axis=1), rtol=1e-13)
    assert len(shapes) > 1
    # Each pair of a block holds at least 24 bytes (the distance, a difference and
    # the value); blocks are at least 256 columns wide and one row tall.
    assert max(r * c for r, c in shapes) * 24 <= max(wm * MIB, 256 * 24)
    assert sum(r * c for r, c in shapes) == N * M


# ---------------------------------------------------------------- tie-breaking
def _stable_topk(Kmat, k):
    order = np.argsort(-Kmat, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(Kmat, order, axis=1), order


@pytest.mark.parametrize("working_memory", [1024, 0.05, 0.001])
@pytest.mark.parametrize("k", [1, 5, 40, 300])
def test_topk_ties_go_to_lowest_index(working_memory, k):
    rng = np.random.default_rng(5)
    X = rng.uniform(-1, 1, size=(40, 2))
    Y = rng.uniform(-1, 1, size=(600, 2))
    kernel = K.Tophat(0.15)  # values are 0 or 1: ties everywhere
    Kmat = kernel(X, Y)
    assert np.all((Kmat == 0) | (Kmat == 1))
    inside = (Kmat == 1).sum(axis=1)
    assert inside.min() < 5 < inside.max()  # some rows run out of ones
    ref_vals, ref_idx = _stable_topk(Kmat, k)
    with config_context(working_memory=working_memory):
        vals, idx = kernel_topk(kernel, X, Y, k, backend="numpy")
    np.testing.assert_array_equal(vals, ref_vals)
    np.testing.assert_array_equal(idx, ref_idx)
    # within each run of equal values the indices increase
    same = vals[:, 1:] == vals[:, :-1]
    assert np.all(np.diff(idx, axis=1)[same] > 0)


@pytest.mark.parametrize("working_memory", [1024, 0.001])
def test_topk_duplicate_points_lowest_index(working_memory):
    rng = np.random.default_rng(6)
    base = rng.normal(size=(30, 3))
    Y = np.concatenate([base, base[::-1], base])  # every point three times
    X = base[:10]
    with config_context(working_memory=working_memory):
        vals, idx = kernel_topk(K.Gaussian(1.0), X, Y, 3, backend="numpy")
    np.testing.assert_array_equal(vals, np.ones((10, 3)))
    expected = np.column_stack([np.arange(10), 59 - np.arange(10), 60 + np.arange(10)])
    np.testing.assert_array_equal(idx, expected)


# ------------------------------------------------------------------ precision
def test_float32_input_is_computed_in_float64():
    rng = np.random.default_rng(7)
    X = rng.normal(size=(20, 4)).astype(np.float32)
    Y = rng.normal(size=(30, 4)).astype(np.float32)
    kernel = K.Gaussian(1.3)
    X64, Y64 = X.astype(np.float64), Y.astype(np.float64)
    np.testing.assert_array_equal(
        kernel_matrix(kernel, X, Y, backend="numpy"),
        kernel_matrix(kernel, X64, Y64, backend="numpy").astype(np.float32),
    )
    np.testing.assert_array_equal(
        kernel_sum(kernel, X, Y, backend="numpy"),
        kernel_sum(kernel, X64, Y64, backend="numpy").astype(np.float32),
    )


def test_no_cancellation_far_from_origin():
    """Distances come from differences, not |x|^2 + |y|^2 - 2 x.y."""
    rng = np.random.default_rng(8)
    X = 1e8 + rng.normal(size=(5, 3))
    Y = 1e8 + rng.normal(size=(6, 3))
    ref = np.exp(-0.5 * ((X[:, None] - Y[None]) ** 2).sum(-1))
    np.testing.assert_allclose(
        kernel_matrix(K.Gaussian(1.0), X, Y, backend="numpy"), ref, rtol=1e-7
    )
