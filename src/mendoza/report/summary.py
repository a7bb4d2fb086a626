"""The reliability report of a run: per variant the pass rate with an honest interval, pass@k and pass^k, the
band and whether it is decided, cost and latency; per case k/n with its interval and a flaky marker."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from mendoza.core import Run, Suite
from mendoza.report.judges import JudgeReport, build_judge_report
from mendoza.report.reliability import reliability
from mendoza.stats import BandDecision, Interval, classify_band, wilson_bounds, wilson_interval
from mendoza.store import CaseCounts, Store

__all__ = ["CaseResult", "RunReport", "VariantResult", "build_report", "fixed_design_to_decide"]


@dataclass(frozen=True)
class CaseResult:
    """One (variant, case) cell: k passed of n graded, its Wilson interval, and whether it is flaky."""

    variant_id: str
    case_id: str
    passed: int
    graded: int
    errors: int
    interval: Interval

    @property
    def flaky(self) -> bool:
        """Neither always passes nor always fails."""
        return 0 < self.passed < self.graded


@dataclass(frozen=True)
class VariantResult:
    """One variant's reliability. ``interval`` is clustered by case (a confidence sequence for an adaptive
    run); ``pass_at_k[k-1]`` / ``pass_hat_k[k-1]`` are the unbiased estimates for k = 1..repeats."""

    variant_id: str
    model: str
    samples: int
    passed: int
    failed: int
    undecided: int
    errors: int
    interval: Interval
    interval_method: str
    pass_at_k: list[float]
    pass_hat_k: list[float]
    band: BandDecision
    samples_to_decide: int | None
    recommendation: str
    cases: int
    flaky_cases: int
    tokens_in: int
    tokens_out: int
    cost: float | None
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    fixed_design_to_decide: int | None = None

    @property
    def graded(self) -> int:
        """Samples with a verdict (passed or failed); errored and undecided samples are counted apart."""
        return self.passed + self.failed

    @property
    def pass_rate(self) -> float | None:
        """Passed / graded, or None when nothing was graded."""
        return self.passed / self.graded if self.graded else None


@dataclass(frozen=True)
class RunReport:
    """Everything ``mendoza show`` reports about a run."""

    run: Run
    suite: Suite
    confidence: float
    band_edges: tuple[float, float, float]
    variants: list[VariantResult]
    cases: list[CaseResult]
    #: The judges behind the verdicts (noise, agreement, trust), when a current grader uses one.
    judges: JudgeReport | None = None

    def variant(self, variant_id: str) -> VariantResult:
        """The result of one variant (``KeyError`` if the run has none by that id)."""
        for result in self.variants:
            if result.variant_id == variant_id:
                return result
        raise KeyError(variant_id)


def fixed_design_to_decide(rate: float, edges: tuple[float, float, float], confidence: float) -> int | None:
    """The fewest samples a fixed design (one Wilson interval at the end, no peeking) would need for its
    interval at this ``rate`` to lie in one band; None when the rate sits on an edge or needs over 10^7."""
    if math.isnan(rate) or any(math.isclose(rate, edge, abs_tol=1e-12) for edge in edges):
        return None
    z = NormalDist().inv_cdf(0.5 + confidence / 2)

    def decides(n: int) -> bool:
        low, high = wilson_bounds(rate, n, z)
        return classify_band(low, high, edges).decided

    low_n, high_n = 1, 10_000_000
    if not decides(high_n):
        return None
    while low_n < high_n:
        middle = (low_n + high_n) // 2
        low_n, high_n = (low_n, middle) if decides(middle) else (middle + 1, high_n)
    return low_n


def _percentiles(values: list[float]) -> tuple[float | None, float | None]:
    if not values:
        return None, None
    p50, p95 = np.percentile(np.asarray(values, dtype=np.float64), [50, 95])
    return float(p50), float(p95)


def build_report(store: Store, run_ref: str) -> RunReport:
    """The report of a run (by id, unique prefix or ``latest``), at the suite's confidence level."""
    run = store.get_run(run_ref)
    suite = store.run_suite(run.id)
    confidence, edges = suite.confidence, suite.band_edges
    totals = {row.variant_id: row for row in store.variant_counts(run.id)}
    cells_by_variant: dict[str, list[CaseCounts]] = defaultdict(list)
    for cell in store.case_counts(run.id):
        cells_by_variant[cell.variant_id].append(cell)
    variants: list[VariantResult] = []
    cases: list[CaseResult] = []
    for variant in suite.variants:
        cells = [cell for cell in cells_by_variant.get(variant.id, []) if cell.passed + cell.failed > 0]
        for cell in cells_by_variant.get(variant.id, []):
            graded = cell.passed + cell.failed
            cases.append(
                CaseResult(
                    variant.id,
                    cell.case_id,
                    cell.passed,
                    graded,
                    cell.errors,
                    wilson_interval(cell.passed, graded, confidence),
                )
            )
        result = reliability(
            [(cell.passed, cell.failed) for cell in cells],
            repeats=run.repeats,
            adaptive=run.adaptive,
            confidence=confidence,
            edges=edges,
        )
        interval = result.interval
        p50, p95 = _percentiles(store.latencies(run.id, variant.id))
        total = totals.get(variant.id)
        variants.append(
            VariantResult(
                variant_id=variant.id,
                model=variant.model,
                samples=total.samples if total else 0,
                passed=result.passed,
                failed=result.graded - result.passed,
                undecided=total.undecided if total else 0,
                errors=total.errors if total else 0,
                interval=interval,
                interval_method=result.method,
                pass_at_k=result.pass_at_k,
                pass_hat_k=result.pass_hat_k,
                band=result.band,
                samples_to_decide=result.samples_to_decide,
                recommendation=result.recommendation,
                cases=len(cells),
                flaky_cases=sum(1 for cell in cells if 0 < cell.passed < cell.passed + cell.failed),
                tokens_in=total.tokens_in if total else 0,
                tokens_out=total.tokens_out if total else 0,
                cost=total.cost if total else None,
                latency_p50_ms=p50,
                latency_p95_ms=p95,
                fixed_design_to_decide=(
                    fixed_design_to_decide(interval.estimate, edges, confidence) if run.adaptive else None
                ),
            )
        )
    return RunReport(run, suite, confidence, edges, variants, cases, judges=build_judge_report(store, run.id))
