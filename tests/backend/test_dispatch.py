"""Dispatch and input validation of the four primitives (engine-independent).

Bad input gives an error that names the parameter; ``Y=None`` means ``X``; dtypes
are promoted as documented; kernels without an engine spec (scikit-learn's own) run
on numpy blocks, also when a fused engine is requested, and the fallback is logged.
"""

import logging

import numpy as np
import pytest
from sklearn.gaussian_process.kernels import RBF

from kernlearn.backend import (
    _load_engine,
    kernel_logsumexp,
    kernel_matrix,
    kernel_sum,
    kernel_topk,
)
from kernlearn.kernels import Gaussian

PRIMITIVES = ["kernel_matrix", "kernel_sum", "kernel_logsumexp", "kernel_topk"]

RNG = np.random.default_rng(0)
X = RNG.normal(size=(7, 3))
Y = RNG.normal(size=(5, 3))


def call(prim, kernel, X, Y=None, *, backend="numpy", **kw):
    """Run one primitive; topk defaults to k=1."""
    if prim == "kernel_matrix":
        return kernel_matrix(kernel, X, Y, backend=backend)
    if prim == "kernel_sum":
        return kernel_sum(kernel, X, Y, kw.get("weights"), backend=backend)
    if prim == "kernel_logsumexp":
        return kernel_logsumexp(kernel, X, Y, kw.get("log_weights"), backend=backend)
    return kernel_topk(kernel, X, Y, kw.get("k", 1), backend=backend)


def first(out):
    return out[0] if isinstance(out, tuple) else out


def numba_usable():
    try:
        _load_engine("numba")
    except ImportError:
        return False
    return True


# ------------------------------------------------------------------ X and Y
@pytest.mark.parametrize("prim", PRIMITIVES)
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("which", ["X", "Y"])
def test_non_finite_inputs(prim, bad, which):
    A = X.copy()
    A[2, 1] = bad
    word = "NaN" if np.isnan(bad) else "infinity"
    with pytest.raises(ValueError, match=rf"\b{which}\b.*{word}"):
        if which == "X":
            call(prim, Gaussian(), A, Y)
        else:
            call(prim, Gaussian(), Y, A)


@pytest.mark.parametrize("prim", PRIMITIVES)
def test_non_finite_x_with_y_none(prim):
    A = X.copy()
    A[0, 0] = np.nan
    with pytest.raises(ValueError, match=r"\bX\b.*NaN"):
        call(prim, Gaussian(), A)


@pytest.mark.parametrize("prim", PRIMITIVES)
def test_mismatched_features(prim):
    with pytest.raises(ValueError, match=r"X has 3 features but Y has 2"):
        call(prim, Gaussian(), X, Y[:, :2])


@pytest.mark.parametrize("prim", PRIMITIVES)
@pytest.mark.parametrize(
    "shape, ndim", [((3,), 1), ((2, 3, 1), 3), ((), 0)], ids=["1d", "3d", "scalar"]
)
@pytest.mark.parametrize("which", ["X", "Y"])
def test_wrong_ndim(prim, shape, ndim, which):
    A = np.ones(shape)
    with pytest.raises(ValueError, match=rf"\b{which} must be a 2-D array.*{ndim} dim"):
        if which == "X":
            call(prim, Gaussian(), A, Y)
        else:
            call(prim, Gaussian(), X, A)


def test_one_dimensional_input_hints_reshape():
    with pytest.raises(ValueError, match=r"reshape\(-1, 1\)"):
        kernel_sum(Gaussian(), np.arange(3.0))


@pytest.mark.parametrize("prim", PRIMITIVES)
@pytest.mark.parametrize("shape", [(0, 3), (4, 0), (0, 0)])
@pytest.mark.parametrize("which", ["X", "Y"])
def test_empty(prim, shape, which):
    A = np.ones(shape)
    B = np.ones((4, max(shape[1], 1)))
    with pytest.raises(ValueError, match=rf"\b{which} is empty"):
        if which == "X":
            call(prim, Gaussian(), A, B)
        else:
            call(prim, Gaussian(), B, A)


