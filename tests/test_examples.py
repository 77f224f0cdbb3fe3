"""The example scripts run: a smoke run of each in its ``--quick`` mode."""

import importlib.util

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
