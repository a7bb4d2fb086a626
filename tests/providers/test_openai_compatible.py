"""The OpenAI-compatible provider against a real HTTP server on loopback."""

from __future__ import annotations

import asyncio
import email.utils
import socket
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from mendoza.core import ModelRequest, Pricing, Variant
from mendoza.errors import ProviderError
from mendoza.providers.openai_compatible import (
    LOCAL_PLACEHOLDER_KEY,
    OpenAIProvider,
    is_loopback,
    retry_after_seconds,
)
from tests.support.fake_openai_server import FakeOpenAIServer
from tests.support.fixtures import fake_openai_server  # noqa: F401 - a fixture used below

SECRET = "sk-mendoza-TESTKEY-8f3a9c1d2e"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "MY_GATEWAY_KEY"):
        monkeypatch.delenv(name, raising=False)


def _request(
    prompt: str | None = "say hello",
    seed: int = 7,
    system: str | None = None,
    params: dict[str, Any] | None = None,
    **more_params: Any,
) -> ModelRequest:
    merged = {**(params or {}), **more_params}
    return ModelRequest(prompt=prompt, vars={"case_id": "c1"}, params=merged, seed=seed, system=system)


def _with_server(body: Callable[[FakeOpenAIServer], Awaitable[None]], latency: float = 0.0) -> None:
    async def main() -> None:
        async with FakeOpenAIServer(latency=latency) as server:
            await body(server)

    asyncio.run(main())


async def _call(server: FakeOpenAIServer, request: ModelRequest, **variant: Any) -> Any:
    provider = OpenAIProvider(Variant(id="v", model="openai/test-model", base_url=server.url, **variant))
    try:
        return await provider.complete(request)
    finally:
        await provider.aclose()


async def _error(server: FakeOpenAIServer, request: ModelRequest, **variant: Any) -> ProviderError:
    with pytest.raises(ProviderError) as info:
        await _call(server, request, **variant)
    return info.value


def test_chat_returns_text_usage_cost_and_sends_seed_system_and_params() -> None:
    async def body(server: FakeOpenAIServer) -> None:
        request = _request(
            "what is two plus two", seed=1234, system="be brief", temperature=0.2, max_tokens=5, top_k=40
        )
        response = await _call(server, request, pricing=Pricing(input=1.0, output=2.0))
        assert response.text == "what is two plus two"
        assert (response.tokens_in, response.tokens_out) == (7, 5)
        assert response.cost == pytest.approx((7 * 1.0 + 5 * 2.0) / 1e6)
        assert response.finish_reason == "stop"
        sent = server.requests[-1]
        assert sent["path"] == "/v1/chat/completions"
        assert sent["model"] == "test-model"
        assert sent["messages"] == [
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": "what is two plus two"},
        ]
        assert sent["seed"] == 1234
        assert (sent["temperature"], sent["max_tokens"]) == (0.2, 5)
        assert sent["top_k"] == 40  # an unknown key reaches the server as it is
        assert "api" not in sent and "stream" not in sent

    _with_server(body)


def test_completions_api_for_base_models() -> None:
    async def body(server: FakeOpenAIServer) -> None:
        response = await _call(server, _request("Q: 2+2?\nA:", seed=3, api="completions", stop=["\n"], foo=1))
        assert response.text == "Q: 2+2?\nA:"
        assert response.tokens_in == 3 and response.finish_reason == "length"
        sent = server.requests[-1]
        assert sent["path"] == "/v1/completions"
        assert (sent["prompt"], sent["seed"], sent["stop"], sent["foo"]) == ("Q: 2+2?\nA:", 3, ["\n"], 1)
        assert "messages" not in sent

    _with_server(body)


def test_seed_can_be_fixed_or_left_out_and_no_system_message_by_default() -> None:
    async def body(server: FakeOpenAIServer) -> None:
        await _call(server, _request(seed=5, params={"seed": None}))
        assert "seed" not in server.requests[-1]
        assert [m["role"] for m in server.requests[-1]["messages"]] == ["user"]
        await _call(server, _request(seed=5, params={"seed": 42}))
        assert server.requests[-1]["seed"] == 42

    _with_server(body)


def test_rate_limit_is_retryable_with_the_servers_delay() -> None:
    async def body(server: FakeOpenAIServer) -> None:
        server.fail_next("rate_limit", retry_after="3", message="slow down")
        error = await _error(server, _request())
        assert error.retryable and error.retry_after == 3.0
        assert "429" in str(error) and "slow down" in str(error)
        assert (await _call(server, _request())).text == "say hello"  # the next request goes through

    _with_server(body)


def test_server_errors_and_connection_failures_are_retryable() -> None:
    async def body(server: FakeOpenAIServer) -> None:
        server.fail_next("server_error", message="boom")
        error = await _error(server, _request())
        assert error.retryable and "500" in str(error) and "boom" in str(error)
        server.fail_next("server_error", status=503)
        assert (await _error(server, _request())).retryable

    _with_server(body)

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]

    async def refused() -> None:
        provider = OpenAIProvider(
            Variant(id="v", model="openai/m", base_url=f"http://127.0.0.1:{closed_port}/v1")
        )
        with pytest.raises(ProviderError) as info:
            await provider.complete(_request())
        await provider.aclose()
        assert info.value.retryable and "cannot connect" in str(info.value)

    asyncio.run(refused())


