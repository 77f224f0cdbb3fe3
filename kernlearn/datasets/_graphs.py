"""Community graphs: a GML reader, the shipped graphs and the stochastic block model.

:func:`load_gml` reads a GML file (the subset of the format that graph collections
use: nested ``key value`` and ``key [ ... ]`` lists of ints, reals and quoted
strings) into a symmetric sparse adjacency matrix and integer class labels, with no
dependency beyond numpy and scipy. :func:`load_graph` opens one of the community
graphs shipped beside the project (``GRAPH_NAMES``) where it lies.
:func:`make_sbm_graph` draws the stochastic block model ``G(N, (m) p_in, p_out)``
that Ivashkin and Chebotarev (2017) use to compare graph kernels for clustering.
"""

from __future__ import annotations

import math
import numbers
import os
import re
import warnings
from html.entities import name2codepoint
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components
from sklearn.utils import Bunch, check_random_state

#: The graphs that :func:`load_graph` opens (``<data_home>/graphs/<name>.gml``).
GRAPH_NAMES = (
    "karate",
    "dolphins",
    "football",
    "polbooks",
    "polblogs",
    "eu-core",
    "news_2cl1_0.1",
    "news_2cl2_0.1",
    "news_2cl3_0.1",
    "news_3cl1_0.1",
    "news_5cl1_0.1",
)

_SELF_LOOPS = ("remove", "keep", "error")
_DUPLICATES = ("max", "sum", "error")


# --------------------------------------------------------------------- data home
def get_data_home(data_home=None):
    """Return the folder that holds kernlearn's shipped data.

    The folder is, in this order: ``data_home`` if given, else the environment
    variable ``KERNLEARN_DATA``, else ``shared/data`` beside the project checkout
    (``<repository root>/../shared/data``, found from the location of the package).
    Data is read where it lies; nothing is copied or downloaded.

    Parameters
    ----------
    data_home : str or path-like, default=None
        The data folder (the one that holds ``graphs/``).

    Returns
    -------
    path : pathlib.Path
        The data folder, resolved.

    Raises
    ------
    FileNotFoundError
        If the folder does not exist; the message says which of ``data_home``,
        ``KERNLEARN_DATA`` or the default it came from.

    Examples
    --------
    >>> import tempfile
    >>> from kernlearn.datasets import get_data_home
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     print(get_data_home(folder) == Path(folder).resolve())
    True
    """
    if data_home is not None:
        path, source = Path(data_home).expanduser(), "data_home"
    elif os.environ.get("KERNLEARN_DATA"):
        path, source = Path(os.environ["KERNLEARN_DATA"]).expanduser(), "KERNLEARN_DATA"
    else:
        import kernlearn

        path = Path(kernlearn.__file__).resolve().parents[1].parent / "shared" / "data"
        source = "the default beside the project checkout"
    if not path.is_dir():
        raise FileNotFoundError(
            f"kernlearn's data folder {str(path)!r} (from {source}) does not exist. "
            "Pass data_home=<folder that holds graphs/> or set the environment "
            "variable KERNLEARN_DATA to that folder."
        )
    return path.resolve()


# ------------------------------------------------------------------- GML parsing
# Tokens: brackets, strings (which may span lines), comments and bare words (keys
# and numbers); ``findall`` splits the file in C, the loop below only classifies.
_TOKENS = re.compile(r'\[|\]|"[^"]*"|#[^\n]*|[^\s\[\]"#]+|"')
_INT = re.compile(r"[+-]?[0-9]+")
_REAL = re.compile(
    r"[+-]?(?:[0-9]*\.[0-9]+|[0-9]+\.[0-9]*|[0-9]+(?=[Ee]))(?:[Ee][+-]?[0-9]+)?"
    r"|[+-]?INF|NAN"
)
_ENTITY = re.compile(r"&(?:#[0-9]+|#x[0-9A-Fa-f]+|[A-Za-z0-9]+);")


def _unescape_entity(match):
    text = match.group(0)[1:-1]
    try:
        if text.startswith("#x"):
            return chr(int(text[2:], 16))
        if text.startswith("#"):
            return chr(int(text[1:]))
        return chr(name2codepoint[text])
    except (KeyError, ValueError, OverflowError):
        return match.group(0)


def _parse_gml(text, source):
    """Nested ``[(key, value), ...]`` lists; values are int, float, str or lists."""
    tokens = [t for t in _TOKENS.findall(text) if t[0] != "#"]

    def fail(k, what):
        # Find the line of token k only now, to keep the common path fast.
        if k < len(tokens):
            seen, line = -1, 1
            for match in _TOKENS.finditer(text):
                if match.group()[0] != "#":
                    seen += 1
                    if seen == k:
                        line = text.count("\n", 0, match.start()) + 1
                        break
            where = f"line {line}, found {tokens[k][:30]!r}"
        else:
            where = "the end of the file"
        raise ValueError(f"{source}: expected {what} at {where} of the GML file.")

    stack = [[]]
    k, n_tokens = 0, len(tokens)
    while k < n_tokens:
        token = tokens[k]
        if token == "]":
            if len(stack) == 1:
                fail(k, "a key")
            done = stack.pop()
            stack[-1][-1] = (stack[-1][-1][0], done)
            k += 1
            continue
        if not (token.isidentifier() and token.isascii()):
            fail(k, "a key")
        if k + 1 == n_tokens:
            fail(k + 1, f"a value after the key {token!r}")
        value = tokens[k + 1]
        first = value[0]
        if first == "[":
            stack[-1].append((token, None))
            stack.append([])
        elif first == '"':
            if len(value) == 1:
                fail(k + 1, "a closing '\"'")
            stack[-1].append((token, _ENTITY.sub(_unescape_entity, value[1:-1])))
        elif (value.isdigit() and value.isascii()) or _INT.fullmatch(value):
            stack[-1].append((token, int(value)))
        elif _REAL.fullmatch(value):
            stack[-1].append((token, float(value)))
        else:
            fail(k + 1, f"a value (number, string or '[') after the key {token!r}")
        k += 2
    if len(stack) != 1:
        fail(n_tokens, "']'")
    return stack[0]


def _encode_classes(values):
    """Sorted distinct class values (numbers numerically, integer-like strings by
    value, other strings alphabetically) and the codes of ``values``."""
    if all(isinstance(v, numbers.Real) for v in values):
        names = sorted(set(values))
    else:
        strings = [str(v) for v in values]
        distinct = set(strings)
        if all(re.fullmatch(r"[+-]?[0-9]+", s) for s in distinct):
            names = sorted(distinct, key=int)
        else:
            names = sorted(distinct)
        values = strings
    code = {name: i for i, name in enumerate(names)}
    return np.array([code[v] for v in values], dtype=np.intp), np.asarray(names)


def _check_option(value, name, options):
    if value not in options:
        raise ValueError(
            f"{name} must be one of {', '.join(map(repr, options))}; got {value!r}."
        )


def load_gml(
    path, *, self_loops="remove", duplicates="max", weight="auto", target="gt"
):
    """Read an undirected graph with node classes from a GML file.

    A small reader written for the GML that graph collections ship (Gephi,
    networkx and igraph output): nested ``key value`` / ``key [ ... ]`` lists of
    integers, reals and double-quoted strings (with ``&...;`` character
    references), and ``#`` comments. Nodes keep the order of the file; edges refer
    to node ``id`` values, which need not be contiguous. Unknown keys (``Creator``,
    edge ``id``, ...) are ignored. networkx is not needed.

    Treatments, applied in this order:

    - **direction**: the graph is read as undirected. A file that declares
      ``directed 1`` is read the same way, with a warning: each arc becomes an edge,
      and two opposite arcs are duplicates of one edge.
    - **weights**: the edge attribute ``weight``, else ``value``, else 1 (see
      ``weight``). Weights must be finite and non-negative; an edge of weight 0 is
      dropped, as an absent edge.
    - **duplicates**: an edge listed more than once (either way round) is merged
      into one edge as ``duplicates`` says; by default its weight is the largest of
      the listed weights, so an edge listed twice by mistake keeps its weight.
    - **self-loops**: handled as ``self_loops`` says. A kept self-loop of weight
      ``w`` is stored once, ``adjacency[i, i] = w`` (the convention of
      ``networkx.to_scipy_sparse_array``; :func:`kernlearn.graph._modularity.modularity`
      counts it twice in the degree, as networkx does).
    - **disconnected graphs** are returned as they are (see :func:`load_graph` for
      the largest connected component).

    Parameters
    ----------
    path : str or path-like
        The GML file.
    self_loops : {"remove", "keep", "error"}, default="remove"
        ``"remove"`` drops edges from a node to itself (most node kernels are
        defined on graphs without them), ``"keep"`` stores them on the diagonal,
        ``"error"`` raises a ValueError if the file has any.
    duplicates : {"max", "sum", "error"}, default="max"
        How an edge listed more than once is merged: the largest weight, the sum
        of the weights (a multigraph read as a weighted graph), or a ValueError.
    weight : "auto", str or None, default="auto"
        The edge attribute that holds the weight. ``"auto"`` takes ``weight``, else
        ``value``; a name takes that attribute (1 where an edge lacks it); ``None``
        gives every edge weight 1.
    target : str or None, default="gt"
        The node attribute that holds the class. If no node has it (or ``None``),
        ``labels`` and ``label_names`` are ``None``; every node must have it if any
        has.

    Returns
    -------
    graph : sklearn.utils.Bunch
        With the fields

        adjacency : scipy.sparse.csr_array of shape (n_nodes, n_nodes)
            Symmetric float64 weighted adjacency matrix, sorted indices, no
            explicit zeros.
        labels : ndarray of shape (n_nodes,) of int, or None
            Class codes ``0 .. n_classes - 1``: ``label_names[labels]`` are the
            values of ``target``.
        label_names : ndarray of shape (n_classes,), or None
            The distinct values of ``target``, sorted: numbers and integer-like
            strings (``"1"``, ``"10"``) by value, other strings alphabetically.
        node_names : ndarray of shape (n_nodes,) of str
            The ``label`` attribute of each node (its ``id`` where it has none).
        node_ids : ndarray of shape (n_nodes,)
            The GML ``id`` of each node.
        n_edges : int
            The number of edges after the treatments (a kept self-loop is one
            edge).
        self_loops : int
            The number of nodes with a self-loop in the file, whatever was done
            with them.
        duplicate_edges : int
            How many edge listings were merged into an earlier one.

    Raises
    ------
    ValueError
        If the file is not GML of this form, or an option above is violated; the
        message names the file and the fix.

    See Also
    --------
    load_graph : the shipped community graphs by name.

    Examples
    --------
    >>> import os, tempfile
    >>> from kernlearn.datasets import load_gml
    >>> text = '''graph [
    ...   node [ id 7 label "a" gt "x" ]
    ...   node [ id 3 label "b" gt "y" ]
    ...   node [ id 5 label "c" gt "x" ]
    ...   edge [ source 7 target 3 weight 2.5 ]
    ...   edge [ source 3 target 7 weight 1.0 ]
    ...   edge [ source 5 target 5 ]
    ... ]'''
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "tiny.gml")
    ...     with open(path, "w") as f:
    ...         _ = f.write(text)
    ...     graph = load_gml(path)
    >>> graph.adjacency.toarray()
    array([[0. , 2.5, 0. ],
           [2.5, 0. , 0. ],
           [0. , 0. , 0. ]])
    >>> graph.labels, graph.label_names
    (array([0, 1, 0]), array(['x', 'y'], dtype='<U1'))
    >>> graph.node_ids, graph.self_loops, graph.duplicate_edges
    (array([7, 3, 5]), 1, 1)
    """
    _check_option(self_loops, "self_loops", _SELF_LOOPS)
    _check_option(duplicates, "duplicates", _DUPLICATES)
    if weight is not None and not isinstance(weight, str):
        raise ValueError(
            f'weight must be "auto", an edge attribute name or None; got {weight!r}.'
        )
    path = Path(path)
    source = path.name
    text = path.read_text(encoding="utf-8")
    graphs = [v for k, v in _parse_gml(text, source) if k == "graph"]
    if len(graphs) != 1 or not isinstance(graphs[0], list):
        raise ValueError(
            f"{source}: a GML file must hold exactly one 'graph [ ... ]' list; "
            f"found {len(graphs)}."
        )
    body = graphs[0]
    if dict(body).get("directed", 0):
        warnings.warn(
            f"{source} declares a directed graph; load_gml reads it as undirected "
            f"(opposite arcs merged with duplicates={duplicates!r}).",
            UserWarning,
            stacklevel=2,
        )

    # Nodes, in the order of the file (a key repeated within one node or edge:
    # the last one counts).
    index, names, classes = {}, [], []
    for k, node in body:
        if k != "node":
            continue
        node = dict(node) if isinstance(node, list) else {}
        node_id = node.get("id")
        if node_id is None:
            raise ValueError(f"{source}: node #{len(names)} has no 'id'.")
        if node_id in index:
            raise ValueError(f"{source}: node id {node_id!r} is duplicated.")
        index[node_id] = len(names)
        label = node.get("label")
        names.append(str(node_id) if label is None else str(label))
        classes.append(None if target is None else node.get(target))
    n = len(names)
    node_ids = list(index)

    # Edges as (source, target, weight) lists.
    rows, cols, weights = [], [], []
    keys = ("weight", "value") if weight == "auto" else (weight,)
    for k, edge in body:
        if k != "edge":
            continue
        i = len(rows)
        if not isinstance(edge, list):
            raise ValueError(f"{source}: edge #{i} is not a '[ ... ]' list.")
        edge = dict(edge)
        try:
            rows.append(index[edge["source"]])
            cols.append(index[edge["target"]])
        except KeyError:
            for end in ("source", "target"):
                if end not in edge:
                    raise ValueError(f"{source}: edge #{i} has no {end!r}.") from None
                if edge[end] not in index:
                    raise ValueError(
                        f"{source}: edge #{i} has undefined {end} {edge[end]!r}."
                    ) from None
        w = 1.0
        if weight is not None:
            for key in keys:
                if key in edge:
                    w = edge[key]
                    break
        if not isinstance(w, numbers.Real) or not math.isfinite(w) or w < 0:
            raise ValueError(
                f"{source}: edge #{i} has weight {w!r}; weights must be finite "
                "non-negative numbers (pass weight=None to ignore them)."
            )
        weights.append(w)
    u = np.asarray(rows, dtype=np.int64)
    v = np.asarray(cols, dtype=np.int64)
    w = np.asarray(weights, dtype=np.float64)
    u, v = np.minimum(u, v), np.maximum(u, v)

    # Duplicates: merge the listings of one unordered pair.
    keys, inverse = np.unique(u * max(n, 1) + v, return_inverse=True)
    n_duplicates = len(u) - len(keys)
    if n_duplicates and duplicates == "error":
        first = np.flatnonzero(np.bincount(inverse) > 1)[0]
        a, b = divmod(int(keys[first]), n)
        raise ValueError(
            f"{source}: {n_duplicates} edge listing(s) repeat an earlier edge, e.g. "
            f"{node_ids[a]!r} -- {node_ids[b]!r}. Pass duplicates='max' or 'sum' "
            "to merge them."
        )
    if duplicates == "sum":
        merged = np.bincount(inverse, weights=w, minlength=len(keys))
    else:
        merged = np.zeros(len(keys))
        np.maximum.at(merged, inverse, w)
    u, v = np.divmod(keys, max(n, 1))

    # Self-loops.
    loop = u == v
    n_loops = int(loop.sum())
    if n_loops and self_loops == "error":
        raise ValueError(
            f"{source}: {n_loops} node(s) have a self-loop, e.g. node "
            f"{node_ids[int(u[loop][0])]!r}. Pass self_loops='remove' or 'keep'."
        )
    if self_loops == "remove":
        u, v, merged = u[~loop], v[~loop], merged[~loop]
    keep = merged > 0
    u, v, merged = u[keep], v[keep], merged[keep]
    off = u != v
    adjacency = sp.csr_array(
        (
            np.concatenate([merged, merged[off]]),
            (np.concatenate([u, v[off]]), np.concatenate([v, u[off]])),
        ),
        shape=(n, n),
        dtype=np.float64,
    )
    adjacency.sort_indices()

    labels = label_names = None
    has_class = [c is not None for c in classes]
    if any(has_class):
        if not all(has_class):
            missing = node_ids[has_class.index(False)]
            raise ValueError(
                f"{source}: node {missing!r} has no {target!r} attribute while others "
                "do. Pass target=None to read the graph without classes."
            )
        labels, label_names = _encode_classes(classes)

    return Bunch(
        adjacency=adjacency,
        labels=labels,
        label_names=label_names,
        node_names=np.asarray(names, dtype=str),
        node_ids=np.asarray(node_ids),
        n_edges=len(merged),
        self_loops=n_loops,
        duplicate_edges=n_duplicates,
    )


# ---------------------------------------------------------------- shipped graphs
def load_graph(name, *, data_home=None, largest_component=False, self_loops="remove"):
    """Load one of the community graphs shipped beside the project.

    Reads ``<data_home>/graphs/<name>.gml`` with :func:`load_gml` (duplicate edges
    merged by their largest weight, weights from the ``value`` attribute where
    there is one) and classes from the node attribute ``gt``. The files are not
    part of the package: they are read where they lie (see :func:`get_data_home`).

    The graphs, as read here with the default ``self_loops="remove"`` (every one is
    connected as shipped):

    =============  =====  ======  =======  ===========================================
    name           nodes  edges   classes  what
    =============  =====  ======  =======  ===========================================
    karate         34     78      2        Zachary's karate club, its two factions
    dolphins       62     159     2        bottlenose dolphins of Doubtful Sound
    football       115    613     12       US college football games, conferences
    polbooks       105    441     3        books on US politics (liberal, neutral,
                                           conservative)
    polblogs       1222   16714   2        political blogs (3 self-loops removed)
    eu-core        986    16064   42       e-mails in a research institution,
                                           departments (623 self-loops removed)
    news_2cl1_0.1  398    2634    2        20 Newsgroups subsets as graphs,
    news_2cl2_0.1  398    2455    2        newsgroups as classes
    news_2cl3_0.1  398    3347    2
    news_3cl1_0.1  599    5129    3
    news_5cl1_0.1  998    11525   5
    =============  =====  ======  =======  ===========================================

    Parameters
    ----------
    name : str
        One of ``GRAPH_NAMES``.
    data_home : str or path-like, default=None
        The data folder that holds ``graphs/``; by default the environment
        variable ``KERNLEARN_DATA``, else ``shared/data`` beside the checkout.
    largest_component : bool, default=False
        Restrict the graph to its largest connected component (the first one in
        node order on a tie). Labels are then re-encoded to ``0 .. C' - 1`` over
        the classes that remain.
    self_loops : {"remove", "keep", "error"}, default="remove"
        As in :func:`load_gml`.

    Returns
    -------
    graph : sklearn.utils.Bunch
        The fields of :func:`load_gml`, restricted to the component when
        ``largest_component=True`` (``self_loops`` and ``duplicate_edges`` still
        count the whole file), plus

        name : str
            ``name``.
        n_components : int
            The number of connected components of the whole graph (isolated nodes
            count).
        node_index : ndarray of shape (n_nodes,) of int
            Position of each returned node in the whole graph (``arange(n_nodes)``
            without restriction).

    Raises
    ------
    ValueError
        If ``name`` is not in ``GRAPH_NAMES``.
    FileNotFoundError
        If the data folder or the file is missing.

    See Also
    --------
    load_gml : the reader, for any GML file.
    make_sbm_graph : random community graphs, with no files needed.

    Examples
    --------
    >>> from kernlearn.datasets import load_graph
    >>> graph = load_graph("karate")  # doctest: +SKIP
    >>> graph.adjacency.shape, graph.n_edges  # doctest: +SKIP
    ((34, 34), 78)
    >>> graph.label_names  # doctest: +SKIP
    array(['1', '2'], dtype='<U1')
    """
    if name not in GRAPH_NAMES:
        raise ValueError(
            f"Unknown graph name {name!r}; name must be one of: "
            f"{', '.join(GRAPH_NAMES)}."
        )
    _check_option(self_loops, "self_loops", _SELF_LOOPS)
    file = get_data_home(data_home) / "graphs" / f"{name}.gml"
    if not file.is_file():
        raise FileNotFoundError(
            f"The graph file {str(file)!r} does not exist. Point data_home (or the "
            "environment variable KERNLEARN_DATA) at the folder that holds graphs/."
        )
    graph = load_gml(file, self_loops=self_loops)
    n = graph.adjacency.shape[0]
    n_components, component = connected_components(graph.adjacency, directed=False)
    graph.name = name
    graph.n_components = int(n_components)
    graph.node_index = np.arange(n)
    if largest_component and n_components > 1:
        largest = np.argmax(np.bincount(component))
        keep = np.flatnonzero(component == largest)
        graph.adjacency = graph.adjacency[keep][:, keep].tocsr()
        graph.adjacency.sort_indices()
        graph.n_edges = int(
            (graph.adjacency.nnz + np.count_nonzero(graph.adjacency.diagonal())) // 2
        )
        graph.node_names = graph.node_names[keep]
        graph.node_ids = graph.node_ids[keep]
        graph.node_index = keep
        if graph.labels is not None:
            present, labels = np.unique(graph.labels[keep], return_inverse=True)
            graph.labels = labels.astype(np.intp)
            graph.label_names = graph.label_names[present]
    return graph


# ----------------------------------------------------------- stochastic blocks
def _check_int(value, name, low):
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer >= {low}; got {value!r}.")
    if value < low:
        raise ValueError(f"{name} must be an integer >= {low}; got {value!r}.")
    return int(value)


def _check_probability(value, name):
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a probability in [0, 1]; got {value!r}.")
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be a probability in [0, 1]; got {value!r}.")
    return float(value)


def _draw_sbm(labels, p_in, p_out, rng):
    """Upper-triangle Bernoulli draws, a block of rows at a time (bounded memory)."""
    n = len(labels)
    step = max(1, 2**20 // max(n, 1))
    columns = np.arange(n)
    us, vs = [], []
    for start in range(0, n - 1, step):
        rows = np.arange(start, min(start + step, n - 1))
        uniform = rng.random_sample((len(rows), n))
        same = labels[rows, None] == labels[None, :]
        hit = np.where(same, uniform < p_in, uniform < p_out)
        hit &= columns[None, :] > rows[:, None]
        i, j = np.nonzero(hit)
        us.append(rows[i])
        vs.append(j)
    u = np.concatenate(us) if us else np.zeros(0, dtype=np.intp)
    v = np.concatenate(vs) if vs else np.zeros(0, dtype=np.intp)
    data = np.ones(2 * len(u))
    return sp.csr_array(
        (data, (np.concatenate([u, v]), np.concatenate([v, u]))), shape=(n, n)
    )


def make_sbm_graph(
    n_nodes=100,
    n_classes=2,
    p_in=0.3,
    p_out=0.1,
    *,
    class_sizes=None,
    connected=True,
    max_tries=100,
    random_state=None,
    return_sparse=True,
):
    """Draw a graph from the stochastic block model ``G(N, (m) p_in, p_out)``.

    ``N = n_nodes`` nodes are split into ``m = n_classes`` classes of equal size
    (the first ``N mod m`` classes have one node more) or of the sizes given; each
    pair of nodes of one class is joined with probability ``p_in`` and each pair
    from different classes with probability ``p_out``, independently. This is the
    model of Ivashkin and Chebotarev (2017). The graph is simple: unweighted,
    undirected, without self-loops.

    With ``connected=True`` the graph is redrawn until it is connected, that is,
    drawn from the model conditioned on connectivity; where the model is sparse
    enough that this condition matters, edge densities come out slightly above
    ``p_in`` and ``p_out``.

    Parameters
    ----------
    n_nodes : int, default=100
        Number of nodes ``N``.
    n_classes : int, default=2
        Number of classes ``m``, at most ``n_nodes``.
    p_in : float, default=0.3
        Probability of an edge between two nodes of the same class, in [0, 1].
    p_out : float, default=0.1
        Probability of an edge between nodes of different classes, in [0, 1].
    class_sizes : array-like of int, default=None
        Sizes of the classes, each at least 1; it must sum to ``n_nodes`` and have
        ``n_classes`` entries. By default the sizes are as equal as possible.
    connected : bool, default=True
        Redraw until the graph is connected.
    max_tries : int, default=100
        Number of draws before giving up on a connected graph.
    random_state : int, RandomState instance or None, default=None
        Seed of the draws; an int gives the same graph on every call.
    return_sparse : bool, default=True
        Return the adjacency matrix as a ``scipy.sparse.csr_array``; else as a
        dense ndarray.

    Returns
    -------
    adjacency : scipy.sparse.csr_array or ndarray of shape (n_nodes, n_nodes)
        Symmetric 0/1 float64 adjacency matrix with a zero diagonal.
    labels : ndarray of shape (n_nodes,) of int
        The class of each node, ``0 .. n_classes - 1``, in contiguous blocks.

    Raises
    ------
    ValueError
        If a parameter is out of range, or ``connected=True`` where no draw can
        be connected (e.g. ``p_out=0`` with two classes or more).
    RuntimeError
        If ``connected=True`` and none of ``max_tries`` draws is connected.

    See Also
    --------
    load_graph : real community graphs with ground-truth classes.

    References
    ----------
    V. Ivashkin and P. Chebotarev, "Do logarithmic proximity measures outperform
    plain ones in graph clustering?", in *Models, Algorithms, and Technologies for
    Network Analysis* (NET 2016), Springer Proceedings in Mathematics & Statistics
    197, pp. 87-105, 2017. doi:10.1007/978-3-319-56829-4_8, arXiv:1605.01046.

    Examples
    --------
    >>> import numpy as np
    >>> from kernlearn.datasets import make_sbm_graph
    >>> A, y = make_sbm_graph(200, 4, p_in=0.3, p_out=0.05, random_state=0)
    >>> A.shape, np.bincount(y)
    ((200, 200), array([50, 50, 50, 50]))
    >>> bool((A != A.T).nnz == 0), float(A.diagonal().max())
    (True, 0.0)
    >>> same = y[:, None] == y[None, :]
    >>> dense = A.toarray()
    >>> inside = dense[same].sum() / (same.sum() - 200)
    >>> between = dense[~same].sum() / (~same).sum()
    >>> print(f"{inside:.3f} {between:.3f}")
    0.304 0.052
    """
    n_nodes = _check_int(n_nodes, "n_nodes", 1)
    n_classes = _check_int(n_classes, "n_classes", 1)
    p_in = _check_probability(p_in, "p_in")
    p_out = _check_probability(p_out, "p_out")
    max_tries = _check_int(max_tries, "max_tries", 1)
    if n_classes > n_nodes:
        raise ValueError(
            f"n_classes={n_classes} exceeds n_nodes={n_nodes}: every class needs a "
            "node. Lower n_classes or raise n_nodes."
        )
    if class_sizes is None:
        sizes = np.full(n_classes, n_nodes // n_classes)
        sizes[: n_nodes % n_classes] += 1
    else:
        sizes = np.asarray(class_sizes)
        if (
            sizes.ndim != 1
            or not np.issubdtype(sizes.dtype, np.integer)
            or np.any(sizes < 1)
        ):
            raise ValueError(
                f"class_sizes must be a 1-D list of integers >= 1; got {class_sizes!r}."
            )
        if len(sizes) != n_classes or sizes.sum() != n_nodes:
            raise ValueError(
                f"class_sizes has {len(sizes)} entries summing to {sizes.sum()}, but "
                f"n_classes={n_classes} and n_nodes={n_nodes}: pass "
                f"n_nodes={sizes.sum()}, n_classes={len(sizes)} with it."
            )
    labels = np.repeat(np.arange(n_classes, dtype=np.intp), sizes)
    if connected and n_nodes > 1:
        if n_classes == 1 and p_in == 0.0:
            raise ValueError(
                "connected=True cannot be met with p_in=0 and one class: no draw has "
                "an edge. Raise p_in or pass connected=False."
            )
        if n_classes > 1 and p_out == 0.0:
            raise ValueError(
                "connected=True cannot be met with p_out=0 and several classes: no "
                "draw joins two classes. Raise p_out or pass connected=False."
            )
    rng = check_random_state(random_state)
    for _ in range(max_tries):
        adjacency = _draw_sbm(labels, p_in, p_out, rng)
        if not connected or n_nodes == 1:
            break
        if connected_components(adjacency, directed=False, return_labels=False) == 1:
            break
    else:
        raise RuntimeError(
            f"No connected graph in max_tries={max_tries} draws with p_in={p_in} and "
            f"p_out={p_out} on {n_nodes} nodes. Raise p_in or p_out (or max_tries), "
            "or pass connected=False."
        )
    if not return_sparse:
        return adjacency.toarray(), labels
    return adjacency, labels
