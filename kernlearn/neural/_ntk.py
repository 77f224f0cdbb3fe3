"""Infinite-width network kernels: NNGP, NTK, arc-cosine, and NTK regression.

A fully connected network with ``L`` hidden layers of width ``n`` in the NTK
parameterisation (Jacot et al. 2018) maps ``x`` in ``R^d`` to

.. code-block:: text

    h^1(x)     = sigma_w / sqrt(d) W^1 x + sigma_b b^1
    h^{l+1}(x) = sigma_w / sqrt(n) W^{l+1} phi(h^l(x)) + sigma_b b^{l+1}
    f(x)       = h^{L+1}(x)                              (one output)

with every entry of every ``W^l`` and ``b^l`` standard normal. As ``n -> inf``
each preactivation ``h^{l+1}`` becomes a centred Gaussian process (Neal 1996; Lee
et al. 2018) whose covariance obeys the recursion

.. code-block:: text

    Sigma^0(x, y)     = sigma_b^2 + sigma_w^2 x . y / d
    Sigma^{l+1}(x, y) = sigma_b^2 + sigma_w^2 E[phi(u) phi(v)]
    (u, v) ~ N(0, [[Sigma^l(x, x), Sigma^l(x, y)], [Sigma^l(x, y), Sigma^l(y, y)]])

so the output is the GP with covariance ``Sigma^L`` (the NNGP kernel), and the
neural tangent kernel ``Theta(x, y) = sum_p df(x)/dp df(y)/dp`` over all
parameters ``p`` converges to the deterministic

.. code-block:: text

    Theta^0     = Sigma^0
    Theta^{l+1} = Sigma^{l+1} + sigma_w^2 E[phi'(u) phi'(v)] Theta^l

(Jacot et al. 2018, Theorem 1; Arora et al. 2019, eq. 9), ``Theta = Theta^L``.
The term ``Sigma^{l+1}`` collects the gradients with respect to ``W^{l+1}`` and
``b^{l+1}``; the product carries those of the earlier layers back through
``phi'``.

The two expectations (the *dual activations*, Daniely et al. 2016) have closed
forms. With ``a = Sigma(x, x)``, ``b = Sigma(y, y)``, ``c = Sigma(x, y)``,
``cos(theta) = c / sqrt(a b)``:

- ReLU (arc-cosine kernels of order 1 and 0, Cho & Saul 2009):
  ``E[relu(u) relu(v)] = (sqrt(a b - c^2) + (pi - theta) c) / (2 pi)`` and
  ``E[1(u > 0) 1(v > 0)] = (pi - theta) / (2 pi)``;
- erf (Williams 1997): ``E[erf(u) erf(v)] = (2 / pi) arcsin(2 c / sqrt((1 + 2a)
  (1 + 2b)))`` and, from ``E[exp(-u^2 - v^2)] = det(I + 2 S)^(-1/2)``,
  ``E[erf'(u) erf'(v)] = (4 / pi) ((1 + 2a)(1 + 2b) - 4 c^2)^(-1/2)``;
- step (Heaviside): ``E[phi(u) phi(v)] = (pi - theta) / (2 pi)``; its derivative
  vanishes almost everywhere, so the NTK of a step network is its NNGP (only
  the read-out layer receives gradient).

A smooth callable activation is integrated by tensor Gauss-Hermite quadrature
after conditioning: ``u = sqrt(a) z1``, ``v = sqrt(b) (rho z1 + sqrt(1 - rho^2)
z2)`` with ``(z1, z2)`` independent standard normal.

References
----------
.. [1] A. Jacot, F. Gabriel and C. Hongler, "Neural Tangent Kernel: Convergence
   and Generalization in Neural Networks", NeurIPS 2018.
.. [2] J. Lee, Y. Bahri, R. Novak, S. S. Schoenholz, J. Pennington and
   J. Sohl-Dickstein, "Deep Neural Networks as Gaussian Processes", ICLR 2018.
.. [3] Y. Cho and L. K. Saul, "Kernel Methods for Deep Learning", NeurIPS 2009.
.. [4] S. Arora, S. S. Du, W. Hu, Z. Li, R. Salakhutdinov and R. Wang, "On Exact
   Computation with an Infinitely Wide Neural Net", NeurIPS 2019.
.. [5] C. K. I. Williams, "Computing with Infinite Networks", NeurIPS 1997.
.. [6] J. Lee, L. Xiao, S. S. Schoenholz, Y. Bahri, R. Novak, J. Sohl-Dickstein
   and J. Pennington, "Wide Neural Networks of Any Depth Evolve as Linear Models
   Under Gradient Descent", NeurIPS 2019.
"""

from __future__ import annotations

import numbers
from numbers import Real

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context, clone
from sklearn.gaussian_process import kernels as sk
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted, validate_data

from .._config import get_config
from ..backend._chunking import block_shape
from ..kernels._base import KernlearnKernelMixin, _check_pair
from ..kernels._dot_product import _auto_bounds

_TWO_PI = 2.0 * np.pi
#: Below this ``1 - rho^2`` two preactivations count as perfectly correlated.
_RHO_TOL = 1e-12
#: Correlations within this of +-1 are rounding noise of perfect correlation.
_SNAP = 1e-13


