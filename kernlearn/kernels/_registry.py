"""Resolve kernel names such as ``"rbf"`` or ``"matern"`` to kernel objects."""

from __future__ import annotations

from sklearn.base import clone
from sklearn.gaussian_process.kernels import Kernel

from ._base import Gaussian
from ._dot_product import Linear, Polynomial
from ._stationary import (
    Cauchy,
    Cosine,
    Epanechnikov,
    L1Laplacian,
    Laplacian,
    Matern,
    RationalQuadratic,
    Tophat,
    Triangular,
)

#: name -> kernel class; aliases map to the same class.
KERNELS = {
    "rbf": Gaussian,
    "gaussian": Gaussian,
    "laplacian": Laplacian,
    "exponential": Laplacian,
    "l1_laplacian": L1Laplacian,
    "manhattan": L1Laplacian,
    "matern": Matern,
    "rational_quadratic": RationalQuadratic,
    "rq": RationalQuadratic,
    "cauchy": Cauchy,
    "epanechnikov": Epanechnikov,
    "tophat": Tophat,
    "triangular": Triangular,
    "cosine": Cosine,
    "polynomial": Polynomial,
    "poly": Polynomial,
    "linear": Linear,
}


def get_kernel(name, **params):
    """Kernel object from a name and parameters, or a clone of a kernel object.

    Parameters
    ----------
    name : str or Kernel
        One of ``"rbf"``/``"gaussian"``, ``"laplacian"``/``"exponential"``,
        ``"l1_laplacian"``/``"manhattan"``, ``"matern"``,
        ``"rational_quadratic"``/``"rq"``, ``"cauchy"``, ``"epanechnikov"``,
        ``"tophat"``, ``"triangular"``, ``"cosine"``, ``"polynomial"``/``"poly"``
        or ``"linear"`` (case and ``-``/``_`` do not matter); or a kernel object
        (kernlearn's or scikit-learn's), which is cloned.
    **params : dict
        Constructor parameters of the named kernel (for a kernel object: set on
        the clone with ``set_params``).

    Returns
    -------
    kernel : Kernel
        A new kernel object; a kernel passed in is never modified.

    Raises
    ------
    ValueError
        If ``name`` is not a known kernel name; the message lists the valid ones.

    See Also
    --------
    sklearn.metrics.pairwise.pairwise_kernels : Scikit-learn's string kernels.

    Examples
    --------
    >>> from kernlearn.kernels import Gaussian, get_kernel
    >>> get_kernel("rbf", length_scale=2.0)
    Gaussian(length_scale=2)
    >>> get_kernel("matern", nu=2.5)
    Matern(length_scale=1, nu=2.5)
    >>> get_kernel(Gaussian(3.0), length_scale=0.5)
    Gaussian(length_scale=0.5)
    """
    if isinstance(name, Kernel):
        kernel = clone(name)
        return kernel.set_params(**params) if params else kernel
    if not isinstance(name, str):
        raise TypeError(
            "kernel must be a kernel name (str) or a kernel object, got "
            f"{type(name).__name__}."
        )
    key = name.strip().lower().replace("-", "_")
    if key not in KERNELS:
        valid = ", ".join(repr(k) for k in KERNELS)
        raise ValueError(f"Unknown kernel {name!r}; valid names are {valid}.")
    return KERNELS[key](**params)
