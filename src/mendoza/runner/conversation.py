"""A conversation case: the script's user turns, each answered by the variant with the history so far.

A case's ``messages`` are rendered as templates over its vars. Walking them in order, an ``assistant`` turn
given in the script is fixed history; a ``user`` turn with no assistant turn after it is answered by the
variant (one model call through the variant's ``ModelCaller``: cached, retried and limited like any sample's
call), and the answer joins the history. Each answer is a step of kind ``llm`` named ``turn N`` (attribute
``mendoza.turn``: N), holding the user's turn and the answer; steps the provider reports for a turn (a
``python:`` app's spans) become its children. The sample's output is the last answer; tokens and cost are
the turns' sums. A turn that fails ends the conversation: the sample errors, keeping the steps so far.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import jinja2

from mendoza.calls import ModelCaller, cache_key
from mendoza.core import Message, ModelRequest, ModelResponse, Step

__all__ = ["ConversationResult", "converse", "render_messages"]


def render_messages(
    messages: Sequence[Message], context: Mapping[str, Any], environment: jinja2.Environment
) -> tuple[Message, ...]:
    """The script with each turn's content rendered over the case (a template error raises)."""
    return tuple(
        Message(role=message.role, content=environment.from_string(message.content).render(context))
        for message in messages
    )


@dataclass(frozen=True, slots=True)
class ConversationResult:
    """How a conversation went: the last answer as the response (tokens and cost summed over the turns, every
    turn's steps), or the error of the turn that failed; attempts over all turns; whether every turn came
    from the cache."""

    response: ModelResponse | None
    error: BaseException | None
    attempts: int
    cached: bool
    steps: tuple[Step, ...]


def _sum(values: Sequence[int | float | None]) -> Any:
    known = [value for value in values if value is not None]
    return sum(known) if known else None


async def converse(
    caller: ModelCaller, request: ModelRequest, script: Sequence[Message], repeat: int
) -> ConversationResult:
    """Play ``script`` against the variant behind ``caller``; ``request`` carries everything but the messages."""
    history: list[Message] = []
    steps: list[Step] = []
    answers: list[ModelResponse] = []
    attempts = 0
    cached = True
    origin = time.perf_counter()
    for index, message in enumerate(script):
        history.append(message)
        answered = index + 1 < len(script) and script[index + 1].role == "assistant"
        if message.role != "user" or answered:
            continue
        turn = len(answers) + 1
        turn_request = replace(request, messages=tuple(history))
        key = cache_key(caller.identity, turn_request, repeat) if caller.caching else None
        started = time.perf_counter()
        called = await caller.call(turn_request, key)
        attempts += called.attempts
        cached = cached and called.cached
        span_id = f"turn-{turn}"
        step = Step(
            name=f"turn {turn}",
            kind="llm",
            span_id=span_id,
            start_ms=(started - origin) * 1000.0,
            duration_ms=(time.perf_counter() - started) * 1000.0,
            input=message.content,
            output=None if called.response is None else called.response.text,
            attributes={"mendoza.turn": turn},
            tokens_in=None if called.response is None else called.response.tokens_in,
            tokens_out=None if called.response is None else called.response.tokens_out,
            cost=None if called.response is None else called.response.cost,
            error=None if called.error is None else str(called.error) or type(called.error).__name__,
        )
        steps.append(step)
        if called.response is None:
            return ConversationResult(None, called.error, attempts, False, tuple(steps))
        offset = step.start_ms
        steps.extend(
            replace(inner, parent_id=inner.parent_id or span_id, start_ms=inner.start_ms + offset)
            for inner in called.response.steps
        )
        answers.append(called.response)
        history.append(Message(role="assistant", content=called.response.text))
    if not answers:
        error = ValueError("the conversation has no user turn for the variant to answer")
        return ConversationResult(None, error, attempts, False, tuple(steps))
    last = answers[-1]
    response = replace(
        last,
        tokens_in=_sum([answer.tokens_in for answer in answers]),
        tokens_out=_sum([answer.tokens_out for answer in answers]),
        cost=_sum([answer.cost for answer in answers]),
        steps=tuple(steps),
    )
    return ConversationResult(response, None, attempts, cached, tuple(steps))
