"""``kernlearn demo``: every estimator family once, checked against a reference.

Each part fits one capability on data shipped beside the project (read where it
lies, see :func:`kernlearn.datasets.get_data_home`) or on kernlearn's own
generators when that data is absent, compares a metric with an independent
reference (scikit-learn, scipy, a closed form, a published figure or a target of
the project's issues) and records the time and the engines the backend used.
One table sums it up; the figures go to one folder, named at the end.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = ["PARTS", "Check", "run_demo"]


@dataclass
class Check:
    """One row of the demo table."""

    capability: str
    dataset: str
    metric: str
    value: str
    reference: str
    ok: bool
    seconds: float = 0.0
    engines: str = ""


@dataclass
class _Context:
    out: Path
    seed: int
    backend: str | None
    plt: object = None
    figures: list = field(default_factory=list)

    def save(self, fig, name):
        path = self.out / name
        fig.savefig(path, dpi=110, bbox_inches="tight")
        self.plt.close(fig)
        self.figures.append(path)


class _EngineTally(logging.Handler):
    """Collects the engine names the backend logs while a part runs."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.names = []

    def emit(self, record):
        name = getattr(record, "kernlearn_engine", None)
        if name is not None and name not in self.names:
            self.names.append(name)


@contextlib.contextmanager
def _tally_engines():
    log = logging.getLogger("kernlearn")
    handler = _EngineTally()
    level, propagate = log.level, log.propagate
    log.addHandler(handler)
    log.setLevel(logging.DEBUG)
    log.propagate = False  # the records are for the tally, not for the console
    try:
        yield handler
    finally:
        log.removeHandler(handler)
        log.setLevel(level)
        log.propagate = propagate


def _timed(fn, *args, **kwargs):
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t0


# ------------------------------------------------------------------- parts
def _part_backend(ctx):
    """Kernel sums and top-k on every usable engine against the numpy one."""
    from .backend import engine_status, kernel_logsumexp, kernel_sum, kernel_topk
    from .kernels import Gaussian

    status = engine_status()
    engines = [n for n, (usable, _, _) in status.items() if usable and n != "numpy"]
    if ctx.backend not in (None, "auto"):
        engines = [ctx.backend] if ctx.backend != "numpy" else []
    rng = np.random.default_rng(ctx.seed)
    X = rng.standard_normal((4000, 3))
    Y = rng.standard_normal((6000, 3))
    w = rng.uniform(0.5, 1.5, size=6000)
    kern = Gaussian(1.0)

    def run(engine):
        s = kernel_sum(kern, X, Y, w, backend=engine)
        lse = kernel_logsumexp(kern, X, Y, np.log(w), backend=engine)
        v, _ = kernel_topk(kern, X, Y, 5, backend=engine)
        return [np.asarray(getattr(a, "get", lambda a=a: a)()) for a in (s, lse, v)]

    ref, t_ref = _timed(run, "numpy")
    checks = [
        Check("backend primitives", "4,000 x 6,000, d = 3", "numpy engine",
              "reference", "exact blocked sums", True, t_ref, "numpy")
    ]  # fmt: skip
    for engine in engines:
        try:
            run(engine)  # compile / warm up outside the timing
            got, t = _timed(run, engine)
        except Exception as exc:  # noqa: BLE001 - reported as a failed row
            checks.append(
                Check("backend primitives", "4,000 x 6,000, d = 3", engine,
                      f"{type(exc).__name__}", "agrees with numpy", False, 0.0,
                      engine)
            )  # fmt: skip
            continue
        err = max(
            float(np.max(np.abs(g - r) / np.maximum(np.abs(r), 1e-300)))
            for g, r in zip(got, ref, strict=True)
        )
        checks.append(
            Check("backend primitives", "4,000 x 6,000, d = 3",
                  f"max rel. error vs numpy, {t_ref / t:.1f}x faster",
                  f"{err:.1e}", "<= 1e-10 (numpy engine)", err <= 1e-10, t,
                  engine)
        )  # fmt: skip
    skipped = [n for n, (usable, _, _) in status.items() if not usable]
    if skipped and ctx.backend in (None, "auto"):
        checks[0].dataset += f" (not usable here: {', '.join(skipped)})"
    return checks


