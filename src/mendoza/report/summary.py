"""The reliability report of a run: per variant the pass rate with an honest interval, pass@k and pass^k, the
band and whether it is decided, cost and latency; per case k/n with its interval and a flaky marker."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from scipy.stats import norm

from mendoza.core import Run, Suite
from mendoza.report.judges import JudgeReport, build_judge_report
from mendoza.stats import (
    BAND_ADVICE,
    BandDecision,
    Interval,
    classify_band,
    confidence_sequence,
    mean_interval,
    pass_at_k,
    pass_hat_k,
    samples_to_decide,
    wilson_bounds,
    wilson_interval,
)
from mendoza.store import CaseCounts, Store

__all__ = ["CaseResult", "RunReport", "VariantResult", "build_report", "fixed_design_to_decide", "recommendation"]


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


def recommendation(decision: BandDecision, more: int | None) -> str:
    """The product-design advice for a band decision, in one or two plain sentences."""
    if decision.decided and decision.band is not None:
        return BAND_ADVICE[decision.band]
    low, high = decision.between or (decision.low_band, decision.high_band)
    needed = f" About {more} more samples would likely decide it." if more else ""
    return f"Undecided between {low} and {high}: design for {low} until more data says otherwise.{needed}"


def _interval(cells: list[CaseCounts], adaptive: bool, confidence: float) -> tuple[Interval, str]:
    passed = sum(cell.passed for cell in cells)
    graded = sum(cell.passed + cell.failed for cell in cells)
    if graded == 0:
        return Interval(math.nan, 0.0, 1.0), "none"
    if adaptive:
        return confidence_sequence(passed, graded, alpha=1.0 - confidence), "confidence sequence"
    sizes = np.array([cell.passed + cell.failed for cell in cells], dtype=np.int64)
    scores = np.concatenate([np.r_[np.ones(cell.passed), np.zeros(cell.failed)] for cell in cells])
    clusters = np.repeat(np.arange(len(cells)), sizes)
    return mean_interval(scores, clusters, confidence), "clustered by case"


def _pass_curves(cells: list[CaseCounts], max_k: int) -> tuple[list[float], list[float]]:
    """Mean over cases of the unbiased pass@k / pass^k estimates, for k = 1..max_k. A k is reported only when
    at least 90% of the cases have k graded samples (else nan): averaging over the few cases that were
    sampled more often would describe those cases, not the suite."""
    at_k: list[float] = []
    hat_k: list[float] = []
    for k in range(1, max_k + 1):
        eligible = [cell for cell in cells if cell.passed + cell.failed >= k]
        if not eligible or len(eligible) < 0.9 * len(cells):
            at_k.append(math.nan)
            hat_k.append(math.nan)
            continue
        at_k.append(float(np.mean([pass_at_k(c.passed + c.failed, c.passed, k) for c in eligible])))
        hat_k.append(float(np.mean([pass_hat_k(c.passed + c.failed, c.passed, k) for c in eligible])))
    return at_k, hat_k


def fixed_design_to_decide(rate: float, edges: tuple[float, float, float], confidence: float) -> int | None:
    """The fewest samples a fixed design (one Wilson interval at the end, no peeking) would need for its
    interval at this ``rate`` to lie in one band; None when the rate sits on an edge or needs over 10^7."""
    if math.isnan(rate) or any(math.isclose(rate, edge, abs_tol=1e-12) for edge in edges):
        return None
    z = float(norm.ppf(0.5 + confidence / 2))

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
        interval, method = _interval(cells, run.adaptive, confidence)
        decision = classify_band(interval.low, interval.high, edges)
        passed = sum(cell.passed for cell in cells)
        graded = sum(cell.passed + cell.failed for cell in cells)
        repeats = min(run.repeats, max((cell.passed + cell.failed for cell in cells), default=0))
        more = (
            None
            if decision.decided
            else samples_to_decide(
                passed,
                graded,
                edges,
                confidence,
                n_clusters=len(cells) or None,
                repeats=max(1, round(graded / len(cells))) if cells else None,
            )
        )
        at_k, hat_k = _pass_curves(cells, repeats)
        p50, p95 = _percentiles(store.latencies(run.id, variant.id))
        total = totals.get(variant.id)
        variants.append(
            VariantResult(
                variant_id=variant.id,
                model=variant.model,
                samples=total.samples if total else 0,
                passed=passed,
                failed=graded - passed,
                undecided=total.undecided if total else 0,
                errors=total.errors if total else 0,
                interval=interval,
                interval_method=method,
                pass_at_k=at_k,
                pass_hat_k=hat_k,
                band=decision,
                samples_to_decide=0 if decision.decided else more,
                recommendation=recommendation(decision, more),
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
