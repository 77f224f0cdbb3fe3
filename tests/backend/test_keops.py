"""The keops engine against the numpy reference (see conformance.py).

Runs wherever pykeops imports and can compile (on the CPU it needs a C++ compiler);
elsewhere every test skips with the engine's reason. KeOps compiles one binary per
formula, dimension, weight width, k and dtype: the full class needs about 290 of them.
On a 2-core machine a cold cache (``~/.cache/keops<version>``) costs about 30 minutes
(5-10 s per binary), a warm one about 5 s for the whole class. By default the class
runs on a core subset of families (a few minutes cold, which keeps a fresh CI machine
within budget); ``KERNLEARN_KEOPS_FULL=1`` runs the whole matrix, and
``-m "not keops"`` deselects it.
"""

import os

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


#: Families checked on every run; the rest only with KERNLEARN_KEOPS_FULL=1.
CORE_CASES = {"gaussian", "gaussian_amp", "laplacian", "l1_laplacian", "tophat"}
FULL = os.environ.get("KERNLEARN_KEOPS_FULL", "") not in ("", "0")


class TestKeops(EngineConformance):
    backend = "keops"

    @pytest.fixture(autouse=True)
    def _core_subset(self, request):
        params = getattr(request.node, "callspec", None)
        case = params.params.get("case") if params is not None else None
        if not FULL and case is not None and case[0] not in CORE_CASES:
            pytest.skip(
                f"{case[0]}: outside the keops core subset (each new formula costs a "
                "compile); set KERNLEARN_KEOPS_FULL=1 to run the whole matrix"
            )
