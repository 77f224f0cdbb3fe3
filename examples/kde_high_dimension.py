"""
Kernel density estimation in high dimension: the three regimes
==============================================================

In ``d`` dimensions with ``n = exp(alpha d)`` training points, a Gaussian kernel
density estimate goes through three statistical regimes as its bandwidth ``h``
shrinks (Biroli and Mezard, "Kernel density estimators in large dimensions", 2024):
above ``h_CLT`` the sum over training points has Gaussian (central limit)
fluctuations; between ``h_G`` and ``h_CLT`` its terms are heavy-tailed and the sum
is a stable law of index ``h^2 / h_G^2``; below ``h_G`` a handful of nearest
neighbours carry the whole sum (extreme-value statistics). The bandwidth that
minimises the Kullback-Leibler divergence, ``h_opt``, lies below ``h_G``: the best
estimate in high dimension is one in which few points contribute to each density.

This example draws standard Gaussian data in ``d = 32`` with ``alpha = 0.25``
(``n = 2981``) and sweeps ``h`` on a log grid. For each ``h`` it computes the
held-out mean log-likelihood and, from
:meth:`kernlearn.density.KernelDensity.regime_report`, the mean inverse
participation ratio ``sum_i p_i^2`` of the normalised kernel weights (``1/n`` when
every point counts, 1 when one does) and a Hill estimate of the stable index. It
then compares the bandwidth selectors ``"scott"``, ``"silverman"``, ``"nn"``,
``"loo_ml"`` and ``"gaussian_reference_hd"``: their bandwidths, held-out
log-likelihoods, fit times, and the regime each lands in.

Usage::

    python examples/kde_high_dimension.py                  # d = 32, ~15 s
    python examples/kde_high_dimension.py --quick          # d = 16, about 10 s
    python examples/kde_high_dimension.py --out figure.png

The figure needs matplotlib (``pip install "kernlearn[plot]"``); without it the
script prints the tables and skips the figure.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
from _common import format_table, pyplot

from kernlearn.density import KernelDensity, regime_name

SELECTORS = ("scott", "silverman", "nn", "loo_ml", "gaussian_reference_hd")

# The problem sizes: (d, alpha, number of bandwidths, held-out points).
FULL = {"d": 32, "alpha": 0.25, "n_bandwidths": 30, "n_test": 4000}
QUICK = {"d": 16, "alpha": 0.4, "n_bandwidths": 10, "n_test": 1000}


def make_data(d, alpha, n_test, seed):
    """``n = round(exp(alpha d))`` training and ``n_test`` held-out N(0, I) points."""
    rng = np.random.default_rng(seed)
    n = round(np.exp(alpha * d))
    return rng.standard_normal((n, d)), rng.standard_normal((n_test, d))


def sweep(X, T, bandwidths):
    """Held-out mean log-likelihood, inverse participation and Hill stable index
    at each bandwidth; the last regime report (for the thresholds)."""
    loglik, ipr, hill = [], [], []
    report = None
    for h in bandwidths:
        kde = KernelDensity(bandwidth=h).fit(X)
        loglik.append(kde.score_samples(T).mean())
        report = kde.regime_report()
        ipr.append(report.mean_inverse_participation)
        hill.append(report.stable_index_estimate)
    return np.array(loglik), np.array(ipr), np.array(hill), report


def run_selectors(X, T, seed):
    """Each selector's bandwidth, held-out log-likelihood, regime and fit time."""
    # Warm-up: compile the engines once, so that fit times measure the selectors.
    KernelDensity(bandwidth="loo_ml").fit(X[:200]).score_samples(T[:10])
    results = []
    for name in SELECTORS:
        kde = KernelDensity(bandwidth=name, random_state=seed)
        t0 = time.perf_counter()
        kde.fit(X)
        seconds = time.perf_counter() - t0
        report = kde.regime_report()
        results.append(
            {
                "selector": name,
                "bandwidth": kde.bandwidth_,
                "loglik": kde.score_samples(T).mean(),
                "seconds": seconds,
                "regime": report.regime,
                "regime_asymptotic": regime_name(
                    kde.bandwidth_, report.h_G, report.h_CLT
                ),
            }
        )
    return results


