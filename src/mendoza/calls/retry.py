"""Timeouts and retries around one model call: exponential backoff with full jitter, honouring Retry-After."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from mendoza.core import ModelResponse
from mendoza.errors import ProviderError, ProviderTimeout

__all__ = ["DEFAULT_MAX_RETRY_WAIT", "CallOutcome", "RetryPolicy", "call_with_retries"]

#: The longest a sample waits before one retry unless the suite says otherwise (``max_retry_wait``).
DEFAULT_MAX_RETRY_WAIT = 60.0


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
    clients backing off at once do not stampede), or what the server asked for in Retry-After. No wait is
    longer than ``max_retry_wait``: a server that asks for more (``Retry-After: 3600``) makes the sample an
    error at once, saying so, instead of holding it silently. ``on_wait`` (optional) is told ``+1`` when a
    call starts waiting to retry and ``-1`` when the wait ends (the progress bar shows how many wait).
    """

    max_retries: int = 3
    timeout: float = 120.0
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_retry_wait: float = DEFAULT_MAX_RETRY_WAIT
    on_wait: Callable[[int], None] | None = None

    def delay(self, retry: int, error: ProviderError, rng: random.Random) -> float:
        """Seconds to wait before retry number ``retry`` (0-based) after ``error`` (at most
        ``max_retry_wait``; ``too_long`` says when the server asked for more)."""
        if error.retry_after is not None and error.retry_after > 0:
            return min(error.retry_after, self.max_retry_wait)
        return rng.uniform(0.0, min(self.max_delay, self.max_retry_wait, self.base_delay * (2**retry)))

    def too_long(self, error: ProviderError) -> bool:
        """Whether the server asked to wait longer than ``max_retry_wait`` before trying again."""
        return error.retry_after is not None and error.retry_after > self.max_retry_wait


def _gave_up(error: ProviderError, policy: RetryPolicy) -> ProviderError:
    asked = error.retry_after or 0.0
    return ProviderError(
        f"{error} (the server asks to wait {asked:.0f}s before trying again, more than max_retry_wait "
        f"{policy.max_retry_wait:g}s: not retried)"
    )


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
        if policy.too_long(error):
            return CallOutcome(None, _gave_up(error, policy), attempt)
        if policy.on_wait is not None:
            policy.on_wait(1)
        try:
            await sleep(policy.delay(attempt - 1, error, rng))
        finally:
            if policy.on_wait is not None:
                policy.on_wait(-1)
