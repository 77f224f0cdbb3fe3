"""Node kernel families against hand-checkable values, networkx, scipy and mpmath.

References: Chebotarev's path-graph figures (resistance and logarithmic forest
distances on P4), cutpoint additivity of the logarithmic distances (a closed-form
property that the plain ones violate), networkx's resistance distance and
communicability, dense scipy formulas (expm, inv, pinv) for every family, and
mpmath at 60 digits for the log-space paths (tiny and overflowing entries).
"""

import math

import mpmath
import networkx as nx
import numpy as np
import pytest
from scipy.linalg import expm, inv, pinv
from scipy.sparse.csgraph import shortest_path

from kernlearn.graph import (
    FAMILIES,
    LOG_FAMILIES,
    NodeKernels,
    distance_to_kernel,
    kernel_to_distance,
    log_transform,
    node_distance,
    node_kernel,
)
from kernlearn.graph._positive import log_expm_nonneg, log_resolvent_nonneg


def path(n):
    A = np.diag(np.ones(n - 1), 1)
    return A + A.T


def triangle_with_tail():
    """Nodes 0, 1, 2 form a triangle; 3 hangs off 2 (a cutpoint)."""
    A = np.zeros((4, 4))
    for i, j in [(0, 1), (1, 2), (0, 2), (2, 3)]:
        A[i, j] = A[j, i] = 1.0
    return A


def small_graph(seed=0, n=12, weighted=True):
    G = nx.connected_watts_strogatz_graph(n, 4, 0.3, seed=seed)
    rng = np.random.default_rng(seed)
    A = nx.to_numpy_array(G)
    if weighted:
        W = rng.uniform(0.5, 2.0, size=A.shape)
        A = A * np.triu(W, 1)
        A = A + A.T
    return A


def direct(A, family, t):
    """Dense textbook formula of each family at natural parameter t."""
    n = A.shape[0]
    I = np.eye(n)
    d = A.sum(axis=1)
    D = np.diag(d)
    L = D - A
    P = A / d[:, None]
    Ln = I - A / np.sqrt(np.outer(d, d))
    plain = {
        "pWalk": lambda: inv(I - t * A),
        "For": lambda: inv(I + t * L),
        "Comm": lambda: expm(t * A),
        "Heat": lambda: expm(-t * L),
        "NHeat": lambda: expm(-t * Ln),
        "PPR": lambda: inv(I - t * P),
        "ModifPPR": lambda: inv(D - t * A),
        "HeatPR": lambda: expm(-t * (I - P)),
    }
    logs = {
        "Walk": "pWalk",
        "logFor": "For",
        "logComm": "Comm",
        "logHeat": "Heat",
        "logNHeat": "NHeat",
        "logPPR": "PPR",
        "logModifPPR": "ModifPPR",
        "logHeatPR": "HeatPR",
    }
    if family in plain:
        return plain[family]()
    if family in logs:
        return np.log(plain[logs[family]]())
    if family == "CT":
        return pinv(L)
    if family == "SCT":
        K = pinv(L)
        return 1.0 / (1.0 + np.exp(-t * K / K.std()))
    if family == "SCCT":
        # von Luxburg, Radl & Hein (2010), as written there
        H = I - np.ones((n, n)) / n
        Dm = np.diag(d**-0.5)
        M = Dm @ (A - np.outer(d, d) / d.sum()) @ Dm
        K = H @ Dm @ M @ pinv(I - M) @ M @ Dm @ H
        return 1.0 / (1.0 + np.exp(-t * K / K.std()))
    raise KeyError(family)


def direct_distance(A, family, t):
    n = A.shape[0]
    cost = np.where(A > 0, 1.0 / np.where(A > 0, A, 1.0), 0.0)
    if family == "SP":
        return shortest_path(cost, directed=False)
    if family == "SP-CT":
        R = resistance(A)
        return (1 - t) * R + t * shortest_path(cost, directed=False)
    if family in ("RSP", "FE"):
        P = A / A.sum(axis=1)[:, None]
        C = np.where(A > 0, cost, np.inf)
        W = P * np.exp(-t * C)
        Z = inv(np.eye(n) - W)
        if family == "FE":
            Phi = -np.log(Z @ np.diag(1 / np.diag(Z))) / t
            Dd = (Phi + Phi.T) / 2
        else:
            S = (Z @ (np.where(A > 0, cost, 0.0) * W) @ Z) / Z
            Cb = S - np.ones((n, 1)) @ np.diag(S)[None, :]
            Dd = (Cb + Cb.T) / 2
        np.fill_diagonal(Dd, 0)
        return Dd
    if family == "CT":
        return resistance(A)
    K = direct(A, family, t)
    h = np.diag(K)
    return (h[:, None] + h[None, :] - K - K.T) / 2


def resistance(A):
    G = nx.from_numpy_array(A)
    n = A.shape[0]
    R = np.zeros((n, n))
    for i in range(n):
        for j in range(i + 1, n):
            R[i, j] = R[j, i] = nx.resistance_distance(
                G, i, j, weight="weight", invert_weight=False
            )
    return R


# ------------------------------------------------------- hand-checkable graphs
def test_resistance_distances_on_p4():
    D = NodeKernels(path(4)).distance("CT")
    np.testing.assert_allclose(D[0], [0, 1, 2, 3], atol=1e-12)
    np.testing.assert_allclose(D[1], [1, 0, 1, 2], atol=1e-12)


def test_log_forest_distances_on_p4_match_chebotarev():
    """t = 2, normalised so that d12 + d23 + d34 = 3 (Chebotarev 2011)."""
    D = NodeKernels(path(4)).distance("logFor", 2.0, natural=True)
    D = D * 3 / (D[0, 1] + D[1, 2] + D[2, 3])
    np.testing.assert_allclose(
        [D[0, 1], D[1, 2], D[0, 2], D[0, 3]], [0.959, 1.081, 2.040, 3.000], atol=1e-3
    )  # the published figures are cut to three decimals (d13 = 2.0406)
    # the central edge is longer, the peripheral ones shorter, than in SP
    assert D[1, 2] > 1 > D[0, 1]


@pytest.mark.parametrize("family", ["logFor", "Walk"])
def test_logarithmic_distances_are_cutpoint_additive(family):
    """On the triangle with a tail, node 2 is a cutpoint between 0 and 3.

    Walk and logarithmic forest distances are graph-geodetic (Chebotarev 2011,
    2012); logComm and logHeat are not in general, so they are not listed.
    """
    D = NodeKernels(triangle_with_tail()).distance(family, 0.4)
    assert D[0, 3] == pytest.approx(D[0, 2] + D[2, 3], rel=1e-10)
    assert D[1, 3] == pytest.approx(D[1, 2] + D[2, 3], rel=1e-10)
    assert D[0, 1] < D[0, 2] + D[2, 1]  # 2 is not a cutpoint between 0 and 1


@pytest.mark.parametrize("family", ["For", "pWalk", "Comm", "Heat"])
def test_plain_distances_are_not_cutpoint_additive(family):
    """The same identity fails for plain kernels: the test above can fail."""
    D = NodeKernels(triangle_with_tail()).distance(family, 0.4)
    assert abs(D[0, 3] - (D[0, 2] + D[2, 3])) > 1e-3


def test_walk_and_forest_distances_tend_to_shortest_path():
    """t -> 0 (normalised): the logarithmic distances become SP up to scale."""
    A = triangle_with_tail()
    nk = NodeKernels(A)
    sp = nk.distance("SP")
    for family in ("logFor", "Walk"):
        D = nk.distance(family, 1e-6)
        np.testing.assert_allclose(D / D[0, 1], sp, rtol=1e-4)


# ------------------------------------------------------- networkx and scipy
def test_ct_matches_networkx_resistance_distance():
    A = small_graph(1)
    np.testing.assert_allclose(NodeKernels(A).distance("CT"), resistance(A), atol=1e-10)


def test_comm_matches_networkx_communicability_exp():
    """networkx's communicability is expm(A) of the unweighted graph (t = 1)."""
    G = nx.karate_club_graph()
    A = nx.to_numpy_array(G, weight=None)
    K = NodeKernels(A).kernel("Comm", 1.0, natural=True)
    ref = nx.communicability_exp(G)
    R = np.array([[ref[i][j] for j in range(34)] for i in range(34)])
    np.testing.assert_allclose(K, R, rtol=1e-10)


KERNEL_FAMILIES = [f for f in FAMILIES if f not in ("SP", "SP-CT", "RSP", "FE")]


@pytest.mark.parametrize("family", KERNEL_FAMILIES)
@pytest.mark.parametrize("a", [0.1, 0.5, 0.9])
def test_every_kernel_family_matches_the_dense_formula(family, a):
    A = small_graph(2)
    nk = NodeKernels(A)
    if family == "CT":
        if a != 0.5:
            pytest.skip("CT has no parameter")
        K, t = nk.kernel("CT"), None
    else:
        K = nk.kernel(family, a)
        t = nk.natural_parameter(family, a)
    ref = direct(A, family, t)
    np.testing.assert_allclose(K, ref, rtol=1e-9, atol=1e-12 * np.abs(ref).max())


@pytest.mark.parametrize("family", FAMILIES)
def test_every_distance_matches_the_dense_formula(family):
    A = small_graph(3)
    nk = NodeKernels(A)
    a = None if family in ("CT", "SP") else 0.6
    t = None if a is None else nk.natural_parameter(family, a)
    ref = direct_distance(A, family, t)
    np.testing.assert_allclose(
        nk.distance(family, a), ref, rtol=1e-8, atol=1e-10 * np.abs(ref).max()
    )


@pytest.mark.parametrize("family", [f for f in FAMILIES if f not in ("CT", "SP")])
def test_eigen_reuse_over_a_grid_equals_the_direct_formula(family):
    """One NodeKernels object, a whole grid: each value as the direct formula."""
    A = small_graph(4, n=15)
    nk = NodeKernels(A)
    for a in np.linspace(0.05, 0.95, 7):
        t = nk.natural_parameter(family, a)
        got = nk.distance(family, a)
        ref = direct_distance(A, family, t)
        # logComm at large t: distances -> 0 from log values ~ t rho, so the
        # rounding floor is absolute (~1e-13 here)
        atol = max(1e-9 * np.abs(ref).max(), 1e-12)
        np.testing.assert_allclose(got, ref, rtol=1e-7, atol=atol)
    assert (
        ("eig", "A") in nk._cache
        or ("eig", "L") in nk._cache
        or family
        in (
            "SP-CT",
            "RSP",
            "FE",
        )
        or ("eig", "S") in nk._cache
    )


def test_one_decomposition_serves_every_value(monkeypatch):
    calls = []
    real = np.linalg.eigh

    def counting(M):
        calls.append(M.shape)
        return real(M)

    monkeypatch.setattr(np.linalg, "eigh", counting)
    nk = NodeKernels(small_graph(5))
    for a in np.linspace(0.1, 0.9, 9):
        nk.kernel("logComm", a)
        nk.kernel("Comm", a)
        nk.kernel("pWalk", a)
    assert len(calls) == 1  # A only


# ------------------------------------------------------- log-space accuracy
def _mp_log_expm(M, dps=60):
    with mpmath.workdps(dps):
        E = mpmath.expm(mpmath.matrix(M.tolist()))
        return np.array(
            [
                [float(mpmath.log(E[i, j])) for j in range(M.shape[1])]
                for i in range(M.shape[0])
            ]
        )


def test_log_heat_keeps_tiny_entries_accurate():
    """P12 at t = 0.01: entries down to ~1e-40, far below eps of the diagonal."""
    A = path(12)
    L = np.diag(A.sum(1)) - A
    nk = NodeKernels(A)
    got = nk.kernel("logHeat", 0.01, natural=True)
    ref = _mp_log_expm(-0.01 * L)
    assert ref.min() < -60  # really below float64 eps relative to 1
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12)


