"""The design page (``/runs/{run}/design``, issue 14's ``mendoza design`` in the viewer): the same figures as
``build_design`` in the report's words, the JSON twin equal to ``design_to_dict``, ``target`` and ``check``
read and refused in one line, hostile names escaped, and the page in Chromium under the viewer's CSP."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from mendoza.core import Case, Grade, GraderSpec, HumanReview, Sample, Suite, Variant
from mendoza.report import (
    DesignReport,
    build_design,
    cost_words,
    design_to_dict,
    design_to_html,
    designs_in_order,
    frontier_svg,
    interval_words,
    percent,
    recommendation_words,
    versus_words,
)
from mendoza.store import Store
from mendoza.viewer.links import design_url
from tests.viewer.live import live_viewer
from tests.viewer.page_support import table_rows, watch_incidents

CORRECT = GraderSpec(type="contains", params={"value": "{{ expected }}"}, name="correct")
CHECK = GraderSpec(type="regex", params={"pattern": "^[A-Z]$"}, name="check", runtime=True)
SHORT = GraderSpec(type="length", params={"max": 1, "unit": "chars"}, name="short")
HUMAN = HumanReview(cost=2.0, seconds=60.0)
HOSTILE_VARIANT = "b<script>window.__pwned='variant'</script>"
HOSTILE_SUITE = "<script>window.__pwned='suite'</script>"

# (variant, case, repeat): (correct, check passed, check score, errored, cost, latency ms, output), as in
# tests/report/test_design.py.
ROWS = {
    ("a", "c1", 0): (True, True, 0.9, False, 0.01, 100.0, "A"),
    ("a", "c1", 1): (False, None, None, True, 0.0, 50.0, None),
    ("a", "c2", 0): (False, False, 0.2, False, 0.01, 100.0, "x"),
    ("a", "c2", 1): (False, True, 0.5, False, 0.01, 100.0, "B"),
    ("b", "c1", 0): (True, True, 0.8, False, 0.10, 1000.0, "A"),
    ("b", "c1", 1): (True, True, 0.7, False, 0.10, 1000.0, "A"),
    ("b", "c2", 0): (True, True, 0.9, False, 0.10, 1000.0, "B"),
    ("b", "c2", 1): (False, False, 0.1, False, 0.10, 1000.0, "y"),
}


def _suite(name: str, second: str) -> Suite:
    return Suite(
        name=name,
        cases=(Case(id="c1", expected="A"), Case(id="c2", expected="B")),
        variants=(Variant(id="a", model="echo"), Variant(id=second, model="echo")),
        graders=(CORRECT, CHECK, SHORT),
        repeats=2,
        human=HUMAN,
    )


def _write(store: Store, *, name: str = "design", second: str = "b", run_id: str | None = None) -> str:
    """A finished run written straight into the store: a reference grader, a run-time check, and a
    reference-free grader not marked run-time (``short``), each grade with its spec's definition hash."""
    run = store.runs.create(_suite(name, second), run_id=run_id)
    samples = []
    for (variant, case, repeat), (correct, check, score, errored, cost, latency, output) in ROWS.items():
        grades = () if errored else (
            Grade("correct", correct, float(correct), grader_hash=CORRECT.definition_hash()),
            Grade("check", check, score, grader_hash=CHECK.definition_hash()),
            Grade("short", True, 1.0, grader_hash=SHORT.definition_hash()),
        )
        samples.append(Sample(case, second if variant == "b" else variant, repeat, "p", output,
                              error="boom" if errored else None, cost=cost, latency_ms=latency, grades=grades))
    store.samples.write(run.id, samples)
    return run.id


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "design.db"


@pytest.fixture
def plain(db: Path) -> str:
    with Store(db) as store:
        return _write(store)


@pytest.fixture
def client(db: Path, plain: str, client_for: Callable[..., TestClient]) -> TestClient:
    return client_for(db)


def _report(db: Path, run_id: str, **options: Any) -> DesignReport:
    with Store(db, readonly=True) as store:
        return build_design(store, run_id, **options)


def _rows(html: str) -> list[list[str]]:
    return table_rows(html, "design-row")