def _part_density(ctx):
    """Exact KDE on digits against scikit-learn; bandwidth selection."""
    from sklearn.datasets import load_digits
    from sklearn.neighbors import KernelDensity as SkKDE

    from .density import KernelDensity

    X = load_digits().data / 16.0
    rng = np.random.default_rng(ctx.seed)
    idx = rng.permutation(len(X))
    Xtr, Xte = X[idx[:1400]], X[idx[1400:]]
    h = 0.5
    ours, t_ours = _timed(
        lambda: (
            KernelDensity(bandwidth=h, backend=ctx.backend).fit(Xtr).score_samples(Xte)
        )
    )
    ref, t_ref = _timed(lambda: SkKDE(bandwidth=h).fit(Xtr).score_samples(Xte))
    err = float(np.max(np.abs(ours - ref)))
    checks = [
        Check("KDE, exact log-density", "digits (d = 64)",
              "max |log p - sklearn's|", f"{err:.1e}",
              f"<= 1e-8 (sklearn KernelDensity, {t_ref / t_ours:.1f}x our time)",
              err <= 1e-8, t_ours)
    ]  # fmt: skip
    # held-out log-likelihood of the selectors against Scott's rule
    scores = {}
    t0 = time.perf_counter()
    for sel in ("scott", "loo_ml"):
        kde = KernelDensity(bandwidth=sel, backend=ctx.backend).fit(Xtr)
        scores[sel] = (float(kde.score_samples(Xte).mean()), kde.bandwidth_)
    t_sel = time.perf_counter() - t0
    gain = scores["loo_ml"][0] - scores["scott"][0]
    checks.append(
        Check("KDE, bandwidth selection", "digits (d = 64)",
              "held-out log-lik. gain of loo_ml (nats)", f"{gain:+.1f}",
              f"> 0 (Scott's rule: {scores['scott'][0]:.1f})", gain > 0, t_sel)
    )  # fmt: skip
    if ctx.plt is not None:
        hs = np.geomspace(0.2, 2.0, 12)
        ll = [
            KernelDensity(bandwidth=float(b), backend=ctx.backend)
            .fit(Xtr)
            .score_samples(Xte)
            .mean()
            for b in hs
        ]
        fig, ax = ctx.plt.subplots(figsize=(5, 3.2))
        ax.semilogx(hs, ll, "o-", color="0.3", label="held-out log-likelihood")
        for sel, color in (("scott", "tab:orange"), ("loo_ml", "tab:blue")):
            ax.axvline(scores[sel][1], color=color, ls="--", label=sel)
        ax.set_xlabel("bandwidth")
        ax.set_ylabel("mean log-density (nats)")
        ax.set_title("KDE on digits (d = 64)")
        ax.legend(fontsize=8)
        ctx.save(fig, "density_bandwidth.png")
    return checks


