"""Node clustering of a graph with a node-kernel family, with or without labels.

:class:`GraphNodeClustering` takes the adjacency matrix as ``X``, computes the
clustering kernel of a family (:meth:`NodeKernels.clustering_kernel`) and
clusters it with kernel k-means (default), kernel Ward or spectral clustering.
The family and its parameter are fixed, or chosen *without labels*
(``family``/``param="auto"``): every candidate is clustered and the one whose
partition has the highest Newman modularity wins (Ivashkin & Chebotarev chose
parameters with the ground truth; modularity needs none). With labels, the same
estimator goes into :class:`sklearn.model_selection.GridSearchCV` with
``cv=WholeGraphSplit()`` and an ARI or NMI scorer: node clustering is
transductive, so the single "split" trains and scores on the whole graph.
"""

from __future__ import annotations

import logging
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin, _fit_context
from sklearn.metrics import adjusted_rand_score
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ._kernels import FAMILIES, PARAMETRIC_FAMILIES, NodeKernels
from ._kkmeans import KernelKMeans, KernelSpectralClustering, KernelWard
from ._modularity import modularity

logger = logging.getLogger("kernlearn")

#: Families tried by ``family="auto"``: the four logarithmic measures, which
#: separate classes better than the plain ones (Ivashkin & Chebotarev 2017). By
#: modularity over these and :data:`DEFAULT_GRID`, the label-free choice is
#: within 0.06 ARI of the best family and parameter chosen *with* the labels on
#: karate, dolphins, football, polbooks and news_2cl1 (tests/graph/test_shipped.py);
#: over all 23 families the most modular partition is worse (0.12 lower on
#: karate and dolphins), since plain kernels can cut more modular but
#: less class-like partitions.
AUTO_FAMILIES = ("Walk", "logFor", "logComm", "logHeat")
#: Normalised parameter grid of ``param="auto"``.
DEFAULT_GRID = tuple(np.round(np.linspace(0.05, 0.95, 19), 4))


class WholeGraphSplit:
    """Cross-validation "splitter" whose one split is the whole graph.

    Node clustering is transductive (every node is in the fit), so
    ``GridSearchCV(..., cv=WholeGraphSplit())`` fits and scores each candidate
    on all nodes, with the ground-truth labels passed as ``y``.

    Examples
    --------
    >>> import numpy as np
    >>> from kernlearn.graph import WholeGraphSplit
    >>> [(tr.tolist(), te.tolist()) for tr, te in WholeGraphSplit().split(np.eye(3))]
    [([0, 1, 2], [0, 1, 2])]
    """

    def split(self, X, y=None, groups=None):
        n = X.shape[0]
        idx = np.arange(n)
        yield idx, idx

    def get_n_splits(self, X=None, y=None, groups=None):
        return 1


def _graph_input(est, X, *, reset):
    """scikit-learn's checks (NaN, dtype, sign, n_features_in_) on a graph."""
    if hasattr(X, "adj") and hasattr(X, "is_directed"):
        from ._input import _from_networkx

        X = _from_networkx(X)
    return validate_data(
        est,
        X,
        reset=reset,
        accept_sparse=("csr", "csc", "coo"),
        dtype=np.float64,
        ensure_min_samples=2,
        ensure_non_negative=True,
    )


def _as_list(family):
    if isinstance(family, str):
        return list(AUTO_FAMILIES) if family == "auto" else [family]
    return list(family)


