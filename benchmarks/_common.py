"""Helpers shared by the benchmark scripts: machine facts, timing, markdown, the
shared runner of a script's ``main`` and the machine-readable summary each run
writes beside its report."""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.metadata
import json
import math
import os
import platform
import sys
import time
import warnings
from pathlib import Path


def version(dist):
    """Installed version of a distribution, or ``"not installed"``."""
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def cpu_model():
    """The CPU's model name (from /proc/cpuinfo where there is one)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def usable_cores():
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def load_average():
    """The 1, 5 and 15 minute load averages as text (``"n/a"`` where unknown)."""
    try:
        return "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    except (AttributeError, OSError):
        return "n/a"


def best(fn, repeat=3, min_total=1.0):
    """``(best seconds, last result)`` of up to ``repeat`` runs; fewer once the
    runs so far took ``min_total`` seconds."""
    fastest = math.inf
    total = 0.0
    out = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        dt = time.perf_counter() - t0
        fastest = min(fastest, dt)
        total += dt
        if total >= min_total:
            break
    return fastest, out


def md_table(headers, rows):
    """A markdown table."""
    lines = ["| " + " | ".join(headers) + " |"]
    lines.append("|" + "|".join("---" for _ in headers) + "|")
    for row in rows:
        lines.append("| " + " | ".join(str(c) for c in row) + " |")
    return "\n".join(lines)


def _blas_libraries():
    """The BLAS libraries loaded in this process (``"internal_api version"``)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    return sorted(
        {
            f"{p.get('internal_api')} {p.get('version')}"
            for p in threadpool_info()
            if p.get("user_api") == "blas"
        }
    )


def machine_facts(dists=(), loads=None, digests=None, threads=None):
    """The machine, the versions and the run's load as a plain dict (for JSON).

    Parameters
    ----------
    dists : sequence of str
        Distributions whose versions are listed.
    loads : list of (label, text) or None
        Load averages taken during the run.
    digests : (str, str) or None
        Digests of kernlearn's sources at the start and at the end of the run.
    threads : int or None
        Threads the run used.

    Returns
    -------
    facts : dict
    """
    import datetime

    import kernlearn

    return {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "usable_cores": usable_cores(),
        "threads": threads,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "kernlearn": kernlearn.__version__,
        "kernlearn_sources": None if digests is None else list(digests),
        "load_average": None if loads is None else [list(x) for x in loads],
        "versions": {dist: version(dist) for dist in dists},
        "blas": _blas_libraries(),
    }


def machine_rows(cores_note, dists, loads=None, digests=None):
    """The shared rows of a report's machine table, and the BLAS libraries.

    Parameters
    ----------
    cores_note : str
        What follows the core counts, e.g. ``"threads used: 2"``.
    dists : sequence of str
        Distributions whose versions are listed.
    loads : list of (label, text) or None
        Load averages taken during the run.
    digests : (str, str) or None
        Digests of kernlearn's sources at the start and at the end of the run.

    Returns
    -------
    rows : list of [str, str]
    blas : str
    """
    facts = machine_facts(dists, loads, digests)
    rows = [
        ["date", facts["date"]],
        ["CPU", facts["cpu"]],
        [
            "cores",
            f"{facts['cores']} (usable: {facts['usable_cores']}); {cores_note}",
        ],
    ]
    if loads is not None:
        rows.append(
            ["load average (1, 5, 15 min)", "; ".join(f"{k}: {v}" for k, v in loads)]
        )
    rows += [
        ["platform", facts["platform"]],
        ["python", facts["python"]],
        ["kernlearn", facts["kernlearn"]],
    ]
    if digests is not None:
        rows.append(
            [
                "kernlearn sources (sha256 of *.py)",
                digests[0]
                if digests[0] == digests[1]
                else f"start {digests[0]}, end {digests[1]} (CHANGED during the run)",
            ]
        )
    rows += [[dist, v] for dist, v in facts["versions"].items()]
    return rows, ", ".join(facts["blas"]) or "unknown"


def fmt_s(x):
    """A time or ratio with 3 significant digits (whole numbers from 100); "-"
    for None or non-finite."""
    if x is None or not math.isfinite(x):
        return "-"
    if x >= 100:
        return f"{x:.0f}"
    return f"{x:.3g}"


def ints(text):
    """``"1e4,2000"`` -> ``[10000, 2000]`` (command-line lists)."""
    return [int(float(t)) for t in text.split(",") if t.strip()]


def source_digest():
    """Short SHA-256 of kernlearn's Python sources (to tell whether they changed
    during the run: other work may edit them while a long benchmark runs)."""
    import hashlib
    from pathlib import Path

    import kernlearn

    root = Path(kernlearn.__file__).resolve().parent
    h = hashlib.sha256()
    for f in sorted(root.rglob("*.py")):
        h.update(f.relative_to(root).as_posix().encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:12]


def save_report(path, text):
    """Write a report (creating its folder) when ``path`` is given; return text."""
    if path is not None:
        from pathlib import Path

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return text


