"""Graph loaders against networkx.read_gml and hand-built matrices; the stochastic
block model against its edge probabilities (binomial standard errors)."""

import doctest
import functools

import networkx as nx
import numpy as np
import pytest
from scipy import sparse
from scipy.sparse.csgraph import connected_components

import kernlearn.datasets._graphs as graphs_module
from kernlearn.datasets import (
    GRAPH_NAMES,
    get_data_home,
    load_gml,
    load_graph,
    make_sbm_graph,
)


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


@functools.cache
def _networkx(name):
    return nx.read_gml(GRAPHS / f"{name}.gml", label="id")


@functools.cache
def _ours(name, self_loops):
    return load_gml(GRAPHS / f"{name}.gml", self_loops=self_loops)


@functools.cache
def _load_graph(name, **kwargs):
    return load_graph(name, **kwargs)


def _edge_dict(adjacency):
    """{(i, j): weight} over i <= j."""
    upper = sparse.triu(adjacency).tocoo()
    return {
        (int(i), int(j)): float(w)
        for i, j, w in zip(upper.row, upper.col, upper.data, strict=True)
    }


def _write(folder, name, text):
    path = folder / name
    path.write_text(text)
    return path


# ------------------------------------------------------------ shipped vs networkx
@needs_data
@pytest.mark.parametrize("name", GRAPH_NAMES)
def test_load_gml_matches_networkx(name):
    G = _networkx(name)
    ours = _ours(name, "keep")
    nodes = list(G.nodes)
    position = {u: i for i, u in enumerate(nodes)}
    assert list(ours.node_ids) == nodes
    assert list(ours.node_names) == [G.nodes[u]["label"] for u in nodes]
    assert list(ours.label_names[ours.labels]) == [G.nodes[u]["gt"] for u in nodes]
    assert np.array_equal(np.unique(ours.labels), np.arange(len(ours.label_names)))

    expected = {}
    for u, v, data in G.edges(data=True):
        i, j = sorted((position[u], position[v]))
        expected[i, j] = float(data.get("weight", data.get("value", 1.0)))
    A = ours.adjacency
    assert A.dtype == np.float64 and A.format == "csr"
    assert (A != A.T).nnz == 0
    assert _edge_dict(A) == expected
    assert ours.n_edges == G.number_of_edges()
    assert ours.self_loops == nx.number_of_selfloops(G)
    assert ours.duplicate_edges == 0

    removed = _ours(name, "remove")
    assert removed.adjacency.diagonal().max() == 0
    assert removed.n_edges == G.number_of_edges() - nx.number_of_selfloops(G)
    off_diagonal = A - sparse.diags_array(A.diagonal())
    assert abs(removed.adjacency - off_diagonal).sum() == 0


@needs_data
@pytest.mark.parametrize(
    "name, n_nodes, n_edges, n_classes",
    [
        ("karate", 34, 78, 2),
        ("dolphins", 62, 159, 2),
        ("football", 115, 613, 12),
        ("polbooks", 105, 441, 3),
        ("polblogs", 1222, 16714, 2),
        ("eu-core", 986, 16064, 42),
        ("news_2cl1_0.1", 398, 2634, 2),
        ("news_2cl2_0.1", 398, 2455, 2),
        ("news_2cl3_0.1", 398, 3347, 2),
        ("news_3cl1_0.1", 599, 5129, 3),
        ("news_5cl1_0.1", 998, 11525, 5),
    ],
)
def test_load_graph_counts(name, n_nodes, n_edges, n_classes):
    graph = _load_graph(name)
    assert graph.name == name
    assert graph.adjacency.shape == (n_nodes, n_nodes)
    assert graph.n_edges == n_edges == graph.adjacency.nnz // 2
    assert len(graph.label_names) == n_classes == len(np.unique(graph.labels))
    assert graph.n_components == nx.number_connected_components(_networkx(name))
    assert np.array_equal(graph.node_index, np.arange(n_nodes))


@needs_data
def test_polbooks_and_football_classes():
    polbooks = _load_graph("polbooks")
    assert list(polbooks.label_names) == ["c", "l", "n"]
    assert np.bincount(polbooks.labels).tolist() == [49, 43, 13]
    football = _load_graph("football")
    assert football.label_names.tolist() == list(range(12))  # ints, sorted by value
    assert "TexasA&M" in football.node_names  # "&#38;" unescaped


