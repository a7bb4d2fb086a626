"""Any OpenAI-compatible endpoint (OpenAI, vLLM, llama.cpp server, Ollama, LM Studio...) over its HTTP API.

The requests go through ``json_http.JsonHttpClient`` (aiohttp), not the ``openai`` SDK: the wire format is a
JSON body in and a JSON body out, and the SDK's typed request path cost half of the event loop at a few
hundred calls a second. What the SDK did that matters is here: the key as a bearer token (with
``OPENAI_ORG_ID`` and ``OPENAI_PROJECT_ID`` as their headers), its retry rules (408, 409, 429 and 5xx
retryable unless ``x-should-retry`` says otherwise, ``Retry-After`` honoured) and one-line errors.

Also home of the small helpers that ``anthropic.py`` shares: API key lookup, ``Retry-After`` parsing and
one-line messages for HTTP errors.
"""

from __future__ import annotations

import email.utils
import http
import importlib.metadata
import ipaddress
import json
import os
import time
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import urlsplit

from mendoza.core import ModelRequest, ModelResponse, ToolSpec, Variant
from mendoza.errors import ConfigError, ProviderError
from mendoza.providers.base import JudgeStyle, Provider
from mendoza.providers.chat import (
    PLAIN_TEXT_STOP,
    ToolCall,
    chat_turns,
    plain_text,
    tool_call_steps,
    tool_calls_metadata,
)
from mendoza.providers.json_http import JsonHttpClient
from mendoza.providers.transport import one_line

__all__ = [
    "DEFAULT_BASE_URL",
    "LOCAL_PLACEHOLDER_KEY",
    "OpenAIProvider",
    "is_loopback",
    "one_line",
    "openai_tool_calls",
    "openai_tools",
    "request_body",
    "resolve_api_key",
    "retry_after_seconds",
    "server_message",
    "status_error",
]

#: The key given to servers on loopback when no key is set (local servers usually ignore it).
LOCAL_PLACEHOLDER_KEY = "mendoza-local-no-key"

#: Where requests go when neither the variant nor ``OPENAI_BASE_URL`` names a server.
DEFAULT_BASE_URL = "https://api.openai.com/v1"

#: Keys of ``params`` that steer mendoza and are never sent as they are.
_OWN_PARAMS = frozenset({"api", "stream", "seed"})


def is_loopback(url: str | None) -> bool:
    """Whether ``url`` points at this machine (``localhost``, ``127.0.0.0/8``, ``::1``)."""
    if not url:
        return False
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _proxy_configured() -> bool:
    """Whether the environment names an HTTP proxy (then the transport must read it)."""
    names = ("http_proxy", "https_proxy", "all_proxy")
    return any(os.environ.get(name) or os.environ.get(name.upper()) for name in names)


def resolve_api_key(provider: str, env_var: str, base_url: str | None) -> str:
    """The API key from ``env_var``; a placeholder for a server on loopback; else a ``ProviderError``."""
    key = os.environ.get(env_var, "")
    if key:
        return key
    if is_loopback(base_url):
        return LOCAL_PLACEHOLDER_KEY
    where = base_url or f"the default {provider} endpoint"
    raise ProviderError(f"{provider}: no API key for {where}: set the environment variable {env_var}")


def retry_after_seconds(headers: Mapping[str, str] | None) -> float | None:
    """The delay a server asked for in ``retry-after-ms`` or ``retry-after`` (seconds or an HTTP date)."""
    if not headers:
        return None
    millis = headers.get("retry-after-ms")
    if millis:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when.timestamp() - time.time())


def server_message(body: object, fallback: str) -> str:
    """The human message in an error body (``{"error": {"message": ...}}`` or ``{"message": ...}``)."""
    if isinstance(body, Mapping):
        inner = body.get("error")
        if isinstance(inner, Mapping) and inner.get("message"):
            return str(inner["message"])
        if isinstance(inner, str) and inner:
            return inner
        if body.get("message"):
            return str(body["message"])
    if isinstance(body, str) and body:
        return body
    return fallback


def status_error(
    label: str, status: int, headers: Mapping[str, str], body: object, fallback: str, secret: str | None
) -> ProviderError:
    """A ``ProviderError`` for an HTTP error status: 408, 409, 429 and 5xx are retryable (as the SDKs do,
    unless the server says ``x-should-retry``), with the delay the server asked for."""
    retryable = status in (408, 409, 429) or status >= 500
    should_retry = headers.get("x-should-retry")
    if should_retry in ("true", "false"):
        retryable = should_retry == "true"
    message = one_line(f"{label}: HTTP {status}: {server_message(body, fallback)}", secret)
    return ProviderError(message, retryable=retryable, retry_after=retry_after_seconds(headers))


