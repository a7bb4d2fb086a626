"""Retries with backoff and jitter, Retry-After, timeouts."""

from __future__ import annotations

import asyncio
import random

from mendoza.calls.retry import RetryPolicy, call_with_retries
from mendoza.core import ModelResponse
from mendoza.errors import ProviderError


def _scripted(failures: list[ProviderError | Exception]) -> tuple[list[int], object]:
    calls: list[int] = []

    async def call() -> ModelResponse:
        calls.append(1)
        if len(calls) <= len(failures):
            raise failures[len(calls) - 1]
        return ModelResponse("ok")

    return calls, call


def _run(call: object, policy: RetryPolicy, sleeps: list[float]) -> object:
    async def fake_sleep(seconds: float) -> None:
        sleeps.append(seconds)

    return asyncio.run(call_with_retries(call, policy, rng=random.Random(1), sleep=fake_sleep))  # type: ignore[arg-type]


def test_retryable_errors_are_retried_until_success() -> None:
    calls, call = _scripted([ProviderError("busy", retryable=True), ProviderError("busy", retryable=True)])
    sleeps: list[float] = []
    outcome = _run(call, RetryPolicy(max_retries=3), sleeps)
    assert outcome.response == ModelResponse("ok")  # type: ignore[attr-defined]
    assert outcome.attempts == 3 and len(calls) == 3  # type: ignore[attr-defined]
    assert len(sleeps) == 2


def test_non_retryable_error_stops_at_once() -> None:
    _calls, call = _scripted([ProviderError("bad request")])
    sleeps: list[float] = []
    outcome = _run(call, RetryPolicy(max_retries=5), sleeps)
    assert outcome.response is None and str(outcome.error) == "bad request"  # type: ignore[attr-defined]
    assert outcome.attempts == 1 and sleeps == []  # type: ignore[attr-defined]


def test_retries_run_out() -> None:
    calls, call = _scripted([ProviderError("busy", retryable=True)] * 10)
    sleeps: list[float] = []
    outcome = _run(call, RetryPolicy(max_retries=2), sleeps)
    assert outcome.error is not None and outcome.attempts == 3 and len(calls) == 3  # type: ignore[attr-defined]


def test_retry_after_is_honoured_exactly() -> None:
    _calls, call = _scripted(
        [
            ProviderError("slow down", retryable=True, retry_after=7.5),
            ProviderError("slow down", retryable=True, retry_after=60),
        ]
    )
    sleeps: list[float] = []
    outcome = _run(call, RetryPolicy(max_retries=3, max_retry_wait=60), sleeps)
    assert sleeps == [7.5, 60] and outcome.response == ModelResponse("ok")  # type: ignore[attr-defined]


def test_retry_after_beyond_max_retry_wait_fails_at_once_saying_so() -> None:
    calls, call = _scripted([ProviderError("HTTP 429: slow down", retryable=True, retry_after=3600)])
    sleeps: list[float] = []
    outcome = _run(call, RetryPolicy(max_retries=3, max_retry_wait=60), sleeps)
    assert sleeps == [] and len(calls) == 1
    message = str(outcome.error)  # type: ignore[attr-defined]
    assert "HTTP 429: slow down" in message and "3600s" in message and "max_retry_wait 60s" in message


def test_waits_are_reported_to_on_wait() -> None:
    changes: list[int] = []
    _calls, call = _scripted([ProviderError("busy", retryable=True, retry_after=1.0)])
    _run(call, RetryPolicy(max_retries=3, on_wait=changes.append), [])
    assert changes == [1, -1]


def test_backoff_never_exceeds_max_retry_wait() -> None:
    policy = RetryPolicy(base_delay=10.0, max_delay=30.0, max_retry_wait=2.0)
    rng = random.Random(0)
    error = ProviderError("busy", retryable=True)
    assert all(policy.delay(retry, error, rng) <= 2.0 for retry in range(8) for _ in range(50))


def test_backoff_is_exponential_with_full_jitter() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=30.0)
    rng = random.Random(3)
    error = ProviderError("busy", retryable=True)
    for retry in range(8):
        ceiling = min(30.0, 0.5 * 2**retry)
        delays = [policy.delay(retry, error, rng) for _ in range(200)]
        assert all(0 <= delay <= ceiling for delay in delays)
        assert max(delays) > 0.8 * ceiling  # jitter spreads over the whole range
        assert min(delays) < 0.2 * ceiling


def test_timeout_is_a_retryable_error() -> None:
    attempts: list[int] = []

    async def hang() -> ModelResponse:
        attempts.append(1)
        await asyncio.sleep(10)
        return ModelResponse("late")

    outcome = asyncio.run(call_with_retries(hang, RetryPolicy(max_retries=1, timeout=0.05, base_delay=0.001)))
    assert outcome.response is None and "no answer within 0.05s" in str(outcome.error)
    assert outcome.attempts == 2 and len(attempts) == 2


def test_unexpected_provider_exception_becomes_the_outcome_error() -> None:
    _calls, call = _scripted([KeyError("boom")])
    outcome = _run(call, RetryPolicy(max_retries=3), [])
    assert outcome.response is None and "KeyError" in str(outcome.error)  # type: ignore[attr-defined]
    assert outcome.attempts == 1  # type: ignore[attr-defined]
