"""Spectral measures of shift-invariant kernels, for random Fourier features.

By Bochner's theorem a continuous shift-invariant kernel with ``k(0) = 1`` is the
characteristic function of a probability measure ``p`` (its spectral measure):
``k(x - y) = E_{w ~ p} cos(w . (x - y))``. This module samples ``p`` for the
stationary kernels of :mod:`kernlearn.kernels` with exactly their conventions
(length scale ``h``; ``r = x - y``). Each law is derived for ``h = 1``; a length
scale (scalar or one per feature) divides the frequencies, ``w = w_1 / h``, since
``k(r) = k_1(r / h)``.

=================  ==============================  =================================
kernel             ``k(r)``, ``h = 1``             ``w ~ p`` (``g ~ N(0, I_d)``)
=================  ==============================  =================================
``gaussian``       ``exp(-|r|^2 / 2)``             ``g``
``laplacian``      ``exp(-|r|)``                   ``g / |s|``, ``s ~ N(0, 1)``
``l1_laplacian``   ``exp(-sum_k |r_k|)``           iid ``Cauchy(0, 1)`` coordinates
``cauchy``         ``1 / (1 + |r|^2)``             ``sqrt(2 e) g``, ``e ~ Exp(1)``
``matern``         Matern of order ``nu``          ``g sqrt(2 nu / c)``,
                                                   ``c ~ chi^2_{2 nu}``
=================  ==============================  =================================

Derivations (``E cos(w . r)`` for each law):

- Gaussian: ``E cos(g . r) = exp(-|r|^2 / 2)``, the characteristic function of
  ``N(0, I)``.
- Cauchy: ``1 / (1 + |r|^2) = int_0^inf exp(-e) exp(-e |r|^2) de`` and
  ``exp(-e |r|^2)`` is the characteristic function of ``N(0, 2 e I)``: a Gaussian
  scale mixture with ``e ~ Exp(1)``.
- Matern: its spectral density is proportional to
  ``(2 nu / h^2 + |w|^2)^-(nu + d/2)`` (Rasmussen & Williams 2006, eq. 4.15, in
  angular frequency), the multivariate Student t density with ``2 nu`` degrees of
  freedom and scale ``1 / h``: ``(1 + |w|^2 h^2 / (2 nu))^-((2 nu + d) / 2)``. A t
  vector is ``g / sqrt(c / (2 nu))`` with ``c ~ chi^2_{2 nu}`` independent of ``g``.
  ``nu = 1/2`` gives the Laplacian, ``nu -> inf`` the Gaussian.
- Laplacian: the Matern kernel with ``nu = 1/2``: a t vector with one degree of
  freedom, i.e. the multivariate Cauchy ``g / |s|``.
- L1 Laplacian: a product over coordinates of ``exp(-|r_k|)``, each the
  characteristic function of a standard Cauchy variable.

All but the L1 Laplacian are radial (``p`` is invariant under rotations), so
``w = R u`` with ``u`` uniform on the sphere and an independent radius ``R``; the
law of ``R`` (:meth:`SpectralMeasure.sample_radius`) is what orthogonal random
features (Yu et al. 2016) need: ``R^2 = chi^2_d`` (Gaussian),
``chi^2_d / chi^2_1`` (Laplacian), ``2 e chi^2_d`` (Cauchy) and
``2 nu chi^2_d / chi^2_{2 nu}`` (Matern), all divided by ``h^2``.

References
----------
.. [1] A. Rahimi and B. Recht, "Random features for large-scale kernel machines",
   NeurIPS 2007.
.. [2] C. E. Rasmussen and C. K. I. Williams, "Gaussian Processes for Machine
   Learning", MIT Press, 2006, section 4.2.1.
.. [3] F. X. Yu, A. T. Suresh, K. Choromanski, D. Holtmann-Rice and S. Kumar,
   "Orthogonal random features", NeurIPS 2016.
"""

from __future__ import annotations

from numbers import Integral

import numpy as np
from sklearn.gaussian_process.kernels import Kernel
from sklearn.utils import check_random_state

from ..kernels import Cauchy, Gaussian, L1Laplacian, Laplacian, Matern

#: Accepted names (lower case, ``-`` read as ``_``) -> canonical name.
SPECTRAL_KERNELS = {
    "gaussian": "gaussian",
    "rbf": "gaussian",
    "laplacian": "laplacian",
    "exponential": "laplacian",
    "l1_laplacian": "l1_laplacian",
    "manhattan": "l1_laplacian",
    "cauchy": "cauchy",
    "matern": "matern",
}

_CLASSES = {
    "gaussian": Gaussian,
    "laplacian": Laplacian,
    "l1_laplacian": L1Laplacian,
    "cauchy": Cauchy,
}


def _check_count(value, name):
    if isinstance(value, bool) or not isinstance(value, Integral) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}.")
    return int(value)