def request_body(params: Mapping[str, Any], seed: int) -> dict[str, Any]:
    """The JSON body's parameters: every key of ``params`` but mendoza's own, and the seed (``params`` may
    fix one, or set ``seed: null`` to send none)."""
    body = {key: value for key, value in params.items() if key not in _OWN_PARAMS}
    chosen = params.get("seed", seed)
    if chosen is not None:
        body["seed"] = chosen
    return body


def _error_body(raw: bytes) -> object:
    """An error answer's body: its JSON, else its text."""
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace").strip()


def _user_agent() -> str:
    """``mendoza/<version>`` as installed (``mendoza`` alone when it is run from a source tree)."""
    try:
        return f"mendoza/{importlib.metadata.version('mendoza')}"
    except importlib.metadata.PackageNotFoundError:
        return "mendoza"


def _phrase(status: int) -> str:
    """The standard words of an HTTP status (``Too Many Requests``), for an error answer with no message."""
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "no message"


def _int_or_none(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def openai_tools(tools: tuple[ToolSpec, ...]) -> list[dict[str, Any]]:
    """The variant's tools in the shape of the chat API's ``tools``."""
    return [
        {
            "type": "function",
            "function": {"name": tool.name, "description": tool.description, "parameters": tool.parameters},
        }
        for tool in tools
    ]


def _sent(value: object, secret: str | None) -> str:
    """What a server sent, on one line, for an error message."""
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError, RecursionError):
        text = repr(value)
    return one_line(text, secret)


def openai_tool_calls(message: Mapping[str, Any], label: str, secret: str | None) -> list[ToolCall]:
    """The tool calls of a chat answer's ``message`` (``tool_calls``, or the older single ``function_call``);
    a call without a name, or a list that is not one, is a ``ProviderError`` saying what the server sent."""
    raw = message.get("tool_calls")
    if raw is None and isinstance(message.get("function_call"), Mapping):
        raw = [{"function": message["function_call"]}]
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ProviderError(f"{label}: sent tool_calls that are not a list: {_sent(raw, secret)}")
    calls = []
    for item in raw:
        call: Mapping[str, Any] = item if isinstance(item, Mapping) else {}
        function = call.get("function")
        function = function if isinstance(function, Mapping) else {}
        name = function.get("name")
        if not isinstance(name, str) or not name.strip():
            raise ProviderError(f"{label}: sent a tool call without a name: {_sent(item, secret)}")
        call_id = call.get("id")
        calls.append(ToolCall(str(call_id) if call_id else None, name, function.get("arguments")))
    return calls


