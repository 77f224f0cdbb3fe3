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
    """Operators that keep kernlearn kernels fusable; ``_engine_spec`` default.

    ``k1 + k2`` and ``k1 * k2`` build kernlearn :class:`Sum` and :class:`Product`
    kernels, and a number ``c`` in ``c * k`` or ``k + c`` becomes a
    :class:`~sklearn.gaussian_process.kernels.ConstantKernel`. A kernel that no
    fused engine can run returns ``None`` from ``_engine_spec()`` and is evaluated
    through ``kernel(X, Y)`` blocks.

    Examples
    --------
    >>> from kernlearn.kernels import Gaussian
    >>> k = 3.0 * Gaussian(1.5)
    >>> type(k).__name__, k._engine_spec().amplitude
    ('Product', 3.0)
    """

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
    """Sum of two kernels, ``k1 + k2`` (runs on numpy blocks).

    Parameters
    ----------
    k1 : Kernel
        First summand.
    k2 : Kernel
        Second summand.

    See Also
    --------
    sklearn.gaussian_process.kernels.Sum : The scikit-learn operator it extends.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.gaussian_process.kernels import WhiteKernel
    >>> from kernlearn.kernels import Gaussian
    >>> k = Gaussian(1.0) + WhiteKernel(0.5)
    >>> k(np.array([[0.0], [1.0]])).round(4)
    array([[1.5   , 0.6065],
           [0.6065, 1.5   ]])
    """


class Product(KernlearnKernelMixin, sk.Product):
    """Product of two kernels, ``k1 * k2``.

    A product of a :class:`~sklearn.gaussian_process.kernels.ConstantKernel` and a
    fusable kernel is itself fusable (the constant becomes the amplitude).

    Parameters
    ----------
    k1 : Kernel
        First factor.
    k2 : Kernel
        Second factor.

    See Also
    --------
    sklearn.gaussian_process.kernels.Product : The scikit-learn operator it extends.

    Examples
    --------
    >>> import numpy as np
    >>> from kernlearn.kernels import Gaussian
    >>> k = 2.0 * Gaussian(1.0)
    >>> k(np.array([[0.0]]), np.array([[1.0]])).round(4)
    array([[1.2131]])
    >>> k._engine_spec().amplitude
    2.0
    """

    def _engine_spec(self) -> KernelSpec | None:
        for const, other in ((self.k1, self.k2), (self.k2, self.k1)):
            if (
                isinstance(const, sk.ConstantKernel)
                and np.ndim(const.constant_value) == 0
                and const.constant_value > 0
            ):
                get = getattr(other, "_engine_spec", None)
                spec = get() if callable(get) else None
                if spec is not None:
                    return spec.scaled(float(const.constant_value))
        return None