def test_log_comm_at_large_t_does_not_overflow():
    A = small_graph(6, weighted=False)
    t = 400.0  # t * lambda_max ~ 1600 >> 709
    got = NodeKernels(A).kernel("logComm", t, natural=True)
    ref = _mp_log_expm(t * A, dps=80)
    assert ref.max() > 1000
    np.testing.assert_allclose(got, ref, rtol=1e-12)
    with pytest.raises(OverflowError, match="logComm"):
        NodeKernels(A).kernel("Comm", t, natural=True)


def test_log_forest_small_t_matches_mpmath():
    A = path(10)
    L = np.diag(A.sum(1)) - A
    t = 1e-3
    got = NodeKernels(A).kernel("logFor", t, natural=True)
    with mpmath.workdps(60):
        Kinv = (mpmath.eye(10) + t * mpmath.matrix(L.tolist())) ** -1
        ref = np.array(
            [[float(mpmath.log(Kinv[i, j])) for j in range(10)] for i in range(10)]
        )
    assert ref.min() < -60
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12)


def test_positive_routines_against_dense_formulas():
    rng = np.random.default_rng(7)
    B = rng.uniform(0, 1, size=(8, 8))
    np.testing.assert_allclose(log_expm_nonneg(B), np.log(expm(B)), rtol=1e-12)
    X = B / (1.2 * np.abs(np.linalg.eigvals(B)).max())
    np.testing.assert_allclose(
        log_resolvent_nonneg(X), np.log(inv(np.eye(8) - X)), rtol=1e-10
    )


def test_fe_and_rsp_at_large_beta_tend_to_shortest_path():
    """beta -> inf: RSP and FE become the (weighted) shortest-path distance."""
    A = small_graph(8)
    nk = NodeKernels(A)
    sp = nk.distance("SP")
    for fam in ("RSP", "FE"):
        D = nk.distance(fam, 200.0, natural=True)
        assert np.all(np.isfinite(D))
        np.testing.assert_allclose(D, sp, rtol=0.05)


# ------------------------------------------------------- transforms
def test_transforms_against_numpy():
    rng = np.random.default_rng(9)
    X = rng.normal(size=(6, 3))
    K = X @ X.T
    D = kernel_to_distance(K)
    ref = 0.5 * ((X[:, None, :] - X[None, :, :]) ** 2).sum(-1)
    np.testing.assert_allclose(D, ref, atol=1e-12)
    Xc = X - X.mean(0)
    np.testing.assert_allclose(distance_to_kernel(2 * D), Xc @ Xc.T, atol=1e-12)
    np.testing.assert_allclose(log_transform(np.exp(K)), K, atol=1e-12)


def test_one_off_helpers_equal_the_cache():
    A = small_graph(10)
    np.testing.assert_array_equal(
        node_kernel(A, "logComm", 0.3), NodeKernels(A).kernel("logComm", 0.3)
    )
    np.testing.assert_array_equal(
        node_distance(A, "FE", 0.3), NodeKernels(A).distance("FE", 0.3)
    )


def test_clustering_kernel_is_the_kernel_up_to_scale_and_shift():
    A = small_graph(11)
    nk = NodeKernels(A)
    K = nk.kernel("Comm", 0.7)
    C = nk.clustering_kernel("Comm", 0.7)
    np.testing.assert_allclose(C / C.max(), K / K.max(), rtol=1e-10)
    L = nk.kernel("logComm", 0.7)
    np.testing.assert_allclose(
        nk.clustering_kernel("logComm", 0.7) - (L - L.max()), 0, atol=1e-12
    )
    P = nk.kernel("PPR", 0.7)
    np.testing.assert_allclose(
        nk.clustering_kernel("PPR", 0.7), (P + P.T) / 2, rtol=1e-12
    )
    np.testing.assert_allclose(
        nk.clustering_kernel("FE", 0.7), distance_to_kernel(nk.distance("FE", 0.7))
    )
    # Comm at a parameter where the kernel itself overflows still clusters
    assert np.all(np.isfinite(nk.clustering_kernel("Comm", 500.0, natural=True)))


