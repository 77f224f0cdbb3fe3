"""Node clustering of the shipped real graphs against their ground-truth classes.

For each graph the best ARI over every family of :data:`FAMILIES` and the
19-value parameter grid (kernel k-means, 10 restarts, fixed seed) must reach the
target of the issue (the level Ivashkin & Chebotarev and pygkernels report), and
the label-free choice of :class:`GraphNodeClustering` (``family="auto"``,
``param="auto"``: highest modularity) must land within 0.10 ARI of that best.
The reference is scikit-learn's ``adjusted_rand_score`` on the file's ``gt``.
"""

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from kernlearn.datasets import get_data_home, load_graph
from kernlearn.graph import (
    DEFAULT_GRID,
    FAMILIES,
    PARAMETRIC_FAMILIES,
    GraphNodeClustering,
    KernelKMeans,
    NodeKernels,
)

try:
    get_data_home()
    _SKIP = None
except FileNotFoundError as exc:
    _SKIP = f"shipped data not found ({exc})"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(_SKIP is not None, reason=str(_SKIP)),
]

#: Best ARI the issue asks for on each graph.
TARGETS = {
    "karate": 1.00,
    "dolphins": 0.90,
    "football": 0.90,
    "polbooks": 0.68,
    "news_2cl1_0.1": 0.78,
}


def best_ari(A, y):
    k = len(np.unique(y))
    nk = NodeKernels(A)
    best = (-1.0, None, None)
    for fam in FAMILIES:
        for a in DEFAULT_GRID if fam in PARAMETRIC_FAMILIES else [None]:
            try:
                K = nk.clustering_kernel(fam, a)
            except (ValueError, FloatingPointError, OverflowError):
                continue  # outside the family's range on this graph
            labels = KernelKMeans(k, n_init=10, random_state=0).fit(K).labels_
            score = adjusted_rand_score(y, labels)
            if score > best[0]:
                best = (score, fam, a)
    return best


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_best_ari_and_label_free_selection(name):
    g = load_graph(name, largest_component=True)
    A, y = g.adjacency.toarray(), g.labels
    score, fam, a = best_ari(A, y)
    assert score >= TARGETS[name] - 1e-9, (name, score, fam, a)
    k = len(np.unique(y))
    est = GraphNodeClustering(k, family="auto", param="auto", random_state=0).fit(A)
    free = adjusted_rand_score(y, est.labels_)
    assert free >= score - 0.10, (name, free, est.family_, est.param_, score)
