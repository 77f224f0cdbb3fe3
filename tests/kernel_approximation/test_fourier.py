"""Random-feature maps against closed forms, numerical integration and variances.

Monte Carlo tolerances are 5 standard errors, from the closed-form variance where
one is known and otherwise from the fourth central moment of the sample.
"""

import doctest
import importlib

import numpy as np
import pytest
from scipy import integrate, stats
from scipy.linalg import hadamard
from sklearn.utils.estimator_checks import parametrize_with_checks

import kernlearn
from kernlearn.backend import fwht
from kernlearn.kernel_approximation._fourier import (
    ArcCosineFeatures,
    PositiveRandomFeatures,
    RandomFourierFeatures,
    arccos_kernel,
)
from kernlearn.kernel_approximation._spectral import spectral_measure
from kernlearn.kernels import (
    Cauchy,
    Epanechnikov,
    Gaussian,
    L1Laplacian,
    Laplacian,
    Matern,
)

Z5 = 5.0  # standard errors allowed in every Monte Carlo comparison

#: (kernel argument, keyword arguments) covering every law and both inputs.
MEASURES = [
    ("gaussian", {"length_scale": 1.3}),
    ("gaussian", {"length_scale": [0.5, 1.0, 2.0]}),
    ("laplacian", {"length_scale": 0.8}),
    ("l1_laplacian", {"length_scale": [1.0, 2.0, 0.7]}),
    ("cauchy", {"length_scale": 1.5}),
    ("matern", {"length_scale": 1.2, "nu": 0.7}),
    ("matern", {"length_scale": 1.2, "nu": 1.5}),
    ("matern", {"length_scale": 0.9, "nu": 3.7}),
    (Matern(2.0, nu=2.5), {}),
    (Laplacian(1.5), {}),
    (Cauchy([1.0, 0.5, 2.0]), {}),
]


def _k(measure, r):
    """Kernel value at ``r`` from the kernlearn kernel object (the reference)."""
    r = np.atleast_2d(r)
    return measure.kernel()(r, np.zeros_like(r))[:, 0]


def _cos_terms(Z, D):
    """``cos(w_j . (x - y))`` per frequency from the two rows of ``Z``."""
    prod = Z[0] * Z[1] * D  # z = [cos, sin] / sqrt(D)
    return prod[:D] + prod[D:]


def _se_of_variance(e):
    """Standard error of the sample variance of ``e``, from its fourth moment."""
    c = e - e.mean()
    return np.sqrt((np.mean(c**4) - np.mean(c**2) ** 2) / e.size)


# ------------------------------------------------------------- spectral measures


@pytest.mark.parametrize(("kernel", "kw"), MEASURES)
def test_spectral_sampler_reproduces_kernel(kernel, kw):
    m = spectral_measure(kernel, **kw)
    n = 200_000
    W = m.sample(n, 3, random_state=0)
    R = np.array([[0.3, -0.2, 0.1], [1.0, 0.5, -0.5], [-1.5, 2.0, 1.0]])
    k, k2 = _k(m, R), _k(m, 2 * R)
    mc = np.cos(W @ R.T).mean(axis=0)
    var = (1 + k2) / 2 - k**2  # Var cos(w . r)
    np.testing.assert_array_less(np.abs(mc - k), Z5 * np.sqrt(var / n) + 1e-12)


@pytest.mark.parametrize(("kernel", "kw"), MEASURES)
def test_radial_law(kernel, kw):
    m = spectral_measure(kernel, **kw)
    if not m.radial:
        with pytest.raises(ValueError, match="radial"):
            m.sample_radius_unit(10, 3)
        return
    d, n = 3, 20_000
    norms = np.linalg.norm(m.sample_unit(n, d, random_state=1), axis=1)
    radii = m.sample_radius_unit(n, d, random_state=2)
    assert stats.ks_2samp(norms, radii).pvalue > 1e-3
    # radius times a uniform direction reproduces the kernel at unit scale
    u = np.random.default_rng(3).standard_normal((n, d))
    W = u / np.linalg.norm(u, axis=1, keepdims=True) * radii[:, None]
    r = np.array([0.4, -0.9, 0.3])
    unit = spectral_measure(m.kernel().set_params(length_scale=1.0))
    k, k2 = _k(unit, r)[0], _k(unit, 2 * r)[0]
    se = np.sqrt(((1 + k2) / 2 - k**2) / n)
    assert abs(np.cos(W @ r).mean() - k) < Z5 * se