@needs_data
def test_eu_core_self_loop_modes():
    G = _networkx("eu-core")
    n_loops = nx.number_of_selfloops(G)
    assert n_loops == 623
    keep = _load_graph("eu-core", self_loops="keep")
    remove = _load_graph("eu-core")
    assert keep.self_loops == remove.self_loops == n_loops
    assert np.count_nonzero(keep.adjacency.diagonal()) == n_loops
    assert np.count_nonzero(remove.adjacency.diagonal()) == 0
    assert keep.n_edges - remove.n_edges == n_loops
    with pytest.raises(ValueError, match="623 node.*self_loops='remove' or 'keep'"):
        load_graph("eu-core", self_loops="error")


@needs_data
def test_polblogs_weights_and_largest_component():
    G = _networkx("polblogs")
    full = _ours("polblogs", "keep")
    largest = load_graph("polblogs", self_loops="keep", largest_component=True)
    # As shipped, polblogs is already its largest component (1222 of 1490 blogs).
    assert largest.n_components == nx.number_connected_components(G) == 1
    biggest = max(nx.connected_components(G), key=len)
    assert sorted(largest.node_ids[largest.node_index]) == sorted(biggest)
    assert abs(largest.adjacency - full.adjacency).sum() == 0
    # The edge ``value`` attribute is the weight (1.0 throughout).
    assert set(full.adjacency.data) == {1.0}


# ----------------------------------------------------------- hand-written files
TINY = """# a comment line
graph [
  Creator "hand written"
  node [ id 10 label "ten &amp; more" gt "b" ]
  node [ id 3 label "three, quoted" gt "a" ]
  node [ id 7 label "seven" gt "b" ]
  node [ id 42 gt "10" extra [ deep [ x 1 ] ] ]
  edge [ source 10 target 3 id 900 weight 2.5 ]
  edge [ source 3 target 10 weight 4 ]
  edge [ source 3 target 7 value 0.5 ]
  edge [ source 7 target 7 weight 1.5E0 ]
  edge [ source 7 target 42 ]
]
"""


def test_tiny_gml_by_hand(tmp_path):
    path = _write(tmp_path, "tiny.gml", TINY)
    graph = load_gml(path)
    assert graph.node_ids.tolist() == [10, 3, 7, 42]
    assert graph.node_names.tolist() == ["ten & more", "three, quoted", "seven", "42"]
    # "10" is not integer-like among "a", "b": alphabetical order.
    assert graph.label_names.tolist() == ["10", "a", "b"]
    assert graph.labels.tolist() == [2, 1, 2, 0]
    expected = np.zeros((4, 4))
    expected[0, 1] = expected[1, 0] = 4.0  # duplicate 2.5 / 4: the largest
    expected[1, 2] = expected[2, 1] = 0.5  # ``value`` as the weight
    expected[2, 3] = expected[3, 2] = 1.0  # no weight: 1
    assert np.array_equal(graph.adjacency.toarray(), expected)
    assert (graph.self_loops, graph.duplicate_edges, graph.n_edges) == (1, 1, 3)

    kept = load_gml(path, self_loops="keep", duplicates="sum")
    expected[0, 1] = expected[1, 0] = 6.5
    expected[2, 2] = 1.5  # stored once
    assert np.array_equal(kept.adjacency.toarray(), expected)
    assert kept.n_edges == 4

    unweighted = load_gml(path, weight=None)
    assert set(unweighted.adjacency.data) == {1.0}
    only_value = load_gml(path, weight="value")
    assert only_value.adjacency[0, 1] == 1.0 and only_value.adjacency[1, 2] == 0.5
    assert load_gml(path, target=None).labels is None

    with pytest.raises(ValueError, match="1 edge listing.*duplicates='max' or 'sum'"):
        load_gml(path, duplicates="error")
    with pytest.raises(ValueError, match="node 7"):
        load_gml(path, self_loops="error")


def test_tiny_gml_matches_networkx_multigraph(tmp_path):
    """networkx reads the duplicate only as a multigraph; collapse it by max."""
    path = _write(
        tmp_path, "multi.gml", TINY.replace("graph [", "graph [ multigraph 1")
    )
    M = nx.read_gml(path, label="id")
    ours = load_gml(path, self_loops="keep")
    position = {u: i for i, u in enumerate(M.nodes)}
    expected = {}
    for u, v, data in M.edges(data=True):
        key = tuple(sorted((position[u], position[v])))
        w = float(data.get("weight", data.get("value", 1.0)))
        expected[key] = max(w, expected.get(key, 0.0))
    assert _edge_dict(ours.adjacency) == expected
    assert ours.node_names.tolist() == [M.nodes[u].get("label", str(u)) for u in M]


def test_gml_without_classes_directed_and_zero_weight(tmp_path):
    path = _write(
        tmp_path,
        "d.gml",
        "graph [ directed 1 node [ id 0 ] node [ id 1 ] node [ id 2 ]\n"
        "edge [ source 0 target 1 ] edge [ source 1 target 0 ]\n"
        "edge [ source 1 target 2 weight 0 ] ]",
    )
    with pytest.warns(UserWarning, match="read.*as undirected"):
        graph = load_gml(path)
    assert graph.labels is None and graph.label_names is None
    assert graph.duplicate_edges == 1
    # The zero-weight edge is no edge.
    assert graph.adjacency.toarray().tolist() == [[0, 1, 0], [1, 0, 0], [0, 0, 0]]


@pytest.mark.parametrize(
    "text, match",
    [
        ("graph [ node [ id 0 ] ", "expected '\\]' at the end of the file"),
        ("graph [ node [ id 0 ] ] ]", "expected a key at line 1"),
        ("graph [ node [ id 0 ]\n node [ label x ] ]", "line 2, found 'x'"),
        ('graph [ node [ label "a" ] ]', "node #0 has no 'id'"),
        ("graph [ node [ id 0 ] node [ id 0 ] ]", "node id 0 is duplicated"),
        ("graph [ node [ id 0 ] edge [ target 0 ] ]", "edge #0 has no 'source'"),
        ("graph [ node [ id 0 ] edge [ source 0 target 5 ] ]", "undefined target 5"),
        (
            "graph [ node [ id 0 ] node [ id 1 ]\n"
            "edge [ source 0 target 1 weight -1 ] ]",
            "weights must be finite non-negative",
        ),
        (
            "graph [ node [ id 0 gt 1 ] node [ id 1 ] ]",
            "node 1 has no 'gt'.*target=None",
        ),
        ("node [ id 0 ]", "exactly one 'graph"),
        ('graph [ node [ id 0 label "open ] ]', "a closing"),
    ],
)
def test_malformed_gml(tmp_path, text, match):
    path = _write(tmp_path, "bad.gml", text)
    with pytest.raises(ValueError, match=match):
        load_gml(path)


def test_options_are_checked(tmp_path):
    path = _write(tmp_path, "t.gml", "graph [ node [ id 0 ] ]")
    with pytest.raises(ValueError, match="self_loops must be one of 'remove'"):
        load_gml(path, self_loops="drop")
    with pytest.raises(ValueError, match="duplicates must be one of 'max', 'sum'"):
        load_gml(path, duplicates="min")
    with pytest.raises(ValueError, match="weight must be"):
        load_gml(path, weight=3)


# ------------------------------------------------------ load_graph and data home
DISCONNECTED = """graph [
  node [ id 100 label "a" gt 5 ] node [ id 2 label "b" gt 5 ]
  node [ id 57 label "c" gt 9 ] node [ id 8 label "d" gt 1 ]
  node [ id 9 label "e" gt 1 ] node [ id 11 label "f" gt 9 ]
  edge [ source 100 target 2 ] edge [ source 2 target 57 ] edge [ source 57 target 11 ]
  edge [ source 8 target 9 ]
]
"""


