"""Errors are an outcome, not a hole: the issue's flaky app, ``errors: exclude``, the bounds, undecided
samples, and a run whose every sample errored."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from mendoza.api import run_suite
from mendoza.cli import cli
from mendoza.core import Case, GraderSpec, OutcomeCounts, Suite, Variant
from mendoza.report import build_report, rate_of, report_to_dict, report_to_markdown
from mendoza.store import Store

FLAKY_APP = """
import random

def answer(vars, seed=None):
    if random.Random(seed).random() < 0.3:
        raise TimeoutError("upstream timed out")
    return "ok"
"""


def _write_flaky_suite(tmp_path: Path, **changes: Any) -> Path:
    (tmp_path / "flaky_app.py").write_text(textwrap.dedent(FLAKY_APP), encoding="utf-8")
    suite = {
        "suite": "flaky",
        "cases": [{"id": f"c{i:02d}", "n": i} for i in range(40)],
        "variants": [{"id": "app", "model": "python:flaky_app.py:answer"}],
        "graders": [{"equals": "ok"}],
        "repeats": 5,
        "max_retries": 0,
        **changes,
    }
    path = tmp_path / "suite.yaml"
    path.write_text(yaml.safe_dump(suite, sort_keys=False), encoding="utf-8")
    return path


def _invoke(*args: str) -> Any:
    return CliRunner(env={"COLUMNS": "200"}).invoke(cli, list(args), terminal_width=200)


def test_the_flaky_app_counts_its_errors_as_failures(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = _invoke("run", str(_write_flaky_suite(tmp_path)), "--db", "m.db", "-q")
    assert result.exit_code == 0, result.output
    with Store(tmp_path / "m.db") as store:
        variant = build_report(store, "latest").variant("app")
    assert variant.samples == 200 and 40 < variant.errors < 80  # about 30% of 200
    assert variant.graded == 200 and variant.passed == 200 - variant.errors
    assert variant.pass_rate == pytest.approx(1 - variant.errors / 200)
    assert variant.interval.high < 0.85  # no longer "100.0% [87.8%, 100.0%]"
    assert variant.top_errors[0].message.startswith("upstream timed out") or "TimeoutError" in (
        variant.top_errors[0].message
    )
    assert variant.rate.bounds is not None and variant.rate.bounds.high.estimate == 1.0
    assert f"{variant.errors} of 200 samples errored" in result.output and "counted as failures" in result.output
    assert "(all failed) to 100.0% (all passed)" in result.output


def test_errors_exclude_leaves_them_out_and_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = _invoke("run", str(_write_flaky_suite(tmp_path, errors="exclude")), "--db", "m.db", "-q")
    assert result.exit_code == 0, result.output
    with Store(tmp_path / "m.db") as store:
        report = build_report(store, "latest")
    variant = report.variant("app")
    assert variant.pass_rate == 1.0 and variant.graded == 200 - variant.errors
    assert "left out of the rate (errors: exclude)" in result.output
    data = report_to_dict(report)
    assert data["error_rule"] == "exclude" and data["variants"][0]["error_rule"] == "exclude"
    assert data["variants"][0]["errors"] == variant.errors
    bounds = data["variants"][0]["bounds"]
    assert bounds["if_all_failed"]["estimate"] == pytest.approx((200 - variant.errors) / 200)
    assert "left out" in report_to_markdown(report)


def test_a_run_where_every_sample_errored_says_so_and_exits_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "down.py").write_text("def answer(vars):\n    raise ConnectionError('connection refused')\n")
    suite = {"suite": "down", "cases": [{"id": "a"}, {"id": "b"}], "graders": [{"equals": "ok"}],
             "variants": [{"id": "app", "model": "python:down.py:answer"}], "max_retries": 0}
    (tmp_path / "suite.yaml").write_text(yaml.safe_dump(suite), encoding="utf-8")
    result = _invoke("run", "suite.yaml", "--db", "m.db", "-q")
    assert result.exit_code == 1, result.output
    assert "gate fail: variant 'app': every sample errored (2); first error:" in result.output
    assert "connection refused" in result.output
    assert "Nothing graded yet" not in result.output


def test_undecided_samples_are_left_out_with_bounds(store: Store) -> None:
    grader = GraderSpec(type="python", params={"function": "math:nope"}, name="broken")
    suite = Suite(name="s", cases=(Case(id="a"),), variants=(Variant(id="v", model="echo", prompt="x"),),
                  graders=(grader,), repeats=2)
    try:
        run = run_suite(suite, db=store)
    except Exception:  # a load-time check of the grader may refuse it first; then build the counts directly
        rate = rate_of([OutcomeCounts(passed=1, failed=0, undecided=3)], repeats=4)
        assert rate.reliability.graded == 1 and rate.bounds is not None
        assert rate.bounds.low.estimate == 0.25 and rate.bounds.high.estimate == 1.0
        return
    variant = build_report(store, run.id).variant("v")
    assert variant.undecided == 2 and variant.graded == 0
    assert any("undecided" in warning for warning in variant.warnings)


def test_the_headline_rule() -> None:
    counts = OutcomeCounts(passed=6, failed=2, errored=1, undecided=1)
    assert counts.headline("fail") == (6, 3) and counts.headline("exclude") == (6, 2)
    assert counts.bounds() == ((6, 4), (8, 2))
    assert counts.samples == 10 and OutcomeCounts.of(10, 6, 2, 1) == counts
    assert counts + counts == OutcomeCounts(12, 4, 2, 2)


def test_empty_and_constant_outputs_are_flagged(store: Store) -> None:
    cases = tuple(Case(id=f"c{i}") for i in range(4))
    variants = (Variant(id="blank", model="mock", params={"output": "  "}),
                Variant(id="parrot", model="mock", params={"output": "same"}))
    suite = Suite(name="s", cases=cases, variants=variants,
                  graders=(GraderSpec(type="length", params={"max": 100}, name="short"),), repeats=2)
    report = build_report(store, run_suite(suite, db=store).id)
    assert any("8 of 8 answered samples of 'blank' are empty" in w for w in report.variant("blank").warnings)
    assert any("same output across 4 cases" in w for w in report.variant("parrot").warnings)


def test_sample_notes_become_warnings_with_counts(store: Store) -> None:
    from mendoza.core import Grade, Sample

    suite = Suite(name="s", cases=(Case(id="a"), Case(id="b")), variants=(Variant(id="v", model="echo"),))
    run = store.runs.create(suite)
    grade = (Grade(grader="g", passed=True, score=1.0, grader_hash="h"),)
    store.samples.write(
        run.id,
        [
            Sample("a", "v", 0, "p", "x", grades=grade, notes="chat template guessed: no template"),
            Sample("b", "v", 0, "p", "y", grades=grade, notes="chat template guessed: no template"),
            Sample("b", "v", 1, "p", "bad \ud800 text", grades=grade),
        ],
    )
    warnings = build_report(store, run.id).variant("v").warnings
    assert "2 samples of 'v': chat template guessed: no template" in warnings
    assert any(w.startswith("1 samples of 'v': text UTF-8 cannot store") for w in warnings)
