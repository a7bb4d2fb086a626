"""End to end in Debian's headless Chromium against a real uvicorn server on 127.0.0.1 over real runs:
find, read and overrule a failing sample, review from the keyboard, compare two runs, and no model text
ever runs as code."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.viewer.conftest import Runs
from tests.viewer.live import live_viewer

pytestmark = pytest.mark.browser


@pytest.fixture
def base(runs: Runs) -> Iterator[str]:
    with live_viewer(runs.db) as url:
        yield url


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser page that records dialogs, console messages about the CSP, and page errors."""
    context = browser.new_context(viewport={"width": 1360, "height": 900})
    tab = context.new_page()
    tab.incidents = []
    tab.on("dialog", lambda dialog: (tab.incidents.append(f"dialog: {dialog.message}"), dialog.dismiss()))
    tab.on("pageerror", lambda error: tab.incidents.append(f"error: {error}"))
    tab.on(
        "console",
        lambda message: (
            tab.incidents.append(f"console: {message.text}")
            if "Content Security Policy" in message.text or message.type == "error"
            else None
        ),
    )
    yield tab
    context.close()


def test_find_read_and_overrule_a_failing_sample(page: Any, base: str, runs: Runs) -> None:
    from playwright.sync_api import expect

    page.goto(base + "/")
    page.get_by_role("link", name=runs.first.id).click()
    expect(page.locator("h1")).to_have_text("ticket-router")
    labelled_before = page.locator("table.data tbody tr").first.locator("td").nth(3).inner_text()
    assert labelled_before.strip() == "0 / 0"
    adjusted_before = page.locator("table.data tbody tr").first.locator("td").nth(2).inner_text()

    page.get_by_role("link", name="Failing cases").click()
    expect(page).to_have_url(re.compile(r"/grid\?failing=1$"))
    expect(page.locator("input[name=failing]")).to_be_checked()
    rows = page.locator("table.grid tbody tr")
    assert 0 < rows.count() <= 8
    cell = page.locator("table.grid tbody tr td.cell-col a.cell").first
    shown = cell.inner_text()
    passed, graded = (int(part) for part in shown.split("/"))
    assert passed < graded  # a failing cell
    cell.click()

    expect(page.locator("#output")).to_be_visible()
    expect(page.locator("#adjusted-verdict .badge")).to_have_text("fail")
    page.keyboard.press("n")
    expect(page.locator("textarea[name=note]")).to_be_focused()
    page.keyboard.type("The queue is right; the grader is too strict.")
    page.keyboard.press("Escape")
    page.keyboard.press("p")
    page.wait_for_load_state()
    expect(page.locator("#adjusted-verdict .badge")).to_have_text("pass")
    expect(page.locator(".human-note")).to_contain_text("the grader is too strict")
    expect(page.locator("tr.grade-human")).to_have_count(1)
    expect(page.locator("tr.grade-auto")).to_have_count(2)

    page.goto(f"{base}/runs/{runs.first.id}")
    row = page.locator("table.data tbody tr").first
    expect(row.locator("td").nth(3)).to_have_text("1 / 1")
    assert row.locator("td").nth(2).inner_text() != adjusted_before
    expect(page.locator(".card").first).to_contain_text("human-adjusted (1 labelled)")
    assert page.incidents == []


def test_grid_filters_apply_from_the_page(page: Any, base: str, runs: Runs) -> None:
    from playwright.sync_api import expect

    page.goto(f"{base}/runs/{runs.first.id}/grid")
    expect(page.locator("table.grid tbody tr")).to_have_count(8)
    page.locator("input[name=disagree]").check()  # applies at once (the page's script submits the form)
    expect(page).to_have_url(re.compile(r"disagree=1"))
    page.locator("select[name=tag]").select_option("money")
    expect(page).to_have_url(re.compile(r"tag=money"))
    for index in range(page.locator("table.grid tbody tr").count()):
        expect(page.locator("table.grid tbody tr").nth(index).locator(".tag")).to_have_text("money")
    page.goto(f"{base}/runs/{runs.first.id}/grid")
    page.keyboard.press("/")
    page.keyboard.type("two-factor")
    page.keyboard.press("Enter")
    expect(page.locator("table.grid tbody tr")).to_have_count(1)
    expect(page.locator(".case-id")).to_have_text("login-2")
    assert page.incidents == []


