"""Kronecker GP regression on grids against dense exact GPs: time, memory, equality.

For grids from 16^2 to 256^2 and 32^3 to 96^3 (up to 884,736 points):

- **kernlearn**: :class:`KroneckerGaussianProcessRegressor` with fixed
  hyperparameters (``ConstantKernel * Gaussian`` per axis and the noise): the
  fit (grid detection, per-axis eigendecompositions, ``alpha``, the log
  marginal likelihood), one evaluation of the log marginal likelihood with its
  gradient (the unit cost of an optimiser step), and the posterior mean and
  standard deviation at 1,000 off-grid points;
- **scikit-learn**: ``GaussianProcessRegressor`` with the same kernel
  (``ConstantKernel * RBF`` with one length scale per axis, which is the
  product of per-axis Gaussians, ``+ WhiteKernel``; ``optimizer=None``,
  ``alpha=0``), fit and the same predictions, while its ``N x N`` matrix fits
  in ``--dense-max`` points;
- **straightforward**: the dense formulas in numpy (kernel matrix, Cholesky,
  triangular solves) on the same sizes.

Results are compared (posterior mean and standard deviation relative to
their largest value, log marginal likelihood relative) wherever a dense model
ran. Times are the best of up to three runs; peak memory is measured in a
further run under ``tracemalloc`` (numpy's allocations are traced). Targets:
at least 100x faster than the dense model at 64^2 = 4,096 points with equal
results (1e-8), and a 96^3 grid fitted on this machine.

A second part solves the PDE benchmarks of Fang et al. (ICLR 2024) with
:class:`GPPDESolver` (GP-HM, Gaussian and Student-t mixture kernels at their
periodogram initialisation, ``optimizer=None``): relative L2 error on the grid
and time of fit + predict beside the paper's GP-HM error range, a grid
refinement, and one run with learnt hyperparameters (L-BFGS, 50 iterations).

Usage::

    python benchmarks/bench_kronecker_gp.py            # full run (a few minutes)
    python benchmarks/bench_kronecker_gp.py --quick    # smoke run (seconds)
    python benchmarks/bench_kronecker_gp.py --pde-only # part 2 into the report
"""

from __future__ import annotations

import argparse
import math
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
from _common import Outcome, best, machine_rows, run_benchmark, save_report
from _common import fmt_s as _fmt_s
from _common import load_average as _load
from _common import md_table as _md_table
from _common import usable_cores as _usable_cores
from scipy.linalg import cho_solve, cholesky
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel

from kernlearn.datasets import PDE_PROBLEMS, make_pde_problem
from kernlearn.gaussian_process import GPPDESolver, KroneckerGaussianProcessRegressor
from kernlearn.kernels import Gaussian

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "results" / "kronecker_gp.md"
TARGET_SPEEDUP = 100.0
TOL_EQUAL = 1e-8
AMP, NOISE = 1.3, 1e-2
DISTS = ("numpy", "scipy", "scikit-learn")
GRIDS = ((16, 2), (32, 2), (64, 2), (128, 2), (256, 2), (32, 3), (64, 3), (96, 3))


def length_scales(dim):
    return [0.35, 0.5, 0.7][:dim]


def make_data(n, dim, rng):
    axes = [np.linspace(0.0, 2.0, n) for _ in range(dim)]
    mesh = np.meshgrid(*axes, indexing="ij")
    X = np.stack([m.ravel() for m in mesh], axis=1)
    f = np.sin(3.0 * X[:, 0])
    for d in range(1, dim):
        f = f * np.cos(2.0 * X[:, d] + d)
    y = f + np.sqrt(NOISE) * rng.normal(size=len(X))
    Xs = rng.uniform(0.0, 2.0, size=(1000, dim))
    return X, y, Xs


def peak(fn, repeat=3):
    """``(best seconds, peak MiB, result)``: timed runs without tracing (up to
    ``repeat``, fewer past 2 s), then one run under tracemalloc for the peak
    (tracing slows allocations down, so it is never timed)."""
    dt, out = best(fn, repeat=repeat, min_total=2.0)
    tracemalloc.start()
    fn()
    _, top = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return dt, top / 2**20, out


