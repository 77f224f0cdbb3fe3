"""
Scaling out: kernel sums and a density on a Dask cluster
========================================================

kernlearn's kernel primitives and its fitted estimators take dask arrays and
return dask arrays: each pair of a row block of the queries and a row block of
the data becomes one task that runs kernlearn's own engine on a Dask worker
(numba here), and tree reductions merge the partial results. Nothing is
gathered until asked.

This example starts a :class:`distributed.LocalCluster` of one single-threaded
worker process per core of this machine (the same code runs on a real cluster
after ``Client("tcp://scheduler:8786")``) and

1. computes the Gaussian kernel sums of ``n`` points against ``n`` others
   (d = 16, float32), both drawn on the workers in row blocks, with
   :func:`kernlearn.backend.kernel_sum`: the task graph (one task per block
   pair plus the reductions), the time against the numba engine in one
   process on the same data, and the agreement of the two;
2. finds each point's 5 largest kernel values among the others
   (:func:`~kernlearn.backend.kernel_topk`, top-k lists merged across blocks)
   and checks 1,000 rows against the numpy engine;
3. scores a :class:`~kernlearn.density.KernelDensity` fitted in memory on
   20,000 points at the ``n`` queries kept on the workers: the fitted estimate
   travels to each worker once, the log-densities stay there, and only their
   mean comes back;

and saves the task stream of step 1: which worker ran which block pair when.

Usage::

    python examples/dask_scale_out.py              # n = 200,000, ~1 minute
    python examples/dask_scale_out.py --quick      # n = 40,000, ~15 s
    python examples/dask_scale_out.py --out figure.png

It needs Dask (``pip install "kernlearn[distributed]"``); without it the
script says so and exits. The figure needs matplotlib (``pip install
"kernlearn[plot]"``).
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import sys
import time

import numpy as np
from _common import format_table, pyplot

from kernlearn.backend import kernel_sum, kernel_topk
from kernlearn.density import KernelDensity
from kernlearn.kernels import Gaussian

D = 16


def warm_up():
    """Compile (or load from numba's cache) the kernels the tasks run."""
    from kernlearn.backend import kernel_sum, kernel_topk
    from kernlearn.kernels import Gaussian

    Z = np.ones((64, D), dtype=np.float32)
    kernel_sum(Gaussian(1.0), Z, Z, backend="numba")
    kernel_topk(Gaussian(1.0), Z, Z, k=5, backend="numba")
    kernel_topk(Gaussian(1.0), Z.astype(np.float64), Z, k=5, backend="numba")
    return True


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.strip().split("\n")[0])
    p.add_argument("--quick", action="store_true", help="n = 40,000")
    p.add_argument("--out", default="dask_scale_out.png", help="figure file")
    args = p.parse_args(argv)
    try:
        import dask
        import dask.array as da
        import distributed
    except ImportError as exc:
        print(f'Dask is not installed ({exc}): pip install "kernlearn[distributed]".')
        print("example needs dask and distributed; it exits without a result.")
        return 0
    n = 40_000 if args.quick else 200_000
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 2
    kernel = Gaussian(math.sqrt(D))  # typical value exp(-1) for N(0, I) points
    t_start = time.perf_counter()

    with (
        distributed.LocalCluster(
            n_workers=cores,
            threads_per_worker=1,
            dashboard_address=":0",
            silence_logs=logging.ERROR,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        print(f"LocalCluster: {cores} worker processes x 1 thread.")
        client.run(warm_up)
        warm_up()
        rows = -(-n // (4 * cores))  # four row blocks per worker
        rng = da.random.default_rng(0)
        X = rng.standard_normal((n, D), chunks=(rows, D), dtype=np.float32)
        Y = da.random.default_rng(1).standard_normal(
            (n, D), chunks=(-(-n // 4), D), dtype=np.float32
        )
        X, Y = dask.persist(X, Y)  # drawn on the workers, kept there
        distributed.wait([X, Y])

        # 1. kernel sums, block pair by block pair
        sums = kernel_sum(kernel, X, Y)
        layers = sums.__dask_graph__().layers
        pairs = sum(len(v) - 1 for k, v in layers.items() if "-pairs-" in k)
        reduce = sum(
            len(v) for k, v in layers.items() if k.startswith("kernlearn-kernel_sum-")
            and "-pairs-" not in k
        )  # fmt: skip
        print()
        print(
            f"1. kernel_sum of {n:,} x {n:,} points (d = {D}, float32): a lazy "
            f"dask array; its graph has {pairs} block-pair tasks "
            f"({len(X.chunks[0])} x {len(Y.chunks[0])}) and {reduce} reduction "
            "tasks."
        )
        with distributed.get_task_stream(client) as stream:
            t0 = time.perf_counter()
            got = sums.compute()
            t_dask = time.perf_counter() - t0
        Xl, Yl = X.compute(), Y.compute()  # for the one-process comparison only
        t0 = time.perf_counter()
        ref = kernel_sum(kernel, Xl, Yl, backend="numba")
        t_numba = time.perf_counter() - t0
        rel = float(np.abs(got - ref).max() / np.abs(ref).max())
        print(
            format_table(
                ["run", "seconds", "G pairs/s", "max diff / max sum"],
                [
                    [
                        f"dask, {cores} workers",
                        f"{t_dask:.1f}",
                        f"{n * n / t_dask / 1e9:.2f}",
                        f"{rel:.1e}",
                    ],
                    [
                        f"numba, one process ({cores} threads)",
                        f"{t_numba:.1f}",
                        f"{n * n / t_numba / 1e9:.2f}",
                        "reference",
                    ],
                ],
            )  # fmt: skip
        )
        print(f"   dask over numba: {t_dask / t_numba:.2f}x on this machine.")

        # 2. top-k, merged across column blocks
        vals, idx = kernel_topk(kernel, X, Y, k=5)
        v, i = dask.compute(vals[:1000], idx[:1000])
        rv, ri = kernel_topk(kernel, Xl[:1000], Yl, k=5, backend="numpy")
        same = float(np.mean(i == ri))
        print()
        print(
            f"2. kernel_topk (k = 5) over the {len(Y.chunks[0])} column blocks: on "
            f"the first 1,000 rows, {100 * same:.1f}% of the indices equal the "
            f"numpy engine's, values within {np.abs(v - rv).max():.1e}."
        )

        # 3. a density fitted in memory, scored on the workers
        train = np.random.default_rng(2).standard_normal((20_000, D))
        kde = KernelDensity(bandwidth="scott").fit(train)
        t0 = time.perf_counter()
        log_density = kde.score_samples(X)  # lazy
        mean_ll = float(log_density.mean().compute())
        t_kde = time.perf_counter() - t0
        exact = -0.5 * D * np.log(2 * np.pi) - 0.5 * float(
            (Xl.astype(np.float64) ** 2).sum(axis=1).mean()
        )
        print()
        print(
            f"3. KernelDensity (20,000 training points, bandwidth "
            f"{float(kde.bandwidth_):.3f}) scored at the {n:,} points on the "
            f"workers in {t_kde:.1f} s: mean log-density {mean_ll:.3f}, against "
            f"{exact:.3f} under the true N(0, I) density (lower by the "
            "divergence of the estimate from the truth)."
        )
        tasks = [
            (t["worker"], s["start"], s["stop"], "-pairs-" in str(t["key"]))
            for t in stream.data
            for s in t["startstops"]
            if s["action"] == "compute"
        ]
    print()
    print(f"Time: {time.perf_counter() - t_start:.1f} s")

    plt = pyplot()
    if plt is None:
        return 0
    t_min = min(t[1] for t in tasks)
    workers = sorted({t[0] for t in tasks})
    fig, ax = plt.subplots(figsize=(8, 1.2 + 0.6 * len(workers)))
    for w, start, stop, is_pair in tasks:
        y = workers.index(w)
        ax.barh(y, stop - start, left=start - t_min, height=0.6,
                color="C0" if is_pair else "C3", edgecolor="white")  # fmt: skip
    ax.set_yticks(range(len(workers)), [f"worker {k}" for k in range(len(workers))])
    ax.set_xlabel("seconds since the first task")
    ax.set_title(
        f"kernel_sum {n:,} x {n:,}, d = {D}: block-pair tasks (blue); the "
        "reductions (red) take under a millisecond",
        fontsize=10,
    )
    fig.tight_layout()
    fig.savefig(args.out, dpi=120)
    print()
    print(f"Figure saved to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
