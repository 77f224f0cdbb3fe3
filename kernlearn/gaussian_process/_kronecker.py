"""Exact Gaussian-process regression on Cartesian grids (Kronecker algebra).

On an ``n_1 x ... x n_D`` grid with a product kernel ``k(x, x') = prod_d
k_d(x_d, x'_d)`` the covariance of the grid values is ``K = K_1 (x) ... (x)
K_D``. With ``K_d = Q_d diag(l_d) Q_d^T`` the eigenvectors of ``K + s^2 I`` are
``Q = (x)_d Q_d`` and its eigenvalues ``(x)_d l_d + s^2``, so the exact log
marginal likelihood, its gradient and the predictions cost ``O(sum_d n_d^3 + N
sum_d n_d)`` for ``N = prod_d n_d`` cells instead of ``O(N^3)`` (Saatci 2011;
Wilson, Gilboa, Nehorai & Cunningham 2014):

- ``alpha = Q diag(1 / (l + s^2)) Q^T y`` by mode products (:mod:`._kron`);
- ``log det = sum log(l + s^2)``;
- ``d/dtheta`` of an axis-``d`` hyperparameter: ``dK = K_1 (x) .. dK_d .. (x)
  K_D``, so ``alpha^T dK alpha`` is one more Kronecker product and ``tr((K +
  s^2 I)^{-1} dK) = sum (l + s^2)^{-1} (x)_j c_j`` with ``c_j = l_j`` off axis
  ``d`` and ``c_d = diag(Q_d^T dK_d Q_d)``;
- the cross-covariance of a test point with the grid is itself a Kronecker
  product of per-axis vectors, so its mean and variance cost ``O(N)`` each,
  and a whole test grid ``O(N* sum_d n_d)``.

A grid with missing cells stays on the grid path with exact masked formulas
(the Schur complement of the missing cells, see ``_lml_grid``) while they cost
less than the dense ones; inputs that are no grid (repeated points, scattered
data) are fitted exactly by the dense Cholesky formulas on the observed points
(``algorithm="auto"``), with the same per-axis kernels.
"""

from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np
from scipy.linalg import cho_solve, cholesky
from scipy.optimize import minimize
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context, clone
from sklearn.gaussian_process.kernels import ConstantKernel, Kernel
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from .._config import get_config
from ..kernels import Gaussian
from ._kron import contract_rows, kron_diag, kron_mv

_LOG_2PI = math.log(2.0 * math.pi)


def detect_grid(X):
    """Per-axis coordinates of the grid spanned by ``X`` and each row's cell.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)

    Returns
    -------
    axes : list of ndarray
        Sorted distinct values of each column.
    cells : ndarray of shape (n_samples,)
        Flat (C-order) index of each row's grid cell.
    complete : bool
        Whether the rows are every cell of the grid exactly once.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0, 1.0], [0.0, 2.0], [1.0, 1.0], [1.0, 2.0]])[::-1]
    >>> axes, cells, complete = detect_grid(X)
    >>> [a.tolist() for a in axes], cells.tolist(), complete
    ([[0.0, 1.0], [1.0, 2.0]], [3, 2, 1, 0], True)
    """
    axes = [np.unique(X[:, d]) for d in range(X.shape[1])]
    shape = tuple(len(a) for a in axes)
    n_cells = math.prod(shape)
    if n_cells > np.iinfo(np.int64).max // 2:
        return axes, None, False
    idx = tuple(np.searchsorted(a, X[:, d]) for d, a in enumerate(axes))
    cells = np.ravel_multi_index(idx, shape)
    complete = len(cells) == n_cells and np.unique(cells).size == n_cells
    return axes, cells, complete


