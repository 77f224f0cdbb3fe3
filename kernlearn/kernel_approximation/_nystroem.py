"""Nystroem feature maps from uniform, k-means++ or ridge-leverage-score landmarks.

The Nystroem method approximates a positive semi-definite kernel ``k`` by its
projection onto the span of ``m`` landmark points ``L``:

``K(X, Y) ~ K(X, L) K(L, L)^+ K(L, Y) = Z(X) Z(Y)^T``, ``Z(X) = K(X, L) K(L, L)^(-1/2)``

(Williams & Seeger 2001). The quality of the approximation depends on the
landmarks: this module samples them uniformly, by k-means++ seeding in the
kernel's feature space, or by the recursive ridge-leverage-score sampling of
Musco & Musco (2017).
"""

from __future__ import annotations

import math
import warnings
from numbers import Integral, Real

import numpy as np
from scipy import linalg
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
    clone,
)
from sklearn.gaussian_process.kernels import Kernel
from sklearn.utils import check_random_state, gen_batches
from sklearn.utils._chunking import get_chunk_n_rows
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from .._config import get_config
from ..backend import is_dask_array, kernel_matrix, map_row_blocks
from ..kernels import Gaussian

__all__ = ["Nystroem", "ridge_leverage_scores"]

#: Eigenvalues of ``K(L, L)`` below ``_EIG_RTOL * n_landmarks * max eigenvalue``
#: are treated as zero (their directions are dropped from the feature map).
_EIG_RTOL = np.finfo(np.float64).eps


def _kernel_block(kernel, X, Y, backend):
    return np.asarray(kernel_matrix(kernel, X, Y, backend=backend), dtype=np.float64)


def _row_batches(n, m):
    """Row slices whose ``(rows, m)`` float64 temporaries fit ``working_memory``."""
    rows = get_chunk_n_rows(
        row_bytes=3 * 8 * max(m, 1),
        max_n_rows=n,
        working_memory=get_config()["working_memory"],
    )
    return gen_batches(n, max(rows, 1))


def _check_ridge(ridge):
    try:
        lam = float(ridge)
    except (TypeError, ValueError):
        lam = float("nan")
    if not (math.isfinite(lam) and lam > 0):
        raise ValueError(
            f"ridge must be a positive, finite float (the lambda of the ridge "
            f"leverage scores), got {ridge!r}."
        )
    return lam


def ridge_leverage_scores(kernel, X, ridge, *, backend=None):
    """Exact ridge leverage scores ``tau_i = (K (K + ridge I)^(-1))_ii``.

    For ``K = Phi^T Phi`` with feature vectors ``phi_i`` the score is
    ``tau_i = phi_i^T (Phi Phi^T + ridge I)^(-1) phi_i``: how much the point
    ``x_i`` sticks out of the span of the others at resolution ``ridge``. The
    scores lie in ``[0, 1)`` and sum to the effective dimension
    ``d_eff = sum_j sigma_j / (sigma_j + ridge)`` (``sigma_j`` the eigenvalues of
    ``K``). This computes them densely from the eigendecomposition
    ``K = U diag(sigma) U^T``: ``tau_i = sum_j U_ij^2 sigma_j / (sigma_j + ridge)``,
    ``O(n^3)`` time and ``O(n^2)`` memory - a reference for small ``n``;
    :class:`Nystroem` with ``landmarks="rls"`` samples by approximations of them
    without ever forming ``K``.

    Parameters
    ----------
    kernel : kernel object
        A kernlearn kernel or a scikit-learn kernel object.
    X : array-like of shape (n_samples, n_features)
        Points.
    ridge : float
        Positive regulariser ``lambda``, on the scale of the eigenvalues of ``K``
        (as ``alpha`` of :class:`sklearn.kernel_ridge.KernelRidge`).
    backend : {"auto", "numpy", "numba", "keops", "cupy", "dask"}, default=None
        Engine for the kernel matrix; ``None`` defers to the configuration.

    Returns
    -------
    scores : ndarray of shape (n_samples,)
        The ridge leverage scores.

    References
    ----------
    A. El Alaoui and M. W. Mahoney, "Fast randomized kernel ridge regression with
    statistical guarantees", NeurIPS 2015.

    Examples
    --------
    >>> import numpy as np
    >>> from kernlearn.kernels import Gaussian
    >>> from kernlearn.kernel_approximation._nystroem import ridge_leverage_scores
    >>> X = np.array([[0.0], [0.01], [5.0]])
    >>> ridge_leverage_scores(Gaussian(1.0), X, 0.1).round(3)  # the loner scores high
    array([0.476, 0.476, 0.909])
    """
    lam = _check_ridge(ridge)
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(
            f"X must be a 2-D array of shape (n_samples, n_features), got "
            f"{X.ndim} dimension(s); reshape a single feature with X.reshape(-1, 1)."
        )
    if not np.all(np.isfinite(X)):
        raise ValueError("X contains NaN or infinity; drop or impute those rows.")
    K = _kernel_block(kernel, X, X, backend)
    sigma, U = linalg.eigh((K + K.T) / 2)
    sigma = np.clip(sigma, 0.0, None)
    return (U * U) @ (sigma / (sigma + lam))


