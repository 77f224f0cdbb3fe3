"""Clustering in the feature space of a kernel: k-means, Ward and spectral.

A positive semi-definite kernel ``K`` is a Gram matrix ``K_ij = <phi(x_i),
phi(x_j)>`` of some feature map ``phi``, so every squared distance between
points, cluster means and points of new data is a combination of kernel values
(Dhillon, Guan and Kulis 2004):

.. code-block:: text

    ||phi(x_i) - mu_c||^2 = K_ii - 2 / |c| sum_{j in c} K_ij
                            + 1 / |c|^2 sum_{j, l in c} K_jl

:class:`KernelKMeans` runs Lloyd's iterations on these distances,
:class:`KernelWard` embeds the points isometrically (double centring and an
eigendecomposition, as in classical multidimensional scaling) and runs Ward's
agglomeration on the embedding, and :class:`KernelSpectralClustering` treats a
non-negative kernel as the affinity matrix of a graph (normalised cuts, which
Dhillon et al. show is weighted kernel k-means on a derived kernel).

The kernel is either ``"precomputed"`` (``X`` is the ``(n, n)`` kernel or
similarity matrix, e.g. a node kernel of a graph) or a kernel object such as
:class:`kernlearn.kernels.Gaussian` or any scikit-learn ``Kernel``, evaluated on
feature data through :func:`kernlearn.backend.kernel_matrix`. A precomputed
matrix must be square, finite and symmetric (relative tolerance ``1e-10``; an
asymmetry within it is rounding and is averaged away).

Similarities that are not positive semi-definite (e.g. the element-wise
logarithm of a positive kernel, the "log" graph kernels) have no Euclidean
feature space. :class:`KernelKMeans` still runs Lloyd's iterations on the same
formula, which then describes a pseudo-Euclidean space: a "squared distance" may
be negative and an iteration may raise the objective (the run then stops, see
:class:`KernelKMeans`). :class:`KernelWard` projects onto the nearest positive
semi-definite kernel by dropping the negative part of the spectrum and reports
the fraction dropped.

References
----------
.. [1] I. S. Dhillon, Y. Guan and B. Kulis, "Kernel k-means, spectral clustering
   and normalized cuts", KDD 2004, pp. 551-556.
.. [2] D. Arthur and S. Vassilvitskii, "k-means++: the advantages of careful
   seeding", SODA 2007, pp. 1027-1035.
.. [3] J. H. Ward, "Hierarchical grouping to optimize an objective function",
   Journal of the American Statistical Association 58 (1963), pp. 236-244.
.. [4] J. Shi and J. Malik, "Normalized cuts and image segmentation", IEEE
   Transactions on Pattern Analysis and Machine Intelligence 22 (2000),
   pp. 888-905.
"""

from __future__ import annotations

import contextlib
import logging
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin, _fit_context, clone
from sklearn.cluster import AgglomerativeClustering, SpectralClustering
from sklearn.gaussian_process.kernels import Kernel
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from ..backend import kernel_matrix, kernel_sum

__all__ = ["KernelKMeans", "KernelSpectralClustering", "KernelWard"]

logger = logging.getLogger("kernlearn")

#: Relative asymmetry ``max|K - K.T| / max|K|`` accepted (and averaged away) in
#: a precomputed kernel: what rounding in ``X @ X.T`` and the like leaves.
_SYM_RTOL = 1e-10

_KERNEL_CONSTRAINT = [StrOptions({"precomputed"}), Kernel]


# ---------------------------------------------------------------------------
# Shared helpers
# ---------------------------------------------------------------------------


def _is_precomputed(kernel):
    return isinstance(kernel, str) and kernel == "precomputed"


@contextlib.contextmanager
def _atomic_fit(estimator):
    """Restore ``estimator.__dict__`` if the body raises: a failed fit leaves
    the estimator as it was (``validate_data`` sets ``n_features_in_`` before
    the later checks run)."""
    saved = dict(estimator.__dict__)
    try:
        yield
    except BaseException:
        estimator.__dict__.clear()
        estimator.__dict__.update(saved)
        raise


