"""modularity against networkx.community.modularity (shipped graphs, random
weighted graphs with self-loops, several resolutions) and a closed form."""

import doctest

import networkx as nx
import numpy as np
import pytest
from scipy import sparse

import kernlearn.graph._modularity as modularity_module
from kernlearn.datasets import GRAPH_NAMES, get_data_home, load_gml
from kernlearn.graph._modularity import modularity

RESOLUTIONS = [0.0, 0.5, 1.0, 2.0]


def _graphs_folder():
    try:
        folder = get_data_home() / "graphs"
    except FileNotFoundError:
        return None
    return folder if folder.is_dir() else None


GRAPHS = _graphs_folder()
needs_data = pytest.mark.skipif(
    GRAPHS is None,
    reason="the shipped graphs (shared/data/graphs beside the checkout, or "
    "$KERNLEARN_DATA/graphs) are not on this machine",
)


def _communities(nodes, labels):
    groups = {}
    for u, c in zip(nodes, labels, strict=True):
        groups.setdefault(c, set()).add(u)
    return list(groups.values())


@needs_data
@pytest.mark.parametrize("name", GRAPH_NAMES)
def test_shipped_graphs_match_networkx(name):
    # The loader is checked against networkx.read_gml in tests/datasets; here
    # networkx gets the same graph (self-loops of eu-core and polblogs kept, the
    # ``value`` weights of polblogs) from its matrix, which is quicker to build.
    graph = load_gml(GRAPHS / f"{name}.gml", self_loops="keep")
    A = graph.adjacency
    G = nx.from_scipy_sparse_array(A)
    nodes = list(G)
    assert nx.number_of_selfloops(G) == graph.self_loops
    gt = graph.label_names[graph.labels]
    rng = np.random.default_rng(len(nodes))
    partitions = [gt] + [rng.integers(k, size=len(nodes)) for k in (2, 7)]
    for labels in partitions:
        communities = _communities(nodes, labels)
        for resolution in RESOLUTIONS:
            expected = nx.community.modularity(G, communities, resolution=resolution)
            got = modularity(A, labels, resolution=resolution)
            assert abs(got - expected) < 1e-12, (name, resolution, got, expected)


def _random_weighted_graph(seed, n=60, p=0.12, n_loops=8):
    rng = np.random.default_rng(seed)
    G = nx.gnp_random_graph(n, p, seed=seed)
    for u, v in G.edges:
        G.edges[u, v]["weight"] = rng.uniform(0.1, 3.0)
    for u in rng.choice(n, size=n_loops, replace=False):
        G.add_edge(int(u), int(u), weight=rng.uniform(0.1, 3.0))
    G.add_node(n)  # an isolated node
    return G, rng


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("n_classes", [1, 2, 5, 61])
def test_weighted_self_loops_match_networkx(seed, n_classes):
    G, rng = _random_weighted_graph(seed)
    nodes = list(G)
    assert nx.number_of_selfloops(G) == 8
    A = nx.to_scipy_sparse_array(G, nodelist=nodes, weight="weight", dtype=float)
    labels = rng.integers(n_classes, size=len(nodes))
    communities = _communities(nodes, labels)
    for resolution in RESOLUTIONS + [1.7]:
        expected = nx.community.modularity(G, communities, resolution=resolution)
        for adjacency in (A, A.toarray(), sparse.coo_matrix(A), G):
            got = modularity(adjacency, labels, resolution=resolution)
            assert abs(got - expected) < 1e-12


def test_labels_of_any_kind_and_trivial_partitions():
    G, _ = _random_weighted_graph(3)
    A = nx.to_scipy_sparse_array(G, dtype=float)
    n = A.shape[0]
    words = np.array(["a", "b", "c"])[np.arange(n) % 3]
    assert modularity(A, words) == pytest.approx(modularity(A, np.arange(n) % 3), 1e-15)
    # One class: Q = 1 - resolution.
    assert modularity(A, np.zeros(n)) == pytest.approx(0.0, abs=1e-15)
    assert modularity(A, np.zeros(n), resolution=0.25) == pytest.approx(0.75, 1e-14)


def test_large_sparse_path_closed_form():
    """A path of n nodes cut in half: Q = (n - 2) / (n - 1) - 1/2. O(n^2) work would
    not fit in memory at this n."""
    n = 400_000
    A = sparse.diags_array([np.ones(n - 1), np.ones(n - 1)], offsets=[-1, 1]).tocsr()
    labels = np.arange(n) >= n // 2
    assert abs(modularity(A, labels) - ((n - 2) / (n - 1) - 0.5)) < 1e-12


@pytest.mark.parametrize(
    "adjacency, labels, kwargs, error, match",
    [
        (np.ones((2, 3)), [0, 0], {}, ValueError, "must be a square matrix"),
        (np.ones(3), [0, 0, 0], {}, ValueError, "square 2-D matrix"),
        (np.ones((3, 3)), [0, 0], {}, ValueError, "one class per node"),
        (np.triu(np.ones((3, 3))), [0, 0, 1], {}, ValueError, "not symmetric"),
        (-np.ones((2, 2)), [0, 1], {}, ValueError, "negative weights"),
        (np.full((2, 2), np.nan), [0, 1], {}, ValueError, "NaN or infinite"),
        (np.zeros((3, 3)), [0, 0, 1], {}, ValueError, "graph without edges"),
        (np.zeros((0, 0)), [], {}, ValueError, "graph without edges"),
        (np.ones((2, 2)), [0, 1], {"resolution": np.nan}, ValueError, "finite"),
        (np.ones((2, 2)), [0, 1], {"resolution": "1"}, TypeError, "resolution must"),
        ("graph", [0], {}, TypeError, "adjacency must be a square adjacency matrix"),
        (nx.DiGraph([(0, 1)]), [0, 1], {}, ValueError, "directed graph or a multig"),
    ],
)
def test_errors(adjacency, labels, kwargs, error, match):
    with pytest.raises(error, match=match):
        modularity(adjacency, labels, **kwargs)


def test_docstring_examples():
    result = doctest.testmod(
        modularity_module, optionflags=doctest.NORMALIZE_WHITESPACE
    )
    assert result.failed == 0 and result.attempted > 0
