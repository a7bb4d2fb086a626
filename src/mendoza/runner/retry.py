"""Timeouts and retries around one model call: exponential backoff with full jitter, honouring Retry-After."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from mendoza.core import ModelResponse
from mendoza.errors import ProviderError, ProviderTimeout

__all__ = ["CallOutcome", "RetryPolicy", "call_with_retries"]


@dataclass(frozen=True, slots=True)
class CallOutcome:
    """How a call ended: a response, or the last error; and how many attempts it took."""

    response: ModelResponse | None
    error: ProviderError | None
    attempts: int


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard to try: ``max_retries`` after the first attempt, each attempt limited to ``timeout`` seconds.

    The n-th retry waits a random time in [0, min(max_delay, base_delay * 2**n)] (full jitter, so many
    clients backing off at once do not stampede), or what the server asked for in Retry-After, whichever
    is longer (capped at ``max_retry_after``).
    """

    max_retries: int = 3
    timeout: float = 120.0
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_retry_after: float = 120.0

    def delay(self, retry: int, error: ProviderError, rng: random.Random) -> float:
        """Seconds to wait before retry number ``retry`` (0-based) after ``error``."""
        if error.retry_after is not None and error.retry_after > 0:
            return min(error.retry_after, self.max_retry_after)
        return rng.uniform(0.0, min(self.max_delay, self.base_delay * (2**retry)))


async def call_with_retries(
    call: Callable[[], Awaitable[ModelResponse]],
    policy: RetryPolicy,
    *,
    rng: random.Random | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> CallOutcome:
    """Call until it succeeds, a non-retryable error occurs, or retries run out; never raises a provider's
    error (any exception from a provider becomes the outcome's error, so one sample cannot crash a run)."""
    rng = rng or random.Random()
    attempt = 0
    while True:
        attempt += 1
        try:
            async with asyncio.timeout(policy.timeout):
                return CallOutcome(await call(), None, attempt)
        except TimeoutError:
            error: ProviderError = ProviderTimeout(f"no answer within {policy.timeout:g}s")
        except ProviderError as exc:
            error = exc
        except Exception as exc:  # a provider bug must not crash a run: it becomes this sample's error
            error = ProviderError(f"{type(exc).__name__}: {exc}")
        if not error.retryable or attempt > policy.max_retries:
            return CallOutcome(None, error, attempt)
        await sleep(policy.delay(attempt - 1, error, rng))