def _check_square_kernel(K, owner):
    """Square and (to rounding) symmetric; returns the symmetrised float64 copy."""
    n, m = K.shape
    if n != m:
        raise ValueError(
            f"With kernel='precomputed', X must be a square (n_samples, n_samples) "
            f"kernel matrix, got shape {K.shape}. Pass the kernel matrix "
            f"K = kernel_matrix(kernel, X), or give {owner} a kernel object "
            "(e.g. kernel=Gaussian(1.0)) to cluster feature data."
        )
    scale = float(np.max(np.abs(K))) if K.size else 0.0
    asym = float(np.max(np.abs(K - K.T))) if K.size else 0.0
    if asym > _SYM_RTOL * scale:
        raise ValueError(
            f"With kernel='precomputed', X must be a symmetric kernel matrix; "
            f"max |X - X.T| = {asym:.3g} (relative {asym / scale:.3g}). "
            "Symmetrise it first, e.g. X = (X + X.T) / 2."
        )
    return 0.5 * (K + K.T)


def _fit_kernel(estimator, X, *, min_samples=1):
    """Validate ``X``; return ``(K, X_fit, kernel)``: the symmetric ``(n, n)``
    float64 kernel matrix of the fit and, for a kernel object, the validated
    features and the clone of the kernel (``None, None`` when precomputed)."""
    X = validate_data(estimator, X, dtype=np.float64, ensure_min_samples=min_samples)
    if _is_precomputed(estimator.kernel):
        return _check_square_kernel(X, type(estimator).__name__), None, None
    kernel = clone(estimator.kernel)
    K = np.asarray(kernel_matrix(kernel, X), dtype=np.float64)
    if not np.all(np.isfinite(K)):
        raise ValueError(
            f"kernel={estimator.kernel!r} gave NaN or infinite values on X; check "
            "its hyperparameters or rescale X (large "
            "inputs overflow dot-product kernels)."
        )
    return 0.5 * (K + K.T), X, kernel


def _check_n_clusters(n_clusters, n_samples):
    if n_clusters > n_samples:
        raise ValueError(
            f"n_clusters={n_clusters} must be <= n_samples={n_samples}; lower "
            "n_clusters or pass more samples."
        )


# ---------------------------------------------------------------------------
# Kernel k-means core (module functions on a dense symmetric K)
# ---------------------------------------------------------------------------


def _one_hot(labels, k):
    H = np.zeros((labels.shape[0], k))
    H[np.arange(labels.shape[0]), labels] = 1.0
    return H


def _cluster_terms(K, labels, k):
    """``(S, sizes, norms)``: ``S[i, c] = sum_{j in c} K_ij``, the cluster sizes
    and ``norms[c] = ||mu_c||^2 = 1 / |c|^2 sum_{j, l in c} K_jl``.

    One ``(n, n) @ (n, k)`` product: ``O(n^2 k)``. Every cluster must be
    non-empty.
    """
    H = _one_hot(labels, k)
    S = K @ H
    sizes = H.sum(axis=0)
    norms = np.einsum("ic,ic->c", H, S) / sizes**2
    return S, sizes, norms


def _sq_distances(K, diag, labels, k):
    """Feature-space squared distances ``(n, k)`` of every point to every
    cluster mean of the partition ``labels`` (negative entries are possible
    for an indefinite ``K``)."""
    S, sizes, norms = _cluster_terms(K, labels, k)
    return diag[:, None] - 2.0 * S / sizes + norms


def _inertia(dist, labels):
    return float(dist[np.arange(labels.shape[0]), labels].sum())


def _kernel_sq_dist_to(K, diag, idx):
    """Kernel-induced squared distances ``K_ii + K_jj - 2 K_ij`` from every
    point ``i`` to the points ``idx`` (shape ``(len(idx), n)``), clipped at 0."""
    idx = np.atleast_1d(idx)
    D = diag[None, :] + diag[idx, None] - 2.0 * K[idx]
    return np.maximum(D, 0.0)