def test_bad_request_is_not_retryable_and_says_what_the_server_said() -> None:
    async def body(server: FakeOpenAIServer) -> None:
        server.fail_next("bad_request", message="max_tokens is too large:\n  99999 > 4096")
        error = await _error(server, _request())
        assert not error.retryable and error.retry_after is None
        assert str(error) == "openai model 'test-model': HTTP 400: max_tokens is too large: 99999 > 4096"

    _with_server(body)


@pytest.mark.parametrize("kind", ["no_choices", "null_text", "invalid_json"])
def test_garbage_responses_are_not_retryable(kind: str) -> None:
    async def body(server: FakeOpenAIServer) -> None:
        server.fail_next(kind)
        error = await _error(server, _request())
        assert not error.retryable and "returned no text" in str(error)
        assert ("not JSON" in str(error)) is (kind == "invalid_json")

    _with_server(body)


def test_missing_key_for_a_remote_url_fails_at_set_up_and_names_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("MY_GATEWAY_KEY", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with pytest.raises(ProviderError) as info:
        OpenAIProvider(
            Variant(
                id="v", model="openai/m", base_url="https://api.example.com/v1", api_key_env="MY_GATEWAY_KEY"
            )
        )
    assert not info.value.retryable
    assert "MY_GATEWAY_KEY" in str(info.value) and "https://api.example.com/v1" in str(info.value)
    with pytest.raises(ProviderError, match="OPENAI_API_KEY"):
        OpenAIProvider(Variant(id="v", model="openai/gpt-4o-mini"))


def test_loopback_needs_no_key_and_a_set_key_is_sent(monkeypatch: pytest.MonkeyPatch) -> None:
    async def body(server: FakeOpenAIServer) -> None:
        await _call(server, _request())
        assert server.requests[-1]["authorization"] == f"Bearer {LOCAL_PLACEHOLDER_KEY}"
        monkeypatch.setenv("MY_GATEWAY_KEY", SECRET)
        await _call(server, _request(), api_key_env="MY_GATEWAY_KEY")
        assert server.requests[-1]["authorization"] == f"Bearer {SECRET}"

    _with_server(body)


def test_the_key_never_appears_in_errors_or_the_cache_identity(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)

    async def body(server: FakeOpenAIServer) -> None:
        messages: list[str] = []
        server.fail_next("bad_request", status=401, message=f"Incorrect API key provided: {SECRET}.")
        server.fail_next("rate_limit", message=f"key {SECRET} is over its quota")
        server.fail_next("server_error", message=SECRET)
        server.fail_next("invalid_json")
        for _ in range(4):
            messages.append(str(await _error(server, _request())))
        provider = OpenAIProvider(Variant(id="v", model="openai/test-model", base_url=server.url))
        await provider.complete(_request())
        identity = provider.cache_identity()
        await provider.aclose()
        assert "Incorrect API key provided: [redacted]." in messages[0]
        assert all(SECRET not in message for message in messages)
        assert SECRET not in repr(identity) and identity["base_url"] == server.url
        assert SECRET not in repr(vars(provider))

    _with_server(body)


def test_retry_after_headers() -> None:
    assert retry_after_seconds({"retry-after-ms": "1500", "retry-after": "9"}) == 1.5
    assert retry_after_seconds({"retry-after": "2.5"}) == 2.5
    assert retry_after_seconds({"retry-after": "soon"}) is None
    assert retry_after_seconds({}) is None
    in_ten_seconds = email.utils.formatdate(time.time() + 10, usegmt=True)
    assert retry_after_seconds({"retry-after": in_ten_seconds}) == pytest.approx(10, abs=1.5)
    past = email.utils.formatdate(time.time() - 100, usegmt=True)
    assert retry_after_seconds({"retry-after": past}) == 0.0


def test_loopback_detection() -> None:
    assert is_loopback("http://127.0.0.1:8080/v1") and is_loopback("http://localhost/v1")
    assert is_loopback("http://[::1]:11434/v1") and is_loopback("http://127.0.1.1/v1")
    assert not is_loopback("https://api.openai.com/v1") and not is_loopback(None)
    assert not is_loopback("http://127.0.0.1.example.com/v1")


def test_many_concurrent_calls_through_one_client(fake_openai_server: FakeOpenAIServer) -> None:  # noqa: F811
    fake_openai_server.latency = 0.05

    async def main() -> float:
        provider = OpenAIProvider(Variant(id="v", model="openai/m", base_url=fake_openai_server.url))
        start = time.perf_counter()
        responses = await asyncio.gather(*(provider.complete(_request(f"n {i}", seed=i)) for i in range(200)))
        elapsed = time.perf_counter() - start
        await provider.aclose()
        assert [r.text for r in responses] == [f"n {i}" for i in range(200)]
        return elapsed

    # 200 requests of 50 ms each, all in flight at once: far below the 10 s they would take one by one.
    assert asyncio.run(main()) < 2.0
    assert fake_openai_server.count == 200
