"""Global, thread-local configuration of kernlearn.

Modelled on scikit-learn's ``sklearn/_config.py``: a process-wide default read once
from the environment, a thread-local copy per thread, :func:`set_config` to change it,
and :func:`config_context` to change it for a ``with`` block.
"""

import math
import numbers
import os
import threading
from contextlib import contextmanager

BACKENDS = ("auto", "numpy", "numba", "keops", "cupy", "dask")


def _env_backend():
    value = os.environ.get("KERNLEARN_BACKEND", "auto").strip().lower() or "auto"
    if value not in BACKENDS:
        raise ValueError(
            f"Environment variable KERNLEARN_BACKEND={value!r} is not one of "
            f"{BACKENDS}; unset it or pick one of these."
        )
    return value


def _env_working_memory():
    value = os.environ.get("KERNLEARN_WORKING_MEMORY", "").strip()
    if not value:
        return 1024
    try:
        wm = float(value)
    except ValueError:
        raise ValueError(
            f"Environment variable KERNLEARN_WORKING_MEMORY={value!r} is not a "
            "number of MiB; set it to e.g. 512 or unset it."
        ) from None
    try:
        _check_working_memory(wm)
    except ValueError:
        raise ValueError(
            f"Environment variable KERNLEARN_WORKING_MEMORY={value!r} must be a "
            "positive, finite number of MiB; set it to e.g. 512 or unset it."
        ) from None
    return wm


def _check_working_memory(wm):
    if (
        isinstance(wm, bool)
        or not isinstance(wm, numbers.Real)
        or not math.isfinite(wm)
        or not wm > 0
    ):
        raise ValueError(
            f"working_memory must be a positive, finite number of MiB, got {wm!r}."
        )


def _check_backend(backend):
    if backend not in BACKENDS:
        raise ValueError(
            f"backend must be one of {BACKENDS}, got {backend!r}. "
            "Use 'auto' to let kernlearn choose."
        )


_global_config = None
_threadlocal = threading.local()


def _get_threadlocal_config():
    global _global_config
    if _global_config is None:
        _global_config = {
            "backend": _env_backend(),
            "working_memory": _env_working_memory(),
        }
    if not hasattr(_threadlocal, "global_config"):
        _threadlocal.global_config = _global_config.copy()
    return _threadlocal.global_config


def get_config():
    """Return the current kernlearn configuration.

    Returns
    -------
    config : dict
        Keys are the parameter names of :func:`set_config`.

    See Also
    --------
    config_context : Context manager for a temporary configuration.
    set_config : Set the configuration.

    Examples
    --------
    >>> import kernlearn
    >>> sorted(kernlearn.get_config())
    ['backend', 'working_memory']
    """
    return _get_threadlocal_config().copy()


def set_config(backend=None, working_memory=None):
    """Set the kernlearn configuration for the current thread.

    Parameters
    ----------
    backend : {"auto", "numpy", "numba", "keops", "cupy", "dask"}, default=None
        Engine that runs kernel-matrix work. ``"auto"`` picks by the input's array
        type, what is installed and the problem size. ``"dask"`` runs in-memory
        inputs on the current Dask scheduler (a ``dask.distributed`` client when
        one is active) and returns in-memory results; dask arrays always run on
        Dask, lazily, with this setting naming the engine of each block task.
        An estimator's own ``backend=`` parameter takes precedence. ``None``
        leaves it unchanged.
        The process default comes from the ``KERNLEARN_BACKEND`` environment
        variable, else ``"auto"``.
    working_memory : float, default=None
        Memory budget in MiB for temporary blocks of kernel values; no primitive
        allocates an ``n x m`` block beyond it (except ``kernel_matrix``, whose
        output is the requested matrix). The default comes from
        ``KERNLEARN_WORKING_MEMORY``, else 1024. ``None`` leaves it unchanged.

    See Also
    --------
    config_context : Context manager for a temporary configuration.
    get_config : Retrieve the current configuration.

    Examples
    --------
    >>> import kernlearn
    >>> kernlearn.set_config(working_memory=256)
    >>> kernlearn.get_config()["working_memory"]
    256
    >>> kernlearn.set_config(working_memory=1024)
    """
    # Validate everything before changing anything: a bad value leaves the
    # configuration as it was (config_context relies on this).
    if backend is not None:
        _check_backend(backend)
    if working_memory is not None:
        _check_working_memory(working_memory)
    config = _get_threadlocal_config()
    if backend is not None:
        config["backend"] = backend
    if working_memory is not None:
        config["working_memory"] = working_memory


@contextmanager
def config_context(*, backend=None, working_memory=None):
    """Context manager that changes the kernlearn configuration for a block.

    Parameters
    ----------
    backend : {"auto", "numpy", "numba", "keops", "cupy", "dask"}, default=None
        See :func:`set_config`.
    working_memory : float, default=None
        See :func:`set_config`.

    Yields
    ------
    None

    See Also
    --------
    set_config : Set the configuration.
    get_config : Retrieve the current configuration.

    Examples
    --------
    >>> import kernlearn
    >>> with kernlearn.config_context(backend="numpy"):
    ...     print(kernlearn.get_config()["backend"])
    numpy
    """
    old = get_config()
    set_config(backend=backend, working_memory=working_memory)
    try:
        yield
    finally:
        set_config(**old)
