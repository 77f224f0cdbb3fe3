"""Scalable neural network kernels (SNNK): dense layers as random-feature dot products.

A dense layer computes ``f(w . x + b)`` for every unit ``(w, b)``. Sehanobish et al.
(2024) write it as an expectation of a dot product of two random maps, one of the
parameters only and one of the input only::

    f(w . x + b) = E_G[ Phi(w, b) . Psi(x) ],

so a layer becomes ``Psi(X) @ Phi(W, b).T``: the input and the parameters meet only
in a final linear map, which can be learned in closed form ("bundling").

The identities used here all come from one Gaussian moment generating function: for
``g ~ N(0, I_d)`` and any complex vector ``z``, ``E[exp(g . z)] = exp(z . z / 2)``
(``z . z`` without conjugation). With ``z = u + x``,

    E[exp(g . u - |u|^2 / 2) exp(g . x - |x|^2 / 2)] = exp(u . x)         (1)

which is the positive random feature identity of the softmax kernel (Performer,
FAVOR+). With ``u = i w`` instead (``u . u = -|w|^2``),

    E[exp(i g . w + |w|^2 / 2) exp(g . x - |x|^2 / 2)] = exp(i w . x)     (2)

and taking real and imaginary parts of ``exp(i b)`` times (2),

    cos(w . x + b) = E[ exp(|w|^2 / 2) cos(g . w + b) * exp(g . x - |x|^2 / 2) ]
    sin(w . x + b) = E[ exp(|w|^2 / 2) sin(g . w + b) * exp(g . x - |x|^2 / 2) ]
    exp(w . x + b) = E[ exp(g . w - |w|^2 / 2 + b)  * exp(g . x - |x|^2 / 2) ]

This is the paper's universal random feature (URF) construction instantiated for the
frequencies ``xi = +-1`` (cos, sin) and ``xi = -i`` (exp): ``f(w . x + b) =
int fhat(xi) exp(i xi (w . x + b)) dxi`` and each ``exp(i xi w . x)`` is factorised
by (2) with ``w`` replaced by ``xi w``. The three activations share the input map
``Psi(x) = exp(G x - |x|^2 / 2) / sqrt(m)``; only ``Phi`` differs. Averaging over
``m`` rows of ``G`` gives unbiased estimators whose variances are closed forms
(:meth:`SNNKFeatures.estimator_variance`).

**Variance and the ``scale`` parameter.** For one random row the second moment of
the cos/sin/exp estimators is of the order ``exp(|w|^2 + |x|^2)`` (exp:
``exp(|w|^2 + |x|^2 + 4 w . x)``), so it explodes with the norms. Since ``w . x =
(s w) . (x / s)`` for any ``s > 0``, the estimators are applied to the rescaled pair
``(s w, x / s)``: still unbiased for every ``s``, with variance governed by
``s^2 |w|^2 + |x|^2 / s^2``, smallest near ``s^2 = |x| / |w|``. Standardise the
inputs and pick ``s`` from typical norms (``sqrt(median |x| / median |w|)``).

**ReLU.** ReLU has no such factorisation. Its SNNK uses ``Psi(x) = sqrt(2 / m)
ReLU(G x~)`` and ``Phi(w, b) = sqrt(2 / m) ReLU(G w~)`` on the augmented vectors
``x~ = (x, 1)`` and ``w~ = (w, b)``, so that ``Phi . Psi`` is an unbiased estimate of
the order-1 arc-cosine kernel of Cho and Saul (2009)::

    k1(w~, x~) = 2 E[ReLU(g . w~) ReLU(g . x~)]
               = |w~| |x~| (sin t + (pi - t) cos t) / pi,   t = angle(w~, x~),

**not** of ``ReLU(w . x + b)``. The two agree when ``x~`` and ``w~`` point the same
way (``t = 0``: both equal ``|w~| |x~|``); ReLU is zero for every ``t >= pi / 2``
while ``k1`` is positive up to ``t = pi``: ``k1`` is a smooth, positive surrogate
of the ReLU unit. A ReLU SNNK is thus a new layer with the same parameters, not a
compression of the old one; this is the paper's ReLU-SNNK, and :class:`SNNKLayer`
reports its error both against ``k1`` and against the true layer.

**Bundling.** In a network whose last SNNK layer feeds a linear head, ``Phi(W, b)``
only enters through a linear map, so it can be absorbed in the head and learned in
closed form. :class:`BundledSNNKRegressor` and :class:`BundledSNNKClassifier` stack
input maps ``Psi`` with independent random projections (a random "tower"),
concatenate several towers and fit a ridge or logistic head: no backpropagation.
For ReLU a tower of depth ``L`` is the random-feature map of the depth-``L``
arc-cosine kernel (Cho and Saul's recursion).

References
----------
A. Sehanobish, K. Choromanski, Y. Zhao, A. Dubey and V. Likhosherstov, "Scalable
Neural Network Kernels", ICLR 2024, arXiv:2310.13225.

K. Choromanski et al., "Rethinking Attention with Performers", ICLR 2021.

Y. Cho and L. K. Saul, "Kernel Methods for Deep Learning", NeurIPS 2009.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    RegressorMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.utils import check_random_state, gen_batches
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from .._config import get_config
from ..kernel_approximation._fourier import arccos_kernel as arc_cosine_kernel

ACTIVATIONS = ("cos", "sin", "exp", "relu")
TOWER_ACTIVATIONS = ("relu", "exp")


# ---------------------------------------------------------------- the two maps
def _row_batches(n_rows, floats_per_row):
    """Row slices whose float64 working set fits ``working_memory`` (MiB)."""
    budget = get_config()["working_memory"] * (1 << 20)
    size = max(1, int(budget // (8 * max(1, floats_per_row))))
    return gen_batches(n_rows, size)


def _augment(A):
    return np.hstack([A, np.ones((A.shape[0], 1))])


def _psi(X, G, activation, scale):
    """Input map ``Psi`` of shape ``(n_samples, m)``, rows of ``G`` the projections."""
    m = G.shape[0]
    out = np.empty((X.shape[0], m))
    for sl in _row_batches(X.shape[0], 2 * m):
        if activation == "relu":
            Z = (_augment(X[sl]) / scale) @ G.T
            out[sl] = np.sqrt(2.0 / m) * np.maximum(Z, 0.0)
        else:
            Xs = X[sl] / scale
            Z = Xs @ G.T - 0.5 * np.einsum("ij,ij->i", Xs, Xs)[:, None]
            out[sl] = np.exp(Z) / np.sqrt(m)
    return out


def _phi(Wt, b, G, activation, scale):
    """Parameter map ``Phi`` of shape ``(n_units, m)``; ``Wt`` is ``(n_units, d)``."""
    m = G.shape[0]
    Ws = Wt * scale
    if activation == "relu":
        Z = np.hstack([Ws, scale * b[:, None]]) @ G.T
        return np.sqrt(2.0 / m) * np.maximum(Z, 0.0)
    sq = np.einsum("ij,ij->i", Ws, Ws)[:, None]
    Z = Ws @ G.T + b[:, None]
    if activation == "exp":
        return np.exp(Z - 0.5 * sq) / np.sqrt(m)
    trig = np.cos if activation == "cos" else np.sin
    return np.exp(0.5 * sq) * trig(Z) / np.sqrt(m)


def _check_layer(W, b, n_features):
    """``(W.T, b)`` as float arrays of shapes ``(n_units, d)`` and ``(n_units,)``."""
    W = check_array(W, dtype=np.float64, input_name="W")
    if W.shape[0] != n_features:
        raise ValueError(
            f"W must have shape (n_features, n_units) with n_features = "
            f"{n_features} (the layer computes f(X @ W + b)); got {W.shape}. "
            "Transpose W if its rows are the units."
        )
    n_units = W.shape[1]
    if b is None:
        b = np.zeros(n_units)
    else:
        b = check_array(
            np.atleast_1d(np.asarray(b, dtype=np.float64)),
            ensure_2d=False,
            dtype=np.float64,
            input_name="b",
        )
        if b.shape != (n_units,):
            raise ValueError(
                f"b must have shape (n_units,) = ({n_units},), got {b.shape}."
            )
    return W.T, b


class SNNKFeatures(TransformerMixin, BaseEstimator):
    """Random feature maps of a dense layer's input and of its parameters.

    Draws ``G`` with ``n_components`` i.i.d. ``N(0, I)`` rows; :meth:`transform`
    gives the input map ``Psi(X)`` and :meth:`weight_features` the parameter map
    ``Phi(W, b)``, such that ``Psi(X) @ Phi(W, b).T`` estimates a dense layer's
    ``f(X @ W + b)`` without bias for ``f`` in cos, sin and exp. The formulas and
    their derivation are in the module docstring (:mod:`kernlearn.neural._snnk`);
    with ``s = scale``, ``x' = x / s``, ``w' = s w`` and ``m = n_components``:

    - ``Psi(x) = exp(G x' - |x'|^2 / 2) / sqrt(m)`` (cos, sin, exp);
    - ``Phi(w, b) = exp(|w'|^2 / 2) cos(G w' + b) / sqrt(m)`` (cos; sin alike);
    - ``Phi(w, b) = exp(G w' - |w'|^2 / 2 + b) / sqrt(m)`` (exp: the positive
      random features of the softmax kernel);
    - relu: ``Psi(x) = sqrt(2 / m) ReLU(G (x, 1))`` and ``Phi(w, b) = sqrt(2 / m)
      ReLU(G (w, b))``, an unbiased estimate of the arc-cosine kernel
      ``k1((w, b), (x, 1))`` of Cho and Saul, **not** of ``ReLU(w . x + b)``
      (see :meth:`expected_value`).

    Parameters
    ----------
    activation : {"cos", "sin", "exp", "relu"}, default="relu"
        Activation ``f`` of the layer.
    n_components : int, default=256
        Number ``m`` of random projections; variances fall like ``1 / m``.
    scale : float, default=1.0
        Variance-tuning factor ``s > 0``: the estimators are applied to ``(s w,
        x / s)``, which leaves ``w . x`` and the expectation unchanged but changes
        the variance (module docstring). The relu estimate is unchanged by it
        (ReLU is positively homogeneous).
    random_state : int, RandomState instance or None, default=None
        Seeds the projections.

    Attributes
    ----------
    random_weights_ : ndarray of shape (`n_features_in_` (+ 1 for relu), n_components)
        The projections ``G.T`` (the layout of
        :class:`kernlearn.kernel_approximation.PositiveRandomFeatures`).
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Defined only when ``X`` has string feature names.

    See Also
    --------
    SNNKLayer : A dense layer compressed by these maps.
    sklearn.kernel_approximation.RBFSampler : Random Fourier features.

    References
    ----------
    A. Sehanobish, K. Choromanski, Y. Zhao, A. Dubey and V. Likhosherstov,
    "Scalable Neural Network Kernels", ICLR 2024, arXiv:2310.13225.

    Examples
    --------
    >>> import numpy as np
    >>> from kernlearn.neural import SNNKFeatures
    >>> rng = np.random.default_rng(0)
    >>> X = 0.3 * rng.standard_normal((3, 4))
    >>> W, b = 0.3 * rng.standard_normal((4, 2)), np.array([0.1, -0.2])
    >>> snnk = SNNKFeatures("cos", n_components=20000, random_state=0).fit(X)
    >>> estimate = snnk.transform(X) @ snnk.weight_features(W, b).T
    >>> np.abs(estimate - np.cos(X @ W + b)).max() < 0.05
    np.True_
    """

    _parameter_constraints: dict = {
        "activation": [StrOptions(set(ACTIVATIONS))],
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "scale": [Interval(Real, 0, None, closed="neither")],
        "random_state": ["random_state"],
    }

    def __init__(
        self, activation="relu", *, n_components=256, scale=1.0, random_state=None
    ):
        self.activation = activation
        self.n_components = n_components
        self.scale = scale
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Draw the random projections for inputs shaped like ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Only its number of features is used.
        y : None
            Ignored.

        Returns
        -------
        self : SNNKFeatures
        """
        X = validate_data(self, X, dtype=np.float64)
        _check_scale(self.scale)
        d = X.shape[1] + (self.activation == "relu")
        rng = check_random_state(self.random_state)
        # Drawn as rows (one projection per row), stored with the house layout.
        self.random_weights_ = rng.standard_normal((self.n_components, d)).T
        return self

    def transform(self, X):
        """Input map ``Psi(X)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        Psi : ndarray of shape (n_samples, n_components)
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return _psi(X, self.random_weights_.T, self.activation, self.scale)

    def weight_features(self, W, b=None):
        """Parameter map ``Phi(W, b)`` of a layer ``f(X @ W + b)``.

        Parameters
        ----------
        W : array-like of shape (n_features, n_units)
            Weights, one column per unit (the layout of
            :attr:`sklearn.neural_network.MLPRegressor.coefs_`).
        b : array-like of shape (n_units,), default=None
            Biases; zero when None.

        Returns
        -------
        Phi : ndarray of shape (n_units, n_components)
            ``transform(X) @ Phi.T`` estimates :meth:`expected_value`.
        """
        check_is_fitted(self)
        Wt, b = _check_layer(W, b, self.n_features_in_)
        return _phi(Wt, b, self.random_weights_.T, self.activation, self.scale)

    def expected_value(self, X, W, b=None):
        """What ``transform(X) @ weight_features(W, b).T`` estimates, in closed form.

        ``f(X @ W + b)`` for cos, sin and exp; for relu the arc-cosine kernel
        ``k1((w_j, b_j), (x_i, 1))`` (see the class docstring).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        W : array-like of shape (n_features, n_units)
        b : array-like of shape (n_units,), default=None

        Returns
        -------
        E : ndarray of shape (n_samples, n_units)
        """
        X, Wt, b = self._check_triple(X, W, b)
        if self.activation == "relu":
            return arc_cosine_kernel(_augment(X), np.hstack([Wt, b[:, None]]))
        return {"cos": np.cos, "sin": np.sin, "exp": np.exp}[self.activation](
            X @ Wt.T + b
        )

    def estimator_variance(self, X, W, b=None):
        """Variance of each entry of the estimate over the draw of ``G``.

        With ``u = s w``, ``v = x / s`` and one random row (``m = 1``), the second
        moments follow from ``E[exp(g . z)] = exp(z . z / 2)``:

        - exp: ``exp(2 b + |u|^2 + |v|^2 + 4 u . v)``;
        - cos / sin: ``exp(|u|^2 + |v|^2) (1 +- exp(-2 |u|^2) cos(2 b + 4 u . v))
          / 2`` (+ for cos);
        - relu: ``4 E[ReLU(g . a)^2 ReLU(g . c)^2] = 2 |a|^2 |c|^2 J_2(t) / pi``
          (``a = (w, b)``, ``c = (x, 1)``; Cho and Saul's order-2 kernel).

        The variance is the second moment minus the squared mean, over ``m``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        W : array-like of shape (n_features, n_units)
        b : array-like of shape (n_units,), default=None

        Returns
        -------
        V : ndarray of shape (n_samples, n_units)
        """
        X, Wt, b = self._check_triple(X, W, b)
        mean = self.expected_value(X, Wt.T, b)
        if self.activation == "relu":
            second = 2.0 * arc_cosine_kernel(
                _augment(X), np.hstack([Wt, b[:, None]]), order=2
            )
        else:
            s = self.scale
            U, V = Wt * s, X / s
            uu = np.einsum("ij,ij->i", U, U)[None, :]
            vv = np.einsum("ij,ij->i", V, V)[:, None]
            uv = V @ U.T
            if self.activation == "exp":
                second = np.exp(2.0 * b + uu + vv + 4.0 * uv)
            else:
                sign = 1.0 if self.activation == "cos" else -1.0
                osc = np.exp(-2.0 * uu) * np.cos(2.0 * b + 4.0 * uv)
                second = 0.5 * np.exp(uu + vv) * (1.0 + sign * osc)
        return np.maximum(second - mean * mean, 0.0) / self.n_components

    def _check_triple(self, X, W, b):
        self._validate_params()
        _check_scale(self.scale)
        X = check_array(X, dtype=np.float64, input_name="X")
        Wt, b = _check_layer(W, b, X.shape[1])
        return X, Wt, b

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags


def _check_scale(scale):
    if not np.isfinite(scale):
        raise ValueError(f"scale must be a positive finite number, got {scale!r}.")


class SNNKLayer(TransformerMixin, BaseEstimator):
    """A dense layer ``f(X @ W + b)`` replaced by its scalable neural network kernel.

    ``fit`` stores the layer, draws an :class:`SNNKFeatures` map and precomputes
    ``Phi(W, b)``; ``transform(X) = Psi(X) @ Phi(W, b).T``. The layer then costs
    ``O(m (d + n_units))`` per input instead of ``O(d n_units)`` and its
    parameters enter only through ``Phi``. For cos, sin and exp the output is an
    unbiased estimate of the layer with relative error ``O(1 / sqrt(m))``
    (:meth:`relative_error`); for relu it estimates the arc-cosine kernel
    ``k1((w, b), (x, 1))`` - a different layer with the same parameters.

    Parameters
    ----------
    weights : array-like of shape (n_features, n_units), default=None
        The layer's weights ``W`` (one column per unit, as in
        :attr:`sklearn.neural_network.MLPRegressor.coefs_`). None draws a random
        layer, ``N(0, 1 / n_features)`` entries, with ``n_units`` units.
    bias : array-like of shape (n_units,), default=None
        The layer's biases; zero when None.
    activation : {"cos", "sin", "exp", "relu"}, default="relu"
    n_units : int, default=64
        Number of units of the random layer drawn when ``weights`` is None;
        ignored otherwise.
    n_components : int, default=256
        Number of random projections ``m``.
    scale : float, default=1.0
        Variance-tuning factor, see :class:`SNNKFeatures`.
    random_state : int, RandomState instance or None, default=None
        Seeds the projections (and the random layer).

    Attributes
    ----------
    weights_ : ndarray of shape (`n_features_in_`, n_units)
    bias_ : ndarray of shape (n_units,)
    features_ : SNNKFeatures
        The fitted feature maps.
    weight_features_ : ndarray of shape (n_units, n_components)
        ``Phi(W, b)``.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Defined only when ``X`` has string feature names.

    See Also
    --------
    SNNKFeatures : The two feature maps.

    References
    ----------
    A. Sehanobish, K. Choromanski, Y. Zhao, A. Dubey and V. Likhosherstov,
    "Scalable Neural Network Kernels", ICLR 2024, arXiv:2310.13225.

    Examples
    --------
    >>> import numpy as np
    >>> from kernlearn.neural import SNNKLayer
    >>> rng = np.random.default_rng(0)
    >>> X = 0.5 * rng.standard_normal((200, 5))
    >>> W, b = 0.2 * rng.standard_normal((5, 8)), 0.1 * rng.standard_normal(8)
    >>> for m in (100, 10000):
    ...     layer = SNNKLayer(W, b, activation="cos", n_components=m, random_state=0)
    ...     print(m, round(layer.fit(X).relative_error(X), 3))
    100 0.157
    10000 0.014
    """

    _parameter_constraints: dict = {
        "weights": ["array-like", None],
        "bias": ["array-like", None],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "n_units": [Interval(Integral, 1, None, closed="left")],
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "scale": [Interval(Real, 0, None, closed="neither")],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        weights=None,
        bias=None,
        *,
        activation="relu",
        n_units=64,
        n_components=256,
        scale=1.0,
        random_state=None,
    ):
        self.weights = weights
        self.bias = bias
        self.activation = activation
        self.n_units = n_units
        self.n_components = n_components
        self.scale = scale
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Store the layer and compute ``Phi(W, b)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Only its number of features is used.
        y : None
            Ignored.

        Returns
        -------
        self : SNNKLayer
        """
        X = validate_data(self, X, dtype=np.float64)
        d = X.shape[1]
        rng = check_random_state(self.random_state)
        if self.weights is None:
            W = rng.standard_normal((d, self.n_units)) / np.sqrt(d)
        else:
            W = np.array(self.weights, dtype=np.float64, copy=True)
            if W.ndim != 2 or W.shape[0] != d:
                raise ValueError(
                    f"weights must have shape (n_features, n_units) with "
                    f"n_features = {d} (the layer computes f(X @ W + b)); got "
                    f"{W.shape}. Transpose it if its rows are the units."
                )
        try:
            Wt, b = _check_layer(W, self.bias, d)
        except ValueError as exc:
            raise ValueError(f"Invalid weights or bias: {exc}") from None
        features = SNNKFeatures(
            self.activation,
            n_components=self.n_components,
            scale=self.scale,
            random_state=rng.randint(np.iinfo(np.int32).max),
        ).fit(X)
        self.weights_ = Wt.T.copy()
        self.bias_ = b.copy()
        self.features_ = features
        self.weight_features_ = features.weight_features(self.weights_, self.bias_)
        return self

    def transform(self, X):
        """SNNK estimate of the layer output.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        Y : ndarray of shape (n_samples, n_units)
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return self.features_.transform(X) @ self.weight_features_.T

    def exact_transform(self, X, *, target="expected"):
        """The quantity :meth:`transform` approximates, or the true layer output.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        target : {"expected", "layer"}, default="expected"
            ``"expected"``: the expectation of the SNNK estimate (the layer output
            for cos/sin/exp, the arc-cosine kernel for relu). ``"layer"``: the
            dense layer ``f(X @ W + b)`` itself.

        Returns
        -------
        Y : ndarray of shape (n_samples, n_units)
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        if target not in ("expected", "layer"):
            raise ValueError(f"target must be 'expected' or 'layer', got {target!r}.")
        if target == "layer" and self.activation == "relu":
            return np.maximum(X @ self.weights_ + self.bias_, 0.0)
        return self.features_.expected_value(X, self.weights_, self.bias_)

    def relative_error(self, X, *, target="expected"):
        """``|transform(X) - exact|_F / |exact|_F`` on the inputs ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        target : {"expected", "layer"}, default="expected"
            See :meth:`exact_transform`. They differ only for relu, where the error
            against the true layer does not vanish as ``n_components`` grows.

        Returns
        -------
        error : float
        """
        exact = self.exact_transform(X, target=target)
        diff = self.transform(X) - exact
        return float(np.linalg.norm(diff) / np.linalg.norm(exact))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags


