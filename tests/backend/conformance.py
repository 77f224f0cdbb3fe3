"""Engine conformance suite: every engine subclasses :class:`EngineConformance`.

Each primitive is checked against the dense numpy reference (kernel values from
``kernel(X, Y)`` of the kernel object, and float64 sums) for every kernel family,
float32 and float64, edge shapes (n=1, m=1, d=1, d=300), non-contiguous and
Fortran-ordered inputs, and weights as a vector and as a matrix.

Tolerances: float64 engines must agree to ``RTOL64 = 1e-10`` relative (the only
differences are summation order and, for large d, distances from GEMM tiles whose
cancellation error is ~d * eps); float32 engines to ``RTOL32 = 2e-4`` relative to
the largest term (float32 eps = 1.2e-7, times the sqrt(d)-to-d growth of distance
errors at d <= 300 and the argument of exp up to ~30).
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

from kernlearn import kernels as K
from kernlearn.backend import (
    kernel_logsumexp,
    kernel_matrix,
    kernel_sum,
    kernel_topk,
)

RTOL64 = 1e-10
RTOL32 = 2e-4


def kernel_cases():
    """One kernel object per family the engines must run (id, kernel, scale)."""
    return [
        ("gaussian", K.Gaussian(1.3)),
        ("gaussian_aniso", K.Gaussian(np.array([0.7, 1.1, 2.0]))),
        ("gaussian_amp", 2.5 * K.Gaussian(0.9)),
        ("laplacian", K.Laplacian(1.7)),
        ("l1_laplacian", K.L1Laplacian(2.0)),
        ("matern12", K.Matern(1.2, nu=0.5)),
        ("matern32", K.Matern(1.2, nu=1.5)),
        ("matern52", K.Matern(1.2, nu=2.5)),
        ("matern_general", K.Matern(1.2, nu=3.7)),
        ("rational_quadratic", K.RationalQuadratic(1.4, alpha=0.8)),
        ("cauchy", K.Cauchy(1.1)),
        ("epanechnikov", K.Epanechnikov(2.5)),
        ("tophat", K.Tophat(2.5)),
        ("triangular", K.Triangular(2.5)),
        ("cosine", K.Cosine(2.5)),
        ("polynomial", K.Polynomial(degree=3, gamma=0.3, coef0=1.0)),
        ("linear", K.Linear(sigma_0=0.5)),
    ]


CASES = kernel_cases()
CASE_IDS = [c[0] for c in CASES]
SIGNED = {"polynomial", "linear"}


def _data(n, m, d, dtype, seed=0, order="C"):
    rng = np.random.default_rng(seed)
    # Spread comparable to the length scales so no family is all-zero or all-one.
    X = rng.normal(scale=0.8, size=(n, d)).astype(dtype)
    Y = rng.normal(scale=0.8, size=(m, d)).astype(dtype)
    if order == "F":
        X, Y = np.asfortranarray(X), np.asfortranarray(Y)
    return X, Y


def _adapt(kernel, d):
    """Give anisotropic kernels a length scale per feature for dimension d."""
    ls = getattr(kernel, "length_scale", None)
    if ls is not None and np.ndim(ls) == 1 and len(ls) != d:
        kernel = kernel.clone_with_theta(kernel.theta)  # copy
        kernel.length_scale = np.linspace(0.7, 2.0, d)
    return kernel


def _scale_for_d(kernel, d):
    """Grow stationary length scales like sqrt(d) so values stay O(1) at large d."""
    if d <= 3:
        return kernel
    return kernel.clone_with_theta(
        kernel.theta + 0.5 * np.log(d / 3.0) * _ls_mask(kernel)
    )


def _ls_mask(kernel):
    return np.array(
        [
            h.name.endswith("length_scale")
            for h in kernel.hyperparameters
            for _ in range(h.n_elements)
            if not h.fixed
        ],
        dtype=float,
    )


def reference_matrix(kernel, X, Y):
    return np.asarray(kernel(X.astype(np.float64), Y.astype(np.float64)))


class EngineConformance:
    """Subclass with ``backend = "<engine>"``; optionally ``dtypes``."""

    backend: str = ""
    dtypes = (np.float64, np.float32)

    def rtol(self, dtype):
        return RTOL64 if dtype == np.float64 else RTOL32

    def _check_close(self, got, ref, dtype, scale=None):
        got = np.asarray(got, dtype=np.float64)
        ref = np.asarray(ref, dtype=np.float64)
        assert got.shape == ref.shape
        if scale is None:
            scale = np.max(np.abs(ref), axis=-1, keepdims=True) if ref.ndim else 1.0
        scale = np.maximum(scale, np.finfo(np.float64).tiny)
        err = np.abs(got - ref) / scale
        assert np.all(err <= self.rtol(dtype)), f"max rel err {np.max(err):.3g}"

    def _get(self, arr):
        return np.asarray(arr)

    def _put(self, arr):
        return arr

    # ------------------------------------------------------------------ sums
    @pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
    @pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
    @pytest.mark.parametrize(
        "n,m,d", [(37, 53, 3), (1, 40, 3), (40, 1, 3), (30, 25, 1), (20, 30, 300)]
    )
    def test_kernel_sum(self, case, dtype, n, m, d):
        if dtype not in self.dtypes:
            pytest.skip(f"{self.backend} does not run {np.dtype(dtype).name}")
        name, kernel = case
        kernel = _scale_for_d(_adapt(kernel, d), d)
        X, Y = _data(n, m, d, dtype)
        ref_K = reference_matrix(kernel, X, Y)
        rng = np.random.default_rng(1)
        w = rng.uniform(0.5, 2.0, size=m)
        W = rng.normal(size=(m, 3))
        got = self._get(
            kernel_sum(kernel, self._put(X), self._put(Y), backend=self.backend)
        )
        self._check_close(got, ref_K.sum(axis=1), dtype, np.abs(ref_K).sum(axis=1))
        got = self._get(
            kernel_sum(
                kernel, self._put(X), self._put(Y), self._put(w), backend=self.backend
            )
        )
        self._check_close(got, ref_K @ w, dtype, np.abs(ref_K) @ w)
        got = self._get(
            kernel_sum(
                kernel, self._put(X), self._put(Y), self._put(W), backend=self.backend
            )
        )
        assert got.shape == (n, 3)
        self._check_close(got, ref_K @ W, dtype, (np.abs(ref_K) @ np.abs(W)))
        assert got.dtype == (np.float32 if dtype == np.float32 else np.float64)

    @pytest.mark.parametrize("case", CASES[:5], ids=CASE_IDS[:5])
    @pytest.mark.parametrize("layout", ["F", "strided"])
    def test_layouts(self, case, layout):
        _, kernel = case
        X, Y = _data(31, 29, 3, np.float64, order="F" if layout == "F" else "C")
        if layout == "strided":
            X = np.repeat(X, 2, axis=0)[::2]
            Y = np.asfortranarray(np.repeat(Y, 2, axis=1))[:, ::2]
            assert not X.flags.c_contiguous or not Y.flags.c_contiguous
        ref_K = reference_matrix(kernel, X, Y)
        got = self._get(
            kernel_sum(kernel, self._put(X), self._put(Y), backend=self.backend)
        )
        self._check_close(got, ref_K.sum(axis=1), np.float64, ref_K.sum(axis=1))

    # ---------------------------------------------------------------- matrix
    @pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
    @pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
    def test_kernel_matrix(self, case, dtype):
        if dtype not in self.dtypes:
            pytest.skip(f"{self.backend} does not run {np.dtype(dtype).name}")
        _, kernel = case
        X, Y = _data(23, 17, 3, dtype)
        ref_K = reference_matrix(kernel, X, Y)
        got = self._get(
            kernel_matrix(kernel, self._put(X), self._put(Y), backend=self.backend)
        )
        self._check_close(got, ref_K, dtype, np.max(np.abs(ref_K)))

    # ------------------------------------------------------------ logsumexp
    @pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
    @pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
    @pytest.mark.parametrize(
        "n,m,d", [(37, 53, 3), (1, 7, 1), (9, 1, 2), (20, 30, 300)]
    )
    def test_kernel_logsumexp(self, case, dtype, n, m, d):
        name, kernel = case
        if dtype not in self.dtypes:
            pytest.skip(f"{self.backend} does not run {np.dtype(dtype).name}")
        kernel = _scale_for_d(_adapt(kernel, d), d)
        X, Y = _data(n, m, d, dtype)
        if name in SIGNED:
            with pytest.raises(ValueError, match="non-negative"):
                kernel_logsumexp(
                    kernel, self._put(X), self._put(Y), backend=self.backend
                )
            return
        ref_K = reference_matrix(kernel, X, Y)
        rng = np.random.default_rng(2)
        logw = rng.normal(size=m)
        logw[0] = -np.inf
        with np.errstate(divide="ignore"):
            ref = np.log(ref_K @ np.exp(logw))
            ref0 = np.log(ref_K.sum(axis=1))
        got0 = self._get(
            kernel_logsumexp(kernel, self._put(X), self._put(Y), backend=self.backend)
        )
        got = self._get(
            kernel_logsumexp(
                kernel,
                self._put(X),
                self._put(Y),
                self._put(logw),
                backend=self.backend,
            )
        )
        for g, r in ((got0, ref0), (got, ref)):
            assert np.array_equal(np.isneginf(g), np.isneginf(r))
            fin = np.isfinite(r)
            # log-space: absolute error in the log is the relative error of the sum;
            # float32 errors in log k scale with |log k|.
            atol = self.rtol(dtype) * np.maximum(1.0, np.abs(r[fin]))
            assert np.all(np.abs(g[fin] - r[fin]) <= atol)

    @pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
    def test_logsumexp_high_dimension(self, dtype):
        """Gaussian at d=500: every term underflows, the log-sum stays exact."""
        if dtype not in self.dtypes:
            pytest.skip(f"{self.backend} does not run {np.dtype(dtype).name}")
        rng = np.random.default_rng(3)
        X = rng.normal(size=(5, 500)).astype(dtype)
        Y = rng.normal(size=(40, 500)).astype(dtype)
        s = ((X[:, None, :].astype(np.float64) - Y[None, :, :]) ** 2).sum(-1)
        ref = np.logaddexp.reduce(-0.5 * s / 0.5**2, axis=1)
        assert np.all(ref < -1000)  # the plain sum would be 0
        got = self._get(
            kernel_logsumexp(
                K.Gaussian(0.5), self._put(X), self._put(Y), backend=self.backend
            )
        )
        assert np.all(np.isfinite(got))
        np.testing.assert_allclose(got, ref, rtol=self.rtol(dtype) * 10)

    # ----------------------------------------------------------------- top-k
    @pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
    @pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
    @pytest.mark.parametrize("k", [1, 5, 40])
    def test_kernel_topk(self, case, dtype, k):
        if dtype not in self.dtypes:
            pytest.skip(f"{self.backend} does not run {np.dtype(dtype).name}")
        _, kernel = case
        X, Y = _data(33, 40, 3, dtype)
        ref_K = reference_matrix(kernel, X, Y)
        vals, idx = kernel_topk(
            kernel, self._put(X), self._put(Y), k, backend=self.backend
        )
        vals, idx = self._get(vals), self._get(idx)
        assert vals.shape == idx.shape == (33, k)
        ref_vals = -np.sort(-ref_K, axis=1)[:, :k]
        scale = np.max(np.abs(ref_K))
        self._check_close(vals, ref_vals, dtype, scale)
        # indices point at entries holding those values (ties may pick any index)
        self._check_close(
            np.take_along_axis(ref_K, idx, axis=1), ref_vals, dtype, scale
        )
        assert all(len(set(row)) == k for row in idx.tolist())
        assert np.all(np.diff(vals.astype(np.float64), axis=1) <= 0)

    @pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
    @pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
    def test_kernel_topk_many_features(self, case, dtype):
        """d=24 and more rows than one tile: engines that form distances from
        GEMM tiles (numba from 10 features on) agree with the dense reference."""
        if dtype not in self.dtypes:
            pytest.skip(f"{self.backend} does not run {np.dtype(dtype).name}")
        _, kernel = case
        ls = np.atleast_1d(getattr(kernel, "length_scale", 1.0))
        if ls.size > 1:  # anisotropic: one length scale per feature
            kernel = copy.deepcopy(kernel)  # CASES are shared by every test
            kernel.set_params(length_scale=np.resize(ls, 24))
        X, Y = _data(300, 700, 24, dtype, seed=3)
        ref_K = reference_matrix(kernel, X, Y)
        vals, idx = kernel_topk(
            kernel, self._put(X), self._put(Y), 7, backend=self.backend
        )
        vals, idx = self._get(vals), self._get(idx)
        ref_vals = -np.sort(-ref_K, axis=1)[:, :7]
        scale = np.max(np.abs(ref_K))
        self._check_close(vals, ref_vals, dtype, scale)
        self._check_close(
            np.take_along_axis(ref_K, idx, axis=1), ref_vals, dtype, scale
        )
        assert all(len(set(row)) == 7 for row in idx.tolist())
