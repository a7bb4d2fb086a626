"""The openai provider's own HTTP path (providers/json_http.py): headers, error bodies that are not JSON, kept-alive
connections, successive event loops; against a small aiohttp server on loopback that records what it gets."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from mendoza.core import ModelRequest, Variant
from mendoza.errors import ProviderError
from mendoza.providers.json_http import JsonHttpClient
from mendoza.providers.openai_compatible import OpenAIProvider
from tests.support.fake_openai_server import FakeOpenAIServer

SECRET = "sk-mendoza-TESTKEY-json-http-77"

Answer = Callable[[web.Request], Awaitable[web.StreamResponse]]


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID"):
        monkeypatch.delenv(name, raising=False)


class _Recorder:
    """An OpenAI-style chat endpoint that records each request's headers and the peer it came from."""

    def __init__(self, answer: Answer | None = None) -> None:
        self.headers: list[dict[str, str]] = []
        self.peers: set[object] = set()
        self._answer = answer

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.headers.append(dict(request.headers))
        self.peers.add(request.transport.get_extra_info("peername") if request.transport else None)
        if self._answer is not None:
            return await self._answer(request)
        body = await request.json()
        text = body["messages"][-1]["content"]
        return web.json_response({"choices": [{"message": {"content": text}, "finish_reason": "stop"}]})

    async def __aenter__(self) -> str:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self.handle)
        self._server = TestServer(app, host="127.0.0.1")
        await self._server.start_server()
        return str(self._server.make_url("/v1"))

    async def __aexit__(self, *exc: object) -> None:
        await self._server.close()


def _request(prompt: str = "hello", **params: Any) -> ModelRequest:
    return ModelRequest(prompt=prompt, vars={}, params=params, seed=1)


def _serve(body: Callable[[_Recorder, str], Awaitable[None]], answer: Answer | None = None) -> None:
    async def main() -> None:
        recorder = _Recorder(answer)
        async with recorder as url:
            await body(recorder, url)

    asyncio.run(main())


def test_the_key_organisation_project_and_user_agent_are_sent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    monkeypatch.setenv("OPENAI_ORG_ID", "org-123")
    monkeypatch.setenv("OPENAI_PROJECT_ID", "proj-456")

    async def body(recorder: _Recorder, url: str) -> None:
        provider = OpenAIProvider(Variant(id="v", model="openai/m", base_url=url))
        assert (await provider.complete(_request())).text == "hello"
        await provider.aclose()
        sent = recorder.headers[-1]
        assert sent["Authorization"] == f"Bearer {SECRET}"
        assert (sent["OpenAI-Organization"], sent["OpenAI-Project"]) == ("org-123", "proj-456")
        assert sent["User-Agent"].startswith("mendoza") and sent["Content-Type"] == "application/json"

    _serve(body)


@pytest.mark.parametrize(
    ("status", "text", "expected", "retryable"),
    [
        (502, "<html>\n  Bad gateway\n</html>", "HTTP 502: <html> Bad gateway </html>", True),
        (503, "", "HTTP 503: Service Unavailable", True),
        (404, "no such route", "HTTP 404: no such route", False),
    ],
)
def test_an_error_answer_that_is_not_json_says_its_text_on_one_line(
    status: int, text: str, expected: str, retryable: bool
) -> None:
    async def answer(request: web.Request) -> web.StreamResponse:
        return web.Response(status=status, text=text, content_type="text/html")

    async def body(recorder: _Recorder, url: str) -> None:
        provider = OpenAIProvider(Variant(id="v", model="openai/m", base_url=url))
        with pytest.raises(ProviderError) as info:
            await provider.complete(_request())
        await provider.aclose()
        assert str(info.value) == f"openai model 'm': {expected}"
        assert info.value.retryable is retryable

    _serve(body, answer)


def test_calls_in_flight_share_kept_alive_connections() -> None:
    async def body(recorder: _Recorder, url: str) -> None:
        provider = OpenAIProvider(Variant(id="v", model="openai/m", base_url=url, concurrency=8))
        for round_ in range(5):  # five rounds of eight calls at once: eight connections, not forty
            texts = await asyncio.gather(*(provider.complete(_request(f"{round_}-{i}")) for i in range(8)))
            assert [t.text for t in texts] == [f"{round_}-{i}" for i in range(8)]
        await provider.aclose()
        assert len(recorder.headers) == 40 and len(recorder.peers) <= 8

    _serve(body)


def test_one_provider_serves_successive_event_loops() -> None:
    with FakeOpenAIServer() as server:  # on a thread and loop of its own
        provider = OpenAIProvider(Variant(id="v", model="openai/m", base_url=server.url))
        assert asyncio.run(provider.complete(_request("first"))).text == "first"
        assert asyncio.run(provider.complete(_request("second"))).text == "second"  # a new loop, a new session
        asyncio.run(provider.aclose())
        assert server.count == 2


def test_a_body_that_cannot_be_sent_as_json_is_one_line_and_not_retried() -> None:
    async def main() -> ProviderError:
        client = JsonHttpClient("http://127.0.0.1:9/v1", {}, connections=1, label="m")
        with pytest.raises(ProviderError) as info:
            await client.post("/chat/completions", {"x": {1, 2}})
        await client.aclose()
        return info.value

    error = asyncio.run(main())
    assert not error.retryable and str(error).startswith("m: the request cannot be sent as JSON: ")
