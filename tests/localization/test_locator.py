"""FingerprintLocator against a dense numpy reference, scikit-learn's kNN,
GridSearchCV, and bad input."""

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV
from sklearn.neighbors import KNeighborsRegressor

from kernlearn.localization import (
    FingerprintLocator,
    localization_errors,
    localization_scorer,
    mean_localization_error,
)


def toy_map(n_points=60, n_beacons=12, seed=0):
    """Log-distance path loss along a corridor, some readings missing."""
    rng = np.random.default_rng(seed)
    pos = np.column_stack([np.linspace(0, 40, n_points), np.zeros(n_points)])
    bx = np.column_stack([rng.uniform(0, 40, n_beacons), rng.uniform(-2, 2, n_beacons)])
    d = np.sqrt(((pos[:, None] - bx[None]) ** 2).sum(-1)) + 1.0
    F = -55 - 25 * np.log10(d) + rng.normal(0, 1.0, d.shape)
    F[F < -95] = np.nan
    return F, pos, bx


def observe(F, pos, n=200, seed=1, offset=0.0, noise=2.0):
    rng = np.random.default_rng(seed)
    i = rng.integers(0, len(F), n)
    O = F[i] + offset + rng.normal(0, noise, (n, F.shape[1]))
    O[rng.random(O.shape) < 0.1] = np.nan
    O[np.isnan(O).all(axis=1), 0] = -70.0
    return O, pos[i]


def reference(F, P, O, floor, n_beacons, k, bw, weights, lam=None, mu=None):
    """The estimator written out densely: per row, strongest heard beacons,
    masked distances to every fingerprint (with ``lam`` / ``mu``: minimised
    over a common offset ``delta`` and a gain ``1 + beta`` about the row's
    mean level, with the penalties ``lam |S| delta^2`` and ``mu |S| beta^2``,
    by a numerical minimiser), top k, weighted mean."""
    from scipy.optimize import minimize

    Fz = np.where(np.isnan(F), floor, F)
    out = []
    for o in O:
        heard = ~np.isnan(o)
        order = np.argsort(-np.where(heard, o, -np.inf), kind="stable")
        sel = order[: min(n_beacons, heard.sum())]
        if lam is None and mu is None:
            d2 = ((o[sel][None, :] - Fz[:, sel]) ** 2).sum(1)
        else:
            n_sel = len(sel)
            c = o[sel].mean()

            def penalised(p, u, g, n_sel=n_sel):
                beta = p[0] if mu is not None else 0.0
                delta = p[1] if lam is not None else 0.0
                r = u - beta * g - delta
                return (
                    (r**2).sum()
                    + (lam or 0.0) * n_sel * delta**2
                    + (mu or 0.0) * n_sel * beta**2
                )

            d2 = np.array(
                [
                    minimize(
                        penalised,
                        np.zeros(2),
                        args=(o[sel] - f[sel], f[sel] - c),
                        tol=1e-12,
                    ).fun
                    for f in Fz
                ]
            )
        top = np.argsort(d2, kind="stable")[:k]
        if weights == "kernel":
            w = np.exp(-d2[top] / (2 * bw**2))
        else:
            w = np.ones(k)
        out.append((w[:, None] * P[top]).sum(0) / w.sum())
    return np.array(out)


@pytest.mark.parametrize(
    "lam, mu", [(None, None), (0.25, None), (None, 10.0), (0.25, 10.0)]
)
@pytest.mark.parametrize("weights", ["kernel", "uniform"])
def test_matches_dense_reference(weights, lam, mu):
    F, P, _ = toy_map()
    O, _ = observe(F, P, n=200 if lam is None and mu is None else 25)
    loc = FingerprintLocator(
        n_beacons=5, n_neighbors=4, bandwidth=5.0, weights=weights,
        offset_shrinkage=lam, gain_shrinkage=mu,
    ).fit(F, P)  # fmt: skip
    np.testing.assert_allclose(
        loc.predict(O),
        reference(F, P, O, -100.0, 5, 4, 5.0, weights, lam, mu),
        atol=1e-6,
    )


def test_offset_shrinkage_undoes_a_common_shift():
    # a phone reading every beacon 6 dB louder: the shrunk distance sees
    # through most of it, the plain one does not
    F, P, _ = toy_map()
    O, Po = observe(F, P, n=300, offset=6.0, noise=1.0)
    plain = FingerprintLocator(offset_shrinkage=None, gain_shrinkage=None).fit(F, P)
    shrunk = FingerprintLocator(offset_shrinkage=0.1, gain_shrinkage=None).fit(F, P)
    e_plain = mean_localization_error(Po, plain.predict(O))
    e_shrunk = mean_localization_error(Po, shrunk.predict(O))
    assert e_shrunk < 0.7 * e_plain


def test_all_beacons_uniform_equals_sklearn_knn():
    F, P, _ = toy_map()
    O, _ = observe(F, P)
    O = np.where(np.isnan(O), -100.0, O)  # sklearn needs every reading
    ours = FingerprintLocator(
        weights="uniform", beacon_selection="all", n_neighbors=5,
        offset_shrinkage=None, gain_shrinkage=None,
    ).fit(F, P)  # fmt: skip
    ref = KNeighborsRegressor(n_neighbors=5).fit(np.where(np.isnan(F), -100, F), P)
    np.testing.assert_allclose(ours.predict(O), ref.predict(O), atol=1e-9)
    wours = FingerprintLocator(
        weights="distance", beacon_selection="all", n_neighbors=5,
        offset_shrinkage=None, gain_shrinkage=None,
    ).fit(F, P)  # fmt: skip
    wref = KNeighborsRegressor(n_neighbors=5, weights="distance")
    wref.fit(np.where(np.isnan(F), -100, F), P)
    np.testing.assert_allclose(wours.predict(O), wref.predict(O), atol=1e-9)


