"""Every public class and function has a numpydoc docstring with examples.

The public names are the ``__all__`` of :mod:`kernlearn` and of each public
subpackage (no ``_`` in its name; :mod:`kernlearn.utils` is internal and has no
``__all__``). Each docstring must parse with :mod:`numpydoc.docscrape` without a
warning and carry a non-empty ``Examples`` section; the API reference of the
documentation site (``make docs``) is generated from these docstrings, and
``tests/test_doctests.py`` runs the examples. Constants (tuples, dicts, scorer
objects) are documented by ``#:`` comments and are not checked here. The last
test builds that site as ``make docs`` does, warnings as errors.
"""

import importlib
import inspect
import pkgutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

import kernlearn

from .test_doctests import MODULES

docscrape = pytest.importorskip(
    "numpydoc.docscrape", reason='numpydoc is in the "test" and "docs" extras'
)

#: Subpackages without a public API of their own.
_INTERNAL = {"kernlearn.utils"}


def _public_packages():
    names = ["kernlearn"]
    for info in pkgutil.iter_modules(kernlearn.__path__, "kernlearn."):
        if info.ispkg and not info.name.rsplit(".", 1)[1].startswith("_"):
            names.append(info.name)
    return [n for n in sorted(names) if n not in _INTERNAL]


def _public_objects():
    """``(qualified name, object)`` for every class and function in an ``__all__``."""
    found = []
    for package in _public_packages():
        module = importlib.import_module(package)
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isclass(obj) or inspect.isroutine(obj):
                found.append((f"{package}.{name}", obj))
    return found


PUBLIC = _public_objects()


def test_every_public_package_declares_all():
    for package in _public_packages():
        assert hasattr(importlib.import_module(package), "__all__"), package


def test_public_names_were_found():
    # A guard against an empty parametrisation passing vacuously.
    assert len(PUBLIC) > 50


def test_examples_run_in_test_doctests():
    # The examples checked below are run (and their output compared) by
    # tests/test_doctests.py only for the modules listed in its MODULES.
    defining = {obj.__module__ for _, obj in PUBLIC}
    missing = sorted(m for m in defining if not MODULES.get(m))
    assert not missing, f"add to MODULES of tests/test_doctests.py: {missing}"


@pytest.mark.parametrize("name, obj", PUBLIC, ids=[name for name, _ in PUBLIC])
def test_numpydoc_docstring_with_examples(name, obj):
    assert inspect.getdoc(obj), f"{name} has no docstring"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if inspect.isclass(obj):
            doc = docscrape.ClassDoc(obj, config={"show_class_members": False})
        else:
            doc = docscrape.FunctionDoc(obj)
    messages = [str(w.message) for w in caught]
    assert not messages, f"{name}: numpydoc warns: {messages}"
    assert "".join(doc["Summary"]).strip(), f"{name} has no one-line summary"
    examples = "\n".join(doc["Examples"]).strip()
    assert ">>>" in examples, f"{name} has no Examples section with a doctest"


# About 15 s on 2 cores (the examples are not executed, see docs/conf.py): under
# the 30 s above which the project marks subprocess tests slow.
def test_documentation_builds_without_warnings(tmp_path):
    pytest.importorskip("sphinx", reason='sphinx is in the "test" and "docs" extras')
    pytest.importorskip("sphinx_gallery", reason='sphinx-gallery is in "test", "docs"')
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html"]
        + ["-d", str(tmp_path / "doctrees"), "docs", str(tmp_path / "html")],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=root,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    assert (tmp_path / "html" / "api" / "kernlearn.density.html").is_file()
