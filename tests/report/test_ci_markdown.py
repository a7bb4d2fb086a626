"""The Markdown of a comparison and of a report's gate (for pull requests and CI job summaries): the figures
of the comparison and the gate, ids escaped so that they cannot break a table."""

from __future__ import annotations

import re

from mendoza.api import run_suite
from mendoza.core import Case, GraderSpec, Suite, Thresholds, Variant
from mendoza.report import (
    build_report,
    compare_variants,
    comparison_to_markdown,
    evaluate_gate,
    gate_to_markdown,
    regression_gate,
    report_to_markdown,
)
from mendoza.store import Store

GRADER = (GraderSpec(type="equals", params={"value": "yes"}, name="equals"),)
EVIL = "a|b\nc"  # a pipe and a line break: either would break a table row


def _variant(vid: str, rate: float, rates: dict[str, float] | None = None) -> Variant:
    params = {"pass_rate": rate, "pass_rates": rates or {}, "pass_output": "yes", "fail_output": "no"}
    return Variant(id=vid, model="mock", params=params)


def _suite(*variants: Variant, cases: int = 20, **thresholds: object) -> Suite:
    return Suite(
        name="md",
        cases=tuple(Case(id=f"c{i:02d}", vars={}) for i in range(cases)),
        variants=variants,
        graders=GRADER,
        repeats=6,
        thresholds=Thresholds.model_validate(thresholds),
    )


def _columns(line: str) -> int:
    """How many cells a table row has (pipes escaped with a backslash do not separate)."""
    return len(re.findall(r"(?<!\\)\|", line)) - 1


def _assert_tables_intact(markdown: str) -> None:
    """Every row of every table has as many cells as its header."""
    for block in markdown.split("\n\n"):
        rows = [line for line in block.splitlines() if line.startswith("|")]
        assert all(_columns(row) == _columns(rows[0]) for row in rows), rows


def test_comparison_markdown_has_the_paired_difference_cases_and_gate(store: Store) -> None:
    suite = _suite(_variant(EVIL, 1.0), max_regression=0.02)
    baseline = run_suite(suite, db=store)
    worse = {f"c{i:02d}": 0.0 for i in range(8)}
    changed = run_suite(suite.model_copy(update={"variants": (_variant(EVIL, 1.0, worse),)}), db=store)
    comparison = compare_variants(store, baseline.id, EVIL, changed.id, EVIL)
    gate = regression_gate(suite.thresholds, [comparison], suite.repeats)
    markdown = comparison_to_markdown([comparison], gate)

    assert markdown.startswith("# Paired comparison\n")
    _assert_tables_intact(markdown)  # the pipe and the newline in the ids did not split a row
    paired = comparison.paired
    row = f"| {changed.id}:a\\|b c | {baseline.id}:a\\|b c | 20 | 60.0% | 100.0% | {paired.difference:+.1%} |"
    assert row in markdown
    assert f"{paired.low:+.1%} to {paired.high:+.1%}" in markdown and "| yes |" in markdown
    assert "Cases significantly worse" in markdown
    for case in comparison.changed("worse"):
        assert f"| {case.case_id} | 6/6 | 0/6 |" in markdown
    assert "## Gate: fail" in markdown and "A check failed: the gate fails CI." in markdown
    assert "- **fail** (max_regression): " in markdown and "a regression is shown" in markdown
    assert not any(line.startswith("c ") or line == "c" for line in markdown.splitlines())  # no id was split


def test_comparison_markdown_without_pairs_or_gate(store: Store) -> None:
    suite = _suite(_variant("a", 0.5), _variant("b", 0.5))
    run = run_suite(suite, db=store)
    comparison = compare_variants(store, run.id, "a", run.id, "b")
    markdown = comparison_to_markdown([comparison])
    assert "| b | a | 20 |" in markdown and "| no |" in markdown and "Gate" not in markdown
    assert comparison_to_markdown([]) == "# Paired comparison\n\nNothing was compared.\n"


def test_report_markdown_escapes_ids_and_states_the_gates_verdict(store: Store) -> None:
    suite = _suite(_variant(EVIL, 0.75), cases=12, min_pass_rate=0.8)
    run = run_suite(suite, db=store)
    report = build_report(store, run.id)
    gate = evaluate_gate(report)
    assert gate.outcome == "inconclusive"
    markdown = report_to_markdown(report, gate)
    _assert_tables_intact(markdown)
    assert "| a\\|b c |" in markdown
    assert "## Gate: inconclusive" in markdown
    assert "with on_inconclusive: pass it does not fail CI." in markdown
    assert "- **inconclusive** (min_pass_rate): variant 'a\\|b c': " in markdown
    assert "more samples would likely decide it" in markdown
    assert "## Per case" in markdown and "## Per case" not in report_to_markdown(report, gate, cases=False)
    failing = evaluate_gate(report, on_inconclusive="fail")
    assert "with on_inconclusive: fail it fails CI." in "\n".join(gate_to_markdown(failing))
    ungated = run_suite(_suite(_variant("x", 1.0)), db=store)
    assert gate_to_markdown(evaluate_gate(build_report(store, ungated.id))) == []
