"""Plain descriptions of kernels that the fused engines compile.

A kernel object that an engine can run fused returns a :class:`KernelSpec` from its
``_engine_spec()`` method: a family name, the length scales, a few numbers, and an
amplitude. Engines never call back into Python per pair; they read the spec.

Families and the variable their profile is a function of (``ls`` = length scales):

=====================  ==========  ==============================================
family                 variable    value ``g`` (before ``amplitude``)
=====================  ==========  ==============================================
``gaussian``           s           ``exp(-s / 2)``
``laplacian``          s           ``exp(-r)``, ``r = sqrt(s)``
``matern32``           s           ``(1 + sqrt(3) r) exp(-sqrt(3) r)``
``matern52``           s           ``(1 + sqrt(5) r + 5 s / 3) exp(-sqrt(5) r)``
``matern``             s           general ``nu = params[0]`` (log-Bessel)
``rational_quadratic`` s           ``(1 + s / (2 alpha)) ** -alpha``, alpha=params[0]
``cauchy``             s           ``1 / (1 + s)``
``epanechnikov``       s           ``max(0, 1 - s)``
``tophat``             s           ``1 if s < 1 else 0``
``triangular``         s           ``max(0, 1 - r)``
``cosine``             s           ``cos(pi r / 2) if r < 1 else 0``
``l1_laplacian``       t           ``exp(-t)``
``polynomial``         p           ``(gamma p + coef0) ** degree``; params = (gamma,
                                   coef0, degree)
``linear``             p           ``sigma0_sq + p``; params = (sigma0_sq,)
=====================  ==========  ==============================================

with ``s = sum_k ((x_k - y_k) / ls_k)^2`` (squared scaled Euclidean distance),
``t = sum_k |x_k - y_k| / ls_k`` (scaled L1 distance) and ``p = x . y`` (dot product;
``length_scale`` is ``None`` for these families).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..utils._special import log_kv

SQEUCLIDEAN_FAMILIES = frozenset(
    {
        "gaussian",
        "laplacian",
        "matern32",
        "matern52",
        "matern",
        "rational_quadratic",
        "cauchy",
        "epanechnikov",
        "tophat",
        "triangular",
        "cosine",
    }
)
L1_FAMILIES = frozenset({"l1_laplacian"})
DOT_FAMILIES = frozenset({"polynomial", "linear"})
FAMILIES = SQEUCLIDEAN_FAMILIES | L1_FAMILIES | DOT_FAMILIES
#: Families whose values can be negative: ``kernel_logsumexp`` refuses them.
SIGNED_FAMILIES = DOT_FAMILIES
#: Families with compact support (values exactly zero beyond ``r = 1``).
COMPACT_FAMILIES = frozenset({"epanechnikov", "tophat", "triangular", "cosine"})


@dataclass(frozen=True, eq=False)
class KernelSpec:
    """Plain description of a kernel for the fused engines.

    Parameters
    ----------
    family : str
        One of :data:`FAMILIES`.
    length_scale : ndarray of shape (1,) or (n_features,), or None
        Length scales of stationary families (float64, positive); ``None`` for the
        dot-product families.
    params : tuple of float
        Family parameters (see the module docstring).
    amplitude : float
        Positive constant factor applied to every value.

    Examples
    --------
    A kernel that an engine can run fused describes itself by a spec:

    >>> from kernlearn.backend import KernelSpec
    >>> from kernlearn.kernels import Gaussian, Matern
    >>> Gaussian(2.0)._engine_spec()
    KernelSpec(family='gaussian', length_scale=array([2.]), params=(), amplitude=1.0)
    >>> Matern(1.0, nu=1.5)._engine_spec().family
    'matern32'
    >>> KernelSpec("gaussian", length_scale=[1.0, 3.0]).length_scale
    array([1., 3.])
    """

    family: str
    length_scale: np.ndarray | None = None
    params: tuple = field(default_factory=tuple)
    amplitude: float = 1.0

    def __post_init__(self):
        if self.family not in FAMILIES:
            raise ValueError(f"Unknown kernel family {self.family!r}.")
        if self.family in DOT_FAMILIES:
            if self.length_scale is not None:
                raise ValueError("Dot-product families take no length_scale.")
        else:
            ls = np.atleast_1d(np.asarray(self.length_scale, dtype=np.float64))
            if ls.ndim != 1 or not np.all(np.isfinite(ls)) or np.any(ls <= 0):
                raise ValueError(
                    "length_scale must be positive and finite, got "
                    f"{self.length_scale!r}."
                )
            object.__setattr__(self, "length_scale", ls)
        amp = float(self.amplitude)
        if not (np.isfinite(amp) and amp > 0):
            raise ValueError(f"amplitude must be positive, got {self.amplitude!r}.")
        object.__setattr__(self, "amplitude", amp)
        object.__setattr__(self, "params", tuple(float(p) for p in self.params))

    @property
    def variable(self) -> str:
        """``"sqeuclidean"``, ``"l1"`` or ``"dot"``."""
        if self.family in SQEUCLIDEAN_FAMILIES:
            return "sqeuclidean"
        if self.family in L1_FAMILIES:
            return "l1"
        return "dot"

    @property
    def signed(self) -> bool:
        """Whether the kernel can take negative values."""
        return self.family in SIGNED_FAMILIES

    def scaled(self, factor: float) -> KernelSpec:
        """The same kernel multiplied by a positive constant."""
        return KernelSpec(
            self.family, self.length_scale, self.params, self.amplitude * factor
        )

    def scale_inputs(self, X, Y, xp=np):
        """Divide stationary inputs by the length scales (engines then use ls = 1).

        Returns ``X, Y`` unchanged for dot-product families. The division keeps
        the dtype of the inputs.
        """
        if self.length_scale is None:
            return X, Y
        ls = self.length_scale
        if ls.shape[0] not in (1, X.shape[1]):
            raise ValueError(
                f"length_scale has {ls.shape[0]} entries but X has "
                f"n_features={X.shape[1]}; pass a scalar or one length scale per "
                "feature."
            )
        if np.all(ls == 1.0):
            return X, Y
        inv = xp.asarray(1.0 / ls, dtype=X.dtype)
        return X * inv, Y * inv


def profile(spec: KernelSpec, z: np.ndarray) -> np.ndarray:
    """Kernel values from the family variable ``z`` (s, t or p), with amplitude."""
    z = np.asarray(z)
    with np.errstate(invalid="ignore", over="ignore", under="ignore"):
        out = np.asarray(_unit(spec.family, spec.params, z), dtype=z.dtype)
    if spec.amplitude != 1.0:
        out = out * z.dtype.type(spec.amplitude)
    return out


def log_profile(spec: KernelSpec, z: np.ndarray) -> np.ndarray:
    """``log`` of the kernel values from the family variable, with amplitude.

    Finite wherever the kernel is positive (no underflow of the exponential):
    ``-inf`` outside a compact support. Signed families are refused.
    """
    if spec.family in SIGNED_FAMILIES:
        raise ValueError(
            f"The {spec.family!r} kernel can be negative, so its logarithm is "
            "undefined; use kernel_sum instead of kernel_logsumexp."
        )
    z = np.asarray(z)
    with np.errstate(divide="ignore", invalid="ignore", under="ignore"):
        out = np.asarray(_log_unit(spec.family, spec.params, z), dtype=z.dtype)
    if spec.amplitude != 1.0:
        out = out + z.dtype.type(np.log(spec.amplitude))
    return out


def _unit(fam, prm, z):
    if fam == "polynomial":
        gamma, coef0, degree = prm
        return (gamma * z + coef0) ** degree
    if fam == "linear":
        return prm[0] + z
    if fam == "epanechnikov":
        return np.maximum(1.0 - z, 0.0)
    if fam == "tophat":
        return (z < 1.0).astype(z.dtype)
    if fam == "triangular":
        return np.maximum(1.0 - np.sqrt(z), 0.0)
    if fam == "cosine":
        r = np.sqrt(z)
        return np.where(r < 1.0, np.cos(0.5 * np.pi * np.minimum(r, 1.0)), 0.0)
    if fam == "cauchy":
        return 1.0 / (1.0 + z)
    return np.exp(_log_unit(fam, prm, z))


def _log_unit(fam, prm, z):
    if fam == "gaussian":
        return -0.5 * z
    if fam == "laplacian":
        return -np.sqrt(z)
    if fam == "l1_laplacian":
        return -z
    if fam == "matern32":
        a = np.sqrt(3.0 * z)
        return np.log1p(a) - a
    if fam == "matern52":
        a = np.sqrt(5.0 * z)
        return np.log1p(a + 5.0 * z / 3.0) - a
    if fam == "matern":
        return _log_matern(prm[0], z)
    if fam == "rational_quadratic":
        alpha = prm[0]
        return -alpha * np.log1p(z / (2.0 * alpha))
    if fam == "cauchy":
        return -np.log1p(z)
    return np.log(_unit(fam, prm, z))  # compact families: -inf off the support


def _log_matern(nu, s):
    """log of the Matern kernel of order nu at squared scaled distance s."""
    s = np.asarray(s, dtype=np.float64)
    x = np.sqrt(2.0 * nu * s)
    out = np.zeros_like(x)
    pos = x > 0
    xp = x[pos]
    from scipy.special import gammaln

    out[pos] = (1.0 - nu) * np.log(2.0) - gammaln(nu) + nu * np.log(xp) + log_kv(nu, xp)
    # Rounding can lift log k a hair above 0 near x = 0; k <= 1 exactly.
    return np.minimum(out, 0.0)
