"""Fixtures of the viewer's tests: real runs (mock and echo providers) in a SQLite file, a TestClient over
the app, and, for the browser tests, a real uvicorn server and Debian's headless Chromium."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from mendoza.api import run_suite
from mendoza.core import Run
from mendoza.viewer import create_app, open_viewer_store
from tests.viewer.suites import ticket_suite, xss_suite

BASE_URL = "http://127.0.0.1:8765"
ORIGIN = {"Origin": BASE_URL}
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


@dataclass(frozen=True)
class Runs:
    """A database with three real runs: the ticket router, a better second run of it, and the XSS suite."""

    db: Path
    first: Run
    second: Run
    xss: Run


def make_runs(folder: Path) -> Runs:
    """Run the three suites into ``folder/mendoza.db``."""
    db = folder / "mendoza.db"

    def run_all() -> Runs:
        first = run_suite(ticket_suite(), db=db)
        second = run_suite(ticket_suite(better=True), db=db)
        return Runs(db, first, second, run_suite(xss_suite(), db=db))

    # In a thread of its own: Playwright's sync API keeps an event loop running on the test's thread.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run_all).result(timeout=120)


@pytest.fixture(scope="session")
def shared_runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    """Runs for tests that only read (never label them)."""
    return make_runs(tmp_path_factory.mktemp("viewer-shared"))


@pytest.fixture
def runs(tmp_path: Path) -> Runs:
    """Fresh runs for a test that labels."""
    return make_runs(tmp_path)


@pytest.fixture
def client_for() -> Iterator[Callable[..., TestClient]]:
    """Make a TestClient over the viewer of a database (``create_app`` keyword arguments pass through)."""
    opened: list[Any] = []

    def make(db: Path, base_url: str = BASE_URL, **options: Any) -> TestClient:
        store = open_viewer_store(db)
        client = TestClient(create_app(store, author="tester", **options), base_url=base_url)
        opened.append((client, store))
        return client

    yield make
    for client, store in opened:
        client.close()
        store.close()


@pytest.fixture
def shared_client(shared_runs: Runs, client_for: Callable[..., TestClient]) -> TestClient:
    """A client over the shared runs."""
    return client_for(shared_runs.db)


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    """Debian's Chromium: the browser tests fail without it in CI, and are skipped (saying why) elsewhere."""
    found = CHROMIUM if CHROMIUM.exists() else None
    if found is None and shutil.which("chromium"):
        found = Path(str(shutil.which("chromium")))
    if found is None:
        message = "Debian's chromium is not installed (make install puts it there: apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return found


@pytest.fixture(scope="module")
def browser(chromium_path: Path) -> Iterator[Any]:
    """One headless Chromium per test module, driven by Playwright (never a downloaded browser). Not for
    the whole session: Playwright's sync API keeps an event loop running on the main thread meanwhile, which
    would stop later tests from calling ``asyncio.run``."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(chromium_path), args=CHROMIUM_ARGS)
        yield launched
        launched.close()
