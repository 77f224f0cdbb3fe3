"""Tests of kernel k-means, kernel Ward and kernel spectral clustering.

References: scikit-learn's KMeans (linear kernel, same initial centres),
AgglomerativeClustering (Ward on the raw data) and SpectralClustering (same
affinity and seed); explicit feature maps (degree-2 polynomial kernel) for the
feature-space distances, inertia and nearest centroids; scipy's cdist and
eigvalsh; hand-worked small cases (empty-cluster re-seeding).
"""

import logging

import numpy as np
import pytest
from scipy.linalg import eigvalsh
from scipy.spatial.distance import cdist
from sklearn.base import clone
from sklearn.cluster import AgglomerativeClustering, KMeans, SpectralClustering
from sklearn.datasets import make_blobs
from sklearn.exceptions import NotFittedError
from sklearn.gaussian_process.kernels import DotProduct
from sklearn.metrics import adjusted_rand_score
from sklearn.metrics.pairwise import rbf_kernel
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import parametrize_with_checks

from kernlearn.graph._kkmeans import (
    KernelKMeans,
    KernelSpectralClustering,
    KernelWard,
    _kernel_sq_dist_to,
    _kkmeans_single,
    _kmeans_plusplus,
    _sq_distances,
)
from kernlearn.kernels import Gaussian, Linear, Polynomial

# ------------------------------------------------------------------ helpers


def _blobs(std=0.6, n=240, k=4, seed=0):
    X, y = make_blobs(
        n_samples=n, centers=k, cluster_std=std, center_box=(-10, 10), random_state=seed
    )
    return X, y


def _seed_labels(X, k, seed):
    """Initial partition: nearest of ``k`` random data points (and its means)."""
    idx = np.random.default_rng(seed).choice(X.shape[0], size=k, replace=False)
    labels = np.argmin(cdist(X, X[idx], "sqeuclidean"), axis=1)
    labels[idx] = np.arange(k)
    centres = np.array([X[labels == c].mean(axis=0) for c in range(k)])
    return labels, centres


def _phi2(X):
    """Explicit features of ``(x . y)^2``: the flattened outer product."""
    return np.einsum("ni,nj->nij", X, X).reshape(X.shape[0], -1)


def _explicit_sq_dist(F, labels, k):
    means = np.array([F[labels == c].mean(axis=0) for c in range(k)])
    return ((F[:, None, :] - means[None]) ** 2).sum(-1), means


# ------------------------------------------------ KernelKMeans vs KMeans (linear)


@pytest.mark.parametrize(
    "std, seed",
    [(0.6, 0), (0.6, 1), (2.5, 2), (3.0, 3)],
    ids=["sep0", "sep1", "ov2", "ov3"],
)
def test_linear_kernel_equals_sklearn_kmeans(std, seed):
    X, _ = _blobs(std=std, seed=seed)
    k = 4
    labels0, centres0 = _seed_labels(X, k, seed)
    ref = KMeans(
        k, init=centres0, n_init=1, tol=0.0, max_iter=300, algorithm="lloyd"
    ).fit(X)
    km = KernelKMeans(k, init=labels0, n_init=1, tol=0.0).fit(X @ X.T)
    np.testing.assert_array_equal(km.labels_, ref.labels_)
    assert adjusted_rand_score(km.labels_, ref.labels_) == 1.0
    np.testing.assert_allclose(km.inertia_, ref.inertia_, rtol=1e-8)
    assert km.n_iter_ == ref.n_iter_
    # The kernel-object path gives the same fit.
    km2 = KernelKMeans(k, kernel=Linear(), init=labels0, n_init=1, tol=0.0).fit(X)
    np.testing.assert_array_equal(km2.labels_, ref.labels_)
    np.testing.assert_allclose(km2.inertia_, ref.inertia_, rtol=1e-8)
    # New points: nearest sklearn centre.
    Xn = np.random.default_rng(seed).uniform(-12, 12, size=(50, 2))
    np.testing.assert_array_equal(km.predict(Xn @ X.T), ref.predict(Xn))
    np.testing.assert_array_equal(km2.predict(Xn), ref.predict(Xn))


def test_kmeanspp_linear_kernel_recovers_blobs():
    X, y = _blobs(std=0.6, seed=0)
    km = KernelKMeans(4, random_state=0).fit(X @ X.T)
    assert adjusted_rand_score(km.labels_, y) == 1.0
    ref = KMeans(4, n_init=10, random_state=0).fit(X)
    np.testing.assert_allclose(km.inertia_, ref.inertia_, rtol=1e-8)


