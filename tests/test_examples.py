"""The example scripts run: a smoke run of each in its ``--quick`` mode, and each
in its full (default) mode, marked slow."""

import importlib.util
import re

import pytest

from ._scripts import ROOT, run_full, run_quick


# About 10 s on 2 cores (d = 16, n = 602, 10 bandwidths, the five selectors): under
# the 30 s above which the project marks subprocess tests slow, so it is not marked.
def test_kde_high_dimension_quick(tmp_path):
    out = tmp_path / "fig.png"
    text = run_quick("examples/kde_high_dimension.py", out, 600, cwd=tmp_path)
    for selector in ("scott", "silverman", "nn", "loo_ml", "gaussian_reference_hd"):
        assert selector in text
    for regime in ("extreme-value", "stable", "clt"):
        assert regime in text
    for threshold in ("h_opt", "h_G", "h_CLT", "h_G effective"):
        assert threshold in text
    assert "held-out log-lik" in text
    if importlib.util.find_spec("matplotlib") is not None:
        assert out.is_file() and out.stat().st_size > 0
        assert "Figure saved" in text
    else:
        assert not out.exists()
        assert "matplotlib is not installed" in text


# About 6 s on 2 cores (one release per setting: digits KDE at three epsilons and
# two feature counts, 10,000-point two moons, classifiers at three epsilons on
# digits and 9,000 clustered records): not marked slow.
def test_private_similarity_quick(tmp_path):
    out = tmp_path / "fig.png"
    text = run_quick("examples/private_similarity.py", out, 600, cwd=tmp_path)
    assert "Noise seeded from the operating system" in text
    for section in ("1. Private Gaussian KDE on digits", "2. Private Gaussian KDE"):
        assert section in text
    assert "3. Private classification" in text
    for label in ("mean rel. error", "no noise (features only)", "non-private rule"):
        assert label in text
    for eps in ("0.1", "1", "10"):
        assert any(line.split()[:1] == [eps] for line in text.splitlines())
    if importlib.util.find_spec("matplotlib") is not None:
        assert out.is_file() and out.stat().st_size > 0
        assert "Figure saved" in text
    else:
        assert not out.exists()
        assert "matplotlib is not installed" in text


# About 10 s of CPU on 2 cores (one split of diabetes, n = 331, eleven models with
# 5-fold searches; the 2 x 256 MLP's search is half of it; 13 s wall alone, 31 s
# while another job loaded the machine): not marked slow.
def test_neural_kernels_quick(tmp_path):
    out = tmp_path / "fig.png"
    text = run_quick("examples/neural_kernels.py", out, 600, cwd=tmp_path)
    for model in (
        "NTK depth 2, t = inf",
        "NTK depth 2, finite t (CV)",
        "NTK depth 3",
        "NNGP depth 2, kernel ridge",
        "arc-cosine depth 2, kernel ridge",
        "MLP 2 x 256 ReLU",
        "RBF kernel ridge (CV)",
        "random Fourier features",
        "Nystroem",
        "Student-t process, NNGP depth 2",
    ):
        assert model in text
    assert "bundled SNNK" in text
    for label in ("test RMSE", "test R^2", "fit s", "90 % interval"):
        assert label in text
    # The table: every model beats predicting the training mean (RMSE about 1),
    # and early stopping beats the interpolating NTK (0.73 against 0.86).
    row = re.compile(r"^  (\S.*?)\s{2,}(\d\.\d{3})\s+(-?\d\.\d{3})\s+\d+\.\d{2}\s")
    rmse = {m[1]: float(m[2]) for m in map(row.match, text.splitlines()) if m}
    assert len(rmse) >= 11
    assert all(0.5 < r < 1.0 for r in rmse.values()), rmse
    early = rmse["NTK depth 2, finite t (CV)"]
    assert early < rmse["NTK depth 2, t = inf, ridge 1e-3"] - 0.05
    if importlib.util.find_spec("matplotlib") is not None:
        assert out.is_file() and out.stat().st_size > 0
        assert "Figure saved" in text
    else:
        assert not out.exists()
        assert "matplotlib is not installed" in text


# About 4 s on 2 cores (polbooks, 7 grid values, 3 restarts; an SBM graph without
# the shipped data): not marked slow.
def test_graph_clustering_quick(tmp_path):
    out = tmp_path / "fig.png"
    text = run_quick("examples/graph_clustering.py", out, 600, cwd=tmp_path)
    for pair in ("pWalk / Walk", "For / logFor", "Comm / logComm", "Heat / logHeat"):
        assert pair in text
    assert "Label-free choice (highest modularity)" in text
    if importlib.util.find_spec("matplotlib") is not None:
        assert out.is_file() and out.stat().st_size > 0
        assert "Figure saved" in text


