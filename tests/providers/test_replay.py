"""The replay provider: outputs produced elsewhere, read from JSONL by case (and repeat), graded by mendoza;
and ``python:`` / ``replay/`` paths that resolve against the suite file, from any working directory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from mendoza.api import load_suite, run_suite
from mendoza.errors import ConfigError
from mendoza.store import Store


def _write(path: Path, rows: list[dict[str, object]]) -> None:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")


def _suite(folder: Path, model: str, repeats: int = 2) -> Path:
    suite = {
        "suite": "replayed",
        "cases": [{"id": "HumanEval/0"}, {"id": "HumanEval/1"}],
        "variants": [{"id": "theirs", "model": model}],
        "graders": [{"contains": "return"}],
        "repeats": repeats,
    }
    path = folder / "suite.yaml"
    path.write_text(yaml.safe_dump(suite), encoding="utf-8")
    return path


def test_replayed_outputs_are_graded_by_case_and_repeat(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, store: Store
) -> None:
    suites = tmp_path / "suites"
    suites.mkdir()
    _write(
        suites / "completions.jsonl",
        [
            {"task_id": "HumanEval/0", "completion": "    return 1"},
            {"task_id": "HumanEval/0", "completion": "    pass"},
            {"case_id": "HumanEval/1", "repeat": 1, "output": "    return 2", "tokens_out": 3},
            {"case_id": "HumanEval/1", "repeat": 0, "error": "the model refused"},
        ],
    )
    monkeypatch.chdir(tmp_path)  # not the suite's folder: the path resolves against the suite file
    suite = load_suite(_suite(suites, "replay/completions.jsonl"))
    run = run_suite(suite, db=store)
    samples = {(s.case_id, s.repeat): s for s in store.samples.iterate(run.id)}
    assert samples[("HumanEval/0", 0)].output == "    return 1" and samples[("HumanEval/0", 0)].passed is True
    assert samples[("HumanEval/0", 1)].output == "    pass" and samples[("HumanEval/0", 1)].passed is False
    assert samples[("HumanEval/1", 1)].tokens_out == 3 and samples[("HumanEval/1", 1)].passed is True
    assert samples[("HumanEval/1", 0)].error == "replay: the model refused"


def test_a_missing_case_or_repeat_is_that_samples_error(tmp_path: Path, store: Store) -> None:
    _write(tmp_path / "out.jsonl", [{"id": "HumanEval/0", "output": "return 0"}])
    run = run_suite(load_suite(_suite(tmp_path, "replay/out.jsonl")), db=store)
    errors = {(s.case_id, s.repeat): s.error for s in store.samples.iterate(run.id)}
    assert errors[("HumanEval/0", 0)] is None
    assert errors[("HumanEval/0", 1)] == "replay: out.jsonl holds no output for case 'HumanEval/0' repeat 1"
    assert "case 'HumanEval/1' repeat 0" in (errors[("HumanEval/1", 0)] or "")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"id": "a", "output": "x"}\nnot json\n', "out.jsonl:2: invalid JSON"),
        ('{"output": "x"}\n', "out.jsonl:1: no case id"),
        ('{"id": "a"}\n', "out.jsonl:1: no output"),
        ('{"id": "a", "output": "x", "repeat": 0}\n{"id": "a", "output": "y", "repeat": 0}\n', "appears twice"),
        ('{"id": "a", "output": "x", "repeat": true}\n', "'repeat' must be a whole number"),
        ('[1, 2]\n', "each line must be a JSON object"),
    ],
)
def test_a_bad_replay_file_is_one_line_when_the_suite_loads(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "out.jsonl").write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_suite(_suite(tmp_path, "replay/out.jsonl"))
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_a_missing_replay_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"replay file .*nope\.jsonl' not found"):
        load_suite(_suite(tmp_path, "replay/nope.jsonl"))


def test_a_python_app_beside_the_suite_runs_from_another_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, store: Store
) -> None:
    suites = tmp_path / "suites"
    suites.mkdir()
    (suites / "my_app_beside.py").write_text("def answer(vars, repeat):\n    return f'return {repeat}'\n")
    monkeypatch.chdir(tmp_path)
    suite = load_suite(_suite(suites, "python:my_app_beside.py:answer"))
    assert suite.variants[0].model == f"python:{(suites / 'my_app_beside.py').resolve()}:answer"
    run = run_suite(suite, db=store)
    assert sorted(s.output or "" for s in store.samples.iterate(run.id)) == ["return 0", "return 0", "return 1",
                                                                          "return 1"]


def test_a_conversation_is_replayed_turn_by_turn(tmp_path: Path, store: Store) -> None:
    _write(
        tmp_path / "chat.jsonl",
        [
            {"case_id": "talk", "turns": ["Hello!", "Paris.", "Bye."]},
            {"case_id": "short", "turns": ["Only one."]},
            {"case_id": "plain", "turns": ["a", "b"]},
        ],
    )
    said = [{"role": "user", "content": text} for text in ("hi", "capital of France?", "thanks")]
    suite = {
        "suite": "replayed-chat",
        "cases": [{"id": "talk", "messages": said}, {"id": "short", "messages": said[:2]}, {"id": "plain"}],
        "variants": [{"id": "theirs", "model": "replay/chat.jsonl"}],
    }
    (tmp_path / "suite.yaml").write_text(yaml.safe_dump(suite), encoding="utf-8")
    run = run_suite(load_suite(tmp_path / "suite.yaml"), db=store)
    samples = {s.case_id: s for s in store.samples.iterate(run.id, steps=True)}
    talk = samples["talk"]
    assert talk.output == "Bye." and [(s.input, s.output) for s in talk.steps] == [
        ("hi", "Hello!"), ("capital of France?", "Paris."), ("thanks", "Bye.")
    ]
    assert samples["short"].error is not None and "holds 1 turn(s) for case 'short' repeat 0, not turn 2" in (
        samples["short"].error
    )
    assert samples["plain"].output == "b"  # no messages: the last turn


def test_turns_must_be_a_list_of_texts(tmp_path: Path) -> None:
    _write(tmp_path / "bad.jsonl", [{"case_id": "a", "turns": ["ok", 3]}])
    with pytest.raises(ConfigError, match="'turns' must be a non-empty list of texts"):
        load_suite(_suite(tmp_path, "replay/bad.jsonl"))