def run_kernlearn(X, y, Xs, dim):
    ls = length_scales(dim)
    kernels = [ConstantKernel(AMP) * Gaussian(ls[0])] + [Gaussian(v) for v in ls[1:]]
    gp = KroneckerGaussianProcessRegressor(
        kernels, noise_variance=NOISE, optimizer=None
    )

    def go():
        gp.fit(X, y)
        theta = gp._pack(gp.kernels_, gp.noise_variance_)
        t0 = time.perf_counter()
        gp.log_marginal_likelihood(theta, eval_gradient=True)
        t_grad = time.perf_counter() - t0
        mean, std = gp.predict(Xs, return_std=True)
        return gp.log_marginal_likelihood_value_, mean, std, t_grad

    dt, mem, (lml, mean, std, t_grad) = peak(go)
    return dict(t=dt, mem=mem, lml=lml, mean=mean, std=std, t_grad=t_grad)


def run_sklearn(X, y, Xs, dim):
    kernel = ConstantKernel(AMP) * RBF(length_scales(dim)) + WhiteKernel(NOISE)
    gp = GaussianProcessRegressor(kernel, optimizer=None, alpha=0.0)

    def go():
        gp.fit(X, y)
        mean, std = gp.predict(Xs, return_std=True)
        # scikit-learn's std includes the WhiteKernel noise: remove it
        std = np.sqrt(np.maximum(std**2 - NOISE, 0.0))
        return gp.log_marginal_likelihood_value_, mean, std

    dt, mem, (lml, mean, std) = peak(go)
    return dict(t=dt, mem=mem, lml=lml, mean=mean, std=std)


def run_numpy(X, y, Xs, dim):
    k = ConstantKernel(AMP) * RBF(length_scales(dim))

    def go():
        K = k(X)
        K[np.diag_indices_from(K)] += NOISE
        L = cholesky(K, lower=True, overwrite_a=True, check_finite=False)
        alpha = cho_solve((L, True), y, check_finite=False)
        lml = -0.5 * y @ alpha - np.log(np.diag(L)).sum()
        lml -= 0.5 * len(y) * np.log(2 * np.pi)
        Ks = k(Xs, X)
        mean = Ks @ alpha
        V = cho_solve((L, True), Ks.T, check_finite=False)
        std = np.sqrt(np.maximum(AMP - np.einsum("ij,ji->i", Ks, V), 0.0))
        return lml, mean, std

    dt, mem, (lml, mean, std) = peak(go)
    return dict(t=dt, mem=mem, lml=lml, mean=mean, std=std)


def _diff(a, b):
    m = abs(a["mean"] - b["mean"]).max() / abs(b["mean"]).max()
    s = abs(a["std"] - b["std"]).max() / abs(b["std"]).max()
    lml = abs(a["lml"] - b["lml"]) / abs(b["lml"])
    return max(m, s, lml)


def run_regression(args, checks):
    rng = np.random.default_rng(0)
    rows, targets = [], []
    for n, dim in args.grids:
        X, y, Xs = make_data(n, dim, rng)
        N = len(X)
        ours = run_kernlearn(X, y, Xs, dim)
        sk = npy = None
        if N <= args.dense_max:
            sk = run_sklearn(X, y, Xs, dim)
            npy = run_numpy(X, y, Xs, dim)
            for name, ref in (("scikit-learn", sk), ("numpy", npy)):
                checks.append(
                    dict(what=f"{n}^{dim} vs {name}", err=_diff(ours, ref),
                         tol=TOL_EQUAL)
                )  # fmt: skip
        rows.append(dict(n=n, dim=dim, N=N, ours=ours, sk=sk, npy=npy))
        msg = f"  {n}^{dim} (N = {N:,}): kernlearn {ours['t']:.3g} s"
        if sk is not None:
            msg += f", sklearn {sk['t']:.3g} s, numpy {npy['t']:.3g} s"
        print(msg, flush=True)
        if (n, dim) == (64, 2) and sk is not None:
            targets.append(("64^2", ours["t"], sk["t"], sk["t"] / ours["t"]))
    return rows, targets