# ------------------------------------------- distances against explicit features


def test_feature_space_distances_match_explicit_features():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 3))
    K = (X @ X.T) ** 2
    F = _phi2(X)
    np.testing.assert_allclose(F @ F.T, K, rtol=1e-12, atol=1e-12)
    labels = rng.integers(0, 4, size=30)
    ref, _ = _explicit_sq_dist(F, labels, 4)
    got = _sq_distances(K, np.diag(K).copy(), labels, 4)
    np.testing.assert_allclose(got, ref, rtol=1e-10, atol=1e-10)
    # Kernel-induced point distances are the explicit squared distances.
    D = _kernel_sq_dist_to(K, np.diag(K).copy(), np.arange(30))
    np.testing.assert_allclose(D, cdist(F, F, "sqeuclidean"), atol=1e-10)


def test_fitted_attributes_and_predict_match_explicit_centroids():
    rng = np.random.default_rng(1)
    X = np.r_[rng.normal(1, 0.3, (25, 2)), rng.normal(-1, 0.3, (25, 2))]
    X = np.r_[X, rng.normal(0, 0.3, (25, 2)) * [3, 0.2]]
    kernel = Polynomial(degree=2, gamma=1.0, coef0=0.0)
    km = KernelKMeans(3, kernel=kernel, random_state=0, tol=0.0).fit(X)
    F = _phi2(X)
    dist, means = _explicit_sq_dist(F, km.labels_, 3)
    np.testing.assert_allclose(
        km.inertia_, dist[np.arange(75), km.labels_].sum(), rtol=1e-10
    )
    np.testing.assert_allclose(km.center_norms_, (means**2).sum(1), rtol=1e-10)
    np.testing.assert_array_equal(km.cluster_sizes_, np.bincount(km.labels_))
    # Converged (tol=0): every point is at its nearest mean.
    np.testing.assert_array_equal(km.labels_, np.argmin(dist, axis=1))
    np.testing.assert_array_equal(km.predict(X), km.labels_)
    Xn = rng.uniform(-2, 2, size=(40, 2))
    nearest = np.argmin(cdist(_phi2(Xn), means, "sqeuclidean"), axis=1)
    np.testing.assert_array_equal(km.predict(Xn), nearest)
    # Precomputed K(X_new, X_train) gives the same as the kernel object.
    kp = KernelKMeans(3, random_state=0, tol=0.0).fit((X @ X.T) ** 2)
    np.testing.assert_array_equal(kp.labels_, km.labels_)
    np.testing.assert_array_equal(kp.predict((Xn @ X.T) ** 2), nearest)


def test_predict_precomputed_equals_kernel_object_gaussian():
    X, _ = _blobs(std=1.5, n=120, k=3, seed=4)
    Xn = np.random.default_rng(4).uniform(-10, 10, size=(60, 2))
    kernel = Gaussian(2.0)
    a = KernelKMeans(3, kernel=kernel, random_state=3).fit(X)
    b = KernelKMeans(3, random_state=3).fit(rbf_kernel(X, gamma=1 / 8))
    np.testing.assert_array_equal(a.labels_, b.labels_)
    np.testing.assert_allclose(a.inertia_, b.inertia_, rtol=1e-10)
    np.testing.assert_array_equal(
        a.predict(Xn), b.predict(rbf_kernel(Xn, X, gamma=1 / 8))
    )
    assert a.kernel_ is not kernel and a.kernel_.get_params() == kernel.get_params()
    np.testing.assert_array_equal(a.X_fit_, X)
    assert not hasattr(b, "X_fit_")


# ------------------------------------------------ seeding, n_init, reproducibility


def test_kmeanspp_reproducible_with_random_state():
    X, _ = _blobs(std=2.0, seed=5)
    K = X @ X.T
    a = KernelKMeans(4, n_init=3, random_state=7).fit(K)
    b = KernelKMeans(4, n_init=3, random_state=7).fit(K)
    c = KernelKMeans(4, n_init=3, random_state=np.random.RandomState(7)).fit(K)
    for other in (b, c):
        np.testing.assert_array_equal(a.labels_, other.labels_)
        assert a.inertia_ == other.inertia_ and a.n_iter_ == other.n_iter_
    s1 = _kmeans_plusplus(K, np.diag(K).copy(), 4, np.random.RandomState(0))
    s2 = _kmeans_plusplus(K, np.diag(K).copy(), 4, np.random.RandomState(0))
    np.testing.assert_array_equal(s1, s2)


