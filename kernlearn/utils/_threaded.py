"""Elementwise ufuncs on large arrays, split over threads.

NumPy's float64 ``log``, ``exp`` and ``tanh`` run scalar code on CPUs without
AVX-512 (about 10 ns an element), single-threaded. A ufunc releases the GIL
while it loops, so cutting a large C-contiguous array into row blocks and
running the blocks in a small thread pool uses every core with numpy alone (no
compiled extension, no per-element Python). Small arrays take the plain call.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

#: Below this many elements one call beats the dispatch (~50 us).
MIN_ELEMENTS = 1 << 17

_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None


def _n_threads():
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # pragma: no cover - not Linux
        return max(os.cpu_count() or 1, 1)


def _get_pool(n):
    global _pool
    with _lock:
        if _pool is None or _pool._max_workers < n:
            _pool = ThreadPoolExecutor(max_workers=n, thread_name_prefix="kernlearn")
        return _pool


def threaded_ufunc(ufunc, x, *scalars, out=None):
    """``ufunc(x, *scalars, out=out)`` over row blocks of ``x`` in threads.

    Parameters
    ----------
    ufunc : numpy.ufunc
        Elementwise function (``np.log``, ``np.exp``, ``np.maximum``, ...).
    x : ndarray
        Input; split along its first axis when it is C-contiguous and large.
    *scalars : float
        Scalar further operands (e.g. the bound of ``np.maximum``).
    out : ndarray, optional
        Output of ``x``'s shape (may be ``x`` itself).

    Returns
    -------
    out : ndarray

    Examples
    --------
    >>> import numpy as np
    >>> from kernlearn.utils._threaded import threaded_ufunc
    >>> threaded_ufunc(np.log, np.full((2, 2), np.e))
    array([[1., 1.],
           [1., 1.]])
    """
    n = _n_threads()
    if (
        n == 1
        or x.size < MIN_ELEMENTS
        or x.ndim == 0
        or not x.flags.c_contiguous
        or (out is not None and not out.flags.c_contiguous)
    ):
        return ufunc(x, *scalars, out=out)
    if out is None:
        out = np.empty(x.shape, dtype=np.result_type(x, *scalars))
    bounds = np.linspace(0, x.shape[0], min(n, x.shape[0]) + 1).astype(int)
    err = np.geterr()  # thread-local: the caller's errstate goes with the work

    def run(k):
        lo, hi = bounds[k], bounds[k + 1]
        with np.errstate(**err):
            ufunc(x[lo:hi], *scalars, out=out[lo:hi])

    list(_get_pool(n).map(run, range(len(bounds) - 1)))
    return out
