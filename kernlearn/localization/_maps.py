"""Fingerprint maps from raw RSS scans.

A phone scanning for beacons reports a stream of readings ``(time, beacon, rss)``.
:func:`consolidate_scans` cuts the stream into windows and averages each beacon's
readings in a window into one RSS vector (NaN for beacons not heard), by either
protocol of Ng et al. (2023): protocol 3 closes a window after a fixed scanning
duration, protocol 2 as soon as every expected beacon has been heard.
:func:`build_fingerprint_map` averages the windows recorded at each grid point
into the map of mean RSS and its per-beacon variance.
"""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.utils import Bunch

# The scale of the median absolute deviation that makes it a consistent estimate
# of the standard deviation of a normal distribution.
_MAD_SCALE = 1.4826


def _group_median(keys, values, n_groups):
    """Median of ``values`` per integer key in ``range(n_groups)`` (NaN if empty)."""
    order = np.lexsort((values, keys))
    keys, values = keys[order], values[order]
    counts = np.bincount(keys, minlength=n_groups)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    median = np.full(n_groups, np.nan)
    has = counts > 0
    low = starts[has] + (counts[has] - 1) // 2
    high = starts[has] + counts[has] // 2
    median[has] = 0.5 * (values[low] + values[high])
    return median


def _window_bounds(time, beacon, protocol, window, expected):
    """(start, stop) reading indices of each window, readings sorted by time."""
    n = time.size
    starts, stops = [], []
    if protocol == 3:
        # Each window begins at its first reading and takes every reading within
        # ``window`` seconds of it; the last window may be shorter.
        start = 0
        while start < n:
            stop = int(np.searchsorted(time, time[start] + window, side="right"))
            starts.append(start)
            stops.append(stop)
            start = stop
    else:
        # Where each expected beacon occurs; the window ends at the latest of
        # their next occurrences. A tail that misses one of them is dropped.
        occurrences = [np.flatnonzero(beacon == b) for b in expected]
        start = 0
        while start < n:
            stop = start
            for where in occurrences:
                k = np.searchsorted(where, start)
                if k == where.size:
                    stop = -1
                    break
                stop = max(stop, int(where[k]) + 1)
            if stop < 0:
                break
            starts.append(start)
            stops.append(stop)
            start = stop
    return np.asarray(starts, dtype=np.intp), np.asarray(stops, dtype=np.intp)


