"""A small, real OpenAI-compatible HTTP server on loopback, for tests and benchmarks.

It serves ``POST /v1/chat/completions`` (echoes the last user message) and ``POST /v1/completions`` (echoes
the prompt) with usage counted in words, after a configurable fixed ``latency``. Scripted failures are queued
with ``fail_next`` and served to the next requests, in order, before normal answers resume::

    async with FakeOpenAIServer(latency=0.01) as server:        # on the running loop
        server.fail_next("rate_limit", times=2, retry_after="1")
        client = AsyncOpenAI(base_url=server.url, api_key="x")

    with FakeOpenAIServer() as server:                          # on its own thread and loop
        ...

    with fake_openai_server_process(latency=0.1) as url:        # in its own process (for benchmarks)
        ...

Failure kinds: ``rate_limit`` (429 with ``Retry-After``), ``server_error`` (500), ``bad_request`` (400 with an
OpenAI-style error JSON), ``invalid_json`` (200 with a body that is not JSON), ``no_choices`` (200, valid JSON
without ``choices``), ``null_text`` (200, one choice whose text is null), and three transport faults:
``close_mid_body`` (200 with a ``Content-Length`` the body never reaches: the connection closes after a few
bytes), ``broken_chunked`` (200, chunked, then a chunk header that is not hex), ``disconnect`` (the connection
closes before any answer). Every request body is recorded in
``requests`` (with ``path`` and ``authorization`` added), and ``count`` counts requests.

The chat endpoint answers the last user message of ``messages``, so a scripted conversation is answered turn
by turn (``reply`` changes the text: ``reply=lambda body: f"you said: {last_user(body)}"``). Tool calls (the
answer's ``message.tool_calls``: ``id``, ``type: function``, ``function.name`` and ``function.arguments`` as
JSON text, ``finish_reason: tool_calls``) come three ways, the first that applies wins:

- ``call_tools_next(calls, times=1, content=None)`` queues answers with exactly these calls (served after any
  queued failure): each call a dict of ``name``, ``arguments`` (text is sent as it is, so bad JSON can be
  scripted; anything else as JSON) and ``id`` (default ``call_<request>_<i>``); a key left out is left out
  of the answer (a call without a name), and a call that is not a dict is sent as it is;
- ``call_tools=<function of the request body>`` returns the calls to make for that request (None or ``[]``:
  answer with text);
- ``call_tools=True``: a request that offers ``tools`` gets a call of the first one, with every required
  property of its parameters set to the last user message.

With tool calls the content is ``reply(body)`` when a ``reply`` is set, else null (the model only called tools).

The server is an aiohttp application with no per-request work beyond one JSON parse and one dump, so one
thread serves thousands of requests a second; latency is an ``asyncio.sleep``, which costs nothing while it
waits.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from aiohttp import web

__all__ = ["FAILURE_KINDS", "FakeOpenAIServer", "fake_openai_server_process", "last_user"]

FAILURE_KINDS = (
    "rate_limit",
    "server_error",
    "bad_request",
    "invalid_json",
    "no_choices",
    "null_text",
    "close_mid_body",
    "broken_chunked",
    "disconnect",
)
_TRANSPORT_FAULTS = ("close_mid_body", "broken_chunked", "disconnect")


ToolCalls = list[Any]
"""Tool calls to answer with, as ``call_tools_next`` takes them."""


def last_user(body: dict[str, Any]) -> str:
    """The content of the last user message of a chat request body ("" when there is none)."""
    messages = body.get("messages")
    users = [m.get("content") for m in messages or () if isinstance(m, dict) and m.get("role") == "user"]
    return str(users[-1]) if users else ""


@dataclass(frozen=True)
class _Failure:
    kind: str
    retry_after: str | None
    message: str
    status: int | None


class FakeOpenAIServer:
    """An OpenAI-compatible server on ``127.0.0.1`` and a random free port; ``url`` is its ``/v1`` base URL.

    ``latency`` (seconds) is added to every request; ``reply`` (optional) turns a request body into the text
    to answer instead of the echo; ``call_tools`` (optional) makes chat answers call tools (see the module
    docstring); ``record`` keeps every request body in ``requests``.
    """

    def __init__(
        self,
        latency: float = 0.0,
        *,
        reply: Callable[[dict[str, Any]], str] | None = None,
        call_tools: bool | Callable[[dict[str, Any]], ToolCalls | None] = False,
        record: bool = True,
    ) -> None:
        self.latency = latency
        self.reply = reply
        self.call_tools = call_tools
        self.record = record
        self.requests: list[dict[str, Any]] = []
        self.count = 0
        self.port = 0
        self._failures: collections.deque[_Failure] = collections.deque()
        self._tool_answers: collections.deque[tuple[ToolCalls, str | None]] = collections.deque()
        self._answers = 0  # chat answers given, for unique tool call ids
        self._lock = threading.Lock()
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def url(self) -> str:
        """The base URL to give an OpenAI client (``http://127.0.0.1:PORT/v1``)."""
        if not self.port:
            raise RuntimeError("the fake OpenAI server is not started")
        return f"http://127.0.0.1:{self.port}/v1"

    # -- scripting -----------------------------------------------------------------------------------------

    def fail_next(
        self,
        kind: str,
        times: int = 1,
        *,
        retry_after: str | None = None,
        message: str | None = None,
        status: int | None = None,
    ) -> None:
        """Answer the next ``times`` requests with failure ``kind`` (see the module docstring).

        ``retry_after`` is the raw ``Retry-After`` header of a ``rate_limit`` (seconds or an HTTP date);
        ``message`` the error message of an HTTP error; ``status`` overrides the HTTP status of one.
        """
        if kind not in FAILURE_KINDS:
            raise ValueError(f"unknown failure kind {kind!r} (known: {', '.join(FAILURE_KINDS)})")
        failure = _Failure(kind, retry_after, message or f"scripted {kind}", status)
        with self._lock:
            self._failures.extend([failure] * times)

    def call_tools_next(self, calls: ToolCalls, times: int = 1, *, content: str | None = None) -> None:
        """Answer the next ``times`` chat requests (after any queued failure) with these tool calls and
        ``content`` (see the module docstring)."""
        with self._lock:
            self._tool_answers.extend([(list(calls), content)] * times)

    def clear(self) -> None:
        """Forget queued failures and tool calls, and recorded requests."""
        with self._lock:
            self._failures.clear()
            self._tool_answers.clear()
            self.requests.clear()
            self.count = 0

    # -- serving -------------------------------------------------------------------------------------------

    def _app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_post("/v1/completions", self._completions)
        return app

    async def _read(self, request: web.Request) -> tuple[dict[str, Any] | None, _Failure | None]:
        try:
            body = json.loads(await request.read())
        except ValueError:
            body = None
        with self._lock:
            self.count += 1
            failure = self._failures.popleft() if self._failures else None
            if self.record and isinstance(body, dict):
                self.requests.append(
                    {**body, "path": request.path, "authorization": request.headers.get("Authorization")}
                )
        if self.latency:
            await asyncio.sleep(self.latency)
        return (body if isinstance(body, dict) else None), failure

    @staticmethod
    def _error(status: int, message: str, kind: str, headers: dict[str, str] | None = None) -> web.Response:
        payload = {"error": {"message": message, "type": kind, "param": None, "code": None}}
        return web.json_response(payload, status=status, headers=headers)

    @staticmethod
    async def _transport_fault(kind: str, request: web.Request) -> web.StreamResponse:
        transport = request.transport
        if kind == "disconnect" or transport is None:
            if transport is not None:
                transport.close()
            return web.Response()
        response = web.StreamResponse(status=200, headers={"Content-Type": "application/json"})
        if kind == "close_mid_body":
            response.content_length = 1000
        else:
            response.enable_chunked_encoding()
        await response.prepare(request)
        await response.write(b'{"id": "cmpl-fake", "choices": [')
        if kind == "broken_chunked":
            transport.write(b"zz-not-hex\r\n\r\n")
        transport.close()
        return response

    def _failure_response(self, failure: _Failure, api: str) -> web.Response:
        kind = failure.kind
        if kind == "rate_limit":
            headers = {"Retry-After": failure.retry_after} if failure.retry_after is not None else {}
            return self._error(failure.status or 429, failure.message, "rate_limit_error", headers)
        if kind == "server_error":
            return self._error(failure.status or 500, failure.message, "server_error")
        if kind == "bad_request":
            return self._error(failure.status or 400, failure.message, "invalid_request_error")
        if kind == "invalid_json":
            return web.Response(text="<html>this is not JSON", content_type="application/json")
        if kind == "no_choices":
            return web.json_response({"id": "cmpl-garbage", "object": "nothing", "created": int(time.time())})
        choice: dict[str, Any] = {"index": 0, "finish_reason": "stop", "logprobs": None}
        if api == "chat":
            choice["message"] = {"role": "assistant", "content": None}
        else:
            choice["text"] = None
        return web.json_response(self._envelope(api, "fake", choice, 0, 0))

    @staticmethod
    def _envelope(
        api: str, model: str, choice: dict[str, Any], tokens_in: int, tokens_out: int
    ) -> dict[str, Any]:
        return {
            "id": "cmpl-fake",
            "object": "chat.completion" if api == "chat" else "text_completion",
            "created": int(time.time()),
            "model": model,
            "choices": [choice],
            "usage": {
                "prompt_tokens": tokens_in,
                "completion_tokens": tokens_out,
                "total_tokens": tokens_in + tokens_out,
            },
        }

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        body, failure = await self._read(request)
        if failure is not None and failure.kind in _TRANSPORT_FAULTS:
            return await self._transport_fault(failure.kind, request)
        if failure is not None:
            return self._failure_response(failure, "chat")
        if body is None or not isinstance(body.get("messages"), list):
            return self._error(400, "'messages' is required", "invalid_request_error")
        messages = body["messages"]
        calls, scripted_content = self._tool_calls(body)
        text: str | None = self.reply(body) if self.reply else last_user(body)
        if calls:
            text = scripted_content if scripted_content is not None else (self.reply(body) if self.reply else None)
        tokens_in = sum(len(str(m.get("content", "")).split()) for m in messages if isinstance(m, dict))
        message: dict[str, Any] = {"role": "assistant", "content": text}
        if calls:
            message["tool_calls"] = calls
        choice = {
            "index": 0,
            "message": message,
            "finish_reason": "tool_calls" if calls else "stop",
            "logprobs": None,
        }
        tokens_out = len((text or "").split()) + (len(json.dumps(calls).split()) if calls else 0)
        return web.json_response(self._envelope("chat", str(body.get("model")), choice, tokens_in, tokens_out))

    def _tool_calls(self, body: dict[str, Any]) -> tuple[list[Any], str | None]:
        """The tool calls to answer ``body`` with, in the answer's shape, and a scripted content (if any)."""
        with self._lock:
            scripted = self._tool_answers.popleft() if self._tool_answers else None
            self._answers += 1
            number = self._answers
        if scripted is not None:
            wanted, content = scripted
        elif callable(self.call_tools):
            wanted, content = self.call_tools(body) or [], None
        elif self.call_tools:
            wanted, content = self._first_tool_call(body), None
        else:
            return [], None
        return [self._shaped(call, f"call_{number}_{index}") for index, call in enumerate(wanted)], content

    @staticmethod
    def _first_tool_call(body: dict[str, Any]) -> ToolCalls:
        """A call of the first tool a request offers, its required properties set to the last user message."""
        tools = body.get("tools")
        if not isinstance(tools, list) or not tools or not isinstance(tools[0], dict):
            return []
        function = tools[0].get("function") or {}
        parameters = function.get("parameters") or {}
        required = parameters.get("required") or []
        said = last_user(body)
        return [{"name": function.get("name"), "arguments": {str(key): said for key in required}}]

    @staticmethod
    def _shaped(call: Any, default_id: str) -> Any:
        """One call in the chat API's shape (a call that is not a dict is sent as it is)."""
        if not isinstance(call, dict):
            return call
        function: dict[str, Any] = {}
        if "name" in call:
            function["name"] = call["name"]
        if "arguments" in call:
            arguments = call["arguments"]
            function["arguments"] = arguments if isinstance(arguments, str) else json.dumps(arguments)
        return {"id": call.get("id", default_id), "type": "function", "function": function}

    async def _completions(self, request: web.Request) -> web.StreamResponse:
        body, failure = await self._read(request)
        if failure is not None and failure.kind in _TRANSPORT_FAULTS:
            return await self._transport_fault(failure.kind, request)
        if failure is not None:
            return self._failure_response(failure, "completions")
        if body is None or "prompt" not in body:
            return self._error(400, "'prompt' is required", "invalid_request_error")
        prompt = body["prompt"]
        prompt = str(prompt[0] if isinstance(prompt, list) and prompt else prompt)
        text = self.reply(body) if self.reply else prompt
        choice = {"index": 0, "text": text, "finish_reason": "length", "logprobs": None}
        return web.json_response(
            self._envelope(
                "completions", str(body.get("model")), choice, len(prompt.split()), len(text.split())
            )
        )

    # -- lifecycle on the running loop ---------------------------------------------------------------------

    async def astart(self) -> FakeOpenAIServer:
        """Start serving on the running event loop."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        self._runner = web.AppRunner(self._app(), access_log=None, handle_signals=False, shutdown_timeout=0.5)
        await self._runner.setup()
        await web.SockSite(self._runner, sock, backlog=1024).start()
        return self

    async def astop(self) -> None:
        """Stop serving and close the port."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeOpenAIServer:
        return await self.astart()

    async def __aexit__(self, *exc: object) -> None:
        await self.astop()

    # -- lifecycle on a background thread ------------------------------------------------------------------

    def start(self) -> FakeOpenAIServer:
        """Start serving from a background thread with its own event loop (for sync code and other loops)."""
        if self._thread is not None:
            raise RuntimeError("the fake OpenAI server is already started")
        started = threading.Event()
        errors: list[BaseException] = []

        def serve() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                loop.run_until_complete(self.astart())
            except BaseException as exc:  # reported to the caller of start()
                errors.append(exc)
                started.set()
                loop.close()
                return
            started.set()
            loop.run_forever()
            loop.run_until_complete(self.astop())
            loop.close()

        self._thread = threading.Thread(target=serve, name="fake-openai-server", daemon=True)
        self._thread.start()
        started.wait(10)
        if errors:
            self._thread = None
            raise errors[0]
        return self

    def stop(self) -> None:
        """Stop the background server and join its thread."""
        if self._thread is None or self._loop is None:
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._thread = None
        self._loop = None

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextlib.contextmanager
def fake_openai_server_process(latency: float = 0.0) -> Iterator[str]:
    """Run a server in a child process and yield its base URL: for benchmarks, so that the server does not
    share the interpreter lock with the client it serves (no scripting or recording there)."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
    command = [sys.executable, "-m", "tests.support.fake_openai_server", "--latency", str(latency)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env, cwd=root)
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        if not url.startswith("http://"):
            raise RuntimeError("the fake OpenAI server process did not start")
        yield url
    finally:
        process.terminate()
        process.wait(10)


def main() -> None:
    """Serve until interrupted, printing the base URL on the first line (``--latency`` in seconds)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--latency", type=float, default=0.0)
    arguments = parser.parse_args()

    async def serve() -> None:
        async with FakeOpenAIServer(latency=arguments.latency, record=False) as server:
            print(server.url, flush=True)
            await asyncio.Event().wait()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())


if __name__ == "__main__":
    main()
