"""The one rule of reviewing drafts (``config/drafts.py``, used by ``cases review`` and the viewer's drafts page):
accept, edit, reject and skip; resuming; no case appended twice, even after a review stopped between appending a
case and recording its decision; and drafts files that are not what they should be."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mendoza.config import load_suite
from mendoza.config.drafts import (
    CaseIdTaken,
    DraftReview,
    cases_target,
    decisions_path,
    json_line,
    read_drafts,
)
from mendoza.errors import ConfigError
from tests.support.drafts import CASES, DRAFTS, ids, rows, write_drafts, write_suite


@pytest.fixture
def review(tmp_path: Path) -> DraftReview:
    return DraftReview.open(write_drafts(tmp_path), write_suite(tmp_path))


def test_accept_appends_the_case_with_its_provenance(review: DraftReview, tmp_path: Path) -> None:
    first = review.pending()[0]
    case = review.decide(first, "accept")
    assert case is not None and case.id == "d1"
    kept = rows(tmp_path / "cases.jsonl")[-1]
    assert kept == {**DRAFTS[0]["case"], "metadata": {"provenance": DRAFTS[0]["provenance"]}}
    assert [c.id for c in load_suite(tmp_path / "suite.yaml").cases] == ["r1", "r2", "d1"]
    decision = rows(decisions_path(tmp_path / "drafts.jsonl"))[0]
    assert decision == {"draft": first.key, "line": 1, "id": "d1", "decision": "accept", "edited": False}
    assert [d.case_id for d in review.pending()] == ["d2", "d3"]


def test_an_edit_is_validated_appended_and_marked_edited(review: DraftReview, tmp_path: Path) -> None:
    draft = review.pending()[1]
    edited = {"id": "d2-fixed", "vars": {"ticket": "The app crashes on start."}, "expected": "technical"}
    review.decide(draft, "accept", edited)
    kept = rows(tmp_path / "cases.jsonl")[-1]
    assert kept["id"] == "d2-fixed" and kept["vars"]["ticket"] == "The app crashes on start."
    assert kept["metadata"]["provenance"] == {"kind": "perturbation", "name": "typos", "from": "r1", "edited": True}
    assert rows(review.record)[0]["edited"] is True


def test_an_edit_equal_to_the_draft_is_not_marked_edited(review: DraftReview, tmp_path: Path) -> None:
    draft = review.pending()[0]
    review.decide(draft, "accept", dict(draft.row))
    assert "edited" not in rows(tmp_path / "cases.jsonl")[-1]["metadata"]["provenance"]


@pytest.mark.parametrize(
    ("edited", "words"),
    [
        ({"id": "x", "vars": {"question": "?"}, "expected": "y"}, "lacks the suite's var(s): ticket"),
        ({"id": "x", "vars": {"ticket": "t", "extra": 1}, "expected": "y"}, "var(s) the suite's cases do not: extra"),
        ({"id": "x", "vars": {"ticket": "t"}}, "have an 'expected' answer"),
        ({"vars": {"ticket": "t"}, "expected": "y"}, "needs an 'id'"),
        ({"id": "x", "vars": {"ticket": "t"}, "expected": "y", "colour": 1}, "unknown case key(s) 'colour'"),
    ],
)
def test_an_invalid_edit_is_one_line_and_changes_nothing(
    review: DraftReview, tmp_path: Path, edited: dict[str, Any], words: str
) -> None:
    draft = review.pending()[0]
    with pytest.raises(ConfigError) as caught:
        review.decide(draft, "accept", edited)
    assert words in str(caught.value) and "\n" not in str(caught.value)
    assert str(caught.value).startswith(f"{tmp_path / 'drafts.jsonl'}:1: ")
    assert ids(tmp_path / "cases.jsonl") == ["r1", "r2"]
    assert not review.record.exists()


def test_reject_records_the_decision_only(review: DraftReview, tmp_path: Path) -> None:
    assert review.decide(review.pending()[2], "reject") is None
    assert ids(tmp_path / "cases.jsonl") == ["r1", "r2"]
    assert [(d["id"], d["decision"]) for d in rows(review.record)] == [("d3", "reject")]
    assert [d.case_id for d in review.pending()] == ["d1", "d2"]


def test_skip_is_no_decision_and_a_new_review_resumes(tmp_path: Path) -> None:
    drafts, suite = write_drafts(tmp_path), write_suite(tmp_path)
    first = DraftReview.open(drafts, suite)
    first.decide(first.pending()[1], "reject")  # d1 skipped: nothing recorded
    again = DraftReview.open(drafts, suite)
    assert [d.case_id for d in again.pending()] == ["d1", "d3"]
    with pytest.raises(ConfigError, match=r"decided already \(reject\)"):
        again.decide(again.find(first.file().drafts[1].key), "accept")


def test_an_interrupted_accept_is_finished_not_appended_twice(review: DraftReview, tmp_path: Path) -> None:
    draft = review.pending()[0]
    review.decide(draft, "accept")
    review.record.unlink()  # as if stopped after the case was appended, before its decision
    assert review.pending()[0].key == draft.key
    assert review.decide(draft, "accept") is not None
    assert ids(tmp_path / "cases.jsonl") == ["r1", "r2", "d1"]
    assert [d["decision"] for d in rows(review.record)] == ["accept"]


def test_a_torn_decision_line_leaves_its_draft_pending(review: DraftReview, tmp_path: Path) -> None:
    review.decide(review.pending()[0], "reject")
    with review.record.open("a", encoding="utf-8") as handle:
        handle.write('{"draft": "' + review.pending()[0].key[:20])  # killed mid-write: no end, no newline
    assert [d.case_id for d in review.pending()] == ["d2", "d3"]
    review.decide(review.pending()[0], "reject")  # the next line starts on a line of its own
    assert [d["id"] for d in rows_ignoring_bad(review.record)] == ["d1", "d2"]


def rows_ignoring_bad(path: Path) -> list[dict[str, Any]]:
    found = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            found.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return found


def test_an_id_the_cases_file_gained_meanwhile_is_refused(review: DraftReview, tmp_path: Path) -> None:
    other = {"id": "d1", "vars": {"ticket": "Someone else's case."}, "expected": "billing"}
    with (tmp_path / "cases.jsonl").open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(other) + "\n")  # written by another hand after the review started
    with pytest.raises(CaseIdTaken) as caught:
        review.decide(review.pending()[0], "accept")
    assert caught.value.case_id == "d1" and "case id 'd1' is already in the suite" in str(caught.value)
    assert ids(tmp_path / "cases.jsonl") == ["r1", "r2", "d1"] and not review.record.exists()
    review.decide(review.pending()[0], "accept", {**DRAFTS[0]["case"], "id": "d1-b"})
    assert ids(tmp_path / "cases.jsonl") == ["r1", "r2", "d1", "d1-b"]


def test_an_id_of_the_suite_is_refused(review: DraftReview) -> None:
    with pytest.raises(CaseIdTaken, match="'r2'"):
        review.decide(review.pending()[0], "accept", {**DRAFTS[0]["case"], "id": "r2"})


def test_a_cases_file_without_a_final_newline_gets_one_before_the_case(review: DraftReview, tmp_path: Path) -> None:
    target = tmp_path / "cases.jsonl"
    target.write_text(target.read_text(encoding="utf-8").rstrip("\n"), encoding="utf-8")
    review.decide(review.pending()[0], "accept")
    assert ids(target) == ["r1", "r2", "d1"]


def test_lines_that_are_not_drafts_are_reported_and_left_out(tmp_path: Path) -> None:
    path = write_drafts(tmp_path, [
        DRAFTS[0], "{not json", "[1, 2]", {"case": "text"}, {"case": {"id": "p"}, "provenance": "model"},
        "", DRAFTS[1], DRAFTS[0],  # the same line twice is one draft
    ])
    found = read_drafts(path)
    assert [d.case_id for d in found.drafts] == ["d1", "d2"]
    assert [(bad.line, bad.reason.split(":")[0]) for bad in found.bad] == [
        (2, "invalid JSON"), (3, "a draft must be {\"case\""), (4, "a draft must be {\"case\""),
        (5, "a draft's provenance must be a mapping"),
    ]
    assert str(found.bad[0]).startswith(f"{path}:2: invalid JSON")


def test_a_drafts_file_that_is_not_utf8_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "drafts.jsonl"
    path.write_bytes(b'{"case": {"id": "\xff"}}\n')
    with pytest.raises(ConfigError, match="not UTF-8"):
        read_drafts(path)


def test_a_lone_surrogate_is_kept_as_an_escape(tmp_path: Path) -> None:
    line = '{"case": {"id": "s1", "vars": {"ticket": "broken \\ud800 text"}, "expected": "x"}, "provenance": {}}'
    review = DraftReview.open(write_drafts(tmp_path, [line]), write_suite(tmp_path))
    review.decide(review.pending()[0], "accept")
    text = (tmp_path / "cases.jsonl").read_text(encoding="utf-8")
    assert "\\ud800" in text
    assert load_suite(tmp_path / "suite.yaml").cases[-1].vars["ticket"] == "broken \ud800 text"
    assert json_line({"a": "é"}) == '{"a": "é"}'


def test_where_accepted_cases_go(tmp_path: Path) -> None:
    suite = write_suite(tmp_path)
    assert cases_target(suite) == (tmp_path / "cases.jsonl").resolve()
    assert cases_target(tmp_path) == (tmp_path / "cases.jsonl").resolve()  # the suite's folder
    assert cases_target(suite, tmp_path / "more.jsonl") == tmp_path / "more.jsonl"
    with pytest.raises(ConfigError, match=r"must be a \.jsonl file"):
        cases_target(suite, tmp_path / "more.csv")
    inline = tmp_path / "inline.yaml"
    inline.write_text(json.dumps({"suite": "s", "cases": CASES, "variants": [{"id": "v", "model": "mock"}]}),
                      encoding="utf-8")
    with pytest.raises(ConfigError, match="inline: say where accepted cases go with --cases-file"):
        cases_target(inline)


def test_the_drafts_file_is_read_again_when_it_changes(review: DraftReview, tmp_path: Path) -> None:
    assert len(review.file().drafts) == 3
    extra = {"case": {"id": "d4", "vars": {"ticket": "New one."}, "expected": "x"}, "provenance": {}}
    with (tmp_path / "drafts.jsonl").open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(extra) + "\n")
    assert [d.case_id for d in review.pending()] == ["d1", "d2", "d3", "d4"]
    with pytest.raises(ConfigError, match="no such draft"):
        review.find("0" * 64)
