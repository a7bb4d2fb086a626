"""How reliable one variant is, from per case counts: the interval, the band, the advice, pass@k and pass^k.

This is the one place that turns counts into a reliability verdict: ``rate_of`` takes each case's outcome
counts and the suite's rules (what an error counts as, the confidence, the band edges, adaptive or not) and
gives the headline rate and the bounds that hold whatever the errored and undecided samples would have been.
The CLI report, its exports, the gates and the viewer (for both the automatic and the human-adjusted
verdicts) all call it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from mendoza.core import ErrorPolicy, OutcomeCounts
from mendoza.stats import (
    BAND_ADVICE,
    DEFAULT_BAND_EDGES,
    BandDecision,
    Interval,
    bootstrap_mean_intervals,
    classify_band,
    confidence_sequence,
    mean_interval,
    pass_at_k,
    pass_hat_k,
    samples_to_decide,
)

__all__ = ["Bounds", "Rate", "RateRules", "Reliability", "rate_of", "recommendation", "reliability"]

#: A k is reported on the pass@k curves only when at least this share of cases has k graded samples.
_ELIGIBLE_SHARE = 0.9


@dataclass(frozen=True)
class Reliability:
    """One variant's reliability. ``interval`` is clustered by case (a confidence sequence for adaptive
    runs); ``pass_at_k[k-1]`` / ``pass_hat_k[k-1]`` are the unbiased estimates averaged over cases (nan where
    too few cases reached k samples)."""

    passed: int
    graded: int
    cases: int
    interval: Interval
    method: str
    band: BandDecision
    samples_to_decide: int | None
    recommendation: str
    pass_at_k: list[float]
    pass_hat_k: list[float]
    #: ``(low, high)`` bootstrap intervals (resampling cases) of ``pass_at_k`` and ``pass_hat_k``, per k.
    pass_at_k_interval: list[tuple[float, float]] = field(default_factory=list)
    pass_hat_k_interval: list[tuple[float, float]] = field(default_factory=list)

    @property
    def rate(self) -> float | None:
        """Passed / graded, or None when nothing was graded."""
        return self.passed / self.graded if self.graded else None


def recommendation(decision: BandDecision, more: int | None) -> str:
    """The product-design advice for a band decision, in one or two plain sentences."""
    if decision.decided and decision.band is not None:
        return BAND_ADVICE[decision.band]
    low, high = decision.between or (decision.low_band, decision.high_band)
    needed = f" About {more:,} more samples would likely decide it." if more else ""
    return f"Undecided between {low} and {high}: design for {low} until more data says otherwise.{needed}"


def _interval(counts: Sequence[tuple[int, int]], adaptive: bool, confidence: float) -> tuple[Interval, str]:
    passed = sum(p for p, _ in counts)
    graded = passed + sum(f for _, f in counts)
    if graded == 0:
        return Interval(math.nan, 0.0, 1.0), "none"
    if adaptive:
        return confidence_sequence(passed, graded, alpha=1.0 - confidence), "confidence sequence"
    passes = np.array([p for p, _ in counts], dtype=np.intp)
    fails = np.array([f for _, f in counts], dtype=np.intp)
    index = np.arange(len(counts))
    scores = np.concatenate([np.ones(int(passes.sum())), np.zeros(int(fails.sum()))])
    clusters = np.concatenate([np.repeat(index, passes), np.repeat(index, fails)])
    return mean_interval(scores, clusters, confidence), "clustered by case"


@dataclass(frozen=True)
class _Curves:
    at_k: list[float]
    hat_k: list[float]
    at_k_interval: list[tuple[float, float]]
    hat_k_interval: list[tuple[float, float]]


def _pass_curves(counts: Sequence[tuple[int, int]], max_k: int, confidence: float | None) -> _Curves:
    """Mean over cases of the unbiased pass@k / pass^k estimates for k = 1..max_k, with bootstrap intervals
    over cases; nan for a k that fewer than 90% of the cases reached (adaptive runs sample cases unevenly: a
    mean over the few cases sampled most would describe those cases, not the suite). Each estimator is
    computed once per distinct (n, c). The k that the same cases reached (every k of a fixed run) share one
    set of bootstrap resamples (drawn with the seed of the first of them): the draws are the costly part.
    ``confidence`` None leaves the intervals out (nan)."""
    weights: dict[tuple[int, int], int] = {}
    for p, f in counts:
        weights[(p + f, p)] = weights.get((p + f, p), 0) + 1
    curves = _Curves([], [], [], [])
    nan_interval = (math.nan, math.nan)
    # k -> its columns of values (pass@k, pass^k), grouped by the cases that reached k
    by_groups: dict[tuple[tuple[int, int, int], ...], list[tuple[int, list[float], list[float]]]] = {}
    for k in range(1, max_k + 1):
        eligible = tuple((n, c, w) for (n, c), w in weights.items() if n >= k)
        reached = sum(w for _, _, w in eligible)
        curves.at_k_interval.append(nan_interval)
        curves.hat_k_interval.append(nan_interval)
        if reached == 0 or reached < _ELIGIBLE_SHARE * len(counts):
            curves.at_k.append(math.nan)
            curves.hat_k.append(math.nan)
            continue
        at = [pass_at_k(n, c, k) for n, c, _ in eligible]
        hat = [pass_hat_k(n, c, k) for n, c, _ in eligible]
        curves.at_k.append(sum(v * w for v, (_, _, w) in zip(at, eligible, strict=True)) / reached)
        curves.hat_k.append(sum(v * w for v, (_, _, w) in zip(hat, eligible, strict=True)) / reached)
        by_groups.setdefault(eligible, []).append((k, at, hat))
    if confidence is None:
        return curves
    for eligible, columns in by_groups.items():
        values = [column for _, at, hat in columns for column in (at, hat)]
        intervals = bootstrap_mean_intervals(values, [w for _, _, w in eligible], confidence, seed=columns[0][0])
        for index, (k, _, _) in enumerate(columns):
            curves.at_k_interval[k - 1] = intervals[2 * index]
            curves.hat_k_interval[k - 1] = intervals[2 * index + 1]
    return curves


def reliability(
    per_case: Sequence[tuple[int, int]],
    *,
    repeats: int,
    adaptive: bool = False,
    confidence: float = 0.95,
    edges: Sequence[float] = DEFAULT_BAND_EDGES,
    curve_intervals: bool = True,
) -> Reliability:
    """The reliability of ``(passed, failed)`` counts, one pair per case (cases with nothing graded are
    ignored). ``repeats`` bounds the pass@k curves; ``adaptive`` runs get a confidence sequence;
    ``curve_intervals`` False skips the pass@k bootstrap (for figures that only need the rate)."""
    counts = [(p, f) for p, f in per_case if p + f > 0]
    passed = sum(p for p, _ in counts)
    graded = passed + sum(f for _, f in counts)
    interval, method = _interval(counts, adaptive, confidence)
    decision = classify_band(interval.low, interval.high, edges)
    more = None
    if not decision.decided and graded:
        more = samples_to_decide(
            passed, graded, edges, confidence, n_clusters=len(counts), repeats=max(1, round(graded / len(counts)))
        )
    max_k = min(repeats, max((p + f for p, f in counts), default=0))
    curves = _pass_curves(counts, max_k, confidence if curve_intervals else None)
    return Reliability(
        passed=passed,
        graded=graded,
        cases=len(counts),
        interval=interval,
        method=method,
        band=decision,
        samples_to_decide=0 if decision.decided else more,
        recommendation=recommendation(decision, more) if graded else "Nothing graded yet: no recommendation.",
        pass_at_k=curves.at_k,
        pass_hat_k=curves.hat_k,
        pass_at_k_interval=curves.at_k_interval,
        pass_hat_k_interval=curves.hat_k_interval,
    )


@dataclass(frozen=True)
class RateRules:
    """The rules a suite sets for turning counts into a rate: what an error counts as, the interval's
    confidence, the band edges, and whether the run sampled adaptively (a confidence sequence)."""

    errors: ErrorPolicy = "fail"
    confidence: float = 0.95
    edges: tuple[float, float, float] = (DEFAULT_BAND_EDGES[0], DEFAULT_BAND_EDGES[1], DEFAULT_BAND_EDGES[2])
    adaptive: bool = False


@dataclass(frozen=True)
class Bounds:
    """What the rate would be if every errored or undecided sample had failed (``low``) or passed
    (``high``), each with its interval: ``low.low`` .. ``high.high`` holds whatever those samples gave."""

    low: Interval
    high: Interval


@dataclass(frozen=True)
class Rate:
    """A pass rate as a suite's rules count it: the outcomes, the reliability of the counted samples, and
    (when some samples errored or are undecided) the bounds."""

    outcomes: OutcomeCounts
    errors: ErrorPolicy
    reliability: Reliability
    bounds: Bounds | None

    @property
    def error_share(self) -> float | None:
        """Errored samples over all samples, or None when there are none."""
        total = self.outcomes.samples
        return self.outcomes.errored / total if total else None


def rate_of(
    cells: Sequence[OutcomeCounts], *, repeats: int, rules: RateRules = RateRules(), curve_intervals: bool = True
) -> Rate:
    """The rate of per case outcome counts (one ``OutcomeCounts`` per case) under ``rules``; pass@k intervals
    for the headline only when ``curve_intervals``."""
    outcomes = sum(cells, OutcomeCounts())

    def measure(counts: list[tuple[int, int]], intervals: bool = False) -> Reliability:
        return reliability(
            counts,
            repeats=repeats,
            adaptive=rules.adaptive,
            confidence=rules.confidence,
            edges=rules.edges,
            curve_intervals=intervals,
        )

    headline = measure([cell.headline(rules.errors) for cell in cells], curve_intervals)
    bounds = None
    if outcomes.errored or outcomes.undecided:
        lows = measure([cell.bounds()[0] for cell in cells])
        highs = measure([cell.bounds()[1] for cell in cells])
        bounds = Bounds(lows.interval, highs.interval)
    return Rate(outcomes, rules.errors, headline, bounds)
