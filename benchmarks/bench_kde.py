"""Time kernlearn's ``KernelDensity`` against its peers on the same data, in one run.

Three parts, each on data drawn here and shared by every method:

1. **Exact scoring** (``fit`` + ``score_samples``, Gaussian kernel, fixed
   bandwidth, float64) on standard normal data in R^d: kernlearn
   ``KernelDensity`` against scikit-learn ``KernelDensity`` (``rtol=0``, with
   ``kd_tree`` and ``ball_tree``; and ``rtol=1e-4`` with ``algorithm="auto"``),
   ``scipy.stats.gaussian_kde``, statsmodels ``KDEMultivariate``, KDEpy
   ``TreeKDE`` and, in 1-D and 2-D, KDEpy ``FFTKDE`` on a fine grid followed by
   linear interpolation to the queries. There are as many queries as training
   points. A method whose run would exceed its time cap is timed on the first
   ``q`` queries and its scoring time extrapolated linearly to all of them
   (marked ``*``). Every method's log densities on the first queries are compared
   with a brute-force float64 reference, and kernlearn's with scikit-learn's on
   every query scikit-learn scored.
2. **Grid evaluation**: kernlearn ``evaluate_grid(axes=..., method="fft")``
   against KDEpy ``FFTKDE(bw=h).fit(x).evaluate(grid)`` on KDEpy's own 1024-point
   grid (1-D) and 256 x 256 grid (2-D); both are compared with the exact density
   on the grid.
3. **Bandwidth selection**: kernlearn ``KernelDensity(bandwidth="loo_ml").fit``
   against statsmodels ``KDEMultivariate(bw="cv_ml")`` (the same criterion, the
   leave-one-out likelihood), with statsmodels' O(n^2 x evaluations) scaling
   measured on smaller samples and projected to the target size.

A table of targets (exact scoring >= 50x scikit-learn exact at d >= 8, grid
within 2x of KDEpy, ``loo_ml`` >= 100x statsmodels ``cv_ml`` at n = 5000) closes
the report, which goes to ``benchmarks/results/kde.md``.

Usage::

    python benchmarks/bench_kde.py              # the full run (about 20 min on 2 cores)
    python benchmarks/bench_kde.py --quick      # a smoke run (under a minute)
    python benchmarks/bench_kde.py --parts scoring --sizes 10000 --dims 8
"""

from __future__ import annotations

import argparse
import contextlib
import math
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from _common import (
    Outcome,
    machine_rows,
    parse_parts,
    run_benchmark,
    save_report,
)
from _common import best as _best
from _common import fmt_s as _fmt_s
from _common import ints as _ints
from _common import md_table as _md_table
from _common import usable_cores as _usable_cores

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "results" / "kde.md"

PARTS = ("scoring", "grid", "bandwidth")
DISTS = ("numpy", "scipy", "scikit-learn", "numba", "statsmodels", "KDEpy")
DISTS += ("threadpoolctl",)
# Queries checked against the brute-force reference in part 1.
CHECK_ROWS = 200
# Queries where kernlearn and scikit-learn differ most, checked against the reference.
WORST_ROWS = 20
# kernlearn's exact log densities against the brute-force reference (relative,
# floored at 1 in the denominator), and its FFT grid against the exact density on
# the grid (absolute, relative to the density's maximum).
TOL_EXACT = 1e-12
TOL_GRID = 1e-3
# Targets.
TARGET_SCORING = 50.0
TARGET_GRID = 2.0
TARGET_LOO = 100.0


# ------------------------------------------------------------------ utilities
def _fmt_ratio(x):
    if x >= 100:
        return f"{x:.0f}"
    if x >= 1:
        return f"{x:.1f}"
    return f"{x:.2g}"


def _fmt_err(x):
    if x is None:
        return "-"
    if not np.isfinite(x):
        return "inf"
    return f"{x:.1e}"


