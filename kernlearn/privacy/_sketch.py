"""Linear sketches for private kernel sums: random features and the fast Gauss grid.

Both mechanisms summarise the private data ``X`` by a vector of *sums over records*
of bounded per-record features, so one record moves the statistics by a bounded
amount whatever the data, and a query ``y`` is a fixed linear functional of the
statistics:

* :class:`RandomFeatureSketch` - random Fourier features (Rahimi and Recht, 2007),
  privatised as the LSQ-RFF sketch of Wagner, Naamad and Mishra (ICML 2023), with
  quasi-Monte Carlo and orthogonal frequencies and a cos/sin pair variant;
* :class:`FastGaussSketch` - the LSQ-FGT sketch of Wagner et al.: the Hermite
  moments of the fast Gauss transform (Greengard and Strain, 1991) on a grid of
  unit cells, with noise weights that minimise the query noise;
* :class:`JLProjection` - a data-independent Johnson-Lindenstrauss map applied
  before any of the mechanisms (Backurs, Lin, Mahabadi, Silwal and Tarnawski,
  ICLR 2024, arXiv:2403.08917), which costs no privacy.

The statistics are exact; the noise is added elsewhere
(:mod:`kernlearn.privacy._noise`) from the weights and sensitivities declared here.

References
----------
.. [1] A. Rahimi and B. Recht, "Random features for large-scale kernel machines",
   NeurIPS 2007.
.. [2] T. Wagner, Y. Naamad and N. Mishra, "Fast private kernel density estimation
   via locality sensitive quantization", ICML 2023.
.. [3] F. X. Yu, A. T. Suresh, K. Choromanski, D. Holtmann-Rice and S. Kumar,
   "Orthogonal random features", NeurIPS 2016.
.. [4] L. Greengard and J. Strain, "The fast Gauss transform", SIAM J. Sci. Stat.
   Comput. 12(1), 1991.
.. [5] A. Backurs, Z. Lin, S. Mahabadi, S. Silwal and J. Tarnawski, "Efficiently
   computing similarities to private datasets", ICLR 2024.
"""

import functools
import math
import numbers

import numpy as np
from scipy.special import ndtri
from scipy.stats import qmc

from .._config import get_config
from ..backend import cos_sin
from ._base import (
    Mechanism,
    Sensitivity,
    check_int,
    check_neighbouring,
    check_positive,
)

__all__ = ["FastGaussSketch", "JLProjection", "RandomFeatureSketch"]

KERNELS = ("gaussian", "exponential", "laplacian", "cauchy")
SAMPLINGS = ("qmc", "iid", "orthogonal")
FEATURES = ("pairs", "phase")
WEIGHTINGS = ("optimal", "uniform")

# Blocks of a few MiB stay in cache; working_memory is a ceiling, not a target.
_MAX_BLOCK_MIB = 8.0
# scipy's scrambled Sobol' points are multiples of 2**-_SOBOL_BITS.
_SOBOL_BITS = 30
_SOBOL_MAX_DIM = 21201


# --------------------------------------------------------------------- helpers
def _rng(random_state):
    """A numpy Generator from None, an int, a SeedSequence, a Generator or a
    RandomState (whose stream then seeds a fresh Generator)."""
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(0, 2**32, size=4))
    try:
        return np.random.default_rng(random_state)
    except (TypeError, ValueError):
        raise ValueError(
            "random_state must be None, an int, a numpy SeedSequence, Generator or "
            f"RandomState, got {random_state!r}."
        ) from None