def set_numba_threads(n):
    """Cap numba's threads at ``n`` (where numba is installed)."""
    try:
        import numba

        numba.set_num_threads(max(1, min(n, numba.config.NUMBA_NUM_THREADS)))
    except ImportError:
        pass


def report_outcome(text, out, checks):
    """Print the report (or where it went) and every failed check; return the
    failed checks (each a dict with ``what``, ``err`` and ``tol``)."""
    if out is None:
        print()
        print(text)
    else:
        print(f"report written to {out}")
    failed = [c for c in checks if not c["err"] <= c["tol"]]
    for c in failed:
        print(f"CHECK FAILED: {c['what']}: {c['err']:.3g} > {c['tol']:g}")
    return failed


def parse_parts(parser, text, known):
    """``"a, b"`` -> ``["a", "b"]``, or a parser error naming an unknown part."""
    parts = [s.strip() for s in text.split(",") if s.strip()]
    for part in parts:
        if part not in known:
            parser.error(f"unknown part {part!r}; choose from {known}")
    return parts


# ------------------------------------------------- machine-readable summaries
#: Version of the JSON summary's layout (``benchmarks/run_all.py`` reads it).
SUMMARY_FORMAT = 1


def _number(x):
    """A finite float, or None (JSON has no inf or nan)."""
    if x is None:
        return None
    try:
        x = float(x)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def advantage(kernlearn_value, peer_value, better):
    """How many times better kernlearn's value is than the peer's: the peer's
    over kernlearn's where lower is better, kernlearn's over the peer's where
    higher is better (above 1: kernlearn ahead). None where undefined."""
    a, b = _number(kernlearn_value), _number(peer_value)
    if a is None or b is None:
        return None
    num, den = (b, a) if better == "lower" else (a, b)
    return num / den if den > 0 and num >= 0 else None


class Summary:
    """The headline comparisons of one run, and the data of its plots.

    Every comparison is kernlearn against one peer on one case, both measured
    in this run; :func:`write_summary` writes them, with the machine, as JSON
    beside the markdown report, and ``benchmarks/run_all.py`` gathers them in
    ``results/SUMMARY.md`` and draws the plots.
    """

    def __init__(self):
        self.comparisons = []
        self.plots = []

    def compare(
        self,
        case,
        kernlearn,
        peer,
        metric,
        kernlearn_value,
        peer_value,
        *,
        better="lower",
        note="",
    ):
        """Add one comparison.

        Parameters
        ----------
        case : str
            What was run, e.g. ``"n = 10,000, d = 8"``.
        kernlearn, peer : str
            The two methods.
        metric : str
            What the values measure, with the unit (``"seconds"``,
            ``"queries/s"``, ``"mean abs. error"``, ``"MiB"``, ...).
        kernlearn_value, peer_value : float
            The two values.
        better : {"lower", "higher"}, default="lower"
            Which direction of the metric is better.
        note : str, default=""
            E.g. that a value is extrapolated.
        """
        if better not in ("lower", "higher"):
            raise ValueError(f"better must be 'lower' or 'higher', got {better!r}")
        self.comparisons.append(
            {
                "case": str(case),
                "kernlearn": str(kernlearn),
                "peer": str(peer),
                "metric": str(metric),
                "kernlearn_value": _number(kernlearn_value),
                "peer_value": _number(peer_value),
                "ratio": advantage(kernlearn_value, peer_value, better),
                "better": better,
                "note": str(note),
            }
        )

    def plot(self, title, xlabel, ylabel, series, *, xlog=True, ylog=True):
        """Add one panel of the benchmark's figure: ``series`` maps a line's
        label to its ``(x, y)`` points (points with a missing value are
        dropped; lines left empty are not drawn)."""
        lines = {}
        for label, points in series.items():
            pts = [
                [_number(x), _number(y)]
                for x, y in points
                if _number(x) is not None and _number(y) is not None
            ]
            if pts:
                lines[str(label)] = pts
        if lines:
            self.plots.append(
                {
                    "title": title,
                    "xlabel": xlabel,
                    "ylabel": ylabel,
                    "xlog": bool(xlog),
                    "ylog": bool(ylog),
                    "series": lines,
                }
            )


def summary_path(report):
    """Where the JSON summary of the report at ``report`` goes (beside it)."""
    return Path(report).with_suffix(".json")


