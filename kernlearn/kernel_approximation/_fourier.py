"""Random-feature maps ``z`` with ``z(x) . z(y) ~ k(x, y)``.

Three families, each a scikit-learn transformer:

- :class:`RandomFourierFeatures`: trigonometric features of shift-invariant
  kernels (Rahimi & Recht 2007), with i.i.d. (``"rff"``), orthogonal (``"orf"``)
  or structured orthogonal (``"sorf"``) frequencies (Yu et al. 2016);
- :class:`PositiveRandomFeatures`: the positive features of the softmax and
  Gaussian kernels of Performer's FAVOR+ (Choromanski et al. 2021);
- :class:`ArcCosineFeatures`: rectified-polynomial features of the arc-cosine
  kernels (Cho & Saul 2009), with their closed form :func:`arccos_kernel`.

The spectral measures behind the first come from
:mod:`kernlearn.kernel_approximation._spectral`. Transforms run in blocks of rows
sized by ``kernlearn.get_config()["working_memory"]``.
"""

from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.gaussian_process.kernels import Kernel
from sklearn.utils import check_random_state, gen_batches
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from .._config import get_config
from ..backend import cos_sin, hadamard_chain, is_dask_array, map_row_blocks
from ._spectral import SPECTRAL_KERNELS, spectral_measure

# ----------------------------------------------------------------------- helpers


def _orthogonal_rows(n_rows, d, rng):
    """``n_rows`` unit vectors in ``R^d``, in blocks of ``d`` mutually orthogonal.

    Each block is the (sign-fixed) Q factor of a Gaussian matrix, so the block
    is distributed like rows of a Haar orthogonal matrix and every row is
    uniform on the sphere; blocks are independent.
    """
    out = np.empty((n_rows, d))
    n_full, rest = divmod(n_rows, d)
    if n_full:
        Q, R = np.linalg.qr(rng.standard_normal((n_full, d, d)))
        signs = np.where(np.diagonal(R, axis1=1, axis2=2) < 0, -1.0, 1.0)
        Q = Q * signs[:, None, :]  # columns of Q: orthonormal, Haar
        out[: n_full * d] = np.swapaxes(Q, 1, 2).reshape(n_full * d, d)
    if rest:
        Q, R = np.linalg.qr(rng.standard_normal((d, rest)))
        Q = Q * np.where(np.diag(R) < 0, -1.0, 1.0)
        out[n_full * d :] = Q.T
    return out


