"""Take the screenshots of the viewer in docs/ (viewer-overview.png, viewer-grid.png, viewer-sample.png).

    .venv/bin/python docs/make_viewer_screenshots.py

Runs the example's support tickets through a scripted ``mock`` model (two prompts: one flaky, one mostly
right; so it takes a second, not the embedded model's minutes), overrules one grade as a person would, then
photographs the pages in Debian's headless Chromium against a real server on 127.0.0.1.
"""

from __future__ import annotations

import json
import tempfile
import threading
import time
from pathlib import Path

import uvicorn
from playwright.sync_api import sync_playwright

from mendoza.api import run_suite
from mendoza.core import Case, GraderSpec, Suite, Variant
from mendoza.soft import record_label, review_queue
from mendoza.store import Store
from mendoza.viewer import create_app, open_viewer_store
from mendoza.viewer.server import bind

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "support_tickets"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


def suite() -> Suite:
    """The example's tickets and prompts, answered by mock models instead of the embedded one."""
    rows = [json.loads(line) for line in (EXAMPLE / "tickets.jsonl").read_text().splitlines() if line.strip()]
    cases = tuple(
        Case(
            id=row["id"],
            vars={"ticket": row["ticket"], "queue": row["expected"]},
            expected=row["expected"],
            tags=(row["id"].split("-")[0],),
        )
        for row in rows
    )
    zero_shot = ["{{ queue|capitalize }}", "technical", "The {{ queue }} team", "{{ queue }}", "account"]
    few_shot = ["{{ queue|capitalize }}.", "{{ queue }}", "{{ queue }}", "{{ queue }}", "The {{ queue }} team"]
    return Suite(
        name="support-ticket-router",
        description="Route a customer support ticket to one of four queues (billing, technical, account, "
        "shipping): zero-shot instructions versus worked examples.",
        cases=cases,
        variants=(
            Variant(
                id="zero-shot",
                model="mock/gemma-3-270m",
                prompt=(EXAMPLE / "prompts/zero_shot.j2").read_text(),
                params={"outputs": zero_shot},
            ),
            Variant(
                id="few-shot",
                model="mock/gemma-3-270m",
                prompt=(EXAMPLE / "prompts/few_shot.j2").read_text(),
                params={"outputs": few_shot},
            ),
        ),
        graders=(
            GraderSpec(
                type="equals",
                params={"value": "{{ expected }}", "ignore_case": True, "ignore_punctuation": True},
                name="equals",
            ),
            GraderSpec(type="contains", params={"value": "{{ expected }}"}, name="contains"),
        ),
        repeats=5,
        seed=7,
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "mendoza.db"
        run = run_suite(suite(), db=db)
        with Store(db) as store:
            # The first sample most worth a look: its graders disagree ("The billing team": right, but wordy).
            sample_id = review_queue(store, run.id, ["zero-shot"])[0].sample_id
            record_label(
                store, sample_id, passed=True, note="Right queue; the answer is wordy, not wrong.", author="product"
            )
        viewer_store = open_viewer_store(db)
        sock = bind("127.0.0.1", 0)
        base = f"http://127.0.0.1:{sock.getsockname()[1]}"
        server = uvicorn.Server(uvicorn.Config(create_app(viewer_store), log_level="warning", lifespan="off"))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.02)
        shots = {
            "viewer-overview.png": f"/runs/{run.id}",
            "viewer-grid.png": f"/runs/{run.id}/grid?sort=pass_rate&per_page=14",
            "viewer-sample.png": f"/runs/{run.id}/samples/{sample_id}",
        }
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1280, "height": 900}, device_scale_factor=1)
                for name, url in shots.items():
                    page.goto(base + url)
                    page.screenshot(path=str(ROOT / "docs" / name), full_page=True)
                    print(f"docs/{name}: {url}")
                browser.close()
        finally:
            server.should_exit = True
            thread.join(timeout=10)
            viewer_store.close()


if __name__ == "__main__":
    main()
