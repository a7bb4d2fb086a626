"""Model clients for the app under test: ``mendoza.model("local/gemma-3-270m")`` (any provider id a variant's
``model`` may name).

An app calls ``complete`` (from synchronous code) or ``await acomplete`` (from async code). Each call goes
through the same path as every model call of a run (``calls.ModelCaller``): the run's cache of model calls
(keyed by the sample's seed and repeat, so repeats differ and a re-run is served from the cache), a timeout,
retries with backoff, a concurrency limit; and it is recorded as a step of kind ``llm`` with its input,
output, tokens and cost (``pricing`` when the provider does not report one). A call that fails after its
retries raises ``ProviderError`` in the app: caught, the app goes on; uncaught, the sample errors.

Outside a run (an app used in production, a notebook) the client calls the model directly, without a cache.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from mendoza.calls import ModelCaller, Provider, RetryPolicy, cache_key, concurrency_limit
from mendoza.calls.sample_context import current_sample
from mendoza.calls.tracing import step
from mendoza.core import Message, ModelRequest, Pricing, Variant
from mendoza.errors import ProviderError
from mendoza.registry import provider_class

__all__ = ["AppModel", "model"]


class AppModel:
    """One model as an app calls it (see the module). Build it with ``mendoza.model(...)``."""

    def __init__(
        self,
        model: str,
        *,
        params: Mapping[str, Any] | None = None,
        pricing: Pricing | Mapping[str, float] | None = None,
        base_url: str | None = None,
        api_key_env: str | None = None,
        timeout: float = 120.0,
        max_retries: int = 3,
        concurrency: int | None = None,
    ) -> None:
        cost = Pricing.model_validate(pricing) if isinstance(pricing, Mapping) else pricing
        self.variant = Variant(
            id=f"app-model:{model}", model=model, params=dict(params or {}), base_url=base_url,
            api_key_env=api_key_env, pricing=cost, timeout=timeout,
        )
        cls = provider_class(self.variant.provider_name)
        cls.check(self.variant)
        self.provider: Provider = cls(self.variant)
        limit = concurrency_limit(self.provider, concurrency, 64)
        self.caller = ModelCaller(self.provider, RetryPolicy(max_retries=max_retries, timeout=timeout), limit)
        self.model = model
        self._options: dict[str, Any] = {
            "pricing": cost, "base_url": base_url, "api_key_env": api_key_env, "timeout": timeout,
            "max_retries": max_retries, "concurrency": concurrency,
        }
        self._with_params: dict[str, AppModel] = {}
        self._lock = threading.Lock()

    def with_params(self, **params: Any) -> AppModel:
        """This client with ``params`` added (one client per set, made once: providers read their generation
        parameters when they are made)."""
        if not params:
            return self
        merged = {**self.variant.params, **params}
        key = repr(sorted(merged.items()))
        with self._lock:
            found = self._with_params.get(key)
            if found is None:
                found = self._with_params[key] = AppModel(self.model, params=merged, **self._options)
        return found

    async def acomplete(
        self,
        prompt: str | None = None,
        *,
        system: str | None = None,
        messages: Sequence[Mapping[str, str]] | None = None,
        name: str | None = None,
        **params: Any,
    ) -> str:
        """The model's answer to ``prompt`` (or to a chat's ``messages``: dicts of role and content), recorded
        as a step called ``name`` (default: the model id). ``params`` add to the client's (temperature,
        max_tokens, ...)."""
        if params:
            return await self.with_params(**params).acomplete(prompt, system=system, messages=messages, name=name)
        sample = current_sample()
        chat = None if messages is None else tuple(Message.model_validate(dict(message)) for message in messages)
        request = ModelRequest(
            prompt=prompt,
            vars={},
            params=self.variant.params,
            seed=sample.seed if sample is not None else 0,
            system=system,
            case_id=sample.case_id if sample is not None else "",
            repeat=sample.repeat if sample is not None else 0,
            messages=chat,
        )
        self.caller.use_cache(sample.cache if sample is not None else None)
        key = cache_key(self.caller.identity, request, request.repeat) if self.caller.caching else None
        shown_input: Any = prompt if chat is None else [message.model_dump() for message in chat]
        with step(name or self.model, kind="llm", input=shown_input) as recorded:
            recorded.set("gen_ai.request.model", self.model)
            recorded.set("gen_ai.operation.name", "chat" if chat is not None else "text_completion")
            called = await self.caller.call(request, key)
            recorded.set("mendoza.cached", called.cached)
            if called.response is None:
                error = called.error or ProviderError(f"{self.model}: no response")
                raise error
            response = called.response
            recorded.output = response.text
            recorded.tokens_in, recorded.tokens_out = response.tokens_in, response.tokens_out
            cost = response.cost
            if cost is None and self.variant.pricing is not None:
                cost = self.variant.pricing.cost(response.tokens_in, response.tokens_out)
            recorded.cost = cost
        return response.text

    def complete(
        self,
        prompt: str | None = None,
        *,
        system: str | None = None,
        messages: Sequence[Mapping[str, str]] | None = None,
        name: str | None = None,
        **params: Any,
    ) -> str:
        """``acomplete`` for synchronous code: an app run on a worker thread by mendoza calls back into the
        run's event loop; outside a run it runs its own. (From async code, ``await acomplete``.)"""
        call = self.acomplete(prompt, system=system, messages=messages, name=name, **params)
        sample = current_sample()
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is not None:
            call.close()
            raise ProviderError(f"{self.model}: complete() called from async code; use 'await model.acomplete(...)'")
        if sample is not None and sample.loop.is_running():  # the run's loop, on another thread than this one
            return asyncio.run_coroutine_threadsafe(call, sample.loop).result()
        return asyncio.run(call)


_clients: dict[tuple[str, str], AppModel] = {}
_clients_lock = threading.Lock()


def model(model: str, **options: Any) -> AppModel:
    """The client of ``model`` (``local/gemma-3-270m``, ``openai/gpt-4o-mini``, ``echo``, ...), made once per
    process and options: see ``AppModel`` for the options (params, pricing, base_url, api_key_env, timeout,
    max_retries, concurrency)."""
    key = (model, repr(sorted(options.items())))
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            client = _clients[key] = AppModel(model, **options)
        return client
