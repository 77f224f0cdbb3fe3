"""Sphinx configuration of the kernlearn documentation site.

Build it with ``make docs`` (``sphinx-build -W --keep-going -b html docs
docs/_build/html``; warnings are errors). Three things are generated at build
time and never committed (see ``.gitignore``):

- ``docs/api/*.rst``: one reference page per public package, listing every
  name of its ``__all__`` (the same names that ``tests/test_docstrings.py``
  checks), so a name added to an ``__all__`` appears without editing the docs;
- ``docs/generated/``: the autosummary page of each of those names, rendered
  from its numpydoc docstring;
- ``docs/auto_examples/``: the sphinx-gallery pages of ``examples/*.py``.

No extension here needs the network (no intersphinx): the build machine may
reach nothing but the package registry.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import shutil
from pathlib import Path

import kernlearn

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent

# -- Project -----------------------------------------------------------------
project = "kernlearn"
author = "the kernlearn developers"
copyright = "the kernlearn developers"
release = kernlearn.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "**.ipynb_checkpoints"]
root_doc = "index"
default_role = "literal"  # `x` reads as code, as in the README
pygments_style = "sphinx"

html_theme = "alabaster"  # ships with Sphinx: no extra dependency
html_title = f"kernlearn {release}"
html_static_path: list[str] = []
html_theme_options = {
    "description": "scikit-learn compatible kernel methods on fused CPU/GPU engines",
    "page_width": "1100px",
    "sidebar_width": "230px",
}

# -- API reference: autodoc, autosummary, numpydoc ---------------------------
autosummary_generate = True
autosummary_imported_members = True
autodoc_default_options = {"members": True, "member-order": "bysource"}
autodoc_typehints = "none"  # numpydoc's Parameters sections carry the types
autoclass_content = "class"  # __init__ only stores parameters: nothing to add
numpydoc_show_class_members = False  # the class template lists members itself
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False  # types stay text (no intersphinx)

#: Packages with no public API of their own (tests/test_docstrings.py agrees).
_INTERNAL = {"kernlearn.utils"}


def _public_packages() -> list[str]:
    names = ["kernlearn"]
    for info in pkgutil.iter_modules(kernlearn.__path__, "kernlearn."):
        if info.ispkg and not info.name.rsplit(".", 1)[1].startswith("_"):
            names.append(info.name)
    return [n for n in sorted(names) if n not in _INTERNAL]


def _autosummary(title: str, names: list[str]) -> list[str]:
    if not names:
        return []
    lines = [title, "-" * len(title), "", ".. autosummary::"]
    lines += ["   :toctree: ../generated", "   :nosignatures:", ""]
    lines += [f"   {name}" for name in names]
    return lines + [""]


def _write_api_pages() -> None:
    """One page per public package: its docstring, then its ``__all__``."""
    out = DOCS / "api"
    out.mkdir(exist_ok=True)
    for package in _public_packages():
        module = importlib.import_module(package)
        groups: dict[str, list[str]] = {"classes": [], "functions": [], "data": []}
        for name in module.__all__:
            if name.startswith("__"):  # __version__
                continue
            obj = getattr(module, name)
            if inspect.isclass(obj):
                groups["classes"].append(name)
            elif inspect.isroutine(obj):
                groups["functions"].append(name)
            else:
                groups["data"].append(name)
        lines = [f"``{package}``", "=" * (len(package) + 4), ""]
        lines += [f".. automodule:: {package}", "   :no-members:", ""]
        lines += [f".. currentmodule:: {package}", ""]
        lines += _autosummary("Classes", groups["classes"])
        lines += _autosummary("Functions", groups["functions"])
        lines += _autosummary("Constants and objects", groups["data"])
        text = "\n".join(lines)
        page = out / f"{package}.rst"
        if not page.is_file() or page.read_text() != text:  # keep incremental builds
            page.write_text(text)


_write_api_pages()

# -- Gallery: sphinx-gallery over examples/*.py -------------------------------
# Every example script is a gallery page. The examples are not executed during
# the build (plot_gallery = False), for three reasons:
#
# - run in full they take from seconds to minutes each, and even their --quick
#   modes (which tests/test_examples.py runs and checks) add minutes on a
#   2-core machine to a build that otherwise takes well under one;
# - several end with ``sys.exit(main())``, and that SystemExit would escape
#   sphinx-gallery's executor and stop the whole build;
# - some read the data shipped beside the checkout (shared/data), which a
#   documentation machine need not have.
#
# So each page shows the example's docstring (what it does and shows, with the
# figures quoted in prose) and its source, with a download link; the examples
# are run from the repository (they import examples/_common.py).
#
# sphinx-gallery wants a GALLERY_HEADER.rst beside the scripts. To keep the
# examples folder for the scripts alone, the gallery is built from a staging copy
# under _build: the header below plus every examples/*.py except the helpers
# whose names start with "_" (_common.py). Any new example is picked up by the
# glob.
_GALLERY_SRC = DOCS / "_build" / "gallery_src"
_GALLERY_HEADER = """\
Examples
========

