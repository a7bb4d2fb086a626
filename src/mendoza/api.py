"""The façade: everything that *acts* on a store, for Python callers, the CLI and the viewer alike. Load and run
a suite, resume a run, grade a finished run again, judge pairs, record a person's label, order what to look at.
What they show is computed by ``mendoza.report``; the CLI and the viewer never reach the runner or the
soft-eval package but through here (an import-linter contract holds them to it).

Options travel as one value each: ``RunOptions`` for a run, ``GradeOptions`` for a regrade or a ranking.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
from pathlib import Path

from mendoza.config import load_suite
from mendoza.core import Run, Suite
from mendoza.errors import DiskError, StoreError
from mendoza.runner import GradeOptions, Progress, RunOptions, execute_adaptive, execute_run, plan_run, progress_for
from mendoza.runner.progress import NullProgress
from mendoza.soft import (
    QueueItem,
    RegradeResult,
    clear_label,
    default_author,
    judge_run_pairs,
    label_queue,
    parse_grader_option,
    record_label,
    regrade_run,
    review_queue,
)
from mendoza.store import DEFAULT_DB_PATH, Store

__all__ = [
    "GradeOptions",
    "Progress",
    "QueueItem",
    "RegradeResult",
    "RunOptions",
    "clear_label",
    "default_author",
    "judge_run_pairs",
    "label_queue",
    "load_suite",
    "open_store",
    "parse_grader_option",
    "progress_for",
    "record_label",
    "regrade_run",
    "resume_run",
    "review_queue",
    "run_suite",
    "run_suite_async",
]


def open_store(db: str | Path | None = None, *, readonly: bool = False) -> Store:
    """Open the store (``.mendoza/mendoza.db`` in the current folder unless ``db`` says otherwise)."""
    return Store(Path(db) if db is not None else DEFAULT_DB_PATH, readonly=readonly)


async def run_suite_async(
    suite: Suite | None,
    store: Store,
    *,
    resume: str | None = None,
    retry_errors: bool = False,
    options: RunOptions | None = None,
) -> Run:
    """Run a suite into ``store`` (or resume run ``resume``, taking the suite from its snapshot).

    ``options.until_decided`` samples adaptively instead of the fixed cases x repeats design: in rounds,
    stopping each variant once its band is decided (by a confidence sequence), within ``options.budget``
    samples (default: four times the fixed design).

    The run's status ends ``complete`` when every (case, variant, repeat) is stored, ``interrupted`` when
    cancelled (Ctrl-C, SIGTERM) or the disk is full (``DiskError``), and ``failed`` on an error that stops
    the whole run.
    """
    options = options or RunOptions()
    if resume is not None:
        run = store.runs.get(resume)
        suite = store.runs.suite(run.id)
        plan = plan_run(suite, options)
        if retry_errors:
            store.samples.delete_errored(run.id)
        store.runs.set_status(run.id, "running")
    elif suite is None:
        raise ValueError("give a suite to run, or a run id to resume")
    else:
        plan = plan_run(suite, options)
        fixed = len(suite.cases) * len(suite.variants) * suite.repeats
        budget = options.budget or 4 * fixed
        mode = {"mode": "adaptive", "budget": budget} if options.until_decided else {"mode": "fixed"}
        run = store.runs.create(suite, options=mode)
    try:
        if run.adaptive:
            await execute_adaptive(plan, store, run, int(run.options["budget"]))
        else:
            await execute_run(plan, store, run)
    except asyncio.CancelledError:
        store.runs.set_status(run.id, "interrupted")
        raise
    except BaseException as exc:
        # A full disk interrupts a run (resume it once there is space); and may refuse this write too, in which
        # case the error on its way out is the one to report.
        with contextlib.suppress(StoreError):
            store.runs.set_status(run.id, "interrupted" if isinstance(exc, DiskError) else "failed")
        raise
    finished = store.runs.get(run.id)
    store.runs.set_status(
        run.id, "complete" if finished.done_samples >= finished.expected_samples else "interrupted"
    )
    return store.runs.get(run.id)


def run_suite(
    suite: Suite | str | Path | None = None,
    *,
    db: str | Path | Store | None = None,
    resume: str | None = None,
    retry_errors: bool = False,
    use_cache: bool = True,
    concurrency: int | None = None,
    progress: Progress | None = None,
    until_decided: bool = False,
    budget: int | None = None,
) -> Run:
    """Run a suite (a ``Suite`` or the path of a suite file) and return the finished ``Run``
    (``until_decided``/``budget``: see ``run_suite_async``).

    Interrupting it (Ctrl-C or SIGTERM) keeps every finished sample; ``run_suite(resume=run.id)`` completes
    it later without duplicating one.
    """
    if isinstance(suite, str | Path):
        suite = load_suite(suite)
    options = RunOptions(
        use_cache=use_cache, concurrency=concurrency, progress=progress or NullProgress(),
        until_decided=until_decided, budget=budget,
    )
    store = db if isinstance(db, Store) else open_store(db)
    try:
        return asyncio.run(_run_cancellable(suite, store, resume, retry_errors, options))
    finally:
        if not isinstance(db, Store):
            store.close()


async def _run_cancellable(
    suite: Suite | None, store: Store, resume: str | None, retry_errors: bool, options: RunOptions
) -> Run:
    task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    on_main_thread = threading.current_thread() is threading.main_thread()
    if on_main_thread and task is not None:
        loop.add_signal_handler(signal.SIGTERM, task.cancel)
    try:
        return await run_suite_async(suite, store, resume=resume, retry_errors=retry_errors, options=options)
    finally:
        if on_main_thread:
            with contextlib.suppress(ValueError, RuntimeError):
                loop.remove_signal_handler(signal.SIGTERM)


def resume_run(
    run_ref: str,
    *,
    db: str | Path | Store | None = None,
    retry_errors: bool = False,
    progress: Progress | None = None,
) -> Run:
    """Finish an interrupted run: sample only what is missing, from the suite snapshot it started with."""
    return run_suite(None, db=db, resume=run_ref, retry_errors=retry_errors, progress=progress)