def _rel_log_err(a, ref):
    """max |a - ref| / max(|ref|, 1) over finite references (inf if ``a`` is not
    finite where ``ref`` is)."""
    a = np.asarray(a, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    ok = np.isfinite(ref)
    if not np.any(ok):
        return math.nan
    with np.errstate(invalid="ignore"):
        err = np.abs(a[ok] - ref[ok]) / np.maximum(np.abs(ref[ok]), 1.0)
    if not np.all(np.isfinite(err)):
        return math.inf
    return float(np.max(err))


def _log(x):
    with np.errstate(divide="ignore"):
        return np.log(np.asarray(x, dtype=np.float64))


def scott(n, d):
    """Scott's rule for unit-variance data: the bandwidth used in part 1."""
    return n ** (-1.0 / (d + 4))


def reference_log_density(X, Q, h):
    """Brute-force float64 log density of the Gaussian KDE (one query at a time,
    direct differences, log-sum-exp)."""
    from scipy.special import logsumexp

    n, d = X.shape
    const = -math.log(n) - 0.5 * d * math.log(2 * math.pi) - d * math.log(h)
    out = np.empty(Q.shape[0])
    for i, q in enumerate(Q):
        diff = X - q
        s = np.einsum("ij,ij->i", diff, diff)
        out[i] = logsumexp(-0.5 * s / (h * h)) + const
    return out


def _resolved_engine(backend, n_pairs):
    """The engine kernlearn's ``backend`` resolves to for this problem size."""
    try:
        from kernlearn.backend import _spec_of, resolve_backend
        from kernlearn.kernels import Gaussian

        return resolve_backend(backend, None, n_pairs, _spec_of(Gaussian(1.0)))
    except Exception:  # private helpers moved: say what was asked for
        return str(backend)


class Clock:
    """The run's global deadline: past it, remaining peers are skipped."""

    def __init__(self, minutes):
        self.t0 = time.perf_counter()
        self.limit = 60.0 * minutes

    def elapsed(self):
        return time.perf_counter() - self.t0

    def over(self):
        return self.elapsed() > self.limit


# ---------------------------------------------------- part 1: exact scoring
class Peer:
    """One way of scoring: ``fit(X) -> model``, ``score(model, Q) -> log density``.

    ``cap_factor`` multiplies the time cap (kernlearn runs in full unless that
    would take ``cap_factor`` times the peers' cap).
    """

    def __init__(self, name, fit, score, *, threads=1, note="", cap_factor=1.0):
        self.name, self.fit, self.score = name, fit, score
        self.threads, self.note, self.cap_factor = threads, note, cap_factor


def make_peers(n, d, h, args):
    """The methods of part 1 that apply in dimension ``d``, kernlearn first."""
    from sklearn.neighbors import KernelDensity as SkKDE

    from kernlearn.density import KernelDensity

    peers = []
    engine = _resolved_engine(args.backend, n * n)
    threads = args.threads if engine == "numba" else 1
    peers.append(
        Peer(
            "kernlearn",
            lambda X: KernelDensity(bandwidth=h, backend=args.backend).fit(X),
            lambda m, Q: m.score_samples(Q),
            threads=threads,
            note=f"backend={args.backend!r} -> {engine}",
            cap_factor=args.kernlearn_cap,
        )
    )
    for algo in ("kd_tree", "ball_tree"):
        peers.append(
            Peer(
                f"sklearn exact {algo}",
                lambda X, algo=algo: SkKDE(
                    bandwidth=h, algorithm=algo, rtol=0.0, atol=0.0
                ).fit(X),
                lambda m, Q: m.score_samples(Q),
                note="rtol=0, atol=0" + (" (= algorithm='auto')" * (algo == "kd_tree")),
            )
        )
    peers.append(
        Peer(
            "sklearn rtol=1e-4",
            lambda X: SkKDE(bandwidth=h, rtol=1e-4).fit(X),
            lambda m, Q: m.score_samples(Q),
            note="algorithm='auto' (kd_tree); approximate",
        )
    )

    from scipy.stats import gaussian_kde

    peers.append(
        Peer(
            "scipy gaussian_kde",
            lambda X: gaussian_kde(X.T, bw_method=h),
            lambda m, Q: m.logpdf(Q.T),
            note="bw_method=h: covariance h^2 x sample covariance (~ h^2 I)",
        )
    )

    try:
        from statsmodels.nonparametric.kernel_density import KDEMultivariate

        peers.append(
            Peer(
                "statsmodels KDEMultivariate",
                lambda X: KDEMultivariate(X, var_type="c" * d, bw=[h] * d),
                lambda m, Q: _log(m.pdf(Q)),
                note="bw=[h]*d (the cost of bw='normal_reference'); pdf",
            )
        )
    except ImportError:
        pass

    try:
        import KDEpy

        peers.append(
            Peer(
                "KDEpy TreeKDE",
                lambda X: KDEpy.TreeKDE(kernel="gaussian", bw=h).fit(X),
                lambda m, Q: _log(m.evaluate(Q)),
                note="kernel cut at KDEpy's practical support (eps=1e-3)",
            )
        )
        if d <= 2:
            G = args.fft_grid[d]
            peers.append(
                Peer(
                    "KDEpy FFTKDE + interp",
                    lambda X, G=G: _fftkde_model(KDEpy, X, h, G),
                    _fftkde_score,
                    note=f"{' x '.join([str(G)] * d)} grid (in fit), then linear "
                    "interpolation; approximate",
                )
            )
    except ImportError:
        pass
    return peers


def _fftkde_model(KDEpy, X, h, G):
    d = X.shape[1]
    grid, y = KDEpy.FFTKDE(kernel="gaussian", bw=h).fit(X).evaluate((G,) * d)
    if d == 1:
        return grid.ravel(), y
    from scipy.interpolate import RegularGridInterpolator

    a0, a1 = np.unique(grid[:, 0]), np.unique(grid[:, 1])
    return RegularGridInterpolator(
        (a0, a1), y.reshape(a0.size, a1.size), bounds_error=False, fill_value=0.0
    )


def _fftkde_score(model, Q):
    if isinstance(model, tuple):
        g, y = model
        return _log(np.interp(Q[:, 0], g, y, left=0.0, right=0.0))
    return _log(model(Q))


def time_peer(peer, X, Q, cap, pilot_rows):
    """Time ``peer`` on all ``n`` queries, or on the first ``q`` and extrapolate.

    Returns a dict: ``fit`` (seconds), ``score`` (seconds for all n queries,
    extrapolated when ``rows < n``), ``rows`` and ``out`` (the log densities of
    the first ``rows`` queries).
    """
    n = Q.shape[0]
    small = X[: min(X.shape[0], 500)]
    peer.score(peer.fit(small), Q[:8])  # warm-up: JIT compilation, imports
    t_fit, model = _best(lambda: peer.fit(X), repeat=3, min_total=1.0)
    cap = cap * peer.cap_factor
    q = min(n, pilot_rows)
    t_pilot, out = _best(lambda: peer.score(model, Q[:q]), repeat=1)
    projected = t_fit + t_pilot * n / q
    if q == n:
        t, out = _best(lambda: peer.score(model, Q), repeat=3, min_total=1.0)
        rows = n
    elif projected <= cap:
        t, out = _best(lambda: peer.score(model, Q), repeat=3, min_total=1.0)
        rows = n
    else:
        per_row = t_pilot / q
        rows = int(max(q, min(n, (cap - t_fit) / per_row)))
        rows = min(n, max(q, int(round(rows, -2)) if rows >= 1000 else rows))
        if rows == q:
            t = t_pilot
        else:
            t, out = _best(lambda: peer.score(model, Q[:rows]), repeat=1)
        t = t * n / rows
    return dict(fit=t_fit, score=t, rows=rows, out=np.asarray(out, np.float64))


def run_scoring(args, clock):
    """Part 1. Returns (results, accuracy rows, checks)."""
    results, accuracy, checks = [], [], []
    configs = [(n, d) for n in args.sizes for d in args.dims]
    configs += [(n, 1) for n in args.sizes_1d if (n, 1) not in configs]
    for n, d in configs:
        rng = np.random.default_rng([n, d])
        X = rng.standard_normal((n, d))
        Q = rng.standard_normal((n, d))
        h = scott(n, d)
        rows_check = min(n, CHECK_ROWS)
        ref = reference_log_density(X, Q[:rows_check], h)
        outs = {}
        for peer in make_peers(n, d, h, args):
            rec = dict(
                n=n, d=d, h=h, method=peer.name, threads=peer.threads, note=peer.note
            )
            if clock.over() and peer.name != "kernlearn":
                rec["skipped"] = f"global time cap ({args.max_minutes:g} min) reached"
                results.append(rec)
                print(f"  n={n} d={d} {peer.name}: skipped (time cap)", flush=True)
                continue
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    r = time_peer(peer, X, Q, args.budget, args.pilot)
            except Exception as exc:  # keep going; report it
                rec["error"] = f"{type(exc).__name__}: {exc}"[:200]
                results.append(rec)
                print(f"  n={n} d={d} {peer.name}: {rec['error']}", flush=True)
                continue
            out = r.pop("out")
            outs[peer.name] = out
            rec.update(r)
            rec["err_ref"] = _rel_log_err(out[:rows_check], ref[: out.shape[0]])
            results.append(rec)
            star = "*" if r["rows"] < n else ""
            print(
                f"  n={n:>8,} d={d:<3d} {peer.name:28s} fit {r['fit']:8.3f} s  "
                f"total {r['fit'] + r['score']:9.3f}{star} s  rows {r['rows']:>8,}  "
                f"err vs ref {_fmt_err(rec['err_ref'])}",
                flush=True,
            )
        # accuracy: kernlearn against scikit-learn exact, on every query both scored
        kl = outs.get("kernlearn")
        if kl is not None:
            err_kl = _rel_log_err(kl[:rows_check], ref[: kl[:rows_check].shape[0]])
            checks.append(
                dict(
                    what=f"kernlearn exact vs brute force, n={n:,} d={d}",
                    rows=min(rows_check, kl.shape[0]),
                    err=err_kl,
                    tol=TOL_EXACT,
                )
            )
            for algo in ("kd_tree", "ball_tree"):
                sk = outs.get(f"sklearn exact {algo}")
                if sk is None:
                    continue
                m = min(sk.shape[0], kl.shape[0])
                # the reference on the queries where the two disagree most says
                # which of them is off there
                with np.errstate(invalid="ignore"):
                    gap = np.abs(kl[:m] - sk[:m]) / np.maximum(np.abs(sk[:m]), 1.0)
                gap = np.where(np.isnan(gap), np.inf, gap)
                worst = np.sort(np.argsort(-gap, kind="stable")[:WORST_ROWS])
                ref_w = reference_log_density(X, Q[worst], h)
                accuracy.append(
                    dict(
                        n=n,
                        d=d,
                        algo=algo,
                        rows=m,
                        kl_vs_sk=_rel_log_err(kl[:m], sk[:m]),
                        kl_vs_ref=_rel_log_err(kl[worst], ref_w),
                        sk_vs_ref=_rel_log_err(sk[worst], ref_w),
                        rows_ref=worst.size,
                    )
                )
    return results, accuracy, checks


# ------------------------------------------------------- part 2: grid (FFT)
def run_grid(args, clock):
    """Part 2. Returns (rows, checks)."""
    import KDEpy

    from kernlearn.density import KernelDensity

    rows, checks = [], []
    cases = [(n, 1) for n in args.grid_sizes] + [(n, 2) for n in args.grid_sizes_2d]
    for n, d in cases:
        rec = dict(n=n, d=d)
        rows.append(rec)
        if clock.over():
            rec["error"] = f"skipped: global time cap ({args.max_minutes:g} min)"
            continue
        rng = np.random.default_rng([n, d, 7])
        X = rng.standard_normal((n, d))
        x = X[:, 0] if d == 1 else X
        h = scott(n, d)
        G = 1024 if d == 1 else 256
        rec.update(h=h, grid=" x ".join([str(G)] * d))
        try:
            grid, y_kdepy = KDEpy.FFTKDE(bw=h).fit(x).evaluate(G if d == 1 else (G, G))
            if d == 1:
                axes = [np.asarray(grid, dtype=np.float64).ravel()]
            else:
                axes = [np.unique(grid[:, 0]), np.unique(grid[:, 1])]
                mesh = np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, d)
                if not np.array_equal(mesh, grid):
                    raise RuntimeError("KDEpy's 2-D grid is not in 'ij' order")
            y_kdepy = y_kdepy.reshape([a.size for a in axes])

            def kl_full(X=X, h=h, axes=axes):
                kde = KernelDensity(bandwidth=h, backend=args.backend).fit(X)
                return kde.evaluate_grid(axes=axes, method="fft")[1]

            kl_full()  # warm-up (numba binning)
            kde = KernelDensity(bandwidth=h, backend=args.backend).fit(X)
            t_kl, y_kl = _best(kl_full, repeat=args.grid_repeat, min_total=2.0)
            t_kl_eval, _ = _best(
                lambda kde=kde, axes=axes: kde.evaluate_grid(axes=axes, method="fft"),
                repeat=args.grid_repeat,
                min_total=2.0,
            )
            grid_pts = grid if d == 2 else axes[0]

            def kdepy_run(x=x, h=h, grid_pts=grid_pts):
                return KDEpy.FFTKDE(bw=h).fit(x).evaluate(grid_pts)

            kdepy_run()
            t_kd, _ = _best(kdepy_run, repeat=args.grid_repeat, min_total=2.0)
            # the exact density on the grid (kernlearn exact scoring)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                y_exact = kde.evaluate_grid(axes=axes, method="exact")[1]
            top = float(np.max(y_exact))
            rec.update(
                t_kl=t_kl,
                t_kl_eval=t_kl_eval,
                t_kdepy=t_kd,
                ratio=t_kl / t_kd,
                diff=float(np.max(np.abs(y_kl - y_kdepy)) / np.max(y_kdepy)),
                err_kl=float(np.max(np.abs(y_kl - y_exact)) / top),
                err_kdepy=float(np.max(np.abs(y_kdepy - y_exact)) / top),
            )
            checks.append(
                dict(
                    what=f"kernlearn FFT grid vs exact, {d}-D n={n:,} "
                    "(max abs / max density)",
                    rows=int(np.prod([a.size for a in axes])),
                    err=rec["err_kl"],
                    tol=TOL_GRID,
                )
            )
            print(
                f"  grid {d}-D n={n:>9,}: kernlearn {t_kl * 1e3:8.2f} ms "
                f"(evaluate only {t_kl_eval * 1e3:.2f}), KDEpy {t_kd * 1e3:8.2f} ms, "
                f"ratio {t_kl / t_kd:.2f}, diff {rec['diff']:.1e}",
                flush=True,
            )
        except Exception as exc:  # e.g. the grid code mid-edit: report it
            rec["error"] = f"{type(exc).__name__}: {exc}"[:300]
            print(f"  grid {d}-D n={n:,}: {rec['error']}", flush=True)
    return rows, checks


# -------------------------------------------------- part 3: bandwidth choice
@contextlib.contextmanager
def _count_loo_evaluations(counter):
    """Count kernlearn's leave-one-out objective evaluations (in this process)."""
    try:
        from kernlearn.density import _bandwidth
    except ImportError:
        yield
        return
    orig = getattr(_bandwidth, "loo_log_likelihood", None)
    if orig is None:
        yield
        return

    def counting(*a, **k):
        counter[0] += 1
        return orig(*a, **k)

    _bandwidth.loo_log_likelihood = counting
    try:
        yield
    finally:
        _bandwidth.loo_log_likelihood = orig


def _statsmodels_counting():
    from statsmodels.nonparametric.kernel_density import KDEMultivariate

    class Counting(KDEMultivariate):
        """KDEMultivariate that counts its leave-one-out likelihood evaluations."""

        evaluations = 0

        def loo_likelihood(self, bw, func=lambda x: x):
            type(self).evaluations += 1
            return super().loo_likelihood(bw, func)

    return Counting


def run_bandwidth(args, clock):
    """Part 3. Returns a list of per-dimension dicts."""
    from kernlearn.density import KernelDensity

    out = []
    Counting = _statsmodels_counting()
    N = args.loo_n
    for d in (1, 2):
        rec = dict(d=d, n=N, sm=[])
        out.append(rec)
        rng = np.random.default_rng([N, d, 11])
        X = rng.standard_normal((N, d))
        # kernlearn, warmed up on a small sample first
        KernelDensity(bandwidth="loo_ml", backend=args.backend).fit(X[:300])
        counter = [0]
        try:
            with _count_loo_evaluations(counter):
                t_kl, kde = _best(
                    lambda X=X: KernelDensity(
                        bandwidth="loo_ml", backend=args.backend
                    ).fit(X),
                    repeat=args.loo_repeat,
                    min_total=math.inf,
                )
            runs = args.loo_repeat
            rec.update(
                t_kl=t_kl,
                h_kl=float(kde.bandwidth_),
                kl_evals=counter[0] // runs if counter[0] else None,
            )
            # for scale: one all-pairs log-sum-exp (n x n) at the chosen bandwidth
            from kernlearn.backend import kernel_logsumexp
            from kernlearn.kernels import Gaussian

            k = Gaussian(rec["h_kl"])
            kernel_logsumexp(k, X[:300], X, backend=args.backend)
            rec["t_lse"], _ = _best(
                lambda k=k, X=X: kernel_logsumexp(k, X, X, backend=args.backend),
                repeat=3,
                min_total=math.inf,
            )
            print(
                f"  loo_ml d={d} n={N:,}: kernlearn {t_kl:.3f} s, h = "
                f"{rec['h_kl']:.4g}, {rec['kl_evals']} evaluations",
                flush=True,
            )
        except Exception as exc:
            rec["kl_error"] = f"{type(exc).__name__}: {exc}"[:300]
            print(f"  loo_ml d={d}: {rec['kl_error']}", flush=True)

        # statsmodels on growing samples (the first m points of the same data)
        for m in args.sm_sizes:
            if clock.over():
                rec["sm_skipped"] = f"global time cap ({args.max_minutes:g} min)"
                break
            Counting.evaluations = 0
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                t0 = time.perf_counter()
                sm = Counting(X[:m], var_type="c" * d, bw="cv_ml")
                t = time.perf_counter() - t0
            ev = Counting.evaluations
            rec["sm"].append(
                dict(n=m, t=t, evals=ev, bw=np.asarray(sm.bw, float), measured=True)
            )
            print(
                f"  cv_ml d={d} n={m:,}: statsmodels {t:.3f} s, {ev} evaluations, "
                f"{t / (ev * m * m) * 1e9:.1f} ns per pair-evaluation, bw {sm.bw}",
                flush=True,
            )
        if not rec["sm"]:
            continue
        # projection to N: time per pair-evaluation at the largest n measured,
        # times the evaluations that run needed, times N^2
        last = rec["sm"][-1]
        c = last["t"] / (last["evals"] * last["n"] ** 2)
        rec["sm_projected"] = c * last["evals"] * N * N
        rec["sm_projection_from"] = last["n"]
        if N not in [s["n"] for s in rec["sm"]]:
            if rec["sm_projected"] <= args.sm_cap and not clock.over():
                Counting.evaluations = 0
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    t0 = time.perf_counter()
                    sm = Counting(X, var_type="c" * d, bw="cv_ml")
                    t = time.perf_counter() - t0
                rec["sm"].append(
                    dict(
                        n=N,
                        t=t,
                        evals=Counting.evaluations,
                        bw=np.asarray(sm.bw, float),
                        measured=True,
                    )
                )
                print(
                    f"  cv_ml d={d} n={N:,}: statsmodels {t:.3f} s "
                    f"(projected {rec['sm_projected']:.3g} s), "
                    f"{Counting.evaluations} evaluations, bw {sm.bw}",
                    flush=True,
                )
            else:
                rec["sm_not_run"] = (
                    f"projected {rec['sm_projected']:.0f} s > cap {args.sm_cap:g} s"
                    if rec["sm_projected"] > args.sm_cap
                    else "global time cap reached"
                )
        # growth of the time per evaluation between the two largest samples run
        if len(rec["sm"]) >= 2:
            a, b = rec["sm"][-2], rec["sm"][-1]
            rec["sm_slope"] = (
                (a["n"], b["n"]),
                math.log((b["t"] / b["evals"]) / (a["t"] / a["evals"]))
                / math.log(b["n"] / a["n"]),
            )
    return out


