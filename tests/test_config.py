"""Configuration: set_config / get_config / config_context, environment defaults,
engine precedence (argument > configuration > auto) and missing-engine errors."""

import importlib
import json
import logging
import os
import subprocess
import sys
import threading
import types

import numpy as np
import pytest

import kernlearn
import kernlearn.backend as B
from kernlearn import config_context, get_config, set_config
from kernlearn.backend import _numpy, kernel_sum, resolve_backend
from kernlearn.kernels import Gaussian


@pytest.fixture(autouse=True)
def _restore_config():
    """Every test leaves the thread's configuration as it found it."""
    saved = get_config()
    yield
    set_config(**saved)


def _in_thread(fn):
    result = {}

    def target():
        try:
            result["value"] = fn()
        except BaseException as exc:  # re-raised in the calling thread
            result["error"] = exc

    t = threading.Thread(target=target)
    t.start()
    t.join()
    if "error" in result:
        raise result["error"]
    return result["value"]


# ----------------------------------------------------------------- semantics
def test_get_config_keys_and_copy():
    config = get_config()
    assert set(config) == {"backend", "working_memory"}
    config["working_memory"] = -1  # a copy: mutating it changes nothing
    assert get_config()["working_memory"] > 0
    assert get_config() is not get_config()


def test_set_config_changes_and_none_leaves_unchanged():
    set_config(backend="numpy", working_memory=64)
    assert get_config() == {"backend": "numpy", "working_memory": 64}
    set_config()  # all None: nothing changes
    set_config(working_memory=None, backend=None)
    assert get_config() == {"backend": "numpy", "working_memory": 64}
    set_config(working_memory=0.5)
    assert get_config() == {"backend": "numpy", "working_memory": 0.5}


def test_config_context_restores_and_nests():
    before = get_config()
    with config_context(backend="numpy"):
        assert get_config()["backend"] == "numpy"
        assert get_config()["working_memory"] == before["working_memory"]
        with config_context(working_memory=8):
            assert get_config() == {"backend": "numpy", "working_memory": 8}
            with config_context(backend="numba", working_memory=2):
                assert get_config() == {"backend": "numba", "working_memory": 2}
            assert get_config() == {"backend": "numpy", "working_memory": 8}
        assert get_config() == {
            "backend": "numpy",
            "working_memory": before["working_memory"],
        }
    assert get_config() == before


def test_config_context_restores_after_exception():
    before = get_config()
    with pytest.raises(RuntimeError, match="boom"):
        with config_context(backend="numpy", working_memory=3):
            with config_context(working_memory=1):
                raise RuntimeError("boom")
    assert get_config() == before


def test_config_context_restores_values_set_inside():
    before = get_config()
    with config_context(backend="numpy"):
        set_config(working_memory=7, backend="numba")
    assert get_config() == before


def test_config_context_is_keyword_only():
    with pytest.raises(TypeError):
        with config_context("numpy"):
            pass


def test_bad_value_leaves_config_unchanged():
    before = get_config()
    with pytest.raises(ValueError, match="working_memory"):
        set_config(backend="numpy", working_memory=-1)
    assert get_config() == before
    with pytest.raises(ValueError, match="working_memory"):
        with config_context(backend="numpy", working_memory=0):
            pass  # pragma: no cover - never entered
    assert get_config() == before


def test_new_thread_sees_defaults():
    defaults = _in_thread(get_config)
    with config_context(backend="numpy", working_memory=5):
        assert _in_thread(get_config) == defaults
        assert get_config() == {"backend": "numpy", "working_memory": 5}
    set_config(backend="numpy")
    assert _in_thread(get_config) == defaults


def test_thread_changes_do_not_leak():
    before = get_config()

    def change():
        set_config(backend="numpy", working_memory=11)
        with config_context(backend="numba"):
            pass
        return get_config()

    assert _in_thread(change) == {"backend": "numpy", "working_memory": 11}
    assert get_config() == before


