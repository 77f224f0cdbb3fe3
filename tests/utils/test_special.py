"""``log_kv`` against mpmath (50 digits) and closed forms.

It must stay finite where ``scipy.special.kv`` overflows (small argument, large
order) or underflows (large argument).
"""

import mpmath as mp
import numpy as np
import pytest
from scipy.special import gammaln, kv

from kernlearn.utils._special import log_kv

NUS = [0.0, 0.3, 0.5, 1.0, 2.5, 3.7, 10.0, 50.0, 150.0, 300.0]
XS = [1e-10, 1e-3, 0.1, 1.0, 10.0, 100.0, 2720.0, 1e4]


def _mp_log_kv(nu, x):
    with mp.workdps(50):
        return float(mp.log(mp.besselk(mp.mpf(nu), mp.mpf(x))))


@pytest.mark.parametrize("nu", NUS)
def test_log_kv_matches_mpmath(nu):
    x = np.array(XS)
    ref = np.array([_mp_log_kv(nu, xi) for xi in x])
    got = log_kv(nu, x)
    assert got.shape == x.shape and np.all(np.isfinite(got))
    np.testing.assert_allclose(got, ref, rtol=1e-13, atol=1e-13)


def test_grid_covers_scipy_overflow_and_underflow():
    with np.errstate(all="ignore"):
        vals = kv(np.array(NUS)[:, None], np.array(XS)[None, :])
    assert np.count_nonzero(np.isinf(vals)) >= 10
    assert np.count_nonzero(vals == 0) >= 10


def test_half_order_closed_form():
    # K_{1/2}(x) = sqrt(pi / (2 x)) exp(-x)
    x = np.logspace(-10, 5, 61)
    ref = 0.5 * np.log(np.pi / (2 * x)) - x
    np.testing.assert_allclose(log_kv(0.5, x), ref, rtol=1e-14, atol=1e-14)
    np.testing.assert_allclose(log_kv(-0.5, x), ref, rtol=1e-14, atol=1e-14)


@pytest.mark.parametrize("nu", [0.7, 2.0, 40.0])
def test_small_argument_leading_term(nu):
    # K_nu(x) ~ Gamma(nu) / 2 * (2 / x)^nu as x -> 0 (nu > 0)
    x = np.array([1e-150, 1e-250])
    ref = gammaln(nu) + (nu - 1) * np.log(2) - nu * np.log(x)
    np.testing.assert_allclose(log_kv(nu, x), ref, rtol=1e-14)


def test_large_order_large_argument_debye_region():
    # x comparable to nu, both large: the uniform (Debye) regime
    for nu, x in [(200.0, 150.0), (300.0, 60.0), (120.0, 5.0)]:
        np.testing.assert_allclose(
            log_kv(nu, x), _mp_log_kv(nu, x), rtol=1e-13, atol=1e-12
        )


def test_zero_shape_and_monotonicity():
    assert np.isposinf(log_kv(1.5, 0.0))
    assert log_kv(1.5, 2.0).shape == ()
    x = np.array([[0.0, 1.0], [2.0, 3.0]])
    out = log_kv(3.7, x)
    assert out.shape == (2, 2) and np.isposinf(out[0, 0])
    grid = np.logspace(-12, 4, 200)
    for nu in (0.0, 3.7, 300.0):
        assert np.all(np.diff(log_kv(nu, grid)) < 0)  # K_nu decreases in x
