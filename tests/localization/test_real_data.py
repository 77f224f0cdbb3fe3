"""FingerprintLocator on the shipped BLE data (Ng et al.): floor-phone map,
hand-held protocol-3 test windows. Skips where the data is absent."""

import numpy as np

from kernlearn.datasets import load_rss_ble_uog, make_rss_fingerprints
from kernlearn.localization import FingerprintLocator, localization_errors

from .._rss import needs_rss_data as needs_data

#: plain kNN on every beacon, no offset or gain: the classic baseline
KNN = dict(
    weights="uniform",
    beacon_selection="all",
    n_neighbors=5,
    offset_shrinkage=None,
    gain_shrinkage=None,
)


def calibration_split(positions, fraction=0.2, seed=0):
    """Hand-held windows at a random ``fraction`` of the grid points calibrate;
    the windows at every other point are the test set (no point in both)."""
    pts = np.unique(positions, axis=0)
    rng = np.random.default_rng(seed)
    cal_pts = pts[rng.choice(len(pts), int(fraction * len(pts)), replace=False)]
    return (positions[:, None, :] == cal_pts[None]).all(-1).any(1)


@needs_data
def test_target_on_the_hand_held_windows():
    train = load_rss_ble_uog("train", protocol=3)
    test = load_rss_ble_uog("test", protocol=3)
    cal = calibration_split(test.positions)
    Xe, ye = test.data[~cal], test.positions[~cal]

    def stats(est, **fit):
        est.fit(train.data, train.positions, **fit)
        e = localization_errors(ye, est.predict(Xe))
        return e.mean(), np.median(e), np.percentile(e, 90)

    knn = stats(FingerprintLocator(**KNN))
    wknn = stats(FingerprintLocator(**{**KNN, "weights": "distance"}))
    ours = stats(
        FingerprintLocator(), calibration_X=test.data[cal],
        calibration_y=test.positions[cal],
    )  # fmt: skip
    # plain kNN: about 2.2 m here (2.3 to 2.5 m in the issue, by floor value)
    assert 2.0 < knn[0] < 2.5 and 2.0 < wknn[0] < 2.5
    assert ours[0] <= 1.9  # the target, metres
    assert ours[0] < 0.8 * knn[0] and ours[2] < knn[2]


@needs_data
def test_target_without_calibration_on_every_test_window():
    # the per-observation offset and gain stand in for calibration:
    # all 5,573 hand-held windows, no hand-held data used in fitting
    train = load_rss_ble_uog("train", protocol=3)
    test = load_rss_ble_uog("test", protocol=3)
    knn = FingerprintLocator(**KNN)
    e_knn = localization_errors(
        test.positions, knn.fit(train.data, train.positions).predict(test.data)
    )
    e_ours = localization_errors(
        test.positions,
        FingerprintLocator().fit(train.data, train.positions).predict(test.data),
    )
    assert 2.0 < e_knn.mean() < 2.5
    assert e_ours.mean() <= 1.9  # 1.76 m measured
    assert e_ours.mean() < 0.85 * e_knn.mean()  # kNN: 2.18 m
    assert np.percentile(e_ours, 90) < np.percentile(e_knn, 90)


def test_synthetic_building_same_code():
    # the scale: >= 5,000 grid points and 100 beacons, no code change
    b = make_rss_fingerprints(5000, 100, n_queries=500, random_state=0)
    loc = FingerprintLocator().fit(b.fingerprints, b.positions)
    e = localization_errors(b.query_positions, loc.predict(b.queries))
    knn = FingerprintLocator(**KNN)
    e_knn = localization_errors(
        b.query_positions, knn.fit(b.fingerprints, b.positions).predict(b.queries)
    )
    side = np.ptp(b.positions, axis=0).max()
    assert e.mean() < 0.1 * side
    # defaults are tuned on the shipped 15-beacon data; with 100 beacons more
    # of them help (n_beacons=30: 1.18 m against kNN's 1.76 m on 2,000
    # queries, the defaults 1.66 m; on these 500 queries 1.74 m, kNN 1.66 m)
    assert e.mean() < 1.5 * e_knn.mean()


def test_offset_and_gain_on_a_building_with_holding_effects():
    # the simulator with the shift and gain measured on the shipped data: the
    # offset takes most of kNN's error away, the gain a further part
    b = make_rss_fingerprints(
        3000,
        60,
        n_queries=500,
        random_state=0,
        holding_shift=(3.3, 2.8),
        holding_gain=(-0.23, 0.31),
    )

    def mean_error(**params):
        est = FingerprintLocator(**params).fit(b.fingerprints, b.positions)
        return localization_errors(b.query_positions, est.predict(b.queries)).mean()

    knn, offset, both = mean_error(**KNN), mean_error(gain_shrinkage=None), mean_error()
    assert offset < 0.7 * knn  # measured 2.89 m against 5.15 m
    assert both < 0.9 * offset  # measured 2.42 m
