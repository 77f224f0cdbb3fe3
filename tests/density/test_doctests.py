"""The docstring examples of kernlearn.density print what they claim."""

import doctest
import importlib

import pytest

MODULES = [
    "kernlearn.density._kde",
    "kernlearn.density._regime",
    "kernlearn.density._bandwidth",
    "kernlearn.density._kernels",
    "kernlearn.density._isj",
    "kernlearn.density._grid",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