def test_holding_offset_calibration_recovers_the_shift():
    F, P, _ = toy_map()
    shift = np.linspace(2.0, 8.0, F.shape[1])  # hand-held reads louder
    Oc, Pc = observe(F, P, n=400, seed=2, offset=shift, noise=1.0)
    loc = FingerprintLocator(offset_shrinkage=None, gain_shrinkage=None)
    loc.fit(F, P, calibration_X=Oc, calibration_y=Pc)
    # the map's own noise (1 dB) and the observation noise average out
    np.testing.assert_allclose(loc.offset_, shift, atol=0.5)
    assert np.all(loc.instability_ < 2.5)
    O, Po = observe(F, P, n=300, seed=3, offset=shift, noise=2.0)
    plain = FingerprintLocator(offset_shrinkage=None, gain_shrinkage=None).fit(F, P)
    e_cal = mean_localization_error(Po, loc.predict(O))
    e_plain = mean_localization_error(Po, plain.predict(O))
    assert e_cal < 0.7 * e_plain


def test_stable_selection_prefers_quiet_beacons():
    F, P, _ = toy_map()
    rng = np.random.default_rng(5)
    Oc, Pc = observe(F, P, n=400, seed=6, noise=1.0)
    noisy = [0, 3, 7]
    Oc[:, noisy] += rng.normal(0, 15.0, (len(Oc), len(noisy)))
    loc = FingerprintLocator(beacon_selection="stable", n_beacons=4).fit(
        F, P, calibration_X=Oc, calibration_y=Pc
    )
    worst = np.argsort(loc.instability_)[-3:]
    assert set(worst) == set(noisy)
    mask = loc._masks(np.where(np.isnan(Oc), np.nan, Oc))
    assert not mask[:, noisy].any()


def test_threshold_selection_and_aggregation():
    F, P, _ = toy_map()
    # raw windows: three noisy copies per point average back to the map
    # (mean of 3 with sd 0.1: sd 0.058, and 0.35 is 6 sd over 720 entries)
    rng = np.random.default_rng(0)
    W = np.repeat(np.where(np.isnan(F), -100.0, F), 3, axis=0)
    W = W + rng.normal(0, 0.1, W.shape)
    loc = FingerprintLocator(beacon_selection="threshold", rss_threshold=-80).fit(
        W, np.repeat(P, 3, axis=0)
    )
    assert loc.fingerprints_.shape == F.shape
    np.testing.assert_allclose(
        loc.fingerprints_, np.where(np.isnan(F), -100.0, F), atol=0.35
    )
    O, Po = observe(F, P, noise=1.0)
    mask = loc._masks(O)
    strongest = np.nanargmax(O, axis=1)
    assert mask[np.arange(len(O)), strongest].all()
    assert (np.where(mask, O, 0) >= -80).all() or mask.sum(1).min() == 1
    assert mean_localization_error(Po, loc.predict(O)) < 5.0


def test_grid_search_over_locator():
    F, P, _ = toy_map()
    O, Po = observe(F, P, n=150)
    X = np.vstack([F, O])
    y = np.vstack([P, Po])
    gs = GridSearchCV(
        FingerprintLocator(),
        {"n_neighbors": [2, 5], "bandwidth": [3.0, 8.0], "n_beacons": [4, 8]},
        scoring=localization_scorer,
        cv=3,
    ).fit(X, y)
    assert gs.best_score_ < 0  # negated metres
    assert gs.predict(O).shape == Po.shape


def test_errors_and_metrics():
    e = localization_errors([[0, 0], [3, 0]], [[3, 4], [3, 0]])
    np.testing.assert_allclose(e, [5.0, 0.0])
    assert mean_localization_error([[0, 0], [3, 0]], [[3, 4], [3, 0]]) == 2.5
    with pytest.raises(ValueError, match="shape"):
        localization_errors([[0, 0]], [[0, 0, 0]])


def test_bad_input_names_the_fix():
    F, P, _ = toy_map()
    loc = FingerprintLocator().fit(F, P)
    O = np.full((2, F.shape[1]), np.nan)
    O[0, 0] = -60
    with pytest.raises(ValueError, match="hear no beacon"):
        loc.predict(O)
    with pytest.raises(ValueError, match="inf"):
        loc.predict(np.full((1, F.shape[1]), -np.inf))
    with pytest.warns(UserWarning, match="n_neighbors"):
        assert FingerprintLocator(n_neighbors=100).fit(F, P).n_neighbors_ == len(F)
    with pytest.raises(ValueError, match="calibration"):
        FingerprintLocator(beacon_selection="stable").fit(F, P)
    with pytest.raises(ValueError, match="together"):
        FingerprintLocator().fit(F, P, calibration_X=F)
    with pytest.raises(ValueError, match="columns"):
        FingerprintLocator().fit(F, P, calibration_X=F[:, :3], calibration_y=P)
    with pytest.raises(ValueError, match="radial kernel"):
        from kernlearn.kernels import L1Laplacian

        FingerprintLocator(kernel=L1Laplacian(1.0)).fit(F, P)
    with pytest.raises(ValueError, match="n_beacons"):
        FingerprintLocator(n_beacons=0).fit(F, P)
