"""Node kernels and distances of a graph, with one decomposition per graph.

For an undirected graph with adjacency ``A``, degrees ``D = diag(A 1)``,
Laplacian ``L = D - A``, normalised Laplacian ``L_n = I - D^{-1/2} A D^{-1/2}``
and random-walk matrix ``P = D^{-1} A``, the families are (``t`` the natural
parameter, ``a`` in ``(0, 1)`` the normalised one; Ivashkin & Chebotarev 2016,
Avrachenkov et al. 2019):

============  =======================================  ===========================
family        kernel (or distance)                     parameter map ``a -> t``
============  =======================================  ===========================
pWalk         ``(I - tA)^{-1}`` (Katz)                 ``t = a / rho(A)``
Walk          ``log`` of pWalk, entrywise              same
For           ``(I + tL)^{-1}`` (regularised Laplacian) ``t = a / (2 (1 - a))``
logFor        ``log`` of For                           same
Comm          ``expm(tA)`` (communicability)           ``t = a / (2 (1 - a))``
logComm       ``log`` of Comm                          same
Heat          ``expm(-tL)``                            ``t = a / (2 (1 - a))``
logHeat       ``log`` of Heat                          same
NHeat         ``expm(-t L_n)``                         ``t = a / (2 (1 - a))``
logNHeat      ``log`` of NHeat                         same
PPR           ``(I - tP)^{-1}`` (personalised PageRank) ``t = a``
logPPR        ``log`` of PPR                           same
ModifPPR      ``(D - tA)^{-1}``                        ``t = a``
logModifPPR   ``log`` of ModifPPR                      same
HeatPR        ``expm(-t(I - P))`` (heat PageRank)      ``t = a / (2 (1 - a))``
logHeatPR     ``log`` of HeatPR                        same
CT            ``L^+`` (commute time / resistance)      none
SCT           ``sigmoid(t L^+ / sigma)``               ``t = a / (2 (1 - a))``
SCCT          ``sigmoid(t K_CCT / sigma)``             ``t = a / (2 (1 - a))``
SP            shortest-path distance (cost ``1/w``)    none
SP-CT         ``(1 - t) R + t SP`` (distance)          ``t = a``
RSP           randomised shortest paths (distance)     ``beta = (1 - a) / a``
FE            free energy (distance)                   ``beta = (1 - a) / a``
============  =======================================  ===========================

``sigma`` is the standard deviation of the entries of the base kernel; ``K_CCT``
is von Luxburg et al.'s corrected commute-time kernel ``H D^{-1/2} M (I - M)^{-1}
M D^{-1/2} H`` with ``M = D^{-1/2}(A - d d^T / vol) D^{-1/2}`` and ``H`` the
centring matrix; ``R`` is the resistance distance (commute time over ``vol``: on
a tree it equals SP, so SP-CT mixes two distances on one scale). RSP and FE are
the randomised-shortest-path dissimilarity and free-energy distance of
Kivimaki, Shimbo & Saerens (2014) with reference walk ``P`` and edge costs
``1/w``.

Every kernel family is a spectral function of one symmetric matrix (``A``,
``L``, ``L_n`` or ``D^{-1/2} A D^{-1/2}``), so :class:`NodeKernels` computes its
eigendecomposition once and evaluates the whole parameter grid from it in
``O(n^2 r)`` per value instead of one inverse or matrix exponential each. The
logarithmic families are returned in log space: ``log K`` is formed as
``log(V diag(f / f_max) V^T) + log f_max`` (no overflow, e.g. logComm at large
``t``), and when that loses relative accuracy in small entries (logHeat or
logFor at small ``t``) the entries are recomputed from non-negative matrix
products (:mod:`._positive`), so none becomes ``-inf`` or NaN. RSP and FE need
one inverse per ``beta``; it is computed the same accurate way when needed.

Distances from kernels use ``d_ij = (K_ii + K_jj - K_ij - K_ji) / 2``, and
kernels from distances ``K = -1/2 H D H`` (double centring).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import shortest_path
from scipy.special import expit

from ..utils._threaded import threaded_ufunc
from ._input import check_adjacency, require_connected
from ._positive import (
    log_expm_nonneg,
    log_mmatrix_inverse,
    log_resolvent_nonneg,
    mmatrix_inverse,
)

_EPS = np.finfo(np.float64).eps
#: Bases whose symmetric cores are the same spectral function of S.
_SAME_CORE = {"ModifPPR": "PPR", "HeatPR": "NHeat"}
#: Accuracy contracts of :class:`NodeKernels`.
ACCURACY = ("entrywise", "normwise")
#: Below ``_RESOLVE * n * eps`` of the largest entry the eigen path is not
#: trusted to relative accuracy 1e-8 (its absolute error is ~ n eps).
_RESOLVE = 1e8

logger = logging.getLogger("kernlearn")


@dataclass(frozen=True)
class _Family:
    name: str
    #: "kernel" (a proximity) or "distance"
    kind: str
    #: parameter map: "rho", "fraction", "reversed", "linear" or None
    scaler: str | None
    #: log transform of a base family
    base: str | None = None
    connected: bool = False


_DEFS = [
    _Family("pWalk", "kernel", "rho"),
    _Family("For", "kernel", "fraction"),
    _Family("Comm", "kernel", "fraction"),
    _Family("Heat", "kernel", "fraction"),
    _Family("NHeat", "kernel", "fraction"),
    _Family("PPR", "kernel", "linear"),
    _Family("ModifPPR", "kernel", "linear"),
    _Family("HeatPR", "kernel", "fraction"),
    _Family("CT", "kernel", None, connected=True),
    _Family("SCT", "kernel", "fraction", connected=True),
    _Family("SCCT", "kernel", "fraction", connected=True),
    _Family("SP", "distance", None, connected=True),
    _Family("SP-CT", "distance", "linear", connected=True),
    _Family("RSP", "distance", "reversed", connected=True),
    _Family("FE", "distance", "reversed", connected=True),
]
_LOGS = {
    "Walk": "pWalk",
    "logFor": "For",
    "logComm": "Comm",
    "logHeat": "Heat",
    "logNHeat": "NHeat",
    "logPPR": "PPR",
    "logModifPPR": "ModifPPR",
    "logHeatPR": "HeatPR",
}
_REG = {f.name: f for f in _DEFS}
for _log, _base in _LOGS.items():
    _b = _REG[_base]
    _REG[_log] = _Family(_log, "kernel", _b.scaler, base=_base, connected=True)

#: Names of every node kernel / distance family, in the order of the table above.
FAMILIES = tuple(
    [
        "pWalk",
        "Walk",
        "For",
        "logFor",
        "Comm",
        "logComm",
        "Heat",
        "logHeat",
        "NHeat",
        "logNHeat",
        "PPR",
        "logPPR",
        "ModifPPR",
        "logModifPPR",
        "HeatPR",
        "logHeatPR",
        "CT",
        "SCT",
        "SCCT",
        "SP",
        "SP-CT",
        "RSP",
        "FE",
    ]
)
#: Families with a parameter (those a grid search is over).
PARAMETRIC_FAMILIES = tuple(f for f in FAMILIES if _REG[f].scaler is not None)
#: The logarithmic families.
LOG_FAMILIES = tuple(_LOGS)


def _family(name):
    if name not in _REG:
        raise ValueError(f"family must be one of {FAMILIES}, got {name!r}.")
    return _REG[name]


# ------------------------------------------------------------ transforms
def log_transform(K, *, name="K"):
    """Entrywise logarithm of a positive proximity matrix.

    Parameters
    ----------
    K : array-like of shape (n, n)
        Strictly positive entries (a connected graph's Walk, Forest, Heat or
        Communicability kernel).
    name : str, default="K"
        Name used in error messages.

    Returns
    -------
    log_K : ndarray of shape (n, n)

    Examples
    --------
    >>> import numpy as np
    >>> from kernlearn.graph import log_transform
    >>> log_transform(np.array([[1.0, np.e], [np.e, 1.0]]))
    array([[0., 1.],
           [1., 0.]])
    """
    K = np.asarray(K, dtype=np.float64)
    if not np.all(K > 0):
        bad = int(np.count_nonzero(~(K > 0)))
        raise ValueError(
            f"{name} has {bad} entries that are not strictly positive; the "
            "logarithmic transform needs a positive proximity (a connected graph, "
            "a parameter inside its valid range). Compute log-families with "
            "NodeKernels, which works in log space and avoids underflow."
        )
    return np.log(K)


def kernel_to_distance(K):
    """Distance ``d_ij = (K_ii + K_jj - K_ij - K_ji) / 2`` of a proximity matrix.

    For a positive semidefinite ``K`` this is half the squared feature-space
    distance; for the logarithmic kernels of a connected graph it is Chebotarev's
    walk / logarithmic-forest / ... distance (cutpoint additive).

    Parameters
    ----------
    K : array-like of shape (n, n)

    Returns
    -------
    D : ndarray of shape (n, n)
        Symmetric, zero diagonal.

    Examples
    --------
    >>> import numpy as np
    >>> from kernlearn.graph import kernel_to_distance
    >>> kernel_to_distance(np.array([[2.0, 1.0], [1.0, 4.0]]))
    array([[0., 2.],
           [2., 0.]])
    """
    K = np.asarray(K, dtype=np.float64)
    if K.ndim != 2 or K.shape[0] != K.shape[1]:
        raise ValueError(f"K must be a square matrix, got shape {K.shape}.")
    h = np.diagonal(K)
    D = 0.5 * ((h[:, None] + h[None, :]) - K - K.T)
    np.fill_diagonal(D, 0.0)
    return D


def distance_to_kernel(D):
    """Kernel ``K = -1/2 H D H`` of a distance matrix (double centring).

    ``H = I - 11^T / n``. For a Euclidean-squared ``D`` this is the Gram matrix
    of centred points (classical multidimensional scaling).

    Parameters
    ----------
    D : array-like of shape (n, n)

    Returns
    -------
    K : ndarray of shape (n, n)

    Examples
    --------
    >>> import numpy as np
    >>> from kernlearn.graph import distance_to_kernel
    >>> distance_to_kernel(np.array([[0.0, 4.0], [4.0, 0.0]]))
    array([[ 1., -1.],
           [-1.,  1.]])
    """
    D = np.asarray(D, dtype=np.float64)
    if D.ndim != 2 or D.shape[0] != D.shape[1]:
        raise ValueError(f"D must be a square matrix, got shape {D.shape}.")
    if not np.all(np.isfinite(D)):
        raise ValueError("D has NaN or infinite entries (a disconnected graph?).")
    row = D.mean(axis=1)
    col = D.mean(axis=0)
    return -0.5 * (D - row[:, None] - col[None, :] + D.mean())


def _cholesky_ok(n, kappa):
    """Whether Cholesky resolves an M-matrix inverse entrywise to 1/_RESOLVE."""
    return 4.0 * n * _EPS * kappa * _RESOLVE <= 1.0


def _sigmoid(x, scale=1.0):
    """``1 / (1 + exp(-scale x))`` (scipy's stable ``expit``, in threads)."""
    out = np.multiply(x, scale)
    return threaded_ufunc(expit, out, out=out)


# ------------------------------------------------------------ the cache
class NodeKernels:
    """Every node kernel and distance of one graph, from one decomposition each.

    The eigendecompositions of ``A``, ``L``, ``L_n`` (and the pseudo-inverse of
    ``L``, the shortest paths, the RSP costs) are computed on first use and
    reused for every family and parameter value, so a grid of ``p`` values costs
    one ``O(n^3)`` decomposition plus ``p`` products of ``O(n^3)`` with a small
    constant, instead of ``p`` inverses or matrix exponentials. See the module
    documentation for the families and their parameter maps.

    Parameters
    ----------
    graph : array-like, sparse matrix or networkx.Graph of shape (n, n)
        Symmetric non-negative adjacency matrix (see
        :func:`kernlearn.graph.check_adjacency`).
    self_loops : {"keep", "remove", "error"}, default="keep"
        Treatment of self-loops (they count in ``A``, cancel in ``L``).
    accuracy : {"entrywise", "normwise"}, default="entrywise"
        Contract of the logarithmic families (and FE, RSP). ``"entrywise"``:
        every entry of ``log K`` to relative accuracy, however small ``K_ij``
        is (the eigen path where it resolves every entry, else non-negative
        matrix products; several matrix products per value on large graphs at
        small parameters). ``"normwise"``: the eigen path only, accurate to
        about ``n eps`` of the largest entry, as a per-parameter ``inv`` or
        ``expm`` is; entries below that resolution, ``n eps ||K||_2``, are set
        to it (their log is ``log(n eps ||K||_2)`` instead of ``-inf``, NaN or
        noise), and their count is logged at debug level on the
        ``"kernlearn"`` logger. For fast sweeps over large graphs where the
        smallest proximities do not matter (``benchmarks/bench_graph_kernels.py``
        times both).

    Attributes
    ----------
    adjacency : ndarray of shape (n, n)
    n_nodes : int
    spectral_radius : float
        ``rho(A)``, the bound of pWalk's parameter.

    References
    ----------
    .. [1] V. Ivashkin and P. Chebotarev, "Do logarithmic proximity measures
       outperform plain ones in graph clustering?", Models, Algorithms, and
       Technologies for Network Analysis, Springer, 2017 (arXiv:1605.01046).
    .. [2] K. Avrachenkov, P. Chebotarev and D. Rubanov, "Similarities on graphs:
       kernels versus proximity measures", European J. Combinatorics, 2019.
    .. [3] P. Chebotarev, "A class of graph-geodetic distances generalizing the
       shortest-path and the resistance distances", Discrete Applied Math., 2011.
    .. [4] I. Kivimaki, M. Shimbo and M. Saerens, "Developments in the theory of
       randomized shortest paths with a comparison of graph node distances",
       Physica A, 2014.
    .. [5] U. von Luxburg, A. Radl and M. Hein, "Getting lost in space: large
       sample analysis of the commute distance", NeurIPS 2010.
    .. [6] L. Yen, F. Fouss, C. Decaestecker, P. Francq and M. Saerens, "Graph
       nodes clustering with the sigmoid commute-time kernel", Data & Knowledge
       Engineering, 2009.

    Examples
    --------
    >>> import numpy as np
    >>> from kernlearn.graph import NodeKernels
    >>> P4 = np.diag([1.0, 1.0, 1.0], 1) + np.diag([1.0, 1.0, 1.0], -1)
    >>> nk = NodeKernels(P4)
    >>> nk.distance("CT").round(6)[0]  # resistance distances from node 1
    array([0., 1., 2., 3.])
    >>> nk.natural_parameter("pWalk", 0.5) * nk.spectral_radius
    0.5
    """

    def __init__(self, graph, *, self_loops="keep", accuracy="entrywise"):
        if accuracy not in ACCURACY:
            raise ValueError(
                f"accuracy must be one of {ACCURACY}, got {accuracy!r}: "
                "'entrywise' resolves every entry of the logarithmic kernels, "
                "'normwise' stops at n*eps of the largest (faster)."
            )
        self.accuracy = accuracy
        self.adjacency = check_adjacency(graph, self_loops=self_loops)
        self.n_nodes = self.adjacency.shape[0]
        self._cache = {}
        self._connected = None

    # ---- operators ------------------------------------------------------
    def _get(self, key, fn):
        if key not in self._cache:
            self._cache[key] = fn()
        return self._cache[key]

    @property
    def degrees(self):
        return self.adjacency.sum(axis=1)

    def _laplacian(self):
        A = self.adjacency
        L = -A.copy()
        np.fill_diagonal(L, A.sum(axis=1) - np.diagonal(A))
        return L

    def _sym_walk(self):
        """``S = D^{-1/2} A D^{-1/2}`` (similar to ``P``) and ``d^{1/2}``."""
        return self._get("sym_walk", self._sym_walk_compute)

    def _sym_walk_compute(self):
        d = self.degrees
        if np.any(d <= 0):
            raise ValueError(
                f"graph has {int(np.sum(d <= 0))} isolated nodes; the random walk "
                "P = D^-1 A (PPR, ModifPPR, HeatPR, normalised Heat, SCCT, RSP, "
                "FE) is undefined there. Remove isolated nodes first."
            )
        r = np.sqrt(d)
        # u_i u_j == u_j u_i exactly: S is bitwise symmetric (the symmetric
        # fast paths of _positive test for it)
        u = 1.0 / r
        return self.adjacency * np.outer(u, u), r

    def _eig(self, op):
        def compute():
            if op == "A":
                M = self.adjacency
            elif op == "L":
                M = self._laplacian()
            elif op == "S":
                M = self._sym_walk()[0]
            else:  # pragma: no cover - internal
                raise KeyError(op)
            w, V = np.linalg.eigh(M)
            return w, V

        return self._get(("eig", op), compute)

    @property
    def spectral_radius(self):
        w, _ = self._eig("A")
        return float(max(abs(w[0]), abs(w[-1])))

    def _check_connected(self, family):
        if self._connected is None:
            try:
                require_connected(self.adjacency, family)
                self._connected = True
            except ValueError:
                self._connected = False
        if not self._connected:
            require_connected(self.adjacency, family)

    # ---- parameters ----------------------------------------------------
    def natural_parameter(self, family, a):
        """Natural parameter ``t`` (or ``beta``) of a normalised ``a``.

        Parameters
        ----------
        family : str
            One of :data:`FAMILIES` with a parameter.
        a : float
            Normalised parameter in ``(0, 1)`` (``[0, 1]`` for SP-CT).

        Returns
        -------
        t : float
        """
        fam = _family(family)
        if fam.scaler is None:
            raise ValueError(f"family {family!r} has no parameter.")
        a = float(a)
        lo_closed = fam.name == "SP-CT"
        if not (0.0 <= a <= 1.0) or (not lo_closed and not 0.0 < a < 1.0):
            rng = "[0, 1]" if lo_closed else "(0, 1)"
            raise ValueError(
                f"the normalised parameter of {family!r} must lie in {rng}, got "
                f"{a!r}; pass natural=True to give the natural parameter instead."
            )
        if fam.scaler == "rho":
            return a / self.spectral_radius
        if fam.scaler == "fraction":
            return a / (2.0 * (1.0 - a))
        if fam.scaler == "reversed":
            return (1.0 - a) / a
        return a

    def _natural(self, family, param, natural):
        fam = _family(family)
        if fam.scaler is None:
            if param is not None:
                raise ValueError(f"family {family!r} takes no parameter; pass None.")
            return None
        if param is None:
            raise ValueError(f"family {family!r} needs a parameter.")
        if not natural:
            return self.natural_parameter(family, param)
        t = float(param)
        if not math.isfinite(t) or t <= 0 and family != "SP-CT":
            raise ValueError(
                f"the natural parameter of {family!r} must be > 0, got {t}."
            )
        if fam.scaler == "rho" and t * self.spectral_radius >= 1.0:
            raise ValueError(
                f"pWalk/Walk need t < 1/rho(A) = {1 / self.spectral_radius:.6g}, got "
                f"{t}; the series (I - tA)^-1 = sum (tA)^k diverges beyond it."
            )
        if fam.scaler == "linear" and family != "SP-CT" and t >= 1.0:
            raise ValueError(f"{family!r} needs t < 1, got {t}.")
        if family == "SP-CT" and not 0.0 <= t <= 1.0:
            raise ValueError(f"SP-CT's mixing weight must lie in [0, 1], got {t}.")
        return t

    # ---- spectral evaluation ---------------------------------------------
    def _spectral(self, base, t):
        """``(op, g)``: the kernel of ``base`` is ``V diag(g) V^T`` on ``op``."""
        if base == "pWalk":
            w, _ = self._eig("A")
            return "A", 1.0 / (1.0 - t * w)
        if base == "Comm":
            w, _ = self._eig("A")
            return "A", t * w  # log of the spectral function
        if base == "For":
            w, _ = self._eig("L")
            return "L", 1.0 / (1.0 + t * np.maximum(w, 0.0))
        if base == "Heat":
            w, _ = self._eig("L")
            return "L", -t * np.maximum(w, 0.0)
        if base == "NHeat":
            w, _ = self._eig("S")
            return "S", -t * (1.0 - w)
        if base in ("PPR", "ModifPPR"):
            w, _ = self._eig("S")
            return "S", 1.0 / (1.0 - t * w)
        if base == "HeatPR":
            w, _ = self._eig("S")
            return "S", -t * (1.0 - w)
        raise KeyError(base)  # pragma: no cover

    _LOG_SPECTRUM = ("Comm", "Heat", "NHeat", "HeatPR")

    def _outer_scaling(self, base):
        """``(left, right)`` log-scalings with ``K = diag(e^l) K_sym diag(e^r)``."""
        if base in ("PPR", "HeatPR"):
            r = np.log(self._sym_walk()[1])
            return -r, r
        if base == "ModifPPR":
            r = np.log(self._sym_walk()[1])
            return -r, -r
        return None

    def _core(self, base, t):
        """``(C, log_scale)``: the symmetric core is ``C * exp(log_scale)``.

        ``C = V diag(g / g_max) V^T`` with every ``g > 0`` (true of all the
        spectral families inside their ranges), formed as ``W W^T`` with ``W = V
        diag(sqrt(g / g_max))`` (a symmetric rank-k update, half a general
        product). The last core of each base is kept, so a family and its log
        version at the same parameter share one product, and so do the bases
        whose cores are the same function of ``S`` (PPR and ModifPPR differ
        only in their outer scalings; so do NHeat and HeatPR).
        """
        key = ("core", _SAME_CORE.get(base, base))
        hit = self._cache.get(key)
        if hit is not None and hit[0] == t:
            return hit[1], hit[2]
        op, g = self._spectral(base, t)
        _, V = self._eig(op)
        if base in self._LOG_SPECTRUM:
            shift = float(g.max())
            h = np.exp(g - shift)
        else:
            shift = math.log(float(g.max()))
            h = g / g.max()
        # terms below eps change no entry by more than eps (sum_k |V_ik V_jk|
        # <= 1), far below the eigen path's n eps: at large t the exponential
        # families keep a few eigenvectors only
        keep = h > _EPS
        W = V * np.sqrt(h) if keep.all() else V[:, keep] * np.sqrt(h[keep])
        C = W @ W.T
        self._cache[key] = (t, C, shift)
        return C, shift

    def _log_sym(self, base, t):
        """``log`` of the symmetric core of ``base`` at ``t``, accurate entrywise."""
        core, shift = self._core(base, t)
        # eigen path error ~ n eps relative to the largest entry (1 here)
        if core.min() > _RESOLVE * self.n_nodes * _EPS:
            out = threaded_ufunc(np.log, core)
        elif self.accuracy == "normwise":
            out = self._log_clamped(core, f"log{base} at t={t:.6g}")
        else:
            # the last accurate result of a core is kept (logPPR and
            # logModifPPR, logNHeat and logHeatPR share it); callers get a copy
            key = ("log_accurate", _SAME_CORE.get(base, base))
            hit = self._cache.get(key)
            if hit is None or hit[0] != t:
                hit = self._cache[key] = (t, self._log_sym_accurate(base, t))
            return hit[1].copy()
        out += shift
        return out

    def _log_clamped(self, core, what):
        """``log max(core, n eps)`` for a core of largest entry 1 (normwise)."""
        res = self.n_nodes * _EPS
        if logger.isEnabledFor(logging.DEBUG):
            n_low = int(np.count_nonzero(core < res))
            if n_low:
                logger.debug(
                    "%s: %d entries below the eigen path's resolution n*eps = "
                    "%.3g of the largest set to it (accuracy='normwise').",
                    what,
                    n_low,
                    res,
                )
        out = threaded_ufunc(np.maximum, core, res)
        return threaded_ufunc(np.log, out, out=out)

    def _log_sym_accurate(self, base, t):
        """Recompute through non-negative matrix products (:mod:`._positive`)."""
        A = self.adjacency
        n = self.n_nodes
        hops = self._hop_diameter()
        if base == "Comm":
            return log_expm_nonneg(
                t * A, max_hops=hops, spectral_radius=t * self.spectral_radius
            )
        if base in ("Heat", "NHeat", "HeatPR"):
            M = (
                -self._laplacian()
                if base == "Heat"
                else self._sym_walk()[0] - np.eye(n)
            )
            c = float(-np.diagonal(M).min())
            B = t * (M + c * np.eye(n))
            np.fill_diagonal(B, np.maximum(np.diagonal(B), 0.0))
            # M's spectrum lies in [-2c, 0] with 0 attained (connected graph),
            # so rho(M + c I) = c
            return log_expm_nonneg(B, max_hops=hops, spectral_radius=t * c) - t * c
        # resolvents: (I - X)^{-1} of a symmetric M-matrix by Cholesky when
        # its a priori entrywise bound 4 n eps kappa is within 1 / _RESOLVE
        # (see log_mmatrix_inverse), else the doubling product
        if base == "For":
            L = self._laplacian()
            c = float(np.diagonal(L).max())
            if _cholesky_ok(n, 1.0 + t * c):
                M = t * L
                M[np.diag_indices(n)] += 1.0
                return log_mmatrix_inverse(M)
            X = t * (c * np.eye(n) - L) / (1.0 + t * c)
            np.fill_diagonal(X, np.maximum(np.diagonal(X), 0.0))
            return log_resolvent_nonneg(X) - math.log1p(t * c)
        if base == "pWalk":
            X, kappa = t * A, 1.0 / (1.0 - t * self.spectral_radius)
        elif base in ("PPR", "ModifPPR"):
            X, kappa = t * self._sym_walk()[0], 1.0 / (1.0 - t)
        else:  # pragma: no cover
            raise KeyError(base)
        if _cholesky_ok(n, kappa):
            M = -X
            M[np.diag_indices(n)] += 1.0
            return log_mmatrix_inverse(M)
        return log_resolvent_nonneg(X)

    def _plain(self, base, t, *, scaled=False):
        """The kernel of ``base`` at ``t`` (divided by ``exp(log_scale)`` when
        ``scaled``, which never overflows)."""
        core, shift = self._core(base, t)
        if scaled:
            K = core.copy()
        else:
            if shift > 700.0:
                raise OverflowError(
                    f"{base} at t={t:.6g} exceeds the float64 range (largest "
                    f"eigenvalue of the exponent {shift:.4g} > 700); use the "
                    f"logarithmic family log{base} (computed in log space) or a "
                    "smaller parameter."
                )
            K = core * math.exp(shift)
        sc = self._outer_scaling(base)
        if sc is not None:
            K *= np.exp(sc[0])[:, None]
            K *= np.exp(sc[1])[None, :]
        return K

    def _log_kernel(self, base, t):
        L = self._log_sym(base, t)
        sc = self._outer_scaling(base)
        if sc is not None:
            L += sc[0][:, None]
            L += sc[1][None, :]
        if not (math.isfinite(L.min()) and math.isfinite(L.max())):
            raise FloatingPointError(
                f"log{base} at t={t:.6g}: some proximities underflow float64 "
                "(nodes too far apart for so small a parameter); use a larger "
                "parameter."
            )
        return L

    # ---- commute time and friends -----------------------------------------
    def _pinv_L(self):
        def compute():
            w, V = self._eig("L")
            tol = w.max() * self.n_nodes * _EPS * 10
            inv = np.where(w > tol, 1.0 / np.where(w > tol, w, 1.0), 0.0)
            return (V * inv) @ V.T

        return self._get("pinvL", compute)

    def _resistance(self):
        """Resistance distance ``L+_ii + L+_jj - 2 L+_ij`` (cached: CT, SP-CT)."""
        return self._get("resistance", lambda: 2.0 * kernel_to_distance(self._pinv_L()))

    def _cct(self):
        def compute():
            S, r = self._sym_walk()
            w, V = self._eig("S")
            # M = S - u u^T with u = d^(1/2) / sqrt(vol), S's top eigenvector
            top = int(np.argmax(w))
            keep = np.ones_like(w, dtype=bool)
            keep[top] = False
            lam = w[keep]
            core = (V[:, keep] * (lam**2 / (1.0 - lam))) @ V[:, keep].T
            K = core / r[:, None] / r[None, :]
            K -= K.mean(axis=0)[None, :]
            K -= K.mean(axis=1)[:, None]
            return K

        return self._get("cct", compute)

    def _hop_diameter(self):
        """Largest hop count of a shortest path (breadth-first, unweighted)."""

        def compute():
            H = shortest_path(self.adjacency != 0, directed=False, unweighted=True)
            finite = H[np.isfinite(H)]
            return int(finite.max()) if finite.size else 1

        return self._get("hops", compute)

    def _sp(self):
        def compute():
            A = self.adjacency.copy()
            np.fill_diagonal(A, 0.0)
            cost = np.zeros_like(A)
            np.divide(1.0, A, out=cost, where=A > 0)
            return shortest_path(cost, directed=False)

        return self._get("sp", compute)

    def _log_walk_resolvent(self, tau):
        """``(log Z_s, Z_s or None)``, ``Z_s = (I - tau S)^{-1}``, for RSP and FE
        (``Z_s`` itself when an inverse computed it, saving RSP an ``exp``).

        Every entry of it matters (FE is ``-log Z / beta``, ~ the hop count at
        large ``beta``), so in both accuracy modes it is never clamped: the
        eigen path when that resolves every entry, else the entrywise-accurate
        path (a Cholesky inverse of the M-matrix ``I - tau S``, see
        :func:`~kernlearn.graph._positive.log_mmatrix_inverse`). The last
        ``tau`` is cached as ``(tau, log Z_s, Z_s or None, eigen path used)``.
        """
        hit = self._cache.get("walk")
        if hit is None or hit[0] != tau:
            n = self.n_nodes
            tol = _RESOLVE * n * _EPS
            resolved, Z = False, None
            # the pair at hop distance h has core entry <= tau^h (|S^k_ij| <=
            # 1): below the tolerance the eigen path cannot resolve it
            if tau ** self._hop_diameter() > tol:
                core, shift = self._core("PPR", tau)
                resolved = bool(core.min() > tol)
            if resolved:
                out = threaded_ufunc(np.log, core)
                out += shift
            elif _cholesky_ok(n, 1.0 / (1.0 - tau)):
                Z = mmatrix_inverse(np.eye(n) - tau * self._sym_walk()[0])
                with np.errstate(divide="ignore"):
                    out = threaded_ufunc(np.log, Z)
            else:
                out = self._log_sym_accurate("PPR", tau)
            # the last tau is kept: RSP and FE at one beta share it
            hit = self._cache["walk"] = (tau, out, Z, resolved)
        return hit[1], hit[2]

    def _rsp_z(self, beta):
        """``W``, ``C`` and ``Z = (I - W)^{-1}``, ``W = P_ref o exp(-beta C)``.

        The last ``beta`` is kept: RSP and FE at one ``beta`` share ``Z``.
        """
        hit = self._cache.get("rsp")
        if hit is not None and hit[0] == beta:
            return hit[1]
        out = self._rsp_z_compute(beta)
        self._cache["rsp"] = (beta, out)
        return out

    def _rsp_z_compute(self, beta):
        A = self.adjacency.copy()
        np.fill_diagonal(A, 0.0)
        d = A.sum(axis=1)
        if np.any(d <= 0):
            self._sym_walk()  # raises the isolated-node error
        C = np.zeros_like(A)
        np.divide(1.0, A, out=C, where=A > 0)
        W = np.where(A > 0, (A / d[:, None]) * np.exp(-beta * C), 0.0)
        Z = np.linalg.inv(np.eye(self.n_nodes) - W)
        if Z.min() > _RESOLVE * self.n_nodes * _EPS * Z.max():
            return W, C, Z
        if self.accuracy == "normwise":
            return W, C, np.maximum(Z, self.n_nodes * _EPS * Z.max())
        logZ = log_resolvent_nonneg(W)
        if not np.all(np.isfinite(logZ)):
            raise FloatingPointError(
                f"RSP/FE at beta={beta:.6g}: the walk weights underflow float64; "
                "use a smaller beta (a larger normalised parameter)."
            )
        return W, C, np.exp(logZ)

    # ---- public --------------------------------------------------------------
    def kernel(self, family, param=None, *, natural=False):
        """Proximity matrix of a kernel family at one parameter value.

        Parameters
        ----------
        family : str
            A kernel family of :data:`FAMILIES` (for distance families use
            :meth:`distance` or :meth:`clustering_kernel`).
        param : float or None
            Normalised parameter ``a`` in ``(0, 1)`` (the natural one when
            ``natural=True``); ``None`` for CT.
        natural : bool, default=False
            Read ``param`` as the natural parameter ``t`` (or ``beta``).

        Returns
        -------
        K : ndarray of shape (n_nodes, n_nodes)
            For the logarithmic families, the entrywise log of the base kernel
            (computed in log space).
        """
        fam = _family(family)
        if fam.kind != "kernel":
            raise ValueError(
                f"{family!r} is a distance family; use distance() or "
                "clustering_kernel()."
            )
        if fam.connected:
            self._check_connected(family)
        t = self._natural(family, param, natural)
        if fam.base is not None:
            return self._log_kernel(fam.base, t)
        if family == "CT":
            return self._pinv_L().copy()
        if family in ("SCT", "SCCT"):
            K = self._pinv_L() if family == "SCT" else self._cct()
            sd = self._get(("std", family), lambda: max(K.std(), np.finfo(float).tiny))
            return _sigmoid(K, t / sd)
        return self._plain(family, t)

    def distance(self, family, param=None, *, natural=False):
        """Distance matrix of a family at one parameter value.

        Kernel families give ``(K_ii + K_jj - K_ij - K_ji) / 2``
        (:func:`kernel_to_distance`); CT gives the resistance distance (commute
        time over the volume ``sum A``); SP, SP-CT, RSP and FE are distances
        by definition.

        Parameters
        ----------
        family, param, natural
            As in :meth:`kernel`.

        Returns
        -------
        D : ndarray of shape (n_nodes, n_nodes)
        """
        fam = _family(family)
        if fam.kind == "kernel":
            if family == "CT":
                self._check_connected(family)
                return self._resistance().copy()
            return kernel_to_distance(self.kernel(family, param, natural=natural))
        self._check_connected(family)
        t = self._natural(family, param, natural)
        if family == "SP":
            return self._sp().copy()
        if family == "SP-CT":
            return (1.0 - t) * self._resistance() + t * self._sp()
        D = self._rsp_fe(family, t)
        np.fill_diagonal(D, 0.0)
        return D

    def _uniform_weight(self):
        """The common edge weight when all edges weigh the same and there are
        no self-loops (RSP and FE are then spectral), else ``None``."""

        def compute():
            A = self.adjacency
            if np.any(np.diagonal(A) != 0):
                return None
            w = A[A > 0]
            return float(w[0]) if w.size and np.all(w == w[0]) else None

        return self._get("uniform", compute)

    def _rsp_fe(self, family, beta):
        """RSP or FE distance at ``beta`` (diagonal left to the caller).

        With one edge weight ``w`` (cost ``1/w``) the walk weights are
        ``W = tau P``, ``tau = exp(-beta / w)``, so ``Z = (I - W)^{-1}`` is the
        PPR kernel at ``tau``: ``D^{-1/2} Z_s D^{1/2}`` with ``Z_s`` the
        symmetric core, from the eigendecomposition of ``S`` shared with the
        other random-walk families. The degree factors cancel in both
        distances: FE is ``kernel_to_distance(log Z_s) / beta``, and RSP's
        expected cost ``(Z (C o W) Z)_ij / Z_ij`` is ``(tau / w) (Z_s S
        Z_s)_ij / (Z_s)_ij``. Other graphs invert ``I - W`` at each ``beta``.
        """
        w = self._uniform_weight()
        if w is None:
            W, C, Z = self._rsp_z(beta)
            if family == "FE":
                with np.errstate(divide="ignore"):
                    Phi = -np.log(Z / np.diagonal(Z)[None, :]) / beta
                return 0.5 * (Phi + Phi.T)
            S = (Z @ (C * W) @ Z) / Z
            Cbar = S - np.diagonal(S)[None, :]
            return 0.5 * (Cbar + Cbar.T)
        tau = math.exp(-beta / w)
        logZ, Z = self._log_walk_resolvent(tau)
        if not np.all(np.isfinite(logZ)):
            raise FloatingPointError(
                f"RSP/FE at beta={beta:.6g}: the walk weights underflow float64; "
                "use a smaller beta (a larger normalised parameter)."
            )
        if family == "FE":
            D = kernel_to_distance(logZ)
            D /= beta
            return D
        if Z is None:
            # largest entry <= 1 / (1 - tau): no overflow
            Z = threaded_ufunc(np.exp, logZ)
        # Z_s S Z_s = (Z_s^2 - Z_s) / tau (as S = (I - Z_s^-1) / tau), so
        # off the diagonal R = ((Z_s^2)_ij / (Z_s)_ij - 1) / w: one symmetric
        # product, and the subtraction loses at most a factor 2 (both are sums
        # over walks of length >= 1, weighted k + 1 and k). The diagonal, where
        # it would cancel, is sum_k (Z_s)_ik (S Z_s)_ik exactly.
        S = self._get("S_csr", lambda: sparse.csr_array(self._sym_walk()[0]))
        diag = np.einsum("ij,ij->i", Z, S @ Z) * (tau / w) / np.diagonal(Z)
        R = Z @ Z.T
        R /= Z
        R -= 1.0
        R /= w
        np.fill_diagonal(R, diag)
        if not np.all(np.isfinite(R)):
            raise FloatingPointError(
                f"RSP at beta={beta:.6g}: some walk weights underflow float64; "
                "use a smaller beta (a larger normalised parameter)."
            )
        R -= np.diagonal(R)[None, :].copy()
        R += R.T.copy()
        R *= 0.5
        return R

    def clustering_kernel(self, family, param=None, *, natural=False):
        """The similarity matrix that kernel clustering runs on.

        Kernel families give their kernel symmetrised (``(K + K^T)/2``: PPR and
        HeatPR are not symmetric), scaled so its largest entry is 1 for the plain
        exponential families (kernel k-means is invariant to a positive factor),
        and, for the logarithmic families, shifted by a constant (also
        invariant). Distance families give ``-1/2 H D H``.

        Parameters
        ----------
        family, param, natural
            As in :meth:`kernel`.

        Returns
        -------
        K : ndarray of shape (n_nodes, n_nodes)
        """
        fam = _family(family)
        if fam.kind == "distance":
            return distance_to_kernel(self.distance(family, param, natural=natural))
        if fam.name in self._LOG_SPECTRUM:
            t = self._natural(family, param, natural)
            K = self._plain(family, t, scaled=True)
        else:
            K = self.kernel(family, param, natural=natural)
            if fam.base is not None:
                K = K - K.max()
        return 0.5 * (K + K.T)


def node_kernel(graph, family, param=None, *, natural=False):
    """Proximity matrix of one node-kernel family (one-off; see NodeKernels).

    Parameters
    ----------
    graph : array-like, sparse matrix or networkx.Graph
        Symmetric non-negative adjacency matrix.
    family : str
        One of the kernel families of :data:`FAMILIES`.
    param : float or None
        Normalised parameter in ``(0, 1)``, or the natural one with
        ``natural=True``.
    natural : bool, default=False

    Returns
    -------
    K : ndarray of shape (n_nodes, n_nodes)

    Examples
    --------
    >>> import numpy as np
    >>> from kernlearn.graph import node_kernel
    >>> A = np.array([[0.0, 1.0], [1.0, 0.0]])
    >>> node_kernel(A, "For", 1.0, natural=True)  # (I + L)^-1
    array([[0.66666667, 0.33333333],
           [0.33333333, 0.66666667]])
    """
    return NodeKernels(graph).kernel(family, param, natural=natural)


def node_distance(graph, family, param=None, *, natural=False):
    """Distance matrix of one family (one-off; see :class:`NodeKernels`).

    Parameters
    ----------
    graph : array-like, sparse matrix or networkx.Graph
    family : str
        One of :data:`FAMILIES`.
    param : float or None
    natural : bool, default=False

    Returns
    -------
    D : ndarray of shape (n_nodes, n_nodes)

    Examples
    --------
    >>> import numpy as np
    >>> from kernlearn.graph import node_distance
    >>> P3 = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    >>> node_distance(P3, "SP")
    array([[0., 1., 2.],
           [1., 0., 1.],
           [2., 1., 0.]])
    """
    return NodeKernels(graph).distance(family, param, natural=natural)
