"""The items page (``/runs/{run}/items``, ``mendoza cases analyze`` in the viewer): the same figures as
``analyse_items`` in the report's words, the JSON twin equal to ``items_to_dict``, the overview's link, hostile
names and outputs escaped, and the page in Chromium under the viewer's CSP."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from markupsafe import escape
from starlette.testclient import TestClient

from mendoza.report import (
    ItemAnalysis,
    analyse_items,
    discrimination_words,
    flakiness_words,
    items_to_dict,
    rate_words,
    suspect_words,
)
from mendoza.store import Store
from tests.report.items_factory import SMALL as COUNTS
from tests.report.items_factory import VARIANTS, write_counts
from tests.viewer.live import live_viewer
from tests.viewer.page_support import table_rows, watch_incidents

HOSTILE_SUITE = "<script>window.__pwned='suite'</script>"
HOSTILE_CASE = "c<script>window.__pwned='case'</script>"
HOSTILE_OUTPUT = "<img src=x onerror=\"window.__pwned='output'\">"


def _outputs(case_id: str, variant_id: str, repeat: int) -> str:
    return "Paris" if case_id == "wrong" else f"no {case_id}"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "items.db"


@pytest.fixture
def plain(db: Path) -> str:
    with Store(db) as store:
        return write_counts(store, COUNTS, VARIANTS, 2, outputs=_outputs)


@pytest.fixture
def client(db: Path, plain: str, client_for: Callable[..., TestClient]) -> TestClient:
    return client_for(db)


def _analysis(db: Path, run_id: str, **options: Any) -> ItemAnalysis:
    with Store(db, readonly=True) as store:
        return analyse_items(store, run_id, **options)


def _rows(html: str) -> list[list[str]]:
    return table_rows(html, "item-row")


def test_the_page_shows_every_case_worst_first_with_the_reports_figures(
    client: TestClient, db: Path, plain: str
) -> None:
    response = client.get(f"/runs/{plain}/items")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    analysis = _analysis(db, plain)
    rows = _rows(response.text)
    assert len(rows) == len(analysis.items) == 7
    for row, item in zip(rows, analysis.items, strict=True):
        case_id, flags, rate, discrimination, flaky, outputs = row
        assert case_id == item.case_id
        assert flags == " ".join(item.flags)
        assert rate == rate_words(item.difficulty)
        assert discrimination == discrimination_words(item.discrimination)
        assert flaky == flakiness_words(item)
        assert outputs == suspect_words(item)
    assert [row[0] for row in rows[:4]] == ["wrong", "rev", "easy", "flaky"]
    assert rows[0][5] == '6/6 say "Paris" (3 variants)'
    for line in analysis.suggestions:
        assert str(escape(line)) in response.text
    assert "(1 suspect · 1 reversed · 1 saturated · 2 flaky)" in response.text
    assert f'href="/runs/{plain}/grid?q=wrong"' in response.text  # each case opens the grid on it
    assert "Across runs" not in response.text  # no other run of the suite
    assert "Traceback" not in response.text


def test_the_json_twin_is_items_to_dict(client: TestClient, db: Path, plain: str) -> None:
    twin = client.get(f"/runs/{plain}/items.json")
    assert twin.status_code == 200 and twin.headers["content-type"] == "application/json"
    assert twin.json() == json.loads(json.dumps(items_to_dict(_analysis(db, plain))))
    assert client.get(f"/runs/{plain}/items?format=json").json() == twin.json()
    automatic = client.get(f"/runs/{plain}/items.json?view=auto").json()
    assert automatic == json.loads(json.dumps(items_to_dict(_analysis(db, plain, verdicts="automatic"))))
    assert automatic["verdicts"] == "automatic"


def test_a_label_changes_the_page_and_other_runs_add_a_column(
    client: TestClient, db: Path, plain: str
) -> None:
    assert _rows(client.get(f"/runs/{plain}/items").text)[0][1] == "suspect"
    with Store(db) as store:
        first = store.browse.case_samples(plain, "wrong", ["weak"])[0]
        store.labels.add(first.id, passed=True, score=None, note="Paris is right", author="tester")
    assert "suspect" not in _rows(client.get(f"/runs/{plain}/items").text)[0][1]  # not a stale cache
    assert _rows(client.get(f"/runs/{plain}/items?view=auto").text)[0][1] == "suspect"
    with Store(db) as store:
        write_counts(store, COUNTS, VARIANTS, 2)
    page = client.get(f"/runs/{plain}/items").text
    assert "<th class=\"num\">Across runs</th>" in page and len(_rows(page)[0]) == 7
    assert "pools this run with 1 other run" in page


def test_a_bad_view_or_run_is_one_line(client: TestClient, plain: str) -> None:
    response = client.get(f"/runs/{plain}/items?view=nope")
    assert response.status_code == 400
    message = re.search(r'<p class="error-message"><bdi>(.*?)</bdi></p>', response.text, re.S)
    assert message is not None and unescape(message.group(1)).startswith("'view' must be one of adjusted, auto")
    missing = client.get("/runs/nope/items.json")
    assert missing.status_code == 404 and "no run 'nope'" in missing.json()["error"]


def test_the_overview_links_to_the_items_page(client: TestClient, plain: str) -> None:
    overview = client.get(f"/runs/{plain}").text
    assert f'<a class="button" href="/runs/{plain}/items"' in overview


def test_hostile_names_and_outputs_are_escaped(db: Path, client_for: Callable[..., TestClient]) -> None:
    with Store(db) as store:
        run_id = write_counts(
            store, {HOSTILE_CASE: [0, 0], "ok": [1, 2], "ok2": [2, 0]}, ["a", "b"], 2, name=HOSTILE_SUITE,
            run_id="r&<b>'1\"", outputs=lambda case, variant, repeat: HOSTILE_OUTPUT,
        )
    client = client_for(db)
    overview = client.get("/runs/" + quote(run_id, safe="")).text
    link = re.search(r'<a class="button" href="([^"]*)"[^>]*>Items</a>', overview)
    assert link is not None and "<" not in link.group(1) and '"' not in unescape(link.group(1))
    response = client.get(unescape(link.group(1)))
    assert response.status_code == 200
    text = response.text
    assert "<script>window.__pwned" not in text and "<img" not in text and "<b>" not in text
    assert "&lt;script&gt;window.__pwned=&#39;case&#39;&lt;/script&gt;" in text
    assert "&lt;script&gt;window.__pwned=&#39;suite&#39;&lt;/script&gt;" in text
    assert "&lt;img src=x onerror=" in text
    scripts = re.findall(r"<script\b[^>]*>", text)
    assert len(scripts) == 1 and scripts[0].startswith('<script src="/static/viewer.js?v=')
    assert " style=" not in text and "<style" not in text and " on" + "click=" not in text
    assert _rows(text)[0][0] == HOSTILE_CASE
    data = client.get(unescape(link.group(1)) + ".json").json()
    assert data["run"]["suite"] == HOSTILE_SUITE and data["cases"][0]["common_output"] == HOSTILE_OUTPUT


@pytest.mark.browser
def test_the_items_page_in_chromium(browser: Any, db: Path) -> None:
    from playwright.sync_api import expect

    with Store(db) as store:
        run_id = write_counts(
            store, {HOSTILE_CASE: [0, 0, 0], **COUNTS}, ["a", "b", "c"], 2, name=HOSTILE_SUITE,
            outputs=lambda case, variant, repeat: HOSTILE_OUTPUT,
        )
    context = browser.new_context(viewport={"width": 1360, "height": 900})
    tab = context.new_page()
    incidents = watch_incidents(tab)
    try:
        with live_viewer(db) as base:
            tab.goto(f"{base}/runs/{run_id}")
            tab.get_by_role("link", name="Items").click()
            expect(tab).to_have_url(re.compile(r"/items$"))
            expect(tab.locator("tr.item-row")).to_have_count(8)
            expect(tab.locator("#suggestions")).to_contain_text("every variant fails")
            expect(tab.locator("tr.item-row").first).to_contain_text("suspect")
            tab.get_by_role("link", name="Automatic").click()
            expect(tab).to_have_url(re.compile(r"/items\?view=auto$"))
            expect(tab.locator("tr.item-row")).to_have_count(8)
            assert tab.evaluate("window.__pwned") is None
            assert tab.locator("script").count() == 1
    finally:
        context.close()
    assert incidents == []
