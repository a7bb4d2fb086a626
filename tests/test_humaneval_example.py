"""The HumanEval example of ``examples/humaneval``, run for real: replayed canonical solutions all pass in the
code grader's sandbox, and the broken ones all fail, each for its own reason."""

from __future__ import annotations

from pathlib import Path

from mendoza.api import load_suite, run_suite
from mendoza.graders.sandbox import available_backend
from mendoza.store import Store

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "humaneval" / "suite.yaml"


def test_the_humaneval_example_passes_the_canonical_solutions_and_fails_the_broken_ones(store: Store) -> None:
    run = run_suite(load_suite(EXAMPLE), db=store)
    samples = list(store.iter_samples(run.id))
    assert store.get_run(run.id).status == "complete" and len(samples) == 12
    by_variant: dict[str, dict[str, str]] = {"canonical": {}, "broken": {}}
    for sample in samples:
        (grade,) = sample.grades
        assert sample.passed is (sample.variant_id == "canonical"), grade.explanation
        assert f"[sandbox: {available_backend()}]" in grade.explanation
        by_variant[sample.variant_id][sample.case_id] = grade.explanation
    broken = by_variant["broken"]
    assert "AssertionError" in broken["HumanEval/0"]
    assert "exit code 0, no pass signal" in broken["HumanEval/4"]
    assert "timed out" in broken["HumanEval/7"]
    assert "SyntaxError" in broken["HumanEval/23"]
