"""Run a repository script in a subprocess, as a user would."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_quick(script, out, timeout=900, cwd=None):
    """Run ``script`` (a path relative to the repository root) with
    ``--quick --out out`` on this interpreter; fail with its output if it fails.
    Returns its standard output."""
    proc = subprocess.run(
        [sys.executable, str(ROOT / script), "--quick", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout
