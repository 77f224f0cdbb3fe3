"""Newman's modularity of a partition of a weighted undirected graph.

Computed from the non-zero entries only, in ``O(nnz + n)`` per call, so it can score
many candidate partitions of a large sparse graph (e.g. to select a kernel and its
parameter without labels).
"""

from __future__ import annotations

import numbers

import numpy as np
from scipy import sparse

_SYMMETRY_RTOL = 1e-10


def _as_sparse_adjacency(adjacency):
    """Validated ``(csr_array, is_networkx)``: square, finite, non-negative and
    symmetric up to a relative ``1e-10``."""
    if hasattr(adjacency, "adj") and hasattr(adjacency, "is_directed"):
        import networkx as nx

        if adjacency.is_directed() or adjacency.is_multigraph():
            raise ValueError(
                "adjacency is a directed graph or a multigraph; modularity here is "
                "for undirected simple graphs: pass nx.Graph(G) (or a symmetric "
                "matrix)."
            )
        A = nx.to_scipy_sparse_array(adjacency, weight="weight", dtype=np.float64)
    elif sparse.issparse(adjacency):
        A = sparse.csr_array(adjacency, dtype=np.float64)
    else:
        try:
            dense = np.asarray(adjacency, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(
                "adjacency must be a square adjacency matrix (dense or scipy "
                f"sparse), got {type(adjacency).__name__}."
            ) from exc
        if dense.ndim != 2:
            raise ValueError(
                f"adjacency must be a square 2-D matrix, got shape {dense.shape}."
            )
        A = sparse.csr_array(dense)
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise ValueError(f"adjacency must be a square matrix, got shape {A.shape}.")
    A.sum_duplicates()
    if not np.all(np.isfinite(A.data)):
        raise ValueError(
            "adjacency has NaN or infinite weights; edge weights must be finite and "
            "non-negative."
        )
    if np.any(A.data < 0):
        raise ValueError(
            "adjacency has negative weights; modularity needs non-negative edge "
            "weights (0 means no edge)."
        )
    scale = A.data.max() if A.nnz else 0.0
    asymmetry = abs(A - A.T)
    if asymmetry.nnz and asymmetry.data.max() > _SYMMETRY_RTOL * scale:
        raise ValueError(
            "adjacency is not symmetric; modularity here is for undirected graphs. "
            "Symmetrise it, e.g. (A + A.T) / 2 or A.maximum(A.T)."
        )
    return A


def modularity(adjacency, labels, *, resolution=1.0):
    r"""Newman's modularity of a partition of the nodes of a weighted graph.

    .. math::

        Q = \frac{1}{2m} \sum_{ij} \Big(A_{ij} - \gamma \frac{k_i k_j}{2m}\Big)
            [c_i = c_j]

    for a symmetric non-negative weighted adjacency matrix ``A``, node degrees
    ``k_i``, total edge weight ``m``, resolution ``gamma`` and classes ``c_i``.
    A self-loop of weight ``w``, stored once as ``A[i, i] = w``, is counted as
    ``networkx.community.modularity`` counts it: twice in the degree ``k_i`` (so
    ``m`` counts it once) and once in the weight inside its class. Equivalently,
    the formula is applied to ``A`` with its diagonal doubled.

    The cost is ``O(nnz + n)``: only the non-zero entries are visited (a dense
    input is first converted to a sparse matrix).

    Parameters
    ----------
    adjacency : {array-like, sparse matrix} of shape (n_nodes, n_nodes)
        Symmetric (up to a relative ``1e-10``), finite, non-negative weighted
        adjacency matrix. A networkx graph is also accepted (its ``weight`` edge
        attribute, 1 where absent; nodes in ``G.nodes`` order).
    labels : array-like of shape (n_nodes,)
        The class of each node; any values that ``numpy.unique`` can sort.
    resolution : float, default=1.0
        The resolution ``gamma``: below 1 favours larger classes, above 1 smaller.

    Returns
    -------
    Q : float
        The modularity, in ``[-1/2, 1)`` at ``resolution=1``.

    Raises
    ------
    ValueError
        If ``adjacency`` is not square, symmetric, finite and non-negative, if
        ``labels`` does not have one entry per node, or if the graph has no edges
        (modularity is undefined when ``m = 0``).

    References
    ----------
    M. E. J. Newman, "Modularity and community structure in networks", PNAS 103
    (23), 8577-8582, 2006. Resolution: J. Reichardt and S. Bornholdt, "Statistical
    mechanics of community detection", Phys. Rev. E 74, 016110, 2006.

    Examples
    --------
    Two triangles joined by one edge, split into the two triangles:

    >>> import numpy as np
    >>> from kernlearn.graph._modularity import modularity
    >>> A = np.zeros((6, 6))
    >>> for i, j in [(0, 1), (1, 2), (0, 2), (3, 4), (4, 5), (3, 5), (2, 3)]:
    ...     A[i, j] = A[j, i] = 1
    >>> print(f"{modularity(A, [0, 0, 0, 1, 1, 1]):.4f}")
    0.3571
    >>> print(f"{modularity(A, [0, 0, 0, 1, 1, 1], resolution=0.5):.4f}")
    0.6071

    A planted partition of a stochastic block model graph scores well above a
    random one:

    >>> from kernlearn.datasets import make_sbm_graph
    >>> A, y = make_sbm_graph(300, 3, p_in=0.2, p_out=0.02, random_state=0)
    >>> rng = np.random.default_rng(0)
    >>> print(f"{modularity(A, y):.3f} {modularity(A, rng.permutation(y)):.3f}")
    0.496 -0.006
    """
    if isinstance(resolution, bool | np.bool_) or not isinstance(
        resolution, numbers.Real
    ):
        raise TypeError(f"resolution must be a real number; got {resolution!r}.")
    if not np.isfinite(resolution):
        raise ValueError(f"resolution must be finite; got {resolution!r}.")
    A = _as_sparse_adjacency(adjacency)
    n = A.shape[0]
    labels = np.asarray(labels)
    if labels.ndim != 1 or len(labels) != n:
        raise ValueError(
            f"labels must be 1-D with one class per node ({n}); got shape "
            f"{labels.shape}."
        )
    _, codes = np.unique(labels, return_inverse=True)
    codes = codes.ravel()

    diagonal = A.diagonal()
    degree = np.asarray(A.sum(axis=1)).ravel() + diagonal
    two_m = degree.sum()
    if not two_m > 0:
        raise ValueError(
            "modularity is undefined for a graph without edges (total edge weight "
            "0); pass a graph with at least one edge of positive weight."
        )
    rows = np.repeat(np.arange(n), np.diff(A.indptr))
    same = codes[rows] == codes[A.indices]
    inside = A.data[same].sum() + diagonal.sum()
    class_degree = np.bincount(codes, weights=degree)
    return float(
        inside / two_m - resolution * np.dot(class_degree, class_degree) / two_m**2
    )
