"""The CLI: thin commands, one-line errors, exit codes that can gate CI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

import mendoza as mendoza_package
from mendoza.cli import cli
from mendoza.store import Store

#: The mendoza under test (a checkout's src/, not whichever is installed), for the child processes.
SRC = str(Path(mendoza_package.__file__).resolve().parents[1])


def mendoza(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200", "PYTHONPATH": SRC}
    return subprocess.run(
        [sys.executable, "-m", "mendoza", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )


def test_run_prints_pass_rates_and_the_run_id(write_suite: Any, tmp_path: Path) -> None:
    result = mendoza("run", str(write_suite()), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "echo-suite" in result.stdout and "100.0%" in result.stdout
    assert (tmp_path / ".mendoza" / "mendoza.db").is_file()
    with Store(tmp_path / ".mendoza" / "mendoza.db", readonly=True) as store:
        run = store.runs.get("latest")
    assert f"run id: {run.id}" in result.stdout
    shown = mendoza("show", run.id[:15], cwd=tmp_path)
    assert shown.returncode == 0 and "passed / graded per case" in shown.stdout and "3/3" in shown.stdout
    listed = mendoza("runs", cwd=tmp_path)
    assert run.id in listed.stdout and "complete" in listed.stdout and "12/12" in listed.stdout


def test_threshold_missed_exits_1(write_suite: Any, tmp_path: Path) -> None:
    cases = [{"id": f"c{i}", "word": f"w{i}", "expected": f"w{i}"} for i in range(12)]
    suite = write_suite(cases=cases, repeats=2, graders=[{"contains": "never there"}],
                        thresholds={"min_pass_rate": 0.5})
    result = mendoza("run", str(suite), "--db", str(tmp_path / "x.db"), cwd=tmp_path)
    assert result.returncode == 1, result.stdout
    assert "gate fail:" in result.stdout and "lies below min_pass_rate 50.0%" in result.stdout


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"repeats": "five"}, "suite.yaml:"),
        ({"variantz": []}, "unknown key 'variantz'"),
        ({"cases": "missing.jsonl"}, "cases file 'missing.jsonl' not found"),
        ({"graders": [{"containz": "x"}]}, "unknown grader 'containz'"),
        ({"variants": [{"id": "v", "model": "echo", "prompt": "{{ nope }}"}]}, "does not define"),
    ],
)
def test_bad_suites_give_one_line_and_exit_2(
    write_suite: Any, tmp_path: Path, change: dict[str, Any], expected: str
) -> None:
    result = mendoza("run", str(write_suite(**change)), cwd=tmp_path)
    assert result.returncode == 2
    assert expected in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_unknown_run_and_missing_database_are_one_line(tmp_path: Path, write_suite: Any) -> None:
    missing = mendoza("show", "nope", cwd=tmp_path)
    assert (
        missing.returncode == 2
        and "no mendoza database" in missing.stderr
        and "Traceback" not in missing.stderr
    )
    mendoza("run", str(write_suite()), cwd=tmp_path)
    unknown = mendoza("show", "nope", cwd=tmp_path)
    assert unknown.returncode == 2 and "no run 'nope'" in unknown.stderr


def test_run_needs_a_suite_or_resume(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["run"])
    assert result.exit_code == 2 and "give a SUITE file" in result.output


def test_graders_and_providers_are_listed() -> None:
    graders = CliRunner().invoke(cli, ["graders"], terminal_width=200)
    assert graders.exit_code == 0
    for name in (
        "equals",
        "contains",
        "contains_any",
        "contains_all",
        "regex",
        "json",
        "numeric",
        "length",
        "python",
        "code",
        "tool_called",
        "trajectory",
    ):
        assert name in graders.output
    providers = CliRunner().invoke(cli, ["providers"], terminal_width=200)
    assert providers.exit_code == 0
    for name in ("local", "openai", "anthropic", "python", "echo", "mock"):
        assert name in providers.output


def test_init_scaffolds_a_suite_that_loads(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["init", str(tmp_path)])
    assert result.exit_code == 0, result.output
    suite_file = tmp_path / "suite.yaml"
    data = yaml.safe_load(suite_file.read_text())
    assert data["variants"][0]["model"] == "local/gemma-3-270m"
    from mendoza.config import load_suite

    suite = load_suite(suite_file)
    assert len(suite.cases) >= 5 and len(suite.variants) == 2
    again = CliRunner().invoke(cli, ["init", str(tmp_path)])
    assert again.exit_code == 2 and "is not empty" in again.output