class OpenAIProvider(Provider):
    """Any OpenAI-compatible endpoint: ``openai/<model>`` with an optional ``base_url``.

    The key comes from the environment variable named by ``api_key_env`` (default ``OPENAI_API_KEY``); a
    server on loopback needs none. ``params``: ``api`` is ``chat`` (default: ``system`` and the prompt as
    messages) or ``completions`` (the legacy endpoint, for base models); every other key (``temperature``,
    ``max_tokens``, ``top_p``, ``stop``, ``logprobs``, or any server-specific one such as ``top_k``) is sent
    in the request body as is, except ``stream``. The request's seed is sent as ``seed``; ``params`` may fix
    one, or set ``seed: null`` to send none.
    """

    name: ClassVar[str] = "openai"
    description: ClassVar[str] = "any OpenAI-compatible endpoint (OpenAI, vLLM, llama.cpp server, Ollama...)"
    default_concurrency: ClassVar[int] = 32
    example: ClassVar[str] = "openai/gpt-4o-mini"

    @classmethod
    def judge_style(cls, params: Mapping[str, Any]) -> JudgeStyle:
        """Completion on the legacy endpoint (``api: completions``, base models), else instruction."""
        return "completion" if params.get("api") == "completions" else "instruction"

    @classmethod
    def with_json_mode(cls, params: Mapping[str, Any]) -> dict[str, Any]:
        """Chat models get ``response_format: json_object`` (the prompt must mention JSON), unless the params
        set a ``response_format`` of their own."""
        asked = dict(params)
        if asked.get("api", "chat") == "chat" and "response_format" not in asked:
            asked["response_format"] = {"type": "json_object"}
        return asked

    @classmethod
    def check(cls, variant: Variant) -> None:
        """``params.api`` is ``chat`` or ``completions``, and tools come with the chat API."""
        if variant.params.get("api", "chat") not in ("chat", "completions"):
            raise ConfigError(f"variant '{variant.id}': params.api must be 'chat' or 'completions'")
        if variant.tools and variant.params.get("api") == "completions":
            raise ConfigError(f"variant '{variant.id}': tools need the chat API (params.api: chat)")

    def __init__(self, variant: Variant) -> None:
        super().__init__(variant)
        self._client: JsonHttpClient | None = None
        self._base_url = variant.base_url or os.environ.get("OPENAI_BASE_URL") or None
        self._label = f"openai model '{variant.model_name}'"
        # A missing key is a set-up mistake: say so before the run starts, not once per sample.
        resolve_api_key("openai", variant.api_key_env or "OPENAI_API_KEY", self._base_url)
        self.check(variant)
        self._get_client()  # now, so that its import is paid when the run is planned, not in the run

    def _get_client(self) -> JsonHttpClient:
        """The HTTP client, made on first use (and again after ``aclose``)."""
        if self._client is None:
            key = resolve_api_key("openai", self.variant.api_key_env or "OPENAI_API_KEY", self._base_url)
            headers = {
                "Authorization": f"Bearer {key}",
                "Content-Type": "application/json",
                "Accept": "application/json",
                "User-Agent": _user_agent(),
            }
            for header, env_var in (("OpenAI-Organization", "OPENAI_ORG_ID"), ("OpenAI-Project", "OPENAI_PROJECT_ID")):
                if os.environ.get(env_var):
                    headers[header] = os.environ[env_var]
            # A connection kept alive for every call that may be in flight (the runner's limit), so no call
            # opens one; proxy settings are read from the environment only when there are some (reading them
            # looks ~/.netrc up on every request).
            self._client = JsonHttpClient(
                self._base_url or DEFAULT_BASE_URL,
                headers,
                connections=max(100, self.variant.concurrency or self.default_concurrency),
                label=self._label,
                secret=key,
                trust_env=_proxy_configured(),
            )
        return self._client

    async def complete(self, request: ModelRequest) -> ModelResponse:
        """One chat or legacy completion; failures become ``ProviderError`` (see the module's helpers)."""
        if request.prompt is None and not request.messages:
            raise ProviderError(f"{self._label}: the variant has no prompt template")
        api = request.params.get("api", "chat")
        if api not in ("chat", "completions"):
            raise ProviderError(f"{self._label}: params.api must be 'chat' or 'completions', not {api!r}")
        client = self._get_client()
        body = request_body(request.params, request.seed)
        body["model"] = self.variant.model_name
        if api == "chat":
            body["messages"] = chat_turns(request)
            if request.tools:
                body["tools"] = openai_tools(request.tools)
        elif request.messages:
            body["prompt"] = plain_text(chat_turns(request))
            body.setdefault("stop", list(PLAIN_TEXT_STOP))
        else:
            body["prompt"] = request.prompt
        started = time.perf_counter()
        reply = await client.post("/chat/completions" if api == "chat" else "/completions", body)
        elapsed_ms = (time.perf_counter() - started) * 1000.0
        if reply.status >= 400:
            raise status_error(
                self._label, reply.status, reply.headers, _error_body(reply.body), _phrase(reply.status), client.secret
            )
        return self._response(reply.body, api, client.secret, elapsed_ms)

    def _response(self, raw: bytes, api: str, secret: str | None, elapsed_ms: float = 0.0) -> ModelResponse:
        try:
            data = json.loads(raw)
        except ValueError:
            sample = one_line(raw[:80].decode("utf-8", "replace"), secret)
            raise ProviderError(
                f"{self._label}: returned no text (the response is not JSON: {sample!r})"
            ) from None
        choices = data.get("choices") if isinstance(data, dict) else None
        choice = choices[0] if isinstance(choices, list) and choices and isinstance(choices[0], dict) else {}
        calls: list[ToolCall] = []
        if api == "chat":
            message = choice.get("message")
            message = message if isinstance(message, dict) else {}
            calls = openai_tool_calls(message, self._label, secret)
            text = message.get("content")
            if text is None:  # a refusal is an output to grade, not a failure
                text = message.get("refusal")
            if text is None and calls:  # only tool calls: no text
                text = ""
        else:
            text = choice.get("text")
        if not isinstance(text, str):
            detail = (
                server_message(data, "a response without choices or text") if isinstance(data, dict) else ""
            )
            raise ProviderError(
                one_line(f"{self._label}: returned no text ({detail or 'not an object'})", secret)
            )
        usage = data.get("usage")
        usage = usage if isinstance(usage, dict) else {}
        tokens_in = _int_or_none(usage.get("prompt_tokens"))
        tokens_out = _int_or_none(usage.get("completion_tokens"))
        pricing = self.variant.pricing
        finish_reason = choice.get("finish_reason")
        return ModelResponse(
            text=text,
            tokens_in=tokens_in,
            tokens_out=tokens_out,
            cost=pricing.cost(tokens_in, tokens_out) if pricing is not None else None,
            finish_reason=finish_reason if isinstance(finish_reason, str) else None,
            metadata=tool_calls_metadata(calls),
            steps=tool_call_steps(calls, elapsed_ms),
        )

    def cache_identity(self) -> dict[str, Any]:
        """The model and the endpoint actually called (never the key)."""
        return {"model": self.variant.model, "base_url": self._base_url}

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        if self._client is not None:
            client, self._client = self._client, None
            await client.aclose()
