"""The OpenAI-compatible provider with conversations and tools, against the fake server on loopback: what it
sends (asserted on what the server received) and how it reads tool calls back."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from mendoza.core import Message, ModelRequest, ModelResponse, ToolSpec, Variant
from mendoza.errors import ConfigError, ProviderError
from mendoza.providers.openai_compatible import OpenAIProvider
from tests.support.fake_openai_server import FakeOpenAIServer, last_user

WEATHER = ToolSpec(
    name="get_weather",
    description="The weather in a city",
    parameters={"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)
CONVERSATION = (
    Message(role="user", content="hello"),
    Message(role="assistant", content="hi there"),
    Message(role="user", content="weather in Paris?"),
)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


def _request(
    messages: tuple[Message, ...] | None = CONVERSATION,
    tools: tuple[ToolSpec, ...] = (),
    system: str | None = None,
    prompt: str | None = None,
    **params: Any,
) -> ModelRequest:
    return ModelRequest(
        prompt=prompt, vars={}, params=params, seed=7, system=system, messages=messages, tools=tools
    )


def _serve(body: Callable[[FakeOpenAIServer], Awaitable[None]], **server: Any) -> None:
    async def main() -> None:
        async with FakeOpenAIServer(**server) as fake:
            await body(fake)

    asyncio.run(main())


async def _call(server: FakeOpenAIServer, request: ModelRequest, **variant: Any) -> ModelResponse:
    provider = OpenAIProvider(Variant(id="v", model="openai/test-model", base_url=server.url, **variant))
    try:
        return await provider.complete(request)
    finally:
        await provider.aclose()


def test_a_conversation_is_sent_as_messages_with_the_system_first() -> None:
    async def body(server: FakeOpenAIServer) -> None:
        response = await _call(server, _request(system="be brief"))
        assert response.text == "weather in Paris?" and response.steps == () and response.metadata is None
        sent = server.requests[-1]
        assert sent["messages"] == [
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": "hello"},
            {"role": "assistant", "content": "hi there"},
            {"role": "user", "content": "weather in Paris?"},
        ]
        assert "tools" not in sent
        # a conversation with a system turn of its own keeps it, and the variant's is not added
        own = (Message(role="system", content="mine"), *CONVERSATION)
        await _call(server, _request(own, system="be brief"))
        assert [m["content"] for m in server.requests[-1]["messages"]][:2] == ["mine", "hello"]

    _serve(body)


def test_tools_are_sent_as_functions_and_calls_come_back_as_steps_and_metadata() -> None:
    async def body(server: FakeOpenAIServer) -> None:
        response = await _call(server, _request(tools=(WEATHER,), tool_choice="auto"))
        sent = server.requests[-1]
        assert sent["tools"] == [
            {
                "type": "function",
                "function": {
                    "name": "get_weather",
                    "description": "The weather in a city",
                    "parameters": WEATHER.parameters,
                },
            }
        ]
        assert sent["tool_choice"] == "auto"  # params are sent as they are
        assert response.text == "" and response.finish_reason == "tool_calls"
        (step,) = response.steps
        assert (step.name, step.kind, step.input) == ("get_weather", "tool", '{"city": "weather in Paris?"}')
        assert step.span_id.startswith("call_") and step.attributes == {"gen_ai.tool.call.id": step.span_id}
        assert response.metadata == {
            "tool_calls": [{"name": "get_weather", "arguments": {"city": "weather in Paris?"}}]
        }

    _serve(body, call_tools=True)


def test_text_beside_tool_calls_and_garbage_arguments() -> None:
    async def body(server: FakeOpenAIServer) -> None:
        server.call_tools_next(
            [
                {"name": "get_weather", "arguments": '{"city":"Paris","units":"C"}', "id": "call_a"},
                {"name": "get_weather", "arguments": "{city: Paris", "id": None},
                {"name": "ping"},  # no arguments at all
            ],
            content="Let me check.",
        )
        response = await _call(server, _request(tools=(WEATHER,)))
        assert response.text == "Let me check."
        first, second, third = response.steps
        assert (first.span_id, first.input) == ("call_a", '{"city": "Paris", "units": "C"}')
        assert (second.span_id, second.input, second.attributes) == ("tool-1", "{city: Paris", None)
        assert (third.name, third.input) == ("ping", "{}")
        assert response.metadata == {
            "tool_calls": [
                {"name": "get_weather", "arguments": {"city": "Paris", "units": "C"}},
                {"name": "get_weather", "arguments": "{city: Paris"},
                {"name": "ping", "arguments": {}},
            ]
        }

    _serve(body)


@pytest.mark.parametrize(
    ("calls", "shown"),
    [
        ([{"arguments": '{"city": "Paris"}', "id": "call_x"}], '"id": "call_x"'),
        ([{"name": "", "arguments": "{}"}], '"name": ""'),
        ([{"name": 42}], '"name": 42'),
        (["not a call"], '"not a call"'),
    ],
)
def test_a_tool_call_without_a_name_is_one_line_saying_what_came(calls: list[Any], shown: str) -> None:
    async def body(server: FakeOpenAIServer) -> None:
        server.call_tools_next(calls)
        with pytest.raises(ProviderError) as info:
            await _call(server, _request(tools=(WEATHER,)))
        message = str(info.value)
        assert "tool call without a name" in message and shown in message and "\n" not in message
        assert not info.value.retryable

    _serve(body)


def test_tool_calls_that_are_not_a_list_are_one_line() -> None:
    async def body(server: FakeOpenAIServer) -> None:
        provider = OpenAIProvider(Variant(id="v", model="openai/m", base_url=server.url))
        raw = {"choices": [{"message": {"content": None, "tool_calls": {"name": "x"}}, "finish_reason": "x"}]}
        with pytest.raises(ProviderError, match=r"tool_calls that are not a list: \{\"name\": \"x\"\}"):
            provider._response(json.dumps(raw).encode(), "chat", None)
        # the older single function_call is read as one call
        legacy = {"choices": [{"message": {"function_call": {"name": "f", "arguments": "{}"}}}]}
        response = provider._response(json.dumps(legacy).encode(), "chat", None)
        assert response.text == "" and [s.name for s in response.steps] == ["f"]
        await provider.aclose()

    _serve(body)


def test_a_tools_request_answered_with_text_has_no_steps() -> None:
    async def body(server: FakeOpenAIServer) -> None:
        response = await _call(server, _request(tools=(WEATHER,)))
        assert response.text == "weather in Paris?" and response.steps == () and response.metadata is None
        assert "tools" in server.requests[-1]

    _serve(body)


def test_a_conversation_on_the_completions_endpoint_is_plain_text() -> None:
    async def body(server: FakeOpenAIServer) -> None:
        await _call(server, _request(system="S", api="completions"))
        sent = server.requests[-1]
        assert sent["path"] == "/v1/completions"
        assert sent["prompt"] == (
            "System: S\n\nUser: hello\n\nAssistant: hi there\n\nUser: weather in Paris?\n\nAssistant:"
        )
        assert sent["stop"] == ["\nUser:"]

    _serve(body)


def test_tools_need_the_chat_api_and_a_request_needs_a_prompt_or_messages() -> None:
    with pytest.raises(ConfigError, match="tools need the chat API"):
        OpenAIProvider(
            Variant(id="v", model="openai/m", base_url="http://127.0.0.1:9/v1", params={"api": "completions"},
                    tools=(WEATHER,))
        )

    async def body(server: FakeOpenAIServer) -> None:
        with pytest.raises(ProviderError, match="no prompt template"):
            await _call(server, _request(None))
        assert server.count == 0

    _serve(body)


def test_the_server_answers_each_turn_of_a_conversation_with_its_reply_hook() -> None:
    async def body(server: FakeOpenAIServer) -> None:
        history: list[Message] = []
        for said in ("one", "two", "three"):
            history.append(Message(role="user", content=said))
            response = await _call(server, _request(tuple(history)))
            history.append(Message(role="assistant", content=response.text))
        assert [m.content for m in history] == ["one", "you said: one", "two", "you said: two", "three",
                                                "you said: three"]
        assert [len(r["messages"]) for r in server.requests] == [1, 3, 5]

    _serve(body, reply=lambda body: f"you said: {last_user(body)}")
