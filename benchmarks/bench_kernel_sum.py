"""Time ``kernel_sum`` against its peers on the same data, in one run.

For the Gaussian and the Laplacian kernel, each size ``n = m`` and dimension ``d``
and each dtype, this script times on one shared data set:

- kernlearn's engines: ``numpy`` (the blocked reference), ``numba`` (fused,
  parallel) and ``keops`` when usable;
- scikit-learn ``KernelDensity(rtol=0, atol=0)`` ``score_samples`` with
  ``algorithm="kd_tree"`` and ``"ball_tree"`` (kernel ``"gaussian"`` resp.
  ``"exponential"``; exact, so it visits every pair; the tree build is not timed);
- ``scipy.stats.gaussian_kde(Y.T).evaluate(X.T)`` (Gaussian only; it chooses its
  own bandwidth, which does not change its cost);
- a plain broadcast numpy sum over blocks of query rows.

scikit-learn and scipy compute in float64 whatever the input, so they are timed in
the float64 rows only. A method whose full run would exceed ``--budget`` seconds is
timed on the first ``q`` query rows and its time extrapolated linearly in ``n``
(marked ``*``). Every method is run once on a small problem before it is timed,
so JIT compilation stays out of the figures.

It also measures this machine's practical limit for the operation: the GEMM rate
(a large matmul, ``--threads`` BLAS threads) and the exponential rate (``np.exp``
in ``--threads`` Python threads, a numba ``fastmath`` loop, and the numba engine's
own ``vexp_inplace`` when it exists), and reports each method's fraction of

    limit pairs/s = 1 / (2 d / GEMM_FLOPS + 1 / EXP_RATE),

the rate at which pairs could be processed if distances came from GEMM at peak and
each pair cost one exponential at the best measured rate. Before timing it checks
that the numba engine agrees with the numpy engine (float64, 500 query rows against
all ``m``, to 1e-12 relative) and that scikit-learn's log densities match kernlearn's
sums. Figures go to ``benchmarks/results/kernel_sum.md``.

Usage::

    python benchmarks/bench_kernel_sum.py            # the full run (long)
    python benchmarks/bench_kernel_sum.py --quick    # a smoke run, small sizes
    python benchmarks/bench_kernel_sum.py --sizes 20000 --dims 3,16 --dtypes float64
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from _common import Outcome, best, machine_rows, run_benchmark, save_report
from _common import ints as _ints
from _common import md_table as _md_table
from _common import usable_cores as _usable_cores
from scipy.special import gammaln

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "results" / "kernel_sum.md"

# Agreement required between the numba and numpy engines (float64), and of
# scikit-learn's log densities with kernlearn's sums (absolute, in the log).
RTOL_ENGINES = 1e-12
RTOL_FLOAT32 = 2e-4
ATOL_LOG_SKLEARN = 1e-10
CHECK_ROWS = 500

KERNELS = ("gaussian", "laplacian")
DISTS = ("numpy", "scipy", "scikit-learn", "numba", "pykeops", "threadpoolctl")
SKLEARN_NAME = {"gaussian": "gaussian", "laplacian": "exponential"}


# ------------------------------------------------------------------ utilities
def _best_time(fn, repeat=3, min_total=0.5):
    """Best of up to ``repeat`` runs; a single run when one takes ``min_total``."""
    return best(fn, repeat, min_total)[0]


def bandwidth(d):
    """Kernel length scale: values stay O(1) for standard normal data in R^d."""
    return 0.5 * math.sqrt(d)


def log_kernel_norm(kernel, h, d):
    """log of the integral over R^d of the unnormalised kernel (scikit-learn's norm).

    Gaussian: (2 pi)^(d/2) h^d. Exponential exp(-r/h): the surface of the unit
    sphere 2 pi^(d/2) / Gamma(d/2) times Gamma(d) h^d.
    """
    if kernel == "gaussian":
        return 0.5 * d * math.log(2 * math.pi) + d * math.log(h)
    return (
        math.log(2.0)
        + 0.5 * d * math.log(math.pi)
        - gammaln(0.5 * d)
        + gammaln(d)
        + d * math.log(h)
    )


# --------------------------------------------------------------- the methods
class Method:
    """One way of computing the n kernel sums; ``run(q)`` does the first q rows."""

    def __init__(self, name, threads, run, note="", budget_factor=1.0):
        self.name, self.threads, self.run, self.note = name, threads, run, note
        # kernlearn's fused engines are what the benchmark is about: they run in
        # full unless that would take budget_factor times the budget.
        self.budget_factor = budget_factor


def _kernlearn_kernel(kernel, h):
    from kernlearn import kernels

    cls = {"gaussian": "Gaussian", "laplacian": "Laplacian"}[kernel]
    return getattr(kernels, cls)(h)


def make_methods(kernel, X, Y, h, dtype, threads, engines):
    """The methods that apply to this (kernel, dtype)."""
    from kernlearn.backend import kernel_sum

    methods = []
    k = _kernlearn_kernel(kernel, h)
    for engine in engines:
        nthreads = 1 if engine == "numpy" else threads

        def run(q, engine=engine):
            return kernel_sum(k, X[:q], Y, backend=engine)

        factor = 1.0 if engine == "numpy" else 10.0
        methods.append(Method(f"kernlearn {engine}", nthreads, run, "", factor))

    if dtype == np.float64:
        from sklearn.neighbors import KernelDensity

        for algorithm in ("kd_tree", "ball_tree"):
            kde = KernelDensity(
                bandwidth=h,
                kernel=SKLEARN_NAME[kernel],
                algorithm=algorithm,
                rtol=0.0,
                atol=0.0,
            ).fit(Y)

            def run(q, kde=kde):
                return kde.score_samples(X[:q])

            methods.append(Method(f"sklearn KDE {algorithm}", 1, run))
        if kernel == "gaussian":
            from scipy.stats import gaussian_kde

            kde = gaussian_kde(Y.T)

            def run(q, kde=kde):
                return kde.evaluate(X[:q].T)

            methods.append(
                Method("scipy gaussian_kde", 1, run, "own bandwidth (Scott)")
            )

    methods.append(Method("numpy broadcast", 1, _broadcast(kernel, X, Y, h)))
    return methods


def _broadcast(kernel, X, Y, h, block_bytes=64 * 2**20):
    """Plain numpy: (rows, m, d) differences per block of query rows."""
    m, d = Y.shape
    rows = max(1, block_bytes // (m * d * X.itemsize))
    inv_h = X.dtype.type(1.0 / h)

    def run(q):
        out = np.empty(q, dtype=np.float64)
        Ys = Y * inv_h
        for i0 in range(0, q, rows):
            i1 = min(q, i0 + rows)
            diff = X[i0:i1, None, :] * inv_h - Ys[None, :, :]
            s = np.einsum("ijk,ijk->ij", diff, diff)
            if kernel == "gaussian":
                vals = np.exp(-0.5 * s)
            else:
                vals = np.exp(-np.sqrt(s))
            out[i0:i1] = vals.sum(axis=1)
        return out

    return run


def time_method(method, n, budget, pilot_rows):
    """(seconds for all n rows, rows timed); extrapolated when rows < n."""
    method.run(min(n, 64))  # warm-up: JIT compile, first-call costs
    budget = budget * method.budget_factor
    q = min(n, pilot_rows)
    t_pilot = _best_time(lambda: method.run(q), repeat=1)
    projected = t_pilot * n / q
    if q == n:
        return _best_time(lambda: method.run(n)), n
    if projected <= budget:
        return _best_time(lambda: method.run(n), repeat=2), n
    rows = min(n, max(q, int(n * budget / projected)))
    t = _best_time(lambda: method.run(rows), repeat=1)
    return t * n / rows, rows


# ------------------------------------------------------------ machine limits
def measure_limits(threads, quick):
    """GEMM FLOP/s and exponential rates (per second) for float64 and float32."""
    size = 1024 if quick else 4096
    n_exp = 2**20 if quick else 2**24
    rng = np.random.default_rng(0)
    limits = {
        np.dtype(dt).name: _limits_for(np.dtype(dt), threads, size, n_exp, rng)
        for dt in (np.float64, np.float32)
    }
    return limits, size, n_exp


def _limits_for(dtype, threads, size, n_exp, rng):
    from threadpoolctl import threadpool_limits

    A = rng.standard_normal((size, size)).astype(dtype)
    B = rng.standard_normal((size, size)).astype(dtype)
    with threadpool_limits(threads):
        A @ B  # warm-up
        t = _best_time(lambda: A @ B, repeat=3, min_total=math.inf)
    gemm = 2.0 * size**3 / t

    # Every timed call gets fresh arguments in [-20, 0] (the range of kernel
    # exponents); the copy is outside the timer.
    base = -rng.uniform(0, 20, size=n_exp).astype(dtype)
    work = np.empty_like(base)
    rates = {}
    pieces = [
        work[idx[0] : idx[-1] + 1]
        for idx in np.array_split(np.arange(n_exp), threads)
        if idx.size
    ]

    with ThreadPoolExecutor(threads) as pool:

        def np_exp_threads():
            list(pool.map(lambda piece: np.exp(piece, out=piece), pieces))

        rates[f"np.exp ({threads} threads)"] = n_exp / _time_fresh(
            np_exp_threads, work, base
        )
    nb = _numba_exp()
    if nb is not None:
        rates["numba fastmath loop"] = n_exp / _time_fresh(lambda: nb(work), work, base)
    vexp = _engine_vexp()
    if vexp is not None:
        try:
            rates["numba engine vexp_inplace"] = n_exp / _time_fresh(
                lambda: vexp(work), work, base
            )
        except Exception as exc:  # e.g. a dtype it does not take
            rates["numba engine vexp_inplace"] = f"n/a ({type(exc).__name__})"
    numeric = [v for v in rates.values() if isinstance(v, float)]
    return {"gemm": gemm, "exp_rates": rates, "exp": max(numeric)}


def _time_fresh(fn, work, base, repeat=5):
    """Best time of ``fn()`` over ``repeat`` runs, ``work`` reset to ``base`` first."""
    np.copyto(work, base)
    fn()  # warm-up (JIT compile, thread start)
    best = math.inf
    for _ in range(repeat):
        np.copyto(work, base)
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def _numba_exp():
    try:
        import numba
    except ImportError:
        return None

    @numba.njit(parallel=True, fastmath=True, cache=False)
    def nb_exp(a):
        for i in numba.prange(a.shape[0]):
            a[i] = math.exp(a[i])

    return nb_exp


def _engine_vexp():
    try:
        from kernlearn.backend import _numba
    except ImportError:
        return None
    return getattr(_numba, "vexp_inplace", None)


def limit_pairs_per_s(limits, d, dtype_name):
    lim = limits[dtype_name]
    return 1.0 / (2.0 * d / lim["gemm"] + 1.0 / lim["exp"])


# --------------------------------------------------------------------- checks
def run_checks(kernel, X, Y, h, engines):
    """Agreement checks on the first CHECK_ROWS query rows (float64 data)."""
    from sklearn.neighbors import KernelDensity

    from kernlearn.backend import kernel_sum

    k = _kernlearn_kernel(kernel, h)
    rows = min(CHECK_ROWS, X.shape[0])
    Xq = X[:rows]
    ref = kernel_sum(k, Xq, Y, backend="numpy")
    out = []
    for engine in engines:
        if engine == "numpy":
            continue
        got = np.asarray(kernel_sum(k, Xq, Y, backend=engine))
        err = float(np.max(np.abs(got - ref) / ref))
        out.append((f"kernlearn {engine} vs numpy engine", rows, err, RTOL_ENGINES))
    got = _broadcast(kernel, Xq, Y, h)(rows)
    err = float(np.max(np.abs(got - ref) / ref))
    out.append(("numpy broadcast vs numpy engine", rows, err, RTOL_ENGINES))
    few = min(5, rows)
    log_norm = log_kernel_norm(kernel, h, X.shape[1])
    ours = np.log(ref[:few]) - math.log(Y.shape[0]) - log_norm
    for algorithm in ("kd_tree", "ball_tree"):
        kde = KernelDensity(
            bandwidth=h, kernel=SKLEARN_NAME[kernel], algorithm=algorithm, rtol=0.0
        ).fit(Y)
        err = float(np.max(np.abs(kde.score_samples(Xq[:few]) - ours)))
        out.append(
            (f"sklearn {algorithm} log density (abs)", few, err, ATOL_LOG_SKLEARN)
        )
    return out


def run_float32_checks(kernel, X32, Y32, h, engines):
    from kernlearn.backend import kernel_sum

    k = _kernlearn_kernel(kernel, h)
    rows = min(CHECK_ROWS, X32.shape[0])
    ref = kernel_sum(k, X32[:rows].astype(np.float64), Y32.astype(np.float64))
    out = []
    for engine in engines:
        got = np.asarray(kernel_sum(k, X32[:rows], Y32, backend=engine), np.float64)
        err = float(np.max(np.abs(got - ref) / ref))
        out.append((f"kernlearn {engine} float32 vs float64", rows, err, RTOL_FLOAT32))
    return out


# --------------------------------------------------------------------- report
def _fmt_rate(x):
    return f"{x / 1e9:.2f}" if isinstance(x, float) else str(x)


def machine_section(args, threads):
    rows, blas = machine_rows(f"threads used: {threads}", DISTS)
    rows.append(["BLAS", blas])
    return _md_table(["", ""], rows)


def write_report(
    path,
    args,
    argv,
    threads,
    engines,
    skipped_engines,
    limits,
    gemm_size,
    n_exp,
    results,
    checks,
    elapsed,
):
    parts = ["# kernel_sum benchmark", ""]
    cmd = "python benchmarks/bench_kernel_sum.py" + (
        " " + " ".join(argv) if argv else ""
    )
    parts += [
        f"Generated by `{cmd}` in {elapsed / 60:.1f} min.",
        "",
        "Each row times the n kernel sums `sum_j k(x_i, y_j)`, i < n, over m = n "
        "data points of standard normal data in R^d, length scale h = sqrt(d) / 2 "
        "(Gaussian `exp(-|x-y|^2 / 2h^2)`, Laplacian `exp(-|x-y| / h)` = "
        "scikit-learn's `exponential`). `*`: timed on the first q query rows "
        "(column `rows timed`) and extrapolated linearly in n (when the full run "
        f"would exceed {args.budget:g} s; {10 * args.budget:g} s for kernlearn's "
        "fused engines). Each method ran once "
        "on a small problem before it was timed (JIT compilation excluded). "
        "scikit-learn and scipy compute in float64 and are timed only there; "
        "scikit-learn's tree build and scipy's covariance are not timed.",
        "",
        "## Machine",
        "",
        machine_section(args, threads),
        "",
    ]
    if skipped_engines:
        parts += [
            "Engines not usable here: "
            + "; ".join(f"{n} ({why})" for n, why in skipped_engines.items()),
            "",
        ]
    parts += [
        "## Practical limit",
        "",
        f"GEMM: best of 3 `A @ B`, {gemm_size} x {gemm_size}, {threads} BLAS "
        f"threads. Exponential: {n_exp:,} arguments in [-20, 0], in place. "
        "Limit pairs/s = 1 / (2 d / GEMM_FLOPS + 1 / EXP_RATE) with the best "
        "exponential rate; `% of limit` below is each method's pairs/s over it.",
        "",
    ]
    rate_names = sorted({n for lim in limits.values() for n in lim["exp_rates"]})
    headers = ["dtype", "GEMM GFLOP/s"] + [f"{n} G/s" for n in rate_names]
    headers += ["EXP_RATE G/s"]
    rows = []
    for dt, lim in limits.items():
        row = [dt, f"{lim['gemm'] / 1e9:.1f}"]
        row += [_fmt_rate(lim["exp_rates"].get(n, "-")) for n in rate_names]
        row += [f"{lim['exp'] / 1e9:.2f}"]
        rows.append(row)
    parts += [_md_table(headers, rows), ""]
    dims = sorted({r["d"] for r in results})
    if dims:
        rows = [
            [dt] + [f"{limit_pairs_per_s(limits, d, dt) / 1e9:.2f}" for d in dims]
            for dt in limits
        ]
        parts += [
            _md_table(["limit G pairs/s"] + [f"d = {d}" for d in dims], rows),
            "",
        ]
    parts += ["## Results", ""]
    headers = [
        "kernel",
        "dtype",
        "n = m",
        "d",
        "method",
        "threads",
        "seconds",
        "G pairs/s",
        "% of limit",
        "rows timed",
        "note",
    ]
    rows = []
    for r in results:
        star = "*" if r["rows"] < r["n"] else ""
        if r.get("error"):
            rows.append(
                [
                    r["kernel"],
                    r["dtype"],
                    r["n"],
                    r["d"],
                    r["method"],
                    r["threads"],
                    "error",
                    "",
                    "",
                    "",
                    r["error"],
                ]
            )
            continue
        rate = r["n"] * r["n"] / r["seconds"]
        rows.append(
            [
                r["kernel"],
                r["dtype"],
                f"{r['n']:,}",
                r["d"],
                r["method"],
                r["threads"],
                f"{r['seconds']:.3g}{star}",
                f"{rate / 1e9:.3g}{star}",
                f"{100 * rate / limit_pairs_per_s(limits, r['d'], r['dtype']):.1f}",
                f"{r['rows']:,}",
                r["note"],
            ]
        )
    parts += [_md_table(headers, rows), ""]
    parts += ["## Checks", ""]
    rows = [
        [
            c["kernel"],
            c["dtype"],
            f"{c['n']:,}",
            c["d"],
            c["what"],
            c["rows"],
            f"{c['err']:.2e}",
            f"{c['tol']:g}",
            "OK" if c["err"] <= c["tol"] else "FAIL",
        ]
        for c in checks
    ]
    parts += [
        _md_table(
            [
                "kernel",
                "dtype",
                "n = m",
                "d",
                "check",
                "rows",
                "max error",
                "tolerance",
                "status",
            ],
            rows,
        ),
        "",
    ]
    text = "\n".join(parts)
    return save_report(path, text)


# ----------------------------------------------------------------------- main
def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--sizes",
        type=_ints,
        default=None,
        help="comma-separated n = m (default 20000,100000)",
    )
    p.add_argument(
        "--dims", type=_ints, default=None, help="comma-separated d (default 3,16,128)"
    )
    p.add_argument(
        "--dtypes",
        default=None,
        help="comma-separated dtypes (default float32,float64)",
    )
    p.add_argument(
        "--kernels",
        default=",".join(KERNELS),
        help="comma-separated kernels (default gaussian,laplacian)",
    )
    p.add_argument(
        "--threads",
        type=int,
        default=_usable_cores(),
        help="threads for BLAS and the numba engine (default: all cores)",
    )
    p.add_argument(
        "--budget",
        type=float,
        default=None,
        help="seconds a method may take before it is extrapolated "
        "(default 20, quick 1)",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="a smoke run: n = 2000, d in {3, 32}, small limit probes",
    )
    p.add_argument(
        "--out",
        default=None,
        help="markdown report (default benchmarks/results/kernel_sum.md; "
        "with --quick only printed)",
    )
    args = p.parse_args(argv)
    if args.quick:
        args.sizes = args.sizes or [2000]
        args.dims = args.dims or [3, 32]
        args.budget = args.budget or 1.0
    args.sizes = args.sizes or [20_000, 100_000]
    args.dims = args.dims or [3, 16, 128]
    args.dtypes = [
        np.dtype(t.strip()) for t in (args.dtypes or "float32,float64").split(",")
    ]
    args.kernels = [k.strip() for k in args.kernels.split(",")]
    for k in args.kernels:
        if k not in KERNELS:
            p.error(f"unknown kernel {k!r}; choose from {KERNELS}")
    for dt in args.dtypes:
        if dt not in (np.float32, np.float64):
            p.error(f"dtype must be float32 or float64, got {dt}")
    args.budget = args.budget or 20.0
    if args.out is None and not args.quick:
        args.out = DEFAULT_OUT
    return args


def summarize(summary, results, limits):
    """The headline comparisons (float64, where every peer runs): kernlearn's
    fastest engine against the faster scikit-learn tree, scipy and plain
    numpy; and the plot of the pair rate against d."""
    timed = [r for r in results if "seconds" in r]
    cases = sorted(
        {(r["kernel"], r["n"], r["d"]) for r in timed if r["dtype"] == "float64"},
        key=lambda c: (KERNELS.index(c[0]), c[1], c[2]),
    )
    for kernel, n, d in cases:
        rows = [
            r
            for r in timed
            if (r["kernel"], r["dtype"], r["n"], r["d"]) == (kernel, "float64", n, d)
        ]
        ours = [r for r in rows if r["method"].startswith("kernlearn")]
        if not ours:
            continue
        kl = min(ours, key=lambda r: r["seconds"])
        peers = {}
        trees = [r for r in rows if r["method"].startswith("sklearn KDE")]
        if trees:
            peers["sklearn KernelDensity"] = min(trees, key=lambda r: r["seconds"])
        for r in rows:
            if r["method"] in ("scipy gaussian_kde", "numpy broadcast"):
                peers[r["method"]] = r
        for label, r in peers.items():
            star = [x["method"] for x in (kl, r) if x["rows"] < n]
            summary.compare(
                f"{kernel}, n = m = {n:,}, d = {d}, float64",
                f"kernel_sum, {kl['method'].split()[-1]} engine",
                label
                + (
                    f" ({r['method'].split()[-1]})"
                    if label.startswith("sklearn")
                    else ""
                ),
                "seconds",
                kl["seconds"],
                r["seconds"],
                note="extrapolated: " + ", ".join(star) if star else "",
            )
    for kernel in KERNELS:
        for n in sorted({r["n"] for r in timed if r["kernel"] == kernel}):
            series = {}
            for r in timed:
                if (r["kernel"], r["dtype"], r["n"]) == (kernel, "float64", n):
                    series.setdefault(r["method"], []).append(
                        (r["d"], r["n"] * r["n"] / r["seconds"] / 1e9)
                    )
            series["practical limit"] = [
                (d, limit_pairs_per_s(limits, d, "float64") / 1e9)
                for d in sorted({r["d"] for r in timed})
            ]
            summary.plot(
                f"{kernel}, n = m = {n:,}, float64",
                "d",
                "G pairs/s",
                series,
            )


def _body(args, run):
    threads = args.threads
    from threadpoolctl import threadpool_limits

    from kernlearn import kernels as kernlearn_kernels
    from kernlearn.backend import engine_status

    status = engine_status()
    engines = [e for e in ("numpy", "numba", "keops") if status[e][0]]
    skipped = {e: status[e][1] for e in ("numba", "keops") if not status[e][0]}
    for kernel in list(args.kernels):
        cls = {"gaussian": "Gaussian", "laplacian": "Laplacian"}[kernel]
        if not hasattr(kernlearn_kernels, cls):
            print(f"kernlearn.kernels.{cls} does not exist yet: {kernel} skipped")
            args.kernels.remove(kernel)

    print(f"engines: {', '.join(engines)}; threads: {threads}")
    print("measuring the machine's limits ...", flush=True)
    limits, gemm_size, n_exp = measure_limits(threads, args.quick)
    for dt, lim in limits.items():
        print(
            f"  {dt}: GEMM {lim['gemm'] / 1e9:.1f} GFLOP/s, exp "
            f"{lim['exp'] / 1e9:.2f} G/s",
            flush=True,
        )

    results, checks = [], []
    pilot_rows = 64 if args.quick else 256
    with threadpool_limits(threads):
        for n in args.sizes:
            for d in args.dims:
                rng = np.random.default_rng(n * 1000 + d)
                X64 = rng.standard_normal((n, d))
                Y64 = rng.standard_normal((n, d))
                h = bandwidth(d)
                for kernel in args.kernels:
                    # agreement is checked in float64 whatever dtypes are timed
                    for what, rows, err, tol in run_checks(
                        kernel, X64, Y64, h, engines
                    ):
                        checks.append(
                            dict(
                                kernel=kernel,
                                dtype="float64",
                                n=n,
                                d=d,
                                what=what,
                                rows=rows,
                                err=err,
                                tol=tol,
                            )
                        )
                    if np.dtype(np.float32) in args.dtypes:
                        X32, Y32 = X64.astype(np.float32), Y64.astype(np.float32)
                        for what, rows, err, tol in run_float32_checks(
                            kernel, X32, Y32, h, engines
                        ):
                            checks.append(
                                dict(
                                    kernel=kernel,
                                    dtype="float32",
                                    n=n,
                                    d=d,
                                    what=what,
                                    rows=rows,
                                    err=err,
                                    tol=tol,
                                )
                            )
                    for dtype in args.dtypes:
                        X = X64.astype(dtype)
                        Y = Y64.astype(dtype)
                        for method in make_methods(
                            kernel, X, Y, h, dtype, threads, engines
                        ):
                            rec = dict(
                                kernel=kernel,
                                dtype=dtype.name,
                                n=n,
                                d=d,
                                method=method.name,
                                threads=method.threads,
                                note=method.note,
                            )
                            try:
                                seconds, rows = time_method(
                                    method, n, args.budget, pilot_rows
                                )
                            except Exception as exc:  # keep going; report it
                                rec.update(error=f"{type(exc).__name__}: {exc}", rows=n)
                                print(
                                    f"  {kernel} {dtype.name} n={n} d={d} "
                                    f"{method.name}: {rec['error']}",
                                    flush=True,
                                )
                                results.append(rec)
                                continue
                            rec.update(seconds=seconds, rows=rows)
                            results.append(rec)
                            star = "*" if rows < n else ""
                            print(
                                f"  {kernel:9s} {dtype.name} n={n} d={d:<4d} "
                                f"{method.name:22s} {seconds:9.3f}{star} s  "
                                f"{n * n / seconds / 1e9:7.3f} G pairs/s",
                                flush=True,
                            )

    elapsed = run.finish()
    text = write_report(
        args.out,
        args,
        run.argv,
        threads,
        engines,
        skipped,
        limits,
        gemm_size,
        n_exp,
        results,
        checks,
        elapsed,
    )
    summarize(run.summary, results, limits)
    # failed checks are printed with their case
    cases = [
        dict(c, what=f"{c['kernel']} {c['dtype']} n={c['n']} d={c['d']} {c['what']}")
        for c in checks
    ]
    return Outcome(text, args.out, cases)


def main(argv=None):
    return run_benchmark(
        "kernel_sum",
        _body,
        parse_args,
        argv,
        dists=DISTS,
        threadpool=False,
        numba_threads=True,
    )


if __name__ == "__main__":
    sys.exit(main())
