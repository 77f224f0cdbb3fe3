"""The ``kernlearn`` command line: ``kernlearn info`` and ``kernlearn demo``.

``kernlearn info`` reports versions, the machine, the configuration and which
engines are usable here (and, for each that is not, why and how to install it).
``kernlearn demo`` runs every estimator family once against an independent
reference and prints one table (see :mod:`kernlearn._demo`); ``kernlearn
primitives`` runs the kernel primitives on every usable engine on the same seeded
random data, checks each against the numpy reference engine and prints their
timings. The same interface is available as ``python -m kernlearn``.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import logging
import os
import platform
import sys
import time

import numpy as np

from . import __version__
from ._config import get_config

__all__ = ["main"]

#: (label, distribution names to try); the first installed one is reported.
_CORE_PACKAGES = [
    ("numpy", ("numpy",)),
    ("scipy", ("scipy",)),
    ("scikit-learn", ("scikit-learn",)),
    ("numba", ("numba",)),
]
_OPTIONAL_PACKAGES = [
    ("pykeops", ("pykeops",)),
    ("cupy", ("cupy", "cupy-cuda12x", "cupy-cuda13x", "cupy-cuda11x")),
    ("dask", ("dask",)),
    ("distributed", ("distributed",)),
    ("tqdm", ("tqdm",)),
    ("matplotlib", ("matplotlib",)),
]

#: Agreement with the numpy engine that the demo accepts, by dtype: the tolerances
#: of the engine conformance tests (tests/backend/conformance.py).
_RTOL = {"float64": 1e-10, "float32": 2e-4}

_PRIMITIVES = ("kernel_sum", "kernel_logsumexp", "kernel_topk")

# Sized so that `kernlearn demo` (numpy reference + the fused engines, three
# primitives, two kernels) finishes in about 30 s on 2 cores.
_DEMO_DEFAULT_N = 6000


# --------------------------------------------------------------------- helpers
def _dist_version(names) -> str | None:
    for name in names:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


def _format_table(headers, rows, indent="  ", numbers_right=True) -> str:
    """Plain-text table; numbers right-aligned when ``numbers_right``."""
    cells = [[str(c) for c in headers]] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]

    def is_number(text):
        try:
            float(text.rstrip("*"))
        except ValueError:
            return False
        return True

    lines = []
    for r, row in enumerate(cells):
        parts = []
        for i, text in enumerate(row):
            numeric = numbers_right and r > 0 and is_number(text)
            parts.append(text.rjust(widths[i]) if numeric else text.ljust(widths[i]))
        lines.append(indent + "  ".join(parts).rstrip())
        if r == 0:
            lines.append(indent + "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _plain_pairs(rows, indent="  ") -> str:
    width = max(len(key) for key, _ in rows)
    return "\n".join(f"{indent}{key.ljust(width)}  {value}" for key, value in rows)


def _install_hint(extra) -> str:
    if extra:
        return f'pip install "kernlearn[{extra}]"'
    return "pip install --force-reinstall kernlearn  (core dependency)"


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def _usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _engine_table(status) -> str:
    rows = []
    for name, (usable, reason, extra) in status.items():
        if usable:
            rows.append([name, "yes", "", ""])
        else:
            rows.append([name, "no", _install_hint(extra), reason])
    return _format_table(["engine", "usable", "install with", "why not"], rows)


# ------------------------------------------------------------------------ info
def _cmd_info(args) -> int:
    from .backend import engine_status, resolve_backend
    from .kernels import Gaussian

    print(f"kernlearn {__version__}")
    print()
    print("Versions")
    rows = [["kernlearn", __version__], ["python", platform.python_version()]]
    for label, dists in _CORE_PACKAGES + _OPTIONAL_PACKAGES:
        rows.append([label, _dist_version(dists) or "not installed"])
    print(_format_table(["package", "version"], rows, numbers_right=False))
    print()

    print("Machine")
    rows = [
        ["platform", platform.platform()],
        ["CPU", _cpu_model()],
        ["CPU count", f"{os.cpu_count()} (usable by this process: {_usable_cores()})"],
    ]
    try:
        import numba

        rows.append(["numba threads", str(numba.config.NUMBA_NUM_THREADS)])
    except ImportError:
        pass
    try:
        from threadpoolctl import threadpool_info

        for pool in threadpool_info():
            if pool.get("user_api") == "blas":
                rows.append(
                    [
                        "BLAS",
                        f"{pool.get('internal_api')} {pool.get('version')} "
                        f"({pool.get('num_threads')} threads)",
                    ]
                )
    except ImportError:
        pass
    print(_plain_pairs(rows))
    print()

    print("Configuration (kernlearn.get_config())")
    config = get_config()
    rows = [[key, repr(value)] for key, value in config.items()]
    for var in ("KERNLEARN_BACKEND", "KERNLEARN_WORKING_MEMORY"):
        rows.append([f"${var}", os.environ.get(var, "(unset)")])
    spec = Gaussian(1.0)._engine_spec()
    auto = resolve_backend(None, n_pairs=10**8, spec=spec)
    rows.append(["engine for a large Gaussian kernel_sum", auto])
    print(_plain_pairs(rows))
    print()

    print("Engines")
    print(_engine_table(engine_status()))
    return 0


# ------------------------------------------------------------------------ demo
def _to_numpy(a):
    get = getattr(a, "get", None)  # CuPy arrays
    return np.asarray(get() if callable(get) else a)


def _demo_kernels():
    from . import kernels

    found, missing = [], []
    for label, cls_name in (("gaussian", "Gaussian"), ("laplacian", "Laplacian")):
        cls = getattr(kernels, cls_name, None)
        if cls is None:
            missing.append(cls_name)
        else:
            found.append((label, cls(1.0)))
    return found, missing


def _run_primitive(prim, kernel, X, Y, w, k, backend):
    from . import backend as B

    if prim == "kernel_sum":
        return (_to_numpy(B.kernel_sum(kernel, X, Y, w, backend=backend)),)
    if prim == "kernel_logsumexp":
        return (
            _to_numpy(B.kernel_logsumexp(kernel, X, Y, np.log(w), backend=backend)),
        )
    vals, idx = B.kernel_topk(kernel, X, Y, k, backend=backend)
    return _to_numpy(vals), _to_numpy(idx)


def _max_rel_err(prim, got, ref) -> float:
    tiny = np.finfo(np.float64).tiny
    g = np.asarray(got[0], dtype=np.float64)
    r = np.asarray(ref[0], dtype=np.float64)
    if g.shape != r.shape:
        return float("inf")
    if prim == "kernel_sum":
        scale = np.maximum(np.abs(r), tiny)
    elif prim == "kernel_logsumexp":
        # an absolute error in the log is the relative error of the sum
        both_neg_inf = np.isneginf(g) & np.isneginf(r)
        g, r = np.where(both_neg_inf, 0.0, g), np.where(both_neg_inf, 0.0, r)
        scale = np.maximum(np.abs(r), 1.0)
    else:
        scale = np.maximum(np.max(np.abs(r), axis=1, keepdims=True), tiny)
    with np.errstate(invalid="ignore"):
        err = np.abs(g - r) / scale
    if not np.all(np.isfinite(err)):
        return float("inf")
    return float(np.max(err)) if err.size else 0.0


def _cmd_primitives(args) -> int:
    from .backend import engine_status

    if args.n < 1 or (args.m is not None and args.m < 1) or args.d < 1:
        print(
            "kernlearn primitives: --n, --m and --d must be positive.", file=sys.stderr
        )
        return 2
    m = args.n if args.m is None else args.m
    if not 1 <= args.k <= m:
        print(f"kernlearn primitives: --k must be in [1, m={m}].", file=sys.stderr)
        return 2

    status = engine_status()
    if args.backend is not None:
        usable, reason, extra = status[args.backend]
        if not usable:
            print(
                f"kernlearn: the {args.backend!r} engine is not usable here: "
                f"{reason}\nInstall it with: {_install_hint(extra)}",
                file=sys.stderr,
            )
            return 1
        engines = [args.backend]
    else:
        engines = [name for name, (usable, _, _) in status.items() if usable]
    skipped = [name for name, (usable, _, _) in status.items() if not usable]

    kernels, missing = _demo_kernels()
    dtype = np.dtype(args.dtype)
    rng = np.random.default_rng(args.seed)
    X = rng.standard_normal((args.n, args.d)).astype(dtype)
    Y = rng.standard_normal((m, args.d)).astype(dtype)
    w = rng.uniform(0.5, 1.5, size=m)
    small = min(args.n, m, 64)
    Xs, Ys, ws = X[:small], Y[:small], w[:small]
    ks = min(args.k, small)

    print(
        f"kernlearn primitives: n={args.n}, m={m}, d={args.d}, {dtype.name}, "
        f"k={args.k}, "
        f"seed={args.seed}; engines: {', '.join(engines)}"
    )
    if args.backend is None and skipped:
        print(f"  not usable here (see `kernlearn info`): {', '.join(skipped)}")
    if missing:
        print(f"  kernels not available in this build: {', '.join(missing)}")
    sys.stdout.flush()

    # The numpy engine is the reference: run it once per (primitive, kernel),
    # after a small warm-up like every other engine.
    for _, kernel in kernels:
        for prim in _PRIMITIVES:
            _run_primitive(prim, kernel, Xs, Ys, ws, ks, "numpy")
    reference, ref_seconds = {}, {}
    for label, kernel in kernels:
        for prim in _PRIMITIVES:
            t0 = time.perf_counter()
            reference[prim, label] = _run_primitive(
                prim, kernel, X, Y, w, args.k, "numpy"
            )
            ref_seconds[prim, label] = time.perf_counter() - t0

    rows, failed = [], []
    rtol = _RTOL[dtype.name]
    for engine in engines:
        t0 = time.perf_counter()
        try:  # warm-up: JIT compilation and first-call costs stay out of the timings
            for _, kernel in kernels:
                for prim in _PRIMITIVES:
                    _run_primitive(prim, kernel, Xs, Ys, ws, ks, engine)
        except Exception as exc:  # report and go on with the other engines
            failed.append(f"{engine}: warm-up failed: {type(exc).__name__}: {exc}")
            continue
        if engine != "numpy":
            print(f"  {engine}: warm-up {time.perf_counter() - t0:.1f} s")
            sys.stdout.flush()
        for label, kernel in kernels:
            for prim in _PRIMITIVES:
                ref = reference[prim, label]
                if engine == "numpy":
                    got, seconds = ref, ref_seconds[prim, label]
                else:
                    t0 = time.perf_counter()
                    try:
                        got = _run_primitive(prim, kernel, X, Y, w, args.k, engine)
                    except Exception as exc:
                        failed.append(
                            f"{engine} {prim} {label}: {type(exc).__name__}: {exc}"
                        )
                        continue
                    seconds = time.perf_counter() - t0
                err = _max_rel_err(prim, got, ref)
                ok = err <= rtol
                if not ok:
                    failed.append(
                        f"{engine} {prim} {label}: max rel err {err:.3g} > {rtol:g}"
                    )
                rows.append(
                    [
                        engine,
                        prim,
                        label,
                        args.n,
                        m,
                        args.d,
                        dtype.name,
                        f"{seconds:.3f}",
                        f"{args.n * m / seconds / 1e9:.3f}",
                        f"{err:.1e}",
                        "OK" if ok else "FAIL",
                    ]
                )

    print()
    headers = [
        "engine",
        "primitive",
        "kernel",
        "n",
        "m",
        "d",
        "dtype",
        "seconds",
        "G pairs/s",
        "max rel err vs numpy",
        "check",
    ]
    print(_format_table(headers, rows))
    print()
    if failed:
        print("FAIL:")
        for line in failed:
            print(f"  {line}")
        return 1
    print(f"All engines agree with the numpy engine (tolerance {rtol:g}).")
    return 0


# ---------------------------------------------------------------------- parser
def _build_parser() -> argparse.ArgumentParser:
    from .backend import ENGINES

    parser = argparse.ArgumentParser(
        prog="kernlearn",
        description="kernlearn: scikit-learn compatible kernel methods on fused "
        "CPU/GPU engines.",
    )
    parser.add_argument(
        "--version", action="version", version=f"kernlearn {__version__}"
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="log kernlearn's debug messages (engine choice, fallbacks) to stderr",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser(
        "info",
        help="versions, machine, configuration and usable engines",
        description="Print versions, the machine, the current configuration and "
        "which engines are usable here (with how to install the others).",
    )
    demo = sub.add_parser(
        "demo",
        help="run every estimator family once against a reference",
        description="Run every capability of kernlearn once (kernel primitives, "
        "KDE, private similarity sums, random features and neural kernels, graph "
        "clustering, Kronecker GP and the PDE solver, RSS localisation) on the "
        "shipped data where present and kernlearn's generators otherwise, check "
        "each against an independent reference and print one table; figures go "
        "to --out.",
    )
    demo.add_argument(
        "--only",
        nargs="+",
        metavar="PART",
        default=None,
        help="run these parts only: " + ", ".join(_demo_parts()),
    )
    demo.add_argument(
        "--backend",
        choices=list(ENGINES),
        default=None,
        help="engine for every estimator and primitive (default: the "
        "configuration's, normally auto)",
    )
    demo.add_argument(
        "--out",
        default="kernlearn-demo",
        help="folder for the figures (default ./kernlearn-demo)",
    )
    demo.add_argument("--no-plots", action="store_true", help="draw no figures")
    demo.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    prim = sub.add_parser(
        "primitives",
        help="run and time the kernel primitives on every usable engine",
        description="Run kernel_sum, kernel_logsumexp and kernel_topk with a "
        "Gaussian and a Laplacian kernel on every usable engine on the same "
        "seeded data, check each against the numpy engine and time them.",
    )
    prim.add_argument(
        "--backend",
        choices=list(ENGINES),
        default=None,
        help="run only this engine (the numpy engine still provides the reference)",
    )
    prim.add_argument(
        "--n",
        type=int,
        default=_DEMO_DEFAULT_N,
        help=f"number of query points X (default {_DEMO_DEFAULT_N})",
    )
    prim.add_argument(
        "--m", type=int, default=None, help="number of data points Y (default: n)"
    )
    prim.add_argument("--d", type=int, default=3, help="dimension (default 3)")
    prim.add_argument("--k", type=int, default=5, help="k of kernel_topk (default 5)")
    prim.add_argument(
        "--dtype", choices=["float64", "float32"], default="float64", help="dtype"
    )
    prim.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    return parser


def main(argv=None) -> int:
    """Run the ``kernlearn`` command line.

    Parameters
    ----------
    argv : list of str, default=None
        Arguments without the program name; ``None`` reads ``sys.argv[1:]``.

    Returns
    -------
    status : int
        Exit status: 0 on success, 1 when a demo check fails or a requested engine
        is unusable, 2 on a usage or configuration error.

    Examples
    --------
    >>> from kernlearn.cli import main
    >>> main(["info"])  # doctest: +SKIP
    kernlearn 0.1.0.dev0
    ...
    Engines
      engine  usable  install with  why not
      ------  ------  ------------  -------
      numpy   yes
      ...
    0
    """
    parser = _build_parser()
    args = parser.parse_args(argv)
    if args.verbose:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(name)s %(levelname)s: %(message)s"))
        log = logging.getLogger("kernlearn")
        log.addHandler(handler)
        log.setLevel(logging.DEBUG)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        get_config()  # a bad KERNLEARN_* environment variable surfaces here
    except ValueError as exc:
        print(f"kernlearn: configuration error: {exc}", file=sys.stderr)
        return 2
    if args.command == "info":
        return _cmd_info(args)
    if args.command == "primitives":
        return _cmd_primitives(args)
    return _cmd_demo(args)


def _demo_parts():
    from ._demo import PARTS

    return list(PARTS)


def _cmd_demo(args) -> int:
    from ._demo import PARTS, run_demo
    from .backend import engine_status

    if args.only:
        unknown = [p for p in args.only if p not in PARTS]
        if unknown:
            print(
                f"kernlearn demo: unknown part(s) {', '.join(unknown)}; choose from "
                f"{', '.join(PARTS)}.",
                file=sys.stderr,
            )
            return 2
    if args.backend is not None and args.backend != "auto":
        usable, reason, extra = engine_status()[args.backend]
        if not usable:
            print(
                f"kernlearn demo: the {args.backend!r} engine is not usable here: "
                f"{reason}\nInstall it with: {_install_hint(extra)}",
                file=sys.stderr,
            )
            return 1
    checks = run_demo(
        only=args.only,
        backend=args.backend,
        out=args.out,
        seed=args.seed,
        plots=not args.no_plots,
    )
    return 0 if all(c.ok for c in checks) else 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
