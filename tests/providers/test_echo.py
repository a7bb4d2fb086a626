"""The echo provider: the input back, as cheaply as possible."""

from __future__ import annotations

import asyncio
import json
import time

from mendoza.core import Message, ModelRequest, Pricing, Variant
from mendoza.providers.echo import EchoProvider


def test_echoes_the_prompt_with_word_counts() -> None:
    provider = EchoProvider(Variant(id="v", model="echo", pricing=Pricing(input=1.0, output=1.0)))
    response = asyncio.run(provider.complete(ModelRequest("one two  three", {"a": 1}, {}, seed=0)))
    assert response.text == "one two  three"
    assert (response.tokens_in, response.tokens_out) == (3, 3)
    assert response.cost == 6 / 1e6


def test_without_a_prompt_echoes_the_vars_as_json() -> None:
    provider = EchoProvider(Variant(id="v", model="echo"))
    variables = {"question": "héllo", "n": 2, "case_id": "c1"}
    response = asyncio.run(provider.complete(ModelRequest(None, variables, {}, seed=0)))
    assert json.loads(response.text) == variables
    assert "héllo" in response.text and response.cost is None


def test_is_not_cached_and_is_cheap() -> None:
    provider = EchoProvider(Variant(id="v", model="echo"))
    assert provider.cacheable is False and provider.default_concurrency >= 10_000
    request = ModelRequest("a short prompt", {}, {}, seed=0)

    async def many() -> float:
        start = time.perf_counter()
        for _ in range(20_000):
            await provider.complete(request)
        return time.perf_counter() - start

    # tens of thousands of calls a second even on a slow machine (it is ~1 µs a call)
    assert asyncio.run(many()) < 1.0


def test_in_a_conversation_answers_the_last_user_turn() -> None:
    provider = EchoProvider(Variant(id="v", model="echo"))
    messages = (
        Message(role="system", content="be kind"),
        Message(role="user", content="first question"),
        Message(role="assistant", content="first question"),
        Message(role="user", content="and a second one"),
    )
    request = ModelRequest("the prompt", {"a": 1}, {}, seed=0, messages=messages)
    response = asyncio.run(provider.complete(request))
    assert response.text == "and a second one" and (response.tokens_in, response.tokens_out) == (4, 4)
    # no user turn: the prompt, as without messages
    only_system = ModelRequest("the prompt", {}, {}, seed=0, messages=messages[:1])
    assert asyncio.run(provider.complete(only_system)).text == "the prompt"
