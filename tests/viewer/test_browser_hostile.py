"""Issue 10's hostile inputs in Debian's headless Chromium against a real server: the token leaves the
address bar even on a second visit, and the whole output opened as plain text never runs as code."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.viewer.conftest import Runs
from tests.viewer.live import live_viewer
from tests.viewer.suites import PAYLOADS

pytestmark = pytest.mark.browser

TOKEN = "s3cret-token-for-tests"


@pytest.fixture
def tab(browser: Any) -> Iterator[Any]:
    context = browser.new_context()
    page = context.new_page()
    page.incidents = []
    page.on("dialog", lambda dialog: (page.incidents.append(f"dialog: {dialog.message}"), dialog.dismiss()))
    page.on("pageerror", lambda error: page.incidents.append(f"error: {error}"))
    yield page
    context.close()


def test_the_token_leaves_the_address_bar_on_every_visit(tab: Any, shared_runs: Runs) -> None:
    with live_viewer(shared_runs.db, token=TOKEN) as base:
        grid = f"/runs/{shared_runs.first.id}/grid?failing=1"
        for _ in range(2):  # the second time the cookie is already set: reported to keep the token
            tab.goto(f"{base}{grid}&token={TOKEN}")
            assert tab.url == base + grid
            assert TOKEN not in tab.content()
            href = tab.locator("a.json-link").get_attribute("href")
            assert href == f"/runs/{shared_runs.first.id}/grid.json?failing=1"
    assert tab.incidents == []


def test_the_whole_output_opens_as_plain_text_and_never_runs(tab: Any, shared_runs: Runs) -> None:
    with live_viewer(shared_runs.db) as base:
        tab.goto(f"{base}/runs/{shared_runs.xss.id}/grid")
        tab.locator("table.grid a.cell").first.click()
        sample_url = tab.url
        response = tab.goto(sample_url + "/output.txt")
        assert response.headers["content-type"].startswith("text/plain")
        text = tab.locator("body").inner_text()
        assert any(text == f"Say: {payload}" for payload in PAYLOADS.values())
        assert tab.evaluate("window.__pwned") is None and tab.title() != "pwned"
    assert tab.incidents == []
