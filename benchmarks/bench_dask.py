"""The dask engine on a LocalCluster against the numba engine in one process.

A Gaussian kernel sum ``sum_j exp(-|x_i - y_j|^2 / (2 h^2))`` with n = m =
1,000,000 points in d = 16 (standard normal, float32; ``h = sqrt(d)``, so the
typical value is ``exp(-1)``): 10^12 kernel evaluations.

- **numba, one process**: ``kernlearn.backend.kernel_sum(..., backend="numba")``
  on in-memory arrays with every usable core (numba threads).
- **dask**: the same call on dask arrays (X in row blocks of ``--x-chunk``, Y in
  blocks of ``--y-chunk``, already on the workers: ``persist``) on a
  ``dask.distributed`` LocalCluster of one single-threaded worker process per
  usable core, the numba engine in each block task. Timed from building the
  graph to the result in memory on the client (n float32 values): scheduling,
  transfers of Y's blocks between workers, the tree reduction and the gather
  are all inside the time.

Both are warmed up first (numba's compilation, on every worker). The two
results are compared (largest difference relative to the largest sum). The
**overhead ratio** is the dask time over the numba time; the target is 1.3.

**Projection to N workers.** From the task stream of the dask run: the pair
tasks' compute times (their sum is the work, their count the parallelism) and
the time outside them (the measured wall time less the busiest worker's
compute: scheduling, transfers, the reduction and the gather). For N workers
of one core each, the projected time of the same problem is ``work / N``
(rounded up to whole tasks per worker at the chunking that gives each worker
at least 4 pair tasks) plus that outside time plus each worker fetching all of
Y once over an assumed network (``--network-gbps``, 10 Gbit/s by default). It
assumes workers as fast as this machine's cores; it is a projection, not a
measurement, and the report says so.

The report, with the machine and the versions, goes to
``benchmarks/results/dask.md``.

Usage::

    python benchmarks/bench_dask.py            # n = m = 1e6 (~15 min on 2 cores)
    python benchmarks/bench_dask.py --quick    # n = m = 1e5 (~1 min)
    python benchmarks/bench_dask.py --n 300000 --x-chunk 50000
"""

from __future__ import annotations

import argparse
import logging
import math
import sys
import time
from pathlib import Path

import numpy as np
from _common import Outcome, machine_rows, run_benchmark, save_report
from _common import fmt_s as _fmt_s
from _common import md_table as _md_table
from _common import usable_cores as _usable_cores

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "results" / "dask.md"
DISTS = ("numpy", "numba", "dask", "distributed")
TARGET_OVERHEAD = 1.3
TOL_EQUAL = 1e-5  # float32 inputs, float64 accumulation on both sides
PROJECTED_WORKERS = (1, 2, 4, 8, 16, 32, 64, 128)


def make_data(n, m, d, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d), dtype=np.float32)
    Y = rng.standard_normal((m, d), dtype=np.float32)
    return X, Y


def run_numba(kernel, X, Y, threads):
    import numba

    from kernlearn.backend import kernel_sum

    numba.set_num_threads(max(1, min(threads, numba.config.NUMBA_NUM_THREADS)))
    kernel_sum(kernel, X[:2000], Y[:2000], backend="numba")  # compile
    t0 = time.perf_counter()
    out = kernel_sum(kernel, X, Y, backend="numba")
    return time.perf_counter() - t0, out


def _warm_worker():
    """Compile the numba engine's float32 Gaussian sum on a worker."""
    import numpy as np

    from kernlearn.backend import kernel_sum
    from kernlearn.kernels import Gaussian

    Z = np.ones((64, 16), dtype=np.float32)
    kernel_sum(Gaussian(1.0), Z, Z, backend="numba")
    return True