def test_radial_law_distinguishes_kernels():
    # the KS check above can fail: Gaussian radii are not Laplacian norms
    lap = spectral_measure("laplacian").sample_unit(20_000, 3, random_state=1)
    gauss = spectral_measure("gaussian").sample_radius_unit(20_000, 3, random_state=2)
    assert stats.ks_2samp(np.linalg.norm(lap, axis=1), gauss).pvalue < 1e-10


def test_sample_radius_scales_with_length_scale():
    m = spectral_measure("cauchy", length_scale=2.0)
    np.testing.assert_allclose(
        m.sample_radius(50, 4, random_state=0),
        m.sample_radius_unit(50, 4, random_state=0) / 2.0,
    )
    with pytest.raises(ValueError, match="length_scale"):
        spectral_measure("cauchy", length_scale=[1.0, 2.0]).sample_radius(5, 2)


def test_spectral_measure_names_and_objects():
    assert spectral_measure("RBF").name == "gaussian"
    assert spectral_measure("Manhattan").name == "l1_laplacian"
    assert spectral_measure("matern", nu=0.5).name == "laplacian"
    assert spectral_measure("matern", nu=np.inf).name == "gaussian"
    m = spectral_measure(Matern(0.3, nu=2.5), length_scale=9.0, nu=9.0)
    assert (m.name, m.length_scale, m.nu) == ("matern", 0.3, 2.5)
    for obj in (Gaussian(2.0), L1Laplacian(2.0), Cauchy(2.0), Laplacian(2.0)):
        assert type(spectral_measure(obj).kernel()) is type(obj)


@pytest.mark.parametrize(
    ("args", "kw", "name"),
    [
        (("epanechnikov",), {}, "kernel"),
        ((Epanechnikov(),), {}, "kernel"),
        ((3.0,), {}, "kernel"),
        (("gaussian",), {"length_scale": -1.0}, "length_scale"),
        (("gaussian",), {"length_scale": [[1.0]]}, "length_scale"),
        (("matern",), {"nu": 0.0}, "nu"),
    ],
)
def test_spectral_measure_bad_parameters(args, kw, name):
    with pytest.raises(ValueError, match=name):
        spectral_measure(*args, **kw)


# --------------------------------------------------------------------- the FWHT


