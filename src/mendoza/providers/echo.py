"""A provider that answers with its input, to measure the harness itself."""

from __future__ import annotations

import json
from typing import ClassVar

from mendoza.core import ModelRequest, ModelResponse
from mendoza.providers.base import Provider
from mendoza.providers.chat import last_user_turn

__all__ = ["EchoProvider"]


class EchoProvider(Provider):
    """``echo``: the output is the rendered prompt, or the case's variables as JSON when there is no prompt; in
    a conversation (``request.messages``), the content of its last user turn (so a scripted conversation
    answers each turn with what the user said).

    Tokens in and out are word counts (priced when the variant has ``pricing``). It does no I/O and no
    waiting, so a run against it measures mendoza's own overhead per sample.
    """

    name: ClassVar[str] = "echo"
    description: ClassVar[str] = (
        "returns the rendered prompt (or the variables as JSON): measures the harness"
    )
    default_concurrency: ClassVar[int] = 10_000
    cacheable: ClassVar[bool] = False
    needs_prompt: ClassVar[bool] = False
    example: ClassVar[str] = "echo"

    async def complete(self, request: ModelRequest) -> ModelResponse:
        """The prompt (or the vars as JSON) back, with word counts as tokens."""
        text = last_user_turn(request)
        if text is None:
            text = request.prompt
        if text is None:
            variables = request.vars
            text = json.dumps(
                variables if isinstance(variables, dict) else dict(variables), ensure_ascii=False, default=str
            )
        words = len(text.split())
        pricing = self.variant.pricing
        cost = pricing.cost(words, words) if pricing is not None else None
        return ModelResponse(text=text, tokens_in=words, tokens_out=words, cost=cost)