# ------------------------------------------------------------- bundled towers
class _BundledSNNKBase(BaseEstimator):
    """Random SNNK towers and their concatenated features (shared by the heads)."""

    _parameter_constraints: dict = {
        "n_towers": [Interval(Integral, 1, None, closed="left")],
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(TOWER_ACTIVATIONS))],
        "depth": [Interval(Integral, 1, None, closed="left")],
        "scale": [Interval(Real, 0, None, closed="neither"), StrOptions({"auto"})],
        "ridge": [Interval(Real, 0, None, closed="neither")],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        *,
        n_towers=4,
        n_components=256,
        activation="relu",
        depth=2,
        scale="auto",
        ridge=1.0,
        random_state=None,
    ):
        self.n_towers = n_towers
        self.n_components = n_components
        self.activation = activation
        self.depth = depth
        self.scale = scale
        self.ridge = ridge
        self.random_state = random_state

    def _draw_towers(self, d):
        if self.scale == "auto":
            self.scale_ = float(np.sqrt(d))
        else:
            _check_scale(self.scale)
            self.scale_ = float(self.scale)
        rng = check_random_state(self.random_state)
        m = self.n_components
        towers = []
        for _ in range(self.n_towers):
            dims = [d + (self.activation == "relu")] + [m] * (self.depth - 1)
            towers.append([rng.standard_normal((m, k)) for k in dims])
        self.towers_ = towers

    def _features(self, X):
        """Concatenated tower outputs over ``sqrt(n_towers)``: their dot product is
        the average of the towers' kernels."""
        m, T = self.n_components, self.n_towers
        out = np.empty((X.shape[0], T * m))
        for sl in _row_batches(X.shape[0], (T + 2) * m):
            for t, tower in enumerate(self.towers_):
                H = X[sl]
                for layer, G in enumerate(tower):
                    if self.activation == "relu" and layer > 0:
                        # Only the first layer sees the bias input (x, 1).
                        H = np.sqrt(2.0 / m) * np.maximum(H @ G.T, 0.0)
                    else:
                        s = 1.0 if self.activation == "relu" else self.scale_
                        H = _psi(H, G, self.activation, s)
                out[sl, t * m : (t + 1) * m] = H
        return out / np.sqrt(T)

    def transform_features(self, X):
        """Random tower features that the head is fitted on.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        F : ndarray of shape (n_samples, n_towers * n_components)
            For relu, ``F(x) . F(y)`` estimates the depth-``depth`` arc-cosine
            kernel of ``(x, 1)`` and ``(y, 1)``.
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return self._features(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags


class BundledSNNKRegressor(RegressorMixin, _BundledSNNKBase):
    """Regression by random SNNK towers and a closed-form ridge head.

    Each of ``n_towers`` towers stacks ``depth`` SNNK input maps with independent
    Gaussian projections: for relu ``h_1 = sqrt(2 / m) ReLU(G_1 (x, 1))`` and
    ``h_{l+1} = sqrt(2 / m) ReLU(G_{l+1} h_l)``; for exp the positive features
    ``h_{l+1} = exp(G h_l / s - |h_l|^2 / (2 s^2)) / sqrt(m)``. The last layer's
    parameter map ``Phi(W, b)`` only enters through a linear map, so a fully
    bundled network folds it into the head, fitted in closed form on the
    concatenated tower outputs - no backpropagation (Sehanobish et al., 2024).
    For relu, ``h_L(x) . h_L(y)`` is an unbiased (first layer) and consistent
    (deeper layers) estimate of Cho and Saul's depth-``L`` arc-cosine kernel, so
    the model approximates kernel ridge regression with that kernel; averaging
    ``n_towers`` towers reduces the variance. Standardise ``X`` first.

    Parameters
    ----------
    n_towers : int, default=4
        Number of independent towers.
    n_components : int, default=256
        Width ``m`` of every layer of a tower.
    activation : {"relu", "exp"}, default="relu"
        Tower feature map. cos and sin share exp's input map (only their
        parameter maps differ, and those are folded into the head), so "exp"
        covers them.
    depth : int, default=2
        Number of stacked maps per tower.
    scale : float or "auto", default="auto"
        Input scale ``s`` of the exp maps (kernel ``exp(x . y / s^2)`` per layer);
        ``"auto"`` is ``sqrt(n_features)``, which keeps ``|x / s|`` near 1 for
        standardised inputs (the variance grows like ``exp(|x / s|^2)``). Ignored
        for relu, which is homogeneous.
    ridge : float, default=1.0
        Strength of the head's L2 penalty: the Ridge ``alpha``.
    random_state : int, RandomState instance or None, default=None
        Seeds the towers.

    Attributes
    ----------
    towers_ : list of list of ndarray
        ``towers_[t][l]`` is the projection of layer ``l`` of tower ``t``.
    scale_ : float
        The scale in use.
    head_ : sklearn.linear_model.Ridge
        The fitted head.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Defined only when ``X`` has string feature names.

    See Also
    --------
    BundledSNNKClassifier : The classifier with a logistic head.
    sklearn.kernel_ridge.KernelRidge : The exact kernel method it approximates.

    References
    ----------
    A. Sehanobish, K. Choromanski, Y. Zhao, A. Dubey and V. Likhosherstov,
    "Scalable Neural Network Kernels", ICLR 2024, arXiv:2310.13225.

    Y. Cho and L. K. Saul, "Kernel Methods for Deep Learning", NeurIPS 2009.

    Examples
    --------
    >>> from sklearn.datasets import make_friedman1
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from kernlearn.neural import BundledSNNKRegressor
    >>> X, y = make_friedman1(n_samples=600, noise=1.0, random_state=0)
    >>> model = make_pipeline(StandardScaler(), BundledSNNKRegressor(random_state=0))
    >>> round(model.fit(X[:400], y[:400]).score(X[400:], y[400:]), 2)
    0.87
    """

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Draw the towers and fit the ridge head.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_targets)

        Returns
        -------
        self : BundledSNNKRegressor
        """
        X, y = validate_data(
            self, X, y, dtype=np.float64, y_numeric=True, multi_output=True
        )
        self._draw_towers(X.shape[1])
        self.head_ = Ridge(alpha=self.ridge).fit(self._features(X), y)
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def predict(self, X):
        """Predict with the ridge head on the tower features.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_targets)
        """
        features = self.transform_features(X)
        return self.head_.predict(features)


