"""Anthropic's Messages API through the official ``anthropic`` SDK."""

from __future__ import annotations

import json
import os
import time
from typing import TYPE_CHECKING, Any, ClassVar

from mendoza.core import ModelRequest, ModelResponse, ToolSpec, Variant
from mendoza.errors import ProviderError
from mendoza.providers.base import Provider
from mendoza.providers.chat import ToolCall, chat_turns, tool_call_steps, tool_calls_metadata
from mendoza.providers.openai_compatible import resolve_api_key, status_error
from mendoza.providers.transport import connection_error, one_line, transport_error

if TYPE_CHECKING:
    from anthropic import AsyncAnthropic

__all__ = ["AnthropicProvider", "anthropic_messages", "anthropic_tools"]

#: Keys of ``params`` that steer mendoza or are sent as named arguments; the rest go into the request body.
_NOT_IN_BODY = frozenset({"api", "stream", "seed", "max_tokens", "stop", "stop_sequences"})


def anthropic_tools(tools: tuple[ToolSpec, ...]) -> list[dict[str, Any]]:
    """The variant's tools in the shape of the Messages API's ``tools``."""
    return [
        {"name": tool.name, "description": tool.description, "input_schema": tool.parameters} for tool in tools
    ]


def anthropic_messages(request: ModelRequest) -> tuple[str | None, list[dict[str, str]]]:
    """The system prompt and the messages of a request: system turns go to the system prompt (joined by a
    blank line), the other turns are the messages; an empty assistant turn (an answer that only called tools)
    is left out, as the API refuses empty text."""
    system: list[str] = []
    messages: list[dict[str, str]] = []
    for turn in chat_turns(request):
        if turn["role"] == "system":
            system.append(turn["content"])
        elif turn["role"] != "assistant" or turn["content"]:
            messages.append(turn)
    return ("\n\n".join(system) if system else None), messages


def _sent(block: Any) -> str:
    """A content block as the server sent it, for an error message."""
    dump = getattr(block, "model_dump", None)
    try:
        value = dump(mode="json") if callable(dump) else block
        return json.dumps(value, ensure_ascii=False, default=str)
    except Exception:  # a block the SDK could not even model
        return repr(block)