def test_kmeanspp_seeds_distinct_and_spread():
    # Four tight, far-apart blobs: greedy k-means++ puts one seed in each.
    X, y = _blobs(std=0.05, n=200, k=4, seed=6)
    K = X @ X.T
    for seed in range(20):
        seeds = _kmeans_plusplus(K, np.diag(K).copy(), 4, np.random.RandomState(seed))
        assert len(set(seeds)) == 4
        assert len(set(y[seeds])) == 4
    # Duplicated points: fewer distinct points than clusters still gives
    # distinct seed indices (uniform fall-back once the potential is 0).
    Xd = np.repeat([[0.0, 0.0], [1.0, 1.0]], 5, axis=0)
    Kd = Xd @ Xd.T
    seeds = _kmeans_plusplus(Kd, np.diag(Kd).copy(), 4, np.random.RandomState(0))
    assert len(set(seeds)) == 4
    km = KernelKMeans(4, random_state=0).fit(Kd)
    assert np.bincount(km.labels_).min() >= 1
    np.testing.assert_allclose(km.inertia_, 0.0, atol=1e-12)


@pytest.mark.parametrize("init", ["k-means++", "random"])
def test_n_init_keeps_lowest_inertia(init):
    X, _ = _blobs(std=2.5, n=150, k=5, seed=8)
    K = X @ X.T
    n_init = 8
    km = KernelKMeans(5, init=init, n_init=n_init, random_state=11).fit(K)
    seeds = np.random.RandomState(11).randint(np.iinfo(np.int32).max, size=n_init)
    diag = np.diag(K).copy()
    runs = [
        _kkmeans_single(K, diag, 5, init, 300, 1e-6, np.random.RandomState(s))
        for s in seeds
    ]
    inertias = np.array([r[1] for r in runs])
    best = int(np.argmin(inertias))
    assert km.inertia_ == inertias.min()
    np.testing.assert_array_equal(km.labels_, runs[best][0])
    assert km.n_iter_ == runs[best][2]
    # n_init=1 repeats the first of the n_init runs (same random_state).
    one = KernelKMeans(5, init=init, n_init=1, random_state=11).fit(K)
    assert one.inertia_ == inertias[0] and one.inertia_ >= km.inertia_
    # The runs genuinely differ here, so the choice is tested.
    assert np.ptp(inertias) > 0


def test_empty_cluster_reseeded_from_farthest_point():
    # Initial clusters {0, 3}, {1}, {2} on the line: the first assignment empties
    # cluster 0 (mean 1.5); points 0 and 3 are both 1 from their new means, the
    # lower index (0) moves to cluster 0. Then {0}, {1}, {2, 3} is stable.
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    km = KernelKMeans(3, init=[0, 1, 2, 0], n_init=1, tol=0.0).fit(X @ X.T)
    np.testing.assert_array_equal(km.labels_, [0, 1, 2, 2])
    np.testing.assert_allclose(km.inertia_, 0.5, rtol=1e-12)
    assert km.n_iter_ == 2


def test_init_labels_relabelled_and_deterministic():
    X, _ = _blobs(std=1.0, seed=9)
    K = X @ X.T
    labels0, _ = _seed_labels(X, 4, 9)
    a = KernelKMeans(4, init=labels0, n_init=1, tol=0.0).fit(K)
    # Shifted labels (10..13) and n_init > 1 change nothing.
    b = KernelKMeans(4, init=labels0 + 10, n_init=3, tol=0.0).fit(K)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    assert a.inertia_ == b.inertia_


def test_tol_and_max_iter_stop_early():
    X, _ = _blobs(std=3.0, seed=3)
    K = X @ X.T
    labels0, _ = _seed_labels(X, 4, 3)
    full = KernelKMeans(4, init=labels0, tol=0.0).fit(K)
    assert full.n_iter_ > 2
    one = KernelKMeans(4, init=labels0, tol=0.0, max_iter=1).fit(K)
    assert one.n_iter_ == 1 and one.inertia_ >= full.inertia_
    loose = KernelKMeans(4, init=labels0, tol=0.5).fit(K)
    assert loose.n_iter_ == 1


# --------------------------------------------------------- indefinite similarity


