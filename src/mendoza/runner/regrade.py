"""Grading stored outputs again, without calling the model under test: new or changed graders on a finished run
(``regrade_outputs``), and pairwise preferences between its variants (``judge_pairs``).

Only graders and their judges are called; no provider of a variant is built. Work runs concurrently (each judge
keeps to its own limit) and is written in batches, so an interrupted regrade keeps what it finished; grades
and judgements already stored for the same grader definition are skipped unless ``force``.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TypeVar

from mendoza.core import Case, Grade
from mendoza.errors import GraderError
from mendoza.graders.base import BoundGrader, BoundPairwise
from mendoza.runner.engine import first_cause
from mendoza.runner.options import GradeOptions
from mendoza.store import PairJudgement, PairSamples, RegradeInput, Store

__all__ = ["GradingOutcome", "judge_pairs", "regrade_outputs"]

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
    todo: Sequence[_Item],
    work: Callable[[_Item], Awaitable[_Result]],
    write: Callable[[list[_Result]], object],
    verdict_of: Callable[[_Result], tuple[str, bool]],
    options: GradeOptions,
    outcome: GradingOutcome,
) -> None:
    """Run ``work`` on every item of ``todo`` (``options.concurrency`` at once) and ``write`` the results in
    batches, the last one also when stopped; ``verdict_of`` names each result's grader and whether it failed,
    for the outcome and the progress bar."""
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

    options.progress.start(len(todo), 0)
    try:
        await _pool(todo, work, finished, options.concurrency)
    finally:
        flush()
        options.progress.finish()


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
    todo: list[tuple[RegradeInput, BoundGrader]] = []
    for bound in graders:
        bound.grader.use_cache(store.cache if options.use_cache else None)
        done = set() if force else store.grades.graded_sample_ids(run_id, bound.spec.name, bound.definition_hash)
        for item in inputs:
            if item.sample_id in done:
                outcome.skipped += 1
            else:
                todo.append((item, bound))
    async def work(task: tuple[RegradeInput, BoundGrader]) -> tuple[int, Grade]:
        item, bound = task
        return item.sample_id, await bound.grade(item.output, cases[item.case_id], timeout)

    try:
        await _store_in_batches(
            todo, work, store.grades.add, lambda result: (result[1].grader, result[1].error is not None),
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
            todo, work, lambda batch: store.pairwise.add(run_id, batch),
            lambda judgement: (judgement.grader, judgement.error is not None), options, outcome,
        )
    finally:
        await grader.aclose()
    return outcome