def _pde_run(name, n_points, kernel, **params):
    p = make_pde_problem(name, n_points=n_points)
    t0 = time.perf_counter()
    solver = GPPDESolver(p.operator, kernel=kernel, **params).fit(p.X, p.y)
    u = solver.predict(p.X)
    dt = time.perf_counter() - t0
    err = float(np.linalg.norm(u - p.u) / np.linalg.norm(p.u))
    msg = f"  {name} ({len(p.X):,} points) {kernel}: {err:.2e} in {dt:.3g} s"
    print(msg, flush=True)
    return dict(name=name, N=len(p.X), shape="x".join(str(len(a)) for a in p.axes),
                kernel=kernel, err=err, t=dt, algo=solver.algorithm_,
                paper=p.paper_error, n_iter=getattr(solver, "n_iter_", 0))  # fmt: skip


def run_pde(args):
    """GP-HM on the paper's PDE benchmarks: per problem and kernel, the grid
    refinement of the 1-D multi-scale problem, one run with learnt
    hyperparameters."""
    main, refine, learnt = [], [], []
    for name in PDE_PROBLEMS:
        n = None
        if args.quick:
            if name.endswith("_2d_high_freq"):
                continue  # unresolved on a small grid
            n = 60 if "_2d_" in name else (100 if "multi" in name else None)
        for kernel in ("gaussian", "student_t"):
            main.append(_pde_run(name, n, kernel, optimizer=None))
    for n in (40, 60) if args.quick else (40, 50, 70, 100, 200, 400, 800):
        refine.append(_pde_run("poisson_1d_multi_scale", n, "gaussian", optimizer=None))
    if not args.quick:
        learnt.append(
            _pde_run("poisson_1d_multi_scale", None, "gaussian",
                     optimizer="fmin_l_bfgs_b", max_iter=50)
        )  # fmt: skip
    return main, refine, learnt


def _paper(r):
    if r["paper"] is None:
        return "-"
    lo, hi = r["paper"]
    return f"{lo:.2g}" if lo == hi else f"{lo:.2g} to {hi:.2g}"


def pde_section(pde):
    main, refine, learnt = pde
    head = ["problem", "grid", "kernel", "algorithm_", "rel. L2 error",
            "fit + predict s", "paper GP-HM error"]  # fmt: skip

    def row(r):
        return [r["name"], r["shape"], r["kernel"], r["algo"], f"{r['err']:.2e}",
                _fmt_s(r["t"]), _paper(r)]  # fmt: skip

    parts = [
        "## 2. PDE solving (GP-HM)",
        "",
        "`GPPDESolver` (Fang et al., ICLR 2024) on the paper's benchmarks from "
        "`make_pde_problem`: kernels at their periodogram initialisation "
        "(`optimizer=None`), relative L2 error of the solution on the "
        "collocation grid against the exact one. The paper's GP-HM runs "
        "(GM and StM, learnt by ADAM) took 1,300 to 18,000 s each.",
        "",
        _md_table(head, [row(r) for r in main]),
        "",
        "### Grid refinement: poisson_1d_multi_scale, Gaussian mixture",
        "",
        "The highest frequency is 15.9 cycles per unit (32 points at Nyquist): "
        "the error falls steeply until the grid resolves it, then stays at the "
        "few-1e-5 level of the kernel's fit, no longer limited by the grid.",
        "",
        _md_table(head, [row(r) for r in refine]),
        "",
    ]
    if learnt:
        parts += [
            "### Learnt hyperparameters: poisson_1d_multi_scale",
            "",
            '`optimizer="fmin_l_bfgs_b", max_iter=50` (Gaussian mixture, '
            "default grid).",
            "",
            _md_table(
                head + ["L-BFGS iterations"],
                [row(r) + [str(r["n_iter"])] for r in learnt],
            ),  # fmt: skip
            "",
        ]
    return parts


