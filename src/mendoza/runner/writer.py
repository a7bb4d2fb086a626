"""Batches finished samples into the store: few commits, yet nothing waits long in memory, and the event loop
never waits for the disk."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor

from mendoza.core import ModelResponse, Sample
from mendoza.errors import DiskError, StoreError
from mendoza.store import Store

__all__ = ["SampleWriter"]

#: How many batches may wait while one is committed before adding waits for the store.
_BACKLOG = 2


class SampleWriter:
    """Collects samples (and new cache entries) and commits them in batches: when ``batch_size`` are
    waiting, or ``interval`` seconds after the oldest one arrived, whichever comes first.

    Commits run on a thread of the writer's own, one at a time, so that the event loop goes on drawing samples
    while SQLite (or PostgreSQL) writes: a commit that held the loop held every request in flight with it (at
    50 in flight and 100 ms a call, 13 ms a commit cost 2% of the throughput). While one commit runs the next
    batch keeps filling, and goes in one commit when that one ends, so a slow store gets larger commits, not a
    queue of them; when the queue reaches two batches, adding waits for the commit (memory stays flat however
    fast samples come). A run killed at any moment loses at most the samples not yet committed (the batch being
    written and the ones filling), which a resume samples again; a commit is one transaction, so none is
    stored twice.

    When the store cannot take a batch (a full disk), that error is raised by the next ``add`` or ``flush``,
    or on leaving the ``async with`` block, and says how to finish the run. The store's connection is shared
    with the loop's thread, which only reads from it while the writer is open (the cache)."""

    def __init__(self, store: Store, run_id: str, batch_size: int = 500, interval: float = 0.5) -> None:
        self._store = store
        self._run_id = run_id
        self._batch_size = batch_size
        self._interval = interval
        self._samples: list[Sample] = []
        self._cache: list[tuple[str, ModelResponse]] = []
        self._oldest = 0.0
        self._timer: asyncio.Task[None] | None = None
        self._failure: StoreError | None = None
        self._thread: ThreadPoolExecutor | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._commit: Future[int] | None = None
        self.written = 0

    def add(self, sample: Sample, cache_entries: Iterable[tuple[str, ModelResponse]] = ()) -> None:
        """Queue one finished sample (and the new cache entries drawing it made); starts a commit when the
        batch is full."""
        self._raise_failure()
        if not self._samples:
            self._oldest = time.monotonic()
        self._samples.append(sample)
        self._cache.extend(cache_entries)
        if len(self._samples) >= self._batch_size:
            if self._thread is not None:
                self._start_commit()
            else:  # outside ``async with``: no thread, commit here
                self.flush()

    def flush(self) -> None:
        """Commit everything queued, and wait for it (and for a commit under way)."""
        self._collect(wait=True)
        self._raise_failure()
        samples, cache = self._take()
        self.written += self._write(samples, cache)

    def _take(self) -> tuple[list[Sample], list[tuple[str, ModelResponse]]]:
        samples, self._samples = self._samples, []
        cache, self._cache = self._cache, []
        return samples, cache

    def _start_commit(self) -> None:
        """Hand what is queued to the writer's thread, unless a commit is under way (then it takes this batch,
        grown, when it ends) or the writer is closing (its exit commits the rest)."""
        if self._thread is None:
            return
        # When the store falls behind (samples come faster than it commits them), wait for it here, so that
        # memory stays flat however long the run.
        self._collect(wait=len(self._samples) >= _BACKLOG * self._batch_size)
        if self._commit is not None or self._failure is not None or not (self._samples or self._cache):
            return
        samples, cache = self._take()
        self._commit = self._thread.submit(self._write, samples, cache)
        self._commit.add_done_callback(self._commit_ended)

    def _commit_ended(self, commit: Future[int]) -> None:
        """On the writer's thread: a full batch that filled meanwhile is committed next, from the loop."""
        if self._loop is not None and len(self._samples) >= self._batch_size:
            with contextlib.suppress(RuntimeError):  # the loop has closed: the exit's flush takes the rest
                self._loop.call_soon_threadsafe(self._start_commit)

    def _collect(self, *, wait: bool = False) -> None:
        """Count the samples of the commit under way once it has ended (``wait``: wait for it to end). A
        failed commit's error is already kept in ``_failure`` by ``_write``."""
        commit = self._commit
        if commit is None or not (wait or commit.done()):
            return
        self._commit = None
        with contextlib.suppress(StoreError):
            self.written += commit.result()

    def _raise_failure(self) -> None:
        self._collect()
        if self._failure is not None:
            raise self._failure

    def _write(self, samples: list[Sample], cache: list[tuple[str, ModelResponse]]) -> int:
        """Commit one batch (on whichever thread calls it); returns the samples written."""
        try:
            if cache:
                self._store.cache.put_many(cache)
            return self._store.samples.write(self._run_id, samples) if samples else 0
        except DiskError as exc:
            self._failure = DiskError(f"{exc}; {self._how_to_finish()}")
            raise self._failure from None
        except StoreError as exc:
            self._failure = exc
            raise

    def _how_to_finish(self) -> str:
        try:
            run = self._store.runs.get(self._run_id)
        except StoreError:
            return f"finish the run with: mendoza run --resume {self._run_id}"
        return (
            f"{run.done_samples} of {run.expected_samples} samples are stored; finish the run with: "
            f"mendoza run --resume {run.id}"
        )

    async def __aenter__(self) -> SampleWriter:
        self._loop = asyncio.get_running_loop()
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mendoza-writer")
        self._timer = asyncio.create_task(self._flush_periodically())
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        if self._timer is not None:
            self._timer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._timer
        thread, self._thread = self._thread, None
        self._loop = None
        if thread is not None:
            # Let the commit under way end (it ends whatever happens; cancelling this wait would not stop it).
            if self._commit is not None:
                with contextlib.suppress(BaseException):
                    await asyncio.shield(asyncio.wrap_future(self._commit))
            thread.shutdown(wait=True)
        try:
            self.flush()
        except StoreError:
            if exc is None:
                raise
            # Already on the way out with an error (the store's own, or an interruption): that one is reported.

    async def _flush_periodically(self) -> None:
        while True:
            await asyncio.sleep(self._interval / 2)
            if self._samples and time.monotonic() - self._oldest >= self._interval:
                self._start_commit()
