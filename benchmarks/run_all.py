"""Run every benchmark script at a size that fits this machine, then summarise.

Each ``bench_<name>.py`` runs in its own subprocess (one after the other: each
uses every core) and writes its markdown report ``results/<name>.md`` and,
beside it, its machine-readable summary ``results/<name>.json`` (the headline
comparisons of kernlearn against each peer measured in that run, and the
machine). This script then gathers the summaries in ``results/SUMMARY.md``: the
machine and the versions, each script's status, run time and report, and one
table of kernlearn against each peer (benchmark, case, kernlearn, peer, metric,
the two values and their ratio), ordered by benchmark; and it draws
``results/<name>.png`` from a summary's plot data where matplotlib is installed.

The default sizes fit a 2-core, 24 GiB machine in about an hour; what each
script is run with (``--full`` runs every one at its own defaults instead,
about 2.3 hours on such a machine):

    script                    options (default run)                expected  full run
    bench_kernel_sum.py       --sizes 20000 --budget 5             ~11 min   ~65 min
    bench_kde.py              --budget 8                           ~11 min   ~17 min
    bench_private.py          (its defaults)                       ~5 min    ~5 min
    bench_random_features.py  (its defaults)                       ~2.5 min  ~2.5 min
    bench_graph_kernels.py    --accuracy normwise --stride 11      ~10 min   ~23 min
    bench_kronecker_gp.py     (its defaults)                       ~2 min    ~2 min
    bench_localization.py     (its defaults)                       ~2 min    ~2 min
    bench_dask.py             (its defaults)                       ~15 min   ~15 min

``bench_kernel_sum`` runs n = m = 20,000 only (its default adds 100,000, where
nearly every peer is extrapolated) and extrapolates a peer past 5 s instead of
20 s; ``bench_kde`` extrapolates past 8 s instead of 20 s; ``bench_graph_kernels``
times the like-for-like ``accuracy="normwise"`` mode only and the straightforward
scipy computation on every 11th of the 55 parameter values (its time is scaled
to all 55, as at its default stride of 5). All parts of every script run.

``--quick`` runs every script in its ``--quick`` mode (1 to 3 minutes in all)
into a temporary folder, or ``--out-dir``, never into ``results/``.
``--only kde,private`` runs a subset; the summary then also lists the other
benchmarks' last summaries found in the folder, marked as from an earlier run.
A script that exits non-zero (a failed check), runs past ``--timeout`` or
writes no valid summary is reported as FAILED, and this script then exits with
status 1. ``bench_graph_kernels`` needs the shipped graphs: without them it is
reported as skipped.

Usage::

    python benchmarks/run_all.py                   # ~1 h, writes results/
    python benchmarks/run_all.py --quick           # smoke run (1-3 min), temp folder
    python benchmarks/run_all.py --only kde,private
    python benchmarks/run_all.py --full            # each script's defaults (~2.3 h)
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from _common import (
    SUMMARY_FORMAT,
    load_average,
    machine_facts,
    md_table,
    summary_path,
)

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"


class Bench:
    """One script: its options in the default run, and its expected minutes
    (default run, full run) and seconds (quick run) on a 2-core machine."""

    def __init__(self, name, options, minutes, full_minutes, quick_s, data=False):
        self.name, self.options = name, list(options)
        self.minutes, self.full_minutes, self.quick_s = minutes, full_minutes, quick_s
        self.data = data  # needs the shipped data

    @property
    def script(self):
        return f"bench_{self.name}.py"


BENCHES = (
    Bench("kernel_sum", ["--sizes", "20000", "--budget", "5"], 11, 65, 15),
    Bench("kde", ["--budget", "8"], 11, 17, 15),
    Bench("private", [], 5, 5, 20),
    Bench("random_features", [], 2.5, 2.5, 30),
    Bench(
        "graph_kernels",
        ["--accuracy", "normwise", "--stride", "11"],
        10,
        23,
        15,
        data=True,
    ),
    Bench("kronecker_gp", [], 2, 2, 60),
    Bench("localization", [], 2, 2, 10),
    Bench("dask", [], 15, 15, 20),
)
NAMES = tuple(b.name for b in BENCHES)
TAIL_LINES = 25


# ------------------------------------------------------------------ running
def _shipped_data():
    """None when the shipped data is found, else why not."""
    try:
        from kernlearn.datasets import get_data_home

        get_data_home()
    except (FileNotFoundError, ImportError) as exc:
        return str(exc)
    return None


def _display(path):
    """``path`` relative to the repository root where it lies inside it."""
    try:
        return Path(path).resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return str(path)


def _sanitise(text):
    """Output with this machine's paths (the checkout, the interpreter) cut."""
    for prefix, short in (
        (str(ROOT), "."),
        (sys.prefix, "<python>"),
        (sys.base_prefix, "<python>"),
    ):
        text = text.replace(prefix, short)
    return text


