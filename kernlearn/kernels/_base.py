"""Base classes of kernlearn kernels (scikit-learn ``Kernel`` protocol).

Every kernlearn kernel subclasses :class:`sklearn.gaussian_process.kernels.Kernel`,
so hyperparameters, ``theta``/``bounds``, ``get_params``/``set_params``, ``clone`` and
``GaussianProcessRegressor`` work as for scikit-learn's own kernels. On top, a kernel
that a fused engine can run returns a plain :class:`~kernlearn.backend.KernelSpec`
from ``_engine_spec()``; ``+``, ``*`` and scalar products build kernlearn ``Sum`` and
``Product`` kernels, and ``c * k`` with a constant ``c`` stays fusable.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.distance import cdist, pdist, squareform
from sklearn.gaussian_process import kernels as sk

from ..backend._spec import KernelSpec, profile


class KernlearnKernelMixin:
    """Operators that keep kernlearn kernels fusable; ``_engine_spec`` default."""

    def _engine_spec(self) -> KernelSpec | None:
        return None

    def __add__(self, b):
        if not isinstance(b, sk.Kernel):
            return Sum(self, sk.ConstantKernel(b))
        return Sum(self, b)

    def __radd__(self, b):
        if not isinstance(b, sk.Kernel):
            return Sum(sk.ConstantKernel(b), self)
        return Sum(b, self)

    def __mul__(self, b):
        if not isinstance(b, sk.Kernel):
            return Product(self, sk.ConstantKernel(b))
        return Product(self, b)

    def __rmul__(self, b):
        if not isinstance(b, sk.Kernel):
            return Product(sk.ConstantKernel(b), self)
        return Product(b, self)


class Sum(KernlearnKernelMixin, sk.Sum):
    """Sum of two kernels, ``k1 + k2`` (runs on numpy blocks)."""


class Product(KernlearnKernelMixin, sk.Product):
    """Product of two kernels, ``k1 * k2``.

    A product of a :class:`~sklearn.gaussian_process.kernels.ConstantKernel` and a
    fusable kernel is itself fusable (the constant becomes the amplitude).
    """

    def _engine_spec(self) -> KernelSpec | None:
        for const, other in ((self.k1, self.k2), (self.k2, self.k1)):
            if isinstance(const, sk.ConstantKernel) and np.ndim(
                const.constant_value
            ) == 0 and const.constant_value > 0:
                get = getattr(other, "_engine_spec", None)
                spec = get() if callable(get) else None
                if spec is not None:
                    return spec.scaled(float(const.constant_value))
        return None


def _check_length_scale(X, length_scale):
    ls = np.squeeze(length_scale).astype(float)
    if np.ndim(ls) > 1:
        raise ValueError("length_scale cannot be of dimension greater than 1.")
    if np.ndim(ls) == 1 and X.shape[1] != ls.shape[0]:
        raise ValueError(
            f"length_scale has {ls.shape[0]} entries but X has {X.shape[1]} "
            "features; pass a scalar or one length scale per feature."
        )
    if np.any(~np.isfinite(ls)) or np.any(ls <= 0):
        raise ValueError(
            f"length_scale must be positive and finite, got {length_scale!r}."
        )
    return ls


class RadialKernel(
    KernlearnKernelMixin, sk.StationaryKernelMixin, sk.NormalizedKernelMixin, sk.Kernel
):
    """Base of stationary kernels ``k(x, y) = g(s)``, ``s = |(x - y) / ls|^2``.

    Subclasses set ``family`` (a :class:`~kernlearn.backend.KernelSpec` family),
    and implement ``_dg_ds(s)``, the derivative of ``g`` with respect to ``s``
    (used for the gradient with respect to ``log(length_scale)``), and
    ``_family_params()`` if the family has parameters.

    Parameters
    ----------
    length_scale : float or ndarray of shape (n_features,), default=1.0
        Positive length scale; an array gives one per feature (anisotropic).
    length_scale_bounds : pair of floats >= 0 or "fixed", default=(1e-5, 1e5)
        Bounds for hyperparameter optimisation; "fixed" freezes it.
    """

    family: str = ""
    variable: str = "sqeuclidean"

    def __init__(self, length_scale=1.0, length_scale_bounds=(1e-5, 1e5)):
        self.length_scale = length_scale
        self.length_scale_bounds = length_scale_bounds

    @property
    def anisotropic(self):
        return np.iterable(self.length_scale) and len(self.length_scale) > 1

    @property
    def hyperparameter_length_scale(self):
        if self.anisotropic:
            return sk.Hyperparameter(
                "length_scale",
                "numeric",
                self.length_scale_bounds,
                len(self.length_scale),
            )
        return sk.Hyperparameter("length_scale", "numeric", self.length_scale_bounds)

    def _family_params(self) -> tuple:
        return ()

    def _engine_spec(self) -> KernelSpec | None:
        return KernelSpec(
            self.family, np.atleast_1d(self.length_scale), self._family_params()
        )

    def _dg_ds(self, s):  # pragma: no cover - abstract
        raise NotImplementedError

    def _distance(self, X, Y, ls):
        metric = "cityblock" if self.variable == "l1" else "sqeuclidean"
        if Y is None:
            return squareform(pdist(X / ls, metric=metric))
        return cdist(X / ls, Y / ls, metric=metric)

    def __call__(self, X, Y=None, eval_gradient=False):
        """Kernel matrix ``k(X, Y)`` and optionally its gradient.

        Parameters
        ----------
        X : ndarray of shape (n_samples_X, n_features)
        Y : ndarray of shape (n_samples_Y, n_features), default=None
            ``None`` evaluates ``k(X, X)``.
        eval_gradient : bool, default=False
            Also return the gradient with respect to the log of the
            hyperparameters (only when ``Y`` is None).

        Returns
        -------
        K : ndarray of shape (n_samples_X, n_samples_Y)
        K_gradient : ndarray of shape (n_samples_X, n_samples_X, n_dims)
            Only when ``eval_gradient`` is True.
        """
        X = np.atleast_2d(np.asarray(X, dtype=np.float64))
        ls = _check_length_scale(X, self.length_scale)
        if Y is not None:
            if eval_gradient:
                raise ValueError("Gradient can only be evaluated when Y is None.")
            Y = np.atleast_2d(np.asarray(Y, dtype=np.float64))
        z = self._distance(X, Y, ls)
        K = profile(self._engine_spec(), z)
        if not eval_gradient:
            return K
        if self.hyperparameter_length_scale.fixed:
            return K, np.empty((X.shape[0], X.shape[0], 0))
        dg = self._dg_ds(z)
        if not self.anisotropic:
            return K, (-2.0 * z * dg)[:, :, None]
        D2 = (X[:, None, :] - X[None, :, :]) ** 2 / ls**2
        return K, -2.0 * D2 * dg[:, :, None]

    def __repr__(self):
        name = type(self).__name__
        extra = "".join(f", {k}={v!r}" for k, v in self._repr_extra().items())
        if self.anisotropic:
            ls = ", ".join(f"{v:.3g}" for v in self.length_scale)
            return f"{name}(length_scale=[{ls}]{extra})"
        return f"{name}(length_scale={np.ravel(self.length_scale)[0]:.3g}{extra})"

    def _repr_extra(self) -> dict:
        return {}


class Gaussian(RadialKernel):
    """Gaussian (RBF) kernel ``k(x, y) = exp(-|x - y|^2 / (2 ls^2))``.

    Parameters
    ----------
    length_scale : float or ndarray of shape (n_features,), default=1.0
        Positive length scale; an array gives one per feature.
    length_scale_bounds : pair of floats >= 0 or "fixed", default=(1e-5, 1e5)
        Bounds for hyperparameter optimisation.

    See Also
    --------
    sklearn.gaussian_process.kernels.RBF : The same kernel in scikit-learn.

    Examples
    --------
    >>> import numpy as np
    >>> from kernlearn.kernels import Gaussian
    >>> Gaussian(2.0)(np.array([[0.0]]), np.array([[2.0]])).round(6)
    array([[0.606531]])
    """

    family = "gaussian"

    def _dg_ds(self, s):
        return -0.5 * np.exp(-0.5 * s)
