"""How fast the viewer's pages are on a run of 100,000 samples (5,000 cases x 2 variants x 10 repeats).

    .venv/bin/python benchmarks/viewer_pages.py [--cases 5000] [--repeats 10] [--db PATH]

Builds the run (``echo`` and a flaky ``mock`` variant, two graders so they sometimes disagree) unless --db
names a database that has one, then times each page in process (Starlette's TestClient) and through a real
uvicorn server on 127.0.0.1 (urllib): the first request (cold caches) and the median of the next ones.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path

import uvicorn
from starlette.testclient import TestClient

from mendoza.api import run_suite
from mendoza.core import Case, GraderSpec, Suite, Variant
from mendoza.store import Store
from mendoza.viewer import create_app, open_viewer_store
from mendoza.viewer.server import bind

REPEAT_TIMES = 5


def big_suite(cases: int, repeats: int) -> Suite:
    """cases x 2 variants x repeats: an echo variant, and a mock one whose answer varies by seed."""
    return Suite(
        name="viewer-benchmark",
        cases=tuple(
            Case(
                id=f"case-{index:05d}",
                vars={"question": f"question {index} about topic {index % 37}", "answer": str(index % 3)},
                expected=str(index % 3),
                tags=(f"t{index % 5}",),
            )
            for index in range(cases)
        ),
        variants=(
            Variant(id="echo", model="echo", prompt="Q: {{ question }} A: {{ answer }}"),
            Variant(
                id="mock",
                model="mock",
                prompt="Q: {{ question }}",
                params={"outputs": ["{{ answer }}", "{{ answer }} maybe", "no idea", "{{ answer }}"]},
            ),
        ),
        graders=(
            GraderSpec(type="contains", params={"value": "{{ expected }}"}, name="contains"),
            GraderSpec(type="length", params={"max": 40, "unit": "chars"}, name="length"),
        ),
        repeats=repeats,
    )


def timed(fetch: Callable[[str], int], url: str) -> tuple[float, float]:
    """(first, median of the next REPEAT_TIMES) in milliseconds."""
    started = time.perf_counter()
    status = fetch(url)
    first = (time.perf_counter() - started) * 1000
    assert status == 200, (url, status)
    times = []
    for _ in range(REPEAT_TIMES):
        started = time.perf_counter()
        fetch(url)
        times.append((time.perf_counter() - started) * 1000)
    return first, statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=5000)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--db", type=Path, default=None)
    options = parser.parse_args()
    folder = tempfile.TemporaryDirectory()
    db = options.db or Path(folder.name) / "bench.db"
    if not db.exists():
        started = time.perf_counter()
        run = run_suite(big_suite(options.cases, options.repeats), db=db)
        print(f"built run {run.id}: {run.done_samples:,} samples in {time.perf_counter() - started:.1f} s")
    with Store(db) as store:
        run = store.runs.get("latest")
        sample_id = store.outcomes.cell_verdicts(run.id, case_ids=["case-02500"])[0].first_sample_id
    pages = {
        "runs list": "/runs",
        "overview": f"/runs/{run.id}",
        "grid, first page": f"/runs/{run.id}/grid",
        "grid, page 50": f"/runs/{run.id}/grid?page=50",
        "grid, failing, by pass rate": f"/runs/{run.id}/grid?failing=1&sort=pass_rate",
        "grid, flaky, last page": f"/runs/{run.id}/grid?flaky=1&page=100000",
        "grid, search 'topic 12'": f"/runs/{run.id}/grid?q=topic+12",
        "grid, tag + disagree": f"/runs/{run.id}/grid?tag=t3&disagree=1&sort=disagreement",
        "grid JSON": f"/runs/{run.id}/grid.json?failing=1",
        "sample": f"/runs/{run.id}/samples/{sample_id}",
        "sample JSON": f"/runs/{run.id}/samples/{sample_id}.json",
        "review, first": f"/runs/{run.id}/review",
        "review, item 1000": f"/runs/{run.id}/review?at=1000",
        "compare two variants": f"/compare?a={run.id}",
    }
    store = open_viewer_store(db)
    app = create_app(store)
    client = TestClient(app, base_url="http://127.0.0.1:8765")

    def in_process(url: str) -> int:
        return client.get(url).status_code

    sock = bind("127.0.0.1", 0)
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    server = uvicorn.Server(uvicorn.Config(create_app(open_viewer_store(db)), log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)

    def over_http(url: str) -> int:
        with urllib.request.urlopen(base + url, timeout=60) as response:
            response.read()
            return int(response.status)

    print(f"\n{'page':32} {'TestClient first':>17} {'median':>8} {'HTTP first':>11} {'median':>8}  (ms)")
    for name, url in pages.items():
        first, median = timed(in_process, url)
        http_first, http_median = timed(over_http, url)
        print(f"{name:32} {first:17.1f} {median:8.1f} {http_first:11.1f} {http_median:8.1f}")
    # One label, then the overview again (its cache is invalidated by the new grade).
    token = app.state.csrf_token
    started = time.perf_counter()
    response = client.post(
        f"/runs/{run.id}/samples/{sample_id}/label",
        data={"csrf": token, "verdict": "pass"},
        headers={"Origin": "http://127.0.0.1:8765"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    print(f"{'label (POST)':32} {(time.perf_counter() - started) * 1000:17.1f}")
    started = time.perf_counter()
    client.get(f"/runs/{run.id}")
    print(f"{'overview after a label':32} {(time.perf_counter() - started) * 1000:17.1f}")
    server.should_exit = True
    thread.join(timeout=10)
    client.close()
    store.close()
    folder.cleanup()


if __name__ == "__main__":
    main()
