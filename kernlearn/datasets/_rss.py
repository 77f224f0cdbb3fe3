"""BLE RSS fingerprints: the University of Guelph data set and a simulator.

:func:`load_rss_ble_uog` reads the BLE beacon RSS data of Ng, Spachos, She and
Plataniotis (one corridor floor, 15 beacons, 276 grid points; phone on the floor
for training, hand-held for testing) where it lies, as consolidated windows or raw
readings; :func:`load_rss_ble_uog_map` reads the averaged sample fingerprint map.
:func:`make_rss_fingerprints` simulates a fingerprint map and hand-held queries
from log-distance path loss with spatially correlated shadowing, at any size.

Units: positions are returned in metres. The data's README says the coordinates
in the file names are in cm, but they cannot be: the grid is an L-shaped corridor
``x = 0..430, y = 0`` plus ``x = 0, y = 0..120`` in steps of 2 (276 points), and the
floor plan shows about eleven offices along the long leg, which at 4.3 m would be
39 cm each. The .mat files give the same grid times ten (``locationMat`` and the
window labels run to 4300 and 1200). Read as decimetres (file names) and
centimetres (.mat), the legs are 43 m and 12 m with a 0.2 m grid step (offices
about 3.9 m wide), and plain kNN on the sample map (``k = 3..5``, Euclidean on RSS
with not-heard as -100 dBm) has a mean error of 2.17-2.21 m on the 5573 protocol-3
test windows (median 1.64-1.67 m, 90th percentile 4.7-4.9 m; 2.39-2.43 m mean with
a -105 dBm floor), in line with the 2.3-2.5 m expected of plain kNN on these data.
In cm the same errors would be about 2 cm, impossible for BLE RSS.
"""

from __future__ import annotations

import numbers
import re

import numpy as np
from sklearn.utils import Bunch, check_random_state

from ._graphs import get_data_home

#: The IDs of the 15 beacons deployed in the University of Guelph data set.
RSS_BLE_UOG_BEACONS = (1, 3, 4, 5, 6, 8, 9, 11, 12, 13, 19, 20, 22, 24, 25)

_FOLDER = "rss_ble_uog"
_SUBSETS = {
    "train": ("training_data", "", "fingerprintRawData"),
    "test": ("testing_data", "testing_", "testingFingerprintRawData"),
}
# File-name coordinates are decimetres, .mat coordinates centimetres (see above).
# Dividing (not multiplying by 0.1) makes both give the same doubles, 14 / 10 ==
# 140 / 100, so positions from the CSVs and the .mat files compare equal.
_FILE_UNIT = 10.0
_MAT_UNIT = 100.0

_DESCR = """University of Guelph BLE RSS fingerprint data (Ng et al., IEEE TMC 2023).

15 BLE beacons (IDs {ids}) on the third floor of the Engineering Building, 276
grid points 0.2 m apart along an L-shaped corridor (x = 0..43 m at y = 0, and
x = 0 at y = 0..12 m). Training data: phone on the floor at each grid point.
Testing data: phone hand-held, free to move, while walking a path along the grid
points (positions are the nominal grid point of each recording; 275 points, the
test set has no recording at (19, 0) m). Consolidated windows: protocol 3 by
scanning duration (about one second of readings each in the shipped files),
protocol 2 closing as soon as every beacon expected at the point has been heard.
RSS in dBm, NaN where a beacon was not heard. Positions in metres: the file names
are in decimetres and the .mat files in centimetres, whatever the README says.
Subset: {subset}, kind: {kind}{extra}.
"""


def _data_folder(data_home):
    try:
        home = get_data_home(data_home)
    except FileNotFoundError as error:
        raise FileNotFoundError(
            f"{error} The RSS data lives in <data folder>/{_FOLDER}/."
        ) from None
    folder = home / _FOLDER
    if not folder.is_dir():
        raise FileNotFoundError(
            f"The RSS data folder {str(folder)!r} does not exist. Pass "
            f"data_home=<folder that holds {_FOLDER}/> or set the environment "
            f"variable KERNLEARN_DATA to that folder."
        )
    return folder


def _loadmat(path):
    from scipy.io import loadmat

    if not path.is_file():
        raise FileNotFoundError(f"The RSS data file {str(path)!r} is missing.")
    return loadmat(path)


