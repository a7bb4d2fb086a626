"""Inspect AI in a virtual environment of its own (``benchmarks/.venvs/inspect``), made on first use and
reused after, so that its dependencies never meet mendoza's."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from benchmarks.common import REPO, Timed, run_timed

__all__ = ["INSPECT_VERSION", "inspect_python", "run_inspect_script"]

#: The release the issue's reference figures were measured with.
INSPECT_VERSION = "0.3.285"

_VENV = REPO / "benchmarks" / ".venvs" / "inspect"
_SCRIPTS = REPO / "benchmarks" / "inspect_side"


def _installed_version(python: Path) -> str | None:
    probe = subprocess.run(
        [str(python), "-c", "import importlib.metadata as m; print(m.version('inspect-ai'))"],
        capture_output=True,
        text=True,
        check=False,
    )
    return probe.stdout.strip() if probe.returncode == 0 else None


def inspect_python() -> Path:
    """The Inspect environment's interpreter, creating the environment (about a minute) if needed."""
    python = _VENV / "bin" / "python"
    if python.is_file() and _installed_version(python) == INSPECT_VERSION:
        return python
    print(f"  creating {_VENV.relative_to(REPO)} with inspect-ai=={INSPECT_VERSION} ...", flush=True)
    if not python.is_file():
        subprocess.run([sys.executable, "-m", "venv", str(_VENV)], check=True)
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", f"inspect-ai=={INSPECT_VERSION}", "openai"],
        capture_output=True,
        text=True,
        check=False,
    )
    if install.returncode != 0:
        raise RuntimeError(f"cannot install inspect-ai=={INSPECT_VERSION}:\n{install.stderr[-3000:]}")
    return python


def run_inspect_script(script: str, *args: str, cwd: Path) -> Timed:
    """Run ``benchmarks/inspect_side/SCRIPT ARGS`` with Inspect's interpreter, timed, in ``cwd``."""
    command = [str(inspect_python()), str(_SCRIPTS / script), *args]
    return run_timed(command, cwd=cwd).check(f"Inspect AI's {script}")
