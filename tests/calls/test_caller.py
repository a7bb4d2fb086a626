"""The one path of every model call: the cache, the retries and the concurrency limit around a provider."""

from __future__ import annotations

import asyncio
import random
from typing import Any, ClassVar

from mendoza.calls import CallResult, ModelCaller, Provider, RetryPolicy, concurrency_limit
from mendoza.core import ModelRequest, ModelResponse, Variant
from mendoza.errors import ProviderError
from mendoza.store import Store

REQUEST = ModelRequest("hi", {}, {}, 1)


class Scripted(Provider):
    """Fails its first ``failures`` calls (retryable unless ``fatal``), then answers; counts calls in flight."""

    name: ClassVar[str] = "scripted"
    description: ClassVar[str] = "a test double"
    default_concurrency: ClassVar[int] = 500

    def __init__(self, failures: int = 0, fatal: bool = False, cacheable: bool = True) -> None:
        super().__init__(Variant(id="v", model="scripted"))
        self.failures, self.fatal, self.calls, self.active, self.most = failures, fatal, 0, 0, 0
        self.__dict__["cacheable"] = cacheable

    async def complete(self, request: ModelRequest) -> ModelResponse:
        self.calls += 1
        self.active += 1
        self.most = max(self.most, self.active)
        try:
            await asyncio.sleep(0.005)
            if self.calls <= self.failures:
                raise ProviderError("busy", retryable=not self.fatal)
            return ModelResponse(text=f"answer {self.calls}")
        finally:
            self.active -= 1


def caller(provider: Provider, limit: int = 4, retries: int = 3) -> ModelCaller:
    policy = RetryPolicy(max_retries=retries, timeout=5.0, base_delay=0.0)
    return ModelCaller(provider, policy, limit, rng=random.Random(0))


def call(model: ModelCaller, key: str | None = None, **options: Any) -> CallResult:
    return asyncio.run(model.call(REQUEST, key, **options))


def test_a_retryable_error_is_retried_and_counted() -> None:
    model = caller(Scripted(failures=2))
    result = call(model)
    assert result.response is not None and result.response.text == "answer 3"
    assert result.attempts == 3 and model.attempts == 3 and result.error is None and not result.cached


def test_an_error_that_outlasts_the_retries_is_returned_not_raised() -> None:
    model = caller(Scripted(failures=10), retries=1)
    result = call(model)
    assert result.response is None and isinstance(result.error, ProviderError) and result.attempts == 2
    fatal = caller(Scripted(failures=1, fatal=True))
    assert call(fatal).attempts == 1


def test_a_cached_answer_is_served_without_a_call(store: Store) -> None:
    model = caller(Scripted())
    model.use_cache(store.cache)
    first, again = call(model, "k"), call(model, "k")
    assert first.response == again.response and again.cached and again.attempts == 0 and model.attempts == 1
    assert call(model, None).response is not None and model.attempts == 2  # no key: no cache


def test_remember_false_hands_the_new_entry_back_instead_of_writing_it(store: Store) -> None:
    model = caller(Scripted())
    model.use_cache(store.cache)
    result = call(model, "k", remember=False)
    assert result.cache_entry is not None and result.cache_entry[0] == "k" and store.cache.get("k") is None
    assert call(model, "k2").cache_entry is None and store.cache.get("k2") is not None


def test_an_uncacheable_provider_is_never_cached(store: Store) -> None:
    model = caller(Scripted(cacheable=False))
    model.use_cache(store.cache)
    assert not model.caching
    call(model, "k")
    call(model, "k")
    assert model.attempts == 2 and store.cache.get("k") is None


def test_no_more_calls_in_flight_than_the_limit() -> None:
    provider = Scripted()
    model = caller(provider, limit=3)

    async def many() -> None:
        await asyncio.gather(*[model.call(REQUEST) for _ in range(20)])

    asyncio.run(many())
    asyncio.run(many())  # a second event loop gets a semaphore of its own
    assert provider.most == 3 and provider.calls == 40


def test_the_limit_is_what_was_asked_else_the_providers_default_up_to_a_cap() -> None:
    assert concurrency_limit(Scripted(), 7, 64) == 7
    assert concurrency_limit(Scripted(), None, 64) == 64
    assert concurrency_limit(Scripted(), None, 1000) == 500


def test_the_public_names_resolve_and_the_old_imports_still_work() -> None:
    import mendoza.calls
    import mendoza.providers
    import mendoza.providers.base
    import mendoza.runner.cache_keys
    import mendoza.runner.retry

    for name in mendoza.calls.__all__:
        assert getattr(mendoza.calls, name) is not None, name
    assert mendoza.providers.Provider is mendoza.providers.base.Provider is Provider
    assert mendoza.runner.retry.RetryPolicy is RetryPolicy
    assert mendoza.runner.cache_keys.cache_key is mendoza.calls.cache_key