def _beacon_rows(matrix):
    """(25, n) matrix with row = beacon ID - 1 and 0 = not heard -> (n, 15), NaN."""
    rows = np.asarray(RSS_BLE_UOG_BEACONS) - 1
    out = np.asarray(matrix, dtype=float)[rows].T.copy()
    out[out == 0] = np.nan
    return out


def _check_option(value, name, options):
    if value not in options:
        raise ValueError(f"{name} must be one of {sorted(options)}, got {value!r}.")


def _read_scan(path):
    """The readings of one raw CSV: (rss, time in ms, beacon) as float arrays."""
    text = path.read_text()
    header, _, body = text.partition("\n")
    if header.strip().lower().replace(" ", "") != "objloc,rss,time,beacon":
        raise ValueError(f"{str(path)!r}: unexpected header {header!r}.")
    # Every field is a plain decimal number; parsing all of them in one call is
    # ten times faster than np.loadtxt on the 1.4 million readings.
    values = np.array(body.replace("\n", ",").split(","), dtype=object)
    values = values[values != ""].astype(float)
    if values.size % 4:
        raise ValueError(f"{str(path)!r}: rows do not all have 4 columns.")
    values = values.reshape(-1, 4)
    return values[:, 1], values[:, 2], values[:, 3]


def _load_raw(folder, subset):
    sub, prefix, _ = _SUBSETS[subset]
    pattern = re.compile(rf"{prefix}(\d{{3}})(\d{{3}})_raw\.csv")
    files = sorted(
        (path for path in (folder / sub).iterdir() if pattern.fullmatch(path.name)),
        key=lambda path: path.name,
    )
    if not files:
        raise FileNotFoundError(f"No raw scans {prefix}XXXYYY_raw.csv in {sub}/.")
    grid, rss, time, beacon, index = [], [], [], [], []
    for k, path in enumerate(files):
        match = pattern.fullmatch(path.name)
        grid.append((int(match.group(1)), int(match.group(2))))
        r, t, b = _read_scan(path)
        rss.append(r)
        time.append(t)
        beacon.append(b)
        index.append(np.full(r.size, k, dtype=np.intp))
    grid = np.asarray(grid, dtype=float) / _FILE_UNIT
    index = np.concatenate(index)
    return Bunch(
        positions=grid[index],
        rss=np.concatenate(rss),
        time=np.concatenate(time) / 1000.0,
        beacon=np.concatenate(beacon).astype(np.int64),
        point_index=index,
        grid_points=grid,
        files=[path.name for path in files],
        beacon_ids=np.asarray(RSS_BLE_UOG_BEACONS),
    )


