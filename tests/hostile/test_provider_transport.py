"""Hostile transports: a server that hangs up mid-body, breaks its chunked encoding, or says nothing at all.

Each must be the same kind of failure (retryable, and retried by the runner), with a message that says what
happened: not "cannot connect" (it did connect) and not "400" (no server sent a 400).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from mendoza.core import ModelRequest, Variant
from mendoza.errors import ProviderError, ProviderTimeout
from mendoza.providers.openai_compatible import OpenAIProvider
from mendoza.runner.retry import RetryPolicy, call_with_retries
from tests.support.fake_openai_server import FakeOpenAIServer

REQUEST = ModelRequest(prompt="say hello", vars={}, params={}, seed=1)


@pytest.fixture(autouse=True)
def _no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)


async def _once(server: FakeOpenAIServer, fault: str) -> ProviderError:
    server.fail_next(fault)
    provider = OpenAIProvider(Variant(id="v", model="openai/m", base_url=server.url))
    try:
        with pytest.raises(ProviderError) as info:
            await provider.complete(REQUEST)
        return info.value
    finally:
        await provider.aclose()


@pytest.mark.parametrize("fault", ["close_mid_body", "broken_chunked", "disconnect"])
def test_a_broken_answer_is_a_retryable_error_that_says_so(fault: str) -> None:
    async def main() -> ProviderError:
        async with FakeOpenAIServer() as server:
            return await _once(server, fault)

    error = asyncio.run(main())
    message = str(error)
    assert error.retryable and not isinstance(error, ProviderTimeout), message
    assert "broke before the answer was complete" in message, message
    assert "cannot connect" not in message and "400" not in message, message


@pytest.mark.parametrize("fault", ["close_mid_body", "broken_chunked", "disconnect"])
def test_the_runner_retries_a_broken_answer_and_then_succeeds(fault: str) -> None:
    async def main() -> Any:
        async with FakeOpenAIServer() as server:
            server.fail_next(fault, times=2)
            provider = OpenAIProvider(Variant(id="v", model="openai/m", base_url=server.url))
            try:
                policy = RetryPolicy(max_retries=3, base_delay=0.001)
                outcome = await call_with_retries(lambda: provider.complete(REQUEST), policy)
            finally:
                await provider.aclose()
            return outcome, server.count

    outcome, count = asyncio.run(main())
    assert outcome.error is None and outcome.response.text == "say hello"
    assert outcome.attempts == 3 and count == 3


def test_a_refused_connection_still_says_cannot_connect() -> None:
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    async def main() -> ProviderError:
        provider = OpenAIProvider(Variant(id="v", model="openai/m", base_url=f"http://127.0.0.1:{port}/v1"))
        try:
            with pytest.raises(ProviderError) as info:
                await provider.complete(REQUEST)
            return info.value
        finally:
            await provider.aclose()

    error = asyncio.run(main())
    assert error.retryable and "cannot connect to http://127.0.0.1" in str(error), str(error)
