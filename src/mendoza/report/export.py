"""The report as data: a documented, versioned JSON schema (``docs/report-schema.md``) and Markdown."""

from __future__ import annotations

import math
from typing import Any

from mendoza.report.comparison import Comparison
from mendoza.report.summary import RunReport, VariantResult

__all__ = ["REPORT_SCHEMA", "comparison_to_dict", "report_to_dict", "report_to_markdown"]

#: Bumped on any change a consumer could notice; additions of new keys keep the version.
REPORT_SCHEMA = "mendoza.report/1"


def _number(value: float | None) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else round(value, 6)


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
        "pass_rate": {
            "estimate": _number(variant.interval.estimate),
            "low": _number(variant.interval.low),
            "high": _number(variant.interval.high),
            "method": variant.interval_method,
        },
        "pass_at_k": {str(k): _number(v) for k, v in enumerate(variant.pass_at_k, start=1)},
        "pass_hat_k": {str(k): _number(v) for k, v in enumerate(variant.pass_hat_k, start=1)},
        "band": {
            "decided": variant.band.decided,
            "band": variant.band.band,
            "between": list(variant.band.between) if variant.band.between else None,
            "samples_to_decide": variant.samples_to_decide,
        },
        "recommendation": variant.recommendation,
        "cases": variant.cases,
        "flaky_cases": variant.flaky_cases,
        "tokens": {"input": variant.tokens_in, "output": variant.tokens_out},
        "cost_usd": _number(variant.cost),
        "latency_ms": {"p50": _number(variant.latency_p50_ms), "p95": _number(variant.latency_p95_ms)},
        "fixed_design_to_decide": variant.fixed_design_to_decide,
    }


def report_to_dict(report: RunReport) -> dict[str, Any]:
    """The report as JSON-ready data (schema ``mendoza.report/1``)."""
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
        "variants": [_variant_dict(variant) for variant in report.variants],
        "cases": [
            {
                "variant": case.variant_id,
                "case": case.case_id,
                "passed": case.passed,
                "graded": case.graded,
                "errors": case.errors,
                "low": _number(case.interval.low),
                "high": _number(case.interval.high),
                "flaky": case.flaky,
            }
            for case in report.cases
        ],
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


def _rate(value: float | None) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:.1%}"


def report_to_markdown(report: RunReport) -> str:
    """The report as Markdown (for a pull request comment or a wiki)."""
    run = report.run
    lines = [
        f"# {run.suite_name}: run {run.id}",
        "",
        f"{run.status}, {run.done_samples}/{run.expected_samples} samples, {run.n_cases} cases x "
        f"{run.repeats} repeats; {report.confidence:.0%} intervals.",
        "",
        "| variant | pass rate | interval | band | pass@k | pass^k | errors | p50 / p95 latency |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for variant in report.variants:
        band = (
            variant.band.band
            if variant.band.decided
            else "undecided: " + " / ".join(variant.band.between or ())
        )
        k = len(variant.pass_at_k)
        latency = (
            "-"
            if variant.latency_p50_ms is None
            else (f"{variant.latency_p50_ms:.0f} / {variant.latency_p95_ms:.0f} ms")
        )
        lines.append(
            f"| {variant.variant_id} | {_rate(variant.pass_rate)} | {_rate(variant.interval.low)} – "
            f"{_rate(variant.interval.high)} | {band} | "
            f"{_rate(variant.pass_at_k[-1] if k else None)} (k={k}) | "
            f"{_rate(variant.pass_hat_k[-1] if k else None)} (k={k}) | {variant.errors} | {latency} |"
        )
    lines += ["", "## What to build", ""]
    lines += [f"- **{variant.variant_id}**: {variant.recommendation}" for variant in report.variants]
    variant_ids = [variant.variant_id for variant in report.variants]
    cells = {(case.variant_id, case.case_id): case for case in report.cases}
    lines += [
        "",
        "## Per case (passed / graded; * flaky)",
        "",
        "| case | " + " | ".join(variant_ids) + " |",
        "|---|" + "---|" * len(variant_ids),
    ]
    for case in report.suite.cases:
        row = []
        for variant_id in variant_ids:
            cell = cells.get((variant_id, case.id))
            row.append("-" if cell is None else f"{cell.passed}/{cell.graded}{' *' if cell.flaky else ''}")
        lines.append(f"| {case.id} | " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"