def load_rss_ble_uog(subset="train", kind="consolidated", protocol=3, data_home=None):
    """Load the University of Guelph BLE RSS fingerprint data (Ng et al. 2023).

    15 BLE beacons along an L-shaped corridor with 276 grid points 0.2 m apart;
    the training subset was recorded with the phone on the floor at each grid
    point, the test subset with the phone hand-held while walking along the grid
    points. The files are read where they lie (``<data_home>/rss_ble_uog``); see
    :func:`kernlearn.datasets.get_data_home`.

    Positions are in metres. The data's README calls the file-name coordinates
    centimetres, but the grid spans 430 x 120 of those units along a corridor
    with about eleven offices, and plain kNN reaches the paper's 2.3 m error only
    if they are decimetres (the .mat files, ten times larger, are centimetres);
    the module docstring of ``kernlearn.datasets._rss`` gives the evidence.

    Parameters
    ----------
    subset : {"train", "test"}, default="train"
        ``"train"``: phone on the floor at each grid point; ``"test"``: phone
        hand-held (positions are the nominal grid points of the walk).
    kind : {"consolidated", "raw", "map"}, default="consolidated"
        ``"consolidated"``: the windows of the shipped .mat files, one RSS vector
        per window; ``"raw"``: every reading of the CSV scans; ``"map"``: the
        averaged sample fingerprint map, as :func:`load_rss_ble_uog_map` (training
        data only).
    protocol : {2, 3}, default=3
        For ``kind="consolidated"``: 3 = windows of a fixed scanning duration
        (about one second in the shipped files), 2 = a window closes as soon as
        every beacon expected at the grid point has been heard.
    data_home : str or path-like, default=None
        The data folder that holds ``rss_ble_uog/``; by default the environment
        variable ``KERNLEARN_DATA``, else ``shared/data`` beside the checkout.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        For ``"consolidated"``: ``data`` (n_windows, 15) float RSS in dBm for the
        beacons ``beacon_ids`` in ID order, NaN where not heard; ``positions``
        (n_windows, 2) in metres; ``grid_points`` (n_points, 2) the distinct
        positions in metres, sorted; ``point_index`` (n_windows,) the row of
        ``grid_points`` of each window; ``beacon_ids``; ``DESCR``.
        For ``"raw"``: per reading ``positions`` (n_readings, 2) in metres,
        ``rss`` (dBm), ``time`` (seconds since the epoch, float), ``beacon`` (ID)
        and ``point_index`` (row of ``grid_points``, one per CSV file in file
        name order); ``grid_points``, ``files``, ``beacon_ids``, ``DESCR``.
        For ``"map"``: see :func:`load_rss_ble_uog_map`.

    Raises
    ------
    FileNotFoundError
        If the data folder or a file is missing; the message names
        ``data_home`` and ``KERNLEARN_DATA``.

    See Also
    --------
    load_rss_ble_uog_map : The sample fingerprint map.
    make_rss_fingerprints : Simulated fingerprints of any size.
    kernlearn.localization.consolidate_scans : Windows from raw readings.

    References
    ----------
    P. C. Ng, P. Spachos, J. She and K. N. Plataniotis, "A kernel method to
    nonlinear location estimation with RSS-based fingerprint", IEEE Transactions
    on Mobile Computing, 2023 (arXiv:2204.03724).

    Examples
    --------
    >>> from kernlearn.datasets import load_rss_ble_uog
    >>> test = load_rss_ble_uog("test", protocol=3)  # doctest: +SKIP
    >>> test.data.shape, test.positions.max(axis=0)  # doctest: +SKIP
    ((5573, 15), array([43., 12.]))
    """
    _check_option(subset, "subset", set(_SUBSETS))
    _check_option(kind, "kind", {"consolidated", "raw", "map"})
    if kind == "map":
        if subset != "train":
            raise ValueError("kind='map' exists for the training subset only.")
        return load_rss_ble_uog_map(data_home=data_home)
    folder = _data_folder(data_home)
    if kind == "raw":
        out = _load_raw(folder, subset)
        out.DESCR = _DESCR.format(
            ids=RSS_BLE_UOG_BEACONS, subset=subset, kind=kind, extra=""
        )
        return out
    _check_option(protocol, "protocol", {2, 3})
    sub, _, stem = _SUBSETS[subset]
    mat = _loadmat(folder / sub / "consolidated" / f"{stem}{protocol}.mat")
    data = _beacon_rows(mat[f"fData{protocol}"])
    positions = np.asarray(mat[f"fLabel{protocol}"], dtype=float) / _MAT_UNIT
    grid, index = np.unique(positions, axis=0, return_inverse=True)
    return Bunch(
        data=data,
        positions=positions,
        grid_points=grid,
        point_index=index.ravel(),
        beacon_ids=np.asarray(RSS_BLE_UOG_BEACONS),
        DESCR=_DESCR.format(
            ids=RSS_BLE_UOG_BEACONS,
            subset=subset,
            kind=kind,
            extra=f", protocol: {protocol}",
        ),
    )