def test_threads_use_their_own_config():
    """Concurrent threads in different contexts each see their own backend."""
    barrier = threading.Barrier(2)
    seen = {}

    def worker(name):
        with config_context(backend=name):
            barrier.wait(timeout=10)
            seen[name] = get_config()["backend"]
            barrier.wait(timeout=10)

    threads = [threading.Thread(target=worker, args=(n,)) for n in ("numpy", "numba")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == {"numpy": "numpy", "numba": "numba"}


# ------------------------------------------------------------ invalid values
@pytest.mark.parametrize("backend", ["gpu", "NumPy", "", "torch", 3, ("numpy",)])
def test_bad_backend_raises(backend):
    with pytest.raises(ValueError, match="backend"):
        set_config(backend=backend)
    with pytest.raises(ValueError, match="backend"):
        with config_context(backend=backend):
            pass  # pragma: no cover
    with pytest.raises(ValueError, match="backend"):
        resolve_backend(backend)
    X = np.zeros((2, 1))
    with pytest.raises(ValueError, match="backend"):
        kernel_sum(Gaussian(), X, backend=backend)


@pytest.mark.parametrize(
    "wm", [0, -1, -0.5, float("nan"), float("inf"), "big", "64", True, [64], 1j]
)
def test_bad_working_memory_raises(wm):
    with pytest.raises(ValueError, match="working_memory"):
        set_config(working_memory=wm)
    with pytest.raises(ValueError, match="working_memory"):
        with config_context(working_memory=wm):
            pass  # pragma: no cover


@pytest.mark.parametrize("wm", [1, 0.001, 2048, np.float64(16.0), np.int64(8)])
def test_good_working_memory(wm):
    set_config(working_memory=wm)
    assert get_config()["working_memory"] == wm


# --------------------------------------------------------- environment defaults
def _config_in_subprocess(env_update, code=None):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("KERNLEARN_BACKEND", "KERNLEARN_WORKING_MEMORY")
    }
    env.update(env_update)
    code = code or ("import json, kernlearn; print(json.dumps(kernlearn.get_config()))")
    return subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_env_unset_gives_defaults():
    proc = _config_in_subprocess({})
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"backend": "auto", "working_memory": 1024}


@pytest.mark.parametrize(
    "env, expected",
    [
        ({"KERNLEARN_BACKEND": "numpy"}, {"backend": "numpy"}),
        ({"KERNLEARN_BACKEND": " NumBa "}, {"backend": "numba"}),
        ({"KERNLEARN_BACKEND": ""}, {"backend": "auto"}),
        ({"KERNLEARN_WORKING_MEMORY": "64"}, {"working_memory": 64.0}),
        ({"KERNLEARN_WORKING_MEMORY": " 0.5 "}, {"working_memory": 0.5}),
        (
            {"KERNLEARN_BACKEND": "keops", "KERNLEARN_WORKING_MEMORY": "32"},
            {"backend": "keops", "working_memory": 32.0},
        ),
    ],
)
def test_env_defaults(env, expected):
    proc = _config_in_subprocess(env)
    assert proc.returncode == 0, proc.stderr
    config = json.loads(proc.stdout)
    for key, value in expected.items():
        assert config[key] == value


def test_env_default_then_overridden_and_read_once():
    code = (
        "import json, os, threading, kernlearn\n"
        "a = kernlearn.get_config()\n"
        "os.environ['KERNLEARN_BACKEND'] = 'numba'\n"  # read once: ignored now
        "kernlearn.set_config(backend='auto')\n"
        "b = kernlearn.get_config()\n"
        "c = {}\n"
        "t = threading.Thread(target=lambda: c.update(kernlearn.get_config()))\n"
        "t.start(); t.join()\n"
        "print(json.dumps([a, b, c]))\n"
    )
    proc = _config_in_subprocess({"KERNLEARN_BACKEND": "numpy"}, code)
    assert proc.returncode == 0, proc.stderr
    a, b, c = json.loads(proc.stdout)
    assert a["backend"] == "numpy"
    assert b["backend"] == "auto"
    assert c["backend"] == "numpy"  # a new thread starts from the env default


@pytest.mark.parametrize(
    "env",
    [
        {"KERNLEARN_BACKEND": "bogus"},
        {"KERNLEARN_BACKEND": "gpu"},
        {"KERNLEARN_WORKING_MEMORY": "lots"},
        {"KERNLEARN_WORKING_MEMORY": "-5"},
        {"KERNLEARN_WORKING_MEMORY": "0"},
        {"KERNLEARN_WORKING_MEMORY": "nan"},
        {"KERNLEARN_WORKING_MEMORY": "inf"},
    ],
)
def test_env_bad_values_raise_clear_error(env):
    ((var, value),) = env.items()
    proc = _config_in_subprocess(env)
    assert proc.returncode != 0
    assert "ValueError" in proc.stderr
    assert var in proc.stderr and repr(value) in proc.stderr