def plot(path, bandwidths, loglik, ipr, hill, report, results, true_loglik):
    """Three panels against ``h``: held-out log-likelihood, inverse participation
    ratio and stable index; thresholds as vertical lines, selectors as markers."""
    plt = pyplot()
    if plt is None:
        return False

    h = np.asarray(bandwidths)
    lines = [
        (report.h_opt, "h_opt", "tab:green", "-"),
        (report.h_G, "h_G", "tab:red", "-"),
        (report.h_CLT, "h_CLT", "tab:purple", "-"),
        (report.h_G_effective, "h_G effective", "tab:red", ":"),
        (report.h_CLT_effective, "h_CLT effective", "tab:purple", ":"),
    ]
    markers = ["o", "s", "^", "D", "v"]

    fig, axes = plt.subplots(3, 1, figsize=(7, 10), sharex=True)
    ax_ll, ax_ipr, ax_mu = axes
    for ax in axes:
        ax.set_xscale("log")
        # Regimes by the effective thresholds: extreme-value grey, stable lighter.
        ax.axvspan(h.min(), report.h_G_effective, color="0.88", zorder=0)
        ax.axvspan(report.h_G_effective, report.h_CLT_effective, color="0.95", zorder=0)
        for value, label, color, style in lines:
            # Labelled once: the thresholds' legend is in the middle panel.
            ax.axvline(
                value,
                color=color,
                linestyle=style,
                linewidth=1,
                label=label if ax is ax_ipr else None,
            )
        ax.grid(True, which="major", alpha=0.3)

    curve = ax_ll.plot(h, loglik, "k.-", label="held-out log-likelihood")
    truth = ax_ll.axhline(
        true_loglik, color="0.5", linestyle="--", label="true density"
    )
    selector_handles = []
    for res, marker in zip(results, markers, strict=False):
        selector_handles += ax_ll.plot(
            res["bandwidth"],
            res["loglik"],
            marker,
            markersize=8,
            markerfacecolor="none",
            markeredgewidth=1.5,
            label=f"{res['selector']} (h = {res['bandwidth']:.3g})",
        )
    finite = loglik[np.isfinite(loglik)]
    if finite.size:  # do not let the smallest bandwidths squash the curve
        top = max(finite.max(), true_loglik)
        ax_ll.set_ylim(top - 4.0 * (top - np.median(finite)) - 1.0, top + 1.0)
    ax_ll.set_ylabel("mean held-out log-likelihood")
    ax_ll.legend(
        handles=curve + [truth] + selector_handles, fontsize=7, loc="lower right"
    )
    ax_ll.set_title(
        f"Gaussian KDE, N(0, I) data: d = {report.n_features}, "
        f"n = {report.n_samples} (alpha = {report.alpha:.3g})"
    )

    ax_ipr.plot(h, ipr, "k.-", label="mean inverse participation")
    ax_ipr.axhline(
        1.0 / report.n_samples, color="0.5", linestyle="--", label="1 / n (all equal)"
    )
    ax_ipr.set_yscale("log")
    ax_ipr.set_ylabel("mean inverse participation ratio")
    ax_ipr.legend(fontsize=7, loc="lower left", ncol=2)

    ax_mu.plot(h, hill, "k.-", label="Hill estimate")
    ax_mu.plot(
        h,
        h**2 / report.h_G_effective**2,
        color="tab:orange",
        label="theory h^2 / h_G_eff^2",
    )
    ax_mu.axhline(1.0, color="0.5", linewidth=0.8)
    ax_mu.axhline(2.0, color="0.5", linewidth=0.8)
    ax_mu.set_yscale("log")
    ax_mu.set_ylabel("stable index")
    ax_mu.set_xlabel(
        "bandwidth h  (shaded: extreme-value, then stable regime, effective thresholds)"
    )
    ax_mu.legend(fontsize=7, loc="upper left")
    ticks = [t for t in (0.3, 0.5, 0.7, 1.0, 1.5, 2.0, 3.0) if h.min() <= t <= h.max()]
    ax_mu.set_xticks(ticks, [f"{t:g}" for t in ticks])
    ax_mu.minorticks_off()

    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Sweep the bandwidth of a Gaussian KDE in high dimension and "
        "compare the bandwidth selectors with the regimes of Biroli and Mezard."
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a small problem (d = 16, alpha = 0.4, 10 bandwidths), about 10 s",
    )
    parser.add_argument(
        "--out",
        default="kde_high_dimension.png",
        help="where to save the figure (default: kde_high_dimension.png)",
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    args = parser.parse_args(argv)

    cfg = QUICK if args.quick else FULL
    d, alpha = cfg["d"], cfg["alpha"]
    X, T = make_data(d, alpha, cfg["n_test"], args.seed)
    n = X.shape[0]
    # Mean log-likelihood of the true density N(0, I) on the held-out points.
    true_loglik = float(
        np.mean(-0.5 * np.sum(T * T, axis=1)) - 0.5 * d * np.log(2 * np.pi)
    )
    print(
        f"Gaussian KDE on N(0, I) data: d = {d}, n = round(exp({alpha} d)) = {n} "
        f"training points, {T.shape[0]} held-out points, seed {args.seed}"
    )
    sys.stdout.flush()

    t0 = time.perf_counter()
    bandwidths = np.geomspace(0.3, 3.0, cfg["n_bandwidths"])
    loglik, ipr, hill, report = sweep(X, T, bandwidths)
    sweep_seconds = time.perf_counter() - t0
    best = int(np.argmax(loglik))

    print()
    print("Thresholds (Gaussian reference, from the sample spectrum)")
    rows = [
        ["alpha = ln(n) / d", f"{report.alpha:.4f}", ""],
        ["h_opt", f"{report.h_opt:.4f}", "KL-optimal bandwidth (asymptotic)"],
        ["h_G", f"{report.h_G:.4f}", "extreme-value below, stable above"],
        ["h_CLT = sqrt(2) h_G", f"{report.h_CLT:.4f}", "stable below, CLT above"],
        [
            "h_G effective",
            f"{report.h_G_effective:.4f}",
            "from the observed nearest-neighbour distances",
        ],
        ["h_CLT effective", f"{report.h_CLT_effective:.4f}", ""],
    ]
    print(format_table(["threshold", "h", "meaning"], rows))

    print()
    print(
        f"Bandwidth sweep: {bandwidths.size} values of h in "
        f"[{bandwidths[0]:.2g}, {bandwidths[-1]:.2g}] ({sweep_seconds:.1f} s)"
    )
    rows = [
        [
            f"{h:.4f}",
            f"{ll:.3f}",
            f"{p:.4g}",
            f"{mu:.3g}",
            f"{h**2 / report.h_G_effective**2:.3g}",
            regime_name(h, report.h_G_effective, report.h_CLT_effective),
        ]
        for h, ll, p, mu in zip(bandwidths, loglik, ipr, hill, strict=True)
    ]
    headers = [
        "h",
        "held-out log-lik",
        "inverse participation",
        "stable index (Hill)",
        "h^2/h_G_eff^2",
        "regime",
    ]
    print(format_table(headers, rows))

    results = run_selectors(X, T, args.seed)
    print()
    print("Bandwidth selectors")
    rows = [
        [
            r["selector"],
            f"{r['bandwidth']:.4f}",
            f"{r['loglik']:.3f}",
            r["regime"],
            r["regime_asymptotic"],
            f"{r['seconds']:.3f}",
        ]
        for r in results
    ]
    rows.append(
        [
            "best on the grid",
            f"{bandwidths[best]:.4f}",
            f"{loglik[best]:.3f}",
            regime_name(bandwidths[best], report.h_G_effective, report.h_CLT_effective),
            regime_name(bandwidths[best], report.h_G, report.h_CLT),
            "",
        ]
    )
    rows.append(["true density", "", f"{true_loglik:.3f}", "", "", ""])
    headers = [
        "selector",
        "bandwidth",
        "held-out log-lik",
        "regime (effective)",
        "regime (asymptotic)",
        "fit time (s)",
    ]
    print(format_table(headers, rows))
    print()
    print(
        "Regimes: extreme-value below h_G, stable between h_G and h_CLT, clt above "
        "h_CLT; 'effective' uses the thresholds from the observed nearest-neighbour "
        "distances, 'asymptotic' the large-d formulas."
    )

    if plot(args.out, bandwidths, loglik, ipr, hill, report, results, true_loglik):
        print()
        print(f"Figure saved to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