def _check_length_scale(length_scale):
    try:
        ls = np.asarray(length_scale, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            "length_scale must be a positive float or a 1-D array of positive "
            f"floats, got {length_scale!r}."
        ) from None
    if ls.ndim > 1 or ls.size == 0 or not np.all(np.isfinite(ls)) or np.any(ls <= 0):
        raise ValueError(
            "length_scale must be a positive, finite float or a 1-D array of them "
            f"(one per feature), got {length_scale!r}."
        )
    return float(ls) if ls.ndim == 0 else ls


class SpectralMeasure:
    """Spectral measure ``p`` of a shift-invariant kernel: ``k(r) = E cos(w.r)``.

    Build one with :func:`spectral_measure`. The module docstring derives each law.

    Parameters
    ----------
    name : {"gaussian", "laplacian", "l1_laplacian", "cauchy", "matern"}
        Canonical kernel name.
    length_scale : float or ndarray of shape (n_features,), default=1.0
        Positive length scale ``h``; frequencies are divided by it.
    nu : float, default=1.5
        Matern order (only for ``name="matern"``; ``0.5`` and ``inf`` are
        normalised to ``"laplacian"`` and ``"gaussian"`` by
        :func:`spectral_measure`).

    Attributes
    ----------
    radial : bool
        Whether ``p`` is rotation invariant (all but ``"l1_laplacian"``).

    Examples
    --------
    >>> import numpy as np
    >>> from kernlearn.kernel_approximation._spectral import spectral_measure
    >>> m = spectral_measure("matern", length_scale=2.0, nu=2.5)
    >>> w = m.sample(200_000, 3, random_state=0)
    >>> r = np.array([1.0, 0.5, -0.5])
    >>> k = m.kernel()(r[None], np.zeros((1, 3)))  # the Matern kernel at r
    >>> print(round(np.cos(w @ r).mean(), 3), k.round(3))
    0.762 [[0.761]]
    """

    def __init__(self, name, length_scale=1.0, nu=1.5):
        self.name = name
        self.length_scale = length_scale
        self.nu = nu

    @property
    def radial(self):
        """Whether the measure is rotation invariant."""
        return self.name != "l1_laplacian"

    def __repr__(self):
        extra = f", nu={self.nu!r}" if self.name == "matern" else ""
        return (
            f"SpectralMeasure({self.name!r}, length_scale={self.length_scale!r}{extra})"
        )

    def kernel(self):
        """The :mod:`kernlearn.kernels` object whose spectral measure this is.

        Returns
        -------
        kernel : Kernel
            ``Gaussian``, ``Laplacian``, ``L1Laplacian``, ``Cauchy`` or ``Matern``
            with this length scale (and ``nu``).
        """
        if self.name == "matern":
            return Matern(self.length_scale, nu=self.nu)
        return _CLASSES[self.name](self.length_scale)

    def _scale(self, W):
        ls = self.length_scale
        if np.ndim(ls) == 1 and np.shape(ls)[0] != W.shape[1]:
            raise ValueError(
                f"length_scale has {np.shape(ls)[0]} entries but n_features="
                f"{W.shape[1]}; pass a scalar or one length scale per feature."
            )
        return W / ls

    def sample_unit(self, n_samples, n_features, random_state=None):
        """Frequencies of the measure at unit length scale.

        Parameters
        ----------
        n_samples : int
            Number of frequencies.
        n_features : int
            Dimension ``d``.
        random_state : int, RandomState instance or None, default=None
            Seed or generator.

        Returns
        -------
        W : ndarray of shape (n_samples, n_features)
            Rows ``w`` with ``E cos(w . r) = k_1(r)``.
        """
        n = _check_count(n_samples, "n_samples")
        d = _check_count(n_features, "n_features")
        rng = check_random_state(random_state)
        if self.name == "l1_laplacian":
            return rng.standard_cauchy((n, d))
        return rng.standard_normal((n, d)) * self._radial_scale(n, rng)[:, None]

    def _radial_scale(self, n, rng):
        """Per-row factor ``a`` of the Gaussian scale mixture ``w = a g``."""
        if self.name == "gaussian":
            return np.ones(n)
        if self.name == "laplacian":
            return 1.0 / np.abs(rng.standard_normal(n))
        if self.name == "cauchy":
            return np.sqrt(2.0 * rng.standard_exponential(n))
        nu = float(self.nu)
        return np.sqrt(2.0 * nu / rng.chisquare(2.0 * nu, n))

    def sample(self, n_samples, n_features, random_state=None):
        """Frequencies ``w ~ p`` for this kernel and length scale.

        Parameters
        ----------
        n_samples : int
            Number of frequencies.
        n_features : int
            Dimension ``d``; must match a per-feature ``length_scale``.
        random_state : int, RandomState instance or None, default=None
            Seed or generator.

        Returns
        -------
        W : ndarray of shape (n_samples, n_features)
            Rows ``w`` with ``E cos(w . (x - y)) = k(x, y)``.
        """
        return self._scale(self.sample_unit(n_samples, n_features, random_state))

    def sample_radius_unit(self, n_samples, n_features, random_state=None):
        """Norms ``|w|`` of the measure at unit length scale (radial law).

        Parameters
        ----------
        n_samples : int
            Number of radii.
        n_features : int
            Dimension ``d`` (the law depends on it).
        random_state : int, RandomState instance or None, default=None
            Seed or generator.

        Returns
        -------
        radii : ndarray of shape (n_samples,)

        Raises
        ------
        ValueError
            For the L1 Laplacian, whose measure is not radial.
        """
        if not self.radial:
            raise ValueError(
                "The L1 Laplacian kernel's spectral measure (iid Cauchy coordinates) "
                "is not rotation invariant and has no radial law; use a radial "
                "kernel or plain random features."
            )
        n = _check_count(n_samples, "n_samples")
        d = _check_count(n_features, "n_features")
        rng = check_random_state(random_state)
        return np.sqrt(rng.chisquare(d, n)) * self._radial_scale(n, rng)

    def sample_radius(self, n_samples, n_features, random_state=None):
        """Norms ``|w|`` of ``w ~ p`` (needs a scalar ``length_scale``).

        ``w = R u`` with ``u`` uniform on the unit sphere, independent of ``R``.

        Parameters
        ----------
        n_samples : int
            Number of radii.
        n_features : int
            Dimension ``d``.
        random_state : int, RandomState instance or None, default=None
            Seed or generator.

        Returns
        -------
        radii : ndarray of shape (n_samples,)
        """
        if np.ndim(self.length_scale) != 0:
            raise ValueError(
                "length_scale must be a scalar for the radial law: with one length "
                "scale per feature the measure is not rotation invariant; scale the "
                "inputs by 1 / length_scale and use sample_radius_unit."
            )
        radii = self.sample_radius_unit(n_samples, n_features, random_state)
        return radii / float(self.length_scale)


