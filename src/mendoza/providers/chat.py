"""What the providers that speak chat share: a request as chat turns (or as plain text for a base model), and a
model's tool calls as steps.

**Turns.** ``chat_turns(request)`` is the conversation to send: the request's ``messages`` (the conversation
so far) with the variant's ``system`` first when it has one and the messages have no system turn; without
messages, the system (if any) and the prompt as one user turn.

**Plain text.** A model without a chat format (the embedded base model, the legacy completions endpoint) gets
the conversation as text, one paragraph per turn and an open assistant turn at the end::

    System: You are terse.

    User: Hello

    Assistant: Hi.

    User: What is 2 + 2?

    Assistant:

``plain_text(turns)`` writes it (``System``, ``User``, ``Assistant``, a blank line between turns, no space after
the last colon); ``PLAIN_TEXT_STOP`` is where the model's answer ends (it starts the user's next turn).

**Tool calls.** ``tool_call_steps(calls, at_ms)`` turns the calls a model asked for into ``core.Step``s of kind
``tool`` (name: the tool's; span id: the call's id, else ``tool-<i>``; input: the arguments as JSON text,
canonical when they parse, else the text the model wrote) and into the sample's ``metadata["tool_calls"]``
(``{"name", "arguments"}``, the arguments parsed when they parse).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mendoza.core import ModelRequest, Step

__all__ = [
    "PLAIN_TEXT_STOP",
    "ToolCall",
    "chat_turns",
    "last_user_turn",
    "parse_arguments",
    "plain_text",
    "tool_call_steps",
    "tool_calls_metadata",
]

_ROLE_NAMES = {"system": "System", "user": "User", "assistant": "Assistant"}

#: Where a base model's answer in a plain-text conversation ends: where it starts writing the user's turn.
PLAIN_TEXT_STOP = ("\nUser:",)


def chat_turns(request: ModelRequest) -> list[dict[str, str]]:
    """The turns to send, as ``{"role", "content"}`` dicts (see the module's docstring). The caller checks
    that a request without messages has a prompt."""
    if request.messages:
        turns = [{"role": message.role, "content": message.content} for message in request.messages]
        if request.system is not None and not any(turn["role"] == "system" for turn in turns):
            turns.insert(0, {"role": "system", "content": request.system})
        return turns
    turns = [{"role": "user", "content": request.prompt or ""}]
    if request.system is not None:
        turns.insert(0, {"role": "system", "content": request.system})
    return turns


def plain_text(turns: Sequence[Mapping[str, str]]) -> str:
    """The conversation as one text for a model without a chat format, ending in an open ``Assistant:``."""
    paragraphs = [f"{_ROLE_NAMES.get(turn['role'], turn['role'].title())}: {turn['content']}" for turn in turns]
    paragraphs.append("Assistant:")
    return "\n\n".join(paragraphs)


def last_user_turn(request: ModelRequest) -> str | None:
    """The content of the conversation's last user turn (None: the request has no messages, or no user turn)."""
    for message in reversed(request.messages or ()):
        if message.role == "user":
            return message.content
    return None


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def parse_arguments(raw: object) -> tuple[Any, str]:
    """A tool call's arguments as (structured, text): JSON text parsed (and written back canonically); a value
    a server sent already structured kept as it is; text that is not JSON kept as the text (both ways).
    Missing or empty arguments are ``{}``."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return {}, "{}"
    if isinstance(raw, str):
        try:
            parsed = json.loads(raw)
        except (ValueError, RecursionError):
            return raw, raw
        raw = parsed
    try:
        return raw, _canonical(raw)
    except (TypeError, ValueError, RecursionError):
        return str(raw), str(raw)


@dataclass(frozen=True, slots=True)
class ToolCall:
    """One call a model asked for: its id (None when the server sent none), the tool's name, the arguments."""

    id: str | None
    name: str
    arguments: object


def tool_call_steps(calls: Sequence[ToolCall], at_ms: float = 0.0) -> tuple[Step, ...]:
    """The calls as ``tool`` steps, started at ``at_ms`` (when the model's answer came), in the model's order."""
    steps = []
    for index, call in enumerate(calls):
        _, text = parse_arguments(call.arguments)
        steps.append(
            Step(
                name=call.name,
                kind="tool",
                span_id=call.id or f"tool-{index}",
                start_ms=at_ms,
                input=text,
                attributes={"gen_ai.tool.call.id": call.id} if call.id else None,
            )
        )
    return tuple(steps)


def tool_calls_metadata(calls: Sequence[ToolCall]) -> dict[str, Any] | None:
    """``{"tool_calls": [{"name", "arguments"}, ...]}`` for a response's metadata (None when there are none)."""
    if not calls:
        return None
    return {"tool_calls": [{"name": call.name, "arguments": parse_arguments(call.arguments)[0]} for call in calls]}
