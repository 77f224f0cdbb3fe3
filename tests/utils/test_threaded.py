"""threaded_ufunc against the plain numpy call."""

import numpy as np
import pytest
from scipy.special import expit

from kernlearn.utils import _threaded
from kernlearn.utils._threaded import threaded_ufunc


@pytest.fixture
def force_split(monkeypatch):
    """Split even small arrays, on two workers even on one core."""
    monkeypatch.setattr(_threaded, "MIN_ELEMENTS", 1)
    monkeypatch.setattr(_threaded, "_n_threads", lambda: 2)


@pytest.mark.parametrize("ufunc", [np.log, np.exp, expit])
@pytest.mark.parametrize("shape", [(7, 5), (1, 9), (300, 3), (40,)])
def test_equals_the_plain_ufunc_bitwise(ufunc, shape, force_split):
    x = np.random.default_rng(0).uniform(0.1, 3.0, size=shape)
    np.testing.assert_array_equal(threaded_ufunc(ufunc, x), ufunc(x))


def test_scalar_operand_and_in_place(force_split):
    x = np.random.default_rng(1).normal(size=(50, 4))
    want = np.maximum(x, 0.25)
    got = threaded_ufunc(np.maximum, x, 0.25, out=x)
    assert got is x
    np.testing.assert_array_equal(x, want)


def test_callers_errstate_travels_to_the_workers(force_split):
    x = np.zeros((64, 4))
    with np.errstate(divide="raise"), pytest.raises(FloatingPointError):
        threaded_ufunc(np.log, x)
    with np.errstate(divide="ignore"):
        assert np.all(threaded_ufunc(np.log, x) == -np.inf)


def test_non_contiguous_input_takes_the_plain_call(force_split):
    x = np.random.default_rng(2).uniform(1, 2, size=(20, 10))[:, ::2]
    np.testing.assert_array_equal(threaded_ufunc(np.log, x), np.log(x))
