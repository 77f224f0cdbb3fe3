"""Feature-map transforms (hadamard_chain, cos_sin) on every engine.

References: dense products with scipy.linalg.hadamard and numpy's own cos/sin. The
numba kernels and the numpy reference must agree with them to rounding; the cupy
rows run only where a CUDA device is present.
"""

import numpy as np
import pytest
from scipy.linalg import hadamard

import kernlearn
from kernlearn.backend import _load_engine, cos_sin, fwht, hadamard_chain

try:
    _load_engine("cupy")
    _GPU_SKIP = None
except ImportError as exc:
    _GPU_SKIP = str(exc)

CPU = ["numpy", "numba", "auto"]
ENGINES = CPU + [
    pytest.param(
        "cupy",
        marks=[
            pytest.mark.gpu,
            pytest.mark.skipif(_GPU_SKIP is not None, reason=str(_GPU_SKIP)),
        ],
    )
]


def _dense_chain(X, diagonals, n_out):
    """The same chain with dense matrices, row by row."""
    n_blocks, n_diag, p = diagonals.shape
    H = hadamard(p).astype(float)
    blocks = []
    for b in range(n_blocks):
        M = np.diag(diagonals[b, -1])
        for k in range(n_diag - 2, -1, -1):
            M = np.diag(diagonals[b, k]) @ H @ M
        Xp = np.zeros((X.shape[0], p))
        Xp[:, : X.shape[1]] = X
        blocks.append(Xp @ M.T)
    return np.hstack(blocks)[:, :n_out]


@pytest.mark.parametrize("backend", ENGINES)
@pytest.mark.parametrize(
    "n, d, n_blocks, n_diag, p, n_out",
    [
        (37, 13, 3, 4, 16, 40),  # padding, truncation inside the last block
        (5, 64, 2, 4, 64, 128),  # p = d, all columns; radix-4 only
        (9, 100, 1, 4, 128, 77),  # odd log2(p): a radix-2 stage
        (8, 3, 2, 1, 4, 8),  # no Hadamard at all: one diagonal
        (4, 2, 1, 2, 2, 2),
        (1, 1, 1, 3, 1, 1),  # p = 1
    ],
)
def test_hadamard_chain_matches_dense_products(
    backend, n, d, n_blocks, n_diag, p, n_out
):
    rng = np.random.default_rng(n + d + p)
    X = rng.normal(size=(n, d))
    diag = rng.normal(size=(n_blocks, n_diag, p))
    ref = _dense_chain(X, diag, n_out)
    with kernlearn.config_context(backend=backend):
        out = hadamard_chain(X, diag, n_out)
    out = out.get() if hasattr(out, "get") else out
    assert out.shape == (n, n_out) and isinstance(out, np.ndarray)
    np.testing.assert_allclose(out, ref, rtol=1e-12, atol=1e-12 * np.abs(ref).max())


@pytest.mark.parametrize("backend", CPU)
def test_hadamard_chain_writes_into_a_view(backend):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(20, 7))
    diag = rng.choice([-1.0, 1.0], size=(2, 4, 8))
    big = np.full((20, 30), 7.0)
    res = hadamard_chain(X, diag, 12, out=big[:, 3:15], backend=backend)
    assert np.shares_memory(res, big)
    np.testing.assert_allclose(big[:, 3:15], _dense_chain(X, diag, 12), atol=1e-12)
    assert np.all(big[:, :3] == 7.0) and np.all(big[:, 15:] == 7.0)


def test_hadamard_chain_streams_in_working_memory_blocks():
    """The numpy reference with a tiny budget (one row per block) gives the same."""
    rng = np.random.default_rng(2)
    X = rng.normal(size=(50, 30))
    diag = rng.normal(size=(3, 4, 32))
    full = hadamard_chain(X, diag, backend="numpy")
    with kernlearn.config_context(working_memory=1e-4):
        small = hadamard_chain(X, diag, backend="numpy")
    np.testing.assert_array_equal(full, small)


