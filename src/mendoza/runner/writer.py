"""Batches finished samples into the store: few commits, yet nothing waits long in memory."""

from __future__ import annotations

import asyncio
import contextlib
import time

from mendoza.core import ModelResponse, Sample
from mendoza.store import Store

__all__ = ["SampleWriter"]


class SampleWriter:
    """Collects samples (and new cache entries) and commits them in batches: when ``batch_size`` are
    waiting, or ``interval`` seconds after the oldest one arrived, whichever comes first. A run killed at
    any moment loses at most the samples of one uncommitted batch, which a resume samples again."""

    def __init__(self, store: Store, run_id: str, batch_size: int = 500, interval: float = 0.5) -> None:
        self._store = store
        self._run_id = run_id
        self._batch_size = batch_size
        self._interval = interval
        self._samples: list[Sample] = []
        self._cache: list[tuple[str, ModelResponse]] = []
        self._oldest = 0.0
        self._timer: asyncio.Task[None] | None = None
        self.written = 0

    def add(self, sample: Sample, cache_entry: tuple[str, ModelResponse] | None = None) -> None:
        """Queue one finished sample; commits when the batch is full."""
        if not self._samples:
            self._oldest = time.monotonic()
        self._samples.append(sample)
        if cache_entry is not None:
            self._cache.append(cache_entry)
        if len(self._samples) >= self._batch_size:
            self.flush()

    def flush(self) -> None:
        """Commit everything queued."""
        if self._cache:
            cache, self._cache = self._cache, []
            self._store.cache_put_many(cache)
        if self._samples:
            samples, self._samples = self._samples, []
            self.written += self._store.write_samples(self._run_id, samples)

    async def __aenter__(self) -> SampleWriter:
        self._timer = asyncio.create_task(self._flush_periodically())
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._timer is not None:
            self._timer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._timer
        self.flush()

    async def _flush_periodically(self) -> None:
        while True:
            await asyncio.sleep(self._interval / 2)
            if self._samples and time.monotonic() - self._oldest >= self._interval:
                self.flush()
