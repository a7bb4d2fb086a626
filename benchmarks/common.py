"""What the benchmarks share: their settings, echo suites on disk, timed child processes with their peak
memory, and reading a run's duration from the store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from mendoza.core import Run

__all__ = [
    "REPO",
    "Settings",
    "Timed",
    "mendoza_command",
    "rate",
    "run_seconds",
    "run_timed",
    "write_echo_suite",
]

REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    """Sizes and switches for one invocation (the defaults are the issue's sizes; ``quick`` shrinks them)."""

    workdir: Path
    quick: bool = False
    inspect: bool = True
    local_model: bool = True

    def size(self, full: int, quick: int) -> int:
        """``full`` normally, ``quick`` in a smoke run."""
        return quick if self.quick else full


@dataclass(frozen=True)
class Timed:
    """A finished child process: wall seconds, peak resident memory (MiB), exit code, its output, CPU seconds."""

    seconds: float
    peak_rss_mib: float
    returncode: int
    stdout: str
    stderr: str
    cpu_seconds: float = 0.0  # user + system time of the child (and the children it waited for)

    def check(self, what: str) -> Timed:
        """Raise with the child's last words unless it exited 0."""
        if self.returncode != 0:
            tail = (self.stderr or self.stdout).strip().splitlines()[-15:]
            raise RuntimeError(f"{what} exited {self.returncode}:\n" + "\n".join(tail))
        return self

    def last_json(self) -> dict[str, Any]:
        """The last line of stdout, parsed as JSON (how the helper scripts report)."""
        lines = [line for line in self.stdout.strip().splitlines() if line.startswith("{")]
        if not lines:
            raise RuntimeError(f"no JSON line in the output:\n{self.stdout[-2000:]}\n{self.stderr[-2000:]}")
        result: dict[str, Any] = json.loads(lines[-1])
        return result


def run_timed(
    command: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 1800
) -> Timed:
    """Run ``command`` to its end; measure its wall time and its own peak RSS (``wait4``'s ``ru_maxrss``,
    which counts this child and the children it waited for, not earlier ones)."""
    out_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"mendoza-bench-{os.getpid()}-{time.monotonic_ns()}"
    with open(f"{out_path}.out", "w+") as out, open(f"{out_path}.err", "w+") as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=err)
        deadline = started + timeout
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                process.kill()
                pid, status, usage = os.wait4(process.pid, 0)
                break
            time.sleep(0.01)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    for suffix in (".out", ".err"):
        Path(f"{out_path}{suffix}").unlink(missing_ok=True)
    # Linux reports ru_maxrss in KiB (macOS in bytes).
    rss = usage.ru_maxrss / 1024 if sys.platform != "darwin" else usage.ru_maxrss / 1024 / 1024
    return Timed(seconds, rss, process.returncode, stdout, stderr, usage.ru_utime + usage.ru_stime)


def mendoza_command(*args: str) -> list[str]:
    """``mendoza ARGS`` with this interpreter (the CLI exactly as installed)."""
    return [sys.executable, "-m", "mendoza", *args]


def write_echo_suite(folder: Path, cases: int, repeats: int, **variant: Any) -> Path:
    """A suite of ``cases`` cases (``say wN``, expected ``wN``) x ``repeats`` on the ``echo`` provider (or
    the model given in ``variant``) with a ``contains`` grader; returns the suite file's path."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "cases.jsonl", "w", encoding="utf-8") as lines:
        for i in range(cases):
            lines.write(json.dumps({"id": f"c{i}", "word": f"w{i}", "expected": f"w{i}"}) + "\n")
    suite = {
        "suite": f"bench-{folder.name}",
        "cases": "cases.jsonl",
        "repeats": repeats,
        "variants": [{"id": "v", "model": "echo", "prompt": "say {{ word }}", **variant}],
        "graders": [{"contains": "{{ expected }}"}],
    }
    path = folder / "suite.yaml"
    path.write_text(yaml.safe_dump(suite, sort_keys=False), encoding="utf-8")
    return path


def run_seconds(run: Run) -> float:
    """How long a run took by the store's own clock: created to finished (millisecond precision)."""
    if run.finished_at is None:
        raise RuntimeError(f"run {run.id} has not finished")
    return (datetime.fromisoformat(run.finished_at) - datetime.fromisoformat(run.created_at)).total_seconds()


def rate(count: float, seconds: float) -> float:
    """``count / seconds``, 0 for no time."""
    return count / seconds if seconds > 0 else 0.0
