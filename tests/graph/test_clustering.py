"""GraphNodeClustering: fixed family, label-free selection, GridSearchCV with labels.

References: ground-truth partitions of planted-partition graphs (ARI from
scikit-learn), the modularity of networkx for the selection criterion, and the
same pipeline written out by hand (NodeKernels + KernelKMeans) for equality.
"""

import networkx as nx
import numpy as np
import pytest
from sklearn.metrics import (
    adjusted_rand_score,
    make_scorer,
    normalized_mutual_info_score,
)
from sklearn.model_selection import GridSearchCV

from kernlearn.datasets import make_sbm_graph
from kernlearn.graph import (
    GraphNodeClustering,
    KernelKMeans,
    NodeKernels,
    WholeGraphSplit,
    modularity,
)


@pytest.fixture(scope="module")
def sbm():
    return make_sbm_graph(80, 2, 0.3, 0.08, random_state=3)


def test_fixed_family_equals_the_pipeline_by_hand(sbm):
    A, _ = sbm
    est = GraphNodeClustering(2, family="logFor", param=0.4, random_state=0).fit(A)
    K = NodeKernels(A).clustering_kernel("logFor", 0.4)
    seed = np.random.RandomState(0).randint(np.iinfo(np.int32).max)
    ref = KernelKMeans(2, n_init=10, random_state=seed).fit(K).labels_
    np.testing.assert_array_equal(est.labels_, ref)
    assert est.family_ == "logFor" and est.param_ == 0.4
    assert est.natural_param_ == pytest.approx(0.4 / (2 * 0.6))
    G = nx.from_scipy_sparse_array(A)
    comms = [set(np.flatnonzero(est.labels_ == c)) for c in range(2)]
    assert est.modularity_ == pytest.approx(
        nx.community.modularity(G, comms), abs=1e-12
    )


@pytest.mark.parametrize("family", ["logComm", "Walk", "logFor", "SCCT", "FE"])
def test_planted_partition_is_recovered(sbm, family):
    A, y = sbm
    est = GraphNodeClustering(2, family=family, random_state=0).fit(A)
    assert adjusted_rand_score(y, est.labels_) > 0.9


def test_label_free_selection_picks_the_highest_modularity(sbm):
    A, y = sbm
    grid = [0.1, 0.5, 0.9]
    est = GraphNodeClustering(
        2, family=["logComm", "Comm", "For"], param_grid=grid, random_state=0
    ).fit(A)
    res = est.selection_results_
    assert len(res["family"]) == 9
    best = int(np.argmax(res["modularity"]))
    assert (est.family_, est.param_) == (res["family"][best], res["param"][best])
    assert est.modularity_ == max(res["modularity"])
    assert modularity(A, est.labels_) == pytest.approx(est.modularity_)
    assert adjusted_rand_score(y, est.labels_) > 0.9


def test_gridsearchcv_with_labels_and_the_whole_graph_split(sbm):
    A, y = sbm
    A = A.toarray()
    gs = GridSearchCV(
        GraphNodeClustering(2, random_state=0),
        {"family": ["logComm", "Comm"], "param": [0.2, 0.6]},
        scoring={
            "ari": make_scorer(adjusted_rand_score),
            "nmi": make_scorer(normalized_mutual_info_score),
        },
        refit="ari",
        cv=WholeGraphSplit(),
    ).fit(A, y)
    assert len(gs.cv_results_["params"]) == 4
    best = gs.best_estimator_
    assert gs.best_score_ == pytest.approx(adjusted_rand_score(y, best.labels_))
    assert best.score(A, y) == pytest.approx(gs.best_score_)


def test_best_run_by_modularity_keeps_the_most_modular_run():
    A, _ = make_sbm_graph(60, 3, 0.25, 0.08, random_state=5)
    est = GraphNodeClustering(
        3, family="Comm", param=0.3, best_run="modularity", random_state=1
    ).fit(A)
    K = NodeKernels(A).clustering_kernel("Comm", 0.3)
    seeds = np.random.RandomState(1).randint(np.iinfo(np.int32).max, size=10)
    qs = [
        modularity(A, KernelKMeans(3, n_init=1, random_state=s).fit(K).labels_)
        for s in seeds
    ]
    assert est.modularity_ == pytest.approx(max(qs))
    assert len(set(np.round(qs, 10))) > 1  # the runs differ: the choice matters


@pytest.mark.parametrize("method", ["ward", "spectral"])
def test_other_clustering_methods(sbm, method):
    A, y = sbm
    est = GraphNodeClustering(
        2, family="Comm", param=0.3, method=method, random_state=0
    )
    assert adjusted_rand_score(y, est.fit(A).labels_) > 0.9


def test_networkx_input_and_predict_on_the_fitted_graph(sbm):
    A, _ = sbm
    G = nx.from_scipy_sparse_array(A)
    est = GraphNodeClustering(2, family="logComm", param=0.5, random_state=0).fit(G)
    np.testing.assert_array_equal(est.predict(A.toarray()), est.labels_)
    B = A.toarray().copy()
    B[0, 1] = B[1, 0] = 1.0 - B[0, 1]
    with pytest.raises(ValueError, match="transductive"):
        est.predict(B)


def test_errors_name_the_parameter(sbm):
    A, _ = sbm
    with pytest.raises(ValueError, match="n_clusters=100 exceeds"):
        GraphNodeClustering(100).fit(A)
    with pytest.raises(ValueError, match=r"param must lie in \(0, 1\)"):
        GraphNodeClustering(2, family="For", param=1.0).fit(A)
    with pytest.raises(ValueError, match="family must be in"):
        GraphNodeClustering(2, family=["logComm", "Katz"]).fit(A)
    with pytest.raises(ValueError, match="param_grid"):
        GraphNodeClustering(2, param_grid=[]).fit(A)
    with pytest.raises(ValueError, match="non-negative|negative"):
        GraphNodeClustering(2, family="logComm", param=0.3, method="spectral").fit(A)
    D = np.zeros((6, 6))
    D[:3, :3] = D[3:, 3:] = 1 - np.eye(3)
    with pytest.raises(ValueError, match="connected components"):
        GraphNodeClustering(2, family="logComm", param=0.5).fit(D)
    # plain families work on a disconnected graph (block-diagonal kernel)
    labels = (
        GraphNodeClustering(2, family="For", param=0.5, random_state=0).fit(D).labels_
    )
    assert adjusted_rand_score([0, 0, 0, 1, 1, 1], labels) == 1.0


def test_normwise_accuracy_clusters_like_entrywise():
    """A planted partition: the fast mode finds the same clusters."""
    A, y = make_sbm_graph(120, 3, 0.3, 0.03, random_state=3)
    kw = dict(family="logFor", param=0.3, random_state=0)
    a = GraphNodeClustering(3, **kw).fit(A)
    b = GraphNodeClustering(3, accuracy="normwise", **kw).fit(A)
    assert adjusted_rand_score(y, a.labels_) == 1.0
    assert adjusted_rand_score(a.labels_, b.labels_) == 1.0
    with pytest.raises(ValueError, match="accuracy"):
        GraphNodeClustering(3, accuracy="exact").fit(A)
