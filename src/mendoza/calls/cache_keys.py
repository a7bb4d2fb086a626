"""Keys of the cache of model calls.

A key covers everything that decides a model's output *and the repeat index*: the cache may spare a second
run the cost of a sample it already drew, but it must never turn ten repeats into one output. A judge's call
has a key of its own shape (its repeat is the judge-repeat index, and a re-ask after an unreadable answer is
another call). Both shapes are fixed: a change here would make every cache already on disk miss
(``tests/calls/test_cache_keys.py`` pins them).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mendoza.core import ModelRequest, stable_hash

__all__ = ["cache_key", "judge_cache_key"]


def cache_key(identity: Mapping[str, Any], request: ModelRequest, repeat: int) -> str:
    """The cache key of one call: model identity, prompt, system, params, seed and repeat index; a
    conversation's messages and the tools offered, when there are any (keys without them never changed)."""
    fields: dict[str, Any] = {
        "model": dict(identity),
        "prompt": request.prompt,
        "system": request.system,
        "params": dict(request.params),
        "seed": request.seed,
        "repeat": repeat,
        "vars": None if request.prompt is not None else dict(request.vars),
    }
    if request.messages is not None:
        fields["messages"] = [message.model_dump() for message in request.messages]
    if request.tools:
        fields["tools"] = [tool.model_dump() for tool in request.tools]
    return stable_hash(fields)


def judge_cache_key(
    identity: Mapping[str, Any], prompt: str, params: Mapping[str, Any], seed: int, repeat: int, attempt: int
) -> str:
    """The cache key of one judge call: the judge's model identity, its prompt, params (JSON mode included) and
    seed, the judge-repeat index and the re-ask number."""
    return stable_hash(
        {
            "kind": "judge",
            "judge": dict(identity),
            "prompt": prompt,
            "params": dict(params),
            "seed": seed,
            "judge_repeat": repeat,
            "attempt": attempt,
        }
    )
