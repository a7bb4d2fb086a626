"""A whole run whose dataset or app hands mendoza a lone UTF-16 surrogate: every sample stored, a resume works
(issue 10, item 1)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml

from mendoza.api import run_suite
from mendoza.config import load_suite
from mendoza.store import Store

FFFD = "\ufffd"


def _suite_file(tmp_path: Path, variant: dict[str, object], cases: str | list[dict[str, object]]) -> Path:
    suite = {
        "suite": "hostile",
        "cases": cases,
        "variants": [variant],
        "graders": [{"contains": "say"}],
        "repeats": 2,
    }
    path = tmp_path / "suite.yaml"
    path.write_text(yaml.safe_dump(suite), encoding="utf-8")
    return path


def test_a_jsonl_case_with_an_escaped_lone_surrogate_runs(tmp_path: Path) -> None:
    # As reported: the case written with a JSON escape; the old code crashed at run creation.
    (tmp_path / "cases.jsonl").write_text(
        '{"id":"a","vars":{"t":"\\ud800"}}\n{"id":"b","vars":{"t":"fine"}}\n', encoding="utf-8"
    )
    path = _suite_file(tmp_path, {"id": "echo", "model": "echo", "prompt": "say {{ t }}"}, "cases.jsonl")
    db = tmp_path / "m.db"
    run = run_suite(load_suite(path), db=db)
    assert run.status == "complete" and run.done_samples == run.expected_samples == 4
    with Store(db, readonly=True) as store:
        outputs = {(s.case_id, s.repeat): s.output for s in store.samples.iterate(run.id)}
        assert outputs == {("a", 0): f"say {FFFD}", ("a", 1): f"say {FFFD}", ("b", 0): "say fine",
                           ("b", 1): "say fine"}
        assert all(s.passed for s in store.samples.iterate(run.id))
        notes = {r.case_id: r.notes for r in store.browse.case_samples(run.id, "a", ["echo"])}
        assert notes["a"] is not None and "prompt" in notes["a"] and "output" in notes["a"]
        assert "suite snapshot" in (store.runs.notes(run.id) or "")
    again = run_suite(resume=run.id, db=db)  # the snapshot (now with U+FFFD) resumes without a crash
    assert again.status == "complete" and again.done_samples == 4


def test_an_app_output_with_a_lone_surrogate_loses_no_sample(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "mz_hostile_app.py").write_text(
        textwrap.dedent(
            """
            def answer(case):
                return "say " + ("\\ud800" if case["n"] == 2 else str(case["n"]))
            """
        ),
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    cases = [{"id": f"c{n}", "n": n} for n in range(4)]
    path = _suite_file(tmp_path, {"id": "app", "model": "python:mz_hostile_app:answer"}, cases)
    db = tmp_path / "m.db"
    run = run_suite(load_suite(path), db=db)  # the old code: 0 of 8 stored, UnicodeEncodeError
    assert run.status == "complete" and run.done_samples == 8
    with Store(db, readonly=True) as store:
        outputs = sorted({s.output or "" for s in store.samples.iterate(run.id)})
        assert outputs == ["say 0", "say 1", "say 3", f"say {FFFD}"]
        assert store.runs.notes(run.id) is None  # the suite itself was clean