def _part_privacy(ctx):
    """Private mean similarity and private classification on digits."""
    from sklearn.datasets import load_digits

    from .privacy import (
        PrivateSimilarityClassifier,
        PrivateSimilaritySum,
        exact_similarity_sum,
    )

    digits = load_digits()
    X, y = digits.data / 16.0, digits.target
    rng = np.random.default_rng(ctx.seed)
    idx = rng.permutation(len(X))
    tr, te = idx[:1400], idx[1400:]
    params = dict(bandwidth=2.0, n_features=200, bounds=(0.0, 1.0))
    noise = np.random.SeedSequence(ctx.seed).entropy
    est, t = _timed(
        lambda: PrivateSimilaritySum(
            "gaussian", epsilon=10.0, random_state=noise % 2**32, **params
        ).fit(X[tr])
    )
    private = est.mean_similarity(X[te])
    exact = exact_similarity_sum(X[tr], X[te], bandwidth=2.0) / len(tr)
    rel = float(np.mean(np.abs(private - exact)) / np.mean(exact))
    checks = [
        Check("private similarity sum (eps = 10)", "digits",
              "mean rel. error vs exact", f"{rel:.3f}",
              "<= 0.10 (exact Gaussian sums)", rel <= 0.10, t)
    ]  # fmt: skip
    clf, t = _timed(
        lambda: PrivateSimilarityClassifier(
            epsilon=10.0, random_state=noise % 2**32, **params
        ).fit(X[tr], y[tr])
    )
    acc = float(clf.score(X[te], y[te]))
    classes = np.unique(y)
    scores = np.column_stack(
        [
            exact_similarity_sum(X[tr][y[tr] == c], X[te], bandwidth=2.0)
            / np.sum(y[tr] == c)
            for c in classes
        ]
    )
    ref = float(np.mean(classes[np.argmax(scores, axis=1)] == y[te]))
    checks.append(
        Check("private classification (eps = 10)", "digits", "test accuracy",
              f"{acc:.3f}", f">= {ref:.3f} - 0.15 (non-private rule)",
              acc >= ref - 0.15, t)
    )  # fmt: skip
    if ctx.plt is not None:
        fig, ax = ctx.plt.subplots(figsize=(4, 4))
        ax.scatter(exact, private, s=6, alpha=0.5)
        lim = [0, max(exact.max(), private.max()) * 1.05]
        ax.plot(lim, lim, "k--", lw=0.8)
        ax.set_xlabel("exact mean similarity")
        ax.set_ylabel("private (eps = 10)")
        ax.set_title("private similarity sums, digits")
        ctx.save(fig, "privacy_digits.png")
    return checks


def _part_random_features(ctx):
    """Random Fourier features against scikit-learn's; NTK regression."""
    from sklearn.datasets import load_diabetes
    from sklearn.kernel_approximation import RBFSampler
    from sklearn.kernel_ridge import KernelRidge
    from sklearn.model_selection import GridSearchCV, train_test_split
    from sklearn.preprocessing import StandardScaler

    from .kernel_approximation import RandomFourierFeatures
    from .neural import NTKRegressor

    rng = np.random.default_rng(ctx.seed)
    X = rng.standard_normal((1500, 16))
    K = np.exp(-0.5 * ((X[:, None] - X[None]) ** 2).sum(-1) / 16.0)
    errs = {}
    t_ours = 0.0
    sizes = (256, 1024, 4096)
    for m in sizes:
        Z, t = _timed(
            lambda m=m: RandomFourierFeatures(
                length_scale=4.0, n_components=m, method="orf", random_state=ctx.seed
            ).fit_transform(X)
        )
        t_ours += t
        S = RBFSampler(gamma=1 / 32.0, n_components=m, random_state=ctx.seed)
        Zs = S.fit_transform(X)
        errs[m] = (
            float(np.sqrt(np.mean((Z @ Z.T - K) ** 2))),
            float(np.sqrt(np.mean((Zs @ Zs.T - K) ** 2))),
        )
    ours, theirs = errs[1024]
    checks = [
        Check("random features (orthogonal)", "Gaussian kernel, d = 16",
              "RMS kernel error, 1,024 features", f"{ours:.4f}",
              f"< {theirs:.4f} (sklearn RBFSampler)", ours < theirs, t_ours)
    ]  # fmt: skip
    data = load_diabetes()
    Xtr, Xte, ytr, yte = train_test_split(
        data.data, data.target, test_size=0.25, random_state=ctx.seed
    )
    sx = StandardScaler().fit(Xtr)
    sy = StandardScaler().fit(ytr[:, None])
    Xtr, Xte = sx.transform(Xtr), sx.transform(Xte)
    ytr_s = sy.transform(ytr[:, None]).ravel()
    yte_s = sy.transform(yte[:, None]).ravel()

    def rmse(model):
        return float(np.sqrt(np.mean((model.predict(Xte) - yte_s) ** 2)))

    ntk, t = _timed(
        lambda: GridSearchCV(
            NTKRegressor(ridge=1e-6), {"time": [3.0, 10.0, 30.0]}, cv=3
        ).fit(Xtr, ytr_s)
    )
    rbf = GridSearchCV(
        KernelRidge(kernel="rbf"),
        {"alpha": [0.1, 1.0, 10.0], "gamma": [0.01, 0.03, 0.1]},
        cv=3,
    ).fit(Xtr, ytr_s)
    r_ntk, r_rbf = rmse(ntk), rmse(rbf)
    checks.append(
        Check("neural tangent kernel regression", "diabetes",
              "test RMSE (standardised target)", f"{r_ntk:.3f}",
              f"<= {r_rbf:.3f} + 0.05 (sklearn RBF kernel ridge)",
              r_ntk <= r_rbf + 0.05, t)
    )  # fmt: skip
    if ctx.plt is not None:
        fig, ax = ctx.plt.subplots(figsize=(5, 3.2))
        ax.loglog(sizes, [errs[m][0] for m in sizes], "o-", label="kernlearn ORF")
        ax.loglog(sizes, [errs[m][1] for m in sizes], "s--", label="sklearn RBFSampler")
        ax.set_xlabel("features")
        ax.set_ylabel("RMS kernel error")
        ax.set_title("Gaussian kernel approximation, d = 16")
        ax.legend(fontsize=8)
        ctx.save(fig, "random_features.png")
    return checks


