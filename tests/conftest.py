"""Shared fixtures: stores, suite files, the embedded model, and real servers on 127.0.0.1."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from mendoza.store import Store
from tests.support.fixtures import fake_openai_server
from tests.support.postgres import PostgresCluster, postgres_bin

__all__ = ["fake_openai_server"]

ECHO_SUITE: dict[str, Any] = {
    "suite": "echo-suite",
    "cases": [{"id": f"c{i}", "word": f"w{i}", "expected": f"w{i}"} for i in range(4)],
    "variants": [{"id": "echo", "model": "echo", "prompt": "say {{ word }}"}],
    "graders": [{"contains": "{{ expected }}"}],
    "repeats": 3,
}


@pytest.fixture(autouse=True)
def _no_step_summary(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tests never write to a CI job's real summary (GitHub Actions sets GITHUB_STEP_SUMMARY)."""
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A fresh store in a temporary folder."""
    with Store(tmp_path / "mendoza.db") as opened:
        yield opened


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    """A PostgreSQL server of the tests' own (Debian's postgresql package), for the whole session. Skipped
    where PostgreSQL is not installed, but a failure in CI (CI=true, or MENDOZA_REQUIRE_POSTGRES=1): make
    install puts it there."""
    reason = PostgresCluster.unavailable()
    if reason is not None:
        if os.environ.get("CI") == "true" or os.environ.get("MENDOZA_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"{reason}: make install puts it there (apt-get install postgresql)")
        pytest.skip(reason)
    bin_dir = postgres_bin()
    assert bin_dir is not None
    cluster = PostgresCluster(bin_dir).start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def write_suite(tmp_path: Path) -> Callable[..., Path]:
    """Write a suite (a dict, ECHO_SUITE updated by keyword arguments by default) as YAML; return its path."""

    def write(data: dict[str, Any] | None = None, name: str = "suite.yaml", **changes: Any) -> Path:
        content = dict(data if data is not None else ECHO_SUITE)
        content.update(changes)
        path = tmp_path / name
        path.write_text(yaml.safe_dump(content, sort_keys=False), encoding="utf-8")
        return path

    return write


@pytest.fixture(scope="session")
def gemma_path() -> Path:
    """The embedded model's GGUF file (assembled from its PyPI package on first use)."""
    from mendoza.providers.local import resolve_model_path

    return resolve_model_path("gemma-3-270m")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def llama_server(gemma_path: Path) -> Iterator[str]:
    """llama.cpp's own OpenAI-compatible server (llama-cpp-python[server]) serving the embedded GGUF on
    127.0.0.1; yields its base URL (``http://127.0.0.1:PORT/v1``) and stops it afterwards."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(gemma_path),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        "2048",
        "--model_alias",
        "gemma-3-270m",
    ]
    log = open(os.devnull, "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"llama_cpp.server exited with {process.returncode}")
            try:
                with urllib.request.urlopen(f"{base_url}/models", timeout=1.0) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("llama_cpp.server did not start within 120 s")
            time.sleep(0.2)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
