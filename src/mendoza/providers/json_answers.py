"""Asking a model for JSON: the answer read and checked, an invalid one asked again a bounded number of times.

``mendoza cases draft`` (new cases) and ``mendoza rubric draft`` (rubric criteria) both ask a model for a JSON
array and must not take whatever comes back. ``ask_json`` sends the prompt through the client's
``calls.ModelCaller`` (the timeout and retries of every model call), reads the answer with the caller's
``parse`` (which raises ``AnswerInvalid`` saying what is wrong), and on an invalid answer asks again, at most
``MAX_REASKS`` times, with the reason appended to the prompt. Attempt k is asked with seed ``seed + k``.
The result carries what provenance needs: the model, the sha256 of the prompt, the seed of the answer taken
and the reasons the earlier answers were refused. ``json_array_in`` finds the JSON array in an answer that
wraps it in prose or a fenced block.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from mendoza.core import ModelRequest
from mendoza.errors import MendozaError
from mendoza.providers.app_models import AppModel

__all__ = ["MAX_REASKS", "AnswerInvalid", "JsonAnswer", "ask_json", "json_array_in", "prompt_sha256"]

#: How many times an invalid answer is asked again before giving up.
MAX_REASKS = 3

_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)
_Value = TypeVar("_Value")


class AnswerInvalid(MendozaError):
    """A model's answer is not the JSON asked for (the message says why)."""


def prompt_sha256(prompt: str) -> str:
    """The hex sha256 of a prompt, as provenance records it."""
    return hashlib.sha256(prompt.encode("utf-8")).hexdigest()


def json_array_in(text: str) -> list[Any]:
    """The JSON array in a model's answer (inside a fenced block when there is one; from the first ``[`` to the
    last ``]``), or ``AnswerInvalid``: no array, not valid JSON, or an empty array."""
    fenced = _FENCE.search(text)
    body = fenced.group(1) if fenced else text
    start, end = body.find("["), body.rfind("]")
    if start < 0 or end < start:
        raise AnswerInvalid("the answer holds no JSON array")
    try:
        data = json.loads(body[start : end + 1])
    except json.JSONDecodeError as exc:
        raise AnswerInvalid(f"the answer is not valid JSON ({exc.msg} at character {exc.pos})") from None
    if not isinstance(data, list) or not data:
        raise AnswerInvalid("the answer is an empty JSON array")
    return data


@dataclass(slots=True)
class JsonAnswer(Generic[_Value]):
    """A valid answer: what ``parse`` made of it, the model, the prompt's sha256, the seed of the answer taken,
    how many asks it took and why each earlier answer was refused."""

    value: _Value
    model: str
    prompt_sha256: str
    seed: int
    attempts: int
    rejected: list[str] = field(default_factory=list)

    def provenance(self) -> dict[str, Any]:
        """The provenance of what was drafted from this answer: model, prompt sha256, seed, asks."""
        return {"model": self.model, "prompt_sha256": self.prompt_sha256, "seed": self.seed,
                "attempts": self.attempts}


async def ask_json(
    client: AppModel,
    prompt: str,
    parse: Callable[[str], _Value],
    *,
    seed: int = 0,
    case_id: str = "",
    what: str = "answer",
) -> JsonAnswer[_Value]:
    """Ask ``client`` with ``prompt`` and read the answer with ``parse`` (see the module); after ``MAX_REASKS``
    re-asks that are still invalid, ``AnswerInvalid`` in one line naming the model, ``what`` was asked for and
    the last reason. A call that fails after its retries raises the provider's error."""
    digest = prompt_sha256(prompt)
    rejected: list[str] = []
    asked = prompt
    for attempt in range(MAX_REASKS + 1):
        request = ModelRequest(prompt=asked, vars={}, params=client.variant.params, seed=seed + attempt,
                               case_id=case_id)
        called = await client.caller.call(request, None)
        if called.response is None:
            raise called.error or AnswerInvalid(f"{client.model}: no response")
        try:
            value = parse(called.response.text)
        except AnswerInvalid as exc:
            rejected.append(str(exc))
            asked = f"{prompt}\n\nYour previous answer was refused: {exc}. Answer again with only the JSON array."
            continue
        return JsonAnswer(value, client.model, digest, seed + attempt, attempt + 1, rejected)
    raise AnswerInvalid(
        f"{client.model} gave no valid {what} after {MAX_REASKS} re-asks; the last answer: {rejected[-1]}"
    )
