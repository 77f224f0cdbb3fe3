"""The keops engine against the numpy reference (see conformance.py).

Runs wherever pykeops imports and can compile (on the CPU it needs a C++ compiler);
elsewhere every test skips with the engine's reason. KeOps compiles one binary per
formula, dimension, weight width, k and dtype: the full class needs about 290 of them.
On a 2-core machine a cold cache (``~/.cache/keops<version>``) costs about 30 minutes
(5-10 s per binary), a warm one about 5 s for the whole class, so the class runs
unrestricted; deselect it with ``-m "not keops"`` where no warm cache can be kept.
"""

import pytest

from kernlearn.backend import _load_engine

from .conformance import EngineConformance

try:
    _load_engine("keops")
    _SKIP = None
except ImportError as exc:
    _SKIP = str(exc)

pytestmark = [
    pytest.mark.keops,
    pytest.mark.skipif(_SKIP is not None, reason=str(_SKIP)),
]


class TestKeops(EngineConformance):
    backend = "keops"