class AnthropicProvider(Provider):
    """Claude models: ``anthropic/<model>``, with an optional ``base_url``.

    The key comes from the environment variable named by ``api_key_env`` (default ``ANTHROPIC_API_KEY``).
    ``params``: ``max_tokens`` (default 1024), ``stop`` or ``stop_sequences`` (a string or a list), and any
    other key (``temperature``, ``top_p``, ``top_k``, ``thinking``, ``tool_choice``...) sent in the request body
    as is. The prompt is one user message and ``system`` the system prompt; the text is the concatenation of
    the text blocks. A conversation (``request.messages``) is sent as the messages, its system turns (else the
    variant's ``system``) as the system prompt. The variant's ``tools`` are sent as ``tools`` (``input_schema``:
    their parameters); each ``tool_use`` block of the answer comes back as a ``tool`` step and in
    ``metadata["tool_calls"]`` (the text is ``""`` when the model only called tools). Anthropic has no seed, so
    repeats are independent draws. ``http_client`` (an async client of the HTTP library the SDK is built on)
    replaces the default aiohttp transport, for tests.
    """

    name: ClassVar[str] = "anthropic"
    description: ClassVar[str] = "Anthropic's Claude models through the Messages API"
    default_concurrency: ClassVar[int] = 16
    example: ClassVar[str] = "anthropic/claude-3-5-haiku-latest"

    def __init__(self, variant: Variant, *, http_client: Any = None) -> None:
        super().__init__(variant)
        self._client: AsyncAnthropic | None = None
        self._http_client = http_client
        self._base_url = variant.base_url or os.environ.get("ANTHROPIC_BASE_URL") or None
        self._label = f"anthropic model '{variant.model_name}'"
        # A missing key is a set-up mistake: say so before the run starts, not once per sample.
        if http_client is None:
            resolve_api_key("anthropic", variant.api_key_env or "ANTHROPIC_API_KEY", self._base_url)

    def _get_client(self) -> AsyncAnthropic:
        if self._client is None:
            from anthropic import AsyncAnthropic, DefaultAioHttpClient

            key = resolve_api_key(
                "anthropic", self.variant.api_key_env or "ANTHROPIC_API_KEY", self._base_url
            )
            http_client = self._http_client if self._http_client is not None else DefaultAioHttpClient()
            self._client = AsyncAnthropic(
                api_key=key, base_url=self._base_url, max_retries=0, http_client=http_client
            )
        return self._client

    async def complete(self, request: ModelRequest) -> ModelResponse:
        """One Messages API call; failures become ``ProviderError`` (429, 5xx, 529 overloaded: retryable)."""
        import anthropic

        if request.prompt is None and not request.messages:
            raise ProviderError(f"{self._label}: the variant has no prompt template")
        client = self._get_client()
        secret = client.api_key if isinstance(client.api_key, str) else None
        params = request.params
        system, messages = anthropic_messages(request)
        arguments: dict[str, Any] = {
            "model": self.variant.model_name,
            "max_tokens": params.get("max_tokens", 1024),
            "messages": messages,
        }
        if system is not None:
            arguments["system"] = system
        if request.tools:
            arguments["tools"] = anthropic_tools(request.tools)
        stop = params.get("stop_sequences", params.get("stop"))
        if stop is not None:
            arguments["stop_sequences"] = [stop] if isinstance(stop, str) else list(stop)
        extra = {key: value for key, value in params.items() if key not in _NOT_IN_BODY}
        if extra:
            arguments["extra_body"] = extra
        create: Any = client.messages.create
        started = time.perf_counter()
        try:
            message = await create(**arguments)
        except anthropic.APIStatusError as exc:
            raise status_error(
                self._label, exc.status_code, exc.response.headers, exc.body, exc.message, secret
            ) from None
        except anthropic.APIConnectionError as exc:  # APITimeoutError included
            raise connection_error(self._label, self._base_url, exc, secret) from None
        except Exception as exc:  # a transport error the SDK does not wrap, a garbage body, a bug, an odd server
            broken = transport_error(self._label, self._base_url, exc, secret)
            if broken is not None:
                raise broken from None
            raise ProviderError(one_line(f"{self._label}: {type(exc).__name__}: {exc}", secret)) from None
        return self._response(message, secret, (time.perf_counter() - started) * 1000.0)

    def _tool_calls(self, content: list[Any], secret: str | None) -> list[ToolCall]:
        """The ``tool_use`` blocks of an answer; one without a name is a ``ProviderError`` saying what came."""
        calls = []
        for block in content:
            if getattr(block, "type", None) != "tool_use":
                continue
            name = getattr(block, "name", None)
            if not isinstance(name, str) or not name.strip():
                message = f"{self._label}: sent a tool call without a name: {_sent(block)}"
                raise ProviderError(one_line(message, secret))
            call_id = getattr(block, "id", None)
            calls.append(ToolCall(str(call_id) if call_id else None, name, getattr(block, "input", None)))
        return calls

    def _response(self, message: Any, secret: str | None = None, elapsed_ms: float = 0.0) -> ModelResponse:
        content = getattr(message, "content", None)
        if not isinstance(content, list):
            raise ProviderError(f"{self._label}: returned no text (a response without content)")
        text = "".join(
            block.text
            for block in content
            if getattr(block, "type", None) == "text" and isinstance(getattr(block, "text", None), str)
        )
        calls = self._tool_calls(content, secret)
        usage = getattr(message, "usage", None)
        tokens_in = getattr(usage, "input_tokens", None)
        tokens_out = getattr(usage, "output_tokens", None)
        pricing = self.variant.pricing
        return ModelResponse(
            text=text,
            tokens_in=tokens_in,
            tokens_out=tokens_out,
            cost=pricing.cost(tokens_in, tokens_out) if pricing is not None else None,
            finish_reason=getattr(message, "stop_reason", None),
            metadata=tool_calls_metadata(calls),
            steps=tool_call_steps(calls, elapsed_ms),
        )

    def cache_identity(self) -> dict[str, Any]:
        """The model and the endpoint actually called (never the key)."""
        return {"model": self.variant.model, "base_url": self._base_url}

    async def aclose(self) -> None:
        """Close the HTTP connections (including an injected ``http_client``)."""
        if self._client is not None:
            client, self._client = self._client, None
            await client.close()
