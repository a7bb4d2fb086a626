"""Batches finished samples into the store: few commits, yet nothing waits long in memory."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterable

from mendoza.core import ModelResponse, Sample
from mendoza.errors import DiskError, StoreError
from mendoza.store import Store

__all__ = ["SampleWriter"]


class SampleWriter:
    """Collects samples (and new cache entries) and commits them in batches: when ``batch_size`` are
    waiting, or ``interval`` seconds after the oldest one arrived, whichever comes first. A run killed at
    any moment loses at most the samples of one uncommitted batch, which a resume samples again.

    When the store cannot take a batch (a full disk), that error is raised by the ``add`` or ``flush`` that
    meets it, or by the next ``add`` after a timed flush met it, and says how to finish the run."""

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
        self.written = 0

    def add(self, sample: Sample, cache_entries: Iterable[tuple[str, ModelResponse]] = ()) -> None:
        """Queue one finished sample (and the new cache entries drawing it made); commits when the batch is
        full."""
        if self._failure is not None:
            raise self._failure
        if not self._samples:
            self._oldest = time.monotonic()
        self._samples.append(sample)
        self._cache.extend(cache_entries)
        if len(self._samples) >= self._batch_size:
            self.flush()

    def flush(self) -> None:
        """Commit everything queued."""
        try:
            if self._cache:
                cache, self._cache = self._cache, []
                self._store.cache.put_many(cache)
            if self._samples:
                samples, self._samples = self._samples, []
                self.written += self._store.samples.write(self._run_id, samples)
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
        self._timer = asyncio.create_task(self._flush_periodically())
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        if self._timer is not None:
            self._timer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._timer
        if self._failure is not None and exc is None:
            raise self._failure  # a timed flush failed and no sample came after to raise it
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
                try:
                    self.flush()
                except StoreError:
                    return  # kept in self._failure: the next add (or the exit) raises it