def _check_array(X, name="X"):
    """``X`` as a 2-D float64 array, or a ValueError that says how to fix it."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(
            f"{name} must be a 2-D array of shape (n_samples, n_features), got an "
            f"array with {X.ndim} dimension(s); reshape a single feature with "
            f"{name}.reshape(-1, 1)."
        )
    return X


def _check_pair(X, Y):
    """Validate ``X`` and (unless None) ``Y`` with matching ``n_features``."""
    X = _check_array(X, "X")
    if Y is not None:
        Y = _check_array(Y, "Y")
        if Y.shape[1] != X.shape[1]:
            raise ValueError(
                f"X has n_features={X.shape[1]} but Y has n_features={Y.shape[1]}."
            )
    return X, Y


def _check_positive(value, name):
    """Raise a ValueError naming ``name`` unless ``value`` is positive and finite."""
    arr = np.asarray(value, dtype=np.float64)
    if arr.size == 0 or np.any(~np.isfinite(arr)) or np.any(arr <= 0):
        raise ValueError(f"{name} must be positive and finite, got {value!r}.")
    return arr


def _check_length_scale(X, length_scale):
    try:
        ls = np.squeeze(np.asarray(length_scale, dtype=np.float64))
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"length_scale must be a positive float or array, got {length_scale!r}."
        ) from exc
    if np.ndim(ls) > 1:
        raise ValueError("length_scale cannot be of dimension greater than 1.")
    _check_positive(ls, "length_scale")
    if np.ndim(ls) == 1 and X.shape[1] != ls.shape[0]:
        raise ValueError(
            f"length_scale has {ls.shape[0]} entries but X has n_features="
            f"{X.shape[1]}; pass a scalar or one length scale per feature."
        )
    return ls


class RadialKernel(
    KernlearnKernelMixin, sk.StationaryKernelMixin, sk.NormalizedKernelMixin, sk.Kernel
):
    """Base of stationary kernels ``k(x, y) = g(s)``, ``s = |(x - y) / ls|^2``.

    Subclasses set ``family`` (a :class:`~kernlearn.backend.KernelSpec` family),
    and implement ``_dg_ds(s)``, the derivative of ``g`` with respect to ``s``
    (used for the gradient with respect to ``log(length_scale)``), and
    ``_family_params()`` if the family has parameters. Where ``g'`` is singular
    at ``s = 0`` (Laplacian, Matern with ``nu <= 1``, triangular) they implement
    ``s * g'(s)`` as ``_s_dg_ds(s)`` instead. Families of the scaled L1 distance
    ``t = sum_k |x_k - y_k| / ls_k`` set ``variable = "l1"``; ``s`` then reads ``t``.
    Further hyperparameters (such as ``alpha``) contribute their gradients through
    ``_extra_gradients(s, K)``.

    Parameters
    ----------
    length_scale : float or ndarray of shape (n_features,), default=1.0
        Positive length scale; an array gives one per feature (anisotropic).
    length_scale_bounds : pair of floats >= 0 or "fixed", default=(1e-5, 1e5)
        Bounds for hyperparameter optimisation; "fixed" freezes it.

    Examples
    --------
    >>> from kernlearn.kernels import Gaussian, RadialKernel
    >>> isinstance(Gaussian(), RadialKernel), Gaussian().is_stationary()
    (True, True)
    """

    family: str = ""
    variable: str = "sqeuclidean"

    def __init__(self, length_scale=1.0, length_scale_bounds=(1e-5, 1e5)):
        self.length_scale = length_scale
        self.length_scale_bounds = length_scale_bounds

    @property
    def anisotropic(self):
        """Whether there is one length scale per feature."""
        return np.iterable(self.length_scale) and len(self.length_scale) > 1

    @property
    def hyperparameter_length_scale(self):
        """The ``length_scale`` hyperparameter (one element per feature if any)."""
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

    def _family(self) -> str:
        return self.family

    def _engine_spec(self) -> KernelSpec | None:
        ls = _check_positive(self.length_scale, "length_scale")
        return KernelSpec(self._family(), np.atleast_1d(ls), self._family_params())

    def _dg_ds(self, s):  # pragma: no cover - abstract
        raise NotImplementedError

    def _s_dg_ds(self, s):
        """``s * g'(s)``; override where ``g'`` is singular at 0."""
        return s * self._dg_ds(s)

    def _extra_gradients(self, s, K) -> dict:
        """Gradients of ``K`` w.r.t. the log of hyperparameters other than
        ``length_scale``: ``{name: ndarray of shape (n, n)}``."""
        return {}

    def _distance(self, X, Y, ls):
        metric = "cityblock" if self.variable == "l1" else "sqeuclidean"
        if Y is None:
            return squareform(pdist(X / ls, metric=metric))
        return cdist(X / ls, Y / ls, metric=metric)

    def _length_scale_gradient(self, X, z, ls):
        # s depends on log(ls_k) through -2 (x_k - y_k)^2 / ls_k^2 and t through
        # -|x_k - y_k| / ls_k, so dk/dlog(ls) = -c z g'(z) (c = 2 for s, 1 for t).
        c = 1.0 if self.variable == "l1" else 2.0
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            zg = np.where(z > 0, self._s_dg_ds(z), 0.0)
        if not self.anisotropic:
            return (-c * zg)[:, :, None]
        diff = X[:, None, :] - X[None, :, :]
        if self.variable == "l1":
            part = np.abs(diff) / ls
        else:
            part = diff**2 / ls**2
        # g'(z) = zg / z is finite for z > 0; k(x, x) does not depend on ls.
        pos = z > 0
        dg = np.zeros_like(z)
        dg[pos] = zg[pos] / z[pos]
        return -c * dg[:, :, None] * part

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
        ls = _check_length_scale(X, self.length_scale)
        z = self._distance(X, Y, ls)
        K = profile(self._engine_spec(), z)
        if not eval_gradient:
            return K
        n = X.shape[0]
        extra = None
        grads = []
        for hp in self.hyperparameters:
            if hp.fixed:
                continue
            if hp.name == "length_scale":
                grads.append(self._length_scale_gradient(X, z, ls))
            else:
                if extra is None:
                    extra = self._extra_gradients(z, K)
                grads.append(np.reshape(extra[hp.name], (n, n, -1)))
        if not grads:
            return K, np.empty((n, n, 0))
        return K, np.concatenate(grads, axis=2)

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

    The squared-exponential kernel of Gaussian-process regression
    (Rasmussen & Williams 2006, eq. 4.9): infinitely differentiable, positive
    definite in every dimension.

    Parameters
    ----------
    length_scale : float or ndarray of shape (n_features,), default=1.0
        Positive length scale; an array gives one per feature.
    length_scale_bounds : pair of floats >= 0 or "fixed", default=(1e-5, 1e5)
        Bounds for hyperparameter optimisation.

    See Also
    --------
    sklearn.gaussian_process.kernels.RBF : The same kernel in scikit-learn.

    References
    ----------
    .. [1] C. E. Rasmussen and C. K. I. Williams, "Gaussian Processes for Machine
       Learning", MIT Press, 2006, section 4.2.

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
