"""Student-t process regression: the inverse-gamma scale mixture of a GP.

A Gaussian process whose kernel scale ``s`` has an inverse-gamma prior. Every
quantity stays in closed form (Shah, Wilson and Ghahramani 2014), and the heavier
tails widen the predictive intervals when the data are larger than the prior scale
expected. Lee et al. (2022) put the same prior on the last-layer variance of an
infinitely wide network, which turns its NNGP kernel into a Student-t process.

Derivation
----------
Write ``K = k(X, X) + diag(alpha)`` and ``IG(a, b)`` for the inverse-gamma
density ``b^a / Gamma(a) s^(-a-1) exp(-b / s)``. The model is::

    s ~ IG(a, b),    y | s ~ N(0, s K).

*Marginal likelihood.* A multivariate Student t with ``nu`` degrees of freedom
and scale matrix ``S`` is the mixture ``N(0, w S)`` over ``w ~ IG(nu/2, nu/2)``.
If ``w ~ IG(a, a)`` then ``s = (b / a) w ~ IG(a, b)``, so ``y`` is multivariate t
with ``nu = 2a`` and ``S = (b / a) K``. Integrating ``s`` out directly, with
``beta = y^T K^-1 y``::

    log p(y) = a log b - (a + n/2) log(b + beta/2) + log Gamma(a + n/2)
               - log Gamma(a) - (n/2) log(2 pi) - (1/2) log|K|.

*Posterior of the scale.* ``s^(-n/2) exp(-beta / (2 s))`` times the prior is
again inverse gamma: ``s | y ~ IG(a + n/2, b + beta/2)``.

*Predictive.* Given ``s``, the latent ``f*`` at test inputs is the GP posterior
``N(mu, s C)`` with ``mu = K*x K^-1 y`` (free of ``s``) and
``C = K** - K*x K^-1 Kx*``. Mixing over ``s | y`` with the identity above gives
a multivariate t with ``2a + n`` degrees of freedom, mean ``mu`` and scale
``(2b + beta) / (2a + n) C``. Its covariance is the scale times
``dof / (dof - 2)``, i.e. ``E[s | y] C = (2b + beta) / (2a + n - 2) C``; it is
infinite when ``dof <= 2`` (only possible for ``n = 1`` and ``a <= 1/2``).

*Gradients* (of ``log p(y)``; ``w = (2a + n) / (2b + beta)``, ``v = K^-1 y``,
``psi`` the digamma function)::

    d / d log a      = a (log b - log(b + beta/2) + psi(a + n/2) - psi(a))
    d / d log b      = a - (a + n/2) b / (b + beta/2)
    d / d theta_j    = (1/2) (w v^T dK_j v - tr(K^-1 dK_j))

the last being the Gaussian-process gradient with ``v`` reweighted by ``w``.

*An amplitude is the scale.* Replacing ``K`` by ``c K`` leaves ``log p(y)`` and
the predictive unchanged when ``b`` is replaced by ``b / c``: the likelihood
depends on a constant factor of the kernel only through ``c b``.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import scipy.optimize
from scipy.linalg import cho_solve, cholesky, solve_triangular
from scipy.special import digamma, gammaln
from sklearn.base import (
    BaseEstimator,
    MultiOutputMixin,
    RegressorMixin,
    _fit_context,
    clone,
)
from sklearn.gaussian_process.kernels import Kernel
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.optimize import _check_optimize_result
from sklearn.utils.validation import check_is_fitted, validate_data

from .._config import get_config
from ..kernels import Gaussian

#: Bounds of ``a`` and ``b`` while they are optimised. ``a`` large is the
#: Gaussian-process limit; the upper bound keeps the optimiser off the plateau.
_A_BOUNDS = (1e-2, 1e6)
_B_BOUNDS = (1e-10, 1e10)
_MIB = 2**20


class StudentTProcessRegressor(MultiOutputMixin, RegressorMixin, BaseEstimator):
    """Student-t process regression (a Gaussian process with a random scale).

    The targets are modelled as ``y | s ~ N(0, s K)`` with
    ``K = k(X, X) + diag(alpha)`` and an inverse-gamma prior ``s ~ IG(a, b)`` on
    the kernel scale. Integrating ``s`` out gives a multivariate Student t
    marginal likelihood (``2a`` degrees of freedom, scale ``(b/a) K``) and a
    Student t predictive with ``2a + n`` degrees of freedom, mean
    ``K*x K^-1 y`` (the Gaussian-process posterior mean) and scale
    ``(2b + y^T K^-1 y) / (2a + n) (K** - K*x K^-1 Kx*)``. Unlike a Gaussian
    process, the predictive spread depends on the observed ``y``: targets larger
    than the prior expects widen it. The module docstring derives every formula.

    :meth:`fit` maximises the log marginal likelihood over the kernel's
    hyperparameters and, with ``optimize_scale_prior``, over ``log a`` and
    ``log b``, with analytic gradients. Any scikit-learn or kernlearn kernel can
    be used, including the NNGP kernel of :mod:`kernlearn.neural`, which makes
    this the scale mixture of neural-network Gaussian processes of Lee et al.

    Parameters
    ----------
    kernel : kernel instance, default=None
        Covariance function ``k`` (scikit-learn ``Kernel`` protocol). ``None``
        means ``kernlearn.kernels.Gaussian(1.0)``, whose length scale is
        optimised. No constant factor is included by default: a factor ``c`` in
        ``c * k`` is confounded with ``b`` (the likelihood depends on ``c b``
        only), so the amplitude is carried by ``s`` and learnt through ``b``.
        Add a ``ConstantKernel`` when ``optimize_scale_prior=False``.
    a : float, default=2.0
        Shape of the inverse-gamma prior on the scale; ``2a`` are the degrees of
        freedom of the marginal. ``a -> inf`` with ``b = a`` is the Gaussian
        process with kernel ``K``. Initial value if ``optimize_scale_prior``.
    b : float, default=2.0
        Scale of the inverse-gamma prior (prior mean of ``s`` is
        ``b / (a - 1)`` for ``a > 1``). Initial value if
        ``optimize_scale_prior``.
    alpha : float or ndarray of shape (n_samples,), default=1e-10
        Added to the diagonal of the training kernel matrix: jitter, or a noise
        variance. It is scaled by ``s`` like the kernel, so it is a
        noise-to-signal ratio. Predictions are of the latent function (without
        ``alpha``), as in :class:`~sklearn.gaussian_process.GaussianProcessRegressor`.
    optimizer : "fmin_l_bfgs_b", callable or None, default="fmin_l_bfgs_b"
        Maximiser of the log marginal likelihood. A callable is called as
        ``optimizer(obj_func, initial_theta, bounds)`` and returns
        ``(theta_opt, func_min)``, where ``obj_func(theta, eval_gradient=True)``
        returns the negative log marginal likelihood and its gradient (the
        scikit-learn convention). ``None`` keeps the initial values.
    n_restarts_optimizer : int, default=0
        Extra optimiser runs from random starts: kernel hyperparameters drawn
        log-uniformly within their bounds, ``a`` and ``b`` within a factor 100 of
        their initial values. The best run is kept.
    optimize_scale_prior : bool, default=True
        Whether ``a`` and ``b`` are optimised too (in log space, within
        ``[1e-2, 1e6]`` and ``[1e-10, 1e10]``).
    normalize_y : bool, default=False
        Centre and scale ``y`` to unit variance before fitting; predictions are
        transformed back.
    random_state : int, RandomState instance or None, default=None
        Seeds the optimiser restarts.

    Attributes
    ----------
    kernel_ : kernel instance
        The kernel with the fitted hyperparameters.
    a_, b_ : float
        Fitted (or given) inverse-gamma parameters.
    X_train_ : ndarray of shape (n_samples, n_features)
        Training inputs.
    y_train_ : ndarray of shape (n_samples,) or (n_samples, n_targets)
        Training targets (normalised if ``normalize_y``).
    L_ : ndarray of shape (n_samples, n_samples)
        Lower Cholesky factor of ``K``.
    alpha_ : ndarray of shape (n_samples,) or (n_samples, n_targets)
        ``K^-1 y``.
    df_ : float
        Degrees of freedom of the predictive, ``2 a_ + n_samples``.
    posterior_scale_ : float or ndarray of shape (n_targets,)
        ``(2 b_ + y^T K^-1 y) / (2 a_ + n)``: the predictive scale is this times
        ``K** - K*x K^-1 Kx*`` (per target; targets have independent scales).
    log_marginal_likelihood_value_ : float
        Log marginal likelihood at the fitted parameters (summed over targets).
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Defined only when ``X`` has string feature names.

    See Also
    --------
    sklearn.gaussian_process.GaussianProcessRegressor : The ``a -> inf`` limit.

    Notes
    -----
    With several targets, each column has its own scale ``s_t``, independent
    and identically distributed, and shares the kernel and ``a``, ``b``.
    ``predict(return_std=True)`` returns the square root of the predictive
    *variance*, ``scale * dof / (dof - 2)``, not of the t scale; use
    ``posterior_scale_`` and ``df_`` for t quantiles
    (``scipy.stats.t(df_, mean, sqrt(posterior_scale_ * C))``).

    References
    ----------
    A. Shah, A. G. Wilson and Z. Ghahramani, "Student-t processes as alternatives
    to Gaussian processes", AISTATS 2014.

    H. Lee, E. Yun, H. Yang and J. Lee, "Scale mixtures of neural network
    Gaussian processes", ICLR 2022.

    Examples
    --------
    >>> import numpy as np
    >>> from kernlearn.neural._student_t import StudentTProcessRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(-3, 3, (30, 1))
    >>> y = np.sin(X[:, 0]) + 0.1 * rng.standard_normal(30)
    >>> tp = StudentTProcessRegressor(alpha=1e-2, optimize_scale_prior=False)
    >>> mean, std = tp.fit(X, y).predict([[0.0], [2.0]], return_std=True)
    >>> mean.round(3), std.round(3), tp.df_
    (array([0.102, 0.948]), array([0.046, 0.037]), 34.0)

    Targets ten times larger give a ten times wider predictive (a Gaussian
    process with the same kernel would keep its standard deviation):

    >>> fixed = StudentTProcessRegressor(tp.kernel_, alpha=1e-2, optimizer=None)
    >>> for c in (1, 10):
    ...     print(fixed.fit(X, c * y).predict([[2.0]], return_std=True)[1].round(3))
    [0.037]
    [0.336]
    """

    _parameter_constraints: dict = {
        "kernel": [None, Kernel],
        "a": [Interval(Real, 0, None, closed="neither")],
        "b": [Interval(Real, 0, None, closed="neither")],
        "alpha": [Interval(Real, 0, None, closed="left"), np.ndarray],
        "optimizer": [StrOptions({"fmin_l_bfgs_b"}), callable, None],
        "n_restarts_optimizer": [Interval(Integral, 0, None, closed="left")],
        "optimize_scale_prior": ["boolean"],
        "normalize_y": ["boolean"],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        kernel=None,
        *,
        a=2.0,
        b=2.0,
        alpha=1e-10,
        optimizer="fmin_l_bfgs_b",
        n_restarts_optimizer=0,
        optimize_scale_prior=True,
        normalize_y=False,
        random_state=None,
    ):
        self.kernel = kernel
        self.a = a
        self.b = b
        self.alpha = alpha
        self.optimizer = optimizer
        self.n_restarts_optimizer = n_restarts_optimizer
        self.optimize_scale_prior = optimize_scale_prior
        self.normalize_y = normalize_y
        self.random_state = random_state

    # ------------------------------------------------------------------ fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Fit the Student-t process: optimise hyperparameters, factor ``K``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or list of object
            Training inputs (objects when the kernel does not need vectors).
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Targets.

        Returns
        -------
        self : StudentTProcessRegressor
        """
        kernel = Gaussian(1.0) if self.kernel is None else clone(self.kernel)
        vector = kernel.requires_vector_input
        X, y = validate_data(
            self,
            X,
            y,
            multi_output=True,
            y_numeric=True,
            ensure_2d=vector,
            dtype="numeric" if vector else None,
        )
        y = np.asarray(y, dtype=np.float64)
        n = X.shape[0]
        alpha = self._check_alpha(n)

        if self.normalize_y:
            mean = np.mean(y, axis=0)
            std = np.std(y, axis=0)
            std = np.where(std > 0, std, 1.0)
            y = (y - mean) / std
        else:
            shape = y.shape[1:]
            mean, std = np.zeros(shape), np.ones(shape)

        # State read by _lml (set before optimising; overwritten below).
        self.kernel_ = kernel
        self.X_train_ = X
        self.y_train_ = y
        self._alpha_diag = alpha
        self._y_train_mean = mean
        self._y_train_std = std
        self.a_, self.b_ = float(self.a), float(self.b)

        theta0 = self._theta_init()
        if self.optimizer is not None and theta0.size > 0:
            bounds = self._theta_bounds()
            runs = [self._optimise(theta0, bounds)]
            if self.n_restarts_optimizer > 0:
                kb = kernel.bounds
                if kb.size and not np.all(np.isfinite(kb)):
                    raise ValueError(
                        "n_restarts_optimizer > 0 draws kernel hyperparameters "
                        "within their bounds, which must be finite."
                    )
                rng = check_random_state(self.random_state)
                lo, hi = bounds[:, 0].copy(), bounds[:, 1].copy()
                if self.optimize_scale_prior:
                    # a, b: within a factor 100 of the start (their bounds are
                    # too wide for a log-uniform draw to be useful).
                    lo[-2:] = np.maximum(lo[-2:], theta0[-2:] - np.log(100.0))
                    hi[-2:] = np.minimum(hi[-2:], theta0[-2:] + np.log(100.0))
                for _ in range(self.n_restarts_optimizer):
                    runs.append(self._optimise(rng.uniform(lo, hi), bounds))
            best = min(runs, key=lambda r: r[1])[0]
            self._set_theta(best)

        K = self._kernel_matrix(self.kernel_, X, alpha)
        try:
            L = cholesky(K, lower=True, check_finite=False)
        except np.linalg.LinAlgError as exc:
            raise ValueError(
                f"The kernel matrix k(X, X) + alpha I of {self.kernel_} is not "
                "positive definite; increase alpha (e.g. alpha=1e-6 or a noise "
                "variance)."
            ) from exc
        v = cho_solve((L, True), y, check_finite=False)
        beta = np.einsum("i...,i...->...", y, v)
        self.L_ = L
        self.alpha_ = v
        self.df_ = 2.0 * self.a_ + n
        self.posterior_scale_ = (2.0 * self.b_ + beta) / self.df_
        self.log_marginal_likelihood_value_ = self._lml_from_factor(L, beta)
        return self

    def _check_alpha(self, n):
        alpha = np.asarray(self.alpha, dtype=np.float64)
        if alpha.ndim == 0:
            alpha = np.full(n, float(alpha))
        elif alpha.shape != (n,):
            raise ValueError(
                f"alpha must be a float or an array of shape (n_samples,) = ({n},), "
                f"got shape {alpha.shape}."
            )
        if not np.all(np.isfinite(alpha)) or np.any(alpha < 0):
            raise ValueError("alpha must be non-negative and finite.")
        return alpha

    @staticmethod
    def _kernel_matrix(kernel, X, alpha, eval_gradient=False):
        if eval_gradient:
            K, dK = kernel(X, eval_gradient=True)
        else:
            K, dK = kernel(X), None
        K = np.array(K, dtype=np.float64)
        K[np.diag_indices_from(K)] += alpha
        if eval_gradient:
            return K, dK
        return K

    # ----------------------------------------------- hyperparameter vector
    def _theta_init(self):
        theta = self.kernel_.theta
        if self.optimize_scale_prior:
            theta = np.r_[theta, np.log(self.a_), np.log(self.b_)]
        return theta

    def _theta_bounds(self):
        bounds = self.kernel_.bounds.reshape(-1, 2)
        if self.optimize_scale_prior:
            bounds = np.vstack([bounds, np.log([_A_BOUNDS, _B_BOUNDS])])
        return bounds

    def _split_theta(self, theta):
        theta = np.asarray(theta, dtype=np.float64)
        p = self.kernel_.n_dims
        expected = p + (2 if self.optimize_scale_prior else 0)
        if theta.shape != (expected,):
            raise ValueError(
                f"theta must have shape ({expected},): the kernel's {p} log "
                "hyperparameters"
                + (", then log a and log b" if self.optimize_scale_prior else "")
                + f"; got shape {theta.shape}."
            )
        if self.optimize_scale_prior:
            return theta[:p], float(np.exp(theta[p])), float(np.exp(theta[p + 1]))
        return theta, self.a_, self.b_

    def _set_theta(self, theta):
        k_theta, a, b = self._split_theta(theta)
        self.kernel_ = self.kernel_.clone_with_theta(k_theta)
        self.a_, self.b_ = a, b

    def _optimise(self, theta0, bounds):
        def obj(theta, eval_gradient=True):
            if eval_gradient:
                lml, grad = self.log_marginal_likelihood(theta, eval_gradient=True)
                return -lml, -grad
            return -self.log_marginal_likelihood(theta)

        if self.optimizer == "fmin_l_bfgs_b":
            res = scipy.optimize.minimize(
                obj, theta0, method="L-BFGS-B", jac=True, bounds=bounds
            )
            _check_optimize_result("lbfgs", res)
            return res.x, res.fun
        theta, fmin = self.optimizer(obj, theta0, bounds=bounds)
        return np.asarray(theta, dtype=np.float64), float(fmin)

    # -------------------------------------------------- marginal likelihood
    def _lml_terms(self, a, b, n, beta):
        """Scale-prior part of ``log p(y)`` per target (see module docstring)."""
        return (
            a * np.log(b)
            - (a + 0.5 * n) * np.log(b + 0.5 * beta)
            + gammaln(a + 0.5 * n)
            - gammaln(a)
            - 0.5 * n * np.log(2.0 * np.pi)
        )

    def _lml_from_factor(self, L, beta, a=None, b=None):
        a = self.a_ if a is None else a
        b = self.b_ if b is None else b
        n = L.shape[0]
        logdet = 2.0 * np.sum(np.log(np.diag(L)))
        per_target = self._lml_terms(a, b, n, beta) - 0.5 * logdet
        return float(np.sum(per_target))

    def log_marginal_likelihood(self, theta=None, eval_gradient=False):
        """Log marginal likelihood ``log p(y)`` of the Student-t process.

        ``y`` is multivariate t with ``2a`` degrees of freedom and scale
        ``(b / a) K`` (module docstring); with several targets the values of
        the independent columns add up.

        Parameters
        ----------
        theta : ndarray of shape (n_params,), default=None
            The kernel's log hyperparameters (``kernel_.theta``), followed by
            ``log a`` and ``log b`` when ``optimize_scale_prior``. ``None``
            returns ``log_marginal_likelihood_value_``.
        eval_gradient : bool, default=False
            Also return the gradient with respect to ``theta``.

        Returns
        -------
        lml : float
        grad : ndarray of shape (n_params,)
            Only with ``eval_gradient``.
        """
        check_is_fitted(self, "kernel_")
        if theta is None:
            if eval_gradient:
                raise ValueError("eval_gradient=True needs theta (not None).")
            check_is_fitted(self, "log_marginal_likelihood_value_")
            return self.log_marginal_likelihood_value_
        k_theta, a, b = self._split_theta(theta)
        kernel = self.kernel_.clone_with_theta(k_theta)
        X, y = self.X_train_, self.y_train_
        n = X.shape[0]
        if eval_gradient:
            K, dK = self._kernel_matrix(kernel, X, self._alpha_diag, True)
        else:
            K = self._kernel_matrix(kernel, X, self._alpha_diag)
        try:
            L = cholesky(K, lower=True, check_finite=False)
        except (np.linalg.LinAlgError, ValueError):
            if eval_gradient:
                return -np.inf, np.zeros(np.size(theta))
            return -np.inf
        v = cho_solve((L, True), y, check_finite=False)
        beta = np.einsum("i...,i...->...", y, v)
        lml = self._lml_from_factor(L, beta, a, b)
        if not eval_gradient:
            return lml

        V = v.reshape(n, -1)
        beta = np.atleast_1d(beta)
        T = V.shape[1]
        w = (2.0 * a + n) / (2.0 * b + beta)
        inner = (V * w) @ V.T - T * cho_solve((L, True), np.eye(n))
        grad = 0.5 * np.einsum("ij,jik->k", inner, dK)
        if self.optimize_scale_prior:
            half = b + 0.5 * beta
            g_a = a * np.sum(
                np.log(b) - np.log(half) + digamma(a + 0.5 * n) - digamma(a)
            )
            g_b = np.sum(a - (a + 0.5 * n) * b / half)
            grad = np.r_[grad, g_a, g_b]
        return lml, grad

    # ----------------------------------------------------------- predict
    def _block_rows(self, n):
        wm = get_config()["working_memory"]
        return max(1, int(wm * _MIB // (24 * max(n, 1))))

    def _validate_X(self, X):
        vector = self.kernel_.requires_vector_input
        return validate_data(
            self,
            X,
            reset=False,
            ensure_2d=vector,
            dtype="numeric" if vector else None,
        )

    def _var_factor(self):
        """``E[s | y] = (2b + beta) / (2a + n - 2)``; inf when dof <= 2."""
        dof = self.df_
        if dof <= 2:
            return np.full(np.shape(self.posterior_scale_), np.inf)
        return self.posterior_scale_ * dof / (dof - 2.0)

    def predict(self, X, return_std=False, return_cov=False):
        """Predictive mean and, optionally, standard deviation or covariance.

        The predictive of the latent ``f(X)`` is a multivariate t with ``df_``
        degrees of freedom, mean ``K*x K^-1 y`` and scale
        ``posterior_scale_ * C``, ``C = K** - K*x K^-1 Kx*``. The standard
        deviation and covariance are those of that distribution: the scale
        times ``df_ / (df_ - 2)`` (infinite if ``df_ <= 2``).

        Parameters
        ----------
        X : array-like of shape (n_queries, n_features) or list of object
        return_std : bool, default=False
            Also return the predictive standard deviation.
        return_cov : bool, default=False
            Also return the predictive covariance (not with ``return_std``).

        Returns
        -------
        y_mean : ndarray of shape (n_queries,) or (n_queries, n_targets)
        y_std : ndarray of shape (n_queries,) or (n_queries, n_targets)
            Only with ``return_std``.
        y_cov : ndarray of shape (n_queries, n_queries) or \
(n_queries, n_queries, n_targets)
            Only with ``return_cov``.
        """
        if return_std and return_cov:
            raise ValueError(
                "return_std and return_cov cannot both be True; pick one (the "
                "standard deviation is the square root of the covariance diagonal)."
            )
        check_is_fitted(self)
        X = self._validate_X(X)
        factor = self._var_factor() * self._y_train_std**2

        if return_cov:
            Ks = self.kernel_(X, self.X_train_)
            mean = Ks @ self.alpha_
            W = solve_triangular(self.L_, Ks.T, lower=True, check_finite=False)
            C = self.kernel_(X) - W.T @ W
            cov = C[..., None] * np.atleast_1d(factor)
            return self._undo_mean(mean), self._squeeze(cov, axis=2)

        m = len(X)
        mean = np.empty((m,) + self.y_train_.shape[1:])
        var = np.empty(m) if return_std else None
        step = self._block_rows(len(self.X_train_))
        for start in range(0, m, step):
            Xb = X[start : start + step]
            Ks = self.kernel_(Xb, self.X_train_)
            mean[start : start + step] = Ks @ self.alpha_
            if return_std:
                W = solve_triangular(self.L_, Ks.T, lower=True, check_finite=False)
                var[start : start + step] = self.kernel_.diag(Xb) - np.einsum(
                    "ij,ij->j", W, W
                )
        mean = self._undo_mean(mean)
        if not return_std:
            return mean
        var = np.clip(var, 0.0, None)
        std = np.sqrt(var[:, None] * np.atleast_1d(factor))
        return mean, self._squeeze(std, axis=1)

    def _undo_mean(self, mean):
        mean = mean * self._y_train_std + self._y_train_mean
        return self._squeeze(mean, axis=1)

    @staticmethod
    def _squeeze(a, axis):
        # One column of y was passed as (n, 1): return 1-D outputs like
        # GaussianProcessRegressor does.
        if a.ndim > axis and a.shape[axis] == 1:
            return np.squeeze(a, axis=axis)
        return a

    def sample_y(self, X, n_samples=1, random_state=0):
        """Draw functions from the Student-t predictive at ``X``.

        Each draw takes its own scale ``s ~ IG(a_ + n/2, b_ + beta/2)`` (the
        posterior of the scale) and then ``f ~ N(mean, s C)``; the draws are
        therefore multivariate t with ``df_`` degrees of freedom.

        Parameters
        ----------
        X : array-like of shape (n_queries, n_features) or list of object
        n_samples : int, default=1
            Number of functions drawn.
        random_state : int, RandomState instance or None, default=0
            Seed of the draws.

        Returns
        -------
        y_samples : ndarray of shape (n_queries, n_samples) or \
(n_queries, n_targets, n_samples)
        """
        if not isinstance(n_samples, Integral) or n_samples < 1:
            raise ValueError(
                f"n_samples must be a positive integer, got {n_samples!r}."
            )
        check_is_fitted(self)
        rng = check_random_state(random_state)
        X = self._validate_X(X)
        Ks = self.kernel_(X, self.X_train_)
        mean = (Ks @ self.alpha_).reshape(len(X), -1)
        W = solve_triangular(self.L_, Ks.T, lower=True, check_finite=False)
        C = self.kernel_(X) - W.T @ W
        lam, U = np.linalg.eigh(0.5 * (C + C.T))
        F = U * np.sqrt(np.clip(lam, 0.0, None))
        n = len(self.X_train_)
        T = mean.shape[1]
        shape_post = self.a_ + 0.5 * n
        rate_post = 0.5 * self.df_ * np.atleast_1d(self.posterior_scale_)  # b+beta/2
        s = rate_post[:, None] / rng.gamma(shape_post, 1.0, size=(T, n_samples))
        Z = rng.standard_normal((len(X), T, n_samples))
        f = np.einsum("ij,jts->its", F, Z) * np.sqrt(s)[None]
        f = f + mean[:, :, None]
        std = np.atleast_1d(self._y_train_std)[None, :, None]
        f = f * std + np.atleast_1d(self._y_train_mean)[None, :, None]
        return self._squeeze(f, axis=1)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags
