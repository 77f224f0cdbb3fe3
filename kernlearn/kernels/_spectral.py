"""Spectral mixture kernels: Gaussian or Student-t mixture spectra (1-D inputs).

By Bochner's theorem a stationary kernel is the Fourier transform of its
spectral density. With ``S(f) = sum_q w_q / 2 [N(f; mu_q, s_q^2) + N(f; -mu_q,
s_q^2)]`` (symmetric, so the kernel is real),

    k(tau) = sum_q w_q exp(-2 pi^2 s_q^2 tau^2) cos(2 pi mu_q tau)

(Wilson & Adams 2013). Each component is a frequency ``mu_q`` (cycles per unit
of ``x``) with a bandwidth ``s_q`` and a weight ``w_q``; learnt by marginal
likelihood, it finds the periodicities of the data and extrapolates them.
All three are hyperparameters in the log domain (``theta = log``), so the
optimiser moves weights multiplicatively: a weight that is not needed drifts
towards zero (the log-domain weights of Fang et al. 2024, equivalent to a
Jeffreys prior). For inputs on a grid, one kernel per axis in
:class:`kernlearn.gaussian_process.KroneckerGaussianProcessRegressor` gives
the product spectral mixture of GP-HM.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import gammaln
from sklearn.gaussian_process import kernels as sk

from ..backend._spec import _log_matern
from ..utils._special import log_kv
from ._base import KernlearnKernelMixin, _check_pair, _check_positive
from ._stationary import _matern_s_dg

_TWO_PI = 2.0 * math.pi


class SpectralMixture(KernlearnKernelMixin, sk.StationaryKernelMixin, sk.Kernel):
    """Spectral mixture kernel ``sum_q w_q exp(-2 pi^2 s_q^2 t^2) cos(2 pi mu_q t)``.

    A Gaussian mixture spectral density (Wilson & Adams 2013) for one input
    dimension: ``t = x - y``. Use one per axis in
    :class:`~kernlearn.gaussian_process.KroneckerGaussianProcessRegressor`
    for gridded data in several dimensions (GP-HM's product form).

    Parameters
    ----------
    weights : array-like of shape (n_components,), default=(1.0,)
        Component weights ``w_q > 0`` (variances; ``k(0) = sum w_q``).
    means : array-like of shape (n_components,), default=(1.0,)
        Component frequencies ``mu_q > 0``, in cycles per unit of ``x``.
    scales : array-like of shape (n_components,), default=(0.1,)
        Component spectral standard deviations ``s_q > 0`` (a length scale of
        ``1 / (2 pi s_q)``).
    weights_bounds, means_bounds, scales_bounds : pair of floats or "fixed"
        Bounds of the hyperparameters (``"fixed"`` freezes them).

    See Also
    --------
    SpectralMixture.from_periodogram : Initial frequencies from the data.

    References
    ----------
    .. [1] A. G. Wilson and R. P. Adams, "Gaussian process kernels for pattern
       discovery and extrapolation", ICML 2013.
    .. [2] S. Fang, M. Cooley, D. Long, S. Li, R. Kirby and S. Zhe, "Solving
       high frequency and multi-scale PDEs with Gaussian processes", ICLR 2024.

    Examples
    --------
    >>> import numpy as np
    >>> from kernlearn.kernels import SpectralMixture
    >>> k = SpectralMixture(weights=[1.0, 0.5], means=[1.0, 3.0], scales=[0.1, 0.1])
    >>> k(np.array([[0.0]]), np.array([[0.0], [0.5]])).round(4)
    array([[ 1.5   , -1.4278]])
    """

    def __init__(
        self,
        weights=(1.0,),
        means=(1.0,),
        scales=(0.1,),
        weights_bounds=(1e-8, 1e5),
        means_bounds=(1e-6, 1e6),
        scales_bounds=(1e-6, 1e6),
    ):
        self.weights = weights
        self.means = means
        self.scales = scales
        self.weights_bounds = weights_bounds
        self.means_bounds = means_bounds
        self.scales_bounds = scales_bounds

    def _n(self):
        return len(np.atleast_1d(self.weights))

    @property
    def hyperparameter_weights(self):
        """The ``weights`` hyperparameter (one element per component)."""
        return sk.Hyperparameter("weights", "numeric", self.weights_bounds, self._n())

    @property
    def hyperparameter_means(self):
        """The ``means`` hyperparameter (one element per component)."""
        return sk.Hyperparameter("means", "numeric", self.means_bounds, self._n())

    @property
    def hyperparameter_scales(self):
        """The ``scales`` hyperparameter (one element per component)."""
        return sk.Hyperparameter("scales", "numeric", self.scales_bounds, self._n())

    def _params(self):
        w = _check_positive(np.atleast_1d(self.weights), "weights")
        mu = _check_positive(np.atleast_1d(self.means), "means")
        s = _check_positive(np.atleast_1d(self.scales), "scales")
        if not (w.ndim == mu.ndim == s.ndim == 1 and len(w) == len(mu) == len(s)):
            raise ValueError(
                "weights, means and scales must be 1-D of one length (one entry "
                f"per component); got shapes {w.shape}, {mu.shape}, {s.shape}."
            )
        return w, mu, s

    def __call__(self, X, Y=None, eval_gradient=False):
        """Kernel matrix ``k(X, Y)`` and optionally its gradient.

        Parameters
        ----------
        X : ndarray of shape (n_samples_X, 1)
        Y : ndarray of shape (n_samples_Y, 1), default=None
        eval_gradient : bool, default=False
            Also return the gradient with respect to ``theta`` (the log of the
            weights, means and scales; only when ``Y`` is None).

        Returns
        -------
        K : ndarray of shape (n_samples_X, n_samples_Y)
        K_gradient : ndarray of shape (n_samples_X, n_samples_X, n_dims)
        """
        X, Y = _check_pair(X, Y)
        if X.shape[1] != 1:
            raise ValueError(
                f"SpectralMixture takes one input dimension, got {X.shape[1]}; "
                "use one kernel per axis (KroneckerGaussianProcessRegressor)."
            )
        if Y is not None and eval_gradient:
            raise ValueError("Gradient can only be evaluated when Y is None.")
        w, mu, s = self._params()
        t = X[:, 0][:, None] - (X if Y is None else Y)[:, 0][None, :]
        env, denv = self._envelope(t, s)  # (n, m, Q)
        phase = _TWO_PI * t[..., None] * mu
        cos = np.cos(phase)
        K = np.einsum("q,ijq->ij", w, env * cos)
        if not eval_gradient:
            return K
        parts = {
            "weights": lambda: w * env * cos,  # dK / dlog w
            "means": lambda: -w * env * np.sin(phase) * phase,  # dK / dlog mu
            "scales": lambda: w * denv() * cos,  # dK / dlog s
        }
        # theta follows self.hyperparameters (sorted by name)
        grads = [parts[hp.name]() for hp in self.hyperparameters if not hp.fixed]
        n = X.shape[0]
        return K, (np.concatenate(grads, axis=2) if grads else np.empty((n, n, 0)))

    def _envelope(self, t, s):
        """``(envelope, d envelope / d log s)`` of shape ``t.shape + (Q,)``."""
        a = -2.0 * math.pi**2 * (t[..., None] * s) ** 2
        env = np.exp(a)
        return env, lambda: 2.0 * a * env

    def _profile(self, u, order):
        """Envelope profile ``g(u)`` and its first ``order`` derivatives in
        ``u`` (``envelope(t) = g((2 pi s t)^2)``), each of shape ``u.shape``."""
        g = np.exp(-0.5 * u)
        return [(-0.5) ** j * g for j in range(order + 1)]

    def _profile_at_zero(self, j):
        """``g^(j)(0)`` (``inf`` where it does not exist)."""
        return (-0.5) ** j

    def derivatives(self, x, y=None, order=2, eval_gradient=False):
        """``d^p k(x, y) / dx^p`` for ``p = 0 .. order`` (1-D inputs).

        The derivative matrices of the kernel in its first argument, as a
        GP's conditional mean needs them for ``u^(p)(x) = k^(p)(x, X)
        K^{-1} u(X)`` (GP-HM's derivatives of the solution, Fang et al. 2024).
        Each component is ``w e(t) cos(b t)`` with ``b = 2 pi mu`` and the
        envelope ``e(t) = g(c t^2)``, ``c = (2 pi s)^2``, so by the chain rule
        ``e' = 2 c t g'``, ``e'' = 2 c g' + 4 c^2 t^2 g''``.

        Parameters
        ----------
        x : array-like of shape (n,)
        y : array-like of shape (m,), default=None (``y = x``)
        order : {0, 1, 2}, default=2
        eval_gradient : bool, default=False
            Also return the gradients with respect to ``theta``.

        Returns
        -------
        mats : list of ``order + 1`` ndarrays of shape (n, m)
        grads : list of ``order + 1`` ndarrays of shape (n, m, n_dims)
            Only with ``eval_gradient``; ``theta`` in the order of
            :attr:`theta` (means, scales, weights; fixed ones left out).

        Examples
        --------
        >>> import numpy as np
        >>> from kernlearn.kernels import SpectralMixture
        >>> k = SpectralMixture(weights=[1.0], means=[1.0], scales=[0.05])
        >>> K0, K1, K2 = k.derivatives(np.array([0.0, 0.3]))
        >>> bool(np.allclose(K2[0, 0], -(2 * np.pi) ** 2 * (1 + 0.05**2)))
        True
        """
        if order not in (0, 1, 2):
            raise ValueError(f"order must be 0, 1 or 2, got {order!r}.")
        x = np.asarray(x, dtype=np.float64).ravel()
        y = x if y is None else np.asarray(y, dtype=np.float64).ravel()
        w, mu, s = self._params()
        t = (x[:, None] - y[None, :])[..., None]  # (n, m, 1)
        c = (_TWO_PI * s) ** 2
        b = _TWO_PI * mu
        u = c * t * t
        jmax = order + (1 if eval_gradient else 0)
        g = self._profile(u, jmax)
        zero = u == 0.0
        uk = [np.ones_like(u), u, u * u]

        def term(j, k):  # u^k g^(j)(u), with its limit at u = 0
            out = uk[k] * g[j]
            if np.any(zero):
                lim = self._profile_at_zero(j) if k == 0 else 0.0
                out = np.where(zero, lim, out)
            return out

        e = [term(0, 0)]
        if order >= 1:
            e.append(2.0 * c * t * term(1, 0))
        if order >= 2:
            e.append(2.0 * c * term(1, 0) + 4.0 * c * term(2, 1))
        cos, sin = np.cos(b * t), np.sin(b * t)

        def assemble(e):
            out = [e[0] * cos]
            if order >= 1:
                out.append(e[1] * cos - b * e[0] * sin)
            if order >= 2:
                out.append(e[2] * cos - 2.0 * b * e[1] * sin - b * b * e[0] * cos)
            return out

        comps = assemble(e)  # per component, (n, m, Q)
        mats = [np.einsum("q,ijq->ij", w, m_) for m_ in comps]
        if not eval_gradient:
            return mats
        # d / dlog s: e -> E (c scales as s^2, u as c)
        E = [2.0 * term(1, 1)]
        if order >= 1:
            E.append(4.0 * c * t * (term(1, 0) + term(2, 1)))
        if order >= 2:
            E.append(
                4.0 * c * term(1, 0) + 20.0 * c * term(2, 1) + 8.0 * c * term(3, 2)
            )
        d_s = [w * m_ for m_ in assemble(E)]
        # d / dlog mu = b d/db, with d cos(bt)/db = -t sin, d sin(bt)/db = t cos
        bt = b * t
        d_mu = [-e[0] * bt * sin]
        if order >= 1:
            d_mu.append(-e[1] * bt * sin - b * e[0] * sin - b * e[0] * bt * cos)
        if order >= 2:
            d_mu.append(
                -e[2] * bt * sin
                - 2.0 * b * e[1] * sin
                - 2.0 * b * e[1] * bt * cos
                - 2.0 * b * b * e[0] * cos
                + b * b * e[0] * bt * sin
            )
        d_mu = [w * m_ for m_ in d_mu]
        d_w = [w * m_ for m_ in comps]
        parts = {"means": d_mu, "scales": d_s, "weights": d_w}
        names = [hp.name for hp in self.hyperparameters if not hp.fixed]
        n, m = t.shape[:2]
        grads = [
            np.concatenate([parts[nm][p] for nm in names], axis=2)
            if names
            else np.empty((n, m, 0))
            for p in range(order + 1)
        ]
        return mats, grads

    def diag(self, X):
        """``k(x, x) = sum_q w_q`` for every row of ``X``.

        Parameters
        ----------
        X : ndarray of shape (n_samples, 1)

        Returns
        -------
        K_diag : ndarray of shape (n_samples,)
        """
        X, _ = _check_pair(X, None)
        return np.full(X.shape[0], float(self._params()[0].sum()))

    def spectral_density(self, f):
        """The spectral density ``S(f)`` (symmetric, integrates to ``k(0)``).

        Parameters
        ----------
        f : array-like
            Frequencies in cycles per unit of ``x``.

        Returns
        -------
        S : ndarray of the shape of ``f``
        """
        w, mu, s = self._params()
        f = np.asarray(f, dtype=np.float64)[..., None]
        norm = 1.0 / (s * math.sqrt(2.0 * math.pi))
        g = np.exp(-0.5 * ((f - mu) / s) ** 2) + np.exp(-0.5 * ((f + mu) / s) ** 2)
        return (0.5 * w * norm * g).sum(axis=-1)

    @classmethod
    def from_periodogram(cls, x, y, n_components=1, *, scale=None):
        """Initial components at the highest peaks of the data's periodogram.

        Parameters
        ----------
        x : array-like of shape (n_samples,)
            Equally spaced inputs.
        y : array-like of shape (n_samples,)
            Values.
        n_components : int, default=1
        scale : float, default=None
            Spectral scale of every component; ``None`` uses the frequency
            resolution ``1 / (x_max - x_min)``.

        Returns
        -------
        kernel : SpectralMixture
            Weights share the variance of ``y`` in proportion to the peaks.
        """
        x = np.asarray(x, dtype=np.float64).ravel()
        y = np.asarray(y, dtype=np.float64).ravel()
        if len(x) != len(y) or len(x) < 4:
            raise ValueError("x and y need one value each and at least 4 points.")
        dx = np.diff(x)
        if not np.allclose(dx, dx[0], rtol=1e-6, atol=0):
            raise ValueError("from_periodogram needs equally spaced x.")
        power = np.abs(np.fft.rfft(y - y.mean())) ** 2
        freqs = np.fft.rfftfreq(len(x), d=dx[0])
        power[0] = 0.0
        # local maxima, highest first
        peaks = [
            i
            for i in range(1, len(power))
            if power[i] >= power[i - 1]
            and (i + 1 == len(power) or power[i] >= power[i + 1])
        ]
        peaks = sorted(peaks, key=lambda i: -power[i])[:n_components]
        if len(peaks) < n_components:
            raise ValueError(
                f"the periodogram has {len(peaks)} peaks, fewer than "
                f"n_components={n_components}."
            )
        p = power[peaks]
        var = float(np.var(y)) or 1.0
        res = 1.0 / (x[-1] - x[0]) if scale is None else float(scale)
        return cls(
            weights=var * p / p.sum(),
            means=freqs[peaks],
            scales=np.full(n_components, res),
        )

    def __repr__(self):
        w, mu, s = (np.atleast_1d(v) for v in (self.weights, self.means, self.scales))
        fmt = lambda a: "[" + ", ".join(f"{v:.4g}" for v in a) + "]"  # noqa: E731
        return f"SpectralMixture(weights={fmt(w)}, means={fmt(mu)}, scales={fmt(s)})"


class StudentTMixture(SpectralMixture):
    """Student-t mixture spectrum: ``sum_q w_q cos(2 pi mu_q t) m(2 pi rho_q t)``.

    The spectral density is a symmetric mixture of Student-t densities with
    ``nu`` degrees of freedom, locations ``+-mu_q`` and scales ``rho_q``. The
    Fourier transform of a Student-t density is a Matern correlation of order
    ``nu / 2`` (``m(r) = 2^{1-n} / Gamma(n) (sqrt(nu) r)^n K_n(sqrt(nu) r)``,
    ``n = nu / 2``), so each component is a cosine under a Matern envelope:
    heavier spectral tails than :class:`SpectralMixture` (rougher functions),
    the form GP-HM uses for multi-scale PDE solutions. Evaluated in log space
    through ``log K_n`` (no overflow or underflow at any distance or order).

    Parameters
    ----------
    weights, means, scales : array-like of shape (n_components,)
        As in :class:`SpectralMixture` (``scales`` are the Student-t scales).
    nu : float, default=3.0
        Degrees of freedom of the Student-t spectra (not optimised; larger is
        smoother, ``nu -> inf`` is :class:`SpectralMixture`).
    weights_bounds, means_bounds, scales_bounds : pair of floats or "fixed"

    References
    ----------
    .. [1] S. Fang, M. Cooley, D. Long, S. Li, R. Kirby and S. Zhe, "Solving
       high frequency and multi-scale PDEs with Gaussian processes", ICLR 2024.

    Examples
    --------
    >>> import numpy as np
    >>> from kernlearn.kernels import StudentTMixture
    >>> k = StudentTMixture(weights=[1.0], means=[2.0], scales=[0.2], nu=3.0)
    >>> k(np.array([[0.0]]), np.array([[0.0], [0.5]])).round(4)
    array([[1.    , 0.7033]])
    """

    def __init__(
        self,
        weights=(1.0,),
        means=(1.0,),
        scales=(0.1,),
        nu=3.0,
        weights_bounds=(1e-8, 1e5),
        means_bounds=(1e-6, 1e6),
        scales_bounds=(1e-6, 1e6),
    ):
        super().__init__(
            weights, means, scales, weights_bounds, means_bounds, scales_bounds
        )
        self.nu = nu

    def _order(self):
        nu = float(self.nu)
        if not (math.isfinite(nu) and nu > 0):
            raise ValueError(f"nu must be positive and finite, got {self.nu!r}.")
        return 0.5 * nu

    def _envelope(self, t, s):
        """``(envelope, d envelope / d log s)`` of shape ``t.shape + (Q,)``."""
        n = self._order()
        z = (_TWO_PI * t[..., None] * s) ** 2
        env = np.exp(_log_matern(n, z))
        return env, lambda: 2.0 * _matern_s_dg(n, z)

    def _profile(self, u, order):
        """Matern profile ``g(u)`` (``x = sqrt(2 n u)``, ``n = nu / 2``) and its
        derivatives: ``g^(j)(u) = (-n)^j C x^(n-j) K_(n-j)(x)``, from
        ``d/dx [x^m K_m(x)] = -x^m K_(m-1)(x)``, in log space."""
        n = self._order()
        x = np.sqrt(2.0 * n * u)
        pos = x > 0
        xp = x[pos]
        logc = (1.0 - n) * math.log(2.0) - gammaln(n)
        out = []
        for j in range(order + 1):
            m = n - j
            g = np.zeros_like(u)
            with np.errstate(under="ignore", over="ignore"):
                g[pos] = np.exp(logc + m * np.log(xp) + log_kv(abs(m), xp))
            out.append((-n) ** j * g)
        return out

    def _profile_at_zero(self, j):
        n = self._order()
        m = n - j
        if m <= 0:
            return math.inf
        # x^m K_m(x) -> 2^(m-1) Gamma(m) as x -> 0
        return (-n) ** j * math.exp(
            (1.0 - n) * math.log(2.0)
            - gammaln(n)
            + (m - 1) * math.log(2.0)
            + gammaln(m)
        )

    def spectral_density(self, f):
        """The Student-t mixture spectral density ``S(f)``.

        Parameters
        ----------
        f : array-like

        Returns
        -------
        S : ndarray of the shape of ``f``
        """
        w, mu, s = self._params()
        nu = 2.0 * self._order()
        f = np.asarray(f, dtype=np.float64)[..., None]
        c = math.exp(gammaln(0.5 * (nu + 1)) - gammaln(0.5 * nu)) / math.sqrt(
            nu * math.pi
        )

        def st(x):
            return c / s * (1.0 + (x / s) ** 2 / nu) ** (-0.5 * (nu + 1))

        return (0.5 * w * (st(f - mu) + st(f + mu))).sum(axis=-1)

    @classmethod
    def from_periodogram(cls, x, y, n_components=1, *, scale=None, nu=3.0):
        """As :meth:`SpectralMixture.from_periodogram`, with ``nu``.

        Parameters
        ----------
        x, y, n_components, scale
            As in :meth:`SpectralMixture.from_periodogram`.
        nu : float, default=3.0

        Returns
        -------
        kernel : StudentTMixture
        """
        k = SpectralMixture.from_periodogram(x, y, n_components, scale=scale)
        return cls(weights=k.weights, means=k.means, scales=k.scales, nu=nu)

    def __repr__(self):
        head = super().__repr__()[len("SpectralMixture(") : -1]
        return f"StudentTMixture({head}, nu={float(self.nu):.4g})"