def test_indefinite_kernel_runs_and_inertia_is_formula():
    rng = np.random.default_rng(12)
    X = np.r_[rng.normal(0, 0.3, (20, 2)), rng.normal(3, 0.3, (20, 2))]
    S = -(cdist(X, X) ** 4)  # log of exp(-|x - y|^4): not positive definite
    assert eigvalsh(S).min() < 0
    km = KernelKMeans(2, random_state=0, tol=0.0).fit(S)
    assert adjusted_rand_score(km.labels_, np.repeat([0, 1], 20)) == 1.0
    # Inertia by the formula, summed cluster by cluster with plain loops.
    ref = 0.0
    for c in range(2):
        idx = np.flatnonzero(km.labels_ == c)
        block = S[np.ix_(idx, idx)]
        ref += sum(S[i, i] - 2 * S[i, idx].mean() + block.mean() for i in idx)
    np.testing.assert_allclose(km.inertia_, ref, rtol=1e-10)
    # Pseudo-Euclidean: some own-cluster "squared distances" are negative, and
    # nothing was clipped.
    own = _sq_distances(S, np.diag(S).copy(), km.labels_, 2)[np.arange(40), km.labels_]
    assert own.min() < 0
    np.testing.assert_allclose(own.sum(), km.inertia_, rtol=1e-12)


def test_indefinite_random_similarity_never_ends_above_its_start():
    # Lloyd steps may raise the objective on an indefinite matrix; such a step
    # is undone, so a run never ends above the inertia of its initial partition.
    rng = np.random.default_rng(13)
    for _ in range(20):
        A = rng.standard_normal((30, 30))
        A = (A + A.T) / 2
        init = np.r_[np.arange(3), rng.integers(0, 3, size=27)]
        diag = np.diag(A).copy()
        start = _sq_distances(A, diag, init, 3)[np.arange(30), init].sum()
        labels, inertia, _ = _kkmeans_single(A, diag, 3, init, 300, 0.0, None)
        assert inertia <= start + 1e-12
        assert np.bincount(labels, minlength=3).min() >= 1
        km = KernelKMeans(3, init=init, n_init=1, tol=0.0).fit(A)
        np.testing.assert_array_equal(km.labels_, labels)


# ------------------------------------------------------------------- KernelWard


@pytest.mark.parametrize("seed, k", [(0, 3), (1, 5), (2, 2)])
def test_kernel_ward_linear_equals_agglomerative_ward(seed, k):
    X, _ = _blobs(std=1.5, n=80, k=k, seed=seed)
    ref = AgglomerativeClustering(n_clusters=k, linkage="ward").fit(X)
    ward = KernelWard(k).fit(X @ X.T)
    assert adjusted_rand_score(ward.labels_, ref.labels_) == 1.0
    np.testing.assert_array_equal(ward.children_, ref.children_)
    assert ward.negative_spectrum_fraction_ == 0.0
    ward2 = KernelWard(k, kernel=Linear()).fit(X)
    assert adjusted_rand_score(ward2.labels_, ref.labels_) == 1.0
    np.testing.assert_array_equal(ward.fit_predict(X @ X.T), ward.labels_)


def test_kernel_ward_clipped_spectrum_fraction():
    rng = np.random.default_rng(3)
    X = np.r_[rng.normal(0, 0.3, (15, 1)), rng.normal(4, 0.3, (15, 1))]
    S = -(cdist(X, X) ** 4)
    n = S.shape[0]
    J = np.eye(n) - 1.0 / n
    lam = eigvalsh(J @ S @ J)
    expected = -lam[lam < 0].sum() / np.abs(lam).sum()
    ward = KernelWard(2).fit(S)
    assert expected > 1e-3
    np.testing.assert_allclose(ward.negative_spectrum_fraction_, expected, rtol=1e-8)
    np.testing.assert_allclose(ward.eigenvalues_, lam[::-1], atol=1e-8)
    assert adjusted_rand_score(ward.labels_, np.repeat([0, 1], 15)) == 1.0


# ---------------------------------------------------- KernelSpectralClustering


@pytest.mark.parametrize("seed", [0, 1])
def test_spectral_equals_sklearn_on_same_affinity(seed):
    X, _ = _blobs(std=2.0, n=90, k=3, seed=seed)
    A = rbf_kernel(X, gamma=1 / 8)
    ref = SpectralClustering(
        3, affinity="precomputed", n_init=3, random_state=seed
    ).fit(A)
    got = KernelSpectralClustering(3, n_init=3, random_state=seed).fit(A)
    np.testing.assert_array_equal(got.labels_, ref.labels_)
    obj = KernelSpectralClustering(
        3, kernel=Gaussian(2.0), n_init=3, random_state=seed
    ).fit(X)
    np.testing.assert_array_equal(obj.labels_, ref.labels_)


