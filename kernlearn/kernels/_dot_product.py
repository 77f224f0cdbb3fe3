"""Dot-product kernels ``k(x, y) = f(x . y)``: polynomial and linear.

Not stationary: their diagonal depends on ``|x|``, so both implement ``diag``.
Both run fused on every engine (families ``polynomial`` and ``linear`` of
:class:`~kernlearn.backend.KernelSpec`); their values can be negative, so
``kernel_logsumexp`` refuses them.
"""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.gaussian_process import kernels as sk

from ..backend._spec import KernelSpec, profile
from ._base import KernlearnKernelMixin, _check_pair, _check_positive

#: Bounds that ``"auto"`` resolves to for a positive offset.
_DEFAULT_BOUNDS = (1e-5, 1e5)


def _auto_bounds(value, bounds):
    """``"auto"``: optimise a positive offset, freeze one that is 0 (or below)."""
    if isinstance(bounds, str) and bounds == "auto":
        try:
            positive = float(value) > 0
        except (TypeError, ValueError):
            positive = False
        return _DEFAULT_BOUNDS if positive else "fixed"
    return bounds


def _check_finite(value, name):
    try:
        out = float(value)
    except (TypeError, ValueError):
        out = np.nan
    if not np.isfinite(out):
        raise ValueError(f"{name} must be a finite number, got {value!r}.")
    return out


def _gradient_stack(kernel, parts, n):
    """Stack per-hyperparameter gradients in the order of ``kernel.theta``."""
    grads = [
        np.broadcast_to(parts[hp.name], (n, n))[:, :, None]
        for hp in kernel.hyperparameters
        if not hp.fixed
    ]
    if not grads:
        return np.empty((n, n, 0))
    return np.concatenate(grads, axis=2)


class Polynomial(KernlearnKernelMixin, sk.Kernel):
    """Polynomial kernel ``k(x, y) = (gamma x.y + coef0) ^ degree``.

    The kernel of all monomials of the features up to ``degree`` (weighted by
    ``coef0``), as in support vector machines (Scholkopf & Smola 2002, section
    2.1). ``gamma`` and ``coef0`` are hyperparameters (optimised in log space);
    ``degree`` is a fixed positive integer.

    Parameters
    ----------
    degree : int, default=3
        Positive integer exponent.
    gamma : float, default=1.0
        Positive scale of the dot product.
    coef0 : float, default=1.0
        Offset; ``coef0 = 0`` gives the homogeneous polynomial kernel.
    gamma_bounds : pair of floats >= 0 or "fixed", default=(1e-5, 1e5)
        Bounds for optimising ``gamma``.
    coef0_bounds : pair of floats >= 0, "fixed" or "auto", default="auto"
        Bounds for optimising ``coef0``; ``"auto"`` means ``(1e-5, 1e5)`` when
        ``coef0 > 0`` and ``"fixed"`` otherwise (its logarithm is then undefined).

    See Also
    --------
    sklearn.metrics.pairwise.polynomial_kernel : The same kernel as a function.
    Linear : The dot product plus a constant.

    References
    ----------
    .. [1] B. Scholkopf and A. J. Smola, "Learning with Kernels", MIT Press, 2002.

    Examples
    --------
    >>> import numpy as np
    >>> from kernlearn.kernels import Polynomial
    >>> k = Polynomial(degree=2, gamma=0.5, coef0=1.0)
    >>> X = np.array([[1.0, 2.0], [0.0, -1.0]])
    >>> k(X)
    array([[12.25,  0.  ],
           [ 0.  ,  2.25]])
    >>> k.diag(X)
    array([12.25,  2.25])
    """

    def __init__(
        self,
        degree=3,
        gamma=1.0,
        coef0=1.0,
        gamma_bounds=(1e-5, 1e5),
        coef0_bounds="auto",
    ):
        self.degree = degree
        self.gamma = gamma
        self.coef0 = coef0
        self.gamma_bounds = gamma_bounds
        self.coef0_bounds = coef0_bounds

    @property
    def hyperparameter_gamma(self):
        """The ``gamma`` hyperparameter."""
        return sk.Hyperparameter("gamma", "numeric", self.gamma_bounds)

    @property
    def hyperparameter_coef0(self):
        """The ``coef0`` hyperparameter (fixed when ``coef0 <= 0`` under "auto")."""
        return sk.Hyperparameter(
            "coef0", "numeric", _auto_bounds(self.coef0, self.coef0_bounds)
        )

    def _checked(self):
        degree = self.degree
        if (
            isinstance(degree, bool)
            or not isinstance(degree, numbers.Real)
            or not float(degree).is_integer()
            or degree < 1
        ):
            raise ValueError(f"degree must be an integer >= 1, got {degree!r}.")
        gamma = float(_check_positive(self.gamma, "gamma"))
        coef0 = _check_finite(self.coef0, "coef0")
        return gamma, coef0, float(degree)

    def _engine_spec(self) -> KernelSpec:
        return KernelSpec("polynomial", None, self._checked())

    def __call__(self, X, Y=None, eval_gradient=False):
        """Kernel matrix ``k(X, Y)`` and optionally its gradient.

        Parameters
        ----------
        X : ndarray of shape (n_samples_X, n_features)
            Left argument.
        Y : ndarray of shape (n_samples_Y, n_features), default=None
            Right argument; ``None`` evaluates ``k(X, X)``.
        eval_gradient : bool, default=False
            Also return the gradient with respect to the log of the
            hyperparameters (only when ``Y`` is None).

        Returns
        -------
        K : ndarray of shape (n_samples_X, n_samples_Y)
            Kernel values.
        K_gradient : ndarray of shape (n_samples_X, n_samples_X, n_dims)
            Only when ``eval_gradient`` is True; the last axis follows ``theta``.
        """
        X, Y = _check_pair(X, Y)
        if Y is not None and eval_gradient:
            raise ValueError("Gradient can only be evaluated when Y is None.")
        spec = self._engine_spec()
        P = X @ (X if Y is None else Y).T
        K = profile(spec, P)
        if not eval_gradient:
            return K
        gamma, coef0, degree = spec.params
        # dk/dlog(theta) = degree * base^(degree - 1) * dbase/dlog(theta)
        d_base = degree * (gamma * P + coef0) ** (degree - 1.0)
        parts = {"gamma": d_base * gamma * P, "coef0": d_base * coef0}
        return K, _gradient_stack(self, parts, X.shape[0])

    def diag(self, X):
        """Diagonal ``(gamma |x|^2 + coef0) ^ degree`` of ``k(X, X)``.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            Argument of the kernel.

        Returns
        -------
        K_diag : ndarray of shape (n_samples,)
            Diagonal of ``k(X, X)``.
        """
        X, _ = _check_pair(X, None)
        return profile(self._engine_spec(), np.einsum("ij,ij->i", X, X))

    def is_stationary(self):
        """Whether the kernel is stationary: False."""
        return False

    def __repr__(self):
        return (
            f"{type(self).__name__}(degree={self.degree!r}, gamma={self.gamma:.3g}, "
            f"coef0={self.coef0:.3g})"
        )


