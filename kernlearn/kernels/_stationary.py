"""Stationary kernels ``k(x, y) = g(|x - y| / ls)`` beyond the Gaussian.

Each kernel is a :class:`~kernlearn.kernels.RadialKernel`: it names a
:class:`~kernlearn.backend.KernelSpec` family (so every engine runs it fused) and
supplies the derivative of its profile for gradients with respect to the log of
its hyperparameters. Values and gradients are formed from ``s = |(x - y) / ls|^2``
(or the scaled L1 distance ``t`` for :class:`L1Laplacian`) and are exact to double
precision; the general-``nu`` Matern kernel works in log space throughout, so it
neither overflows nor underflows at large distances or large ``nu``.
"""

from __future__ import annotations

import numpy as np
from scipy.special import gammaln
from sklearn.gaussian_process import kernels as sk

from ..utils._special import log_kv
from ._base import RadialKernel, _check_positive


# ``s * g'(s)`` of the profiles shared by several kernels; each is finite (and 0) at
# s = 0 even where g'(0) itself is not.
def _laplacian_s_dg(s):
    r = np.sqrt(s)
    return -0.5 * r * np.exp(-r)


def _matern32_s_dg(s):
    return -1.5 * s * np.exp(-np.sqrt(3.0 * s))


def _matern52_s_dg(s):
    a = np.sqrt(5.0 * s)
    return -(5.0 / 6.0) * s * (1.0 + a) * np.exp(-a)


def _gaussian_s_dg(s):
    return -0.5 * s * np.exp(-0.5 * s)


def _matern_s_dg(nu, s):
    """``s g'(s)`` of the Matern profile of order ``nu``, from log space.

    With ``x = sqrt(2 nu s)`` and ``d/dx [x^nu K_nu(x)] = -x^nu K_{nu-1}(x)``,
    ``-2 s g'(s) = 2^(1 - nu) / Gamma(nu) * x^(nu + 1) K_{nu-1}(x)``.
    """
    s = np.asarray(s, dtype=np.float64)
    out = np.zeros_like(s)
    pos = s > 0
    x = np.sqrt(2.0 * nu * s[pos])
    log_g = (
        (1.0 - nu) * np.log(2.0)
        - gammaln(nu)
        + (nu + 1.0) * np.log(x)
        + log_kv(nu - 1.0, x)
    )
    with np.errstate(under="ignore"):
        out[pos] = -0.5 * np.exp(log_g)
    return out


class Laplacian(RadialKernel):
    """Laplacian (exponential) kernel ``k(x, y) = exp(-|x - y| / ls)``.

    Uses the Euclidean distance: the Ornstein-Uhlenbeck kernel, identical to the
    Matern kernel with ``nu = 1/2`` (Rasmussen & Williams 2006, section 4.2.1). For the
    L1 (Manhattan) distance, as in :func:`sklearn.metrics.pairwise.laplacian_kernel`,
    use :class:`L1Laplacian`.

    Parameters
    ----------
    length_scale : float or ndarray of shape (n_features,), default=1.0
        Positive length scale; an array gives one per feature.
    length_scale_bounds : pair of floats >= 0 or "fixed", default=(1e-5, 1e5)
        Bounds for hyperparameter optimisation.

    See Also
    --------
    sklearn.gaussian_process.kernels.Matern : ``Matern(nu=0.5)`` is this kernel.
    L1Laplacian : The same profile of the L1 distance.

    References
    ----------
    .. [1] C. E. Rasmussen and C. K. I. Williams, "Gaussian Processes for Machine
       Learning", MIT Press, 2006, section 4.2.1.

    Examples
    --------
    >>> import numpy as np
    >>> from kernlearn.kernels import Laplacian
    >>> Laplacian(2.0)(np.array([[0.0, 0.0]]), np.array([[3.0, 4.0]])).round(6)
    array([[0.082085]])
    """

    family = "laplacian"

    def _s_dg_ds(self, s):
        return _laplacian_s_dg(s)


