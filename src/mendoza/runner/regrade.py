"""Grading stored outputs again, without calling the model under test: new or changed graders on a finished run
(``regrade_outputs``), and pairwise preferences between its variants (``judge_pairs``).

Only graders and their judges are called; no provider of a variant is built. Work runs concurrently (each judge
keeps to its own limit) and is written in batches, so an interrupted regrade keeps what it finished; grades
and judgements already stored for the same grader definition are skipped unless ``force``. A grader on steps
(``step: NAME``, ``turn: each``, ``tool_called``...) gets each sample's stored steps, read a batch of samples at
a time, so a regrade grades steps without calling the app again.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TypeVar

from mendoza.core import Case, Grade, Step
from mendoza.errors import GraderError
from mendoza.graders.base import BoundGrader, BoundPairwise
from mendoza.runner.engine import first_cause
from mendoza.runner.options import GradeOptions
from mendoza.store import PairJudgement, PairSamples, RegradeInput, Store

__all__ = ["STEPS_BATCH", "GradingOutcome", "judge_pairs", "reads_steps", "regrade_outputs"]

#: How many samples' steps a regrade reads at once.
STEPS_BATCH = 500

_Item = TypeVar("_Item")
_Result = TypeVar("_Result")


@dataclass
class GradingOutcome:
    """What a regrade or a pairwise pass did: how many verdicts it stored (errors among them), how many it
    skipped because they were already stored, per grader name."""

    written: int = 0
    errors: int = 0
    skipped: int = 0
    by_grader: dict[str, int] = field(default_factory=dict)

    def record(self, grader: str, failed: bool) -> None:
        """Count one stored verdict of ``grader`` (``failed``: the grader could not decide)."""
        self.written += 1
        self.errors += failed
        self.by_grader[grader] = self.by_grader.get(grader, 0) + 1


async def _pool(
    items: Iterable[_Item],
    work: Callable[[_Item], Awaitable[_Result]],
    done: Callable[[_Result], None],
    concurrency: int,
) -> None:
    """Run ``work`` on every item with at most ``concurrency`` in flight; ``done`` gets each result."""
    iterator: Iterator[_Item] = iter(items)

    async def worker() -> None:
        for item in iterator:
            done(await work(item))

    try:
        async with asyncio.TaskGroup() as group:
            for _ in range(max(1, concurrency)):
                group.create_task(worker())
    except ExceptionGroup as failures:
        raise first_cause(failures) from None  # one error (a full disk), not a group of the same one


async def _store_in_batches(
    todo: Iterable[_Item],
    total: int,
    work: Callable[[_Item], Awaitable[_Result]],
    write: Callable[[list[_Result]], object],
    verdict_of: Callable[[_Result], tuple[str, bool]],
    options: GradeOptions,
    outcome: GradingOutcome,
) -> None:
    """Run ``work`` on every item of ``todo`` (``total`` of them, ``options.concurrency`` at once; taken from it
    as workers free up, so it may be lazy) and ``write`` the results in batches, the last one also when stopped;
    ``verdict_of`` names each result's grader and whether it failed, for the outcome and the progress bar."""
    pending: list[_Result] = []

    def flush() -> None:
        batch = list(pending)
        pending.clear()
        write(batch)

    def finished(result: _Result) -> None:
        pending.append(result)
        grader, failed = verdict_of(result)
        outcome.record(grader, failed)
        options.progress.advance(1, int(failed))
        if len(pending) >= options.batch_size:
            flush()

    options.progress.start(total, 0)
    try:
        await _pool(todo, work, finished, options.concurrency)
    finally:
        flush()
        options.progress.finish()


def reads_steps(bound: BoundGrader) -> bool:
    """Whether a grader needs a sample's steps: it targets a step or every turn, or reads steps itself."""
    return bound.grader.uses_steps or bound.spec.step is not None or bound.spec.turn == "each"


