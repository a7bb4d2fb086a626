"""``mendoza label``, ``calibrate``, ``rank`` and ``regrade`` from the command line (labels typed on stdin)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import mendoza
from mendoza.api import run_suite
from mendoza.cli import cli
from mendoza.store import Store
from tests.graders import judges
from tests.soft_suites import J, rubric_spec, soft_suite


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "m.db"
    run_suite(soft_suite((rubric_spec(),)), db=path)
    judges.reset()
    return path


def invoke(*args: str, input: str | None = None) -> Result:
    result = CliRunner().invoke(cli, list(args), input=input, env={"COLUMNS": "200"}, catch_exceptions=False)
    return result


def labels(db: Path) -> list[tuple[str, str | None, bool | None, float | None]]:
    with Store(db, readonly=True) as store:
        run = store.runs.get("latest")
        ids = [item.sample_id for item in store.grades.regrade_inputs(run.id)]
        records = store.browse.grade_records(ids)
    return [(g.author or "", g.explanation, g.passed, g.score) for gs in records.values() for g in gs
            if g.source == "human"]


def test_label_pass_fail_note_and_quit(db: Path) -> None:
    result = invoke("label", "--db", str(db), "--author", "ana", input="p\nf too curt\nm\nsays good twice\np\nq\n")
    assert result.exit_code == 0, result.output
    assert "[1/24]" in result.output and "recorded: fail (too curt)" in result.output
    assert "labelled 3 (pass 2, fail 1, score 0)" in result.output
    stored = sorted(labels(db))
    assert stored == sorted([("ana", "", True, 1.0), ("ana", "too curt", False, 0.0),
                             ("ana", "says good twice", True, 1.0)])


def test_label_skip_back_score_help_and_end_of_input(db: Path) -> None:
    result = invoke("label", "--db", str(db), "--author", "bo", input="s\nb\nwhat\n0.25 meh\n")
    assert result.exit_code == 0, result.output
    assert "unknown answer" in result.output and "p/pass, f/fail" in result.output
    assert result.output.count("[1/24]") == 2  # back to the first sample after skipping it
    assert labels(db) == [("bo", "meh", False, 0.25)]  # stdin ran out: the flow stops, the label is kept


def test_label_shows_each_sample_once_then_only_unlabelled(db: Path) -> None:
    invoke("label", "--db", str(db), "--order", "random", "--limit", "3", input="p\np\np\n")
    again = invoke("label", "--db", str(db), "--order", "random", input="q\n")
    assert "21 samples to label" in again.output
    assert "24 samples to label" in invoke("label", "--db", str(db), "--all", input="q\n").output


def test_calibrate_prints_agreement_and_the_corrected_rate(db: Path) -> None:
    answers = "\n".join("p" for _ in range(24)) + "\n"
    invoke("label", "--db", str(db), "--author", "t", input=answers.replace("p", "f", 4))
    result = invoke("calibrate", "--db", str(db))
    assert result.exit_code == 0, result.output
    for text in ("helpful", "against 24 human labels", "Cohen's kappa", "confusion matrix", "sensitivity",
                 "specificity", "Rogan-Gladen", "all variants"):
        assert text in result.output
    data = json.loads(invoke("calibrate", "--db", str(db), "--json").output)
    assert data["labelled"] == 24 and sum(data["confusion"].values()) == 24
    assert {row["variant"] for row in data["pass_rates"]} == {"app", "chatty", "*"}


def test_regrade_then_show_has_the_judge_section(db: Path) -> None:
    spec = "{type: rubric, name: kind, criteria: [The reply is kind], judge: " + f"'{J}:good_word'" + "}"
    result = invoke("regrade", "--db", str(db), "--grader", spec, "-q")
    assert result.exit_code == 0, result.output
    assert "the model under test was not called" in result.output and "grades: 24 new (0 errors)" in result.output
    assert judges.APP_CALLS == []
    shown = invoke("show", "--db", str(db))
    assert "judges (graders that ask a model)" in shown.output and "unmeasured" in shown.output
    assert "warning: the pass rate rests on judge grader 'helpful'" in shown.output


def test_rank_after_adding_a_pairwise_grader(db: Path) -> None:
    invoke("regrade", "--db", str(db), "--grader", "{type: pairwise, judge: " + f"'{J}:prefers_longer'" + "}", "-q")
    result = invoke("rank", "--db", str(db), "-q", "--boot", "50")
    assert result.exit_code == 0, result.output
    assert "ranking by pairwise" in result.output and "head to head" in result.output
    lines = [line for line in result.output.splitlines() if "│ 1 " in line or "│    1 │" in line]
    assert lines and "chatty" in lines[0]
    data = json.loads(invoke("rank", "--db", str(db), "--json", "--no-judge", "--boot", "20").output)
    assert [row["variant"] for row in data["ratings"]] == ["chatty", "app"] and data["judgements"] == 12


def test_mistakes_are_one_line(db: Path, tmp_path: Path) -> None:
    src = str(Path(mendoza.__file__).resolve().parents[1])  # the mendoza under test, not an installed one
    env = {**os.environ, "COLUMNS": "200", "PYTHONPATH": src}
    for args, message in [
        (["rank", "--db", str(db)], "no pairwise grader"),
        (["calibrate", "--db", str(db), "--grader", "nope"], "no grader 'nope'"),
        (["regrade", "--db", str(db), "--grader", "nope"], "no grader named 'nope'"),
        (["label", "--db", str(db), "--variant", "zzz"], "no variant 'zzz'"),
    ]:
        done = subprocess.run([sys.executable, "-m", "mendoza", *args], capture_output=True, text=True, env=env,
                              cwd=tmp_path, timeout=120)
        assert done.returncode == 2, done.stderr
        assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1