def test_the_page_shows_every_design_with_the_reports_figures(client: TestClient, db: Path, plain: str) -> None:
    response = client.get(f"/runs/{plain}/design")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    report = _report(db, plain)
    rows = _rows(response.text)
    expected = designs_in_order(report)
    assert len(rows) == len(expected) == len(report.designs) > 8
    for row, design in zip(rows, expected, strict=True):
        name, kind, reliability, band, versus, cost, human, _latency, cases, frontier = row
        assert name == design.name
        assert kind == design.kind
        assert reliability == interval_words(design)
        assert band == design.band
        assert versus == versus_words(design)
        assert cost == cost_words(design.cost)
        assert human == percent(design.human_share)
        assert cases == str(design.cases)
        assert (frontier == "◆ frontier") is design.on_frontier
    # The frontier first, marked.
    marks = [row[-1] == "◆ frontier" for row in rows]
    assert marks == sorted(marks, reverse=True) and any(marks) and not all(marks)
    # Hand-checked figures of tests/report/test_design.py, as the page writes them.
    by_name = {row[0]: row for row in rows}
    assert by_name["a -> human (on check)"][2].startswith("75.0% [")
    assert by_name["a -> human (on check)"][5] == "$1.01" and by_name["a -> human (on check)"][6] == "50.0%"
    assert by_name["b"][2].startswith("75.0% [") and by_name["b"][5] == "$0.1000"
    # The chart (the report's SVG), the notes, no target yet.
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="frontier-chart"' in response.text
    assert response.text.count("<circle ") == sum(math.isfinite(d.reliability.estimate) for d in report.designs)
    for note in report.notes:
        assert str(_escaped(note)) in response.text
    assert "Give a target reliability" in response.text
    assert "Traceback" not in response.text


def _escaped(text: str) -> str:
    from markupsafe import escape

    return str(escape(text))


def test_the_json_twin_is_design_to_dict(client: TestClient, db: Path, plain: str) -> None:
    for query, options in (("", {}), ("?target=0.7", {"target": 0.7}), ("?target=0.7&check=short",
                                                                         {"target": 0.7, "checks": ["short"]})):
        twin = client.get(f"/runs/{plain}/design.json{query}")
        assert twin.status_code == 200 and twin.headers["content-type"] == "application/json"
        expected = json.loads(json.dumps(design_to_dict(_report(db, plain, **options))))
        assert twin.json() == expected, query
        flagged = client.get(f"/runs/{plain}/design{query}{'&' if query else '?'}format=json")
        assert flagged.json() == expected
    with_short = client.get(f"/runs/{plain}/design.json?check=short").json()
    assert with_short["checks"] == ["check", "short"]
    assert any(design["name"] == "a -> b (on short)" for design in with_short["designs"])


def test_the_target_changes_the_recommendation(client: TestClient, db: Path, plain: str) -> None:
    none = client.get(f"/runs/{plain}/design").text
    reachable = client.get(f"/runs/{plain}/design?target=0.7").text
    unreachable = client.get(f"/runs/{plain}/design?target=0.999").text
    words = recommendation_words(_report(db, plain, target=0.7))
    far = recommendation_words(_report(db, plain, target=0.999))
    assert words and far and words != far
    assert _escaped(words) in reachable and _escaped(words) not in none
    assert _escaped(far) in unreachable
    recommended = _report(db, plain, target=0.7).recommended
    assert recommended is not None
    marked = [row for row in _rows(reachable) if row[0].endswith(" recommended")]
    assert [row[0] for row in marked] == [f"{recommended.name} recommended"]
    assert 'stroke-dasharray="4 3"' in reachable and 'stroke-dasharray="4 3"' not in none  # the target line
    assert 'value="0.7"' in reachable  # the form keeps it
    assert client.get(f"/runs/{plain}/design.json?target=0.7").json()["recommendation"] == words


@pytest.mark.parametrize("value", ["1.5", "0", "1", "abc", "nan", "-0.2", "90%", "inf"])
def test_a_bad_target_is_a_400_in_one_line(client: TestClient, plain: str, value: str) -> None:
    response = client.get(f"/runs/{plain}/design", params={"target": value})
    assert response.status_code == 400
    message = re.search(r'<p class="error-message"><bdi>(.*?)</bdi></p>', response.text, re.S)
    assert message is not None and "\n" not in message.group(1)
    assert unescape(message.group(1)).startswith("'target' must be a rate between 0 and 1")
    data = client.get(f"/runs/{plain}/design.json", params={"target": value}).json()
    assert data["status"] == 400 and data["error"].startswith("'target' must be a rate between 0 and 1")


def test_a_reference_based_or_unknown_check_is_a_400_in_one_line(client: TestClient, plain: str) -> None:
    response = client.get(f"/runs/{plain}/design?check=correct")
    assert response.status_code == 400 and "Traceback" not in response.text
    data = client.get(f"/runs/{plain}/design.json?check=correct").json()
    assert data == {
        "error": "grader 'correct' cannot be a run-time check: its parameters read the case's 'expected', which "
        "only an eval has",
        "status": 400,
    }
    assert "\n" not in data["error"] and _escaped(data["error"]) in response.text
    unknown = client.get(f"/runs/{plain}/design.json?check=nope").json()
    assert unknown["status"] == 400 and "has no grader 'nope'" in unknown["error"] and "correct" in unknown["error"]
    many = client.get(f"/runs/{plain}/design.json", params=[("check", "short")] * 51).json()
    assert many["status"] == 400


