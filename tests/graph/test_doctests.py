"""The docstring examples of kernlearn.graph print what they claim."""

import doctest
import importlib

import pytest

MODULES = [
    "kernlearn.graph._input",
    "kernlearn.graph._kernels",
    "kernlearn.graph._clustering",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0