def _part_graph(ctx):
    """Label-free node clustering of a shipped community graph."""
    from sklearn.metrics import adjusted_rand_score

    from .datasets import load_graph, make_sbm_graph
    from .graph import GraphNodeClustering

    try:
        g = load_graph("polbooks", largest_component=True)
        A, y, name = g.adjacency.toarray(), g.labels, "polbooks (shipped)"
        ref, ref_text = 0.68, "best of any family"
    except FileNotFoundError:
        A, y = make_sbm_graph(120, 3, 0.3, 0.03, random_state=ctx.seed)
        A, name = A.toarray(), "SBM 3 x 40 (generated)"
        ref, ref_text = 0.9, "planted partition"
    k = len(np.unique(y))
    est, t = _timed(
        lambda: GraphNodeClustering(
            k, family="auto", param="auto", random_state=ctx.seed
        ).fit(A)
    )
    ari = float(adjusted_rand_score(y, est.labels_))
    checks = [
        Check("graph node clustering (label-free)", name,
              f"ARI ({est.family_}, param {est.param_:.2f})", f"{ari:.3f}",
              f">= {ref:.2f} - 0.10 ({ref_text})", ari >= ref - 0.10, t)
    ]  # fmt: skip
    if ctx.plt is not None:
        order = np.lexsort((est.labels_, y))
        fig, ax = ctx.plt.subplots(figsize=(4, 4))
        ax.imshow(A[np.ix_(order, order)] > 0, cmap="Greys", interpolation="nearest")
        ax.set_title(f"{name}: nodes by class, then cluster")
        ax.set_xticks([])
        ax.set_yticks([])
        ctx.save(fig, "graph_adjacency.png")
    return checks