def test_sorf_chain_is_orthogonal():
    """Normalised signs H D H D H D is orthogonal: norms and inner products kept."""
    rng = np.random.default_rng(3)
    p = 256
    diag = rng.choice([-1.0, 1.0], size=(1, 4, p)) / np.sqrt(p)
    diag[:, 3] *= np.sqrt(p)
    X = rng.normal(size=(10, p))
    Y = hadamard_chain(X, diag, backend="numba")
    np.testing.assert_allclose(Y @ Y.T, X @ X.T, rtol=1e-10, atol=1e-9)


@pytest.mark.parametrize("backend", ENGINES)
@pytest.mark.parametrize("shape", [(1, 1), (13, 7), (300, 257), (0, 4)])
def test_cos_sin_matches_numpy(backend, shape):
    P = np.random.default_rng(shape[1]).uniform(-50, 50, size=shape)
    with kernlearn.config_context(backend=backend):
        out = cos_sin(P, 0.3)
    out = out.get() if hasattr(out, "get") else out
    ref = 0.3 * np.hstack([np.cos(P), np.sin(P)])
    np.testing.assert_allclose(out, ref, rtol=0, atol=1e-15)


@pytest.mark.parametrize("backend", CPU)
def test_cos_sin_out_and_float32_input(backend):
    P = np.linspace(-3, 3, 12, dtype=np.float32).reshape(3, 4)
    out = np.zeros((3, 10))
    cos_sin(P, out=out[:, 1:9], backend=backend)
    P64 = P.astype(np.float64)
    np.testing.assert_allclose(
        out[:, 1:9], np.hstack([np.cos(P64), np.sin(P64)]), atol=1e-15
    )
    assert np.all(out[:, [0, 9]] == 0.0)


def test_fwht_reference_matches_scipy():
    a = np.random.default_rng(4).normal(size=(3, 256))
    np.testing.assert_allclose(fwht(a), a @ hadamard(256).T, atol=1e-10)


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "X, diag, n_out, match",
    [
        (np.ones((2, 5)), np.ones((1, 4, 4)), None, "at least n_features=5"),
        (np.ones((2, 3)), np.ones((1, 4, 6)), None, "power of two"),
        (np.ones((2, 3)), np.ones((4, 4)), None, r"shape \(n_blocks, m \+ 1, p\)"),
        (np.ones((2, 3)), np.ones((1, 0, 4)), None, r"shape \(n_blocks, m \+ 1, p\)"),
        (
            np.ones((2, 3)),
            np.ones((2, 4, 4)),
            9,
            r"n_out must be in \[0, n_blocks \* p\]",
        ),
        (np.ones(3), np.ones((1, 4, 4)), None, "X must be 2-D"),
    ],
)
def test_hadamard_chain_errors_name_the_parameter(X, diag, n_out, match):
    with pytest.raises(ValueError, match=match):
        hadamard_chain(X, diag, n_out)


def test_out_of_the_wrong_shape_or_dtype_is_refused():
    with pytest.raises(
        ValueError, match=r"out must be a float64 array of shape \(2, 6\)"
    ):
        cos_sin(np.ones((2, 3)), out=np.empty((2, 5)))
    with pytest.raises(ValueError, match="out must be a float64"):
        cos_sin(np.ones((2, 3)), out=np.empty((2, 6), dtype=np.float32))
    with pytest.raises(
        ValueError, match=r"out must be a float64 array of shape \(2, 4\)"
    ):
        hadamard_chain(np.ones((2, 3)), np.ones((1, 2, 4)), out=np.empty((2, 3)))


def test_unknown_backend_is_refused():
    with pytest.raises(ValueError, match="backend must be one of"):
        cos_sin(np.ones((2, 2)), backend="fortran")


@pytest.mark.skipif(_GPU_SKIP is None, reason="cupy is usable here")
def test_cupy_backend_without_cupy_names_the_extra():
    with pytest.raises(ImportError, match=r"kernlearn\[gpu\]"):
        cos_sin(np.ones((2, 2)), backend="cupy")


def test_keops_backend_runs_the_cpu_kernels():
    P = np.ones((3, 2))
    np.testing.assert_allclose(
        cos_sin(P, backend="keops"), cos_sin(P, backend="numpy"), atol=1e-15
    )