# --------------------------------------------------------------------- sampling
def _uniform(n, m, rng):
    # The same draw as scikit-learn's Nystroem for the same random_state.
    return rng.permutation(n)[:m]


def _kmeans_pp(kernel, X, m, rng, backend):
    """D^2 (k-means++) seeding in the kernel's feature space, no Lloyd steps."""
    n = X.shape[0]
    diag = np.asarray(kernel.diag(X), dtype=np.float64)
    chosen = np.empty(m, dtype=np.intp)
    chosen[0] = rng.randint(n)
    d2 = np.full(n, np.inf)
    for t in range(m):
        c = chosen[t]
        kc = _kernel_block(kernel, X, X[c : c + 1], backend)[:, 0]
        # |phi(x) - phi(c)|^2 = k(x, x) + k(c, c) - 2 k(x, c)
        np.minimum(d2, np.clip(diag + diag[c] - 2.0 * kc, 0.0, None), out=d2)
        d2[chosen[: t + 1]] = 0.0
        if t + 1 == m:
            break
        total = d2.sum()
        if total > 0 and np.isfinite(total):
            chosen[t + 1] = rng.choice(n, p=d2 / total)
        else:  # every remaining point duplicates a centre: pick uniformly
            rest = np.setdiff1d(np.arange(n), chosen[: t + 1])
            chosen[t + 1] = rng.choice(rest)
    return chosen


def _auto_lambda(SKS, weights, k):
    """Musco & Musco's lambda for a sample of ``O(k log k)`` points.

    With the eigenvalues ``sigma_1 >= sigma_2 >= ...`` of a PSD matrix and
    ``lambda = (1/k) sum_{j>k} sigma_j`` the effective dimension is
    ``d_eff(lambda) = sum_j sigma_j / (sigma_j + lambda) <= k + sum_{j>k} sigma_j /
    lambda = 2k``; the tail sum is estimated from the weighted sample
    ``W K(S, S) W`` of the previous level.
    """
    s = SKS.shape[0]
    scale = float(np.mean(np.diag(SKS) * weights**2)) if s else 1.0
    if k >= s:
        return max(1e-6 * scale, np.finfo(np.float64).tiny)
    WSW = SKS * np.outer(weights, weights)
    sigma = linalg.eigh((WSW + WSW.T) / 2, eigvals_only=True)
    tail = float(np.sum(np.abs(sigma[:-k])))  # all but the k largest
    return max(tail / k, 1e-6 * scale, np.finfo(np.float64).tiny)


def _approx_scores(kernel, X_level, diag, X_samp, weights, lam, backend):
    """``(1/lam) (k_ii - K_iS (K_SS + lam W^-2)^(-1) K_Si)`` for every row of
    ``X_level``: the ridge leverage scores of ``X_level`` approximated from the
    weighted landmarks ``S`` (see :class:`Nystroem`, Notes)."""
    SKS = _kernel_block(kernel, X_samp, X_samp, backend)
    M = (SKS + SKS.T) / 2 + np.diag(lam / weights**2)
    try:
        factor = linalg.cho_factor(M, lower=True, check_finite=False)
    except linalg.LinAlgError:  # a kernel that is not quite PSD numerically
        sigma = np.linalg.eigvalsh(M)
        M = M + (abs(sigma[0]) + lam) * np.eye(M.shape[0])
        factor = linalg.cho_factor(M, lower=True, check_finite=False)
    n = X_level.shape[0]
    q = np.empty(n)
    for rows in _row_batches(n, X_samp.shape[0]):
        KS = _kernel_block(kernel, X_level[rows], X_samp, backend)
        B = linalg.solve_triangular(factor[0], KS.T, lower=True, check_finite=False)
        q[rows] = np.einsum("ij,ij->j", B, B)
    return np.clip(diag - q, 0.0, None) / lam