class GraphNodeClustering(ClusterMixin, BaseEstimator):
    """Cluster the nodes of a graph with a node kernel (Walk, Forest, Comm, ...).

    ``fit(A)`` builds the kernel of ``family`` at ``param`` from one
    decomposition of the graph (:class:`NodeKernels`) and clusters it. With
    ``param="auto"`` (and/or ``family="auto"`` or a list of families) every
    candidate is clustered and the partition of highest modularity is kept: a
    label-free choice. ``selection_results_`` lists every candidate.

    Parameters
    ----------
    n_clusters : int, default=2
        Number of clusters.
    family : str, list of str or "auto", default="logComm"
        Node kernel family (see :data:`kernlearn.graph.FAMILIES`), several to
        choose among, or ``"auto"`` for :data:`AUTO_FAMILIES`.
    param : float or "auto", default="auto"
        Normalised family parameter in ``(0, 1)`` (see :class:`NodeKernels`);
        ``"auto"`` chooses it over ``param_grid`` by modularity. Ignored for
        families without a parameter (CT, SP).
    param_grid : array-like of float, default=None
        Candidates for ``param="auto"``; ``None`` uses :data:`DEFAULT_GRID`
        (0.05 to 0.95 in steps of 0.05).
    method : {"kkmeans", "ward", "spectral"}, default="kkmeans"
        :class:`KernelKMeans`, :class:`KernelWard` or
        :class:`KernelSpectralClustering` (the last needs a non-negative kernel,
        so no logarithmic or distance family).
    n_init : int, default=10
        Kernel k-means restarts for each candidate.
    best_run : {"inertia", "modularity"}, default="inertia"
        Which of the ``n_init`` k-means runs to keep: the lowest inertia (the
        k-means objective) or the highest modularity.
    self_loops : {"keep", "remove", "error"}, default="keep"
        Treatment of self-loops (see :func:`kernlearn.graph.check_adjacency`).
    accuracy : {"entrywise", "normwise"}, default="entrywise"
        Accuracy of the logarithmic kernels (see :class:`NodeKernels`):
        ``"normwise"`` is faster on large graphs at small parameters and
        saturates proximities below ``n eps`` of the largest.
    random_state : int, RandomState instance or None, default=None
        Seeds the k-means runs.
    verbose : int, default=0
        Above 0, log every candidate's modularity.

    Attributes
    ----------
    labels_ : ndarray of shape (n_nodes,)
    family_ : str
        The family used (chosen one with ``"auto"``).
    param_ : float or None
        Its normalised parameter.
    natural_param_ : float or None
        Its natural parameter (``t`` or ``beta``).
    modularity_ : float
        Newman modularity of ``labels_``.
    selection_results_ : dict of lists
        ``{"family", "param", "modularity"}`` for every candidate tried (NaN
        modularity for a grid value the family cannot represent in float64 on
        this graph, e.g. RSP/FE at a very large ``beta``; it is skipped).
    n_features_in_ : int
        Number of nodes.

    See Also
    --------
    NodeKernels : The kernels and distances themselves.
    KernelKMeans : The clustering step on a precomputed kernel.

    References
    ----------
    .. [1] V. Ivashkin and P. Chebotarev, "Do logarithmic proximity measures
       outperform plain ones in graph clustering?", 2017 (arXiv:1605.01046).
    .. [2] M. E. J. Newman, "Modularity and community structure in networks",
       PNAS 103 (2006).

    Examples
    --------
    >>> from kernlearn.datasets import make_sbm_graph
    >>> from kernlearn.graph import GraphNodeClustering
    >>> from sklearn.metrics import adjusted_rand_score
    >>> A, y = make_sbm_graph(80, 2, 0.3, 0.05, random_state=0)
    >>> est = GraphNodeClustering(2, family="logComm", random_state=0).fit(A)
    >>> adjusted_rand_score(y, est.labels_)
    1.0
    >>> est.family_, est.param_  # the most modular grid value
    ('logComm', 0.05)
    """

    _parameter_constraints: dict = {
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
        "family": [StrOptions(set(FAMILIES) | {"auto"}), list, tuple],
        "param": [StrOptions({"auto"}), Interval(Real, 0, 1, closed="both"), None],
        "param_grid": ["array-like", None],
        "method": [StrOptions({"kkmeans", "ward", "spectral"})],
        "n_init": [Interval(Integral, 1, None, closed="left")],
        "best_run": [StrOptions({"inertia", "modularity"})],
        "self_loops": [StrOptions({"keep", "remove", "error"})],
        "accuracy": [StrOptions({"entrywise", "normwise"})],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        n_clusters=2,
        *,
        family="logComm",
        param="auto",
        param_grid=None,
        method="kkmeans",
        n_init=10,
        best_run="inertia",
        self_loops="keep",
        accuracy="entrywise",
        random_state=None,
        verbose=0,
    ):
        self.n_clusters = n_clusters
        self.family = family
        self.param = param
        self.param_grid = param_grid
        self.method = method
        self.n_init = n_init
        self.best_run = best_run
        self.self_loops = self_loops
        self.accuracy = accuracy
        self.random_state = random_state
        self.verbose = verbose

    def _candidates(self):
        families = _as_list(self.family)
        for f in families:
            if f not in FAMILIES:
                raise ValueError(f"family must be in {FAMILIES} or 'auto', got {f!r}.")
        if self.param == "auto":
            grid = DEFAULT_GRID if self.param_grid is None else self.param_grid
            grid = np.asarray(grid, dtype=np.float64).ravel()
            if grid.size == 0 or np.any(~np.isfinite(grid)):
                raise ValueError("param_grid must be a non-empty list of floats.")
        else:
            grid = np.array([float(self.param)])
        out = []
        for f in families:
            if f in PARAMETRIC_FAMILIES:
                lo_closed = f == "SP-CT"
                for a in grid:
                    if (0 < a < 1) or (lo_closed and 0 <= a <= 1):
                        out.append((f, float(a)))
                    elif self.param != "auto":
                        raise ValueError(
                            f"param must lie in (0, 1) for family {f!r}, got {a}."
                        )
            else:
                out.append((f, None))
        if not out:
            raise ValueError("no (family, param) candidate inside the valid ranges.")
        return out

    def _cluster(self, K, A, rng):
        k = self.n_clusters
        if self.method == "ward":
            return KernelWard(k).fit(K).labels_
        if self.method == "spectral":
            seed = rng.randint(np.iinfo(np.int32).max)
            return KernelSpectralClustering(k, random_state=seed).fit(K).labels_
        if self.best_run == "inertia":
            seed = rng.randint(np.iinfo(np.int32).max)
            return KernelKMeans(k, n_init=self.n_init, random_state=seed).fit(K).labels_
        best, best_q = None, -np.inf
        for seed in rng.randint(np.iinfo(np.int32).max, size=self.n_init):
            labels = KernelKMeans(k, n_init=1, random_state=seed).fit(K).labels_
            q = modularity(A, labels)
            if q > best_q:
                best, best_q = labels, q
        return best

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Cluster the nodes of the graph ``X``.

        Parameters
        ----------
        X : array-like, sparse matrix or networkx.Graph of shape (n_nodes, n_nodes)
            Symmetric non-negative adjacency matrix.
        y : None
            Ignored (labels are for scoring, e.g. in GridSearchCV).

        Returns
        -------
        self : GraphNodeClustering
        """
        X = _graph_input(self, X, reset=True)
        nk = NodeKernels(X, self_loops=self.self_loops, accuracy=self.accuracy)
        A = nk.adjacency
        if self.n_clusters > A.shape[0]:
            raise ValueError(
                f"n_clusters={self.n_clusters} exceeds the number of nodes "
                f"{A.shape[0]}."
            )
        candidates = self._candidates()
        rng = check_random_state(self.random_state)
        results = {"family": [], "param": [], "modularity": []}
        best = None
        for fam, a in candidates:
            try:
                K = nk.clustering_kernel(fam, a)
            except (FloatingPointError, OverflowError) as exc:
                if len(candidates) == 1:
                    raise
                # a grid value outside what float64 can represent on this graph
                # (e.g. RSP/FE at a very large beta): skipped, and listed
                logger.info("GraphNodeClustering skips %s(%s): %s", fam, a, exc)
                results["family"].append(fam)
                results["param"].append(a)
                results["modularity"].append(float("nan"))
                continue
            labels = self._cluster(K, A, rng)
            q = modularity(A, labels)
            results["family"].append(fam)
            results["param"].append(a)
            results["modularity"].append(q)
            if self.verbose:
                logger.info("GraphNodeClustering %s(%s): modularity %.4f", fam, a, q)
            if best is None or q > best[3]:
                best = (fam, a, labels, q)
        if best is None:
            raise ValueError(
                "no candidate (family, param) could be computed on this graph; "
                "see selection_results_ and choose parameters inside the ranges."
            )
        fam, a, labels, q = best
        self.labels_ = np.asarray(labels)
        self.family_ = fam
        self.param_ = a
        self.natural_param_ = None if a is None else nk.natural_parameter(fam, a)
        self.modularity_ = float(q)
        self.selection_results_ = results
        self.n_features_in_ = A.shape[0]
        self._fit_graph = A
        return self

    def predict(self, X):
        """Labels of the fitted graph's nodes (transductive).

        Node clustering has no out-of-sample extension: ``X`` must be the graph
        that was fitted (as in ``GridSearchCV(..., cv=WholeGraphSplit())``).

        Parameters
        ----------
        X : array-like of shape (n_nodes, n_nodes)
            The fitted graph.

        Returns
        -------
        labels : ndarray of shape (n_nodes,)
        """
        check_is_fitted(self)
        X = _graph_input(self, X, reset=False)
        A = NodeKernels(X, self_loops=self.self_loops).adjacency
        if A.shape != self._fit_graph.shape or not np.array_equal(A, self._fit_graph):
            raise ValueError(
                "GraphNodeClustering is transductive: predict only returns the labels "
                "of the fitted graph, so X must be that graph. To cluster another "
                "graph, fit it; in GridSearchCV use cv=WholeGraphSplit()."
            )
        return self.labels_

    def score(self, X, y):
        """Adjusted Rand index of the fitted labels against ``y``.

        Parameters
        ----------
        X : array-like of shape (n_nodes, n_nodes)
            The fitted graph.
        y : array-like of shape (n_nodes,)
            Ground-truth classes.

        Returns
        -------
        score : float
        """
        return adjusted_rand_score(np.asarray(y), self.predict(X))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.pairwise = True
        tags.input_tags.sparse = True
        tags.input_tags.positive_only = True  # edge weights
        return tags
