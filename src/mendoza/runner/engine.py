"""The run loop: cases x variants x repeats -> model calls -> grades -> the store, streamed.

Each variant gets a pool of workers as large as its concurrency limit; the workers pull (case, repeat)
items from a lazy iterator, so memory stays flat however large the run. Finished samples go to a
``SampleWriter`` that commits them in batches. A sample's error is recorded on the sample; it never stops
the run.

Where a sample is drawn and graded is the plan's ``Executor`` (``runner/executor.py``): this process by
default, Ray actors with ``--executor ray``. The loop, the limits and the writer are the same for both.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import jinja2

from mendoza.calls import CallResult, ModelCache, ModelCaller, Provider, RetryPolicy, cache_key, concurrency_limit
from mendoza.calls.sample_context import SampleContext, sample_context
from mendoza.config.templates import user_environment
from mendoza.core import (
    Case,
    Grade,
    ModelRequest,
    ModelResponse,
    Run,
    Sample,
    Suite,
    Variant,
    first_failing_step,
    sample_seed,
)
from mendoza.graders.base import BoundGrader, bind_grader
from mendoza.graders.kinds import kind_of
from mendoza.registry import grader_class, provider_class
from mendoza.runner.conversation import converse, render_messages
from mendoza.runner.executor import Executor, executor_for
from mendoza.runner.options import RunOptions
from mendoza.runner.writer import SampleWriter
from mendoza.store import Store

__all__ = [
    "Items",
    "RunOptions",
    "RunPlan",
    "close_plan",
    "execute_run",
    "first_cause",
    "plan_run",
    "sample_items",
    "use_cache",
]

#: Workers per variant when the provider's default would be larger and the variant did not ask for more.
_MAX_DEFAULT_WORKERS = 256

_TEMPLATES = user_environment()  # sandboxed: prompts are the suite author's, not trusted code


class _VariantWorker:
    """Everything needed to sample one variant: its provider, compiled templates, retry policy, graders."""

    def __init__(
        self, suite: Suite, variant: Variant, graders: list[BoundGrader], options: RunOptions
    ) -> None:
        self.variant = variant
        self.provider: Provider = provider_class(variant.provider_name)(variant)
        self.prompt = _TEMPLATES.from_string(variant.prompt) if variant.prompt is not None else None
        self.system = _TEMPLATES.from_string(variant.system) if variant.system is not None else None
        policy = RetryPolicy(
            max_retries=suite.max_retries, timeout=variant.timeout or suite.timeout,
            max_retry_wait=suite.max_retry_wait, on_wait=getattr(options.progress, "waiting", None),
        )
        self.graders = graders
        self.grade_timeout = suite.grade_timeout
        limit = concurrency_limit(self.provider, options.concurrency or variant.concurrency, _MAX_DEFAULT_WORKERS)
        # As many workers as calls may be in flight, so the caller's limit never makes a worker wait.
        self.caller = ModelCaller(self.provider, policy, limit, rng=random.Random(suite.seed))
        self.workers = limit
        self.suite_seed = suite.seed
        #: The cache the app's own model clients use (the run's, even when this provider is not cacheable).
        self.app_cache: ModelCache | None = None

    async def sample(self, case: Case, repeat: int) -> tuple[Sample, tuple[str, ModelResponse] | None]:
        """Draw and grade one sample (never raises for a model's or grader's failure)."""
        seed = sample_seed(self.suite_seed, case.id, repeat)
        context = case.template_context()
        try:
            prompt = self.prompt.render(context) if self.prompt is not None else None
            system = self.system.render(context) if self.system is not None else None
            script = render_messages(case.messages, context, _TEMPLATES) if case.messages else None
        except Exception as exc:
            # Whatever a template raises at run time is this sample's error, not the run's: an undefined name,
            # 1/0, 'n/a' + 1, a bad method call, a value the sandbox refuses as too big (or memory runs out).
            reason = str(exc) if isinstance(exc, jinja2.TemplateError) else f"{type(exc).__name__}: {exc}"
            failed = Sample(case.id, self.variant.id, repeat, None, None, error=f"prompt template: {reason}", seed=seed)
            return failed, None
        request = ModelRequest(
            prompt, case.vars, self.variant.params, seed, system, case.id, repeat, tools=self.variant.tools
        )
        started = time.perf_counter()
        entry: tuple[str, ModelResponse] | None = None
        # What the app's own model clients (mendoza.model) need: the run's cache, this sample's seed and repeat.
        app = SampleContext(self.app_cache, seed, repeat, case.id, asyncio.get_running_loop())
        with sample_context(app):
            talked = await converse(self.caller, request, script, repeat) if script is not None else None
            called = None if script is not None else await self._call(request, repeat)
        if talked is not None:
            response, attempts, cached, steps = talked.response, talked.attempts, talked.cached, talked.steps
            failure: BaseException | None = talked.error
        else:
            assert called is not None
            response, attempts, cached, failure = called.response, called.attempts, called.cached, called.error
            # An app that failed half-way keeps the steps it got through (``ProviderError.steps``).
            steps = response.steps if response is not None else tuple(getattr(failure, "steps", ()))
            entry = called.cache_entry
        latency_ms = (time.perf_counter() - started) * 1000.0
        if response is None:
            error = None if failure is None else str(failure) or type(failure).__name__
            failed = Sample(
                case.id,
                self.variant.id,
                repeat,
                prompt,
                None,
                error=error,
                latency_ms=latency_ms,
                seed=seed,
                attempts=attempts,
                steps=steps,
                failed_step=first_failing_step(steps, ()),
            )
            return failed, None
        grading_started = time.perf_counter()
        grades = tuple(
            [await grader.grade(response.text, case, self.grade_timeout, steps) for grader in self.graders]
        )
        grading_ms = (time.perf_counter() - grading_started) * 1000.0
        sample = Sample(
            case.id,
            self.variant.id,
            repeat,
            prompt,
            response.text,
            seed=seed,
            tokens_in=response.tokens_in,
            tokens_out=response.tokens_out,
            cost=response.cost,
            latency_ms=latency_ms,
            cached=cached,
            attempts=attempts,
            grades=grades,
            notes=response.notice,
            metadata=response.metadata,
            grading_ms=grading_ms,
            steps=steps,
            failed_step=first_failing_step(steps, failed_step_targets(self.graders, grades)),
        )
        return sample, entry


    async def _call(self, request: ModelRequest, repeat: int) -> CallResult:
        key = cache_key(self.caller.identity, request, repeat) if self.caller.caching else None
        # The writer stores the new cache entry with the sample, in its batch (remember=False).
        return await self.caller.call(request, key, remember=False)


def failed_step_targets(graders: Sequence[BoundGrader], grades: Sequence[Grade]) -> set[str]:
    """The step names whose step grader failed the sample (``core.first_failing_step`` reads them)."""
    return {
        bound.spec.step
        for bound, grade in zip(graders, grades, strict=True)
        if bound.spec.step is not None and grade.passed is False
    }


def _pending(suite: Suite, variant_id: str, done: set[tuple[str, str, int]]) -> Iterator[tuple[Case, int]]:
    """The (case, repeat) items of a variant not yet stored, case by case: a case's repeats are in flight
    together, so a model that decodes a batch reads their common prompt once (``providers.llama_batch``) and
    a hosted API's prompt cache sees them close together. (An interrupted run holds every repeat of the cases
    it reached; ``--resume`` finishes the rest.)"""
    for case in suite.cases:
        for repeat in range(suite.repeats):
            if (variant_id, case.id, repeat) not in done:
                yield case, repeat


@dataclass
class RunPlan:
    """A suite made ready to run: providers and graders built, the executor chosen (so set-up mistakes
    surface before the run is recorded)."""

    suite: Suite
    options: RunOptions
    workers: list[_VariantWorker]
    executor: Executor


def plan_run(suite: Suite, options: RunOptions) -> RunPlan:
    """Build every variant's provider and every grader; raises the set-up mistakes (unknown provider, a
    missing API key, a bad grader parameter) as ``MendozaError``s."""
    # A pairwise grader (a comparison of variants) is a step after the run.
    graders = [bind_grader(spec, grader_class(spec.type)) for spec in suite.graders if kind_of(spec.type) == "sample"]
    workers = [_VariantWorker(suite, variant, graders, options) for variant in suite.variants]
    return RunPlan(suite, options, workers, executor_for(options, suite.variants))


Items = dict[str, Iterator[tuple[Case, int]]]


async def sample_items(plan: RunPlan, store: Store, run: Run, items: Items) -> int:
    """Draw, grade and store the (case, repeat) items given per variant id (variants not named are idle);
    returns how many samples were written. Everything finished is committed before it returns, also when
    the task is cancelled."""
    options = plan.options
    caching = options.use_cache and plan.suite.cache
    use_cache(plan, store.cache if caching else None)
    # A shared PostgreSQL store's address reaches workers on every machine; a file, those that can open it.
    cache_db = (store.url if store.url is not None else Path(store.path)) if caching else None
    await plan.executor.open(plan.suite, options, cache_db)
    writer = SampleWriter(store, run.id, options.batch_size, options.flush_interval)

    async def work(worker: _VariantWorker, queue: Iterator[tuple[Case, int]]) -> None:
        # As many of these per variant as its limit, wherever the executor draws: the limit holds across a cluster.
        for case, repeat in queue:
            drawn = await plan.executor.sample(worker, case, repeat)
            writer.add(drawn.sample, drawn.cache_entries)
            options.progress.advance(1, drawn.sample.error is not None)

    try:
        async with writer, asyncio.TaskGroup() as group:
            for worker in plan.workers:
                queue = items.get(worker.variant.id)
                if queue is None:
                    continue
                for _ in range(worker.workers):
                    group.create_task(work(worker, queue))
    except ExceptionGroup as failures:
        # The workers fail together when the store does (a full disk): raise the first cause as itself, so
        # the caller sees one error (one line from the CLI), not a group of the same one.
        raise first_cause(failures) from None
    return writer.written


def first_cause(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """The first exception of a task group's failures that is not a sibling's cancellation."""
    for exc in group.exceptions:
        if isinstance(exc, BaseExceptionGroup):
            return first_cause(exc)
        if not isinstance(exc, asyncio.CancelledError):
            return exc
    return group


def use_cache(plan: RunPlan, cache: ModelCache | None) -> None:
    """Serve the plan's model calls (its variants', its judges', its apps' own) from ``cache`` (None: none)."""
    for worker in plan.workers:
        worker.caller.use_cache(cache)
        worker.app_cache = cache
    for bound in _graders(plan):
        bound.grader.use_cache(cache)  # judges cache their calls like any model call


def _graders(plan: RunPlan) -> list[BoundGrader]:
    """Every distinct grader of a plan (the variants share them)."""
    unique: dict[int, BoundGrader] = {}
    for worker in plan.workers:
        for bound in worker.graders:
            unique.setdefault(id(bound), bound)
    return list(unique.values())


async def close_plan(plan: RunPlan) -> None:
    """Release every provider and grader of a plan (connections, models, judges) and its executor's workers."""
    try:
        await plan.executor.close()
    finally:
        for worker in plan.workers:
            await worker.provider.aclose()
        for bound in _graders(plan):
            await bound.grader.aclose()


async def execute_run(plan: RunPlan, store: Store, run: Run) -> int:
    """Sample every (case, variant, repeat) of ``run`` not yet stored; returns how many samples were
    written. Cancelling the task stops it cleanly: what finished is committed before it returns."""
    done = store.samples.done_keys(run.id)
    plan.options.progress.start(run.expected_samples, len(done))
    try:
        items = {worker.variant.id: _pending(plan.suite, worker.variant.id, done) for worker in plan.workers}
        return await sample_items(plan, store, run, items)
    finally:
        plan.options.progress.finish()
        await close_plan(plan)