def _recursive_rls(kernel, X, m, ridge, rng, backend):
    """Recursive ridge-leverage-score sampling (Musco & Musco 2017).

    Returns ``(indices, scores, lam)``: ``m`` distinct landmark indices, the
    approximate ridge leverage scores of all points at the top level and the
    ``lambda`` they were computed with.
    """
    n = X.shape[0]
    diag_all = np.asarray(kernel.diag(X), dtype=np.float64)
    oversample = max(math.log(m), 1.0)
    k = max(1, math.ceil(m / (4.0 * oversample)))
    n_levels = max(0, math.ceil(math.log2(n / m)))
    sizes = [n]
    for _ in range(n_levels):
        sizes.append(math.ceil(sizes[-1] / 2))
    perm = rng.permutation(n)
    # Level l holds the points perm[:sizes[l]]; a sample is a set of positions in
    # that prefix, which are valid positions in every larger prefix as well.
    samp = np.arange(sizes[-1])
    weights = np.ones(samp.size)
    for level in range(n_levels - 1, -1, -1):
        cur = perm[: sizes[level]]
        X_samp = X[cur[samp]]
        if ridge == "auto":
            SKS = _kernel_block(kernel, X_samp, X_samp, backend)
            # The weighted sample stands for the previous, smaller level: scale
            # its spectrum by the size ratio (~2) to stand for this level.
            lam = _auto_lambda(SKS, weights, k) * sizes[level] / sizes[level + 1]
        else:
            lam = float(ridge)
        scores = _approx_scores(
            kernel, X[cur], diag_all[cur], X_samp, weights, lam, backend
        )
        if level == 0:
            break
        p = np.minimum(1.0, oversample * scores)
        samp = np.flatnonzero(rng.random_sample(sizes[level]) < p)
        if samp.size == 0:  # improbable: fall back to a uniform sample
            samp = np.sort(rng.choice(sizes[level], min(m, sizes[level]), False))
            p = np.full(sizes[level], samp.size / sizes[level])
        weights = 1.0 / np.sqrt(p[samp])
    if n_levels == 0:  # n <= m: every point is a landmark
        return perm[:m], None, None
    prob = scores.copy()
    if np.count_nonzero(prob > 0) < m or not np.isfinite(prob.sum()):
        prob = np.nan_to_num(prob) + 1e-12 * max(float(np.max(prob, initial=0)), 1)
    chosen = rng.choice(n, m, replace=False, p=prob / prob.sum())
    out = np.empty(n)
    out[perm] = scores  # back to the order of X
    return perm[chosen], out, lam


