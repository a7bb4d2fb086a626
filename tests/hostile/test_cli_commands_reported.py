"""The reported rough edges of the commands: markup eaten in `graders`, `init DIR` nesting a folder, `run`
without `--no-cases`, `calibrate` with no labels printing an empty matrix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from mendoza.api import run_suite
from mendoza.cli import cli
from mendoza.config import load_suite
from tests.soft_suites import rubric_spec, soft_suite


def test_graders_shows_the_json_example_with_its_brackets() -> None:
    result = CliRunner().invoke(cli, ["graders"], env={"COLUMNS": "250"})
    assert result.exit_code == 0
    assert "required: [answer]" in result.output
    assert "required: }" not in result.output


def test_init_taska_writes_into_taska(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["init", "taska"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "taska" / "suite.yaml").is_file()
    assert not (tmp_path / "taska" / "mendoza-suite").exists()
    assert "mendoza run taska/suite.yaml" in result.output
    load_suite(tmp_path / "taska" / "suite.yaml")
    again = CliRunner().invoke(cli, ["init", "taska"])
    assert again.exit_code == 2 and "taska is not empty" in again.output


def test_init_into_an_empty_folder_and_the_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty").mkdir()
    assert CliRunner().invoke(cli, ["init", "empty"]).exit_code == 0
    assert (tmp_path / "empty" / "suite.yaml").is_file()
    assert CliRunner().invoke(cli, ["init"]).exit_code == 0
    assert (tmp_path / "mendoza-suite" / "suite.yaml").is_file()
    assert CliRunner().invoke(cli, ["init"]).exit_code == 2
    (tmp_path / "a-file").write_text("x")
    result = CliRunner().invoke(cli, ["init", "a-file"])
    assert result.exit_code == 2 and "is a file" in result.output


def test_run_has_cases_and_no_cases(write_suite: Any, tmp_path: Path) -> None:
    db = str(tmp_path / "m.db")
    without = CliRunner().invoke(cli, ["run", str(write_suite()), "--db", db, "-q", "--no-cases"])
    assert without.exit_code == 0, without.output
    assert "pass rate per variant" in without.output and "passed / graded per case" not in without.output
    with_cases = CliRunner().invoke(cli, ["run", str(write_suite()), "--db", db, "-q", "--cases"])
    assert with_cases.exit_code == 0 and "passed / graded per case" in with_cases.output


def test_calibrate_with_no_labels_says_so_in_one_line(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    run = run_suite(soft_suite((rubric_spec(),)), db=db)
    result = CliRunner().invoke(cli, ["calibrate", "--db", str(db)], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert f"no human labels in run {run.id} yet" in lines[0] and f"mendoza label {run.id}" in lines[0]
    assert "confusion matrix" not in result.output