def test_hostile_names_are_escaped(db: Path, client_for: Callable[..., TestClient]) -> None:
    with Store(db) as store:
        run_id = _write(store, name=HOSTILE_SUITE, second=HOSTILE_VARIANT, run_id="r&<b>'1\"")
    client = client_for(db)
    url = design_url(run_id, target=0.7)
    assert url.startswith("/runs/r&%3Cb%3E'1%22/design?")
    response = client.get(url)
    assert response.status_code == 200
    text = response.text
    assert "<script>window.__pwned" not in text and "<b>" not in text
    assert "&lt;script&gt;window.__pwned=&#39;variant&#39;&lt;/script&gt;" in text  # the table, the chart
    assert "&lt;script&gt;window.__pwned=&#39;suite&#39;&lt;/script&gt;" in text
    scripts = re.findall(r"<script\b[^>]*>", text)
    assert len(scripts) == 1 and scripts[0].startswith('<script src="/static/viewer.js?v=')
    assert " style=" not in text and "<style" not in text and " on" + "click=" not in text
    names = {row[0].removesuffix(" recommended") for row in _rows(text)}
    assert f"a -> {HOSTILE_VARIANT} (on check)" in names
    assert client.get(url.replace("/design?", "/design.json?")).json()["run"]["suite"] == HOSTILE_SUITE
    assert f'href="{_escaped(design_url(run_id))}"' in client.get(design_url(run_id).removesuffix("/design")).text


def test_the_overview_links_to_the_design_page(client: TestClient, plain: str) -> None:
    overview = client.get(f"/runs/{plain}").text
    assert f'<a class="button" href="/runs/{plain}/design"' in overview


def test_a_run_without_samples_says_so(db: Path, client_for: Callable[..., TestClient]) -> None:
    with Store(db) as store:
        run = store.runs.create(_suite("empty", "b"))
    client = client_for(db)
    page = client.get(f"/runs/{run.id}/design")
    assert page.status_code == 200 and "no samples yet" in page.text
    assert client.get(f"/runs/{run.id}/design.json").status_code == 409


def test_the_chart_is_svg_without_style_or_script_and_escapes_every_text(db: Path) -> None:
    with Store(db) as store:
        run_id = _write(store, name=HOSTILE_SUITE, second=HOSTILE_VARIANT)
    report = _report(db, run_id, target=0.7)
    svg = frontier_svg(report, 500, 300)
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg"') and 'viewBox="0 0 500 300"' in svg
    assert "style" not in svg and "<script" not in svg and "href" not in svg
    assert "&lt;script&gt;" in svg
    shown = frontier_svg(report, names=lambda name: name.upper())
    assert "&lt;SCRIPT&gt;" in shown
    assert frontier_svg(report) in design_to_html(report)  # one chart for the export and the viewer


@pytest.mark.browser
def test_the_design_page_in_chromium(browser: Any, db: Path) -> None:
    from playwright.sync_api import expect

    with Store(db) as store:
        run_id = _write(store, name=HOSTILE_SUITE, second=HOSTILE_VARIANT)
    context = browser.new_context(viewport={"width": 1360, "height": 900})
    tab = context.new_page()
    incidents = watch_incidents(tab)
    try:
        with live_viewer(db) as base:
            tab.goto(f"{base}/runs/{run_id}")
            tab.get_by_role("link", name="Designs").click()
            expect(tab.locator("svg.frontier-chart")).to_be_visible()
            tab.locator("input[name=target]").fill("0.7")
            tab.get_by_role("button", name="Show").click()
            expect(tab).to_have_url(re.compile(r"/design\?target=0\.7$"))
            expect(tab.locator("#recommendation")).to_contain_text("the cheapest whose estimate does")
            expect(tab.locator("svg.frontier-chart")).to_be_visible()
            box = tab.locator("svg.frontier-chart").bounding_box()
            assert box is not None and box["width"] > 300 and box["height"] > 150
            assert tab.locator("svg.frontier-chart circle").count() > 8
            expect(tab.locator("tr.design-row.recommended")).to_have_count(1)
            assert tab.evaluate("window.__pwned") is None
            assert tab.locator("script").count() == 1
    finally:
        context.close()
    assert incidents == []
