"""``mendoza view`` for real: a uvicorn server on 127.0.0.1 serving pages, JSON and the packaged static
files; one-line errors for a missing database or an exposed address without a token."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

from tests.viewer.conftest import Runs


def mendoza(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mendoza", *args], cwd=cwd, capture_output=True, text=True, timeout=60)


def test_view_serves_the_runs_and_stops_on_ctrl_c(shared_runs: Runs, tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "mendoza", "view", "--db", str(shared_runs.db), "--port", "0"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        found = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        assert found, line
        base = found.group(0).rstrip("/")
        with urllib.request.urlopen(f"{base}/runs.json", timeout=10) as response:
            assert response.status == 200 and b"ticket-router" in response.read()
        with urllib.request.urlopen(f"{base}/runs/{shared_runs.first.id}/grid", timeout=10) as response:
            assert b"cases" in response.read()
            assert "script-src 'self'" in response.headers["Content-Security-Policy"]
        with urllib.request.urlopen(f"{base}/static/viewer.css", timeout=10) as response:
            assert b".rate-10" in response.read()
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=20) == 130  # the CLI's exit code for Ctrl-C, after a clean shutdown
        assert "Traceback" not in process.stdout.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_view_without_a_database_is_a_one_line_error(tmp_path: Path) -> None:
    result = mendoza("view", "--db", "nowhere.db", "--port", "0", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().startswith("error: nowhere.db: no mendoza database here")
    assert len(result.stderr.strip().splitlines()) == 1 and not (tmp_path / "nowhere.db").exists()


def test_view_on_another_address_needs_a_token(shared_runs: Runs, tmp_path: Path) -> None:
    result = mendoza("view", "--db", str(shared_runs.db), "--host", "0.0.0.0", "--port", "0", cwd=tmp_path)
    assert result.returncode == 2 and "give --token" in result.stderr
