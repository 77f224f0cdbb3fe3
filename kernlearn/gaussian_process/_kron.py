"""Kronecker-product algebra on grid tensors.

A vector indexed by the cells of an ``n_1 x ... x n_D`` grid is stored as a
tensor of shape ``(n_1, ..., n_D, m)`` (``m`` right-hand sides), so that the
Kronecker product ``M_1 (x) ... (x) M_D`` acts on it as one small matrix
product per axis (a mode product): ``O(N sum_d n_d)`` work for ``N`` cells
instead of ``O(N^2)``, and nothing of size ``N x N`` is ever formed (Saatci
2011, ch. 5).

:func:`block_cg` and :func:`lanczos_quadrature` serve the incomplete-grid
path: conjugate gradients on many right-hand sides at once (one batch of mode
products per iteration) and the Lanczos quadrature of their coefficients.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import eigh_tridiagonal


def kron_mv(mats, T):
    """``(mats[0] (x)...(x) mats[D-1]) @ vec(T)`` as a tensor.

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
    """The diagonal of ``diag(v_1) (x)...(x) diag(v_D)`` as a grid tensor.

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


def block_cg(matvec, B, *, tol, maxiter):
    """Conjugate gradients on every column of ``B`` at once, with the Lanczos
    coefficients of each column.

    Each column runs its own CG recurrence (its own step lengths), but the
    operator is applied to all columns still running in one call, so a
    Kronecker operator does one batch of mode products per iteration. The
    step lengths ``a_k`` and ratios ``b_k`` of a column are those of the
    Lanczos process started at that column (Saad, *Iterative Methods for
    Sparse Linear Systems*, 2003, sec. 6.7.3): see :func:`lanczos_quadrature`.

    Parameters
    ----------
    matvec : callable
        ``matvec(P)`` returns ``S @ P`` for an ``(n, c')`` block ``P``;
        ``S`` symmetric positive definite.
    B : ndarray of shape (n, c)
        Right-hand sides.
    tol : float
        A column stops once ``||b - S x|| <= tol ||b||``.
    maxiter : int
        Iterations at most.

    Returns
    -------
    X : ndarray of shape (n, c)
        ``S^{-1} B``, column by column.
    info : dict
        ``"a"``, ``"b"``: arrays of shape (n_iter, c), the CG step lengths
        and residual ratios (zero after a column has stopped); ``"n_iter"``:
        iterations per column; ``"residual"``: final relative residual per
        column; ``"converged"``: whether every column reached ``tol``.

    Examples
    --------
    >>> import numpy as np
    >>> S = np.array([[4.0, 1.0], [1.0, 3.0]])
    >>> X, info = block_cg(lambda P: S @ P, np.eye(2), tol=1e-12, maxiter=10)
    >>> bool(np.allclose(X, np.linalg.inv(S))), info["n_iter"].tolist()
    (True, [2, 2])
    """
    B = np.asarray(B, dtype=np.float64)
    X = np.zeros_like(B)
    R = B.copy()
    rr = np.einsum("ij,ij->j", R, R)
    norm_b = np.sqrt(rr)
    thresh = tol**2 * rr
    active = rr > 0
    P = R.copy()
    n_iter = np.zeros(B.shape[1], dtype=np.intp)
    a_hist, b_hist = [], []
    for _ in range(maxiter):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        everyone = idx.size == B.shape[1]
        Pa = P if everyone else P[:, idx]
        Q = matvec(Pa)
        pq = np.einsum("ij,ij->j", Pa, Q)
        ok = pq > 0  # lost positive definiteness (rounding): stop that column
        a = np.where(ok, rr[idx] / np.where(ok, pq, 1.0), 0.0)
        Ra = R if everyone else R[:, idx]
        if everyone:
            X += a * Pa
            Ra -= a * Q
        else:
            X[:, idx] += a * Pa
            Ra = Ra - a * Q
            R[:, idx] = Ra
        rr_new = np.einsum("ij,ij->j", Ra, Ra)
        b = np.where(ok, rr_new / rr[idx], 0.0)
        if everyone:
            P *= b
            P += R
        else:
            P[:, idx] = Ra + b * Pa
        rr[idx] = rr_new
        a_full = np.zeros(B.shape[1])
        b_full = np.zeros(B.shape[1])
        a_full[idx], b_full[idx] = a, b
        a_hist.append(a_full)
        b_hist.append(b_full)
        n_iter[idx[ok]] += 1
        active[idx] = ok & (rr_new > thresh[idx])
    residual = np.sqrt(rr) / np.where(norm_b > 0, norm_b, 1.0)
    shape = (len(a_hist), B.shape[1])
    info = dict(
        a=np.array(a_hist).reshape(shape),
        b=np.array(b_hist).reshape(shape),
        n_iter=n_iter,
        residual=residual,
        converged=bool(np.all(residual <= tol)),
    )
    return X, info


def lanczos_quadrature(a, b, n_iter, fn=np.log):
    """``e_1^T f(T) e_1`` for the Lanczos tridiagonal ``T`` of each CG column.

    With ``z`` the right-hand side of a CG run on ``S``, ``z^T f(S) z ~=
    ||z||^2 e_1^T f(T) e_1`` (Gauss quadrature; stochastic Lanczos quadrature
    when ``z`` is a random probe: Ubaru, Chen & Saad, SIAM J. Matrix Anal.
    Appl. 38, 2017). ``T`` has diagonal ``1/a_0, 1/a_k + b_{k-1}/a_{k-1}``
    and off-diagonal ``sqrt(b_k)/a_k``.

    Parameters
    ----------
    a, b : ndarray of shape (n_iter_max, c)
        ``info["a"]``, ``info["b"]`` of :func:`block_cg`.
    n_iter : ndarray of shape (c,)
    fn : callable, default=np.log

    Returns
    -------
    out : ndarray of shape (c,)

    Examples
    --------
    >>> import numpy as np
    >>> S = np.diag([1.0, 2.0, 4.0])
    >>> z = np.ones((3, 1))
    >>> _, info = block_cg(lambda P: S @ P, z, tol=1e-14, maxiter=10)
    >>> q = 3 * lanczos_quadrature(info["a"], info["b"], info["n_iter"])
    >>> bool(np.isclose(q[0], np.log(8.0)))  # z^T log(S) z = log det S here
    True
    """
    out = np.zeros(a.shape[1])
    for j, k in enumerate(n_iter):
        if k == 0:
            continue
        aj, bj = a[:k, j], b[:k, j]
        diag = 1.0 / aj
        diag[1:] += bj[:-1] / aj[:-1]
        off = np.sqrt(bj[:-1]) / aj[:-1]
        theta, V = eigh_tridiagonal(diag, off)
        out[j] = float(np.sum(V[0] ** 2 * fn(theta)))
    return out