def _kmeans_plusplus(K, diag, k, rng):
    """Greedy k-means++ seeding (Arthur & Vassilvitskii 2007) on the
    kernel-induced squared distances; ``2 + int(log k)`` candidates per centre,
    the one that lowers the potential most is kept (as in scikit-learn).
    Returns ``k`` distinct point indices."""
    n = K.shape[0]
    n_trials = 2 + int(np.log(k))
    seeds = np.empty(k, dtype=np.intp)
    seeds[0] = rng.randint(n)
    closest = _kernel_sq_dist_to(K, diag, seeds[0])[0]
    for c in range(1, k):
        cum = np.cumsum(closest)
        pot = cum[-1]
        if not pot > 0:
            # Every point coincides (in feature space) with a chosen centre:
            # any remaining point is as good as another.
            free = np.setdiff1d(np.arange(n), seeds[:c])
            seeds[c] = free[rng.randint(free.shape[0])]
        else:
            # side="right" lands on an index whose own mass is > 0: never a
            # point already chosen (its distance to itself is exactly 0).
            cand = np.searchsorted(cum, rng.uniform(size=n_trials) * pot, "right")
            cand = np.minimum(cand, n - 1)
            D = np.minimum(closest, _kernel_sq_dist_to(K, diag, cand))
            best = int(np.argmin(D.sum(axis=1)))
            seeds[c] = cand[best]
        closest = np.minimum(closest, _kernel_sq_dist_to(K, diag, seeds[c])[0])
    return seeds


def _labels_from_seeds(K, diag, seeds):
    """Nearest seed for every point; each seed keeps its own cluster."""
    D = _kernel_sq_dist_to(K, diag, seeds)
    labels = np.argmin(D, axis=0)
    labels[seeds] = np.arange(seeds.shape[0])
    return labels


def _initial_labels(K, diag, k, init, rng):
    if isinstance(init, str) and init == "k-means++":
        return _labels_from_seeds(K, diag, _kmeans_plusplus(K, diag, k, rng))
    if isinstance(init, str) and init == "random":
        seeds = rng.choice(K.shape[0], size=k, replace=False)
        return _labels_from_seeds(K, diag, seeds)
    return init.copy()


def _check_init_labels(init, n_samples, n_clusters):
    """An array ``init`` -> labels in ``0 .. n_clusters - 1`` (sorted distinct
    values relabelled in order)."""
    labels = check_array(
        init, ensure_2d=False, dtype=None, input_name="init", ensure_min_samples=0
    )
    if labels.ndim != 1 or labels.shape[0] != n_samples:
        raise ValueError(
            f"init given as an array must hold one initial cluster label per "
            f"sample, shape ({n_samples},); got shape {labels.shape}. Pass labels "
            "for the same samples as X, or init='k-means++'."
        )
    if labels.dtype.kind not in "iub":
        as_float = np.asarray(labels, dtype=np.float64)
        if not np.all(as_float == np.round(as_float)):
            raise ValueError(
                "init given as an array must hold integer cluster labels; got "
                f"values of dtype {labels.dtype}."
            )
    values, inverse = np.unique(labels, return_inverse=True)
    if values.shape[0] != n_clusters:
        raise ValueError(
            f"init given as an array must use exactly n_clusters={n_clusters} "
            f"distinct labels (one non-empty initial cluster each); got "
            f"{values.shape[0]} distinct values. Relabel it or change n_clusters."
        )
    return inverse.reshape(-1).astype(np.intp)


def _fill_empty(labels, dist, k):
    """Give every empty cluster the point farthest from its own centre among
    clusters that can spare one (deterministic: ties go to the lower index)."""
    sizes = np.bincount(labels, minlength=k)
    for c in np.flatnonzero(sizes == 0):
        own = dist[np.arange(labels.shape[0]), labels]
        own = np.where(sizes[labels] > 1, own, -np.inf)
        i = int(np.argmax(own))
        sizes[labels[i]] -= 1
        labels[i] = c
        sizes[c] = 1
    return labels


def _kkmeans_single(K, diag, k, init, max_iter, tol, rng):
    """One run of Lloyd's iterations from ``init``.

    Returns ``(labels, inertia, n_iter)``. Stops when the labels no longer
    change, or when an iteration lowers the inertia by ``tol * |inertia|`` or
    less; an iteration that raises it (possible only for an indefinite ``K``)
    is undone.
    """
    labels = _initial_labels(K, diag, k, init, rng)
    dist = _sq_distances(K, diag, labels, k)
    inertia = _inertia(dist, labels)
    n_iter = 0
    for n_iter in range(1, max_iter + 1):  # noqa: B007 - n_iter_ after the loop
        new = _fill_empty(np.argmin(dist, axis=1), dist, k)
        if np.array_equal(new, labels):
            break
        new_dist = _sq_distances(K, diag, new, k)
        new_inertia = _inertia(new_dist, new)
        if new_inertia > inertia:
            break
        gain = inertia - new_inertia
        labels, dist, inertia = new, new_dist, new_inertia
        if gain <= tol * abs(inertia):
            break
    return labels, inertia, n_iter


