"""The viewer reads a run while it is being written: its own connection, WAL, and pages that show a run in
progress (cases without samples yet) and catch up as samples arrive."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from starlette.testclient import TestClient

from mendoza.api import run_suite
from mendoza.core import Run
from mendoza.store import Store
from tests.viewer.suites import ticket_suite


def test_pages_follow_a_run_that_is_still_writing(tmp_path: Path, client_for: Callable[..., TestClient]) -> None:
    db = tmp_path / "live.db"
    Store(db).close()  # the file exists before the viewer opens it
    client = client_for(db)
    slow = ticket_suite(repeats=6)
    variants = tuple(
        variant.model_copy(update={"params": {**variant.params, "delay": 0.05}, "concurrency": 2})
        for variant in slow.variants
    )
    finished: list[Run] = []
    writer = threading.Thread(
        target=lambda: finished.append(run_suite(slow.model_copy(update={"variants": variants}), db=db))
    )
    writer.start()
    try:
        deadline = time.monotonic() + 30
        seen_running = None
        while time.monotonic() < deadline and writer.is_alive():
            runs = client.get("/runs.json").json()["runs"]
            if runs and runs[0]["run"]["status"] == "running" and runs[0]["run"]["done_samples"] > 0:
                seen_running = runs[0]["run"]
                break
            time.sleep(0.05)
        assert seen_running is not None, "never saw the run in progress"
        run_id = seen_running["id"]
        assert seen_running["done_samples"] < seen_running["expected_samples"]
        grid = client.get(f"/runs/{run_id}/grid.json").json()
        assert grid["pagination"]["total"] == 8  # every case is listed, sampled or not
        overview = client.get(f"/runs/{run_id}.json").json()
        assert 0 < sum(variant["samples"] for variant in overview["variants"]) < 96
        assert client.get(f"/runs/{run_id}/grid").status_code == 200
    finally:
        writer.join(timeout=60)
    assert finished and finished[0].status == "complete"
    final = client.get(f"/runs/{finished[0].id}.json").json()
    assert sum(variant["samples"] for variant in final["variants"]) == 96