def _check_inputs(X, Y):
    X, Y = _check_pair(X, Y)
    for name, arr in (("X", X), ("Y", Y)):
        if arr is not None and not np.all(np.isfinite(arr)):
            raise ValueError(
                f"{name} contains NaN or infinity; impute or drop those entries "
                "before evaluating the kernel."
            )
    return X, Y


def _int_param(value, name, low):
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not float(value).is_integer()
        or value < low
    ):
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}.")
    return int(value)


def _angle(a, b, c):
    """``(rho, theta, 1 - rho^2)`` of the pair; ``rho = 0`` where ``a b = 0``.

    ``|rho|`` within ``_SNAP`` of 1 is rounded to 1. ``theta = arccos(rho)``
    grows like ``sqrt(2 (1 - rho))``, so rounding errors of ``1e-16`` in
    ``rho`` would become ``1e-8`` in ``theta`` and ``1e-4`` one layer further
    (a point and its copy in ``Y`` would no longer agree with ``k(x, x)``); the
    snap costs at most ``sqrt(2 _SNAP) / (2 pi) = 7e-8`` absolutely in the
    ReLU and step dual activations.
    """
    ab = a * b
    with np.errstate(divide="ignore", invalid="ignore"):
        rho = np.where(ab > 0, c / np.sqrt(np.where(ab > 0, ab, 1.0)), 0.0)
    rho = np.clip(rho, -1.0, 1.0)
    rho = np.where(np.abs(rho) >= 1.0 - _SNAP, np.sign(rho), rho)
    return rho, np.arccos(rho), np.maximum(1.0 - rho * rho, 0.0)