@pytest.mark.parametrize(
    "bad, match",
    [
        ([["a", "b", "c"]], "could not convert"),
        (np.ones((2, 3)) * 1j, "[Cc]omplex"),
        ([[1.0, 2.0, 3.0], [1.0]], ""),
    ],
    ids=["strings", "complex", "ragged"],
)
@pytest.mark.parametrize("which", ["X", "Y"])
def test_non_numeric_input_names_parameter(bad, match, which):
    with pytest.raises(ValueError, match=rf"\b{which}\b.*{match}"):
        if which == "X":
            kernel_sum(Gaussian(), bad, Y)
        else:
            kernel_sum(Gaussian(), X, bad)


def test_sparse_input_is_refused():
    sparse = pytest.importorskip("scipy.sparse")
    with pytest.raises(TypeError, match=r"\bX is a sparse matrix"):
        kernel_sum(Gaussian(), sparse.csr_matrix(X))


# ------------------------------------------------------------------ weights
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_weights_non_finite(bad):
    w = np.ones(5)
    w[3] = bad
    with pytest.raises(ValueError, match=r"^weights contains NaN or infinity"):
        kernel_sum(Gaussian(), X, Y, w)
    W = np.ones((5, 2))
    W[1, 1] = bad
    with pytest.raises(ValueError, match=r"^weights contains NaN or infinity"):
        kernel_sum(Gaussian(), X, Y, W)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_log_weights_nan_or_pos_inf(bad):
    lw = np.zeros(5)
    lw[0] = bad
    with pytest.raises(ValueError, match=r"^log_weights contains NaN or \+inf"):
        kernel_logsumexp(Gaussian(), X, Y, lw)


def test_log_weights_neg_inf_is_a_zero_weight():
    lw = np.log(RNG.uniform(0.5, 2.0, size=5))
    lw[[1, 3]] = -np.inf
    keep = np.isfinite(lw)
    got = kernel_logsumexp(Gaussian(), X, Y, lw)
    ref = kernel_logsumexp(Gaussian(), X, Y[keep], lw[keep])
    np.testing.assert_allclose(got, ref, rtol=1e-13)
    w = np.exp(lw)
    np.testing.assert_allclose(np.exp(got), kernel_sum(Gaussian(), X, Y, w), rtol=1e-12)
    # every weight zero: log 0 = -inf, without a warning or an error
    out = kernel_logsumexp(Gaussian(), X, Y, np.full(5, -np.inf))
    assert np.all(np.isneginf(out))
    LW = np.column_stack([lw, np.full(5, -np.inf)])
    out = kernel_logsumexp(Gaussian(), X, Y, LW)
    np.testing.assert_allclose(out[:, 0], got, rtol=1e-13)
    assert np.all(np.isneginf(out[:, 1]))


@pytest.mark.parametrize(
    "prim, name", [("kernel_sum", "weights"), ("kernel_logsumexp", "log_weights")]
)
@pytest.mark.parametrize("length", [4, 6, 1])
def test_weights_wrong_length(prim, name, length):
    kw = {name: np.ones(length)}
    with pytest.raises(ValueError, match=rf"^{name} has {length} rows but Y has 5"):
        call(prim, Gaussian(), X, Y, **kw)
    kw = {name: np.ones((length, 2))}
    with pytest.raises(ValueError, match=rf"^{name} has {length} rows"):
        call(prim, Gaussian(), X, Y, **kw)


@pytest.mark.parametrize(
    "prim, name", [("kernel_sum", "weights"), ("kernel_logsumexp", "log_weights")]
)
@pytest.mark.parametrize(
    "bad",
    [np.ones((5, 2, 1)), np.float64(1.0), np.ones((5, 0))],
    ids=["3d", "scalar", "no-columns"],
)
def test_weights_wrong_shape(prim, name, bad):
    with pytest.raises(ValueError, match=rf"^{name} "):
        call(prim, Gaussian(), X, Y, **{name: bad})


@pytest.mark.parametrize(
    "prim, name", [("kernel_sum", "weights"), ("kernel_logsumexp", "log_weights")]
)
@pytest.mark.parametrize(
    "bad", [["a"] * 5, np.ones(5) * 1j, [object()] * 5], ids=["str", "complex", "obj"]
)
def test_weights_not_real(prim, name, bad):
    with pytest.raises(ValueError, match=rf"^{name} must be an array of real numbers"):
        call(prim, Gaussian(), X, Y, **{name: bad})


