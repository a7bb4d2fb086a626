"""What the CLI leaves for CI: ``--junit FILE`` on run, show and compare, ``compare --markdown``, the Markdown
summary appended to ``$GITHUB_STEP_SUMMARY``, and output to a pipe that is not cut at 80 columns."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import xmlschema
from click.testing import CliRunner, Result
from rich.console import Console

import mendoza as mendoza_package
from mendoza.cli import cli
from mendoza.cli.ci import STEP_SUMMARY_LIMIT, append_step_summary
from mendoza.cli.text import PLAIN_WIDTH, make_console
from mendoza.core import Case, Grade, GraderSpec, Sample, Suite, Variant
from mendoza.store import Store

#: The mendoza under test (a checkout's src/), for the child process.
SRC = str(Path(mendoza_package.__file__).resolve().parents[1])
SCHEMA = xmlschema.XMLSchema(str(Path(__file__).resolve().parents[1] / "support" / "junit.xsd"))

SUITE: dict[str, Any] = {
    "suite": "ci-suite",
    "cases": [{"id": f"c{i:02d}"} for i in range(12)],
    "variants": [
        {"id": "good", "model": "mock", "params": {"pass_rate": 1.0, "pass_output": "yes", "fail_output": "no"}},
        {"id": "bad", "model": "mock", "params": {"pass_rate": 0.0, "pass_output": "yes", "fail_output": "no"}},
    ],
    "graders": [{"equals": "yes"}],
    "repeats": 3,
    "thresholds": {"min_pass_rate": 0.5},
}


def _invoke(*args: str, **env: str | None) -> Result:
    """The command as CI runs it: output to a pipe, no COLUMNS (unless given), no step summary (unless given)."""
    environment: dict[str, str | None] = {"COLUMNS": None, "GITHUB_STEP_SUMMARY": None, **env}
    return CliRunner(env=environment).invoke(cli, list(args))


def _run(write_suite: Any, db: Path, *extra: str, expect: int = 1, **env: str | None) -> tuple[str, Result]:
    result = _invoke("run", str(write_suite(SUITE)), "--db", str(db), "-q", *extra, **env)
    assert result.exit_code == expect, result.output
    return result.stdout.split("run id: ")[1].split()[0], result


def _junit(path: Path) -> ET.Element:
    SCHEMA.validate(str(path))
    return ET.parse(path).getroot()


def test_run_writes_a_valid_junit_file_and_exits_with_the_gate(write_suite: Any, tmp_path: Path) -> None:
    target = tmp_path / "reports" / "nested" / "junit.xml"  # its folders are made
    run_id, _ = _run(write_suite, tmp_path / "m.db", "--junit", str(target))
    root = _junit(target)
    assert run_id in root.attrib["name"]
    cases = {case.attrib["name"]: case for case in root.iter("testcase")}
    assert set(cases) == {"good: samples", "good: min_pass_rate", "bad: samples", "bad: min_pass_rate"}
    failure = cases["bad: min_pass_rate"].find("failure")
    assert failure is not None and "lies below min_pass_rate 50.0%" in failure.attrib["message"]
    assert root.attrib["tests"] == "4" and root.attrib["failures"] == "1"


def test_show_and_compare_write_junit_and_compare_prints_markdown(write_suite: Any, tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    first, _ = _run(write_suite, db)
    second, _ = _run(write_suite, db)
    shown = _invoke("show", first, "--db", str(db), "--junit", str(tmp_path / "show.xml"))
    assert shown.exit_code == 0, shown.output  # show reports the gate; it does not exit on it
    assert "pass rate per variant" in shown.stdout
    assert _junit(tmp_path / "show.xml").attrib["failures"] == "1"

    compared = _invoke("compare", first, second, "--db", str(db), "--junit", str(tmp_path / "compare.xml"))
    assert compared.exit_code == 0, compared.output
    root = _junit(tmp_path / "compare.xml")
    assert [suite.attrib["name"] for suite in root.iter("testsuite")] == [
        f"{second}:good vs {first}:good",
        f"{second}:bad vs {first}:bad",
    ]
    markdown = _invoke("compare", first, second, "--db", str(db), "--markdown")
    assert markdown.exit_code == 0 and markdown.stdout.startswith("# Paired comparison\n")
    assert f"| {second}:good | {first}:good | 12 | 100.0% | 100.0% | +0.0% |" in markdown.stdout


def test_the_step_summary_is_appended_whatever_the_exit_code(write_suite: Any, tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n", encoding="utf-8")
    db = tmp_path / "m.db"
    first, result = _run(write_suite, db, GITHUB_STEP_SUMMARY=str(summary))  # the gate fails: exit 1
    assert result.stderr == ""
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("earlier step\n") and f"# ci-suite: run {first}" in text
    assert "## Gate: fail" in text and "- **fail** (min_pass_rate): variant 'bad'" in text
    assert "## Per case" in text

    second, _ = _run(write_suite, db, "--baseline", first, GITHUB_STEP_SUMMARY=str(summary))
    shown = _invoke("show", second, "--db", str(db), "--json", GITHUB_STEP_SUMMARY=str(summary))
    compared = _invoke("compare", first, second, "--db", str(db), GITHUB_STEP_SUMMARY=str(summary))
    assert shown.exit_code == 0 and compared.exit_code == 0
    text = summary.read_text(encoding="utf-8")
    assert text.count(f"# ci-suite: run {second}") == 2  # run, then show
    assert text.count("## Paired comparison") == 1 and text.count("\n# Paired comparison") == 1  # run, compare
    assert text.count("## Gate: fail") == 3


def test_a_step_summary_that_cannot_be_written_is_one_warning(write_suite: Any, tmp_path: Path) -> None:
    _, result = _run(write_suite, tmp_path / "m.db", GITHUB_STEP_SUMMARY=str(tmp_path))  # a folder
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("warning: could not append the summary to $GITHUB_STEP_SUMMARY")
    assert "run id: " in result.stdout  # the run and its gate's exit code (1) are untouched


def test_a_junit_file_that_cannot_be_written_is_exit_2_after_the_summary(write_suite: Any, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder", encoding="utf-8")
    summary = tmp_path / "summary.md"
    env = {**os.environ, "PYTHONPATH": SRC, "GITHUB_STEP_SUMMARY": str(summary)}
    result = subprocess.run(
        [sys.executable, "-m", "mendoza", "run", str(write_suite(SUITE)), "--db", str(tmp_path / "m.db"), "-q",
         "--junit", str(blocker / "j.xml")],
        capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path,
    )
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "mendoza show" in lines[0] and "--junit FILE writes it" in lines[0]
    assert "## Gate: fail" in summary.read_text(encoding="utf-8")  # the summary went first


def test_append_step_summary_bounds_its_size(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    append_step_summary("| row |\n" * (STEP_SUMMARY_LIMIT // 4) + "\ud800")
    text = summary.read_text(encoding="utf-8")
    assert len(text.encode("utf-8")) < STEP_SUMMARY_LIMIT + 200 and text.rstrip().endswith("summary may be)*")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", "")
    append_step_summary("nothing happens")  # an empty variable names no file


LONG_RUN_ID = "20260101-000000-abcd-a-long-run-id-as-an-importer-might-name-it"


def _long_run(db: Path) -> None:
    grader = GraderSpec(type="equals", params={"value": "yes"}, name="equals")
    suite = Suite(
        name="wide",
        cases=tuple(Case(id=f"c{i}", vars={}) for i in range(3)),
        variants=(Variant(id="a-variant-with-a-rather-long-name", model="echo"),),
        graders=(grader,),
        repeats=10,
    )
    with Store(db) as store:
        store.runs.create(suite, run_id=LONG_RUN_ID)
        store.samples.write(
            LONG_RUN_ID,
            [
                Sample(f"c{i}", "a-variant-with-a-rather-long-name", repeat, "p", "yes",
                       grades=(Grade("equals", i != 2 or repeat % 2 == 0, 1.0, grader_hash=grader.definition_hash()),))
                for i in range(3)
                for repeat in range(10)
            ],
        )


def test_output_to_a_pipe_is_not_cut_at_80_columns(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    _long_run(db)
    shown = _invoke("show", LONG_RUN_ID, "--db", str(db))
    assert shown.exit_code == 0, shown.output
    lines = shown.stdout.splitlines()
    assert any(LONG_RUN_ID in line for line in lines)  # the run id whole, on one line
    pass_k = next(line for line in lines if "83.3% / 83.3%" in line)  # the pass@k row: k=1..10
    cells = [cell.strip() for cell in pass_k.split("│")[1:-1]]
    assert cells[0] == "a-variant-with-a-rather-long-name" and len(cells) == 11, pass_k
    assert all(re.fullmatch(r"\d+\.\d% / \d+\.\d%", cell) for cell in cells[1:]), pass_k
    assert cells[-1] == "100.0% / 66.7%"
    assert len(pass_k) > PLAIN_WIDTH  # a table wider than the text width is printed whole
    assert max(len(line) for line in lines) > 80
    listed = _invoke("runs", "--db", str(db))
    assert LONG_RUN_ID in listed.stdout

    narrow = _invoke("show", LONG_RUN_ID, "--db", str(db), COLUMNS="100")  # $COLUMNS is honoured
    assert max(len(line) for line in narrow.stdout.splitlines()) <= 100


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_keeps_richs_width(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    terminal = _Terminal()
    assert make_console(terminal).width == Console(file=terminal).width
    assert make_console(io.StringIO()).width == PLAIN_WIDTH
    monkeypatch.setenv("COLUMNS", "123")
    assert make_console(io.StringIO()).width == 123
