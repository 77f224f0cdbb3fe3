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
less than the dense ones; beyond that, and with enough rows that the dense
formulas are expensive, the missing cells are given infinite noise and the
small system this leaves on them is solved by conjugate gradients, each
product one full-grid solve (``_lml_cg``); inputs that are no grid (repeated
points, scattered data) are fitted exactly by the dense Cholesky formulas on
the observed points (``algorithm="auto"``), with the same per-axis kernels.
"""

from __future__ import annotations

import math
import warnings
from numbers import Integral, Real

import numpy as np
from scipy.linalg import cho_solve, cholesky
from scipy.optimize import minimize
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context, clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.gaussian_process.kernels import ConstantKernel, Kernel
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from .._config import get_config
from ..kernels import Gaussian
from ._kron import block_cg, contract_rows, kron_diag, kron_mv, lanczos_quadrature

_LOG_2PI = math.log(2.0 * math.pi)
#: below this many rows "auto" prefers the exact dense formulas to CG
_CG_MIN_ROWS = 3000
#: Rademacher probes of the stochastic log determinant and trace estimates
_N_PROBES = 32
#: largest test grid whose std predict_grid computes on the cg path
_CG_GRID_STD_MAX = 4096


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
    |M|^2)`` (exact masked formulas) or, when there are too many of them for
    that, ``O(N sum_d n_d)`` per conjugate-gradient iteration (the ``"cg"``
    path below); scattered inputs use the dense formulas on the observed
    points. Hyperparameters (per-axis kernels and the noise variance) are
    learnt by maximising the log marginal likelihood with L-BFGS-B and
    restarts.

    **Incomplete grids by conjugate gradients** (``algorithm="cg"``; after
    Saatci 2011 and Wilson et al. 2014). With ``A = K + s^2 I`` on the whole
    grid, the observed cells' covariance ``A_O`` is the limit of ``A`` with
    infinite noise on the missing cells ``M``; its inverse is then ``A^{-1} -
    B H^{-1} B^T`` with ``B = A^{-1} E_M`` and ``H = E_M^T A^{-1} E_M``
    (``|M| x |M|``), and ``log det A_O = log det A + log det H``. The
    full-grid parts are exact (per-axis eigendecompositions); ``H`` is
    handled by block conjugate gradients on its Jacobi-scaled form, each
    product one full-grid solve ``A^{-1}`` (``O(N sum_d n_d)``, nothing of
    size ``|M| N`` stored): this is what CG on the whole grid with infinite
    noise on ``M``, preconditioned by ``A^{-1}``, reduces to. ``alpha`` is
    solved twice, the second time with the missing cells filled by the
    first solve's imputation (iterative refinement: at small noise ``B``
    amplifies CG's error by up to ``1/s^2``). Hence:

    - ``alpha_``, the predictive mean and the predictive standard deviation
      are exact up to ``cg_tol`` (each test point's variance is one more CG
      right-hand side, in blocks sized by ``working_memory``);
    - the log marginal likelihood's data-fit term is exact, but ``log det
      H`` is a stochastic Lanczos quadrature estimate (Ubaru, Chen & Saad
      2017) from 32 Rademacher probes, and the gradient's trace term
      ``tr(A_O^{-1} dK)`` is ``tr(A^{-1} dK)`` (exact) minus a Hutchinson
      estimate of ``tr(H^{-1} B^T dK B)`` from the same probes, solved by the
      same CG run (Gardner et al. 2018). So on this path
      ``log_marginal_likelihood`` and its gradient are unbiased *estimates*
      (relative spread 1e-3 to 2e-3 on a 20 x 24 grid with 30% of cells
      missing).
      The probes are drawn once per fit from ``random_state``, so the
      objective the optimiser sees is deterministic.

    CG converges fast when the missing cells are scattered (their
    conditional variance given the observed ones is then close to the
    noise); a large contiguous hole with a smooth kernel and little noise
    needs more iterations (raise ``cg_maxiter``).

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
    algorithm : {"auto", "kronecker", "cg", "dense"}, default="auto"
        ``"kronecker"`` needs the rows to be distinct cells of the grid they
        span (missing cells allowed, within ``working_memory``: exact masked
        formulas). ``"cg"`` takes such rows with any number of missing cells
        by conjugate gradients (see above; a complete grid needs none and
        takes ``"kronecker"``). ``"auto"`` takes ``"kronecker"`` when it is
        cheaper than the dense Cholesky formulas (a complete grid always is),
        else ``"cg"`` for an incomplete grid of more than 3000 rows, else
        the dense formulas.
    cg_tol : float in (0, 1), default=1e-10
        Relative residual at which conjugate gradients stop (``"cg"``).
    cg_maxiter : int, default=1000
        Conjugate-gradient iterations at most; a
        :class:`~sklearn.exceptions.ConvergenceWarning` says when they did not
        reach ``cg_tol``.
    random_state : int, RandomState instance or None, default=None
        Seeds the restarts and, on the ``"cg"`` path, draws the Rademacher
        probes of the log-determinant and trace estimates (before the
        restarts).

    Attributes
    ----------
    kernels_ : list of kernels
        Per-axis kernels with the learnt hyperparameters.
    noise_variance_ : float
    log_marginal_likelihood_value_ : float
        An estimate on the ``"cg"`` path.
    algorithm_ : {"kronecker", "cg", "dense"}
    grid_axes_ : list of ndarray
        Grid coordinates per axis (``"kronecker"`` and ``"cg"`` only).
    alpha_ : ndarray
        ``(K + s^2 I)^{-1} y``: a grid tensor of shape ``(n_1, ..., n_D, m)``
        with zeros on missing cells (``"kronecker"``, ``"cg"``) or of shape
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
    .. [3] S. Ubaru, J. Chen and Y. Saad, "Fast estimation of tr(f(A)) via
       stochastic Lanczos quadrature", SIAM J. Matrix Anal. Appl. 38, 2017.
    .. [4] J. R. Gardner, G. Pleiss, D. Bindel, K. Q. Weinberger and A. G.
       Wilson, "GPyTorch: blackbox matrix-matrix Gaussian process inference
       with GPU acceleration", NeurIPS 2018.

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

    With 40% of the cells missing, by conjugate gradients (the learnt
    hyperparameters kept):

    >>> keep = np.random.default_rng(0).random(len(X)) > 0.4
    >>> cg = KroneckerGaussianProcessRegressor(
    ...     gp.kernels_, noise_variance=gp.noise_variance_, optimizer=None,
    ...     algorithm="cg", random_state=0,
    ... ).fit(X[keep], y[keep])
    >>> cg.algorithm_, round(float(cg.predict([[0.5, 0.5]])[0]), 4)
    ('cg', -0.0587)
    """

    _parameter_constraints: dict = {
        "kernels": [Kernel, list, tuple, None],
        "noise_variance": [Interval(Real, 0, None, closed="neither")],
        "noise_variance_bounds": [tuple, StrOptions({"fixed"})],
        "optimizer": [StrOptions({"fmin_l_bfgs_b"}), None],
        "n_restarts_optimizer": [Interval(Integral, 0, None, closed="left")],
        "normalize_y": ["boolean"],
        "algorithm": [StrOptions({"auto", "kronecker", "cg", "dense"})],
        "cg_tol": [Interval(Real, 0, 1, closed="neither")],
        "cg_maxiter": [Interval(Integral, 1, None, closed="left")],
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
        cg_tol=1e-10,
        cg_maxiter=1000,
        random_state=None,
    ):
        self.kernels = kernels
        self.noise_variance = noise_variance
        self.noise_variance_bounds = noise_variance_bounds
        self.optimizer = optimizer
        self.n_restarts_optimizer = n_restarts_optimizer
        self.normalize_y = normalize_y
        self.algorithm = algorithm
        self.cg_tol = cg_tol
        self.cg_maxiter = cg_maxiter
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
    @staticmethod
    def _grid_factors(kernels, noise, axes, eval_gradient):
        """Per-axis kernels (and derivatives), their eigendecompositions and
        ``w = 1 / (l + s^2)``, the spectrum of ``A^{-1}`` on the whole grid."""
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
        return dict(Ks=Ks, dKs=dKs, lams=lams, Qs=Qs, lam=lam, s=s, w=1.0 / s)

    @staticmethod
    def _solver(Qs, w):
        """``A^{-1}`` on grid tensors: ``Q diag(w) Q^T`` by mode products."""
        QTs = [Q.T for Q in Qs]

        def solve(T):
            return kron_mv(Qs, kron_mv(QTs, T) * w[..., None])

        return solve

    def _trace_terms(self, f, alpha):
        """Per kernel hyperparameter: ``alpha^T dK alpha``, ``tr(A^{-1} dK)``
        on the whole grid, and the Kronecker factors of ``dK``."""
        out = []
        for d, dK in enumerate(f["dKs"]):
            for p in range(dK.shape[2]):
                mats = list(f["Ks"])
                mats[d] = dK[:, :, p]
                data = float(np.sum(alpha * kron_mv(mats, alpha)))
                diag = list(f["lams"])
                diag[d] = np.sum(f["Qs"][d] * (dK[:, :, p] @ f["Qs"][d]), axis=0)
                out.append((data, float(np.sum(f["w"] * kron_diag(diag))), mats))
        return out

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
        f = self._grid_factors(kernels, noise, axes, eval_gradient)
        lam, s, w, Qs = f["lam"], f["s"], f["w"], f["Qs"]
        solve = self._solver(Qs, w)
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
        for data, trace, mats in self._trace_terms(f, alpha):
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

    # ------------------------------------------------------------ cg path
    def _cg_operator(self, state):
        """``H_hat = D^{-1/2} E_M^T A^{-1} E_M D^{-1/2}`` on blocks of
        missing-cell vectors (``D = diag(E_M^T A^{-1} E_M)``)."""
        solve = self._solver(state["Qs"], state["w"])
        missing, sc = state["missing"], state["scale"]
        shape = state["w"].shape
        n_cells = state["w"].size

        def matvec(V):
            T = np.zeros((n_cells, V.shape[1]))
            T[missing] = sc[:, None] * V
            return (
                sc[:, None]
                * solve(T.reshape(shape + (-1,))).reshape(n_cells, -1)[missing]
            )

        return matvec

    def _cg(self, state, rhs):
        """``H_hat^{-1} rhs`` by block CG, warning when it stops short."""
        X, info = block_cg(
            self._cg_operator(state), rhs, tol=self.cg_tol, maxiter=self.cg_maxiter
        )
        if not info["converged"]:
            warnings.warn(
                f"conjugate gradients did not reach cg_tol={self.cg_tol:g} in "
                f"cg_maxiter={self.cg_maxiter} iterations (worst relative "
                f"residual {info['residual'].max():.1e}); raise cg_maxiter, or "
                "noise_variance (or its lower bound), which bounds the "
                "condition number.",
                ConvergenceWarning,
                stacklevel=3,
            )
        return X, info

    def _lml_cg(self, kernels, noise, axes, Yt, eval_gradient, missing, probes):
        """Log marginal likelihood on an incomplete grid by conjugate gradients.

        The observed cells' covariance ``A_O = E_O^T A E_O`` is the limit of the
        whole grid's with infinite noise on the missing cells; by Woodbury its
        inverse embedded in the grid is ``F = A^{-1} - B H^{-1} B^T`` with ``B
        = A^{-1} E_M`` and ``H = E_M^T A^{-1} E_M`` (``|M| x |M|``, SPD), and
        ``log det A_O = log det A + log det H``. Everything on the whole grid
        is exact (per-axis eigendecompositions); only ``H`` is handled
        iteratively: block CG on its Jacobi-scaled form ``H_hat`` (each
        product one full-grid solve ``A^{-1}``, ``O(N sum_d n_d)``) solves
        for ``alpha`` and for the Rademacher ``probes`` at once; the probes'
        Lanczos coefficients give ``log det H_hat`` (stochastic Lanczos
        quadrature) and their solutions the Hutchinson estimate of ``tr(H^{-1}
        B^T dK B)``, the correction of the exact ``tr(A^{-1} dK)``.
        """
        m = Yt.shape[-1]
        f = self._grid_factors(kernels, noise, axes, eval_gradient)
        s, w, Qs = f["s"], f["w"], f["Qs"]
        shape, n_cells, n_miss = w.shape, w.size, len(missing)
        solve = self._solver(Qs, w)
        diag = kron_mv([Q**2 for Q in Qs], w[..., None]).reshape(n_cells)[missing]
        sc = 1.0 / np.sqrt(diag)
        state = dict(Qs=Qs, w=w, missing=missing, scale=sc)

        def embed(V):  # missing-cell vectors -> grid tensors (0 elsewhere)
            T = np.zeros((n_cells, V.shape[1]))
            T[missing] = sc[:, None] * V
            return T.reshape(shape + (-1,))

        a0 = solve(Yt)
        rhs = np.hstack([sc[:, None] * a0.reshape(n_cells, m)[missing], probes])
        U, info = self._cg(state, rhs)
        # alpha = F y holds whatever fills y's missing cells. Refill them with
        # the imputation just found (-H^{-1} r) and solve again: the new
        # right-hand side is small, so CG's error no longer meets the ~1/s^2
        # amplification of B (iterative refinement; it matters at small noise)
        Yf = np.array(Yt.reshape(n_cells, m))
        Yf[missing] = -sc[:, None] * U[:, :m]
        a1 = solve(Yf.reshape(Yt.shape))
        U1, _ = self._cg(state, sc[:, None] * a1.reshape(n_cells, m)[missing])
        alpha = np.array((a1 - solve(embed(U1))).reshape(n_cells, m))
        alpha[missing] = 0.0  # exactly zero in exact arithmetic
        alpha = alpha.reshape(Yt.shape)
        a, b, k = info["a"][:, m:], info["b"][:, m:], info["n_iter"][m:]
        quad = lanczos_quadrature(a, b, k)
        logdet = float(np.log(s).sum()) + float(np.log(diag).sum())
        logdet += n_miss * float(quad.mean())  # z^T log(H_hat) z, ||z||^2 = |M|
        lml = -0.5 * float(np.sum(Yt * alpha)) - 0.5 * m * logdet
        lml -= 0.5 * (n_cells - n_miss) * m * _LOG_2PI
        state.update(alpha=alpha, cg_n_iter=int(info["n_iter"].max(initial=0)))
        if not eval_gradient:
            return lml, None, state
        # Hutchinson: tr(H^{-1} X) = E[(H_hat^{-1} z)^T D^{-1/2} X D^{-1/2} z]
        Vz, Vu = solve(embed(probes)), solve(embed(U[:, m:]))
        grad = []
        for data, trace, mats in self._trace_terms(f, alpha):
            trace -= float(np.sum(Vu * kron_mv(mats, Vz))) / probes.shape[1]
            grad.append(0.5 * data - 0.5 * m * trace)
        if not self._noise_fixed():
            trace = float(w.sum()) - float(np.sum(Vu * Vz)) / probes.shape[1]
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
        if data["algorithm"] == "cg":
            return self._lml_cg(
                kernels, noise, data["axes"], data["Y"], eval_gradient,
                data["missing"], data["probes"],
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

    def _choose(self, X, axes, cells, complete, n_params, n_targets):
        """``(algorithm, missing cells)``.

        Rows that are distinct cells of the grid they span take a grid path:
        a complete grid the exact Kronecker formulas; an incomplete one the
        exact masked formulas when they cost less than the dense ones (and
        fit in ``working_memory``), else conjugate gradients when there are
        more than ``_CG_MIN_ROWS`` rows (below that the dense formulas are
        cheap and exact), their block of grid tensors fits in
        ``working_memory`` and they are cheaper than the dense formulas.
        An evaluation with ``P`` hyperparameters costs the masked formulas
        ``~(P + 1) |M| N (sum_d n_d + |M|)``, CG ``~2 k (p + m) N sum_d n_d``
        for ``k`` iterations (taken as 50) on ``p`` probes and ``m`` targets,
        and the dense formulas ``~n^3``; the masked side carries more overhead
        per flop (measured: a factor ~4), so it needs to win by that much.
        Scattered points span a grid of ``~n^D`` cells and fail both."""
        n = len(X)
        distinct = cells is not None and np.unique(cells).size == n
        algorithm, why = ("kronecker" if complete else None), "repeated points"
        if distinct and not complete:
            n_cells = math.prod(len(a) for a in axes)
            n_miss, sum_n = n_cells - n, sum(map(len, axes))
            budget = get_config()["working_memory"] * 2**20 / 8
            cost = (n_params + 1) * n_miss * n_cells * (sum_n + n_miss)
            cheaper = 4.0 * cost < float(n) ** 3 or self.algorithm == "kronecker"
            width = _N_PROBES + n_targets
            cg_fits = 4 * width * n_cells <= budget
            cg_cheaper = 100.0 * width * n_cells * sum_n < float(n) ** 3
            if self.algorithm == "cg" and cg_fits:
                algorithm = "cg"
            elif self.algorithm != "cg" and 3 * n_miss * n_cells <= budget and cheaper:
                algorithm = "kronecker"
            elif self.algorithm == "auto" and n > _CG_MIN_ROWS and cg_fits:
                algorithm = "cg" if cg_cheaper else None
            why = (
                f"too many cells ({n_cells}) for conjugate gradients in working_memory"
                if self.algorithm == "cg"
                else "too many missing cells for the masked formulas in "
                "working_memory; algorithm='cg' may take them"
            )
        if self.algorithm in ("kronecker", "cg") and algorithm is None:
            raise ValueError(
                f"algorithm={self.algorithm!r} cannot take these {n} rows ({why}: "
                f"they span a {'x'.join(str(len(a)) for a in axes)} grid). Use "
                "algorithm='auto' (dense formulas)."
            )
        if self.algorithm == "dense" or algorithm is None or n < 2:
            return "dense", None
        missing = None
        if not complete:
            missing = np.setdiff1d(np.arange(math.prod(map(len, axes))), cells)
        return algorithm, missing

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
        algorithm, missing = self._choose(
            X, axes, cells, complete, n_params, Y.shape[1]
        )
        rng = check_random_state(self.random_state)
        if algorithm in ("kronecker", "cg"):
            shape = tuple(len(a) for a in axes)
            Yg = np.zeros((math.prod(shape), Y.shape[1]))
            Yg[cells] = Y
            data = dict(
                algorithm=algorithm,
                axes=axes,
                Y=Yg.reshape(shape + (-1,)),
                missing=missing,
            )
            if algorithm == "cg":  # fixed probes: a deterministic objective
                data["probes"] = rng.choice([-1.0, 1.0], (len(missing), _N_PROBES))
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
        if algorithm != "dense":
            self.grid_axes_ = axes
        else:
            self._X_train = X
        return self

    # ------------------------------------------------------------ predict
    def _block_rows(self, n_test, return_std=False):
        """Test rows per block: the largest intermediate (``b N / n_1`` grid
        entries, ``b n_train``, or for the cg path's variances a few grid
        tensors per row) within ``working_memory``."""
        if self.algorithm_ == "cg" and return_std:
            per_row = 6 * self._state["w"].size
        elif self.algorithm_ != "dense":
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
        step = self._block_rows(len(X), return_std)
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
        elif self.algorithm_ == "cg":  # - u^T H^{-1} u, u = (A^{-1} k)_M
            u = self._cg_cross(rows)
            x, _ = self._cg(self._state, u)
            reduce -= np.einsum("ib,ib->b", u, x)
        return mean, prior - reduce

    def _cg_cross(self, rows):
        """``D^{-1/2} E_M^T A^{-1} k`` for the Kronecker-structured
        cross-covariances ``k`` of a block of test points, one per column."""
        st = self._state
        T = np.ones(len(rows[0]))
        for R, Q in zip(rows, st["Qs"], strict=True):  # Q^T k, factor by factor
            T = np.einsum("b...,bj->b...j", T, R @ Q)
        T = np.moveaxis(T, 0, -1) * st["w"][..., None]
        u = kron_mv(st["Qs"], T).reshape(st["w"].size, -1)[st["missing"]]
        return st["scale"][:, None] * u

    def predict_grid(self, axes, return_std=False):
        """Posterior mean (and std) on the grid ``axes[0] x ... x axes[D-1]``.

        Kronecker algebra throughout: ``O(N* sum_d n_d)`` for ``N*`` test
        cells (``predict`` on arbitrary points costs ``O(N)`` per point). On
        the cg path the mean is as cheap, but each standard deviation takes a
        CG solve: ``return_std`` is refused beyond 4096 test cells (call
        ``predict`` on the points, block by block).

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
        if self.algorithm_ == "dense":
            raise ValueError(
                "predict_grid needs a model fitted on a grid (algorithm_="
                "'kronecker' or 'cg', not 'dense'); use predict on the points."
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
        if self.algorithm_ == "cg":
            n_test = math.prod(len(a) for a in axes)
            if n_test > _CG_GRID_STD_MAX:
                raise ValueError(
                    f"predict_grid(return_std=True) on the cg path takes one CG "
                    f"solve per test cell; {n_test} cells is more than "
                    f"{_CG_GRID_STD_MAX}. Call predict(X, return_std=True) on the "
                    "points (blocked by working_memory), or predict the mean only."
                )
            mesh = np.meshgrid(*axes, indexing="ij")
            _, std = self.predict(np.stack([g.ravel() for g in mesh], 1), True)
            return mean, std.reshape(mean.shape)
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
