"""One provider's calls: from the cache of model calls when it has the answer, else through the retries, at most
``limit`` at a time. The runner's workers (a variant's samples) and judges (a grader's questions) both call
their model through a ``ModelCaller``."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from mendoza.calls.provider import Provider
from mendoza.calls.retry import RetryPolicy, call_with_retries
from mendoza.core import ModelRequest, ModelResponse
from mendoza.errors import ProviderError

__all__ = ["CallResult", "ModelCache", "ModelCaller", "concurrency_limit"]


class ModelCache(Protocol):
    """Where model calls are cached: the store's cache of model calls."""

    def get(self, key: str) -> ModelResponse | None:
        """A cached response, or None."""

    def put_many(self, entries: Sequence[tuple[str, ModelResponse]]) -> None:
        """Remember responses by key."""


@dataclass(frozen=True, slots=True)
class CallResult:
    """How one call ended: a response (``cached`` when the cache had it) or the last error, the attempts it
    took (0 from the cache), and ``cache_entry``, a new response to remember under its key that the caller
    chose to write itself (``remember=False``; None otherwise)."""

    response: ModelResponse | None
    error: ProviderError | None
    attempts: int
    cached: bool = False
    cache_entry: tuple[str, ModelResponse] | None = None


def concurrency_limit(provider: Provider, asked: int | None, cap: int) -> int:
    """How many calls may be in flight at once: what the suite asked for, else the provider's default up to
    ``cap``."""
    return asked or min(provider.default_concurrency, cap)


class ModelCaller:
    """Calls one provider (see the module). ``attempts`` counts the calls that reached the provider, every
    retry included."""

    def __init__(self, provider: Provider, policy: RetryPolicy, limit: int, rng: random.Random | None = None) -> None:
        self.provider = provider
        self.policy = policy
        self.limit = limit
        self.identity: dict[str, Any] = dict(provider.cache_identity())
        self.attempts = 0
        self._rng = rng or random.Random()
        self._cache: ModelCache | None = None
        self._semaphore: asyncio.Semaphore | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def use_cache(self, cache: ModelCache | None) -> None:
        """Serve and remember calls through ``cache`` (None: call every time). A provider that is not
        ``cacheable`` (the scripted mock, unless asked) is never cached."""
        self._cache = cache if self.provider.cacheable else None

    @property
    def cache(self) -> ModelCache | None:
        """The cache calls go through (None: none)."""
        return self._cache

    @property
    def caching(self) -> bool:
        """Whether calls go through a cache (so a key is worth computing)."""
        return self._cache is not None

    def _limiter(self) -> asyncio.Semaphore:
        # One semaphore per event loop: a regrade or a test may run several loops one after the other.
        loop = asyncio.get_running_loop()
        if self._semaphore is None or self._loop is not loop:
            self._semaphore, self._loop = asyncio.Semaphore(self.limit), loop
        return self._semaphore

    def _complete(self, request: ModelRequest) -> Awaitable[ModelResponse]:
        self.attempts += 1
        return self.provider.complete(request)

    async def call(self, request: ModelRequest, key: str | None = None, *, remember: bool = True) -> CallResult:
        """The response to ``request``: the cache's under ``key`` when it has one, else the provider's, with
        the policy's timeout and retries. Never raises a provider's error (it is the result's ``error``). A
        new response is written to the cache at once, or with ``remember=False`` handed back as
        ``cache_entry`` for the caller to write (the runner writes its samples and cache entries in batches)."""
        cache = self._cache if key is not None else None
        if cache is not None and key is not None:
            cached = cache.get(key)
            if cached is not None:
                return CallResult(cached, None, 0, cached=True)
        async with self._limiter():
            outcome = await call_with_retries(lambda: self._complete(request), self.policy, rng=self._rng)
        entry = None
        if outcome.response is not None and cache is not None and key is not None:
            entry = (key, outcome.response)
            if remember:
                cache.put_many([entry])
                entry = None
        return CallResult(outcome.response, outcome.error, outcome.attempts, cache_entry=entry)

    async def aclose(self) -> None:
        """Release the provider's connections or model."""
        await self.provider.aclose()
