"""The public Python API, and what the CLI and the viewer call: load, run, resume, list."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
from pathlib import Path

from mendoza.config import load_suite
from mendoza.core import Run, Suite
from mendoza.errors import DiskError, StoreError
from mendoza.runner import Progress, RunOptions, execute_adaptive, execute_run, plan_run
from mendoza.runner.progress import NullProgress
from mendoza.store import DEFAULT_DB_PATH, Store

__all__ = ["load_suite", "open_store", "resume_run", "run_suite", "run_suite_async"]


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
    until_decided: bool = False,
    budget: int | None = None,
) -> Run:
    """Run a suite into ``store`` (or resume run ``resume``, taking the suite from its snapshot).

    ``until_decided`` samples adaptively instead of the fixed cases x repeats design: in rounds, stopping
    each variant once its band is decided (by a confidence sequence), within ``budget`` samples (default:
    four times the fixed design).

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
        mode = {"mode": "adaptive", "budget": budget or 4 * fixed} if until_decided else {"mode": "fixed"}
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
    options = RunOptions(use_cache=use_cache, concurrency=concurrency, progress=progress or NullProgress())
    store = db if isinstance(db, Store) else open_store(db)
    try:
        return asyncio.run(_run_cancellable(suite, store, resume, retry_errors, options, until_decided, budget))
    finally:
        if not isinstance(db, Store):
            store.close()


async def _run_cancellable(
    suite: Suite | None, store: Store, resume: str | None, retry_errors: bool, options: RunOptions,
    until_decided: bool, budget: int | None,
) -> Run:
    task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    on_main_thread = threading.current_thread() is threading.main_thread()
    if on_main_thread and task is not None:
        loop.add_signal_handler(signal.SIGTERM, task.cancel)
    try:
        return await run_suite_async(suite, store, resume=resume, retry_errors=retry_errors, options=options,
                                     until_decided=until_decided, budget=budget)
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