def test_largest_component_against_networkx(tmp_path):
    (tmp_path / "graphs").mkdir()
    path = _write(tmp_path / "graphs", "karate.gml", DISCONNECTED)
    graph = load_graph("karate", data_home=tmp_path, largest_component=True)
    G = nx.read_gml(path, label="id")
    biggest = max(nx.connected_components(G), key=len)
    assert graph.n_components == nx.number_connected_components(G) == 2
    assert graph.node_index.tolist() == [0, 1, 2, 5]
    assert set(graph.node_ids.tolist()) == biggest
    assert graph.node_names.tolist() == ["a", "b", "c", "f"]
    # Class 1 lives only in the small component: labels are re-encoded.
    assert graph.label_names.tolist() == [5, 9]
    assert graph.labels.tolist() == [0, 0, 1, 1]
    sub = nx.to_scipy_sparse_array(G, nodelist=graph.node_ids.tolist())
    assert abs(graph.adjacency - sub).sum() == 0
    assert graph.n_edges == 3

    whole = load_graph("karate", data_home=tmp_path)
    assert whole.adjacency.shape == (6, 6) and whole.n_components == 2
    assert whole.label_names.tolist() == [1, 5, 9]


def test_unknown_name_lists_the_valid_ones():
    with pytest.raises(ValueError, match="karate, dolphins, .*, news_5cl1_0.1"):
        load_graph("zachary")


def test_data_home_resolution(tmp_path, monkeypatch):
    env_folder = tmp_path / "env"
    env_folder.mkdir()
    monkeypatch.setenv("KERNLEARN_DATA", str(env_folder))
    assert get_data_home() == env_folder.resolve()
    assert get_data_home(tmp_path) == tmp_path.resolve()  # data_home comes first
    with pytest.raises(FileNotFoundError, match="from data_home.*KERNLEARN_DATA"):
        get_data_home(tmp_path / "missing")
    monkeypatch.setenv("KERNLEARN_DATA", str(tmp_path / "missing"))
    with pytest.raises(FileNotFoundError, match="from KERNLEARN_DATA"):
        load_graph("karate")
    with pytest.raises(FileNotFoundError, match="graphs/"):
        load_graph("karate", data_home=env_folder)  # folder there, file not

    monkeypatch.delenv("KERNLEARN_DATA")
    import kernlearn

    default = kernlearn.__file__
    expected = graphs_module.Path(default).resolve().parents[1].parent / "shared/data"
    if expected.is_dir():
        assert get_data_home() == expected.resolve()
    else:
        with pytest.raises(FileNotFoundError, match="default beside the project"):
            get_data_home()


# ---------------------------------------------------------- stochastic blocks
def _binomial_z(adjacency, labels):
    """Edge densities inside / between classes, and their z-scores."""
    A = sparse.csr_array(adjacency)
    upper = sparse.triu(A, k=1).tocoo()
    same_edges = labels[upper.row] == labels[upper.col]
    sizes = np.bincount(labels)
    pairs_in = int((sizes * (sizes - 1) // 2).sum())
    n = len(labels)
    pairs_out = n * (n - 1) // 2 - pairs_in
    return (
        same_edges.sum() / pairs_in,
        (~same_edges).sum() / pairs_out,
        (
            pairs_in,
            pairs_out,
        ),
    )


def _check_simple_graph(A, n):
    assert A.shape == (n, n)
    assert (A != A.T).nnz == 0
    assert A.diagonal().max() == 0
    assert set(A.data) <= {1.0}
    assert A.dtype == np.float64


@pytest.mark.parametrize(
    "n_nodes, n_classes, p_in, p_out, class_sizes",
    [
        (2000, 2, 0.05, 0.01, None),
        (1800, 4, 0.2, 0.03, [300, 400, 500, 600]),
    ],
)
def test_sbm_edge_densities(n_nodes, n_classes, p_in, p_out, class_sizes):
    A, y = make_sbm_graph(
        n_nodes,
        n_classes,
        p_in,
        p_out,
        class_sizes=class_sizes,
        connected=False,
        random_state=20261123,
    )
    _check_simple_graph(A, n_nodes)
    inside, between, (pairs_in, pairs_out) = _binomial_z(A, y)
    se_in = np.sqrt(p_in * (1 - p_in) / pairs_in)
    se_out = np.sqrt(p_out * (1 - p_out) / pairs_out)
    assert abs(inside - p_in) < 4 * se_in, (inside, p_in, se_in)
    assert abs(between - p_out) < 4 * se_out, (between, p_out, se_out)
    if class_sizes is None:
        assert np.bincount(y).tolist() == [1000, 1000]
    else:
        assert np.bincount(y).tolist() == class_sizes
    assert np.all(np.diff(y) >= 0)  # contiguous blocks


def test_sbm_pairs_are_independent():
    """Per-pair edge frequencies over many small draws match p_in / p_out, and two
    pairs sharing a node are joined together with probability p * q."""
    p_in, p_out, n_draws = 0.6, 0.25, 3000
    rng = np.random.RandomState(0)
    draws = np.stack(
        [
            make_sbm_graph(5, 2, p_in, p_out, connected=False, random_state=rng)[
                0
            ].toarray()
            for _ in range(n_draws)
        ]
    )
    y = np.array([0, 0, 0, 1, 1])
    i, j = np.triu_indices(5, k=1)
    p = np.where(y[i] == y[j], p_in, p_out)
    freq = draws[:, i, j].mean(axis=0)
    assert np.all(np.abs(freq - p) < 4 * np.sqrt(p * (1 - p) / n_draws))
    both = (draws[:, 0, 1] * draws[:, 0, 4]).mean()
    q = p_in * p_out
    assert abs(both - q) < 4 * np.sqrt(q * (1 - q) / n_draws)


def test_sbm_connected_sizes_and_reproducible():
    A, y = make_sbm_graph(103, 4, 0.12, 0.02, random_state=1)
    _check_simple_graph(A, 103)
    assert connected_components(A, directed=False, return_labels=False) == 1
    assert np.bincount(y).tolist() == [26, 26, 26, 25]
    B, z = make_sbm_graph(103, 4, 0.12, 0.02, random_state=1)
    assert (A != B).nnz == 0 and np.array_equal(y, z)
    C, _ = make_sbm_graph(103, 4, 0.12, 0.02, random_state=2)
    assert (A != C).nnz > 0
    D, _ = make_sbm_graph(103, 4, 0.12, 0.02, random_state=1, return_sparse=False)
    assert isinstance(D, np.ndarray) and np.array_equal(D, A.toarray())


def test_sbm_extreme_probabilities():
    A, y = make_sbm_graph(7, 2, 1.0, 0.0, connected=False, random_state=0)
    block = (y[:, None] == y[None, :]).astype(float) - np.eye(7)
    assert np.array_equal(A.toarray(), block)
    A, _ = make_sbm_graph(6, 3, 1.0, 1.0, random_state=0)
    assert A.nnz == 30
    A, y = make_sbm_graph(1, 1, random_state=0)
    assert A.shape == (1, 1) and A.nnz == 0 and y.tolist() == [0]


def test_sbm_gives_up_after_max_tries():
    with pytest.raises(RuntimeError, match="max_tries=3.*p_in=0.01.*p_out=0.01"):
        make_sbm_graph(60, 2, 0.01, 0.01, max_tries=3, random_state=0)
    A, _ = make_sbm_graph(60, 2, 0.01, 0.01, connected=False, random_state=0)
    assert connected_components(A, directed=False, return_labels=False) > 1


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"p_in": 1.5}, ValueError, r"p_in must be a probability in \[0, 1\]"),
        ({"p_out": -0.1}, ValueError, "p_out must be a probability"),
        ({"p_in": "high"}, TypeError, "p_in must be a probability"),
        ({"n_nodes": 0}, ValueError, "n_nodes must be an integer >= 1"),
        ({"n_nodes": 2.5}, TypeError, "n_nodes must be an integer"),
        ({"n_classes": 0}, ValueError, "n_classes must be an integer >= 1"),
        ({"n_nodes": 3, "n_classes": 4}, ValueError, "n_classes=4 exceeds n_nodes=3"),
        ({"max_tries": 0}, ValueError, "max_tries must be an integer >= 1"),
        ({"class_sizes": [50, 40]}, ValueError, "class_sizes has 2 entries summing"),
        ({"class_sizes": [100, 0]}, ValueError, "class_sizes must be a 1-D list"),
        ({"class_sizes": [50.0, 50.0]}, ValueError, "class_sizes must be a 1-D list"),
        ({"p_out": 0.0}, ValueError, "p_out=0 and several classes"),
        ({"n_classes": 1, "p_in": 0.0}, ValueError, "p_in=0 and one class"),
    ],
)
def test_sbm_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        make_sbm_graph(**kwargs)


def test_docstring_examples():
    result = doctest.testmod(graphs_module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted > 0
