"""Kronecker-product algebra on grid tensors.

A vector indexed by the cells of an ``n_1 x ... x n_D`` grid is stored as a
tensor of shape ``(n_1, ..., n_D, m)`` (``m`` right-hand sides), so that the
Kronecker product ``M_1 (x) ... (x) M_D`` acts on it as one small matrix
product per axis (a mode product): ``O(N sum_d n_d)`` work for ``N`` cells
instead of ``O(N^2)``, and nothing of size ``N x N`` is ever formed (Saatci
2011, ch. 5).
"""

from __future__ import annotations

import numpy as np


def kron_mv(mats, T):
    """``(mats[0] (x) ... (x) mats[D-1]) @ vec(T)`` as a tensor.

    Parameters
    ----------
    mats : sequence of ndarray, the d-th of shape (p_d, n_d)
        One factor per axis; ``None`` stands for the identity.
    T : ndarray of shape (n_1, ..., n_D, m)
        Grid tensor (C order: the last axis varies fastest, as
        ``np.kron`` orders its rows).

    Returns
    -------
    out : ndarray of shape (p_1, ..., p_D, m)

    Examples
    --------
    >>> import numpy as np
    >>> A, B = np.arange(4.0).reshape(2, 2), np.eye(3) * 2.0
    >>> x = np.arange(6.0)
    >>> out = kron_mv([A, B], x.reshape(2, 3, 1)).ravel()
    >>> bool(np.allclose(out, np.kron(A, B) @ x))
    True
    """
    for d, M in enumerate(mats):
        if M is None:
            continue
        T = np.moveaxis(np.tensordot(M, T, axes=([1], [d])), 0, d)
    return T


def kron_diag(vectors):
    """The diagonal of ``diag(v_1) (x) ... (x) diag(v_D)`` as a grid tensor.

    Parameters
    ----------
    vectors : sequence of ndarray of shape (n_d,)

    Returns
    -------
    out : ndarray of shape (n_1, ..., n_D)

    Examples
    --------
    >>> kron_diag([np.array([1.0, 2.0]), np.array([1.0, 10.0])])
    array([[ 1., 10.],
           [ 2., 20.]])
    """
    out = np.ones(())
    for v in vectors:
        out = np.multiply.outer(out, v)
    return out


def contract_rows(rows, T):
    """``sum_g prod_d rows[d][b, g_d] T[g, :]`` for every ``b`` (a row-wise
    Kronecker product applied to a grid tensor).

    Parameters
    ----------
    rows : sequence of ndarray, the d-th of shape (b, n_d)
        Per-axis factors of ``b`` Kronecker-structured row vectors (e.g. the
        cross-kernel of ``b`` test points with the grid).
    T : ndarray of shape (n_1, ..., n_D, m)

    Returns
    -------
    out : ndarray of shape (b, m)
        Costs ``O(b N)``; the largest intermediate is ``b N / n_1`` entries.

    Examples
    --------
    >>> import numpy as np
    >>> a, c = np.array([[1.0, 2.0]]), np.array([[3.0, 1.0, 0.0]])
    >>> T = np.arange(6.0).reshape(2, 3, 1)
    >>> contract_rows([a, c], T).item() == (np.kron(a, c) @ T.ravel()).item()
    True
    """
    out = np.tensordot(rows[0], T, axes=([1], [0]))  # (b, n_2, ..., m)
    for R in rows[1:]:
        # contract axis 1 of out with R row by row
        out = np.einsum("bj,bj...->b...", R, out)
    return out