class L1Laplacian(RadialKernel):
    """Laplacian kernel of the L1 distance ``exp(-sum_k |x_k - y_k| / ls_k)``.

    The product over features of one-dimensional exponential kernels; with a
    scalar ``length_scale`` it equals
    ``sklearn.metrics.pairwise.laplacian_kernel(X, Y, gamma=1 / length_scale)``.

    Parameters
    ----------
    length_scale : float or ndarray of shape (n_features,), default=1.0
        Positive length scale; an array gives one per feature.
    length_scale_bounds : pair of floats >= 0 or "fixed", default=(1e-5, 1e5)
        Bounds for hyperparameter optimisation.

    See Also
    --------
    sklearn.metrics.pairwise.laplacian_kernel : The same kernel as a function.
    Laplacian : The same profile of the Euclidean distance.

    References
    ----------
    .. [1] C. E. Rasmussen and C. K. I. Williams, "Gaussian Processes for Machine
       Learning", MIT Press, 2006, sections 4.2.1 (the exponential kernel) and
       4.2.4 (products of kernels).

    Examples
    --------
    >>> import numpy as np
    >>> from kernlearn.kernels import L1Laplacian
    >>> L1Laplacian(2.0)(np.array([[0.0, 0.0]]), np.array([[3.0, 4.0]])).round(6)
    array([[0.030197]])
    """

    family = "l1_laplacian"
    variable = "l1"

    def _dg_ds(self, t):
        return -np.exp(-t)


class Matern(RadialKernel):
    """Matern kernel of smoothness ``nu``.

    ``k(x, y) = 2^(1 - nu) / Gamma(nu) * (sqrt(2 nu) r)^nu K_nu(sqrt(2 nu) r)`` with
    ``r = |x - y| / ls`` and ``K_nu`` the modified Bessel function of the second
    kind (Rasmussen & Williams 2006, eq. 4.14). ``nu = 0.5, 1.5, 2.5`` have closed
    forms (run as the ``laplacian``, ``matern32`` and ``matern52`` families),
    ``nu = inf`` is the Gaussian kernel, and any other ``nu > 0`` is evaluated in
    log space through a stable ``log K_nu``, so large ``r`` or large ``nu`` (say
    300) neither overflow nor underflow before the final exponential.

    Parameters
    ----------
    length_scale : float or ndarray of shape (n_features,), default=1.0
        Positive length scale; an array gives one per feature.
    length_scale_bounds : pair of floats >= 0 or "fixed", default=(1e-5, 1e5)
        Bounds for hyperparameter optimisation.
    nu : float, default=1.5
        Positive smoothness; the kernel's sample paths are ``ceil(nu) - 1`` times
        differentiable. Not a hyperparameter (it is not optimised).

    See Also
    --------
    sklearn.gaussian_process.kernels.Matern : The same kernel in scikit-learn.
    Laplacian : ``nu = 0.5``.
    Gaussian : The limit ``nu -> inf``.

    References
    ----------
    .. [1] C. E. Rasmussen and C. K. I. Williams, "Gaussian Processes for Machine
       Learning", MIT Press, 2006, section 4.2.1.
    .. [2] M. L. Stein, "Interpolation of Spatial Data: Some Theory for Kriging",
       Springer, 1999.

    Examples
    --------
    >>> import numpy as np
    >>> from kernlearn.kernels import Matern
    >>> X, Y = np.array([[0.0]]), np.array([[1.0]])
    >>> Matern(1.0, nu=1.5)(X, Y).round(6)
    array([[0.483358]])
    >>> Matern(1.0, nu=3.7)(X, Y).round(6)
    array([[0.547957]])
    >>> Matern(1.0, nu=300.0)(X, Y).round(6)  # near exp(-1/2); scipy's kv overflows
    array([[0.605772]])
    """

    def __init__(self, length_scale=1.0, length_scale_bounds=(1e-5, 1e5), nu=1.5):
        super().__init__(length_scale, length_scale_bounds)
        self.nu = nu

    def _nu(self):
        try:
            nu = float(self.nu)
        except (TypeError, ValueError):
            nu = np.nan
        if not nu > 0:  # also catches NaN
            raise ValueError(f"nu must be positive, got {self.nu!r}.")
        return nu

    def _family(self):
        nu = self._nu()
        return {0.5: "laplacian", 1.5: "matern32", 2.5: "matern52"}.get(
            nu, "gaussian" if np.isinf(nu) else "matern"
        )

    def _family_params(self):
        return (self._nu(),) if self._family() == "matern" else ()

    def _s_dg_ds(self, s):
        family = self._family()
        if family == "matern":
            return _matern_s_dg(self._nu(), s)
        return {
            "laplacian": _laplacian_s_dg,
            "matern32": _matern32_s_dg,
            "matern52": _matern52_s_dg,
            "gaussian": _gaussian_s_dg,
        }[family](s)

    def _repr_extra(self):
        return {"nu": self.nu}


