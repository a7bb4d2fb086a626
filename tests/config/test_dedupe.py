"""Dedupe: exact and near duplicates against the suite and within the drafts, and what is kept."""

from __future__ import annotations

from typing import Any

import pytest

from mendoza.config.dedupe import case_text, dedupe, normalise, shingles
from mendoza.core import Case
from mendoza.errors import ConfigError

BASE = "my package was supposed to arrive on monday but the tracking page still says it is in the warehouse"


def draft(case_id: str, text: str, **extra: Any) -> dict[str, Any]:
    return {"case": {"id": case_id, "vars": {"ticket": text}, **extra}, "provenance": {"kind": "import"}}


def test_normalised_text_ignores_case_punctuation_and_spacing() -> None:
    assert normalise("  Hello,   WORLD!! ") == "hello world"
    assert case_text({"vars": {"b": "two", "a": "One"}, "expected": {"k": 1}}) == "one two k 1"
    assert shingles("a b c") == {"a b", "b c"}
    assert shingles("a") == {"a"}


def test_exact_duplicates_of_suite_cases_and_of_drafts() -> None:
    suite = [Case(id="ship-1", vars={"ticket": BASE})]
    drafts = [draft("d1", BASE.upper() + "!"), draft("d2", "Refund my order please"),
              draft("d3", "refund my ORDER, please.")]
    result = dedupe(suite, drafts)
    assert [d["case"]["id"] for d in result.kept] == ["d2"]
    assert [x.reason for x in result.dropped] == ["duplicate of case ship-1 (exact)", "duplicate of draft d2 (exact)"]


def test_near_duplicates_are_dropped_with_their_jaccard_and_different_cases_kept() -> None:
    suite = [Case(id="ship-1", vars={"ticket": BASE})]
    near = BASE.replace("monday", "tuesday")  # one word changed in twenty
    different = "how do i change the email address on my account and keep my order history"
    result = dedupe(suite, [draft("near", near), draft("other", different), draft("near2", different + " thanks")])
    assert [d["case"]["id"] for d in result.kept] == ["other"]
    first, second = result.dropped
    assert first.duplicate_of == "case ship-1" and first.kind == "near"
    assert first.jaccard == pytest.approx(len(shingles(normalise(near)) & shingles(normalise(BASE)))
                                          / len(shingles(normalise(near)) | shingles(normalise(BASE))))
    assert first.reason == f"near duplicate of case ship-1 (Jaccard ~{first.jaccard:.2f})"
    assert 0.8 <= first.jaccard < 1
    assert second.duplicate_of == "draft other"


def test_the_threshold_decides() -> None:
    suite = [Case(id="ship-1", vars={"ticket": BASE})]
    near = BASE.replace("monday", "tuesday")
    assert dedupe(suite, [draft("near", near)], threshold=0.95).kept != []
    assert dedupe(suite, [draft("near", near)], threshold=0.5).kept == []
    with pytest.raises(ConfigError, match="threshold"):
        dedupe(suite, [], threshold=0)


def test_expected_answers_are_part_of_the_text() -> None:
    suite = [Case(id="q", vars={"question": "capital of france"}, expected="paris")]
    result = dedupe(suite, [{"case": {"id": "q2", "vars": {"question": "capital of France?"}, "expected": "Lyon"}}])
    assert len(result.kept) == 1
