"""A lean OpenAI-compatible server with a fixed latency, for the latency-limit benchmark.

``python -m benchmarks.latency_server --latency 0.1`` serves ``POST /v1/chat/completions`` (echoes the last
user message) and ``POST /v1/completions`` (echoes the prompt) on ``127.0.0.1`` and a free port, printing its
base URL on the first line. Every answer comes ``latency`` seconds after its request has been read.

It is a bare ``asyncio.Protocol`` that speaks just enough HTTP/1.1 (keep-alive, ``Content-Length`` bodies)
for the OpenAI SDK, aiohttp and httpx clients: a request costs it a few tens of microseconds of CPU, so the
server neither limits nor delays the clients it measures (the benchmark checks this by reading its CPU time).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

__all__ = ["LatencyServer", "process_cpu_seconds", "serve_in_process"]

_MAX_HEADER = 64 * 1024


def _answer(path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    model = str(body.get("model"))
    if path.endswith("/chat/completions"):
        messages = body.get("messages")
        if not isinstance(messages, list):
            return 400, {"error": {"message": "'messages' is required", "type": "invalid_request_error"}}
        users = [m.get("content") for m in messages if isinstance(m, dict) and m.get("role") == "user"]
        text = str(users[-1]) if users else ""
        choice: dict[str, Any] = {
            "index": 0,
            "message": {"role": "assistant", "content": text},
            "finish_reason": "stop",
            "logprobs": None,
        }
        kind = "chat.completion"
    elif path.endswith("/completions"):
        prompt = body.get("prompt")
        text = str(prompt[0] if isinstance(prompt, list) and prompt else prompt)
        choice = {"index": 0, "text": text, "finish_reason": "length", "logprobs": None}
        kind = "text_completion"
    else:
        return 404, {"error": {"message": f"no route {path}", "type": "not_found"}}
    words = len(text.split())
    return 200, {
        "id": "cmpl-bench",
        "object": kind,
        "created": int(time.time()),
        "model": model,
        "choices": [choice],
        "usage": {"prompt_tokens": words, "completion_tokens": words, "total_tokens": 2 * words},
    }


_REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found"}


class _Connection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection: parse requests as bytes arrive, answer each after the latency."""

    def __init__(self, server: LatencyServer) -> None:
        self._server = server
        self._buffer = b""
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        while True:
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self._buffer) > _MAX_HEADER and self._transport is not None:
                    self._transport.close()
                return
            head = self._buffer[:end].decode("latin-1").split("\r\n")
            length = 0
            for line in head[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
            if len(self._buffer) < end + 4 + length:
                return
            body = self._buffer[end + 4 : end + 4 + length]
            self._buffer = self._buffer[end + 4 + length :]
            parts = head[0].split(" ")
            path = parts[1] if len(parts) > 1 else "/"
            self._server.requests += 1
            loop = asyncio.get_running_loop()
            loop.call_later(self._server.latency, self._respond, path, body)

    def _respond(self, path: str, raw: bytes) -> None:
        if self._transport is None:
            return
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        if isinstance(body, dict):
            status, payload = _answer(path, body)
        else:
            status, payload = 400, {"error": {"message": "the body is not a JSON object"}}
        data = json.dumps(payload, separators=(",", ":")).encode()
        head = (
            f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(data)}\r\nConnection: keep-alive\r\n\r\n"
        ).encode()
        self._transport.write(head + data)


@dataclass
class LatencyServer:
    """Serves on ``127.0.0.1:port`` (0: a free one) from the running loop; ``requests`` counts requests."""

    latency: float = 0.1
    port: int = 0
    requests: int = 0

    async def start(self) -> asyncio.Server:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: _Connection(self), "127.0.0.1", self.port, backlog=4096)
        self.port = server.sockets[0].getsockname()[1]
        return server

    @property
    def url(self) -> str:
        """The base URL to give an OpenAI client."""
        return f"http://127.0.0.1:{self.port}/v1"


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used so far (Linux ``/proc``; 0.0 elsewhere)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def serve_in_process(latency: float) -> Iterator[tuple[str, int]]:
    """Run the server in a child process (so it shares no interpreter lock with the client it serves);
    yields its base URL and process id."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    command = [sys.executable, "-m", "benchmarks.latency_server", "--latency", str(latency)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=root)
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        if not url.startswith("http://"):
            raise RuntimeError("the latency server did not start")
        yield url, process.pid
    finally:
        process.terminate()
        process.wait(10)


def main() -> None:
    """Serve until terminated, printing the base URL on the first line."""
    parser = argparse.ArgumentParser(description="A fixed-latency OpenAI-compatible server on 127.0.0.1.")
    parser.add_argument("--latency", type=float, default=0.1, help="seconds before each answer")
    parser.add_argument("--port", type=int, default=0)
    arguments = parser.parse_args()

    async def serve() -> None:
        server = LatencyServer(arguments.latency, arguments.port)
        async with await server.start():
            print(server.url, flush=True)
            await asyncio.Event().wait()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())


if __name__ == "__main__":
    main()
