"""The benchmark scripts run: a smoke run of each in its ``--quick`` mode, the
JSON summary each writes beside its report, and ``run_all.py --quick``."""

import json
import math
import subprocess
import sys

import pytest

from ._scripts import ROOT, run_quick

COMPARISON_KEYS = {
    "case",
    "kernlearn",
    "peer",
    "metric",
    "kernlearn_value",
    "peer_value",
    "ratio",
    "better",
    "note",
}


def check_summary(report, benchmark):
    """The JSON summary beside ``report`` is valid and has comparisons; returns it."""
    data = json.loads(report.with_suffix(".json").read_text(encoding="utf-8"))
    assert data["format"] == 1 and data["benchmark"] == benchmark
    assert data["report"] == report.name and data["exit_status"] == 0
    assert data["checks"]["failed"] == []
    for key in ("cpu", "cores", "python", "kernlearn", "versions", "load_average"):
        assert key in data["machine"]
    assert data["comparisons"], "no comparison in the summary"
    for c in data["comparisons"]:
        assert set(c) == COMPARISON_KEYS and c["better"] in ("lower", "higher")
        a, b = c["kernlearn_value"], c["peer_value"]
        if c["ratio"] is not None:
            expected = b / a if c["better"] == "lower" else a / b
            assert math.isclose(c["ratio"], expected, rel_tol=1e-12)
    for panel in data["plots"]:
        assert panel["series"] and {"title", "xlabel", "ylabel"} <= set(panel)
    return data


# 20 s on 2 idle cores with a warm numba cache, about 50 s on a loaded machine or
# with a cold cache (limit probes, JIT warm-up, 2 kernels x 2 dims x 2 dtypes x up
# to 7 methods): over 30 s, so it is marked slow.
@pytest.mark.slow
def test_bench_kernel_sum_quick(tmp_path):
    out = tmp_path / "kernel_sum.md"
    run_quick("benchmarks/bench_kernel_sum.py", out)
    check_summary(out, "kernel_sum")
    text = out.read_text(encoding="utf-8")
    for section in ("## Machine", "## Practical limit", "## Results", "## Checks"):
        assert section in text
    for method in ("kernlearn numpy", "sklearn KDE kd_tree", "scipy gaussian_kde"):
        assert method in text
    assert "| FAIL |" not in text
    assert "G pairs/s" in text and "% of limit" in text


# About 16 s on 2 idle cores with the peers installed (more with a cold numba
# cache): marked slow like the other benchmark smoke runs.
@pytest.mark.slow
def test_bench_kde_quick(tmp_path):
    out = tmp_path / "kde.md"
    run_quick("benchmarks/bench_kde.py", out)
    check_summary(out, "kde")
    text = out.read_text(encoding="utf-8")
    for section in ("## Machine", "## Targets", "## 1.", "## 2.", "## 3."):
        assert section in text
    assert "kernlearn" in text and "sklearn" in text


# About 10 s on 2 cores (tiny data, one seed, two epsilons; diffprivlib's rows only
# where it imports): marked slow like the other benchmark smoke runs.
@pytest.mark.slow
def test_bench_private_quick(tmp_path):
    out = tmp_path / "private.md"
    run_quick("benchmarks/bench_private.py", out)
    check_summary(out, "private")
    text = out.read_text(encoding="utf-8")
    for section in ("## Machine", "## Targets", "## 1.", "### Distances", "## 2."):
        assert section in text
    for method in ("LSQ-RFF (baseline)", "LSQ-FGT (baseline)", "RFF (ours)"):
        assert method in text
    assert "diffprivlib import" in text and "| FAIL |" not in text.split("## Checks")[1]


# About 10-20 s on 2 cores (600 rows, d = 16 and 1024, two seeds; NNGP/NTK at
# n = 1500): marked slow like the other benchmark smoke runs.
@pytest.mark.slow
def test_bench_random_features_quick(tmp_path):
    out = tmp_path / "random_features.md"
    run_quick("benchmarks/bench_random_features.py", out)
    check_summary(out, "random_features")
    text = out.read_text(encoding="utf-8")
    for section in ("## Machine", "## Targets", "## 1.", "## 2.", "## Checks"):
        assert section in text
    for method in ("kernlearn RFF sorf", "sklearn RBFSampler", "sklearn Nystroem"):
        assert method in text
    assert "| FAIL |" not in text.split("## Checks")[1]


