"""Regimes of Gaussian kernel density estimates in large dimension.

Biroli and Mezard, "Kernel density estimators in large dimensions" (2024,
arXiv:2408.05807) study ``hat rho(y) = (1/n) sum_i N(y; x_i, h^2 I)`` with
``alpha = ln(n) / d`` fixed as ``n`` and ``d`` grow. Three regimes appear as ``h``
shrinks: Gaussian (CLT) fluctuations above ``h_CLT``, heavy-tailed (stable)
fluctuations between ``h_G`` and ``h_CLT``, and extreme-value statistics below
``h_G``, where a few training points carry the whole sum. The KL-optimal bandwidth
lies below ``h_G``.

Where the formulas here come from (our derivation, consistent with the paper's
Gaussian-data analysis). For a query ``y`` and training points ``x`` drawn from
``N(0, diag(s))``, the squared distance per dimension ``D = |y - x|^2 / d`` obeys a
large-deviation law ``P(D ~ D') ~ exp(-d I(D'))``. With the Legendre variable ``t`` of
``I`` and ``r_k = 1 / (1 - 2 t s_k)``,

    ``D = (1/d) sum_k s_k (r_k + r_k^2)``,
    ``I = (1/d) sum_k (r_k^2 - r_k - ln r_k) / 2``.

The sum ``sum_i exp(-d D_i / (2 h^2))`` over ``n = e^(alpha d)`` points is a random
energy model: it is dominated by typical-but-tilted points (``t = -1 / (2 h^2)``) as
long as the tilted distance is populated, ``I <= alpha``, and freezes onto the nearest
neighbours otherwise. The freezing point is ``h_G``: with ``r_k = h^2 / (s_k + h^2)``
it solves ``(1/d) sum_k (r_k^2 - r_k - ln r_k) / 2 = alpha``; for ``s_k = sigma^2``
this is ``r*^2 - r* - ln r* = 2 alpha`` and ``h_G^2 = sigma^2 r* / (1 - r*)``. The
second moment of the sum is the first moment at bandwidth ``h / sqrt(2)``, so the CLT
holds above ``h_CLT = sqrt(2) h_G``. Near the frozen edge the log-terms have an
exponential tail of rate ``mu = h^2 / h_G^2``: the stable index. Below ``h_G`` the
log-likelihood per dimension is ``-D_nn / (2 h^2) - ln(2 pi h^2) / 2 - alpha`` with the
nearest-neighbour distance ``D_nn = (1/d) sum_k s_k r_k (1 + r_k)`` at ``h_G``; its
maximiser is ``h_opt^2 = D_nn = h_G^2 (1/d) sum_k (1 - r_k^2)``, which for isotropic
data is ``sigma^2 r* (1 + r*)``. For ``alpha = 0.2, sigma = 1``: ``r* = 0.52231``,
``h_G = 1.04565``, ``h_CLT = 1.47878``, ``h_opt = 0.89169``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import brentq


def _check_alpha(alpha) -> float:
    alpha = float(alpha)
    if not (np.isfinite(alpha) and alpha > 0):
        raise ValueError(
            f"alpha = ln(n) / d must be positive and finite, got {alpha!r}; it needs "
            "at least 2 samples."
        )
    return alpha


def solve_r_star(alpha: float) -> float:
    """The root ``r*`` in ``(0, 1)`` of ``r^2 - r - ln r = 2 alpha``.

    The left side falls from ``+inf`` at ``r -> 0`` to ``0`` at ``r = 1``, so the
    root is unique for every ``alpha > 0``.

    Examples
    --------
    >>> from kernlearn.density import solve_r_star
    >>> round(solve_r_star(0.2), 5)
    0.52231
    """
    alpha = _check_alpha(alpha)

    def g(log_r):
        r = np.exp(log_r)
        return r * r - r - log_r - 2.0 * alpha

    # In log r the function is smooth; r* >= exp(-2 alpha - 1) since r^2 - r >= -1/4.
    lo, hi = -2.0 * alpha - 1.0, 0.0
    if g(hi) >= 0:  # pragma: no cover - alpha > 0 makes g(0) = -2 alpha < 0
        return 1.0
    return float(np.exp(brentq(g, lo, hi, xtol=1e-15, rtol=4 * np.finfo(float).eps)))


def _spectrum_excess(h2, s, alpha):
    r = h2 / (s + h2)
    return np.mean((r * r - r - np.log(r)) / 2.0) - alpha


def gaussian_thresholds(alpha: float, spectrum=1.0) -> dict:
    """``h_G``, ``h_CLT`` and ``h_opt`` of a Gaussian kernel on Gaussian data.

    Parameters
    ----------
    alpha : float
        ``ln(n) / d``.
    spectrum : float or array-like of shape (d,), default=1.0
        The data covariance's eigenvalues in the space where the kernel is isotropic
        (a scalar ``sigma^2`` for isotropic data). Zero eigenvalues (directions
        without spread, as when ``d > n``) contribute nothing; the mean in the
        equation still runs over all ``d`` directions, since ``alpha`` is
        ``ln(n) / d``.

    Returns
    -------
    thresholds : dict
        ``r_star`` (isotropic case only, else ``nan``), ``h_G``, ``h_CLT``,
        ``h_opt``.

    Examples
    --------
    >>> from kernlearn.density import gaussian_thresholds
    >>> t = gaussian_thresholds(0.2)
    >>> print(f"{t['h_G']:.5f} {t['h_CLT']:.5f} {t['h_opt']:.5f}")
    1.04565 1.47878 0.89169
    """
    alpha = _check_alpha(alpha)
    s = np.atleast_1d(np.asarray(spectrum, dtype=np.float64))
    if s.ndim != 1 or s.size == 0 or not np.all(np.isfinite(s)) or np.any(s < 0):
        raise ValueError(
            "spectrum must be non-negative finite eigenvalues of the data covariance, "
            f"got {spectrum!r}."
        )
    if not np.any(s > 0):
        raise ValueError(
            "spectrum is all zero: the data have no spread, so no bandwidth regime "
            "is defined."
        )
    if np.all(s == s[0]):
        r = solve_r_star(alpha)
        hg2 = s[0] * r / (1.0 - r)
        r_k = np.full(1, r)
        r_star = r
    else:
        # Bracket h^2 geometrically: the excess falls from +inf (h -> 0) to 0-.
        lo = hi = float(np.max(s))
        while _spectrum_excess(lo, s, alpha) < 0:
            lo /= 4.0
        while _spectrum_excess(hi, s, alpha) > 0:
            hi *= 4.0
        hg2 = brentq(_spectrum_excess, lo, hi, args=(s, alpha), xtol=1e-300, rtol=1e-15)
        r_k = hg2 / (s + hg2)
        r_star = np.nan
    hopt2 = hg2 * np.mean(1.0 - r_k * r_k)
    hg = float(np.sqrt(hg2))
    return {
        "r_star": float(r_star),
        "h_G": hg,
        "h_CLT": float(np.sqrt(2.0) * hg),
        "h_opt": float(np.sqrt(hopt2)),
    }


def effective_h_G(nn_sq_distance: float, spectrum=1.0) -> float:
    """Finite-size ``h_G`` from the observed nearest-neighbour distance.

    The asymptotic ``h_G`` puts the nearest neighbour at the large-deviation
    distance ``D*``; at finite ``n`` and ``d`` the observed nearest-neighbour
    distance per dimension ``D_nn`` differs. The effective threshold is the
    bandwidth whose tilted typical distance ``(1/d) sum_k s_k r_k (1 + r_k)``,
    ``r_k = h^2 / (s_k + h^2)``, equals ``D_nn``: where the sum starts to freeze onto
    the observed nearest neighbours.

    Parameters
    ----------
    nn_sq_distance : float
        Mean over points of ``|x - nn(x)|^2 / d``.
    spectrum : float or array-like, default=1.0
        As in :func:`gaussian_thresholds`.

    Returns
    -------
    h_G : float
        ``inf`` when the nearest neighbours are as far as typical points.

    Examples
    --------
    At the asymptotic nearest-neighbour distance, ``h_opt^2``, the effective
    threshold is the asymptotic ``h_G``:

    >>> from kernlearn.density import effective_h_G, gaussian_thresholds
    >>> t = gaussian_thresholds(0.2)
    >>> print(f"{effective_h_G(t['h_opt'] ** 2):.5f} {t['h_G']:.5f}")
    1.04565 1.04565
    """
    s = np.atleast_1d(np.asarray(spectrum, dtype=np.float64))
    D = float(nn_sq_distance)
    if not (np.isfinite(D) and D > 0):
        raise ValueError(f"nn_sq_distance must be positive, got {nn_sq_distance!r}.")
    top = float(np.mean(2.0 * s))  # the limit h -> inf: the typical distance

    def excess(log_h2):
        h2 = np.exp(log_h2)
        r = h2 / (s + h2)
        return np.mean(s * r * (1.0 + r)) - D

    if D >= top:  # nearest neighbours as far as typical points: never frozen
        return np.inf
    lo = np.log(D) - 1.0
    while excess(lo) > 0:
        lo -= 2.0
    hi = np.log(D) + 1.0
    while excess(hi) < 0:
        hi += 2.0
    return float(np.sqrt(np.exp(brentq(excess, lo, hi, xtol=1e-14))))


def regime_name(h: float, h_G: float, h_CLT: float) -> str:
    """The regime of bandwidth ``h``: ``"extreme-value"`` below ``h_G``,
    ``"stable"`` up to ``h_CLT``, else ``"clt"``.

    Parameters
    ----------
    h : float
        The bandwidth.
    h_G, h_CLT : float
        The thresholds, e.g. from :func:`gaussian_thresholds` or
        :func:`effective_h_G`.

    Returns
    -------
    regime : {"extreme-value", "stable", "clt"}

    Examples
    --------
    The KL-optimal bandwidth lies in the extreme-value regime:

    >>> from kernlearn.density import gaussian_thresholds, regime_name
    >>> t = gaussian_thresholds(0.2)
    >>> [regime_name(h, t["h_G"], t["h_CLT"]) for h in (t["h_opt"], 1.2, 2.0)]
    ['extreme-value', 'stable', 'clt']
    """
    if h < h_G:
        return "extreme-value"
    if h < h_CLT:
        return "stable"
    return "clt"


@dataclass
class RegimeReport:
    """What :meth:`KernelDensity.regime_report` finds; printable as a table.

    Attributes
    ----------
    n_samples, n_features : int
    n_effective : float
        ``(sum w)^2 / sum w^2`` (``n_samples`` without weights).
    alpha : float
        ``ln(n_effective) / n_features``.
    bandwidth : float
        The isotropic bandwidth in the space where the kernel is isotropic.
    h_G, h_CLT, h_opt : float
        Asymptotic Gaussian-reference thresholds from the sample spectrum
        (:func:`gaussian_thresholds`).
    h_G_effective, h_CLT_effective : float
        Finite-size thresholds from the observed nearest-neighbour distances
        (:func:`effective_h_G`; ``h_CLT_effective = sqrt(2) h_G_effective``).
    stable_index_theory : float
        ``bandwidth^2 / h_G^2``.
    mean_inverse_participation : float
        Mean over held-out queries of ``sum_i p_i^2`` with ``p_i`` the normalised
        kernel weights: ``1 / n`` when all points count equally, 1 when one does.
    effective_contributors : float
        ``1 / mean_inverse_participation``.
    stable_index_estimate : float
        Hill estimate of the tail rate of the log kernel terms (median over
        queries, top ``hill_k`` terms). It scales as ``h^2`` like the theory; at
        finite size it reads low (about 0.7-0.8 of ``stable_index_theory`` for
        Gaussian data at ``d = 16-32``, ``n ~ 3000``), so compare values across
        bandwidths rather than against the theory line.
    regime : str
        ``"extreme-value"``, ``"stable"`` or ``"clt"`` from the effective
        thresholds.
    spectrum : ndarray
        Eigenvalues used for the thresholds.

    Examples
    --------
    >>> import numpy as np
    >>> from kernlearn.density import KernelDensity
    >>> X = np.random.default_rng(0).standard_normal((500, 16))
    >>> report = KernelDensity(bandwidth=0.3).fit(X).regime_report()
    >>> print(report.regime, f"{report.alpha:.4f}")
    extreme-value 0.3884
    >>> print(report)  # doctest: +ELLIPSIS
    n_samples                     500
    n_features                    16
    ...
    regime                        extreme-value
    """

    n_samples: int
    n_features: int
    n_effective: float
    alpha: float
    bandwidth: float
    h_G: float
    h_CLT: float
    h_opt: float
    h_G_effective: float
    h_CLT_effective: float
    stable_index_theory: float
    mean_inverse_participation: float
    effective_contributors: float
    stable_index_estimate: float
    regime: str
    spectrum: np.ndarray = field(repr=False)

    def __str__(self) -> str:
        rows = [
            ("n_samples", self.n_samples),
            ("n_features", self.n_features),
            ("n_effective", f"{self.n_effective:.1f}"),
            ("alpha = ln(n)/d", f"{self.alpha:.4g}"),
            ("bandwidth", f"{self.bandwidth:.5g}"),
            ("h_G", f"{self.h_G:.5g}"),
            ("h_CLT", f"{self.h_CLT:.5g}"),
            ("h_opt (Gaussian reference)", f"{self.h_opt:.5g}"),
            ("h_G effective (observed nn)", f"{self.h_G_effective:.5g}"),
            ("h_CLT effective", f"{self.h_CLT_effective:.5g}"),
            ("stable index h^2/h_G_eff^2", f"{self.stable_index_theory:.4g}"),
            ("stable index (Hill estimate)", f"{self.stable_index_estimate:.4g}"),
            ("mean inverse participation", f"{self.mean_inverse_participation:.4g}"),
            ("effective contributors", f"{self.effective_contributors:.4g}"),
            ("regime", self.regime),
        ]
        width = max(len(k) for k, _ in rows)
        return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)

    def as_dict(self) -> dict:
        """The report as a plain dict (``spectrum`` included)."""
        return dict(self.__dict__)


def participation_stats(log_terms: np.ndarray, hill_k: int = 20):
    """Inverse participation ratio and Hill tail-rate of each row of log terms.

    ``log_terms[q, i] = log(w_i k(y_q, x_i))`` (``-inf`` for excluded terms).
    Returns ``(ipr, hill)`` arrays of shape (q,). The Hill estimate uses the ``k``
    largest terms: ``1 / mean_{j < k}(L_(j) - L_(k))``; ``nan`` when fewer than
    ``k + 1`` finite terms exist.
    """
    L = np.asarray(log_terms, dtype=np.float64)
    mx = L.max(axis=1, keepdims=True)
    safe = np.where(np.isfinite(mx), mx, 0.0)
    with np.errstate(under="ignore"):
        p = np.exp(L - safe)
    tot = p.sum(axis=1)
    ipr = np.where(tot > 0, (p * p).sum(axis=1) / np.where(tot > 0, tot, 1) ** 2, 1.0)
    k = int(min(hill_k, L.shape[1] - 1))
    hill = np.full(L.shape[0], np.nan)
    if k >= 2:
        top = -np.sort(-L, axis=1)[:, : k + 1]
        gaps = top[:, :k] - top[:, k : k + 1]
        ok = np.all(np.isfinite(top), axis=1)
        mean_gap = gaps[ok].mean(axis=1)
        with np.errstate(divide="ignore"):
            hill[ok] = np.where(mean_gap > 0, 1.0 / mean_gap, np.inf)
    return ipr, hill