# ---------------------------------------------------------------------- errors

ESTIMATORS = [KernelKMeans, KernelWard, KernelSpectralClustering]


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_error_non_square_precomputed(cls):
    with pytest.raises(ValueError, match=r"must be a square .* got shape \(5, 3\)"):
        cls(2).fit(np.ones((5, 3)))


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_error_asymmetric_precomputed(cls):
    K = np.ones((4, 4))
    K[0, 1] = 2.0
    with pytest.raises(ValueError, match=r"symmetric kernel matrix.*\(X \+ X\.T\) / 2"):
        cls(2).fit(K)
    # Rounding-level asymmetry is accepted and averaged away.
    X = np.random.default_rng(0).uniform(size=(6, 2))
    K = rbf_kernel(X)
    Kn = K.copy()
    Kn[0, 1] += 1e-14
    np.testing.assert_array_equal(
        cls(2, **_seeded(cls)).fit(Kn).labels_, cls(2, **_seeded(cls)).fit(K).labels_
    )


def _seeded(cls):
    return {} if cls is KernelWard else {"random_state": 0}


@pytest.mark.parametrize("cls", ESTIMATORS)
@pytest.mark.parametrize("bad, word", [(np.nan, "NaN"), (np.inf, "infinity")])
def test_error_nan_inf(cls, bad, word):
    K = np.eye(4)
    K[1, 2] = K[2, 1] = bad
    with pytest.raises(ValueError, match=f"Input X contains {word}"):
        cls(2).fit(K)
    with pytest.raises(ValueError, match=f"Input X contains {word}"):
        cls(2, kernel=Gaussian(1.0)).fit(K)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_error_n_clusters_exceeds_samples(cls):
    with pytest.raises(ValueError, match=r"n_clusters=5 must be <= n_samples=4"):
        cls(5).fit(np.eye(4))
    with pytest.raises(ValueError, match=r"n_clusters=5 must be <= n_samples=4"):
        cls(5, kernel=Gaussian(1.0)).fit(np.eye(4))


@pytest.mark.parametrize("cls", ESTIMATORS)
@pytest.mark.parametrize(
    "params, match",
    [
        ({"n_clusters": 0}, "'n_clusters' parameter"),
        ({"n_clusters": 1.5}, "'n_clusters' parameter"),
        ({"kernel": "rbf"}, "'kernel' parameter"),
    ],
)
def test_error_invalid_parameters(cls, params, match):
    with pytest.raises(InvalidParameterError, match=match):
        cls().set_params(**params).fit(np.eye(4))


@pytest.mark.parametrize(
    "params, match",
    [
        ({"init": "kmeans"}, "'init' parameter"),
        ({"n_init": 0}, "'n_init' parameter"),
        ({"max_iter": 0}, "'max_iter' parameter"),
        ({"tol": -1.0}, "'tol' parameter"),
    ],
)
def test_error_invalid_kmeans_parameters(params, match):
    with pytest.raises(InvalidParameterError, match=match):
        KernelKMeans(2, **params).fit(np.eye(4))


@pytest.mark.parametrize(
    "init, match",
    [
        ([0, 1, 0], r"one initial cluster label per sample, shape \(4,\); got shape"),
        ([[0, 1], [0, 1]], r"one initial cluster label per sample"),
        ([0, 0, 0, 0], r"exactly n_clusters=2 distinct labels .* got 1 distinct"),
        ([0, 1, 2, 2], r"exactly n_clusters=2 distinct labels .* got 3 distinct"),
        ([0.0, 0.5, 1.0, 1.0], r"integer cluster labels"),
        ([0, 1, np.nan, 1], r"Input init contains NaN"),
    ],
)
def test_error_bad_init_labels(init, match):
    with pytest.raises(ValueError, match=match):
        KernelKMeans(2, init=init).fit(np.eye(4))


def test_error_negative_affinity_for_spectral():
    X = np.random.default_rng(0).standard_normal((10, 2))
    with pytest.raises(
        ValueError,
        match=r"Negative values in data .*kernel='precomputed'.*KernelKMeans",
    ):
        KernelSpectralClustering(2).fit(X @ X.T)
    with pytest.raises(ValueError, match=r"Negative values in data .*kernel=Linear"):
        KernelSpectralClustering(2, kernel=Linear()).fit(X)


