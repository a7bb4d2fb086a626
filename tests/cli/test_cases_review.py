"""``mendoza cases review``: drafts decided from the keyboard (CliRunner input), accepted cases appended to the
suite's cases file with their provenance, decisions kept beside the drafts so a second review resumes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result

from mendoza.cli import cli
from mendoza.cli.cases_review import decisions_path
from mendoza.config import load_suite

CASES = [
    {"id": "r1", "vars": {"ticket": "My order arrived broken."}, "expected": "refund"},
    {"id": "r2", "vars": {"ticket": "Where is my parcel?"}, "expected": "shipping"},
]
DRAFTS = [
    {"case": {"id": "d1", "vars": {"ticket": "Charged twice."}, "expected": "billing", "tags": ["new"]},
     "provenance": {"kind": "draft", "model": "mock", "seed": 0}},
    {"case": {"id": "d2", "vars": {"ticket": "App crashes."}, "expected": "bug"},
     "provenance": {"kind": "perturbation", "name": "typos", "from": "r1"}},
    {"case": {"id": "d3", "vars": {"ticket": "Cancel my plan."}, "expected": "billing"},
     "provenance": {"kind": "import", "source": "logs.jsonl"}},
]


def _suite(tmp_path: Path, inline: bool = False) -> Path:
    data: dict[str, Any] = {
        "suite": "triage",
        "variants": [{"id": "plain", "model": "mock", "prompt": "{{ ticket }}"}],
    }
    if inline:
        data["cases"] = CASES
    else:
        (tmp_path / "cases.jsonl").write_text("".join(json.dumps(c) + "\n" for c in CASES), encoding="utf-8")
        data["cases"] = "cases.jsonl"
    path = tmp_path / "suite.yaml"
    path.write_text(json.dumps(data), encoding="utf-8")  # JSON is YAML
    return path


def _drafts(tmp_path: Path, rows: list[dict[str, Any]] | None = None) -> Path:
    path = tmp_path / "drafts.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in (DRAFTS if rows is None else rows)), encoding="utf-8")
    return path


def _review(drafts: Path, suite: Path, text: str, *extra: str) -> Result:
    args = ["cases", "review", str(drafts), "--suite", str(suite), *extra]
    return CliRunner().invoke(cli, args, input=text, env={"COLUMNS": "200"}, catch_exceptions=False)


def _rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _ids(tmp_path: Path) -> list[str]:
    return [row["id"] for row in _rows(tmp_path / "cases.jsonl")]


def test_accept_reject_skip_then_the_suite_loads_with_the_accepted_case(tmp_path: Path) -> None:
    suite, drafts = _suite(tmp_path), _drafts(tmp_path)
    result = _review(drafts, suite, "a\nr\ns\n")
    assert result.exit_code == 0, result.output
    assert "Charged twice." in result.output and "tags: new" in result.output and "model=" in result.output
    assert "accepted 1, rejected 1, skipped 1" in result.output
    assert _ids(tmp_path) == ["r1", "r2", "d1"]
    kept = _rows(tmp_path / "cases.jsonl")[-1]
    assert kept["metadata"]["provenance"] == {"kind": "draft", "model": "mock", "seed": 0}
    assert [case.id for case in load_suite(suite).cases] == ["r1", "r2", "d1"]
    decisions = _rows(decisions_path(drafts))
    assert [(d["id"], d["decision"]) for d in decisions] == [("d1", "accept"), ("d2", "reject")]


def test_unknown_key_asks_again(tmp_path: Path) -> None:
    result = _review(_drafts(tmp_path), _suite(tmp_path), "x\na\nq\n")
    assert "unknown answer" in result.output
    assert _ids(tmp_path) == ["r1", "r2", "d1"]


def test_quit_then_resume_and_no_duplicate_append(tmp_path: Path) -> None:
    suite, drafts = _suite(tmp_path), _drafts(tmp_path)
    first = _review(drafts, suite, "a\nq\n")
    assert "accepted 1, rejected 0, skipped 0" in first.output
    second = _review(drafts, suite, "a\na\n")
    assert "2 drafts to review (1 decided before)" in second.output
    assert "Charged twice." not in second.output
    assert _ids(tmp_path) == ["r1", "r2", "d1", "d2", "d3"]
    third = _review(drafts, suite, "a\na\na\n")
    assert "nothing to review" in third.output
    assert _ids(tmp_path) == ["r1", "r2", "d1", "d2", "d3"]


def test_end_of_input_stops_like_quit(tmp_path: Path) -> None:
    suite, drafts = _suite(tmp_path), _drafts(tmp_path)
    result = _review(drafts, suite, "r\n")
    assert result.exit_code == 0 and "rejected 1" in result.output
    again = _review(drafts, suite, "")
    assert "2 drafts to review" in again.output


def test_a_skipped_draft_is_asked_again(tmp_path: Path) -> None:
    suite, drafts = _suite(tmp_path), _drafts(tmp_path)
    _review(drafts, suite, "s\ns\ns\n")
    again = _review(drafts, suite, "q\n")
    assert "3 drafts to review (0 decided before)" in again.output
    assert not decisions_path(drafts).exists()


def test_edit_accepts_the_edited_case(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    suite, drafts = _suite(tmp_path), _drafts(tmp_path)

    def edit(text: str, **_: Any) -> str:
        case = json.loads(text)
        case["vars"]["ticket"] = "I was charged twice for one order."
        return json.dumps(case)

    monkeypatch.setattr(click, "edit", edit)
    result = _review(drafts, suite, "e\na\nq\n")
    assert result.exit_code == 0, result.output
    kept = _rows(tmp_path / "cases.jsonl")[-1]
    assert kept["vars"]["ticket"] == "I was charged twice for one order."
    assert kept["metadata"]["provenance"]["edited"] is True
    assert _rows(decisions_path(drafts))[0]["edited"] is True


def test_an_invalid_edit_is_one_line_and_asks_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    suite, drafts = _suite(tmp_path), _drafts(tmp_path)
    answers = iter([
        '{"id": "d1", "vars": {"question": "?"}, "expected": "x"}',  # not the suite's vars
        "{not json",
        '{"id": "d1b", "vars": {"ticket": "Double charge."}, "expected": "billing"}',
    ])
    monkeypatch.setattr(click, "edit", lambda text, **_: next(answers))
    result = _review(drafts, suite, "e\ne\ne\na\nq\n")
    assert result.exit_code == 0, result.output
    invalid = [line for line in result.output.splitlines() if line.startswith("invalid edit")]
    assert len(invalid) == 2 and "ticket" in invalid[0] and "not JSON" in invalid[1]
    assert _ids(tmp_path) == ["r1", "r2", "d1b"]


def test_an_unsaved_edit_changes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    suite, drafts = _suite(tmp_path), _drafts(tmp_path)
    monkeypatch.setattr(click, "edit", lambda text, **_: None)
    result = _review(drafts, suite, "e\na\nq\n")
    assert "not edited" in result.output
    assert _rows(tmp_path / "cases.jsonl")[-1]["vars"]["ticket"] == "Charged twice."


def test_inline_cases_need_a_cases_file(tmp_path: Path) -> None:
    suite, drafts = _suite(tmp_path, inline=True), _drafts(tmp_path)
    result = CliRunner().invoke(cli, ["cases", "review", str(drafts), "--suite", str(suite)], input="a\n")
    assert result.exit_code == 2 and "--cases-file" in result.output
    assert not decisions_path(drafts).exists()
    target = tmp_path / "more.jsonl"
    ok = _review(drafts, suite, "a\nq\n", "--cases-file", str(target))
    assert ok.exit_code == 0, ok.output
    assert [row["id"] for row in _rows(target)] == ["d1"]


def test_an_id_clash_is_one_line_and_the_draft_skipped(tmp_path: Path) -> None:
    suite = _suite(tmp_path)
    clash = {"case": {"id": "r1", "vars": {"ticket": "Broken again."}, "expected": "refund"}, "provenance": {}}
    drafts = _drafts(tmp_path, [clash, DRAFTS[1]])
    result = _review(drafts, suite, "a\na\n")
    assert result.exit_code == 0, result.output
    assert "case id 'r1' is already in the suite: draft skipped" in result.output
    assert "accepted 1, rejected 0, skipped 1" in result.output
    assert _ids(tmp_path) == ["r1", "r2", "d2"]
    assert [d["id"] for d in _rows(decisions_path(drafts))] == ["d2"]


def test_an_id_clash_with_the_cases_file_given(tmp_path: Path) -> None:
    suite, drafts = _suite(tmp_path, inline=True), _drafts(tmp_path)
    target = tmp_path / "more.jsonl"
    target.write_text(json.dumps({"id": "d1", "vars": {"ticket": "x"}, "expected": "y"}) + "\n", encoding="utf-8")
    result = _review(drafts, suite, "a\nq\n", "--cases-file", str(target))
    assert "case id 'd1' is already in the suite" in result.output
    assert len(_rows(target)) == 1


def test_an_invalid_draft_cannot_be_accepted_but_can_be_edited(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    suite = _suite(tmp_path)
    bad = {"case": {"id": "b1", "vars": {"other": "?"}}, "provenance": {"kind": "draft"}}
    drafts = _drafts(tmp_path, [bad])
    monkeypatch.setattr(click, "edit", lambda text, **_: '{"id": "b1", "vars": {"ticket": "t"}, "expected": "x"}')
    result = _review(drafts, suite, "a\ne\na\n")
    assert "not a valid case of the suite" in result.output
    assert _ids(tmp_path) == ["r1", "r2", "b1"]


def test_a_draft_decided_by_another_review_is_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mendoza.api import DraftReview

    suite, drafts = _suite(tmp_path), _drafts(tmp_path)
    real_decide = DraftReview.decide

    def decide_after_another(self: DraftReview, draft: Any, decision: Any, row: Any = None) -> Any:
        if draft.case_id == "d1":  # a browser tab rejects d1 while the terminal shows it
            real_decide(DraftReview(self.drafts_path, self.suite, self.target), draft, "reject")
        return real_decide(self, draft, decision, row)

    monkeypatch.setattr(DraftReview, "decide", decide_after_another)
    result = _review(drafts, suite, "a\na\nq\n")
    assert result.exit_code == 0, result.output
    assert "this draft was decided already (reject) by another review: draft skipped" in result.output
    assert _ids(tmp_path) == ["r1", "r2", "d2"]
    assert [(d["id"], d["decision"]) for d in _rows(decisions_path(drafts))] == [("d1", "reject"), ("d2", "accept")]


def test_lines_that_are_not_drafts_are_listed_and_the_rest_reviewed(tmp_path: Path) -> None:
    suite = _suite(tmp_path)
    drafts = tmp_path / "drafts.jsonl"
    drafts.write_text(json.dumps(DRAFTS[0]) + "\n{torn\n", encoding="utf-8")
    result = _review(drafts, suite, "a\n")
    assert result.exit_code == 0, result.output
    assert "not a draft, left out:" in result.output and "drafts.jsonl:2: invalid JSON" in result.output
    assert _ids(tmp_path) == ["r1", "r2", "d1"]