def spectral_measure(kernel="gaussian", *, length_scale=1.0, nu=1.5):
    """The spectral measure of a shift-invariant kernel.

    Parameters
    ----------
    kernel : str or Kernel, default="gaussian"
        A name (``"gaussian"``/``"rbf"``, ``"laplacian"``/``"exponential"``,
        ``"l1_laplacian"``/``"manhattan"``, ``"cauchy"``, ``"matern"``; case and
        ``-``/``_`` do not matter) or a :class:`~kernlearn.kernels.Gaussian`,
        :class:`~kernlearn.kernels.Laplacian`,
        :class:`~kernlearn.kernels.L1Laplacian`, :class:`~kernlearn.kernels.Cauchy`
        or :class:`~kernlearn.kernels.Matern` object, whose ``length_scale`` (and
        ``nu``) are then used instead of the arguments below.
    length_scale : float or array-like of shape (n_features,), default=1.0
        Positive length scale ``h`` (one per feature for anisotropic kernels).
    nu : float, default=1.5
        Positive Matern order (``inf`` is the Gaussian); ignored by other kernels.

    Returns
    -------
    measure : SpectralMeasure

    Raises
    ------
    ValueError
        If ``kernel`` is not one of these, or a parameter is out of range.

    Examples
    --------
    >>> from kernlearn.kernels import Matern
    >>> from kernlearn.kernel_approximation._spectral import spectral_measure
    >>> spectral_measure("RBF", length_scale=2.0)
    SpectralMeasure('gaussian', length_scale=2.0)
    >>> spectral_measure(Matern(0.5, nu=0.5))
    SpectralMeasure('laplacian', length_scale=0.5)
    """
    if isinstance(kernel, Kernel):
        cls = type(kernel)
        if cls not in (Gaussian, Laplacian, L1Laplacian, Cauchy, Matern):
            raise ValueError(
                f"kernel={kernel!r} has no spectral sampler; use one of Gaussian, "
                "Laplacian, L1Laplacian, Cauchy or Matern from kernlearn.kernels "
                f"(or a name among {sorted(SPECTRAL_KERNELS)})."
            )
        name = {v: k for k, v in _CLASSES.items()}.get(cls, "matern")
        length_scale = kernel.length_scale
        nu = getattr(kernel, "nu", nu)
    elif isinstance(kernel, str):
        key = kernel.strip().lower().replace("-", "_")
        if key not in SPECTRAL_KERNELS:
            raise ValueError(
                f"kernel={kernel!r} is not a kernel with a spectral sampler; use one "
                f"of {sorted(SPECTRAL_KERNELS)} or a kernlearn kernel object."
            )
        name = SPECTRAL_KERNELS[key]
    else:
        raise ValueError(
            f"kernel must be a name or a kernlearn kernel object, got {kernel!r}."
        )
    ls = _check_length_scale(length_scale)
    if name == "matern":
        try:
            nu = float(nu)
        except (TypeError, ValueError):
            nu = np.nan
        if not nu > 0:
            raise ValueError(f"nu must be positive (inf allowed), got {nu!r}.")
        if nu == 0.5:
            name = "laplacian"
        elif np.isinf(nu):
            name = "gaussian"
    return SpectralMeasure(name, ls, nu if name == "matern" else 1.5)