async def regrade_outputs(
    store: Store,
    run_id: str,
    cases: Mapping[str, Case],
    graders: Sequence[BoundGrader],
    options: GradeOptions | None = None,
    *,
    grade_timeout: float = 300.0,
) -> GradingOutcome:
    """Grade every stored output of a run with ``graders`` (per-sample graders only) and store the grades
    beside the old ones. ``cases`` gives each case (its expected value and vars) by id; ``grade_timeout`` bounds
    one code or Python grade when ``options`` do not (the run's suite's)."""
    options = options or GradeOptions()
    force = options.force
    timeout = options.grade_timeout if options.grade_timeout is not None else grade_timeout
    outcome = GradingOutcome()
    inputs = [item for item in store.grades.regrade_inputs(run_id) if item.case_id in cases]
    done: list[set[int]] = []
    for bound in graders:
        bound.grader.use_cache(store.cache if options.use_cache else None)
        done.append(set() if force else store.grades.graded_sample_ids(run_id, bound.spec.name, bound.definition_hash))
    wanted: list[tuple[RegradeInput, list[BoundGrader]]] = []
    total = 0
    for item in inputs:
        chosen = [bound for bound, graded in zip(graders, done, strict=True) if item.sample_id not in graded]
        outcome.skipped += len(graders) - len(chosen)
        if chosen:
            wanted.append((item, chosen))
            total += len(chosen)
    with_steps = any(reads_steps(bound) for bound in graders)

    def todo() -> Iterator[tuple[RegradeInput, BoundGrader, Sequence[Step]]]:
        # A batch of samples' steps at a time: memory stays flat however big the run.
        for start in range(0, len(wanted), STEPS_BATCH):
            batch = wanted[start : start + STEPS_BATCH]
            steps = store.steps.of_samples([item.sample_id for item, _ in batch]) if with_steps else {}
            for item, chosen in batch:
                for bound in chosen:
                    yield item, bound, steps.get(item.sample_id, ())

    async def work(task: tuple[RegradeInput, BoundGrader, Sequence[Step]]) -> tuple[int, Grade]:
        item, bound, steps = task
        return item.sample_id, await bound.grade(item.output, cases[item.case_id], timeout, steps)

    try:
        await _store_in_batches(
            todo(), total, work, store.grades.add, lambda result: (result[1].grader, result[1].error is not None),
            options, outcome,
        )
    finally:
        for bound in graders:
            await bound.grader.aclose()
    return outcome


async def judge_pairs(
    store: Store,
    run_id: str,
    cases: Mapping[str, Case],
    bound: BoundPairwise,
    variant_ids: Sequence[str],
    options: GradeOptions | None = None,
) -> GradingOutcome:
    """Ask a pairwise grader's judge about every pair of ``variant_ids`` on every (case, repeat) both have an
    output for (each pair in both orders), and store the judgements; a failed judgement is stored as an error."""
    grader = bound.grader
    options = options or GradeOptions()
    outcome = GradingOutcome()
    grader.use_cache(store.cache if options.use_cache else None)
    done = set() if options.force else store.pairwise.judged(run_id, bound.definition_hash)
    todo: list[tuple[str, str, PairSamples]] = []
    for variant_a, variant_b in itertools.combinations(variant_ids, 2):
        for pair in store.pairwise.sample_pairs(run_id, variant_a, variant_b):
            if pair.case_id not in cases:
                continue
            if (variant_a, variant_b, pair.case_id, pair.repeat) in done:
                outcome.skipped += 1
            else:
                todo.append((variant_a, variant_b, pair))

    async def work(task: tuple[str, str, PairSamples]) -> PairJudgement:
        variant_a, variant_b, pair = task
        judgement = PairJudgement(
            grader=bound.spec.name,
            grader_hash=bound.definition_hash,
            variant_a=variant_a,
            variant_b=variant_b,
            case_id=pair.case_id,
            repeat=pair.repeat,
            sample_a=pair.sample_a,
            sample_b=pair.sample_b,
            winner=None,
            first_order=None,
            second_order=None,
        )
        try:
            result = await grader.compare(cases[pair.case_id], pair.output_a, pair.output_b, pair.repeat)
        except GraderError as exc:
            return replace(judgement, error=str(exc))
        return replace(
            judgement,
            winner=result.winner,
            first_order=result.first_order,
            second_order=result.second_order,
            explanation=result.explanation,
            detail=result.detail,
        )

    try:
        await _store_in_batches(
            todo, len(todo), work, lambda batch: store.pairwise.add(run_id, batch),
            lambda judgement: (judgement.grader, judgement.error is not None), options, outcome,
        )
    finally:
        await grader.aclose()
    return outcome
