"""The report as data: a documented, versioned JSON schema (``docs/report-schema.md``) and Markdown."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from mendoza.report.comparison import Comparison
from mendoza.report.gate import Gate
from mendoza.report.reliability import Rate
from mendoza.report.steps import StepChain, StepReport
from mendoza.report.summary import Breakdown, RunReport, VariantResult
from mendoza.report.wording import (
    band_words,
    failed_at_words,
    percent,
    rate_words,
    step_chain_words,
    step_ran_words,
    step_rate_words,
    variant_notes,
)
from mendoza.stats import Interval

__all__ = [
    "REPORT_SCHEMA",
    "comparison_to_dict",
    "comparison_to_markdown",
    "gate_consequence_words",
    "gate_to_dict",
    "gate_to_markdown",
    "rate_to_dict",
    "report_to_dict",
    "report_to_markdown",
]

#: Bumped on any change a consumer could notice; additions of new keys keep the version. Version 2: errored
#: samples count as failures unless the suite says ``errors: exclude``; outcomes, bounds, breakdowns, verdicts.
REPORT_SCHEMA = "mendoza.report/2"


def _number(value: float | None) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else round(value, 6)


def _interval(interval: Interval) -> dict[str, float | None]:
    return {"estimate": _number(interval.estimate), "low": _number(interval.low), "high": _number(interval.high)}


def rate_to_dict(rate: Rate) -> dict[str, Any]:
    """A rate as data: outcomes, what errors count as, the rate with its interval, band, bounds."""
    result = rate.reliability
    outcomes = rate.outcomes
    return {
        "outcomes": {
            "passed": outcomes.passed,
            "failed": outcomes.failed,
            "errored": outcomes.errored,
            "undecided": outcomes.undecided,
        },
        "error_rule": rate.errors,
        "counted": result.graded,
        "pass_rate": {**_interval(result.interval), "method": result.method},
        "band": {
            "decided": result.band.decided,
            "band": result.band.band,
            "between": list(result.band.between) if result.band.between else None,
            "samples_to_decide": result.samples_to_decide,
        },
        "error_rate": _number(rate.error_share),
        "bounds": None
        if rate.bounds is None
        else {"if_all_failed": _interval(rate.bounds.low), "if_all_passed": _interval(rate.bounds.high)},
    }


def _curve_intervals(intervals: list[tuple[float, float]]) -> dict[str, list[float | None]]:
    return {str(k): [_number(low), _number(high)] for k, (low, high) in enumerate(intervals, start=1)}


def _breakdown(breakdown: Breakdown) -> dict[str, Any]:
    return {"name": breakdown.name, "cases": breakdown.cases, **rate_to_dict(breakdown.rate)}


def _step_dict(step: StepReport) -> dict[str, Any]:
    return {
        "name": step.name,
        "kind": step.kind,
        "samples": step.samples,
        "ran_share": _number(step.ran_share),
        "runs": step.runs,
        "errors": step.errors,
        "error_share": _number(step.error_share),
        "graders": step.graders,
        "rate": None if step.rate is None else rate_to_dict(step.rate),
        "latency_ms": {"p50": _number(step.latency_p50_ms), "p95": _number(step.latency_p95_ms)},
        "tokens": {"input": step.tokens_in, "output": step.tokens_out},
        "cost_usd": _number(step.cost),
        "cost_share": _number(step.cost_share),
        "position": _number(step.position),
    }


def _chain_dict(chain: StepChain | None) -> dict[str, Any] | None:
    if chain is None:
        return None
    return {
        "end_to_end": _number(chain.end_to_end_rate),
        "product": _number(chain.product),
        "factors": [{"name": name, "pass_rate": _number(rate)} for name, rate in chain.factors],
        "pattern": chain.pattern,
    }


def _variant_dict(variant: VariantResult) -> dict[str, Any]:
    return {
        "id": variant.variant_id,
        "model": variant.model,
        "samples": variant.samples,
        "graded": variant.graded,
        "passed": variant.passed,
        "failed": variant.failed,
        "undecided": variant.undecided,
        "errors": variant.errors,
        **{key: value for key, value in rate_to_dict(variant.rate).items() if key not in ("outcomes",)},
        "other_verdicts": None if variant.other is None else rate_to_dict(variant.other),
        "labelled": variant.labelled,
        "overruled": variant.overruled,
        "top_errors": [{"message": group.message, "count": group.count} for group in variant.top_errors],
        "pass_at_k": {str(k): _number(v) for k, v in enumerate(variant.pass_at_k, start=1)},
        "pass_hat_k": {str(k): _number(v) for k, v in enumerate(variant.pass_hat_k, start=1)},
        "pass_at_k_interval": _curve_intervals(variant.rate.reliability.pass_at_k_interval),
        "pass_hat_k_interval": _curve_intervals(variant.rate.reliability.pass_hat_k_interval),
        "recommendation": variant.recommendation,
        "cases": variant.cases,
        "flaky_cases": variant.flaky_cases,
        "by_grader": [_breakdown(item) for item in variant.by_grader],
        "by_tag": [_breakdown(item) for item in variant.by_tag],
        "tokens": {"input": variant.tokens_in, "output": variant.tokens_out},
        "cost_usd": _number(variant.cost),
        "cost_per_pass_usd": _number(variant.cost_per_pass),
        "latency_ms": {"p50": _number(variant.latency_p50_ms), "p95": _number(variant.latency_p95_ms)},
        "grading_ms": {"p50": _number(variant.grading_p50_ms), "p95": _number(variant.grading_p95_ms)},
        "sandboxes": [
            {"grader": grader, "backend": backend, "grades": count} for grader, backend, count in variant.sandboxes
        ],
        "warnings": variant.warnings,
        "fixed_design_to_decide": variant.fixed_design_to_decide,
        "steps": [_step_dict(step) for step in variant.steps],
        "failed_at": [
            {"name": start.name, "kind": start.kind, "samples": start.samples, "share": _number(start.share)}
            for start in variant.failed_at
        ],
        "final_output": None if variant.final_output is None else rate_to_dict(variant.final_output),
        "step_chain": _chain_dict(variant.step_chain),
    }


def gate_to_dict(gate: Gate) -> dict[str, Any]:
    """A gate as data: its outcome, whether it fails CI, and every check."""
    return {
        "outcome": gate.outcome,
        "fails_ci": gate.fails_ci,
        "on_inconclusive": gate.on_inconclusive,
        "checks": [
            {
                "threshold": check.threshold,
                "subject": check.subject,
                "outcome": check.outcome,
                "message": check.message,
                "samples_to_decide": check.samples_to_decide,
            }
            for check in gate.checks
        ],
    }


def report_to_dict(report: RunReport, gate: Gate | None = None) -> dict[str, Any]:
    """The report as JSON-ready data (schema ``mendoza.report/2``), with its gate when given."""
    run = report.run
    return {
        "schema": REPORT_SCHEMA,
        "run": {
            "id": run.id,
            "suite": run.suite_name,
            "suite_hash": run.suite_hash,
            "status": run.status,
            "created_at": run.created_at,
            "finished_at": run.finished_at,
            "mode": run.options.get("mode", "fixed"),
            "repeats": run.repeats,
            "cases": run.n_cases,
            "samples": {"done": run.done_samples, "expected": run.expected_samples},
            "fixed_design_samples": run.n_cases * run.repeats * len(run.variant_ids),
        },
        "confidence": report.confidence,
        "band_edges": list(report.band_edges),
        "verdicts": report.verdicts,
        "error_rule": report.suite.errors,
        "variants": [_variant_dict(variant) for variant in report.variants],
        "cases": [
            {
                "variant": case.variant_id,
                "case": case.case_id,
                "passed": case.passed,
                "graded": case.graded,
                "errors": case.errors,
                "undecided": case.undecided,
                "low": _number(case.interval.low),
                "high": _number(case.interval.high),
                "flaky": case.flaky,
            }
            for case in report.cases
        ],
        "gate": None if gate is None else gate_to_dict(gate),
    }


def comparison_to_dict(comparison: Comparison) -> dict[str, Any]:
    """A comparison as JSON-ready data (schema ``mendoza.comparison/1``)."""
    paired = comparison.paired
    return {
        "schema": "mendoza.comparison/1",
        "a": comparison.a_label,
        "b": comparison.b_label,
        "a_rate": _number(comparison.a_rate),
        "b_rate": _number(comparison.b_rate),
        "difference": {
            "estimate": _number(paired.difference),
            "se": _number(paired.se),
            "low": _number(paired.low),
            "high": _number(paired.high),
            "p_value": _number(paired.p_value),
            "cases": paired.n,
            "confidence": comparison.confidence,
        },
        "significant": comparison.significant,
        "verdict": comparison.verdict,
        "fdr": comparison.fdr,
        "cases": [
            {
                "case": case.case_id,
                "a": [case.a_passed, case.a_graded],
                "b": [case.b_passed, case.b_graded],
                "p_value": _number(case.p_value),
                "q_value": _number(case.q_value),
                "significant": case.significant,
                "direction": case.direction,
            }
            for case in comparison.cases
        ],
        "only_in_a": comparison.only_in_a,
        "only_in_b": comparison.only_in_b,
    }


def _cell(text: str) -> str:
    """Text from the run in a Markdown table cell or list item: no line breaks, no column separators."""
    return " ".join(str(text).split()).replace("|", "\\|")


def gate_consequence_words(gate: Gate) -> str:
    """What the gate's outcome does to CI, in one sentence."""
    if not gate.checks:
        return "no threshold was checked: the gate passes"
    if gate.outcome == "pass":
        return "every check passed: the gate passes"
    if gate.outcome == "fail":
        return "a check failed: the gate fails CI"
    consequence = "fails CI" if gate.fails_ci else "does not fail CI"
    return (
        f"the gate is inconclusive: the data show neither a pass nor a fail; with on_inconclusive: "
        f"{gate.on_inconclusive} it {consequence}"
    )


