"""The benchmark scripts run: a smoke run of each in its ``--quick`` mode."""

import pytest

from ._scripts import run_quick


# 20 s on 2 idle cores with a warm numba cache, about 50 s on a loaded machine or
# with a cold cache (limit probes, JIT warm-up, 2 kernels x 2 dims x 2 dtypes x up
# to 7 methods): over 30 s, so it is marked slow.
@pytest.mark.slow
def test_bench_kernel_sum_quick(tmp_path):
    out = tmp_path / "kernel_sum.md"
    run_quick("benchmarks/bench_kernel_sum.py", out)
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
    text = out.read_text(encoding="utf-8")
    for section in ("## Machine", "## Targets", "## 1. Throughput", "## 2. Accuracy"):
        assert section in text
    for method in ("kernlearn defaults", "sklearn KNeighborsRegressor brute"):
        assert method in text
    assert "queries/s" in text and "| FAIL |" not in text
    assert "runs unchanged" in text and "Simulated building (5,000 points" in text