class BundledSNNKClassifier(ClassifierMixin, _BundledSNNKBase):
    """Classification by random SNNK towers and a logistic-regression head.

    Each of ``n_towers`` towers stacks ``depth`` SNNK input maps with independent
    Gaussian projections: for relu ``h_1 = sqrt(2 / m) ReLU(G_1 (x, 1))`` and
    ``h_{l+1} = sqrt(2 / m) ReLU(G_{l+1} h_l)``; for exp the positive features
    ``h_{l+1} = exp(G h_l / s - |h_l|^2 / (2 s^2)) / sqrt(m)``. The last layer's
    parameter map ``Phi(W, b)`` only enters through a linear map, so a fully
    bundled network folds it into the head, fitted in closed form on the
    concatenated tower outputs - no backpropagation (Sehanobish et al., 2024).
    For relu, ``h_L(x) . h_L(y)`` is an unbiased (first layer) and consistent
    (deeper layers) estimate of Cho and Saul's depth-``L`` arc-cosine kernel, so
    the model approximates kernel logistic regression with that kernel; averaging
    ``n_towers`` towers reduces the variance. Standardise ``X`` first.

    Parameters
    ----------
    n_towers : int, default=4
        Number of independent towers.
    n_components : int, default=256
        Width ``m`` of every layer of a tower.
    activation : {"relu", "exp"}, default="relu"
        Tower feature map. cos and sin share exp's input map (only their
        parameter maps differ, and those are folded into the head), so "exp"
        covers them.
    depth : int, default=2
        Number of stacked maps per tower.
    scale : float or "auto", default="auto"
        Input scale ``s`` of the exp maps (kernel ``exp(x . y / s^2)`` per layer);
        ``"auto"`` is ``sqrt(n_features)``, which keeps ``|x / s|`` near 1 for
        standardised inputs (the variance grows like ``exp(|x / s|^2)``). Ignored
        for relu, which is homogeneous.
    ridge : float, default=1.0
        Strength of the head's L2 penalty: the head is
        :class:`sklearn.linear_model.LogisticRegression` with ``C = 1 / ridge``
        (a convex fit).
    random_state : int, RandomState instance or None, default=None
        Seeds the towers.

    Attributes
    ----------
    towers_ : list of list of ndarray
        ``towers_[t][l]`` is the projection of layer ``l`` of tower ``t``.
    scale_ : float
        The scale in use.
    head_ : sklearn.linear_model.LogisticRegression
        The fitted head.
    classes_ : ndarray of shape (n_classes,)
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Defined only when ``X`` has string feature names.

    See Also
    --------
    BundledSNNKRegressor : The regressor with a ridge head.

    References
    ----------
    A. Sehanobish, K. Choromanski, Y. Zhao, A. Dubey and V. Likhosherstov,
    "Scalable Neural Network Kernels", ICLR 2024, arXiv:2310.13225.

    Examples
    --------
    >>> from sklearn.datasets import make_moons
    >>> from kernlearn.neural import BundledSNNKClassifier
    >>> X, y = make_moons(n_samples=400, noise=0.2, random_state=0)
    >>> clf = BundledSNNKClassifier(ridge=0.01, random_state=0)
    >>> round(clf.fit(X[:300], y[:300]).score(X[300:], y[300:]), 2)
    0.97
    """

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Draw the towers and fit the logistic head.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Class labels.

        Returns
        -------
        self : BundledSNNKClassifier
        """
        X, y = validate_data(self, X, y, dtype=np.float64)
        check_classification_targets(y)
        self._draw_towers(X.shape[1])
        head = LogisticRegression(C=1.0 / self.ridge, max_iter=1000)
        self.head_ = head.fit(self._features(X), y)
        self.classes_ = self.head_.classes_
        return self

    def decision_function(self, X):
        """Logistic head scores.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
        """
        features = self.transform_features(X)
        return self.head_.decision_function(features)

    def predict_proba(self, X):
        """Class probabilities.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        features = self.transform_features(X)
        return self.head_.predict_proba(features)

    def predict(self, X):
        """Predicted class labels.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        labels : ndarray of shape (n_samples,)
        """
        features = self.transform_features(X)
        return self.head_.predict(features)