@pytest.mark.parametrize("p", [1, 2, 8, 64])
def test_fwht_matches_scipy_hadamard(p):
    a = np.random.default_rng(p).standard_normal((3, p, 2))
    expected = np.einsum("ij,ajb->aib", hadamard(p), a)
    np.testing.assert_allclose(fwht(a, axis=1), expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(fwht(fwht(a, axis=1), axis=1) / p, a, atol=1e-12)


def test_fwht_rejects_other_lengths():
    with pytest.raises(ValueError, match="power-of-two"):
        fwht(np.ones(6))


# ----------------------------------------------------- random Fourier features


def _pair(d, z, seed=0):
    u = np.random.default_rng(seed).standard_normal(d)
    return np.vstack([np.zeros(d), z * u / np.linalg.norm(u)])


@pytest.mark.parametrize(
    ("kernel", "kw"),
    [
        ("gaussian", {}),
        ("laplacian", {"length_scale": 2.0}),
        ("l1_laplacian", {}),
        ("cauchy", {}),
        ("matern", {"nu": 2.5}),
    ],
)
def test_rff_unbiased_and_variance_closed_form(kernel, kw):
    """S independent estimators of D pairs, from one fit of S * D i.i.d. pairs."""
    D, S = 8, 4000
    X = _pair(3, 1.0, seed=1)
    rff = RandomFourierFeatures(
        kernel, n_components=2 * D * S, random_state=0, **kw
    ).fit(X)
    c = _cos_terms(rff.transform(X), D * S)
    est = c.reshape(S, D).mean(axis=1)
    m = rff.spectral_measure_
    r = X[1] - X[0]
    k, k2 = _k(m, r)[0], _k(m, 2 * r)[0]
    var = (1 + k2 - 2 * k**2) / (2 * D)  # Var of the pair estimator
    assert abs(est.mean() - k) < Z5 * np.sqrt(var / S)
    assert abs(est.var(ddof=1) - var) < Z5 * _se_of_variance(est)


def test_rff_unbiased_over_seeds_public_api():
    X = _pair(4, 1.2, seed=2)
    k = Gaussian(1.5)(X)[0, 1]
    est = np.array(
        [
            (lambda Z: Z[0] @ Z[1])(
                RandomFourierFeatures(
                    length_scale=1.5, n_components=16, random_state=s
                ).fit_transform(X)
            )
            for s in range(300)
        ]
    )
    k2 = Gaussian(1.5)(X * 2)[0, 1]
    var = (1 + k2 - 2 * k**2) / (2 * 8)
    assert abs(est.mean() - k) < Z5 * np.sqrt(var / 300)


@pytest.mark.parametrize("method", ["rff", "orf"])
def test_odd_n_components_adds_unbiased_random_phase_feature(method):
    X = _pair(3, 1.0, seed=6)
    k = np.exp(-0.5)
    est = []
    for seed in range(400):
        rff = RandomFourierFeatures(n_components=3, method=method, random_state=seed)
        Z = rff.fit_transform(X)
        # the phase feature alone: 2 cos(w.x + b) cos(w.y + b), mean k
        est.append(Z[0] @ Z[1])
        assert rff.random_offset_ is not None and Z.shape == (2, 3)
    est = np.array(est)
    assert abs(est.mean() - k) < Z5 * est.std(ddof=1) / np.sqrt(est.size)
    assert RandomFourierFeatures(n_components=4).fit(X).random_offset_ is None


@pytest.mark.parametrize(
    ("kernel", "kw"),
    [("gaussian", {}), ("laplacian", {}), ("cauchy", {}), ("matern", {"nu": 1.5})],
)
def test_orf_unbiased(kernel, kw):
    d, S = 8, 3000
    X = _pair(d, 1.0, seed=3)
    orf = RandomFourierFeatures(
        kernel, n_components=2 * d * S, method="orf", random_state=0, **kw
    ).fit(X)
    est = _cos_terms(orf.transform(X), d * S).reshape(S, d).mean(axis=1)
    k = _k(orf.spectral_measure_, X[1])[0]
    assert abs(est.mean() - k) < Z5 * est.std(ddof=1) / np.sqrt(S)


def test_orf_blocks_are_orthogonal():
    d = 6
    orf = RandomFourierFeatures(n_components=2 * 15, method="orf", random_state=0)
    W = orf.fit(np.zeros((1, d))).random_weights_.T  # 15 rows: blocks 6, 6, 3
    for block in (W[:6], W[6:12], W[12:]):
        G = block @ block.T
        np.testing.assert_allclose(G, np.diag(np.diag(G)), atol=1e-10)


def test_orf_variance_lower_than_rff_gaussian():
    """Yu et al. (2016): orthogonal blocks cut the Gaussian-kernel variance."""
    d, S = 16, 2000
    X = _pair(d, 1.0, seed=4)  # |r| = length scale
    orf = RandomFourierFeatures(n_components=2 * d * S, method="orf", random_state=0)
    est = _cos_terms(orf.fit_transform(X), d * S).reshape(S, d).mean(axis=1)
    k, k2 = np.exp(-0.5), np.exp(-2.0)
    var_rff = (1 + k2 - 2 * k**2) / (2 * d)
    ratio = est.var(ddof=1) / var_rff
    # measured 0.16; the bound leaves room for 5 standard errors of the variance
    assert ratio + Z5 * _se_of_variance(est) / var_rff < 0.5


def test_sorf_matches_explicit_matrix():
    """For d = p the SORF rows are R_j (H D1 H D2 H D3)_j, formed here densely."""
    d, D = 8, 20
    sorf = RandomFourierFeatures(n_components=2 * D, method="sorf", random_state=0)
    sorf.fit(np.zeros((1, d)))
    W = sorf._projections(np.eye(d)).T  # rows w_j, from the fast transform
    H = hadamard(d) / np.sqrt(d)
    rows = []
    for (s1, s2, s3), radii in zip(sorf.random_signs_, sorf.random_radii_, strict=True):
        M = H @ np.diag(s1) @ H @ np.diag(s2) @ H @ np.diag(s3)
        rows.append(radii[:, None] * M)
        np.testing.assert_allclose(M @ M.T, np.eye(d), atol=1e-12)
    np.testing.assert_allclose(W, np.vstack(rows)[:D], atol=1e-12)


@pytest.mark.parametrize("kernel", ["gaussian", "laplacian"])
def test_sorf_bias_small(kernel):
    """Measured at d = 16, |r| = h: Gaussian 6e-4 +- 6e-4, Laplacian 2.5e-3 +- 2e-3."""
    d, D = 16, 100_000
    X = _pair(d, 1.0, seed=5)
    sorf = RandomFourierFeatures(
        kernel, n_components=2 * D, method="sorf", random_state=1
    ).fit(X)
    c = _cos_terms(sorf.transform(X), D)
    block = c.reshape(-1, d).mean(axis=1)  # independent SORF blocks
    k = _k(sorf.spectral_measure_, X[1])[0]
    bias, se = block.mean() - k, block.std(ddof=1) / np.sqrt(block.size)
    assert abs(bias) < 0.004
    assert abs(bias) < Z5 * se + 1e-3


def test_sorf_bias_large_in_two_dimensions():
    """As documented: M has few distinct rows for d = 2 (measured bias 0.03)."""
    X = _pair(2, 1.0, seed=0)
    sorf = RandomFourierFeatures(n_components=2 * 50_000, method="sorf")
    c = _cos_terms(sorf.set_params(random_state=1).fit_transform(X), 50_000)
    bias = c.mean() - np.exp(-0.5)
    assert bias > 0.01 + Z5 * c.std() / np.sqrt(c.size)


def test_sorf_pads_to_power_of_two():
    sorf = RandomFourierFeatures(n_components=2 * 12, method="sorf", random_state=0)
    sorf.fit(np.zeros((1, 5)))
    assert sorf.random_signs_.shape == (2, 3, 8)
    assert sorf.random_radii_.shape == (2, 8)
    assert not hasattr(sorf, "random_weights_")
    assert sorf.transform(np.ones((3, 5))).shape == (3, 24)


def test_kernel_object_equals_name_and_length_scale():
    X = np.random.default_rng(0).standard_normal((5, 3))
    ls = np.array([0.5, 1.0, 2.0])
    a = RandomFourierFeatures(Matern(ls, nu=2.5), n_components=64, random_state=0)
    b = RandomFourierFeatures(
        "matern", length_scale=ls, nu=2.5, n_components=64, random_state=0
    )
    np.testing.assert_array_equal(a.fit_transform(X), b.fit_transform(X))


@pytest.mark.parametrize("method", ["rff", "orf", "sorf"])
def test_transform_blocks_do_not_change_result(method):
    X = np.random.default_rng(0).standard_normal((50, 3))
    rff = RandomFourierFeatures(n_components=40, method=method, random_state=0)
    full = rff.fit_transform(X)
    with kernlearn.config_context(working_memory=1e-4):  # one row per block
        np.testing.assert_allclose(rff.transform(X), full, rtol=1e-13, atol=1e-13)


def test_set_output_and_feature_names():
    pd = pytest.importorskip("pandas")
    X = np.random.default_rng(0).standard_normal((4, 3))
    for est in (
        RandomFourierFeatures(n_components=6),
        PositiveRandomFeatures(n_components=3),
        ArcCosineFeatures(n_components=3),
    ):
        out = est.set_output(transform="pandas").fit_transform(X)
        assert isinstance(out, pd.DataFrame)
        prefix = type(est).__name__.lower()
        assert list(out.columns) == [f"{prefix}{i}" for i in range(out.shape[1])]


# ------------------------------------------------------ positive random features


def test_positive_features_unbiased_variance_and_positive():
    m_group, S = 8, 4000
    X = np.array([[0.3, -0.2, 0.4], [0.5, 0.4, -0.1]])
    prf = PositiveRandomFeatures(n_components=m_group * S, random_state=0)
    Z = prf.fit_transform(X)
    assert np.all(Z > 0)
    terms = Z[0] * Z[1] * Z.shape[1]  # exp(w.(x+y) - |x|^2/2 - |y|^2/2)
    est = terms.reshape(S, m_group).mean(axis=1)
    k = np.exp(X[0] @ X[1])
    var = np.exp(2 * X[0] @ X[1]) * (np.exp(np.sum((X[0] + X[1]) ** 2)) - 1)
    var /= m_group
    assert abs(est.mean() - k) < Z5 * np.sqrt(var / S)
    assert abs(est.var(ddof=1) - var) < Z5 * _se_of_variance(est)


def test_positive_features_gaussian_kernel_and_orthogonal():
    d, S = 4, 4000
    rng = np.random.default_rng(1)
    X = 0.4 * rng.standard_normal((2, d))
    target = np.exp(-0.5 * np.sum((X[0] - X[1]) ** 2))
    for orthogonal in (False, True):
        prf = PositiveRandomFeatures(
            n_components=d * S, orthogonal=orthogonal, random_state=0
        )
        Z = prf.fit_transform(X) * np.exp(-0.5 * np.sum(X**2, axis=1))[:, None]
        est = (Z[0] * Z[1] * Z.shape[1]).reshape(S, d).mean(axis=1)
        assert np.all(Z > 0)
        assert abs(est.mean() - target) < Z5 * est.std(ddof=1) / np.sqrt(S)
        if orthogonal:  # lower variance than i.i.d. rows (closed form)
            xy, s = X[0] @ X[1], np.sum((X[0] + X[1]) ** 2)
            scale = np.exp(-0.5 * np.sum(X**2))
            var_iid = (scale**2) * np.exp(2 * xy) * (np.exp(s) - 1) / d
            assert est.var(ddof=1) < var_iid


def test_positive_features_positive_for_opposite_inputs():
    X = np.array([[3.0, 0.0], [-3.0, 0.0]])
    Z = PositiveRandomFeatures(n_components=100, random_state=0).fit_transform(X)
    assert np.all(Z > 0) and Z[0] @ Z[1] > 0  # trigonometric features go negative


# ----------------------------------------------------------- arc-cosine kernels


def _arccos_quad(x, y, order):
    """``2 E[H(w.x) H(w.y) (w.x)^n (w.y)^n]`` over ``w ~ N(0, I_2)`` by quadrature."""

    def radial(phi):
        u = np.array([np.cos(phi), np.sin(phi)])
        a, b = u @ x, u @ y
        if a <= 0 or b <= 0:
            return 0.0
        f = integrate.quad(
            lambda rho: rho ** (2 * order + 1) * np.exp(-0.5 * rho * rho), 0, np.inf
        )[0]
        return (a * b) ** order * f / (2 * np.pi)

    # break the angle at the zeros of w.x and w.y, where the integrand jumps
    cuts = []
    for v in (x, y):
        base = np.arctan2(v[1], v[0])
        cuts += [(base + s * np.pi / 2) % (2 * np.pi) for s in (-1, 1)]
    edges = np.unique(np.concatenate([[0.0, 2 * np.pi], cuts]))
    total = sum(
        integrate.quad(radial, lo, hi, epsabs=1e-12, epsrel=1e-10)[0]
        for lo, hi in zip(edges[:-1], edges[1:], strict=True)
    )
    return 2 * total


PAIRS_2D = [
    ([1.0, 0.0], [0.0, 2.0]),
    ([1.0, 0.5], [0.8, 0.3]),
    ([1.5, -0.2], [-1.0, 0.9]),
    ([0.7, 0.7], [0.7, 0.7]),
]


@pytest.mark.parametrize("order", [0, 1, 2])
@pytest.mark.parametrize(("x", "y"), PAIRS_2D)
def test_arccos_kernel_against_quadrature(order, x, y):
    x, y = np.array(x), np.array(y)
    closed = arccos_kernel(x[None], y[None], order=order)[0, 0]
    np.testing.assert_allclose(closed, _arccos_quad(x, y, order), rtol=1e-7)


def test_arccos_kernel_zero_vectors_and_shape():
    X = np.array([[0.0, 0.0], [1.0, 2.0]])
    for order in (0, 1, 2):
        K = arccos_kernel(X, order=order)
        assert K.shape == (2, 2)
        np.testing.assert_array_equal(K[0], 0.0)
        np.testing.assert_allclose(K, K.T)
    Z = ArcCosineFeatures(order=0, n_components=10, random_state=0).fit_transform(X)
    np.testing.assert_array_equal(Z[0], 0.0)


@pytest.mark.parametrize("order", [0, 1, 2])
def test_arccos_features_unbiased(order):
    m = 200_000
    x, y = np.array([1.0, 0.5]), np.array([-0.4, 1.2])
    X = np.vstack([x, y])
    Z = ArcCosineFeatures(order=order, n_components=m, random_state=0).fit_transform(X)
    k = arccos_kernel(X, order=order)[0, 1]
    # each term 2 H H (w.x)^n (w.y)^n has second moment 2 k_{2n}(x, y)
    k2n = (
        arccos_kernel(X, order=2 * order)[0, 1] if order < 2 else _arccos_quad(x, y, 4)
    )
    var = (2 * k2n - k**2) / m
    assert abs(Z[0] @ Z[1] - k) < Z5 * np.sqrt(var)
    np.testing.assert_allclose(
        (Z * Z).sum(axis=1), np.diag(arccos_kernel(X, order=order)), rtol=0.05
    )


# ----------------------------------------------------------- estimator checks


@parametrize_with_checks(
    [
        RandomFourierFeatures(n_components=20),
        RandomFourierFeatures("matern", n_components=20, method="orf"),
        RandomFourierFeatures("laplacian", n_components=20, method="sorf"),
        PositiveRandomFeatures(n_components=10, orthogonal=True),
        ArcCosineFeatures(order=2, n_components=10),
    ]
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.parametrize(
    ("est", "name"),
    [
        (RandomFourierFeatures(n_components=0), "n_components"),
        (RandomFourierFeatures("l1_laplacian", method="orf"), "method"),
        (RandomFourierFeatures(method="fast"), "method"),
        (RandomFourierFeatures("epanechnikov"), "kernel"),
        (RandomFourierFeatures(Epanechnikov()), "kernel"),
        (RandomFourierFeatures(length_scale=-2.0), "length_scale"),
        (RandomFourierFeatures(length_scale=[1.0, 2.0]), "length_scale"),
        (RandomFourierFeatures("matern", nu=0.0), "nu"),
        (PositiveRandomFeatures(n_components=0), "n_components"),
        (PositiveRandomFeatures(orthogonal="yes"), "orthogonal"),
        (ArcCosineFeatures(order=3), "order"),
        (ArcCosineFeatures(n_components=-1), "n_components"),
    ],
)
def test_bad_parameters_raise_value_error(est, name):
    with pytest.raises(ValueError, match=name):
        est.fit(np.ones((3, 3)))


def test_bad_input_raises_value_error():
    X = np.ones((3, 2))
    X[1, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        RandomFourierFeatures().fit(X)
    with pytest.raises(ValueError, match="order"):
        arccos_kernel(np.ones((2, 2)), order=3)
    with pytest.raises(ValueError, match="NaN"):
        arccos_kernel(X)
    with pytest.raises(ValueError, match="2-D"):
        arccos_kernel(np.ones(3))


@pytest.mark.parametrize(
    "name",
    [
        "kernlearn.kernel_approximation._fourier",
        "kernlearn.kernel_approximation._spectral",
    ],
)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted > 0


@pytest.mark.parametrize("p", [64, 128, 1024])
def test_fwht_kronecker_blas_path_matches_scipy_hadamard(p):
    """From length 64 the transform runs as H_A kron H_B with two BLAS products."""
    from scipy.linalg import hadamard

    from kernlearn.backend import fwht

    a = np.random.default_rng(p).normal(size=(3, 2, p))
    ref = a @ hadamard(p).T
    np.testing.assert_allclose(fwht(a), ref, rtol=1e-12, atol=1e-10 * np.sqrt(p))
    np.testing.assert_allclose(
        fwht(np.moveaxis(a, -1, 0), axis=0), np.moveaxis(ref, -1, 0), atol=1e-9
    )
