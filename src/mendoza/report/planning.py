"""Planning a suite: how many cases x repeats to tell two pass rates apart, or to pin one down.

The variance of a pass rate measured on cases x repeats splits into a between-case part (cases differ in
difficulty: only more cases shrink it) and a within-case part (the model is stochastic: more repeats shrink
it). Both can be assumed or estimated from an earlier run.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

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


def estimate_components(
    store: Store, run_ref: str, variant_id: str | None = None
) -> tuple[float, float, str]:
    """(between-case variance, mean within-case variance, where from) estimated from a stored run."""
    run = store.get_run(run_ref)
    scores: list[float] = []
    clusters: list[str] = []
    for cell in store.case_counts(run.id):
        if variant_id is not None and cell.variant_id != variant_id:
            continue
        scores.extend([1.0] * cell.passed + [0.0] * cell.failed)
        clusters.extend([f"{cell.variant_id}\x1f{cell.case_id}"] * (cell.passed + cell.failed))
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
    run = store.get_run(run_ref)
    cells = {(c.variant_id, c.case_id): c for c in store.case_counts(run.id) if c.passed + c.failed > 0}
    common = sorted(
        {case for variant, case in cells if variant == variant_a}
        & {case for variant, case in cells if variant == variant_b}
    )
    diffs, noise, within = [], [], []
    for case in common:
        sides = [cells[(variant_a, case)], cells[(variant_b, case)]]
        rates = [side.passed / (side.passed + side.failed) for side in sides]
        diffs.append(rates[1] - rates[0])
        for side, rate in zip(sides, rates, strict=True):
            n = side.passed + side.failed
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
