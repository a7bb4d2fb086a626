"""Adaptive sampling (``mendoza run --until-decided``): sample in rounds, stop each variant as soon as its band
is decided, within a budget.

Validity under continuous monitoring comes from two choices:

* each sample's case is drawn uniformly at random *with replacement* from the suite's cases, so every
  sample is an independent pass/fail draw whose chance of passing is exactly the suite-level pass rate
  (the mean over cases of each case's rate) that the report states;
* the band is decided on a confidence sequence (Robbins' beta-binomial mixture), which keeps its coverage
  however often it is looked at, unlike a fixed-n interval recomputed after every round.

Drawing repeats preferentially for flaky cases would narrow a per-case picture faster, but it would bias the
pooled rate towards those cases and void the sequence's guarantee; the savings here come from stopping every
variant the moment its own band is decided.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

from mendoza.core import Case, OutcomeCounts, Run
from mendoza.runner.engine import RunPlan, close_plan, sample_items
from mendoza.stats import classify_band, confidence_sequence
from mendoza.store import Store

__all__ = ["AdaptiveOutcome", "execute_adaptive"]


@dataclass(frozen=True)
class AdaptiveOutcome:
    """How adaptive sampling ended: which variants were decided, and the samples spent."""

    decided: dict[str, bool]
    samples: int
    budget: int
    rounds: int


def _next_repeats(store: Store, run_id: str) -> dict[tuple[str, str], int]:
    following: dict[tuple[str, str], int] = defaultdict(int)
    for variant_id, case_id, repeat in store.samples.done_keys(run_id):
        following[(variant_id, case_id)] = max(following[(variant_id, case_id)], repeat + 1)
    return following


def _draws(
    cases: tuple[Case, ...],
    count: int,
    rng: random.Random,
    variant_id: str,
    following: dict[tuple[str, str], int],
) -> Iterator[tuple[Case, int]]:
    for _ in range(count):
        case = rng.choice(cases)
        key = (variant_id, case.id)
        repeat = following[key]
        following[key] = repeat + 1
        yield case, repeat


def _is_decided(store: Store, run_id: str, variant_id: str, plan: RunPlan) -> bool:
    """Whether the variant's band is decided, counting its samples as the report does (the suite's error
    rule; the automatic verdicts, which are all there is while the run samples)."""
    outcomes = sum(
        (cell.automatic for cell in store.outcomes.cell_verdicts(run_id, variant_ids=[variant_id])), OutcomeCounts()
    )
    passed, failed = outcomes.headline(plan.suite.errors)
    if passed + failed == 0:
        return False
    interval = confidence_sequence(passed, passed + failed, alpha=1 - plan.suite.confidence)
    return classify_band(interval.low, interval.high, plan.suite.band_edges).decided


async def execute_adaptive(
    plan: RunPlan, store: Store, run: Run, budget: int, round_size: int | None = None
) -> AdaptiveOutcome:
    """Sample ``run`` in rounds until every variant's band is decided or ``budget`` samples (all variants
    together, those already stored included) are spent. Resumable: a second call continues where it stopped."""
    suite = plan.suite
    size = round_size or max(10, len(suite.cases))
    following = _next_repeats(store, run.id)
    rng = random.Random(f"{suite.seed}/{run.id}/{sum(following.values())}")
    variant_ids = [worker.variant.id for worker in plan.workers]
    decided = {vid: _is_decided(store, run.id, vid, plan) for vid in variant_ids}
    spent = store.runs.get(run.id).done_samples
    plan.options.progress.start(budget, spent)
    rounds = 0
    try:
        while spent < budget and not all(decided.values()):
            undecided = [vid for vid in variant_ids if not decided[vid]]
            share = min(size, (budget - spent) // len(undecided))
            if share == 0:
                break
            items = {vid: _draws(suite.cases, share, rng, vid, following) for vid in undecided}
            await sample_items(plan, store, run, items)
            spent = store.runs.get(run.id).done_samples
            rounds += 1
            for vid in undecided:
                decided[vid] = _is_decided(store, run.id, vid, plan)
    finally:
        plan.options.progress.finish()
        await close_plan(plan)
    store.runs.set_expected_samples(run.id, spent)
    return AdaptiveOutcome(decided, spent, budget, rounds)
