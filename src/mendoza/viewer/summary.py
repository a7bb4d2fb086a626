"""How reliable each variant of a run is, for the viewer: pass rates with their 95% intervals (clustered by
case), the band they decide (or the bands they lie between) in words, pass@k and pass^k, agreement between
the automatic verdicts and the human labels, cost, tokens and latency. Computed from the store's per cell
counts with ``mendoza.stats``, for both the automatic and the human-adjusted verdicts."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from mendoza.core import Run, Suite
from mendoza.report import reliability
from mendoza.stats import DEFAULT_BAND_EDGES, cohen_kappa
from mendoza.store import CellVerdicts, Store

__all__ = ["PassCurvePoint", "RateSummary", "VariantSummary", "rate_summary", "summarise_run"]



@dataclass(frozen=True, slots=True)
class RateSummary:
    """A pass rate over graded samples with its 95% interval (clustered by case), and what it means.

    ``decided`` when the whole interval lies in one band (``band``); otherwise ``between`` names the bands of
    its two ends and ``samples_to_decide`` estimates how many more samples would decide it.
    """

    passed: int
    graded: int
    cases: int
    rate: float | None
    low: float | None
    high: float | None
    decided: bool
    band: str | None
    between: tuple[str, str] | None
    samples_to_decide: int | None
    recommendation: str


@dataclass(frozen=True, slots=True)
class PassCurvePoint:
    """pass@k and pass^k at one k, averaged over the ``cases`` with at least k graded samples."""

    k: int
    pass_at_k: float
    pass_hat_k: float
    cases: int


@dataclass(frozen=True, slots=True)
class VariantSummary:
    """One variant of a run: automatic and human-adjusted pass rates, labels, curves, cost and latency."""

    variant_id: str
    model: str
    samples: int
    errors: int
    undecided: int
    automatic: RateSummary
    adjusted: RateSummary
    labelled: int
    overruled: int
    disagree: int
    kappa: float | None
    curve: list[PassCurvePoint]
    tokens_in: int
    tokens_out: int
    cost: float | None
    latency_mean_ms: float | None


def rate_summary(
    per_case: Sequence[tuple[int, int]],
    repeats: int,
    *,
    edges: Sequence[float] = DEFAULT_BAND_EDGES,
    adaptive: bool = False,
    confidence: float = 0.95,
) -> RateSummary:
    """The pass rate of ``(passed, failed)`` counts, one pair per case, with its interval and band (computed by
    ``mendoza.report.reliability``, as the CLI report does)."""
    result = reliability(per_case, repeats=repeats, adaptive=adaptive, confidence=confidence, edges=edges)
    if result.graded == 0:
        return RateSummary(0, 0, 0, None, None, None, False, None, None, None, result.recommendation)
    decision = result.band
    if decision.decided and decision.band is not None:
        words = f"{decision.band[0].upper()}{decision.band[1:]}. {result.recommendation}"
    else:
        words = f"Not decided. {result.recommendation}"
    return RateSummary(
        passed=result.passed,
        graded=result.graded,
        cases=result.cases,
        rate=result.interval.estimate,
        low=result.interval.low,
        high=result.interval.high,
        decided=decision.decided,
        band=decision.band,
        between=decision.between,
        samples_to_decide=result.samples_to_decide,
        recommendation=words,
    )


def _curve(per_case: Sequence[tuple[int, int]], max_k: int) -> list[PassCurvePoint]:
    """pass@k and pass^k for k = 1..max_k (the report's estimates), with how many cases reached each k."""
    counts = [(p, f) for p, f in per_case if p + f > 0]
    result = reliability(counts, repeats=max_k)
    points = []
    for k, (at_k, hat_k) in enumerate(zip(result.pass_at_k, result.pass_hat_k, strict=True), start=1):
        if math.isnan(at_k):
            break
        points.append(PassCurvePoint(k, at_k, hat_k, sum(1 for p, f in counts if p + f >= k)))
    return points


def _kappa(pairs: Sequence[tuple[bool, bool]]) -> float | None:
    if len(pairs) < 2:
        return None
    value = cohen_kappa([a for a, _ in pairs], [h for _, h in pairs])
    return None if math.isnan(value) else value


def summarise_run(store: Store, run: Run, suite: Suite) -> list[VariantSummary]:
    """One summary per variant of a run, in suite order."""
    cells: dict[str, list[CellVerdicts]] = {}
    for cell in store.cell_verdicts(run.id):
        cells.setdefault(cell.variant_id, []).append(cell)
    totals = {row.variant_id: row for row in store.variant_counts(run.id)}
    pairs: dict[str, list[tuple[bool, bool]]] = {}
    for pair in store.label_pairs(run.id):
        pairs.setdefault(pair.variant_id, []).append((pair.automatic, pair.human))
    rules: dict[str, Any] = {"edges": suite.band_edges, "adaptive": run.adaptive, "confidence": suite.confidence}
    summaries = []
    for variant in suite.variants:
        mine = cells.get(variant.id, [])
        automatic = [(cell.passed, cell.failed) for cell in mine]
        adjusted = [(cell.adjusted_passed, cell.adjusted_failed) for cell in mine]
        total = totals.get(variant.id)
        summaries.append(
            VariantSummary(
                variant_id=variant.id,
                model=variant.model,
                samples=sum(cell.samples for cell in mine),
                errors=sum(cell.errors for cell in mine),
                undecided=total.undecided if total else 0,
                automatic=rate_summary(automatic, run.repeats, **rules),
                adjusted=rate_summary(adjusted, run.repeats, **rules),
                labelled=sum(cell.labelled for cell in mine),
                overruled=sum(cell.overruled for cell in mine),
                disagree=sum(cell.disagree for cell in mine),
                kappa=_kappa(pairs.get(variant.id, [])),
                curve=_curve(adjusted, max(run.repeats, 1)),
                tokens_in=total.tokens_in if total else 0,
                tokens_out=total.tokens_out if total else 0,
                cost=total.cost if total else None,
                latency_mean_ms=total.mean_latency_ms if total else None,
            )
        )
    return summaries
