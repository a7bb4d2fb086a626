"""``mendoza cases analyze`` and ``mendoza cases subset``: the report's figures in the terminal and as JSON, the
kept cases written as a cases file, and bad input in one line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from mendoza.cli import cli, main
from mendoza.config.datasets import load_cases_file
from mendoza.report import analyse_items, choose_subset, items_to_dict, subset_to_dict
from mendoza.store import Store
from tests.report.items_factory import SMALL as COUNTS
from tests.report.items_factory import VARIANTS, write_counts


def _invoke(*args: str) -> Any:
    return CliRunner(env={"COLUMNS": "200"}).invoke(cli, list(args), terminal_width=200)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "m.db"
    with Store(path) as store:
        write_counts(store, COUNTS, VARIANTS, 2, run_id="run-1",
                     outputs=lambda case, variant, repeat: "Paris" if case == "wrong" else f"no {case}")
    return path


def test_the_group_lists_its_commands() -> None:
    result = _invoke("cases", "--help")
    assert result.exit_code == 0 and "analyze" in result.output and "subset" in result.output


def test_analyze_prints_the_cases_worst_first_and_the_suggestions(db: Path) -> None:
    result = _invoke("cases", "analyze", "run-1", "--db", str(db))
    assert result.exit_code == 0, result.output
    out = result.output
    assert "items of items  run run-1  (7 cases, 3 variants x 2 repeats)" in out
    assert "variants, by pass rate on every case: weak 42.9%, mid 57.1%, strong 64.3%" in out
    positions = [out.index(f"│ {case_id} ") for case_id in ("wrong", "rev", "easy", "flaky", "sep3")]
    assert positions == sorted(positions)
    assert '6/6 say "Paris" (3 variants)' in out
    assert "Check 1 case that every variant fails (suspect; 1 with one output from several variants" in out
    assert "Drop 1 case that every variant always passes" in out and "Add repeats: 2 cases" in out
    with Store(db, readonly=True) as store:
        analysis = analyse_items(store, "run-1")
    for line in analysis.suggestions:
        assert line[:60] in out
    assert "more cases" not in out
    limited = _invoke("cases", "analyze", "run-1", "--db", str(db), "--limit", "2").output
    assert "5 more cases: --limit 0 lists them all" in limited and "│ easy " not in limited


def test_analyze_json_is_the_reports(db: Path) -> None:
    result = _invoke("cases", "analyze", "--db", str(db), "--json", "--verdicts", "automatic")
    assert result.exit_code == 0
    with Store(db, readonly=True) as store:
        expected = items_to_dict(analyse_items(store, "latest", verdicts="automatic"))
    assert json.loads(result.output) == json.loads(json.dumps(expected))


def test_subset_prints_both_errors_and_writes_the_cases(db: Path, tmp_path: Path) -> None:
    target = tmp_path / "kept.jsonl"
    result = _invoke("cases", "subset", "run-1", "--keep", "3", "--db", str(db), "-o", str(target))
    assert result.exit_code == 0, result.output
    with Store(db, readonly=True) as store:
        report = choose_subset(store, "run-1", 3)
        suite = store.runs.suite("run-1")
    out = result.output
    assert "3 of 7 cases, stratified by difficulty and discrimination" in out
    assert "leave one variant out (3 variants): this subset " in out and "random subsets of 3: " in out
    listed = out.split("kept cases (3, one a line):\n")[1].splitlines()[:3]
    assert listed == list(report.case_ids)
    assert f"wrote 3 cases to {target}" in out
    assert load_cases_file(target) == [case for case in suite.cases if case.id in report.case_ids]
    as_json = _invoke("cases", "subset", "run-1", "--keep", "3", "--db", str(db), "--json", "--seed", "5")
    with Store(db, readonly=True) as store:
        expected = subset_to_dict(choose_subset(store, "run-1", 3, seed=5))
    assert json.loads(as_json.output) == json.loads(json.dumps(expected))


@pytest.mark.parametrize(("keep", "message"), [("7", "--keep 7: run run-1 has 7 cases with counted samples"),
                                               ("0", "Invalid value for '--keep'")])
def test_a_bad_keep_is_one_line_and_exit_2(
    db: Path, keep: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["cases", "subset", "run-1", "--keep", keep, "--db", str(db)])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_an_unknown_run_is_one_line(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["cases", "analyze", "nope", "--db", str(db)])
    assert stopped.value.code == 2 and "no run 'nope'" in capsys.readouterr().err


def test_hostile_ids_and_outputs_print_as_text(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    hostile = "[bold red]x[/]\x1b[31m"
    with Store(db) as store:
        write_counts(store, {hostile: [0, 0], "ok": [1, 2], "ok2": [2, 0]}, ["a", "b"], 2,
                     outputs=lambda case, variant, repeat: "[link=http://evil]click[/link]\x1b]0;t\x07")
    result = _invoke("cases", "analyze", "--db", str(db))
    assert result.exit_code == 0
    assert "[bold red]x[/]?[31m" in result.output and "\x1b" not in result.output
    assert "[link=http://evil]click[/link]" in result.output
