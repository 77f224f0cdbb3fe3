"""SpectralMixture against its spectrum, finite differences and planted sinusoids.

References: the covariance is the inverse Fourier transform of the spectral
density (scipy.integrate.quad), the gradient is checked by central finite
differences, and the learnt frequencies of a sum of two sinusoids are the
planted ones (maximum likelihood with scikit-learn's GaussianProcessRegressor
and with KroneckerGaussianProcessRegressor).
"""

import math

import numpy as np
import pytest
from scipy.integrate import quad
from sklearn.base import clone
from sklearn.gaussian_process import GaussianProcessRegressor

from kernlearn.gaussian_process import KroneckerGaussianProcessRegressor
from kernlearn.kernels import SpectralMixture


def test_covariance_is_the_fourier_transform_of_the_spectrum():
    k = SpectralMixture(weights=[1.0, 0.4], means=[0.7, 2.5], scales=[0.15, 0.3])
    assert quad(k.spectral_density, -np.inf, np.inf)[0] == pytest.approx(1.4)
    for tau in (0.0, 0.13, 0.6, 1.7):
        ref = quad(
            lambda f, tau=tau: k.spectral_density(f) * math.cos(2 * math.pi * f * tau),
            -20, 20, limit=400,
        )[0]  # fmt: skip
        got = k(np.array([[tau]]), np.array([[0.0]]))[0, 0]
        assert got == pytest.approx(ref, abs=1e-9)
    np.testing.assert_allclose(k.diag(np.zeros((3, 1))), 1.4)


def _check_fd_gradient(k, seed):
    X = np.random.default_rng(seed).uniform(0, 3, size=(9, 1))
    _, G = k(X, eval_gradient=True)
    assert G.shape == (9, 9, k.n_dims)
    h = 1e-6
    for i in range(k.n_dims):
        e = np.zeros(k.n_dims)
        e[i] = h
        kp, km = k.clone_with_theta(k.theta + e), k.clone_with_theta(k.theta - e)
        np.testing.assert_allclose(G[:, :, i], (kp(X) - km(X)) / (2 * h), atol=1e-7)


def test_gradient_matches_finite_differences():
    k = SpectralMixture(weights=[1.0, 0.4], means=[0.7, 2.5], scales=[0.15, 0.3])
    _check_fd_gradient(k, 0)
    fixed = SpectralMixture(means=[1.0], means_bounds="fixed")
    assert fixed(np.zeros((9, 1)), eval_gradient=True)[1].shape == (9, 9, 2)


def test_protocol_and_errors():
    k = SpectralMixture(weights=[1.0, 2.0], means=[1.0, 3.0], scales=[0.1, 0.2])
    k2 = clone(k)
    assert k2.get_params()["means"] == [1.0, 3.0]
    assert k.n_dims == 6 and k.bounds.shape == (6, 2)
    with pytest.raises(ValueError, match="one input dimension"):
        k(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="one length"):
        SpectralMixture(weights=[1.0], means=[1.0, 2.0])(np.zeros((2, 1)))
    with pytest.raises(ValueError, match="means must be positive"):
        SpectralMixture(means=[-1.0])(np.zeros((2, 1)))


def planted(n=200):
    x = np.linspace(0, 4, n)
    y = np.sin(2 * np.pi * 1.5 * x) + 0.6 * np.sin(2 * np.pi * 4.0 * x + 0.3)
    return x, y + 0.05 * np.random.default_rng(1).normal(size=n)


def test_periodogram_initialisation_finds_the_peaks():
    x, y = planted()
    k = SpectralMixture.from_periodogram(x, y, 2)
    np.testing.assert_allclose(np.sort(k.means), [1.5, 4.0], atol=0.25)
    with pytest.raises(ValueError, match="equally spaced"):
        SpectralMixture.from_periodogram(x**2, y)


