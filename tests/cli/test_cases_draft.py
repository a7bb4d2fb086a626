"""``mendoza cases perturb`` and ``mendoza cases draft``: drafts files with provenance, the model's answer
validated against the suite's schema, re-asked at most three times (a scripted ``mock`` model answers)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from mendoza.cli import cli, main
from mendoza.cli.cases_draft import DraftsInvalid, draft_prompt, parse_drafts
from mendoza.config import load_suite

CASES = [
    {"id": "r1", "ticket": "My order arrived broken, I want a refund.", "expected": "refund"},
    {"id": "r2", "ticket": "Where is my parcel? It is late.", "expected": "shipping"},
]
GOOD = json.dumps([
    {"ticket": "I was charged twice, please fix it.", "expected": "billing"},
    {"ticket": "The app crashes on login.", "expected": "bug"},
])


def _suite(tmp_path: Path, outputs: list[str] | None = None) -> Path:
    data: dict[str, Any] = {
        "suite": "triage",
        "description": "Route a customer's support ticket to the right team.",
        "cases": CASES,
        "variants": [{"id": "plain", "model": "mock", "prompt": "{{ ticket }}"}],
    }
    if outputs is not None:
        data["variants"].append({"id": "drafter", "model": "mock", "params": {"outputs": outputs}})
    path = tmp_path / "suite.yaml"
    path.write_text(json.dumps(data), encoding="utf-8")  # JSON is YAML
    return path


def _invoke(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args))


def _rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_the_group_lists_both_commands() -> None:
    result = _invoke("cases", "--help")
    assert result.exit_code == 0 and "perturb" in result.output and "draft" in result.output


def test_perturb_writes_drafts_with_provenance_and_is_deterministic(tmp_path: Path) -> None:
    suite = _suite(tmp_path)
    out, again = tmp_path / "d.jsonl", tmp_path / "e.jsonl"
    result = _invoke("cases", "perturb", str(suite), "--with", "typos,casing", "--seed", "4", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "wrote 4 perturbed cases" in result.output
    rows = _rows(out)
    assert [row["case"]["id"] for row in rows] == ["r1~typos", "r1~casing", "r2~typos", "r2~casing"]
    first = rows[0]
    assert first["provenance"] == {"kind": "perturbation", "name": "typos", "seed": 4, "from": "r1"}
    assert first["case"]["expected"] == "refund" and first["case"]["tags"] == ["perturbed", "typos"]
    assert first["case"]["vars"]["ticket"] != CASES[0]["ticket"]
    _invoke("cases", "perturb", str(suite), "--with", "typos,casing", "--seed", "4", "-o", str(again))
    assert out.read_text() == again.read_text()


def test_perturb_reports_cases_it_cannot_change_and_refuses_unknown_names(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    suite = _suite(tmp_path)
    out = tmp_path / "d.jsonl"
    result = _invoke("cases", "perturb", str(suite), "--with", "reorder", "--vars", "ticket", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "wrote 2 perturbed cases" in result.output
    result = _invoke("cases", "perturb", str(suite), "--with", "reorder", "--vars", "nothing", "-o", str(out))
    assert "wrote 0 perturbed cases" in result.output and "2 left out" in result.output
    with pytest.raises(SystemExit) as stopped:
        main(["cases", "perturb", str(suite), "--with", "typo", "-o", str(out)])
    assert stopped.value.code != 0 and "unknown perturbation(s) 'typo'" in capsys.readouterr().err


def test_the_prompt_shows_the_description_the_cases_and_the_schema(tmp_path: Path) -> None:
    suite = load_suite(_suite(tmp_path))
    prompt = draft_prompt(suite, 7, about="angry customers")
    assert "Route a customer's support ticket" in prompt
    assert json.dumps({"ticket": CASES[0]["ticket"], "expected": "refund"}) in prompt
    assert 'Write 7 new' in prompt and '"ticket", "expected"' in prompt and "angry customers" in prompt


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ("sure! here you go", "no JSON array"),
        ('[{"ticket": "x", "expected": "y",}]', "not valid JSON"),
        ("[]", "empty"),
        ('["just text"]', "case 1 is a str"),
        ('[{"ticket": "x", "expected": "y", "priority": "high"}]', "key(s) the suite's cases do not: priority"),
        ('[{"ticket": "x"}]', "lacks the key(s): expected"),
    ],
)
def test_invalid_answers_are_refused_with_the_reason(answer: str, reason: str) -> None:
    with pytest.raises(DraftsInvalid, match=None) as caught:
        parse_drafts(answer, ["ticket"], True)
    assert reason in str(caught.value)


def test_a_fenced_answer_is_read() -> None:
    assert parse_drafts(f"Here:\n```json\n{GOOD}\n```\n", ["ticket"], True)[1]["expected"] == "bug"


def test_draft_writes_valid_cases_with_provenance(tmp_path: Path) -> None:
    suite = _suite(tmp_path, [GOOD])
    out = tmp_path / "drafts.jsonl"
    result = _invoke("cases", "draft", str(suite), "--n", "2", "--model", "drafter", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "wrote 2 drafted cases" in result.output and "1 ask(s)" in result.output
    assert "embedded model" not in result.output
    rows = _rows(out)
    prompt = draft_prompt(load_suite(suite), 2)
    digest = hashlib.sha256(prompt.encode()).hexdigest()
    assert rows[0]["case"] == {
        "id": f"draft-{digest[:8]}-1", "vars": {"ticket": "I was charged twice, please fix it."},
        "expected": "billing", "tags": ["drafted"],
    }
    assert rows[1]["provenance"] == {"kind": "model", "model": "mock", "prompt_sha256": digest, "seed": 0,
                                     "attempts": 1}


def test_invalid_json_is_asked_again(tmp_path: Path) -> None:
    suite = _suite(tmp_path, ["[{not json}]", GOOD])  # the mock answers outputs[seed % 2]; attempt k asks seed k
    out = tmp_path / "drafts.jsonl"
    result = _invoke("cases", "draft", str(suite), "--model", "drafter", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "2 ask(s)" in result.output and "re-asked: the answer is not valid JSON" in result.output
    assert [row["provenance"]["seed"] for row in _rows(out)] == [1, 1]


def test_a_schema_violation_is_asked_again(tmp_path: Path) -> None:
    extra = json.dumps([{"ticket": "x", "expected": "y", "team": "z"}])
    suite = _suite(tmp_path, [extra, GOOD])
    out = tmp_path / "drafts.jsonl"
    result = _invoke("cases", "draft", str(suite), "--model", "drafter", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "re-asked: case 1 has key(s) the suite's cases do not: team" in result.output
    assert len(_rows(out)) == 2


def test_draft_gives_up_after_three_reasks_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    suite = _suite(tmp_path, ['[{"ticket": "x"}]'])
    out = tmp_path / "drafts.jsonl"
    with pytest.raises(SystemExit) as stopped:
        main(["cases", "draft", str(suite), "--model", "drafter", "-o", str(out)])
    captured = capsys.readouterr()
    assert stopped.value.code != 0 and captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert "mock gave no valid drafts after 3 re-asks" in lines[0] and "lacks the key(s): expected" in lines[0]
    assert not out.exists()


def test_the_embedded_model_is_called_weak(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    suite = _suite(tmp_path, [GOOD])
    out = tmp_path / "drafts.jsonl"
    import mendoza.cli.cases_draft as module

    real = module.AppModel

    def fake(model: str, **options: Any) -> Any:
        client = real("mock", params={"outputs": [GOOD]})
        client.model = model
        return client

    monkeypatch.setattr(module, "AppModel", fake)
    result = _invoke("cases", "draft", str(suite), "-o", str(out))
    assert result.exit_code == 0, result.output
    assert result.output.startswith("note: local/gemma-3-270m is the small embedded model and drafts weak cases")
    assert "pass --model" in result.output