# ------------------------------------------------------- input handling
def test_disconnected_graphs():
    A = np.zeros((6, 6))
    A[:3, :3] = path(3)
    A[3:, 3:] = path(3)
    nk = NodeKernels(A)
    K = nk.kernel("For", 0.5)  # plain: block diagonal, fine
    assert np.all(K[:3, 3:] == 0) or np.abs(K[:3, 3:]).max() < 1e-14
    for fam in LOG_FAMILIES + ("CT", "SP", "RSP", "FE", "SP-CT", "SCT"):
        with pytest.raises(ValueError, match="connected components"):
            nk.distance(fam, None if fam in ("CT", "SP") else 0.5)


def test_self_loops_count_in_A_and_cancel_in_L():
    A = small_graph(12)
    B = A.copy()
    np.fill_diagonal(B, 1.0)
    np.testing.assert_allclose(
        NodeKernels(B).kernel("For", 0.5), NodeKernels(A).kernel("For", 0.5)
    )
    assert not np.allclose(
        NodeKernels(B).kernel("Comm", 0.5), NodeKernels(A).kernel("Comm", 0.5)
    )
    np.testing.assert_allclose(
        NodeKernels(B, self_loops="remove").kernel("Comm", 0.5),
        NodeKernels(A).kernel("Comm", 0.5),
    )
    with pytest.raises(ValueError, match="self-loops"):
        NodeKernels(B, self_loops="error")


def test_networkx_and_sparse_inputs():
    from scipy import sparse

    G = nx.karate_club_graph()
    A = nx.to_numpy_array(G)
    K = NodeKernels(A).kernel("logFor", 0.5)
    np.testing.assert_allclose(NodeKernels(G).kernel("logFor", 0.5), K)
    np.testing.assert_allclose(
        NodeKernels(sparse.csr_matrix(A)).kernel("logFor", 0.5), K
    )
    with pytest.raises(ValueError, match="directed"):
        NodeKernels(nx.DiGraph(G))


@pytest.mark.parametrize(
    "graph, match",
    [
        (np.ones((2, 3)), "square"),
        (np.array([[0, -1.0], [-1.0, 0]]), "negative"),
        (np.array([[0, np.nan], [np.nan, 0]]), "NaN"),
        (np.array([[0, 1.0], [2.0, 0]]), "not symmetric"),
        (np.zeros((3, 3)), "no edges"),
        (np.zeros((1, 1)), "at least 2 nodes"),
        ("abc", "square adjacency"),
    ],
)
def test_bad_graphs_are_refused(graph, match):
    with pytest.raises((ValueError, TypeError), match=match):
        NodeKernels(graph)


def test_bad_parameters_are_refused():
    nk = NodeKernels(small_graph(13))
    with pytest.raises(ValueError, match="family must be one of"):
        nk.kernel("Katz", 0.5)
    with pytest.raises(ValueError, match=r"must lie in \(0, 1\)"):
        nk.kernel("logComm", 1.0)
    with pytest.raises(ValueError, match=r"must lie in \(0, 1\)"):
        nk.kernel("For", -0.2)
    with pytest.raises(ValueError, match="1/rho"):
        nk.kernel("pWalk", 2.0 / nk.spectral_radius, natural=True)
    with pytest.raises(ValueError, match="takes no parameter"):
        nk.kernel("CT", 0.5)
    with pytest.raises(ValueError, match="needs a parameter"):
        nk.kernel("Heat")
    with pytest.raises(ValueError, match="distance family"):
        nk.kernel("RSP", 0.5)
    with pytest.raises(ValueError, match="isolated nodes"):
        A = small_graph(13)
        B = np.zeros((13, 13))
        B[:12, :12] = A
        NodeKernels(B).kernel("PPR", 0.5)
    with pytest.raises(ValueError, match="strictly positive"):
        log_transform(np.array([[1.0, 0.0], [0.0, 1.0]]))
    assert math.isclose(nk.natural_parameter("RSP", 0.25), 3.0)


