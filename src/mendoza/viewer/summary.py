"""How reliable each variant of a run is, for the viewer: pass rates with their 95% intervals (clustered by
case), the band they decide (or the bands they lie between) in words, pass@k and pass^k, agreement between
the automatic verdicts and the human labels, cost, tokens and latency. Computed from the store's per cell
counts with ``mendoza.stats``, for both the automatic and the human-adjusted verdicts."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mendoza.core import Run, Suite
from mendoza.stats import (
    BAND_ADVICE,
    DEFAULT_BAND_EDGES,
    classify_band,
    cohen_kappa,
    mean_interval,
    pass_at_k,
    pass_hat_k,
    samples_to_decide,
)
from mendoza.store import CellVerdicts, Store

__all__ = ["PassCurvePoint", "RateSummary", "VariantSummary", "rate_summary", "summarise_run"]

BAND_EDGES = DEFAULT_BAND_EDGES


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


def rate_summary(per_case: Sequence[tuple[int, int]], repeats: int) -> RateSummary:
    """The pass rate of ``(passed, failed)`` counts, one pair per case, with its interval and band."""
    graded_cases = [(p, f) for p, f in per_case if p + f > 0]
    passed = sum(p for p, _ in graded_cases)
    graded = passed + sum(f for _, f in graded_cases)
    if graded == 0:
        return RateSummary(0, 0, 0, None, None, None, False, None, None, None, "Nothing graded yet: no recommendation.")
    passes = np.array([p for p, _ in graded_cases], dtype=np.intp)
    fails = np.array([f for _, f in graded_cases], dtype=np.intp)
    case_index = np.arange(len(graded_cases))
    scores = np.concatenate([np.ones(int(passes.sum())), np.zeros(int(fails.sum()))])
    clusters = np.concatenate([np.repeat(case_index, passes), np.repeat(case_index, fails)])
    interval = mean_interval(scores, clusters.tolist())
    decision = classify_band(interval.low, interval.high, BAND_EDGES)
    to_decide = None
    if decision.decided:
        assert decision.band is not None
        words = f"{decision.band[0].upper()}{decision.band[1:]}. {BAND_ADVICE[decision.band]}"
    else:
        to_decide = samples_to_decide(passed, graded, BAND_EDGES, n_clusters=len(graded_cases), repeats=max(1, repeats))
        more = (
            f"about {to_decide:,} more samples would likely decide it"
            if to_decide
            else "more samples would be needed to decide it"
        )
        words = (
            f"Not decided: between {decision.low_band} and {decision.high_band}; {more}. Until then, design for "
            f"the lower band: {BAND_ADVICE[decision.low_band]}"
        )
    return RateSummary(
        passed=passed,
        graded=graded,
        cases=len(graded_cases),
        rate=interval.estimate,
        low=interval.low,
        high=interval.high,
        decided=decision.decided,
        band=decision.band,
        between=decision.between,
        samples_to_decide=to_decide,
        recommendation=words,
    )


def _curve(per_case: Sequence[tuple[int, int]], max_k: int) -> list[PassCurvePoint]:
    """pass@k and pass^k for k = 1..max_k, each estimator computed once per distinct (n, c)."""
    counts = Counter((p + f, p) for p, f in per_case if p + f > 0)
    points = []
    for k in range(1, max_k + 1):
        eligible = [(n, c, weight) for (n, c), weight in counts.items() if n >= k]
        cases = sum(weight for _, _, weight in eligible)
        if cases == 0:
            break
        at_k = sum(pass_at_k(n, c, k) * weight for n, c, weight in eligible) / cases
        hat_k = sum(pass_hat_k(n, c, k) * weight for n, c, weight in eligible) / cases
        points.append(PassCurvePoint(k, at_k, hat_k, cases))
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
                automatic=rate_summary(automatic, run.repeats),
                adjusted=rate_summary(adjusted, run.repeats),
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
