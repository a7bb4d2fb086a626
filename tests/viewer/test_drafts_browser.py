"""Reviewing drafts in Debian's headless Chromium against a real uvicorn server (``cases review --web``, here
with a token): accept one draft, edit one (a mistake first, shown in one line, then the fix), reject one; the
cases file and the decisions file are what the keyboard review would have written, and no draft text runs."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from mendoza.api import DraftReview
from tests.support.drafts import DRAFTS, ids, rows, write_drafts, write_suite
from tests.viewer.live import live_viewer
from tests.viewer.page_support import watch_incidents
from tests.viewer.suites import PAYLOADS

pytestmark = pytest.mark.browser

TOKEN = "s3cret-token-for-the-browser"


def test_accept_edit_and_reject_in_the_browser(browser: Any, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    hostile = {"case": {"id": "x1", "vars": {"ticket": PAYLOADS["script"] + PAYLOADS["img"]}, "expected": "y"},
               "provenance": {"model": PAYLOADS["svg"]}}
    review = DraftReview.open(write_drafts(tmp_path, [*DRAFTS, hostile]), write_suite(tmp_path))
    context = browser.new_context(viewport={"width": 1360, "height": 900})
    tab = context.new_page()
    incidents = watch_incidents(tab)
    try:
        with live_viewer(None, token=TOKEN, drafts=review) as base:
            tab.goto(f"{base}/?token={TOKEN}")  # the address `cases review --web` prints; then a cookie
            expect(tab).to_have_url(f"{base}/drafts")
            expect(tab.locator("section.draft")).to_have_count(4)
            expect(tab.locator("#draft-" + review.pending()[0].key)).to_contain_text("model mock")

            tab.locator("section.draft", has_text="Charged twice.").get_by_role("button", name="Accept").click()
            expect(tab.locator("#done")).to_have_text("accepted d1")
            expect(tab.locator("section.draft")).to_have_count(3)

            tab.locator("section.draft", has_text="App crashes.").get_by_role("link", name="Edit").click()
            expect(tab).to_have_url(re.compile(r"/drafts/[0-9a-f]{64}$"))
            box = tab.locator("textarea[name=case]")
            edited = json.loads(box.input_value())
            box.fill(json.dumps({**edited, "vars": {"question": "?"}}))
            tab.get_by_role("button", name="Accept").click()
            expect(tab.locator("#edit-error")).to_contain_text("lacks the suite's var(s): ticket")
            assert "question" in box.input_value()  # what was typed is kept
            box.fill(json.dumps({**edited, "vars": {"ticket": "The app crashes on start."}, "expected": "technical"}))
            tab.get_by_role("button", name="Accept").click()
            expect(tab.locator("#done")).to_have_text("accepted d2")

            tab.locator("section.draft", has_text="Cancel my plan.").get_by_role("button", name="Reject").click()
            expect(tab.locator("#done")).to_have_text("rejected d3")
            expect(tab.locator("#counts")).to_have_text("1 to review · 2 accepted · 1 rejected")
            expect(tab.locator("section.draft")).to_have_count(1)
            expect(tab.locator("section.draft")).to_contain_text("<script>window.__pwned")  # shown as text
            assert tab.evaluate("window.__pwned") is None
            assert tab.title() != "pwned"
    finally:
        context.close()
    # The refused edit answers 422 (the page with its mistake), which Chromium logs; nothing else went wrong.
    assert incidents == ["console: Failed to load resource: the server responded with a status of 422 "
                         "(Unprocessable Entity)"]
    cases = rows(tmp_path / "cases.jsonl")
    assert [case["id"] for case in cases] == ["r1", "r2", "d1", "d2"]
    assert cases[2]["metadata"]["provenance"] == DRAFTS[0]["provenance"]
    assert cases[3]["vars"]["ticket"] == "The app crashes on start." and cases[3]["expected"] == "technical"
    assert cases[3]["metadata"]["provenance"] == {**DRAFTS[1]["provenance"], "edited": True}
    decisions = rows(tmp_path / "drafts.jsonl.decisions.jsonl")
    assert [(d["id"], d["decision"], d.get("edited")) for d in decisions] == [
        ("d1", "accept", False), ("d2", "accept", True), ("d3", "reject", None)
    ]
    assert ids(tmp_path / "cases.jsonl") == ["r1", "r2", "d1", "d2"]
