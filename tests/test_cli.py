"""The ``kernlearn`` command line: ``info``, ``demo``, ``--version``, ``python -m``."""

import os
import subprocess
import sys

import pytest

import kernlearn
from kernlearn.backend import engine_status
from kernlearn.cli import main


def test_version(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"kernlearn {kernlearn.__version__}"


def test_no_command_prints_help(capsys):
    assert main([]) == 2
    out = capsys.readouterr().out
    assert "info" in out and "demo" in out


def test_unknown_command(capsys):
    with pytest.raises(SystemExit) as info:
        main(["frobnicate"])
    assert info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_info(capsys):
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    for word in (
        "kernlearn",
        "python",
        "numpy",
        "scipy",
        "scikit-learn",
        "numba",
        "pykeops",
        "cupy",
        "dask",
        "tqdm",
        "matplotlib",
        "CPU count",
        "platform",
        "working_memory",
        "backend",
        "Engines",
    ):
        assert word in out, word
    engines = out[out.index("Engines") :]
    assert "usable" in engines and "install with" in engines
    for name, (usable, _, extra) in engine_status().items():
        row = next(line for line in engines.splitlines() if line.split()[:1] == [name])
        assert ("yes" if usable else "no") in row.split()
        if not usable and extra:
            assert f'pip install "kernlearn[{extra}]"' in row


def test_info_shows_config(capsys):
    with kernlearn.config_context(backend="numpy", working_memory=77):
        assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert "'numpy'" in out and "77" in out


def test_demo_small(capsys):
    assert main(["demo", "--n", "2000"]) == 0
    out = capsys.readouterr().out
    header = next(line for line in out.splitlines() if "G pairs/s" in line)
    for col in ("engine", "primitive", "kernel", "seconds", "max rel err vs numpy"):
        assert col in header
    rows = [line.split() for line in out.splitlines() if line.strip().endswith("OK")]
    usable = [name for name, (ok, _, _) in engine_status().items() if ok]
    kernels = (
        {"gaussian", "laplacian"}
        if hasattr(kernlearn.kernels, "Laplacian")
        else {"gaussian"}
    )
    expected = {
        (e, p, k)
        for e in usable
        for p in ("kernel_sum", "kernel_logsumexp", "kernel_topk")
        for k in kernels
    }
    assert {(r[0], r[1], r[2]) for r in rows} == expected
    assert all(r[3] == "2000" and r[4] == "2000" and r[5] == "3" for r in rows)
    assert "FAIL" not in out


def test_demo_one_backend_float32(capsys):
    assert (
        main(
            [
                "demo",
                "--backend",
                "numpy",
                "--n",
                "300",
                "--m",
                "500",
                "--d",
                "2",
                "--dtype",
                "float32",
                "--k",
                "3",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    rows = [line.split() for line in out.splitlines() if line.strip().endswith("OK")]
    assert rows and all(r[0] == "numpy" and r[6] == "float32" for r in rows)
    assert all(r[3:6] == ["300", "500", "2"] for r in rows)


def test_demo_unusable_backend(capsys):
    status = engine_status()
    missing = [name for name, (ok, _, _) in status.items() if not ok]
    if not missing:
        pytest.skip("every engine is usable here")
    name = missing[0]
    assert main(["demo", "--backend", name, "--n", "10"]) == 1
    err = capsys.readouterr().err
    assert "not usable" in err and "pip install" in err


def test_demo_bad_arguments(capsys):
    assert main(["demo", "--n", "0"]) == 2
    assert main(["demo", "--n", "10", "--k", "11"]) == 2
    with pytest.raises(SystemExit):
        main(["demo", "--backend", "torch"])


def test_demo_reports_failure(monkeypatch, capsys):
    """An engine that disagrees with numpy prints FAIL and exits non-zero."""
    import kernlearn.cli as cli

    if engine_status()["numba"][0]:
        real = cli._run_primitive

        def off_by_1e6(prim, kernel, X, Y, w, k, backend):
            out = real(prim, kernel, X, Y, w, k, backend)
            if backend == "numba" and prim == "kernel_sum":
                return (out[0] * (1 + 1e-6),)
            return out

        monkeypatch.setattr(cli, "_run_primitive", off_by_1e6)
        argv = ["demo", "--backend", "numba", "--n", "200"]
    else:
        monkeypatch.setitem(cli._RTOL, "float64", -1.0)  # nothing can meet this
        argv = ["demo", "--backend", "numpy", "--n", "200"]
    assert main(argv) == 1
    out = capsys.readouterr().out
    assert "FAIL" in out and "max rel err" in out


def test_bad_environment_is_reported():
    env = dict(os.environ, KERNLEARN_BACKEND="bogus")
    proc = subprocess.run(
        [sys.executable, "-m", "kernlearn", "info"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "KERNLEARN_BACKEND" in proc.stderr and "Traceback" not in proc.stderr


def test_python_dash_m():
    env = {k: v for k, v in os.environ.items() if not k.startswith("KERNLEARN_")}
    proc = subprocess.run(
        [sys.executable, "-m", "kernlearn", "--version"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"kernlearn {kernlearn.__version__}"