def write_summary(path, run, *, report, checks, exit_status):
    """Write the JSON summary of ``run`` (a :class:`Run`) to ``path``.

    Keys: ``format``, ``benchmark``, ``script``, ``command``, ``report`` (the
    markdown report's file name), ``elapsed_s``, ``exit_status``, ``checks``
    (``total`` and the ``failed`` ones' descriptions), ``machine`` (see
    :func:`machine_facts`), ``comparisons`` (see :meth:`Summary.compare`) and
    ``plots`` (see :meth:`Summary.plot`).
    """
    failed = [c["what"] for c in checks if not c["err"] <= c["tol"]]
    data = {
        "format": SUMMARY_FORMAT,
        "benchmark": run.name,
        "script": f"benchmarks/bench_{run.name}.py",
        "command": run.command,
        "report": Path(report).name,
        "elapsed_s": _number(run.elapsed),
        "exit_status": exit_status,
        "checks": {"total": len(checks), "failed": failed},
        "machine": machine_facts(
            run.dists, run.loads, run.digests, getattr(run.args, "threads", None)
        ),
        "comparisons": run.summary.comparisons,
        "plots": run.summary.plots,
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    return path


# ------------------------------------------------------------ the shared runner
@dataclasses.dataclass
class Outcome:
    """What a benchmark's body hands back to :func:`run_benchmark`.

    Attributes
    ----------
    text : str
        The markdown report.
    out : path or None
        Where the report was written (None: printed only).
    checks : list of dict
        Checks, each with ``what``, ``err`` and ``tol``; a failed one makes the
        script exit with status 1.
    failed : bool
        A failure beyond the checks (e.g. a FAIL in a table of targets).
    summary : bool
        Whether to write the JSON summary beside the report.
    """

    text: str
    out: object = None
    checks: list = dataclasses.field(default_factory=list)
    failed: bool = False
    summary: bool = True


class Run:
    """One run of a benchmark script: its arguments, its clock, the load
    averages and source digests taken during it, and its :class:`Summary`."""

    def __init__(self, name, args, argv, dists=()):
        self.name, self.args, self.argv, self.dists = name, args, list(argv), dists
        self.summary = Summary()
        self.t0 = time.perf_counter()
        self.digests = [source_digest()]
        self.loads = [("start", load_average())]
        self.elapsed = None

    @property
    def command(self):
        """The command line that ran this, as the reports quote it."""
        cmd = f"python benchmarks/bench_{self.name}.py"
        return cmd + (" " + " ".join(self.argv) if self.argv else "")

    def mark(self, label):
        """Take the load average now, labelled (e.g. ``"after part 1"``)."""
        self.loads.append((label, load_average()))

    def finish(self):
        """Stop the clock and take the final source digest (once); warn when
        the sources changed during the run. Returns the elapsed seconds."""
        if self.elapsed is None:
            self.elapsed = time.perf_counter() - self.t0
            self.digests.append(source_digest())
            if self.digests[0] != self.digests[1]:
                print("WARNING: kernlearn's sources changed during the run", flush=True)
        return self.elapsed

    @property
    def meta(self):
        """``(loads, digests, elapsed)``, as the report writers take them."""
        self.finish()
        return self.loads, self.digests, self.elapsed


def _thread_limits(threads, user_api):
    """threadpoolctl's limit (a null context without threadpoolctl)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(limits=threads, user_api=user_api)


def run_benchmark(
    name,
    body,
    parse_args,
    argv=None,
    *,
    dists=(),
    threadpool="blas",
    numba_threads=False,
    quiet=False,
):
    """The ``main`` of every benchmark script.

    Parses the arguments, caps the threads, takes the load average and the
    digest of kernlearn's sources, runs ``body(args, run)`` (which returns an
    :class:`Outcome`), prints the report (or where it went) and every failed
    check, writes the JSON summary beside the report, and returns the exit
    status: 1 if a check failed or the outcome says it failed, else 0.

    Parameters
    ----------
    name : str
        The benchmark's name: the script is ``bench_<name>.py``.
    body : callable
        ``body(args, run) -> Outcome``; ``run`` is the :class:`Run`.
    parse_args : callable
        ``parse_args(argv) -> argparse.Namespace`` with a ``threads`` field.
    argv : list of str or None
        Arguments (default ``sys.argv[1:]``).
    dists : sequence of str
        Distributions whose versions the summary lists.
    threadpool : {"blas", None, False}, default="blas"
        threadpoolctl ``user_api`` limited to ``args.threads`` during the body
        (None: every API; False: no limit).
    numba_threads : bool, default=False
        Whether to cap numba's threads at ``args.threads``.
    quiet : bool, default=False
        Whether to silence warnings during the body.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)
    args.threads = max(1, args.threads)
    if numba_threads:
        set_numba_threads(args.threads)
    run = Run(name, args, argv, dists)
    print(
        f"load average at start: {run.loads[0][1]}; threads: {args.threads}", flush=True
    )
    with contextlib.ExitStack() as stack:
        if threadpool is not False:
            stack.enter_context(_thread_limits(args.threads, threadpool))
        if quiet:
            stack.enter_context(warnings.catch_warnings())
            warnings.simplefilter("ignore")
        outcome = body(args, run)
    elapsed = run.finish()
    failed = report_outcome(outcome.text, outcome.out, outcome.checks)
    status = 1 if failed or outcome.failed else 0
    if outcome.out is not None and outcome.summary:
        path = write_summary(
            summary_path(outcome.out),
            run,
            report=outcome.out,
            checks=outcome.checks,
            exit_status=status,
        )
        print(f"summary written to {path}")
    print(f"done in {elapsed:.0f} s")
    return status