def run_dask(kernel, X, Y, args):
    import dask.array as da
    import distributed

    from kernlearn.backend import kernel_sum

    with (
        distributed.LocalCluster(
            n_workers=args.workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=":0",
            silence_logs=logging.ERROR,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        t0 = time.perf_counter()
        Xd = da.from_array(X, chunks=(args.x_chunk, -1)).persist()
        Yd = da.from_array(Y, chunks=(args.y_chunk, -1)).persist()
        distributed.wait([Xd, Yd])
        client.run(_warm_worker)
        setup = time.perf_counter() - t0
        with distributed.get_task_stream(client) as stream:
            t0 = time.perf_counter()
            out = kernel_sum(kernel, Xd, Yd, backend="numba").compute()
            wall = time.perf_counter() - t0
        tasks = _task_times(stream.data)
    n_pairs = len(Xd.chunks[0]) * len(Yd.chunks[0])
    return dict(
        wall=wall, out=out, setup=setup, tasks=tasks, n_pairs=n_pairs,
        nx=len(Xd.chunks[0]), ny=len(Yd.chunks[0]),
    )  # fmt: skip


def _task_times(records):
    """Per task: its key's kind and its compute time, per worker."""
    out = []
    for r in records:
        comp = [s for s in r["startstops"] if s["action"] == "compute"]
        if not comp:
            continue
        key = str(r["key"])
        kind = "pair" if "-pairs-" in key else (
            "reduce" if "kernlearn-" in key else "other"
        )  # fmt: skip
        secs = sum(s["stop"] - s["start"] for s in comp)
        out.append((kind, r["worker"], secs))
    return out


def projection(res, args, n, m, d):
    """Projected seconds and G pairs/s for N single-core workers."""
    pairs = [t for kind, _, t in res["tasks"] if kind == "pair"]
    work = sum(pairs)
    per_worker = {}
    for _, worker, t in res["tasks"]:
        per_worker[worker] = per_worker.get(worker, 0.0) + t
    busiest = max(per_worker.values())
    outside = max(0.0, res["wall"] - busiest)
    rate_core = n * m / work  # pairs per second per core (pair tasks only)
    y_bytes = m * d * 4
    rows = []
    for N in PROJECTED_WORKERS:
        # chunking with >= 4 pair tasks per worker; whole tasks per worker
        n_tasks = max(res["n_pairs"], 4 * N)
        per_task = work / n_tasks
        compute = math.ceil(n_tasks / N) * per_task
        fetch = y_bytes * 8 / (args.network_gbps * 1e9) if N > 1 else 0.0
        total = compute + outside + fetch
        rows.append((N, n_tasks, compute, fetch, outside, total, n * m / total / 1e9))
    return rows, rate_core, outside, work


def write_report(path, args, run, res, t_numba, rel_diff, proj, meta):
    loads, digests, elapsed = meta
    ratio = res["wall"] / t_numba
    rows, rate_core, outside, work = proj
    mrows, blas = machine_rows(
        f"numba threads (one process): {args.threads}; dask workers: "
        f"{args.workers} processes x 1 thread", DISTS, loads, digests,
    )  # fmt: skip
    mrows.append(["BLAS", blas])
    pairs = [t for kind, _, t in res["tasks"] if kind == "pair"]
    reduce = [t for kind, _, t in res["tasks"] if kind == "reduce"]
    n, m, d = args.n, args.n, args.d
    targets = [
        [f"dask time within {TARGET_OVERHEAD:g}x the one-process numba time "
         f"(n = m = {n:,}, d = {d}, float32)",
         f"{_fmt_s(res['wall'])} s against {_fmt_s(t_numba)} s: {ratio:.2f}x",
         ("PASS" if ratio <= TARGET_OVERHEAD else "FAIL") if n >= 1_000_000
         else "n/a (the target is for n = 1,000,000)"],
        [f"equal sums (max diff / max sum <= {TOL_EQUAL:g})", f"{rel_diff:.1e}",
         "PASS" if rel_diff <= TOL_EQUAL else "FAIL"],
        ["one task per block pair plus the reduction",
         f"{res['nx']} x {res['ny']} = {res['n_pairs']} pair tasks, "
         f"{len(reduce)} reduction tasks ran", "PASS"
         if len(pairs) == res["n_pairs"] else "FAIL"],
    ]  # fmt: skip
    timing = [
        ["numba, one process", f"{_fmt_s(t_numba)}",
         f"{n * m / t_numba / 1e9:.2f}", "-"],
        [f"dask, LocalCluster ({args.workers} x 1 thread)", f"{_fmt_s(res['wall'])}",
         f"{n * m / res['wall'] / 1e9:.2f}", f"{ratio:.2f}x"],
    ]  # fmt: skip
    task_rows = [
        ["pair tasks", f"{len(pairs)}", _fmt_s(float(np.median(pairs))),
         _fmt_s(min(pairs)), _fmt_s(max(pairs)), _fmt_s(sum(pairs))],
        ["reduction tasks", f"{len(reduce)}",
         _fmt_s(float(np.median(reduce))) if reduce else "-",
         _fmt_s(min(reduce)) if reduce else "-",
         _fmt_s(max(reduce)) if reduce else "-", _fmt_s(sum(reduce))],
    ]  # fmt: skip
    proj_rows = [
        [f"{N}", f"{nt}", _fmt_s(c), _fmt_s(f), _fmt_s(o), _fmt_s(t), f"{g:.1f}"]
        for N, nt, c, f, o, t, g in rows
    ]
    parts = [
        "# Dask engine benchmark",
        "",
        f"Generated by `{run.command}` in {elapsed / 60:.1f} min.",
        "",
        "A Gaussian kernel sum with n = m = "
        f"{n:,} and d = {d} in float32 ({n * m:.1e} kernel values): the numba "
        "engine in one process against the dask engine on a `dask.distributed` "
        "LocalCluster of this machine's cores, in one run. The dask time runs "
        "from building the graph to the sums in memory on the client; the data "
        f"was already on the workers (X in row blocks of {args.x_chunk:,}, Y in "
        f"blocks of {args.y_chunk:,}; putting it there and compiling numba on "
        f"every worker took {_fmt_s(res['setup'])} s, not counted).",
        "",
        "## Machine",
        "",
        _md_table(["", ""], mrows),
        "",
        "## Targets",
        "",
        _md_table(["target", "figures", "status"], targets),
        "",
        "## Times",
        "",
        _md_table(["engine", "seconds", "G pairs/s", "over numba"], timing),
        "",
        "Task stream of the dask run (compute seconds on the workers):",
        "",
        _md_table(
            ["tasks", "count", "median s", "min s", "max s", "total s"], task_rows
        ),  # fmt: skip
        "",
        "## Projection to N workers",
        "",
        f"Measured here: {rate_core / 1e9:.2f} G pairs/s per single-threaded "
        f"worker inside the pair tasks ({_fmt_s(work)} s of pair work in all) "
        f"and {_fmt_s(outside)} s of the wall time outside the busiest worker's "
        "tasks (scheduling, transfers, the reduction, the gather). Projected "
        "for N single-core workers as fast as these: the pair work split into "
        "at least 4 tasks per worker, whole tasks per worker, plus that outside "
        f"time, plus each worker fetching all of Y ({m * d * 4 / 2**20:.0f} MiB) "
        f"at {args.network_gbps:g} Gbit/s. A projection from measured per-task "
        "times, not a measurement on N machines.",
        "",
        _md_table(
            [
                "workers",
                "pair tasks",
                "compute s",
                "fetch Y s",
                "outside s",
                "projected s",
                "G pairs/s",
            ],
            proj_rows,
        ),  # fmt: skip
        "",
    ]
    return save_report(path, "\n".join(parts)), ratio


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=1_000_000, help="n = m points")
    p.add_argument("--d", type=int, default=16)
    p.add_argument("--x-chunk", type=int, default=None, help="rows per X block")
    p.add_argument("--y-chunk", type=int, default=None, help="rows per Y block")
    p.add_argument("--threads", type=int, default=_usable_cores())
    p.add_argument("--workers", type=int, default=None,
                   help="worker processes (default: --threads)")  # fmt: skip
    p.add_argument("--network-gbps", type=float, default=10.0)
    p.add_argument("--quick", action="store_true", help="n = m = 100,000")
    p.add_argument("--out", default=None)
    args = p.parse_args(argv)
    if args.quick:
        args.n = min(args.n, 100_000)
    if args.workers is None:
        args.workers = max(1, args.threads)
    # 4 row blocks per worker; Y in 4 blocks
    if args.x_chunk is None:
        args.x_chunk = max(1, -(-args.n // (4 * args.workers)))
    if args.y_chunk is None:
        args.y_chunk = max(1, -(-args.n // 4))
    if args.out is None and not args.quick:
        args.out = DEFAULT_OUT
    return args


def summarize(summary, args, t_numba, res, proj):
    case = f"n = m = {args.n:,}, d = {args.d}, float32, {args.workers} workers"
    summary.compare(
        case, "dask engine (LocalCluster)", "numba engine, one process",
        "seconds", res["wall"], t_numba,
        note="overhead of going distributed on one machine; target: ratio >= "
        f"{1 / TARGET_OVERHEAD:.2f}",
    )  # fmt: skip
    rows = proj[0]
    summary.plot(
        "Projected throughput of the dask engine (from measured task times)",
        "workers (one core each)",
        "G pairs/s",
        {"projected": [(r[0], r[6]) for r in rows],
         "measured (dask)": [(args.workers, args.n**2 / res["wall"] / 1e9)],
         "measured (numba, one process)": [(args.threads,
                                            args.n**2 / t_numba / 1e9)]},
    )  # fmt: skip


def _body(args, run):
    try:
        import dask  # noqa: F401
        import distributed  # noqa: F401
    except ImportError as exc:
        text = (
            "# Dask engine benchmark\n\nNot run: dask.distributed is not "
            f'installed ({exc}); `pip install "kernlearn[distributed]"`.\n'
        )
        return Outcome(text, None, failed=True)
    from kernlearn.kernels import Gaussian

    n, d = args.n, args.d
    X, Y = make_data(n, n, d)
    kernel = Gaussian(math.sqrt(d))
    print(f"numba, one process, n = m = {n:,}, d = {d} ...", flush=True)
    t_numba, ref = run_numba(kernel, X, Y, args.threads)
    print(f"  {t_numba:.1f} s", flush=True)
    run.mark("after numba")
    print(f"dask, LocalCluster of {args.workers} workers ...", flush=True)
    res = run_dask(kernel, X, Y, args)
    print(f"  {res['wall']:.1f} s", flush=True)
    run.mark("after dask")
    ref64 = ref.astype(np.float64)
    rel_diff = float(np.max(np.abs(res["out"] - ref64)) / np.max(np.abs(ref64)))
    checks = [{"what": "dask sums equal the numba sums", "err": rel_diff,
               "tol": TOL_EQUAL}]  # fmt: skip
    proj = projection(res, args, n, n, d)
    text, ratio = write_report(
        args.out, args, run, res, t_numba, rel_diff, proj, run.meta
    )
    summarize(run.summary, args, t_numba, res, proj)
    # the overhead target is reported (PASS/FAIL), not a failed check: a busy
    # machine can miss it without anything being wrong
    return Outcome(text, args.out, checks)


def main(argv=None):
    return run_benchmark("dask", _body, parse_args, argv, dists=DISTS,
                         threadpool=False, quiet=True)  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