def run_script(bench, args, out_dir):
    """Run one script in a subprocess, echoing its output with a prefix.

    Returns a dict: ``argv`` (its options), ``rc`` (exit status, None after a
    timeout), ``seconds``, ``tail`` (its last lines of output) and ``start``
    (the wall-clock time it started).
    """
    if args.quick:
        options = ["--quick"]
    elif args.full:
        options = []
    else:
        options = list(bench.options)
    out = out_dir / f"{bench.name}.md"
    if out.resolve() != (RESULTS / out.name).resolve() or args.quick:
        options += ["--out", _display(out)]
    cmd = [sys.executable, str(HERE / bench.script), *options]
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    tail = collections.deque(maxlen=TAIL_LINES)
    start = time.time()
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        bufsize=1,
    )

    def pump():
        for line in proc.stdout:
            tail.append(line.rstrip("\n"))
            print(f"[{bench.name}] {line}", end="", flush=True)

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    timeout = args.timeout
    if timeout is None:
        expected = (
            bench.quick_s
            if args.quick
            else 60 * (bench.full_minutes if args.full else bench.minutes)
        )
        timeout = max(600.0, 4 * expected)
    try:
        rc = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        rc = None
        tail.append(f"(killed after {timeout:.0f} s: past --timeout)")
    reader.join(timeout=10)
    return dict(
        argv=options,
        rc=rc,
        seconds=time.perf_counter() - t0,
        tail=list(tail),
        start=start,
    )


def load_summary(path, since=None):
    """The JSON summary at ``path``, or ``(None, why)`` when it is missing,
    older than ``since`` (a time stamp) or not a valid summary."""
    path = Path(path)
    if not path.is_file():
        return None, "no summary written"
    if since is not None and path.stat().st_mtime < since:
        return None, "no summary written by this run"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return None, f"invalid summary ({type(exc).__name__})"
    keys = ("benchmark", "comparisons", "machine", "plots")
    if data.get("format") != SUMMARY_FORMAT or not all(k in data for k in keys):
        return None, "invalid summary (unknown layout)"
    return data, ""


