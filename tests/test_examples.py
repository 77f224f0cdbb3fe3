"""The example scripts run: a smoke run of each in its ``--quick`` mode."""

import importlib.util
import re

import pytest

from ._scripts import run_quick


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