def load_rss_ble_uog_map(data_home=None):
    """Load the sample fingerprint map of the University of Guelph BLE data.

    The map shipped in ``sample_fingerprint/fingerprintRawAndMatData.mat``: for
    each of the 276 grid points, the mean RSS of every beacon over the training
    readings at that point (phone on the floor), and its variance.

    Parameters
    ----------
    data_home : str or path-like, default=None
        The data folder that holds ``rss_ble_uog/``; see :func:`load_rss_ble_uog`.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``fingerprints`` (276, 15) mean RSS in dBm, NaN where the beacon was
        never heard at the point; ``variances`` (276, 15) in dBm^2, NaN likewise;
        ``positions`` (276, 2) in metres; ``beacon_ids``; ``DESCR``.

    Examples
    --------
    >>> from kernlearn.datasets import load_rss_ble_uog_map
    >>> fmap = load_rss_ble_uog_map()  # doctest: +SKIP
    >>> fmap.fingerprints.shape, fmap.positions[:3]  # doctest: +SKIP
    ((276, 15), array([[0. , 0. ], [0. , 0.2], [0. , 0.4]]))
    """
    folder = _data_folder(data_home)
    mat = _loadmat(folder / "sample_fingerprint" / "fingerprintRawAndMatData.mat")
    fingerprints = _beacon_rows(mat["fingerprintMat"])
    variances = np.asarray(mat["varMat"], dtype=float)[
        np.asarray(RSS_BLE_UOG_BEACONS) - 1
    ].T.copy()
    variances[np.isnan(fingerprints)] = np.nan
    return Bunch(
        fingerprints=fingerprints,
        variances=variances,
        positions=np.asarray(mat["locationMat"], dtype=float).T / _MAT_UNIT,
        beacon_ids=np.asarray(RSS_BLE_UOG_BEACONS),
        DESCR=_DESCR.format(
            ids=RSS_BLE_UOG_BEACONS, subset="train", kind="map", extra=""
        ),
    )


# ---------------------------------------------------------------------- simulator
def _check_range(value, name):
    if isinstance(value, numbers.Real):
        low = high = float(value)
    else:
        try:
            low, high = (float(v) for v in value)
        except (TypeError, ValueError):
            raise ValueError(
                f"{name} must be a number or a (low, high) pair, got {value!r}."
            ) from None
    if not (np.isfinite(low) and np.isfinite(high) and low <= high):
        raise ValueError(f"{name} must satisfy low <= high, got {value!r}.")
    return low, high


def _check_mean_sd(value, name):
    try:
        mean, sd = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(
            f"{name} must be a (mean, standard deviation) pair, got {value!r}."
        ) from None
    if not (np.isfinite(mean) and np.isfinite(sd) and sd >= 0):
        raise ValueError(
            f"{name} must be a finite mean and a standard deviation >= 0, got "
            f"{value!r}."
        )
    return mean, sd


def _check_nonnegative(value, name):
    if not isinstance(value, numbers.Real) or not value >= 0:
        raise ValueError(f"{name} must be a non-negative number, got {value!r}.")
    return float(value)


def _check_count(value, name, low):
    if not isinstance(value, numbers.Integral) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}.")
    return int(value)


class _SmoothField:
    """``n_fields`` independent zero-mean Gaussian fields on the plane with
    covariance ``sigma^2 exp(-|x - y|^2 / (2 length^2))``, by random Fourier
    features: the fields are ``sqrt(2 / D) cos(x W^T + b) @ A``, evaluated in
    blocks so memory stays ``O(block * D)`` at any number of points."""

    def __init__(self, n_fields, sigma, length, rng, n_features=512):
        self.omega = rng.standard_normal((n_features, 2)) / length
        self.phase = rng.uniform(0, 2 * np.pi, n_features)
        self.weights = rng.standard_normal((n_features, n_fields)) * (
            sigma * np.sqrt(2.0 / n_features)
        )

    def __call__(self, points, block=8192):
        out = np.empty((points.shape[0], self.weights.shape[1]))
        for start in range(0, points.shape[0], block):
            stop = start + block
            features = np.cos(points[start:stop] @ self.omega.T + self.phase)
            out[start:stop] = features @ self.weights
        return out


def _mean_rss(points, beacons, tx_power, exponent, field, reference=1.0):
    """Log-distance path loss plus shadowing, (n_points, n_beacons), in blocks."""
    out = field(points)
    for start in range(0, points.shape[0], 8192):
        block = points[start : start + 8192]
        distance = np.sqrt(((block[:, None, :] - beacons[None]) ** 2).sum(-1))
        # Inside the reference distance the far-field model does not hold.
        np.maximum(distance, reference, out=distance)
        out[start : start + 8192] += tx_power - 10.0 * exponent * np.log10(
            distance / reference
        )
    return out