@pytest.mark.parametrize("model", ["sklearn", "kronecker"])
def test_learnt_frequencies_recover_planted_sinusoids(model):
    """Frequencies 1.5 and 4.0 cycles per unit, learnt to 1% (from the
    periodogram's 0.25-resolution guess)."""
    x, y = planted()
    k0 = SpectralMixture.from_periodogram(x, y, 2)
    if model == "sklearn":
        from sklearn.gaussian_process.kernels import WhiteKernel

        gp = GaussianProcessRegressor(k0 + WhiteKernel(0.01)).fit(x[:, None], y)
        k = gp.kernel_.k1
    else:
        gp = KroneckerGaussianProcessRegressor(k0, noise_variance=0.01)
        k = gp.fit(x[:, None], y).kernels_[0]
    np.testing.assert_allclose(np.sort(k.means), [1.5, 4.0], rtol=0.01)
    # extrapolation a period beyond the data
    xt = np.linspace(4.5, 5.0, 20)
    truth = np.sin(2 * np.pi * 1.5 * xt) + 0.6 * np.sin(2 * np.pi * 4.0 * xt + 0.3)
    assert np.abs(gp.predict(xt[:, None]) - truth).max() < 0.1


def test_pickle_theta_roundtrip_and_backend_blocks():
    import pickle

    from kernlearn.backend import kernel_matrix, kernel_sum

    k = SpectralMixture(weights=[1.0, 2.0], means=[1.0, 3.0], scales=[0.1, 0.2])
    assert pickle.loads(pickle.dumps(k)) == k
    assert repr(k).startswith("SpectralMixture(weights=[1, 2]")
    theta = k.theta + np.linspace(-0.2, 0.3, 6)
    np.testing.assert_allclose(k.clone_with_theta(theta).theta, theta, rtol=1e-14)
    X = np.random.default_rng(2).uniform(0, 2, size=(13, 1))
    Y = np.random.default_rng(3).uniform(0, 2, size=(5, 1))
    np.testing.assert_allclose(k.diag(X), np.diag(k(X)), rtol=1e-14)
    # not fusable: the engines evaluate it through kernel(X, Y) blocks
    np.testing.assert_allclose(kernel_matrix(k, X, Y, backend="numpy"), k(X, Y))
    w = np.arange(5.0)
    np.testing.assert_allclose(kernel_sum(k, X, Y, w, backend="numpy"), k(X, Y) @ w)


# ------------------------------------------------------------ Student-t mixture
def test_student_t_covariance_is_the_fourier_transform_of_its_spectrum():
    """Heavy tails: the cosine transform on [0, inf) by QAWF (scipy quad)."""
    from kernlearn.kernels import StudentTMixture

    for nu in (1.0, 3.0, 7.5):
        k = StudentTMixture(
            weights=[1.0, 0.5], means=[0.8, 2.0], scales=[0.2, 0.4], nu=nu
        )
        assert quad(k.spectral_density, -np.inf, np.inf)[0] == pytest.approx(1.5)
        for tau in (0.1, 0.45, 1.3):
            ref = 2 * quad(k.spectral_density, 0, np.inf, weight="cos",
                           wvar=2 * math.pi * tau)[0]  # fmt: skip
            got = k(np.array([[tau]]), np.array([[0.0]]))[0, 0]
            assert got == pytest.approx(ref, abs=1e-8)
        assert k(np.zeros((1, 1)))[0, 0] == pytest.approx(1.5)
    # nu -> inf: the Gaussian spectral mixture
    X = np.linspace(0, 2, 9)[:, None]
    big = StudentTMixture(weights=[1.0], means=[1.0], scales=[0.2], nu=4000.0)
    np.testing.assert_allclose(
        big(X), SpectralMixture(weights=[1.0], means=[1.0], scales=[0.2])(X), atol=2e-3
    )


def test_student_t_gradient_matches_finite_differences():
    from kernlearn.kernels import StudentTMixture

    k = StudentTMixture(
        weights=[1.0, 0.4], means=[0.7, 2.5], scales=[0.15, 0.3], nu=2.5
    )
    _check_fd_gradient(k, 4)
    X = np.zeros((3, 1))
    assert repr(k).startswith("StudentTMixture(") and "nu=2.5" in repr(k)
    with pytest.raises(ValueError, match="nu must be positive"):
        StudentTMixture(nu=0.0)(X)