# About 20 s on 2 cores (16 x 32 grid, masked cells, L-BFGS over 9
# hyperparameters): marked slow.
@pytest.mark.slow
def test_kronecker_gp_quick(tmp_path):
    out = tmp_path / "fig.png"
    text = run_quick("examples/kronecker_gp.py", out, 600, cwd=tmp_path)
    assert "on the kronecker path (masked cells)" in text
    freq = float(text.split("daily component's frequency:")[1].split()[0])
    assert abs(freq - 1.0) < 0.01  # cycles/day
    rmse = float(text.split("RMSE")[1].split("\n")[2].split()[1])
    assert rmse < 0.06  # observation noise sd is 0.1
    if importlib.util.find_spec("matplotlib") is not None:
        assert out.is_file() and out.stat().st_size > 0


# A few seconds on 2 cores (400 points in 1-D, a 100 x 100 grid in 2-D, fixed
# hyperparameters): marked slow like the other example smoke runs.
@pytest.mark.slow
def test_gp_pde_solver_quick(tmp_path):
    out = tmp_path / "fig.png"
    text = run_quick("examples/gp_pde_solver.py", out, 600, cwd=tmp_path)
    for name in ("poisson_1d_high_freq", "poisson_2d_multi_scale"):
        row = [ln for ln in text.splitlines() if ln.strip().startswith(name + " ")]
        assert len(row) == 1, text
        grid_err, off_err = (float(v) for v in row[0].split()[-2:])
        assert grid_err < 1e-3 and off_err < 1e-3
    if importlib.util.find_spec("matplotlib") is not None:
        assert out.is_file() and out.stat().st_size > 0


# A few seconds on 2 cores (the shipped map, 8 grid settings): marked slow like
# the other example smoke runs. Without the shipped data it says so and exits 0.
@pytest.mark.slow
def test_indoor_localization_quick(tmp_path):
    out = tmp_path / "fig.png"
    text = run_quick("examples/indoor_localization.py", out, 600, cwd=tmp_path)
    if "Shipped RSS data not found" in text:
        assert not out.exists()
        return
    assert "GridSearchCV over 8 settings" in text and "picked n_beacons=" in text
    means, names = {}, ("kNN k=5", "kernlearn (defaults, calibrated)")
    for line in text.splitlines():
        parts = line.strip().rsplit(None, 3)
        if len(parts) == 4 and parts[0] in names:
            means[parts[0]] = float(parts[1])
    assert means["kernlearn (defaults, calibrated)"] <= 1.9  # metres
    assert means["kernlearn (defaults, calibrated)"] < means["kNN k=5"]
    if importlib.util.find_spec("matplotlib") is not None:
        assert out.is_file() and out.stat().st_size > 0
        assert "Figure saved" in text


# About 6 s on 2 cores (digits: 6 candidates x 3 folds for the Nystroem pipeline and
# the SVC; diabetes: 6 x 3 for KernelRidge and one Gaussian process fit): not
# marked slow.
def test_pipeline_grid_search_quick(tmp_path):
    out = tmp_path / "fig.png"
    text = run_quick("examples/pipeline_grid_search.py", out, 600, cwd=tmp_path)
    pipelines = {
        "scaler + Nystroem(100) + ridge": 0.9,  # test accuracy (about 0.97)
        "scaler + SVC(C=10), exact": 0.95,  # (about 0.98)
        "scaler + KernelRidge": 0.2,  # test R^2 (about 0.35)
        "scaler + GaussianProcessRegressor": 0.2,  # (about 0.35)
    }
    for name, floor in pipelines.items():
        rows = [ln for ln in text.splitlines() if f"  {name}  " in ln]
        assert len(rows) == 1, text
        cv, test = rows[0].split()[-3:-1]
        assert float(test) > floor, rows[0]
        assert cv == "-" or float(cv) > floor, rows[0]
    # the searched kernels are kernlearn objects with the grid's length scale set
    assert re.search(r"(Gaussian|Matern|Laplacian)\(length_scale=(4|16|32)\b", text)
    diff = float(text.split("largest prediction difference")[1].split()[0])
    assert diff < 1e-8  # kernlearn Gaussian in KernelRidge == kernel="rbf"
    lml_diff = float(text.split("log marginal likelihood")[1].split("difference")[1]
                     .split(")")[0])  # fmt: skip
    assert lml_diff < 1e-8  # kernlearn Matern == scikit-learn Matern
    assert "Gaussian process length scales" in text and "bmi" in text
    if importlib.util.find_spec("matplotlib") is not None:
        assert out.is_file() and out.stat().st_size > 0
        assert "Figure saved" in text
    else:
        assert not out.exists()
        assert "matplotlib is not installed" in text