class RationalQuadratic(RadialKernel):
    """Rational quadratic kernel ``k(x, y) = (1 + |x - y|^2 / (2 alpha ls^2))^-alpha``.

    A scale mixture of Gaussian kernels whose inverse squared length scales are
    Gamma distributed with shape ``alpha`` (Rasmussen & Williams 2006, eq. 4.19);
    it tends to the Gaussian kernel as ``alpha -> inf``. Both ``length_scale``
    (isotropic or one per feature) and ``alpha`` are hyperparameters.

    Parameters
    ----------
    length_scale : float or ndarray of shape (n_features,), default=1.0
        Positive length scale; an array gives one per feature.
    alpha : float, default=1.0
        Positive scale-mixture parameter.
    length_scale_bounds : pair of floats >= 0 or "fixed", default=(1e-5, 1e5)
        Bounds for optimising ``length_scale``.
    alpha_bounds : pair of floats >= 0 or "fixed", default=(1e-5, 1e5)
        Bounds for optimising ``alpha``.

    See Also
    --------
    sklearn.gaussian_process.kernels.RationalQuadratic : The same kernel in
        scikit-learn (isotropic only).
    Cauchy : ``alpha = 1`` with the length scale divided by ``sqrt(2)``.

    References
    ----------
    .. [1] C. E. Rasmussen and C. K. I. Williams, "Gaussian Processes for Machine
       Learning", MIT Press, 2006, section 4.2.1.

    Examples
    --------
    >>> import numpy as np
    >>> from kernlearn.kernels import RationalQuadratic
    >>> k = RationalQuadratic(1.0, alpha=0.5)
    >>> k(np.array([[0.0]]), np.array([[1.0]])).round(6)
    array([[0.707107]])
    >>> k.theta.round(4)  # log(alpha), log(length_scale)
    array([-0.6931,  0.    ])
    """

    family = "rational_quadratic"

    def __init__(
        self,
        length_scale=1.0,
        alpha=1.0,
        length_scale_bounds=(1e-5, 1e5),
        alpha_bounds=(1e-5, 1e5),
    ):
        super().__init__(length_scale, length_scale_bounds)
        self.alpha = alpha
        self.alpha_bounds = alpha_bounds

    @property
    def hyperparameter_alpha(self):
        """The ``alpha`` hyperparameter."""
        return sk.Hyperparameter("alpha", "numeric", self.alpha_bounds)

    def _alpha(self):
        return float(_check_positive(self.alpha, "alpha"))

    def _family_params(self):
        return (self._alpha(),)

    def _dg_ds(self, s):
        alpha = self._alpha()
        return -0.5 * np.exp(-(alpha + 1.0) * np.log1p(s / (2.0 * alpha)))

    def _extra_gradients(self, s, K):
        alpha = self._alpha()
        u = s / (2.0 * alpha)
        # d log k / d alpha = -log(1 + u) + u / (1 + u)
        return {"alpha": alpha * K * (u / (1.0 + u) - np.log1p(u))}

    def _repr_extra(self):
        return {"alpha": self.alpha}