def _row_batches(n_rows, floats_per_row):
    """Row slices whose temporaries fit in the configured working memory."""
    budget = get_config()["working_memory"] * 2**20
    size = max(1, int(budget // (8 * max(1, floats_per_row))))
    return gen_batches(n_rows, size)


def _pad_pow2(d):
    return 1 << (d - 1).bit_length()


class _RandomFeaturesBase(
    ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator
):
    """Shared ``transform``: validation, blocks, and the feature count."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False  # dense only: features are dense anyway
        return tags

    def transform(self, X):
        """Map ``X`` to random features.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Finite input.

        Returns
        -------
        Z : ndarray of shape (n_samples, n_components)
            A dask array, chunked like ``X``'s rows, when ``X`` is one: each
            row block is mapped on the Dask workers, nothing is computed
            until asked.
        """
        check_is_fitted(self)
        if is_dask_array(X):
            return map_row_blocks(self, "transform", X,
                                  n_outputs=self._n_features_out,
                                  n_features=self.n_features_in_)  # fmt: skip
        X = validate_data(self, X, dtype=np.float64, reset=False)
        Z = np.empty((X.shape[0], self._n_features_out))
        for rows in _row_batches(X.shape[0], self._floats_per_row()):
            self._features(X[rows], Z[rows])
        return Z


# ------------------------------------------------------------- Fourier features


class RandomFourierFeatures(_RandomFeaturesBase):
    """Random Fourier features of a shift-invariant kernel.

    ``z(x) = [cos(W x), sin(W x)] / sqrt(D)`` with ``D = n_components / 2``
    (even ``n_components``) frequencies ``w_j`` drawn from the kernel's
    spectral measure ``p`` (Bochner's theorem, Rahimi & Recht 2007), so that
    ``z(x) . z(y) = (1/D) sum_j cos(w_j . (x - y))`` estimates
    ``k(x, y) = E cos(w . (x - y))`` without bias. The ``[cos, sin]`` pair per
    frequency has lower variance than the random-phase map
    ``sqrt(2) cos(w . x + b)`` at the same number of features (Sutherland &
    Schneider 2015): with i.i.d. frequencies each term has variance
    ``E cos^2(w . r) - k(r)^2 = (1 + k(2r)) / 2 - k(r)^2``, so

    ``Var[z(x) . z(y)] = (1 + k(2r) - 2 k(r)^2) / (2 D)``, ``r = x - y``.

    An odd ``n_components = 2 D + 1`` appends one random-phase feature
    ``sqrt(2) cos(w' . x + b)``, ``b ~ U[0, 2 pi)`` (Rahimi & Recht's map, for which
    ``E 2 cos(w' . x + b) cos(w' . y + b) = k(x, y)``), and all features are
    divided by ``sqrt(D + 1)`` instead: the estimate stays unbiased, and any
    number of features works.

    Frequencies come in three kinds (``method``):

    - ``"rff"``: i.i.d. ``w ~ p``; for every kernel of
      :func:`~kernlearn.kernel_approximation._spectral.spectral_measure`.
    - ``"orf"`` (Yu et al. 2016): blocks of ``d`` orthogonal directions (the Q
      factor of a Gaussian matrix, signs fixed so that it is Haar distributed)
      times independent radii from the radial law of ``p``. Each row is
      distributed exactly as ``p``, so the estimate stays unbiased; orthogonality
      within a block lowers the variance (for the Gaussian kernel, Yu et al.
      prove it to leading order in ``1/d``; at ``|r| = h`` in ``d = 16`` it is
      about a sixth of that of ``"rff"``). Radial kernels only (not
      ``"l1_laplacian"``).
    - ``"sorf"`` (Yu et al. 2016): the Haar block is replaced by
      ``M = H D1 H D2 H D3``, ``H`` the normalised ``p x p`` Walsh-Hadamard
      matrix (``p`` = ``d`` padded to a power of two with zero features) and
      ``D_i`` random Rademacher diagonals; row ``j`` of a block is
      ``R_j M_j`` with radii ``R_j`` from the ``p``-dimensional radial law.
      Projections cost ``O(p log p)`` per block of ``p`` frequencies through
      :func:`fwht`, and the ``d x D`` frequency matrix is never formed. What is
      exact: each block is orthogonal and the radii have the right law; if the
      rows of ``M`` were uniform on the sphere, the first ``d`` coordinates of
      ``R_j M_j`` would be distributed exactly as ``p`` in ``d`` dimensions
      (``p``-dimensional Gaussian scale mixtures have ``d``-dimensional
      marginals of the same family). What is approximate: rows of ``M`` are not
      uniform on the sphere, which biases the estimate. Measured at ``|r| = h``
      over ``10^5`` frequencies: ``d = 16``, Gaussian ``0.0006 +- 0.0006``
      (``k = 0.61``), Laplacian ``0.0025 +- 0.0019`` (``k = 0.37``), i.e. not
      distinguishable from 0; but ``d = 2``, Gaussian ``0.028 +- 0.002``:
      for very small ``d``, ``M`` has few distinct rows, so prefer ``"orf"``.
      Unlike Yu et al., who scale all Gaussian rows by ``sqrt(d) / h``, radii
      are drawn for every kernel, which removes the bias a fixed norm adds.

    Parameters
    ----------
    kernel : {"gaussian", "rbf", "laplacian", "exponential", "l1_laplacian", \
"manhattan", "cauchy", "matern"} or Kernel, default="gaussian"
        Kernel to approximate, with the conventions of :mod:`kernlearn.kernels`
        (``exp(-|r|^2 / (2 h^2))``, ``exp(-|r| / h)``, ``exp(-sum |r_k| / h_k)``,
        ``1 / (1 + |r|^2 / h^2)``, Matern). A
        :class:`~kernlearn.kernels.Gaussian`, ``Laplacian``, ``L1Laplacian``,
        ``Cauchy`` or ``Matern`` object is read for its ``length_scale`` and
        ``nu``, and ``length_scale`` and ``nu`` below are then ignored.
    length_scale : float or array-like of shape (n_features,), default=1.0
        Positive length scale ``h``, one per feature for an anisotropic kernel
        (inputs are divided by it).
    nu : float, default=1.5
        Positive Matern order (``inf`` is the Gaussian); ignored by other kernels.
    n_components : int, default=256
        Number of output features: ``n_components // 2`` cos/sin pairs, plus one
        random-phase feature when odd.
    method : {"rff", "orf", "sorf"}, default="rff"
        How frequencies are drawn; see above.
    random_state : int, RandomState instance or None, default=None
        Seeds the frequencies.

    Attributes
    ----------
    spectral_measure_ : SpectralMeasure
        The sampled measure (at the resolved length scale).
    length_scale_ : float or ndarray of shape (n_features,)
        Length scale in use (inputs are divided by it).
    random_weights_ : ndarray of shape (n_features, (n_components + 1) // 2)
        Frequencies at unit length scale (``"rff"`` and ``"orf"`` only); the
        last is that of the random-phase feature when ``n_components`` is odd.
    random_offset_ : float or None
        Phase ``b`` of the random-phase feature (``None`` for even
        ``n_components``).
    random_signs_ : ndarray of shape (n_blocks, 3, p)
        Rademacher diagonals ``D1, D2, D3`` of each block (``"sorf"`` only).
    random_radii_ : ndarray of shape (n_blocks, p)
        Row radii at unit length scale (``"sorf"`` only).
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Defined only when ``X`` has string feature names.

    See Also
    --------
    sklearn.kernel_approximation.RBFSampler : Random-phase Gaussian features.
    PositiveRandomFeatures : Positive features of the softmax kernel.

    References
    ----------
    .. [1] A. Rahimi and B. Recht, "Random features for large-scale kernel
       machines", NeurIPS 2007.
    .. [2] D. J. Sutherland and J. Schneider, "On the error of random Fourier
       features", UAI 2015.
    .. [3] F. X. Yu, A. T. Suresh, K. Choromanski, D. Holtmann-Rice and S. Kumar,
       "Orthogonal random features", NeurIPS 2016.

    Examples
    --------
    >>> import numpy as np
    >>> from kernlearn.kernels import Matern
    >>> from kernlearn.kernel_approximation._fourier import RandomFourierFeatures
    >>> X = np.array([[0.0, 0.0, 0.0], [0.5, -0.5, 1.0]])
    >>> rff = RandomFourierFeatures(Matern(2.0, nu=2.5), n_components=20_000,
    ...                             method="orf", random_state=0)
    >>> Z = rff.fit_transform(X)
    >>> print(Z.shape, round(Z[0] @ Z[1], 2), Matern(2.0, nu=2.5)(X)[0, 1].round(2))
    (2, 20000) 0.76 0.76
    """

    _parameter_constraints: dict = {
        "kernel": [StrOptions(set(SPECTRAL_KERNELS)), Kernel],
        "length_scale": [Interval(Real, 0, None, closed="neither"), "array-like"],
        "nu": [Interval(Real, 0, None, closed="neither")],
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "method": [StrOptions({"rff", "orf", "sorf"})],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        kernel="gaussian",
        *,
        length_scale=1.0,
        nu=1.5,
        n_components=256,
        method="rff",
        random_state=None,
    ):
        self.kernel = kernel
        self.length_scale = length_scale
        self.nu = nu
        self.n_components = n_components
        self.method = method
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Draw the frequencies for inputs shaped like ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Only its number of features is used.
        y : None
            Ignored.

        Returns
        -------
        self : RandomFourierFeatures
        """
        X = validate_data(self, X, dtype=np.float64)
        d = X.shape[1]
        measure = spectral_measure(
            self.kernel, length_scale=self.length_scale, nu=self.nu
        )
        ls = measure.length_scale
        if np.ndim(ls) == 1 and ls.shape[0] != d:
            raise ValueError(
                f"length_scale has {ls.shape[0]} entries but X has n_features={d}; "
                "pass a scalar or one length scale per feature."
            )
        if self.method != "rff" and not measure.radial:
            raise ValueError(
                f"method={self.method!r} needs a radial kernel; the L1 Laplacian's "
                "spectral measure is not rotation invariant. Use method='rff'."
            )
        rng = check_random_state(self.random_state)
        D = (self.n_components + 1) // 2  # frequencies, the phase one included
        for name in ("random_weights_", "random_signs_", "random_radii_"):
            self.__dict__.pop(name, None)
        if self.method == "rff":
            self.random_weights_ = measure.sample_unit(D, d, rng).T
        elif self.method == "orf":
            directions = _orthogonal_rows(D, d, rng)
            radii = measure.sample_radius_unit(D, d, rng)
            self.random_weights_ = (directions * radii[:, None]).T
        else:
            p = _pad_pow2(d)
            n_blocks = -(-D // p)
            self.random_signs_ = rng.choice([-1.0, 1.0], size=(n_blocks, 3, p))
            self.random_radii_ = measure.sample_radius_unit(
                n_blocks * p, p, rng
            ).reshape(n_blocks, p)
        self.random_offset_ = (
            rng.uniform(0.0, 2.0 * np.pi) if self.n_components % 2 else None
        )
        self.spectral_measure_ = measure
        self.length_scale_ = ls
        self._n_features_out = self.n_components
        return self

    def _floats_per_row(self):
        if self.method == "sorf":
            return 3 * self.random_radii_.size + self.n_components
        return self.n_components + self.n_features_in_

    def _projections(self, X):
        """``W x`` at the fitted length scale, ``(n, (n_components + 1) // 2)``."""
        if self.method != "sorf":
            return (X / self.length_scale_) @ self.random_weights_
        return hadamard_chain(X, self._diagonals(), (self.n_components + 1) // 2)

    def _diagonals(self):
        """SORF's chain ``R H D1 H D2 H (D3 / h)`` as :func:`hadamard_chain` input.

        Each ``H`` is normalised by ``1 / sqrt(p)`` through the diagonal applied
        after it; the length scale is folded into the first diagonal.
        """
        signs, radii = self.random_signs_, self.random_radii_
        n_blocks, _, p = signs.shape
        scale = 1.0 / math.sqrt(p)
        diag = np.empty((n_blocks, 4, p))
        diag[:, 0] = scale * radii
        diag[:, 1] = scale * signs[:, 0]
        diag[:, 2] = scale * signs[:, 1]
        diag[:, 3] = signs[:, 2]
        diag[:, 3, : self.n_features_in_] /= self.length_scale_
        return diag

    def _features(self, X, out):
        P = self._projections(X)
        D = P.shape[1]
        half = self.n_components // 2
        cos_sin(P[:, :half], 1.0 / math.sqrt(D), out=out[:, : 2 * half])
        if self.n_components % 2:
            out[:, -1] = np.cos(P[:, -1] + self.random_offset_) * math.sqrt(2.0 / D)
        return out


# ------------------------------------------------------ positive random features


class PositiveRandomFeatures(_RandomFeaturesBase):
    """Positive random features of the softmax kernel ``exp(x.y)`` (FAVOR+).

    ``phi(x) = exp(W x - |x|^2 / 2) / sqrt(m)`` with ``m = n_components`` rows
    ``w ~ N(0, I)`` (Choromanski et al. 2021). Since
    ``E exp(w . z) = exp(|z|^2 / 2)``, with ``z = x + y``

    ``E phi(x) . phi(y) = exp(|x + y|^2 / 2 - |x|^2 / 2 - |y|^2 / 2) = exp(x . y)``,

    an unbiased estimate whose terms are all positive (unlike trigonometric
    features, whose estimates of small kernel values can be negative). Each term
    has variance ``exp(2 x . y) (exp(|x + y|^2) - 1)``, so the estimate has that
    divided by ``m``: small where ``x`` and ``y`` point apart.

    The Gaussian kernel follows: ``exp(-|x - y|^2 / 2) = exp(-|x|^2 / 2) exp(x . y)
    exp(-|y|^2 / 2)``, so ``psi(x) = exp(-|x|^2 / 2) phi(x) = exp(W x - |x|^2) /
    sqrt(m)`` gives unbiased positive features of the unit Gaussian kernel (divide
    the inputs by ``h`` for length scale ``h``); multiply this transformer's
    output by ``exp(-|x|^2 / 2)`` row by row to get them.

    With ``orthogonal=True`` the rows come in blocks of ``d`` orthogonal
    directions times independent ``chi_d`` radii: each row is still ``N(0, I)``
    (unbiased), with lower variance (Choromanski et al., theorem 2).

    Features are ``exp`` of a linear function and overflow for large inputs
    (``w . x - |x|^2 / 2`` above about 709); scale inputs first (Performer
    divides queries and keys by ``d^(1/4)``).

    Parameters
    ----------
    n_components : int, default=256
        Number of features ``m``.
    orthogonal : bool, default=False
        Draw the rows in orthogonal blocks.
    random_state : int, RandomState instance or None, default=None
        Seeds the rows.

    Attributes
    ----------
    random_weights_ : ndarray of shape (n_features, n_components)
        The rows ``w`` as columns.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Defined only when ``X`` has string feature names.

    See Also
    --------
    RandomFourierFeatures : Trigonometric features of shift-invariant kernels.

    References
    ----------
    .. [1] K. Choromanski, V. Likhosherstov, D. Dohan, X. Song, A. Gane,
       T. Sarlos, P. Hawkins, J. Davis, A. Mohiuddin, L. Kaiser, D. Belanger,
       L. Colwell and A. Weller, "Rethinking attention with Performers",
       ICLR 2021.

    Examples
    --------
    >>> import numpy as np
    >>> from kernlearn.kernel_approximation._fourier import PositiveRandomFeatures
    >>> X = np.array([[0.3, -0.2], [0.5, 0.4]])
    >>> prf = PositiveRandomFeatures(n_components=50_000, random_state=0)
    >>> Z = prf.fit_transform(X)
    >>> print(bool((Z > 0).all()), round(Z[0] @ Z[1], 3), np.exp(X[0] @ X[1]).round(3))
    True 1.073 1.073
    """

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "orthogonal": ["boolean"],
        "random_state": ["random_state"],
    }

    def __init__(self, *, n_components=256, orthogonal=False, random_state=None):
        self.n_components = n_components
        self.orthogonal = orthogonal
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Draw the random rows for inputs shaped like ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Only its number of features is used.
        y : None
            Ignored.

        Returns
        -------
        self : PositiveRandomFeatures
        """
        X = validate_data(self, X, dtype=np.float64)
        d, m = X.shape[1], self.n_components
        rng = check_random_state(self.random_state)
        if self.orthogonal:
            W = _orthogonal_rows(m, d, rng) * np.sqrt(rng.chisquare(d, m))[:, None]
        else:
            W = rng.standard_normal((m, d))
        self.random_weights_ = W.T
        self._n_features_out = m
        return self

    def _floats_per_row(self):
        return 2 * self.n_components + self.n_features_in_

    def _features(self, X, out):
        log_phi = X @ self.random_weights_
        log_phi -= 0.5 * np.einsum("ij,ij->i", X, X)[:, None]
        log_phi -= 0.5 * math.log(self.n_components)
        return np.exp(log_phi, out=out)


# ------------------------------------------------------------ arc-cosine kernels


def _arccos_j(theta, order):
    """``J_n(theta)`` of Cho & Saul (2009), ``n = 0, 1, 2``."""
    s, c = np.sin(theta), np.cos(theta)
    rest = np.pi - theta
    if order == 0:
        return rest
    if order == 1:
        return s + rest * c
    return 3.0 * s * c + rest * (1.0 + 2.0 * c * c)


def _check_order(order):
    if (
        isinstance(order, bool)
        or not isinstance(order, Integral)
        or order
        not in (
            0,
            1,
            2,
        )
    ):
        raise ValueError(f"order must be 0, 1 or 2, got {order!r}.")
    return int(order)


def _check_2d(X, name):
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(
            f"{name} must be a 2-D array of shape (n_samples, n_features), got "
            f"{X.ndim} dimension(s); reshape a single feature with "
            f"{name}.reshape(-1, 1)."
        )
    if not np.all(np.isfinite(X)):
        raise ValueError(f"{name} contains NaN or infinity; remove or impute them.")
    return X


def arccos_kernel(X, Y=None, order=1):
    """Arc-cosine kernel of Cho & Saul (2009), closed form for orders 0, 1, 2.

    ``k_n(x, y) = 2 E_{w ~ N(0, I)} [H(w . x) H(w . y) (w . x)^n (w . y)^n]
    = (1/pi) |x|^n |y|^n J_n(theta)``, ``theta`` the angle between ``x`` and
    ``y``, ``H`` the Heaviside step, and

    - ``J_0 = pi - theta``,
    - ``J_1 = sin(theta) + (pi - theta) cos(theta)``,
    - ``J_2 = 3 sin(theta) cos(theta) + (pi - theta) (1 + 2 cos^2(theta))``.

    It is the covariance of an infinitely wide one-layer network with step
    (``n = 0``), ReLU (``n = 1``) or rectified-square (``n = 2``) units. Where
    ``x`` or ``y`` is zero, ``w . x = 0`` and the expectation is 0 (with
    ``H(0) = 0``): that value is returned for every order, as
    :class:`ArcCosineFeatures` gives.

    Parameters
    ----------
    X : array-like of shape (n_samples_X, n_features)
    Y : array-like of shape (n_samples_Y, n_features), default=None
        ``None`` means ``Y = X``.
    order : {0, 1, 2}, default=1
        Degree ``n``.

    Returns
    -------
    K : ndarray of shape (n_samples_X, n_samples_Y)

    References
    ----------
    .. [1] Y. Cho and L. K. Saul, "Kernel methods for deep learning",
       NeurIPS 2009.

    Examples
    --------
    >>> import numpy as np
    >>> from kernlearn.kernel_approximation._fourier import arccos_kernel
    >>> X = np.array([[1.0, 0.0], [0.0, 2.0]])
    >>> arccos_kernel(X, order=1).round(4)  # |x|^2 on the diagonal, 2/pi off it
    array([[1.    , 0.6366],
           [0.6366, 4.    ]])
    >>> arccos_kernel(X, order=0).round(4)
    array([[1. , 0.5],
           [0.5, 1. ]])
    """
    order = _check_order(order)
    X = _check_2d(X, "X")
    Y = X if Y is None else _check_2d(Y, "Y")
    if Y.shape[1] != X.shape[1]:
        raise ValueError(
            f"X has n_features={X.shape[1]} but Y has n_features={Y.shape[1]}."
        )
    nx = np.linalg.norm(X, axis=1)
    ny = np.linalg.norm(Y, axis=1)
    outer = np.outer(nx, ny)
    nonzero = outer > 0
    cos = np.divide(X @ Y.T, outer, out=np.zeros_like(outer), where=nonzero)
    theta = np.arccos(np.clip(cos, -1.0, 1.0))
    K = outer**order * _arccos_j(theta, order) / np.pi
    return np.where(nonzero, K, 0.0)


class ArcCosineFeatures(_RandomFeaturesBase):
    """Random features of the arc-cosine kernels (Cho & Saul 2009).

    ``phi(x) = sqrt(2 / m) H(W x) (W x)^n`` (elementwise, ``H`` the Heaviside step
    with ``H(0) = 0``) with ``m = n_components`` rows ``w ~ N(0, I)``: the hidden
    layer of a random one-layer network with step, ReLU or rectified-square
    units. By the definition of :func:`arccos_kernel`,
    ``E phi(x) . phi(y) = k_n(x, y)`` exactly. Each term
    ``2 H H (w . x)^n (w . y)^n`` has second moment ``2 k_{2n}(x, y)``, so the
    estimate has variance ``(2 k_{2n}(x, y) - k_n(x, y)^2) / m``.

    Parameters
    ----------
    order : {0, 1, 2}, default=1
        Degree ``n``.
    n_components : int, default=256
        Number of features ``m``.
    random_state : int, RandomState instance or None, default=None
        Seeds the rows.

    Attributes
    ----------
    random_weights_ : ndarray of shape (n_features, n_components)
        The rows ``w`` as columns.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Defined only when ``X`` has string feature names.

    See Also
    --------
    arccos_kernel : The kernel in closed form.

    References
    ----------
    .. [1] Y. Cho and L. K. Saul, "Kernel methods for deep learning",
       NeurIPS 2009.

    Examples
    --------
    >>> import numpy as np
    >>> from kernlearn.kernel_approximation._fourier import (
    ...     ArcCosineFeatures, arccos_kernel)
    >>> X = np.array([[1.0, 0.0, 1.0], [0.0, 2.0, 1.0]])
    >>> Z = ArcCosineFeatures(n_components=50_000, random_state=0).fit_transform(X)
    >>> print(round(Z[0] @ Z[1], 2), arccos_kernel(X)[0, 1].round(2))
    1.57 1.56
    """

    _parameter_constraints: dict = {
        "order": [Interval(Integral, 0, 2, closed="both")],
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(self, *, order=1, n_components=256, random_state=None):
        self.order = order
        self.n_components = n_components
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Draw the random rows for inputs shaped like ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Only its number of features is used.
        y : None
            Ignored.

        Returns
        -------
        self : ArcCosineFeatures
        """
        X = validate_data(self, X, dtype=np.float64)
        rng = check_random_state(self.random_state)
        self.random_weights_ = rng.standard_normal((X.shape[1], self.n_components))
        self._n_features_out = self.n_components
        return self

    def _floats_per_row(self):
        return 2 * self.n_components + self.n_features_in_

    def _features(self, X, out):
        P = X @ self.random_weights_
        scale = math.sqrt(2.0 / self.n_components)
        if self.order == 0:
            out[...] = (P > 0) * scale
        else:
            out[...] = np.maximum(P, 0.0) ** self.order * scale
        return out