# -------------------------------------------------------------------- plots
def draw_plots(summary, path):
    """Draw the summary's plot panels into one figure at ``path``; returns
    True if a figure was written (False: nothing to plot)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullFormatter

    panels = summary.get("plots") or []
    if not panels:
        return False
    ncols = min(2, len(panels))
    nrows = -(-len(panels) // ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(6.0 * ncols, 4.2 * nrows), squeeze=False
    )
    for ax, panel in zip(axes.ravel(), panels, strict=False):
        for label, points in panel["series"].items():
            xs, ys = zip(*sorted(points), strict=True)
            style = "k--" if "limit" in label else "o-"
            ax.plot(xs, ys, style, label=label, markersize=4)
        if panel.get("xlog"):
            ax.set_xscale("log")
        xs = sorted({x for pts in panel["series"].values() for x, _ in pts})
        if len(xs) <= 10:  # label the measured values themselves
            ax.set_xticks(xs, [f"{x:,g}" for x in xs])
            ax.xaxis.set_minor_formatter(NullFormatter())
        if panel.get("ylog"):
            ax.set_yscale("log")
        ax.set_title(panel["title"], fontsize=10)
        ax.set_xlabel(panel["xlabel"])
        ax.set_ylabel(panel["ylabel"])
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    for ax in axes.ravel()[len(panels) :]:
        ax.set_visible(False)
    fig.suptitle(f"{summary['benchmark']} (run of {summary['machine']['date']})")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


# ------------------------------------------------------------------ summary
def _fmt_value(x):
    if x is None:
        return "-"
    a = abs(x)
    if a >= 1000:
        return f"{x:,.0f}"
    if a >= 100:
        return f"{x:.0f}"
    if a >= 0.01 or a == 0:
        return f"{x:.3g}"
    return f"{x:.2e}"


def _fmt_ratio(x):
    if x is None:
        return "-"
    return f"{x:.0f}x" if x >= 100 else f"{x:.3g}x"


def _fmt_minutes(seconds):
    return "-" if seconds is None else f"{seconds / 60:.1f} min"


def comparison_rows(summaries):
    """The rows of the comparison table, benchmark by benchmark."""
    rows = []
    for name in NAMES:
        data = summaries.get(name)
        if data is None:
            continue
        for c in data["comparisons"]:
            rows.append(
                [
                    name,
                    c["case"],
                    c["kernlearn"],
                    c["peer"],
                    f"{c['metric']}; {c['better']} is better",
                    _fmt_value(c["kernlearn_value"]),
                    _fmt_value(c["peer_value"]),
                    _fmt_ratio(c["ratio"]),
                    c.get("note", ""),
                ]
            )
    return rows


def _link(path, since=None):
    """A markdown link to ``path`` (relative), marked when it predates
    ``since``; None when there is no such file."""
    if not path.is_file():
        return None
    old = since is not None and path.stat().st_mtime < since
    return f"[{path.name}]({path.name})" + (" (from an earlier run)" if old else "")


def write_summary_md(path, ctx):
    """Write ``SUMMARY.md`` from the run's context; returns its text."""
    summaries, status = ctx["summaries"], ctx["status"]
    dists = sorted(
        {d for s in summaries.values() for d in s["machine"].get("versions", {})},
        key=str.lower,
    )
    facts = machine_facts(dists, ctx["loads"])
    digests = sorted(
        {
            x
            for s in summaries.values()
            for x in (s["machine"].get("kernlearn_sources") or [])
        }
    )
    machine = [
        ["date", facts["date"]],
        ["CPU", facts["cpu"]],
        ["cores", f"{facts['cores']} (usable: {facts['usable_cores']})"],
        [
            "load average (1, 5, 15 min)",
            "; ".join(f"{k}: {v}" for k, v in facts["load_average"]),
        ],
        ["platform", facts["platform"]],
        ["python", facts["python"]],
        ["kernlearn", facts["kernlearn"]],
        [
            "kernlearn sources (sha256 of *.py)",
            (", ".join(digests) or "-")
            + (" (CHANGED between or during runs)" if len(digests) > 1 else ""),
        ],
    ]
    machine += [[d, v] for d, v in facts["versions"].items()]
    machine.append(["BLAS", ", ".join(facts["blas"]) or "unknown"])

    runs = []
    for b in BENCHES:
        st = status[b.name]
        data = summaries.get(b.name)
        checks = "-"
        if data is not None:
            n_failed = len(data["checks"]["failed"])
            total = data["checks"]["total"]
            if n_failed:
                checks = f"{n_failed} of {total} FAILED"
            elif total:
                checks = f"{total} passed"
        report = _link(ctx["out_dir"] / f"{b.name}.md", st.get("start")) or "-"
        plot = _link(ctx["out_dir"] / f"{b.name}.png", st.get("start"))
        plot = plot or st.get("plot", "-")
        options = st.get("argv")
        if options is None and data is not None:
            options = data["command"].split(b.script, 1)[-1].split()
        runs.append(
            [
                b.script,
                st["status"],
                _fmt_minutes(st.get("seconds")),
                "`" + " ".join(options) + "`" if options else "(defaults)",
                checks,
                report,
                plot,
            ]
        )
    parts = [
        "# Benchmark summary",
        "",
        f"Generated by `{ctx['command']}` in {ctx['elapsed'] / 60:.1f} min.",
        "",
        "Each row below is kernlearn against one peer on one case, both measured "
        "in the same run of the benchmark's script, on the machine below. "
        "`ratio` says how many times better kernlearn's value is: the peer's "
        "value over kernlearn's where lower is better (seconds, errors, memory), "
        "kernlearn's over the peer's where higher is better (queries/s, "
        "accuracy); above 1, kernlearn is ahead. The reports linked below give "
        "every figure, the options and the checks. The machine has few cores and "
        "may run other jobs (see the load averages in each report): timings are "
        "indicative.",
        "",
        "## Machine",
        "",
        md_table(["", ""], machine),
        "",
        "## Runs",
        "",
        md_table(
            ["script", "status", "run time", "options", "checks", "report", "plot"],
            runs,
        ),
        "",
    ]
    if ctx.get("plot_note"):
        parts += [ctx["plot_note"], ""]
    parts += [
        "## kernlearn against its peers",
        "",
        md_table(
            [
                "benchmark",
                "case",
                "kernlearn",
                "peer",
                "metric",
                "kernlearn value",
                "peer value",
                "ratio",
                "note",
            ],
            comparison_rows(summaries),
        ),
        "",
    ]
    failures = [b for b in BENCHES if status[b.name]["status"].startswith("FAILED")]
    if failures:
        parts += ["## Failures", ""]
        for b in failures:
            parts += [
                f"### {b.script}: {status[b.name]['status']}",
                "",
                "Last lines of its output:",
                "",
                "```",
                *(_sanitise(x) for x in status[b.name].get("tail", [])),
                "```",
                "",
            ]
    text = "\n".join(parts)
    Path(path).write_text(text, encoding="utf-8")
    return text