class KernelKMeans(ClusterMixin, BaseEstimator):
    """Kernel k-means: Lloyd's algorithm in the feature space of a kernel.

    Minimises the within-cluster sum of squared feature-space distances
    ``sum_c sum_{i in c} ||phi(x_i) - mu_c||^2`` where ``mu_c`` is the mean of
    the feature vectors of cluster ``c``. Every distance is computed from the
    kernel matrix alone (Dhillon, Guan and Kulis 2004),

    ``dist(i, c) = K_ii - 2 / |c| sum_{j in c} K_ij + 1 / |c|^2 sum_{j, l in c}
    K_jl``,

    for all points and clusters at once with a one-hot membership matrix
    (``O(n^2 k)`` time per iteration, the ``(n, n)`` kernel in memory). Each
    point then moves to its nearest mean; a cluster left empty receives the
    point farthest from its own mean. With ``K = X X^T`` and the same initial
    partition this is exactly :class:`sklearn.cluster.KMeans`
    (``algorithm="lloyd"``) on ``X``; with a
    non-linear kernel it separates clusters that are not linearly separable.

    For a precomputed similarity that is not positive semi-definite (e.g. the
    element-wise logarithm of a positive kernel) the same formula is used
    unchanged: a "squared distance" and even ``inertia_`` may be negative
    (they live in a pseudo-Euclidean space), nothing is clipped, and since an
    iteration may then raise the objective, such an iteration is undone and
    the run stops there. Only the k-means++ seeding clips the kernel-induced
    squared distances ``K_ii + K_jj - 2 K_ij`` at 0 (they are sampling weights).

    Parameters
    ----------
    n_clusters : int, default=8
        Number of clusters, at most ``n_samples``.
    kernel : "precomputed" or kernel object, default="precomputed"
        ``"precomputed"``: ``X`` in :meth:`fit` is the ``(n_samples,
        n_samples)`` kernel (similarity) matrix and :meth:`predict` takes
        ``K(X_new, X_train)``. A kernel object (e.g.
        :class:`kernlearn.kernels.Gaussian`, or any scikit-learn ``Kernel``):
        ``X`` is feature data; :meth:`fit` computes the kernel matrix through
        :func:`kernlearn.backend.kernel_matrix` and :meth:`predict` the cluster
        averages through :func:`kernlearn.backend.kernel_sum` (blocked, without
        forming ``K(X_new, X_train)``).
    init : {"k-means++", "random"} or array-like of shape (n_samples,), \
default="k-means++"
        Initial partition. ``"k-means++"``: greedy k-means++ seeding on the
        kernel-induced squared distances ``max(K_ii + K_jj - 2 K_ij, 0)``;
        ``"random"``: ``n_clusters`` distinct random points as seeds. Every
        point then starts in the cluster of its nearest seed. An array gives
        initial labels (exactly ``n_clusters`` distinct values, relabelled in
        sorted order); the run is then deterministic, so ``n_init`` runs all
        give the same result.
    n_init : int, default=10
        Number of runs from different seedings; the run with the lowest
        inertia is kept (the first one among ties).
    max_iter : int, default=300
        Maximum number of Lloyd iterations of one run.
    tol : float, default=1e-6
        Relative tolerance: a run stops when an iteration lowers the inertia by
        at most ``tol * |inertia|`` (and always when the labels stop changing).
        ``tol=0`` iterates until the partition is stable.
    random_state : int, RandomState instance or None, default=None
        Seeds the runs: run ``r`` uses ``np.random.RandomState(s[r])`` with
        ``s = check_random_state(random_state).randint(2**31 - 1,
        size=n_init)``, so ``n_init=1`` repeats the first of ``n_init`` runs
        with the same ``random_state``. Pass an int for reproducible output.
    verbose : int, default=0
        Above 0, the inertia and iteration count of each run are logged at INFO
        level on the ``"kernlearn"`` logger.

    Attributes
    ----------
    labels_ : ndarray of shape (n_samples,)
        Cluster of each training point (``0 .. n_clusters - 1``, none empty).
    inertia_ : float
        Sum of the squared feature-space distances of the points to the means
        of their clusters (may be negative for an indefinite kernel).
    n_iter_ : int
        Lloyd iterations of the kept run.
    cluster_sizes_ : ndarray of shape (n_clusters,)
        Number of training points in each cluster.
    center_norms_ : ndarray of shape (n_clusters,)
        Squared feature-space norms of the cluster means, ``||mu_c||^2 =
        1 / |c|^2 sum_{j, l in c} K_jl``.
    kernel_ : kernel object
        Clone of ``kernel`` used in the fit (only when ``kernel`` is an object).
    X_fit_ : ndarray of shape (n_samples, n_features)
        Training features (only when ``kernel`` is an object; :meth:`predict`
        needs them).
    n_features_in_ : int
        Number of features seen in fit (``n_samples`` for a precomputed kernel).
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Defined only when ``X`` has string feature names.

    See Also
    --------
    KernelWard : Agglomerative Ward clustering in the same feature space.
    KernelSpectralClustering : Normalised cuts of a non-negative affinity.
    sklearn.cluster.KMeans : The linear-kernel special case on explicit features.

    References
    ----------
    .. [1] I. S. Dhillon, Y. Guan and B. Kulis, "Kernel k-means, spectral
       clustering and normalized cuts", KDD 2004, pp. 551-556.
    .. [2] D. Arthur and S. Vassilvitskii, "k-means++: the advantages of careful
       seeding", SODA 2007, pp. 1027-1035.

    Examples
    --------
    Two concentric rings: no straight line separates them, a Gaussian kernel
    does.

    >>> import numpy as np
    >>> from kernlearn.graph._kkmeans import KernelKMeans
    >>> from kernlearn.kernels import Gaussian
    >>> t = np.linspace(0, 2 * np.pi, 20, endpoint=False)
    >>> ring = np.c_[np.cos(t), np.sin(t)]
    >>> X = np.r_[0.2 * ring, 3.0 * ring]
    >>> km = KernelKMeans(2, kernel=Gaussian(1.0), random_state=0).fit(X)
    >>> km.labels_[::5]  # inner ring, then outer ring
    array([0, 0, 0, 0, 1, 1, 1, 1])
    >>> km.predict([[0.0, 0.1], [0.0, -2.9]])
    array([0, 1])
    >>> round(km.inertia_, 4)
    18.0773
    """

    _parameter_constraints: dict = {
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
        "kernel": _KERNEL_CONSTRAINT,
        "init": [StrOptions({"k-means++", "random"}), "array-like"],
        "n_init": [Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        n_clusters=8,
        *,
        kernel="precomputed",
        init="k-means++",
        n_init=10,
        max_iter=300,
        tol=1e-6,
        random_state=None,
        verbose=0,
    ):
        self.n_clusters = n_clusters
        self.kernel = kernel
        self.init = init
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Cluster the training points.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_samples) or (n_samples, n_features)
            The kernel matrix for ``kernel="precomputed"``, feature data
            otherwise.
        y : None
            Ignored.

        Returns
        -------
        self : KernelKMeans
            Fitted estimator.
        """
        with _atomic_fit(self):
            K, X_fit, kernel = _fit_kernel(self, X)
            n = K.shape[0]
            k = int(self.n_clusters)
            _check_n_clusters(k, n)
            init = self.init
            if not isinstance(init, str):
                init = _check_init_labels(init, n, k)
            diag = np.diag(K).copy()
            rng = check_random_state(self.random_state)
            seeds = rng.randint(np.iinfo(np.int32).max, size=self.n_init)
            best = None
            for r, seed in enumerate(seeds):
                labels, inertia, n_iter = _kkmeans_single(
                    K,
                    diag,
                    k,
                    init,
                    self.max_iter,
                    self.tol,
                    np.random.RandomState(seed),
                )
                if self.verbose:
                    logger.info(
                        "KernelKMeans run %d/%d: inertia %.6g after %d iterations.",
                        r + 1,
                        self.n_init,
                        inertia,
                        n_iter,
                    )
                if best is None or inertia < best[1]:
                    best = (labels, inertia, n_iter)
            labels, inertia, n_iter = best
            _, sizes, norms = _cluster_terms(K, labels, k)
        self.labels_ = labels
        self.inertia_ = inertia
        self.n_iter_ = n_iter
        self.cluster_sizes_ = sizes.astype(np.intp)
        self.center_norms_ = norms
        if kernel is not None:
            self.kernel_ = kernel
            self.X_fit_ = X_fit
        else:
            # A refit with "precomputed" must not keep the old feature data.
            for name in ("kernel_", "X_fit_"):
                self.__dict__.pop(name, None)
        return self

    def predict(self, X):
        """Nearest cluster mean in feature space for new points.

        ``argmin_c -2 / |c| sum_{j in c} k(x, x_j) + ||mu_c||^2`` (``k(x, x)``
        is the same for every cluster and cancels).

        Parameters
        ----------
        X : array-like of shape (n_queries, n_samples) or (n_queries, n_features)
            ``K(X_new, X_train)`` for ``kernel="precomputed"`` (columns in the
            order of the training points), new feature data otherwise.

        Returns
        -------
        labels : ndarray of shape (n_queries,)
            Cluster of each query.
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        k = self.cluster_sizes_.shape[0]
        # Column c of W averages over cluster c: K(X, X_fit) W is the matrix of
        # 1 / |c| sum_{j in c} k(x, x_j).
        W = _one_hot(self.labels_, k) / self.cluster_sizes_
        if getattr(self, "X_fit_", None) is None:  # fitted on a precomputed K
            S = X @ W
        else:  # blocked: K(X, X_fit) is never formed
            S = np.asarray(kernel_sum(self.kernel_, X, self.X_fit_, W), np.float64)
        return np.argmin(-2.0 * S + self.center_norms_, axis=1)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.pairwise = _is_precomputed(self.kernel)
        return tags