class Linear(KernlearnKernelMixin, sk.Kernel):
    """Linear (dot-product) kernel ``k(x, y) = sigma_0^2 + x.y``.

    The covariance of Bayesian linear regression with a ``N(0, 1)`` prior on the
    weights and a ``N(0, sigma_0^2)`` prior on the bias (Rasmussen & Williams
    2006, section 4.2.2); ``sigma_0 = 0`` gives the homogeneous kernel ``x . y``.

    Parameters
    ----------
    sigma_0 : float, default=0.0
        Non-negative inhomogeneity (bias standard deviation).
    sigma_0_bounds : pair of floats >= 0, "fixed" or "auto", default="auto"
        Bounds for optimising ``sigma_0``; ``"auto"`` means ``(1e-5, 1e5)`` when
        ``sigma_0 > 0`` and ``"fixed"`` when ``sigma_0 = 0`` (whose logarithm is
        undefined).

    See Also
    --------
    sklearn.gaussian_process.kernels.DotProduct : The same kernel in
        scikit-learn.
    Polynomial : Powers of the (scaled, shifted) dot product.

    References
    ----------
    .. [1] C. E. Rasmussen and C. K. I. Williams, "Gaussian Processes for Machine
       Learning", MIT Press, 2006, section 4.2.2.

    Examples
    --------
    >>> import numpy as np
    >>> from kernlearn.kernels import Linear
    >>> X = np.array([[1.0, 2.0], [0.0, -1.0]])
    >>> Linear(sigma_0=0.5)(X)
    array([[ 5.25, -1.75],
           [-1.75,  1.25]])
    >>> Linear().theta  # sigma_0 = 0 is fixed
    array([], dtype=float64)
    """

    def __init__(self, sigma_0=0.0, sigma_0_bounds="auto"):
        self.sigma_0 = sigma_0
        self.sigma_0_bounds = sigma_0_bounds

    @property
    def hyperparameter_sigma_0(self):
        """The ``sigma_0`` hyperparameter (fixed when ``sigma_0 = 0`` under "auto")."""
        return sk.Hyperparameter(
            "sigma_0", "numeric", _auto_bounds(self.sigma_0, self.sigma_0_bounds)
        )

    def _sigma_0(self):
        sigma_0 = _check_finite(self.sigma_0, "sigma_0")
        if sigma_0 < 0:
            raise ValueError(f"sigma_0 must be non-negative, got {self.sigma_0!r}.")
        return sigma_0

    def _engine_spec(self) -> KernelSpec:
        return KernelSpec("linear", None, (self._sigma_0() ** 2,))

    def __call__(self, X, Y=None, eval_gradient=False):
        """Kernel matrix ``k(X, Y)`` and optionally its gradient.

        Parameters
        ----------
        X : ndarray of shape (n_samples_X, n_features)
            Left argument.
        Y : ndarray of shape (n_samples_Y, n_features), default=None
            Right argument; ``None`` evaluates ``k(X, X)``.
        eval_gradient : bool, default=False
            Also return the gradient with respect to the log of ``sigma_0``
            (only when ``Y`` is None).

        Returns
        -------
        K : ndarray of shape (n_samples_X, n_samples_Y)
            Kernel values.
        K_gradient : ndarray of shape (n_samples_X, n_samples_X, n_dims)
            Only when ``eval_gradient`` is True.
        """
        X, Y = _check_pair(X, Y)
        if Y is not None and eval_gradient:
            raise ValueError("Gradient can only be evaluated when Y is None.")
        spec = self._engine_spec()
        K = profile(spec, X @ (X if Y is None else Y).T)
        if not eval_gradient:
            return K
        parts = {"sigma_0": 2.0 * spec.params[0]}
        return K, _gradient_stack(self, parts, X.shape[0])

    def diag(self, X):
        """Diagonal ``sigma_0^2 + |x|^2`` of ``k(X, X)``.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            Argument of the kernel.

        Returns
        -------
        K_diag : ndarray of shape (n_samples,)
            Diagonal of ``k(X, X)``.
        """
        X, _ = _check_pair(X, None)
        return profile(self._engine_spec(), np.einsum("ij,ij->i", X, X))

    def is_stationary(self):
        """Whether the kernel is stationary: False."""
        return False

    def __repr__(self):
        return f"{type(self).__name__}(sigma_0={self.sigma_0:.3g})"