# --------------------------------------------------------------------- main
def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--quick",
        action="store_true",
        help="every script in its --quick mode, into a temporary folder",
    )
    p.add_argument(
        "--full",
        action="store_true",
        help="every script at its own default sizes (about 2.3 hours on 2 cores)",
    )
    p.add_argument(
        "--only",
        default=None,
        help=f"comma-separated benchmarks to run, of {', '.join(NAMES)}",
    )
    p.add_argument(
        "--out-dir",
        default=None,
        help="folder of the reports and SUMMARY.md (default benchmarks/results; "
        "with --quick a new temporary folder)",
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=None,
        help="seconds a script may run before it is stopped and reported FAILED "
        "(default 4x its expected time, at least 10 min)",
    )
    args = p.parse_args(argv)
    if args.quick and args.full:
        p.error("--quick and --full exclude each other")
    if args.only is None:
        args.only = list(NAMES)
    else:
        args.only = [s.strip().removeprefix("bench_") for s in args.only.split(",")]
        args.only = [s.removesuffix(".py") for s in args.only if s]
        for name in args.only:
            if name not in NAMES:
                p.error(f"unknown benchmark {name!r}; choose from {', '.join(NAMES)}")
    if args.out_dir is None:
        args.out_dir = (
            Path(tempfile.mkdtemp(prefix="kernlearn-bench-")) if args.quick else RESULTS
        )
    args.out_dir = Path(args.out_dir)
    if args.quick and args.out_dir.resolve() == RESULTS.resolve():
        p.error("--quick never writes into benchmarks/results: pick another --out-dir")
    return args


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)
    out_dir = args.out_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    loads = [("start", load_average())]
    no_data = _shipped_data()
    try:
        import matplotlib  # noqa: F401

        plot_note = ""
    except ImportError:
        matplotlib = None
        plot_note = (
            "Plots skipped: matplotlib is not installed "
            '(`pip install "kernlearn[bench]"`).'
        )
    mode = "quick" if args.quick else "full" if args.full else "default"
    selected = [b for b in BENCHES if b.name in args.only]
    expected = sum(
        b.quick_s / 60 if args.quick else b.full_minutes if args.full else b.minutes
        for b in selected
    )
    print(
        f"running {len(selected)} benchmark(s), {mode} sizes, into "
        f"{_display(out_dir)} (expected about {expected:.0f} min)",
        flush=True,
    )

    status, summaries, failed = {}, {}, False
    for b in BENCHES:
        if b.name not in args.only:
            data, _ = load_summary(summary_path(out_dir / f"{b.name}.md"))
            if data is not None:
                summaries[b.name] = data
                status[b.name] = dict(
                    status=f"not run now (summary of {data['machine']['date']})",
                    seconds=data.get("elapsed_s"),
                )
            else:
                status[b.name] = dict(status="not run")
            continue
        if b.data and no_data is not None:
            status[b.name] = dict(status="SKIPPED: shipped data not found")
            print(f"[{b.name}] skipped: shipped data not found ({no_data})")
            continue
        print(f"=== {b.script}", flush=True)
        res = run_script(b, args, out_dir)
        data, why = load_summary(summary_path(out_dir / f"{b.name}.md"), res["start"])
        if res["rc"] is None:
            text = "FAILED (timeout)"
        elif res["rc"] != 0:
            text = f"FAILED (exit status {res['rc']})"
        elif data is None:
            text = f"FAILED ({why})"
        else:
            text = "ok"
        failed |= text != "ok"
        status[b.name] = dict(status=text, **res)
        if data is not None:
            summaries[b.name] = data
            png = out_dir / f"{b.name}.png"
            if matplotlib is not None:
                try:
                    if not draw_plots(data, png):
                        status[b.name]["plot"] = "- (the table says it)"
                except Exception as exc:  # a plot must not sink the summary
                    status[b.name]["plot"] = f"failed ({type(exc).__name__})"
        print(f"=== {b.script}: {text} in {res['seconds'] / 60:.1f} min", flush=True)
        loads.append((f"after {b.name}", load_average()))

    elapsed = time.perf_counter() - t0
    cmd = "python benchmarks/run_all.py" + (" " + " ".join(argv) if argv else "")
    ctx = dict(
        summaries=summaries,
        status=status,
        out_dir=out_dir,
        loads=loads,
        command=cmd,
        elapsed=elapsed,
        plot_note=plot_note,
    )
    path = out_dir / "SUMMARY.md"
    write_summary_md(path, ctx)
    print(f"summary written to {_display(path)}")
    for b in selected:
        print(f"  {b.script:28s} {status[b.name]['status']}")
    print(f"done in {elapsed / 60:.1f} min")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