# About 10 s on 2 cores with numba's and KeOps's compiled kernels cached, 50 s on a
# cold KeOps cache (five formulas compiled on the first run): marked slow.
@pytest.mark.slow
def test_switching_engines_quick(tmp_path):
    from kernlearn.backend import engine_status

    out = tmp_path / "fig.png"
    text = run_quick("examples/switching_engines.py", out, 900, cwd=tmp_path)
    lines = text.splitlines()
    status = engine_status()
    usable = [name for name, (ok, _, _) in status.items() if ok]
    for name, (ok, _, extra) in status.items():
        row = [ln for ln in lines if ln.split()[:2] == [name, "yes" if ok else "no"]]
        assert row, text
        if not ok:  # listed with the extra that installs it, and skipped
            assert f'pip install "kernlearn[{extra}]"' in row[0]
            skipped = [ln for ln in lines if ln.startswith("Not usable here, skipped:")]
            assert skipped and name in skipped[0].split(":")[1], text
    # the same-function table: one row per usable engine, 10 columns
    table = {
        ln.split()[0]: ln.split()
        for ln in lines
        if len(ln.split()) == 10 and ln.split()[0] in usable
    }
    assert set(table) == set(usable), text
    for cols in table.values():
        log_dev, sum_dev, topk_dev = (float(c) for c in cols[5:8])
        assert max(log_dev, sum_dev, topk_dev) < 1e-8, cols
        assert cols[8:] == table["numpy"][8:]  # the same accuracies
        assert float(cols[8]) > 95.0  # Parzen accuracy on digits (about 98 %)
    # the size sweep: every usable engine at every size, agreeing with numpy
    sweep = [ln.split() for ln in lines if len(ln.split()) == 5]
    sweep = [c for c in sweep if c[1] in usable and c[0].replace(",", "").isdigit()]
    assert len(sweep) == 3 * len(usable), text
    assert all(float(c[-1]) < 1e-8 for c in sweep), sweep
    assert "Failed" not in text
    if importlib.util.find_spec("matplotlib") is not None:
        assert out.is_file() and out.stat().st_size > 0
        assert "Figure saved" in text
    else:
        assert not out.exists()
        assert "matplotlib is not installed" in text


# About 15 s on 2 cores (a LocalCluster of 2 processes, numba's kernels loaded
# from its cache on each): marked slow.
@pytest.mark.slow
def test_dask_scale_out_quick(tmp_path):
    pytest.importorskip("distributed")
    out = tmp_path / "fig.png"
    text = run_quick("examples/dask_scale_out.py", out, 600, cwd=tmp_path)
    pairs, a, b = (int(v) for v in re.search(
        r"(\d+) block-pair tasks \((\d+) x (\d+)\)", text).groups())  # fmt: skip
    assert pairs == a * b and b == 4, text
    dev = float(re.search(r"dask, \d+ workers\s+\S+\s+\S+\s+(\S+)", text)[1])
    assert dev < 1e-5, text
    assert "100.0% of the indices equal the numpy engine's" in text, text
    mean_ll, exact = (float(v) for v in re.search(
        r"mean log-density (\S+), against (\S+) under", text).groups())  # fmt: skip
    assert exact - 3.0 < mean_ll < exact, text  # below the truth, not far below
    if importlib.util.find_spec("matplotlib") is not None:
        assert out.is_file() and out.stat().st_size > 0


# Full (default) mode of every example, one slow test each. Wall times measured one
# at a time on the 2-core development machine (load average 0.5-1.6, mostly the
# example itself); all nine together take about 3 minutes: kde_high_dimension 9 s,
# private_similarity 31 s, neural_kernels 51 s, graph_clustering 3 s, kronecker_gp
# 12 s, gp_pde_solver 6 s, indoor_localization 5 s, pipeline_grid_search 18 s,
# switching_engines 43 s (plus about 30 s when KeOps's formulas are not cached).
# With another job on the machine (load 2-3) the total was about 4 minutes.
# Each entry is a line that the full run prints when it completes its work.
FULL_RUNS = {
    "kde_high_dimension": "Bandwidth selectors",
    "private_similarity": "3. Private classification",
    "neural_kernels": "Lowest mean test RMSE",
    "graph_clustering": "Label-free choice (highest modularity)",
    "kronecker_gp": "daily component's frequency",
    "gp_pde_solver": "rel. L2 error (off-grid)",
    "indoor_localization": "GridSearchCV over 36 settings",
    "pipeline_grid_search": "scaler + Nystroem(300) + ridge",
    "switching_engines": "Time against size",
    "dask_scale_out": "3. KernelDensity",
}


def test_every_example_has_a_full_run():
    scripts = {p.stem for p in (ROOT / "examples").glob("*.py")}
    scripts = {name for name in scripts if not name.startswith("_")}
    assert scripts == set(FULL_RUNS), (
        "add each example to FULL_RUNS (and a --quick test) with its measured time"
    )


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(FULL_RUNS))
def test_example_full(name, tmp_path):
    out = tmp_path / "fig.png"
    text = run_full(f"examples/{name}.py", out, 600, cwd=tmp_path)
    if name == "indoor_localization" and "Shipped RSS data not found" in text:
        assert not out.exists()
        return
    assert FULL_RUNS[name] in text, text[-3000:]
    if importlib.util.find_spec("matplotlib") is not None:
        assert out.is_file() and out.stat().st_size > 0
        assert "Figure saved" in text
    else:
        assert not out.exists()
        assert "matplotlib is not installed" in text
