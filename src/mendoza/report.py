"""Summaries of a run, from the store: per variant pass rates, per case k/n, threshold checks."""

from __future__ import annotations

from dataclasses import dataclass

from mendoza.core import Run, Suite
from mendoza.store import CaseCounts, Store

__all__ = ["RunReport", "VariantReport", "build_report", "threshold_failures"]


@dataclass(frozen=True)
class VariantReport:
    """One variant's results. ``pass_rate`` is over graded samples (errored samples are counted apart)."""

    variant_id: str
    model: str
    samples: int
    passed: int
    failed: int
    undecided: int
    errors: int
    tokens_in: int
    tokens_out: int
    cost: float | None
    mean_latency_ms: float | None

    @property
    def graded(self) -> int:
        """Samples with a verdict (passed or failed)."""
        return self.passed + self.failed

    @property
    def pass_rate(self) -> float | None:
        """Passed / graded, or None when nothing was graded."""
        return self.passed / self.graded if self.graded else None


@dataclass(frozen=True)
class RunReport:
    """Everything ``mendoza show`` prints about a run."""

    run: Run
    suite: Suite
    variants: list[VariantReport]
    cases: list[CaseCounts]


def build_report(store: Store, run_ref: str) -> RunReport:
    """The report of a run (by id, unique prefix or ``latest``)."""
    run = store.get_run(run_ref)
    suite = store.run_suite(run.id)
    counts = {row.variant_id: row for row in store.variant_counts(run.id)}
    variants = []
    for variant in suite.variants:
        row = counts.get(variant.id)
        variants.append(
            VariantReport(
                variant_id=variant.id,
                model=variant.model,
                samples=row.samples if row else 0,
                passed=row.passed if row else 0,
                failed=row.failed if row else 0,
                undecided=row.undecided if row else 0,
                errors=row.errors if row else 0,
                tokens_in=row.tokens_in if row else 0,
                tokens_out=row.tokens_out if row else 0,
                cost=row.cost if row else None,
                mean_latency_ms=row.mean_latency_ms if row else None,
            )
        )
    return RunReport(run=run, suite=suite, variants=variants, cases=store.case_counts(run.id))


def threshold_failures(report: RunReport) -> list[str]:
    """One line per threshold of the suite that a variant misses (empty when all are met)."""
    failures = []
    minimum = report.suite.thresholds.min_pass_rate
    if minimum is not None:
        for variant in report.variants:
            rate = variant.pass_rate
            if rate is None or rate < minimum:
                shown = "no graded samples" if rate is None else f"{rate:.1%}"
                failures.append(
                    f"variant '{variant.variant_id}': pass rate {shown} is below min_pass_rate {minimum:.1%}"
                )
    return failures
