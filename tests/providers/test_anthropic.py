"""The Anthropic provider, with the SDK's HTTP client on a mock transport."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest

from mendoza.core import Message, ModelRequest, ModelResponse, Pricing, ToolSpec, Variant
from mendoza.errors import ProviderError
from mendoza.providers.anthropic import AnthropicProvider

try:  # the HTTP library the installed anthropic SDK is built on
    import httpx2 as httpx
except ImportError:  # pragma: no cover - older SDKs
    import httpx  # type: ignore[no-redef,import-not-found,unused-ignore]

SECRET = "sk-ant-mendoza-TESTKEY-77c1f0"
Handler = Callable[[Any], Any]


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", SECRET)
    monkeypatch.delenv("ANTHROPIC_BASE_URL", raising=False)


def _message(*texts: str) -> dict[str, Any]:
    return {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude-test",
        "content": [{"type": "text", "text": text} for text in texts],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 11, "output_tokens": 4},
    }


def _error_body(kind: str, message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": kind, "message": message}}


def _complete(handler: Handler, request: ModelRequest, **variant: Any) -> ModelResponse:
    async def main() -> ModelResponse:
        client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
        provider = AnthropicProvider(
            Variant(id="v", model="anthropic/claude-test", **variant), http_client=client
        )
        try:
            return await provider.complete(request)
        finally:
            await provider.aclose()

    return asyncio.run(main())


def _request(**params: Any) -> ModelRequest:
    return ModelRequest(prompt="Summarise this", vars={}, params=params, seed=3, system="You are terse.")


def test_success_sends_the_request_and_joins_text_blocks() -> None:
    seen: list[Any] = []

    def handler(request: Any) -> Any:
        seen.append(request)
        return httpx.Response(200, json=_message("Hello", ", world"))

    response = _complete(
        handler,
        _request(temperature=0.3, max_tokens=50, stop="END"),
        pricing=Pricing(input=3.0, output=15.0),
    )
    assert response.text == "Hello, world"
    assert (response.tokens_in, response.tokens_out, response.finish_reason) == (11, 4, "end_turn")
    assert response.cost == pytest.approx((11 * 3.0 + 4 * 15.0) / 1e6)
    (request,) = seen
    assert request.url.path == "/v1/messages"
    # the key travels as x-api-key (older SDKs) or as a bearer token (newer ones)
    assert SECRET in (request.headers.get("x-api-key") or request.headers.get("authorization", ""))
    body = json.loads(request.content)
    assert body["model"] == "claude-test" and body["max_tokens"] == 50
    assert body["messages"] == [{"role": "user", "content": "Summarise this"}]
    assert body["system"] == "You are terse."
    assert body["temperature"] == 0.3 and body["stop_sequences"] == ["END"]
    assert "seed" not in body and "stop" not in body


def test_default_max_tokens() -> None:
    bodies: list[dict[str, Any]] = []

    def handler(request: Any) -> Any:
        bodies.append(json.loads(request.content))
        return httpx.Response(200, json=_message("ok"))

    assert _complete(handler, _request()).text == "ok"
    assert bodies[0]["max_tokens"] == 1024


def test_rate_limit_is_retryable_with_retry_after() -> None:
    def handler(request: Any) -> Any:
        headers = {"retry-after": "7"}
        return httpx.Response(429, json=_error_body("rate_limit_error", "Too many requests"), headers=headers)

    with pytest.raises(ProviderError) as info:
        _complete(handler, _request())
    assert info.value.retryable and info.value.retry_after == 7.0
    assert "429" in str(info.value) and "Too many requests" in str(info.value)


def test_overloaded_529_is_retryable() -> None:
    def handler(request: Any) -> Any:
        return httpx.Response(529, json=_error_body("overloaded_error", "Overloaded"))

    with pytest.raises(ProviderError) as info:
        _complete(handler, _request())
    assert info.value.retryable and info.value.retry_after is None
    assert "529" in str(info.value) and "Overloaded" in str(info.value)


def test_bad_request_is_not_retryable_and_never_shows_the_key() -> None:
    def handler(request: Any) -> Any:
        return httpx.Response(400, json=_error_body("invalid_request_error", f"bad key {SECRET}"))

    with pytest.raises(ProviderError) as info:
        _complete(handler, _request())
    assert not info.value.retryable
    assert "400" in str(info.value) and SECRET not in str(info.value)


def test_missing_key_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    with pytest.raises(ProviderError, match="ANTHROPIC_API_KEY") as info:
        _complete(lambda request: httpx.Response(200, json=_message("x")), _request())
    assert not info.value.retryable


def test_cache_identity_has_no_key() -> None:
    provider = AnthropicProvider(Variant(id="v", model="anthropic/claude-test"))
    assert provider.cache_identity() == {"model": "anthropic/claude-test", "base_url": None}


# conversations and tools -----------------------------------------------------------------------------------

WEATHER = ToolSpec(
    name="get_weather",
    description="The weather in a city",
    parameters={"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)


def _tool_message(*blocks: dict[str, Any], stop_reason: str = "tool_use") -> dict[str, Any]:
    return {**_message(), "content": list(blocks), "stop_reason": stop_reason}


def _recording(answer: dict[str, Any], bodies: list[dict[str, Any]]) -> Handler:
    def handler(request: Any) -> Any:
        bodies.append(json.loads(request.content))
        return httpx.Response(200, json=answer)

    return handler


def _conversation(*turns: tuple[str, str], system: str | None = None, tools: tuple[ToolSpec, ...] = ()) -> ModelRequest:
    messages = tuple(Message.model_validate({"role": role, "content": content}) for role, content in turns)
    return ModelRequest(prompt=None, vars={}, params={}, seed=0, system=system, messages=messages, tools=tools)


def test_a_conversation_is_sent_as_messages_with_system_turns_as_the_system_prompt() -> None:
    bodies: list[dict[str, Any]] = []
    request = _conversation(
        ("system", "Be kind."), ("user", "hello"), ("assistant", "hi"), ("system", "Be brief."), ("user", "bye"),
        system="the variant's, unused",
    )
    response = _complete(_recording(_message("ciao"), bodies), request)
    assert response.text == "ciao" and response.steps == () and response.metadata is None
    (body,) = bodies
    assert body["system"] == "Be kind.\n\nBe brief."
    assert body["messages"] == [
        {"role": "user", "content": "hello"},
        {"role": "assistant", "content": "hi"},
        {"role": "user", "content": "bye"},
    ]
    assert "tools" not in body


def test_the_variants_system_and_no_empty_assistant_turn() -> None:
    bodies: list[dict[str, Any]] = []
    request = _conversation(("user", "a"), ("assistant", ""), ("user", "b"), system="Be terse.")
    _complete(_recording(_message("ok"), bodies), request)
    assert bodies[0]["system"] == "Be terse."
    # an answer that only called tools has no text, and the API refuses an empty text turn
    assert bodies[0]["messages"] == [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}]


def test_tools_are_sent_with_input_schemas_and_tool_use_blocks_come_back_as_steps() -> None:
    bodies: list[dict[str, Any]] = []
    answer = _tool_message(
        {"type": "text", "text": "Checking."},
        {"type": "tool_use", "id": "toolu_01", "name": "get_weather", "input": {"city": "Paris", "days": 2}},
        {"type": "tool_use", "id": "toolu_02", "name": "get_weather", "input": {}},
    )
    response = _complete(_recording(answer, bodies), _conversation(("user", "weather?"), tools=(WEATHER,)))
    assert bodies[0]["tools"] == [
        {"name": "get_weather", "description": "The weather in a city", "input_schema": WEATHER.parameters}
    ]
    assert response.text == "Checking." and response.finish_reason == "tool_use"
    first, second = response.steps
    assert (first.name, first.kind, first.span_id, first.input) == (
        "get_weather", "tool", "toolu_01", '{"city": "Paris", "days": 2}'
    )
    assert first.attributes == {"gen_ai.tool.call.id": "toolu_01"} and second.input == "{}"
    assert response.metadata == {
        "tool_calls": [
            {"name": "get_weather", "arguments": {"city": "Paris", "days": 2}},
            {"name": "get_weather", "arguments": {}},
        ]
    }


def test_only_tool_calls_give_empty_text_and_odd_input_is_kept() -> None:
    answer = _tool_message({"type": "tool_use", "id": "toolu_9", "name": "get_weather", "input": "{city: Paris"})
    response = _complete(_recording(answer, []), _conversation(("user", "weather?"), tools=(WEATHER,)))
    assert response.text == "" and response.steps[0].input == "{city: Paris"
    assert response.metadata == {"tool_calls": [{"name": "get_weather", "arguments": "{city: Paris"}]}


@pytest.mark.parametrize("block", [{"type": "tool_use", "id": "toolu_x", "input": {}},
                                   {"type": "tool_use", "id": "toolu_x", "name": None, "input": {}}])
def test_a_tool_use_without_a_name_is_one_line_saying_what_came(block: dict[str, Any]) -> None:
    with pytest.raises(ProviderError) as info:
        _complete(_recording(_tool_message(block), []), _conversation(("user", "x"), tools=(WEATHER,)))
    message = str(info.value)
    assert "tool call without a name" in message and "toolu_x" in message and "\n" not in message
    assert not info.value.retryable
