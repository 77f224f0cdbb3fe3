"""consolidate_scans and build_fingerprint_map against hand-computed windows, a
numpy reference, and the consolidated .mat files shipped with the University of
Guelph data."""

import numpy as np
import pytest

from kernlearn.datasets._rss import RSS_BLE_UOG_BEACONS, load_rss_ble_uog
from kernlearn.localization._maps import build_fingerprint_map, consolidate_scans

from .._rss import needs_rss_data as needs_data


def test_protocol_3_by_hand():
    time = np.array([0.0, 0.4, 1.0, 1.01, 1.5, 3.2])
    beacon = np.array([7, 3, 7, 3, 7, 3])
    rss = np.array([-60.0, -80.0, -62.0, -81.0, -70.0, -90.0])
    windows, times = consolidate_scans(
        time, beacon, rss, window=1.0, beacon_ids=[3, 7, 9], return_times=True
    )
    expected = [[-80, -61, np.nan], [-81, -70, np.nan], [-90, np.nan, np.nan]]
    np.testing.assert_array_equal(windows, expected)
    np.testing.assert_array_equal(times, [[0, 1], [1.01, 1.5], [3.2, 3.2]])
    # Order of the readings does not matter.
    shuffled = np.random.default_rng(0).permutation(6)
    np.testing.assert_array_equal(
        consolidate_scans(
            time[shuffled], beacon[shuffled], rss[shuffled], beacon_ids=[3, 7, 9]
        ),
        expected,
    )


def test_protocol_2_by_hand():
    beacon = np.array([1, 1, 2, 3, 2, 3, 1, 1, 2])
    rss = -np.arange(60.0, 69.0)
    time = np.arange(9.0)
    windows = consolidate_scans(time, beacon, rss, protocol=2)
    # Windows close at the reading completing {1, 2, 3}; the tail lacks 3.
    np.testing.assert_array_equal(windows, [[-60.5, -62, -63], [-66, -64, -65]])
    only = consolidate_scans(time, beacon, rss, protocol=2, expected_beacons=[1])
    assert only.shape == (4, 3)


def test_outliers_and_mw_average():
    time = np.linspace(0, 0.9, 7)
    beacon = np.full(7, 5)
    rss = np.array([-70.0, -71.0, -69.0, -70.0, -72.0, -68.0, -95.0])
    plain = consolidate_scans(time, beacon, rss)
    cleaned = consolidate_scans(time, beacon, rss, outlier_threshold=3.0)
    assert plain[0, 0] == pytest.approx(rss.mean())
    assert cleaned[0, 0] == pytest.approx(rss[:6].mean())
    mw = consolidate_scans(time, beacon, rss, average="mw")
    assert mw[0, 0] == pytest.approx(10 * np.log10(np.mean(10 ** (rss / 10))))
    assert mw[0, 0] > plain[0, 0]  # Jensen: the power mean favours strong readings.


def test_bad_arguments():
    with pytest.raises(ValueError, match="same length"):
        consolidate_scans([0, 1], [1], [-60, -61])
    with pytest.raises(ValueError, match="protocol"):
        consolidate_scans([0], [1], [-60], protocol=1)
    with pytest.raises(ValueError, match="average"):
        consolidate_scans([0], [1], [-60], average="db")
    with pytest.raises(ValueError, match="window"):
        consolidate_scans([0], [1], [-60], window=0)


def test_build_fingerprint_map_against_nanmean():
    rng = np.random.default_rng(0)
    windows = rng.normal(-80, 5, size=(300, 6))
    windows[rng.uniform(size=windows.shape) < 0.3] = np.nan
    positions = rng.integers(0, 10, size=(300, 2)).astype(float)
    fmap = build_fingerprint_map(windows, positions, ddof=1)
    for row, point in enumerate(fmap.positions):
        at = (positions == point).all(1)
        assert fmap.n_windows[row] == at.sum()
        for j in range(6):
            values = windows[at, j][~np.isnan(windows[at, j])]
            if values.size:
                assert fmap.fingerprints[row, j] == pytest.approx(values.mean())
            if values.size > 1:
                assert fmap.variances[row, j] == pytest.approx(values.var(ddof=1))
    np.testing.assert_array_equal(fmap.positions[fmap.point_index], positions)