def write_report(path, args, argv, rows, targets, checks, meta, pde=None):
    loads, digests, elapsed = meta
    cmd = "python benchmarks/bench_kronecker_gp.py" + (
        " " + " ".join(argv) if argv else ""
    )
    mrows, blas = machine_rows(
        f"BLAS threads: {args.threads}", DISTS,
        loads, digests,
    )  # fmt: skip
    mrows.append(["BLAS", blas])
    target_rows = []
    for name, a, b, ratio in targets:
        target_rows.append(
            [f"fit + predict >= {TARGET_SPEEDUP:g}x faster than scikit-learn's "
             f"dense GP at {name}", f"kernlearn {_fmt_s(a)} s, scikit-learn "
             f"{_fmt_s(b)} s: {ratio:.0f}x",
             "PASS" if ratio >= TARGET_SPEEDUP else "FAIL"]
        )  # fmt: skip
    worst = max((c["err"] for c in checks), default=0.0)
    target_rows.append(
        [f"equal results (max rel. diff <= {TOL_EQUAL:g})", f"{worst:.1e}",
         "PASS" if worst <= TOL_EQUAL else "FAIL"]
    )  # fmt: skip
    big = [r for r in rows if (r["n"], r["dim"]) == (96, 3)]
    if big:
        r = big[0]
        target_rows.append(
            ["96^3 grid fitted on this machine",
             f"{r['N']:,} points: {_fmt_s(r['ours']['t'])} s, peak "
             f"{r['ours']['mem']:.0f} MiB", "PASS"]
        )  # fmt: skip
    # the PDE targets (Gaussian mixture, paper grids, final iterate)
    pde_targets = {
        "poisson_1d_high_freq": 1e-5,
        "allen_cahn_1d_high_freq": 1e-5,
        "poisson_1d_multi_scale": 1e-3,
        "poisson_2d_high_freq": 1e-3,
        "allen_cahn_2d_high_freq": 1e-3,
    }
    for r in pde[0] if pde and not args.quick else []:
        tol = pde_targets.get(r["name"])
        if tol is None or r["kernel"] != "gaussian":
            continue
        limit = 600.0 if "_1d_" in r["name"] else math.inf
        ok = r["err"] <= tol and r["t"] <= limit
        target_rows.append(
            [f"{r['name']} ({r['shape']}): rel. L2 <= {tol:g}"
             + (" in < 10 min" if limit < math.inf else ""),
             f"{r['err']:.2e} in {_fmt_s(r['t'])} s", "PASS" if ok else "FAIL"]
        )  # fmt: skip
    table = []
    for r in rows:
        o, sk, npy = r["ours"], r["sk"], r["npy"]
        table.append(
            [f"{r['n']}^{r['dim']}", f"{r['N']:,}", _fmt_s(o["t"]),
             _fmt_s(o["t_grad"]), f"{o['mem']:.0f}",
             _fmt_s(sk["t"]) if sk else "-", f"{sk['mem']:.0f}" if sk else "-",
             _fmt_s(npy["t"]) if npy else "-",
             f"{sk['t'] / o['t']:.0f}x" if sk else "-",
             f"{_diff(o, sk):.1e}" if sk else "-"]
        )  # fmt: skip
    parts = [
        "# Kronecker GP benchmark",
        "",
        f"Generated by `{cmd}` in {elapsed / 60:.1f} min.",
        "",
        "Exact GP regression on complete grids (fixed hyperparameters): "
        "kernlearn's `KroneckerGaussianProcessRegressor` against scikit-learn's "
        "dense `GaussianProcessRegressor` and the dense formulas in numpy, in one "
        "run. Times are fit + predictions (mean and std at 1,000 off-grid "
        "points); `LML+grad` is one log-marginal-likelihood evaluation with its "
        "gradient (an optimiser step). Memory is the tracemalloc peak. The "
        "machine may run other jobs (see the load averages).",
        "",
        "## Machine",
        "",
        _md_table(["", ""], mrows),
        "",
        "## Targets",
        "",
        _md_table(["target", "figures", "status"], target_rows),
        "",
        "## 1. Regression on grids",
        "",
        f"Dense models ran up to N = {args.dense_max:,} points.",
        "",
        _md_table(
            [
                "grid",
                "N",
                "kernlearn s",
                "LML+grad s",
                "kernlearn MiB",
                "scikit-learn s",
                "scikit-learn MiB",
                "numpy dense s",
                "speed-up",
                "max rel. diff",
            ],
            table,
        ),  # fmt: skip
        "",
    ]
    if pde is not None:
        parts += pde_section(pde)
    return save_report(path, "\n".join(parts))


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dense-max", type=int, default=8192, help="largest dense N")
    p.add_argument("--threads", type=int, default=_usable_cores())
    p.add_argument("--quick", action="store_true", help="a smoke run, tiny sizes")
    p.add_argument("--out", default=None)
    p.add_argument(
        "--pde-only",
        action="store_true",
        help="run part 2 only and replace its section in the existing report",
    )
    args = p.parse_args(argv)
    args.grids = list(GRIDS)
    if args.quick:
        args.grids = [(16, 2), (24, 2), (8, 3)]
        args.dense_max = 600
    if args.out is None and not args.quick:
        args.out = DEFAULT_OUT
    return args


