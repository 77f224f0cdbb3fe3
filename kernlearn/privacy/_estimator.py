"""Differentially private similarity sums: one release, any number of queries."""

from __future__ import annotations

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from .._config import get_config
from ..backend import is_dask_array, kernel_sum, map_row_blocks
from ..kernels import Cauchy, Gaussian, L1Laplacian, Laplacian
from ._accountant import BudgetAccountant, PrivacyLeakWarning
from ._base import NEIGHBOURING, Sensitivity
from ._noise import release, secure_generator
from ._sketch import FastGaussSketch, JLProjection, RandomFeatureSketch
from ._tree import BandTree

#: Similarities that are kernels (larger = more alike), with their kernel objects.
KERNELS = {
    "gaussian": Gaussian,
    "exponential": Laplacian,
    "laplacian": L1Laplacian,
    "cauchy": Cauchy,
}
#: Similarities that are distances (smaller = more alike).
DISTANCES = ("l1", "l2", "lp")
METHODS = ("auto", "tree", "rff", "fgt", "lsq_rff", "lsq_fgt")

#: Share of epsilon spent on the record count under add/remove neighbours when the
#: mechanism's statistics do not carry the count themselves. For one mean, the
#: count's relative noise and the sketch's balance near 5% (a few hundred random
#: features); the classifier spends more (see ``_classifier``), because a noisy
#: class count biases every score of that class the same way.
COUNT_SHARE = 0.05

#: Largest FGT grid (cells x coefficients) that ``method="auto"`` picks.
_AUTO_FGT_MAX_SIZE = 2_000_000


def exact_similarity_sum(X, Y, *, kernel="gaussian", bandwidth=1.0, p=1.0):
    """Exact, non-private ``sum_x f(x, y)`` for every row ``y`` of ``Y``.

    The reference that private answers are measured against (on public or test data:
    publishing it for private ``X`` is not private). Kernels run through the
    backend's :func:`~kernlearn.backend.kernel_sum`; distances in blocks sized by
    ``working_memory``.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        The data summed over.
    Y : array-like of shape (n_queries, n_features)
        The queries.
    kernel : str, default="gaussian"
        One of ``"gaussian"``, ``"exponential"``, ``"laplacian"``, ``"cauchy"``,
        ``"l1"``, ``"l2"``, ``"lp"`` (see :class:`PrivateSimilaritySum`).
    bandwidth : float, default=1.0
        Kernel length scale.
    p : float, default=1.0
        Exponent of ``"lp"``.

    Returns
    -------
    sums : ndarray of shape (n_queries,)
        A dask array when ``X`` or ``Y`` is one (kernels: one task per block
        pair of ``Y`` and ``X`` and a tree reduction; the distances ``"l1"``,
        ``"l2"``, ``"lp"`` need ``X`` in memory and map ``Y``'s row blocks).

    Examples
    --------
    >>> from kernlearn.privacy import exact_similarity_sum
    >>> X, Y = [[0.0], [1.0]], [[0.0], [3.0]]
    >>> exact_similarity_sum(X, Y, kernel="gaussian", bandwidth=1.0).round(4)
    array([1.6065, 0.1464])
    >>> exact_similarity_sum(X, Y, kernel="l1")
    array([1., 5.])
    """
    if kernel not in KERNELS and kernel not in DISTANCES:
        raise ValueError(f"Unknown kernel {kernel!r}; use one of {_all_names()}.")
    if is_dask_array(X) or is_dask_array(Y):
        if kernel in KERNELS:
            return kernel_sum(KERNELS[kernel](bandwidth), Y, X)
        if is_dask_array(X):
            raise TypeError(
                f"kernel={kernel!r} sums distances to an in-memory X; pass X as "
                "a numpy array (X.compute()); the queries Y may stay a dask array."
            )
        return map_row_blocks(_DistanceSums(X, kernel, p), "sums", Y,
                              n_features=np.shape(X)[1])  # fmt: skip
    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    if kernel in KERNELS:
        return kernel_sum(KERNELS[kernel](bandwidth), Y, X, np.ones(len(X)))
    return _distance_sums(X, Y, kernel, p)


class _DistanceSums:
    """The exact distance sums to ``X`` as a picklable object (the state of
    :func:`~kernlearn.backend.map_row_blocks` over dask queries)."""

    def __init__(self, X, kernel, p):
        self.X, self.kernel, self.p = np.asarray(X, dtype=np.float64), kernel, p

    def sums(self, Y):
        return _distance_sums(self.X, np.asarray(Y, dtype=np.float64),
                              self.kernel, self.p)  # fmt: skip