def _consolidate_all(raw, protocol):
    counts, windows, positions = [], [], []
    for k, point in enumerate(raw.grid_points):
        at = raw.point_index == k
        w = consolidate_scans(
            raw.time[at],
            raw.beacon[at],
            raw.rss[at],
            protocol=protocol,
            window=1.0,
            beacon_ids=RSS_BLE_UOG_BEACONS,
        )
        windows.append(w)
        positions.append(np.repeat(point[None], len(w), axis=0))
        counts.append(len(w))
    return np.array(counts), np.vstack(windows), np.vstack(positions)


@needs_data
@pytest.mark.parametrize("subset", ["train", "test"])
def test_protocol_2_reproduces_shipped_windows(subset):
    raw = load_rss_ble_uog(subset, kind="raw")
    shipped = load_rss_ble_uog(subset, protocol=2)
    counts, windows, positions = _consolidate_all(raw, 2)
    ref_counts = np.array(
        [(shipped.positions == p).all(1).sum() for p in raw.grid_points]
    )
    # Measured: train 274 of 276 points agree and the others differ by one
    # window (6919 vs 6917 in all), test all 275; on average 98.0% and 99.7%
    # of a point's windows are identical. The rest differ in single readings:
    # the .mat files were made from a slightly different export of the scans
    # (the sample fData holds 5026 readings at (0, 0) where the CSV has 5031).
    assert np.mean(counts == ref_counts) >= 0.99
    assert np.abs(counts - ref_counts).max() <= 1
    same = []
    for point in raw.grid_points:
        a = windows[(positions == point).all(1)]
        b = shipped.data[(shipped.positions == point).all(1)]
        n = min(len(a), len(b))
        a, b = a[:n], b[:n]
        agree = (np.isnan(a) == np.isnan(b)) & (np.isnan(a) | np.isclose(a, b))
        same.append(agree.all(1).sum() / max(len(b), 1))
    # Per point, since one window more or less shifts every later one (at 37 m,
    # 484 windows against 483, the second half of the scan no longer aligns).
    assert np.mean(same) >= 0.97


@needs_data
def test_protocol_3_close_to_shipped_windows():
    raw = load_rss_ble_uog("train", kind="raw")
    shipped = load_rss_ble_uog("train", protocol=3)
    counts, windows, positions = _consolidate_all(raw, 3)
    # The shipped protocol-3 windows cannot be reproduced reading for reading:
    # their edges follow no rule we found (fixed 1 s bins, windows that restart
    # at the first reading after 1 s, or close at the reading that crosses it,
    # each match some windows and miss others), and at a few points (37 m: 251
    # windows of ours, 84 shipped) the .mat covers less of the scan than the
    # CSV. Measured: 23345 windows vs 22977 (1.6%), equal counts at 84% of the
    # points, and per-point means (the map) within 0.71 dB at the 99th
    # percentile (median 0), with the same beacons heard at every point.
    assert abs(counts.sum() / len(shipped.data) - 1) < 0.025
    ref_counts = np.array(
        [(shipped.positions == p).all(1).sum() for p in raw.grid_points]
    )
    assert np.mean(counts == ref_counts) >= 0.8
    ours = build_fingerprint_map(windows, positions)
    theirs = build_fingerprint_map(shipped.data, shipped.positions)
    np.testing.assert_array_equal(ours.positions, theirs.positions)
    np.testing.assert_array_equal(
        np.isnan(ours.fingerprints), np.isnan(theirs.fingerprints)
    )
    difference = np.abs(ours.fingerprints - theirs.fingerprints)
    assert np.nanpercentile(difference, 50) < 0.1
    assert np.nanpercentile(difference, 99) < 1.0
    assert np.nanmax(difference) < 5.0


def test_docstring_examples():
    import doctest

    import kernlearn.localization._maps as module

    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted > 0
