"""The docstring examples of kernlearn's modules print what they claim.

One list for the whole package (modules whose docstrings need not all carry an
example say so with ``False``).
"""

import doctest
import importlib

import pytest

#: module -> whether it must contain at least one example
MODULES = {
    "kernlearn._config": True,
    "kernlearn.backend": True,
    "kernlearn.backend._spec": True,
    "kernlearn.backend._transforms": True,
    "kernlearn.backend._neighbors": True,
    "kernlearn.backend._validation": True,
    "kernlearn.kernels._base": True,
    "kernlearn.kernels._dot_product": True,
    "kernlearn.kernels._registry": True,
    "kernlearn.kernels._stationary": True,
    "kernlearn.density._kde": True,
    "kernlearn.density._regime": True,
    "kernlearn.density._bandwidth": False,
    "kernlearn.density._kernels": False,
    "kernlearn.density._isj": False,
    "kernlearn.density._grid": False,
    "kernlearn.graph._input": True,
    "kernlearn.graph._kernels": True,
    "kernlearn.graph._clustering": True,
    "kernlearn.graph._kkmeans": True,
    "kernlearn.graph._modularity": True,
    "kernlearn.privacy._estimator": True,
    "kernlearn.privacy._classifier": True,
    "kernlearn.privacy._accountant": True,
    "kernlearn.privacy._noise": True,
    "kernlearn.privacy._tree": True,
    "kernlearn.privacy._sketch": True,
    "kernlearn.kernel_approximation._fourier": True,
    "kernlearn.kernel_approximation._nystroem": True,
    "kernlearn.kernel_approximation._spectral": True,
    "kernlearn.neural._ntk": True,
    "kernlearn.neural._snnk": True,
    "kernlearn.neural._student_t": True,
    "kernlearn.gaussian_process._kron": True,
    "kernlearn.gaussian_process._kronecker": True,
    "kernlearn.gaussian_process._operators": True,
    "kernlearn.gaussian_process._pde": True,
    "kernlearn.datasets._graphs": True,
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
