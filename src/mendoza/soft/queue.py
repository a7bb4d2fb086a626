"""The order in which a person should look at a run's samples, and why each is there: one list of reasons,
used by ``mendoza label`` (``label_queue``: everything worth a label, judges' split votes first) and by the
viewer's review mode (``review_queue``: the graders' disagreements and the failures, by automatic verdicts)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, get_args

from mendoza.core import GraderSpec
from mendoza.errors import MendozaError
from mendoza.graders.judged import JudgeCriterion, JudgeDetail
from mendoza.graders.kinds import is_judge_type
from mendoza.store import Store

__all__ = ["BORDERLINE", "REASONS", "REVIEW_TIERS", "QueueItem", "Reason", "label_queue", "review_queue"]

Reason = Literal[
    "judges disagree",
    "graders disagree",
    "borderline judge verdict",
    "failed in a flaky case",
    "failed",
    "passed in a flaky case",
    "not yet reviewed",
    "random sample",
]
REASONS: tuple[Reason, ...] = get_args(Reason)
"""Why a sample is in a queue, most worth a look first."""

REVIEW_TIERS: tuple[Reason, ...] = ("graders disagree", "failed in a flaky case", "failed", "passed in a flaky case")
"""The reasons of ``Store.review_candidates``'s tiers 0, 1, 2 and 3."""

#: A judged score this close to the rubric's threshold is a borderline verdict.
BORDERLINE = 0.1


@dataclass(frozen=True, slots=True)
class QueueItem:
    """One sample of a queue and why it is there."""

    sample_id: int
    reason: Reason


def review_queue(store: Store, run_id: str, variant_ids: Sequence[str] | None = None) -> list[QueueItem]:
    """The samples of a run most worth a person's look, in the order to look at them.

    First the samples whose automatic graders disagree, then the failures of flaky cells (cases that pass
    sometimes), then the other failures, then the passes of flaky cells; within each, in suite order, then
    variant, then repeat. Samples that ended in an error (no output to judge) and the passes of cells that
    always pass are left out. The order uses automatic verdicts only, so labelling does not reshuffle it.
    """
    run = store.runs.get(run_id)
    variants = list(variant_ids) if variant_ids is not None else list(run.variant_ids)
    return [
        QueueItem(sample_id, REVIEW_TIERS[tier]) for sample_id, tier in store.browse.review_candidates(run.id, variants)
    ]


def _at_the_edge(row: JudgeCriterion) -> bool:
    """A scaled criterion judged exactly at its pass point, or one step below it."""
    scale, point = row.scale, row.pass_point
    if scale is None or point is None:
        return False
    step = 1.0 / (scale - 1)
    return point - step - 1e-9 <= row.score <= point + 1e-9


def _is_judged(spec: GraderSpec) -> bool:
    """Whether a grader of the run is judge-style; an unknown plugin's is not (the queue still works)."""
    try:
        return is_judge_type(spec.type)
    except MendozaError:
        return False


def _judge_flags(store: Store, run_id: str) -> tuple[list[tuple[float, int]], list[int]]:
    """(samples whose judge votes split, with their agreement; samples with a borderline judged score), from
    the verdicts of the run's judge-style graders."""
    split: dict[int, float] = {}
    borderline: list[int] = []
    judged = {spec.name for spec in store.grades.grader_set(run_id) if _is_judged(spec)}
    for grade in store.grades.current(run_id):
        detail = JudgeDetail.read(grade.detail) if grade.grader in judged else None
        if detail is None or grade.error is not None:
            continue
        if detail.agreement < 1.0:
            split[grade.sample_id] = min(detail.agreement, split.get(grade.sample_id, 1.0))
            continue
        threshold = detail.threshold
        near = threshold is not None and abs(detail.score - threshold) < BORDERLINE
        on_edge = any(_at_the_edge(row) for row in detail.criteria)
        if near or on_edge:
            borderline.append(grade.sample_id)
    return sorted((value, sample) for sample, value in split.items()), borderline


def label_queue(
    store: Store,
    run_ref: str,
    *,
    variant_ids: Sequence[str] | None = None,
    order: Literal["queue", "random"] = "queue",
    include_labelled: bool = False,
    seed: int = 0,
) -> list[QueueItem]:
    """The samples of a run to label, most worth a look first (``order="queue"``), or in a seeded random order
    (``order="random"``: a random sample, which is what an unbiased calibration needs).

    The queue: samples whose judge votes split (least agreement first), then those whose automatic graders
    disagree, then borderline judged scores, then the failures and flaky cells of the review queue (the order
    of ``review_queue``), then every other sample with an output, in random order. Samples a
    person already labelled are left out unless ``include_labelled``; errored samples (no output) always.
    """
    run = store.runs.get(run_ref)
    variants = list(variant_ids) if variant_ids is not None else list(run.variant_ids)
    outputs = [item for item in store.grades.regrade_inputs(run.id, variants)]
    allowed = {item.sample_id for item in outputs}
    skip = set() if include_labelled else set(store.labels.verdicts(run.id))
    rng = random.Random(seed)
    if order == "random":
        ids = sorted(allowed - skip)
        rng.shuffle(ids)
        return [QueueItem(sample_id, "random sample") for sample_id in ids]
    items: list[QueueItem] = []
    seen: set[int] = set(skip)

    def add(sample_id: int, reason: Reason) -> None:
        if sample_id in allowed and sample_id not in seen:
            seen.add(sample_id)
            items.append(QueueItem(sample_id, reason))

    split, borderline = _judge_flags(store, run.id)
    for _, sample_id in split:
        add(sample_id, "judges disagree")
    queue = [(entry.sample_id, entry.reason) for entry in review_queue(store, run.id, variants)]
    for sample_id, reason in queue:
        if reason == "graders disagree":
            add(sample_id, reason)
    for sample_id in borderline:
        add(sample_id, "borderline judge verdict")
    for sample_id, reason in queue:
        if reason != "graders disagree":
            add(sample_id, reason)
    rest = sorted(allowed - seen)
    rng.shuffle(rest)
    for sample_id in rest:
        add(sample_id, "not yet reviewed")
    return items
