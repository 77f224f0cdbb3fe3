"""The docstring examples of kernlearn.gaussian_process and the spectral
kernels print what they claim."""

import doctest
import importlib

import pytest

MODULES = [
    "kernlearn.gaussian_process._kron",
    "kernlearn.gaussian_process._kronecker",
    "kernlearn.kernels._spectral",
    "kernlearn.utils._threaded",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0