def _part_gp(ctx):
    """Kronecker GP regression against scikit-learn's; the GP PDE solver."""
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import RBF, WhiteKernel

    from .datasets import make_pde_problem
    from .gaussian_process import GPPDESolver, KroneckerGaussianProcessRegressor
    from .kernels import Gaussian

    rng = np.random.default_rng(ctx.seed)
    g1, g2 = np.linspace(0, 1, 30), np.linspace(0, 1, 40)
    Xg = np.array(np.meshgrid(g1, g2, indexing="ij")).reshape(2, -1).T
    f = np.sin(6 * Xg[:, 0]) * np.cos(4 * Xg[:, 1])
    yg = f + 0.05 * rng.standard_normal(len(f))
    Xq = rng.uniform(0, 1, size=(300, 2))
    kron, t = _timed(
        lambda: KroneckerGaussianProcessRegressor(
            [Gaussian(0.2), Gaussian(0.3)], noise_variance=0.0025, optimizer=None
        ).fit(Xg, yg)
    )
    sk, t_sk = _timed(
        lambda: GaussianProcessRegressor(
            RBF([0.2, 0.3]) + WhiteKernel(0.0025), optimizer=None
        ).fit(Xg, yg)
    )
    err = float(np.max(np.abs(kron.predict(Xq) - sk.predict(Xq))))
    checks = [
        Check("Kronecker GP regression", "30 x 40 grid, noisy",
              "max |mean - sklearn's|", f"{err:.1e}",
              f"<= 1e-6 (dense sklearn GPR, {t_sk / t:.0f}x our time)",
              err <= 1e-6, t)
    ]  # fmt: skip
    p = make_pde_problem("poisson_1d_high_freq")
    solver, t = _timed(lambda: GPPDESolver(p.operator).fit(p.X, p.y))
    u = solver.predict(p.X)
    rel = float(np.linalg.norm(u - p.u) / np.linalg.norm(p.u))
    checks.append(
        Check("GP PDE solver (GP-HM)", "1-D Poisson, sin(100 x)",
              "relative L2 error", f"{rel:.1e}",
              "<= 1e-5 (paper: 4e-7 to 6.5e-7)", rel <= 1e-5, t)
    )  # fmt: skip
    if ctx.plt is not None:
        x = p.X[:, 0]
        fig, ax = ctx.plt.subplots(figsize=(6, 3))
        ax.plot(x, p.u, color="0.6", lw=3, label="exact")
        ax.plot(x, u, color="tab:blue", lw=0.8, label="GPPDESolver")
        ax.set_xlabel("x")
        ax.set_title(f"Poisson with sin(100 x): relative L2 error {rel:.1e}")
        ax.legend(fontsize=8)
        ctx.save(fig, "pde_poisson_1d.png")
    return checks


def _part_localization(ctx):
    """Indoor localisation on the shipped BLE data (or a simulated building)."""
    from .datasets import load_rss_ble_uog, make_rss_fingerprints
    from .localization import FingerprintLocator, localization_errors

    knn = dict(
        weights="uniform",
        beacon_selection="all",
        n_neighbors=5,
        offset_shrinkage=None,
        gain_shrinkage=None,
    )
    try:
        train = load_rss_ble_uog("train", protocol=3)
        test = load_rss_ble_uog("test", protocol=3)
        F, P, Q, Pq = train.data, train.positions, test.data, test.positions
        name, target = "BLE UoG, hand-held windows (shipped)", 1.9
    except FileNotFoundError:
        b = make_rss_fingerprints(5000, 100, n_queries=2000, random_state=ctx.seed)
        F, P, Q, Pq = b.fingerprints, b.positions, b.queries, b.query_positions
        name, target = "simulated building, 5,000 points", None
    loc, t = _timed(
        lambda: FingerprintLocator(backend=ctx.backend).fit(F, P).predict(Q)
    )
    e = localization_errors(Pq, loc)
    e_knn = localization_errors(
        Pq, FingerprintLocator(**knn, backend=ctx.backend).fit(F, P).predict(Q)
    )
    ok = e.mean() <= (target if target is not None else e_knn.mean())
    ref = f"<= {target} m (issue target; kNN {e_knn.mean():.2f} m)"
    if target is None:
        ref = f"<= kNN's {e_knn.mean():.2f} m"
    checks = [
        Check("RSS fingerprint localisation", name, "mean error (m)",
              f"{e.mean():.2f}", ref, bool(ok), t)
    ]  # fmt: skip
    if ctx.plt is not None:
        fig, ax = ctx.plt.subplots(figsize=(5, 3.2))
        for errs, label in ((e_knn, "kNN k = 5"), (e, "FingerprintLocator")):
            s = np.sort(errs)
            ax.plot(s, np.arange(1, len(s) + 1) / len(s), label=label)
        ax.set_xlabel("error (m)")
        ax.set_ylabel("fraction of observations")
        ax.set_title(name)
        ax.legend(fontsize=8)
        ctx.save(fig, "localization_cdf.png")
    return checks


#: part name -> (what it shows, function)
PARTS = {
    "backend": ("kernel primitives on every usable engine", _part_backend),
    "density": ("kernel density estimation in high dimension", _part_density),
    "privacy": ("private similarity sums and classification", _part_privacy),
    "random_features": ("random features and neural kernels", _part_random_features),
    "graph": ("graph node kernels and clustering", _part_graph),
    "gp": ("Kronecker GP and the GP PDE solver", _part_gp),
    "localization": ("RSS fingerprint localisation", _part_localization),
}


