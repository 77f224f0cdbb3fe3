"""The cupy engine against the numpy reference (see conformance.py).

The conformance class runs only where cupy imports and sees a CUDA device; it feeds
CuPy arrays in and checks that CuPy arrays come back. Elsewhere it skips with the
engine's reason, and the missing-engine error is tested instead.
"""

import numpy as np
import pytest

from kernlearn.backend import _load_engine, kernel_matrix, kernel_sum, kernel_topk
from kernlearn.kernels import Gaussian

from .conformance import EngineConformance

try:
    _load_engine("cupy")
    _SKIP = None
except ImportError as exc:
    _SKIP = str(exc)

needs_gpu = pytest.mark.skipif(_SKIP is not None, reason=str(_SKIP))


@pytest.mark.gpu
@needs_gpu
class TestCupy(EngineConformance):
    backend = "cupy"

    def _put(self, arr):
        import cupy

        return cupy.asarray(arr)

    def _get(self, arr):
        import cupy

        assert isinstance(arr, cupy.ndarray), "device input must give device output"
        return cupy.asnumpy(arr)


@pytest.mark.gpu
@needs_gpu
class TestCupyHostArrays:
    """NumPy inputs with backend="cupy" run on the device and come back as NumPy."""

    def test_numpy_in_numpy_out(self):
        rng = np.random.default_rng(0)
        X, Y = rng.normal(size=(20, 3)), rng.normal(size=(30, 3))
        kernel = Gaussian(1.2)
        K = kernel_matrix(kernel, X, Y, backend="cupy")
        assert isinstance(K, np.ndarray)
        np.testing.assert_allclose(K, kernel(X, Y), rtol=1e-10, atol=1e-12)
        s = kernel_sum(kernel, X, Y, backend="cupy")
        assert isinstance(s, np.ndarray)
        np.testing.assert_allclose(s, kernel(X, Y).sum(axis=1), rtol=1e-10)
        vals, idx = kernel_topk(kernel, X, Y, 3, backend="cupy")
        assert isinstance(vals, np.ndarray) and idx.dtype == np.int64

    def test_kernel_without_spec_stays_on_device(self):
        import cupy
        from sklearn.gaussian_process.kernels import RBF

        rng = np.random.default_rng(1)
        X, Y = rng.normal(size=(15, 2)), rng.normal(size=(12, 2))
        got = kernel_sum(RBF(0.7), cupy.asarray(X), cupy.asarray(Y), backend="cupy")
        assert isinstance(got, cupy.ndarray)
        np.testing.assert_allclose(
            cupy.asnumpy(got), RBF(0.7)(X, Y).sum(axis=1), rtol=1e-10
        )


@pytest.mark.skipif(_SKIP is None, reason="cupy engine is usable here")
def test_missing_cupy_names_the_extra():
    X = np.zeros((2, 1))
    with pytest.raises(ImportError, match=r"kernlearn\[gpu\]") as info:
        kernel_sum(Gaussian(1.0), X, backend="cupy")
    assert "cupy" in str(info.value)
