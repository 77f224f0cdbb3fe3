"""Private similarity sums and classification against their baselines, in one run.

Two parts, each on data drawn (or loaded) here and shared by every method:

1. **Private kernel density estimation.** ``PrivateSimilaritySum`` with the
   Gaussian kernel answers the mean similarity (the KDE) of queries to a private
   dataset. Its mechanisms ``method="rff"`` (quasi-Monte Carlo frequencies, cos/sin
   pairs) and ``"fgt"`` (fast-Gauss-transform grid with optimally weighted noise),
   after Backurs et al. (ICLR 2024), are swept over their size (``n_features``,
   ``order``) and epsilon, against the LSQ baselines of Wagner et al. (ICML 2023),
   ``"lsq_rff"`` and ``"lsq_fgt"``. All run with ``neighbouring="add_remove"``.
   Error = mean absolute error of ``mean_similarity`` against the exact KDE,
   averaged over seeds; cost = fit time and query time per query. At each epsilon
   the best LSQ baseline at its published defaults (LSQ-RFF with 200 features,
   LSQ-FGT of order 4) sets a query time ``T``; each of our mechanisms is credited
   with its best error at query time ``<= 1.1 T``. Datasets: the LSQ setting
   (n = 100,000 uniform on [0, 9]^2), Gaussian mixtures in d = 2 and d = 16, and
   scikit-learn's digits (d = 64). A smaller table gives the distance sums
   (``kernel="l1"``, ``"l2"``: noisy dyadic trees) against epsilon.
2. **Private classification.** ``PrivateSimilarityClassifier`` (a few public
   settings) against diffprivlib's ``LogisticRegression`` and ``GaussianNB`` on
   the same train/test splits of digits and of synthetic blobs: accuracy against
   epsilon, averaged over seeds, and fit time.

diffprivlib 0.6 imports ``DOUBLE`` and ``DTYPE`` from ``sklearn.tree._tree``, which
scikit-learn 1.9 no longer defines; before importing it this script sets them to
the values older scikit-learn had (``np.float64``, ``np.float32``) where they are
missing, and the report says whether it did. Without diffprivlib the report says
so and leaves its rows out.

The report, with the machine, the versions and a closing table of targets, goes to
``benchmarks/results/private.md``.

Usage::

    python benchmarks/bench_private.py              # full run (~5 min on 2 cores)
    python benchmarks/bench_private.py --quick      # smoke run (well under a minute)
    python benchmarks/bench_private.py --parts kde --epsilons 1 --out private_kde.md
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import math
import statistics
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
from _common import version as _version

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "results" / "private.md"

PARTS = ("kde", "classification")
DISTS = ("numpy", "scipy", "scikit-learn", "numba", "threadpoolctl")
EPSILONS = (0.1, 0.5, 1.0, 2.0, 5.0)
RFF_SIZES = (50, 100, 200, 500, 1000, 2000)
FGT_ORDERS = (2, 3, 4, 5, 6)
# The mechanisms of part 1: method -> (size parameter, label, ours?).
MECHANISMS = {
    "lsq_rff": ("n_features", "LSQ-RFF (baseline)", False),
    "lsq_fgt": ("order", "LSQ-FGT (baseline)", False),
    "rff": ("n_features", "RFF (ours)", True),
    "fgt": ("order", "FGT (ours)", True),
}
FAMILY = {"lsq_rff": "rff", "rff": "rff", "lsq_fgt": "fgt", "fgt": "fgt"}
# Wagner et al.'s published defaults: the baselines that set the query time.
LSQ_DEFAULTS = {"lsq_rff": 200, "lsq_fgt": 4}
# Our mechanisms may take up to this multiple of the baseline's query time.
TIME_SLACK = 1.1
# Brute-force rows checked against exact_similarity_sum, and the tolerance.
CHECK_ROWS = 20
TOL_EXACT = 1e-9
# Targets of part 2 (at epsilon = 1).
TARGET_EPS = 1.0
TARGET_ACC_POINTS = 5.0
TARGET_FIT_SPEEDUP = 10.0


# ------------------------------------------------------------------ utilities
def _fmt_us(seconds):
    """Seconds as microseconds, 3 significant digits."""
    if seconds is None or not np.isfinite(seconds):
        return "-"
    us = 1e6 * seconds
    return f"{us:.0f}" if us >= 100 else f"{us:.3g}"


def _fmt_err(x):
    if x is None:
        return "-"
    if not np.isfinite(x):
        return "inf"
    return f"{x:.2e}"


def _fmt_eps(eps):
    return f"{eps:g}"


def _median(values):
    return statistics.median(values) if values else math.nan


def _digest(a):
    a = np.ascontiguousarray(a)
    return hashlib.blake2b(a.tobytes(), digest_size=16).hexdigest() + str(a.shape)


@contextlib.contextmanager
def _quiet():
    """Silence warnings (diffprivlib's, and ours about budgets and clipping) in
    the timing loops; the data are inside their public bounds by construction."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


# --------------------------------------------------------------- diffprivlib
def import_diffprivlib():
    """Import diffprivlib's models, shimming scikit-learn where it needs it.

    diffprivlib 0.6 does ``from sklearn.tree._tree import DOUBLE, DTYPE``; these
    module constants (``np.float64`` and ``np.float32``) are gone from
    scikit-learn 1.9. They are set, only where missing, before the import.

    Each model the benchmark uses is then fitted once on a tiny problem: one
    that fails there (diffprivlib 0.6's ``LogisticRegression`` passes
    ``multi_class``, which scikit-learn 1.9 no longer accepts) is recorded in
    ``broken`` and left out of the tables, with the reason in the report.

    Returns
    -------
    dict
        ``models`` (the module or None), ``shim`` (the names set, possibly
        empty), ``error`` (why the import failed, or None), ``broken``
        (``{"lr" or "nb": why it does not run here}``).
    """
    info = {"models": None, "shim": [], "error": None, "broken": {}}
    try:
        import sklearn.tree._tree as tree_module

        for name, dtype in (("DOUBLE", np.float64), ("DTYPE", np.float32)):
            if not hasattr(tree_module, name):
                setattr(tree_module, name, dtype)
                info["shim"].append(name)
    except Exception as exc:  # the shim is best effort; the import decides
        info["error"] = f"shim failed: {type(exc).__name__}: {exc}"
    try:
        with _quiet():
            import diffprivlib.models as models
        info["models"] = models
        info["error"] = None
    except Exception as exc:
        info["error"] = f"{type(exc).__name__}: {exc}"[:300]
        return info
    X = np.random.default_rng(0).uniform(size=(40, 3))
    y = np.arange(40) % 2
    for key, make in (
        ("lr", lambda: models.LogisticRegression(epsilon=1.0, data_norm=2.0)),
        ("nb", lambda: models.GaussianNB(epsilon=1.0, bounds=(0.0, 1.0))),
    ):
        try:
            with _quiet():
                make().fit(X, y)
        except Exception as exc:
            info["broken"][key] = f"{type(exc).__name__}: {exc}"[:300]
    return info


_DPL_MODELS = {"lr": "LogisticRegression", "nb": "GaussianNB"}


# ------------------------------------------------- memoised random features
class StatisticsMemo:
    """Reuse ``RandomFeatureSketch.statistics`` across epsilons.

    The exact statistics of a random-feature sketch depend on its (public)
    frequencies and the data, not on epsilon; with the same ``random_state`` the
    estimator draws the same frequencies at every epsilon, so the sweep computes
    them once per (mechanism, size, seed) and every other fit reuses them. The
    noise is still drawn by the estimator's own release at each epsilon. Fit times
    are taken from the fits that computed the statistics (cache misses) only.
    """

    def __init__(self):
        self.store = {}
        self.misses = 0
        self.hits = 0
        self._original = None

    def _key(self, mech, X):
        phases = None if mech.phases is None else _digest(mech.phases)
        return (mech.features, _digest(mech.frequencies), phases, _digest(X))

    @contextlib.contextmanager
    def installed(self):
        from kernlearn.privacy import _sketch

        cls = _sketch.RandomFeatureSketch
        original = self._original = cls.statistics
        memo = self

        def statistics(mech, X):
            key = memo._key(mech, np.asarray(X, dtype=np.float64))
            if key not in memo.store:
                memo.misses += 1
                memo.store[key] = original(mech, X)
            else:
                memo.hits += 1
            return {k: v.copy() for k, v in memo.store[key].items()}

        cls.statistics = statistics
        try:
            yield self
        finally:
            cls.statistics = original
            self.store.clear()

    def fresh(self, mech, X):
        """The statistics computed anew (for the check against the memo)."""
        return self._original(mech, X)


# --------------------------------------------------------------------- data
class KDEData:
    """One dataset of part 1: private ``X``, public queries ``Q`` and settings."""

    def __init__(self, key, title, X, Q, *, bandwidth, bounds, families, about):
        self.key, self.title, self.X, self.Q = key, title, X, Q
        self.bandwidth, self.bounds, self.families = bandwidth, bounds, families
        self.about = about


def uniform_square(n, n_queries, seed=0):
    """The LSQ setting: uniform on [0, 9]^2 (data and queries independent)."""
    rng = np.random.default_rng([seed, 2])
    return rng.uniform(0.0, 9.0, (n, 2)), rng.uniform(0.0, 9.0, (n_queries, 2))


def mixture(n, n_queries, d, seed=0):
    """Ten isotropic Gaussians (std 0.75) with centres uniform in [3, 6]^d; samples
    are clipped into the public box [0, 9]^d as part of the generator (the box
    holds them). Queries are fresh draws from the same mixture."""
    rng = np.random.default_rng([seed, d, 16])
    centres = rng.uniform(3.0, 6.0, (10, d))

    def draw(m):
        z = centres[rng.integers(0, 10, m)] + 0.75 * rng.standard_normal((m, d))
        return np.clip(z, 0.0, 9.0)

    return draw(n), draw(n_queries)


def digits_split():
    """scikit-learn's digits, X / 16 in [0, 1]^64, stratified 70/30 split."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    return train_test_split(X / 16.0, y, test_size=0.3, stratify=y, random_state=0)


def blobs_split(n_train, n_test):
    """``make_blobs``: 10 classes, d = 16, std 2.5, centres in (-5, 5)^16; clipped
    into the public box [-15, 15]^16 (a no-op on nearly every record)."""
    from sklearn.datasets import make_blobs
    from sklearn.model_selection import train_test_split

    X, y = make_blobs(
        n_samples=n_train + n_test,
        n_features=16,
        centers=10,
        cluster_std=2.5,
        center_box=(-5.0, 5.0),
        random_state=0,
    )
    X = np.clip(X, -15.0, 15.0)
    return train_test_split(X, y, train_size=n_train, stratify=y, random_state=0)


def kde_datasets(args):
    Xu, Qu = uniform_square(args.n_uniform, args.n_queries)
    X2, Q2 = mixture(args.n_mixture, args.n_queries, 2)
    X16, Q16 = mixture(args.n_mixture, args.n_queries, 16)
    Xd_train, Xd_test, _, _ = digits_split()
    h_lsq = 1.0 / math.sqrt(2.0)
    return [
        KDEData(
            "uniform",
            "(a) LSQ setting: uniform on [0, 9]^2",
            Xu,
            Qu,
            bandwidth=h_lsq,
            bounds=(0.0, 9.0),
            families=("rff", "fgt"),
            about=f"n = {len(Xu):,} uniform on [0, 9]^2; {len(Qu):,} queries uniform "
            "on the square, independent of the data; bandwidth 1/sqrt(2) (kernel "
            "exp(-|x - y|^2)); bounds (0, 9).",
        ),
        KDEData(
            "mixture2",
            "(b) Gaussian mixture, d = 2",
            X2,
            Q2,
            bandwidth=h_lsq,
            bounds=(0.0, 9.0),
            families=("rff", "fgt"),
            about=f"n = {len(X2):,} from 10 Gaussians (std 0.75, centres uniform in "
            f"[3, 6]^2) clipped into [0, 9]^2; {len(Q2):,} queries fresh from the "
            "mixture; bandwidth 1/sqrt(2); bounds (0, 9).",
        ),
        KDEData(
            "mixture16",
            "(b) Gaussian mixture, d = 16",
            X16,
            Q16,
            bandwidth=2.0,
            bounds=(0.0, 9.0),
            families=("rff",),
            about=f"n = {len(X16):,} from 10 Gaussians (std 0.75, centres uniform in "
            f"[3, 6]^16) clipped into [0, 9]^16; {len(Q16):,} queries fresh from the "
            "mixture; bandwidth 2.0; bounds (0, 9); random features only (a grid "
            "in 16 dimensions is out of reach).",
        ),
        KDEData(
            "digits",
            "(c) digits, d = 64",
            Xd_train,
            Xd_test,
            bandwidth=2.0,
            bounds=(0.0, 1.0),
            families=("rff",),
            about=f"scikit-learn's digits / 16: the private data are the "
            f"{len(Xd_train):,} training rows of the stratified 70/30 split "
            f"(random_state=0), the queries its {len(Xd_test):,} held-out rows; "
            "bandwidth 2.0 (a fixed public value); bounds (0, 1); random features "
            "only.",
        ),
    ]


# ------------------------------------------------------------- part 1: KDE
def _check_exact(key, X, Q, ref_sum, kernel, bandwidth, checks):
    """Brute-force numpy on the first queries against exact_similarity_sum."""
    rows = min(CHECK_ROWS, len(Q))
    out = np.empty(rows)
    for i in range(rows):
        diff = X - Q[i]
        sq = np.einsum("ij,ij->i", diff, diff)
        if kernel == "gaussian":
            out[i] = np.exp(-0.5 * sq / bandwidth**2).sum()
        elif kernel == "l1":
            out[i] = np.abs(diff).sum()
        else:
            out[i] = np.sqrt(sq).sum()
    err = float(np.max(np.abs(ref_sum[:rows] - out) / np.abs(out)))
    checks.append(
        dict(
            what=f"exact_similarity_sum ({kernel}) vs brute-force numpy, {key}",
            rows=rows,
            err=err,
            tol=TOL_EXACT,
        )
    )


def _sizes(mech, args):
    return args.rff_sizes if MECHANISMS[mech][0] == "n_features" else args.fgt_orders


def run_kde(args, datasets, memo, checks):
    """Part 1, Gaussian KDE. Returns {dataset key: {(mech, size): record}}."""
    from kernlearn.privacy import PrivateSimilaritySum, exact_similarity_sum

    out = {}
    checked = set()
    for ds in datasets:
        n = len(ds.X)
        t0 = time.perf_counter()
        ref_sum = exact_similarity_sum(
            ds.X, ds.Q, kernel="gaussian", bandwidth=ds.bandwidth
        )
        t_ref = time.perf_counter() - t0
        _check_exact(ds.key, ds.X, ds.Q, ref_sum, "gaussian", ds.bandwidth, checks)
        ref = ref_sum / n
        ds.ref_mean = float(ref.mean())
        ds.t_ref = t_ref
        print(f"  {ds.key}: n={n} d={ds.X.shape[1]} exact in {t_ref:.1f} s", flush=True)
        results, timed = {}, {}
        for mech in MECHANISMS:
            if FAMILY[mech] not in ds.families:
                continue
            param = MECHANISMS[mech][0]
            for size in _sizes(mech, args):
                rec = dict(fit=[], err={eps: [] for eps in args.epsilons}, query=None)
                for seed in args.seeds:
                    for i, eps in enumerate(args.epsilons):
                        est = PrivateSimilaritySum(
                            "gaussian",
                            bandwidth=ds.bandwidth,
                            epsilon=eps,
                            bounds=ds.bounds,
                            method=mech,
                            neighbouring="add_remove",
                            random_state=seed,
                            **{param: size},
                        )
                        misses = memo.misses
                        with _quiet():
                            t0 = time.perf_counter()
                            est.fit(ds.X)
                            dt = time.perf_counter() - t0
                            m = est.mean_similarity(ds.Q)
                        # memoised fits skip the statistics: not a fit time
                        if FAMILY[mech] == "fgt" or memo.misses > misses:
                            rec["fit"].append(dt)
                        rec["err"][eps].append(float(np.mean(np.abs(m - ref))))
                        if seed == args.seeds[0] and i == 0:
                            timed[(mech, size)] = est
                            if FAMILY[mech] == "rff" and ds.key not in checked:
                                _memo_check(est, ds, memo, checks)
                                checked.add(ds.key)
                results[(mech, size)] = rec
                errs = ", ".join(
                    f"{_fmt_eps(e)}: {_fmt_err(np.mean(v))}"
                    for e, v in rec["err"].items()
                )
                print(
                    f"    {mech} {param}={size}: fit {_fmt_s(_median(rec['fit']))} s;"
                    f" MAE {errs}",
                    flush=True,
                )
        for key, t in time_queries(timed, ds.Q, args.rounds).items():
            results[key]["query"] = t
        print(
            "    query us: "
            + ", ".join(
                f"{m} {size}: {_fmt_us(r['query'])}" for (m, size), r in results.items()
            ),
            flush=True,
        )
        out[ds.key] = results
    return out


def time_queries(estimators, Q, rounds):
    """Seconds per query of ``mean_similarity(Q)`` for each fitted estimator.

    The estimators are timed in turns: each round times every one once, in a
    shuffled order, and each keeps its fastest round. Load from other processes
    then falls on all of them alike instead of on whichever ran during a burst,
    which matters when two mechanisms with the same query code are compared.
    """
    keys = list(estimators)
    best = dict.fromkeys(keys, math.inf)
    order = np.random.default_rng(0)
    with _quiet():
        for key in keys:
            estimators[key].mean_similarity(Q[:8])  # warm-up
        for _ in range(rounds):
            for j in order.permutation(len(keys)):
                key = keys[j]
                t0 = time.perf_counter()
                estimators[key].mean_similarity(Q)
                best[key] = min(best[key], time.perf_counter() - t0)
    return {key: t / len(Q) for key, t in best.items()}


def _memo_check(est, ds, memo, checks):
    """The memoised statistics equal a fresh computation, exactly (a second call
    must hit the memo, or the check fails)."""
    mech = est.mechanism_
    Xc = np.clip(ds.X, est.bounds_[:, 0], est.bounds_[:, 1])  # what fit saw
    hits = memo.hits
    cached = mech.statistics(Xc)
    fresh = memo.fresh(mech, Xc)
    err = max(float(np.max(np.abs(fresh[k] - cached[k]))) for k in fresh)
    if memo.hits == hits:
        err = math.inf  # not served from the memo: the check would be vacuous
    checks.append(
        dict(
            what=f"memoised random-feature statistics vs fresh, {ds.key}",
            rows=len(Xc),
            err=err,
            tol=0.0,
        )
    )


def _paired(base_errs, our_errs):
    """Mean and standard error over seeds of ``base - ours`` (same seeds)."""
    diff = np.asarray(base_errs) - np.asarray(our_errs)
    se = float(diff.std(ddof=1) / math.sqrt(diff.size)) if diff.size > 1 else math.nan
    return float(diff.mean()), se


def matched(results, eps, families):
    """The comparison at equal query time for one epsilon.

    Returns a dict: ``base`` = (mech, size, MAE, query time) of the best LSQ
    baseline at its default size, ``ours`` = {mech: (size, MAE, query time) or
    None} for each of our mechanisms, ``best`` = the better of ours as (mech,
    size, MAE, query time) or None, ``diff`` = (mean, standard error) over the
    seeds of the baseline's MAE minus the best of ours, ``ok`` = whether the best
    of ours is no worse.
    """
    base = []
    for mech, size in LSQ_DEFAULTS.items():
        rec = results.get((mech, size))
        if rec is not None and FAMILY[mech] in families:
            base.append((mech, size, float(np.mean(rec["err"][eps])), rec["query"]))
    if not base:
        return None
    b = min(base, key=lambda r: r[2])
    limit = TIME_SLACK * b[3]
    ours, best = {}, None
    for mech, (_, _, mine) in MECHANISMS.items():
        if not mine or FAMILY[mech] not in families:
            continue
        cands = [
            (size, float(np.mean(rec["err"][eps])), rec["query"])
            for (m, size), rec in results.items()
            if m == mech and rec["query"] <= limit
        ]
        ours[mech] = min(cands, key=lambda r: r[1]) if cands else None
        if ours[mech] is not None and (best is None or ours[mech][1] < best[2]):
            best = (mech, *ours[mech])
    diff = (math.nan, math.nan)
    if best is not None:
        diff = _paired(results[b[:2]]["err"][eps], results[best[:2]]["err"][eps])
    ok = best is not None and best[2] <= b[2]
    return dict(base=b, ours=ours, best=best, diff=diff, ok=ok, limit=limit)


def _fmt_diff(diff):
    mean, se = diff
    if not np.isfinite(mean):
        return "-"
    text = f"{mean:+.2e}"
    return text + (f" +- {se:.1e} (s.e.)" if np.isfinite(se) else "")


# ------------------------------------------------------- part 1b: distances
def run_distances(args, datasets, checks):
    """Distance sums (tree) on the uniform square and on digits."""
    from kernlearn.privacy import PrivateSimilaritySum, exact_similarity_sum

    rows = []
    for ds in datasets:
        if ds.key not in ("uniform", "digits"):
            continue
        Q = ds.Q[: args.dist_queries]
        for kernel in ("l1", "l2"):
            t0 = time.perf_counter()
            ref = exact_similarity_sum(ds.X, Q, kernel=kernel)
            t_ref = time.perf_counter() - t0
            _check_exact(ds.key, ds.X, Q, ref, kernel, None, checks)
            rec = dict(
                key=ds.key,
                title=ds.title,
                kernel=kernel,
                n=len(ds.X),
                d=ds.X.shape[1],
                queries=len(Q),
                t_ref=t_ref,
                fit=[],
                query=None,
                err={eps: [] for eps in args.epsilons},
            )
            for seed in args.seeds:
                for i, eps in enumerate(args.epsilons):
                    est = PrivateSimilaritySum(
                        kernel,
                        epsilon=eps,
                        bounds=ds.bounds,
                        neighbouring="add_remove",
                        random_state=seed,
                    )
                    with _quiet():
                        t0 = time.perf_counter()
                        est.fit(ds.X)
                        rec["fit"].append(time.perf_counter() - t0)
                        s = est.similarity_sum(Q)
                    rec["err"][eps].append(float(np.mean(np.abs(s - ref) / ref)))
                    if seed == args.seeds[0] and i == 0:
                        with _quiet():
                            est.similarity_sum(Q[:8])  # warm-up
                            t, _ = _best(
                                lambda est=est, Q=Q: est.similarity_sum(Q),
                                repeat=args.repeat,
                                min_total=args.min_total,
                            )
                        rec["query"] = t / len(Q)
            rows.append(rec)
            errs = ", ".join(
                f"{_fmt_eps(e)}: {_fmt_err(np.mean(v))}" for e, v in rec["err"].items()
            )
            print(
                f"  {ds.key} {kernel}: fit {_fmt_s(_median(rec['fit']))} s, query "
                f"{_fmt_us(rec['query'])} us; relative error {errs}",
                flush=True,
            )
    return rows


# -------------------------------------------------- part 2: classification
class ClfData:
    """One dataset of part 2 with its public bounds and our settings."""

    def __init__(self, key, title, split, lo, hi, settings, about):
        self.key, self.title = key, title
        self.Xtr, self.Xte, self.ytr, self.yte = split
        self.lo, self.hi, self.settings, self.about = lo, hi, settings, about


def clf_datasets(args):
    dig = digits_split()
    blobs = blobs_split(args.n_blobs, args.n_blobs_test)
    return [
        ClfData(
            "digits",
            "digits (d = 64, 10 classes)",
            dig,
            0.0,
            1.0,
            [
                ("gaussian rff", dict(bandwidth=1.0, n_features=50)),
                ("gaussian rff", dict(bandwidth=1.0, n_features=200)),
                ("gaussian rff", dict(bandwidth=2.0, n_features=50)),
                ("gaussian rff", dict(bandwidth=2.0, n_features=200)),
                ("l1 tree", dict(depth=4)),
                ("l1 tree", dict(depth=8)),
            ],
            f"scikit-learn's digits / 16, stratified 70/30 split (random_state=0): "
            f"{len(dig[0]):,} train, {len(dig[1]):,} test; public bounds (0, 1) per "
            "pixel; diffprivlib `data_norm` = 8 (= sqrt(64), the norm of the box's "
            "corner). Tree depth 4 matches the 17 grey levels of the pixels (leaves "
            "1/16 wide).",
        ),
        ClfData(
            "blobs",
            "blobs (d = 16, 10 classes)",
            blobs,
            -15.0,
            15.0,
            [
                ("gaussian rff", dict(bandwidth=4.0, n_features=50)),
                ("gaussian rff", dict(bandwidth=4.0, n_features=200)),
                ("gaussian rff", dict(bandwidth=8.0, n_features=50)),
                ("gaussian rff", dict(bandwidth=8.0, n_features=200)),
                ("l1 tree", dict(depth=4)),
                ("l1 tree", dict(depth=6)),
                ("l1 tree", dict(depth=10)),
            ],
            f"`make_blobs(centers=10, n_features=16, cluster_std=2.5, center_box=(-5, "
            f"5), random_state=0)` clipped into the public box [-15, 15]^16, "
            f"stratified split: {len(blobs[0]):,} train, {len(blobs[1]):,} test; "
            "diffprivlib `data_norm` = 60 (= 15 sqrt(16)).",
        ),
    ]


def _setting_text(kind, kw):
    if kind == "gaussian rff":
        return (
            f"Gaussian, rff, h = {kw['bandwidth']:g}, n_features = {kw['n_features']}"
        )
    return f"l1, tree, depth = {kw['depth']}"


def _our_model(kind, kw, eps, ds, seed):
    from kernlearn.privacy import PrivateSimilarityClassifier

    if kind == "gaussian rff":
        return PrivateSimilarityClassifier(
            "gaussian",
            method="rff",
            epsilon=eps,
            bounds=(ds.lo, ds.hi),
            random_state=seed,
            **kw,
        )
    return PrivateSimilarityClassifier(
        "l1", epsilon=eps, bounds=(ds.lo, ds.hi), random_state=seed, **kw
    )


def run_classification(args, dpl):
    """Part 2. Returns a list of per-dataset dicts."""
    from sklearn.linear_model import LogisticRegression as SkLR
    from sklearn.naive_bayes import GaussianNB as SkNB

    out = []
    for ds in clf_datasets(args):
        d = ds.Xtr.shape[1]
        norm = math.sqrt(d) * max(abs(ds.lo), abs(ds.hi))
        models = [
            ("ours", _setting_text(kind, kw), (kind, kw)) for kind, kw in ds.settings
        ]
        if dpl["models"] is not None:
            models += [
                (who, text, key)
                for who, text, key in (
                    ("diffprivlib", "LogisticRegression(data_norm, C=1)", "lr"),
                    ("diffprivlib", "GaussianNB(bounds)", "nb"),
                )
                if key not in dpl["broken"]
            ]
        recs = []
        for who, text, spec in models:
            rec = dict(
                who=who,
                setting=text,
                acc={eps: [] for eps in args.epsilons},
                fit={eps: [] for eps in args.epsilons},
            )
            for eps in args.epsilons:
                for seed in args.clf_seeds:
                    if who == "ours":
                        model = _our_model(*spec, eps, ds, seed)
                    elif spec == "lr":
                        model = dpl["models"].LogisticRegression(
                            epsilon=eps, data_norm=norm, random_state=seed
                        )
                    else:
                        model = dpl["models"].GaussianNB(
                            epsilon=eps,
                            bounds=(np.full(d, ds.lo), np.full(d, ds.hi)),
                            random_state=seed,
                        )
                    with _quiet():
                        t0 = time.perf_counter()
                        model.fit(ds.Xtr, ds.ytr)
                        rec["fit"][eps].append(time.perf_counter() - t0)
                        rec["acc"][eps].append(float(model.score(ds.Xte, ds.yte)))
            recs.append(rec)
            accs = ", ".join(
                f"{_fmt_eps(e)}: {np.mean(v):.3f}" for e, v in rec["acc"].items()
            )
            print(f"  {ds.key} {who} {text}: accuracy {accs}", flush=True)
        # non-private references (context only)
        ref = {}
        for name, model in (
            ("scikit-learn LogisticRegression (non-private)", SkLR(max_iter=1000)),
            ("scikit-learn GaussianNB (non-private)", SkNB()),
        ):
            with _quiet():
                t0 = time.perf_counter()
                model.fit(ds.Xtr, ds.ytr)
                t = time.perf_counter() - t0
                ref[name] = (float(model.score(ds.Xte, ds.yte)), t)
        out.append(dict(ds=ds, recs=recs, ref=ref, norm=norm))
    return out


def clf_target(entry, eps):
    """Best of ours and of diffprivlib at ``eps`` (mean accuracy over seeds)."""
    if eps not in entry["recs"][0]["acc"]:
        return None

    def score(r):
        return float(np.mean(r["acc"][eps]))

    ours = [r for r in entry["recs"] if r["who"] == "ours"]
    dpl = [r for r in entry["recs"] if r["who"] == "diffprivlib"]
    if not dpl:
        return dict(ours=max(ours, key=score), dpl=None)
    o, p = max(ours, key=score), max(dpl, key=score)
    t_p = _median(p["fit"][eps])
    # The fit target is met by one setting that is accurate AND fast: the fastest
    # of our settings within the accuracy margin (our best one if none is).
    floor = score(p) - TARGET_ACC_POINTS / 100.0
    good = [r for r in ours if score(r) >= floor] or [o]
    f = min(good, key=lambda r: _median(r["fit"][eps]))
    t_f = _median(f["fit"][eps])
    return dict(
        ours=o,
        fast=f,
        dpl=p,
        acc_o=score(o),
        acc_f=score(f),
        acc_p=score(p),
        fit_o=t_f,
        fit_p=t_p,
        acc_ok=score(o) >= floor,
        fit_ok=t_p >= TARGET_FIT_SPEEDUP * t_f,
    )


# -------------------------------------------------------------------- report
def machine_section(args, loads, digests, dpl):
    rows, blas = machine_rows(
        f"BLAS and numba threads: {args.threads}",
        DISTS,
        loads,
        digests,
    )
    dist = _version("diffprivlib")
    if dist == "not installed":
        dist = _version("diffprivlib-fix")
        if dist != "not installed":
            dist += " (distribution `diffprivlib-fix`)"
    rows.append(["diffprivlib", dist])
    if dpl["models"] is None:
        status = f"NOT importable: {dpl['error']}"
    elif dpl["shim"]:
        status = (
            "imported after a shim: set `sklearn.tree._tree."
            + "`, `sklearn.tree._tree.".join(dpl["shim"])
            + "` (DOUBLE = np.float64, DTYPE = np.float32), which scikit-learn "
            + _version("scikit-learn")
            + " no longer defines and diffprivlib imports"
        )
    else:
        status = "imported as is (no shim needed)"
    for key, why in dpl["broken"].items():
        status += (
            f"; its {_DPL_MODELS[key]} does not run with scikit-learn "
            f"{_version('scikit-learn')} ({why}): left out"
        )
    rows.append(["diffprivlib import", status])
    rows.append(["BLAS", blas])
    return _md_table(["", ""], rows)


def _targets_table(args, datasets, kde, clf):
    rows = []
    labels = {m: MECHANISMS[m][1].split(" (")[0] for m in MECHANISMS}
    for ds in datasets:
        if ds.key not in kde:
            continue
        for eps in args.epsilons:
            m = matched(kde[ds.key], eps, ds.families)
            if m is None:
                continue
            bm, bs, be, bt = m["base"]
            figs = [
                f"best LSQ: {labels[bm]} {MECHANISMS[bm][0]}={bs}, MAE {_fmt_err(be)}, "
                f"T = {_fmt_us(bt)} us"
            ]
            for mech, r in m["ours"].items():
                if r is None:
                    figs.append(f"{labels[mech]}: none within {TIME_SLACK:g} T")
                else:
                    figs.append(
                        f"{labels[mech]} {MECHANISMS[mech][0]}={r[0]}: MAE "
                        f"{_fmt_err(r[1])} ({_fmt_us(r[2])} us)"
                    )
            figs.append(f"LSQ - ours = {_fmt_diff(m['diff'])}")
            rows.append(
                [
                    f"KDE {ds.title}, eps = {_fmt_eps(eps)}: ours <= best LSQ at "
                    f"query time <= {TIME_SLACK:g} T",
                    "; ".join(figs),
                    "PASS" if m["ok"] else "FAIL",
                ]
            )
    for entry in clf:
        t = clf_target(entry, TARGET_EPS)
        name = entry["ds"].title
        if t is None:
            continue
        if t["dpl"] is None:
            rows.append(
                [
                    f"classification {name}, eps = 1: accuracy and fit vs diffprivlib",
                    "diffprivlib not importable: not compared",
                    "n/a",
                ]
            )
            continue
        rows.append(
            [
                f"classification {name}, eps = 1: our best accuracy >= diffprivlib's "
                f"best - {TARGET_ACC_POINTS:g} points",
                f"ours {t['acc_o']:.3f} ({t['ours']['setting']}) vs diffprivlib "
                f"{t['acc_p']:.3f} ({t['dpl']['setting']}): "
                f"{100 * (t['acc_o'] - t['acc_p']):+.1f} points",
                "PASS" if t["acc_ok"] else "FAIL",
            ]
        )
        rows.append(
            [
                f"classification {name}, eps = 1: fit of our fastest setting within "
                f"the accuracy margin >= {TARGET_FIT_SPEEDUP:g}x faster than "
                "diffprivlib's best model's",
                f"ours {_fmt_s(1e3 * t['fit_o'])} ms ({t['fast']['setting']}, "
                f"accuracy {t['acc_f']:.3f}) vs "
                f"diffprivlib {_fmt_s(1e3 * t['fit_p'])} ms ({t['dpl']['setting']}): "
                f"{t['fit_p'] / t['fit_o']:.1f}x",
                "PASS" if t["fit_ok"] else "FAIL",
            ]
        )
    return _md_table(["target", "figures", "status"], rows)


def _kde_section(args, datasets, kde):
    labels = {m: MECHANISMS[m][1] for m in MECHANISMS}
    parts = [
        "## 1. Private Gaussian KDE: error and cost against epsilon",
        "",
        '`PrivateSimilaritySum("gaussian", method=..., neighbouring="add_remove", '
        "epsilon=...)` fitted on the private data; the answer is "
        "`mean_similarity(queries)`, the private KDE (kernel `exp(-|x - y|^2 / (2 "
        "h^2))`, not normalised). All mechanisms run under add/remove neighbours, the "
        "relation to which the LSQ paper's calibration corresponds (its sketches "
        "release sums whose per-record contribution is bounded, with the record count "
        "released too); ours then release the count with 5% of the budget (rff) or "
        "read it from the grid's constant terms (fgt). Mechanisms: `lsq_rff` (Wagner "
        "et al.: i.i.d. frequencies, random phases), `lsq_fgt` (Wagner et al.: uniform "
        "noise over the Hermite terms), `rff` (ours: scrambled-Sobol' frequencies, "
        "cos/sin pairs), `fgt` (ours: noise weighted optimally across the Hermite "
        "terms).",
        "",
        f"MAE = mean absolute error of `mean_similarity` against the exact KDE "
        f"(`exact_similarity_sum / n`) over the queries, averaged over "
        f"{len(args.seeds)} seed(s) (`random_state` = {', '.join(map(str, args.seeds))}"
        "; a seed fixes frequencies and noise, so these runs are reproducible and "
        "not private - that is for the benchmark only). `fit s` = median wall time "
        "of `fit` (which computes the statistics and releases them); `query us` = "
        "`mean_similarity` on all queries, divided by the number of queries: the "
        "fitted estimators of a dataset (one per mechanism and size) are timed in "
        f"turns, {args.rounds} rounds in a shuffled order, each keeping its fastest "
        "round, so that load from other processes falls on all of them alike. The "
        "exact "
        "statistics of the random-feature sketches do not depend on epsilon, so for "
        "each (mechanism, size, seed) they are computed once and reused at the other "
        "epsilons (the noise is drawn afresh by the estimator each time; a check "
        "below confirms the reuse changes nothing); fit times come from the fits "
        "that computed them.",
        "",
        "**Equal query time.** At each epsilon the better (lower MAE) of the LSQ "
        "baselines at their published defaults, LSQ-RFF with "
        f"{LSQ_DEFAULTS['lsq_rff']} features and LSQ-FGT of order "
        f"{LSQ_DEFAULTS['lsq_fgt']} (where the grid applies), sets the query time "
        "T; each of our mechanisms is credited with the lowest MAE among its sizes "
        f"whose query time is at most {TIME_SLACK:g} T. "
        "The target: the better of ours is no worse than the best LSQ baseline.",
        "",
        "Real embeddings of dimension >= 256 (the setting of Backurs et al.'s "
        "experiments) are not run: this machine has no offline pre-trained model to "
        "compute them with.",
        "",
    ]
    for ds in datasets:
        if ds.key not in kde:
            continue
        results = kde[ds.key]
        parts += [
            f"### {ds.title}",
            "",
            ds.about
            + f" Mean exact KDE over the queries: {ds.ref_mean:.4g} (exact sums in "
            f"{_fmt_s(ds.t_ref)} s).",
            "",
        ]
        headers = ["mechanism", "size", "fit s", "query us"] + [
            f"MAE eps={_fmt_eps(e)}" for e in args.epsilons
        ]
        rows = []
        for (mech, size), rec in results.items():
            rows.append(
                [
                    labels[mech],
                    f"{MECHANISMS[mech][0]} = {size}",
                    _fmt_s(_median(rec["fit"])),
                    _fmt_us(rec["query"]),
                ]
                + [_fmt_err(np.mean(rec["err"][e])) for e in args.epsilons]
            )
        parts += [_md_table(headers, rows), ""]
        mrows = []
        for eps in args.epsilons:
            m = matched(results, eps, ds.families)
            if m is None:
                continue
            bm, bs, be, bt = m["base"]
            cells = [
                _fmt_eps(eps),
                f"{labels[bm]}, {MECHANISMS[bm][0]} = {bs}",
                _fmt_err(be),
                _fmt_us(bt),
            ]
            best_ours = []
            for mech in ("rff", "fgt"):
                if mech not in m["ours"]:
                    cells.append("-")
                    continue
                r = m["ours"][mech]
                if r is None:
                    cells.append(f"none <= {_fmt_us(m['limit'])} us")
                else:
                    cells.append(
                        f"{_fmt_err(r[1])} ({MECHANISMS[mech][0]} = {r[0]}, "
                        f"{_fmt_us(r[2])} us)"
                    )
                    best_ours.append(r[1])
            cells.append(f"{be / min(best_ours):.2f}" if best_ours else "-")
            cells.append(_fmt_diff(m["diff"]))
            cells.append("PASS" if m["ok"] else "FAIL")
            mrows.append(cells)
        parts += [
            "At equal query time (`gain` = best LSQ MAE / our best MAE, above 1 is "
            "better; `LSQ - ours` = the baseline's MAE minus our best's, mean and "
            "standard error over the seeds, seed by seed):",
            "",
            _md_table(
                [
                    "eps",
                    "best LSQ baseline",
                    "its MAE",
                    "T (us)",
                    "RFF (ours) at <= 1.1 T",
                    "FGT (ours) at <= 1.1 T",
                    "gain",
                    "LSQ - ours (+- s.e.)",
                    "status",
                ],
                mrows,
            ),
            "",
        ]
    return parts


def _distance_section(args, dist):
    parts = [
        '### Distances: `kernel="l1"` and `"l2"` (noisy dyadic trees)',
        "",
        '`PrivateSimilaritySum(kernel, method="tree", neighbouring="add_remove")` '
        "with its defaults (depth 16, band ratio alpha = 0.1, 32 Gaussian projections "
        "for l2). Relative error = mean over the queries of |private sum - exact sum| "
        "/ exact sum (`similarity_sum` against `exact_similarity_sum`), averaged over "
        "seeds; on the uniform square the first queries of (a), on digits the "
        "held-out rows of (c) against the training rows. `fit s` = median over all "
        "fits; `query us` = best of up to "
        f"{args.repeat} runs of `similarity_sum` on all queries, per query.",
        "",
    ]
    headers = ["data", "kernel", "n", "d", "queries", "fit s", "query us"] + [
        f"rel. error eps={_fmt_eps(e)}" for e in args.epsilons
    ]
    rows = [
        [
            r["title"].split(":")[0],
            r["kernel"],
            f"{r['n']:,}",
            r["d"],
            r["queries"],
            _fmt_s(_median(r["fit"])),
            _fmt_us(r["query"]),
        ]
        + [_fmt_err(np.mean(r["err"][e])) for e in args.epsilons]
        for r in dist
    ]
    parts += [_md_table(headers, rows), ""]
    return parts


def _clf_section(args, clf, dpl):
    parts = [
        "## 2. Private classification",
        "",
        "`PrivateSimilarityClassifier` (one private summary per class; predict the "
        "class of largest private mean similarity) against diffprivlib's "
        "`LogisticRegression(epsilon, data_norm=...)` (objective perturbation) and "
        "`GaussianNB(epsilon, bounds=...)`, on the same train/test split, accuracy "
        f"on the test rows averaged over {len(args.clf_seeds)} seed(s) (`random_state` "
        "of "
        "every model; the split is fixed). Ours runs with its default "
        '`neighbouring="substitute"` (each class summary gets epsilon / 2 and '
        "releases its own count): diffprivlib's models read the number of training "
        "records from the data, i.e. take it as public, as replace-one neighbours "
        "do. Our settings (kernel, bandwidth, n_features, tree depth) are fixed "
        "public values in the code, sized from each dataset's public scale (its box "
        "and dimension); no fit spends budget to choose them. In a deployment they "
        "would be chosen on public data before seeing the private records; here "
        "they were settled while this benchmark was written, after a few pilot "
        "runs on these same datasets, so the best of them is somewhat optimistic "
        "(as is the best of diffprivlib's two models). Every setting run is "
        "reported, and 'best' below is the best mean test accuracy among them. "
        "`fit ms` = median fit time at epsilon = 1 over "
        "the seeds (the time of diffprivlib's logistic regression varies with "
        "epsilon; ours does not). All models run under the same thread limits (the "
        "BLAS threads above).",
        "",
    ]
    if dpl["models"] is None:
        parts += [
            f"**diffprivlib is not importable** ({dpl['error']}): its rows are left "
            "out.",
            "",
        ]
    for key, why in dpl["broken"].items():
        parts += [
            f"**diffprivlib's {_DPL_MODELS[key]} does not run here** ({why}): "
            "its rows are left out.",
            "",
        ]
    for entry in clf:
        ds = entry["ds"]
        parts += [f"### {ds.title}", "", ds.about, ""]
        headers = ["model", "setting", "fit ms (eps = 1)"] + [
            f"accuracy eps={_fmt_eps(e)}" for e in args.epsilons
        ]
        rows = []
        eps_fit = TARGET_EPS if TARGET_EPS in args.epsilons else args.epsilons[-1]
        for r in entry["recs"]:
            rows.append(
                [
                    "kernlearn" if r["who"] == "ours" else "diffprivlib",
                    r["setting"],
                    _fmt_s(1e3 * _median(r["fit"][eps_fit])),
                ]
                + [f"{np.mean(r['acc'][e]):.3f}" for e in args.epsilons]
            )
        for name, (acc, t) in entry["ref"].items():
            rows.append(
                [name.split(" (")[0], "non-private reference", _fmt_s(1e3 * t)]
                + [f"{acc:.3f}"] * len(args.epsilons)
            )
        parts += [_md_table(headers, rows), ""]
    return parts


def _notes(args, datasets, kde, dist, clf):
    """Observations computed from the figures (each only where it applies)."""
    notes = []
    ties, unsure = [], []
    for ds in datasets:
        for eps in args.epsilons if ds.key in kde else ():
            m = matched(kde[ds.key], eps, ds.families)
            if m is None or m["best"] is None:
                continue
            (bm, bs), (om, osz) = m["base"][:2], m["best"][:2]
            mean, se = m["diff"]
            where = f"{ds.title.split(':')[0]} at eps = {_fmt_eps(eps)}"
            if not abs(mean) <= 2 * se:
                continue
            if (bm, om) == ("lsq_fgt", "fgt") and bs == osz:
                ties.append(where)
            else:
                unsure.append(
                    f"{where} ({MECHANISMS[om][1].split(' (')[0]} "
                    f"{MECHANISMS[om][0]}={osz} vs {MECHANISMS[bm][1].split(' (')[0]}"
                    f" {MECHANISMS[bm][0]}={bs}: {_fmt_diff(m['diff'])})"
                )
    if ties:
        notes += [
            "- **Ties.** `fgt` and `lsq_fgt` of the same order share the grid, the "
            "cut-off radius and the query code; only the weights of the noise across "
            "the Hermite terms differ, so their query times are equal and their "
            "errors differ only as far as noise matters. Where the truncation error "
            "of the order dominates, the two errors agree to within two standard "
            "errors of their seed-by-seed difference, and PASS or FAIL there is "
            "decided by the seeds: " + "; ".join(ties) + ".",
            "",
        ]
    if unsure:
        notes += [
            "- Other comparisons whose difference is within two standard errors "
            f"over the {len(args.seeds)} seeds (so its sign is not clear from "
            "these runs): " + "; ".join(unsure) + ".",
            "",
        ]
    flat = [
        r
        for r in dist
        if r["kernel"] == "l2"
        and np.mean(r["err"][max(args.epsilons)]) > 0.05
        and np.mean(r["err"][max(args.epsilons)])
        > 0.5 * np.mean(r["err"][min(args.epsilons)])
    ]
    if flat:
        notes += [
            "- The `l2` tree's error hardly falls with epsilon on "
            + ", ".join(r["title"].split(":")[0] for r in flat)
            + ": it is the error of estimating each Euclidean distance from 32 "
            "Gaussian projections (relative standard deviation up to "
            "0.76 / sqrt(32), about 13%, per distance; the same projections serve "
            "every record, so these errors only partly average out in a sum), not "
            "noise; `n_projections` trades it against noise and time.",
            "",
        ]
    for entry in clf:
        t = clf_target(entry, TARGET_EPS)
        if t is None or t["dpl"] is None:
            continue
        t_b = _median(t["ours"]["fit"][TARGET_EPS])
        notes += [
            f"- {entry['ds'].title}, eps = 1 (for information; the fit target takes "
            "our fastest setting within the accuracy margin): our most accurate "
            f"setting is {t['ours']['setting']}, accuracy {t['acc_o']:.3f}, fit "
            f"{_fmt_s(1e3 * t_b)} ms: {t['fit_p'] / t_b:.1f}x faster than "
            f"{t['dpl']['setting']} ({_fmt_s(1e3 * t['fit_p'])} ms).",
            "",
        ]
    return notes


def write_report(path, args, argv, kde, datasets, dist, clf, checks, meta):
    cmd = "python benchmarks/bench_private.py" + (" " + " ".join(argv) if argv else "")
    loads, digests, dpl, elapsed = meta
    parts = [
        "# Private similarity benchmark",
        "",
        f"Generated by `{cmd}` in {elapsed / 60:.1f} min.",
        "",
        "kernlearn's differentially private similarity sums (`kernlearn.privacy`, "
        "after Backurs, Lin, Mahabadi, Silwal, Tarnawski, ICLR 2024) against the LSQ "
        "baselines of Wagner, Naamad, Mishra (ICML 2023), and its private classifier "
        "against diffprivlib, on the same data in one run. The machine has few "
        "cores and may run other jobs (see the load averages): timings are "
        "indicative, errors and accuracies are not affected.",
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
        machine_section(args, loads, digests, dpl),
        "",
        "Commands: `python benchmarks/bench_private.py` (full run), "
        "`python benchmarks/bench_private.py --quick` (smoke run). This report: "
        f"`{cmd}`; epsilons {', '.join(map(_fmt_eps, args.epsilons))}; seeds "
        f"{', '.join(map(str, args.seeds))} (part 1) and "
        f"{', '.join(map(str, args.clf_seeds))} (part 2).",
        "",
        "## Targets",
        "",
        _targets_table(args, datasets, kde, clf),
        "",
    ]
    if "kde" in args.parts:
        parts += _kde_section(args, datasets, kde)
        parts += _distance_section(args, dist)
    if "classification" in args.parts:
        parts += _clf_section(args, clf, dpl)
    notes = _notes(args, datasets, kde, dist, clf)
    if notes:
        parts += ["## Notes", ""] + notes
    parts += ["## Checks", ""]
    rows = [
        [
            c["what"],
            f"{c['rows']:,}",
            _fmt_err(c["err"]),
            f"{c['tol']:g}",
            "OK" if c["err"] <= c["tol"] else "FAIL",
        ]
        for c in checks
    ]
    parts += [
        _md_table(["check", "rows", "max error", "tolerance", "status"], rows),
        "",
    ]
    text = "\n".join(parts)
    return save_report(path, text)


# ----------------------------------------------------------------------- main
def _floats(text):
    return [float(t) for t in text.split(",") if t.strip()]


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--parts",
        default=",".join(PARTS),
        help="comma-separated parts to run: kde, classification (default both)",
    )
    p.add_argument(
        "--epsilons", type=_floats, default=None, help="default 0.1,0.5,1,2,5"
    )
    p.add_argument(
        "--seeds", type=_ints, default=None, help="part 1 seeds, default 0,...,4"
    )
    p.add_argument(
        "--clf-seeds", type=_ints, default=None, help="part 2 seeds, default 0,1,2"
    )
    p.add_argument(
        "--rff-sizes",
        type=_ints,
        default=None,
        help="n_features swept, default 50,100,200,500,1000,2000",
    )
    p.add_argument(
        "--fgt-orders", type=_ints, default=None, help="orders swept, default 2,...,6"
    )
    p.add_argument(
        "--n-uniform",
        type=int,
        default=None,
        help="records of the uniform square, default 100000",
    )
    p.add_argument(
        "--n-mixture", type=int, default=None, help="records of the mixtures, 50000"
    )
    p.add_argument(
        "--n-queries", type=int, default=None, help="KDE queries, default 2000"
    )
    p.add_argument(
        "--dist-queries",
        type=int,
        default=None,
        help="queries of the distance table, default 500",
    )
    p.add_argument(
        "--n-blobs", type=int, default=None, help="blobs training rows, 20000"
    )
    p.add_argument(
        "--threads",
        type=int,
        default=_usable_cores(),
        help="BLAS and numba threads (default: all usable cores)",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="a smoke run: tiny data, one seed, two epsilons; prints the report",
    )
    p.add_argument(
        "--out",
        default=None,
        help="markdown report (default benchmarks/results/private.md; with "
        "--quick only printed)",
    )
    args = p.parse_args(argv)
    args.parts = parse_parts(p, args.parts, PARTS)
    if args.quick:
        defaults = dict(
            epsilons=[0.5, 1.0],
            seeds=[0],
            clf_seeds=[0],
            rff_sizes=[50, 200],
            fgt_orders=[2, 4],
            n_uniform=3000,
            n_mixture=2000,
            n_queries=200,
            dist_queries=50,
            n_blobs=2000,
        )
        args.repeat, args.min_total, args.rounds = 2, 0.05, 2
    else:
        defaults = dict(
            epsilons=list(EPSILONS),
            seeds=[0, 1, 2, 3, 4],
            clf_seeds=[0, 1, 2],
            rff_sizes=list(RFF_SIZES),
            fgt_orders=list(FGT_ORDERS),
            n_uniform=100_000,
            n_mixture=50_000,
            n_queries=2000,
            dist_queries=500,
            n_blobs=20_000,
        )
        args.repeat, args.min_total, args.rounds = 7, 0.5, 9
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    args.n_blobs_test = max(500, args.n_blobs // 4)
    for name in ("epsilons", "seeds", "clf_seeds", "rff_sizes", "fgt_orders"):
        if not getattr(args, name):
            p.error(f"--{name.replace('_', '-')} needs at least one value")
    if args.out is None and not args.quick:
        args.out = DEFAULT_OUT
    return args


def summarize(summary, args, datasets, kde, clf):
    """The headline comparisons at epsilon = 1 (or the epsilon nearest it):
    the best of our KDE mechanisms against the best LSQ baseline at equal
    query time, and the private classifier against diffprivlib; and the plot
    of the matched errors against epsilon."""
    labels = {m: MECHANISMS[m][1].split(" (")[0] for m in MECHANISMS}

    def name(mech, size):
        return f"{labels[mech]} {MECHANISMS[mech][0]}={size}"

    eps0 = min(args.epsilons, key=lambda e: abs(math.log(e / TARGET_EPS)))
    for ds in datasets:
        if ds.key not in kde:
            continue
        m = matched(kde[ds.key], eps0, ds.families)
        if m is None or m["best"] is None:
            continue
        summary.compare(
            f"private KDE, {ds.title}, eps = {_fmt_eps(eps0)}, query time <= "
            f"{TIME_SLACK:g} x the baseline's",
            f"PrivateSimilaritySum {name(*m['best'][:2])}",
            f"{name(*m['base'][:2])} (Wagner et al.)",
            "mean abs. error",
            m["best"][2],
            m["base"][2],
        )
    for ds in datasets:
        if ds.key not in kde:
            continue
        series = {}
        for eps in args.epsilons:
            m = matched(kde[ds.key], eps, ds.families)
            if m is None:
                continue
            series.setdefault("best LSQ baseline (default size)", []).append(
                (eps, m["base"][2])
            )
            if m["best"] is not None:
                series.setdefault("best of ours at equal query time", []).append(
                    (eps, m["best"][2])
                )
        if len(args.epsilons) > 1:
            summary.plot(
                f"private KDE, {ds.title.split(':')[0]}",
                "epsilon",
                "mean abs. error",
                series,
            )
    for entry in clf:
        t = clf_target(entry, eps0)
        if t is None or t["dpl"] is None:
            continue
        title = entry["ds"].title
        summary.compare(
            f"classification, {title}, eps = {_fmt_eps(eps0)}",
            f"PrivateSimilarityClassifier ({t['ours']['setting']})",
            f"diffprivlib {t['dpl']['setting']}",
            "test accuracy",
            t["acc_o"],
            t["acc_p"],
            better="higher",
        )
        summary.compare(
            f"classification, {title}, eps = {_fmt_eps(eps0)}",
            f"PrivateSimilarityClassifier ({t['fast']['setting']}; accuracy "
            f"{t['acc_f']:.3f})",
            f"diffprivlib {t['dpl']['setting']}",
            "seconds (fit)",
            t["fit_o"],
            t["fit_p"],
        )


def _body(args, run):
    dpl = import_diffprivlib()
    if dpl["models"] is None:
        print(f"diffprivlib not importable: {dpl['error']}", flush=True)
    elif dpl["shim"]:
        print(f"diffprivlib imported after shimming {dpl['shim']}", flush=True)
    for key, why in dpl["broken"].items():
        print(f"diffprivlib's {_DPL_MODELS[key]} does not run here: {why}", flush=True)

    checks, kde, dist, clf, datasets = [], {}, [], [], []
    if "kde" in args.parts:
        print("part 1: private KDE", flush=True)
        datasets = kde_datasets(args)
        memo = StatisticsMemo()
        with memo.installed():
            kde = run_kde(args, datasets, memo, checks)
        print("part 1b: distances", flush=True)
        dist = run_distances(args, datasets, checks)
        run.mark("after part 1")
    if "classification" in args.parts:
        print("part 2: classification", flush=True)
        clf = run_classification(args, dpl)
        run.mark("after part 2")

    loads, digests, elapsed = run.meta
    text = write_report(
        args.out,
        args,
        run.argv,
        kde,
        datasets,
        dist,
        clf,
        checks,
        (loads, digests, dpl, elapsed),
    )
    summarize(run.summary, args, datasets, kde, clf)
    return Outcome(text, args.out, checks)


def main(argv=None):
    return run_benchmark(
        "private",
        _body,
        parse_args,
        argv,
        dists=DISTS + ("diffprivlib", "diffprivlib-fix"),
        numba_threads=True,
    )


if __name__ == "__main__":
    sys.exit(main())
