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
    samples = list(store.samples.iterate(run.id))
    assert store.runs.get(run.id).status == "complete" and len(samples) == 12
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


def test_the_report_names_the_sandbox_the_programs_ran_in(store: Store) -> None:
    from mendoza.report import build_report, report_to_dict, variant_notes

    report = build_report(store, run_suite(load_suite(EXAMPLE), db=store).id)
    backend = available_backend()
    for variant in report.variants:
        assert [(backend, 6)] == [(found, count) for _, found, count in variant.sandboxes]
        assert any(f"ran 6 programs in {'bubblewrap' if backend == 'bwrap' else 'process limits'}" in note
                   for note in variant_notes(report, variant))
    assert report_to_dict(report)["variants"][0]["sandboxes"][0]["backend"] == backend
