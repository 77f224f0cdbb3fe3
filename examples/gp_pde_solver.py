"""
Solving high-frequency and multi-scale PDEs with a Gaussian process (GP-HM)
===========================================================================

:class:`kernlearn.gaussian_process.GPPDESolver` (Fang et al., ICLR 2024)
puts a GP prior with a spectral mixture kernel per axis on the solution and
solves for its values on a collocation grid so that the equation holds at the
interior points and the Dirichlet data on the boundary. The mixture's
components start at the peaks of the source term's periodogram, so a
high-frequency or multi-scale solution is captured without learning.

Two of the paper's benchmarks from :func:`kernlearn.datasets.make_pde_problem`:

- ``poisson_1d_high_freq``: ``u'' = f`` on ``[0, 2 pi]`` with
  ``u = sin(100 x)``, on 400 points (dense path);
- ``poisson_2d_multi_scale``: ``u_xx + u_yy = f`` on ``[0, 1]^2`` with
  ``u = sin(6x) sin(20x) + sin(6y) sin(20y)``, on a 200 x 200 grid
  (Kronecker path, a tensor Sylvester solve).

It prints the relative L2 error of each solution against the exact one on
the grid and at 2,000 random off-grid points, and saves a figure of the
solutions and their pointwise errors.

Usage::

    python examples/gp_pde_solver.py              # 200 x 200 grid, ~10 s
    python examples/gp_pde_solver.py --quick      # 100 x 100 grid, a few s
    python examples/gp_pde_solver.py --out figure.png

The figure needs matplotlib (``pip install "kernlearn[plot]"``).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from _common import format_table, pyplot

from kernlearn.datasets import make_pde_problem
from kernlearn.gaussian_process import GPPDESolver


def rel_err(a, b):
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def solve(name, n_points, rng):
    p = make_pde_problem(name, n_points=n_points)
    t0 = time.perf_counter()
    solver = GPPDESolver(p.operator, kernel="gaussian", optimizer=None)
    solver.fit(p.X, p.y)
    u = solver.predict(p.X)
    dt = time.perf_counter() - t0
    lo = np.array([a[0] for a in p.axes])
    hi = np.array([a[-1] for a in p.axes])
    Xs = rng.uniform(lo, hi, size=(2000, len(p.axes)))
    off = rel_err(solver.predict(Xs), p.solution(Xs))
    return p, solver, u, dt, rel_err(u, p.u), off


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[1])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--out", default="gp_pde_solver.png")
    args = p.parse_args(argv)
    rng = np.random.default_rng(0)
    runs = [
        ("poisson_1d_high_freq", None),
        ("poisson_2d_multi_scale", 100 if args.quick else None),
    ]
    results, rows = [], []
    for name, n in runs:
        prob, solver, u, dt, err, off = solve(name, n, rng)
        results.append((prob, u, solver))
        grid = " x ".join(str(len(a)) for a in prob.axes)
        rows.append([name, grid, solver.algorithm_, f"{dt:.2f}", f"{err:.2e}",
                     f"{off:.2e}"])  # fmt: skip
        print(f"{name}: {prob.description}", flush=True)
    print()
    print(
        format_table(
            [
                "problem",
                "grid",
                "path",
                "seconds",
                "rel. L2 error (grid)",
                "rel. L2 error (off-grid)",
            ],
            rows,
        )  # fmt: skip
    )

    plt = pyplot()
    if plt is None:
        return 0
    fig, axes = plt.subplots(2, 2, figsize=(11, 8))
    prob, u, solver = results[0]
    # 100 periods do not show at the page's resolution: the first 0.6 units
    # (about 10 periods) on a fine curve, the collocation points as dots
    xf = np.linspace(prob.axes[0][0], prob.axes[0][-1], 20001)[:, None]
    uf, exact = solver.predict(xf), prob.solution(xf)
    zoom = xf[:, 0] <= 0.6
    axes[0, 0].plot(xf[zoom, 0], exact[zoom], "k-", lw=2, label="exact")
    axes[0, 0].plot(xf[zoom, 0], uf[zoom], "C1--", lw=1, label="GP-HM")
    grid = prob.axes[0] <= 0.6
    axes[0, 0].plot(prob.axes[0][grid], u[grid], "C0.", ms=4, label="grid values")
    axes[0, 0].set_title(f"{runs[0][0]} (first 0.6 of [0, 2 pi])")
    axes[0, 0].set_xlabel("x")
    axes[0, 0].legend(fontsize=8)
    axes[1, 0].semilogy(xf[:, 0], np.abs(uf - exact) + 1e-18, "C3-", lw=0.5)
    axes[1, 0].set_title("pointwise error |u - u*| (20,001 points)")
    axes[1, 0].set_xlabel("x")
    prob, u, _ = results[1]
    shape = tuple(len(a) for a in prob.axes)
    ext = (prob.axes[1][0], prob.axes[1][-1], prob.axes[0][0], prob.axes[0][-1])
    for ax, field, title in (
        (axes[0, 1], u, f"{runs[1][0]}: GP-HM solution"),
        (axes[1, 1], np.abs(u - prob.u), "pointwise error |u - u*|"),
    ):
        im = ax.imshow(field.reshape(shape), origin="lower", extent=ext, aspect="auto")
        ax.set_title(title)
        ax.set_xlabel("x2")
        ax.set_ylabel("x1")
        fig.colorbar(im, ax=ax)
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)
    print(f"\nFigure saved to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