def _d_rho(a, b, c, rho, da, db, dc):
    """Tangent of ``rho = c / sqrt(a b)`` divided by ``sqrt(1 - rho^2)`` (the
    tangent of ``-theta``), set to 0 where the pair is perfectly correlated
    (there ``rho`` stays 1 along every direction the recursion moves in)."""
    ab = a * b
    one_m = 1.0 - rho * rho
    ok = (one_m > _RHO_TOL) & (ab > 0)
    safe_ab = np.where(ok, ab, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        drho = dc / np.sqrt(safe_ab) - 0.5 * rho * (
            da / np.where(a > 0, a, 1.0) + db / np.where(b > 0, b, 1.0)
        )
        out = drho / np.sqrt(np.where(ok, one_m, 1.0))
    return np.where(ok, out, 0.0)


class _Dual:
    """Dual activation: ``value`` = ``E[phi(u) phi(v)]`` and ``deriv`` =
    ``E[phi'(u) phi'(v)]`` with their forward-mode tangents (``analytic``)."""

    analytic = True
    bytes_per_pair = 8 * 24

    def value(self, a, b, c):  # pragma: no cover - abstract
        raise NotImplementedError

    def deriv(self, a, b, c):  # pragma: no cover - abstract
        raise NotImplementedError

    def value_tangent(self, a, b, c, da, db, dc):  # pragma: no cover - abstract
        raise NotImplementedError

    def deriv_tangent(self, a, b, c, da, db, dc):  # pragma: no cover - abstract
        raise NotImplementedError


class _ReLU(_Dual):
    def value(self, a, b, c):
        _, theta, one_m = _angle(a, b, c)
        s = np.sqrt(a * b * one_m)
        return (s + (np.pi - theta) * c) / _TWO_PI

    def deriv(self, a, b, c):
        _, theta, _ = _angle(a, b, c)
        return (np.pi - theta) / _TWO_PI

    def value_tangent(self, a, b, c, da, db, dc):
        # dF/da = sqrt(ab - c^2) / (4 pi a), dF/dc = E[phi' phi'] (Price).
        _, theta, one_m = _angle(a, b, c)
        s = np.sqrt(a * b * one_m)
        with np.errstate(divide="ignore", invalid="ignore"):
            fa = np.where(a > 0, s / (2.0 * _TWO_PI * np.where(a > 0, a, 1.0)), 0.0)
            fb = np.where(b > 0, s / (2.0 * _TWO_PI * np.where(b > 0, b, 1.0)), 0.0)
        return fa * da + fb * db + (np.pi - theta) / _TWO_PI * dc

    def deriv_tangent(self, a, b, c, da, db, dc):
        rho, _, _ = _angle(a, b, c)
        return _d_rho(a, b, c, rho, da, db, dc) / _TWO_PI


class _Step(_ReLU):
    def value(self, a, b, c):
        return _ReLU.deriv(self, a, b, c)

    def value_tangent(self, a, b, c, da, db, dc):
        return _ReLU.deriv_tangent(self, a, b, c, da, db, dc)

    def deriv(self, a, b, c):
        return np.zeros(np.broadcast(a, b, c).shape)

    def deriv_tangent(self, a, b, c, da, db, dc):
        return np.zeros(np.broadcast(a, b, c, da, db, dc).shape)


class _Erf(_Dual):
    def value(self, a, b, c):
        A, B = 1.0 + 2.0 * a, 1.0 + 2.0 * b
        return (2.0 / np.pi) * np.arcsin(np.clip(2.0 * c / np.sqrt(A * B), -1, 1))

    def deriv(self, a, b, c):
        A, B = 1.0 + 2.0 * a, 1.0 + 2.0 * b
        return (4.0 / np.pi) / np.sqrt(A * B - 4.0 * c * c)

    def value_tangent(self, a, b, c, da, db, dc):
        # r = 2c / sqrt(AB); dF = (2/pi) dr / sqrt(1 - r^2), 1 - r^2 = D / (AB).
        A, B = 1.0 + 2.0 * a, 1.0 + 2.0 * b
        AB = A * B
        r = 2.0 * c / np.sqrt(AB)
        dr = 2.0 * dc / np.sqrt(AB) - r * (da / A + db / B)
        return (2.0 / np.pi) * dr * np.sqrt(AB / (AB - 4.0 * c * c))

    def deriv_tangent(self, a, b, c, da, db, dc):
        A, B = 1.0 + 2.0 * a, 1.0 + 2.0 * b
        D = A * B - 4.0 * c * c
        dD = 2.0 * B * da + 2.0 * A * db - 8.0 * c * dc
        return -(2.0 / np.pi) * D**-1.5 * dD


class _ArcCosOrder2(_Dual):
    """``E[relu(u)^2 relu(v)^2] = a b J_2(theta) / (2 pi)`` (Cho & Saul)."""

    analytic = False

    def value(self, a, b, c):
        rho, theta, one_m = _angle(a, b, c)
        J2 = 3.0 * np.sqrt(one_m) * rho + (np.pi - theta) * (1.0 + 2.0 * rho * rho)
        return a * b * J2 / _TWO_PI


class _Quadrature(_Dual):
    """Gauss-Hermite quadrature (``m`` nodes per axis) for callables."""

    analytic = False

    def __init__(self, phi, dphi, m):
        self.phi, self.dphi, self.m = phi, dphi, m
        z, w = np.polynomial.hermite_e.hermegauss(m)
        self.z, self.w = z, w / np.sqrt(_TWO_PI)
        self.bytes_per_pair = 8 * (4 * m * m + 24)

    def _expect(self, f, a, b, c):
        a, b, c = np.broadcast_arrays(a, b, c)
        rho, _, one_m = _angle(a, b, c)
        z, w = self.z, self.w
        sa, sb = np.sqrt(a)[..., None], np.sqrt(b)[..., None, None]
        fu = np.asarray(f(sa * z), dtype=np.float64)  # (..., m): z1 nodes
        v = sb * (
            rho[..., None, None] * z[:, None]
            + np.sqrt(one_m)[..., None, None] * z[None, :]
        )  # (..., m1, m2)
        fv = np.asarray(f(v), dtype=np.float64) @ w
        return np.einsum("...p,...p,p->...", fu, fv, w)

    def value(self, a, b, c):
        return self._expect(self.phi, a, b, c)

    def deriv(self, a, b, c):
        return self._expect(self.dphi, a, b, c)


_DUALS = {"relu": _ReLU, "erf": _Erf, "step": _Step, "heaviside": _Step}


def _recursion(dual, G, a, b, w_var, b_var, depth, ntk, want_grad, scale=1.0):
    """NNGP / NTK of one block by the layer recursion, with optional tangents.

    ``G`` holds ``x . y`` (shape ``(nx, ny)``), ``a`` and ``b`` the squared norms
    shaped to broadcast against it, ``scale = 1 / d``. Tangents (leading axis
    0: ``log sigma_w^2``, 1: ``log sigma_b^2``) are propagated forward.
    """
    S = b_var + w_var * scale * G
    a = b_var + w_var * scale * a
    b = b_var + w_var * scale * b
    T = S if ntk else None
    if want_grad:
        dS = np.stack([S - b_var, np.full_like(S, b_var)])
        da = np.stack([a - b_var, np.full_like(a, b_var)])
        db = np.stack([b - b_var, np.full_like(b, b_var)])
        dT = dS if ntk else None
    for _ in range(depth):
        F = dual.value(a, b, S)
        if ntk:
            Fd = dual.deriv(a, b, S)
        if want_grad:
            dF = dual.value_tangent(a, b, S, da, db, dS)
            dS_new = w_var * dF
            dS_new[0] += w_var * F
            dS_new[1] += b_var
            if ntk:
                dFd = dual.deriv_tangent(a, b, S, da, db, dS)
                dT = dS_new + w_var * (dFd * T + Fd * dT)
                dT[0] += w_var * Fd * T
            fa = dual.value(a, a, a)
            fb = dual.value(b, b, b)
            da_new = w_var * dual.value_tangent(a, a, a, da, da, da)
            da_new[0] += w_var * fa
            da_new[1] += b_var
            db_new = w_var * dual.value_tangent(b, b, b, db, db, db)
            db_new[0] += w_var * fb
            db_new[1] += b_var
            dS, da, db = dS_new, da_new, db_new
        else:
            fa = dual.value(a, a, a)
            fb = dual.value(b, b, b)
        S_new = b_var + w_var * F
        if ntk:
            T = S_new + w_var * Fd * T
        S = S_new
        a, b = b_var + w_var * fa, b_var + w_var * fb
    out = T if ntk else S
    if not want_grad:
        return out, None
    return out, (dT if ntk else dS)


def _gram_block(X, Y, offset):
    """``X @ Y.T`` and the squared norms; where the block meets the diagonal of
    ``k(X, X)`` (row ``r`` is column ``r + offset``) the Gram entry is set to
    the norm, so a point is exactly perfectly correlated with itself."""
    G = X @ Y.T
    a = np.einsum("ij,ij->i", X, X)
    b = np.einsum("ij,ij->i", Y, Y)
    if offset is not None:
        r = np.arange(X.shape[0])
        c = r + offset
        keep = (c >= 0) & (c < Y.shape[0])
        G[r[keep], c[keep]] = a[keep]
    return G, a, b


class _WideNetworkKernel(KernlearnKernelMixin, sk.Kernel):
    """Shared machinery of :class:`NNGPKernel` and :class:`NTKKernel`."""

    _ntk = False

    def __init__(
        self,
        depth=1,
        activation="relu",
        weight_variance=1.0,
        bias_variance=0.0,
        weight_variance_bounds=(1e-5, 1e5),
        bias_variance_bounds="auto",
        activation_derivative=None,
        n_quadrature=64,
    ):
        self.depth = depth
        self.activation = activation
        self.weight_variance = weight_variance
        self.bias_variance = bias_variance
        self.weight_variance_bounds = weight_variance_bounds
        self.bias_variance_bounds = bias_variance_bounds
        self.activation_derivative = activation_derivative
        self.n_quadrature = n_quadrature

    @property
    def hyperparameter_weight_variance(self):
        """The ``weight_variance`` (``sigma_w^2``) hyperparameter."""
        return sk.Hyperparameter(
            "weight_variance", "numeric", self.weight_variance_bounds
        )

    @property
    def hyperparameter_bias_variance(self):
        """The ``bias_variance`` (``sigma_b^2``) hyperparameter (fixed when 0
        under ``"auto"``: its logarithm is undefined)."""
        return sk.Hyperparameter(
            "bias_variance",
            "numeric",
            _auto_bounds(self.bias_variance, self.bias_variance_bounds),
        )

    def _checked(self):
        depth = _int_param(self.depth, "depth", 1)
        act = self.activation
        if callable(act):
            if self._ntk and not callable(self.activation_derivative):
                raise ValueError(
                    "A callable activation needs its derivative: pass "
                    "activation_derivative=callable (the NTK integrates phi')."
                )
            m = _int_param(self.n_quadrature, "n_quadrature", 2)
            dphi = self.activation_derivative
            dual = _Quadrature(act, dphi, m)
        elif isinstance(act, str) and act in _DUALS:
            dual = _DUALS[act]()
        else:
            raise ValueError(
                f"activation must be one of {sorted(_DUALS)} or a callable (with "
                f"activation_derivative), got {act!r}."
            )
        w_var = _finite(self.weight_variance, "weight_variance")
        b_var = _finite(self.bias_variance, "bias_variance")
        if not w_var > 0:
            raise ValueError(
                f"weight_variance must be positive, got {self.weight_variance!r}."
            )
        if b_var < 0:
            raise ValueError(
                f"bias_variance must be non-negative, got {self.bias_variance!r}."
            )
        return depth, dual, w_var, b_var

    def _block(self, X, Y, dual, w_var, b_var, depth, want_grad, offset=None):
        G, a, b = _gram_block(X, Y, offset)
        return _recursion(
            dual,
            G,
            a[:, None],
            b[None, :],
            w_var,
            b_var,
            depth,
            self._ntk,
            want_grad,
            scale=1.0 / X.shape[1],
        )

    def __call__(self, X, Y=None, eval_gradient=False):
        """Kernel matrix ``k(X, Y)`` and optionally its gradient.

        Evaluated in blocks whose temporaries fit ``working_memory`` (see
        :func:`kernlearn.get_config`), so only the output is held in full.

        Parameters
        ----------
        X : ndarray of shape (n_samples_X, n_features)
            Left argument.
        Y : ndarray of shape (n_samples_Y, n_features), default=None
            Right argument; ``None`` evaluates ``k(X, X)``.
        eval_gradient : bool, default=False
            Also return the gradient with respect to the log of the
            hyperparameters (only when ``Y`` is None). Analytic (forward mode
            through the recursion) for the named activations; central finite
            differences in log space (step ``1e-4``, error about ``1e-8``
            relative) for a callable activation.

        Returns
        -------
        K : ndarray of shape (n_samples_X, n_samples_Y)
            Kernel values.
        K_gradient : ndarray of shape (n_samples_X, n_samples_X, n_dims)
            Only when ``eval_gradient`` is True; the last axis follows ``theta``.
        """
        X, Y = _check_inputs(X, Y)
        if Y is not None and eval_gradient:
            raise ValueError("Gradient can only be evaluated when Y is None.")
        depth, dual, w_var, b_var = self._checked()
        Yv = X if Y is None else Y
        n, m = X.shape[0], Yv.shape[0]
        want_grad = eval_gradient and dual.analytic
        per_pair = dual.bytes_per_pair * (3 if want_grad else 1)
        rows, cols = block_shape(n, m, per_pair, get_config()["working_memory"])
        K = np.empty((n, m))
        free = [hp.name for hp in self.hyperparameters if not hp.fixed]
        dK = np.empty((n, m, len(free))) if want_grad else None
        index = [["weight_variance", "bias_variance"].index(f) for f in free]
        for i in range(0, n, rows):
            for j in range(0, m, cols):
                out, grad = self._block(
                    X[i : i + rows], Yv[j : j + cols], dual, w_var, b_var, depth,
                    want_grad, None if Y is not None else i - j,
                )  # fmt: skip
                K[i : i + rows, j : j + cols] = out
                if want_grad:
                    for k, idx in enumerate(index):
                        dK[i : i + rows, j : j + cols, k] = grad[idx]
        if not eval_gradient:
            return K
        if want_grad:
            return K, dK
        return K, self._fd_gradient(X, free)

    def _fd_gradient(self, X, free, step=1e-4):
        """Central differences of ``k(X, X)`` in the log hyperparameters."""
        grads = np.empty((X.shape[0], X.shape[0], len(free)))
        for k, name in enumerate(free):
            value = getattr(self, name)
            plus = clone(self).set_params(**{name: value * np.exp(step)})
            minus = clone(self).set_params(**{name: value * np.exp(-step)})
            grads[:, :, k] = (plus(X) - minus(X)) / (2.0 * step)
        return grads

    def diag(self, X):
        """Diagonal ``k(x, x)`` of ``k(X, X)`` in ``O(n_samples)``.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            Argument of the kernel.

        Returns
        -------
        K_diag : ndarray of shape (n_samples,)
            Diagonal of ``k(X, X)``.
        """
        X, _ = _check_inputs(X, None)
        depth, dual, w_var, b_var = self._checked()
        sq = np.einsum("ij,ij->i", X, X)
        out, _ = _recursion(
            dual, sq, sq, sq, w_var, b_var, depth, self._ntk, False, 1.0 / X.shape[1]
        )
        return out

    def is_stationary(self):
        """Whether the kernel is stationary: False."""
        return False

    def __repr__(self):
        act = self.activation
        act = act if isinstance(act, str) else getattr(act, "__name__", repr(act))
        return (
            f"{type(self).__name__}(depth={self.depth!r}, activation={act!r}, "
            f"weight_variance={self.weight_variance:.3g}, "
            f"bias_variance={self.bias_variance:.3g})"
        )


def _finite(value, name):
    try:
        out = float(value)
    except (TypeError, ValueError):
        out = np.nan
    if not np.isfinite(out):
        raise ValueError(f"{name} must be a finite number, got {value!r}.")
    return out


_KERNEL_PARAMETERS = """
    Parameters
    ----------
    depth : int, default=1
        Number ``L >= 1`` of hidden layers (fixed, not a hyperparameter).
    activation : {"relu", "erf", "step", "heaviside"} or callable, default="relu"
        Nonlinearity ``phi``. Named ones use closed forms; a callable ``phi``
        (vectorised over numpy arrays) is integrated by ``n_quadrature`` x
        ``n_quadrature`` Gauss-Hermite quadrature.
    weight_variance : float, default=1.0
        ``sigma_w^2 > 0``, variance scale of every weight layer.
    bias_variance : float, default=0.0
        ``sigma_b^2 >= 0``, variance of the biases.
    weight_variance_bounds : pair of floats >= 0 or "fixed", default=(1e-5, 1e5)
        Bounds for optimising ``weight_variance``.
    bias_variance_bounds : pair of floats >= 0, "fixed" or "auto", default="auto"
        Bounds for optimising ``bias_variance``; ``"auto"`` means ``(1e-5, 1e5)``
        when ``bias_variance > 0`` and ``"fixed"`` when it is 0.
    activation_derivative : callable, default=None
        ``phi'`` for a callable ``activation``; needed by the NTK.
    n_quadrature : int, default=64
        Gauss-Hermite nodes per axis for a callable activation (costs
        ``n_quadrature^2`` evaluations of ``phi`` per pair and layer). The
        integrand ``phi(sqrt(Sigma) z)`` sharpens as ``Sigma`` grows, so the
        error depends on the scale: for erf at depth 2 on standard normal
        inputs the relative error is about 2e-3 / 1e-4 / 1e-7 (NNGP) and
        2e-2 / 2e-3 / 3e-6 (NTK, whose ``phi'`` is a narrow bump) with 20 / 32 /
        64 nodes. Kinks (ReLU) converge only algebraically (about 1e-2 at 40).
"""


class NNGPKernel(_WideNetworkKernel):
    __doc__ = (
        """Neural network Gaussian process (NNGP) kernel of a deep network.

    The covariance ``Sigma^L(x, y)`` of the output of a fully connected network
    with ``L`` hidden layers at initialisation, in the limit of infinite width
    (Neal 1996; Lee et al. 2018): ``Sigma^0 = sigma_b^2 + sigma_w^2 x . y / d``
    and ``Sigma^{l+1} = sigma_b^2 + sigma_w^2 E[phi(u) phi(v)]`` over
    ``(u, v) ~ N(0, Sigma^l restricted to {x, y})``; see
    :mod:`kernlearn.neural._ntk` for the closed forms. Exact Bayesian inference
    in the infinite network is Gaussian-process regression with this kernel.
    """
        + _KERNEL_PARAMETERS
        + """
    See Also
    --------
    NTKKernel : The neural tangent kernel of the same network.
    ArcCosineKernel : Cho & Saul's kernels (``relu`` NNGP with ``sigma_w^2 = 2``).

    References
    ----------
    .. [1] J. Lee, Y. Bahri, R. Novak, S. S. Schoenholz, J. Pennington and
       J. Sohl-Dickstein, "Deep Neural Networks as Gaussian Processes", ICLR 2018.
    .. [2] R. M. Neal, "Bayesian Learning for Neural Networks", Springer, 1996.

    Examples
    --------
    >>> import numpy as np
    >>> from kernlearn.neural._ntk import NNGPKernel
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> k = NNGPKernel(depth=1, weight_variance=2.0)
    >>> k(X).round(4)  # off the diagonal: 2 sin(pi / 2) / (2 pi) = 1 / pi
    array([[1.    , 0.3183],
           [0.3183, 1.    ]])
    >>> k.theta  # log(weight_variance); bias_variance = 0 is fixed
    array([0.69314718])
    """
    )


class NTKKernel(_WideNetworkKernel):
    __doc__ = (
        """Neural tangent kernel (NTK) of a deep network in NTK parameterisation.

    The limit ``Theta^L(x, y) = sum_p df(x)/dp df(y)/dp`` of the gradient inner
    product over all weights and biases of a fully connected network with ``L``
    hidden layers as the width tends to infinity (Jacot et al. 2018):
    ``Theta^0 = Sigma^0``, ``Theta^{l+1} = Sigma^{l+1} + sigma_w^2
    E[phi'(u) phi'(v)] Theta^l`` (Arora et al. 2019). Gradient flow on the
    squared loss trains the infinite network as kernel regression with this
    kernel (see :class:`NTKRegressor`). For ``"step"`` the a.e. derivative is
    0 and the NTK equals the NNGP.
    """
        + _KERNEL_PARAMETERS
        + """
    See Also
    --------
    NNGPKernel : The output covariance of the same network at initialisation.
    NTKRegressor : The network trained by gradient flow, in closed form.

    References
    ----------
    .. [1] A. Jacot, F. Gabriel and C. Hongler, "Neural Tangent Kernel:
       Convergence and Generalization in Neural Networks", NeurIPS 2018.
    .. [2] S. Arora, S. S. Du, W. Hu, Z. Li, R. Salakhutdinov and R. Wang, "On
       Exact Computation with an Infinitely Wide Neural Net", NeurIPS 2019.

    Examples
    --------
    >>> import numpy as np
    >>> from kernlearn.neural._ntk import NTKKernel
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> NTKKernel(depth=1, weight_variance=2.0)(X).round(4)  # 1 + 2 (1/2) 1 = 2
    array([[2.    , 0.3183],
           [0.3183, 2.    ]])
    """
    )

    _ntk = True


class ArcCosineKernel(KernlearnKernelMixin, sk.Kernel):
    """Arc-cosine kernel of order 0, 1 or 2 composed ``depth`` times.

    Cho & Saul's kernel ``k_n(x, y) = |x|^n |y|^n J_n(theta) / pi`` with
    ``cos(theta) = x . y / (|x| |y|)`` and ``J_0 = pi - theta``, ``J_1 = sin(theta)
    + (pi - theta) cos(theta)``, ``J_2 = 3 sin(theta) cos(theta) + (pi - theta)
    (1 + 2 cos^2(theta))``. It equals ``2 E[H(w.x) H(w.y) (w.x)^n (w.y)^n]`` over
    ``w ~ N(0, I)`` (``H`` the Heaviside step): the NNGP of one hidden layer of
    ``relu^n`` units with ``sigma_w^2 = 2`` and no ``1 / d`` input scaling.
    Depth ``L`` composes it (their eq. 8): ``k^{(l+1)}(x, y) = (k^{(l)}(x, x)
    k^{(l)}(y, y))^{n/2} J_n(theta^{(l)}) / pi`` with ``theta^{(l)}`` the angle
    of ``k^{(l)}``. No hyperparameters.

    Parameters
    ----------
    order : {0, 1, 2}, default=1
        ``n``: 0 (step units), 1 (ReLU) or 2 (squared ReLU).
    depth : int, default=1
        Number of compositions ``L >= 1``.

    See Also
    --------
    NNGPKernel : The NNGP of general networks; ``NNGPKernel(depth,
        "relu", weight_variance=2)`` at ``x sqrt(d / 2)`` is this kernel with
        ``order=1``.

    References
    ----------
    .. [1] Y. Cho and L. K. Saul, "Kernel Methods for Deep Learning", NeurIPS 2009.

    Examples
    --------
    >>> import numpy as np
    >>> from kernlearn.neural._ntk import ArcCosineKernel
    >>> X = np.array([[1.0, 0.0], [1.0, 1.0]])
    >>> ArcCosineKernel(order=0)(X).round(4)  # 1 - theta / pi
    array([[1.  , 0.75],
           [0.75, 1.  ]])
    >>> ArcCosineKernel(order=1, depth=2).diag(X)  # |x|^2 is kept at every depth
    array([1., 2.])
    """

    def __init__(self, order=1, depth=1):
        self.order = order
        self.depth = depth

    def _checked(self):
        order = self.order
        if isinstance(order, bool) or order not in (0, 1, 2):
            raise ValueError(f"order must be 0, 1 or 2, got {order!r}.")
        dual = {0: _Step, 1: _ReLU, 2: _ArcCosOrder2}[int(order)]()
        return _int_param(self.depth, "depth", 1), dual

    def __call__(self, X, Y=None, eval_gradient=False):
        """Kernel matrix ``k(X, Y)`` (and an empty gradient: no hyperparameters).

        Parameters
        ----------
        X : ndarray of shape (n_samples_X, n_features)
            Left argument.
        Y : ndarray of shape (n_samples_Y, n_features), default=None
            Right argument; ``None`` evaluates ``k(X, X)``.
        eval_gradient : bool, default=False
            Also return the (empty) gradient; only when ``Y`` is None.

        Returns
        -------
        K : ndarray of shape (n_samples_X, n_samples_Y)
            Kernel values.
        K_gradient : ndarray of shape (n_samples_X, n_samples_X, 0)
            Only when ``eval_gradient`` is True.
        """
        X, Y = _check_inputs(X, Y)
        if Y is not None and eval_gradient:
            raise ValueError("Gradient can only be evaluated when Y is None.")
        depth, dual = self._checked()
        Yv = X if Y is None else Y
        n, m = X.shape[0], Yv.shape[0]
        rows, cols = block_shape(
            n, m, dual.bytes_per_pair, get_config()["working_memory"]
        )
        K = np.empty((n, m))
        for i in range(0, n, rows):
            for j in range(0, m, cols):
                G, a, b = _gram_block(
                    X[i : i + rows], Yv[j : j + cols], None if Y is not None else i - j
                )
                K[i : i + rows, j : j + cols], _ = _recursion(
                    dual,
                    G,
                    a[:, None],
                    b[None, :],
                    2.0,
                    0.0,
                    depth,
                    False,
                    False,
                    scale=0.5,
                )
        if eval_gradient:
            return K, np.empty((n, n, 0))
        return K

    def diag(self, X):
        """Diagonal ``k(x, x)`` of ``k(X, X)``.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            Argument of the kernel.

        Returns
        -------
        K_diag : ndarray of shape (n_samples,)
            Diagonal of ``k(X, X)``.
        """
        X, _ = _check_inputs(X, None)
        depth, dual = self._checked()
        sq = np.einsum("ij,ij->i", X, X)
        out, _ = _recursion(dual, sq, sq, sq, 2.0, 0.0, depth, False, False, 0.5)
        return out

    def is_stationary(self):
        """Whether the kernel is stationary: False."""
        return False

    def __repr__(self):
        return f"{type(self).__name__}(order={self.order!r}, depth={self.depth!r})"


class NTKRegressor(RegressorMixin, BaseEstimator):
    """Infinite-width network trained by gradient flow on the squared loss.

    A network in the NTK regime (Jacot et al. 2018; Lee et al. 2019) trained by
    gradient flow ``dp/dt = -eta grad_p L`` on the mean squared loss with an
    absolute ridge penalty on the parameters' displacement,

    .. code-block:: text

        L(p) = (1 / 2n) (sum_i (f(x_i) - y_i)^2 + ridge |p - p_0|^2),

    evolves as its linearisation, a linear model with kernel ``Theta``. With
    ``f_t = Theta(., X) alpha_t`` the flow reads ``d alpha / dt = -(eta / n)
    ((Theta + ridge I) alpha - y)``, so from ``alpha_0 = 0``

    .. code-block:: text

        alpha_t = (Theta + ridge I)^{-1} (I - exp(-eta t (Theta + ridge I) / n)) y
        f_t(x)  = Theta(x, X) alpha_t

    (``Theta = Theta(X, X)``), computed through the eigendecomposition
    ``Theta = V diag(lambda) V^T``: ``alpha_t = V diag(g(lambda + ridge))
    V^T y`` with ``g(s) = (1 - exp(-eta t s / n)) / s``, ``g(0) = eta t / n``.
    ``time = inf`` gives kernel ridge regression ``(Theta + ridge I)^{-1} y``
    (the pseudo-inverse on a numerically null eigenspace when ``ridge = 0``);
    ``time = 0`` predicts 0.

    The network starts from zero output: the prediction is the mean of the
    trained infinite network over its random initialisation, whose output at
    ``t = 0`` is the centred NNGP (the initial function only adds a zero-mean
    term, Lee et al. 2019, eq. 16).

    Parameters
    ----------
    kernel : kernel instance, default=None
        The tangent kernel; ``None`` means :class:`NTKKernel` (``depth=1``,
        ReLU). Any scikit-learn kernel works (e.g. :class:`NNGPKernel` gives
        the network trained only in its read-out layer).
    time : float, default=np.inf
        Training time ``t >= 0`` of the gradient flow.
    ridge : float, default=0.0
        Absolute regularisation ``>= 0`` added to ``Theta(X, X)`` (the
        ``alpha`` of :class:`sklearn.kernel_ridge.KernelRidge`, not scaled by
        ``n``).
    learning_rate : float, default=1.0
        Positive rate ``eta`` of the flow; only ``eta t`` matters.

    Attributes
    ----------
    kernel_ : kernel instance
        Clone of ``kernel`` used in the fit.
    X_fit_ : ndarray of shape (n_samples, n_features)
        Training inputs.
    dual_coef_ : ndarray of shape (n_samples,) or (n_samples, n_targets)
        ``alpha_t``.
    eigenvalues_ : ndarray of shape (n_samples,)
        Eigenvalues of ``Theta(X, X)`` (ascending).
    n_features_in_ : int
        Number of features seen in fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Defined only when ``X`` has string feature names.

    See Also
    --------
    NTKKernel : The default kernel.
    sklearn.kernel_ridge.KernelRidge : The ``time = inf`` limit.

    References
    ----------
    .. [1] A. Jacot, F. Gabriel and C. Hongler, "Neural Tangent Kernel:
       Convergence and Generalization in Neural Networks", NeurIPS 2018.
    .. [2] J. Lee, L. Xiao, S. S. Schoenholz, Y. Bahri, R. Novak, J. Sohl-Dickstein
       and J. Pennington, "Wide Neural Networks of Any Depth Evolve as Linear
       Models Under Gradient Descent", NeurIPS 2019.

    Examples
    --------
    >>> import numpy as np
    >>> from kernlearn.neural._ntk import NTKKernel, NTKRegressor
    >>> X = np.linspace(-1, 1, 5).reshape(-1, 1)
    >>> y = X.ravel() ** 2
    >>> kernel = NTKKernel(depth=2, bias_variance=0.1)
    >>> NTKRegressor(kernel).fit(X, y).predict(X).round(6) + 0.0  # t = inf
    array([1.  , 0.25, 0.  , 0.25, 1.  ])
    >>> NTKRegressor(kernel, time=1.0).fit(X, y).predict(X).round(3)
    array([0.244, 0.162, 0.11 , 0.162, 0.244])
    >>> NTKRegressor(kernel, time=0.0).fit(X, y).predict(X)
    array([0., 0., 0., 0., 0.])
    """

    _parameter_constraints: dict = {
        "kernel": [None, sk.Kernel],
        "time": [Interval(Real, 0, None, closed="both")],
        "ridge": [Interval(Real, 0, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(self, kernel=None, *, time=np.inf, ridge=0.0, learning_rate=1.0):
        self.kernel = kernel
        self.time = time
        self.ridge = ridge
        self.learning_rate = learning_rate

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Train the infinite network on ``(X, y)`` for time ``time``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training inputs.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Targets.

        Returns
        -------
        self : NTKRegressor
            Fitted estimator.
        """
        X, y = validate_data(
            self, X, y, dtype=np.float64, multi_output=True, y_numeric=True
        )
        kernel = NTKKernel() if self.kernel is None else clone(self.kernel)
        n = X.shape[0]
        K = kernel(X)
        lam, V = np.linalg.eigh(0.5 * (K + K.T))
        s = lam + float(self.ridge)
        eta_t = float(self.learning_rate) * float(self.time)
        if np.isinf(eta_t):
            # Pseudo-inverse: eigenvalues at rounding level of the largest are 0.
            tol = max(n, 1) * np.finfo(np.float64).eps * max(np.abs(s).max(), 1e-300)
            big = np.abs(s) > tol
            g = np.zeros_like(s)
            g[big] = 1.0 / s[big]
        else:
            r = eta_t / n
            x = r * s
            with np.errstate(divide="ignore", invalid="ignore"):
                g = np.where(np.abs(x) > 1e-12, -np.expm1(-x) / s, r * (1 - 0.5 * x))
        coef = V @ (g[:, None] * (V.T @ y.reshape(n, -1)))
        self.kernel_ = kernel
        self.X_fit_ = X
        self.eigenvalues_ = lam
        self.dual_coef_ = coef.reshape(y.shape)
        return self

    def predict(self, X):
        """Output ``f_t(X) = Theta(X, X_fit) alpha_t`` of the trained network.

        Parameters
        ----------
        X : array-like of shape (n_queries, n_features)
            Query inputs.

        Returns
        -------
        y_pred : ndarray of shape (n_queries,) or (n_queries, n_targets)
            Predictions.
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return self.kernel_(X, self.X_fit_) @ self.dual_coef_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.target_tags.multi_output = True
        return tags
