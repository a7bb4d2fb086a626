"""The history page (``/suites/{name}/history``, issue 15 part 5 in the viewer): the chart, the flagged change,
the cases that newly pass linked to the grid, the JSON twin equal to ``history_to_dict``, the link from the
runs list, and a hostile suite name (markup, ``/``, bidi controls) escaped everywhere and routed back whole."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from markupsafe import escape
from starlette.testclient import TestClient

from mendoza.report import build_history, history_to_dict
from mendoza.store import Store
from mendoza.viewer.links import history_url
from tests.report.history_factory import at_rate, make_suite, write_run
from tests.viewer.page_support import watch_incidents

HOSTILE = "team/<script>window.__pwned='suite'</script> \u202egnp.exe"
HOSTILE_VARIANT = "v<img src=x onerror=alert(1)>"


def _flip_before(case: int, repeat: int, rng: Any) -> bool:
    return case != 0 and bool(rng.random() < 0.3)  # c00 fails every time


def _flip_after(case: int, repeat: int, rng: Any) -> bool:
    return case == 0 or bool(rng.random() < 0.9)  # c00 passes every time


def _write(db: Path, name: str = "history", variant: str = "v") -> list[str]:
    """Three runs: 30% -> 90% (planted, and c00 newly passes every time) -> 90% again (a rerun)."""
    with Store(db) as store:
        suite = make_suite(name, variants=((variant, "echo"),))
        return [
            write_run(store, suite, {variant: _flip_before}, seed=1),
            write_run(store, suite, {variant: _flip_after}, seed=2),
            write_run(store, suite, {variant: at_rate(0.9)}, seed=3),
        ]


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "history.db"


def _json_link(html: str) -> str:
    found = re.search(r'<a class="json-link" href="([^"]*)"', html)
    assert found is not None
    return unescape(found.group(1))


def test_the_page_shows_the_chart_the_flagged_change_and_the_new_passes(
    db: Path, client_for: Callable[..., TestClient]
) -> None:
    first, second, third = _write(db)
    client = client_for(db)
    response = client.get("/suites/history/history")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    text = response.text
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="history-chart"' in text
    assert text.count('class="flagged"') == 1  # the ring around the planted change, not the rerun
    with Store(db, readonly=True) as store:
        history = build_history(store, "history")
    [planted] = history.flagged
    assert (planted.before.id, planted.after.id) == (first, second)
    changes = re.findall(r'<tr class="history-change (\w+)">', text)
    assert changes == ["better"]
    assert str(escape(planted.comparison.verdict)) in text
    assert f'href="/compare?a={first}&amp;va=v&amp;b={second}&amp;vb=v&amp;view=adjusted"' in text
    # c00 newly passes every time, linked to the later run's grid on that case.
    assert f'<a href="/runs/{second}/grid?variant=v&amp;q=c00"><bdi>c00: 0/3 -&gt; 3/3 (every sample)</bdi></a>' in text
    # Every run listed, newest first, with the rerun's change not flagged.
    assert re.findall(r'class="run-link" href="/runs/([^"]+)"', text) == [third, second, first]
    assert "no real change: " in text and "really better: " in text
    assert " style=" not in text and "<style" not in text
    assert len(re.findall(r"<script\b", text)) == 1


def test_the_json_twin_is_history_to_dict(db: Path, client_for: Callable[..., TestClient]) -> None:
    _write(db)
    client = client_for(db)
    with Store(db, readonly=True) as store:
        expected = json.loads(json.dumps(history_to_dict(build_history(store, "history"))))
        automatic = json.loads(json.dumps(history_to_dict(build_history(store, "history", verdicts="automatic"))))
    twin = client.get("/suites/history/history.json")
    assert twin.status_code == 200 and twin.headers["content-type"] == "application/json"
    assert twin.json() == expected
    assert client.get("/suites/history/history?format=json").json() == expected
    assert client.get("/suites/history/history.json?view=auto").json() == automatic
    assert _json_link(client.get("/suites/history/history").text) == "/suites/history/history.json"


def test_a_bad_view_or_an_unknown_suite_is_one_line(db: Path, client_for: Callable[..., TestClient]) -> None:
    _write(db)
    client = client_for(db)
    bad = client.get("/suites/history/history.json?view=nope").json()
    assert bad["status"] == 400 and bad["error"].startswith("'view' must be one of adjusted, auto")
    missing = client.get("/suites/nope/history")
    assert missing.status_code == 404 and "no run of suite" in missing.text and "Traceback" not in missing.text
    assert "history.db" in missing.text and str(db.parent) not in missing.text  # the file's name, not its path


def test_the_runs_list_links_to_each_suites_history(db: Path, client_for: Callable[..., TestClient]) -> None:
    _write(db)
    client = client_for(db)
    runs = client.get("/runs").text
    assert runs.count('<a class="history-link" href="/suites/history/history"') == 3
    assert client.get("/suites/history/history").status_code == 200


def test_a_new_run_shows_at_once(db: Path, client_for: Callable[..., TestClient]) -> None:
    _write(db)
    client = client_for(db)
    assert len(client.get("/suites/history/history.json").json()["runs"]) == 3
    with Store(db) as store:
        added = write_run(store, make_suite("history"), {"v": at_rate(0.2)}, seed=9)
    data = client.get("/suites/history/history.json").json()
    assert [run["id"] for run in data["runs"]][-1] == added
    assert data["flagged"][-1]["to_run"] == added and data["flagged"][-1]["direction"] == "worse"


def test_a_hostile_suite_name_is_escaped_and_routed_back_whole(db: Path, client_for: Callable[..., TestClient]) -> None:
    _write(db, HOSTILE, HOSTILE_VARIANT)
    client = client_for(db)
    url = history_url(HOSTILE)
    assert url.startswith("/suites/team%2F%3Cscript%3E") and url.endswith("/history") and "<" not in url
    runs = client.get("/runs").text
    assert f'href="{escape(url)}"' in runs
    response = client.get(url)
    assert response.status_code == 200
    text = response.text
    assert "<script>window.__pwned" not in text and "<img" not in text
    assert "&lt;script&gt;window.__pwned=&#39;suite&#39;&lt;/script&gt;" in text
    assert "&lt;img src=x onerror=alert(1)&gt;" in text  # the variant, in the tables and the chart
    assert "\u202e" not in text and "⟨U+202E⟩gnp.exe" in text  # bidi controls shown, never applied
    assert len(re.findall(r"<script\b", text)) == 1 and not re.search(r"<[^>]*\s(style|onerror)=", text)
    assert 'class="history-chart"' in text and 'class="flagged"' in text
    # The JSON twin's link routes back to the same suite, whose name comes back whole.
    twin = client.get(_json_link(text))
    assert twin.status_code == 200 and twin.json()["suite"] == HOSTILE
    assert twin.json()["runs"][0]["variants"][0]["variant"] == HOSTILE_VARIANT


@pytest.mark.browser
def test_the_history_page_in_chromium(browser: Any, db: Path) -> None:
    """From the runs list to the history of a hostile suite, in a real browser over a real server: the page
    loads under the viewer's CSP with no error, runs no injected script, and draws the chart."""
    from playwright.sync_api import expect

    from tests.viewer.live import live_viewer

    _write(db, HOSTILE, HOSTILE_VARIANT)
    context = browser.new_context(viewport={"width": 1360, "height": 900})
    tab = context.new_page()
    incidents = watch_incidents(tab)
    try:
        with live_viewer(db) as base:
            tab.goto(f"{base}/runs")
            tab.locator("a.history-link").first.click()
            expect(tab.locator("svg.history-chart")).to_be_visible()
            box = tab.locator("svg.history-chart").bounding_box()
            assert box is not None and box["width"] > 300 and box["height"] > 150
            assert tab.locator("svg.history-chart circle.flagged").count() == 1
            expect(tab.locator("tr.history-change")).to_have_count(1)
            expect(tab.locator("h1")).to_contain_text("<script>window.__pwned='suite'</script>")
            assert tab.evaluate("window.__pwned") is None
            assert tab.locator("script").count() == 1
            href = tab.locator("a.json-link").get_attribute("href")
            assert href is not None and href.endswith("/history.json")
            assert context.request.get(base + href).json()["suite"] == HOSTILE
    finally:
        context.close()
    assert incidents == []


def test_the_page_shows_the_last_runs_unless_asked_for_more(db: Path, client_for: Callable[..., TestClient]) -> None:
    _, second, third = _write(db)
    client = client_for(db)
    last_two = client.get("/suites/history/history?last=2")
    assert "the last 2 of 3 runs" in last_two.text and 'href="?last=3">show them all</a>' in last_two.text
    assert re.findall(r'class="run-link" href="/runs/([^"]+)"', last_two.text) == [third, second]
    data = client.get("/suites/history/history.json?last=2").json()
    assert [run["id"] for run in data["runs"]] == [second, third] and data["runs"][0]["variants"][0]["change"] is None
    assert "the last" not in client.get("/suites/history/history").text
    assert client.get("/suites/history/history.json?last=x").json()["status"] == 400