def consolidate_scans(
    time,
    beacon,
    rss,
    *,
    protocol=3,
    window=1.0,
    expected_beacons=None,
    beacon_ids=None,
    outlier_threshold=None,
    average="dbm",
    return_times=False,
):
    """Cut a stream of RSS readings into windows of one RSS vector each.

    Readings are sorted by time (stably) and cut into consecutive windows by one
    of the protocols of Ng et al. (2023); within a window, each beacon's readings
    are optionally cleaned of outliers and averaged.

    Parameters
    ----------
    time : array-like of shape (n_readings,)
        Time of each reading, in seconds (any origin).
    beacon : array-like of shape (n_readings,)
        Beacon ID of each reading (integers or any comparable labels).
    rss : array-like of shape (n_readings,)
        RSS of each reading in dBm.
    protocol : {2, 3}, default=3
        3: fixed scanning duration; a window begins at its first reading and
        holds every reading within ``window`` seconds of it (the last window of
        the stream may be shorter). 2: a window closes at the reading that
        completes the set ``expected_beacons``; readings after the last complete
        window are dropped.
    window : float, default=1.0
        Scanning duration of a protocol-3 window in seconds. The shipped
        University of Guelph windows span about one second (78 windows for the
        78.5 s scan at grid point (0, 0)) although its README says "typically
        10s".
    expected_beacons : array-like, default=None
        For protocol 2, the beacons a window must contain; by default every
        beacon that occurs in the stream (what the shipped protocol-2 windows
        use: each holds every beacon heard at its grid point).
    beacon_ids : array-like of shape (n_beacons,), default=None
        The beacons, in column order, of the output; readings of other beacons
        are ignored. By default the sorted distinct values of ``beacon``.
    outlier_threshold : float, default=None
        If given, a reading is dropped when it lies more than
        ``outlier_threshold`` robust standard deviations (1.4826 times the median
        absolute deviation of that beacon in that window) from the median of that
        beacon in that window. ``None`` keeps every reading (the shipped windows
        are plain means).
    average : {"dbm", "mw"}, default="dbm"
        Average the readings in dBm (the mean of the logarithm, as the shipped
        windows do) or in milliwatts (the log of the mean power, which weighs
        strong readings more).
    return_times : bool, default=False
        Also return the time of the first and last reading of each window.

    Returns
    -------
    windows : ndarray of shape (n_windows, n_beacons)
        Mean RSS per window and beacon in dBm, NaN where the beacon was not heard
        in the window.
    times : ndarray of shape (n_windows, 2)
        Time of the first and last reading of each window; only if
        ``return_times``.

    See Also
    --------
    build_fingerprint_map : Average windows per grid point.

    Examples
    --------
    >>> import numpy as np
    >>> from kernlearn.localization import consolidate_scans
    >>> time = np.array([0.0, 0.2, 0.5, 1.1, 1.3, 2.4])
    >>> beacon = np.array([1, 2, 1, 2, 2, 1])
    >>> rss = np.array([-70.0, -80.0, -72.0, -81.0, -83.0, -75.0])
    >>> consolidate_scans(time, beacon, rss, protocol=3, window=1.0)
    array([[-71., -80.],
           [ nan, -82.],
           [-75.,  nan]])
    >>> consolidate_scans(time, beacon, rss, protocol=2)
    array([[-70., -80.],
           [-72., -81.],
           [-75., -83.]])
    """
    time = np.asarray(time, dtype=float).ravel()
    beacon = np.asarray(beacon).ravel()
    rss = np.asarray(rss, dtype=float).ravel()
    if not time.size == beacon.size == rss.size:
        raise ValueError(
            "time, beacon and rss must have the same length, got "
            f"{time.size}, {beacon.size} and {rss.size}."
        )
    if protocol not in (2, 3):
        raise ValueError(f"protocol must be 2 or 3, got {protocol!r}.")
    if average not in ("dbm", "mw"):
        raise ValueError(f"average must be 'dbm' or 'mw', got {average!r}.")
    if protocol == 3 and (not isinstance(window, numbers.Real) or not window > 0):
        raise ValueError(f"window must be a positive number, got {window!r}.")
    if outlier_threshold is not None and (
        not isinstance(outlier_threshold, numbers.Real) or not outlier_threshold > 0
    ):
        raise ValueError(
            f"outlier_threshold must be positive or None, got {outlier_threshold!r}."
        )
    if not (np.isfinite(time).all() and np.isfinite(rss).all()):
        raise ValueError("time and rss must be finite.")
    ids = np.unique(beacon) if beacon_ids is None else np.asarray(beacon_ids).ravel()
    if np.unique(ids).size != ids.size:
        raise ValueError("beacon_ids must be distinct.")

    order = np.argsort(time, kind="stable")
    time, beacon, rss = time[order], beacon[order], rss[order]
    if protocol == 2:
        expected = np.unique(beacon if expected_beacons is None else expected_beacons)
        if expected.size == 0:
            raise ValueError("protocol 2 needs at least one expected beacon.")
    else:
        expected = None
    starts, stops = _window_bounds(time, beacon, protocol, window, expected)
    n_windows, n_beacons = starts.size, ids.size

    # Window of each reading (-1 for a dropped tail), column of its beacon.
    window_of = np.full(time.size, -1, dtype=np.intp)
    for k, (start, stop) in enumerate(zip(starts, stops, strict=True)):
        window_of[start:stop] = k
    sorter = np.argsort(ids, kind="stable")
    position = np.searchsorted(ids, beacon, sorter=sorter)
    position = np.minimum(position, n_beacons - 1)
    column = sorter[position]
    keep = (window_of >= 0) & (ids[column] == beacon)
    key = window_of[keep] * n_beacons + column[keep]
    value = rss[keep]
    n_groups = n_windows * n_beacons

    if outlier_threshold is not None and key.size:
        median = _group_median(key, value, n_groups)
        deviation = np.abs(value - median[key])
        mad = _MAD_SCALE * _group_median(key, deviation, n_groups)
        # A zero MAD (most readings equal) keeps only the readings at the median.
        inlier = deviation <= outlier_threshold * mad[key]
        key, value = key[inlier], value[inlier]

    count = np.bincount(key, minlength=n_groups).astype(float)
    heard = count > 0
    if average == "dbm":
        total = np.bincount(key, weights=value, minlength=n_groups)
        mean = np.divide(total, count, out=np.full(n_groups, np.nan), where=heard)
    else:
        total = np.bincount(key, weights=10.0 ** (value / 10.0), minlength=n_groups)
        mean = np.full(n_groups, np.nan)
        mean[heard] = 10.0 * np.log10(total[heard] / count[heard])
    windows = mean.reshape(n_windows, n_beacons)
    if return_times:
        return windows, np.column_stack((time[starts], time[stops - 1]))
    return windows


