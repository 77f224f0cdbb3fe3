"""Run a repository script in a subprocess, as a user would."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_script(script, *args, timeout=900, cwd=None):
    """Run ``script`` (a path relative to the repository root) with ``args`` on
    this interpreter; fail with its output if it fails. Returns its standard
    output."""
    proc = subprocess.run(
        [sys.executable, str(ROOT / script), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout


def run_quick(script, out, timeout=900, cwd=None):
    """Run ``script`` with ``--quick --out out``; see :func:`run_script`."""
    return run_script(script, "--quick", "--out", out, timeout=timeout, cwd=cwd)


def run_full(script, out, timeout=900, cwd=None):
    """Run ``script`` in its full (default) mode with ``--out out``."""
    return run_script(script, "--out", out, timeout=timeout, cwd=cwd)
