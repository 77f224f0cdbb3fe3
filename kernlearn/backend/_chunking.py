"""Block sizes from the ``working_memory`` budget."""

from __future__ import annotations

MIB = 2**20


def block_shape(
    n: int, m: int, bytes_per_pair: float, working_memory: float, min_cols: int = 256
) -> tuple[int, int]:
    """Rows and columns of a block whose temporaries fit ``working_memory`` MiB.

    Full rows of ``m`` columns are preferred (fewer partial reductions); columns are
    split only when fewer than 32 full rows would fit.

    Parameters
    ----------
    n, m : int
        Rows (queries) and columns (data points) of the whole problem.
    bytes_per_pair : float
        Bytes of temporaries the engine holds per (row, column) pair of a block.
    working_memory : float
        Budget in MiB.
    min_cols : int
        Never split columns below this many (unless ``m`` is smaller).

    Returns
    -------
    rows, cols : int
        Block shape, each at least 1.
    """
    budget = max(float(working_memory) * MIB, 1.0)
    per_row = m * bytes_per_pair
    rows = int(budget // per_row) if per_row > 0 else n
    if rows >= min(n, 32):
        return max(1, min(n, rows)), m
    cols = max(min(m, min_cols), int(budget // (bytes_per_pair * min(n, 32))))
    cols = min(m, cols)
    rows = max(1, min(n, int(budget // (cols * bytes_per_pair))))
    return rows, cols