# ------------------------------------------------------------------ estimator
class Nystroem(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Nystroem approximation of a kernel feature map from chosen landmarks.

    Maps ``X`` to ``Z(X) = K(X, L) K(L, L)^(-1/2)`` for ``m`` landmark points
    ``L``, so that ``Z(X) Z(Y)^T = K(X, L) K(L, L)^+ K(L, Y)`` approximates the
    kernel matrix ``K(X, Y)``; it is exact when ``X`` and ``Y`` lie in the span
    of the landmarks' feature vectors, and ``K - Z Z^T`` is positive
    semi-definite. A linear model on ``Z`` approximates the kernel model (kernel
    ridge regression, SVM) at ``O(n m)`` cost per pass instead of ``O(n^2)``.
    Kernel blocks come from :func:`kernlearn.backend.kernel_matrix`, so kernlearn
    kernels run on the fused engines.

    Parameters
    ----------
    kernel : kernel object, default=None
        A kernlearn kernel (:mod:`kernlearn.kernels`, e.g. ``Gaussian(1.0)`` or
        ``Matern(1.0, nu=2.5)``) or a scikit-learn kernel object
        (:mod:`sklearn.gaussian_process.kernels`). It must be positive
        semi-definite. ``None`` means ``Gaussian(1.0)``.
    n_components : int, default=100
        Number of landmarks ``m`` sampled from ``X`` (and of output features).
        If larger than ``n_samples``, all samples are used (with a warning).
        Ignored when ``landmarks`` is an array.
    landmarks : {"uniform", "kmeans++", "rls"} or array-like of shape \
(n_landmarks, n_features), default="uniform"
        How the landmarks are chosen:

        - ``"uniform"``: uniformly without replacement (the same draw as
          :class:`sklearn.kernel_approximation.Nystroem` for the same seed);
        - ``"kmeans++"``: k-means++ seeding (Arthur & Vassilvitskii 2007) in the
          kernel's feature space: the first landmark uniformly, each next one
          with probability proportional to its squared feature-space distance
          to the nearest landmark so far,
          ``D^2(x) = min_c k(x, x) + k(c, c) - 2 k(x, c)``; no Lloyd iterations.
          ``O(n m)`` kernel evaluations. Spreads landmarks over sparse regions.
        - ``"rls"``: recursive ridge-leverage-score sampling (Musco & Musco
          2017), see Notes. ``O(n m)`` kernel evaluations and ``O(n m^2)``
          arithmetic; the exact scores (``O(n^3)``) are never formed.
        - an array: these landmarks.
    ridge : "auto" or float, default="auto"
        The ``lambda`` of the ridge leverage scores for ``landmarks="rls"``
        (ignored otherwise). ``"auto"`` chooses it at every level of the
        recursion as in Musco & Musco's fixed-sample-size algorithm, so that the
        effective dimension is about ``m / (2 log m)`` (see Notes). A float is a
        fixed ``lambda`` on the scale of the eigenvalues of ``K`` (like
        ``alpha`` of :class:`~sklearn.kernel_ridge.KernelRidge`); then the
        intermediate samples hold about ``log(m) d_eff(lambda)`` points, which
        sets the cost.
    backend : {"auto", "numpy", "numba", "keops", "cupy", "dask"}, default=None
        Engine for the kernel blocks; ``None`` defers to
        :func:`kernlearn.get_config`.
    random_state : int, RandomState instance or None, default=None
        Seeds the landmark sampling.

    Attributes
    ----------
    landmarks_ : ndarray of shape (`n_components_`, n_features)
        The landmark points ``L``.
    component_indices_ : ndarray of shape (`n_components_`,)
        Indices of the landmarks in the training ``X``. Only when they were
        sampled from ``X`` (not for an array ``landmarks``).
    normalization_ : ndarray of shape (`n_components_`, `n_components_`)
        ``K(L, L)^(-1/2)`` (a pseudo-inverse square root, see Notes); the
        features are ``K(X, L) @ normalization_``.
    n_components_ : int
        Number of landmarks and of output features.
    ridge_ : float or None
        The ``lambda`` of the top level of ``landmarks="rls"``; ``None`` for the
        other choices, and when every sample is a landmark.
    kernel_ : kernel object
        The kernel in use (a clone of ``kernel``).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Defined only when ``X`` has string feature names.

    See Also
    --------
    sklearn.kernel_approximation.Nystroem : Uniform landmarks, scikit-learn kernels.
    sklearn.kernel_approximation.RBFSampler : Random Fourier features.
    ridge_leverage_scores : The exact scores that ``"rls"`` approximates.

    Notes
    -----
    **Feature map.** With ``K(L, L) = U diag(sigma) U^T``, eigenvalues below
    ``n_components * eps * max(sigma)`` (``eps`` the float64 machine epsilon;
    negative ones included) are set to zero and
    ``normalization_ = U diag(sigma^(-1/2)) U^T`` over the others. Dropping these
    directions keeps the map stable for duplicate or nearly dependent
    landmarks; the error it adds to ``Z Z^T`` is of the order of the dropped
    eigenvalues. In exact arithmetic ``Z Z^T = K(X, L) K(L, L)^+ K(L, X)``.

    **Ridge leverage scores.** For ``K = Phi^T Phi`` the ``lambda``-ridge
    leverage score of point ``i`` is
    ``tau_i = (K (K + lambda I)^-1)_ii = phi_i^T (Phi Phi^T + lambda I)^-1 phi_i``.
    Sampling about ``d_eff log d_eff`` landmarks with probabilities proportional
    to (over-estimates of) these scores gives, with high probability, a
    Nystroem approximation with ``K - Z Z^T <= lambda I`` in the PSD order
    (Musco & Musco, Theorem 3), where
    ``d_eff = sum_i tau_i = tr K (K + lambda I)^-1`` - a number of landmarks set
    by the kernel's spectrum, not by ``n``.

    **Approximate scores from weighted landmarks.** For a sample matrix ``S``
    (column ``e_j / sqrt(p_j)`` for each sampled ``j``, weights
    ``w_j = 1 / sqrt(p_j)``), the push-through identity
    ``I - A (A^T A + lambda I)^-1 A^T = lambda (A A^T + lambda I)^-1`` with
    ``A = Phi S`` gives

    ``l_i = (1/lambda) (k_ii - K_iS (K_SS + lambda W^-2)^-1 K_Si)
    = phi_i^T (Phi S S^T Phi^T + lambda I)^-1 phi_i``.

    So if ``Phi S S^T Phi^T + lambda I`` is within a factor ``1 +- 1/2`` of
    ``Phi Phi^T + lambda I`` (a spectral approximation), then
    ``(2/3) tau_i <= l_i <= 2 tau_i`` for every ``i`` - the paper's
    ``tau_i <= (3/2) l_i <= 3 tau_i`` (Lemma 6 there). Each ``l_i`` costs one
    row of ``K(X, S)`` and a triangular solve: ``O(n s^2)`` for ``s`` landmarks.

    **Recursion** (Algorithm 2 of the paper, with Algorithm 3's choice of
    ``lambda``). A random permutation defines nested sets of ``n``, ``n/2``,
    ``n/4``, ... points down to at most ``m``. The smallest set is its own sample
    (weights 1). Going up one level, the approximate scores ``l_i`` of the
    current set are computed from the sample of the half below it, and each
    point is kept independently with probability ``p_i = min(1, log(m) l_i)``
    and weight ``1 / sqrt(p_i)``: the sample of that level. A uniform half
    already approximates the whole set spectrally up to constants, which is why
    the sample of the half suffices (the paper's Theorem 7; it proves the
    ``1 +- 1/2`` accuracy with an oversampling of ``16 log(sum l / delta)``;
    ``log m`` is the practical choice of the authors' reference code). At the
    top level ``m`` distinct landmarks are drawn with probabilities
    proportional to the ``l_i``. With ``ridge="auto"``, ``lambda`` at a level is
    ``(n_level / n_below) * (1/k) * sum_{j>k} sigma_j`` with ``k = ceil(m / (4
    log m))`` and ``sigma_j`` the eigenvalues of ``W K_SS W`` (the sample's
    estimate of the spectrum of the level below, rescaled to the current one):
    since ``d_eff(lambda) <= k + sum_{j>k} sigma_j / lambda = 2k``, the
    expected sample size ``log(m) sum l_i`` stays about ``m / 2``. The sizes
    halve, so the total work is ``O(n m^2)``.

    References
    ----------
    .. [1] C. Musco and C. Musco, "Recursive sampling for the Nystrom method",
       NeurIPS 2017, arXiv:1605.07583.
    .. [2] C. K. I. Williams and M. Seeger, "Using the Nystrom method to speed up
       kernel machines", NIPS 2001.
    .. [3] D. Arthur and S. Vassilvitskii, "k-means++: the advantages of careful
       seeding", SODA 2007.
    .. [4] A. El Alaoui and M. W. Mahoney, "Fast randomized kernel ridge
       regression with statistical guarantees", NeurIPS 2015.

    Examples
    --------
    >>> import numpy as np
    >>> from kernlearn.kernels import Gaussian
    >>> from kernlearn.kernel_approximation._nystroem import Nystroem
    >>> rng = np.random.default_rng(0)
    >>> X = np.vstack([rng.normal(0, 0.3, (300, 2)),   # a dense cluster
    ...                rng.uniform(-15, 15, (30, 2))])  # and sparse outliers
    >>> K = Gaussian(1.0)(X)
    >>> for how in ["uniform", "kmeans++", "rls"]:
    ...     ny = Nystroem(Gaussian(1.0), n_components=40, landmarks=how,
    ...                   random_state=0)
    ...     Z = ny.fit_transform(X)
    ...     print(how, Z.shape, round(np.linalg.norm(K - Z @ Z.T), 2))
    uniform (330, 40) 5.7
    kmeans++ (330, 40) 1.73
    rls (330, 40) 4.17
    """

    _parameter_constraints: dict = {
        "kernel": [Kernel, None],
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "landmarks": [StrOptions({"uniform", "kmeans++", "rls"}), "array-like"],
        "ridge": [StrOptions({"auto"}), Interval(Real, 0, None, closed="neither")],
        "backend": [
            StrOptions({"auto", "numpy", "numba", "keops", "cupy", "dask"}),
            None,
        ],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        kernel=None,
        *,
        n_components=100,
        landmarks="uniform",
        ridge="auto",
        backend=None,
        random_state=None,
    ):
        self.kernel = kernel
        self.n_components = n_components
        self.landmarks = landmarks
        self.ridge = ridge
        self.backend = backend
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Choose the landmarks from ``X`` and compute the normalisation.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : None
            Ignored.

        Returns
        -------
        self : Nystroem
            The fitted transformer.
        """
        X = validate_data(self, X, dtype=np.float64)
        kernel = Gaussian(1.0) if self.kernel is None else self.kernel
        kernel = clone(kernel)
        n = X.shape[0]
        rng = check_random_state(self.random_state)
        indices, lam = None, None
        if isinstance(self.landmarks, str):
            m = self.n_components
            if m > n:
                warnings.warn(
                    f"n_components={m} > n_samples={n}: using all {n} samples as "
                    "landmarks (the transform is then exact on the training set).",
                    UserWarning,
                    stacklevel=2,
                )
                m = n
            if self.landmarks == "uniform":
                indices = _uniform(n, m, rng)
            elif self.landmarks == "kmeans++":
                indices = _kmeans_pp(kernel, X, m, rng, self.backend)
            else:
                indices, _, lam = _recursive_rls(
                    kernel, X, m, self.ridge, rng, self.backend
                )
            L = X[indices]
        else:
            L = self._check_landmarks(self.landmarks, X.shape[1])

        KLL = _kernel_block(kernel, L, L, self.backend)
        sigma, U = linalg.eigh((KLL + KLL.T) / 2)
        keep = sigma > _EIG_RTOL * L.shape[0] * max(float(sigma[-1]), 0.0)
        if not np.any(keep):
            raise ValueError(
                "The kernel matrix of the landmarks is zero (or not positive "
                "semi-definite): the kernel must be a PSD kernel with k(x, x) > 0."
            )
        Uk = U[:, keep] / np.sqrt(sigma[keep])
        self.kernel_ = kernel
        self.landmarks_ = L
        if indices is not None:
            self.component_indices_ = np.asarray(indices, dtype=np.intp)
        elif hasattr(self, "component_indices_"):
            del self.component_indices_
        self.normalization_ = Uk @ U[:, keep].T
        self.n_components_ = L.shape[0]
        self.ridge_ = lam
        return self

    @staticmethod
    def _check_landmarks(landmarks, n_features):
        L = np.asarray(landmarks, dtype=np.float64)
        if L.ndim != 2 or L.shape[1] != n_features or L.shape[0] < 1:
            raise ValueError(
                f"landmarks must be 'uniform', 'kmeans++', 'rls' or an array of "
                f"shape (n_landmarks, n_features) with n_features={n_features}; got "
                f"an array of shape {L.shape}."
            )
        if not np.all(np.isfinite(L)):
            raise ValueError(
                "landmarks contains NaN or infinity; pass finite landmark points."
            )
        return L.copy()

    def transform(self, X):
        """Nystroem features ``K(X, L) @ normalization_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Points to map.

        Returns
        -------
        Z : ndarray of shape (n_samples, `n_components_`)
            Features with ``Z(X) Z(Y)^T ~ K(X, Y)``. A dask array, chunked like
            ``X``'s rows, when ``X`` is one (the landmarks and normalisation
            travel to each worker once).
        """
        check_is_fitted(self)
        if is_dask_array(X):
            return map_row_blocks(self, "transform", X,
                                  n_outputs=self.n_components_,
                                  n_features=self.n_features_in_)  # fmt: skip
        X = validate_data(self, X, dtype=np.float64, reset=False)
        Z = np.empty((X.shape[0], self.n_components_))
        for rows in _row_batches(X.shape[0], self.n_components_):
            K = _kernel_block(self.kernel_, X[rows], self.landmarks_, self.backend)
            Z[rows] = K @ self.normalization_
        return Z

    @property
    def _n_features_out(self):
        return self.n_components_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags
