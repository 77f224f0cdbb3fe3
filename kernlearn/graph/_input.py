"""Graph input: adjacency matrices from dense arrays, scipy sparse or networkx.

Every graph function of :mod:`kernlearn.graph` takes its graph through
:func:`check_adjacency`, so the treatment of each input is the same everywhere:

- a dense array, a scipy sparse matrix/array or a networkx graph (its ``weight``
  edge attribute, 1 when absent; networkx is imported only when such an object is
  passed);
- square, finite, non-negative and symmetric (undirected); the relative tolerance
  for symmetry is ``1e-10``;
- self-loops (non-zero diagonal) are kept by default: they enter the adjacency
  matrix ``A`` (so Walk and Communicability count them as length-one cycles) but
  cancel in the Laplacian ``L = D - A`` (Forest, Heat, commute time are blind to
  them). ``self_loops="remove"`` drops them and ``"error"`` refuses them;
- isolated and disconnected parts are reported by :func:`connected_components`;
  families that need a connected graph (every logarithmic family, commute time,
  RSP, FE, SP-CT) refuse a disconnected one with an error that says to cluster
  each component on its own or keep the largest.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components as _cc

SELF_LOOPS = ("keep", "remove", "error")


def _from_networkx(G):
    import networkx as nx

    if G.is_directed():
        raise ValueError(
            "graph is a directed networkx graph; node kernels here need an "
            "undirected graph: pass G.to_undirected() (or a symmetric matrix)."
        )
    if G.is_multigraph():
        raise ValueError(
            "graph is a networkx multigraph; collapse parallel edges first, e.g. "
            "nx.Graph(G), choosing how to combine their weights."
        )
    return nx.to_scipy_sparse_array(G, weight="weight", dtype=np.float64)


def check_adjacency(graph, *, self_loops="keep", name="graph"):
    """Validate a graph and return its dense float64 adjacency matrix.

    Parameters
    ----------
    graph : array-like of shape (n_nodes, n_nodes), sparse matrix or networkx.Graph
        Symmetric non-negative weighted adjacency matrix of an undirected graph.
    self_loops : {"keep", "remove", "error"}, default="keep"
        What to do with non-zero diagonal entries (see the module docstring).
    name : str, default="graph"
        Parameter name used in error messages.

    Returns
    -------
    A : ndarray of shape (n_nodes, n_nodes)
        A fresh float64 array (the input is never modified).

    Examples
    --------
    >>> import numpy as np
    >>> from kernlearn.graph import check_adjacency
    >>> check_adjacency(np.array([[0, 1], [1, 0]]))
    array([[0., 1.],
           [1., 0.]])
    """
    if self_loops not in SELF_LOOPS:
        raise ValueError(f"self_loops must be one of {SELF_LOOPS}, got {self_loops!r}.")
    if hasattr(graph, "adj") and hasattr(graph, "is_directed"):
        graph = _from_networkx(graph)
    if sparse.issparse(graph):
        A = np.asarray(graph.toarray(), dtype=np.float64)
    else:
        try:
            A = np.array(graph, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"{name} must be a square adjacency matrix (dense or scipy sparse) "
                f"or a networkx graph, got {type(graph).__name__}."
            ) from exc
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise ValueError(
            f"{name} must be a square adjacency matrix, got shape {A.shape}."
        )
    if A.shape[0] < 2:
        raise ValueError(f"{name} must have at least 2 nodes, got {A.shape[0]}.")
    if not np.all(np.isfinite(A)):
        raise ValueError(
            f"{name} has NaN or infinite weights; edge weights must be "
            "finite and non-negative."
        )
    if np.any(A < 0):
        raise ValueError(
            f"{name} has negative weights; edge weights must be "
            "non-negative (0 means no edge)."
        )
    scale = max(np.abs(A).max(), np.finfo(float).tiny)
    if np.abs(A - A.T).max() > 1e-10 * scale:
        raise ValueError(
            f"{name} is not symmetric; node kernels here are for undirected graphs. "
            "Symmetrise it, e.g. (A + A.T) / 2 or np.maximum(A, A.T)."
        )
    A = 0.5 * (A + A.T)
    diag = np.diagonal(A)
    if np.any(diag != 0):
        if self_loops == "error":
            raise ValueError(
                f"{name} has {int(np.count_nonzero(diag))} self-loops; pass "
                "self_loops='remove' to drop them or 'keep' to use them."
            )
        if self_loops == "remove":
            np.fill_diagonal(A, 0.0)
    if not np.any(A - np.diag(np.diagonal(A))):
        raise ValueError(f"{name} has no edges between distinct nodes.")
    return A


def connected_components(A):
    """``(n_components, labels)`` of an adjacency matrix (scipy csgraph)."""
    return _cc(sparse.csr_array(A), directed=False)


def require_connected(A, family):
    """Raise a clear error when ``A`` is disconnected."""
    n_comp, labels = connected_components(A)
    if n_comp > 1:
        sizes = np.bincount(labels)
        raise ValueError(
            f"family {family!r} needs a connected graph, but this one has {n_comp} "
            f"connected components (sizes {sorted(sizes.tolist(), reverse=True)[:5]}"
            f"{'...' if n_comp > 5 else ''}); its value between components is "
            "undefined (zero proximity, infinite distance). Cluster each component "
            "on its own, or keep the largest (kernlearn.datasets.load_graph(..., "
            "largest_component=True))."
        )