class Cauchy(RadialKernel):
    """Cauchy kernel ``k(x, y) = 1 / (1 + |x - y|^2 / ls^2)``.

    Heavy-tailed (polynomial decay), positive definite in every dimension: the
    rational quadratic kernel of Rasmussen & Williams (2006, eq. 4.19) with
    ``alpha = 1`` and length scale ``ls / sqrt(2)``.

    Parameters
    ----------
    length_scale : float or ndarray of shape (n_features,), default=1.0
        Positive length scale; an array gives one per feature.
    length_scale_bounds : pair of floats >= 0 or "fixed", default=(1e-5, 1e5)
        Bounds for hyperparameter optimisation.

    See Also
    --------
    RationalQuadratic : The general family.
    sklearn.gaussian_process.kernels.RationalQuadratic : ``alpha=1`` with the
        length scale divided by ``sqrt(2)``.

    References
    ----------
    .. [1] C. E. Rasmussen and C. K. I. Williams, "Gaussian Processes for Machine
       Learning", MIT Press, 2006, section 4.2.1.

    Examples
    --------
    >>> import numpy as np
    >>> from kernlearn.kernels import Cauchy
    >>> Cauchy(2.0)(np.array([[0.0]]), np.array([[2.0]])).round(6)
    array([[0.5]])
    """

    family = "cauchy"

    def _dg_ds(self, s):
        return -1.0 / (1.0 + s) ** 2


class Epanechnikov(RadialKernel):
    """Epanechnikov kernel ``k(x, y) = max(0, 1 - r^2)``, ``r = |x - y| / ls``.

    The compactly supported density kernel of minimal asymptotic mean integrated
    squared error (Epanechnikov 1969), unnormalised (``k(x, x) = 1``). It is a
    smoothing kernel for density estimation, not a positive-definite kernel in
    general: do not use it for Gaussian processes.

    Parameters
    ----------
    length_scale : float or ndarray of shape (n_features,), default=1.0
        Positive support radius (bandwidth); an array gives one per feature.
    length_scale_bounds : pair of floats >= 0 or "fixed", default=(1e-5, 1e5)
        Bounds for hyperparameter optimisation.

    See Also
    --------
    sklearn.neighbors.KernelDensity : Its ``kernel="epanechnikov"`` is this shape.

    References
    ----------
    .. [1] B. W. Silverman, "Density Estimation for Statistics and Data Analysis",
       Chapman & Hall, 1986, section 3.3.2 and table 3.1.
    .. [2] V. A. Epanechnikov, "Non-parametric estimation of a multivariate
       probability density", Theory of Probability & Its Applications 14(1),
       153-158, 1969.

    Examples
    --------
    >>> import numpy as np
    >>> from kernlearn.kernels import Epanechnikov
    >>> Epanechnikov(2.0)(np.array([[0.0]]), np.array([[1.0], [3.0]])).round(6)
    array([[0.75, 0.  ]])
    """

    family = "epanechnikov"

    def _dg_ds(self, s):
        return np.where(s < 1.0, -1.0, 0.0)


