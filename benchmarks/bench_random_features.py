"""Random-feature maps and wide-network kernels against their baselines, in one run.

Two parts, each on standard normal data drawn here and shared by every method:

1. **Gaussian random features.** kernlearn ``RandomFourierFeatures`` (Gaussian
   kernel, ``method="rff"``, ``"orf"``, ``"sorf"``; cos/sin pairs) against
   scikit-learn ``RBFSampler`` (random-phase features, ``gamma = 1 / (2 h^2)`` so
   that both approximate ``exp(-|x - y|^2 / (2 h^2))``), scikit-learn
   ``Nystroem(kernel="rbf", gamma=...)`` and kernlearn ``Nystroem(Gaussian(h),
   landmarks="uniform")``, at every (d, n_components). The rows are
   ``N(0, I_d)`` and ``h = sqrt(d)``, so ``|x - y|^2 / (2 h^2)`` is about 1 and the
   kernel values are moderate (about ``exp(-1) = 0.37`` off the diagonal).
   Time = best of a few repeats of ``fit`` and, separately, of ``transform`` of
   all n rows. Error = relative Frobenius error ``|K - Z Z^T|_F / |K|_F`` on the
   first ``--n-error`` rows, ``K`` the exact Gaussian kernel matrix (numpy),
   mean and standard deviation over seeds (the ``random_state`` of each method;
   Nystroem fits on all n rows, which include the evaluated ones, as a
   ``fit_transform`` on training data would). Nystroem is run only where
   ``n_components <= n`` (with more landmarks than rows it would use every row).
2. **NNGP and NTK kernel matrices.** kernlearn ``NNGPKernel`` and ``NTKKernel``
   (ReLU, ``depth`` hidden layers) on n rows against a straightforward numpy
   implementation of the same layer recursion written here, which holds full
   n x n arrays at every layer; the two must agree to ``1e-10`` relative to the
   largest entry. If the straightforward version would need more than
   ``--max-gb`` of memory at n (or more than 70% of the memory available), it
   runs at the largest n (a multiple of 500) that fits, and the report says so.

The report, with the machine, the versions and a closing table of targets, goes to
``benchmarks/results/random_features.md``.

Usage::

    python benchmarks/bench_random_features.py            # full run (~2 min on 2 cores)
    python benchmarks/bench_random_features.py --quick    # smoke run (~10 s)
    python benchmarks/bench_random_features.py --parts rf --dims 64 --out rf.md
"""

from __future__ import annotations

import argparse
import gc
import math
import sys
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
DEFAULT_OUT = HERE / "results" / "random_features.md"

PARTS = ("rf", "ntk")
DISTS = ("numpy", "scipy", "scikit-learn", "threadpoolctl")
# (label, family, method): family "rff" = kernlearn RandomFourierFeatures.
METHODS = (
    ("kernlearn RFF rff", "rff", "rff"),
    ("kernlearn RFF orf", "rff", "orf"),
    ("kernlearn RFF sorf", "rff", "sorf"),
    ("sklearn RBFSampler", "rbf", None),
    ("sklearn Nystroem", "sk_nystroem", None),
    ("kernlearn Nystroem uniform", "kl_nystroem", None),
)
SORF, RBF = "kernlearn RFF sorf", "sklearn RBFSampler"
TARGET_DIM = 1024
TARGET_SPEEDUP = 3.0
TOL_AGREE = 1e-10
TOL_EXACT = 1e-12
# Full n x n float64 arrays alive at the peak of the straightforward recursion
# (S, T, rho, s) plus the two results held while it runs (kernlearn's, and the
# previous repeat's).
NAIVE_ARRAYS = {"nngp": 3 + 2, "ntk": 4 + 2}


def _fmt_err(x):
    return "-" if x is None or not np.isfinite(x) else f"{x:.2e}"