def test_review_mode_from_the_keyboard(page: Any, base: str, runs: Runs) -> None:
    from playwright.sync_api import expect

    page.goto(f"{base}/runs/{runs.first.id}/review")
    expect(page.locator(".review-bar h1")).to_contain_text("1 of")
    expect(page.locator(".reason")).to_have_text("graders disagree")
    expect(page.locator(".keys-help")).to_contain_text("next")
    page.keyboard.press("j")
    expect(page).to_have_url(re.compile(r"review\?at=1$"))
    page.keyboard.press("k")
    expect(page).to_have_url(re.compile(r"review\?at=0$"))
    first_sample = page.get_by_role("link", name="sample page").get_attribute("href")
    page.keyboard.press("f")
    expect(page).to_have_url(re.compile(r"review\?at=1$"))
    page.goto(base + first_sample)
    expect(page.locator("#adjusted-verdict .badge")).to_have_text("fail")
    expect(page.locator("tr.grade-human")).to_have_count(1)
    page.keyboard.press("u")  # clear the label again
    expect(page.locator("tr.grade-human")).to_have_count(2)
    expect(page.locator(".verdicts")).to_contain_text("not labelled")
    assert page.incidents == []


def test_compare_two_runs(page: Any, base: str, runs: Runs) -> None:
    from playwright.sync_api import expect

    page.goto(f"{base}/runs/{runs.second.id}")
    page.locator("select[name=va]").select_option("zero-shot")
    page.locator("select[name=b]").select_option(runs.first.id)
    page.get_by_role("button", name="Compare").click()
    expect(page).to_have_url(re.compile(r"/compare\?"))
    # A is the second (better) run here, B the first: B is worse on the cases that changed.
    expect(page.locator("#difference")).to_contain_text("B − A = -")
    expect(page.locator("h2", has_text="Worse in B")).to_be_visible()
    worse = page.locator("table.changes.worse tbody tr")
    assert worse.count() >= 1
    worse.first.locator("a.chip").nth(1).click()
    expect(page.locator("#output")).to_be_visible()
    assert page.incidents == []


def test_model_text_never_runs_in_the_browser(page: Any, base: str, runs: Runs) -> None:
    run_id = runs.xss.id
    page.goto(f"{base}/runs/{run_id}/grid")
    sample_links = [link.get_attribute("href") for link in page.locator("a.cell").all()]
    assert len(sample_links) == 5
    assert page.title() == "Grid · <script>window.__pwned='suite'</script> · mendoza"  # shown as text
    urls = [
        "/",
        f"/runs/{run_id}",
        f"/runs/{run_id}/grid?q=%3Cscript",
        f"/runs/{run_id}/review",
        f"/compare?a={run_id}&b={runs.first.id}&vb=zero-shot",
        *sample_links,
    ]
    for url in urls:
        page.goto(base + url)
        for element in page.locator("pre.output, td.case-col, a.tag").all()[:8]:
            element.hover(timeout=2000)
        assert page.evaluate("window.__pwned") is None, url
        assert "pwned" not in page.title() or "__pwned='suite'" in page.title()
        assert page.locator("img").count() == 0 and page.locator("a[href^='javascript:']").count() == 0
        assert page.locator("script").count() == 1
        assert page.evaluate(HANDLER_ATTRIBUTES) == [], url
    page.goto(base + sample_links[0])
    assert "<script>window.__pwned" in page.locator("#output").inner_text()
    assert page.incidents == []


# Every attribute named on... (onclick, onerror, onload, onmouseover) on the page: there must be none.
HANDLER_ATTRIBUTES = """() => [...document.querySelectorAll('*')].flatMap(
    element => [...element.attributes].filter(a => a.name.startsWith('on')).map(a => element.tagName + ' ' + a.name))"""
