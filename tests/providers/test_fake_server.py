"""The fake OpenAI-compatible server itself: lifecycle and scripting."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest

from tests.support.fake_openai_server import FakeOpenAIServer, fake_openai_server_process


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