# ---------------------------------------------------------------------------
# Kernel Ward
# ---------------------------------------------------------------------------


def _kernel_embedding(K):
    """Isometric embedding of the double-centred kernel.

    Returns ``(Z, eigenvalues, clipped_fraction)``: ``Z = V sqrt(max(lambda,
    0))`` restricted to the positive eigenvalues (one zero column if there is
    none), the eigenvalues of ``J K J`` in decreasing order, and ``sum |lambda_-|
    / sum |lambda|`` (0 when ``K`` is PSD up to rounding, 0 for a zero matrix).
    """
    n = K.shape[0]
    row = K.mean(axis=0)
    Kc = K - row[None, :] - row[:, None] + row.mean()
    lam, V = np.linalg.eigh(0.5 * (Kc + Kc.T))
    lam, V = lam[::-1], V[:, ::-1]
    total = float(np.abs(lam).sum())
    # Eigenvalues at rounding level of the largest are zero, whatever their sign.
    tiny = max(n, 1) * np.finfo(np.float64).eps * (np.abs(lam).max() if n else 0.0)
    negative = lam < -tiny
    clipped = float(-lam[negative].sum()) / total if total > 0 else 0.0
    keep = lam > tiny
    if not np.any(keep):
        return np.zeros((n, 1)), lam, clipped
    return V[:, keep] * np.sqrt(lam[keep]), lam, clipped


