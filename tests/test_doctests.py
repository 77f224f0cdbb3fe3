"""The docstring examples of kernlearn's modules print what they claim.

One list for the whole package (modules whose docstrings need not all carry an
example say so with ``False``).
"""

import doctest
import importlib

import pytest

#: module -> whether it must contain at least one example
MODULES = {
    "kernlearn.backend": True,
    "kernlearn.backend._transforms": True,
    "kernlearn.backend._neighbors": True,
    "kernlearn.density._kde": False,
    "kernlearn.density._regime": False,
    "kernlearn.density._bandwidth": False,
    "kernlearn.density._kernels": False,
    "kernlearn.density._isj": False,
    "kernlearn.density._grid": False,
    "kernlearn.graph._input": True,
    "kernlearn.graph._kernels": True,
    "kernlearn.graph._clustering": True,
    "kernlearn.privacy._estimator": True,
    "kernlearn.privacy._classifier": True,
    "kernlearn.privacy._accountant": True,
    "kernlearn.privacy._noise": True,
    "kernlearn.privacy._tree": True,
    "kernlearn.privacy._sketch": True,
    "kernlearn.gaussian_process._kron": True,
    "kernlearn.gaussian_process._kronecker": True,
    "kernlearn.gaussian_process._operators": True,
    "kernlearn.gaussian_process._pde": True,
    "kernlearn.datasets._pde": True,
    "kernlearn.datasets._rss": True,
    "kernlearn.localization._locator": True,
    "kernlearn.localization._maps": True,
    "kernlearn.kernels._spectral": True,
    "kernlearn.utils._threaded": True,
}


@pytest.mark.parametrize("name", list(MODULES))
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(
        module, optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS
    )
    assert result.failed == 0
    assert result.attempted > 0 or not MODULES[name]
