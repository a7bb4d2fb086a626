"""``mendoza rubric draft`` end to end on a small labelled run in a temporary SQLite store: the criteria, kappa on
the held-out labels as computed by hand, the grader written as YAML a suite loads, and one-line refusals. A
scripted drafting model and judge answer (``tests/soft/rubric_fakes.py``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from mendoza import api
from mendoza.cli import cli, main
from mendoza.providers.app_models import AppModel
from tests.soft.rubric_fakes import FAKES, labelled_run

MODELS = ["--model", f"{FAKES}:drafter", "--judge", f"{FAKES}:quoted_words"]


def _invoke(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args))


def test_the_group_lists_draft() -> None:
    result = _invoke("rubric", "--help")
    assert result.exit_code == 0 and "draft" in result.output


def test_draft_prints_the_criteria_and_kappa_and_writes_a_grader_a_suite_loads(tmp_path: Path) -> None:
    db, out, kept = tmp_path / "m.db", tmp_path / "grader.yaml", tmp_path / "held.db"
    run_id = labelled_run(db)
    result = _invoke("rubric", "draft", run_id, "--db", str(db), *MODELS, "-o", str(out), "--held-out-db",
                     str(kept), "-q")
    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())  # the console wraps long lines
    assert "drafting from 2 passes and 2 failures, holding out 2 passes and 2 failures" in output
    assert "1. The reply says 'good answer'" in output
    # 4 held-out labels, 3 agree; chance agreement 0.5 (2 of 4 human passes, 2 of 4 judge passes): kappa 0.5.
    assert "n 4, agreement 75.0%, Cohen's kappa 0.50 95% [" in output
    assert "verdict: unmeasured: 4 labels are too few to measure agreement (at least 10 are needed)" in output
    assert f"mendoza calibrate {run_id} --db {kept} --grader drafted-rubric-" in output
    assert "embedded model" not in output
    (entry,) = yaml.safe_load(out.read_text(encoding="utf-8"))
    suite = tmp_path / "suite.yaml"
    suite.write_text(yaml.safe_dump({
        "suite": "s", "cases": [{"id": "a", "vars": {"q": "x"}}], "variants": [{"id": "v", "model": "mock"}],
        "graders": [entry],
    }), encoding="utf-8")
    loaded = api.load_suite(suite).graders[0]
    assert loaded.name == entry["name"] and loaded.params["criteria"] == ["The reply says 'good answer'"]
    calibrated = _invoke("calibrate", run_id, "--db", str(kept), "--grader", entry["name"])
    assert calibrated.exit_code == 0 and "against 4 human labels" in calibrated.output


def test_without_output_the_yaml_is_printed(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    labelled_run(db)
    result = _invoke("rubric", "draft", "--db", str(db), *MODELS, "--seed", "0", "-q")
    assert result.exit_code == 0, result.output
    assert "- type: rubric\n  name: drafted-rubric-" in result.output
    assert "# held out: 4 labels, agreement 75%, Cohen's kappa 0.50" in result.output


@pytest.mark.parametrize(
    ("extra", "labels", "message"),
    [
        ((), 7, "has 4 labelled passes and 3 labelled failures with an output; drafting a rubric needs at least 4"),
        (("--grader", "nope"), 8, "no grader 'nope' in run"),
        (("--holdout", "1"), 8, "--holdout"),
    ],
)
def test_bad_input_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: tuple[str, ...], labels: int, message: str
) -> None:
    db = tmp_path / "m.db"
    labelled_run(db, labels=labels)
    with pytest.raises(SystemExit) as stopped:
        main(["rubric", "draft", "--db", str(db), *MODELS, *extra])
    captured = capsys.readouterr()
    assert stopped.value.code == 2
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], captured.err


def test_the_embedded_model_is_called_weak(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "m.db"
    labelled_run(db)
    real = AppModel

    def fake(model: str, **options: Any) -> Any:
        client = real(f"{FAKES}:drafter")
        client.model = model
        return client

    monkeypatch.setattr("mendoza.soft.rubric_draft.AppModel", fake)
    result = _invoke("rubric", "draft", "--db", str(db), "--judge", f"{FAKES}:quoted_words", "-q")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("note: local/gemma-3-270m is the small embedded model and drafts weak rubrics")
    assert "pass --model" in " ".join(result.output.split())