# ------------------------------------------------------- spectral RSP / FE
@pytest.mark.parametrize("w", [1.0, 2.5])
@pytest.mark.parametrize("family", ["RSP", "FE"])
def test_rsp_fe_on_one_edge_weight_are_spectral_and_match_dense(family, w):
    """One edge weight: W = exp(-beta/w) P, Z is the PPR kernel (no inverse)."""
    A = small_graph(13, n=14, weighted=False) * w
    # normwise resolves entries down to n eps of the largest only: at a = 0.1
    # (tau = e^-9) the far entries of Z are below it (see the next test)
    for accuracy, grid in (("entrywise", (0.1, 0.4, 0.8)), ("normwise", (0.4, 0.8))):
        nk = NodeKernels(A, accuracy=accuracy)
        for a in grid:
            t = nk.natural_parameter(family, a)
            ref = direct_distance(A, family, t)
            got = nk.distance(family, a)
            np.testing.assert_allclose(
                got, ref, rtol=1e-8, atol=1e-10 * np.abs(ref).max()
            )
        assert "rsp" not in nk._cache and ("eig", "S") in nk._cache


def test_rsp_fe_with_self_loops_take_the_general_path():
    """Self-loops are not walked by RSP (the reference walk drops them)."""
    A = small_graph(14, weighted=False)
    B = A.copy()
    np.fill_diagonal(B, 1.0)
    nk = NodeKernels(B)
    for fam in ("RSP", "FE"):
        np.testing.assert_allclose(
            nk.distance(fam, 0.5), direct_distance(A, fam, 1.0), rtol=1e-9
        )
    assert "rsp" in nk._cache


@pytest.mark.parametrize("accuracy", ["entrywise", "normwise"])
def test_fe_keeps_far_pairs_in_both_modes(accuracy):
    """Path P30, beta = 12: Z's far entries ~ tau^d reach e^-350, far below
    n eps of the largest. FE is -log Z / beta, so neither mode clamps it: the
    M-matrix inverse resolves them (mpmath at 90 digits)."""
    n, beta = 30, 12.0
    A = path(n)
    nk = NodeKernels(A, accuracy=accuracy)
    got = nk.distance("FE", beta, natural=True)
    assert not nk._cache["walk"][3]  # the eigen path could not have done it
    with mpmath.workdps(90):
        P = mpmath.matrix((A / A.sum(1)[:, None]).tolist())
        Z = (mpmath.eye(n) - mpmath.exp(-beta) * P) ** -1
        Phi = [[-mpmath.log(Z[i, j] / Z[j, j]) / beta for j in range(n)]
               for i in range(n)]  # fmt: skip
        ref = np.array([[float((Phi[i][j] + Phi[j][i]) / 2) for j in range(n)]
                        for i in range(n)])  # fmt: skip
    assert float(mpmath.log(Z[0, n - 1])) < -300
    np.testing.assert_allclose(got, ref, rtol=1e-11, atol=1e-12)


def broom(n_leaves=25, n_path=40):
    """A star (hub 0) with a path hanging off it: hub degree >> 1 / t, so
    I - tA is not diagonally dominant, and path ends are far apart."""
    n = 1 + n_leaves + n_path
    A = np.zeros((n, n))
    for leaf in range(1, n_leaves + 1):
        A[0, leaf] = A[leaf, 0] = 1.0
    prev = 0
    for v in range(n_leaves + 1, n):
        A[prev, v] = A[v, prev] = 1.0
        prev = v
    return A


def _mp_log_inverse(M, dps=40):
    with mpmath.workdps(dps):
        inv = mpmath.matrix(M.tolist()) ** -1
        return np.array(
            [[float(mpmath.log(inv[i, j])) for j in range(M.shape[0])]
             for i in range(M.shape[0])]
        )  # fmt: skip