# --------------------------------------------------------------------- report
def machine_section(args, loads, digests):
    rows, blas = machine_rows(
        f"kernlearn threads: {args.threads}",
        DISTS,
        loads,
        digests,
    )
    rows.append(["BLAS", blas])
    return _md_table(["", ""], rows)


def _targets(scoring, grid, bandwidth):
    rows = []
    # 1. exact scoring vs the best scikit-learn exact tree, d >= 8
    by_cfg = {}
    for r in scoring:
        if "score" in r:
            by_cfg.setdefault((r["n"], r["d"]), {})[r["method"]] = r
    for (n, d), m in sorted(by_cfg.items()):
        if d < 8 or "kernlearn" not in m:
            continue
        sk = [
            m[k] for k in ("sklearn exact kd_tree", "sklearn exact ball_tree") if k in m
        ]
        if not sk:
            continue
        best = min(sk, key=lambda r: r["fit"] + r["score"])
        t_sk = best["fit"] + best["score"]
        kl = m["kernlearn"]
        t_kl = kl["fit"] + kl["score"]
        star = "*" if best["rows"] < n or kl["rows"] < n else ""
        speed = t_sk / t_kl
        rows.append(
            [
                f"exact scoring >= {TARGET_SCORING:g}x sklearn exact, d >= 8",
                f"n = {n:,}, d = {d}: kernlearn {_fmt_s(t_kl)} s vs "
                f"{best['method'].replace('sklearn exact ', '')} {_fmt_s(t_sk)}"
                f"{'*' if best['rows'] < n else ''} s",
                f"{speed:.1f}x{star}",
                "met" if speed >= TARGET_SCORING else "missed",
            ]
        )
    # 2. grid
    for g in grid:
        if "ratio" not in g:
            continue
        ok = g["ratio"] <= TARGET_GRID
        rows.append(
            [
                f"grid within {TARGET_GRID:g}x KDEpy FFTKDE",
                f"{g['d']}-D {g['grid']}, n = {g['n']:,}: kernlearn "
                f"{g['t_kl'] * 1e3:.2f} ms vs KDEpy {g['t_kdepy'] * 1e3:.2f} ms",
                f"{g['ratio']:.2f}x the time",
                "met" if ok else "missed",
            ]
        )
    # 3. loo_ml
    for b in bandwidth:
        if "t_kl" not in b:
            continue
        sm_n = [s for s in b["sm"] if s["n"] == b["n"]]
        if sm_n:
            t_sm, how = sm_n[0]["t"], "measured"
        elif "sm_projected" in b:
            t_sm, how = b["sm_projected"], "projected*"
        else:
            continue
        speed = t_sm / b["t_kl"]
        rows.append(
            [
                f"loo_ml >= {TARGET_LOO:g}x statsmodels cv_ml",
                f"d = {b['d']}, n = {b['n']:,}: kernlearn {_fmt_s(b['t_kl'])} s vs "
                f"statsmodels {_fmt_s(t_sm)} s ({how})",
                f"{_fmt_ratio(speed)}x",
                "met" if speed >= TARGET_LOO else "missed",
            ]
        )
    return _md_table(["target", "figures", "speed-up / ratio", "status"], rows)


def _scoring_section(scoring, accuracy, args):
    parts = [
        "## 1. Exact scoring: fit + score_samples",
        "",
        "Standard normal training data and as many independent standard normal "
        "queries (n each), Gaussian kernel, Scott's bandwidth for unit variance "
        "h = n^(-1/(d+4)), float64. `seconds` = fit + scoring of all n queries; "
        "`*`: the method was timed on the first `queries timed` queries and its "
        f"scoring time multiplied by n / q (its full run would exceed {args.budget:g} s"
        f"; {args.budget * args.kernlearn_cap:g} s for kernlearn); the fit is "
        "timed in full. Each time is the best of up to 3 runs, stopping once the "
        "runs total 1 s (so a run over 1 s is timed once). "
        "`speed-up` = the method's seconds / kernlearn's. `error` = max over the "
        f"first {CHECK_ROWS} queries (or those timed) of |log f - log f_ref| / "
        "max(|log f_ref|, 1) against a brute-force float64 log-sum-exp reference.",
        "",
        "Threads: kernlearn's numba engine uses "
        f"{args.threads}; scikit-learn, scipy, statsmodels and KDEpy compute on one "
        "thread (their designs), so part of kernlearn's lead is its second core.",
        "",
    ]
    headers = [
        "n",
        "d",
        "method",
        "threads",
        "fit s",
        "seconds",
        "queries timed",
        "speed-up",
        "error",
        "note",
    ]
    rows = []
    kl_time = {
        (r["n"], r["d"]): r["fit"] + r["score"]
        for r in scoring
        if r["method"] == "kernlearn" and "score" in r
    }
    for r in scoring:
        if "score" not in r:
            why = r.get("skipped") or r.get("error") or "?"
            rows.append(
                [f"{r['n']:,}", r["d"], r["method"], r["threads"], "-", "-", "-", "-"]
                + ["-", ("skipped: " if "skipped" in r else "error: ") + why]
            )
            continue
        star = "*" if r["rows"] < r["n"] else ""
        total = r["fit"] + r["score"]
        base = kl_time.get((r["n"], r["d"]))
        speed = (
            "-"
            if base is None or r["method"] == "kernlearn"
            else _fmt_ratio(total / base)
        )
        rows.append(
            [
                f"{r['n']:,}",
                r["d"],
                r["method"],
                r["threads"],
                _fmt_s(r["fit"]),
                f"{_fmt_s(total)}{star}",
                f"{r['rows']:,}",
                f"{speed}{star if speed != '-' else ''}",
                _fmt_err(r.get("err_ref")),
                r["note"],
            ]
        )
    parts += [_md_table(headers, rows), ""]
    parts += [
        "### Accuracy: kernlearn vs scikit-learn exact",
        "",
        "Max relative difference of the log densities (as above) between kernlearn "
        "and scikit-learn exact on every query scikit-learn scored (`rows`); then "
        f"the brute-force reference on the {WORST_ROWS} of them where the two differ "
        "most, and each one's error there: whichever is far from the reference is "
        "the one that is off.",
        "",
    ]
    rows = [
        [
            f"{a['n']:,}",
            a["d"],
            a["algo"],
            f"{a['rows']:,}",
            _fmt_err(a["kl_vs_sk"]),
            a["rows_ref"],
            _fmt_err(a["kl_vs_ref"]),
            _fmt_err(a["sk_vs_ref"]),
        ]
        for a in accuracy
    ]
    parts += [
        _md_table(
            [
                "n",
                "d",
                "sklearn tree",
                "rows",
                "kernlearn vs sklearn",
                "worst rows",
                "kernlearn vs ref there",
                "sklearn vs ref there",
            ],
            rows,
        ),
        "",
    ]
    return parts