def test_env_bad_value_does_not_break_import():
    """The environment is read lazily: `import kernlearn` itself works."""
    code = "import kernlearn, kernlearn.backend, kernlearn.kernels; print('ok')"
    proc = _config_in_subprocess({"KERNLEARN_BACKEND": "bogus"}, code)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"


def test_env_backend_is_used_by_primitives():
    code = (
        "import numpy as np, kernlearn.backend as B\n"
        "from kernlearn.kernels import Gaussian\n"
        "B.kernel_sum(Gaussian(), np.zeros((3, 2)))\n"
    )
    proc = _config_in_subprocess({"KERNLEARN_BACKEND": "cupy"}, code)
    if proc.returncode == 0:  # pragma: no cover - a GPU machine with cupy
        pytest.skip("cupy is usable here, so the env backend ran")
    assert "ImportError" in proc.stderr
    assert "kernlearn[gpu]" in proc.stderr


# ----------------------------------------------------------------- precedence
_OPS = ("kernel_matrix", "kernel_sum", "kernel_logsumexp", "kernel_topk")


def _fake_engine(name, calls, fused=True):
    """An engine module that records its calls and computes with numpy."""
    numpy_ops = {op: getattr(_numpy, op) for op in _OPS}  # before any spy
    mod = types.ModuleType(f"kernlearn.backend._{name}")
    mod.NAME = name
    mod.check_available = lambda: None
    mod.supports = lambda spec, op: fused and spec is not None

    def wrap(op):
        def run(*args, **kwargs):
            calls.append((name, op))
            return numpy_ops[op](*args, **kwargs)

        return run

    for op in _OPS:
        setattr(mod, op, wrap(op))
    return mod


@pytest.fixture
def engines(monkeypatch):
    """Replace the numba engine by a recording fake and spy on the numpy one.

    Returns the list of ``(engine, primitive)`` calls that actually ran.
    """
    calls = []
    monkeypatch.setitem(
        sys.modules, "kernlearn.backend._numba", _fake_engine("numba", calls)
    )
    for op in _OPS:
        original = getattr(_numpy, op)

        def spy(*args, _op=op, _original=original, **kwargs):
            calls.append(("numpy", _op))
            return _original(*args, **kwargs)

        monkeypatch.setattr(_numpy, op, spy)
    return calls


BIG = np.random.default_rng(0).normal(size=(400, 2))  # 160,000 pairs: numba in auto
SMALL = BIG[:10]  # 100 pairs: numpy in auto


def test_resolve_backend_precedence():
    spec = Gaussian()._engine_spec()
    with config_context(backend="numba"):
        assert resolve_backend("numpy") == "numpy"  # argument beats config
        assert resolve_backend("keops") == "keops"
        assert resolve_backend(None) == "numba"  # config
        assert resolve_backend("auto", n_pairs=1, spec=spec) == "numpy"  # explicit auto
    with config_context(backend="numpy"):
        assert resolve_backend(None, n_pairs=10**9, spec=spec) == "numpy"
    with config_context(backend="auto"):
        assert resolve_backend(None) == "numpy"  # no spec: numpy blocks
        assert resolve_backend(None, n_pairs=10, spec=spec) == "numpy"  # tiny


def test_resolve_backend_auto_large_fusable_uses_numba():
    spec = Gaussian()._engine_spec()
    try:
        B._load_engine("numba")
    except ImportError:
        expected = "numpy"
    else:
        expected = "numba"
    with config_context(backend="auto"):
        assert resolve_backend(None, n_pairs=10**8, spec=spec) == expected


def test_argument_beats_config(engines):
    with config_context(backend="numba"):
        kernel_sum(Gaussian(), SMALL, backend="numpy")
        assert engines == [("numpy", "kernel_sum")]
        engines.clear()
        kernel_sum(Gaussian(), SMALL)
        assert engines == [("numba", "kernel_sum")]
    engines.clear()
    with config_context(backend="numpy"):
        B.kernel_topk(Gaussian(), BIG, k=2, backend="numba")
        B.kernel_logsumexp(Gaussian(), BIG, backend="auto")
        assert engines == [("numba", "kernel_topk"), ("numba", "kernel_logsumexp")]


def test_config_beats_auto(engines):
    with config_context(backend="numpy"):
        kernel_sum(Gaussian(), BIG)  # auto would pick numba at this size
    with config_context(backend="numba"):
        B.kernel_matrix(Gaussian(), SMALL)  # auto would pick numpy at this size
    assert engines == [("numpy", "kernel_sum"), ("numba", "kernel_matrix")]