@pytest.mark.parametrize(
    ("family", "a"),
    [("Walk", 0.3), ("Walk", 0.9), ("logFor", 0.02), ("logFor", 0.3),
     ("logPPR", 0.2), ("logModifPPR", 0.6)],
)  # fmt: skip
def test_resolvent_logs_by_cholesky_match_mpmath(family, a, monkeypatch):
    """The M-matrix Cholesky route (not the doubling) to 1e-12 on every entry."""
    import kernlearn.graph._kernels as mod

    calls = []
    real = mod.log_mmatrix_inverse
    monkeypatch.setattr(
        mod, "log_mmatrix_inverse", lambda M: calls.append(1) or real(M)
    )
    A = broom()
    n = A.shape[0]
    nk = NodeKernels(A)
    t = nk.natural_parameter(family, a)
    got = nk.kernel(family, a)
    d = A.sum(1)
    if family == "Walk":
        M = np.eye(n) - t * A
    elif family == "logFor":
        M = np.eye(n) + t * (np.diag(d) - A)
    elif family == "logPPR":
        M = np.eye(n) - t * A / d[:, None]
    else:
        M = np.diag(d) - t * A
    ref = _mp_log_inverse(M)
    assert ref.max() - ref.min() > 30  # entries far below eps of the largest
    assert calls  # the eigen path could not resolve them
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12)


def test_mmatrix_inverse_refuses_a_non_m_matrix():
    from kernlearn.graph._positive import log_mmatrix_inverse

    with pytest.raises(FloatingPointError, match="not a positive definite"):
        log_mmatrix_inverse(np.eye(3) - 2.0 * path(3))


# ------------------------------------------------------- accuracy modes
def test_accuracy_must_be_known():
    with pytest.raises(ValueError, match="accuracy must be one of"):
        NodeKernels(path(4), accuracy="exact")


def test_normwise_clamps_below_the_resolution_and_says_so(caplog):
    """logHeat on P12 at t = 0.01 (entries to e^-68): the normwise contract."""
    A = path(12)
    L = np.diag(A.sum(1)) - A
    ref = _mp_log_expm(-0.01 * L)
    with caplog.at_level("DEBUG", logger="kernlearn"):
        got = NodeKernels(A, accuracy="normwise").kernel("logHeat", 0.01, natural=True)
    assert np.all(np.isfinite(got))
    # the resolution is relative to ||K||_2 = 1 (Heat's largest eigenvalue)
    floor = math.log(12 * np.finfo(float).eps)
    resolved = ref > floor + 1.0
    # resolved entries: ~ n eps of the largest, relative to each entry
    err = np.abs(got - ref)[resolved]
    assert err.max() < 1e-3 and np.median(err) < 1e-10
    # the rest sit at the floor (ref.max() is the diagonal, exp(-0.01 * 1))
    np.testing.assert_allclose(got[ref < floor - 1.0], floor, atol=1e-6)
    assert "entries below the eigen path's resolution" in caplog.text


@pytest.mark.parametrize("family", LOG_FAMILIES)
def test_normwise_equals_entrywise_where_nothing_is_below_resolution(family):
    """At a = 0.7 on a small dense-ish graph every entry is resolved."""
    A = small_graph(15, n=10)
    a = 0.7
    np.testing.assert_array_equal(
        NodeKernels(A, accuracy="normwise").kernel(family, a),
        NodeKernels(A).kernel(family, a),
    )


def test_exponential_core_truncation_is_below_eps():
    """At large t only a few eigenvectors survive; the result is unchanged."""
    A = small_graph(16, n=30)
    nk = NodeKernels(A)
    t = 40.0
    K = nk.kernel("Heat", t, natural=True)
    L = np.diag(A.sum(1)) - A
    np.testing.assert_allclose(K, expm(-t * L), atol=1e-13)
    w = nk._eig("L")[0]
    assert np.count_nonzero(np.exp(-t * (w - w.min())) > np.finfo(float).eps) < 30


def test_bases_with_one_core_share_its_product(monkeypatch):
    """PPR/ModifPPR and NHeat/HeatPR at one parameter: one product each pair."""
    nk = NodeKernels(small_graph(17))
    nk._eig("S")
    calls = []
    real = nk._spectral
    monkeypatch.setattr(nk, "_spectral", lambda b, t: calls.append(b) or real(b, t))
    for fam in ("PPR", "ModifPPR", "logPPR", "logModifPPR"):
        nk.kernel(fam, 0.4)
    for fam in ("NHeat", "HeatPR", "logNHeat", "logHeatPR"):
        nk.kernel(fam, 0.4)
    assert calls == ["PPR", "NHeat"]