def test_error_kernel_gives_non_finite():
    X = np.full((4, 2), 1e200)
    with pytest.raises(ValueError, match=r"kernel=DotProduct.*NaN or infinite"):
        with np.errstate(over="ignore", invalid="ignore"):
            KernelKMeans(2, kernel=DotProduct(sigma_0=0.0)).fit(X)


def test_error_predict_shapes_and_unfitted():
    with pytest.raises(NotFittedError):
        KernelKMeans(2).predict(np.eye(4))
    km = KernelKMeans(2, random_state=0).fit(np.eye(4))
    with pytest.raises(ValueError, match=r"X has 3 features, but KernelKMeans is"):
        km.predict(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"Input X contains NaN"):
        km.predict(np.full((2, 4), np.nan))


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_failed_fit_leaves_estimator_unchanged(cls):
    X = np.random.default_rng(0).uniform(size=(8, 2))
    est = cls(2, kernel=Gaussian(1.0))
    with pytest.raises(ValueError):
        est.fit(X[:1])  # n_clusters > n_samples (or too few samples)
    assert not hasattr(est, "n_features_in_") and not hasattr(est, "labels_")
    est = cls(2).fit(rbf_kernel(X))
    before = {k: np.copy(v) for k, v in vars(est).items() if k.endswith("_")}
    with pytest.raises(ValueError, match="must be a square"):
        est.fit(np.ones((8, 3)))
    # KernelWard refuses a single sample before looking at n_clusters.
    with pytest.raises(ValueError, match=r"n_samples=1|Found array with 1 sample"):
        est.fit(np.ones((1, 1)))
    after = {k: v for k, v in vars(est).items() if k.endswith("_")}
    assert before.keys() == after.keys()
    for key, value in before.items():
        np.testing.assert_array_equal(after[key], value)


def test_refit_precomputed_drops_feature_data():
    X = np.random.default_rng(0).uniform(size=(8, 2))
    km = KernelKMeans(2, kernel=Gaussian(1.0), random_state=0).fit(X)
    assert hasattr(km, "X_fit_")
    km.set_params(kernel="precomputed").fit(rbf_kernel(X))
    assert not hasattr(km, "X_fit_") and not hasattr(km, "kernel_")
    assert km.n_features_in_ == 8


def test_verbose_logs_each_run(caplog):
    with caplog.at_level(logging.INFO, logger="kernlearn"):
        KernelKMeans(2, n_init=3, verbose=1, random_state=0).fit(np.eye(5))
    runs = [r for r in caplog.records if "KernelKMeans run" in r.getMessage()]
    assert len(runs) == 3
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="kernlearn"):
        KernelKMeans(2, n_init=3, random_state=0).fit(np.eye(5))
    assert not caplog.records


def test_tags_follow_kernel():
    for cls in ESTIMATORS:
        assert cls().__sklearn_tags__().input_tags.pairwise
        assert not cls(kernel=Gaussian(1.0)).__sklearn_tags__().input_tags.pairwise
    tags = KernelSpectralClustering().__sklearn_tags__()
    assert tags.input_tags.positive_only
    assert not KernelKMeans().__sklearn_tags__().input_tags.positive_only
    assert clone(KernelKMeans(kernel=Gaussian(1.0))).kernel == Gaussian(1.0)


# -------------------------------------------------------- scikit-learn checks

#: check_clustering fits the raw (50, 2) blob data and never builds a kernel
#: (unlike the other checks, it ignores the pairwise tag), while
#: check_nonsquare_error demands that a pairwise estimator refuse non-square
#: input: no precomputed-kernel clusterer can pass both.
_PRECOMPUTED_XFAIL = {
    "check_clustering": (
        "feeds raw (50, 2) features to a kernel='precomputed' estimator, which "
        "check_nonsquare_error requires to be refused"
    )
}


def _expected_failed_checks(estimator):
    if getattr(estimator, "kernel", None) == "precomputed":
        return _PRECOMPUTED_XFAIL
    return {}


@parametrize_with_checks(
    [
        KernelKMeans(),
        KernelKMeans(kernel=Gaussian(1.0)),
        KernelWard(),
        KernelWard(kernel=Gaussian(1.0)),
        KernelSpectralClustering(),
        KernelSpectralClustering(kernel=Gaussian(1.0), n_init=1),
    ],
    expected_failed_checks=_expected_failed_checks,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_docstring_examples():
    import doctest

    from kernlearn.graph import _kkmeans

    result = doctest.testmod(_kkmeans, verbose=False)
    assert result.attempted > 0 and result.failed == 0