def _grid_section(grid, args):
    parts = [
        "## 2. Grid evaluation (FFT)",
        "",
        "Standard normal data, h = n^(-1/(d+4)). The grid is KDEpy's own "
        "(`FFTKDE(bw=h).fit(x).evaluate(1024)` in 1-D, `evaluate((256, 256))` in "
        "2-D) and is passed to both. `kernlearn` = `KernelDensity(bandwidth=h)"
        ".fit(X).evaluate_grid(axes=..., method='fft')`; `evaluate only` = the "
        "same on a fitted estimate; `KDEpy` = `FFTKDE(bw=h).fit(x).evaluate(grid)`. "
        f"Times are best of up to {args.grid_repeat} runs after a warm-up; "
        "`ratio` = kernlearn / "
        "KDEpy (fit included on both sides). `diff` = max |kernlearn - KDEpy| / "
        "max KDEpy; `error` = max |f - f_exact| / max f_exact against kernlearn's "
        "exact scoring on the grid.",
        "",
    ]
    headers = [
        "d",
        "grid",
        "n",
        "kernlearn ms",
        "evaluate only ms",
        "KDEpy ms",
        "ratio",
        "ratio (evaluate only)",
        "diff",
        "kernlearn error",
        "KDEpy error",
    ]
    rows = []
    for g in grid:
        if "ratio" not in g:
            rows.append(
                [g["d"], g.get("grid", "-"), f"{g['n']:,}"]
                + ["-"] * 7
                + [g.get("error", "?")]
            )
            continue
        rows.append(
            [
                g["d"],
                g["grid"],
                f"{g['n']:,}",
                f"{g['t_kl'] * 1e3:.2f}",
                f"{g['t_kl_eval'] * 1e3:.2f}",
                f"{g['t_kdepy'] * 1e3:.2f}",
                f"{g['ratio']:.2f}",
                f"{g['t_kl_eval'] / g['t_kdepy']:.2f}",
                _fmt_err(g["diff"]),
                _fmt_err(g["err_kl"]),
                _fmt_err(g["err_kdepy"]),
            ]
        )
    return parts + [_md_table(headers, rows), ""]


def _projected_row(b):
    return [
        b["d"],
        f"{b['n']:,}",
        f"{_fmt_s(b['sm_projected'])}*",
        "-",
        f"(projected from m = {b['sm_projection_from']:,})",
        "-",
    ]


def _bandwidth_section(bandwidth, args):
    parts = [
        "## 3. Bandwidth selection: leave-one-out likelihood",
        "",
        "Standard normal data. kernlearn: `KernelDensity(bandwidth='loo_ml').fit(X)` "
        f"(best of {args.loo_repeat} after a warm-up; a scalar bandwidth, Brent "
        "search on log h). statsmodels: `KDEMultivariate(X, var_type='c' * d, "
        "bw='cv_ml')` (one run; one bandwidth per feature, Nelder-Mead from the "
        "normal reference), on the first m points of the same sample. `evaluations`"
        " counts the leave-one-out likelihood evaluations; each costs O(m^2), so "
        "`ns / (pair x evaluation)` should settle to a constant as m grows. The "
        "projection to n uses that constant at the largest m below n and the "
        "evaluation count of that run (marked `*`); where the projected time was "
        f"under {args.sm_cap:g} s, statsmodels was also run at n itself.",
        "",
    ]
    rows = []
    for b in bandwidth:
        for s in b["sm"]:
            if s["n"] == b["n"] and "sm_projected" in b:
                rows.append(_projected_row(b))
            rows.append(
                [
                    b["d"],
                    f"{s['n']:,}",
                    _fmt_s(s["t"]),
                    s["evals"],
                    f"{s['t'] / (s['evals'] * s['n'] ** 2) * 1e9:.1f}",
                    ", ".join(f"{v:.4g}" for v in s["bw"]),
                ]
            )
        if "sm_projected" in b and b["n"] not in [s["n"] for s in b["sm"]]:
            rows.append(_projected_row(b))
    parts += [
        "statsmodels `cv_ml`:",
        "",
        _md_table(
            ["d", "m", "seconds", "evaluations", "ns / (pair x evaluation)", "bw"],
            rows,
        ),
        "",
    ]
    slopes = [
        f"d = {b['d']}, m = {b['sm_slope'][0][0]:,} -> {b['sm_slope'][0][1]:,}: "
        f"{b['sm_slope'][1]:.2f}"
        for b in bandwidth
        if "sm_slope" in b
    ]
    if slopes:
        parts += [
            "Log-log slope of statsmodels' time per evaluation between the two "
            "largest samples (2 = quadratic; below 2 while its per-point Python "
            "loop, linear in m, still weighs): " + "; ".join(slopes) + ".",
            "",
        ]
    rows = []
    for b in bandwidth:
        sm_n = [s for s in b["sm"] if s["n"] == b["n"]]
        if sm_n:
            t_sm, bw_sm = f"{_fmt_s(sm_n[0]['t'])}", sm_n[0]["bw"]
        elif "sm_projected" in b:
            t_sm, bw_sm = f"{_fmt_s(b['sm_projected'])}*", None
        else:
            t_sm, bw_sm = "-", None
        if "t_kl" not in b:
            rows.append(
                [b["d"], f"{b['n']:,}", "error"] + ["-"] * 4 + [t_sm, "-", "-", "-"]
            )
            continue
        evals = b["kl_evals"]
        t_num = (sm_n[0]["t"] if sm_n else b.get("sm_projected", math.nan)) / b["t_kl"]
        rows.append(
            [
                b["d"],
                f"{b['n']:,}",
                _fmt_s(b["t_kl"]),
                evals if evals is not None else "-",
                _fmt_s(b["t_kl"] / evals) if evals else "-",
                _fmt_s(b.get("t_lse")),
                f"{b['h_kl']:.4g}",
                t_sm,
                "-" if bw_sm is None else ", ".join(f"{v:.4g}" for v in bw_sm),
                "-"
                if bw_sm is None
                else f"{b['h_kl'] / float(np.exp(np.mean(np.log(bw_sm)))):.4f}",
                f"{_fmt_ratio(t_num)}{'' if sm_n else '*'}",
            ]
        )
    parts += [
        f"At n = {args.loo_n:,}: `kernlearn s / evaluation` = its time over its "
        "number of leave-one-out evaluations; `one n x n kernel_logsumexp s` = one "
        "all-pairs `kernlearn.backend.kernel_logsumexp(Gaussian(h), X, X)` at the "
        "chosen h (best of 3), for scale: the exact sum behind one evaluation "
        "(kernlearn may bin it in 1-D and 2-D, which costs less). `h / "
        "statsmodels` = kernlearn's h over the geometric mean of statsmodels' "
        "bandwidths (the same criterion, so near 1 on this isotropic data). "
        "`speed-up` = statsmodels' time / kernlearn's.",
        "",
        _md_table(
            [
                "d",
                "n",
                "kernlearn s",
                "kernlearn evaluations",
                "kernlearn s / evaluation",
                "one n x n kernel_logsumexp s",
                "kernlearn h",
                "statsmodels s",
                "statsmodels bw",
                "h / statsmodels",
                "speed-up",
            ],
            rows,
        ),
        "",
    ]
    for b in bandwidth:
        for key in ("kl_error", "sm_not_run", "sm_skipped"):
            if key in b:
                parts += [f"d = {b['d']}: {key}: {b[key]}", ""]
    return parts


