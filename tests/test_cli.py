"""The ``kernlearn`` command line: ``info``, ``demo``, ``--version``, ``python -m``."""

import importlib.util
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


def test_demo_one_part(tmp_path, capsys):
    assert main(["demo", "--only", "gp", "--out", str(tmp_path / "figs")]) == 0
    out = capsys.readouterr().out
    header = next(line for line in out.splitlines() if "capability" in line)
    for col in ("dataset", "metric", "value", "reference", "time s", "engine"):
        assert col in header
    rows = [line for line in out.splitlines() if line.rstrip().endswith("PASS")]
    assert any("Kronecker GP regression" in r for r in rows)
    assert any("GP PDE solver" in r for r in rows)
    assert "2 of 2 checks passed" in out
    if importlib.util.find_spec("matplotlib") is not None:
        assert (tmp_path / "figs" / "pde_poisson_1d.png").is_file()
        assert "written to" in out


def test_demo_backend_and_bad_parts(tmp_path, capsys):
    argv = ["demo", "--only", "backend", "--backend", "numpy", "--no-plots"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "numpy engine" in out and "1 of 1 checks passed" in out
    assert main(["demo", "--only", "nonsense"]) == 2
    assert "unknown part" in capsys.readouterr().err
    status = engine_status()
    missing = [name for name, (ok, _, _) in status.items() if not ok]
    if missing:
        assert main(["demo", "--backend", missing[0], "--no-plots"]) == 1
        assert "pip install" in capsys.readouterr().err


def test_demo_part_that_raises_is_a_failed_row(monkeypatch, capsys):
    import kernlearn._demo as demo

    def broken(ctx):
        raise RuntimeError("simulated failure")

    monkeypatch.setitem(demo.PARTS, "gp", ("Kronecker GP", broken))
    assert main(["demo", "--only", "gp", "--no-plots"]) == 1
    out = capsys.readouterr().out
    assert "FAIL" in out and "RuntimeError" in out and "0 of 1 checks" in out


@pytest.mark.slow
def test_demo_every_capability_passes(tmp_path, capsys):
    # `make demo`: every part on the shipped data (or the generators), about a
    # minute on 2 cores; every check must pass
    assert main(["demo", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "FAIL" not in out
    for part in ("backend primitives", "KDE", "private", "random features",
                 "graph node clustering", "Kronecker GP", "PDE solver",
                 "localisation"):  # fmt: skip
        assert part in out


def test_primitives_small(capsys):
    assert main(["primitives", "--n", "2000"]) == 0
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


def test_primitives_one_backend_float32(capsys):
    assert (
        main(
            [
                "primitives",
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


def test_primitives_unusable_backend(capsys):
    status = engine_status()
    missing = [name for name, (ok, _, _) in status.items() if not ok]
    if not missing:
        pytest.skip("every engine is usable here")
    name = missing[0]
    assert main(["primitives", "--backend", name, "--n", "10"]) == 1
    err = capsys.readouterr().err
    assert "not usable" in err and "pip install" in err


def test_primitives_bad_arguments(capsys):
    assert main(["primitives", "--n", "0"]) == 2
    assert main(["primitives", "--n", "10", "--k", "11"]) == 2
    with pytest.raises(SystemExit):
        main(["primitives", "--backend", "torch"])


def test_primitives_reports_failure(monkeypatch, capsys):
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
        argv = ["primitives", "--backend", "numba", "--n", "200"]
    else:
        monkeypatch.setitem(cli._RTOL, "float64", -1.0)  # nothing can meet this
        argv = ["primitives", "--backend", "numpy", "--n", "200"]
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