# -------------------------------------------------------------------- runner
def _progress(names):
    """tqdm over the parts when it is installed, plain lines otherwise."""
    try:
        from tqdm.auto import tqdm
    except ImportError:
        tqdm = None
    if tqdm is not None and sys.stderr.isatty():
        bar = tqdm(names, desc="kernlearn demo", unit="part", file=sys.stderr)
        for name in bar:
            bar.set_postfix_str(name)
            yield name
        return
    for i, name in enumerate(names, 1):
        print(f"[{i}/{len(names)}] {name}: {PARTS[name][0]} ...", flush=True)
        yield name


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    return plt


def run_demo(only=None, backend=None, out=None, seed=0, plots=True, stream=None):
    """Run the demo parts and print their table.

    Parameters
    ----------
    only : list of str, default=None
        Part names (keys of :data:`PARTS`); ``None`` runs them all.
    backend : str, default=None
        Engine for every estimator and primitive (``kernlearn.config_context``);
        ``None`` keeps the configuration's choice.
    out : path-like, default=None
        Folder for the figures (created); ``None``: ``kernlearn-demo`` in the
        current directory.
    seed : int, default=0
        Seeds the data splits, the random features and the privacy noise.
    plots : bool, default=True
        Draw the figures (needs matplotlib).
    stream : file, default=None
        Where the table goes (``sys.stdout``).

    Returns
    -------
    checks : list of Check
        Every row; a part that raised is one failed row naming the error.
    """
    from . import config_context
    from .cli import _format_table

    stream = sys.stdout if stream is None else stream
    names = list(PARTS) if not only else list(only)
    unknown = [n for n in names if n not in PARTS]
    if unknown:
        raise ValueError(
            f"unknown demo part(s) {unknown}; choose from {sorted(PARTS)}."
        )
    out = Path("kernlearn-demo" if out is None else out)
    plt = _pyplot() if plots else None
    if plt is not None:
        out.mkdir(parents=True, exist_ok=True)
    ctx = _Context(out=out, seed=seed, backend=backend, plt=plt)
    cfg = config_context(backend=backend) if backend else contextlib.nullcontext()
    checks = []
    t_start = time.perf_counter()
    with cfg, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in _progress(names):
            t0 = time.perf_counter()
            with _tally_engines() as tally:
                try:
                    rows = PARTS[name][1](ctx)
                except Exception as exc:  # noqa: BLE001 - one failed row
                    rows = [
                        Check(PARTS[name][0], "-", "error", type(exc).__name__,
                              str(exc)[:60], False, time.perf_counter() - t0)
                    ]  # fmt: skip
            used = ", ".join(tally.names) or "numpy/scipy (dense)"
            for row in rows:
                row.engines = row.engines or used
            checks.extend(rows)
    elapsed = time.perf_counter() - t_start
    table = [
        [c.capability, c.dataset, c.metric, c.value, c.reference,
         f"{c.seconds:.2f}", c.engines, "PASS" if c.ok else "FAIL"]
        for c in checks
    ]  # fmt: skip
    headers = ["capability", "dataset", "metric", "value", "reference", "time s",
               "engine", "check"]  # fmt: skip
    print(file=stream)
    print(_format_table(headers, table, numbers_right=False), file=stream)
    print(file=stream)
    n_ok = sum(c.ok for c in checks)
    print(
        f"{n_ok} of {len(checks)} checks passed in {elapsed:.0f} s "
        f"(numba threads: {_threads()}).",
        file=stream,
    )
    if plt is None and plots:
        print(
            "matplotlib is not installed: no figures. Install it with "
            'pip install "kernlearn[plot]".',
            file=stream,
        )
    elif ctx.figures:
        print(
            f"Figures ({len(ctx.figures)}) written to {os.path.abspath(out)}",
            file=stream,
        )
    return checks


def _threads():
    try:
        import numba

        return numba.get_num_threads()
    except ImportError:  # pragma: no cover - numba is a core dependency
        return 1