class KernelWard(ClusterMixin, BaseEstimator):
    """Agglomerative Ward clustering in the feature space of a kernel.

    Ward's method merges, at every step, the two clusters whose union raises
    the within-cluster sum of squares least; it needs only the points'
    Euclidean geometry. That geometry is recovered from the kernel exactly:
    the double-centred kernel ``J K J`` (``J = I - 1 1^T / n``) is the Gram
    matrix of the centred feature vectors, so with its eigendecomposition
    ``V diag(lambda) V^T`` the rows of ``Z = V sqrt(lambda)`` have the same
    pairwise distances as the feature vectors ``phi(x_i)`` (classical
    multidimensional scaling). Ward's linkage is then run on ``Z`` by
    :class:`sklearn.cluster.AgglomerativeClustering`. With ``K = X X^T`` this is
    Ward's clustering of ``X`` itself.

    A kernel that is not positive semi-definite has negative eigenvalues and no
    such embedding; they are clipped to 0 (``sqrt(max(lambda, 0))``, the
    nearest positive semi-definite kernel in Frobenius norm), and the fraction
    of the spectrum's absolute mass removed is stored in
    ``negative_spectrum_fraction_``. Eigenvalues at rounding level (``n eps
    max|lambda|``) count as zero. ``O(n^3)`` time for the eigendecomposition.

    Parameters
    ----------
    n_clusters : int, default=2
        Number of clusters, at most ``n_samples``.
    kernel : "precomputed" or kernel object, default="precomputed"
        ``"precomputed"``: ``X`` is the ``(n_samples, n_samples)`` kernel
        matrix. A kernel object (e.g. :class:`kernlearn.kernels.Gaussian`, or
        any scikit-learn ``Kernel``): ``X`` is feature data.

    Attributes
    ----------
    labels_ : ndarray of shape (n_samples,)
        Cluster of each training point.
    children_ : ndarray of shape (n_samples - 1, 2)
        The merge tree, as in :class:`sklearn.cluster.AgglomerativeClustering`.
    eigenvalues_ : ndarray of shape (n_samples,)
        Eigenvalues of the double-centred kernel, in decreasing order.
    negative_spectrum_fraction_ : float
        ``sum |negative eigenvalues| / sum |eigenvalues|`` of the double-centred
        kernel: the share of the spectrum clipped away (0 for a positive
        semi-definite kernel).
    n_features_in_ : int
        Number of features seen in fit (``n_samples`` for a precomputed kernel).
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Defined only when ``X`` has string feature names.

    See Also
    --------
    KernelKMeans : Flat partitioning under the same objective.
    sklearn.cluster.AgglomerativeClustering : Ward's method on explicit features.

    References
    ----------
    .. [1] J. H. Ward, "Hierarchical grouping to optimize an objective function",
       Journal of the American Statistical Association 58 (1963), pp. 236-244.
    .. [2] I. S. Dhillon, Y. Guan and B. Kulis, "Kernel k-means, spectral
       clustering and normalized cuts", KDD 2004, pp. 551-556.

    Examples
    --------
    >>> import numpy as np
    >>> from kernlearn.graph._kkmeans import KernelWard
    >>> X = np.array([[0.0], [0.1], [0.3], [5.0], [5.2]])
    >>> K = X @ X.T
    >>> KernelWard(2).fit_predict(K)
    array([0, 0, 0, 1, 1])

    ``-|x - y|^4``, the logarithm of ``exp(-|x - y|^4)``, is not positive
    semi-definite; under 1% of its centred spectrum is clipped:

    >>> ward = KernelWard(2).fit(-np.abs(X - X.T) ** 4)
    >>> ward.labels_, round(ward.negative_spectrum_fraction_, 4)
    (array([0, 0, 0, 1, 1]), 0.0086)
    """

    _parameter_constraints: dict = {
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
        "kernel": _KERNEL_CONSTRAINT,
    }

    def __init__(self, n_clusters=2, *, kernel="precomputed"):
        self.n_clusters = n_clusters
        self.kernel = kernel

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Build the Ward tree in feature space and cut it at ``n_clusters``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_samples) or (n_samples, n_features)
            The kernel matrix for ``kernel="precomputed"``, feature data
            otherwise; at least 2 samples.
        y : None
            Ignored.

        Returns
        -------
        self : KernelWard
            Fitted estimator.
        """
        with _atomic_fit(self):
            K, _, _ = _fit_kernel(self, X, min_samples=2)
            _check_n_clusters(int(self.n_clusters), K.shape[0])
            Z, lam, clipped = _kernel_embedding(K)
            ward = AgglomerativeClustering(
                n_clusters=int(self.n_clusters), linkage="ward"
            ).fit(Z)
        self.labels_ = ward.labels_.astype(np.intp)
        self.children_ = ward.children_
        self.eigenvalues_ = lam
        self.negative_spectrum_fraction_ = clipped
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.pairwise = _is_precomputed(self.kernel)
        return tags


# ---------------------------------------------------------------------------
# Spectral clustering of a non-negative kernel
# ---------------------------------------------------------------------------


class KernelSpectralClustering(ClusterMixin, BaseEstimator):
    """Spectral clustering (normalised cuts) of a non-negative kernel affinity.

    A thin wrapper over :class:`sklearn.cluster.SpectralClustering` with
    ``affinity="precomputed"``: the kernel matrix is taken as the weighted
    adjacency matrix of a graph, embedded by the leading eigenvectors of its
    normalised Laplacian, and the embedding is clustered by k-means (Shi and
    Malik 2000). Dhillon, Guan and Kulis (2004) show that the normalised-cut
    objective is a weighted kernel k-means objective, so this is the spectral
    relaxation of :class:`KernelKMeans` on a degree-normalised kernel.

    The affinity must be non-negative (it is a graph); a kernel with negative
    entries (a linear kernel, the logarithm of a kernel) is refused. Cluster
    such a similarity with :class:`KernelKMeans`, or make it an affinity
    first, e.g. ``np.exp(K / s)`` for a scale ``s``.

    Parameters
    ----------
    n_clusters : int, default=8
        Number of clusters, at most ``n_samples``.
    kernel : "precomputed" or kernel object, default="precomputed"
        ``"precomputed"``: ``X`` is the non-negative ``(n_samples, n_samples)``
        affinity matrix. A kernel object (e.g.
        :class:`kernlearn.kernels.Gaussian`, or any scikit-learn ``Kernel``):
        ``X`` is feature data and the affinity is its kernel matrix.
    n_init : int, default=10
        Number of k-means runs on the spectral embedding.
    random_state : int, RandomState instance or None, default=None
        Seeds the eigensolver's start vector and the k-means runs (passed to
        :class:`sklearn.cluster.SpectralClustering` unchanged).

    Attributes
    ----------
    labels_ : ndarray of shape (n_samples,)
        Cluster of each training point.
    n_features_in_ : int
        Number of features seen in fit (``n_samples`` for a precomputed kernel).
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Defined only when ``X`` has string feature names.

    See Also
    --------
    KernelKMeans : Works on any symmetric similarity, signed or not.
    sklearn.cluster.SpectralClustering : The estimator wrapped here.

    References
    ----------
    .. [1] J. Shi and J. Malik, "Normalized cuts and image segmentation", IEEE
       Transactions on Pattern Analysis and Machine Intelligence 22 (2000),
       pp. 888-905.
    .. [2] I. S. Dhillon, Y. Guan and B. Kulis, "Kernel k-means, spectral
       clustering and normalized cuts", KDD 2004, pp. 551-556.

    Examples
    --------
    >>> import numpy as np
    >>> from kernlearn.graph._kkmeans import KernelSpectralClustering
    >>> A = np.kron(np.eye(2), np.ones((3, 3))) + 0.01  # two dense blocks
    >>> KernelSpectralClustering(2, random_state=0).fit_predict(A)
    array([0, 0, 0, 1, 1, 1])
    """

    _parameter_constraints: dict = {
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
        "kernel": _KERNEL_CONSTRAINT,
        "n_init": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(
        self, n_clusters=8, *, kernel="precomputed", n_init=10, random_state=None
    ):
        self.n_clusters = n_clusters
        self.kernel = kernel
        self.n_init = n_init
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Cluster the graph whose weighted adjacency matrix is the kernel.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_samples) or (n_samples, n_features)
            The non-negative affinity matrix for ``kernel="precomputed"``,
            feature data otherwise.
        y : None
            Ignored.

        Returns
        -------
        self : KernelSpectralClustering
            Fitted estimator.
        """
        with _atomic_fit(self):
            A, _, _ = _fit_kernel(self, X)
            _check_n_clusters(int(self.n_clusters), A.shape[0])
            if np.any(A < 0):
                source = (
                    "X (kernel='precomputed')"
                    if _is_precomputed(self.kernel)
                    else f"the matrix of kernel={self.kernel!r}"
                )
                raise ValueError(
                    f"Negative values in data passed to KernelSpectralClustering: "
                    f"{source} has min {A.min():.3g}, but a spectral affinity "
                    "must be non-negative. Use KernelKMeans for a signed "
                    "similarity, or transform it first, e.g. np.exp(X / s)."
                )
            spectral = SpectralClustering(
                n_clusters=int(self.n_clusters),
                affinity="precomputed",
                n_init=self.n_init,
                random_state=self.random_state,
            ).fit(A)
        self.labels_ = spectral.labels_.astype(np.intp)
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        precomputed = _is_precomputed(self.kernel)
        tags.input_tags.pairwise = precomputed
        tags.input_tags.positive_only = precomputed
        return tags