def _block_rows(bytes_per_row):
    """Rows per block so that one block holds at most a few MiB."""
    budget = min(float(get_config()["working_memory"]), _MAX_BLOCK_MIB) * 2**20
    return max(1, int(budget // max(bytes_per_row, 1)))


def _check_choice(name, value, choices):
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}.")
    return value


def _check_rows(name, A, d):
    """Float64 2-D array with d columns and finite entries."""
    A = np.asarray(A, dtype=np.float64)
    if A.ndim != 2 or A.shape[1] != d:
        raise ValueError(
            f"{name} must be a 2-D array of shape (n, {d}), got shape {A.shape}; "
            "reshape it (one row per point)."
        )
    if not np.all(np.isfinite(A)):
        raise ValueError(f"{name} contains NaN or infinite values; remove them.")
    return A


def _sobol_uniforms(n, dim, rng):
    """``n`` scrambled Sobol' points in ``(0, 1)^dim``, each exactly uniform.

    Sobol' nets are balanced for powers of two, so ``2^ceil(log2 n)`` points are
    drawn and the first ``n`` kept: a prefix loses the exact net (balance)
    property but keeps every point's marginal law, which is all unbiasedness needs.
    scipy's scrambling (random linear matrix scramble plus a uniform digital shift)
    makes each coordinate uniform on the grid ``k 2^-30``; an independent jitter
    of one grid step makes it exactly uniform on ``(0, 1)`` (and keeps it off 0,
    where the inverse CDFs diverge), at no cost to the low discrepancy.
    """
    if dim > _SOBOL_MAX_DIM:
        raise ValueError(
            f"sampling='qmc' supports at most {_SOBOL_MAX_DIM} Sobol' dimensions, "
            f"{dim} are needed; use sampling='iid'."
        )
    sobol = qmc.Sobol(dim, scramble=True, bits=_SOBOL_BITS, rng=rng)
    u = sobol.random_base2(max(0, math.ceil(math.log2(n))))[:n]
    u += rng.random(u.shape) * 2.0**-_SOBOL_BITS
    # The jitter is in [0, 1): 0 is reachable with probability 2^-83 per entry.
    return np.clip(u, np.finfo(np.float64).tiny, 1.0 - 2.0**-53)


def _radii(kernel, n, d, bandwidth, rng):
    """Radii ``|w|`` of the spectral measure of a radial kernel."""
    chi = np.sqrt(rng.chisquare(d, size=n))
    if kernel == "gaussian":
        return chi / bandwidth
    if kernel == "exponential":
        return chi / (bandwidth * np.abs(rng.standard_normal(n)))
    # cauchy: w | s ~ N(0, 2 s I / h^2), s ~ Exp(1)
    return chi * np.sqrt(2.0 * rng.standard_exponential(n)) / bandwidth


def _spectral_from_uniforms(kernel, U, d, bandwidth):
    """Frequencies from uniforms (columns ``0..d-1`` the coordinates, column ``d``
    the mixing variable where the kernel needs one), by inverse CDFs."""
    if kernel == "laplacian":
        # Cauchy(0, 1/h) quantile
        return np.tan(np.pi * (U[:, :d] - 0.5)) / bandwidth
    G = ndtri(U[:, :d])
    if kernel == "gaussian":
        return G / bandwidth
    if kernel == "exponential":
        # |s| for s ~ N(0, 1): the half-normal quantile
        s = ndtri(0.5 + 0.5 * U[:, d])
        return G / (bandwidth * s[:, None])
    # cauchy: s ~ Exp(1) by its quantile -log(1 - u)
    s = -np.log1p(-U[:, d])
    return G * (np.sqrt(2.0 * s) / bandwidth)[:, None]


def _spectral_iid(kernel, n, d, bandwidth, rng):
    if kernel == "laplacian":
        return rng.standard_cauchy((n, d)) / bandwidth
    G = rng.standard_normal((n, d))
    if kernel == "gaussian":
        return G / bandwidth
    if kernel == "exponential":
        return G / (bandwidth * np.abs(rng.standard_normal(n)))[:, None]
    return G * (np.sqrt(2.0 * rng.standard_exponential(n)) / bandwidth)[:, None]


def _spectral_orthogonal(kernel, n, d, bandwidth, rng):
    """Blocks of ``d`` orthonormal directions, each block a Haar-random rotation,
    times independent radii from the radial law (Yu et al., 2016)."""
    blocks = []
    for _ in range(-(-n // d)):
        Q, R = np.linalg.qr(rng.standard_normal((d, d)))
        # The sign fix makes Q Haar-distributed (QR alone is biased by its
        # sign convention), so each row is uniform on the sphere.
        blocks.append(Q * np.where(np.diag(R) < 0, -1.0, 1.0))
    directions = np.concatenate(blocks, axis=0)[:n]
    return directions * _radii(kernel, n, d, bandwidth, rng)[:, None]


# ------------------------------------------------------------ random features
class RandomFeatureSketch(Mechanism):
    r"""Private kernel sums by random Fourier features (LSQ-RFF).

    A shift-invariant positive-definite kernel with ``k(0) = 1`` is the
    characteristic function of a probability law (Bochner), ``k(r) = E cos(w.r)``
    for ``w`` drawn from its *spectral measure*, and

    ``cos(w.x) cos(w.y) + sin(w.x) sin(w.y) = cos(w.(x - y))``,

    so with frequencies ``w_1..w_F`` the sums ``C_j = sum_x cos(w_j.x)`` and
    ``S_j = sum_x sin(w_j.x)`` give the unbiased estimate
    ``(1/F) sum_j [C_j cos(w_j.y) + S_j sin(w_j.y)]`` of ``sum_x k(x, y)``
    (Rahimi and Recht, 2007). Wagner et al. (2023, LSQ-RFF) release instead
    ``Phi_j = sum_x sqrt(2) cos(w_j.x + b_j)`` with uniform phases ``b_j``: since
    ``2 cos(a + b) cos(c + b) = cos(a - c) + cos(a + c + 2b)`` and the second term
    averages to zero over ``b``, ``(1/F) sum_j Phi_j sqrt(2) cos(w_j.y + b_j)`` is
    unbiased too.

    Kernels and spectral measures (``h`` the bandwidth; these are
    :class:`~kernlearn.kernels.Gaussian`, :class:`~kernlearn.kernels.Laplacian`,
    :class:`~kernlearn.kernels.L1Laplacian` and :class:`~kernlearn.kernels.Cauchy`
    with ``length_scale=h``):

    * ``"gaussian"``, ``exp(-|r|^2 / (2 h^2))``: ``w ~ N(0, I / h^2)``, because
      ``E cos(w.r) = exp(-Var(w.r) / 2) = exp(-|r|^2 / (2 h^2))``.
    * ``"exponential"``, ``exp(-|r|_2 / h)``: the multivariate Cauchy law (Student
      t with one degree of freedom) ``w = g / (h |s|)``, ``g ~ N(0, I)``,
      ``s ~ N(0, 1)``. Given ``s`` the frequency is Gaussian, so
      ``E[cos(w.r) | s] = exp(-a^2 / (2 s^2))`` with ``a = |r| / h``, and
      ``int exp(-s^2/2 - a^2/(2 s^2)) ds / sqrt(2 pi) = exp(-a)``.
    * ``"laplacian"``, ``exp(-|r|_1 / h)``: a product of one-dimensional
      ``exp(-|r_k| / h)``, the characteristic function of Cauchy(0, 1/h), so the
      coordinates of ``w`` are independent Cauchy(0, 1/h). Not radial.
    * ``"cauchy"``, ``1 / (1 + |r|^2 / h^2)``: with ``u = |r|^2 / h^2``,
      ``1 / (1 + u) = int_0^inf e^{-s} e^{-s u} ds``, a mixture of Gaussians:
      ``s ~ Exp(1)``, ``w | s ~ N(0, 2 s I / h^2)`` (``E[cos(w.r) | s] =
      exp(-s |r|^2 / h^2)``). One sketch, no privacy budget split over the mixture.

    Frequency sampling:

    * ``"iid"``: independent draws.
    * ``"orthogonal"``: orthogonal random features (Yu et al., 2016) for the radial
      kernels: blocks of ``d`` orthonormal directions (QR of a Gaussian matrix with
      the sign of ``diag(R)`` fixed, a Haar rotation) times independent radii from
      the radial law (``chi_d / h``; ``chi_d / (h |N(0,1)|)``;
      ``chi_d sqrt(2 Exp(1)) / h``). Each frequency still has the exact spectral law,
      so the estimate stays unbiased; the within-block anticorrelation lowers the
      variance. ``"laplacian"`` is not radial and raises ValueError.
    * ``"qmc"``: randomised quasi-Monte Carlo: scrambled Sobol' points (one extra
      dimension for the mixing variable ``s`` of "exponential" and "cauchy", one for
      the phase of ``features="phase"``) pushed through inverse CDFs. Every
      frequency's marginal law is exact (unbiased), and the low discrepancy of the
      point set lowers the variance. Counts that are not powers of two take the
      first points of the next power of two (the balance property then holds only
      approximately).

    Privacy. The statistics are sums of per-record vectors that are bounded for
    every ``x`` in ``R^d``, so no data bounds (box, norm) are needed. All noise
    weights are one.

    * ``features="pairs"``, ``F = n_features // 2``: a record contributes
      ``(cos(w_j.x), sin(w_j.x))_j``, with ``|cos| + |sin| <= sqrt(2)`` and
      ``cos^2 + sin^2 = 1``. add_remove: ``l1 = sqrt(2) F``, ``l2 = sqrt(F)``;
      substitute (difference of two such vectors, triangle inequality, attained
      when ``w_j.x' = w_j.x + pi``): ``l1 = 2 sqrt(2) F``, ``l2 = 2 sqrt(F)``.
      ``n_touched = 2F`` for both.
    * ``features="phase"``, ``F = n_features``: a record contributes
      ``sqrt(2) cos(w_j.x + b_j)``, each at most ``sqrt(2)`` in absolute value.
      add_remove: ``l1 = sqrt(2) F``, ``l2 = sqrt(2 F)``; substitute:
      ``l1 = 2 sqrt(2) F``, ``l2 = 2 sqrt(2 F)``. ``n_touched = F``.

    Parameters
    ----------
    kernel : {"gaussian", "exponential", "laplacian", "cauchy"}, default="gaussian"
        The kernel ``f(x, y) = k(x - y)`` whose sums are estimated.
    bandwidth : float, default=1.0
        Positive length scale ``h``.
    n_features : int, default=500
        Length of the released statistic: ``n_features // 2`` cos/sin pairs, or
        ``n_features`` phase features.
    sampling : {"qmc", "iid", "orthogonal"}, default="qmc"
        How the frequencies are drawn (see above).
    features : {"pairs", "phase"}, default="pairs"
        Cos/sin pairs, or the random-phase features of LSQ-RFF.
    n_features_in : int
        Dimension ``d`` of the data.
    random_state : None, int, numpy.random.Generator or RandomState
        Source of the (public) frequencies.

    Attributes
    ----------
    frequencies : ndarray of shape (F, d)
        The frequencies ``w_j``.
    phases : ndarray of shape (F,) or None
        The phases ``b_j`` (``features="phase"``), else None.
    n_frequencies : int
        ``F``.

    References
    ----------
    .. [1] A. Rahimi and B. Recht, "Random features for large-scale kernel
       machines", NeurIPS 2007.
    .. [2] T. Wagner, Y. Naamad and N. Mishra, "Fast private kernel density
       estimation via locality sensitive quantization", ICML 2023.
    .. [3] F. X. Yu et al., "Orthogonal random features", NeurIPS 2016.

    Examples
    --------
    >>> import numpy as np
    >>> from kernlearn.privacy._sketch import RandomFeatureSketch
    >>> X = np.zeros((3, 2))
    >>> sk = RandomFeatureSketch(n_features=200, n_features_in=2, random_state=0)
    >>> float(sk.query(np.zeros((1, 2)), sk.statistics(X))[0])
    3.0
    """

    has_count = False

    def __init__(
        self,
        *,
        kernel="gaussian",
        bandwidth=1.0,
        n_features=500,
        sampling="qmc",
        features="pairs",
        n_features_in,
        random_state=None,
    ):
        self.kernel = _check_choice("kernel", kernel, KERNELS)
        self.bandwidth = check_positive(
            "bandwidth", bandwidth, "pass the kernel's length scale h > 0."
        )
        self.sampling = _check_choice("sampling", sampling, SAMPLINGS)
        self.features = _check_choice("features", features, FEATURES)
        minimum = 2 if features == "pairs" else 1
        self.n_features = check_int(
            "n_features",
            n_features,
            minimum,
            f"features={features!r} needs at least {minimum} released features.",
        )
        d = check_int(
            "n_features_in", n_features_in, 1, "pass the data dimension d >= 1."
        )
        self.n_features_in = d
        if sampling == "orthogonal" and kernel == "laplacian":
            raise ValueError(
                "sampling='orthogonal' needs a radial kernel, and kernel='laplacian' "
                "(the L1 product kernel) is not radial; use sampling='qmc' or 'iid', "
                "or kernel='exponential' for the Euclidean version."
            )
        F = self.n_features // 2 if features == "pairs" else self.n_features
        self.n_frequencies = F
        rng = _rng(random_state)
        h = self.bandwidth
        self.phases = None
        if sampling == "qmc":
            mixing = kernel in ("exponential", "cauchy")
            dim = d + int(mixing) + int(features == "phase")
            U = _sobol_uniforms(F, dim, rng)
            self.frequencies = _spectral_from_uniforms(kernel, U, d, h)
            if features == "phase":
                self.phases = 2.0 * np.pi * U[:, -1]
        else:
            sampler = _spectral_iid if sampling == "iid" else _spectral_orthogonal
            self.frequencies = sampler(kernel, F, d, h, rng)
            if features == "phase":
                self.phases = rng.uniform(0.0, 2.0 * np.pi, F)
        self.frequencies = np.ascontiguousarray(self.frequencies, dtype=np.float64)

    def _keys(self):
        return ("cos", "sin") if self.features == "pairs" else ("phase",)

    def _angles(self, A):
        """``A @ W.T`` (plus the phases) for a block of rows."""
        Z = A @ self.frequencies.T
        if self.phases is not None:
            Z += self.phases
        return Z

    def statistics(self, X):
        """Per-frequency sums of the record features.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features_in)
            The private data (no bounds needed).

        Returns
        -------
        dict
            ``{"cos": (F,), "sin": (F,)}`` sums for ``features="pairs"``, or
            ``{"phase": (F,)}`` sums of ``sqrt(2) cos(w_j.x + b_j)``.
        """
        X = _check_rows("X", X, self.n_features_in)
        F = self.n_frequencies
        acc = {key: np.zeros(F) for key in self._keys()}
        rows = _block_rows(3 * 8 * F)  # angles and the cos_sin pairs
        for i0 in range(0, X.shape[0], rows):
            Z = self._angles(X[i0 : i0 + rows])
            if self.features == "pairs":
                CS = cos_sin(Z).sum(axis=0)
                acc["cos"] += CS[:F]
                acc["sin"] += CS[F:]
            else:
                acc["phase"] += np.cos(Z, out=Z).sum(axis=0)
        if self.features == "phase":
            acc["phase"] *= math.sqrt(2.0)
        return acc

    def noise_weights(self):
        """All ones: every released coordinate has the same range.

        Returns
        -------
        dict
            ``{key: ones(F)}`` for each statistic.
        """
        return {key: np.ones(self.n_frequencies) for key in self._keys()}

    def sensitivity(self, neighbouring):
        """Sensitivity of the statistics (weights are one; derivation above).

        Parameters
        ----------
        neighbouring : {"substitute", "add_remove"}
            Neighbouring relation.

        Returns
        -------
        Sensitivity
        """
        check_neighbouring(neighbouring)
        F = self.n_frequencies
        factor = 2.0 if neighbouring == "substitute" else 1.0
        if self.features == "pairs":
            return Sensitivity(
                l1=factor * math.sqrt(2.0) * F,
                l2=factor * math.sqrt(F),
                n_touched=2 * F,
            )
        return Sensitivity(
            l1=factor * math.sqrt(2.0) * F, l2=factor * math.sqrt(2.0 * F), n_touched=F
        )

    def query(self, Y, stats):
        """Estimates of ``sum_x k(x, y)`` from (exact or released) statistics.

        Parameters
        ----------
        Y : array-like of shape (n_queries, n_features_in)
            Query points.
        stats : dict
            Statistics as returned by :meth:`statistics`, possibly noisy.

        Returns
        -------
        ndarray of shape (n_queries,)
        """
        Y = _check_rows("Y", Y, self.n_features_in)
        F = self.n_frequencies
        T = {}
        for key in self._keys():
            if key not in stats:
                raise ValueError(f"stats is missing {key!r}; pass statistics(X).")
            T[key] = np.asarray(stats[key], dtype=np.float64).reshape(F)
        out = np.empty(Y.shape[0])
        rows = _block_rows(3 * 8 * F)  # angles and the cos_sin pairs
        for i0 in range(0, Y.shape[0], rows):
            Z = self._angles(Y[i0 : i0 + rows])
            if self.features == "pairs":
                res = cos_sin(Z) @ np.concatenate((T["cos"], T["sin"]))
            else:
                res = np.cos(Z, out=Z) @ T["phase"] * math.sqrt(2.0)
            out[i0 : i0 + rows] = res / F
        return out


# ------------------------------------------------------------ fast Gauss grid
def _hermite_functions(t, p):
    """``h_j(t) / j!`` for ``j < p``, ``h_j(t) = H_j(t) exp(-t^2)`` (physicists'
    Hermite), stacked on a new last axis.

    With ``g_j = h_j / j!`` the recurrence ``H_{j+1} = 2t H_j - 2j H_{j-1}`` reads
    ``g_{j+1} = (2t g_j - 2 g_{j-1}) / (j + 1)``, with no factorial overflow.
    """
    out = np.empty(t.shape + (p,))
    out[..., 0] = np.exp(-t * t)
    if p > 1:
        out[..., 1] = 2.0 * t * out[..., 0]
    for j in range(1, p - 1):
        out[..., j + 1] = (2.0 * t * out[..., j] - 2.0 * out[..., j - 1]) / (j + 1)
    return out


@functools.lru_cache(maxsize=64)
def _query_mean_squares(d, p, radius, n_points):
    """See :meth:`FastGaussSketch._query_mean_squares`."""
    U = _sobol_uniforms(n_points, d + 1, np.random.default_rng(20230707))
    G = ndtri(U[:, :d])
    norms = np.linalg.norm(G, axis=1, keepdims=True)
    # uniform in the ball: direction times radius * U^(1/d)
    T = G / np.where(norms > 0, norms, 1.0) * (radius * U[:, d:] ** (1.0 / d))
    q2 = np.zeros(p**d)
    rows = _block_rows(3 * 8 * p**d)
    for i0 in range(0, n_points, rows):
        M = _tensor_rows(_hermite_functions(T[i0 : i0 + rows], p))
        q2 += np.einsum("ij,ij->j", M, M)
    return q2 / n_points


#: Fixed-point resolution of the FGT moment sums (2**-32; sums stay exact in
#: int64 up to 2**31 records).
_FIXED_BITS = 32


def _tensor_rows(P):
    """Row-wise tensor products: ``P`` of shape (n, d, p) to (n, p^d), multi-index
    ``alpha`` in C order (``alpha_0`` slowest)."""
    M = P[:, 0, :]
    for k in range(1, P.shape[1]):
        M = (M[:, :, None] * P[:, k, None, :]).reshape(P.shape[0], -1)
    return M


class FastGaussSketch(Mechanism):
    r"""Private Gaussian kernel sums by the fast Gauss transform grid (LSQ-FGT).

    The Gaussian kernel ``exp(-|x - y|^2 / (2 h^2))`` becomes ``exp(-|u - v|^2)``
    in the frame ``u = (x - lower) / (sqrt(2) h)``. That frame is cut into unit
    cells centred at the integer points ``c`` with ``0 <= c_k <= C_k``
    (``C_k = floor(L_k + 1/2)``, ``L_k = (upper_k - lower_k) / (sqrt(2) h)``); a
    record goes to the cell ``rint(u)``, so its offset ``t = u - c`` lies in
    ``[-1/2, 1/2]^d``. The generating function of the physicists' Hermite
    polynomials, ``exp(2 s r - r^2) = sum_j H_j(s) r^j / j!``, gives

    ``exp(-(s - r)^2) = sum_j h_j(s) r^j / j!``, ``h_j(s) = H_j(s) exp(-s^2)``,

    and, per coordinate with ``s = v_k - c_k`` and ``r = u_k - c_k``,
    ``exp(-|u - v|^2) = sum_alpha (u - c)^alpha prod_k h_{alpha_k}(v_k - c_k) /
    alpha_k!``. Truncating to ``alpha in {0..p-1}^d`` (``p = order``), the
    statistics are the per-cell moments ``coef[c, alpha] = sum_{x in c}
    (u - c)^alpha``, and a query ``v`` sums ``coef[c, alpha] prod_k
    h_{alpha_k}(v_k - c_k) / alpha_k!`` over the cells with ``|c - v|^2 <=
    radius^2`` (Greengard and Strain, 1991; Wagner et al., 2023). Records are
    clipped to the box, so the offsets always obey ``|t_k| <= 1/2``.

    Noise weights. Noise of scale ``sigma w_alpha`` on ``coef[., alpha]`` (the same
    weight for every cell) reaches a query with variance ``sigma^2 sum_alpha
    w_alpha^2 sum_c q_alpha(v - c)^2``, ``q_alpha(t) = prod_k h_{alpha_k}(t_k) /
    alpha_k!``. For a query uniform over the grid, the offsets ``v - c`` of the
    cells that answer it cover the ball ``|t| <= radius`` uniformly, so the mean
    of ``sum_c q_alpha^2`` is ``Q_alpha^2 = int_{|t| <= radius} q_alpha(t)^2 dt``
    (computed at construction by a fixed-seed quasi-Monte Carlo rule in the ball).
    With ``r_alpha = 2^-|alpha| >= |t^alpha|`` the l1 sensitivity of ``T / w`` is
    ``sum_alpha r_alpha / w_alpha`` (below), and Laplace-type noise has
    ``sigma`` proportional to it, so the query variance is proportional to

    ``V(w) = (sum_alpha r_alpha / w_alpha)^2 sum_alpha w_alpha^2 Q_alpha^2``.

    ``V`` is scale-free; minimising ``sum w^2 Q^2`` under ``sum r / w = 1`` by
    Lagrange, ``2 w_alpha Q_alpha^2 = lambda r_alpha / w_alpha^2``, so
    ``w_alpha proportional to (r_alpha / Q_alpha^2)^(1/3)``, and Hoelder's
    inequality confirms the minimum ``V = (sum_alpha (r_alpha Q_alpha)^(2/3))^3``.
    ``weighting="optimal"`` uses these weights, normalised to ``w_0 = 1``;
    ``"uniform"`` uses ones, which is the noise of LSQ-FGT. (The l2 calibration of
    Gaussian noise would have ``w_alpha proportional to sqrt(r_alpha / Q_alpha)``;
    the l1 weights are used for both.)

    Sensitivity of ``T / w`` (``r_alpha = 2^-|alpha|``, ``A_1 = sum_alpha
    r_alpha / w_alpha``, ``A_2 = (sum_alpha (r_alpha / w_alpha)^2)^(1/2)``):

    * add_remove: one record adds ``t^alpha / w_alpha`` to one cell's ``p^d``
      coordinates: ``l1 = A_1``, ``l2 = A_2`` (both attained at a cell corner,
      ``|t_k| = 1/2``), ``n_touched = p^d``.
    * substitute: a record leaves cell ``c`` and enters cell ``c'``. If
      ``c != c'`` the two changes have disjoint supports: at most ``2 A_1`` in l1
      and ``sqrt(2) A_2`` in l2 (attained at corners of two cells), ``2 p^d``
      coordinates. If ``c = c'``, the ``alpha = 0`` moment (the count) does not
      change, ``|t^alpha - t'^alpha| <= r_alpha`` when every ``alpha_k`` is even
      (both are non-negative and at most ``r_alpha``) and ``<= 2 r_alpha``
      otherwise; this same-cell bound ``B_1 <= 2 A_1`` in l1 and
      ``B_2 = (sum_{alpha != 0} (m_alpha r_alpha / w_alpha)^2)^(1/2)``, ``m_alpha``
      1 or 2, in l2. So ``l1 = 2 A_1``, ``l2 = max(sqrt(2) A_2, B_2)``,
      ``n_touched = 2 p^d``.

    The statistics carry the record count: ``count(stats)`` sums the
    ``alpha = 0`` moments.

    Parameters
    ----------
    lower, upper : array-like of shape (d,)
        The public box that holds the (clipped) data.
    bandwidth : float
        Gaussian bandwidth ``h``: ``f(x, y) = exp(-|x - y|^2 / (2 h^2))``.
    order : int, default=4
        Hermite terms ``p`` per dimension; ``p^d`` moments per cell.
    radius : float or None, default=None
        Cells farther than ``radius`` (in the unit-cell frame) from a query are
        ignored; None takes ``radius^2 = order`` as Wagner et al.
    weighting : {"optimal", "uniform"}, default="optimal"
        Noise weights per multi-index (see above).

    Attributes
    ----------
    grid_shape : tuple of int
        Cells per dimension.
    n_cells : int
        ``prod(grid_shape)``.
    multi_indices : ndarray of shape (p^d, d)
        The multi-indices ``alpha`` in the order of the statistics' columns.
    weights : ndarray of shape (p^d,)
        The noise weights ``w_alpha``.

    References
    ----------
    .. [1] L. Greengard and J. Strain, "The fast Gauss transform", SIAM J. Sci.
       Stat. Comput. 12(1), 1991.
    .. [2] T. Wagner, Y. Naamad and N. Mishra, "Fast private kernel density
       estimation via locality sensitive quantization", ICML 2023.

    Examples
    --------
    >>> import numpy as np
    >>> from kernlearn.privacy._sketch import FastGaussSketch
    >>> sk = FastGaussSketch(lower=[0.0], upper=[4.0], bandwidth=1.0, order=8)
    >>> X = np.array([[1.0], [2.5]])
    >>> est = sk.query(np.array([[2.0]]), sk.statistics(X))
    >>> exact = np.exp(-0.5) + np.exp(-0.125)  # h = 1: exp(-|x - y|^2 / 2)
    >>> bool(abs(est[0] - exact) < 1e-5)
    True
    """

    has_count = True

    def __init__(
        self, *, lower, upper, bandwidth, order=4, radius=None, weighting="optimal"
    ):
        lower = np.asarray(lower, dtype=np.float64)
        upper = np.asarray(upper, dtype=np.float64)
        if lower.ndim != 1 or lower.size == 0:
            raise ValueError(
                f"lower must be a non-empty 1-D array (one entry per feature), got "
                f"shape {lower.shape}."
            )
        if upper.shape != lower.shape:
            raise ValueError(
                f"upper must have the shape of lower {lower.shape}, got {upper.shape}."
            )
        if not (np.all(np.isfinite(lower)) and np.all(np.isfinite(upper))):
            raise ValueError("lower and upper must be finite; pass a bounded box.")
        if np.any(upper < lower):
            raise ValueError("upper must be >= lower in every coordinate; swap them.")
        self.lower, self.upper = lower, upper
        self.bandwidth = check_positive(
            "bandwidth", bandwidth, "pass the Gaussian bandwidth h > 0."
        )
        p = self.order = check_int("order", order, 1, "use e.g. order=4.")
        if radius is None:
            radius = math.sqrt(p)
        self.radius = check_positive(
            "radius", radius, "pass a cut-off > 0 or None for sqrt(order)."
        )
        self.weighting = _check_choice("weighting", weighting, WEIGHTINGS)
        d = self.n_features_in = lower.size
        self._scale = math.sqrt(2.0) * self.bandwidth
        length = (upper - lower) / self._scale
        self.grid_shape = tuple(int(np.floor(L + 0.5)) + 1 for L in length)
        self.n_cells = math.prod(self.grid_shape)
        n_coef = p**d
        budget = float(get_config()["working_memory"]) * 2**20
        if float(self.n_cells) * n_coef * 8 > budget:
            raise ValueError(
                f"FastGaussSketch would hold {self.n_cells} cells x {n_coef} moments "
                f"({self.n_cells * n_coef * 8 / 2**20:.0f} MiB), over the working "
                f"memory of {budget / 2**20:.0f} MiB; raise the bandwidth, lower the "
                "order, or use method='rff'."
            )
        self.multi_indices = np.array(list(np.ndindex(*(p,) * d)), dtype=np.intp)
        self.multi_indices = self.multi_indices.reshape(n_coef, d)
        self._r = 0.5 ** self.multi_indices.sum(axis=1).astype(np.float64)
        if self.weighting == "uniform":
            self.weights = np.ones(n_coef)
        else:
            q2 = self._query_mean_squares()
            w = np.cbrt(self._r / q2)
            self.weights = w / w[0]
        self._offsets = self._cell_offsets()

    def _query_mean_squares(self, n_points=2**13):
        """``Q_alpha^2``: mean of ``q_alpha(t)^2`` over ``t`` uniform in the ball of
        radius ``radius``, by a scrambled Sobol' rule with a fixed seed
        (deterministic, so cached per (d, order, radius))."""
        q2 = _query_mean_squares(
            self.n_features_in, self.order, float(self.radius), n_points
        )
        return q2.copy()

    def _cell_offsets(self):
        """Integer offsets ``o`` from ``rint(v)`` that can hold a cell within
        ``radius`` of ``v`` (``|o| <= radius + sqrt(d)/2``)."""
        d = self.n_features_in
        reach = self.radius + math.sqrt(d) / 2.0
        m = int(math.floor(reach))
        axis = np.arange(-m, m + 1)
        grid = np.stack(np.meshgrid(*([axis] * d), indexing="ij"), axis=-1)
        grid = grid.reshape(-1, d)
        return grid[(grid**2).sum(axis=1) <= reach**2 + 1e-9]

    def _frame(self, A):
        return (A - self.lower) / self._scale

    def _flat(self, cells):
        return np.ravel_multi_index(tuple(cells.T), self.grid_shape)

    def statistics(self, X):
        """Per-cell Hermite moments ``sum_{x in c} (u - c)^alpha``.

        Parameters
        ----------
        X : array-like of shape (n_samples, d)
            The private data; rows are clipped to ``[lower, upper]`` (a no-op on
            clipped data), which the sensitivity relies on.

        Returns
        -------
        dict
            ``{"coef": ndarray of shape (n_cells, order^d)}``.
        """
        d, p = self.n_features_in, self.order
        X = _check_rows("X", X, d)
        # Moments are summed in fixed point (int64, steps of 2**-_FIXED_BITS):
        # integer sums do not depend on the order or grouping of the records, so a
        # cell that a neighbouring record does not touch gets a bitwise identical
        # sum - the premise of the lattice rounding in ``_noise.release``. The
        # bounds r_alpha = 2**-|alpha| are on that grid, so rounding a moment never
        # takes it past its bound (the sensitivities hold unchanged).
        if X.shape[0] >= 2**31:
            raise ValueError(
                "FastGaussSketch sums at most 2**31 records exactly; split X or use "
                "method='rff'."
            )
        scale = float(2**_FIXED_BITS)
        coef = np.zeros((self.n_cells, p**d), dtype=np.int64)
        rows = _block_rows(3 * 8 * p**d + 16 * d)
        powers = np.arange(p)
        for i0 in range(0, X.shape[0], rows):
            U = self._frame(np.clip(X[i0 : i0 + rows], self.lower, self.upper))
            C = np.rint(U)
            M = _tensor_rows((U - C)[:, :, None] ** powers)
            M = np.rint(M * scale).astype(np.int64)
            cell = self._flat(C.astype(np.intp))
            order = np.argsort(cell, kind="stable")
            cell = cell[order]
            starts = np.flatnonzero(np.r_[True, cell[1:] != cell[:-1]])
            coef[cell[starts]] += np.add.reduceat(M[order], starts, axis=0)
        return {"coef": coef.astype(np.float64) / scale}

    def noise_weights(self):
        """One weight per multi-index, shared by all cells.

        Returns
        -------
        dict
            ``{"coef": ndarray of shape (order^d,)}``, broadcast over cells.
        """
        return {"coef": self.weights.copy()}

    def sensitivity(self, neighbouring):
        """Sensitivity of ``T / w`` (derivation in the class docstring).

        Parameters
        ----------
        neighbouring : {"substitute", "add_remove"}
            Neighbouring relation.

        Returns
        -------
        Sensitivity
        """
        check_neighbouring(neighbouring)
        ratio = self._r / self.weights
        l1 = float(ratio.sum())
        l2 = float(np.sqrt((ratio**2).sum()))
        n_coef = ratio.size
        if neighbouring == "add_remove":
            return Sensitivity(l1=l1, l2=l2, n_touched=n_coef)
        odd = np.any(self.multi_indices % 2 == 1, axis=1)
        same_cell = np.where(odd, 2.0, 1.0) * ratio
        same_cell[0] = 0.0  # the count of a cell does not change
        l2_sub = max(math.sqrt(2.0) * l2, float(np.sqrt((same_cell**2).sum())))
        return Sensitivity(l1=2.0 * l1, l2=l2_sub, n_touched=2 * n_coef)

    def query(self, Y, stats):
        """Estimates of ``sum_x exp(-|x - y|^2 / (2 h^2))``.

        Parameters
        ----------
        Y : array-like of shape (n_queries, d)
            Query points, anywhere (cells outside the grid contribute nothing).
        stats : dict
            ``{"coef": (n_cells, order^d)}``, exact or released.

        Returns
        -------
        ndarray of shape (n_queries,)
        """
        d, p = self.n_features_in, self.order
        Y = _check_rows("Y", Y, d)
        coef = self._coef(stats)
        shape = np.array(self.grid_shape)
        # Far queries: clipping the base cell keeps integers small and changes no
        # answer, since no cell within the radius of such a query is in the grid.
        margin = int(math.ceil(self.radius + math.sqrt(d))) + 1
        out = np.zeros(Y.shape[0])
        rows = _block_rows(4 * 8 * p**d + 8 * d * p)
        r2 = self.radius**2
        for i0 in range(0, Y.shape[0], rows):
            V = self._frame(Y[i0 : i0 + rows])
            base = np.clip(np.rint(V), -margin, shape - 1 + margin).astype(np.intp)
            acc = np.zeros(V.shape[0])
            for o in self._offsets:
                cells = base + o
                T = V - cells
                keep = np.all((cells >= 0) & (cells < shape), axis=1)
                keep &= (T * T).sum(axis=1) <= r2
                if not keep.any():
                    continue
                idx = np.flatnonzero(keep)
                A = coef[self._flat(cells[idx])]
                G = _hermite_functions(T[idx], p)
                # contract the moment tensor one axis at a time (last axis first)
                for k in range(d - 1, -1, -1):
                    A = np.matmul(A.reshape(idx.size, -1, p), G[:, k, :, None])[..., 0]
                acc[idx] += A.reshape(idx.size)
            out[i0 : i0 + rows] = acc
        return out

    def _coef(self, stats):
        if "coef" not in stats:
            raise ValueError("stats is missing 'coef'; pass statistics(X).")
        coef = np.asarray(stats["coef"], dtype=np.float64)
        want = (self.n_cells, self.order**self.n_features_in)
        if coef.shape != want:
            raise ValueError(
                f"stats['coef'] must have shape {want}, got {coef.shape}; pass the "
                "statistics of this sketch."
            )
        return coef

    def count(self, stats):
        """Number of records: the sum of the ``alpha = 0`` moments.

        Parameters
        ----------
        stats : dict
            Exact or released statistics.

        Returns
        -------
        float
        """
        return float(self._coef(stats)[:, 0].sum())


# ------------------------------------------------------- Johnson-Lindenstrauss
class JLProjection:
    """Johnson-Lindenstrauss projection applied before a private mechanism.

    ``Pi = G / sqrt(k)`` with ``G`` a ``k x d`` standard Gaussian matrix, so
    ``E |Pi r|^2 = |r|^2`` and distances are kept within ``1 +- eps`` for
    ``k = O(log(n) / eps^2)``. Backurs et al. (2024) reduce the dimension this
    way before any private kernel-sum mechanism: ``Pi`` is drawn from public
    randomness and does not depend on the data, so projecting costs no privacy.

    Parameters
    ----------
    n_components : int
        Target dimension ``k``.
    n_features_in : int
        Input dimension ``d``.
    random_state : None, int, numpy.random.Generator or RandomState, default=None
        Source of the matrix.

    Attributes
    ----------
    components : ndarray of shape (n_components, n_features_in)
        The matrix ``Pi``.

    References
    ----------
    .. [1] A. Backurs, Z. Lin, S. Mahabadi, S. Silwal and J. Tarnawski,
       "Efficiently computing similarities to private datasets", ICLR 2024.

    Examples
    --------
    >>> import numpy as np
    >>> from kernlearn.privacy._sketch import JLProjection
    >>> jl = JLProjection(2, 5, random_state=0)
    >>> jl.transform(np.ones((3, 5))).shape
    (3, 2)
    """

    def __init__(self, n_components, n_features_in, random_state=None):
        k = check_int("n_components", n_components, 1, "pass a target dimension.")
        d = check_int("n_features_in", n_features_in, 1, "pass the data dimension.")
        self.n_components, self.n_features_in = k, d
        self.components = _rng(random_state).standard_normal((k, d)) / math.sqrt(k)

    def transform(self, X):
        """Project rows.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features_in)

        Returns
        -------
        ndarray of shape (n_samples, n_components)
        """
        X = _check_rows("X", X, self.n_features_in)
        return X @ self.components.T

    def project_box(self, lower, upper):
        """The smallest box holding the image of ``[lower, upper]`` (interval
        arithmetic: centre ``Pi m``, half-widths ``|Pi| r``).

        Parameters
        ----------
        lower, upper : array-like of shape (n_features_in,)

        Returns
        -------
        lower, upper : ndarray of shape (n_components,)
        """
        lower = np.asarray(lower, dtype=np.float64).reshape(-1)
        upper = np.asarray(upper, dtype=np.float64).reshape(-1)
        if lower.size != self.n_features_in or upper.size != self.n_features_in:
            raise ValueError(
                f"lower and upper must have {self.n_features_in} entries, got "
                f"{lower.size} and {upper.size}."
            )
        if np.any(upper < lower):
            raise ValueError("upper must be >= lower in every coordinate.")
        centre = self.components @ ((lower + upper) / 2.0)
        half = np.abs(self.components) @ ((upper - lower) / 2.0)
        return centre - half, centre + half

    def project_norm(self, R):
        """Bound on ``|Pi x|`` for ``|x| <= R``: the spectral norm of ``Pi`` times R.

        Parameters
        ----------
        R : float
            Norm bound of the inputs.

        Returns
        -------
        float
        """
        if isinstance(R, bool) or not isinstance(R, numbers.Real) or not R >= 0:
            raise ValueError(f"R must be a non-negative number, got {R!r}.")
        return float(np.linalg.norm(self.components, 2)) * float(R)