def write_report(path, args, argv, parts_data, checks, elapsed, loads, digests):
    scoring, accuracy, grid, bandwidth = parts_data
    cmd = "python benchmarks/bench_kde.py" + (" " + " ".join(argv) if argv else "")
    parts = [
        "# KernelDensity benchmark",
        "",
        f"Generated by `{cmd}` in {elapsed / 60:.1f} min.",
        "",
        "kernlearn `KernelDensity` against scikit-learn, scipy, statsmodels and "
        "KDEpy on the same data in one run. **This machine has 2 cores and other "
        "jobs were running on it during the run** (see the load averages below; "
        "a load above 2 means the benchmark shared its cores), so the timings are "
        "noisy, by up to about 2x in either direction for the multi-threaded "
        "kernlearn runs, and the ratios are indicative. Rerun on an idle machine "
        "for publication figures.",
        "",
    ]
    if digests[0] != digests[1]:
        parts += [
            "**kernlearn's sources changed while this ran** (see the digests "
            "below): parts run after the change may have used the new code "
            "(modules imported late) or the old one. Rerun for a consistent report.",
            "",
        ]
    parts += [
        "## Machine",
        "",
        machine_section(args, loads, digests),
        "",
        "## Targets",
        "",
        _targets(scoring, grid, bandwidth),
        "",
        "`*`: at least one of the two figures is extrapolated or projected.",
        "",
    ]
    if scoring:
        parts += _scoring_section(scoring, accuracy, args)
    if grid:
        parts += _grid_section(grid, args)
    if bandwidth:
        parts += _bandwidth_section(bandwidth, args)
    parts += ["## Checks", ""]
    rows = [
        [
            c["what"],
            c["rows"],
            _fmt_err(c["err"]),
            f"{c['tol']:g}",
            "OK" if c["err"] <= c["tol"] else "FAIL",
        ]
        for c in checks
    ]
    parts += [
        _md_table(["check", "points", "max error", "tolerance", "status"], rows),
        "",
    ]
    notes = _notes(scoring, accuracy)
    if notes:
        parts += ["## Notes", ""] + notes
    text = "\n".join(parts)
    return save_report(path, text)


def _notes(scoring, accuracy):
    notes = []

    def key(a):
        return a["sk_vs_ref"] if np.isfinite(a["sk_vs_ref"]) else 1e300

    bad_sk = [
        a
        for a in accuracy
        if key(a) > 1e-11 and a["kl_vs_ref"] <= TOL_EXACT and key(a) > a["kl_vs_ref"]
    ]
    if bad_sk:
        worst = max(bad_sk, key=key)
        cases = sorted({(a["n"], a["d"]) for a in bad_sk})
        notes += [
            "- **Where kernlearn and scikit-learn exact differ by more than "
            "1e-11, scikit-learn is the one that is off** (in "
            + ", ".join(f"n = {n:,} d = {d}" for n, d in cases)
            + "): on the queries where they differ most, kernlearn matches the "
            "brute-force reference to 1e-12 or better and scikit-learn (`rtol=0, "
            f"atol=0`) misses it by up to {_fmt_err(worst['sk_vs_ref'])} (relative "
            f"log density; n = {worst['n']:,}, d = {worst['d']}, {worst['algo']}). "
            "This looks like scikit-learn issue "
            "#7492 ('KernelDensity Score unstable with many samples').",
            "",
        ]
    tree = [r for r in scoring if r["method"] == "KDEpy TreeKDE" and "err_ref" in r]
    if tree:
        by_d = {}
        for r in tree:
            by_d[r["d"]] = max(by_d.get(r["d"], 0.0), r["err_ref"])
        notes += [
            "- KDEpy `TreeKDE` cuts the Gaussian kernel at the radius where its 1-D "
            "profile falls below `eps = 1e-3` (its 'practical support'), whatever "
            "the dimension. Its largest error by dimension here: "
            + ", ".join(f"d = {d}: {_fmt_err(e)}" for d, e in sorted(by_d.items()))
            + ". In high dimension most of the kernel's mass lies beyond that "
            "radius. Its timings are those of this approximation.",
            "",
        ]
    if scoring:
        dims = sorted({r["d"] for r in scoring if r["d"] > 2})
        if dims:
            notes += [
                "- Not run: KDEpy `FFTKDE` at d = "
                + ", ".join(str(d) for d in dims)
                + " (a grid method; part 1 uses it in 1-D and 2-D only).",
                "",
            ]
    skipped = [r for r in scoring if "skipped" in r or "error" in r]
    if scoring and not skipped:
        extrapolated = any(r["rows"] < r["n"] for r in scoring)
        notes += [
            "- No peer was skipped for time"
            + (
                ": every one over its cap was timed on a subset of the queries and "
                "extrapolated (`*`)."
                if extrapolated
                else "."
            ),
            "",
        ]
    if skipped:
        notes += [
            "- Skipped or failed: "
            + "; ".join(
                f"{r['method']} at n = {r['n']:,}, d = {r['d']} "
                f"({r.get('skipped') or r.get('error')})"
                for r in skipped
            ),
            "",
        ]
    return notes