def gate_to_markdown(gate: Gate, level: int = 2) -> list[str]:
    """The gate's verdict as Markdown lines: a heading with its outcome, what it does to CI, then each
    check (its outcome and reason). Empty when no threshold was checked."""
    if not gate.checks:
        return []
    words = gate_consequence_words(gate)
    lines = [f"{'#' * level} Gate: {gate.outcome}", "", f"{words[:1].upper()}{words[1:]}.", ""]
    lines += [f"- **{check.outcome}** ({check.threshold}): {_cell(check.message)}" for check in gate.checks]
    return lines


def _steps_markdown(report: RunReport) -> list[str]:
    lines: list[str] = []
    for variant in report.variants:
        if not variant.steps:
            continue
        lines += [
            "",
            f"## Steps of {_cell(variant.variant_id)}",
            "",
            "| step | kind | ran | pass rate [interval] | errors | p50 / p95 | tokens in / out | cost share |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for step in variant.steps:
            latency = (
                "-"
                if step.latency_p50_ms is None or step.latency_p95_ms is None
                else f"{step.latency_p50_ms:.0f} / {step.latency_p95_ms:.0f} ms"
            )
            lines.append(
                f"| {_cell(step.name)} | {step.kind} | {step_ran_words(step)} | {step_rate_words(step)} | "
                f"{step.errors} ({percent(step.error_share)}) | {latency} | {step.tokens_in} / {step.tokens_out} | "
                f"{percent(step.cost_share)} |"
            )
        if variant.final_output is not None:
            lines.append(f"| final output | | | {rate_words(variant.final_output)} | | | | |")
        where = failed_at_words(variant.failed_at)
        if where:
            lines += ["", f"- where failures start: {_cell(where)}"]
        if variant.step_chain is not None:
            lines += ["", f"- {_cell(step_chain_words(variant.step_chain))}"]
    return lines


def report_to_markdown(report: RunReport, gate: Gate | None = None, *, cases: bool = True) -> str:
    """The report as Markdown (for a pull request comment, a wiki or a CI job's summary), with its gate when
    given; ``cases=False`` leaves the per case table out (a summary of a large suite). Text from the run
    (ids, messages) is escaped for tables: on one line, pipes escaped."""
    run = report.run
    lines = [
        f"# {_cell(run.suite_name)}: run {_cell(run.id)}",
        "",
        f"{run.status}, {run.done_samples}/{run.expected_samples} samples, {run.n_cases} cases x "
        f"{run.repeats} repeats; {report.confidence:.0%} intervals; {report.verdicts} verdicts; errored samples "
        + ("count as failures." if report.suite.errors == "fail" else "are left out (errors: exclude)."),
        "",
        "| variant | pass rate | interval | band | passed | failed | errored | undecided | pass@k | pass^k "
        "| cost / pass | p50 / p95 latency |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for variant in report.variants:
        k = len(variant.pass_at_k)
        latency = (
            "-"
            if variant.latency_p50_ms is None or variant.latency_p95_ms is None
            else (f"{variant.latency_p50_ms:.0f} / {variant.latency_p95_ms:.0f} ms")
        )
        per_pass = "-" if variant.cost_per_pass is None else f"${variant.cost_per_pass:.4f}"
        lines.append(
            f"| {_cell(variant.variant_id)} | {percent(variant.pass_rate)} | {percent(variant.interval.low)} – "
            f"{percent(variant.interval.high)} | {band_words(variant.rate)} | {variant.passed} | {variant.failed} | "
            f"{variant.errors} | {variant.undecided} | "
            f"{percent(variant.pass_at_k[-1] if k else None)} (k={k}) | "
            f"{percent(variant.pass_hat_k[-1] if k else None)} (k={k}) | {per_pass} | {latency} |"
        )
    notes = [
        f"- **{_cell(variant.variant_id)}**: {_cell(words)}"
        for variant in report.variants
        for words in variant_notes(report, variant)
    ]
    if notes:
        lines += ["", "## Errors, bounds and warnings", "", *notes]
    if gate is not None and gate.checks:
        lines += ["", *gate_to_markdown(gate)]
    lines += ["", "## What to build", ""]
    lines += [f"- **{_cell(variant.variant_id)}**: {_cell(variant.recommendation)}" for variant in report.variants]
    breakdowns = [(variant, item) for variant in report.variants for item in (*variant.by_grader, *variant.by_tag)]
    if breakdowns:
        lines += [
            "",
            "## Per grader and per tag",
            "",
            "| variant | grader or tag | pass rate | band |",
            "|---|---|---|---|",
        ]
        for variant, item in breakdowns:
            lines.append(
                f"| {_cell(variant.variant_id)} | {_cell(item.name)} | {rate_words(item.rate)} | "
                f"{band_words(item.rate)} |"
            )
    lines += _steps_markdown(report)
    if cases:
        lines += _cases_markdown(report)
    return "\n".join(lines) + "\n"


def _cases_markdown(report: RunReport) -> list[str]:
    variant_ids = [variant.variant_id for variant in report.variants]
    cells = {(case.variant_id, case.case_id): case for case in report.cases}
    lines = [
        "",
        "## Per case (passed / counted; * flaky)",
        "",
        "| case | " + " | ".join(_cell(variant_id) for variant_id in variant_ids) + " |",
        "|---|" + "---|" * len(variant_ids),
    ]
    for case in report.suite.cases:
        row = []
        for variant_id in variant_ids:
            cell = cells.get((variant_id, case.id))
            row.append("-" if cell is None else f"{cell.passed}/{cell.graded}{' *' if cell.flaky else ''}")
        lines.append(f"| {_cell(case.id)} | " + " | ".join(row) + " |")
    return lines


def _difference_words(comparison: Comparison) -> tuple[str, str]:
    paired = comparison.paired
    if paired.n == 0:
        return "-", "-"
    return f"{paired.difference:+.1%}", f"{paired.low:+.1%} to {paired.high:+.1%}"


def _changed_markdown(comparison: Comparison) -> list[str]:
    lines: list[str] = []
    for direction in ("better", "worse"):
        changed = comparison.changed(direction)
        if not changed:
            continue
        lines += [
            "",
            f"Cases significantly {direction} in {_cell(comparison.b_label)} than in {_cell(comparison.a_label)} "
            f"(exact test, FDR {comparison.fdr:.0%}):",
            "",
            f"| case | {_cell(comparison.a_label)} | {_cell(comparison.b_label)} | q |",
            "|---|---|---|---|",
        ]
        lines += [
            f"| {_cell(case.case_id)} | {case.a_passed}/{case.a_graded} | {case.b_passed}/{case.b_graded} | "
            f"{case.q_value:.3g} |"
            for case in changed
        ]
    moved = [case for case in comparison.cases if case.direction != "same" and not case.significant]
    if moved:
        lines += ["", f"{len(moved)} other cases moved, none by more than chance explains."]
    for label, only in ((comparison.a_label, comparison.only_in_a), (comparison.b_label, comparison.only_in_b)):
        if only:
            shown = ", ".join(_cell(case) for case in only[:50]) + (", ..." if len(only) > 50 else "")
            lines += ["", f"Only in {_cell(label)} ({len(only)}): {shown}"]
    return lines


def comparison_to_markdown(comparisons: Sequence[Comparison], gate: Gate | None = None, *, level: int = 1) -> str:
    """Paired comparisons as Markdown: one table row per comparison (B vs A, the paired difference and its
    interval), each one's verdict and the cases that changed, then the gate (``max_regression``) when given.
    ``level`` is the heading level of the title."""
    heading = "#" * level
    lines = [f"{heading} Paired comparison", ""]
    if not comparisons:
        lines += ["Nothing was compared."]
    else:
        confidence = comparisons[0].confidence
        lines += [
            f"| B | A | cases paired | B pass rate | A pass rate | difference B - A | {confidence:.0%} interval "
            "| p | real? |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for comparison in comparisons:
            paired = comparison.paired
            difference, interval = _difference_words(comparison)
            real = "-" if paired.n == 0 else ("yes" if comparison.significant else "no")
            p_value = "-" if paired.n == 0 or math.isnan(paired.p_value) else f"{paired.p_value:.3g}"
            lines.append(
                f"| {_cell(comparison.b_label)} | {_cell(comparison.a_label)} | {paired.n} | "
                f"{percent(comparison.b_rate)} | {percent(comparison.a_rate)} | {difference} | {interval} | "
                f"{p_value} | {real} |"
            )
        for comparison in comparisons:
            lines += ["", f"{heading}# {_cell(comparison.b_label)} vs {_cell(comparison.a_label)}", ""]
            lines += [_cell(comparison.verdict), *_changed_markdown(comparison)]
    if gate is not None and gate.checks:
        lines += ["", *gate_to_markdown(gate, level + 1)]
    return "\n".join(lines) + "\n"
