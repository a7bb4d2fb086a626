"""A real `mendoza run` process killed with SIGKILL mid-run resumes to every sample exactly once."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from mendoza.store import Store

pytestmark = pytest.mark.slow

CASES = 40
REPEATS = 3


def _count(db: Path) -> int:
    try:
        with sqlite3.connect(db) as connection:
            return int(connection.execute("SELECT COUNT(*) FROM samples").fetchone()[0])
    except sqlite3.Error:
        return 0


def _mendoza(*args: str, cwd: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "mendoza", *args], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


@pytest.mark.parametrize("kill_signal", [signal.SIGKILL, signal.SIGTERM])
def test_killed_run_resumes_complete_without_duplicates(
    tmp_path: Path, write_suite: Any, kill_signal: signal.Signals
) -> None:
    suite = write_suite(
        {
            "suite": "slow",
            "cases": [{"id": f"c{i}", "word": f"w{i}"} for i in range(CASES)],
            "variants": [
                {
                    "id": "a",
                    "model": "mock",
                    "params": {"delay": 0.02, "output": "{{ word }}"},
                    "concurrency": 2,
                },
                {
                    "id": "b",
                    "model": "mock",
                    "params": {"delay": 0.03, "output": "x{{ word }}"},
                    "concurrency": 3,
                },
            ],
            "graders": [{"contains": "{{ word }}"}],
            "repeats": REPEATS,
        }
    )
    db = tmp_path / "runs.db"
    process = _mendoza("run", str(suite), "--db", str(db), cwd=tmp_path)
    deadline = time.monotonic() + 60
    while _count(db) < 30:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "no samples were stored"
        time.sleep(0.02)
    os.kill(process.pid, kill_signal)
    process.wait(timeout=30)
    if kill_signal == signal.SIGTERM:
        assert process.returncode == 130, process.stderr.read() if process.stderr else ""
    stored = _count(db)
    assert 30 <= stored < 2 * CASES * REPEATS

    with Store(db, readonly=True) as store:
        run = store.runs.latest()[0]
        assert run.status == ("running" if kill_signal == signal.SIGKILL else "interrupted")

    resumed = _mendoza("run", "--resume", run.id, "--db", str(db), cwd=tmp_path)
    _out, err = resumed.communicate(timeout=120)
    assert resumed.returncode == 0, err.decode()

    with Store(db, readonly=True) as store:
        finished = store.runs.get(run.id)
        keys = [(s.variant_id, s.case_id, s.repeat) for s in store.samples.iterate(run.id)]
        assert finished.status == "complete"
        assert len(keys) == len(set(keys)) == 2 * CASES * REPEATS
        assert all(s.passed for s in store.samples.iterate(run.id))