# About 10 s on 2 cores (karate and dolphins, 6 grid values, 3 random graphs):
# marked slow like the other benchmark smoke runs; needs the shipped graphs.
@pytest.mark.slow
def test_bench_graph_kernels_quick(tmp_path):
    from kernlearn.datasets import get_data_home

    try:
        get_data_home()
    except FileNotFoundError as exc:
        pytest.skip(f"shipped data not found ({exc})")
    out = tmp_path / "graph_kernels.md"
    run_quick("benchmarks/bench_graph_kernels.py", out)
    check_summary(out, "graph_kernels")
    text = out.read_text(encoding="utf-8")
    for section in ("## Machine", "## Targets", "## 1.", "## 2.", "## 3."):
        assert section in text
    assert "logComm" in text and "label-free" in text


# A few seconds on 2 cores (grids of 256 to 576 points, dense models included;
# the PDE part on small grids).
@pytest.mark.slow
def test_bench_kronecker_gp_quick(tmp_path):
    out = tmp_path / "kronecker_gp.md"
    run_quick("benchmarks/bench_kronecker_gp.py", out)
    check_summary(out, "kronecker_gp")
    text = out.read_text(encoding="utf-8")
    for section in ("## Machine", "## Targets", "## 1.", "## 2. PDE", "refinement"):
        assert section in text
    assert "| FAIL |" not in text and "24^2" in text
    assert "poisson_2d_multi_scale | 60x60 | student_t | kronecker" in text


# A few seconds on 2 cores (the shipped map against 2,000 tiled windows, a
# 5,000-point simulated map, the accuracy tables): marked slow like the other
# benchmark smoke runs. Without the shipped data its rows are skipped.
@pytest.mark.slow
def test_bench_localization_quick(tmp_path):
    out = tmp_path / "localization.md"
    run_quick("benchmarks/bench_localization.py", out)
    check_summary(out, "localization")
    text = out.read_text(encoding="utf-8")
    for section in ("## Machine", "## Targets", "## 1. Throughput", "## 2. Accuracy"):
        assert section in text
    for method in ("kernlearn defaults", "sklearn KNeighborsRegressor brute"):
        assert method in text
    assert "queries/s" in text and "| FAIL |" not in text
    assert "runs unchanged" in text and "Simulated building (5,000 points" in text


# About 15 s on 2 idle cores (a LocalCluster of 2 processes, numba compiled on
# each): marked slow like the other benchmark smoke runs.
@pytest.mark.slow
def test_bench_dask_quick(tmp_path):
    pytest.importorskip("distributed")
    out = tmp_path / "dask.md"
    run_quick("benchmarks/bench_dask.py", out)
    data = check_summary(out, "dask")
    (c,) = data["comparisons"]
    assert c["peer"] == "numba engine, one process" and c["ratio"] > 0
    text = out.read_text(encoding="utf-8")
    for section in ("## Machine", "## Targets", "## Times", "## Projection"):
        assert section in text
    assert "| FAIL |" not in text and "32 pair tasks" in text


# Every script's --quick mode once more, through run_all (2.5 to 4 minutes on 2
# cores): marked slow like the other benchmark smoke runs.
@pytest.mark.slow
def test_run_all_quick(tmp_path):
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run_all.py"), "--quick"]
        + ["--out-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=1500,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    text = (tmp_path / "SUMMARY.md").read_text(encoding="utf-8")
    for section in ("## Machine", "## Runs", "## kernlearn against its peers"):
        assert section in text
    assert "FAILED" not in text
    table = text.split("## kernlearn against its peers")[1]
    rows = [line for line in table.splitlines() if line.startswith("| ")][1:]
    expected = 0
    for json_file in sorted(tmp_path.glob("*.json")):
        data = check_summary(json_file.with_suffix(".md"), json_file.stem)
        expected += len(data["comparisons"])
        for c in data["comparisons"]:
            row = f"| {json_file.stem} | {c['case']} | {c['kernlearn']} | {c['peer']} |"
            assert any(r.startswith(row) for r in rows), row
        assert f"[{json_file.stem}.md]({json_file.stem}.md)" in text
    assert expected == len(rows) and expected > 0
    assert len(list(tmp_path.glob("*.json"))) >= 7  # graph_kernels needs the data
    if "Plots skipped" not in text:
        assert (tmp_path / "kernel_sum.png").is_file()