def build_fingerprint_map(windows, positions, *, ddof=0, min_windows=1):
    """Average the windows recorded at each grid point into a fingerprint map.

    Parameters
    ----------
    windows : array-like of shape (n_windows, n_beacons)
        RSS vectors in dBm, NaN where a beacon was not heard (as returned by
        :func:`consolidate_scans`).
    positions : array-like of shape (n_windows, n_dims)
        Position of each window; windows at identical positions are pooled.
    ddof : int, default=0
        Delta degrees of freedom of the variance (``n_heard - ddof`` divides).
    min_windows : int, default=1
        A beacon heard in fewer windows at a point is treated as not heard there.

    Returns
    -------
    fmap : :class:`~sklearn.utils.Bunch`
        ``fingerprints`` (n_points, n_beacons) mean RSS over the windows that
        heard the beacon, NaN where none did; ``variances`` (n_points,
        n_beacons) of those windows' RSS (NaN where fewer than ``ddof + 1`` or
        ``min_windows``); ``positions`` (n_points, n_dims) the distinct positions,
        sorted; ``n_windows`` (n_points,) windows per point; ``n_heard``
        (n_points, n_beacons) windows that heard each beacon; ``point_index``
        (n_windows,) the map row of each window.

    Examples
    --------
    >>> import numpy as np
    >>> from kernlearn.localization import build_fingerprint_map
    >>> windows = np.array([[-70.0, np.nan], [-72.0, -90.0], [-60.0, -80.0]])
    >>> positions = np.array([[0.0, 0.0], [0.0, 0.0], [1.0, 0.0]])
    >>> fmap = build_fingerprint_map(windows, positions)
    >>> fmap.fingerprints
    array([[-71., -90.],
           [-60., -80.]])
    >>> fmap.variances
    array([[1., 0.],
           [0., 0.]])
    """
    windows = np.asarray(windows, dtype=float)
    positions = np.asarray(positions, dtype=float)
    if positions.ndim == 1:
        positions = positions[:, None]
    if windows.ndim != 2 or positions.shape[0] != windows.shape[0]:
        raise ValueError(
            "windows must be 2-D with one row per position, got shapes "
            f"{windows.shape} and {positions.shape}."
        )
    if not isinstance(min_windows, numbers.Integral) or min_windows < 1:
        raise ValueError(f"min_windows must be an integer >= 1, got {min_windows!r}.")
    grid, index = np.unique(positions, axis=0, return_inverse=True)
    index = index.ravel()
    n_points = grid.shape[0]
    heard = ~np.isnan(windows)
    values = np.where(heard, windows, 0.0)
    n_heard = np.zeros((n_points, windows.shape[1]))
    total = np.zeros_like(n_heard)
    np.add.at(n_heard, index, heard)
    np.add.at(total, index, values)
    valid = n_heard >= min_windows
    mean = np.divide(total, n_heard, out=np.full_like(total, np.nan), where=valid)
    squares = np.zeros_like(n_heard)
    np.add.at(squares, index, np.where(heard, (values - mean[index]) ** 2, 0.0))
    dof = n_heard - ddof
    variances = np.divide(
        squares, dof, out=np.full_like(total, np.nan), where=valid & (dof > 0)
    )
    return Bunch(
        fingerprints=mean,
        variances=variances,
        positions=grid,
        n_windows=np.bincount(index, minlength=n_points),
        n_heard=n_heard.astype(np.intp),
        point_index=index,
    )