def test_weights_list_and_int_and_y_none():
    got = kernel_sum(Gaussian(), X, None, [1] * 7)
    np.testing.assert_allclose(got, Gaussian()(X).sum(axis=1), rtol=1e-13)
    with pytest.raises(ValueError, match="weights has 5 rows but Y has 7"):
        kernel_sum(Gaussian(), X, None, np.ones(5))  # Y=None: one weight per X row


# --------------------------------------------------------------------- top-k
@pytest.mark.parametrize("k", [0, -1, 6, 100])
def test_topk_k_out_of_range(k):
    with pytest.raises(ValueError, match=rf"k={k} is out of range.*n_samples_Y = 5"):
        kernel_topk(Gaussian(), X, Y, k)


@pytest.mark.parametrize("k", [1.0, 2.5, "2", None, True, np.float64(1)])
def test_topk_k_not_integer(k):
    with pytest.raises(TypeError, match=r"^k must be an integer"):
        kernel_topk(Gaussian(), X, Y, k)


@pytest.mark.parametrize("k", [1, 5, np.int64(3), np.int32(2)])
def test_topk_k_integer_types(k):
    vals, idx = kernel_topk(Gaussian(), X, Y, k)
    assert vals.shape == idx.shape == (7, int(k))
    assert idx.dtype == np.int64


def test_topk_k_bounded_by_x_when_y_none():
    kernel_topk(Gaussian(), X, k=7)
    with pytest.raises(ValueError, match="n_samples_Y = 7"):
        kernel_topk(Gaussian(), X, k=8)


# -------------------------------------------------------------------- kernel
@pytest.mark.parametrize("prim", PRIMITIVES)
@pytest.mark.parametrize("bad", [None, "gaussian", 1.0, np.ones((2, 2))])
def test_non_callable_kernel(prim, bad):
    with pytest.raises(TypeError, match=r"^kernel must be a kernel object"):
        call(prim, bad, X, Y)


# -------------------------------------------------------------- Y=None, dtypes
@pytest.mark.parametrize("prim", PRIMITIVES)
def test_y_none_means_x(prim):
    kw = {"k": 3}
    a = call(prim, Gaussian(0.8), X, None, **kw)
    b = call(prim, Gaussian(0.8), X, X.copy(), **kw)
    if isinstance(a, tuple):
        for u, v in zip(a, b, strict=True):
            np.testing.assert_array_equal(u, v)
    else:
        np.testing.assert_array_equal(a, b)
    assert first(a).shape[0] == 7


@pytest.mark.parametrize("prim", PRIMITIVES)
@pytest.mark.parametrize("int_dtype", [np.int64, np.int32, np.uint8, bool])
def test_integer_input_becomes_float64(prim, int_dtype):
    Xi = (np.abs(X) * 3).astype(int_dtype)
    Yi = (np.abs(Y) * 3).astype(int_dtype)
    out = first(call(prim, Gaussian(), Xi, Yi))
    assert out.dtype == np.float64
    ref = first(call(prim, Gaussian(), Xi.astype(np.float64), Yi.astype(np.float64)))
    np.testing.assert_array_equal(out, ref)


def test_list_input():
    got = kernel_matrix(Gaussian(), X.tolist(), Y.tolist())
    np.testing.assert_allclose(got, Gaussian()(X, Y), rtol=1e-13)


@pytest.mark.parametrize("prim", PRIMITIVES)
def test_dtype_promotion(prim):
    X32, Y32 = X.astype(np.float32), Y.astype(np.float32)
    assert first(call(prim, Gaussian(), X32, Y32)).dtype == np.float32
    assert first(call(prim, Gaussian(), X32)).dtype == np.float32
    assert first(call(prim, Gaussian(), X32, Y)).dtype == np.float64
    assert first(call(prim, Gaussian(), X, Y32)).dtype == np.float64
    assert first(call(prim, Gaussian(), X.astype(np.float16), Y32)).dtype == np.float64
    # a mixed pair is computed from the float64 values of both
    mixed = first(call(prim, Gaussian(), X32, Y))
    ref = first(call(prim, Gaussian(), X32.astype(np.float64), Y))
    np.testing.assert_array_equal(mixed, ref)