One script per use case, each runnable from the repository root as
``python examples/<name>.py`` (``--quick`` for a smaller problem, ``--out``
for the figure's file). Each prints its results as plain-text tables and saves
a figure (with matplotlib, ``pip install "kernlearn[plot]"``).
"""


def _stage_examples() -> None:
    if _GALLERY_SRC.exists():
        shutil.rmtree(_GALLERY_SRC)
    _GALLERY_SRC.mkdir(parents=True)
    (_GALLERY_SRC / "GALLERY_HEADER.rst").write_text(_GALLERY_HEADER)
    for script in sorted((ROOT / "examples").glob("[!_]*.py")):
        shutil.copy2(script, _GALLERY_SRC / script.name)


_stage_examples()

sphinx_gallery_conf = {
    "examples_dirs": [str(_GALLERY_SRC)],
    "gallery_dirs": ["auto_examples"],
    "plot_gallery": False,
    "download_all_examples": False,
    "notebook_extensions": set(),  # argparse scripts: no notebooks to offer
    "show_signature": False,
    "show_memory": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    "write_computation_times": False,  # nothing is executed
}


def _skip_member(app, what, name, obj, skip, options):
    """Leave out the ``set_*_request`` methods that scikit-learn's metadata
    routing adds to every estimator: their docstrings point into scikit-learn's
    own documentation, and they say nothing about kernlearn."""
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return None


_ATTR_DOCS: dict[str, dict[str, list[str]]] = {}


def _attr_docs(package: str) -> dict[str, list[str]]:
    """The ``#:`` comments on module-level names of a package and its modules."""
    if package not in _ATTR_DOCS:
        from sphinx.pycode import ModuleAnalyzer

        found: dict[str, list[str]] = {}
        module = importlib.import_module(package)
        names = [package]
        for info in pkgutil.iter_modules(
            getattr(module, "__path__", []), package + "."
        ):
            names.append(info.name)
        for name in names:
            try:
                docs = ModuleAnalyzer.for_module(name).find_attr_docs()
            except Exception:  # a module without source: nothing to read
                continue
            for (scope, attr), lines in docs.items():
                if not scope:
                    found.setdefault(attr, list(lines))
        _ATTR_DOCS[package] = found
    return _ATTR_DOCS[package]


def _constant_docstring(app, what, name, obj, options, lines):
    """A constant re-exported by a package keeps the ``#:`` comment it has where
    it is defined; the docstring of its type ("Built-in immutable sequence")
    is never shown in its place."""
    if what not in ("data", "attribute"):
        return
    package, _, attr = name.rpartition(".")
    doc = _attr_docs(package).get(attr) if package.startswith("kernlearn") else None
    if doc:
        lines[:] = doc
    elif getattr(obj, "__doc__", None) == getattr(type(obj), "__doc__", None):
        lines[:] = []


def setup(app):
    app.connect("autodoc-skip-member", _skip_member)
    # Before numpydoc (priority 500) formats the docstring.
    app.connect("autodoc-process-docstring", _constant_docstring, priority=400)
