"""Planning a suite: how many cases x repeats to tell two pass rates apart, or to pin one down.

The variance of a pass rate measured on cases x repeats splits into a between-case part (cases differ in
difficulty: only more cases shrink it) and a within-case part (the model is stochastic: more repeats shrink
it). Both can be assumed or estimated from an earlier run.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mendoza.core import Run
from mendoza.report.comparison import side_counts
from mendoza.stats import Design, interval_halfwidth_design, plan_designs, variance_components
from mendoza.store import Store

__all__ = [
    "Plan",
    "estimate_components",
    "estimate_difference_components",
    "plan_comparison",
    "plan_precision",
]

REPEAT_OPTIONS = (1, 2, 3, 5, 10, 20)


@dataclass(frozen=True)
class Plan:
    """Designs that reach the goal, one per number of repeats, and where the variance figures came from."""

    goal: str
    between: float
    within: float
    source: str
    designs: list[Design]


def _counted(store: Store, run: Run) -> dict[tuple[str, str], tuple[int, int]]:
    """Each (variant, case) cell's ``(passed, failed)`` as the report counts it (the run's error rule,
    human-adjusted verdicts: ``comparison.side_counts``), cells with nothing counted left out."""
    errors = store.runs.suite(run.id).errors
    return {
        (variant_id, case_id): counts
        for variant_id in run.variant_ids
        for case_id, counts in side_counts(store, run.id, variant_id, verdicts="human-adjusted", errors=errors).items()
        if sum(counts) > 0
    }


def estimate_components(
    store: Store, run_ref: str, variant_id: str | None = None
) -> tuple[float, float, str]:
    """(between-case variance, mean within-case variance, where from) estimated from a stored run."""
    run = store.runs.get(run_ref)
    scores: list[float] = []
    clusters: list[str] = []
    for (variant, case), (passed, failed) in _counted(store, run).items():
        if variant_id is not None and variant != variant_id:
            continue
        scores.extend([1.0] * passed + [0.0] * failed)
        clusters.extend([f"{variant}\x1f{case}"] * (passed + failed))
    components = variance_components(np.asarray(scores), clusters)
    between = 0.0 if np.isnan(components.between) else float(components.between)
    within = 0.0 if np.isnan(components.within) else float(components.within)
    which = f" variant {variant_id}" if variant_id else ""
    return between, within, f"estimated from run {run.id}{which} ({components.n_clusters} cases)"


def estimate_difference_components(
    store: Store, run_ref: str, variant_a: str, variant_b: str
) -> tuple[float, float, str]:
    """(variance of the true per-case differences between two variants, mean within-case variance, source),
    from a run with both: the spread of the observed per-case differences less the part repeats explain."""
    run = store.runs.get(run_ref)
    cells = _counted(store, run)
    common = sorted(
        {case for variant, case in cells if variant == variant_a}
        & {case for variant, case in cells if variant == variant_b}
    )
    diffs, noise, within = [], [], []
    for case in common:
        sides = [cells[(variant_a, case)], cells[(variant_b, case)]]
        rates = [passed / (passed + failed) for passed, failed in sides]
        diffs.append(rates[1] - rates[0])
        for (passed, failed), rate in zip(sides, rates, strict=True):
            n = passed + failed
            variance = rate * (1 - rate) * n / (n - 1) if n > 1 else 0.0
            within.append(variance)
            noise.append(variance / n)
    if len(common) < 2:
        return 0.0, 0.0, f"run {run.id} has fewer than 2 cases graded under both {variant_a} and {variant_b}"
    between = max(0.0, float(np.var(diffs, ddof=1)) - 2.0 * float(np.mean(noise)))
    source = f"estimated from run {run.id}, {variant_b} vs {variant_a} ({len(common)} cases)"
    return between, float(np.mean(within)), source


def plan_comparison(
    delta: float, between: float, within: float, source: str, *, alpha: float = 0.05, power: float = 0.8
) -> Plan:
    """Cases needed per number of repeats to detect a difference ``delta`` between two variants (paired)."""
    designs = plan_designs(delta, between, within, alpha=alpha, power=power, repeats_options=REPEAT_OPTIONS)
    goal = (
        f"detect a {delta:.1%} difference between two variants (paired, alpha {alpha:g}, power {power:.0%})"
    )
    return Plan(goal, between, within, source, designs)


def plan_precision(
    halfwidth: float, between: float, within: float, source: str, *, confidence: float = 0.95
) -> Plan:
    """Cases needed per number of repeats so one variant's interval is at most ±``halfwidth`` wide."""
    designs = []
    for repeats in REPEAT_OPTIONS:
        cases = interval_halfwidth_design(halfwidth, between, within, repeats, confidence)
        designs.append(Design(repeats=repeats, cases=cases, samples=cases * repeats))
    goal = f"a {confidence:.0%} interval of ±{halfwidth:.1%} on one variant's pass rate"
    return Plan(goal, between, within, source, designs)