# ----------------------------------------------------------------------- main
def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--parts",
        default=",".join(PARTS),
        help="comma-separated parts to run: scoring, grid, bandwidth (default all)",
    )
    p.add_argument(
        "--sizes",
        type=_ints,
        default=None,
        help="part 1: n (training points = queries), default 10000,100000",
    )
    p.add_argument(
        "--dims", type=_ints, default=None, help="part 1: d, default 1,2,8,64"
    )
    p.add_argument(
        "--sizes-1d",
        type=_ints,
        default=None,
        help="part 1: further n for d = 1 only, default 1000000",
    )
    p.add_argument(
        "--grid-sizes",
        type=_ints,
        default=None,
        help="part 2: n for the 1-D grid, default 10000,100000,1000000",
    )
    p.add_argument(
        "--grid-sizes-2d",
        type=_ints,
        default=None,
        help="part 2: n for the 2-D grid, default 100000",
    )
    p.add_argument("--loo-n", type=int, default=None, help="part 3: n, default 5000")
    p.add_argument(
        "--sm-sizes",
        type=_ints,
        default=None,
        help="part 3: statsmodels scaling sizes, default 250,500,1000,2000",
    )
    p.add_argument(
        "--sm-cap",
        type=float,
        default=None,
        help="part 3: run statsmodels at --loo-n when projected under this many "
        "seconds (default 120)",
    )
    p.add_argument(
        "--budget",
        type=float,
        default=None,
        help="part 1: seconds a peer may take per case before it is extrapolated "
        "(default 20, quick 1)",
    )
    p.add_argument(
        "--kernlearn-cap",
        type=float,
        default=5.0,
        help="part 1: kernlearn's cap as a multiple of --budget (default 5)",
    )
    p.add_argument(
        "--pilot",
        type=int,
        default=None,
        help="part 1: queries in the pilot run that sizes each timing (default 200)",
    )
    p.add_argument(
        "--max-minutes",
        type=float,
        default=None,
        help="global cap: past it, remaining peers are skipped (default 45)",
    )
    p.add_argument(
        "--backend", default="auto", help="kernlearn backend (default 'auto')"
    )
    p.add_argument(
        "--threads",
        type=int,
        default=_usable_cores(),
        help="numba threads for kernlearn (default: all usable cores)",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="a smoke run: small sizes, short caps, prints the report",
    )
    p.add_argument(
        "--out",
        default=None,
        help="markdown report (default benchmarks/results/kde.md; with --quick "
        "only printed)",
    )
    args = p.parse_args(argv)
    args.parts = parse_parts(p, args.parts, PARTS)
    if args.quick:
        defaults = dict(
            sizes=[2000],
            dims=[1, 8],
            sizes_1d=[],
            grid_sizes=[10_000, 100_000],
            grid_sizes_2d=[10_000],
            loo_n=1000,
            sm_sizes=[250, 500],
            sm_cap=5.0,
            budget=1.0,
            pilot=50,
            max_minutes=5.0,
        )
        args.loo_repeat = 1
        args.grid_repeat = 7
    else:
        defaults = dict(
            sizes=[10_000, 100_000],
            dims=[1, 2, 8, 64],
            sizes_1d=[1_000_000],
            grid_sizes=[10_000, 100_000, 1_000_000],
            grid_sizes_2d=[100_000],
            loo_n=5000,
            sm_sizes=[250, 500, 1000, 2000],
            sm_cap=120.0,
            budget=20.0,
            pilot=200,
            max_minutes=45.0,
        )
        args.loo_repeat = 3
        args.grid_repeat = 15
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    args.sm_sizes = sorted(m for m in args.sm_sizes if m <= args.loo_n)
    # FFTKDE-then-interpolate grid sizes in part 1 (1-D, 2-D)
    args.fft_grid = {1: 2**14, 2: 1024}
    if args.out is None and not args.quick:
        args.out = DEFAULT_OUT
    return args


def summarize(summary, scoring, grid, bandwidth):
    """The headline comparisons: exact scoring against the faster scikit-learn
    exact tree and scipy, the FFT grid against KDEpy, ``loo_ml`` against
    statsmodels ``cv_ml``; and the plot of the scoring time against n."""
    by_cfg = {}
    for r in scoring:
        if "score" in r:
            by_cfg.setdefault((r["n"], r["d"]), {})[r["method"]] = r
    for (n, d), m in sorted(by_cfg.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        kl = m.get("kernlearn")
        if kl is None:
            continue
        peers = []
        trees = [
            m[k] for k in ("sklearn exact kd_tree", "sklearn exact ball_tree") if k in m
        ]
        if trees:
            peers.append(min(trees, key=lambda r: r["fit"] + r["score"]))
        if "scipy gaussian_kde" in m:
            peers.append(m["scipy gaussian_kde"])
        for r in peers:
            star = [x["method"] for x in (kl, r) if x["rows"] < n]
            summary.compare(
                f"exact scoring, n = {n:,}, d = {d}",
                "KernelDensity (exact)",
                r["method"].replace("sklearn exact", "sklearn KernelDensity"),
                "seconds (fit + score)",
                kl["fit"] + kl["score"],
                r["fit"] + r["score"],
                note="extrapolated: " + ", ".join(star) if star else "",
            )
    for g in grid:
        if "ratio" in g:
            summary.compare(
                f"grid, {g['d']}-D {g['grid']}, n = {g['n']:,}",
                "KernelDensity.evaluate_grid (fft)",
                "KDEpy FFTKDE",
                "seconds (fit + grid)",
                g["t_kl"],
                g["t_kdepy"],
            )
    for b in bandwidth:
        if "t_kl" not in b:
            continue
        sm_n = [s for s in b["sm"] if s["n"] == b["n"]]
        if sm_n:
            t_sm, note = sm_n[0]["t"], ""
        elif "sm_projected" in b:
            t_sm = b["sm_projected"]
            note = f"statsmodels projected from n = {b['sm_projection_from']:,}"
        else:
            continue
        summary.compare(
            f"bandwidth selection, d = {b['d']}, n = {b['n']:,}",
            'KernelDensity(bandwidth="loo_ml")',
            'statsmodels KDEMultivariate(bw="cv_ml")',
            "seconds (fit)",
            b["t_kl"],
            t_sm,
            note=note,
        )
    for d in sorted({d for _, d in by_cfg}):
        series = {}
        for r in scoring:
            if r["d"] == d and "score" in r:
                series.setdefault(r["method"], []).append(
                    (r["n"], r["fit"] + r["score"])
                )
        if any(len(v) > 1 for v in series.values()):
            summary.plot(
                f"exact scoring, d = {d}",
                "n (training points = queries)",
                "seconds (fit + score)",
                series,
            )


def _body(args, run):
    clock = Clock(args.max_minutes)
    scoring, accuracy, grid, bandwidth, checks = [], [], [], [], []
    if "scoring" in args.parts:
        print("part 1: exact scoring", flush=True)
        scoring, accuracy, c = run_scoring(args, clock)
        checks += c
        run.mark("after part 1")
    if "grid" in args.parts:
        print("part 2: grid evaluation", flush=True)
        grid, c = run_grid(args, clock)
        checks += c
        run.mark("after part 2")
    if "bandwidth" in args.parts:
        print("part 3: bandwidth selection", flush=True)
        bandwidth = run_bandwidth(args, clock)
        run.mark("after part 3")

    loads, digests, _ = run.meta
    text = write_report(
        args.out,
        args,
        run.argv,
        (scoring, accuracy, grid, bandwidth),
        checks,
        clock.elapsed(),
        loads,
        digests,
    )
    summarize(run.summary, scoring, grid, bandwidth)
    return Outcome(text, args.out, checks)


def main(argv=None):
    return run_benchmark(
        "kde",
        _body,
        parse_args,
        argv,
        dists=DISTS,
        threadpool=False,
        numba_threads=True,
    )


if __name__ == "__main__":
    sys.exit(main())