def make_rss_fingerprints(
    n_points=5000,
    n_beacons=100,
    *,
    area=None,
    path_loss_exponent=(2.0, 3.5),
    tx_power=(-65.0, -55.0),
    shadowing_sigma=4.0,
    shadowing_length=5.0,
    holding_offset_sigma=3.0,
    holding_shift=(0.0, 0.0),
    holding_gain=(0.0, 0.0),
    noise_sigma=2.0,
    n_readings=10,
    packet_loss=0.1,
    floor=-100.0,
    n_queries=1000,
    random_state=None,
):
    """Simulate an RSS fingerprint map and hand-held query observations.

    Beacons and map points are placed uniformly at random in a rectangle. The
    mean RSS of beacon ``j`` at ``x`` follows the log-distance path-loss model
    with spatially correlated shadowing,

    ``rss_j(x) = P_j - 10 n_j log10(max(|x - b_j|, 1 m) / 1 m) + S_j(x)``,

    where the transmit power ``P_j`` (RSS at 1 m) and the exponent ``n_j`` are
    drawn per beacon and ``S_j`` is a smooth zero-mean Gaussian random field per
    beacon with a Gaussian covariance (standard deviation ``shadowing_sigma``,
    length scale ``shadowing_length``), drawn by random Fourier features so that
    it costs ``O((n_points + n_queries) n_beacons)`` memory and time. The map
    holds ``rss_j`` at every map point, NaN where it is below the detection
    ``floor`` (the phone would never hear the beacon there).

    A query is what a hand-held phone reports at a random position: the mean RSS
    there, plus a holding offset per query and beacon (the hand and body attenuate
    each direction differently), plus the mean of ``n_readings`` independent
    reading noises (a scanning window). With ``holding_shift`` and
    ``holding_gain`` the holding position also moves all of a query's readings
    alike and stretches them about their mean ``c`` (over the beacons audible
    there): ``q -> c + (1 + beta) (q - c) + delta`` with ``delta`` and
    ``beta`` drawn per query. A beacon is missing (NaN) from a query with
    probability ``packet_loss`` (all its packets lost in the window) or when
    the observed value is below ``floor``.

    Parameters
    ----------
    n_points : int, default=5000
        Number of map points (fingerprints).
    n_beacons : int, default=100
        Number of beacons.
    area : float or (float, float), default=None
        Width and height of the rectangle ``[0, width] x [0, height]`` in metres
        (one number: a square). By default a square with one beacon per 100 m^2,
        ``10 sqrt(n_beacons)`` metres on a side.
    path_loss_exponent : float or (float, float), default=(2.0, 3.5)
        Path-loss exponent ``n_j``: drawn per beacon uniformly from the range, or
        the same for all when a number.
    tx_power : float or (float, float), default=(-65.0, -55.0)
        RSS at the reference distance of 1 m (dBm), per beacon, as above.
    shadowing_sigma : float, default=4.0
        Standard deviation (dB) of the shadowing field; 0 for none.
    shadowing_length : float, default=5.0
        Length scale (metres) of the Gaussian covariance of the shadowing field.
    holding_offset_sigma : float, default=3.0
        Standard deviation (dB) of the zero-mean Gaussian offset added per query
        and beacon for how the phone is held.
    holding_shift : (float, float), default=(0.0, 0.0)
        Mean and standard deviation (dB) of the common offset ``delta`` per
        query. On the shipped BLE data, hand-held windows against the
        floor-phone map at the same point: about (3.3, 2.8).
    holding_gain : (float, float), default=(0.0, 0.0)
        Mean and standard deviation of the gain deviation ``beta`` per query,
        drawn from a Gaussian clipped below at -0.9 so that ``1 + beta`` stays
        positive. On the shipped data about (-0.23, 0.31): hand-held readings
        span a narrower range of levels.
    noise_sigma : float, default=2.0
        Standard deviation (dB) of the noise of one reading; a query averages
        ``n_readings`` readings, so its noise is ``noise_sigma / sqrt(n_readings)``.
    n_readings : int, default=10
        Readings per beacon in a query's scanning window.
    packet_loss : float, default=0.1
        Probability in [0, 1) that a beacon is missing from a query.
    floor : float, default=-100.0
        Detection floor (dBm): values below it are NaN, in the map and in the
        queries.
    n_queries : int, default=1000
        Number of query observations (0 for none).
    random_state : int, RandomState instance or None, default=None
        Seeds every random draw.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``fingerprints`` (n_points, n_beacons) mean RSS (dBm, NaN below floor);
        ``positions`` (n_points, 2) in metres; ``beacon_positions``
        (n_beacons, 2); ``queries`` (n_queries, n_beacons) observed RSS (NaN
        where missing); ``query_positions`` (n_queries, 2); ``tx_power`` and
        ``path_loss_exponent`` (n_beacons,) as drawn; ``area`` (width, height).

    See Also
    --------
    load_rss_ble_uog : Real BLE fingerprints.

    Examples
    --------
    >>> from kernlearn.datasets import make_rss_fingerprints
    >>> sim = make_rss_fingerprints(2000, 20, n_queries=50, random_state=0)
    >>> sim.fingerprints.shape, sim.queries.shape, sim.beacon_positions.shape
    ((2000, 20), (50, 20), (20, 2))
    >>> round(sim.area[0], 3)  # 10 sqrt(20) m on a side
    44.721
    """
    n_points = _check_count(n_points, "n_points", 1)
    n_beacons = _check_count(n_beacons, "n_beacons", 1)
    n_queries = _check_count(n_queries, "n_queries", 0)
    n_readings = _check_count(n_readings, "n_readings", 1)
    if area is None:
        area = (10.0 * np.sqrt(n_beacons),) * 2
    elif isinstance(area, numbers.Real):
        area = (float(area),) * 2
    width, height = (float(v) for v in area)
    if not (width > 0 and height > 0 and np.isfinite(width * height)):
        raise ValueError(f"area must be positive, got {area!r}.")
    exponent_range = _check_range(path_loss_exponent, "path_loss_exponent")
    power_range = _check_range(tx_power, "tx_power")
    shadowing_sigma = _check_nonnegative(shadowing_sigma, "shadowing_sigma")
    holding = _check_nonnegative(holding_offset_sigma, "holding_offset_sigma")
    shift = _check_mean_sd(holding_shift, "holding_shift")
    gain = _check_mean_sd(holding_gain, "holding_gain")
    if gain[0] <= -0.9:
        raise ValueError(
            f"holding_gain={holding_gain!r}: the mean gain deviation must be above "
            "-0.9 (1 + beta stays positive)."
        )
    noise_sigma = _check_nonnegative(noise_sigma, "noise_sigma")
    if not isinstance(shadowing_length, numbers.Real) or not shadowing_length > 0:
        raise ValueError(
            f"shadowing_length must be positive, got {shadowing_length!r}."
        )
    if not isinstance(packet_loss, numbers.Real) or not 0 <= packet_loss < 1:
        raise ValueError(f"packet_loss must be in [0, 1), got {packet_loss!r}.")
    if not isinstance(floor, numbers.Real):
        raise ValueError(f"floor must be a number, got {floor!r}.")

    rng = check_random_state(random_state)
    scale = np.array([width, height])
    beacons = rng.uniform(size=(n_beacons, 2)) * scale
    power = rng.uniform(*power_range, size=n_beacons)
    exponent = rng.uniform(*exponent_range, size=n_beacons)
    field = _SmoothField(n_beacons, shadowing_sigma, float(shadowing_length), rng)
    positions = rng.uniform(size=(n_points, 2)) * scale
    fingerprints = _mean_rss(positions, beacons, power, exponent, field)
    fingerprints[fingerprints < floor] = np.nan

    query_positions = rng.uniform(size=(n_queries, 2)) * scale
    queries = _mean_rss(query_positions, beacons, power, exponent, field)
    queries += rng.normal(0.0, holding, size=queries.shape)
    queries += rng.normal(0.0, noise_sigma / np.sqrt(n_readings), size=queries.shape)
    lost = rng.uniform(size=queries.shape) < packet_loss
    if any(shift) or any(gain):  # drawn last: the other draws stay as they were
        audible = queries >= floor
        c = np.where(audible, queries, 0.0).sum(1) / np.maximum(audible.sum(1), 1)
        beta = rng.normal(gain[0], gain[1], size=(n_queries, 1))
        beta = np.maximum(beta, -0.9)  # 1 + beta stays positive
        delta = rng.normal(shift[0], shift[1], size=(n_queries, 1))
        queries = c[:, None] + (1.0 + beta) * (queries - c[:, None]) + delta
    queries[lost | (queries < floor)] = np.nan
    return Bunch(
        fingerprints=fingerprints,
        positions=positions,
        beacon_positions=beacons,
        queries=queries,
        query_positions=query_positions,
        tx_power=power,
        path_loss_exponent=exponent,
        area=(width, height),
    )