class KroneckerGaussianProcessRegressor(RegressorMixin, BaseEstimator):
    """Exact Gaussian-process regression with a product kernel on a grid.

    The kernel is a product of one kernel per input dimension; when the
    training inputs form a complete Cartesian grid the posterior, the log
    marginal likelihood and its gradient are computed exactly with Kronecker
    algebra in ``O(sum_d n_d^3 + N sum_d n_d)`` (a 96^3 grid of 884,736 points
    fits on a laptop); ``|M|`` missing cells add ``O(|M| N sum_d n_d + N
    |M|^2)`` (exact masked formulas); scattered inputs use the dense formulas
    on the observed points. Hyperparameters (per-axis kernels and the noise
    variance) are learnt by maximising the log marginal likelihood with
    L-BFGS-B and restarts.

    Parameters
    ----------
    kernels : kernel, list of kernels or None, default=None
        The per-axis kernels (scikit-learn kernel protocol, evaluated on one
        column each). A single kernel is cloned for every axis; ``None`` uses
        ``ConstantKernel(1.0) * Gaussian(1.0)`` on the first axis and
        ``Gaussian(1.0)`` on the others (one amplitude: the product of several
        would not be identifiable).
    noise_variance : float, default=1e-2
        Variance of the observation noise (on ``y`` after ``normalize_y``).
    noise_variance_bounds : pair of floats or "fixed", default=(1e-10, 1e2)
        Bounds of the noise variance in the optimisation; ``"fixed"`` keeps it.
    optimizer : "fmin_l_bfgs_b" or None, default="fmin_l_bfgs_b"
        ``None`` keeps the given hyperparameters.
    n_restarts_optimizer : int, default=0
        Further optimisations from log-uniform draws within the bounds.
    normalize_y : bool, default=False
        Centre and scale each target before fitting (undone in ``predict``).
    algorithm : {"auto", "kronecker", "dense"}, default="auto"
        ``"kronecker"`` needs the rows to be distinct cells of the grid they
        span (missing cells allowed, within ``working_memory``); ``"auto"``
        takes it when it is cheaper than the dense Cholesky formulas (a
        complete grid always is), which it uses otherwise.
    random_state : int, RandomState instance or None, default=None
        Seeds the restarts.

    Attributes
    ----------
    kernels_ : list of kernels
        Per-axis kernels with the learnt hyperparameters.
    noise_variance_ : float
    log_marginal_likelihood_value_ : float
    algorithm_ : {"kronecker", "dense"}
    grid_axes_ : list of ndarray
        Grid coordinates per axis (``"kronecker"`` only).
    alpha_ : ndarray
        ``(K + s^2 I)^{-1} y``: a grid tensor of shape ``(n_1, ..., n_D, m)``
        with zeros on missing cells (``"kronecker"``) or of shape
        ``(n_samples, m)`` (``"dense"``).
    n_features_in_ : int

    See Also
    --------
    sklearn.gaussian_process.GaussianProcessRegressor : The dense model.

    References
    ----------
    .. [1] Y. Saatci, "Scalable inference for structured Gaussian process
       models", PhD thesis, University of Cambridge, 2011.
    .. [2] A. G. Wilson, E. Gilboa, A. Nehorai and J. P. Cunningham, "Fast
       kernel learning for multidimensional pattern extrapolation", NeurIPS
       2014.

    Examples
    --------
    >>> import numpy as np
    >>> from kernlearn.gaussian_process import KroneckerGaussianProcessRegressor
    >>> g = np.linspace(0, 1, 20)
    >>> X = np.stack(np.meshgrid(g, g, indexing="ij"), -1).reshape(-1, 2)
    >>> y = np.sin(6 * X[:, 0]) * np.cos(4 * X[:, 1])
    >>> gp = KroneckerGaussianProcessRegressor().fit(X, y)  # learns the noise too
    >>> gp.algorithm_, round(float(gp.predict([[0.5, 0.5]])[0]), 4)
    ('kronecker', -0.0587)
    >>> round(float(np.sin(3.0) * np.cos(2.0)), 4)  # the truth
    -0.0587
    """

    _parameter_constraints: dict = {
        "kernels": [Kernel, list, tuple, None],
        "noise_variance": [Interval(Real, 0, None, closed="neither")],
        "noise_variance_bounds": [tuple, StrOptions({"fixed"})],
        "optimizer": [StrOptions({"fmin_l_bfgs_b"}), None],
        "n_restarts_optimizer": [Interval(Integral, 0, None, closed="left")],
        "normalize_y": ["boolean"],
        "algorithm": [StrOptions({"auto", "kronecker", "dense"})],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        kernels=None,
        *,
        noise_variance=1e-2,
        noise_variance_bounds=(1e-10, 1e2),
        optimizer="fmin_l_bfgs_b",
        n_restarts_optimizer=0,
        normalize_y=False,
        algorithm="auto",
        random_state=None,
    ):
        self.kernels = kernels
        self.noise_variance = noise_variance
        self.noise_variance_bounds = noise_variance_bounds
        self.optimizer = optimizer
        self.n_restarts_optimizer = n_restarts_optimizer
        self.normalize_y = normalize_y
        self.algorithm = algorithm
        self.random_state = random_state

    # ------------------------------------------------------------ set-up
    def _axis_kernels(self, n_axes):
        k = self.kernels
        if k is None:
            return [ConstantKernel(1.0) * Gaussian(1.0)] + [
                Gaussian(1.0) for _ in range(n_axes - 1)
            ]
        if isinstance(k, Kernel):
            return [clone(k) for _ in range(n_axes)]
        if len(k) != n_axes:
            raise ValueError(
                f"kernels has {len(k)} entries but X has {n_axes} features; pass "
                "one kernel per feature (or a single kernel for all)."
            )
        for i, ki in enumerate(k):
            if not isinstance(ki, Kernel):
                raise TypeError(
                    f"kernels[{i}] is a {type(ki).__name__}, not a kernel; use "
                    "kernlearn.kernels or sklearn.gaussian_process.kernels."
                )
        return [clone(ki) for ki in k]

    def _noise_fixed(self):
        return isinstance(self.noise_variance_bounds, str)

    def _pack(self, kernels, noise):
        parts = [k.theta for k in kernels]
        if not self._noise_fixed():
            parts.append(np.array([math.log(noise)]))
        return np.concatenate(parts) if parts else np.zeros(0)

    def _unpack(self, theta, kernels, noise):
        out, i = [], 0
        for k in kernels:
            p = k.n_dims
            out.append(k.clone_with_theta(theta[i : i + p]))
            i += p
        if not self._noise_fixed():
            noise = math.exp(theta[i])
        return out, noise

    def _bounds(self, kernels):
        rows = [k.bounds for k in kernels if k.n_dims]
        if not self._noise_fixed():
            lo, hi = self.noise_variance_bounds
            if not 0 < lo <= hi:
                raise ValueError(
                    "noise_variance_bounds must be (low, high) with 0 < low <= "
                    f"high, or 'fixed'; got {self.noise_variance_bounds!r}."
                )
            rows.append(np.log([[lo, hi]]))
        return np.vstack(rows) if rows else np.zeros((0, 2))

    # ------------------------------------------------------------ likelihood
    def _lml_grid(self, kernels, noise, axes, Yt, eval_gradient, missing=None):
        """Log marginal likelihood on a grid (and its gradient).

        ``missing`` (flat indices of unobserved cells, whose entries of ``Yt``
        are 0) selects the exact masked formulas: with ``A = K + s^2 I`` on the
        whole grid and ``B = A^{-1} E_M``, the inverse covariance of the
        observed cells embedded in the grid is ``F = A^{-1} - B (E_M^T B)^{-1}
        B^T`` (zero on the missing rows and columns), ``log det(K_OO + s^2 I) =
        log det A + log det(E_M^T B)``, and ``tr(F dK) = tr(A^{-1} dK) -
        tr((E_M^T B)^{-1} B^T dK B)``: ``O(|M| N sum_d n_d + N |M|^2)``.
        """
        m = Yt.shape[-1]
        Ks, dKs, lams, Qs = [], [], [], []
        for k, x in zip(kernels, axes, strict=True):
            if eval_gradient:
                K, dK = k(x[:, None], eval_gradient=True)
                dKs.append(dK)
            else:
                K = k(x[:, None])
            lam, Q = np.linalg.eigh(K)
            Ks.append(K)
            lams.append(lam)
            Qs.append(Q)
        lam = kron_diag(lams)
        s = lam + noise
        if not np.all(s > 0):
            raise np.linalg.LinAlgError("K + noise I is not positive definite.")
        w = 1.0 / s
        QTs = [Q.T for Q in Qs]

        def solve(T):  # A^{-1} on grid tensors
            return kron_mv(Qs, kron_mv(QTs, T) * w[..., None])

        alpha = solve(Yt)
        logdet = float(np.log(s).sum())
        n_obs = lam.size
        state = dict(Qs=Qs, w=w)
        if missing is not None and len(missing):
            n_miss = len(missing)
            E = np.zeros((lam.size, n_miss))
            E[missing, np.arange(n_miss)] = 1.0
            B = solve(E.reshape(lam.shape + (n_miss,))).reshape(lam.size, n_miss)
            del E
            Lb = cholesky(B[missing], lower=True, check_finite=False)
            G = cho_solve((Lb, True), np.eye(n_miss), check_finite=False)
            flat = np.array(alpha.reshape(lam.size, m))  # mode products: strided
            flat -= B @ cho_solve((Lb, True), flat[missing], check_finite=False)
            flat[missing] = 0.0  # exactly zero in exact arithmetic
            alpha = flat.reshape(alpha.shape)
            logdet += 2.0 * float(np.log(np.diag(Lb)).sum())
            n_obs -= n_miss
            state.update(B=B, G=G)
        lml = -0.5 * float(np.sum(Yt * alpha)) - 0.5 * m * logdet
        lml -= 0.5 * n_obs * m * _LOG_2PI
        state["alpha"] = alpha
        if not eval_gradient:
            return lml, None, state
        B, G = state.get("B"), state.get("G")
        grad = []
        for d, dK in enumerate(dKs):
            for p in range(dK.shape[2]):
                mats = list(Ks)
                mats[d] = dK[:, :, p]
                data = float(np.sum(alpha * kron_mv(mats, alpha)))
                diag = list(lams)
                diag[d] = np.sum(Qs[d] * (dK[:, :, p] @ Qs[d]), axis=0)
                trace = float(np.sum(w * kron_diag(diag)))
                if B is not None:
                    dKB = kron_mv(mats, B.reshape(lam.shape + (-1,)))
                    trace -= float(np.sum(G * (B.T @ dKB.reshape(lam.size, -1))))
                grad.append(0.5 * data - 0.5 * m * trace)
        if not self._noise_fixed():
            trace = float(w.sum())
            if B is not None:
                trace -= float(np.sum(G * (B.T @ B)))
            grad.append(0.5 * noise * (float(np.sum(alpha * alpha)) - m * trace))
        return lml, np.array(grad), state

    @staticmethod
    def _product_kernel(kernels, X, Y=None, eval_gradient=False):
        """Dense product kernel on the columns of ``X`` (and its gradient)."""
        Ks, dKs = [], []
        for d, k in enumerate(kernels):
            xd = X[:, d : d + 1]
            if eval_gradient:
                K, dK = k(xd, eval_gradient=True)
                dKs.append(dK)
            else:
                K = k(xd) if Y is None else k(xd, Y[:, d : d + 1])
            Ks.append(K)
        K = np.prod(Ks, axis=0)
        if not eval_gradient:
            return K, None
        grads = []
        for d, dK in enumerate(dKs):
            rest = np.prod([Ks[j] for j in range(len(Ks)) if j != d], axis=0)
            grads.append(dK * np.asarray(rest)[:, :, None])
        return K, np.concatenate(grads, axis=2) if grads else None

    def _lml_dense(self, kernels, noise, X, Y, eval_gradient):
        n, m = Y.shape
        K, dK = self._product_kernel(kernels, X, eval_gradient=eval_gradient)
        K[np.diag_indices(n)] += noise
        L = cholesky(K, lower=True, check_finite=False)
        alpha = cho_solve((L, True), Y, check_finite=False)
        lml = -0.5 * float(np.sum(Y * alpha)) - m * float(np.log(np.diag(L)).sum())
        lml -= 0.5 * n * m * _LOG_2PI
        state = dict(alpha=alpha, L=L)
        if not eval_gradient:
            return lml, None, state
        C = cho_solve((L, True), np.eye(n), check_finite=False)
        AA = alpha @ alpha.T
        grad = []
        if dK is not None:
            grad = list(0.5 * np.einsum("ij,ijp->p", AA - m * C, dK))
        if not self._noise_fixed():
            grad.append(0.5 * noise * (float(np.trace(AA)) - m * float(np.trace(C))))
        return lml, np.array(grad), state

    def _lml(self, theta, kernels0, noise0, data, eval_gradient):
        kernels, noise = self._unpack(theta, kernels0, noise0)
        if data["algorithm"] == "kronecker":
            return self._lml_grid(
                kernels, noise, data["axes"], data["Y"], eval_gradient,
                data["missing"],
            )  # fmt: skip
        return self._lml_dense(kernels, noise, data["X"], data["Y"], eval_gradient)

    def log_marginal_likelihood(self, theta=None, eval_gradient=False):
        """Log marginal likelihood of the training data at ``theta``.

        Parameters
        ----------
        theta : array-like of shape (n_hyperparameters,), default=None
            Log hyperparameters: the per-axis kernels' ``theta`` in axis
            order, then ``log(noise_variance)`` unless it is fixed. ``None``
            returns the fitted value.
        eval_gradient : bool, default=False
            Also return the gradient with respect to ``theta``.

        Returns
        -------
        lml : float
        grad : ndarray of shape (n_hyperparameters,)
            Only with ``eval_gradient``.
        """
        check_is_fitted(self)
        if theta is None:
            if eval_gradient:
                theta = self._pack(self.kernels_, self.noise_variance_)
            else:
                return self.log_marginal_likelihood_value_
        theta = np.asarray(theta, dtype=np.float64)
        lml, grad, _ = self._lml(
            theta, self.kernels_, self.noise_variance_, self._data, eval_gradient
        )
        return (lml, grad) if eval_gradient else lml

    def _choose(self, X, axes, cells, complete, n_params):
        """``(algorithm, missing cells)``: the grid path when the rows are
        distinct cells of the grid they span and the masked formulas cost less
        than the dense ones (and fit in ``working_memory``). An evaluation with
        ``P`` hyperparameters costs the masked formulas ``~(P + 1) |M| N (sum_d
        n_d + |M|)`` and the dense ones ``~n^3``; the masked side carries
        more overhead per flop (measured: a factor ~4), so it needs to win by
        that much."""
        n = len(X)
        distinct = cells is not None and np.unique(cells).size == n
        missing = None
        feasible = complete
        if distinct and not complete:
            n_cells = math.prod(len(a) for a in axes)
            n_miss = n_cells - n
            budget = get_config()["working_memory"] * 2**20 / 8
            cost = (n_params + 1) * n_miss * n_cells * (sum(map(len, axes)) + n_miss)
            cheaper = 4.0 * cost < float(n) ** 3 or self.algorithm == "kronecker"
            if 3 * n_miss * n_cells <= budget and cheaper:
                feasible = True
                missing = np.setdiff1d(np.arange(n_cells), cells)
        if self.algorithm == "kronecker" and not feasible:
            why = (
                "repeated points"
                if not distinct
                else "too many missing cells for the masked formulas in working_memory"
            )
            raise ValueError(
                f"algorithm='kronecker' cannot take these {n} rows ({why}: they "
                f"span a {'x'.join(str(len(a)) for a in axes)} grid). Use "
                "algorithm='auto' (dense formulas)."
            )
        if self.algorithm == "dense" or not feasible or n < 2:
            return "dense", None
        return "kronecker", missing

    # ------------------------------------------------------------ fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Fit the Gaussian process (and its hyperparameters).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs; a complete Cartesian grid (in any row order) takes the
            Kronecker path.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)

        Returns
        -------
        self : KroneckerGaussianProcessRegressor
        """
        X, y = validate_data(
            self, X, y, multi_output=True, y_numeric=True, dtype=np.float64
        )
        Y = y.reshape(len(y), -1) if y.ndim == 1 else y
        if self.normalize_y:
            self._y_mean = Y.mean(axis=0)
            std = Y.std(axis=0)
            self._y_std = np.where(std > 0, std, 1.0)
        else:
            self._y_mean = np.zeros(Y.shape[1])
            self._y_std = np.ones(Y.shape[1])
        Y = (Y - self._y_mean) / self._y_std
        axes, cells, complete = detect_grid(X)
        kernels = self._axis_kernels(X.shape[1])
        n_params = sum(k.n_dims for k in kernels) + 1
        algorithm, missing = self._choose(X, axes, cells, complete, n_params)
        if algorithm == "kronecker":
            shape = tuple(len(a) for a in axes)
            Yg = np.zeros((math.prod(shape), Y.shape[1]))
            Yg[cells] = Y
            data = dict(
                algorithm=algorithm,
                axes=axes,
                Y=Yg.reshape(shape + (-1,)),
                missing=missing,
            )
        else:
            data = dict(algorithm=algorithm, X=X, Y=Y)
        noise = float(self.noise_variance)
        theta0 = self._pack(kernels, noise)
        if self.optimizer is not None and theta0.size:
            bounds = self._bounds(kernels)

            def obj(theta):
                try:
                    lml, grad, _ = self._lml(theta, kernels, noise, data, True)
                except np.linalg.LinAlgError:
                    return np.inf, np.zeros_like(theta)
                return -lml, -grad

            rng = check_random_state(self.random_state)
            starts = [theta0] + [
                rng.uniform(bounds[:, 0], bounds[:, 1])
                for _ in range(self.n_restarts_optimizer)
            ]
            best = None
            for start in starts:
                res = minimize(obj, start, jac=True, method="L-BFGS-B", bounds=bounds)
                if best is None or res.fun < best.fun:
                    best = res
            if not np.isfinite(best.fun):
                raise ValueError(
                    "the kernel matrix plus noise is not positive definite at any "
                    "hyperparameter tried; raise noise_variance (or its lower "
                    "bound)."
                )
            theta0 = best.x
        kernels, noise = self._unpack(theta0, kernels, noise)
        try:
            lml, _, state = self._lml(theta0, kernels, noise, data, False)
        except np.linalg.LinAlgError as exc:
            raise ValueError(
                "the kernel matrix plus noise_variance is not positive definite; "
                "raise noise_variance."
            ) from exc
        self.kernels_ = kernels
        self.noise_variance_ = noise
        self.algorithm_ = algorithm
        self.log_marginal_likelihood_value_ = lml
        self.alpha_ = state["alpha"]
        self._state = state
        self._data = data
        self._y_1d = y.ndim == 1
        if algorithm == "kronecker":
            self.grid_axes_ = axes
        else:
            self._X_train = X
        return self

    # ------------------------------------------------------------ predict
    def _block_rows(self, n_test):
        """Test rows per block: the largest intermediate (``b N / n_1`` grid
        entries, or ``b n_train``) within ``working_memory``."""
        if self.algorithm_ == "kronecker":
            per_row = 2 * self.alpha_.size // len(self.grid_axes_[0])
        else:
            per_row = 2 * len(self._X_train)
        budget = get_config()["working_memory"] * 2**20 / 8
        return int(max(1, min(n_test, budget // max(per_row, 1))))

    def predict(self, X, return_std=False):
        """Posterior mean (and standard deviation) at ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        return_std : bool, default=False
            Also return the posterior standard deviation of the latent
            function (without the noise).

        Returns
        -------
        y_mean : ndarray of shape (n_samples,) or (n_samples, n_targets)
        y_std : ndarray of the same shape
            Only with ``return_std``.
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        mean = np.empty((len(X), self.alpha_.shape[-1]))
        var = np.empty(len(X)) if return_std else None
        step = self._block_rows(len(X))
        for lo in range(0, len(X), step):
            blk = X[lo : lo + step]
            mean[lo : lo + step], v = self._predict_block(blk, return_std)
            if return_std:
                var[lo : lo + step] = v
        mean = mean * self._y_std + self._y_mean
        if self._y_1d:
            mean = mean[:, 0]
        if not return_std:
            return mean
        std = np.sqrt(np.maximum(var, 0.0))
        std = std[:, None] * self._y_std[None, :]
        return mean, (std[:, 0] if self._y_1d else std)

    def _predict_block(self, X, return_std):
        prior = None
        if return_std:
            prior = np.prod(
                [k.diag(X[:, d : d + 1]) for d, k in enumerate(self.kernels_)], axis=0
            )
        if self.algorithm_ == "dense":
            Ks, _ = self._product_kernel(self.kernels_, X, self._X_train)
            mean = Ks @ self.alpha_
            if not return_std:
                return mean, None
            V = cho_solve((self._state["L"], True), Ks.T, check_finite=False)
            return mean, prior - np.einsum("ij,ji->i", Ks, V)
        rows = [
            k(X[:, d : d + 1], a[:, None])
            for d, (k, a) in enumerate(zip(self.kernels_, self.grid_axes_, strict=True))
        ]
        mean = contract_rows(rows, self.alpha_)
        if not return_std:
            return mean, None
        U2 = [(R @ Q) ** 2 for R, Q in zip(rows, self._state["Qs"], strict=True)]
        reduce = contract_rows(U2, self._state["w"][..., None])[:, 0]
        if "B" in self._state:  # masked grid: + (B^T k)^T G (B^T k)
            B = self._state["B"]
            u = contract_rows(rows, B.reshape(self.alpha_.shape[:-1] + (-1,)))
            reduce -= np.einsum("bi,ij,bj->b", u, self._state["G"], u)
        return mean, prior - reduce

    def predict_grid(self, axes, return_std=False):
        """Posterior mean (and std) on the grid ``axes[0] x ... x axes[D-1]``.

        Kronecker algebra throughout: ``O(N* sum_d n_d)`` for ``N*`` test
        cells (``predict`` on arbitrary points costs ``O(N)`` per point).

        Parameters
        ----------
        axes : sequence of array-like
            Test coordinates per axis.
        return_std : bool, default=False

        Returns
        -------
        y_mean : ndarray of shape (p_1, ..., p_D) or (p_1, ..., p_D, n_targets)
        y_std : ndarray of the same shape
            Only with ``return_std``.
        """
        check_is_fitted(self)
        if self.algorithm_ != "kronecker":
            raise ValueError(
                "predict_grid needs a model fitted on a complete grid "
                f"(algorithm_={self.algorithm_!r}); use predict on the points."
            )
        axes = [np.asarray(a, dtype=np.float64).ravel() for a in axes]
        if len(axes) != len(self.kernels_):
            raise ValueError(
                f"axes has {len(axes)} entries; the model has {len(self.kernels_)}."
            )
        cross = [
            k(a[:, None], g[:, None])
            for k, a, g in zip(self.kernels_, axes, self.grid_axes_, strict=True)
        ]
        mean = kron_mv(cross, self.alpha_) * self._y_std + self._y_mean
        if self._y_1d:
            mean = mean[..., 0]
        if not return_std:
            return mean
        prior = kron_diag(
            [k.diag(a[:, None]) for k, a in zip(self.kernels_, axes, strict=True)]
        )
        U2 = [(R @ Q) ** 2 for R, Q in zip(cross, self._state["Qs"], strict=True)]
        var = prior - kron_mv(U2, self._state["w"][..., None])[..., 0]
        if "B" in self._state:  # masked grid
            B = self._state["B"].reshape(self.alpha_.shape[:-1] + (-1,))
            u = kron_mv(cross, B)
            var += np.einsum("...i,ij,...j->...", u, self._state["G"], u)
        std = np.sqrt(np.maximum(var, 0.0))[..., None] * self._y_std
        return mean, (std[..., 0] if self._y_1d else std)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