class Tophat(RadialKernel):
    """Top-hat (uniform) kernel ``k(x, y) = 1 if |x - y| < ls else 0``.

    The indicator of the open ball of radius ``length_scale``, unnormalised. A
    smoothing kernel for density estimation; its gradient with respect to the
    length scale is zero almost everywhere.

    Parameters
    ----------
    length_scale : float or ndarray of shape (n_features,), default=1.0
        Positive support radius (bandwidth); an array gives one per feature.
    length_scale_bounds : pair of floats >= 0 or "fixed", default=(1e-5, 1e5)
        Bounds for hyperparameter optimisation.

    See Also
    --------
    sklearn.neighbors.KernelDensity : Its ``kernel="tophat"`` is this shape.

    References
    ----------
    .. [1] B. W. Silverman, "Density Estimation for Statistics and Data Analysis",
       Chapman & Hall, 1986, section 3.3.2 and table 3.1.
    .. [2] V. A. Epanechnikov, "Non-parametric estimation of a multivariate
       probability density", Theory of Probability & Its Applications 14(1),
       153-158, 1969.

    Examples
    --------
    >>> import numpy as np
    >>> from kernlearn.kernels import Tophat
    >>> Tophat(2.0)(np.array([[0.0]]), np.array([[1.0], [2.0], [3.0]]))
    array([[1., 0., 0.]])
    """

    family = "tophat"

    def _dg_ds(self, s):
        return np.zeros_like(s)


class Triangular(RadialKernel):
    """Triangular kernel ``k(x, y) = max(0, 1 - r)``, ``r = |x - y| / ls``.

    Compactly supported and unnormalised; positive definite in one dimension
    only, so mainly a smoothing kernel for density estimation.

    Parameters
    ----------
    length_scale : float or ndarray of shape (n_features,), default=1.0
        Positive support radius (bandwidth); an array gives one per feature.
    length_scale_bounds : pair of floats >= 0 or "fixed", default=(1e-5, 1e5)
        Bounds for hyperparameter optimisation.

    See Also
    --------
    sklearn.neighbors.KernelDensity : Its ``kernel="linear"`` is this shape.

    References
    ----------
    .. [1] B. W. Silverman, "Density Estimation for Statistics and Data Analysis",
       Chapman & Hall, 1986, section 3.3.2 and table 3.1.
    .. [2] V. A. Epanechnikov, "Non-parametric estimation of a multivariate
       probability density", Theory of Probability & Its Applications 14(1),
       153-158, 1969.

    Examples
    --------
    >>> import numpy as np
    >>> from kernlearn.kernels import Triangular
    >>> Triangular(2.0)(np.array([[0.0]]), np.array([[1.0], [3.0]])).round(6)
    array([[0.5, 0. ]])
    """

    family = "triangular"

    def _s_dg_ds(self, s):
        r = np.sqrt(s)
        return np.where(r < 1.0, -0.5 * r, 0.0)


class Cosine(RadialKernel):
    """Cosine kernel ``k(x, y) = cos(pi r / 2)`` for ``r = |x - y| / ls < 1``, else 0.

    Compactly supported and unnormalised, a smoothing kernel for density
    estimation (not positive definite in general).

    Parameters
    ----------
    length_scale : float or ndarray of shape (n_features,), default=1.0
        Positive support radius (bandwidth); an array gives one per feature.
    length_scale_bounds : pair of floats >= 0 or "fixed", default=(1e-5, 1e5)
        Bounds for hyperparameter optimisation.

    See Also
    --------
    sklearn.neighbors.KernelDensity : Its ``kernel="cosine"`` is this shape.

    References
    ----------
    .. [1] B. W. Silverman, "Density Estimation for Statistics and Data Analysis",
       Chapman & Hall, 1986, section 3.3.2 and table 3.1.
    .. [2] V. A. Epanechnikov, "Non-parametric estimation of a multivariate
       probability density", Theory of Probability & Its Applications 14(1),
       153-158, 1969.

    Examples
    --------
    >>> import numpy as np
    >>> from kernlearn.kernels import Cosine
    >>> Cosine(2.0)(np.array([[0.0]]), np.array([[1.0], [3.0]])).round(6)
    array([[0.707107, 0.      ]])
    """

    family = "cosine"

    def _s_dg_ds(self, s):
        r = np.sqrt(s)
        inside = r < 1.0
        return np.where(
            inside, -0.25 * np.pi * r * np.sin(0.5 * np.pi * np.minimum(r, 1.0)), 0.0
        )
