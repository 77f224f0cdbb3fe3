"""
Indoor localisation from BLE signal strengths (RSS fingerprints)
================================================================

A phone locates itself in an L-shaped university corridor from the received
signal strengths (RSS, dBm) of 15 Bluetooth beacons. The shipped data (Ng,
Spachos, She and Plataniotis, IEEE TMC 2023) holds a map recorded with the
phone lying on the floor at 276 grid points, and test windows recorded with
the phone held in the hand: the hand and body change what the phone hears by
several dB, the main source of error of plain fingerprint matching.

:class:`kernlearn.localization.FingerprintLocator` matches each observation
on its strongest beacons (``n_beacons``, 15 by default), the least disturbed
by how the phone is held, fits away the common offset and gain that holding
adds to every reading, weighs the closest fingerprints by a Gaussian kernel of
the RSS distance and, given a few calibration windows, also removes each
beacon's own holding offset. Here the hand-held windows at a random 20% of the grid
points calibrate; the windows at the other points are the evaluation set.

It prints the error table (mean, median and 90th percentile in metres) for
kNN, weighted kNN and kernlearn, tunes ``n_beacons``, ``n_neighbors`` and
``bandwidth`` with ``GridSearchCV`` and ``localization_scorer`` on the
calibration windows, and saves a floor plan of true against estimated
positions.

Usage::

    python examples/indoor_localization.py          # full grid, ~5 s (20 s compiling)
    python examples/indoor_localization.py --quick  # small grid, a few s
    python examples/indoor_localization.py --out figure.png

The data is shipped under ``shared/data/rss_ble_uog``; without it the script
says so and exits. The figure needs matplotlib (``pip install
"kernlearn[plot]"``).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from _common import format_table, pyplot
from sklearn.model_selection import GridSearchCV

from kernlearn.datasets import load_rss_ble_uog
from kernlearn.localization import (
    FingerprintLocator,
    localization_errors,
    localization_scorer,
)


def calibration_split(positions, fraction=0.2, seed=0):
    """Hand-held windows at a random ``fraction`` of the grid points calibrate;
    the windows at every other point are the evaluation set (no point in both)."""
    pts = np.unique(positions, axis=0)
    rng = np.random.default_rng(seed)
    cal_pts = pts[rng.choice(len(pts), int(fraction * len(pts)), replace=False)]
    return (positions[:, None, :] == cal_pts[None]).all(-1).any(1)


def stats(errors):
    return [
        f"{errors.mean():.2f}",
        f"{np.median(errors):.2f}",
        f"{np.percentile(errors, 90):.2f}",
    ]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[1])
    p.add_argument("--quick", action="store_true", help="a smaller search grid")
    p.add_argument("--out", default="indoor_localization.png", help="figure file")
    args = p.parse_args(argv)
    try:
        train = load_rss_ble_uog("train", protocol=3)
        test = load_rss_ble_uog("test", protocol=3)
    except FileNotFoundError as exc:
        print(f"Shipped RSS data not found ({exc}): nothing to locate. Note: the")
        print("example needs shared/data/rss_ble_uog; it exits without a result.")
        return 0
    t0 = time.perf_counter()
    cal = calibration_split(test.positions)
    Xc, yc = test.data[cal], test.positions[cal]
    Xe, ye = test.data[~cal], test.positions[~cal]
    n_map = len(np.unique(train.positions, axis=0))
    print(
        f"Map: {n_map} grid points from {len(train.data):,} floor-phone windows, "
        f"{train.data.shape[1]} beacons."
    )
    print(
        f"Hand-held windows: {len(Xc):,} at {len(np.unique(yc, axis=0))} points "
        f"calibrate, {len(Xe):,} at {len(np.unique(ye, axis=0))} other points "
        "evaluate."
    )

    knn = dict(weights="uniform", beacon_selection="all", n_neighbors=5,
               offset_shrinkage=None, gain_shrinkage=None)  # fmt: skip
    models = [
        ("kNN k=5", FingerprintLocator(**knn), False),
        ("WKNN k=5", FingerprintLocator(**{**knn, "weights": "distance"}), False),
        ("kNN k=5 + holding offset", FingerprintLocator(**knn), True),
        ("kernlearn (defaults), no calibration", FingerprintLocator(), False),
        ("kernlearn (defaults, calibrated)", FingerprintLocator(), True),
    ]  # fmt: skip
    rows, estimates = [], {}
    for name, est, calibrate in models:
        fit = dict(calibration_X=Xc, calibration_y=yc) if calibrate else {}
        est.fit(train.data, train.positions, **fit)
        estimates[name] = est.predict(Xe)
        rows.append([name] + stats(localization_errors(ye, estimates[name])))

    # Tuning on the calibration windows only: the map is the training windows
    # (the search's one "training fold") and the score is the mean error on the
    # calibration windows (its one "test fold"); the holding offset is learnt
    # from those same windows (15 numbers). The evaluation set stays unseen.
    grid = {
        "n_beacons": [5, 8, 12, 15] if not args.quick else [3, 8],
        "n_neighbors": [5, 10, 20] if not args.quick else [5, 10],
        "bandwidth": [3.0, 6.0, 10.0] if not args.quick else [4.0, 8.0],
    }
    X = np.vstack([train.data, Xc])
    y = np.vstack([train.positions, yc])
    split = [(np.arange(len(train.data)), np.arange(len(train.data), len(X)))]
    search = GridSearchCV(
        FingerprintLocator(), grid, scoring=localization_scorer, cv=split,
        refit=False,
    ).fit(X, y, calibration_X=Xc, calibration_y=yc)  # fmt: skip
    picked = search.best_params_
    tuned = FingerprintLocator(**picked).fit(
        train.data, train.positions, calibration_X=Xc, calibration_y=yc
    )
    estimates["kernlearn (tuned, calibrated)"] = tuned.predict(Xe)
    rows.append(
        ["kernlearn (tuned, calibrated)"]
        + stats(localization_errors(ye, estimates["kernlearn (tuned, calibrated)"]))
    )
    n_cand = len(search.cv_results_["params"])
    print()
    print(
        f"GridSearchCV over {n_cand} settings (localization_scorer on the "
        f"calibration windows) picked n_beacons={picked['n_beacons']}, "
        f"n_neighbors={picked['n_neighbors']}, bandwidth={picked['bandwidth']:g} "
        f"dB (calibration mean error {-search.best_score_:.2f} m)."
    )
    print()
    print(f"Errors on the {len(Xe):,} evaluation windows (metres):")
    print(format_table(["method", "mean", "median", "90th percentile"], rows))
    print(f"Time: {time.perf_counter() - t0:.1f} s")

    plt = pyplot()
    if plt is None:
        return 0
    rng = np.random.default_rng(1)
    shown = rng.choice(len(Xe), min(150, len(Xe)), replace=False)
    grid_pts = np.unique(train.positions, axis=0)
    panels = ("kNN k=5", "kernlearn (defaults, calibrated)")
    # the corridor is 43 m by 12 m: floor plans one above the other, full width
    fig, axes = plt.subplots(
        3, 1, figsize=(10, 11), gridspec_kw={"height_ratios": [1, 1, 1.1]}
    )
    for ax, name in zip(axes[:2], panels, strict=True):
        est = estimates[name]
        ax.scatter(*grid_pts.T, s=6, c="lightgray", label="map grid points")
        for i in shown:
            ax.plot([ye[i, 0], est[i, 0]], [ye[i, 1], est[i, 1]], "-",
                    color="tab:red", lw=0.6, alpha=0.6)  # fmt: skip
        ax.scatter(*ye[shown].T, s=12, c="k", label="true position")
        ax.scatter(*est[shown].T, s=12, c="tab:red", marker="x", label="estimate")
        err = localization_errors(ye, est).mean()
        ax.set_title(f"{name}: mean error {err:.2f} m")
        ax.set_xlabel("x (m)")
        ax.set_ylabel("y (m)")
        ax.set_aspect("equal")
    axes[0].legend(fontsize=8, loc="upper center")
    ax = axes[2]
    for name in ("kNN k=5", "WKNN k=5", "kernlearn (defaults, calibrated)",
                 "kernlearn (tuned, calibrated)"):  # fmt: skip
        e = np.sort(localization_errors(ye, estimates[name]))
        ax.plot(e, np.arange(1, len(e) + 1) / len(e), label=name)
    e_all = localization_errors(ye, estimates["kNN k=5"])
    ax.set_xlim(0, np.percentile(e_all, 99.5))
    ax.set_xlabel("error (m)")
    ax.set_ylabel("fraction of windows")
    ax.set_title("error CDF, hand-held evaluation windows")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)
    print(f"\nFigure saved to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
