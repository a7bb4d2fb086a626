"""The fake OpenAI-compatible server itself: lifecycle and scripting."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest

from tests.support.fake_openai_server import FakeOpenAIServer, fake_openai_server_process, last_user


def _post(url: str, body: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_thread_server_scripts_failures_in_order_then_answers() -> None:
    with FakeOpenAIServer(record=False) as server:
        chat = server.url + "/chat/completions"
        server.fail_next("rate_limit", times=2, retry_after="4")
        server.fail_next("bad_request", message="nope")
        body = {"model": "m", "messages": [{"role": "user", "content": "hi there"}]}
        first, second, third, fourth = (_post(chat, body) for _ in range(4))
        assert first[0] == second[0] == 429 and first[1]["Retry-After"] == "4"
        assert third[0] == 400 and json.loads(third[2])["error"]["message"] == "nope"
        assert fourth[0] == 200 and json.loads(fourth[2])["choices"][0]["message"]["content"] == "hi there"
        assert server.count == 4 and server.requests == []
        url = server.url
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(url + "/completions", data=b"{}", timeout=2)


def test_reply_hook_and_unknown_failure_kind() -> None:
    server = FakeOpenAIServer(reply=lambda body: f"{len(body['prompt'])} chars").start()
    try:
        status, _, raw = _post(server.url + "/completions", {"model": "m", "prompt": "abcd"})
        assert status == 200 and json.loads(raw)["choices"][0]["text"] == "4 chars"
        with pytest.raises(ValueError, match="unknown failure kind"):
            server.fail_next("teapot")
    finally:
        server.stop()


def test_server_in_a_child_process() -> None:
    with fake_openai_server_process(latency=0.0) as url:
        status, _, raw = _post(
            url + "/chat/completions", {"model": "m", "messages": [{"role": "user", "content": "x"}]}
        )
        assert status == 200 and json.loads(raw)["choices"][0]["message"]["content"] == "x"


_TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "lookup",
            "parameters": {"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]},
        },
    }
]


def _chat_message(url: str, body: dict[str, Any]) -> tuple[dict[str, Any], str]:
    status, _, raw = _post(url + "/chat/completions", body)
    assert status == 200
    choice = json.loads(raw)["choices"][0]
    return choice["message"], choice["finish_reason"]


def test_tool_calls_when_tools_are_offered() -> None:
    with FakeOpenAIServer(call_tools=True) as server:
        asked = {"model": "m", "messages": [{"role": "user", "content": "find cats"}]}
        message, finish = _chat_message(server.url, {**asked, "tools": _TOOLS})
        assert finish == "tool_calls" and message["content"] is None
        (call,) = message["tool_calls"]
        assert call["type"] == "function" and call["function"]["name"] == "lookup"
        assert json.loads(call["function"]["arguments"]) == {"q": "find cats"}
        # ids differ from request to request (a conversation's calls never share one)
        again, _ = _chat_message(server.url, {**asked, "tools": _TOOLS})
        assert again["tool_calls"][0]["id"] != call["id"]
        # no tools offered: a plain answer
        plain, finish = _chat_message(server.url, asked)
        assert plain == {"role": "assistant", "content": "find cats"} and finish == "stop"


def test_scripted_tool_calls_are_served_in_order_exactly_as_given() -> None:
    with FakeOpenAIServer(reply=lambda body: f"you said: {last_user(body)}") as server:
        server.call_tools_next([{"name": "a", "arguments": "{bad json", "id": "x1"}, {"arguments": "{}"}])
        server.call_tools_next([{"name": "b", "arguments": {"k": 1}}], content="calling b")
        asked = {"model": "m", "messages": [{"role": "user", "content": "go"}]}
        first, _ = _chat_message(server.url, asked)
        assert first["content"] == "you said: go"  # with a reply hook, the text beside the calls
        function = {"name": "a", "arguments": "{bad json"}
        assert first["tool_calls"][0] == {"id": "x1", "type": "function", "function": function}
        assert "name" not in first["tool_calls"][1]["function"]
        second, _ = _chat_message(server.url, asked)
        assert second["content"] == "calling b" and second["tool_calls"][0]["function"]["arguments"] == '{"k": 1}'
        third, finish = _chat_message(server.url, asked)
        assert third == {"role": "assistant", "content": "you said: go"} and finish == "stop"


def test_a_function_decides_the_tool_calls_per_request() -> None:
    def decide(body: dict[str, Any]) -> list[Any] | None:
        return [{"name": "weather", "arguments": {"city": "Paris"}}] if "weather" in last_user(body) else None

    with FakeOpenAIServer(call_tools=decide) as server:
        message, _ = _chat_message(server.url, {"model": "m", "messages": [{"role": "user", "content": "weather?"}]})
        assert message["tool_calls"][0]["function"]["name"] == "weather"
        message, _ = _chat_message(server.url, {"model": "m", "messages": [{"role": "user", "content": "hi"}]})
        assert "tool_calls" not in message