def summarize(summary, rows):
    """The headline comparisons: fit + predict time against scikit-learn's
    dense GP and the dense numpy formulas on every grid where they ran, and
    the peak memory on the largest; and the plots of time and memory against
    the number of grid points."""
    dense = [r for r in rows if r["sk"] is not None]
    for r in dense:
        case = f"{r['n']}^{r['dim']} grid, N = {r['N']:,}"
        ours = "KroneckerGaussianProcessRegressor"
        for key, peer in (
            ("sk", "sklearn GaussianProcessRegressor"),
            ("npy", "dense numpy (Cholesky)"),
        ):
            summary.compare(
                case, ours, peer, "seconds (fit + predict)", r["ours"]["t"],
                r[key]["t"],
            )  # fmt: skip
        if r is dense[-1]:
            summary.compare(
                case, ours, "sklearn GaussianProcessRegressor", "MiB (peak)",
                r["ours"]["mem"], r["sk"]["mem"],
            )  # fmt: skip
    for key, ylabel in (("t", "seconds (fit + predict)"), ("mem", "peak MiB")):
        series = {}
        for r in rows:
            for who, label in (
                ("ours", "kernlearn Kronecker"),
                ("sk", "sklearn dense GP"),
                ("npy", "dense numpy"),
            ):
                if r[who] is not None:
                    series.setdefault(f"{label}, {r['dim']}-D grids", []).append(
                        (r["N"], r[who][key])
                    )
        summary.plot(f"GP regression on grids: {ylabel}", "N (grid points)", ylabel,
                     series)  # fmt: skip


def _body(args, run):
    checks = []
    if args.pde_only:
        pde = run_pde(args)
        path = Path(args.out) if args.out is not None else None
        old = path.read_text(encoding="utf-8") if path and path.is_file() else ""
        old = old.split("## 2. PDE solving")[0].rstrip("\n")
        cmd = "python benchmarks/bench_kronecker_gp.py " + " ".join(run.argv)
        note = f"Part 2 generated by `{cmd}` on {_load()} load average."
        text = "\n".join([old, "", *pde_section(pde), note, ""]).lstrip("\n")
        save_report(path, text)
        # part 1's figures stay those of the last full run: no new summary
        return Outcome(text, path, summary=False)
    print("part 1: regression on grids", flush=True)
    rows, targets = run_regression(args, checks)
    run.mark("after part 1")
    print("part 2: PDE solving (GP-HM)", flush=True)
    pde = run_pde(args)
    run.mark("after part 2")
    text = write_report(args.out, args, run.argv, rows, targets, checks, run.meta, pde)
    summarize(run.summary, rows)
    return Outcome(text, args.out, checks)


def main(argv=None):
    return run_benchmark(
        "kronecker_gp", _body, parse_args, argv, dists=DISTS, quiet=True
    )


if __name__ == "__main__":
    sys.exit(main())