def test_float32_weights_do_not_demote():
    got = kernel_sum(Gaussian(), X, Y, np.ones(5, dtype=np.float32))
    assert got.dtype == np.float64
    got = kernel_sum(Gaussian(), X.astype(np.float32), Y.astype(np.float32), np.ones(5))
    assert got.dtype == np.float32


def test_weights_shapes():
    w = RNG.uniform(size=5)
    W = RNG.uniform(size=(5, 3))
    K = Gaussian()(X, Y)
    assert kernel_sum(Gaussian(), X, Y, w).shape == (7,)
    assert kernel_sum(Gaussian(), X, Y).shape == (7,)
    np.testing.assert_allclose(kernel_sum(Gaussian(), X, Y, W), K @ W, rtol=1e-13)
    np.testing.assert_allclose(
        kernel_sum(Gaussian(), X, Y, W[:, :1]), K @ W[:, :1], rtol=1e-13
    )
    np.testing.assert_allclose(
        kernel_logsumexp(Gaussian(), X, Y, np.log(W)), np.log(K @ W), rtol=1e-13
    )


def test_input_is_not_modified():
    A, B, w = X.copy(), Y.copy(), np.ones(5)
    for prim in PRIMITIVES:
        call(prim, Gaussian([0.5, 1.0, 2.0]), A, B, weights=w, log_weights=w)
    np.testing.assert_array_equal(A, X)
    np.testing.assert_array_equal(B, Y)
    np.testing.assert_array_equal(w, np.ones(5))


# ------------------------------------------------------------------ fallback
@pytest.mark.parametrize("prim", PRIMITIVES)
@pytest.mark.parametrize("backend", ["numpy", "auto", None])
def test_sklearn_kernel_runs_on_numpy(prim, backend):
    """A kernel without ``_engine_spec`` runs ``kernel(X, Y)`` blocks and matches."""
    a = call(prim, RBF(1.3), X, Y, backend=backend, k=2)
    b = call(prim, Gaussian(1.3), X, Y, backend="numpy", k=2)
    if isinstance(a, tuple):
        np.testing.assert_allclose(a[0], b[0], rtol=1e-12)
        np.testing.assert_array_equal(a[1], b[1])
    else:
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_sklearn_kernel_sum_matches_dense():
    k = RBF(0.9) + RBF(2.0)  # a scikit-learn Sum: no engine spec
    w = RNG.uniform(size=5)
    np.testing.assert_allclose(kernel_sum(k, X, Y, w), k(X, Y) @ w, rtol=1e-13)
    np.testing.assert_allclose(kernel_matrix(k, X, Y), k(X, Y), rtol=1e-13)


@pytest.mark.parametrize("prim", PRIMITIVES)
def test_sklearn_kernel_falls_back_from_numba(prim, caplog):
    if not numba_usable():
        pytest.skip("the numba engine is not importable here")
    with caplog.at_level(logging.DEBUG, logger="kernlearn"):
        a = call(prim, RBF(1.3), X, Y, backend="numba", k=2)
    b = call(prim, Gaussian(1.3), X, Y, backend="numpy", k=2)
    if isinstance(a, tuple):
        np.testing.assert_allclose(a[0], b[0], rtol=1e-12)
        np.testing.assert_array_equal(a[1], b[1])
    else:
        np.testing.assert_allclose(a, b, rtol=1e-12)
    records = [r for r in caplog.records if "falling back" in r.getMessage()]
    assert len(records) == 1
    assert records[0].levelno == logging.DEBUG
    assert records[0].name == "kernlearn"
    assert prim in records[0].getMessage() and "numba" in records[0].getMessage()


def test_fused_kernel_on_numpy_is_not_a_fallback(caplog):
    with caplog.at_level(logging.DEBUG, logger="kernlearn"):
        kernel_sum(Gaussian(), X, Y, backend="numpy")
        kernel_sum(RBF(), X, Y, backend="numpy")
    assert "falling back" not in caplog.text


def test_negative_sklearn_kernel_refused_by_logsumexp():
    from sklearn.gaussian_process.kernels import DotProduct

    with pytest.raises(ValueError, match="non-negative"):
        kernel_logsumexp(DotProduct(sigma_0=0.0), X, -X)