def test_auto_by_size_and_kernel(engines, caplog):
    from sklearn.gaussian_process.kernels import RBF

    with config_context(backend="auto"):
        kernel_sum(Gaussian(), BIG)
        kernel_sum(Gaussian(), SMALL)
        with caplog.at_level(logging.DEBUG, logger="kernlearn"):
            kernel_sum(RBF(), BIG)  # not fusable: numpy blocks, no fallback needed
    assert engines == [
        ("numba", "kernel_sum"),
        ("numpy", "kernel_sum"),
        ("numpy", "kernel_sum"),
    ]
    assert "falling back" not in caplog.text


def test_unfusable_kernel_falls_back_and_logs(engines, caplog):
    from sklearn.gaussian_process.kernels import RBF

    with caplog.at_level(logging.DEBUG, logger="kernlearn"):
        got = kernel_sum(RBF(1.3), BIG, backend="numba")
    assert engines == [("numpy", "kernel_sum")]
    assert "falling back" in caplog.text and "numba" in caplog.text
    np.testing.assert_allclose(got, RBF(1.3)(BIG).sum(axis=1), rtol=1e-12)


def test_results_do_not_depend_on_route(engines):
    X = BIG
    ref = Gaussian(0.7)(X).sum(axis=1)
    for backend in ("numpy", "numba", "auto", None):
        np.testing.assert_allclose(
            kernel_sum(Gaussian(0.7), X, backend=backend), ref, rtol=1e-12
        )


# ------------------------------------------------------- missing engines
def _block_import(monkeypatch, engine_module, *packages):
    """Make ``import <package>`` fail and force the engine module to re-import."""
    for pkg in packages:
        monkeypatch.setitem(sys.modules, pkg, None)  # import raises ImportError
    monkeypatch.delitem(
        sys.modules, f"kernlearn.backend.{engine_module}", raising=False
    )
    # The re-import also binds the broken module as a package attribute, which
    # `from kernlearn.backend import _numba` would find later: restore it too.
    monkeypatch.setattr(
        B, engine_module, getattr(B, engine_module, None), raising=False
    )


@pytest.mark.parametrize(
    "engine, module, packages, extra",
    [
        ("keops", "_keops", ("pykeops", "keopscore"), "keops"),
        ("cupy", "_cupy", ("cupy", "cupyx"), "gpu"),
    ],
)
def test_missing_engine_raises_import_error_naming_extra(
    monkeypatch, engine, module, packages, extra
):
    _block_import(monkeypatch, module, *packages)
    X = np.zeros((3, 2))
    hint = f'pip install "kernlearn[{extra}]"'
    with pytest.raises(ImportError, match=rf"{engine}.*kernlearn\[{extra}\]") as info:
        kernel_sum(Gaussian(), X, backend=engine)
    assert hint in str(info.value)
    with config_context(backend=engine):  # the same through the configuration
        with pytest.raises(ImportError, match=rf"kernlearn\[{extra}\]"):
            B.kernel_topk(Gaussian(), X, k=1)
    status = B.engine_status()
    usable, reason, got_extra = status[engine]
    assert not usable and reason and got_extra == extra
    assert status["numpy"] == (True, "", None)


def test_missing_numba_names_the_fix(monkeypatch):
    _block_import(monkeypatch, "_numba", "numba")
    with pytest.raises(ImportError, match="numba.*pip install") as info:
        kernel_sum(Gaussian(), np.zeros((3, 2)), backend="numba")
    assert "kernlearn" in str(info.value)
    # auto quietly uses numpy when numba is missing
    spec = Gaussian()._engine_spec()
    with config_context(backend="auto"):
        assert resolve_backend(None, n_pairs=10**9, spec=spec) == "numpy"
        got = kernel_sum(Gaussian(), BIG)
    np.testing.assert_allclose(got, Gaussian()(BIG).sum(axis=1), rtol=1e-12)


def test_unknown_engine_in_engines_table(monkeypatch):
    """An engine whose module is missing is reported, not fatal."""
    monkeypatch.setitem(B.ENGINES, "nosuch", ("._nosuch", "nosuch"))
    status = B.engine_status()
    assert status["nosuch"][0] is False
    assert status["nosuch"][2] == "nosuch"
    with pytest.raises(ImportError, match=r"kernlearn\[nosuch\]"):
        B._load_engine("nosuch")


def test_public_config_api():
    assert kernlearn.get_config is get_config
    assert kernlearn.set_config is set_config
    assert kernlearn.config_context is config_context
    importlib.import_module("kernlearn._config")