def _mem_available_gb():
    """MemAvailable from /proc/meminfo in GB (None where unknown)."""
    try:
        with open("/proc/meminfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024 / 1e9
    except OSError:
        pass
    return None


# ------------------------------------------------------------ part 1: features
def gaussian_kernel_matrix(X, h):
    """Exact ``exp(-|x_i - x_j|^2 / (2 h^2))`` by the expanded squared distance
    (clipped at 0; the diagonal set to exactly 0 distance)."""
    sq = np.einsum("ij,ij->i", X, X)
    D = sq[:, None] + sq[None, :] - 2.0 * (X @ X.T)
    np.maximum(D, 0.0, out=D)
    np.fill_diagonal(D, 0.0)
    return np.exp(-D / (2.0 * h * h))


def make_estimator(family, method, m, h, seed):
    from sklearn.kernel_approximation import Nystroem as SkNystroem
    from sklearn.kernel_approximation import RBFSampler

    from kernlearn.kernel_approximation import Nystroem, RandomFourierFeatures
    from kernlearn.kernels import Gaussian

    gamma = 1.0 / (2.0 * h * h)
    if family == "rff":
        return RandomFourierFeatures(
            "gaussian", length_scale=h, n_components=m, method=method,
            random_state=seed,
        )  # fmt: skip
    if family == "rbf":
        return RBFSampler(gamma=gamma, n_components=m, random_state=seed)
    if family == "sk_nystroem":
        return SkNystroem(kernel="rbf", gamma=gamma, n_components=m, random_state=seed)
    return Nystroem(Gaussian(h), n_components=m, landmarks="uniform", random_state=seed)


def run_features(args, checks):
    """Timings and errors of every method at every (d, n_components)."""
    results = []
    for d in args.dims:
        rng = np.random.default_rng([d, 7])
        X = rng.standard_normal((args.n, d))
        h = math.sqrt(d)
        Xe = X[: args.n_error]
        K = gaussian_kernel_matrix(Xe, h)
        from sklearn.metrics.pairwise import rbf_kernel

        ref = rbf_kernel(Xe, gamma=1.0 / (2.0 * h * h))
        checks.append(
            {
                "what": f"exact Gaussian kernel (numpy) vs sklearn rbf_kernel, d = {d}",
                "rows": Xe.shape[0],
                "err": float(np.max(np.abs(K - ref))),
                "tol": TOL_EXACT,
            }
        )
        k_norm = np.linalg.norm(K)
        for m in args.components:
            for label, family, method in METHODS:
                rec = {"d": d, "m": m, "label": label, "h": h}
                if "nystroem" in family and m > args.n:
                    rec["skipped"] = f"n_components = {m:,} > n = {args.n:,}"
                    results.append(rec)
                    continue
                print(f"  d={d} m={m} {label}", flush=True)
                errs = []
                for seed in args.seeds:
                    est = make_estimator(family, method, m, h, seed).fit(X)
                    Z = est.transform(Xe)
                    errs.append(np.linalg.norm(K - Z @ Z.T) / k_norm)
                    del est, Z
                est = make_estimator(family, method, m, h, args.seeds[0])
                rec["fit"], _ = _best(
                    lambda est=est, X=X: est.fit(X), args.repeat, args.min_total
                )
                rec["transform"], _ = _best(
                    lambda est=est, X=X: est.transform(X), args.repeat, args.min_total
                )
                if family in ("rff", "rbf") and d >= TARGET_DIM:
                    rec["projection"] = _projection_time(args, est, family, X)
                rec["err"] = errs
                results.append(rec)
                gc.collect()
    return results


def _projection_time(args, est, family, X):
    """Time of the projection step alone (no cos/sin): ``X @ W`` for
    ``RBFSampler`` (its ``random_weights_``) and the private ``_projections``
    of ``RandomFourierFeatures`` (the structured Hadamard blocks for ``sorf``),
    for the notes."""
    if family == "rbf":
        W = est.random_weights_
        fn = lambda: X @ W  # noqa: E731
    else:
        fn = lambda: est._projections(X)  # noqa: E731
    t, _ = _best(fn, args.repeat, args.min_total)
    return t


def _stats(rec):
    e = np.asarray(rec["err"])
    return float(e.mean()), float(e.std(ddof=1)) if e.size > 1 else 0.0


def feature_targets(args, results):
    """The SORF-vs-RBFSampler target at d = TARGET_DIM for each n_components."""
    out = []
    by = {(r["d"], r["m"], r["label"]): r for r in results}
    for m in args.components:
        s, r = by.get((TARGET_DIM, m, SORF)), by.get((TARGET_DIM, m, RBF))
        if s is None or r is None:
            continue
        (es, ss), (er, sr) = _stats(s), _stats(r)
        speed = r["transform"] / s["transform"]
        spread = max(ss, sr)
        ok_err = es <= er + spread
        out.append(
            {
                "m": m,
                "speed": speed,
                "ok_speed": speed >= TARGET_SPEEDUP,
                "err": (es, ss, er, sr),
                "ok_err": ok_err,
                "t": (s["transform"], r["transform"]),
            }
        )
    return out


# ------------------------------------------------------- part 2: NNGP and NTK
def naive_relu_kernel(X, depth, w_var, b_var, ntk):
    """NNGP (``ntk=False``) or NTK of a ReLU network, full n x n arrays.

    The recursion of :mod:`kernlearn.neural._ntk` written directly:
    ``Sigma^0 = b + w x . y / d``; per layer, with ``a_i = Sigma(x_i, x_i)``,
    ``rho = Sigma / sqrt(a_i a_j)`` (1 on the diagonal: a point is perfectly
    correlated with itself) and ``theta = arccos(rho)``,
    ``F = (sqrt(a_i a_j) sqrt(1 - rho^2) + (pi - theta) Sigma) / (2 pi)``,
    ``Theta <- b + w F + w (pi - theta) / (2 pi) Theta``, ``Sigma <- b + w F``.
    In-place operations keep at most four n x n arrays alive.
    """
    n, d = X.shape
    S = X @ X.T
    S *= w_var / d
    S += b_var
    T = S.copy() if ntk else None
    for _ in range(depth):
        q = np.sqrt(S.diagonal().copy())
        rho = S / q[:, None]
        rho /= q[None, :]
        np.fill_diagonal(rho, 1.0)
        np.clip(rho, -1.0, 1.0, out=rho)
        s = rho * rho
        np.subtract(1.0, s, out=s)
        np.sqrt(s, out=s)
        s *= q[:, None]
        s *= q[None, :]  # sqrt(a b - c^2)
        theta = np.arccos(rho, out=rho)
        np.subtract(np.pi, theta, out=theta)  # pi - theta
        S *= theta
        s += S  # 2 pi F
        del S
        if ntk:
            T *= theta
            T *= w_var / (2.0 * np.pi)
        del theta, rho
        s *= w_var / (2.0 * np.pi)
        s += b_var
        S = s  # Sigma^{l+1}
        del s
        if ntk:
            T += S
    return T if ntk else S


def naive_n_for(n, which, max_gb):
    """Largest n' <= n (a multiple of 500, or n) whose straightforward run fits."""
    budget = max_gb
    avail = _mem_available_gb()
    if avail is not None:
        budget = min(budget, 0.7 * avail)

    def need(k):
        return NAIVE_ARRAYS[which] * 8.0 * k * k / 1e9

    if need(n) <= budget:
        return n, need(n), budget
    k = int(math.sqrt(budget * 1e9 / (8.0 * NAIVE_ARRAYS[which]))) // 500 * 500
    return max(k, 500), need(max(k, 500)), budget


def run_ntk(args, checks):
    from kernlearn.neural import NNGPKernel, NTKKernel

    rng = np.random.default_rng([args.ntk_n, args.ntk_d, 11])
    X_all = rng.standard_normal((args.ntk_n, args.ntk_d))
    out = []
    for which, cls in (("nngp", NNGPKernel), ("ntk", NTKKernel)):
        kern = cls(
            depth=args.depth, activation="relu", weight_variance=args.w_var,
            bias_variance=args.b_var,
        )  # fmt: skip
        n_naive, need_gb, budget = naive_n_for(args.ntk_n, which, args.max_gb)
        print(f"  {which}: kernlearn n={args.ntk_n}, numpy n={n_naive}", flush=True)
        rec = {"which": which, "n": args.ntk_n, "n_naive": n_naive}
        rec["need_gb"], rec["budget_gb"] = need_gb, budget
        rec["t_kl"], K = _best(lambda k=kern: k(X_all), args.ntk_repeat, 0.0)
        rec["t_kl_at_naive"] = rec["t_kl"]
        Xn = X_all[:n_naive]
        if n_naive < args.ntk_n:
            del K
            gc.collect()
            rec["t_kl_at_naive"], K = _best(
                lambda k=kern, Xn=Xn: k(Xn), args.ntk_repeat, 0.0
            )
        rec["t_np"], R = _best(
            lambda ntk=which == "ntk", Xn=Xn: naive_relu_kernel(
                Xn, args.depth, args.w_var, args.b_var, ntk
            ),
            args.ntk_repeat,
            0.0,
        )
        diff = np.abs(K - R)
        scale = float(np.max(np.abs(R)))
        rec["err_max"] = float(diff.max()) / scale
        with np.errstate(divide="ignore", invalid="ignore"):
            rec["err_elem"] = float(np.max(diff / np.abs(R)))
        rec["min_abs"] = float(np.min(np.abs(R)))
        rec["range"] = (float(R.min()), float(R.max()))
        checks.append(
            {
                "what": f"{cls.__name__} vs straightforward numpy (relative to the "
                "largest entry)",
                "rows": n_naive,
                "err": rec["err_max"],
                "tol": TOL_AGREE,
            }
        )
        del K, R, diff
        gc.collect()
        out.append(rec)
    return out


# ------------------------------------------------------------------- report
def _features_section(args, results):
    parts = [
        "## 1. Gaussian random features",
        "",
        f"n = {args.n:,} rows drawn from N(0, I_d), length scale h = sqrt(d) "
        "(`RBFSampler` and scikit-learn `Nystroem` with `gamma = 1 / (2 h^2) = "
        "1 / (2 d)`), kernel `exp(-|x - y|^2 / (2 h^2))`. `fit s` and `transform s`: "
        f"best of up to {args.repeat} runs on all n rows (seed "
        f"{args.seeds[0]}). Error: `|K - Z Z^T|_F / |K|_F` on the first "
        f"{args.n_error:,} rows against the exact kernel matrix, mean +- standard "
        f"deviation over seeds {', '.join(map(str, args.seeds))}. kernlearn's "
        "`RandomFourierFeatures` with n_components = 2D features uses D "
        "frequencies as cos/sin pairs; `RBFSampler` uses n_components frequencies "
        "with random phases; both give n_components output columns. "
        "`x RBFSampler` = RBFSampler's transform time / the method's.",
        "",
    ]
    headers = [
        "d",
        "n_components",
        "method",
        "fit s",
        "transform s",
        "x RBFSampler",
        "rel. Frobenius error",
    ]
    rows = []
    by = {(r["d"], r["m"], r["label"]): r for r in results}
    for r in results:
        if "skipped" in r:
            rows.append(
                [r["d"], f"{r['m']:,}", r["label"], "-", "-", "-",
                 f"not run ({r['skipped']})"]
            )  # fmt: skip
            continue
        base = by.get((r["d"], r["m"], RBF))
        ratio = base["transform"] / r["transform"] if base else math.nan
        mean, sd = _stats(r)
        rows.append(
            [
                r["d"],
                f"{r['m']:,}",
                r["label"],
                _fmt_s(r["fit"]),
                _fmt_s(r["transform"]),
                _fmt_s(ratio),
                f"{mean:.2e} +- {sd:.1e}",
            ]
        )
    parts += [_md_table(headers, rows), ""]
    proj = [r for r in results if "projection" in r]
    if proj:
        parts += [
            f"Projection step alone at d = {TARGET_DIM} (before cos/sin): `X @ W` "
            "for RBFSampler, the private `_projections` (Hadamard blocks for "
            "`sorf`, a matmul otherwise) for kernlearn; best of the same repeats.",
            "",
            _md_table(
                ["n_components", "method", "projection s", "transform s"],
                [
                    [
                        f"{r['m']:,}",
                        r["label"],
                        _fmt_s(r["projection"]),
                        _fmt_s(r["transform"]),
                    ]
                    for r in proj
                ],
            ),  # fmt: skip
            "",
        ]
    return parts


def _ntk_section(args, ntk):
    parts = [
        "## 2. NNGP and NTK kernel matrices",
        "",
        f"`k(X)` for X of n rows from N(0, I_{args.ntk_d}), ReLU, depth = "
        f"{args.depth}, weight_variance = {args.w_var:g}, bias_variance = "
        f"{args.b_var:g}. kernlearn evaluates in blocks sized by "
        "`working_memory`; the straightforward numpy version (in this script) "
        "holds full n x n float64 arrays at each layer. Best of "
        f"{args.ntk_repeat} runs. Agreement: max |kernlearn - numpy| / max "
        "|numpy|; the largest elementwise relative difference is given too.",
        "",
    ]
    headers = [
        "kernel",
        "n (kernlearn)",
        "kernlearn s",
        "n (numpy)",
        "kernlearn s at numpy's n",
        "numpy s",
        "x numpy",
        "max diff / max",
        "max elementwise rel.",
    ]
    rows = []
    for r in ntk:
        rows.append(
            [
                r["which"].upper(),
                f"{r['n']:,}",
                _fmt_s(r["t_kl"]),
                f"{r['n_naive']:,}",
                _fmt_s(r["t_kl_at_naive"]),
                _fmt_s(r["t_np"]),
                _fmt_s(r["t_np"] / r["t_kl_at_naive"]),
                _fmt_err(r["err_max"]),
                _fmt_err(r["err_elem"]),
            ]
        )
    parts += [_md_table(headers, rows), ""]
    for r in ntk:
        est = (
            f"{NAIVE_ARRAYS[r['which']]} n x n arrays, {r['need_gb']:.1f} GB at "
            f"n = {r['n_naive']:,}; limit {r['budget_gb']:.1f} GB"
        )
        if r["n_naive"] < r["n"]:
            parts += [
                f"- {r['which'].upper()}: the straightforward version does not fit "
                f"at n = {r['n']:,} within the memory limit ({est}); it ran at the "
                f"largest n that fits, n = {r['n_naive']:,}, and kernlearn was "
                "timed there too.",
            ]
        else:
            parts += [
                f"- {r['which'].upper()}: both at n = {r['n']:,} (peak estimate of "
                f"the straightforward version: {est}). Kernel values range over "
                f"[{r['range'][0]:.3g}, {r['range'][1]:.3g}].",
            ]
    parts.append("")
    return parts


def _targets_table(args, targets, ntk):
    rows = []
    for t in targets:
        es, ss, er, sr = t["err"]
        ts, tr = t["t"]
        rows.append(
            [
                f"SORF transform >= {TARGET_SPEEDUP:g}x faster than RBFSampler, d = "
                f"{TARGET_DIM}, n_components = {t['m']:,}",
                f"SORF {_fmt_s(ts)} s, RBFSampler {_fmt_s(tr)} s: "
                f"{_fmt_s(t['speed'])}x",
                "PASS" if t["ok_speed"] else "FAIL",
            ]
        )
        rows.append(
            [
                "SORF error no larger than RBFSampler's (same d, n_components)",
                f"SORF {es:.2e} +- {ss:.1e}, RBFSampler {er:.2e} +- {sr:.1e}",
                "PASS" if t["ok_err"] else "FAIL",
            ]
        )
    for r in ntk:
        rows.append(
            [
                f"{r['which'].upper()} agrees with straightforward numpy to "
                f"{TOL_AGREE:g}",
                f"{_fmt_err(r['err_max'])} at n = {r['n_naive']:,}",
                "PASS" if r["err_max"] <= TOL_AGREE else "FAIL",
            ]
        )
    if not rows:
        return "No targets in this run (the target needs d = 1024 and both parts)."
    return _md_table(["target", "figures", "status"], rows)


def write_report(path, args, argv, feats, targets, ntk, checks, meta):
    cmd = "python benchmarks/bench_random_features.py" + (
        " " + " ".join(argv) if argv else ""
    )
    loads, digests, elapsed = meta
    rows, blas = machine_rows(
        f"BLAS threads: {args.threads}",
        DISTS,
        loads,
        digests,
    )
    rows.append(["BLAS", blas])
    parts = [
        "# Random features and wide-network kernels benchmark",
        "",
        f"Generated by `{cmd}` in {elapsed / 60:.1f} min.",
        "",
        "kernlearn's random Fourier features (`kernlearn.kernel_approximation`: "
        "i.i.d., orthogonal and structured orthogonal frequencies, Yu et al. 2016) "
        "against scikit-learn's `RBFSampler` and `Nystroem` on the same data, and "
        "its NNGP/NTK kernels (`kernlearn.neural`) against a straightforward numpy "
        "implementation, in one run. The machine has few cores and may run other "
        "jobs (see the load averages): timings are indicative, errors are not "
        "affected.",
        "",
    ]
    if digests[0] != digests[1]:
        parts += [
            "**kernlearn's sources changed while this ran** (see the digests "
            "below). Rerun for a consistent report.",
            "",
        ]
    parts += [
        "## Machine",
        "",
        _md_table(["", ""], rows),
        "",
        "Commands: `python benchmarks/bench_random_features.py` (full run), "
        "`python benchmarks/bench_random_features.py --quick` (smoke run). This "
        f"report: `{cmd}`.",
        "",
        "## Targets",
        "",
        f"Rule for the error: SORF's mean error counts as no larger than "
        f"RBFSampler's when it is at most RBFSampler's mean plus the larger of the "
        f"two standard deviations over the {len(args.seeds)} seeds (a difference "
        "within the seed spread counts as equal). Speed compares `transform` "
        "times (fit excluded; both fits are listed in part 1).",
        "",
        _targets_table(args, targets, ntk),
        "",
    ]
    if feats:
        parts += _features_section(args, feats)
    if ntk:
        parts += _ntk_section(args, ntk)
    parts += ["## Checks", ""]
    parts += [
        _md_table(
            ["check", "rows", "max error", "tolerance", "status"],
            [
                [
                    c["what"],
                    f"{c['rows']:,}",
                    _fmt_err(c["err"]),
                    f"{c['tol']:g}",
                    "OK" if c["err"] <= c["tol"] else "FAIL",
                ]
                for c in checks
            ],
        ),  # fmt: skip
        "",
    ]
    return save_report(path, "\n".join(parts))


# --------------------------------------------------------------------- main
def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--parts", default=",".join(PARTS), help="rf, ntk (default both)")
    p.add_argument("--n", type=int, default=None, help="rows of part 1, 4000")
    p.add_argument("--n-error", type=int, default=None, help="error rows, 1000")
    p.add_argument("--dims", type=_ints, default=None, help="default 64,1024")
    p.add_argument("--components", type=_ints, default=None, help="default 1024,8192")
    p.add_argument("--seeds", type=_ints, default=None, help="default 0,...,4")
    p.add_argument("--ntk-n", type=int, default=None, help="rows of part 2, 10000")
    p.add_argument("--ntk-d", type=int, default=32, help="features of part 2, 32")
    p.add_argument("--depth", type=int, default=2, help="hidden layers, 2")
    p.add_argument("--w-var", type=float, default=2.0, help="weight_variance, 2")
    p.add_argument("--b-var", type=float, default=0.1, help="bias_variance, 0.1")
    p.add_argument(
        "--max-gb",
        type=float,
        default=6.0,
        help="memory limit of the straightforward NNGP/NTK (GB), default 6",
    )
    p.add_argument(
        "--threads",
        type=int,
        default=_usable_cores(),
        help="BLAS threads (default: all usable cores)",
    )
    p.add_argument("--quick", action="store_true", help="a smoke run, tiny sizes")
    p.add_argument(
        "--out",
        default=None,
        help="markdown report (default benchmarks/results/random_features.md; "
        "with --quick only printed)",
    )
    args = p.parse_args(argv)
    args.parts = parse_parts(p, args.parts, PARTS)
    if args.quick:
        defaults = dict(
            n=600, n_error=300, dims=[16, 1024], components=[256, 1024],
            seeds=[0, 1], ntk_n=1500,
        )  # fmt: skip
        args.repeat, args.min_total, args.ntk_repeat = 2, 0.05, 1
    else:
        defaults = dict(
            n=4000, n_error=1000, dims=[64, 1024], components=[1024, 8192],
            seeds=[0, 1, 2, 3, 4], ntk_n=10_000,
        )  # fmt: skip
        args.repeat, args.min_total, args.ntk_repeat = 3, 1.0, 2
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if not args.seeds or not args.dims or not args.components:
        p.error("--seeds, --dims and --components need at least one value")
    args.n_error = min(args.n_error, args.n)
    if args.out is None and not args.quick:
        args.out = DEFAULT_OUT
    return args


def summarize(summary, feats, ntk):
    """The headline comparisons: SORF against RBFSampler (transform time and
    error) at every (d, n_components), kernlearn's Nystroem against
    scikit-learn's, NNGP/NTK against the straightforward numpy recursion; and
    the plots of transform time and error against n_components."""
    by = {(r["d"], r["m"], r["label"]): r for r in feats if "skipped" not in r}
    for d, m in sorted({(r["d"], r["m"]) for r in feats}):
        pairs = (
            (SORF, RBF, "RandomFourierFeatures(method='sorf')", "sklearn RBFSampler"),
            (
                "kernlearn Nystroem uniform",
                "sklearn Nystroem",
                "Nystroem(landmarks='uniform')",
                "sklearn Nystroem",
            ),
        )
        for ours, peer, ours_name, peer_name in pairs:
            a, b = by.get((d, m, ours)), by.get((d, m, peer))
            if a is None or b is None:
                continue
            case = f"Gaussian, d = {d}, n_components = {m:,}"
            summary.compare(
                case, ours_name, peer_name, "seconds (transform)", a["transform"],
                b["transform"],
            )  # fmt: skip
            summary.compare(
                case, ours_name, peer_name, "rel. Frobenius error (mean)",
                _stats(a)[0], _stats(b)[0],
            )  # fmt: skip
    for r in ntk:
        summary.compare(
            f"ReLU {r['which'].upper()} matrix, n = {r['n_naive']:,}",
            f"{r['which'].upper()}Kernel",
            "straightforward numpy recursion",
            "seconds",
            r["t_kl_at_naive"],
            r["t_np"],
        )
    for d in sorted({r["d"] for r in feats}):
        rows = [r for r in feats if r["d"] == d and "skipped" not in r]
        for key, label in (("transform", "seconds (transform)"), ("err", "error")):
            series = {}
            for r in rows:
                y = r["transform"] if key == "transform" else _stats(r)[0]
                series.setdefault(r["label"], []).append((r["m"], y))
            if any(len(v) > 1 for v in series.values()):
                ylabel = label if key == "transform" else "rel. Frobenius error"
                summary.plot(f"d = {d}: {ylabel}", "n_components", ylabel, series)


def _body(args, run):
    checks, feats, targets, ntk = [], [], [], []
    if "rf" in args.parts:
        print("part 1: random features", flush=True)
        feats = run_features(args, checks)
        targets = feature_targets(args, feats)
        run.mark("after part 1")
    if "ntk" in args.parts:
        print("part 2: NNGP / NTK", flush=True)
        ntk = run_ntk(args, checks)
        run.mark("after part 2")
    text = write_report(args.out, args, run.argv, feats, targets, ntk, checks, run.meta)
    summarize(run.summary, feats, ntk)
    return Outcome(text, args.out, checks)


def main(argv=None):
    return run_benchmark(
        "random_features", _body, parse_args, argv, dists=DISTS, quiet=True
    )


if __name__ == "__main__":
    sys.exit(main())