def _distance_sums(X, Y, kernel, p):
    budget = get_config()["working_memory"] * 2**20
    rows = max(1, int(budget // max(1, 8 * X.shape[0] * X.shape[1])))
    out = np.empty(len(Y))
    for s in range(0, len(Y), rows):
        D = np.abs(Y[s : s + rows, None, :] - X[None, :, :])
        if kernel == "l1":
            out[s : s + rows] = D.sum(axis=(1, 2))
        elif kernel == "lp":
            out[s : s + rows] = (D**p).sum(axis=(1, 2))
        else:
            out[s : s + rows] = np.sqrt((D**2).sum(axis=2)).sum(axis=1)
    return out


def _all_names():
    return ", ".join(repr(k) for k in (*KERNELS, *DISTANCES))


class _PrivateSimilarityParams(BaseEstimator):
    """Parameters shared by the private estimators (documented on each of them);
    ``__init__`` only stores them."""

    _parameter_constraints: dict = {
        "kernel": [StrOptions(set(KERNELS) | set(DISTANCES))],
        "bandwidth": [Interval(Real, 0, None, closed="neither")],
        "p": [Interval(Real, 0, None, closed="neither")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "delta": [Interval(Real, 0, 1, closed="left")],
        "bounds": ["array-like", StrOptions({"data"}), None],
        "data_norm": [Interval(Real, 0, None, closed="neither"), None],
        "method": [StrOptions(set(METHODS))],
        "n_features": [Interval(Integral, 2, None, closed="left")],
        "sampling": [StrOptions({"qmc", "orthogonal", "iid"})],
        "order": [Interval(Integral, 1, 16, closed="both")],
        "alpha": [Interval(Real, 0, None, closed="neither")],
        "depth": [Interval(Integral, 1, 30, closed="both")],
        "n_projections": [Interval(Integral, 1, None, closed="left")],
        "jl_components": [Interval(Integral, 1, None, closed="left"), None],
        "neighbouring": [StrOptions(set(NEIGHBOURING))],
        "accountant": [BudgetAccountant, None],
        "random_state": ["random_state", np.random.Generator],
    }

    def __init__(
        self,
        kernel="gaussian",
        *,
        bandwidth=1.0,
        p=1.0,
        epsilon=1.0,
        delta=0.0,
        bounds=None,
        data_norm=None,
        method="auto",
        n_features=500,
        sampling="qmc",
        order=4,
        alpha=0.1,
        depth=16,
        n_projections=32,
        jl_components=None,
        neighbouring="substitute",
        accountant=None,
        random_state=None,
    ):
        self.kernel = kernel
        self.bandwidth = bandwidth
        self.p = p
        self.epsilon = epsilon
        self.delta = delta
        self.bounds = bounds
        self.data_norm = data_norm
        self.method = method
        self.n_features = n_features
        self.sampling = sampling
        self.order = order
        self.alpha = alpha
        self.depth = depth
        self.n_projections = n_projections
        self.jl_components = jl_components
        self.neighbouring = neighbouring
        self.accountant = accountant
        self.random_state = random_state


class PrivateSimilaritySum(_PrivateSimilarityParams):
    """Differentially private sums of similarities to a private dataset.

    ``fit(X)`` releases, once, an epsilon-differentially private summary of ``X``;
    :meth:`similarity_sum` then answers ``sum_{x in X} f(x, y)`` for any number of
    queries ``y`` and :meth:`mean_similarity` the average, without spending more
    budget (answers are post-processing of the release). Kernels ``f`` are answered
    by random-feature sketches or the fast-Gauss-transform grid, distances by
    per-coordinate noisy dyadic count trees read over geometric distance bands
    (Backurs et al. 2024).

    Noise is discrete (Laplace, or Gaussian when ``delta > 0``) on a power-of-two
    grid with the sensitivity inflated by the rounding, so the release resists the
    floating-point attacks of Mironov (2012); it is seeded from the operating
    system's secure source unless ``random_state`` is given (do that only in
    tests: a known seed makes the noise reproducible). Noise is always drawn on the
    CPU.

    Parameters
    ----------
    kernel : str, default="gaussian"
        The similarity ``f``, with ``h = bandwidth``: ``"gaussian"``
        ``exp(-|x-y|^2 / (2 h^2))``; ``"exponential"`` ``exp(-|x-y|_2 / h)``;
        ``"laplacian"`` ``exp(-|x-y|_1 / h)``; ``"cauchy"``
        ``1 / (1 + |x-y|^2 / h^2)``; distances ``"l1"`` ``|x-y|_1``, ``"l2"``
        ``|x-y|_2`` and ``"lp"`` ``sum_k |x_k-y_k|^p`` (``l_p^p``).
    bandwidth : float, default=1.0
        Kernel length scale ``h`` (ignored by distances). Choose it on public data.
    p : float, default=1.0
        Exponent of ``kernel="lp"``.
    epsilon : float, default=1.0
        Privacy budget spent, once, by ``fit``.
    delta : float, default=0.0
        0 gives pure epsilon-DP (discrete Laplace noise); ``delta > 0`` gives
        (epsilon, delta)-DP with discrete Gaussian noise calibrated through zCDP.
    bounds : array-like of shape (2,) or (n_features, 2), "data" or None, default=None
        Public box ``[lower, upper]`` containing the data (one pair for every
        feature, or one per feature). Records outside are clipped into it (with a
        :class:`PrivacyLeakWarning`). Needed by ``method="tree"`` and ``"fgt"``
        (unless ``data_norm`` is given); random features need no bounds.
        ``"data"`` takes the box from the private data itself: this leaks and
        warns, use it only when the data are public.
    data_norm : float or None, default=None
        Public bound on ``|x|_2``; records beyond it are scaled back onto the ball
        (warning). Gives the box ``[-data_norm, data_norm]`` when ``bounds`` is None.
    method : {"auto", "tree", "rff", "fgt", "lsq_rff", "lsq_fgt"}, default="auto"
        ``"tree"``: dyadic count trees (distances only); ``"rff"``: random-feature
        sketch (kernels; cos/sin feature pairs, ``sampling`` frequencies);
        ``"fgt"``: fast-Gauss-transform grid (Gaussian kernel, a few features)
        with noise weighted across Hermite terms. ``"auto"``: tree for
        distances, fgt for the Gaussian kernel in at most 2 dimensions when
        bounds are given and the grid is small, rff otherwise. The baselines of
        Wagner et al. (2023), for comparison: ``"lsq_rff"`` (i.i.d. frequencies,
        random phases) and ``"lsq_fgt"`` (uniform noise over Hermite terms).
    n_features : int, default=500
        Random features of ``"rff"`` (query time grows with it; approximation
        error falls as ``1/sqrt(n_features)``, noise grows as ``sqrt``).
    sampling : {"qmc", "orthogonal", "iid"}, default="qmc"
        How ``"rff"`` draws its frequencies: randomised quasi-Monte Carlo
        (scrambled Sobol), orthogonal blocks (Yu et al. 2016) or i.i.d.
    order : int, default=4
        Hermite order per dimension of ``"fgt"``.
    alpha : float, default=0.1
        Band ratio ``1 + alpha`` of ``"tree"`` (relative approximation error of
        the band read-out).
    depth : int, default=16
        Depth of ``"tree"`` (``2**depth`` leaves per coordinate).
    n_projections : int, default=32
        Gaussian projections of ``kernel="l2"`` (l2 through l1).
    jl_components : int or None, default=None
        Johnson-Lindenstrauss pre-projection of the data (and queries) to this many
        dimensions before a kernel mechanism (data-independent, costs no budget;
        it speeds up features but bends the kernel by relative ``O(1/k)``).
    neighbouring : {"substitute", "add_remove"}, default="substitute"
        Neighbouring datasets differ by replacing one record (the number of
        records is public) or by adding/removing one (then the count is released
        too, from the tree roots or the FGT constant terms, otherwise with
        ``5%`` of ``epsilon`` and pure DP noise, the rest keeping all of ``delta``).
    accountant : BudgetAccountant or None, default=None
        Checked before ``fit`` does any work, charged ``(epsilon, delta)`` once
        after the release; queries are never charged.
    random_state : int, numpy Generator or None, default=None
        None draws noise from the operating system's secure source.

    Attributes
    ----------
    method_ : str
        The mechanism used.
    mechanism_ : object
        The mechanism (public randomness only: frequencies, projections, grid).
    released_ : dict of ndarray
        The released noisy statistics; everything a query reads.
    noise_ : list of NoiseRecord
        Every released array's noise distribution, scale, grid and sensitivity.
    epsilon_spent_, delta_spent_ : float
        Budget spent by ``fit`` (the whole of ``epsilon`` and ``delta``).
    n_records_ : float
        The record count that :meth:`mean_similarity` divides by: exact under
        substitution (public), released with noise under add/remove.
    bounds_ : ndarray of shape (n_features, 2) or None
        The public box the data were clipped into.
    projection_ : JLProjection or None
        The Johnson-Lindenstrauss projection, when ``jl_components`` is set.
    n_features_in_ : int
        Number of features seen in ``fit``.

    See Also
    --------
    PrivateSimilarityClassifier : classification by private mean similarity.
    kernlearn.density.KernelDensity : the non-private density estimate.

    References
    ----------
    A. Backurs, Z. Lin, S. Mahabadi, S. Silwal, J. Tarnawski, "Efficiently
    computing similarities to private datasets", ICLR 2024 (arXiv 2403.08917).
    T. Wagner, Y. Naamad, N. Mishra, "Fast private kernel density estimation via
    locality sensitive quantization", ICML 2023.
    I. Mironov, "On significance of the least significant bits for differential
    privacy", CCS 2012.

    Examples
    --------
    >>> import numpy as np
    >>> from kernlearn.privacy import PrivateSimilaritySum
    >>> X = np.random.default_rng(0).uniform(0, 1, size=(20000, 2))
    >>> est = PrivateSimilaritySum("l1", epsilon=1.0, bounds=(0, 1), random_state=0)
    >>> est = est.fit(X)
    >>> est.mean_similarity([[0.5, 0.5]]).round(2)  # exact: 0.5
    array([0.5])
    """

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Release the private summary of ``X`` (spends ``epsilon`` once).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The private data.
        y : None
            Ignored.

        Returns
        -------
        self : PrivateSimilaritySum
        """
        X = validate_data(self, X, dtype=np.float64, ensure_min_samples=1)
        (state,) = _release_groups(
            self,
            X,
            np.zeros(X.shape[0], dtype=np.intp),
            1,
            self.epsilon,
            self.delta,
            self.neighbouring,
            self.accountant,
            COUNT_SHARE,
        )
        for name, value in state.items():
            setattr(self, name, value)
        return self

    def similarity_sum(self, Y):
        """Private estimate of ``sum_{x in X} f(x, y)`` for each row of ``Y``.

        Costs no budget: a function of the released statistics only.

        Parameters
        ----------
        Y : array-like of shape (n_queries, n_features)

        Returns
        -------
        sums : ndarray of shape (n_queries,)
            A dask array when ``Y`` is one (the released statistics travel to
            each Dask worker once; each row block of queries is answered
            there).
        """
        check_is_fitted(self, "released_")
        if is_dask_array(Y):
            return map_row_blocks(self, "similarity_sum", Y,
                                  n_features=self.n_features_in_)  # fmt: skip
        Y = validate_data(self, Y, dtype=np.float64, reset=False)
        return _query(self, Y)

    def mean_similarity(self, Y):
        """Private estimate of the mean ``f(x, y)`` over ``X``, per row of ``Y``.

        Parameters
        ----------
        Y : array-like of shape (n_queries, n_features)

        Returns
        -------
        means : ndarray of shape (n_queries,)
        """
        return self.similarity_sum(Y) / max(self.n_records_, 1.0)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.non_deterministic = self.random_state is None
        return tags


# ----------------------------------------------------------------------------- #
# The release, shared with the classifier (one call per class).
# ----------------------------------------------------------------------------- #


def _resolve_method(est, d, has_box):
    kernel, method = est.kernel, est.method
    if method == "auto":
        if kernel in DISTANCES:
            return "tree"
        if kernel == "gaussian" and d <= 2 and has_box:
            return "fgt"
        return "rff"
    if method == "tree" and kernel not in DISTANCES:
        raise ValueError(
            f"method='tree' answers distances ('l1', 'l2', 'lp'), not "
            f"kernel={kernel!r}; use method='rff' (or 'fgt' for 'gaussian')."
        )
    if method in ("rff", "lsq_rff", "fgt", "lsq_fgt") and kernel in DISTANCES:
        raise ValueError(
            f"method={method!r} answers kernels; distances ({kernel!r}) need "
            "method='tree' (or 'auto')."
        )
    if method in ("fgt", "lsq_fgt", "lsq_rff") and kernel != "gaussian":
        raise ValueError(
            f"method={method!r} is for kernel='gaussian' only, got {kernel!r}; "
            "use method='rff'."
        )
    return method


def _check_bounds(bounds, data_norm, X):
    """The public box as (d, 2), or None; ``"data"`` warns that it leaks."""
    d = X.shape[1]
    if isinstance(bounds, str):  # "data", the only string the constraints allow
        warnings.warn(
            "bounds='data' takes the box from the private data: this leaks the "
            "extreme values and voids the privacy guarantee. Pass public bounds.",
            PrivacyLeakWarning,
            stacklevel=5,  # warn, helper, _release, fit, _fit_context
        )
        lo, hi = X.min(axis=0), X.max(axis=0)
        hi = np.where(hi > lo, hi, lo + 1.0)
        return np.column_stack([lo, hi])
    if bounds is None:
        if data_norm is None:
            return None
        r = float(data_norm)
        return np.column_stack([np.full(d, -r), np.full(d, r)])
    B = np.asarray(bounds, dtype=np.float64)
    if B.shape == (2,):
        B = np.tile(B, (d, 1))
    if B.shape != (d, 2):
        raise ValueError(
            f"bounds must have shape (2,) or (n_features, 2) = ({d}, 2), got "
            f"{B.shape}; give (lower, upper) for every feature."
        )
    if not np.all(np.isfinite(B)) or np.any(B[:, 1] <= B[:, 0]):
        raise ValueError(
            "bounds must be finite with lower < upper in every feature, got "
            f"{B.tolist()}."
        )
    return B


def _clip(X, box, data_norm):
    """Clip into the public domain, warning (without counts, which would leak)."""
    outside = False
    # Whole-array extremes first (fast, contiguous); per feature only if needed.
    if (
        box is not None
        and not (X.min() >= box[:, 0].max() and X.max() <= box[:, 1].min())
        and (np.any(X < box[:, 0]) or np.any(X > box[:, 1]))
    ):
        outside = True
        X = np.clip(X, box[:, 0], box[:, 1])
    if data_norm is not None:
        norms = np.linalg.norm(X, axis=1)
        big = norms > data_norm
        if np.any(big):
            outside = True
            X = X.copy()
            X[big] *= (data_norm / norms[big])[:, None]
    if outside:
        warnings.warn(
            "Some records lie outside the public bounds/data_norm and were clipped "
            "into them. The release stays private, but this warning reveals that "
            "such a record exists and the clipped records bias the answers; set "
            "bounds that cover the data domain.",
            PrivacyLeakWarning,
            stacklevel=5,  # warn, helper, _release, fit, _fit_context
        )
    return X


def _build(est, method, d, box, data_norm, rng):
    if method == "tree":
        return BandTree(
            lower=box[:, 0],
            upper=box[:, 1],
            distance=est.kernel,
            p=float(est.p),
            alpha=float(est.alpha),
            depth=int(est.depth),
            n_projections=int(est.n_projections),
            data_norm=data_norm,
            random_state=rng,
        )
    if method in ("fgt", "lsq_fgt"):
        return FastGaussSketch(
            lower=box[:, 0],
            upper=box[:, 1],
            bandwidth=float(est.bandwidth),
            order=int(est.order),
            weighting="optimal" if method == "fgt" else "uniform",
        )
    lsq = method == "lsq_rff"
    return RandomFeatureSketch(
        kernel=est.kernel,
        bandwidth=float(est.bandwidth),
        n_features=int(est.n_features),
        sampling="iid" if lsq else est.sampling,
        features="phase" if lsq else "pairs",
        n_features_in=d,
        random_state=rng,
    )


def _plan(est, X):
    """Check the parameters against the data: ``(method, box, data_norm)``.

    Raises before any work or spending when the combination cannot run.
    """
    d = X.shape[1]
    box = _check_bounds(est.bounds, est.data_norm, X)
    data_norm = None if est.data_norm is None else float(est.data_norm)
    d_eff = d if est.jl_components is None else int(est.jl_components)
    method = _resolve_method(est, d_eff, box is not None and est.jl_components is None)
    if method == "fgt" and est.method == "auto":
        if _fgt_size(box, est) > _AUTO_FGT_MAX_SIZE:
            method = "rff"
    if method in ("tree", "fgt", "lsq_fgt") and box is None:
        raise ValueError(
            f"method={method!r} needs the public domain of the data: pass "
            "bounds=(lower, upper) (or one pair per feature) or data_norm=R. "
            "Only for public data, bounds='data' takes it from X (this leaks)."
        )
    if est.jl_components is not None and method == "tree":
        raise ValueError(
            "jl_components applies to kernel mechanisms; distances project "
            "through n_projections (kernel='l2') or not at all ('l1', 'lp')."
        )
    return method, box, data_norm


def _release_groups(
    est, X, groups, n_groups, epsilon, delta, neighbouring, accountant, share
):
    """Release the summaries of the row groups (``groups[i]`` is row i's group).

    One group is :class:`PrivateSimilaritySum`; the classifier's classes are
    groups. A record lies in one group, so under add/remove neighbours the
    stacked statistics of all groups have the sensitivity of one group's: one
    joint release at ``epsilon`` is epsilon-DP and equals independent releases
    of the groups at ``epsilon`` each (same noise law per coordinate). The groups
    share the public randomness (frequencies, projections, grid): it does not
    depend on the data, and shared features make the groups' approximation errors
    alike, so comparisons between groups are sharper.

    Returns one dict per group of everything ``fit`` sets; nothing is set by this
    function, so a failure leaves an estimator as it was.
    """
    method, box, data_norm = _plan(est, X)
    if accountant is not None:
        accountant.check(epsilon, delta)
    X = _clip(X, box, data_norm)
    rng = secure_generator(_as_seed(est.random_state))
    projection, mechanism = _prepare(est, method, X.shape[1], box, data_norm, rng)
    if projection is not None:
        X = projection.transform(X)
    stacked = mechanism.grouped_statistics(X, groups, n_groups)

    count_needed = neighbouring == "add_remove" and not mechanism.has_count
    share = share if count_needed else 0.0
    released, records = release(
        stacked,
        mechanism.noise_weights(),
        mechanism.sensitivity(neighbouring),
        epsilon=epsilon * (1 - share),
        delta=delta,
        rng=rng,
    )
    sizes = np.bincount(groups, minlength=n_groups).astype(np.float64)
    if neighbouring == "substitute":
        n_records = sizes  # public under substitution
    elif count_needed:
        counted, rec = release(
            {"count": sizes},
            {},
            Sensitivity(l1=1.0, l2=1.0, n_touched=1),  # a record is in one group
            epsilon=epsilon * share,
            delta=0.0,  # pure: a Gaussian count at a small epsilon is far noisier
            rng=rng,
        )
        records = records + rec
        n_records = counted["count"]
    else:
        n_records = np.array(
            [
                mechanism.count({k: v[g] for k, v in released.items()})
                for g in range(n_groups)
            ]
        )
    if accountant is not None:
        accountant.spend(epsilon, delta)
    return [
        {
            "method_": method,
            "mechanism_": mechanism,
            "released_": {k: v[g] for k, v in released.items()},
            "noise_": records,
            "epsilon_spent_": float(epsilon),
            "delta_spent_": float(delta),
            "n_records_": float(n_records[g]),
            "bounds_": box,
            "projection_": projection,
        }
        for g in range(n_groups)
    ]


def _as_seed(random_state):
    """scikit-learn's RandomState instances become a seed drawn from them; None,
    ints and numpy Generators pass through to :func:`secure_generator`."""
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(np.iinfo(np.int32).max))
    return random_state


def _prepare(est, method, d, box, data_norm, rng):
    """The JL projection (or None) and the mechanism, public randomness only."""
    if est.jl_components is None:
        return None, _build(est, method, d, box, data_norm, rng)
    projection = JLProjection(int(est.jl_components), d, rng)
    mbox = mnorm = None
    if box is not None:
        lo, hi = projection.project_box(box[:, 0], box[:, 1])
        mbox = np.column_stack([lo, hi])
    if data_norm is not None:
        mnorm = projection.project_norm(data_norm)
        if mbox is None:
            k = int(est.jl_components)
            mbox = np.column_stack([np.full(k, -mnorm), np.full(k, mnorm)])
    mechanism = _build(est, method, int(est.jl_components), mbox, mnorm, rng)
    return projection, mechanism


def _fgt_size(box, est):
    cells = np.prod(
        np.floor((box[:, 1] - box[:, 0]) / (np.sqrt(2.0) * est.bandwidth) + 0.5) + 1
    )
    return float(cells) * float(est.order) ** box.shape[0]


def _query(fitted, Y):
    if fitted.projection_ is not None:
        Y = fitted.projection_.transform(Y)
    return np.asarray(fitted.mechanism_.query(Y, fitted.released_), dtype=np.float64)
